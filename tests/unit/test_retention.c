/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded history: the --retention option, and a store aged through 40
 * simulated days of hourly batches, whose detail tables stay bounded while
 * the inventory, first and last seen, and every request total stay exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "batch_fixture.h"
#include "store_backends.h"
#include "numarg.h"
#include "retention_opts.h"
#include "sqlite_store.h"
#include "store.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define FP_B "fedcba9876543210fedcba9876543210"
#define SENSOR "7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define DAYS 40

/* ---- the option ---------------------------------------------------------- */

static void test_duration_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(numarg_duration("90s", UINT64_MAX, &v), 0);
	assert_int_equal(v, 90000);
	assert_int_equal(numarg_duration("15m", UINT64_MAX, &v), 0);
	assert_int_equal(v, 900000);
	assert_int_equal(numarg_duration("12h", UINT64_MAX, &v), 0);
	assert_int_equal(v, 12 * 3600000ULL);
	assert_int_equal(numarg_duration("30d", UINT64_MAX, &v), 0);
	assert_int_equal(v, 30 * 86400000ULL);
	assert_int_equal(numarg_duration("0", UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	/* a unit is required; one unit; no signs, spaces or overflow */
	assert_int_equal(numarg_duration("30", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration("30dd", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration("-1d", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration(" 1d", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration("1y", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration("", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration(NULL, UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration("99999999999999999999d", UINT64_MAX, &v), -1);
	assert_int_equal(numarg_duration("11d", 10 * 86400000ULL, &v), -1);
	assert_int_equal(numarg_duration("10d", 10 * 86400000ULL, &v), 0);
}

static void test_spec(void **state)
{
	struct retention_policy p, d;
	int64_t every = RETENTION_EVERY_DEFAULT_MS;
	char err[256], longspec[RETENTION_SPEC_MAX + 8];

	(void)state;
	retention_policy_default(&d);
	p = d;
	assert_int_equal(retention_spec_parse("minutes=1d,sightings=0,every=30s", &p, &every, err,
					      sizeof(err)), 0);
	assert_int_equal(p.minutes_ms, DAY_MS);
	assert_int_equal(p.sightings_ms, 0);
	assert_int_equal(every, 30000);
	/* the keys not named keep their value */
	assert_int_equal(p.hours_ms, d.hours_ms);
	assert_int_equal(p.deliveries_ms, d.deliveries_ms);
	assert_int_equal(p.keep_unread, 1);

	assert_int_equal(retention_spec_parse("off", &p, &every, err, sizeof(err)), 0);
	assert_int_equal(every, 0);

	p = d;
	assert_int_equal(retention_spec_parse("hours=1d", &p, &every, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least minutes"));
	p = d;
	assert_int_equal(retention_spec_parse("days=1d", &p, &every, err, sizeof(err)), -1);
	assert_int_equal(retention_spec_parse("bogus=1d", &p, &every, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key"));
	assert_int_equal(retention_spec_parse("minutes", &p, &every, err, sizeof(err)), -1);
	assert_int_equal(retention_spec_parse("minutes=", &p, &every, err, sizeof(err)), -1);
	assert_int_equal(retention_spec_parse("minutes=3651d", &p, &every, err, sizeof(err)), -1);
	assert_int_equal(retention_spec_parse("", &p, &every, err, sizeof(err)), -1);
	memset(longspec, 'a', sizeof(longspec) - 1);
	longspec[sizeof(longspec) - 1] = '\0';
	assert_int_equal(retention_spec_parse(longspec, &p, &every, err, sizeof(err)), -1);
	/* "hours=0" (kept for ever) is never shorter than minutes */
	p = d;
	assert_int_equal(retention_spec_parse("hours=0,days=0", &p, &every, err, sizeof(err)), 0);
}

/* ---- a store through time ------------------------------------------------- */

/* The test's backend, for count_rows: SQLite's connection or a PostgreSQL session. */
static void **cur_state;

/* Column 0 of the first row of sql on the store's database (SQL both backends take). */
static int64_t count_rows(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (tb_is_pg(cur_state)) {
		PGconn *c = tb_pg_conn();
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQresultErrorMessage(r));
		if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return v;
	}
	assert_int_equal(sqlite3_prepare_v2(sqlite_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Requests of every usage series (minutes, hours, days) of the store. */
static int64_t series_total(struct store *st)
{
	return count_rows(st, "SELECT (SELECT COALESCE(SUM(count), 0) FROM usage)"
			      " + (SELECT COALESCE(SUM(count), 0) FROM usage_hour)"
			      " + (SELECT COALESCE(SUM(count), 0) FROM usage_day)");
}

/* The hour h (since T0) of the simulation: token A every hour, B every third. */
static Tokentap__V1__Batch *hour_batch(uint64_t seq, int h, int64_t *req_a, int64_t *req_b)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-1", seq);
	int64_t t = T0 + h * HOUR_MS + 17 * MIN_MS;

	b->sent_at_ms = t;
	/* a new process each day: a sighting a day, for the sightings log */
	if (h % 24 == 0)
		fx_add_seen(b, FP_A, "github_pat", 1000 + (uint32_t)(h / 24), "/usr/bin/curl",
			    "140.82.112.3:443", "api.github.com", t);
	fx_add_usage(b, FP_A, "github_pat", 1000 + (uint32_t)(h / 24), "/usr/bin/curl",
		     "140.82.112.3:443", "api.github.com", (uint64_t)(1 + h % 5), t);
	*req_a += 1 + h % 5;
	if (h % 3 == 0) {
		fx_add_usage(b, FP_B, "opaque", 77, "/usr/bin/python3", "10.0.0.9:8443",
			     "internal.example", 2, t);
		*req_b += 2;
	}
	return b;
}

static struct json_object *view(struct store *st, const char *fp)
{
	struct json_object *t = NULL;
	char err[256];

	assert_int_equal(store_query_token(st, fp, &t, err, sizeof(err)), 1);
	return t;
}

static int64_t geti(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_int64(v);
}

static const char *gets_(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

/* The sum of "count" over a usage series of the token view. */
static int64_t view_series(struct json_object *t, const char *key)
{
	struct json_object *arr;
	int64_t sum = 0;

	assert_true(json_object_object_get_ex(t, key, &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		sum += geti(json_object_array_get_idx(arr, i), "count");
	return sum;
}

static void test_aging_bounded_and_exact(void **state)
{
	char err[256];
	struct store *st = tb_open(state);
	struct retention_policy p = {
		.minutes_ms = 2 * DAY_MS,
		.hours_ms = 10 * DAY_MS,
		.days_ms = 0, /* for ever: every request stays in some series */
		.dedupe_ms = 3 * DAY_MS,
		.sightings_ms = 5 * DAY_MS,
		.deliveries_ms = 5 * DAY_MS,
		.keep_unread = 0,
	};
	int64_t req_a = 0, req_b = 0, minutes_mid = 0, hours_mid = 0, batches_mid = 0;
	struct retention_stats s = { 0 };
	Tokentap__V1__Batch *b;
	struct json_object *t;
	uint64_t seq = 0;

	cur_state = state;
	assert_non_null(st);
	for (int h = 0; h < DAYS * 24; h++) {
		int64_t now = T0 + h * HOUR_MS + 20 * MIN_MS;

		b = hour_batch(++seq, h, &req_a, &req_b);
		assert_int_equal(store_apply_batch(st, b, now, err, sizeof(err)), STORE_APPLIED);
		fx_free(b);
		if (h % 24 != 23)
			continue;
		/* a pass a day, as serve's thread does every few minutes */
		assert_int_equal(store_retain(st, &p, now, &s, err, sizeof(err)), 0);
		/* no request is lost or counted twice by a roll-up */
		assert_int_equal(series_total(st), req_a + req_b);
		if (h / 24 == DAYS / 2) {
			minutes_mid = count_rows(st, "SELECT COUNT(*) FROM usage");
			hours_mid = count_rows(st, "SELECT COUNT(*) FROM usage_hour");
			batches_mid = count_rows(st, "SELECT COUNT(*) FROM batches");
		}
	}
	/* bounded: the fine tables hold a window, the same size at day 20 and day 40 */
	assert_true(s.minutes_rolled > 0 && s.hours_rolled > 0 && s.batches_pruned > 0 &&
		    s.sightings_pruned > 0);
	assert_int_equal(count_rows(st, "SELECT COUNT(*) FROM usage"), minutes_mid);
	assert_int_equal(count_rows(st, "SELECT COUNT(*) FROM usage_hour"), hours_mid);
	assert_int_equal(count_rows(st, "SELECT COUNT(*) FROM batches"), batches_mid);
	/* 2 days of hourly batches, A every hour and B every third: 48 + 16 minute rows */
	assert_true(count_rows(st, "SELECT COUNT(*) FROM usage") <= 48 + 16);
	assert_true(count_rows(st, "SELECT COUNT(*) FROM usage_hour") <= (10 - 2) * (24 + 8) + 2);
	assert_true(count_rows(st, "SELECT COUNT(*) FROM batches") <= 3 * 24 + 1);
	/* sightings: the last 5 days' and the token's first */
	assert_true(count_rows(st, "SELECT COUNT(*) FROM seen_log") <= 5 + 1 + 1);
	assert_int_equal(count_rows(st, "SELECT MIN(ts) FROM seen_log WHERE fingerprint = '" FP_A
					"'"),
			 T0 + 17 * MIN_MS);

	/* the inventory is exact: totals, first and last seen, the series in the view */
	t = view(st, FP_A);
	assert_int_equal(geti(t, "requests"), req_a);
	assert_string_equal(gets_(t, "first_seen"), "2026-01-01T00:17:00.000Z");
	assert_string_equal(gets_(t, "last_seen"), "2026-02-09T23:17:00.000Z");
	assert_int_equal(view_series(t, "usage") + view_series(t, "usage_hourly") +
				 view_series(t, "usage_daily"),
			 req_a);
	assert_true(json_object_array_length(json_object_object_get(t, "usage_daily")) > 0);
	json_object_put(t);
	t = view(st, FP_B);
	assert_int_equal(geti(t, "requests"), req_b);
	json_object_put(t);

	/* a replay of a batch whose key was pruned is still a duplicate: nothing changes */
	b = hour_batch(1, 0, &(int64_t){ 0 }, &(int64_t){ 0 });
	assert_int_equal(store_apply_batch(st, b, T0 + DAYS * DAY_MS, err, sizeof(err)),
			 STORE_DUPLICATE);
	fx_free(b);
	/* and one still in the table too; a new seq applies */
	b = hour_batch(seq, DAYS * 24 - 1, &(int64_t){ 0 }, &(int64_t){ 0 });
	assert_int_equal(store_apply_batch(st, b, T0 + DAYS * DAY_MS, err, sizeof(err)),
			 STORE_DUPLICATE);
	fx_free(b);
	assert_int_equal(series_total(st), req_a + req_b);
	b = hour_batch(++seq, DAYS * 24, &req_a, &req_b);
	assert_int_equal(store_apply_batch(st, b, T0 + DAYS * DAY_MS, err, sizeof(err)),
			 STORE_APPLIED);
	fx_free(b);
	assert_int_equal(series_total(st), req_a + req_b);
	store_close(st);
}

/* Daily rows past their age go; what is younger, and the totals, stay. */
static void test_days_dropped(void **state)
{
	char err[256];
	struct store *st = tb_open(state);
	struct retention_policy p = {
		.minutes_ms = DAY_MS, .hours_ms = 2 * DAY_MS, .days_ms = 5 * DAY_MS,
	};
	struct retention_stats s = { 0 };
	int64_t req_a = 0, req_b = 0;
	struct json_object *t;

	cur_state = state;
	assert_non_null(st);
	for (int d = 0; d < 12; d++) {
		Tokentap__V1__Batch *b = hour_batch((uint64_t)d + 1, d * 24, &req_a, &req_b);

		assert_int_equal(store_apply_batch(st, b, T0 + d * DAY_MS, err, sizeof(err)),
				 STORE_APPLIED);
		fx_free(b);
	}
	assert_int_equal(store_retain(st, &p, T0 + 12 * DAY_MS, &s, err, sizeof(err)), 0);
	/* days 0..6 are older than 5 days at day 12 */
	assert_int_equal(count_rows(st, "SELECT MIN(day) FROM usage_day"), T0 + 7 * DAY_MS);
	assert_int_equal(s.days_dropped, 7 + 7); /* days 0..6 of A and of B (h % 3 == 0) */
	t = view(st, FP_A);
	assert_int_equal(geti(t, "requests"), req_a);
	json_object_put(t);
	/* a second pass finds nothing more to do */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_retain(st, &p, T0 + 12 * DAY_MS, &s, err, sizeof(err)), 0);
	assert_int_equal(s.minutes_rolled + s.hours_rolled + s.days_dropped, 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_spec),
		STORE_TEST(test_aging_bounded_and_exact),
		STORE_TEST(test_days_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
