/* SPDX-License-Identifier: Apache-2.0 */
#include "sqlite_util.h"

#include <stdio.h>

int sq_fail(const struct sq_err *e, const char *what)
{
	snprintf(e->buf, e->len, "%s: %s", what, sqlite3_errmsg(e->db));
	return -1;
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

void sq_bind_text_static(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

const char *sq_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

int sq_run(const struct sq_err *e, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sq_fail(e, what);
}

int64_t sq_one_int(sqlite3_stmt *s, int64_t dflt)
{
	int64_t v = dflt;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int sq_exec(const struct sq_err *e, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(e->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(e->buf, e->len, "%s", msg ? msg : sqlite3_errmsg(e->db));
	sqlite3_free(msg);
	return -1;
}

int sq_begin(const struct sq_err *e, const char *what)
{
	if (sqlite3_exec(e->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return sq_fail(e, what);
}

int sq_begin_read(const struct sq_err *e, const char *what)
{
	if (sqlite3_exec(e->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return sq_fail(e, what);
}

void sq_end_read(sqlite3 *db)
{
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

int sq_commit(const struct sq_err *e, const char *what)
{
	if (sqlite3_exec(e->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sq_fail(e, what);
	sq_rollback(e->db);
	return -1;
}

void sq_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int sq_stmts_prepare(const struct sq_err *e, struct sq_stmts *set, const char *what)
{
	for (size_t i = 0; i < set->n; i++)
		if (sqlite3_prepare_v3(e->db, set->sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &set->stmt[i], NULL) != SQLITE_OK)
			return sq_fail(e, what);
	return 0;
}

void sq_stmts_finalize(struct sq_stmts *set)
{
	if (!set->stmt)
		return;
	for (size_t i = 0; i < set->n; i++)
		sqlite3_finalize(set->stmt[i]);
}

sqlite3_stmt *sq_stmt(const struct sq_stmts *set, int i)
{
	sqlite3_stmt *s = set->stmt[i];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}
