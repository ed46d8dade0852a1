/*
 * auth.h: HTTP basic authentication (RFC 7617). The master reads each
 * auth_file (htpasswd: user:hash lines, crypt(3) hashes only) with the
 * config; workers decode the Authorization field and verify the password
 * with libxcrypt, in the same time whether the user exists or not.
 */
#ifndef AUTH_H
#define AUTH_H

#include "tine.h"

#define AUTH_FILE_MAX		(4 * 1024 * 1024)	/* bytes of a file */
#define AUTH_CRED_MAX		1024	/* decoded user:password, bytes */
#define AUTH_USER_MAX		128	/* a user name, bytes */

struct auth_user {
	const char	*name;		/* into the file's bytes */
	size_t		 len;
	const char	*hash;
	int		 line;
};

struct auth_file {
	char		*path;
	char		*data;		/* the file, NUL for ':' and '\n' */
	struct auth_user *users;	/* sorted by name */
	int		 nusers;
	const char	*dummy;		/* the first user's hash */
	unsigned char	 key[32];	/* picks an unknown user's stand-in;
					   the same for the process's life */
};

/*
 * Reads path; NULL with err set ("PATH:LINE: why" for a bad line) when
 * the file cannot be read or holds anything but user:hash lines with
 * bcrypt, yescrypt or SHA-crypt hashes, blank lines and # comments.
 */
struct auth_file	*auth_load(const char *, char *, size_t);

/* The same from bytes in memory (named path in messages). */
struct auth_file	*auth_parse(const char *, const char *, size_t, char *,
			    size_t);

void			 auth_free(struct auth_file *);

/*
 * Decodes the value of an Authorization field, "Basic" and base64 of
 * user:password, into buf (NUL-terminated parts). 0, or -1 when it is
 * not such a value (another scheme, bad base64, no colon, a NUL byte,
 * longer than AUTH_CRED_MAX).
 */
int			 auth_credentials(const char *, size_t, char *,
			    size_t, const char **, size_t *, const char **);

/*
 * The user's index when pw is their password, else -1. An unknown user
 * is checked against the hash of a user picked by a keyed digest of the
 * name, and the result compared in constant time: a name costs the same
 * whether it exists or not, even in a file that mixes hash kinds or
 * costs (a name always meets the same kind, and which one cannot be
 * told without the key).
 */
int			 auth_verify(const struct auth_file *, const char *,
			    size_t, const char *);

#endif /* AUTH_H */
