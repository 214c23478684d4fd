/* SPDX-License-Identifier: Apache-2.0 */
#include "hotspot_attach.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define STEP_MS 50

size_t hotspot_load_request(char *buf, size_t cap, const char *jar, const char *arg)
{
	const char *fields[] = { "1", "load", "instrument", "false" };
	size_t n = 0, jl = strlen(jar), al = strlen(arg);

	if (jl == 0 || strchr(jar, '='))
		return 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t l = strlen(fields[i]) + 1;

		if (n + l > cap)
			return 0;
		memcpy(buf + n, fields[i], l);
		n += l;
	}
	/* the agent's path and its options, one argument: JAR=ARG */
	if (n + jl + 1 + al + 1 > cap)
		return 0;
	memcpy(buf + n, jar, jl);
	n += jl;
	buf[n++] = '=';
	memcpy(buf + n, arg, al);
	n += al;
	buf[n++] = '\0';
	return n;
}

bool hotspot_load_answer_ok(const char *ans)
{
	const char *p;
	char *end;
	long code;

	/* the command's own status first */
	if (strncmp(ans, "0\n", 2) != 0)
		return false;
	p = ans + 2;
	/* then the agent's: "return code: N" (JDK 9+) or a bare number (JDK 8) */
	if (strncmp(p, "return code: ", 13) == 0)
		p += 13;
	if (*p == '\0')
		return false;
	code = strtol(p, &end, 10);
	return end != p && (*end == '\n' || *end == '\0') && code == 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int hotspot_tmp_dir(uint32_t pid)
{
	/*
	 * The target's /tmp resolved inside its own root: a "tmp" (or any
	 * component) that is a symbolic link to an absolute path must not
	 * lead back into the host's tree, as /proc/PID/root/tmp would.
	 */
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	int rfd, fd, e;

	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, rfd, "tmp", &how, sizeof(how));
	e = errno;
	close(rfd);
	errno = e;
	return fd;
}

/*
 * Connects to the JVM's attach socket name in its /tmp (dirfd). Only a
 * socket itself: a link planted there is not followed out of the target.
 */
static int connect_socket(int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name) >=
	    (int)sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Reads the answer until EOF or the deadline: "0\n" then the agent's result. */
static ssize_t read_answer(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t n = 0;

	while (n + 1 < cap) {
		int64_t left = (deadline - clock_mono_ns()) / 1000000;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

int hotspot_attach(uint32_t pid, uint32_t nspid, const char *jar, const char *arg, int timeout_ms,
		   volatile int *stop, char *err, size_t errlen)
{
	int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000LL;
	char sock[32], trigger[32], req[4096 + 64], ans[256];
	size_t reqlen = hotspot_load_request(req, sizeof(req), jar, arg);
	int fd = -1, tfd, dfd, rc = -1;
	bool signalled = false;

	if (reqlen == 0) {
		snprintf(err, errlen, "agent path too long or invalid");
		return -1;
	}
	dfd = hotspot_tmp_dir(pid);
	if (dfd < 0) {
		snprintf(err, errlen, "cannot open its /tmp: %s", strerror(errno));
		return -1;
	}
	snprintf(sock, sizeof(sock), ".java_pid%u", nspid);
	snprintf(trigger, sizeof(trigger), ".attach_pid%u", nspid);
	/*
	 * An attach listener already started (an earlier attach) answers at
	 * once; a socket file left by a JVM that had this pid before does not.
	 */
	fd = connect_socket(dfd, sock);
	if (fd < 0) {
		/* the JVM starts its attach listener on SIGQUIT when this file exists */
		tfd = openat(dfd, trigger, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tfd < 0) {
			snprintf(err, errlen, "cannot create /tmp/%s: %s", trigger, strerror(errno));
			close(dfd);
			return -1;
		}
		close(tfd);
		if (kill((pid_t)pid, SIGQUIT) != 0) {
			snprintf(err, errlen, "cannot signal: %s", strerror(errno));
			unlinkat(dfd, trigger, 0);
			close(dfd);
			return -1;
		}
		signalled = true;
	}
	while (fd < 0 && !(stop && *stop) && clock_mono_ns() < deadline) {
		fd = connect_socket(dfd, sock);
		if (fd >= 0)
			break;
		sleep_ms(STEP_MS);
	}
	if (signalled)
		unlinkat(dfd, trigger, 0);
	close(dfd);
	if (fd < 0) {
		snprintf(err, errlen, "no attach socket within %d ms", timeout_ms);
		return -1;
	}
	if (write(fd, req, reqlen) != (ssize_t)reqlen) {
		snprintf(err, errlen, "cannot send the request: %s", strerror(errno));
		goto out;
	}
	read_answer(fd, ans, sizeof(ans), deadline);
	if (hotspot_load_answer_ok(ans)) {
		rc = 0;
	} else {
		for (char *p = ans; *p; p++)
			if (*p < ' ' || *p > '~')
				*p = ' ';
		snprintf(err, errlen, "the JVM answered '%.80s'", ans);
	}
out:
	close(fd);
	return rc;
}
