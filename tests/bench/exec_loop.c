/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workloads of the gate benchmark (tests/bench/gate_bench.sh):
 *
 *   exec_loop exec PATH N         fork + exec PATH N times, one after the other
 *   exec_loop exec-new PATH DIR N the same, each time a new copy of PATH in DIR
 *                                 (the copy is made outside the timed part)
 *   exec_loop dlopen LIB DIR N    N times: a new copy of LIB in DIR
 *                                 (libssl-bench-I.so), dlopen'ed by a child
 *                                 that then keeps it mapped for 50 ms, as a
 *                                 client would while it connects
 *
 * Prints "runs=N total_ns=T per_run_us=U" (exec modes) or "runs=N" (dlopen).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "exec_loop: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC), out;

	unlink(dst);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		die(dst);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("write");
	close(in);
	close(out);
}

static long long run_once(const char *path)
{
	long long t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "exec_loop: %s failed\n", path);
		exit(1);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long long total = 0;
	char path[4096];
	long n;

	if (argc == 4 && strcmp(argv[1], "exec") == 0 && (n = atol(argv[3])) > 0) {
		for (long i = 0; i < n; i++)
			total += run_once(argv[2]);
	} else if (argc == 5 && strcmp(argv[1], "exec-new") == 0 && (n = atol(argv[4])) > 0) {
		for (long i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/new-%ld", argv[3], i);
			copy_file(argv[2], path);
			total += run_once(path);
			unlink(path);
		}
	} else if (argc == 5 && strcmp(argv[1], "dlopen") == 0 && (n = atol(argv[4])) > 0) {
		for (long i = 0; i < n; i++) {
			int status;
			pid_t pid;

			snprintf(path, sizeof(path), "%s/libssl-bench-%ld.so", argv[3], i);
			copy_file(argv[2], path);
			pid = fork();
			if (pid == 0) {
				void *h = dlopen(path, RTLD_NOW);

				/*
				 * Alive a while: probes on a library whose only user
				 * exited at once would serve nothing, and the file is
				 * unlinked once it exits.
				 */
				usleep(50000);
				_exit(h ? 0 : 1);
			}
			if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0) {
				fprintf(stderr, "exec_loop: dlopen %s failed\n", path);
				return 1;
			}
			unlink(path);
			/* one library at a time: the figure is the attach delay, not a queue */
			usleep(20000);
		}
		printf("runs=%ld\n", n);
		return 0;
	} else {
		fprintf(stderr, "usage: exec_loop exec PATH N | exec-new PATH DIR N | dlopen LIB DIR N\n");
		return 2;
	}
	printf("runs=%ld total_ns=%lld per_run_us=%.1f\n", n, total, (double)total / (double)n / 1000.0);
	return 0;
}
