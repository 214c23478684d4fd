/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The coverage report on both store backends: tls_uncovered rows per
 * (sensor, executable, destination) with the newest cause, covered
 * executables from the observations, one entry per node and executable,
 * uncovered first; a replayed older report changes no cause; retention
 * drops rows not reported for its age.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch_fixture.h"
#include "store_backends.h"
#include "store.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define DAY_MS 86400000LL

static void apply(struct store *st, Tokentap__V1__Batch *b)
{
	char err[256] = "";

	if (store_apply_batch(st, b, T0 + 5000, err, sizeof(err)) != STORE_APPLIED)
		fail_msg("apply: %s", err);
	fx_free(b);
}

static struct json_object *coverage(struct store *st)
{
	struct json_object *arr = NULL;
	char err[256] = "";

	if (store_query_coverage(st, &arr, err, sizeof(err)) != 0)
		fail_msg("coverage: %s", err);
	return arr;
}

static const char *s_(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "<absent>";
}

/* One entry as "node exe covered why last_seen dst,dst" for exact comparison. */
static void entry(struct json_object *arr, size_t i, char *out, size_t cap)
{
	struct json_object *e = json_object_array_get_idx(arr, i), *d;
	size_t n;

	assert_non_null(e);
	n = (size_t)snprintf(out, cap, "%s %s %s %s/%s %s ", s_(e, "node"), s_(e, "exe"),
			     s_(e, "covered"),
			     json_object_get_boolean(json_object_object_get(e, "covered")) ?
				     s_(e, "tls_library") : s_(e, "cause"),
			     s_(e, "detail"), s_(e, "last_seen"));
	assert_true(json_object_object_get_ex(e, "destinations", &d));
	for (size_t k = 0; k < json_object_array_length(d) && n < cap; k++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? "," : "",
				      json_object_get_string(json_object_array_get_idx(d, k)));
}

static void test_report(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch("s1", "node-a", 1);
	struct json_object *arr;
	char row[512];

	fx_add_uncovered(b, 10, "/opt/app/mbc", "10.0.0.5:443", "unsupported_tls_library",
			 "libmbedtls.so.14", T0);
	fx_add_uncovered(b, 10, "/opt/app/mbc", "10.0.0.6:443", "unsupported_tls_library",
			 "libmbedtls.so.14", T0 + 2000);
	fx_add_uncovered(b, 11, "/usr/bin/java", "10.0.0.7:8443", "jvm_without_java", "", T0 + 1000);
	/* curl sent a token over OpenSSL: seen into */
	fx_add_seen(b, FP_A, "github_pat", 12, "/usr/bin/curl", "10.0.0.5:443", "api", T0 + 500);
	apply(st, b);
	/* the same program on another node is another entry */
	b = fx_batch("s2", "node-b", 1);
	fx_add_uncovered(b, 20, "/opt/app/mbc", "10.0.0.5:443", "static_unknown_tls", "", T0 + 3000);
	apply(st, b);

	arr = coverage(st);
	assert_int_equal(json_object_array_length(arr), 4);
	entry(arr, 0, row, sizeof(row));
	assert_string_equal(row, "node-a /opt/app/mbc false unsupported_tls_library/libmbedtls.so.14"
				 " 2026-01-01T00:00:02.000Z 10.0.0.6:443,10.0.0.5:443");
	entry(arr, 1, row, sizeof(row));
	assert_string_equal(row, "node-a /usr/bin/java false jvm_without_java/<absent>"
				 " 2026-01-01T00:00:01.000Z 10.0.0.7:8443");
	entry(arr, 2, row, sizeof(row));
	assert_string_equal(row, "node-b /opt/app/mbc false static_unknown_tls/<absent>"
				 " 2026-01-01T00:00:03.000Z 10.0.0.5:443");
	entry(arr, 3, row, sizeof(row));
	assert_string_equal(row, "node-a /usr/bin/curl true openssl/<absent>"
				 " 2026-01-01T00:00:00.500Z 10.0.0.5:443");
	json_object_put(arr);
	store_close(st);
}

/* The newest report names the cause; a late older one only widens first_seen. */
static void test_newest_cause_wins(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch("s1", "node-a", 1);
	struct json_object *arr;
	char row[512];

	fx_add_uncovered(b, 10, "/opt/app/x", "10.0.0.5:443", "unknown", "", T0 + 5000);
	apply(st, b);
	b = fx_batch("s1", "node-a", 2);
	fx_add_uncovered(b, 10, "/opt/app/x", "10.0.0.5:443", "attach_failed", "", T0 + 9000);
	apply(st, b);
	b = fx_batch("s1", "node-a", 3);
	fx_add_uncovered(b, 10, "/opt/app/x", "10.0.0.5:443", "rust_stripped", "", T0 + 1000);
	apply(st, b);
	arr = coverage(st);
	assert_int_equal(json_object_array_length(arr), 1);
	entry(arr, 0, row, sizeof(row));
	assert_string_equal(row, "node-a /opt/app/x false attach_failed/<absent>"
				 " 2026-01-01T00:00:09.000Z 10.0.0.5:443");
	json_object_put(arr);
	store_close(st);
}

/* A program reported uncovered is not listed again as covered on that node. */
static void test_uncovered_hides_covered(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch("s1", "node-a", 1);
	struct json_object *arr;
	char row[512];

	fx_add_seen(b, FP_A, "github_pat", 12, "/usr/bin/py", "10.0.0.5:443", "api", T0);
	fx_add_uncovered(b, 12, "/usr/bin/py", "10.0.0.9:443", "unknown", "", T0 + 100);
	apply(st, b);
	arr = coverage(st);
	assert_int_equal(json_object_array_length(arr), 1);
	entry(arr, 0, row, sizeof(row));
	assert_string_equal(row, "node-a /usr/bin/py false unknown/<absent>"
				 " 2026-01-01T00:00:00.100Z 10.0.0.9:443");
	json_object_put(arr);
	store_close(st);
}

static void test_retention(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch("s1", "node-a", 1);
	struct retention_policy p;
	struct retention_stats rs = { 0 };
	struct json_object *arr;
	char err[256] = "";

	fx_add_uncovered(b, 10, "/old", "10.0.0.5:443", "unknown", "", T0);
	fx_add_uncovered(b, 11, "/new", "10.0.0.5:443", "unknown", "", T0 + 20 * DAY_MS);
	apply(st, b);
	retention_policy_default(&p);
	assert_int_equal(p.coverage_ms, 30 * DAY_MS);
	/* day 35: /old is 35 days old, /new 15 */
	if (store_retain(st, &p, T0 + 35 * DAY_MS, &rs, err, sizeof(err)) != 0)
		fail_msg("retain: %s", err);
	assert_int_equal(rs.coverage_pruned, 1);
	arr = coverage(st);
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(s_(json_object_array_get_idx(arr, 0), "exe"), "/new");
	json_object_put(arr);
	/* 0 keeps them for ever */
	p.coverage_ms = 0;
	rs.coverage_pruned = 0;
	assert_int_equal(store_retain(st, &p, T0 + 3650 * DAY_MS, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.coverage_pruned, 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_TEST(test_report),
		STORE_TEST(test_newest_cause_wins),
		STORE_TEST(test_uncovered_hides_covered),
		STORE_TEST(test_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
