/*
 * activate.c: takes over the listening sockets systemd passes with
 * LISTEN_FDS/LISTEN_PID (fds from 3 on) and hands them to listeners of
 * the config by address. A config without listen lines serves on all of
 * them. The protocol is two environment variables and a getsockname()
 * per fd, so it is written here rather than linking libsystemd. The old
 * master of a binary upgrade (upgrade.c) passes its sockets the same way.
 * Also remembers which listening sockets the service manager keeps (its
 * socket units, its descriptor store): those outlive this tine.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"

#define ACTIVATE_FD_START	3	/* SD_LISTEN_FDS_START */
#define ACTIVATE_FDS_MAX	64
#define ACTIVATE_KEPT_MAX	256	/* kept sockets remembered */

struct inherited {
	int			 fd;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 name[LISTEN_NAME_MAX];
};

static struct {
	struct inherited	 fds[ACTIVATE_FDS_MAX];
	int			 n;
	int			 end;	/* first fd not passed to us */
	int			 kept[ACTIVATE_KEPT_MAX];
	int			 nkept;
} act = { .end = ACTIVATE_FD_START };

/*
 * The name LISTEN_FDNAMES gives the i-th fd, in buf, or "" (no names,
 * fewer names than fds).
 */
static void
activate_name(const char *names, int i, char *buf, size_t size)
{
	const char	*p = names, *end;
	size_t		 len;

	buf[0] = '\0';
	if (names == NULL)
		return;
	while (i-- > 0) {
		if ((p = strchr(p, ':')) == NULL)
			return;
		p++;
	}
	end = strchr(p, ':');
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	if (len >= size)
		return;
	memcpy(buf, p, len);
	buf[len] = '\0';
}

/*
 * A socket taken over may carry the SYN-dropping filter of a master that
 * stopped gracefully (master_refuse_syn()): it must go, or no handshake
 * would complete. ENOENT: there was none.
 */
static void
activate_detach_filter(int fd)
{
	int	 unused = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused,
	    sizeof(unused)) == -1 && errno != ENOENT)
		log_warn("inherited fd %d: SO_DETACH_FILTER", fd);
}

/*
 * Reads the variables once (and unsets them, so workers and anything
 * they start do not see them). Returns the number of sockets taken over,
 * or -1 when the variables are malformed.
 */
int
activate_init(void)
{
	const char	*spid, *sfds, *errstr, *names;
	char		 name[64];
	struct inherited *in;
	long long	 pid, n;
	int		 i, type;
	socklen_t	 len;

	spid = getenv("LISTEN_PID");
	sfds = getenv("LISTEN_FDS");
	if (spid == NULL || sfds == NULL)
		return 0;
	pid = strtonum(spid, 1, INT_MAX, &errstr);
	if (errstr != NULL || pid != getpid())
		goto done;	/* meant for another process */
	n = strtonum(sfds, 0, ACTIVATE_FDS_MAX, &errstr);
	if (errstr != NULL) {
		log_warnx("LISTEN_FDS=%s is %s: cannot take over the "
		    "passed sockets", sfds, errstr);
		return -1;
	}
	act.end = ACTIVATE_FD_START + (int)n;
	names = getenv("LISTEN_FDNAMES");
	for (i = 0; i < n; i++) {
		in = &act.fds[act.n];
		in->fd = ACTIVATE_FD_START + i;
		len = sizeof(type);
		if (getsockopt(in->fd, SOL_SOCKET, SO_TYPE, &type, &len) ==
		    -1 || type != SOCK_STREAM) {
			log_warnx("inherited fd %d is not a stream socket; "
			    "ignored", in->fd);
			continue;
		}
		in->sslen = sizeof(in->ss);
		if (getsockname(in->fd, (struct sockaddr *)&in->ss,
		    &in->sslen) == -1 || util_fmt_addr((struct sockaddr *)
		    &in->ss, in->sslen, in->name, sizeof(in->name), true) ==
		    -1) {
			log_warn("inherited fd %d", in->fd);
			continue;
		}
		if (util_set_cloexec(in->fd) == -1) {
			log_warn("inherited fd %d", in->fd);
			continue;
		}
		activate_detach_filter(in->fd);
		/*
		 * Every socket the service manager passes, it keeps. Only
		 * the old master of an upgrade passes sockets of its own,
		 * and names them so.
		 */
		activate_name(names, i, name, sizeof(name));
		if (strcmp(name, ACTIVATE_OWN) != 0)
			activate_keep(in->fd);
		act.n++;
	}
done:
	(void)unsetenv("LISTEN_PID");	/* fails only on a bad name */
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return act.n;
}

/*
 * The first descriptor above those the service manager passed: everything
 * from here on was left open by whoever started tine.
 */
int
activate_fd_end(void)
{
	return act.end;
}

static bool
activate_same(const struct inherited *in, const struct listener *l)
{
	return in->sslen == l->sslen && memcmp(&in->ss, &l->ss, l->sslen) ==
	    0;
}

/*
 * Gives each listener without an fd the inherited socket of the same
 * address. With no listen line in the config, the listeners become the
 * inherited sockets themselves. Returns 0 or -1 (allocation failure).
 */
/* *dst: a copy of the n elements of size at src (NULL for none). */
static int
activate_copy(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	if ((*dst = reallocarray(NULL, n, size)) == NULL)
		return -1;
	memcpy(*dst, src, n * size);
	return 0;
}

int
activate_apply(struct config *conf)
{
	struct listener	*l, *d;
	int		 i;

	if (act.n == 0)
		return 0;
	if (conf->listen_default) {
		/*
		 * The default listener is the only one; each inherited
		 * socket takes its place with a copy of its sites and name
		 * tables (every site, as none has a listen line).
		 */
		d = TAILQ_FIRST(&conf->listeners);
		TAILQ_REMOVE(&conf->listeners, d, entry);
		for (i = 0; i < act.n; i++) {
			if ((l = calloc(1, sizeof(*l))) == NULL ||
			    activate_copy((void **)&l->sites, d->sites,
			    (size_t)d->nsites, sizeof(*d->sites)) == -1 ||
			    activate_copy((void **)&l->exact, d->exact,
			    (size_t)d->nexact, sizeof(*d->exact)) == -1 ||
			    activate_copy((void **)&l->wild, d->wild,
			    (size_t)d->nwild, sizeof(*d->wild)) == -1) {
				if (l != NULL) {
					free(l->sites);
					free(l->exact);
					free(l);
				}
				TAILQ_INSERT_HEAD(&conf->listeners, d, entry);
				return -1;
			}
			l->nsites = d->nsites;
			l->nexact = d->nexact;
			l->nwild = d->nwild;
			l->top = true;
			l->ss = act.fds[i].ss;
			l->sslen = act.fds[i].sslen;
			(void)strlcpy(l->name, act.fds[i].name,
			    sizeof(l->name));	/* same size */
			l->fd = -1;
			TAILQ_INSERT_TAIL(&conf->listeners, l, entry);
		}
		free(d->sites);
		free(d->exact);
		free(d->wild);
		free(d);
		conf->listen_default = false;
	}
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (l->fd != -1)
			continue;
		for (i = 0; i < act.n; i++) {
			if (act.fds[i].fd != -1 && activate_same(&act.fds[i],
			    l)) {
				l->fd = act.fds[i].fd;
				act.fds[i].fd = -1;	/* now the config's */
				break;
			}
		}
	}
	return 0;
}

/*
 * New master of an upgrade, once its listeners are set: the old
 * master's sockets that its config does not use are closed. Kept, they
 * would listen on with nobody accepting once the old master is gone: a
 * port that takes connections and never answers. (The service
 * manager's, which it keeps, stay for a later reload.)
 */
void
activate_close_unused_own(void)
{
	int	 i;

	for (i = 0; i < act.n; i++) {
		if (act.fds[i].fd == -1 || activate_is_kept(act.fds[i].fd))
			continue;
		log_info("%s: not in the configuration; closed",
		    act.fds[i].name);
		(void)close(act.fds[i].fd);	/* a listener: nothing lost */
		act.fds[i].fd = -1;
	}
}

/* fd is a listening socket that the service manager keeps. */
void
activate_keep(int fd)
{
	if (activate_is_kept(fd))
		return;
	if (act.nkept == ACTIVATE_KEPT_MAX) {
		log_warnx("more than %d kept sockets: fd %d is treated as "
		    "tine's own", ACTIVATE_KEPT_MAX, fd);
		return;
	}
	act.kept[act.nkept++] = fd;
}

bool
activate_is_kept(int fd)
{
	int	 i;

	for (i = 0; i < act.nkept; i++)
		if (act.kept[i] == fd)
			return true;
	return false;
}

/* fd is being closed: its number may come back as another socket. */
void
activate_forget(int fd)
{
	int	 i;

	for (i = 0; i < act.nkept; i++) {
		if (act.kept[i] == fd) {
			act.kept[i] = act.kept[--act.nkept];
			return;
		}
	}
}
