/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL backend: the pool, opening, migrations, partitions, leadership. */
#include "pg_store.h"
#include "clock.h"
#include "log.h"
#include "pg_conninfo.h"
#include "store_obs_cache.h"
#include "store_obs_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Advisory lock keys: schema migrations, partition creation, the leader. */
#define PG_LOCK_MIGRATE 0x746f6b656e01LL
#define PG_LOCK_PARTS 0x746f6b656e02LL
#define PG_LOCK_LEADER 0x746f6b656e03LL

/* The server's notices ("already exists, skipping") are not the collector's to print. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *connect_db(const char *conninfo, int ro, struct pg_err *e)
{
	PGconn *c = PQconnectdb(conninfo);

	PQsetNoticeProcessor(c, quiet, NULL);
	if (PQstatus(c) != CONNECTION_OK) {
		pg_fail(c, NULL, e, "connect");
		PQfinish(c);
		return NULL;
	}
	/* rows are read as text: these settings make the text unambiguous */
	if (pg_exec(c, "SET client_encoding = 'UTF8'", e, "connect") < 0 ||
	    pg_exec(c, "SET extra_float_digits = 3", e, "connect") < 0 ||
	    (ro && pg_exec(c, "SET default_transaction_read_only = on", e, "connect") < 0)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

struct pg_slot *pg_acquire(struct pg_store *st, char *err, size_t errlen)
{
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = NULL;

	pthread_mutex_lock(&st->lock);
	while (!s) {
		for (int i = 0; i < PG_POOL_SIZE && !s; i++)
			if (!st->slots[i].busy)
				s = &st->slots[i];
		if (!s)
			pthread_cond_wait(&st->freed, &st->lock);
	}
	s->busy = 1;
	pthread_mutex_unlock(&st->lock);
	if (s->pc.c && PQstatus(s->pc.c) == CONNECTION_OK)
		return s;
	/* first use, or the server went away: a new session, nothing prepared */
	PQfinish(s->pc.c);
	memset(s->pc.prepared, 0, sizeof(s->pc.prepared));
	s->pc.c = connect_db(st->conninfo, st->readonly, &e);
	if (s->pc.c)
		return s;
	pg_release(st, s);
	return NULL;
}

void pg_release(struct pg_store *st, struct pg_slot *s)
{
	if (s->pc.c && PQtransactionStatus(s->pc.c) != PQTRANS_IDLE)
		pg_rollback(s);
	pthread_mutex_lock(&st->lock);
	s->busy = 0;
	pthread_cond_signal(&st->freed);
	pthread_mutex_unlock(&st->lock);
}

void pg_writer_enter(struct pg_store *st)
{
	pthread_mutex_lock(&st->lock);
	while (st->writers >= st->writers_max)
		pthread_cond_wait(&st->writer_done, &st->lock);
	st->writers++;
	pthread_mutex_unlock(&st->lock);
}

void pg_writer_leave(struct pg_store *st)
{
	pthread_mutex_lock(&st->lock);
	st->writers--;
	pthread_cond_signal(&st->writer_done);
	pthread_mutex_unlock(&st->lock);
}

int pg_set_writers(struct store *base, unsigned n)
{
	struct pg_store *st = pg_of(base);

	/* each writer holds a connection: leave one for queries and the risk engine */
	if (n < 1 || n > PG_POOL_SIZE - 1)
		return -1;
	pthread_mutex_lock(&st->lock);
	st->writers_max = n;
	pthread_cond_broadcast(&st->writer_done);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

int pg_begin(struct pg_slot *s, struct pg_err *e)
{
	return pg_exec(s->pc.c, "BEGIN", e, "begin");
}

int pg_commit(struct pg_slot *s, struct pg_err *e)
{
	if (pg_exec(s->pc.c, "COMMIT", e, "commit") == 0)
		return 0;
	pg_rollback(s);
	return -1;
}

void pg_rollback(struct pg_slot *s)
{
	PQclear(PQexec(s->pc.c, "ROLLBACK"));
}

/* -1 on error; 0 when there is no schema_version table yet. */
static int read_version(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
	int v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = (int)pg_i(r, 0, 0);
	else if (PQresultErrorField(r, PG_DIAG_SQLSTATE) &&
		 !strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42P01"))
		v = 0; /* undefined_table: an empty database */
	PQclear(r);
	return v;
}

static int migrate(PGconn *c, struct pg_err *e)
{
	int latest = pg_schema_latest(), v;
	char sql[160];

	if (pg_exec(c, "BEGIN", e, "migrate") < 0)
		return -1;
	/* replicas starting together migrate one at a time */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", PG_LOCK_MIGRATE);
	if (pg_exec(c, sql, e, "migrate") < 0 ||
	    pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
		       " applied_at bigint NOT NULL)", e, "migrate") < 0)
		goto fail;
	v = read_version(c);
	if (v < 0) {
		pg_fail(c, NULL, e, "cannot read schema_version");
		goto fail;
	}
	if (v > latest) {
		snprintf(e->buf, e->len, "database schema %d is newer than this collector's (%d)", v,
			 latest);
		goto fail;
	}
	for (int next = v + 1; next <= latest; next++) {
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, %lld)", next,
			 (long long)clock_real_ms());
		if (pg_exec(c, pg_schema_migration(next), e, "migrate") < 0 ||
		    pg_exec(c, sql, e, "migrate") < 0)
			goto fail;
	}
	return pg_exec(c, "COMMIT", e, "migrate");
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

static int part_known(struct pg_store *st, enum pg_part_table t, int64_t day)
{
	for (unsigned i = 0; i < PG_PART_KNOWN; i++)
		if (st->part_days[t][i] == day)
			return 1;
	return 0;
}

/* Creates one day's partition; serialized between replicas by an advisory lock. */
static int part_create(struct pg_slot *s, enum pg_part_table t, int64_t day, struct pg_err *e)
{
	char sql[256];

	if (pg_part_sql(t, day, sql, sizeof(sql)) < 0)
		return 1; /* not a day of its own: the default partition takes the rows */
	if (pg_begin(s, e) < 0)
		return -1;
	{
		char lock[80];

		snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)", PG_LOCK_PARTS);
		if (pg_exec(s->pc.c, lock, e, "partition") < 0)
			goto fail;
	}
	if (pg_exec(s->pc.c, sql, e, "partition") < 0) {
		/* 23514: rows of that day already sit in the default partition
		 * (they came while the day was out of range): they stay there */
		if (!strcmp(e->sqlstate, "23514")) {
			pg_rollback(s);
			return 1;
		}
		goto fail;
	}
	return pg_commit(s, e);
fail:
	pg_rollback(s);
	return -1;
}

int pg_parts_ensure(struct pg_store *st, struct pg_slot *s, enum pg_part_table t,
		    const int64_t *ms, size_t n, int64_t now_ms, struct pg_err *e)
{
	int64_t lo = now_ms - now_ms % MS_PER_DAY - PG_PART_PAST_DAYS * MS_PER_DAY;
	int64_t hi = now_ms - now_ms % MS_PER_DAY + PG_PART_FUTURE_DAYS * MS_PER_DAY;
	int64_t last = -1;

	for (size_t i = 0; i < n; i++) {
		int64_t day = ms[i] - ms[i] % MS_PER_DAY;
		int known, rc;

		if (ms[i] < 0 || day < lo || day > hi || day == last)
			continue;
		last = day;
		pthread_mutex_lock(&st->part_lock);
		known = part_known(st, t, day);
		pthread_mutex_unlock(&st->part_lock);
		if (known)
			continue;
		rc = part_create(s, t, day, e);
		if (rc < 0)
			return -1;
		pthread_mutex_lock(&st->part_lock);
		st->part_days[t][st->part_next[t]++ % PG_PART_KNOWN] = day;
		pthread_mutex_unlock(&st->part_lock);
	}
	return 0;
}

/* ---- leadership -------------------------------------------------------- */

/*
 * A session-level advisory lock on a connection of its own: the server
 * frees it when the holder's session ends (process killed, network cut),
 * and the next replica to try takes it. A broken connection means not
 * leader until the lock is taken again on a new one.
 */
int pg_leader(struct store *base)
{
	struct pg_store *st = pg_of(base);
	char err[256], sql[80];
	struct pg_err e = { err, sizeof(err), "" };
	PGresult *r;
	int was, now = 0;

	if (st->readonly)
		return 0;
	pthread_mutex_lock(&st->lead_lock);
	was = st->leader;
	if (st->lead && PQstatus(st->lead) != CONNECTION_OK) {
		PQfinish(st->lead);
		st->lead = NULL;
	}
	if (!st->lead)
		st->lead = connect_db(st->conninfo, 0, &e);
	if (st->lead) {
		/* held: a round trip proves the session (and so the lock) is alive */
		if (was)
			snprintf(sql, sizeof(sql), "SELECT 1");
		else
			snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)",
				 PG_LOCK_LEADER);
		r = PQexec(st->lead, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			now = pg_i(r, 0, 0) == 1;
		PQclear(r);
		if (!now && was) {
			/* the session broke while holding the lock: start over */
			PQfinish(st->lead);
			st->lead = NULL;
		}
	}
	st->leader = now;
	pthread_mutex_unlock(&st->lead_lock);
	return now;
}

/* ---- the handle -------------------------------------------------------- */

static void pg_close(struct store *base)
{
	struct pg_store *st = pg_of(base);

	for (int i = 0; i < PG_POOL_SIZE; i++) {
		PQfinish(st->slots[i].pc.c);
		obs_hasher_free(st->slots[i].hasher);
	}
	PQfinish(st->lead);
	obs_cache_free(st->verified);
	free(st->conninfo);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->freed);
	pthread_cond_destroy(&st->writer_done);
	pthread_mutex_destroy(&st->part_lock);
	pthread_mutex_destroy(&st->lead_lock);
	pthread_mutex_destroy(&st->verified_lock);
	free(st);
}

static int pg_schema_version_op(struct store *base)
{
	struct pg_store *st = pg_of(base);
	char err[256];
	struct pg_slot *s = pg_acquire(st, err, sizeof(err));
	int v;

	if (!s)
		return -1;
	v = read_version(s->pc.c);
	pg_release(st, s);
	return v;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.schema_version = pg_schema_version_op,
	.apply_batch = pg_apply_batch,
	.query_tokens = pg_query_tokens,
	.query_token_page = pg_query_token_page,
	.query_token = pg_query_token,
	.query_sensors = pg_query_sensors,
	.query_coverage = pg_query_coverage,
	.query_alerts = pg_query_alerts,
	.pending_revocations = pg_pending_revocations,
	.risk_pass = pg_risk_pass,
	.risk_due = pg_risk_due,
	.risk_record = pg_risk_record,
	.leader = pg_leader,
	.set_writers = pg_set_writers,
	.retain = pg_retain,
};

static struct store *pg_open(const char *conninfo, int flags, char *err, size_t errlen)
{
	struct pg_store *st = calloc(1, sizeof(*st));
	struct pg_err e = { err, errlen, "" };
	char shown[512];
	struct pg_slot *s;
	int v;

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->base.ops = &pg_ops;
	st->readonly = !!(flags & STORE_READONLY);
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->freed, NULL);
	pthread_cond_init(&st->writer_done, NULL);
	st->writers_max = PG_WRITERS_DEFAULT;
	pthread_mutex_init(&st->part_lock, NULL);
	pthread_mutex_init(&st->lead_lock, NULL);
	pthread_mutex_init(&st->verified_lock, NULL);
	for (int t = 0; t < PG_PART__COUNT; t++)
		for (int i = 0; i < PG_PART_KNOWN; i++)
			st->part_days[t][i] = -1;
	st->conninfo = strdup(conninfo);
	st->verified = obs_cache_new();
	if (!st->conninfo || !st->verified)
		goto oom;
	{
		unsigned char rnd[16];

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			snprintf(err, errlen, "getrandom failed");
			goto fail;
		}
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(st->replica_id + 2 * i, 3, "%02x", rnd[i]);
	}
	for (int i = 0; i < PG_POOL_SIZE; i++)
		if (!(st->slots[i].hasher = obs_hasher_new()))
			goto oom;
	pg_conninfo_redact(conninfo, shown, sizeof(shown));
	s = pg_acquire(st, err, errlen);
	if (!s) {
		/* err holds libpq's reason; say which database, without the password */
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", shown, why);
		goto fail;
	}
	if (!st->readonly) {
		if (migrate(s->pc.c, &e) < 0) {
			pg_release(st, s);
			goto fail;
		}
	} else if ((v = read_version(s->pc.c)) != pg_schema_latest()) {
		snprintf(err, errlen, "%s: not a tokentap database of schema %d (found %d)", shown,
			 pg_schema_latest(), v);
		pg_release(st, s);
		goto fail;
	}
	pg_release(st, s);
	return &st->base;
oom:
	snprintf(err, errlen, "SHA-256 unavailable or out of memory");
fail:
	pg_close(&st->base);
	return NULL;
}

const struct store_backend store_backend_pg = {
	.accepts = pg_conninfo_is_pg,
	.open = pg_open,
};
