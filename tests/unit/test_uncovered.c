/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blind-spot report's pure parts (user/pipeline/uncovered.c): which
 * socket writes open a TLS record worth reporting, the choice of cause,
 * the library names, and once per (executable, destination) per interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jsonout.h"
#include "tokentap.h"
#include "uncovered.h"

#define SEC 1000000000LL

static void test_record(void **state)
{
	uint8_t rec[8] = { 0x17, 0x03, 0x03, 0x00, 0x80, 0, 0, 0 };

	(void)state;
	assert_true(tls_record_uncovered(rec, sizeof(rec)));
	/* the bounds: TT_TLS_REC_MIN .. 2^14 + 256 */
	rec[3] = 0x00, rec[4] = TT_TLS_REC_MIN;
	assert_true(tls_record_uncovered(rec, 5));
	rec[4] = TT_TLS_REC_MIN - 1;
	assert_false(tls_record_uncovered(rec, 5));
	rec[3] = 0x41, rec[4] = 0x00; /* 16640 */
	assert_true(tls_record_uncovered(rec, 5));
	rec[4] = 0x01;
	assert_false(tls_record_uncovered(rec, 5));
	/* TLS 1.3's Finished (53 or 69 bytes) and an alert (19): sent outside the write call */
	rec[3] = 0, rec[4] = 69;
	assert_false(tls_record_uncovered(rec, 5));
	rec[4] = 19;
	assert_false(tls_record_uncovered(rec, 5));
	/* other content types and versions */
	rec[4] = 0x80;
	rec[0] = 0x16;
	assert_false(tls_record_uncovered(rec, 5));
	rec[0] = 0x17, rec[2] = 0x01;
	assert_false(tls_record_uncovered(rec, 5));
	rec[2] = 0x03;
	assert_false(tls_record_uncovered(rec, 4));
	assert_false(tls_record_uncovered((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
}

static void test_cause(void **state)
{
	struct uncov_facts f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(uncov_cause_choose(&f), UNCOV_UNKNOWN);
	f.is_static = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_STATIC_TLS);
	/* static with a function a probe knows (its attachment failed or is pending): not this */
	f.known_tls_syms = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_UNKNOWN);
	f.rust = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_RUST_STRIPPED);
	f.has_symtab = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_UNKNOWN);
	snprintf(f.unsupported_lib, sizeof(f.unsupported_lib), "libmbedtls.so.14");
	assert_int_equal(uncov_cause_choose(&f), UNCOV_UNSUPPORTED_LIB);
	f.probed_lib_unattached = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_ATTACH_FAILED);
	f.jvm = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_JVM);
	/* a JVM a Java agent covers is explained by what else it maps */
	f.java_agent = true;
	assert_int_equal(uncov_cause_choose(&f), UNCOV_ATTACH_FAILED);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(uncov_cause_name(UNCOV_JVM), "jvm_without_java");
	assert_string_equal(uncov_cause_name(UNCOV_ATTACH_FAILED), "attach_failed");
	assert_string_equal(uncov_cause_name(UNCOV_UNSUPPORTED_LIB), "unsupported_tls_library");
	assert_string_equal(uncov_cause_name(UNCOV_RUST_STRIPPED), "rust_stripped");
	assert_string_equal(uncov_cause_name(UNCOV_STATIC_TLS), "static_unknown_tls");
	assert_string_equal(uncov_cause_name(UNCOV_UNKNOWN), "unknown");
	assert_string_equal(uncov_cause_name((enum uncov_cause)99), "unknown");
	for (int i = 0; i < UNCOV_CAUSE_COUNT; i++)
		assert_int_equal(uncov_cause_find(uncov_cause_name((enum uncov_cause)i)), i);
	assert_int_equal(uncov_cause_find("nope"), -1);
	assert_int_equal(uncov_cause_find(NULL), -1);
}

static void test_libs(void **state)
{
	(void)state;
	assert_true(uncov_is_unsupported_lib("libmbedtls.so.14"));
	assert_true(uncov_is_unsupported_lib("libwolfssl.so.35"));
	assert_true(uncov_is_unsupported_lib("libbotan-2.so.19"));
	assert_false(uncov_is_unsupported_lib("libmbedcrypto.so.7"));
	assert_false(uncov_is_unsupported_lib("libtlsfoo.so"));
	assert_false(uncov_is_unsupported_lib("libssl.so.3"));
	assert_true(uncov_is_probed_lib("libssl.so.3"));
	assert_true(uncov_is_probed_lib("libgnutls.so.30"));
	assert_true(uncov_is_probed_lib("libnss3.so"));
	assert_false(uncov_is_probed_lib("libssl3x.so"));
	assert_false(uncov_is_probed_lib("libc.so.6"));
}

static void test_dedupe(void **state)
{
	struct uncov_dedupe *d = uncov_dedupe_new(64, 10 * SEC);

	(void)state;
	assert_non_null(d);
	assert_true(uncov_dedupe_first(d, "/usr/bin/java", "10.0.0.1:443", 100 * SEC));
	assert_false(uncov_dedupe_first(d, "/usr/bin/java", "10.0.0.1:443", 101 * SEC));
	assert_false(uncov_dedupe_first(d, "/usr/bin/java", "10.0.0.1:443", 109 * SEC));
	/* another destination, another program: reported */
	assert_true(uncov_dedupe_first(d, "/usr/bin/java", "10.0.0.2:443", 101 * SEC));
	assert_true(uncov_dedupe_first(d, "/usr/bin/mbc", "10.0.0.1:443", 101 * SEC));
	/* the pair's fields are kept apart: ("ab", "c") is not ("a", "bc") */
	assert_true(uncov_dedupe_first(d, "ab", "c", 101 * SEC));
	assert_true(uncov_dedupe_first(d, "a", "bc", 101 * SEC));
	/* the next interval: once more */
	assert_true(uncov_dedupe_first(d, "/usr/bin/java", "10.0.0.1:443", 110 * SEC));
	assert_false(uncov_dedupe_first(d, "/usr/bin/java", "10.0.0.1:443", 119 * SEC));
	assert_int_equal(uncov_dedupe_overflow(d), 0);
	uncov_dedupe_free(d);
}

static void test_dedupe_full(void **state)
{
	struct uncov_dedupe *d = uncov_dedupe_new(16, 10 * SEC);
	char dst[32];
	int reported = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(dst, sizeof(dst), "10.0.0.%d:443", i);
		reported += uncov_dedupe_first(d, "/x", dst, 5 * SEC);
	}
	/* three quarters of 16 slots, the rest counted */
	assert_int_equal(reported, 12);
	assert_int_equal(uncov_dedupe_overflow(d), 28);
	/* a new interval empties the table */
	assert_true(uncov_dedupe_first(d, "/x", "10.0.0.39:443", 15 * SEC));
	uncov_dedupe_free(d);
}

static void test_json(void **state)
{
	struct uncov_report r;
	struct json_object *o, *v;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.ts_ns = 1700000000LL * SEC;
	r.pid = 42;
	snprintf(r.comm, sizeof(r.comm), "mbc");
	snprintf(r.exe, sizeof(r.exe), "/opt/mbc");
	snprintf(r.dst, sizeof(r.dst), "10.1.2.3:443");
	r.cause = UNCOV_UNSUPPORTED_LIB;
	snprintf(r.detail, sizeof(r.detail), "libmbedtls.so.14");
	o = jsonout_uncovered_event(&r);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "event", &v));
	assert_string_equal(json_object_get_string(v), "tls_uncovered");
	assert_true(json_object_object_get_ex(o, "cause", &v));
	assert_string_equal(json_object_get_string(v), "unsupported_tls_library");
	assert_true(json_object_object_get_ex(o, "detail", &v));
	assert_string_equal(json_object_get_string(v), "libmbedtls.so.14");
	assert_true(json_object_object_get_ex(o, "dst", &v));
	assert_string_equal(json_object_get_string(v), "10.1.2.3:443");
	assert_true(json_object_object_get_ex(o, "pid", &v));
	assert_int_equal(json_object_get_int(v), 42);
	/* unknown fields are absent, not empty */
	assert_false(json_object_object_get_ex(o, "container_id", NULL));
	assert_false(json_object_object_get_ex(o, "pod_uid", NULL));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_cause),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_libs),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_dedupe_full),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
