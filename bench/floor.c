/*
 * floor.c: the least a pre-forked blocking HTTP responder can do, as the
 * "floor" row of scripts/bench. Each worker: accept4, blocking read until
 * the end of a head, one writev of a response built at start (the whole
 * file read once), one write of a fixed access-log line, and again until
 * the client closes. A file larger than BODY_MAX_BYTES is the large-file
 * floor instead: the head with MSG_MORE, then one blocking sendfile() loop
 * over the whole file (no chunks, no timers, no socket options), which is
 * the least tine's model can do for a download. Every request gets the
 * same file; no timeouts, no parsing beyond "Connection: close". Not a
 * server: a yardstick.
 *
 * usage: floor -p PORT -w WORKERS -f FILE [-l LOGFILE]
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define WORKERS_MAX	1024
#define HEAD_MAX_BYTES	8192
#define BODY_MAX_BYTES	(1 << 20)
#define BACKLOG		511
#define STOP_RETRY_MS	100
#define STOP_TRIES	100

static const char log_line[] = "127.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "
    "\"GET /4k.html HTTP/1.1\" 200 4096 \"-\" \"tine-bench\"\n";

static volatile sig_atomic_t stop;

static struct {
	char	 head_ka[256], head_close[256];
	size_t	 head_ka_len, head_close_len;
	char	*body;		/* NULL: sent from file_fd */
	size_t	 body_len;
	int	 file_fd;
	int	 lfd;
	int	 logfd;
	char	 buf[HEAD_MAX_BYTES];
} F;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
die(const char *what)
{
	perror(what);
	exit(1);
}

/* "Connection: close" anywhere in the head, case-insensitive. */
static bool
wants_close(const char *head, size_t len)
{
	static const char	 f[] = "\nconnection: close";
	size_t			 i;

	for (i = 0; i + sizeof(f) - 1 <= len; i++)
		if (strncasecmp(head + i, f, sizeof(f) - 1) == 0)
			return true;
	return false;
}

/* The large-file floor: the head, then the file in one sendfile loop. */
static int
send_file(int fd, bool close_after)
{
	const char	*head = close_after ? F.head_close : F.head_ka;
	size_t		 hlen = close_after ? F.head_close_len : F.head_ka_len;
	off_t		 off = 0;
	ssize_t		 n;

	while (hlen > 0) {
		n = send(fd, head, hlen, MSG_MORE | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR && !stop)
			continue;
		if (n <= 0)
			return -1;
		head += n;
		hlen -= (size_t)n;
	}
	while ((size_t)off < F.body_len) {
		n = sendfile(fd, F.file_fd, &off, F.body_len - (size_t)off);
		if (n == -1 && errno == EINTR && !stop)
			continue;
		if (n <= 0)
			return -1;
	}
	return 0;
}

static int
send_all(int fd, bool close_after)
{
	struct iovec	 iov[2];
	ssize_t		 n;
	int		 i = 0;

	if (F.body == NULL)
		return send_file(fd, close_after);
	iov[0].iov_base = close_after ? F.head_close : F.head_ka;
	iov[0].iov_len = close_after ? F.head_close_len : F.head_ka_len;
	iov[1].iov_base = F.body;
	iov[1].iov_len = F.body_len;
	while (i < 2) {
		n = writev(fd, iov + i, 2 - i);
		if (n == -1 && errno == EINTR && !stop)
			continue;
		if (n <= 0)
			return -1;
		while (i < 2 && (size_t)n >= iov[i].iov_len)
			n -= (ssize_t)iov[i++].iov_len;
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

static void
serve(int fd)
{
	size_t	 len = 0, hlen;
	ssize_t	 n;
	char	*end;
	bool	 close_after;

	for (;;) {
		n = read(fd, F.buf + len, sizeof(F.buf) - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		while ((end = memmem(F.buf, len, "\r\n\r\n", 4)) != NULL) {
			hlen = (size_t)(end - F.buf) + 4;
			close_after = wants_close(F.buf, hlen);
			if (send_all(fd, close_after) == -1)
				return;
			if (F.logfd != -1 && write(F.logfd, log_line,
			    sizeof(log_line) - 1) == -1)
				die("floor: log");
			if (close_after)
				return;
			memmove(F.buf, F.buf + hlen, len - hlen);
			len -= hlen;
		}
		if (len == sizeof(F.buf))
			return;
	}
}

static void __attribute__((noreturn))
worker(const sigset_t *set)
{
	struct sigaction	 sa;
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: accept returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigprocmask(SIG_UNBLOCK, set, NULL);
	while (!stop) {
		fd = accept4(F.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1)
			continue;
		serve(fd);
		(void)close(fd);
	}
	exit(0);
}

static void
load_file(const char *path)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		die(path);
	F.body_len = (size_t)st.st_size;
	if (st.st_size > BODY_MAX_BYTES) {
		F.file_fd = fd;		/* the large-file floor */
		return;
	}
	if ((F.body = malloc(F.body_len + 1)) == NULL)
		die("floor");
	n = read(fd, F.body, F.body_len);
	if (n != (ssize_t)F.body_len)
		die(path);
	close(fd);
}

static int
format_head(char *buf, size_t size, const char *conn)
{
	int	 n;

	n = snprintf(buf, size, "HTTP/1.1 200 OK\r\nServer: floor\r\n"
	    "Content-Type: text/html\r\nContent-Length: %zu\r\n%s\r\n",
	    F.body_len, conn);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "floor: head too long\n");
		exit(1);
	}
	return n;
}

/* A decimal number in [1, max], or 0 when the argument is not one. */
static int
number(const char *s, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return 0;
	return (int)v;
}

/*
 * A TERM that lands between a worker's flag check and its accept4 is lost,
 * so it is repeated every STOP_RETRY_MS; after STOP_TRIES, SIGKILL.
 */
static void
stop_workers(pid_t *pids, int n)
{
	struct timespec	 ts = { 0, STOP_RETRY_MS * 1000000L };
	int		 i, left, try;

	for (try = 0; try < STOP_TRIES; try++) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (pids[i] == -1)
				continue;
			if (waitpid(pids[i], NULL, WNOHANG) == pids[i]) {
				pids[i] = -1;
				continue;
			}
			(void)kill(pids[i], SIGTERM);
			left++;
		}
		if (left == 0)
			return;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < n; i++) {
		if (pids[i] == -1)
			continue;
		(void)kill(pids[i], SIGKILL);
		(void)waitpid(pids[i], NULL, 0);
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	sigset_t		 set;
	const char		*file = NULL, *logpath = NULL;
	pid_t			 pids[WORKERS_MAX];
	int			 ch, i, sig, port = 0, workers = 0, one = 1;

	while ((ch = getopt(argc, argv, "f:l:p:w:")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'p':
			port = number(optarg, 65535);
			break;
		case 'w':
			workers = number(optarg, WORKERS_MAX);
			break;
		default:
			goto usage;
		}
	}
	if (file == NULL || port <= 0 || workers <= 0 || optind != argc)
		goto usage;
	load_file(file);
	F.head_ka_len = (size_t)format_head(F.head_ka, sizeof(F.head_ka), "");
	F.head_close_len = (size_t)format_head(F.head_close,
	    sizeof(F.head_close), "Connection: close\r\n");
	F.logfd = -1;
	if (logpath != NULL && (F.logfd = open(logpath,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		die(logpath);

	if ((F.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("floor: socket");
	(void)setsockopt(F.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(F.lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(F.lfd, BACKLOG) == -1)
		die("floor: bind");
	signal(SIGPIPE, SIG_IGN);

	/* The master waits for TERM or INT, then stops the workers. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < workers; i++) {
		if ((pids[i] = fork()) == -1)
			die("floor: fork");
		if (pids[i] == 0)
			worker(&set);
	}
	(void)sigwait(&set, &sig);
	stop_workers(pids, workers);
	return 0;
usage:
	fprintf(stderr, "usage: floor -p PORT -w WORKERS -f FILE "
	    "[-l LOGFILE]\n");
	return 2;
}
