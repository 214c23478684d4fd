/*
 * rss_load: the load of the `rss` benchmark. Forks P client processes that
 * each open one keep-alive plaintext HTTP/1 connection to a loopback
 * listener of this process and send requests carrying T/P distinct
 * `Authorization: Bearer ghp_...` tokens of their own (process i holds
 * tokens i, i+P, i+2P, ..., as replay_bench does), each token R times, so
 * a sensor ends up holding T tokens x P processes worth of state. The
 * clients stay alive (the sensor keeps per-process state) until a line or
 * end of file arrives on stdin; then they exit and are reaped.
 *
 * Prints "loaded procs=P tokens=T requests=N" once every client has sent
 * everything. The tokens are random, never printed, and wiped before exit.
 *
 * Usage: rss_load [-p PROCS] [-t TOKENS] [-r ROUNDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "numarg.h"

#define TOKEN_RANDOM_LEN 36
#define TOKEN_LEN (4 + TOKEN_RANDOM_LEN)
#define MAX_PROCS 4096
#define MAX_TOKENS 1000000
#define MAX_ROUNDS 1000

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* GitHub-PAT-shaped tokens, so the sensor classifies them like real ones. */
static int make_tokens(char *toks, size_t n)
{
	unsigned char rnd[TOKEN_RANDOM_LEN];

	for (size_t t = 0; t < n; t++) {
		char *tok = toks + t * TOKEN_LEN;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		memcpy(tok, "ghp_", 4);
		for (size_t i = 0; i < sizeof(rnd); i++)
			tok[4 + i] = base62[rnd[i] % 62];
	}
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One client: connect, one write per request, report done, wait. */
static int client(int idx, long procs, long tokens, long rounds, const char *toks,
		  const struct sockaddr_in *addr, int done_w, int hold_r)
{
	char req[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0)
		return 1;
	for (long r = 0; r < rounds; r++) {
		for (long t = idx; t < tokens; t += procs) {
			int len = snprintf(req, sizeof(req),
					   "GET /rss/%ld HTTP/1.1\r\nHost: rss.test\r\n"
					   "Authorization: Bearer %.*s\r\n\r\n",
					   r, TOKEN_LEN, toks + t * TOKEN_LEN);

			if (len <= 0 || (size_t)len >= sizeof(req) || send_all(fd, req, (size_t)len))
				return 1;
		}
	}
	explicit_bzero(req, sizeof(req));
	if (write(done_w, "d", 1) != 1)
		return 1;
	/* Alive, connection open, until the parent closes the hold pipe. */
	char c;
	while (read(hold_r, &c, 1) < 0 && errno == EINTR)
		;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	long procs = 1000, tokens = 10000, rounds = 2;
	uint64_t v;
	int opt;

	while ((opt = getopt(argc, argv, "p:t:r:")) != -1) {
		long *dst = opt == 'p' ? &procs : opt == 't' ? &tokens : opt == 'r' ? &rounds : NULL;
		long max = opt == 'p' ? MAX_PROCS : opt == 't' ? MAX_TOKENS : MAX_ROUNDS;

		if (!dst || numarg_uint(optarg, 1, (uint64_t)max, &v)) {
			fprintf(stderr, "usage: rss_load [-p PROCS] [-t TOKENS] [-r ROUNDS]\n");
			return 2;
		}
		*dst = (long)v;
	}
	if (tokens < procs) {
		fprintf(stderr, "rss_load: fewer tokens than processes\n");
		return 2;
	}

	/* One accepted socket per client, plus a few. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)procs + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)procs + 64 ? rl.rlim_max : (rlim_t)procs + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	char *toks = malloc((size_t)tokens * TOKEN_LEN);
	if (!toks || make_tokens(toks, (size_t)tokens)) {
		fprintf(stderr, "rss_load: cannot make tokens\n");
		return 1;
	}

	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int done[2], hold[2];

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(lfd, (int)procs) != 0 || getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0 ||
	    pipe(done) != 0 || pipe(hold) != 0) {
		perror("rss_load: listener");
		return 1;
	}

	pid_t *pids = calloc((size_t)procs, sizeof(*pids));
	if (!pids)
		return 1;
	int rc = 0;
	long started = 0, reported = 0;

	for (; started < procs; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("rss_load: fork");
			rc = 1;
			break;
		}
		if (pid == 0) {
			close(lfd);
			close(done[0]);
			close(hold[1]);
			int crc = client((int)started, procs, tokens, rounds, toks, &addr, done[1], hold[0]);
			explicit_bzero(toks, (size_t)tokens * TOKEN_LEN);
			_exit(crc);
		}
		pids[started] = pid;
		/*
		 * Accept as the clients come: the data stays unread in the
		 * sockets' receive buffers (a few KiB each), which is all a
		 * sink needs to be for the sensor, which sees the writes.
		 */
		if (accept(lfd, NULL, NULL) < 0) {
			perror("rss_load: accept");
			rc = 1;
			started++;
			break;
		}
	}
	explicit_bzero(toks, (size_t)tokens * TOKEN_LEN);
	free(toks);
	close(done[1]);
	close(hold[0]);

	while (rc == 0 && reported < started) {
		char buf[256];
		ssize_t n = read(done[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "rss_load: a client failed (%ld of %ld reported)\n", reported,
				started);
			rc = 1;
			break;
		}
		reported += n;
	}
	if (rc == 0) {
		printf("loaded procs=%ld tokens=%ld requests=%ld\n", procs, tokens, tokens * rounds);
		fflush(stdout);
		char line[16];
		if (!fgets(line, sizeof(line), stdin)) {
			/* end of file: the caller is done as well */
		}
	}
	close(hold[1]);
	for (long i = 0; i < started; i++) {
		int st;

		if (rc != 0)
			kill(pids[i], SIGKILL);
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 1;
	}
	free(pids);
	return rc;
}
