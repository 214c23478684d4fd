/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Revocation hooks: input on stdin, output captured and bounded, exit
 * codes and signals, the timeout (SIGTERM, then SIGKILL for a hook that
 * ignores it), hooks that never read their input, a minimal environment
 * with nothing of the caller's, no inherited descriptors, refused commands.
 * Time limits asserted are loose: they tell a hang from a return.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hookexec.h"

#define SH "/bin/sh"
#define MIB (1024 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs sh -c script; asserts it started. */
static void run_sh(const char *script, const char *const *env, const void *in, size_t len,
		   long timeout_ms, struct hook_result *r)
{
	char *argv[] = { SH, "-c", (char *)script, NULL };

	if (hook_run(argv, env, in, len, timeout_ms, r) != 0)
		fail_msg("hook_run: %s", r->error);
}

static void test_stdin_comes_back(void **state)
{
	static const char in[] = "{\"alert\":\"x\"}";
	struct hook_result r;

	(void)state;
	run_sh("cat; echo done", NULL, in, strlen(in), 10000, &r);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.term_signal, 0);
	assert_false(r.timed_out);
	/* newlines are not printable: they come back as '?' */
	assert_string_equal(r.output, "{\"alert\":\"x\"}done?");
	assert_int_equal(r.output_len, strlen(r.output));

	/* no input: stdin is at end of file at once */
	run_sh("cat; echo end", NULL, NULL, 0, 10000, &r);
	assert_string_equal(r.output, "end?");
}

static void test_exit_code_and_stderr(void **state)
{
	struct hook_result r;

	(void)state;
	run_sh("echo out; echo err >&2; exit 3", NULL, NULL, 0, 10000, &r);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(r.term_signal, 0);
	assert_false(r.timed_out);
	assert_non_null(strstr(r.output, "out?"));
	assert_non_null(strstr(r.output, "err?"));

	run_sh("printf 'a\\001b\\377c\\tz'", NULL, NULL, 0, 10000, &r);
	assert_string_equal(r.output, "a?b?c?z");

	run_sh("kill -USR1 $$", NULL, NULL, 0, 10000, &r);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.term_signal, SIGUSR1);
	assert_false(r.timed_out);
}

static void test_timeout(void **state)
{
	struct hook_result r;
	sigset_t term, old;
	double t0 = now_s();

	(void)state;
	run_sh("echo started; sleep 60", NULL, NULL, 0, 300, &r);
	assert_true(now_s() - t0 < 10);
	assert_true(r.timed_out);
	assert_int_equal(r.term_signal, SIGTERM);
	assert_int_equal(r.exit_code, -1);
	assert_string_equal(r.output, "started?");

	/* a caller that blocks SIGTERM does not pass that on to the hook */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	t0 = now_s();
	run_sh("sleep 60", NULL, NULL, 0, 300, &r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	assert_true(now_s() - t0 < 10);
	assert_true(r.timed_out);
	assert_int_equal(r.term_signal, SIGTERM);
}

static void test_sigterm_ignored_then_killed(void **state)
{
	struct hook_result r;
	double t0 = now_s();

	(void)state;
	/* the ignored SIGTERM is inherited by sleep, the whole group gets SIGKILL */
	run_sh("trap '' TERM; sleep 60; echo survived", NULL, NULL, 0, 300, &r);
	assert_true(now_s() - t0 < 15);
	assert_true(r.timed_out);
	assert_int_equal(r.term_signal, SIGKILL);
	assert_null(strstr(r.output, "survived"));
}

static void test_large_output_bounded(void **state)
{
	struct hook_result r;
	double t0 = now_s();

	(void)state;
	run_sh("head -c 1048576 /dev/zero | tr '\\0' x; echo tail >&2", NULL, NULL, 0, 30000, &r);
	assert_true(now_s() - t0 < 20);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_int_equal(r.output_len, HOOK_OUTPUT_MAX - 1);
	assert_int_equal(strlen(r.output), r.output_len);
	for (size_t i = 0; i < r.output_len; i++)
		assert_int_equal(r.output[i], 'x');
}

static void test_unread_input_does_not_hang(void **state)
{
	struct hook_result r;
	char *big = malloc(MIB);
	double t0 = now_s();

	(void)state;
	assert_non_null(big);
	memset(big, 'i', MIB);
	/* exits without reading: the write ends in EPIPE, never in SIGPIPE */
	run_sh("echo quick", NULL, big, MIB, 30000, &r);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_string_equal(r.output, "quick?");

	/* closes stdin and keeps running */
	run_sh("exec 0<&-; sleep 0.2; echo later", NULL, big, MIB, 30000, &r);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.output, "later?");

	/* reads a little, then ignores the rest while it runs */
	run_sh("head -c 10; echo; sleep 0.2; echo fine", NULL, big, MIB, 30000, &r);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.output, "iiiiiiiiii?fine?");

	/* never reads and never ends: the timeout ends it */
	run_sh("sleep 60", NULL, big, MIB, 300, &r);
	assert_true(r.timed_out);

	/* reads it all */
	run_sh("wc -c", NULL, big, MIB, 30000, &r);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(atoi(r.output), MIB);
	assert_true(now_s() - t0 < 30);
	free(big);
}

static void test_background_child_not_waited_for(void **state)
{
	struct hook_result r;
	double t0 = now_s();

	(void)state;
	/* the background sleep keeps the output pipe open after sh exits */
	run_sh("sleep 8 & echo bye", NULL, NULL, 0, 30000, &r);
	assert_true(now_s() - t0 < 5);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_string_equal(r.output, "bye?");
}

static void test_environment(void **state)
{
	static const char *const env[] = { "TT_X=hello world", "TT_Y=2", NULL };
	static const char *const path_env[] = { "PATH=/bin", NULL };
	static const char *const bad_env[] = { "NOEQUALS", NULL };
	static const char *const empty_key[] = { "=v", NULL };
	char *argv[] = { SH, "-c", "true", NULL };
	struct hook_result r;

	(void)state;
	assert_int_equal(setenv("TT_PARENT_SECRET", "leaked", 1), 0);
	run_sh("echo \"$TT_X/$TT_Y/[$TT_PARENT_SECRET]/$PATH/$LANG\"", env, NULL, 0, 10000, &r);
	assert_string_equal(r.output, "hello world/2/[]//usr/sbin:/usr/bin:/sbin:/bin/C?");

	/* nothing but what was given */
	run_sh("env | grep -v '^PWD=' | sort | tr '\\n' ' '", NULL, NULL, 0, 10000, &r);
	assert_string_equal(r.output, "LANG=C PATH=/usr/sbin:/usr/bin:/sbin:/bin ");

	/* an entry for a fixed name replaces it */
	run_sh("echo $PATH", path_env, NULL, 0, 10000, &r);
	assert_string_equal(r.output, "/bin?");

	assert_int_equal(hook_run(argv, bad_env, NULL, 0, 1000, &r), -1);
	assert_true(strlen(r.error) > 0);
	assert_int_equal(hook_run(argv, empty_key, NULL, 0, 1000, &r), -1);
	unsetenv("TT_PARENT_SECRET");
}

static void test_descriptors_not_inherited(void **state)
{
	struct hook_result r;
	int fd = open("/dev/null", O_RDONLY);
	int high;

	(void)state;
	assert_true(fd >= 0);
	/* not close-on-exec: only hook_run's own closing keeps it from the child */
	high = fcntl(fd, F_DUPFD, 57);
	assert_true(high >= 57);
	/* stat, not a directory listing, which would itself open a descriptor */
	run_sh("n=0; while [ $n -lt 100 ]; do [ -e /proc/$$/fd/$n ] && echo -n \"$n \"; "
	       "n=$((n + 1)); done; echo -n end", NULL, NULL, 0, 10000, &r);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.output, "0 1 2 end");
	close(high);
	close(fd);
}

static void test_cannot_start(void **state)
{
	char tmp[] = "/tmp/tokentap-hook-XXXXXX";
	char *missing[] = { "/nonexistent/revoke-hook", NULL };
	char *script[] = { tmp, NULL };
	char *dir[] = { "/tmp", NULL };
	char *relative[] = { "sh", "-c", "true", NULL };
	char *none[] = { NULL };
	char *ok[] = { SH, "-c", "true", NULL };
	struct hook_result r;
	int fd;

	(void)state;
	assert_int_equal(hook_run(missing, NULL, "x", 1, 1000, &r), -1);
	assert_non_null(strstr(r.error, "No such file"));
	assert_int_equal(r.exit_code, -1);

	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	close(fd);
	assert_int_equal(hook_run(script, NULL, NULL, 0, 1000, &r), -1);
	assert_non_null(strstr(r.error, "Permission denied"));
	/* the same file made executable runs */
	assert_int_equal(chmod(tmp, 0700), 0);
	assert_int_equal(hook_run(script, NULL, NULL, 0, 10000, &r), 0);
	assert_string_equal(r.output, "hi?");
	unlink(tmp);

	assert_int_equal(hook_run(dir, NULL, NULL, 0, 1000, &r), -1);
	assert_true(strlen(r.error) > 0);
	assert_int_equal(hook_run(relative, NULL, NULL, 0, 1000, &r), -1);
	assert_non_null(strstr(r.error, "absolute"));
	assert_int_equal(hook_run(none, NULL, NULL, 0, 1000, &r), -1);
	assert_int_equal(hook_run(NULL, NULL, NULL, 0, 1000, &r), -1);
	/* input length without input, no timeout */
	assert_int_equal(hook_run(ok, NULL, NULL, 5, 1000, &r), -1);
	assert_int_equal(hook_run(ok, NULL, NULL, 0, 0, &r), -1);
}

struct par {
	int idx;
	struct hook_result r;
};

static void *par_run(void *arg)
{
	struct par *p = arg;
	char *argv[] = { SH, "-c", "cat; echo \" $TT_N\"", NULL };
	char in[32], env_n[32];
	const char *env[] = { env_n, NULL };

	snprintf(in, sizeof(in), "in%d", p->idx);
	snprintf(env_n, sizeof(env_n), "TT_N=%d", p->idx);
	if (hook_run(argv, env, in, strlen(in), 20000, &p->r) != 0)
		p->r.exit_code = -100;
	return NULL;
}

static void test_parallel_threads(void **state)
{
	pthread_t t[8];
	struct par p[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		p[i].idx = i;
		assert_int_equal(pthread_create(&t[i], NULL, par_run, &p[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		char want[32];

		pthread_join(t[i], NULL);
		snprintf(want, sizeof(want), "in%d %d?", i, i);
		assert_int_equal(p[i].r.exit_code, 0);
		assert_string_equal(p[i].r.output, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_comes_back),
		cmocka_unit_test(test_exit_code_and_stderr),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_sigterm_ignored_then_killed),
		cmocka_unit_test(test_large_output_bounded),
		cmocka_unit_test(test_unread_input_does_not_hang),
		cmocka_unit_test(test_background_child_not_waited_for),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_descriptors_not_inherited),
		cmocka_unit_test(test_cannot_start),
		cmocka_unit_test(test_parallel_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
