/*
 * test_auth.c: unit tests for auth.c's stand-in for unknown users: in a
 * file that mixes hash kinds, an unknown name is checked against a hash
 * picked by a keyed digest of the name, so that names spread over every
 * kind, the same name always meets the same one, also when the file is
 * read again (a reload), and the pick changes with the key.
 */
#include <stdarg.h>

#include "unit.h"
#include "../../src/auth.c"

static const char	 mixed[] =
	"alice:$2y$05$9e9o/H9vHPzxEYs4isglDeHECoW7AfApWx5jWHF0iiMP42FEuByC.\n"
	"bob:$y$j9T$ecM53R07jHNPpA3qYo6kH.$BWsEhQdNcE8HjlA3FirXcrtHIlOw6ZoNCY2"
	"/AvpGC3D\n"
	"carol:$6$saltsalt$Fk5pQ0oW4m0r2vI5bQ0hT1kY7x3ZfH7bF4rJp8c9dT6aN1eL2s"
	"X3uV4wY5zA6bC7dE8fG9hI0jK1lM2nO3pQ4r\n";

int
main(void)
{
	struct auth_file	*af, *again;
	const char		*h;
	char			 err[256], name[32];
	int			 i, k, seen[3] = { 0, 0, 0 }, same = 1, moved = 0;

	af = auth_parse("pw", mixed, sizeof(mixed) - 1, err, sizeof(err));
	again = auth_parse("pw", mixed, sizeof(mixed) - 1, err, sizeof(err));
	unit_check(af != NULL && again != NULL && af->nusers == 3,
	    "stand-in: the mixed file loads");
	if (af == NULL || again == NULL)
		return unit_done();
	for (i = 0; i < 300; i++) {
		(void)snprintf(name, sizeof(name), "nobody%d", i);
		h = auth_stand_in(af, name, strlen(name));
		for (k = 0; k < 3; k++)
			if (h == af->users[k].hash)
				seen[k]++;
		same &= auth_stand_in(af, name, strlen(name)) == h;
		same &= strcmp(auth_stand_in(again, name, strlen(name)),
		    h) == 0;
		again->key[0] ^= 1;
		moved += strcmp(auth_stand_in(again, name, strlen(name)),
		    h) != 0;
		again->key[0] ^= 1;
	}
	unit_check(seen[0] > 0 && seen[1] > 0 && seen[2] > 0 &&
	    seen[0] + seen[1] + seen[2] == 300,
	    "stand-in: unknown names meet every kind (%d %d %d)", seen[0],
	    seen[1], seen[2]);
	unit_check(same, "stand-in: a name always meets the same hash, also "
	    "in the file read again");
	unit_check(moved > 0, "stand-in: another key, other picks");
	unit_check(auth_stand_in(af, NULL, 0) == af->dummy,
	    "stand-in: no name at all meets the first user's hash");
	auth_free(af);
	auth_free(again);
	return unit_done();
}
