/* SPDX-License-Identifier: Apache-2.0 */
#include "hookexec.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Without a pidfd the loop looks for the child's exit this often. */
#define EXIT_POLL_MS 20
/* After SIGKILL, how long to wait for the exit before leaving the child behind. */
#define REAP_WAIT_MS 5000
/* Bytes read from the output pipe once the hook has exited (its children may still write). */
#define TAIL_DRAIN_MAX (256 * 1024)
#define WRITE_CHUNK (64 * 1024)

static const char *const base_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C" };

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * A close-on-exec pipe whose ends are both above 2: the child's dup2 onto
 * 0, 1 and 2 must neither be a no-op (which would keep close-on-exec) nor
 * overwrite the other end.
 */
static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int n;

		if (fds[i] > 2)
			continue;
		n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (n < 0) {
			close_fd(&fds[0]);
			close_fd(&fds[1]);
			return -1;
		}
		close(fds[i]);
		fds[i] = n;
	}
	return 0;
}

static bool same_key(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* The child's environment: the fixed entries (unless extra_env sets them) and extra_env. */
static int build_env(const char *const *extra, const char **env, struct hook_result *r)
{
	size_t n = 0, ne = 0;

	for (; extra && extra[ne]; ne++) {
		const char *eq = strchr(extra[ne], '=');

		if (ne == HOOK_ENV_MAX) {
			snprintf(r->error, sizeof(r->error), "more than %d environment entries",
				 HOOK_ENV_MAX);
			return -1;
		}
		if (!eq || eq == extra[ne]) {
			snprintf(r->error, sizeof(r->error),
				 "environment entry %zu is not of the form NAME=value", ne + 1);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(base_env) / sizeof(base_env[0]); i++) {
		bool overridden = false;

		for (size_t j = 0; j < ne; j++)
			overridden |= same_key(base_env[i], extra[j]);
		if (!overridden)
			env[n++] = base_env[i];
	}
	for (size_t j = 0; j < ne; j++)
		env[n++] = extra[j];
	env[n] = NULL;
	return 0;
}

static int spawn(pid_t *pid, char *const argv[], const char **env, int in_fd, int out_fd,
		 struct hook_result *r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		snprintf(r->error, sizeof(r->error), "posix_spawn: %s", strerror(rc));
		return -1;
	}
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		snprintf(r->error, sizeof(r->error), "posix_spawn: %s", strerror(rc));
		return -1;
	}
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	/*
	 * The calling thread may block or ignore signals (SIGPIPE, SIGTERM in a
	 * server): the hook starts with the defaults, so the timeout's SIGTERM
	 * reaches it and a closed pipe ends it.
	 */
	rc = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						   POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (rc) {
		snprintf(r->error, sizeof(r->error), "posix_spawn setup: %s", strerror(rc));
	} else {
		rc = posix_spawn(pid, argv[0], &fa, &at, argv, (char *const *)env);
		if (rc)
			snprintf(r->error, sizeof(r->error), "cannot run %.200s: %s", argv[0],
				 strerror(rc));
	}
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc ? -1 : 0;
}

static void keep_output(struct hook_result *r, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n && r->output_len < HOOK_OUTPUT_MAX - 1; i++)
		r->output[r->output_len++] = p[i] >= 0x20 && p[i] <= 0x7e ? (char)p[i] : '?';
	r->output[r->output_len] = '\0';
}

/* One read from the output pipe; closes it at end of file or on an error. */
static size_t read_output(int *fd, struct hook_result *r)
{
	unsigned char buf[4096];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0) {
		keep_output(r, buf, (size_t)n);
		return (size_t)n;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		close_fd(fd);
	return 0;
}

static void write_input(int *fd, const void *input, size_t len, size_t *off)
{
	size_t want = len - *off < WRITE_CHUNK ? len - *off : WRITE_CHUNK;
	ssize_t n = write(*fd, (const char *)input + *off, want);

	if (n > 0)
		*off += (size_t)n;
	/* EPIPE: the hook closed its stdin or exited; it does not want the rest */
	if (*off == len || (n < 0 && errno != EAGAIN && errno != EINTR))
		close_fd(fd);
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

struct run {
	pid_t pid;
	int in_fd, out_fd, pidfd;
	const void *input;
	size_t len, off;
	int64_t deadline, kill_at, give_up_at;
	bool exited, have_status, termed, killed;
	int status;
};

static void check_exit(struct run *s)
{
	pid_t w = waitpid(s->pid, &s->status, WNOHANG);

	/* ECHILD: someone else reaped it (SIGCHLD ignored); it is gone either way */
	if (w == s->pid || (w < 0 && errno == ECHILD)) {
		s->exited = true;
		s->have_status = w == s->pid;
	}
}

/* Sends the timeout's signals when due; false once waiting any longer is pointless. */
static bool enforce_deadline(struct run *s, int64_t now, struct hook_result *r)
{
	if (!s->termed && now >= s->deadline) {
		kill(-s->pid, SIGTERM);
		s->termed = true;
		r->timed_out = true;
		s->kill_at = now + HOOK_KILL_GRACE_MS;
		close_fd(&s->in_fd);
	} else if (s->termed && !s->killed && now >= s->kill_at) {
		kill(-s->pid, SIGKILL);
		s->killed = true;
		s->give_up_at = now + REAP_WAIT_MS;
	} else if (s->killed && now >= s->give_up_at) {
		snprintf(r->error, sizeof(r->error), "still running %d ms after SIGKILL",
			 REAP_WAIT_MS);
		return false;
	}
	return true;
}

static int poll_timeout(const struct run *s, int64_t now)
{
	int64_t next = s->killed ? s->give_up_at : s->termed ? s->kill_at : s->deadline;
	int64_t ms = next - now;

	if (ms < 0)
		ms = 0;
	if (s->pidfd < 0 && ms > EXIT_POLL_MS)
		ms = EXIT_POLL_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void supervise(struct run *s, struct hook_result *r)
{
	for (;;) {
		struct pollfd pf[3];
		int64_t now;
		nfds_t n = 0;
		int in_i = -1, out_i = -1;

		check_exit(s);
		if (s->exited)
			break;
		now = clock_mono_ms();
		if (!enforce_deadline(s, now, r))
			return;
		if (s->in_fd >= 0) {
			in_i = (int)n;
			pf[n++] = (struct pollfd){ .fd = s->in_fd, .events = POLLOUT };
		}
		if (s->out_fd >= 0) {
			out_i = (int)n;
			pf[n++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
		}
		if (s->pidfd >= 0)
			pf[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
		if (poll(pf, n, poll_timeout(s, now)) < 0) {
			if (errno == EINTR)
				continue;
			/* cannot wait on descriptors: fall back to sleeping between checks */
			usleep(EXIT_POLL_MS * 1000);
			continue;
		}
		if (in_i >= 0 && pf[in_i].revents)
			write_input(&s->in_fd, s->input, s->len, &s->off);
		if (out_i >= 0 && pf[out_i].revents)
			read_output(&s->out_fd, r);
	}
	/*
	 * What the hook wrote before exiting is in the pipe now. Background
	 * children may hold the pipe open and keep writing: read what is there,
	 * bounded, and do not wait for their end of file.
	 */
	for (size_t drained = 0; s->out_fd >= 0 && drained < TAIL_DRAIN_MAX;) {
		size_t got = read_output(&s->out_fd, r);

		if (got == 0)
			break;
		drained += got;
	}
}

int hook_run(char *const argv[], const char *const *extra_env, const void *input, size_t len,
	     long timeout_ms, struct hook_result *r)
{
	const char *env[sizeof(base_env) / sizeof(base_env[0]) + HOOK_ENV_MAX + 1];
	struct run s = { .in_fd = -1, .out_fd = -1, .pidfd = -1, .input = input, .len = len };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	sigset_t pipe_set, old_mask, pending;
	bool pipe_was_pending;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	if (!argv || !argv[0] || argv[0][0] != '/') {
		snprintf(r->error, sizeof(r->error), "the command must be an absolute path");
		return -1;
	}
	if (!input && len) {
		snprintf(r->error, sizeof(r->error), "no input");
		return -1;
	}
	if (timeout_ms <= 0) {
		snprintf(r->error, sizeof(r->error), "timeout must be positive");
		return -1;
	}
	if (build_env(extra_env, env, r) < 0)
		return -1;
	if (make_pipe(in) < 0 || make_pipe(out) < 0) {
		snprintf(r->error, sizeof(r->error), "pipe: %s", strerror(errno));
		goto fail;
	}
	if (spawn(&s.pid, argv, env, in[0], out[1], r) < 0)
		goto fail;
	close_fd(&in[0]);
	close_fd(&out[1]);
	s.in_fd = in[1];
	s.out_fd = out[0];
	fcntl(s.in_fd, F_SETFL, O_NONBLOCK);
	fcntl(s.out_fd, F_SETFL, O_NONBLOCK);
	s.pidfd = open_pidfd(s.pid);
	s.deadline = clock_mono_ms() + timeout_ms;
	if (len == 0)
		close_fd(&s.in_fd);

	/*
	 * A write to the stdin of a hook that exited raises SIGPIPE, which
	 * would end the whole process. Blocked in this thread for the run, the
	 * signal stays pending and is taken back below; EPIPE does the telling.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	pipe_was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);

	supervise(&s, r);

	if (!pipe_was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

	close_fd(&s.in_fd);
	close_fd(&s.out_fd);
	close_fd(&s.pidfd);
	if (s.have_status && WIFEXITED(s.status)) {
		r->exit_code = WEXITSTATUS(s.status);
	} else if (s.have_status && WIFSIGNALED(s.status)) {
		r->term_signal = WTERMSIG(s.status);
	}
	return 0;
fail:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	return -1;
}
