/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libpq helpers every module of the PostgreSQL store uses: numbered
 * parameters in text form, statements prepared on first use per
 * connection, one-line errors (the primary message only: PostgreSQL's
 * DETAIL lines may quote row values), and the columns of a result.
 */
#ifndef TOKENTAP_PG_UTIL_H
#define TOKENTAP_PG_UTIL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The modules that own statements, and how many each may have. */
enum pg_module { PGM_STORE, PGM_APPLY, PGM_QUERY, PGM_ALERTS, PGM_RISK, PGM_RETAIN, PGM__COUNT };
#define PG_MODULE_STMTS 48

/* A module's statements: sql[i] is prepared as "m<module>_<i>" when first run. */
struct pg_stmts {
	enum pg_module module;
	const char *const *sql;
	size_t n;
};

/* One connection of the pool and the statements it has prepared. */
struct pg_conn {
	PGconn *c;
	unsigned char prepared[PGM__COUNT][PG_MODULE_STMTS];
};

/* Where a failing call writes its one-line reason, and the SQLSTATE it had. */
struct pg_err {
	char *buf;
	size_t len;
	char sqlstate[6];
};

/*
 * Parameters $1..$n, as text (NULL is SQL NULL; numbers are formatted in
 * place) or, for the integer arrays of the bulk statements, binary.
 */
#define PG_MAX_PARAMS 24
struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][32];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS]; /* 1: binary */
	int binary;             /* any fmt[] set */
};

/* The value is not copied: it must outlive the statement's run. */
void pg_text(struct pg_params *p, int i, const char *v);
void pg_int(struct pg_params *p, int i, int64_t v);
void pg_double(struct pg_params *p, int i, double v);

/*
 * A growable buffer for the array parameters of the bulk statements: a
 * text literal, or a bigint[] in PostgreSQL's binary array format (the
 * server then reads each element as 8 bytes instead of parsing digits).
 */
struct pg_buf {
	char *s;
	size_t len, cap;
	size_t n; /* elements of a binary array */
	int oom;
	int bin;
};
void pg_buf_free(struct pg_buf *b);
/* Starts an array literal "{". */
void pg_arr_begin(struct pg_buf *b);
/* Starts a binary bigint[]: then only pg_arr_int. */
void pg_arr_begin_i8(struct pg_buf *b);
/* Appends one element, quoted ("..." with \ and " escaped); text arrays only. */
void pg_arr_text(struct pg_buf *b, const char *v);
void pg_arr_int(struct pg_buf *b, int64_t v);
/* Closes the literal "}"; the text, or NULL when memory ran out. */
const char *pg_arr_end(struct pg_buf *b);
/* Closes the array, text or binary, and binds it as $i; 0, or -1 when memory ran out. */
int pg_arr_bind(struct pg_params *p, int i, struct pg_buf *b);

/*
 * Runs statement i of set on pc with p (NULL: none), preparing it first
 * on this connection. The result (rows or none), or NULL with the reason
 * "what: message" and the SQLSTATE in e.
 */
PGresult *pg_run(struct pg_conn *pc, const struct pg_stmts *set, int i,
		 const struct pg_params *p, struct pg_err *e, const char *what);
/* The same, the result dropped: 0, or -1. */
int pg_run0(struct pg_conn *pc, const struct pg_stmts *set, int i, const struct pg_params *p,
	    struct pg_err *e, const char *what);
/* Rows a write changed (PQcmdTuples). */
int64_t pg_changes(const PGresult *r);
/* Column 0 of row 0 as an integer, dflt when no row or NULL; clears r. -1 on error too. */
int64_t pg_one_int(PGresult *r, int64_t dflt);

/* Runs SQL without parameters (BEGIN, DDL); 0, or -1 with the reason. */
int pg_exec(PGconn *c, const char *sql, struct pg_err *e, const char *what);
/* Writes "what: message" from a failed result or the connection; returns -1. */
int pg_fail(PGconn *c, const PGresult *r, struct pg_err *e, const char *what);
/* 1 when e holds a serialization failure or a deadlock: the transaction may run again. */
int pg_retryable(const struct pg_err *e);

/* The columns of row of r: text ("" for NULL), integer, float, NULL test. */
static inline const char *pg_s(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}
int64_t pg_i(const PGresult *r, int row, int col);
double pg_d(const PGresult *r, int row, int col);
static inline int pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

#endif
