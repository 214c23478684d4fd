/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inventory's pages: the keyset cursor's text (pure), and on both
 * backends a walk over every sort that yields each token exactly once in
 * the sort's order, and each filter against what the tokens' relations say.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <unistd.h>

#include "batch_fixture.h"
#include "risk.h"
#include "sqlite_schema.h"
#include "store.h"
#include "store_backends.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define NTOK 23

/* ---- the cursor's text -------------------------------------------------- */

static void test_cursor_round_trip(void **state)
{
	struct token_page_query q;
	char buf[TOKEN_CURSOR_LEN];

	(void)state;
	token_page_query_init(&q, TOKEN_SORT_RISK);
	assert_int_equal(q.limit, TOKEN_PAGE_DEFAULT);
	assert_int_equal(q.min_risk, -1);
	assert_false(q.has_cursor);
	token_cursor_format(1767225600000LL, "0123456789abcdef0123456789abcdef", buf);
	assert_string_equal(buf, "1767225600000.0123456789abcdef0123456789abcdef");
	assert_int_equal(token_cursor_parse(buf, &q), 0);
	assert_true(q.has_cursor);
	assert_int_equal(q.after_key, 1767225600000LL);
	assert_string_equal(q.after_fp, "0123456789abcdef0123456789abcdef");
	token_cursor_format(-1, "fedcba9876543210fedcba9876543210", buf);
	assert_int_equal(token_cursor_parse(buf, &q), 0);
	assert_int_equal(q.after_key, -1);
}

static void test_cursor_rejects(void **state)
{
	static const char *const bad[] = {
		"", ".", "5", "5.", ".0123456789abcdef0123456789abcdef",
		"5.0123456789abcdef0123456789abcde",       /* 31 hex */
		"5.0123456789abcdef0123456789abcdef0",     /* 33 hex */
		"5.0123456789ABCDEF0123456789abcdef",      /* upper case */
		"-2.0123456789abcdef0123456789abcdef",     /* only -1 is negative */
		"-0.0123456789abcdef0123456789abcdef", "+5.0123456789abcdef0123456789abcdef",
		" 5.0123456789abcdef0123456789abcdef", "5x.0123456789abcdef0123456789abcdef",
		"99999999999999999999.0123456789abcdef0123456789abcdef",
		"9223372036854775808.0123456789abcdef0123456789abcdef",
		"5.0123456789abcdef.123456789abcdef", NULL,
	};
	struct token_page_query q;
	enum token_held_filter h;

	(void)state;
	token_page_query_init(&q, TOKEN_SORT_LAST_SEEN);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(token_cursor_parse(bad[i], &q), -1);
		assert_false(q.has_cursor);
	}
	assert_int_equal(token_cursor_parse("9223372036854775807.0123456789abcdef0123456789abcdef",
					    &q), 0);
	assert_int_equal(token_held_parse("held_never_used", &h), 0);
	assert_int_equal(h, TOKEN_HELD_NEVER_USED);
	assert_int_equal(token_held_parse("", &h), 0);
	assert_int_equal(h, TOKEN_HELD_ANY);
	assert_int_equal(token_held_parse("held", &h), -1);
	assert_true(token_fp_prefix_valid(""));
	assert_true(token_fp_prefix_valid("0a"));
	assert_false(token_fp_prefix_valid("0A"));
	assert_false(token_fp_prefix_valid("0123456789abcdef0123456789abcdef0"));
}

/* ---- pages on both backends --------------------------------------------- */

static void fp_of(unsigned i, char fp[33])
{
	/* a few shared prefixes, so the prefix filter has work */
	snprintf(fp, 33, "%02x%030x", i % 5 * 17, i * 2654435761u);
}

/*
 * NTOK tokens on two nodes: requests and times vary (with ties), types and
 * namespaces alternate; token 0 is only held (never used), token 1 held
 * and used; a risk pass scores them.
 */
static struct store *inventory(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b[2] = { fx_batch("sensor-a", "node-a", 1),
				      fx_batch("sensor-b", "node-b", 1) };
	struct risk_config cfg;
	struct risk_pass_stats ps;
	char fp[33], err[256];

	for (int n = 0; n < 2; n++) {
		Tokentap__V1__ProcessInfo *p = fx_add_process(b[n], 100, T0 - 5000, "/bin/svc",
							      "svc", "");

		fx_set_str(&p->k8s_namespace, n ? "payments" : "");
		fx_add_process(b[n], 200, T0 - 5000, "/bin/job", "job", "");
	}
	for (unsigned i = 0; i < NTOK; i++) {
		Tokentap__V1__Batch *x = b[i % 2];
		const char *type = i % 3 ? "github_pat" : "opaque";

		fp_of(i, fp);
		if (i <= 1)
			fx_add_held(x, fp, type, 100, "/bin/svc",
				    TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON, "TOKEN", T0);
		if (i == 0)
			continue;
		fx_add_seen(x, fp, type, i % 4 ? 100 : 200, i % 4 ? "/bin/svc" : "/bin/job",
			    "1.1.1.1:443", "api", T0 + i % 7 * 1000);
		fx_add_usage(x, fp, type, i % 4 ? 100 : 200, i % 4 ? "/bin/svc" : "/bin/job",
			     "1.1.1.1:443", "api", 1 + i % 6, T0 + 60000 + i % 5 * 60000);
	}
	for (int n = 0; n < 2; n++) {
		if (store_apply_batch(st, b[n], T0 + 600000, err, sizeof(err)) != STORE_APPLIED)
			fail_msg("apply: %s", err);
		fx_free(b[n]);
	}
	risk_config_default(&cfg);
	do
		if (store_risk_pass(st, &cfg, T0 + 700000, &ps, err, sizeof(err)) < 0)
			fail_msg("risk pass: %s", err);
	while (ps.seen > 0);
	risk_config_free(&cfg);
	return st;
}

static const char *gets_(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int64_t score_of(struct json_object *t)
{
	struct json_object *r, *s;

	if (json_object_object_get_ex(t, "risk", &r) && json_object_object_get_ex(r, "score", &s) &&
	    !json_object_is_type(s, json_type_null))
		return json_object_get_int64(s);
	return -1;
}

/* Compares two tokens in the order of sort: the key descending, then the fingerprint. */
static int page_order(enum token_sort sort, struct json_object *a, struct json_object *b)
{
	int c = 0;

	switch (sort) {
	case TOKEN_SORT_RISK: {
		int64_t x = score_of(a), y = score_of(b);

		c = (y > x) - (y < x);
		break;
	}
	case TOKEN_SORT_REQUESTS: {
		int64_t x = json_object_get_int64(json_object_object_get(a, "requests"));
		int64_t y = json_object_get_int64(json_object_object_get(b, "requests"));

		c = (y > x) - (y < x);
		break;
	}
	case TOKEN_SORT_LAST_SEEN:
		c = strcmp(gets_(b, "last_seen"), gets_(a, "last_seen"));
		break;
	case TOKEN_SORT_FIRST_SEEN:
		c = strcmp(gets_(b, "first_seen"), gets_(a, "first_seen"));
		break;
	}
	return c ? c : strcmp(gets_(a, "fingerprint"), gets_(b, "fingerprint"));
}

/* Every page of q (limit per page), appended to all; returns the number of pages. */
static unsigned walk(struct store *st, struct token_page_query *q, struct json_object *all)
{
	unsigned pages = 0;
	char err[256];

	for (;;) {
		struct json_object *page = NULL, *toks, *next;

		if (store_query_token_page(st, q, &page, err, sizeof(err)) < 0)
			fail_msg("page: %s", err);
		pages++;
		toks = json_object_object_get(page, "tokens");
		assert_true(json_object_array_length(toks) <= q->limit);
		for (size_t i = 0; i < json_object_array_length(toks); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(toks, i)));
		if (!json_object_object_get_ex(page, "next_cursor", &next)) {
			json_object_put(page);
			return pages;
		}
		/* a page that says more follows is full */
		assert_int_equal(json_object_array_length(toks), q->limit);
		assert_int_equal(token_cursor_parse(json_object_get_string(next), q), 0);
		json_object_put(page);
		assert_true(pages <= NTOK + 1);
	}
}

static void test_pages_walk_every_sort(void **state)
{
	static const enum token_sort sorts[] = { TOKEN_SORT_LAST_SEEN, TOKEN_SORT_REQUESTS,
						 TOKEN_SORT_RISK, TOKEN_SORT_FIRST_SEEN };
	struct store *st = inventory(state);
	int scored = 0;

	for (size_t k = 0; k < sizeof(sorts) / sizeof(sorts[0]); k++) {
		struct token_page_query q;
		struct json_object *all = json_object_new_array();
		unsigned pages;

		token_page_query_init(&q, sorts[k]);
		q.limit = 4;
		pages = walk(st, &q, all);
		assert_int_equal(json_object_array_length(all), NTOK);
		assert_int_equal(pages, (NTOK + 3) / 4);
		for (size_t i = 1; i < NTOK; i++)
			assert_true(page_order(sorts[k], json_object_array_get_idx(all, i - 1),
					       json_object_array_get_idx(all, i)) < 0);
		for (size_t i = 0; i < NTOK; i++) {
			struct json_object *t = json_object_array_get_idx(all, i);

			/* the list's relations come with each row */
			assert_true(json_object_object_get_ex(t, "processes", NULL));
			assert_true(json_object_object_get_ex(t, "held_state", NULL));
			scored += score_of(t) >= 0;
		}
		json_object_put(all);
	}
	/* the risk sort had scores to order */
	assert_true(scored > 0);
	store_close(st);
}

/* Every token of the unfiltered list that pred accepts, in order, against one filtered walk. */
static void check_filter(struct store *st, struct token_page_query *q,
			 int (*pred)(struct json_object *t, const void *arg), const void *arg,
			 size_t at_least)
{
	struct token_page_query all_q;
	struct json_object *all = json_object_new_array(), *got = json_object_new_array();
	size_t n = 0;

	token_page_query_init(&all_q, q->sort);
	all_q.limit = TOKEN_PAGE_MAX;
	walk(st, &all_q, all);
	q->limit = 3;
	walk(st, q, got);
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *t = json_object_array_get_idx(all, i);

		if (!pred(t, arg))
			continue;
		assert_true(n < json_object_array_length(got));
		assert_string_equal(gets_(t, "fingerprint"),
				    gets_(json_object_array_get_idx(got, n), "fingerprint"));
		n++;
	}
	assert_int_equal(n, json_object_array_length(got));
	assert_true(n >= at_least);
	json_object_put(all);
	json_object_put(got);
}

static int has_type(struct json_object *t, const void *arg)
{
	return !strcmp(gets_(t, "token_type"), arg);
}

static int has_prefix(struct json_object *t, const void *arg)
{
	return !strncmp(gets_(t, "fingerprint"), arg, strlen(arg));
}

static int on_node(struct json_object *t, const void *arg)
{
	struct json_object *nodes = json_object_object_get(t, "nodes");

	for (size_t i = 0; i < json_object_array_length(nodes); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(nodes, i)), arg))
			return 1;
	return 0;
}

static int in_workload(struct json_object *t, const void *arg)
{
	struct json_object *procs = json_object_object_get(t, "processes");

	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		struct json_object *p = json_object_array_get_idx(procs, i);
		char w[300];
		const char *ns = gets_(p, "k8s_namespace");

		snprintf(w, sizeof(w), "%s%s%s", ns, ns[0] ? "/" : "", gets_(p, "exe"));
		if (!strcmp(w, arg))
			return 1;
	}
	return 0;
}

static int in_namespace(struct json_object *t, const void *arg)
{
	struct json_object *procs = json_object_object_get(t, "processes");

	for (size_t i = 0; i < json_object_array_length(procs); i++)
		if (!strcmp(gets_(json_object_array_get_idx(procs, i), "k8s_namespace"), arg))
			return 1;
	return 0;
}

static int held_state_is(struct json_object *t, const void *arg)
{
	return !strcmp(gets_(t, "held_state"), arg);
}

static int risk_at_least(struct json_object *t, const void *arg)
{
	return score_of(t) >= *(const int *)arg;
}

static void test_pages_filter(void **state)
{
	struct store *st = inventory(state);
	struct token_page_query q;
	int min = 1;

	token_page_query_init(&q, TOKEN_SORT_REQUESTS);
	q.token_type = "opaque";
	check_filter(st, &q, has_type, "opaque", 7);

	token_page_query_init(&q, TOKEN_SORT_LAST_SEEN);
	q.fp_prefix = "22";
	check_filter(st, &q, has_prefix, "22", 4);

	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.node = "node-b";
	check_filter(st, &q, on_node, "node-b", 10);

	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.k8s_namespace = "payments";
	check_filter(st, &q, in_namespace, "payments", 5);

	token_page_query_init(&q, TOKEN_SORT_FIRST_SEEN);
	q.workload = "payments//bin/svc";
	check_filter(st, &q, in_workload, "payments//bin/svc", 5);

	token_page_query_init(&q, TOKEN_SORT_FIRST_SEEN);
	q.workload = "/bin/job";
	check_filter(st, &q, in_workload, "/bin/job", 3);

	token_page_query_init(&q, TOKEN_SORT_LAST_SEEN);
	q.held = TOKEN_HELD_NEVER_USED;
	check_filter(st, &q, held_state_is, "held_never_used", 1);
	q.held = TOKEN_HELD_AND_USED;
	check_filter(st, &q, held_state_is, "held_and_used", 1);
	q.held = TOKEN_USED_NOT_HELD;
	check_filter(st, &q, held_state_is, "used_not_held", NTOK - 2);

	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.min_risk = min;
	check_filter(st, &q, risk_at_least, &min, 1);

	/* filters combine */
	token_page_query_init(&q, TOKEN_SORT_REQUESTS);
	q.token_type = "github_pat";
	q.node = "node-a";
	{
		struct json_object *page;
		char err[256];

		q.fp_prefix = "ff";
		assert_int_equal(store_query_token_page(st, &q, &page, err, sizeof(err)), 0);
		assert_int_equal(json_object_array_length(json_object_object_get(page, "tokens")), 0);
		assert_false(json_object_object_get_ex(page, "next_cursor", NULL));
		json_object_put(page);
	}
	store_close(st);
}

/* The score follows the risk table: a rescore moves the token in the risk pages. */
static void test_page_risk_key_follows_scores(void **state)
{
	struct store *st = inventory(state);
	struct token_page_query q;
	struct json_object *page;
	char err[256];

	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.limit = 1;
	assert_int_equal(store_query_token_page(st, &q, &page, err, sizeof(err)), 0);
	{
		struct json_object *t = json_object_array_get_idx(
			json_object_object_get(page, "tokens"), 0);
		char want[TOKEN_CURSOR_LEN];

		/* the cursor carries the row's score */
		token_cursor_format(score_of(t), gets_(t, "fingerprint"), want);
		assert_string_equal(gets_(page, "next_cursor"), want);
	}
	json_object_put(page);
	store_close(st);
}

/* A database scored before the pages (schema 5): the upgrade copies each score to its token. */
static void test_upgrade_copies_scores(void **state)
{
	char path[64] = "/tmp/tokentap-page-XXXXXX", err[256], side[96];
	struct token_page_query q;
	struct json_object *page, *toks;
	struct store *st;
	sqlite3 *db;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
					  " applied_at INTEGER NOT NULL)", NULL, NULL, NULL), SQLITE_OK);
	for (int v = 1; v <= 5; v++) {
		char sql[96];

		assert_int_equal(sqlite3_exec(db, sqlite_schema_migration(v), NULL, NULL, NULL),
				 SQLITE_OK);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, 0)", v);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	/* A scored 70, B not assessed, C scored 0: pages by score put C before B */
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO tokens VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'github_pat', 'Bearer',"
		" 'authorization', 'ghp_', 40, 1, 1, 100, '', '', '', '', '', '', '', '', 1, 2, 3);"
		"INSERT INTO tokens VALUES ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'opaque', 'Bearer',"
		" 'authorization', '', 40, 0, 0, 50, '', '', '', '', '', '', '', '', 1, 5, 9);"
		"INSERT INTO tokens VALUES ('cccccccccccccccccccccccccccccccc', 'opaque', 'Bearer',"
		" 'authorization', '', 40, 0, 0, 50, '', '', '', '', '', '', '', '', 1, 4, 1);"
		"INSERT INTO risk VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 70, 1, 1, '', '[]', 1, 0);"
		"INSERT INTO risk VALUES ('cccccccccccccccccccccccccccccccc', 0, 1, 1, '', '[]', 1, 0);",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = store_open(path, 0, err, sizeof(err));
	if (!st)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_schema_version(st), sqlite_schema_latest());
	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.limit = 2;
	assert_int_equal(store_query_token_page(st, &q, &page, err, sizeof(err)), 0);
	toks = json_object_object_get(page, "tokens");
	assert_int_equal(json_object_array_length(toks), 2);
	assert_string_equal(gets_(json_object_array_get_idx(toks, 0), "fingerprint"),
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(score_of(json_object_array_get_idx(toks, 0)), 70);
	assert_string_equal(gets_(json_object_array_get_idx(toks, 1), "fingerprint"),
			    "cccccccccccccccccccccccccccccccc");
	assert_string_equal(gets_(page, "next_cursor"), "0.cccccccccccccccccccccccccccccccc");
	json_object_put(page);
	/* only scored tokens from 1 up */
	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.min_risk = 1;
	assert_int_equal(store_query_token_page(st, &q, &page, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(json_object_object_get(page, "tokens")), 1);
	json_object_put(page);
	store_close(st);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_rejects),
		STORE_TEST(test_pages_walk_every_sort),
		STORE_TEST(test_pages_filter),
		STORE_TEST(test_page_risk_key_follows_scores),
		cmocka_unit_test(test_upgrade_copies_scores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
