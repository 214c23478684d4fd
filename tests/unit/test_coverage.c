/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's blind-spot report (user/sensor/coverage.c) on a fake /proc:
 * the cause read from a process's maps and executable, the event written,
 * once per (executable, destination) per interval, and the counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "attach.h"
#include "coverage.h"

/* pids no real process has (above the kernel's pid_max): exe_cache reads nothing for them */
#define PID_JVM 4194400
#define PID_MBED 4194401
#define PID_SSL 4194402
#define PID_PLAIN 4194403

static char root[64];

static void put_file(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_proc(uint32_t pid, const char *maps)
{
	char p[sizeof(root) + 64];

	snprintf(p, sizeof(p), "%s/%u", root, pid);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%u/maps", pid);
	put_file(p, maps);
	/* a dynamically linked program: not static, no TLS symbol */
	snprintf(p, sizeof(p), "%s/%u/exe", root, pid);
	assert_int_equal(symlink("/bin/true", p), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tokentap-cov-XXXXXX");
	assert_non_null(mkdtemp(root));
	make_proc(PID_JVM, "7f0000000000-7f0000100000 r-xp 00000000 08:01 1234 "
			   "/usr/lib/jvm/java-17/lib/server/libjvm.so\n");
	make_proc(PID_MBED, "00400000-00401000 r-xp 00000000 08:01 99 /opt/app/client\n"
			    "7f0000000000-7f0000100000 r-xp 00000000 08:01 1235 "
			    "/usr/lib/x86_64-linux-gnu/libmbedtls.so.14\n");
	make_proc(PID_SSL, "7f0000000000-7f0000100000 r-xp 00000000 08:01 1236 "
			   "/usr/lib/x86_64-linux-gnu/libssl.so.3\n");
	make_proc(PID_PLAIN, "00400000-00401000 r-xp 00000000 08:01 99 /opt/app/plain\n"
			     "7ffd0000-7ffd1000 r-xp 00000000 00:00 0 [vdso]\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void record(struct coverage *c, const struct attacher *att, uint32_t pid, const char *comm,
		   uint8_t last_octet)
{
	struct tt_event_hdr h;

	memset(&h, 0, sizeof(h));
	h.kind = TT_EV_UNCOVERED;
	h.pid = pid;
	h.fd = 5;
	snprintf(h.comm, sizeof(h.comm), "%s", comm);
	h.flags = TT_F_ADDR;
	h.dst.family = 2; /* AF_INET */
	h.dst.port = 443;
	h.dst.addr[0] = 10;
	h.dst.addr[3] = last_octet;
	coverage_record(c, att, &h);
}

/* The JSON lines written so far, as "comm cause detail dst" lines. */
static void lines(char *buf, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	char *save = NULL;

	out[0] = '\0';
	buf[len] = '\0';
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(l), *v;
		const char *f[4] = { "comm", "cause", "detail", "dst" };

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "event", &v));
		assert_string_equal(json_object_get_string(v), "tls_uncovered");
		for (int i = 0; i < 4; i++)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "",
					      json_object_object_get_ex(o, f[i], &v) ?
						      json_object_get_string(v) : "-");
		n += (size_t)snprintf(out + n, cap - n, "\n");
		json_object_put(o);
	}
}

static void test_causes_and_once_per_interval(void **state)
{
	struct attacher att;
	struct coverage *c;
	struct coverage_stats st;
	char *buf = NULL, out[1024];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	memset(&att, 0, sizeof(att));
	/* no tls_tgids map: reports go out at once */
	c = coverage_new(root, NULL, 3600, true, f, NULL, NULL);
	assert_non_null(c);
	record(c, &att, PID_JVM, "java", 1);
	record(c, &att, PID_MBED, "client", 2);
	record(c, &att, PID_SSL, "sslapp", 3);
	record(c, &att, PID_PLAIN, "plain", 4);
	/* the same program and destination again in the interval: counted, not reported */
	record(c, &att, PID_MBED, "client", 2);
	/* another destination: reported */
	record(c, &att, PID_MBED, "client", 9);
	fflush(f);
	lines(buf, len, out, sizeof(out));
	assert_string_equal(out, "java jvm_without_java - 10.0.0.1:443\n"
				 "client unsupported_tls_library libmbedtls.so.14 10.0.0.2:443\n"
				 "sslapp attach_failed - 10.0.0.3:443\n"
				 "plain unknown - 10.0.0.4:443\n"
				 "client unsupported_tls_library libmbedtls.so.14 10.0.0.9:443\n");
	st = coverage_stats(c);
	assert_int_equal(st.sockets, 6);
	assert_int_equal(st.reports, 5);
	coverage_free(c);
	fclose(f);
	free(buf);
}

/* An attached libssl is not a failure: the process is explained otherwise. */
static void test_attached_library(void **state)
{
	struct attach_file file;
	struct attacher att;
	struct coverage *c;
	char *buf = NULL, out[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	memset(&att, 0, sizeof(att));
	memset(&file, 0, sizeof(file));
	file.dev = makedev(8, 1);
	file.ino = 1236;
	file.tls = true;
	att.files = &file;
	att.n = 1;
	c = coverage_new(root, NULL, 3600, true, f, NULL, NULL);
	record(c, &att, PID_SSL, "sslapp", 3);
	fflush(f);
	lines(buf, len, out, sizeof(out));
	assert_string_equal(out, "sslapp unknown - 10.0.0.3:443\n");
	assert_int_equal(coverage_stats(NULL).reports, 0);
	coverage_free(c);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_causes_and_once_per_interval),
		cmocka_unit_test(test_attached_library),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
