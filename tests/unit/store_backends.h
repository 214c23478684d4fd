/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a store test once per backend: SQLite (":memory:") and PostgreSQL
 * (a fresh database per test, dropped after it). PostgreSQL needs
 * TOKENTAP_TEST_PG, the conninfo URL of a role that may create databases
 * (scripts/pg-test.sh prints one). Without it the PostgreSQL runs skip,
 * saying so; with TOKENTAP_REQUIRE_PG=1 a missing or unreachable server
 * fails them instead.
 *
 *   STORE_TEST(test_x)           both runs, named test_x/sqlite, test_x/pg
 *   struct store *st = tb_open(state);
 */
#ifndef TOKENTAP_TEST_STORE_BACKENDS_H
#define TOKENTAP_TEST_STORE_BACKENDS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

enum tb_backend { TB_SQLITE, TB_PG };
static const enum tb_backend tb_sqlite = TB_SQLITE, tb_pg = TB_PG;

/* The database the running test made, dropped by its teardown. */
static char tb_dbname[64];

static inline int tb_is_pg(void **state)
{
	return *state && *(const enum tb_backend *)*state == TB_PG;
}

/* Fails or skips (TOKENTAP_REQUIRE_PG decides) with why. */
static inline void tb_unavailable(const char *why)
{
	const char *req = getenv("TOKENTAP_REQUIRE_PG");

	if (req && req[0] && strcmp(req, "0") != 0)
		fail_msg("PostgreSQL required (TOKENTAP_REQUIRE_PG) but %s", why);
	print_message("skipped: %s\n", why);
	skip();
}

static inline void tb_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* An admin session on TOKENTAP_TEST_PG; never returns NULL (skips or fails instead). */
static inline PGconn *tb_admin(void)
{
	const char *url = getenv("TOKENTAP_TEST_PG");
	PGconn *c;

	if (!url || !url[0])
		tb_unavailable("TOKENTAP_TEST_PG is not set (scripts/pg-test.sh prints it)");
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		char why[300];

		snprintf(why, sizeof(why), "cannot connect to TOKENTAP_TEST_PG: %.200s",
			 PQerrorMessage(c));
		PQfinish(c);
		tb_unavailable(why);
	}
	PQsetNoticeProcessor(c, tb_quiet, NULL);
	return c;
}

static inline void tb_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/*
 * A fresh PostgreSQL database for this test; its conninfo (key=value, the
 * admin session's server and role) in url.
 */
static inline void tb_pg_create(char *url, size_t len)
{
	static unsigned n;
	PGconn *c = tb_admin();
	PQconninfoOption *opts = PQconninfo(c);
	char sql[128];
	size_t o = 0;

	snprintf(tb_dbname, sizeof(tb_dbname), "tokentap_t%ld_%u", (long)getpid(), ++n);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", tb_dbname);
	tb_sql(c, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", tb_dbname);
	tb_sql(c, sql);
	url[0] = '\0';
	for (PQconninfoOption *p = opts; p && p->keyword; p++) {
		static const char *const keep[] = { "host", "port", "user", "password" };

		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			if (!strcmp(p->keyword, keep[k]) && p->val && p->val[0])
				o += (size_t)snprintf(url + o, o < len ? len - o : 0, "%s='%s' ",
						      p->keyword, p->val);
	}
	snprintf(url + o, o < len ? len - o : 0, "dbname=%s", tb_dbname);
	PQconninfoFree(opts);
	PQfinish(c);
}

/* The database of this run: ":memory:" or a fresh PostgreSQL one. */
static inline const char *tb_path(void **state, char *buf, size_t len)
{
	if (!tb_is_pg(state))
		return ":memory:";
	tb_pg_create(buf, len);
	return buf;
}

static inline struct store *tb_open(void **state)
{
	char err[512], url[512];
	const char *path = tb_path(state, url, sizeof(url));
	struct store *st = store_open(path, 0, err, sizeof(err));

	if (!st)
		fail_msg("store_open: %s", err);
	return st;
}

/* A session on the running test's PostgreSQL database, to look at rows. */
static inline PGconn *tb_pg_conn(void)
{
	PGconn *a = tb_admin(), *c;
	PQconninfoOption *opts = PQconninfo(a);
	const char *kw[8], *val[8];
	int n = 0;

	for (PQconninfoOption *p = opts; p && p->keyword && n < 6; p++)
		if (p->val && p->val[0] && (!strcmp(p->keyword, "host") || !strcmp(p->keyword, "port") ||
					    !strcmp(p->keyword, "user") ||
					    !strcmp(p->keyword, "password"))) {
			kw[n] = p->keyword;
			val[n++] = p->val;
		}
	kw[n] = "dbname";
	val[n++] = tb_dbname;
	kw[n] = NULL;
	val[n] = NULL;
	c = PQconnectdbParams(kw, val, 0);
	PQconninfoFree(opts);
	PQfinish(a);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect to %s: %s", tb_dbname, PQerrorMessage(c));
	return c;
}

/* Teardown: drops the database the test made, if any. */
static inline int tb_drop(void **state)
{
	char sql[128];
	PGconn *c;
	const char *url = getenv("TOKENTAP_TEST_PG");

	if (!tb_is_pg(state) || !tb_dbname[0] || !url)
		return 0;
	c = PQconnectdb(url);
	if (PQstatus(c) == CONNECTION_OK) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", tb_dbname);
		PQclear(PQexec(c, sql));
	}
	PQfinish(c);
	tb_dbname[0] = '\0';
	return 0;
}

/*
 * For a whole group on PostgreSQL (a group setup cannot skip): a fresh
 * database's conninfo in url and 1; 0 after saying why when the server
 * is not there; -1 when it is required (TOKENTAP_REQUIRE_PG) but not there.
 */
static inline int tb_pg_group(char *url, size_t len)
{
	const char *env = getenv("TOKENTAP_TEST_PG"), *req = getenv("TOKENTAP_REQUIRE_PG");
	int required = req && req[0] && strcmp(req, "0") != 0;
	PGconn *c;

	if (!env || !env[0]) {
		printf("skipped: the PostgreSQL run (TOKENTAP_TEST_PG is not set)\n");
		return required ? -1 : 0;
	}
	c = PQconnectdb(env);
	if (PQstatus(c) != CONNECTION_OK) {
		printf("%s: the PostgreSQL run: cannot connect to TOKENTAP_TEST_PG: %.200s\n",
		       required ? "failed" : "skipped", PQerrorMessage(c));
		PQfinish(c);
		return required ? -1 : 0;
	}
	PQfinish(c);
	tb_pg_create(url, len);
	return 1;
}

/* Drops the group's database (tb_pg_group). */
static inline void tb_pg_group_drop(void)
{
	void *pg = (void *)&tb_pg;

	tb_drop(&pg);
}

/*
 * A test run once per backend around a store the runner opens: cases
 * name the test function and the backend; the store is in *tb_store.
 */
struct tb_case {
	enum tb_backend be;
	void (*fn)(void **state);
};

#define STORE_TEST(f)                                                        \
	{ #f "/sqlite", f, NULL, NULL, (void *)&tb_sqlite },                 \
	{ #f "/pg", f, NULL, tb_drop, (void *)&tb_pg }

#endif
