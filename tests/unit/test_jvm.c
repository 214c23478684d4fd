/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JVM detection (maps lines naming libjvm.so / libjli.so), the NSpid
 * parser of /proc/PID/status, JVM detection over a fake /proc, and the
 * HotSpot attach protocol's load request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotspot_attach.h"
#include "jvm.h"

static void maps_lines(void **state)
{
	(void)state;
	assert_true(jvm_maps_line_maps("7f1c2a000000-7f1c2b000000 r-xp 00200000 08:01 1234 "
				       "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so\n", "libjvm.so"));
	/* not executable, another name, a name that only ends like it, no path */
	assert_false(jvm_maps_line_maps("7f1c2a000000-7f1c2b000000 r--p 00000000 08:01 1234 "
					"/usr/lib/jvm/lib/server/libjvm.so\n", "libjvm.so"));
	assert_false(jvm_maps_line_maps("7f1c2a000000-7f1c2b000000 r-xp 00000000 08:01 1234 "
					"/usr/lib/libjvm.so.1\n", "libjvm.so"));
	assert_false(jvm_maps_line_maps("7f1c2a000000-7f1c2b000000 r-xp 00000000 08:01 1234 "
					"/usr/lib/notlibjvm.so\n", "libjvm.so"));
	assert_false(jvm_maps_line_maps("7f1c2a000000-7f1c2b000000 r-xp 00000000 00:00 0 [vdso]\n",
					"libjvm.so"));
	assert_false(jvm_maps_line_maps("garbage", "libjvm.so"));
	assert_false(jvm_maps_line_maps("", "libjvm.so"));
	assert_true(jvm_maps_line_maps("55d0-55d1 r-xp 0 08:01 9 /usr/lib/jvm/lib/libjli.so", "libjli.so"));
}

static int nspid(const char *s, uint32_t *v)
{
	return jvm_nspid_parse(s, strlen(s), v);
}

static void nspid_lines(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(nspid("Name:\tjava\nPid:\t4242\nNSpid:\t4242\n", &v), 0);
	assert_int_equal(v, 4242);
	/* in a container: the innermost namespace's pid is the last */
	assert_int_equal(nspid("Name:\tjava\nNSpid:\t98765\t12\t1\nNSpgid:\t1\n", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(nspid("NSpid:\t7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(nspid("Name:\tjava\nPid:\t4242\n", &v), -1);
	assert_int_equal(nspid("NSpid:\t\n", &v), -1);
	assert_int_equal(nspid("NSpid:\t12x\n", &v), -1);
	assert_int_equal(nspid("NSpid:\t0\n", &v), -1);
	assert_int_equal(nspid("NSpid:\t99999999999999\n", &v), -1);
	assert_int_equal(nspid("", &v), -1);
}

/* A fake /proc: pid 10 maps libjvm.so and has its signal thread, 11 is a launcher, 12 neither. */
static void fake_proc(void **state)
{
	char dir[] = "/tmp/tokentap-test-jvm-XXXXXX", path[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/10", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/10/task", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/10/task/13", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/10/maps", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "5600-5601 r-xp 0 08:01 2 /usr/bin/java\n7f00-7f01 r-xp 0 08:01 3 /usr/lib/jvm/lib/libjli.so\n"
		   "7f02-7f03 r-xp 0 08:01 4 /usr/lib/jvm/lib/server/libjvm.so\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/10/status", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Name:\tjava\nNSpid:\t10\nSigCgt:\t0000000000000004\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/10/task/13/comm", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Signal Dispatch\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/11", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/11/maps", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "7f00-7f01 r-xp 0 08:01 3 /usr/lib/jvm/lib/libjli.so\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/12", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/12/maps", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "7f00-7f01 r-xp 0 08:01 3 /usr/lib/x86_64-linux-gnu/libssl.so.3\n");
	fclose(f);

	assert_int_equal(jvm_state_of(dir, 10), JVM_HOTSPOT);
	assert_true(jvm_is_hotspot(dir, 10));
	assert_true(jvm_signal_ready(dir, 10));
	assert_int_equal(jvm_state_of(dir, 11), JVM_LAUNCHER);
	assert_false(jvm_is_hotspot(dir, 11));
	assert_false(jvm_signal_ready(dir, 11));
	assert_int_equal(jvm_state_of(dir, 12), JVM_NONE);
	assert_int_equal(jvm_state_of(dir, 99), JVM_NONE);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void load_request(void **state)
{
	static const char want[] = "1\0load\0instrument\0false\0/tmp/t/a.jar=/tmp/t";
	char buf[128];
	size_t n;

	(void)state;
	n = hotspot_load_request(buf, sizeof(buf), "/tmp/t/a.jar", "/tmp/t");
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* exactly fits, one byte short */
	assert_int_equal(hotspot_load_request(buf, sizeof(want), "/tmp/t/a.jar", "/tmp/t"), sizeof(want));
	assert_int_equal(hotspot_load_request(buf, sizeof(want) - 1, "/tmp/t/a.jar", "/tmp/t"), 0);
	assert_int_equal(hotspot_load_request(buf, 4, "/tmp/t/a.jar", "/tmp/t"), 0);
	/* the jar path cannot hold the separator, nor be empty */
	assert_int_equal(hotspot_load_request(buf, sizeof(buf), "/tmp/a=b.jar", "x"), 0);
	assert_int_equal(hotspot_load_request(buf, sizeof(buf), "", "x"), 0);
}

static void sigcgt(void **state)
{
	static const char st[] = "Name:\tjava\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
				 "SigCgt:\t2000000181005ccf\nCapInh:\t0\n";
	static const char noquit[] = "SigCgt:\t0000000000000003\n";

	(void)state;
	/* 0x...ccf: signals 1, 2, 3, 4, 7, 8 ... caught; 5 and 6 not */
	assert_true(jvm_status_catches(st, strlen(st), 3));
	assert_true(jvm_status_catches(st, strlen(st), 1));
	assert_false(jvm_status_catches(st, strlen(st), 5));
	assert_true(jvm_status_catches(st, strlen(st), 62));
	assert_false(jvm_status_catches(st, strlen(st), 64));
	assert_false(jvm_status_catches(noquit, strlen(noquit), 3));
	assert_false(jvm_status_catches(st, strlen(st), 0));
	assert_false(jvm_status_catches(st, strlen(st), 65));
	assert_false(jvm_status_catches("SigCgt:\tzz\n", 10, 3));
	assert_false(jvm_status_catches("SigCgt:\t00000000000000004\n", 26, 3));
	assert_false(jvm_status_catches("Name:\tx\n", 8, 3));
}

static void cmdline_flags(void **state)
{
	static const char off[] = "java\0-XX:+DisableAttachMechanism\0-cp\0x\0Main";
	static const char on[] = "java\0-XX:-DisableAttachMechanism\0Main";
	static const char in_arg[] = "java\0Main\0--text=-XX:+DisableAttachMechanism";

	(void)state;
	assert_true(jvm_cmdline_no_attach(off, sizeof(off)));
	/* the last argument need not end with a NUL */
	assert_true(jvm_cmdline_no_attach(off + 5, 27));
	assert_false(jvm_cmdline_no_attach(on, sizeof(on)));
	assert_false(jvm_cmdline_no_attach(in_arg, sizeof(in_arg)));
	assert_false(jvm_cmdline_no_attach("", 0));
}

static void load_answer(void **state)
{
	(void)state;
	assert_true(hotspot_load_answer_ok("0\nreturn code: 0\n"));
	assert_true(hotspot_load_answer_ok("0\n0\n"));
	assert_true(hotspot_load_answer_ok("0\nreturn code: 0"));
	assert_false(hotspot_load_answer_ok("0\nreturn code: -1\n"));
	assert_false(hotspot_load_answer_ok("0\n-1\n"));
	assert_false(hotspot_load_answer_ok("101\n"));
	assert_false(hotspot_load_answer_ok("0\n"));
	assert_false(hotspot_load_answer_ok(""));
	assert_false(hotspot_load_answer_ok("0\nreturn code: 0x\n"));
	assert_false(hotspot_load_answer_ok("0\njava.lang.IllegalArgumentException\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_lines),
		cmocka_unit_test(nspid_lines),
		cmocka_unit_test(fake_proc),
		cmocka_unit_test(load_request),
		cmocka_unit_test(sigcgt),
		cmocka_unit_test(cmdline_flags),
		cmocka_unit_test(load_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
