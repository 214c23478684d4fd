/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pid -> executable cache: the program given at exec is remembered for a
 * process already gone, a process that exited is forgotten, and a pid
 * reused by another process in the same slot takes the slot over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exe_cache.h"

/* The pid of a child that has exited and been reaped: /proc knows nothing of it. */
static uint32_t gone_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	assert_true(p > 0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return (uint32_t)p;
}

static void test_exec_then_forget(void **state)
{
	struct exe_cache *c = exe_cache_new();
	struct exe_info info;
	uint32_t pid = gone_pid();

	(void)state;
	assert_non_null(c);
	exe_cache_exec(c, pid, "/usr/bin/short-lived");
	exe_cache_get(c, pid, &info);
	assert_string_equal(info.exe, "/usr/bin/short-lived");
	exe_cache_forget(c, pid);
	exe_cache_get(c, pid, &info);
	assert_string_equal(info.exe, "");
	/* forgetting twice, or a pid never seen, is harmless */
	exe_cache_forget(c, pid);
	exe_cache_forget(c, pid + 1);
	exe_cache_forget(NULL, pid);
	exe_cache_free(c);
}

static void test_live_process(void **state)
{
	struct exe_cache *c = exe_cache_new();
	struct exe_info info;
	char self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)state;
	assert_non_null(c);
	assert_true(n > 0);
	self[n] = '\0';
	exe_cache_get(c, (uint32_t)getpid(), &info);
	assert_string_equal(info.exe, self);
	/* forgotten while alive: read again from /proc */
	exe_cache_forget(c, (uint32_t)getpid());
	exe_cache_get(c, (uint32_t)getpid(), &info);
	assert_string_equal(info.exe, self);
	exe_cache_free(c);
}

static void test_slot_reused(void **state)
{
	struct exe_cache *c = exe_cache_new();
	struct exe_info info;
	uint32_t pid = gone_pid();

	(void)state;
	assert_non_null(c);
	exe_cache_exec(c, pid, "/bin/first");
	/* another pid of the same slot (the table has 16384) */
	exe_cache_exec(c, pid + 16384, "/bin/second");
	exe_cache_get(c, pid + 16384, &info);
	assert_string_equal(info.exe, "/bin/second");
	exe_cache_forget(c, pid);  /* not the slot's pid any more: nothing happens */
	exe_cache_get(c, pid + 16384, &info);
	assert_string_equal(info.exe, "/bin/second");
	exe_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_then_forget),
		cmocka_unit_test(test_live_process),
		cmocka_unit_test(test_slot_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
