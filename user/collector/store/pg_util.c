/* SPDX-License-Identifier: Apache-2.0 */
#include "pg_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pg_text(struct pg_params *p, int i, const char *v)
{
	p->v[i - 1] = v ? v : "";
	p->fmt[i - 1] = 0;
	if (i > p->n)
		p->n = i;
}

void pg_int(struct pg_params *p, int i, int64_t v)
{
	snprintf(p->num[i - 1], sizeof(p->num[0]), "%" PRId64, v);
	pg_text(p, i, p->num[i - 1]);
}

void pg_double(struct pg_params *p, int i, double v)
{
	/* 17 significant digits: the same double back on the server */
	snprintf(p->num[i - 1], sizeof(p->num[0]), "%.17g", v);
	pg_text(p, i, p->num[i - 1]);
}

static void buf_add(struct pg_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void pg_buf_free(struct pg_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

void pg_arr_begin(struct pg_buf *b)
{
	b->len = 0;
	b->n = 0;
	b->oom = 0;
	b->bin = 0;
	buf_add(b, "{", 1);
}

/* The binary array header: dimensions, has-nulls flag, element type, size, lower bound. */
#define ARR_HDR 20
#define INT8OID 20

static void put_be32(unsigned char *d, uint32_t v)
{
	d[0] = (unsigned char)(v >> 24);
	d[1] = (unsigned char)(v >> 16);
	d[2] = (unsigned char)(v >> 8);
	d[3] = (unsigned char)v;
}

void pg_arr_begin_i8(struct pg_buf *b)
{
	unsigned char h[ARR_HDR];

	b->len = 0;
	b->n = 0;
	b->oom = 0;
	b->bin = 1;
	put_be32(h, 1);
	put_be32(h + 4, 0);
	put_be32(h + 8, INT8OID);
	put_be32(h + 12, 0); /* the size, set by pg_arr_end */
	put_be32(h + 16, 1);
	buf_add(b, (const char *)h, sizeof(h));
}

static void sep(struct pg_buf *b)
{
	if (b->len > 1)
		buf_add(b, ",", 1);
}

void pg_arr_text(struct pg_buf *b, const char *v)
{
	const char *run;

	sep(b);
	buf_add(b, "\"", 1);
	for (run = v ? v : ""; *run;) {
		size_t n = strcspn(run, "\"\\");

		buf_add(b, run, n);
		run += n;
		if (*run) {
			buf_add(b, "\\", 1);
			buf_add(b, run, 1);
			run++;
		}
	}
	buf_add(b, "\"", 1);
}

void pg_arr_int(struct pg_buf *b, int64_t v)
{
	char num[32];
	int n;

	if (b->bin) {
		unsigned char e[12];

		put_be32(e, 8);
		put_be32(e + 4, (uint32_t)((uint64_t)v >> 32));
		put_be32(e + 8, (uint32_t)(uint64_t)v);
		buf_add(b, (const char *)e, sizeof(e));
		b->n++;
		return;
	}
	n = snprintf(num, sizeof(num), "%" PRId64, v);
	sep(b);
	buf_add(b, num, (size_t)n);
}

const char *pg_arr_end(struct pg_buf *b)
{
	if (!b->bin) {
		buf_add(b, "}", 1);
	} else if (!b->oom && b->n > INT32_MAX / 12) {
		b->oom = 1; /* more than a parameter can hold */
	} else if (!b->oom && b->n) {
		put_be32((unsigned char *)b->s + 12, (uint32_t)b->n);
	} else if (!b->oom) {
		/* an empty array has no dimension */
		put_be32((unsigned char *)b->s, 0);
		b->len = 12;
	}
	return b->oom ? NULL : b->s;
}

int pg_arr_bind(struct pg_params *p, int i, struct pg_buf *b)
{
	const char *v = pg_arr_end(b);

	if (!v)
		return -1;
	pg_text(p, i, v);
	if (b->bin) {
		p->fmt[i - 1] = 1;
		p->len[i - 1] = (int)b->len;
		p->binary = 1;
	}
	return 0;
}

int pg_fail(PGconn *c, const PGresult *r, struct pg_err *e, const char *what)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	size_t n;

	if (!msg) {
		/* a connection-level failure: libpq's own text, first line only */
		msg = c ? PQerrorMessage(c) : "no connection";
		if (!msg || !msg[0])
			msg = "connection lost";
	}
	n = strcspn(msg, "\n");
	snprintf(e->buf, e->len, "%s: %.*s", what, (int)n, msg);
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", state ? state : "");
	return -1;
}

int pg_retryable(const struct pg_err *e)
{
	return !strcmp(e->sqlstate, "40001") || !strcmp(e->sqlstate, "40P01");
}

PGresult *pg_run(struct pg_conn *pc, const struct pg_stmts *set, int i,
		 const struct pg_params *p, struct pg_err *e, const char *what)
{
	char name[24];
	PGresult *r;
	ExecStatusType s;

	snprintf(name, sizeof(name), "m%d_%d", (int)set->module, i);
	if (!pc->prepared[set->module][i]) {
		r = PQprepare(pc->c, name, set->sql[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_fail(pc->c, r, e, what);
			PQclear(r);
			return NULL;
		}
		PQclear(r);
		pc->prepared[set->module][i] = 1;
	}
	r = PQexecPrepared(pc->c, name, p ? p->n : 0, p ? p->v : NULL,
			   p && p->binary ? p->len : NULL, p && p->binary ? p->fmt : NULL, 0);
	s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return r;
	pg_fail(pc->c, r, e, what);
	PQclear(r);
	return NULL;
}

int pg_run0(struct pg_conn *pc, const struct pg_stmts *set, int i, const struct pg_params *p,
	    struct pg_err *e, const char *what)
{
	PGresult *r = pg_run(pc, set, i, p, e, what);

	PQclear(r);
	return r ? 0 : -1;
}

int64_t pg_changes(const PGresult *r)
{
	const char *n = PQcmdTuples((PGresult *)r);

	return n && n[0] ? strtoll(n, NULL, 10) : 0;
}

int64_t pg_one_int(PGresult *r, int64_t dflt)
{
	int64_t v = dflt;

	if (!r)
		return -1;
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = pg_i(r, 0, 0);
	PQclear(r);
	return v;
}

int pg_exec(PGconn *c, const char *sql, struct pg_err *e, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_fail(c, r, e, what);
	PQclear(r);
	return rc;
}

int64_t pg_i(const PGresult *r, int row, int col)
{
	const char *v = PQgetvalue(r, row, col);

	/* booleans read as integers too */
	if (v[0] == 't' && !v[1])
		return 1;
	return strtoll(v, NULL, 10);
}

double pg_d(const PGresult *r, int row, int col)
{
	return strtod(PQgetvalue(r, row, col), NULL);
}
