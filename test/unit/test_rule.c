/*
 * test_rule.c: unit tests for rule.c and auth.c: how a request's rules
 * combine the levels (location over site over top; header lines added
 * up; allow/deny as a whole list from the innermost level that has one;
 * error_page per status), allow/deny first match with IPv4, IPv6 and
 * IPv4-mapped clients, return URLs with every variable, htpasswd files
 * taken and refused, the Authorization field, and verification with
 * bcrypt, yescrypt and SHA-crypt (right, wrong, unknown user).
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <crypt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/auth.h"
#include "../../src/rule.c"

static char	 dir[] = "/tmp/test_rule.XXXXXX";
static char	 conf_path[PATH_MAX];

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		abort();
	return ss;
}

static bool
denied(const struct rules *r, const char *a)
{
	struct sockaddr_storage	 ss = addr(a);

	return rule_denied(r, (struct sockaddr *)&ss);
}

static const char	 rules_conf[] =
	"listen 127.0.0.1:1\n"
	"root www\n"
	"header X-Top 1\n"
	"error_page 404 /top404.html\n"
	"deny 10.0.0.0/8\n"
	"fallback /index.html\n"
	"location /shared/* {\n"
	"\theader X-Shared 1\n"
	"\tallow all\n"
	"}\n"
	"server a.test {\n"
	"\theader X-Site a\n"
	"\theader X-Site2 \"b c\"\n"
	"\terror_page 403 /site403.html\n"
	"\tlocation /p/* {\n"
	"\t\theader X-Loc p\n"
	"\t\terror_page 404 500 /p.html\n"
	"\t\tdeny 192.0.2.1\n"
	"\t\tallow 192.0.2.0/24 2001:db8::/32\n"
	"\t\tdeny all\n"
	"\t\tfallback off\n"
	"\t\treturn 307 $scheme://$host$request_uri#$path|$query\n"
	"\t}\n"
	"}\n"
	"server b.test {\n"
	"\treturn 410\n"
	"}\n";

static void
test_select(const struct config *conf)
{
	const struct site	*a = &conf->sites[0], *b = &conf->sites[1];
	struct rules		 r;
	struct http_response	 resp;

	memset(&resp, 0, sizeof(resp));
	rule_select(&r, conf, a, NULL);
	rule_fields(&r, &resp);
	unit_check(resp.nfields[0] == 1 && resp.nfields[1] == 2 &&
	    resp.nfields[2] == 0 && strcmp(resp.fields[1][1].line,
	    "X-Site2: b c\r\n") == 0, "headers: top and site lines");
	unit_check(r.naccess == 1 && denied(&r, "10.1.2.3") &&
	    !denied(&r, "192.0.2.9"), "access: the site has the top list");
	unit_check(r.fallback != NULL && strcmp(r.fallback, "/index.html") ==
	    0 && r.ret == NULL, "fallback inherited, no return");
	unit_check(strcmp(rule_error_page(&r, 404), "/top404.html") == 0 &&
	    strcmp(rule_error_page(&r, 403), "/site403.html") == 0 &&
	    rule_error_page(&r, 500) == NULL, "error_page per status");

	rule_select(&r, conf, a, &a->locs[0]);
	memset(&resp, 0, sizeof(resp));
	rule_fields(&r, &resp);
	unit_check(resp.nfields[0] == 1 && resp.nfields[1] == 2 &&
	    resp.nfields[2] == 1, "headers: location adds to site and top");
	unit_check(denied(&r, "192.0.2.1") && !denied(&r, "192.0.2.2") &&
	    !denied(&r, "::ffff:192.0.2.2") && denied(&r, "10.1.2.3") &&
	    !denied(&r, "2001:db8::1") && denied(&r, "2001:db9::1") &&
	    denied(&r, "::1"), "access: first match, v4, v6, v4-mapped");
	unit_check(r.fallback == NULL, "fallback off in a location");
	unit_check(strcmp(rule_error_page(&r, 404), "/p.html") == 0 &&
	    strcmp(rule_error_page(&r, 500), "/p.html") == 0 &&
	    strcmp(rule_error_page(&r, 403), "/site403.html") == 0,
	    "error_page: location over site over top");
	unit_check(r.ret != NULL && r.ret->code == 307, "return in location");

	rule_select(&r, conf, b, &conf->locs[0]);
	memset(&resp, 0, sizeof(resp));
	rule_fields(&r, &resp);
	unit_check(resp.nfields[0] == 1 && resp.nfields[1] == 0 &&
	    resp.nfields[2] == 1 && r.naccess == 1 &&
	    !denied(&r, "10.1.2.3"), "top-level location: own allow list");
	unit_check(r.ret != NULL && r.ret->code == 410 && r.ret->url == NULL,
	    "top-level location takes the site's return");
}

static void
test_expand(const struct config *conf)
{
	const struct rule_return	*ret = &conf->sites[0].locs[0].sc.ret;
	struct rule_vars		 v;
	char				 out[256], tiny[8];
	int				 n;

	memset(&v, 0, sizeof(v));
	v.https = true;
	v.host = "WWW.Example.ORG:8443";
	v.hostlen = strlen(v.host);
	v.path = "/p/a%20b";
	v.pathlen = strlen(v.path);
	v.query = "x=1&y";
	v.querylen = strlen(v.query);
	n = rule_expand(ret->url, &v, out, sizeof(out));
	unit_check(n > 0 && strcmp(out, "https://www.example.org/p/a%20b?"
	    "x=1&y#/p/a%20b|x=1&y") == 0, "expand: every variable (%s)", out);
	v.https = false;
	v.host = "[::1]:80";
	v.hostlen = strlen(v.host);
	v.query = NULL;
	n = rule_expand("$scheme://$host$request_uri$query", &v, out,
	    sizeof(out));
	unit_check(n > 0 && strcmp(out, "http://[::1]/p/a%20b") == 0,
	    "expand: IPv6 host, no query (%s)", out);
	v.host = NULL;
	v.default_host = "Default.Test";
	n = rule_expand("$host", &v, out, sizeof(out));
	unit_check(n > 0 && strcmp(out, "default.test") == 0,
	    "expand: no Host field");
	unit_check(rule_expand("https://$host$path", &v, tiny,
	    sizeof(tiny)) == -1, "expand: too long for the buffer");
}

static const struct {
	const char	*line;
	const char	*error;		/* in the message; NULL: taken */
} htpasswd[] = {
	{ "u:$apr1$abc$def", "MD5 (apr1)" },
	{ "u:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=", "SHA-1" },
	{ "u:secret", "plain text" },
	{ "u:$1$abc$def", "not accepted" },
	{ "u:$2y$05$short", "malformed" },
	{ ":$6$salt$hash", "not a user:hash" },
	{ "nocolon", "not a user:hash" },
	{ "a b:$6$saltsalt$Fk5pQ0oW4m0r2vI5bQ0hT1kY7x3ZfH7bF4rJp8c9dT6aN1eL"
	    "2sX3uV4wY5zA6bC7dE8fG9hI0jK1lM2nO3pQ4r", "no space" },
	{ "u:$6$saltsalt$Fk5pQ0oW4m0r2vI5bQ0hT1kY7x3ZfH7bF4rJp8c9dT6aN1eL"
	    "2sX3uV4wY5zA6bC7dE8fG9hI0jK1lM2nO3pQ4r", NULL },
};

static void
test_htpasswd(void)
{
	struct auth_file	*af;
	char			 err[512], text[512];
	size_t			 i;

	for (i = 0; i < nitems(htpasswd); i++) {
		(void)snprintf(text, sizeof(text), "# users\n\n%s\n",
		    htpasswd[i].line);
		af = auth_parse("pw", text, strlen(text), err, sizeof(err));
		if (htpasswd[i].error == NULL)
			unit_check(af != NULL && af->nusers == 1,
			    "htpasswd: taken: %s", htpasswd[i].line);
		else
			unit_check(af == NULL && strncmp(err, "pw:3:", 5) == 0 &&
			    strstr(err, htpasswd[i].error) != NULL &&
			    strstr(err, htpasswd[i].line + 2) == NULL,
			    "htpasswd: refused with its line, no hash: %s",
			    htpasswd[i].line);
		auth_free(af);
	}
	af = auth_parse("pw", "", 0, err, sizeof(err));
	unit_check(af == NULL && strstr(err, "no user") != NULL,
	    "htpasswd: empty file refused");
	(void)snprintf(text, sizeof(text), "%s\n%s\n",
	    htpasswd[nitems(htpasswd) - 1].line,
	    htpasswd[nitems(htpasswd) - 1].line);
	af = auth_parse("pw", text, strlen(text), err, sizeof(err));
	unit_check(af == NULL && strstr(err, "pw:2: user repeats line 1") !=
	    NULL, "htpasswd: repeated user refused (%s)", err);
}

static const struct {
	const char	*field;
	const char	*user;		/* NULL: refused */
	const char	*pw;
} creds[] = {
	{ "Basic YWxpY2U6cHcx", "alice", "pw1" },
	{ "basic   YWxpY2U6cHcx", "alice", "pw1" },
	{ "Basic YTpiOmM=", "a", "b:c" },	/* the first colon splits */
	{ "Basic OnB3", "", "pw" },		/* empty user id */
	{ "Basic YTo=", "a", "" },
	{ "Basic YQ==", NULL, NULL },		/* no colon */
	{ "Basic YWxpY2U6cHcx=", NULL, NULL },	/* not a multiple of 4 */
	{ "Basic YW*pY2U6cHcx", NULL, NULL },	/* not base64 */
	{ "Basic YQA6Yg==", NULL, NULL },	/* NUL in the user id */
	{ "BasicYWxpY2U6cHcx", NULL, NULL },
	{ "Bearer YWxpY2U6cHcx", NULL, NULL },
	{ "Basic ", NULL, NULL },
	{ "Basic", NULL, NULL },
};

static void
test_credentials(void)
{
	char		 buf[AUTH_CRED_MAX + 4], *big;
	const char	*user, *pw;
	size_t		 ulen, i, n;
	int		 rc;

	for (i = 0; i < nitems(creds); i++) {
		rc = auth_credentials(creds[i].field, strlen(creds[i].field),
		    buf, sizeof(buf), &user, &ulen, &pw);
		if (creds[i].user == NULL)
			unit_check(rc == -1, "credentials refused: %s",
			    creds[i].field);
		else
			unit_check(rc == 0 && strcmp(user, creds[i].user) ==
			    0 && ulen == strlen(creds[i].user) &&
			    strcmp(pw, creds[i].pw) == 0,
			    "credentials: %s", creds[i].field);
	}
	n = 6 + 4 * (AUTH_CRED_MAX / 3 + 2);
	if ((big = malloc(n + 1)) == NULL)
		abort();
	memcpy(big, "Basic ", 6);
	memset(big + 6, 'Q', n - 6);
	big[n] = '\0';
	unit_check(auth_credentials(big, n, buf, sizeof(buf), &user, &ulen,
	    &pw) == -1, "credentials: longer than AUTH_CRED_MAX refused");
	free(big);
}

/* Hashes made here with libxcrypt itself, at the cheapest cost. */
static void
test_verify(void)
{
	static const char *const prefixes[] = { "$2b$", "$y$", "$6$", "$5$" };
	static const char *const users[] = { "carol", "alice", "bob", "dave" };
	static const char *const pws[] = { "c-pw", "a-pw", "b-pw", "d-pw" };
	struct auth_file	*af;
	char			 text[1024], err[256], *h;
	size_t			 i, len = 0;
	int			 alice, bob, carol, dave;

	for (i = 0; i < nitems(prefixes); i++) {
		h = crypt_gensalt_ra(prefixes[i], 0, NULL, 0);
		if (h == NULL)
			abort();
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "%s:%s\n", users[i], crypt(pws[i], h));
		free(h);
	}
	af = auth_parse("pw", text, len, err, sizeof(err));
	unit_check(af != NULL && af->nusers == 4 &&
	    strncmp(af->dummy, "$2b$", 4) == 0,
	    "verify: bcrypt, yescrypt, SHA-512 and SHA-256 users load (%s)",
	    af == NULL ? err : "");
	if (af == NULL)
		return;
	alice = auth_verify(af, "alice", 5, "a-pw");
	bob = auth_verify(af, "bob", 3, "b-pw");
	carol = auth_verify(af, "carol", 5, "c-pw");
	dave = auth_verify(af, "dave", 4, "d-pw");
	unit_check(alice >= 0 && strcmp(af->users[alice].name, "alice") == 0 &&
	    bob >= 0 && carol >= 0 && dave >= 0, "verify: right passwords");
	unit_check(auth_verify(af, "alice", 5, "b-pw") == -1 &&
	    auth_verify(af, "bob", 3, "") == -1 &&
	    auth_verify(af, "alic", 4, "a-pw") == -1 &&
	    auth_verify(af, "nobody", 6, "c-pw") == -1 &&
	    auth_verify(af, NULL, 0, "c-pw") == -1,
	    "verify: wrong password, prefix of a name, unknown user");
	auth_free(af);
}

int
main(void)
{
	struct config	*conf;
	char		 www[PATH_MAX];

	if (mkdtemp(dir) == NULL)
		abort();
	(void)snprintf(conf_path, sizeof(conf_path), "%s/tine.conf", dir);
	(void)snprintf(www, sizeof(www), "%s/www", dir);
	if (mkdir(www, 0700) == -1)
		abort();
	conf = unit_load_config(conf_path, rules_conf);
	unit_check(conf != NULL, "rules: loads");
	if (conf != NULL) {
		test_select(conf);
		test_expand(conf);
		unit_check(conf->return_url_max >= 3 * conf->max_header_size,
		    "return_url_max counts each variable");
		config_free(conf);
	}
	test_htpasswd();
	test_credentials();
	test_verify();
	(void)unlink(conf_path);
	(void)rmdir(www);
	(void)rmdir(dir);
	return unit_done();
}
