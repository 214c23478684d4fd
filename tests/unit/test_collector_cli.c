/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The query commands: JSON keys of `tokens --json` and `token FP --json`,
 * readable tables, `sensors`, `top --once`, the same JSON through --db and
 * --url (a collector started in-process), read tokens, usage errors.
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
#include <json-c/json.h>

#include "batch_fixture.h"
#include "cli.h"
#include "ingest.h"
#include "http_server.h"
#include "store.h"
#include "store_backends.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define FP_NONE "00000000000000000000000000000000"
#define SENSOR "7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d"
#define T0 1767225600000LL
#define READ_TOKEN "read-token-for-tests"

static char dir[64], db[512], tokfile[96], badtok[96], url[64];
/* The group's PostgreSQL database (conninfo), or "" for a SQLite file in dir. */
static char pg_url[512];
static struct store *st;
static struct server *srv;
static struct metrics metrics;
static struct auth read_auth;

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct server_config cfg = { 0 };
	Tokentap__V1__Batch *b;
	struct ingest_result r;
	char err[256];
	uint8_t *body;
	size_t len;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tokentap-cli-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (pg_url[0])
		snprintf(db, sizeof(db), "%s", pg_url);
	else
		snprintf(db, sizeof(db), "%s/c.db", dir);
	snprintf(tokfile, sizeof(tokfile), "%s/read-token", dir);
	snprintf(badtok, sizeof(badtok), "%s/bad-token", dir);
	write_text(tokfile, "# read token\n" READ_TOKEN "\n");
	write_text(badtok, "not-the-read-token\n");
	st = store_open(db, 0, err, sizeof(err));
	if (!st)
		return -1;

	b = fx_batch(SENSOR, "node-a", 1);
	fx_add_seen(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443",
		    "api.github.com", T0);
	fx_add_usage(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443",
		     "api.github.com", 3, T0 + 10);
	fx_add_usage(b, FP_A, "github_pat", 200, "/usr/bin/python3", "140.82.112.6:443",
		     "api.github.com", 4, T0 + 20);
	fx_add_status(b, T0, 10, 1);
	body = fx_pack(b, true, &len);
	ingest_limits_default(&cfg.limits);
	ingest_body(st, &cfg.limits, "gzip", body, len, T0 + 100, &r);
	free(body);
	fx_free(b);
	if (r.status != INGEST_STORED)
		return -1;

	if (auth_load(&read_auth, tokfile, err, sizeof(err)) < 0)
		return -1;
	metrics_init(&metrics);
	cfg.listen = "127.0.0.1:0";
	cfg.store = st;
	cfg.read_auth = &read_auth;
	cfg.metrics = &metrics;
	cfg.threads = 2;
	srv = server_start(&cfg, err, sizeof(err));
	if (!srv)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", server_port(srv));
	return 0;
}

static int teardown(void **state)
{
	char p[sizeof(db) + 8];

	(void)state;
	server_stop(srv, 1000);
	store_close(st);
	auth_free(&read_auth);
	unlink(tokfile);
	unlink(badtok);
	if (!pg_url[0]) {
		unlink(db);
		snprintf(p, sizeof(p), "%s-wal", db);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", db);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

struct run {
	int rc;
	char *out, *err;
	size_t outlen, errlen;
};

/* Runs a command line (NULL-terminated) with output captured. */
static void run_cli(struct run *r, const char *const *args)
{
	char *argv[16];
	int argc = 0;
	FILE *out = open_memstream(&r->out, &r->outlen);
	FILE *err = open_memstream(&r->err, &r->errlen);

	assert_non_null(out);
	assert_non_null(err);
	while (args[argc]) {
		assert_true(argc < 15);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	r->rc = cli_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static struct json_object *parse(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	assert_non_null(o);
	return o;
}

static void assert_keys(struct json_object *o, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++)
		if (!json_object_object_get_ex(o, keys[i], NULL))
			fail_msg("missing key \"%s\"", keys[i]);
}

static const char *const token_keys[] = { "fingerprint", "token_type", "first_seen", "last_seen",
					  "requests", "processes", "destinations", "nodes",
					  "metadata", NULL };
static const char *const process_keys[] = { "exe", "pid", "node", "requests", "first_seen",
					    "last_seen", NULL };
static const char *const dest_keys[] = { "dst", "host", "requests", "tls", NULL };

static void check_token_object(struct json_object *t)
{
	struct json_object *ps, *ds;

	assert_keys(t, token_keys);
	assert_string_equal(json_object_get_string(json_object_object_get(t, "fingerprint")), FP_A);
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "requests")), 7);
	ps = json_object_object_get(t, "processes");
	assert_int_equal(json_object_array_length(ps), 2);
	for (size_t i = 0; i < 2; i++)
		assert_keys(json_object_array_get_idx(ps, i), process_keys);
	ds = json_object_object_get(t, "destinations");
	assert_int_equal(json_object_array_length(ds), 1);
	assert_keys(json_object_array_get_idx(ds, 0), dest_keys);
	assert_int_equal(json_object_get_int64(json_object_object_get(json_object_array_get_idx(ds, 0),
								      "requests")), 7);
}

static void test_tokens_json_keys(void **state)
{
	struct run r;
	struct json_object *a;

	(void)state;
	run_cli(&r, (const char *[]){ "tokens", "--json", "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	a = parse(r.out);
	assert_true(json_object_is_type(a, json_type_array));
	assert_int_equal(json_object_array_length(a), 1);
	check_token_object(json_object_array_get_idx(a, 0));
	assert_false(json_object_object_get_ex(json_object_array_get_idx(a, 0), "usage", NULL));
	json_object_put(a);
	run_free(&r);
}

static void test_token_json_keys(void **state)
{
	struct run r;
	struct json_object *t, *u;

	(void)state;
	run_cli(&r, (const char *[]){ "token", FP_A, "--json", "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	t = parse(r.out);
	check_token_object(t);
	u = json_object_object_get(t, "usage");
	assert_non_null(u);
	assert_int_equal(json_object_array_length(u), 1);
	assert_keys(json_object_array_get_idx(u, 0), (const char *const[]){ "minute", "count", NULL });
	assert_int_equal(json_object_get_int64(json_object_object_get(json_object_array_get_idx(u, 0),
								      "count")), 7);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(t, "metadata"), "token_prefix")), "ghp_");
	json_object_put(t);
	run_free(&r);
}

static void test_tables(void **state)
{
	struct run r;

	(void)state;
	run_cli(&r, (const char *[]){ "tokens", "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "FINGERPRINT"));
	assert_non_null(strstr(r.out, FP_A));
	assert_non_null(strstr(r.out, "github_pat"));
	assert_non_null(strstr(r.out, "api.github.com"));
	run_free(&r);

	run_cli(&r, (const char *[]){ "token", FP_A, "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "PROCESSES (2)"));
	assert_non_null(strstr(r.out, "/usr/bin/python3"));
	assert_non_null(strstr(r.out, "DESTINATIONS (1)"));
	assert_non_null(strstr(r.out, "2026-01-01 00:00"));
	run_free(&r);

	run_cli(&r, (const char *[]){ "sensors", "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, SENSOR));
	assert_non_null(strstr(r.out, "node-a"));
	run_free(&r);

	run_cli(&r, (const char *[]){ "top", "--once", "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "1 tokens, 7 requests"));
	assert_non_null(strstr(r.out, "0123456789a"));
	assert_null(strstr(r.out, "\033[2J")); /* --once: no screen control */
	run_free(&r);
}

static void test_sensors_json(void **state)
{
	struct run r;
	struct json_object *a, *s;

	(void)state;
	run_cli(&r, (const char *[]){ "sensors", "--json", "--db", db, NULL });
	assert_int_equal(r.rc, 0);
	a = parse(r.out);
	assert_int_equal(json_object_array_length(a), 1);
	s = json_object_array_get_idx(a, 0);
	assert_keys(s, (const char *const[]){ "sensor_id", "node", "version", "first_seen",
					      "last_seen", "last_seq", "batches", "events",
					      "status", NULL });
	json_object_put(a);
	run_free(&r);
}

static void test_url_same_json_as_db(void **state)
{
	const char *const cmds[][8] = {
		{ "tokens", "--json", NULL },
		{ "tokens", "--json", "--sort", "requests", NULL },
		{ "tokens", "--json", "--sort", "risk", "--limit", "1", NULL },
		{ "tokens", "--sort", "first_seen", "--workload", "ns one/bin/x&y=z", NULL },
		{ "tokens", "--json", "--type", "github_pat", "--prefix", "01", NULL },
		{ "token", FP_A, "--json", NULL },
		{ "sensors", "--json", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *a[12], *b[12];
		size_t n = 0;
		struct run rd, ru;

		while (cmds[i][n]) {
			a[n] = b[n] = cmds[i][n];
			n++;
		}
		a[n] = "--db";
		a[n + 1] = db;
		a[n + 2] = NULL;
		b[n] = "--url";
		b[n + 1] = url;
		b[n + 2] = "--token-file";
		b[n + 3] = tokfile;
		b[n + 4] = NULL;
		run_cli(&rd, a);
		run_cli(&ru, b);
		assert_int_equal(rd.rc, 0);
		if (ru.rc != 0)
			fail_msg("%s --url: %s", cmds[i][0], ru.err);
		assert_string_equal(rd.out, ru.out);
		run_free(&rd);
		run_free(&ru);
	}
}

/* Pages: the table, then the cursor of the next page until the last. */
static void test_tokens_pages(void **state)
{
	struct run r;
	const char *more;
	char cursor[TOKEN_CURSOR_LEN];

	(void)state;
	run_cli(&r, (const char *[]){ "tokens", "--db", db, "--sort", "risk", "--limit", "1",
				      NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "FINGERPRINT"));
	more = strstr(r.out, "more: --cursor ");
	if (more) {
		assert_int_equal(sscanf(more, "more: --cursor %55s", cursor), 1);
		run_free(&r);
		run_cli(&r, (const char *[]){ "tokens", "--db", db, "--sort", "risk", "--limit",
					      "1", "--cursor", cursor, NULL });
		assert_int_equal(r.rc, 0);
		assert_non_null(strstr(r.out, "FINGERPRINT"));
	}
	run_free(&r);
	/* a filter nothing matches: an empty page, no cursor */
	run_cli(&r, (const char *[]){ "tokens", "--db", db, "--node", "no-such-node", NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "(no tokens seen yet)"));
	assert_null(strstr(r.out, "more:"));
	run_free(&r);
}

static void test_url_read_token(void **state)
{
	struct run r;

	(void)state;
	run_cli(&r, (const char *[]){ "tokens", "--url", url, NULL });
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "401"));
	run_free(&r);
	run_cli(&r, (const char *[]){ "tokens", "--url", url, "--token-file", badtok, NULL });
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "403"));
	assert_null(strstr(r.err, "not-the-read-token"));
	run_free(&r);
	run_cli(&r, (const char *[]){ "top", "--once", "--url", url, "--token-file", tokfile, NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "1 tokens"));
	run_free(&r);
}

static void test_unknown_and_bad_fingerprint(void **state)
{
	struct run r;

	(void)state;
	run_cli(&r, (const char *[]){ "token", FP_NONE, "--db", db, NULL });
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "unknown token"));
	run_free(&r);
	run_cli(&r, (const char *[]){ "token", FP_NONE, "--url", url, "--token-file", tokfile, NULL });
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "unknown token"));
	run_free(&r);
	run_cli(&r, (const char *[]){ "token", "XYZ", "--db", db, NULL });
	assert_int_equal(r.rc, 2);
	run_free(&r);
}

static void test_usage_errors(void **state)
{
	struct run r;

	(void)state;
	run_cli(&r, (const char *[]){ "tokens", NULL });
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "--db"));
	run_free(&r);
	run_cli(&r, (const char *[]){ "tokens", "--db", db, "--url", url, NULL });
	assert_int_equal(r.rc, 2);
	run_free(&r);
	run_cli(&r, (const char *[]){ "tokens", "--db", db, "--sort", "name", NULL });
	assert_int_equal(r.rc, 2);
	run_free(&r);
	/* the page's parameters are checked before the database is opened */
	{
		static const char *const bad[][3] = {
			{ "--limit", "0" }, { "--limit", "501" }, { "--cursor", "abc" },
			{ "--held", "maybe" }, { "--min-risk", "101" }, { "--prefix", "XY" },
			{ "--node", "" }, { "--sort", "name" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			run_cli(&r, (const char *[]){ "tokens", "--db", db, bad[i][0], bad[i][1],
						      NULL });
			assert_int_equal(r.rc, 2);
			assert_null(strstr(r.out, "FINGERPRINT"));
			run_free(&r);
		}
	}
	/* a page option on another command is an error, not ignored */
	run_cli(&r, (const char *[]){ "sensors", "--db", db, "--node", "a", NULL });
	assert_int_equal(r.rc, 2);
	run_free(&r);
	run_cli(&r, (const char *[]){ "tokens", "--bogus", NULL });
	assert_int_equal(r.rc, 2);
	run_free(&r);
	run_cli(&r, (const char *[]){ "token", "--db", db, NULL });
	assert_int_equal(r.rc, 2);
	run_free(&r);
	run_cli(&r, (const char *[]){ "tokens", "--db", "/nonexistent/x.db", NULL });
	assert_int_equal(r.rc, 1);
	run_free(&r);
	run_cli(&r, (const char *[]){ "tokens", "--help", NULL });
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "Usage: tokentap-collector tokens"));
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_json_keys),
		cmocka_unit_test(test_token_json_keys),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_sensors_json),
		cmocka_unit_test(test_url_same_json_as_db),
		cmocka_unit_test(test_tokens_pages),
		cmocka_unit_test(test_url_read_token),
		cmocka_unit_test(test_unknown_and_bad_fingerprint),
		cmocka_unit_test(test_usage_errors),
	};

	int rc, pg;

	rc = cmocka_run_group_tests_name("sqlite", tests, setup, teardown);
	/* the same commands and answers on a PostgreSQL database */
	pg = tb_pg_group(pg_url, sizeof(pg_url));
	if (pg < 0)
		return 1;
	if (pg > 0) {
		rc |= cmocka_run_group_tests_name("pg", tests, setup, teardown);
		tb_pg_group_drop();
	}
	return rc;
}
