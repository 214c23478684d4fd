/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying one batch to PostgreSQL: one transaction that first records
 * (sensor_id, seq) in batches (ON CONFLICT DO NOTHING: a replay, on this
 * replica or another, is detected before anything changes). The busy
 * tables are written in bulk: the batch's sightings, observations, usage
 * rows and tokens are merged in memory and sent as array parameters, one
 * statement per table, so a batch costs a few round trips whatever its
 * size. The outcome is the same as SQLite's event by event (sqlite_apply.c):
 * the same counting rule, merges and first-request details.
 */
#include "pg_store.h"
#include "store_obs_cache.h"
#include "store_obs_id.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000
#define OBS_MAX_PROBES 64
/* runs of a batch's transaction when it meets a serialization failure or deadlock */
#define APPLY_TRIES 5

/* A later non-empty value replaces an earlier one; "" never erases. */
#define KEEP(c) c " = CASE WHEN excluded." c " <> '' THEN excluded." c " ELSE t." c " END"

enum apply_stmt {
	AP_BATCH_INSERT,
	AP_SENSOR_UPSERT,
	AP_SENSOR_STATUS,
	AP_PROCESSES_UPSERT,
	AP_POD_ENRICH,
	AP_CONTAINER_ENRICH,
	AP_TOKENS_UPSERT,
	AP_OBS_UPSERT,
	AP_OBS_COUNTERS,
	AP_USAGE_UPSERT,
	AP_SEEN_LOG_INSERT,
	AP_HELD_UPSERT,
	AP_TOKEN_INSERT_HELD,
	AP_REVOKE_MARK_DONE,
	AP_REVOCATION_INSERT,
	AP_COVERAGE_UPSERT,
	AP__COUNT
};

static const char *const apply_sql[AP__COUNT] = {
	[AP_BATCH_INSERT] = "INSERT INTO batches (sensor_id, seq, sent_at, received_at, events)"
			    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	[AP_SENSOR_UPSERT] =
		"INSERT INTO sensors AS s (sensor_id, node, version, first_seen, last_seen, last_seq,"
		" batches, events) VALUES ($1, $2, $3, $4, $4, $5, 1, $6)"
		" ON CONFLICT (sensor_id) DO UPDATE SET node = excluded.node,"
		" version = excluded.version, last_seen = GREATEST(s.last_seen, excluded.last_seen),"
		" last_seq = GREATEST(s.last_seq, excluded.last_seq), batches = s.batches + 1,"
		" events = s.events + excluded.events",
	/* a replayed old batch never replaces a newer status */
	[AP_SENSOR_STATUS] = "UPDATE sensors SET status_ts = $2, status_json = $3 WHERE sensor_id = $1"
			     " AND (status_ts IS NULL OR status_ts <= $2)",
	/* the batch's process descriptions, one row per process, in key order */
	[AP_PROCESSES_UPSERT] =
		"INSERT INTO processes AS t (sensor_id, pid, start_time, node, ppid, uid, exe, cmdline,"
		" cgroup, container_id, cgroup_id, first_seen, last_seen, k8s_namespace, pod, pod_uid,"
		" container, workload_kind, workload_name, service_account, image)"
		" SELECT $1, pid, st, $2, ppid, uid, exe, cmdline, cgroup, cid, cgid, $3, $3, ns, pod,"
		" puid, ctr, wk, wn, sa, img"
		" FROM unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[],"
		" $9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[],"
		" $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])"
		" AS x(pid, st, ppid, uid, exe, cmdline, cgroup, cid, cgid, ns, pod, puid, ctr, wk, wn,"
		" sa, img)"
		" ON CONFLICT (sensor_id, pid, start_time) DO UPDATE SET node = excluded.node,"
		" ppid = excluded.ppid, uid = excluded.uid, " KEEP("exe") ", " KEEP("cmdline") ", "
		KEEP("cgroup") ", " KEEP("container_id") ", " KEEP("k8s_namespace") ","
		" " KEEP("pod") ", " KEEP("pod_uid") ", " KEEP("container") ", " KEEP("workload_kind") ","
		" " KEEP("workload_name") ", " KEEP("service_account") ", " KEEP("image") ","
		" cgroup_id = excluded.cgroup_id,"
		" first_seen = LEAST(t.first_seen, excluded.first_seen),"
		" last_seen = GREATEST(t.last_seen, excluded.last_seen)",
	/* the names of a pod reach the processes described before the watcher knew it */
	[AP_POD_ENRICH] =
		"UPDATE processes AS t SET pod = x.pod, k8s_namespace = x.ns, workload_kind = x.wk,"
		" workload_name = x.wn, service_account = x.sa FROM unnest($1::text[], $2::text[],"
		" $3::text[], $4::text[], $5::text[], $6::text[]) AS x(puid, pod, ns, wk, wn, sa)"
		" WHERE t.pod_uid = x.puid AND t.pod = ''",
	[AP_CONTAINER_ENRICH] =
		"UPDATE processes AS t SET container = x.ctr, image = x.img FROM unnest($1::text[],"
		" $2::text[], $3::text[], $4::text[]) AS x(puid, cid, ctr, img)"
		" WHERE t.pod_uid = x.puid AND t.container_id = x.cid AND t.container = ''",
	/* the batch's tokens, one row per fingerprint, in fingerprint order */
	[AP_TOKENS_UPSERT] =
		"INSERT INTO tokens AS t (" PG_TOKEN_COLS ") SELECT * FROM unnest($1::text[],"
		" $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[],"
		" $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],"
		" $15::text[], $16::text[], $17::text[], $18::bigint[], $19::bigint[], $20::bigint[])"
		" ON CONFLICT (fingerprint) DO UPDATE SET " KEEP("token_type") ", " KEEP("scheme") ", "
		KEEP("header") ", " KEEP("token_prefix") ", token_length = excluded.token_length,"
		" has_checksum = excluded.has_checksum, checksum_valid = excluded.checksum_valid,"
		" confidence = excluded.confidence, " KEEP("key_id") ", " KEEP("aws_key_kind") ", "
		KEEP("aws_account") ", " KEEP("aws_region") ", " KEEP("aws_service") ", "
		KEEP("basic_user") ", " KEEP("basic_password_type") ", " KEEP("jwt_json") ","
		" first_seen = LEAST(t.first_seen, excluded.first_seen),"
		" last_seen = GREATEST(t.last_seen, excluded.last_seen),"
		" requests = t.requests + excluded.requests",
	/*
	 * The batch's observations, one row per identity, in id order. An id
	 * held by another identity updates nothing and is not returned: the
	 * caller probes the next id for it. Only counts, times, node and tls
	 * change after the first sighting.
	 */
	[AP_OBS_UPSERT] =
		"INSERT INTO observations AS o (id, fingerprint, sensor_id, pid, exe, dst, host, node,"
		" uid, comm, cgroup_id, src, tls, tls_library, method, path, first_seen, last_seen,"
		" requests) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[],"
		" $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[],"
		" $11::bigint[], $12::text[], $13::bigint[], $14::text[], $15::text[], $16::text[],"
		" $17::bigint[], $18::bigint[], $19::bigint[])"
		" ON CONFLICT (id) DO UPDATE SET first_seen = LEAST(o.first_seen, excluded.first_seen),"
		" last_seen = GREATEST(o.last_seen, excluded.last_seen),"
		" requests = o.requests + excluded.requests, node = excluded.node,"
		" tls = GREATEST(o.tls, excluded.tls) WHERE o.fingerprint = excluded.fingerprint"
		" AND o.sensor_id = excluded.sensor_id AND o.pid = excluded.pid AND o.exe = excluded.exe"
		" AND o.dst = excluded.dst AND o.host = excluded.host RETURNING id",
	/*
	 * The counters of observations whose id the cache vouches for (a
	 * committed row of that identity): no insert attempt, no identity
	 * check, five narrow columns. An id not returned has no row any more
	 * and goes the upsert way.
	 */
	[AP_OBS_COUNTERS] =
		"UPDATE observations AS o SET first_seen = LEAST(o.first_seen, x.f),"
		" last_seen = GREATEST(o.last_seen, x.l), requests = o.requests + x.r, node = $1,"
		" tls = GREATEST(o.tls, x.tls) FROM unnest($2::bigint[], $3::bigint[], $4::bigint[],"
		" $5::bigint[], $6::bigint[]) AS x(id, f, l, r, tls) WHERE o.id = x.id RETURNING o.id",
	[AP_USAGE_UPSERT] =
		"INSERT INTO usage AS u (obs_id, minute, count) SELECT * FROM unnest($1::bigint[],"
		" $2::bigint[], $3::bigint[]) ON CONFLICT (obs_id, minute)"
		" DO UPDATE SET count = u.count + excluded.count",
	/* in event order: the risk engine reads sightings by id */
	[AP_SEEN_LOG_INSERT] =
		"INSERT INTO seen_log (fingerprint, sensor_id, node, ts, pid, uid, comm, exe, src, dst,"
		" host, tls, method, path, header, in_query) SELECT f, $2, $3, ts, pid, uid, comm, exe,"
		" src, dst, host, tls, method, path, header, in_query FROM unnest($1::text[],"
		" $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[],"
		" $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[],"
		" $16::bigint[]) WITH ORDINALITY AS x(f, ts, pid, uid, comm, exe, src, dst, host, tls,"
		" method, path, header, in_query, n) ORDER BY n",
	[AP_HELD_UPSERT] =
		"INSERT INTO held AS h (fingerprint, sensor_id, node, pid, start_time, uid, exe, source,"
		" name, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
		" ON CONFLICT (fingerprint, sensor_id, pid, start_time, exe, source, name) DO UPDATE"
		" SET first_seen = LEAST(h.first_seen, excluded.first_seen),"
		" last_seen = GREATEST(h.last_seen, excluded.last_seen), node = excluded.node",
	/* a token only held so far: known, never used (requests 0); use fills the rest */
	[AP_TOKEN_INSERT_HELD] =
		"INSERT INTO tokens (" PG_TOKEN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		" $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT DO NOTHING",
	[AP_REVOKE_MARK_DONE] = "UPDATE revoke_marks SET done_at = $2, done_node = $3, outcome = $4"
				" WHERE fingerprint = $1",
	[AP_REVOCATION_INSERT] = "INSERT INTO revocations (fingerprint, finding_id, hook, ts, outcome,"
				 " exit_code, http_status, detail) VALUES ($1, 0, $2, $3, $4, $5, 0,"
				 " $6)",
	/* the newest report names the cause; a replayed older one only widens the times */
	[AP_COVERAGE_UPSERT] =
		"INSERT INTO coverage AS v (sensor_id, node, exe, dst, cause, detail, container_id,"
		" pod_uid, pid, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
		" $10) ON CONFLICT (sensor_id, exe, dst) DO UPDATE SET node = excluded.node,"
		" cause = CASE WHEN excluded.last_seen >= v.last_seen THEN excluded.cause"
		" ELSE v.cause END,"
		" detail = CASE WHEN excluded.last_seen >= v.last_seen THEN excluded.detail"
		" ELSE v.detail END,"
		" container_id = excluded.container_id, pod_uid = excluded.pod_uid,"
		" pid = CASE WHEN excluded.last_seen >= v.last_seen THEN excluded.pid ELSE v.pid END,"
		" first_seen = LEAST(v.first_seen, excluded.first_seen),"
		" last_seen = GREATEST(v.last_seen, excluded.last_seen), reports = v.reports + 1",
};

static const struct pg_stmts stmts = { PGM_APPLY, apply_sql, AP__COUNT };

/* One token mention; merged per fingerprint, the latest mention's metadata wins. */
struct tok_note {
	const Tokentap__V1__Token *t;
	size_t order;
	int64_t first, last;
	uint64_t requests;
};

/* One observation mention; merged per identity, the first mention's detail wins. */
struct obs_note {
	uint8_t digest[OBS_DIGEST_LEN];
	int64_t id;
	size_t order;
	const Tokentap__V1__Token *t;
	const Tokentap__V1__ProcessRef *p;
	const Tokentap__V1__Destination *d;
	const char *method, *path;
	int64_t first, last;
	uint64_t requests;
	int tls;
	int done; /* stored (its row holds the identity) */
	int known; /* its id came from the cache */
};

/* A usage row; obs is the index of its observation among the merged ones. */
struct usage_note {
	size_t obs;
	int64_t obs_id, minute, count;
};

/* A process description; merged per (pid, start time) as the upserts would, one by one. */
struct proc_note {
	const Tokentap__V1__ProcessInfo *e;
	size_t order;
	/* the merged values: later non-empty strings win, numbers are the latest */
	const char *exe, *cmdline, *cgroup, *container_id, *k8s_namespace;
	const char *pod, *pod_uid, *container, *workload_kind, *workload_name, *service_account,
		*image;
};

struct apply_ctx {
	struct pg_store *st;
	struct pg_slot *s;
	struct pg_err e;
	const Tokentap__V1__Batch *b;
	int64_t now_ms;
	struct tok_note *toks;
	size_t n_toks;
	struct obs_note *obs;
	size_t n_obs;
	size_t n_merged; /* obs[0..n_merged): one per identity, after flush_obs */
	struct usage_note *usage;
	size_t n_usage;
	const Tokentap__V1__TokenSeen **seen;
	size_t n_seen;
	struct proc_note *procs;
	size_t n_procs;
	struct pg_buf col[20];
};

static const Tokentap__V1__Destination no_dst = TOKENTAP__V1__DESTINATION__INIT;

static void bind_token(struct pg_params *p, const Tokentap__V1__Token *t, int64_t first,
		       int64_t last, uint64_t requests)
{
	pg_text(p, 1, t->fingerprint);
	pg_text(p, 2, t->token_type);
	pg_text(p, 3, t->scheme);
	pg_text(p, 4, t->header);
	pg_text(p, 5, t->token_prefix);
	pg_int(p, 6, t->token_length);
	pg_int(p, 7, !!t->has_checksum);
	pg_int(p, 8, !!t->checksum_valid);
	pg_int(p, 9, t->confidence);
	pg_text(p, 10, t->key_id);
	pg_text(p, 11, t->aws_key_kind);
	pg_text(p, 12, t->aws_account);
	pg_text(p, 13, t->aws_region);
	pg_text(p, 14, t->aws_service);
	pg_text(p, 15, t->basic_user);
	pg_text(p, 16, t->basic_password_type);
	pg_text(p, 17, t->jwt_json);
	pg_int(p, 18, first);
	pg_int(p, 19, last);
	pg_int(p, 20, (int64_t)requests);
}

/* Closes the n array columns into parameters $1..$n; 0, or -1 out of memory. */
static int bind_columns(struct apply_ctx *c, struct pg_params *p, int n)
{
	for (int i = 0; i < n; i++)
		if (pg_arr_bind(p, i + 1, &c->col[i]) < 0) {
			snprintf(c->e.buf, c->e.len, "out of memory");
			return -1;
		}
	return 0;
}

/*
 * Starts one array column per letter of kinds: 'i' a binary bigint[]
 * (the server reads 8 bytes per element instead of parsing digits; the
 * statement casts the parameter to bigint[]), 't' a text[] literal.
 */
static void begin_columns(struct apply_ctx *c, const char *kinds)
{
	for (int i = 0; kinds[i]; i++) {
		if (kinds[i] == 'i')
			pg_arr_begin_i8(&c->col[i]);
		else
			pg_arr_begin(&c->col[i]);
	}
}

/* ---- tokens ---- */

static void note_token(struct apply_ctx *c, const Tokentap__V1__Token *t, int64_t first,
		       int64_t last, uint64_t requests)
{
	c->toks[c->n_toks] = (struct tok_note){ t, c->n_toks, first, last, requests };
	c->n_toks++;
}

static int tok_cmp(const void *a, const void *b)
{
	const struct tok_note *x = a, *y = b;
	int r = strcmp(x->t->fingerprint, y->t->fingerprint);

	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void token_row(struct apply_ctx *c, const struct tok_note *n)
{
	const Tokentap__V1__Token *t = n->t;
	struct pg_buf *k = c->col;

	pg_arr_text(&k[0], t->fingerprint);
	pg_arr_text(&k[1], t->token_type);
	pg_arr_text(&k[2], t->scheme);
	pg_arr_text(&k[3], t->header);
	pg_arr_text(&k[4], t->token_prefix);
	pg_arr_int(&k[5], t->token_length);
	pg_arr_int(&k[6], !!t->has_checksum);
	pg_arr_int(&k[7], !!t->checksum_valid);
	pg_arr_int(&k[8], t->confidence);
	pg_arr_text(&k[9], t->key_id);
	pg_arr_text(&k[10], t->aws_key_kind);
	pg_arr_text(&k[11], t->aws_account);
	pg_arr_text(&k[12], t->aws_region);
	pg_arr_text(&k[13], t->aws_service);
	pg_arr_text(&k[14], t->basic_user);
	pg_arr_text(&k[15], t->basic_password_type);
	pg_arr_text(&k[16], t->jwt_json);
	pg_arr_int(&k[17], n->first);
	pg_arr_int(&k[18], n->last);
	pg_arr_int(&k[19], (int64_t)n->requests);
}

/* One row per token of the batch, in fingerprint order (replicas lock rows alike). */
static int flush_tokens(struct apply_ctx *c)
{
	struct pg_params p = { 0 };
	size_t rows = 0;

	if (!c->n_toks)
		return 0;
	qsort(c->toks, c->n_toks, sizeof(*c->toks), tok_cmp);
	begin_columns(c, "ttttt" "iiii" "tttttttt" "iii");
	for (size_t i = 0; i < c->n_toks;) {
		struct tok_note sum = c->toks[i];
		size_t j = i + 1;

		for (; j < c->n_toks && !strcmp(c->toks[j].t->fingerprint, sum.t->fingerprint); j++) {
			sum.t = c->toks[j].t;
			sum.first = c->toks[j].first < sum.first ? c->toks[j].first : sum.first;
			sum.last = c->toks[j].last > sum.last ? c->toks[j].last : sum.last;
			sum.requests += c->toks[j].requests;
		}
		token_row(c, &sum);
		rows++;
		i = j;
	}
	if (bind_columns(c, &p, 20) < 0)
		return -1;
	return pg_run0(&c->s->pc, &stmts, AP_TOKENS_UPSERT, &p, &c->e, "token");
}

/* ---- observations and usage ---- */

/* Notes an observation mention; its index among the notes, or -1. */
static ptrdiff_t note_obs(struct apply_ctx *c, const Tokentap__V1__Token *t,
			  const Tokentap__V1__ProcessRef *p, const Tokentap__V1__Destination *d,
			  const char *method, const char *path, int64_t first, int64_t last,
			  uint64_t requests)
{
	struct obs_note *o = &c->obs[c->n_obs];

	if (!d)
		d = &no_dst;
	*o = (struct obs_note){ .order = c->n_obs, .t = t, .p = p, .d = d, .method = method,
				.path = path, .first = first, .last = last, .requests = requests,
				.tls = !!d->tls };
	if (store_obs_digest(c->s->hasher, t->fingerprint, c->b->sensor_id, p->pid, p->exe, d->dst,
			     d->host, o->digest) < 0) {
		snprintf(c->e.buf, c->e.len, "observation: hashing failed");
		return -1;
	}
	o->id = store_obs_id_of(o->digest);
	return (ptrdiff_t)c->n_obs++;
}

/* By digest, then in event order. */
static int obs_cmp(const void *a, const void *b)
{
	const struct obs_note *x = a, *y = b;
	int r = memcmp(x->digest, y->digest, OBS_DIGEST_LEN);

	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* By id (the order rows are locked in). */
static int obs_id_cmp(const void *a, const void *b)
{
	const struct obs_note *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void obs_row(struct apply_ctx *c, const struct obs_note *o)
{
	struct pg_buf *k = c->col;

	pg_arr_int(&k[0], o->id);
	pg_arr_text(&k[1], o->t->fingerprint);
	pg_arr_text(&k[2], c->b->sensor_id);
	pg_arr_int(&k[3], o->p->pid);
	pg_arr_text(&k[4], o->p->exe);
	pg_arr_text(&k[5], o->d->dst);
	pg_arr_text(&k[6], o->d->host);
	pg_arr_text(&k[7], c->b->node);
	pg_arr_int(&k[8], o->p->uid);
	pg_arr_text(&k[9], o->p->comm);
	pg_arr_int(&k[10], (int64_t)o->p->cgroup_id);
	pg_arr_text(&k[11], o->d->src);
	pg_arr_int(&k[12], o->tls);
	pg_arr_text(&k[13], o->d->tls_library);
	pg_arr_text(&k[14], o->method);
	pg_arr_text(&k[15], o->path);
	pg_arr_int(&k[16], o->first);
	pg_arr_int(&k[17], o->last);
	pg_arr_int(&k[18], (int64_t)o->requests);
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The ids a statement returned, sorted, for lookups; NULL when out of memory. */
static int64_t *returned_ids(const PGresult *r, size_t *n)
{
	int64_t *ids = malloc(((size_t)PQntuples(r) + 1) * sizeof(*ids));

	*n = 0;
	if (!ids)
		return NULL;
	for (int i = 0; i < PQntuples(r); i++)
		ids[(*n)++] = pg_i(r, i, 0);
	qsort(ids, *n, sizeof(*ids), i64_cmp);
	return ids;
}

/* Runs statement st of the observations and returns the ids it answered, sorted; NULL on error. */
static int64_t *run_for_ids(struct apply_ctx *c, int st, struct pg_params *p, size_t *n)
{
	PGresult *r = pg_run(&c->s->pc, &stmts, st, p, &c->e, "observation");
	int64_t *ids;

	if (!r)
		return NULL;
	ids = returned_ids(r, n);
	PQclear(r);
	if (!ids)
		snprintf(c->e.buf, c->e.len, "out of memory");
	return ids;
}

/*
 * Upserts the merged observations not stored yet, at most one per id per
 * statement; those whose id belonged to another identity move to their
 * next id and go again, as do those that shared an id with a row sent.
 */
static int store_obs(struct apply_ctx *c, size_t n)
{
	for (int probe = 0; probe < OBS_MAX_PROBES; probe++) {
		struct pg_params p = { 0 };
		int64_t prev = 0, *ids;
		size_t rows = 0, n_ids;

		qsort(c->obs, n, sizeof(*c->obs), obs_id_cmp);
		begin_columns(c, "ittitttt" "itit" "i" "ttt" "iii");
		for (size_t i = 0; i < n; i++) {
			if (c->obs[i].done || (rows && c->obs[i].id == prev))
				continue;
			obs_row(c, &c->obs[i]);
			prev = c->obs[i].id;
			rows++;
		}
		if (!rows)
			return 0;
		if (bind_columns(c, &p, 19) < 0)
			return -1;
		ids = run_for_ids(c, AP_OBS_UPSERT, &p, &n_ids);
		if (!ids)
			return -1;
		rows = 0;
		for (size_t i = 0; i < n; i++) {
			struct obs_note *o = &c->obs[i];

			/* the same walk as the one that sent them: followers were not sent */
			if (o->done || (rows && o->id == prev))
				continue;
			prev = o->id;
			rows++;
			if (bsearch(&o->id, ids, n_ids, sizeof(*ids), i64_cmp))
				o->done = 1;
			else
				o->id = store_obs_id_next(o->id); /* another identity's id */
		}
		free(ids);
	}
	snprintf(c->e.buf, c->e.len, "observation: no free id after %d probes", OBS_MAX_PROBES);
	return -1;
}

/*
 * The counters of the merged observations the cache knows, in one narrow
 * update in id order; those are done. A cached id whose row is gone (not
 * returned) leaves the cache and goes back to its derived id, for
 * store_obs to upsert.
 */
static int update_known(struct apply_ctx *c, size_t n)
{
	struct pg_params p = { 0 };
	size_t rows = 0, n_ids;
	int64_t *ids;

	pthread_mutex_lock(&c->st->verified_lock);
	for (size_t i = 0; i < n; i++) {
		struct obs_note *o = &c->obs[i];
		int64_t id = obs_cache_get(c->st->verified, o->digest);

		if (id) {
			o->id = id;
			o->known = 1;
			rows++;
		}
	}
	pthread_mutex_unlock(&c->st->verified_lock);
	if (!rows)
		return 0;
	qsort(c->obs, n, sizeof(*c->obs), obs_id_cmp);
	begin_columns(c, "tiiiii");
	for (size_t i = 0; i < n; i++) {
		const struct obs_note *o = &c->obs[i];

		if (!o->known)
			continue;
		pg_arr_int(&c->col[1], o->id);
		pg_arr_int(&c->col[2], o->first);
		pg_arr_int(&c->col[3], o->last);
		pg_arr_int(&c->col[4], (int64_t)o->requests);
		pg_arr_int(&c->col[5], o->tls);
	}
	if (bind_columns(c, &p, 6) < 0)
		return -1;
	/* $1 is the batch's node, not a column */
	pg_text(&p, 1, c->b->node);
	ids = run_for_ids(c, AP_OBS_COUNTERS, &p, &n_ids);
	if (!ids)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct obs_note *o = &c->obs[i];

		if (!o->known)
			continue;
		if (bsearch(&o->id, ids, n_ids, sizeof(*ids), i64_cmp)) {
			o->done = 1;
			continue;
		}
		pthread_mutex_lock(&c->st->verified_lock);
		obs_cache_drop(c->st->verified, o->digest);
		pthread_mutex_unlock(&c->st->verified_lock);
		o->known = 0;
		o->id = store_obs_id_of(o->digest);
	}
	free(ids);
	return 0;
}

/* Merges mentions per identity (sum, min, max; the first's detail) and stores them. */
static int flush_obs(struct apply_ctx *c)
{
	size_t n = 0;
	size_t *merged_of;

	if (!c->n_obs)
		return 0;
	merged_of = malloc(c->n_obs * sizeof(*merged_of));
	if (!merged_of) {
		snprintf(c->e.buf, c->e.len, "out of memory");
		return -1;
	}
	qsort(c->obs, c->n_obs, sizeof(*c->obs), obs_cmp);
	for (size_t j = 0; j < c->n_obs; j++) {
		struct obs_note *o = &c->obs[j];

		if (n && !memcmp(c->obs[n - 1].digest, o->digest, OBS_DIGEST_LEN)) {
			struct obs_note *m = &c->obs[n - 1];

			m->first = o->first < m->first ? o->first : m->first;
			m->last = o->last > m->last ? o->last : m->last;
			m->requests += o->requests;
			m->tls = o->tls > m->tls ? o->tls : m->tls;
		} else {
			c->obs[n++] = *o;
		}
		merged_of[o->order] = n - 1;
	}
	/* usage rows name their observation by its mention: now by its merged row */
	for (size_t i = 0; i < c->n_usage; i++)
		c->usage[i].obs = merged_of[c->usage[i].obs];
	free(merged_of);
	/* the merged rows keep their order field as the key usage rows follow */
	for (size_t i = 0; i < n; i++)
		c->obs[i].order = i;
	c->n_merged = n;
	if (update_known(c, n) < 0 || store_obs(c, n) < 0)
		return -1;
	/* store_obs sorted by id: find each usage row's id by its merged index */
	{
		int64_t *id_of = malloc(n * sizeof(*id_of));

		if (!id_of) {
			snprintf(c->e.buf, c->e.len, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			id_of[c->obs[i].order] = c->obs[i].id;
		for (size_t i = 0; i < c->n_usage; i++)
			c->usage[i].obs_id = id_of[c->usage[i].obs];
		free(id_of);
	}
	return 0;
}

static int usage_cmp(const void *a, const void *b)
{
	const struct usage_note *x = a, *y = b;

	if (x->obs_id != y->obs_id)
		return x->obs_id < y->obs_id ? -1 : 1;
	return (x->minute > y->minute) - (x->minute < y->minute);
}

/* The batch's usage rows, one per (observation, minute), in key order. */
static int flush_usage(struct apply_ctx *c)
{
	struct usage_note *u = c->usage;
	struct pg_params p = { 0 };
	size_t n = 0;

	if (!c->n_usage)
		return 0;
	qsort(u, c->n_usage, sizeof(*u), usage_cmp);
	for (size_t j = 0; j < c->n_usage; j++) {
		if (n && u[n - 1].obs_id == u[j].obs_id && u[n - 1].minute == u[j].minute) {
			u[n - 1].count += u[j].count; /* bounded per event: no overflow */
			continue;
		}
		u[n++] = u[j];
	}
	begin_columns(c, "iii");
	for (size_t i = 0; i < n; i++) {
		pg_arr_int(&c->col[0], u[i].obs_id);
		pg_arr_int(&c->col[1], u[i].minute);
		pg_arr_int(&c->col[2], u[i].count);
	}
	if (bind_columns(c, &p, 3) < 0)
		return -1;
	return pg_run0(&c->s->pc, &stmts, AP_USAGE_UPSERT, &p, &c->e, "usage");
}

/* ---- sightings ---- */

static int flush_seen(struct apply_ctx *c)
{
	struct pg_params p = { 0 };
	struct pg_buf *k = c->col;

	if (!c->n_seen)
		return 0;
	begin_columns(c, "ttt" "iii" "ttttt" "i" "ttt" "i");
	for (size_t i = 0; i < c->n_seen; i++) {
		const Tokentap__V1__TokenSeen *e = c->seen[i];
		const Tokentap__V1__Destination *d = e->destination ? e->destination : &no_dst;

		pg_arr_text(&k[0], e->token->fingerprint);
		pg_arr_int(&k[3], e->ts_ms);
		pg_arr_int(&k[4], e->process->pid);
		pg_arr_int(&k[5], e->process->uid);
		pg_arr_text(&k[6], e->process->comm);
		pg_arr_text(&k[7], e->process->exe);
		pg_arr_text(&k[8], d->src);
		pg_arr_text(&k[9], d->dst);
		pg_arr_text(&k[10], d->host);
		pg_arr_int(&k[11], !!d->tls);
		pg_arr_text(&k[12], e->method);
		pg_arr_text(&k[13], e->path);
		pg_arr_text(&k[14], e->token->header);
		pg_arr_int(&k[15], !!e->token->in_query);
	}
	/* $2 and $3 are the batch's sensor and node, not columns */
	pg_arr_begin(&k[1]);
	pg_arr_begin(&k[2]);
	if (bind_columns(c, &p, 16) < 0)
		return -1;
	pg_text(&p, 2, c->b->sensor_id);
	pg_text(&p, 3, c->b->node);
	return pg_run0(&c->s->pc, &stmts, AP_SEEN_LOG_INSERT, &p, &c->e, "seen log");
}

/* ---- the other events, one statement each ---- */

static int apply_held(struct apply_ctx *c, const Tokentap__V1__TokenHeld *e)
{
	struct pg_params p = { 0 };

	bind_token(&p, e->token, e->ts_ms, e->ts_ms, 0);
	if (pg_run0(&c->s->pc, &stmts, AP_TOKEN_INSERT_HELD, &p, &c->e, "token") < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	pg_text(&p, 1, e->token->fingerprint);
	pg_text(&p, 2, c->b->sensor_id);
	pg_text(&p, 3, c->b->node);
	pg_int(&p, 4, e->process->pid);
	pg_int(&p, 5, e->process_start_ms);
	pg_int(&p, 6, e->process->uid);
	pg_text(&p, 7, e->process->exe);
	pg_text(&p, 8, e->source == TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV ? "argv" : "environ");
	pg_text(&p, 9, e->name);
	pg_int(&p, 10, e->ts_ms);
	return pg_run0(&c->s->pc, &stmts, AP_HELD_UPSERT, &p, &c->e, "held");
}

static void apply_process(struct apply_ctx *c, const Tokentap__V1__ProcessInfo *e)
{
	c->procs[c->n_procs] = (struct proc_note){ e, c->n_procs, e->exe, e->cmdline, e->cgroup,
						    e->container_id, e->k8s_namespace, e->pod,
						    e->pod_uid, e->container, e->workload_kind,
						    e->workload_name, e->service_account, e->image };
	c->n_procs++;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct proc_note *x = a, *y = b;

	if (x->e->pid != y->e->pid)
		return x->e->pid < y->e->pid ? -1 : 1;
	if (x->e->start_time_ms != y->e->start_time_ms)
		return x->e->start_time_ms < y->e->start_time_ms ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static const char *keep(const char *old, const char *v)
{
	return v && v[0] ? v : old;
}

/* The pod and container names of the batch's n merged processes, to earlier rows. */
static int enrich_pods(struct apply_ctx *c, size_t n)
{
	struct pg_params p = { 0 };
	struct pg_buf *k = c->col;
	size_t pods = 0, ctrs = 0;

	begin_columns(c, "tttttt");
	for (size_t i = 0; i < n; i++) {
		const struct proc_note *q = &c->procs[i];

		if (!q->pod_uid || !q->pod_uid[0] || !q->pod || !q->pod[0])
			continue;
		pg_arr_text(&k[0], q->pod_uid);
		pg_arr_text(&k[1], q->pod);
		pg_arr_text(&k[2], q->k8s_namespace);
		pg_arr_text(&k[3], q->workload_kind);
		pg_arr_text(&k[4], q->workload_name);
		pg_arr_text(&k[5], q->service_account);
		pods++;
	}
	if (bind_columns(c, &p, 6) < 0)
		return -1;
	if (pods && pg_run0(&c->s->pc, &stmts, AP_POD_ENRICH, &p, &c->e, "process pod") < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	begin_columns(c, "tttt");
	for (size_t i = 0; i < n; i++) {
		const struct proc_note *q = &c->procs[i];

		if (!q->pod_uid || !q->pod_uid[0] || !q->container || !q->container[0] ||
		    !q->container_id || !q->container_id[0])
			continue;
		pg_arr_text(&k[0], q->pod_uid);
		pg_arr_text(&k[1], q->container_id);
		pg_arr_text(&k[2], q->container);
		pg_arr_text(&k[3], q->image);
		ctrs++;
	}
	if (bind_columns(c, &p, 4) < 0)
		return -1;
	if (ctrs && pg_run0(&c->s->pc, &stmts, AP_CONTAINER_ENRICH, &p, &c->e, "process container") < 0)
		return -1;
	return 0;
}

/* One row per process of the batch: the same outcome as one upsert per description. */
static int flush_procs(struct apply_ctx *c)
{
	struct pg_params p = { 0 };
	struct pg_buf *k = c->col;
	size_t n = 0;

	if (!c->n_procs)
		return 0;
	qsort(c->procs, c->n_procs, sizeof(*c->procs), proc_cmp);
	for (size_t j = 0; j < c->n_procs; j++) {
		struct proc_note *q = &c->procs[j];

		if (n && c->procs[n - 1].e->pid == q->e->pid &&
		    c->procs[n - 1].e->start_time_ms == q->e->start_time_ms) {
			struct proc_note *m = &c->procs[n - 1];

			m->exe = keep(m->exe, q->e->exe);
			m->cmdline = keep(m->cmdline, q->e->cmdline);
			m->cgroup = keep(m->cgroup, q->e->cgroup);
			m->container_id = keep(m->container_id, q->e->container_id);
			m->k8s_namespace = keep(m->k8s_namespace, q->e->k8s_namespace);
			m->pod = keep(m->pod, q->e->pod);
			m->pod_uid = keep(m->pod_uid, q->e->pod_uid);
			m->container = keep(m->container, q->e->container);
			m->workload_kind = keep(m->workload_kind, q->e->workload_kind);
			m->workload_name = keep(m->workload_name, q->e->workload_name);
			m->service_account = keep(m->service_account, q->e->service_account);
			m->image = keep(m->image, q->e->image);
			m->e = q->e; /* ppid, uid, cgroup_id: the latest */
			continue;
		}
		c->procs[n++] = *q;
	}
	begin_columns(c, "ttt" "iiii" "tttt" "i" "tttttttt");
	for (size_t i = 0; i < n; i++) {
		const struct proc_note *q = &c->procs[i];

		pg_arr_int(&k[3], q->e->pid);
		pg_arr_int(&k[4], q->e->start_time_ms);
		pg_arr_int(&k[5], q->e->ppid);
		pg_arr_int(&k[6], q->e->uid);
		pg_arr_text(&k[7], q->exe);
		pg_arr_text(&k[8], q->cmdline);
		pg_arr_text(&k[9], q->cgroup);
		pg_arr_text(&k[10], q->container_id);
		pg_arr_int(&k[11], (int64_t)q->e->cgroup_id);
		pg_arr_text(&k[12], q->k8s_namespace);
		pg_arr_text(&k[13], q->pod);
		pg_arr_text(&k[14], q->pod_uid);
		pg_arr_text(&k[15], q->container);
		pg_arr_text(&k[16], q->workload_kind);
		pg_arr_text(&k[17], q->workload_name);
		pg_arr_text(&k[18], q->service_account);
		pg_arr_text(&k[19], q->image);
	}
	if (bind_columns(c, &p, 20) < 0)
		return -1;
	/* $1..$3 are the batch's sensor, node and time, not columns */
	pg_text(&p, 1, c->b->sensor_id);
	pg_text(&p, 2, c->b->node);
	pg_int(&p, 3, c->b->sent_at_ms > 0 ? c->b->sent_at_ms : c->now_ms);
	if (pg_run0(&c->s->pc, &stmts, AP_PROCESSES_UPSERT, &p, &c->e, "process") < 0)
		return -1;
	return enrich_pods(c, n);
}

/* The counters as a JSON object, named as in the proto (as sqlite_apply.c). */
static int apply_status(struct apply_ctx *c, const Tokentap__V1__SensorStatus *e)
{
	const ProtobufCMessageDescriptor *d = e->base.descriptor;
	struct json_object *o = json_object_new_object();
	struct pg_params p = { 0 };
	int rc;

	if (!o) {
		snprintf(c->e.buf, c->e.len, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *v = (const char *)e + f->offset;
		uint64_t n;

		if (f->type == PROTOBUF_C_TYPE_UINT32)
			n = *(const uint32_t *)(const void *)v;
		else if (f->type == PROTOBUF_C_TYPE_UINT64)
			n = *(const uint64_t *)(const void *)v;
		else
			continue;
		json_object_object_add(o, f->name, json_object_new_uint64(n));
	}
	pg_text(&p, 1, c->b->sensor_id);
	pg_int(&p, 2, e->ts_ms);
	pg_text(&p, 3, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	rc = pg_run0(&c->s->pc, &stmts, AP_SENSOR_STATUS, &p, &c->e, "sensor status");
	json_object_put(o);
	return rc;
}

static int apply_revocation(struct apply_ctx *c, const Tokentap__V1__RevocationResult *e)
{
	struct pg_params p = { 0 };
	char hook[300];

	pg_text(&p, 1, e->fingerprint);
	pg_int(&p, 2, e->ts_ms);
	pg_text(&p, 3, c->b->node);
	pg_text(&p, 4, e->outcome);
	if (pg_run0(&c->s->pc, &stmts, AP_REVOKE_MARK_DONE, &p, &c->e, "revocation") < 0)
		return -1;
	snprintf(hook, sizeof(hook), "sensor:%s", c->b->node ? c->b->node : "");
	memset(&p, 0, sizeof(p));
	pg_text(&p, 1, e->fingerprint);
	pg_text(&p, 2, hook);
	pg_int(&p, 3, e->ts_ms);
	pg_text(&p, 4, e->outcome);
	pg_int(&p, 5, e->exit_code);
	pg_text(&p, 6, e->detail);
	return pg_run0(&c->s->pc, &stmts, AP_REVOCATION_INSERT, &p, &c->e, "revocation");
}

/* A process whose TLS the sensor cannot see, and where it sent. */
static int apply_uncovered(struct apply_ctx *c, const Tokentap__V1__TlsUncovered *e)
{
	struct pg_params p = { 0 };

	pg_text(&p, 1, c->b->sensor_id);
	pg_text(&p, 2, c->b->node);
	pg_text(&p, 3, e->process->exe);
	pg_text(&p, 4, e->dst);
	pg_text(&p, 5, e->cause);
	pg_text(&p, 6, e->detail);
	pg_text(&p, 7, e->container_id);
	pg_text(&p, 8, e->pod_uid);
	pg_int(&p, 9, e->process->pid);
	pg_int(&p, 10, e->ts_ms);
	return pg_run0(&c->s->pc, &stmts, AP_COVERAGE_UPSERT, &p, &c->e, "coverage");
}

static int apply_event(struct apply_ctx *c, const Tokentap__V1__Event *e)
{
	switch (e->kind_case) {
	case TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN: {
		const Tokentap__V1__TokenSeen *s = e->token_seen;

		note_token(c, s->token, s->ts_ms, s->ts_ms, 0);
		c->seen[c->n_seen++] = s;
		return note_obs(c, s->token, s->process, s->destination, s->method, s->path, s->ts_ms,
				s->ts_ms, 0) < 0 ? -1 : 0;
	}
	case TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE: {
		const Tokentap__V1__TokenUsage *u = e->token_usage;
		/* the last request's time, as sqlite_apply.c */
		int64_t last = u->last_seen_ms ? u->last_seen_ms : u->end_ms ? u->end_ms : u->start_ms;
		ptrdiff_t o;

		note_token(c, u->token, last, last, u->count);
		o = note_obs(c, u->token, u->process, u->destination, u->method, u->path, last, last,
			     u->count);
		if (o < 0)
			return -1;
		c->usage[c->n_usage++] = (struct usage_note){ (size_t)o, 0, last - last % MINUTE_MS,
							      (int64_t)u->count };
		return 0;
	}
	case TOKENTAP__V1__EVENT__KIND_PROCESS_INFO:
		apply_process(c, e->process_info);
		return 0;
	case TOKENTAP__V1__EVENT__KIND_TOKEN_HELD:
		return apply_held(c, e->token_held);
	case TOKENTAP__V1__EVENT__KIND_REVOCATION_RESULT:
		return apply_revocation(c, e->revocation_result);
	case TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS:
		/* written after the sensor's row, at the end of the batch (apply_all) */
		return 0;
	case TOKENTAP__V1__EVENT__KIND_TLS_UNCOVERED:
		return apply_uncovered(c, e->tls_uncovered);
	default:
		snprintf(c->e.buf, c->e.len, "event without a kind");
		return -1;
	}
}

/* 1 applied, 0 duplicate, -1 error; inside the batch's transaction. */
static int apply_all(struct apply_ctx *c)
{
	const Tokentap__V1__Batch *b = c->b;
	struct pg_params p = { 0 };
	PGresult *r;
	int64_t n;

	pg_text(&p, 1, b->sensor_id);
	pg_int(&p, 2, (int64_t)b->seq);
	pg_int(&p, 3, b->sent_at_ms);
	pg_int(&p, 4, c->now_ms);
	pg_int(&p, 5, (int64_t)b->n_events);
	r = pg_run(&c->s->pc, &stmts, AP_BATCH_INSERT, &p, &c->e, "batch");
	if (!r)
		return -1;
	n = pg_changes(r);
	PQclear(r);
	if (n == 0)
		return 0;

	c->n_toks = c->n_obs = c->n_merged = c->n_usage = c->n_seen = c->n_procs = 0;
	for (size_t i = 0; i < b->n_events; i++)
		if (apply_event(c, b->events[i]) < 0)
			return -1;
	if (flush_procs(c) < 0 || flush_seen(c) < 0 || flush_obs(c) < 0 || flush_usage(c) < 0 || flush_tokens(c) < 0)
		return -1;
	/*
	 * The rows every batch of a sensor rewrites (its sensor row), and
	 * the tokens just before, are locked last: a batch of the same sensor
	 * or tokens on another replica waits only for this commit, not for
	 * the whole batch.
	 */
	memset(&p, 0, sizeof(p));
	pg_text(&p, 1, b->sensor_id);
	pg_text(&p, 2, b->node);
	pg_text(&p, 3, b->sensor_version);
	pg_int(&p, 4, c->now_ms);
	pg_int(&p, 5, (int64_t)b->seq);
	pg_int(&p, 6, (int64_t)b->n_events);
	if (pg_run0(&c->s->pc, &stmts, AP_SENSOR_UPSERT, &p, &c->e, "sensor") < 0)
		return -1;
	/* statuses in event order, once the sensor's row exists */
	for (size_t i = 0; i < b->n_events; i++)
		if (b->events[i]->kind_case == TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS &&
		    apply_status(c, b->events[i]->sensor_status) < 0)
			return -1;
	return 1;
}

/* The days the batch writes usage and sightings in: their partitions first. */
static int ensure_parts(struct apply_ctx *c)
{
	const Tokentap__V1__Batch *b = c->b;
	int64_t *seen = malloc((b->n_events + 1) * sizeof(*seen));
	int64_t *used = malloc((b->n_events + 1) * sizeof(*used));
	size_t ns = 0, nu = 0;
	int rc = -1;

	if (!seen || !used) {
		snprintf(c->e.buf, c->e.len, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b->n_events; i++) {
		const Tokentap__V1__Event *e = b->events[i];

		if (e->kind_case == TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN) {
			seen[ns++] = e->token_seen->ts_ms;
		} else if (e->kind_case == TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE) {
			const Tokentap__V1__TokenUsage *u = e->token_usage;

			used[nu++] = u->last_seen_ms ? u->last_seen_ms : u->end_ms ? u->end_ms : u->start_ms;
		}
	}
	rc = pg_parts_ensure(c->st, c->s, PG_PART_SEEN_LOG, seen, ns, c->now_ms, &c->e) < 0 ||
	     pg_parts_ensure(c->st, c->s, PG_PART_USAGE, used, nu, c->now_ms, &c->e) < 0 ? -1 : 0;
out:
	free(seen);
	free(used);
	return rc;
}

static int ctx_alloc(struct apply_ctx *c, size_t n)
{
	c->toks = malloc(n * sizeof(*c->toks));
	c->obs = malloc(n * sizeof(*c->obs));
	c->usage = malloc(n * sizeof(*c->usage));
	c->seen = malloc(n * sizeof(*c->seen));
	c->procs = malloc(n * sizeof(*c->procs));
	return c->toks && c->obs && c->usage && c->seen && c->procs ? 0 : -1;
}

static void ctx_free(struct apply_ctx *c)
{
	free(c->toks);
	free(c->obs);
	free(c->usage);
	free(c->seen);
	free(c->procs);
	for (size_t i = 0; i < sizeof(c->col) / sizeof(c->col[0]); i++)
		pg_buf_free(&c->col[i]);
}

/* The committed batch's observations: their ids hold their identities from now on. */
static void remember_obs(struct apply_ctx *c)
{
	pthread_mutex_lock(&c->st->verified_lock);
	for (size_t i = 0; i < c->n_merged; i++)
		if (c->obs[i].done)
			obs_cache_put(c->st->verified, c->obs[i].digest, c->obs[i].id);
	pthread_mutex_unlock(&c->st->verified_lock);
}

enum store_result pg_apply_batch(struct store *base, const Tokentap__V1__Batch *b, int64_t now_ms,
				 char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct apply_ctx c = { .st = st, .e = { err, errlen, "" }, .b = b, .now_ms = now_ms };
	enum store_result res = STORE_ERROR;
	int rc = -1;

	if (ctx_alloc(&c, b->n_events ? b->n_events : 1) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	pg_writer_enter(st);
	c.s = pg_acquire(st, err, errlen);
	if (!c.s) {
		pg_writer_leave(st);
		goto out;
	}
	if (ensure_parts(&c) < 0)
		goto release;
	/* two replicas on the same rows may meet in a deadlock: the loser runs again */
	for (int tries = 0; tries < APPLY_TRIES; tries++) {
		c.e.sqlstate[0] = '\0';
		if (pg_begin(c.s, &c.e) < 0)
			break;
		rc = apply_all(&c);
		if (rc <= 0) {
			/* a duplicate also rolls back: it changed nothing anyway */
			pg_rollback(c.s);
		} else if (pg_commit(c.s, &c.e) < 0) {
			rc = -1;
		}
		if (rc >= 0 || !pg_retryable(&c.e))
			break;
	}
	res = rc > 0 ? STORE_APPLIED : rc == 0 ? STORE_DUPLICATE : STORE_ERROR;
	if (res == STORE_APPLIED)
		remember_obs(&c);
release:
	pg_release(st, c.s);
	pg_writer_leave(st);
out:
	ctx_free(&c);
	return res;
}
