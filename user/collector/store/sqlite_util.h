/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite helpers every module of the SQLite store uses: binding,
 * stepping, reading columns, transactions, one-line error reasons, and a
 * module's statement list prepared once with the connection.
 */
#ifndef TOKENTAP_SQLITE_UTIL_H
#define TOKENTAP_SQLITE_UTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Where a failing call writes its one-line reason: "what: sqlite message". */
struct sq_err {
	sqlite3 *db;
	char *buf;
	size_t len;
};

/* Writes the reason for what; returns -1. */
int sq_fail(const struct sq_err *e, const char *what);

/* SQLITE_TRANSIENT: SQLite copies v, so a caller's buffer may go before the step. */
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);
/*
 * Without the copy (SQLITE_STATIC), for the batch being applied only: it
 * outlives every step of its transaction, and the next use of the
 * statement clears the binding (sq_stmt).
 */
void sq_bind_text_static(sqlite3_stmt *s, int i, const char *v);

/* The column's text, "" for NULL; valid until s steps or resets. */
const char *sq_col_text(sqlite3_stmt *s, int i);

/* Runs a write statement to completion and resets it (COMMIT needs that). 0, or -1. */
int sq_run(const struct sq_err *e, sqlite3_stmt *s, const char *what);

/* Column 0 of the first row of a bound statement; dflt when no row or NULL. Resets s. */
int64_t sq_one_int(sqlite3_stmt *s, int64_t dflt);

/* Runs SQL without rows; 0, or -1 with the reason (no prefix). */
int sq_exec(const struct sq_err *e, const char *sql);

/* BEGIN IMMEDIATE: the writer's lock up front, so a transaction never upgrades midway. */
int sq_begin(const struct sq_err *e, const char *what);
/* COMMIT, rolled back when it fails. 0, or -1. */
int sq_commit(const struct sq_err *e, const char *what);
void sq_rollback(sqlite3 *db);
/*
 * BEGIN (deferred) for a read made of many statements: one snapshot, and
 * the file lock taken once instead of once per statement. 0, or -1.
 */
int sq_begin_read(const struct sq_err *e, const char *what);
/* Ends a read transaction (nothing to write: it cannot fail usefully). */
void sq_end_read(sqlite3 *db);

/* A module's statements: sql[i] is prepared into stmt[i] at open. */
struct sq_stmts {
	const char *const *sql;
	size_t n;
	sqlite3_stmt **stmt;
};

/* Prepares every statement (persistent); 0, or -1 with the reason ("what: ..."). */
int sq_stmts_prepare(const struct sq_err *e, struct sq_stmts *set, const char *what);
void sq_stmts_finalize(struct sq_stmts *set);
/* Statement i reset and cleared for a new use. */
sqlite3_stmt *sq_stmt(const struct sq_stmts *set, int i);

#endif
