/*
 * auth.c: the htpasswd files of auth_file, and basic authentication.
 * The file is read whole by the master (before privileges drop, so it
 * may be readable by root alone) and checked line by line: only crypt(3)
 * hashes that are slow by design are taken. A worker verifies with
 * crypt_rn(3) into its own work area, so nothing is allocated per
 * request (yescrypt's own work memory aside, which libxcrypt manages).
 * Messages name lines, never a hash.
 */
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"

/* Work area of crypt_rn(): 32 KiB, so static rather than on the stack. */
static struct crypt_data	 auth_crypt;
/*
 * The key that picks an unknown name's stand-in: one for the life of
 * the process (the master's, inherited by every worker), so a reload
 * that reads the file again does not move a name to another hash, which
 * would tell an unknown name from a user, whose cost never changes.
 */
static unsigned char		 auth_key[32];
static bool			 auth_key_set;

static int __attribute__((format(printf, 3, 4)))
auth_error(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The methods SPEC accepts: bcrypt, yescrypt and SHA-crypt, each slow
 * by design. The common refused ones get a message that says what to do.
 */
static int
auth_check_hash(const char *hash, const char *path, int line, char *err,
    size_t errsize)
{
	static const char	 fix[] = "make it with htpasswd -B (bcrypt) "
	    "or mkpasswd -m yescrypt";
	int			 salt;

	if (strncmp(hash, "$apr1$", 6) == 0)
		return auth_error(err, errsize, "%s:%d: MD5 (apr1) hashes "
		    "are not accepted: %s", path, line, fix);
	if (strncmp(hash, "{SHA}", 5) == 0)
		return auth_error(err, errsize, "%s:%d: SHA-1 hashes are not "
		    "accepted: %s", path, line, fix);
	if (strncmp(hash, "$1$", 3) == 0 || strncmp(hash, "$2a$", 4) == 0)
		return auth_error(err, errsize, "%s:%d: this crypt(3) method "
		    "is not accepted: %s", path, line, fix);
	if (strncmp(hash, "$2y$", 4) != 0 && strncmp(hash, "$2b$", 4) != 0 &&
	    strncmp(hash, "$y$", 3) != 0 && strncmp(hash, "$5$", 3) != 0 &&
	    strncmp(hash, "$6$", 3) != 0)
		return auth_error(err, errsize, "%s:%d: not a bcrypt, "
		    "yescrypt or SHA-crypt hash (plain text?): %s", path, line,
		    fix);
	/*
	 * libxcrypt calls SHA-crypt legacy (CRYPT_SALT_METHOD_LEGACY) but
	 * verifies it; SPEC takes it. A bcrypt hash is exactly 60
	 * characters; a cut one never matches.
	 */
	salt = crypt_checksalt(hash);
	if ((salt != CRYPT_SALT_OK && !(salt == CRYPT_SALT_METHOD_LEGACY &&
	    hash[0] == '$' && (hash[1] == '5' || hash[1] == '6'))) ||
	    (hash[1] == '2' && strlen(hash) != 60) ||
	    strchr(hash, ':') != NULL)
		return auth_error(err, errsize, "%s:%d: malformed hash",
		    path, line);
	return 0;
}

static int
auth_user_cmp(const void *a, const void *b)
{
	const struct auth_user	*x = a, *y = b;
	int			 c;

	c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* One line, already cut at its newline: blank, a comment, or user:hash. */
static int
auth_parse_line(struct auth_file *af, char *s, int line, const char *path,
    char *err, size_t errsize)
{
	struct auth_user	*u;
	char			*colon;
	size_t			 len = strlen(s), i;

	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	if (len == 0 || s[0] == '#')
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return auth_error(err, errsize, "%s:%d: control "
			    "character in line", path, line);
	if ((colon = strchr(s, ':')) == NULL || colon == s)
		return auth_error(err, errsize, "%s:%d: not a user:hash line",
		    path, line);
	/* The access log shows the name as one field. */
	if (memchr(s, ' ', (size_t)(colon - s)) != NULL ||
	    colon - s > AUTH_USER_MAX)
		return auth_error(err, errsize, "%s:%d: a user name has no "
		    "space and at most %d bytes", path, line, AUTH_USER_MAX);
	*colon = '\0';
	if (auth_check_hash(colon + 1, path, line, err, errsize) == -1)
		return -1;
	u = &af->users[af->nusers++];
	u->name = s;
	u->len = (size_t)(colon - s);
	u->hash = colon + 1;
	u->line = line;
	if (af->dummy == NULL)
		af->dummy = u->hash;
	return 0;
}

struct auth_file *
auth_parse(const char *path, const char *buf, size_t len, char *err,
    size_t errsize)
{
	struct auth_file	*af;
	char			*s, *nl;
	size_t			 lines = 1, i;
	int			 line = 0;

	if ((af = calloc(1, sizeof(*af))) == NULL ||
	    (af->path = strdup(path)) == NULL ||
	    (af->data = malloc(len + 1)) == NULL)
		goto nomem;
	memcpy(af->data, buf, len);
	af->data[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		(void)auth_error(err, errsize, "%s: NUL byte in file", path);
		goto fail;
	}
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	if ((af->users = calloc(lines, sizeof(*af->users))) == NULL)
		goto nomem;
	for (s = af->data; s != NULL; s = nl) {
		if ((nl = strchr(s, '\n')) != NULL)
			*nl++ = '\0';
		if (auth_parse_line(af, s, ++line, path, err, errsize) == -1)
			goto fail;
	}
	if (af->nusers == 0) {
		(void)auth_error(err, errsize, "%s: no user:hash line", path);
		goto fail;
	}
	if (!auth_key_set) {
		arc4random_buf(auth_key, sizeof(auth_key));
		auth_key_set = true;
	}
	memcpy(af->key, auth_key, sizeof(af->key));
	qsort(af->users, (size_t)af->nusers, sizeof(*af->users),
	    auth_user_cmp);
	for (i = 1; i < (size_t)af->nusers; i++)
		if (auth_user_cmp(&af->users[i - 1], &af->users[i]) == 0) {
			(void)auth_error(err, errsize, "%s:%d: user repeats "
			    "line %d", path, af->users[i].line >
			    af->users[i - 1].line ? af->users[i].line :
			    af->users[i - 1].line, af->users[i].line >
			    af->users[i - 1].line ? af->users[i - 1].line :
			    af->users[i].line);
			goto fail;
		}
	return af;
nomem:
	(void)auth_error(err, errsize, "%s: %s", path, strerror(errno));
fail:
	auth_free(af);
	return NULL;
}

/* A regular file only: a FIFO or a device would block the master. */
struct auth_file *
auth_load(const char *path, char *err, size_t errsize)
{
	struct auth_file	*af = NULL;
	struct stat		 st;
	char			*buf = NULL;
	ssize_t			 n;
	size_t			 off = 0;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		(void)auth_error(err, errsize, "%s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		(void)auth_error(err, errsize, "%s: %s", path,
		    strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)auth_error(err, errsize, "%s: not a regular file", path);
		goto done;
	}
	if (st.st_size > AUTH_FILE_MAX) {
		(void)auth_error(err, errsize, "%s: larger than %d bytes",
		    path, AUTH_FILE_MAX);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)auth_error(err, errsize, "%s: %s", path,
		    strerror(errno));
		goto done;
	}
	/* Read to the size fstat gave; a file that grows is cut there. */
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)auth_error(err, errsize, "%s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	af = auth_parse(path, buf, off, err, errsize);
done:
	free(buf);
	(void)close(fd);
	return af;
}

void
auth_free(struct auth_file *af)
{
	if (af == NULL)
		return;
	free(af->path);
	free(af->data);
	free(af->users);
	free(af);
}

/*
 * RFC 7617 §2: "Basic" (any case), one or more spaces, then base64 of
 * user-id ":" password. Decoded with OpenSSL's EVP_DecodeBlock(); it
 * counts '=' padding as zero bytes, which are taken off here.
 */
int
auth_credentials(const char *v, size_t len, char *buf, size_t size,
    const char **user, size_t *ulen, const char **pw)
{
	const char	*b64;
	char		*colon;
	size_t		 n, pad = 0;
	int		 out;

	if (len < 6 || strncasecmp(v, "Basic", 5) != 0 || v[5] != ' ')
		return -1;
	for (b64 = v + 5; b64 < v + len && *b64 == ' '; b64++)
		;
	n = (size_t)(v + len - b64);
	if (n == 0 || n % 4 != 0 || n / 4 * 3 >= size ||
	    n / 4 * 3 > AUTH_CRED_MAX)
		return -1;
	if (b64[n - 1] == '=')
		pad = b64[n - 2] == '=' ? 2 : 1;
	if ((out = EVP_DecodeBlock((unsigned char *)buf,
	    (const unsigned char *)b64, (int)n)) < 0 || (size_t)out < pad)
		return -1;
	out -= (int)pad;
	buf[out] = '\0';
	if (memchr(buf, '\0', (size_t)out) != NULL ||
	    (colon = strchr(buf, ':')) == NULL)
		return -1;
	*colon = '\0';
	*user = buf;
	*ulen = (size_t)(colon - buf);
	*pw = colon + 1;
	return 0;
}

/* The stand-in for an unknown name: SHA-256 of key and name picks it. */
static const char *
auth_stand_in(const struct auth_file *af, const char *user, size_t ulen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE], buf[sizeof(af->key) +
			    AUTH_CRED_MAX];
	unsigned int	 mdlen;
	uint32_t	 n;

	if (user == NULL || ulen > AUTH_CRED_MAX)
		return af->dummy;
	memcpy(buf, af->key, sizeof(af->key));
	memcpy(buf + sizeof(af->key), user, ulen);
	if (EVP_Digest(buf, sizeof(af->key) + ulen, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < sizeof(n))
		return af->dummy;
	memcpy(&n, md, sizeof(n));
	return af->users[n % (uint32_t)af->nusers].hash;
}

int
auth_verify(const struct auth_file *af, const char *user, size_t ulen,
    const char *pw)
{
	struct auth_user	 key, *u = NULL;
	const char		*hash, *out;
	size_t			 len;
	int			 bad;

	if (user != NULL) {
		key.name = user;
		key.len = ulen;
		u = bsearch(&key, af->users, (size_t)af->nusers,
		    sizeof(*af->users), auth_user_cmp);
	}
	hash = u != NULL ? u->hash : auth_stand_in(af, user, ulen);
	len = strlen(hash);
	out = crypt_rn(pw != NULL ? pw : "", hash, &auth_crypt,
	    sizeof(auth_crypt));
	bad = out == NULL || strlen(out) != len ||
	    CRYPTO_memcmp(out, hash, len) != 0;
	explicit_bzero(&auth_crypt, sizeof(auth_crypt.output));
	if (bad || u == NULL)
		return -1;
	return (int)(u - af->users);
}
