/*
 * fuzz_auth.c: libFuzzer harness for auth.c's two parsers. The first
 * byte picks one: even, the rest is an htpasswd file for auth_parse();
 * odd, the rest is an Authorization field value for auth_credentials().
 * Properties: a file that loads has users sorted by name, each with a
 * hash of an accepted kind and a name without ':'; credentials that
 * decode are NUL-free, split at the first ':', and encode back to bytes
 * that decode the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../src/auth.h"

#define REQUIRE(c)	do { if (!(c)) fuzz_fail(__LINE__, #c); } while (0)

static void __attribute__((noreturn))
fuzz_fail(int line, const char *what)
{
	dprintf(STDERR_FILENO, "fuzz_auth.c:%d: property failed: %s\n", line,
	    what);
	abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
fuzz_accepted(const char *h)
{
	return strncmp(h, "$2y$", 4) == 0 || strncmp(h, "$2b$", 4) == 0 ||
	    strncmp(h, "$y$", 3) == 0 || strncmp(h, "$5$", 3) == 0 ||
	    strncmp(h, "$6$", 3) == 0;
}

static void
fuzz_file(const char *buf, size_t len)
{
	struct auth_file	*af;
	char			 err[512];
	int			 i;

	if ((af = auth_parse("htpasswd", buf, len, err, sizeof(err))) == NULL) {
		REQUIRE(strncmp(err, "htpasswd", 8) == 0);
		return;
	}
	REQUIRE(af->nusers > 0 && af->dummy != NULL);
	for (i = 0; i < af->nusers; i++) {
		REQUIRE(af->users[i].len > 0);
		REQUIRE(memchr(af->users[i].name, ':', af->users[i].len) ==
		    NULL);
		REQUIRE(fuzz_accepted(af->users[i].hash));
		if (i > 0)
			REQUIRE(memcmp(af->users[i - 1].name, af->users[i].name,
			    af->users[i - 1].len < af->users[i].len ?
			    af->users[i - 1].len : af->users[i].len) <= 0);
	}
	auth_free(af);
}

static void
fuzz_credentials(const char *v, size_t len)
{
	char		 buf[AUTH_CRED_MAX + 4], joined[AUTH_CRED_MAX + 4];
	char		 enc[2 * AUTH_CRED_MAX], field[2 * AUTH_CRED_MAX + 8];
	char		 again[AUTH_CRED_MAX + 4];
	const char	*user, *pw, *u2, *p2;
	size_t		 ulen, u2len, n;

	if (auth_credentials(v, len, buf, sizeof(buf), &user, &ulen,
	    &pw) == -1)
		return;
	REQUIRE(user == buf && strlen(user) == ulen);
	REQUIRE(pw == buf + ulen + 1);
	REQUIRE(strlen(pw) < AUTH_CRED_MAX);
	n = (size_t)snprintf(joined, sizeof(joined), "%s:%s", user, pw);
	REQUIRE(n < sizeof(joined));
	EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)joined,
	    (int)n);
	(void)snprintf(field, sizeof(field), "Basic %s", enc);
	REQUIRE(auth_credentials(field, strlen(field), again, sizeof(again),
	    &u2, &u2len, &p2) == 0);
	REQUIRE(u2len == ulen && strcmp(u2, user) == 0 &&
	    strcmp(p2, pw) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*copy;

	if (size == 0)
		return 0;
	/* A copy of exactly size - 1 bytes, so ASan sees any overread. */
	if ((copy = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] % 2 == 0)
		fuzz_file(copy, size - 1);
	else
		fuzz_credentials(copy, size - 1);
	free(copy);
	return 0;
}
