/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying one batch: a single transaction that first records
 * (sensor_id, seq) in batches, so a replay is detected before anything
 * changes. Counting rule: token_usage carries the count of every request
 * (the first included), token_seen only creates rows.
 */
#include "sqlite_store.h"
#include "store_obs_cache.h"
#include "store_obs_id.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000

/* Rows per multi-row usage upsert (3 parameters each). */
#define USAGE_ROWS 64

/* A later non-empty value replaces an earlier one; "" never erases. */
#define KEEP(c) c " = CASE WHEN excluded." c " <> '' THEN excluded." c " ELSE " c " END"

/* KEEP(c) would leave c as it is: the new value is "" or the same. */
#define SAME(c, n) "(?" n " = '' OR " c " = ?" n ")"

/* USAGE_ROWS rows of VALUES, as many parameters as rows x 3. */
#define USAGE_1 "(?,?,?)"
#define USAGE_4 USAGE_1 "," USAGE_1 "," USAGE_1 "," USAGE_1
#define USAGE_16 USAGE_4 "," USAGE_4 "," USAGE_4 "," USAGE_4
#define USAGE_64 USAGE_16 "," USAGE_16 "," USAGE_16 "," USAGE_16
_Static_assert(sizeof(USAGE_64) == USAGE_ROWS * (sizeof(USAGE_1 ",") - 1), "one VALUES per row");

/* Every statement writes; all take their parameters by number (?N). */
enum apply_stmt {
	AP_BATCH_INSERT,
	AP_SENSOR_UPSERT,
	AP_SENSOR_STATUS,
	AP_PROCESS_UPSERT,
	AP_POD_ENRICH,
	AP_CONTAINER_ENRICH,
	AP_TOKEN_UPSERT,
	AP_TOKEN_COUNTERS,
	AP_OBS_UPDATE,
	AP_OBS_INSERT,
	AP_OBS_COUNTS_INSERT,
	AP_OBS_COUNTS_UPDATE,
	AP_USAGE_UPSERT,
	AP_USAGE_UPSERT_MANY,
	AP_SEEN_LOG_INSERT,
	AP_HELD_UPSERT,
	AP_TOKEN_INSERT_HELD,
	AP_REVOKE_MARK_DONE,
	AP_REVOCATION_INSERT,
	AP_COVERAGE_UPSERT,
	AP__COUNT
};

static const char *const apply_sql[AP__COUNT] = {
	[AP_BATCH_INSERT] = "INSERT OR IGNORE INTO batches (sensor_id, seq, sent_at, received_at, events)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[AP_SENSOR_UPSERT] =
		"INSERT INTO sensors (sensor_id, node, version, first_seen, last_seen, last_seq, batches,"
		" events) VALUES (?1, ?2, ?3, ?4, ?4, ?5, 1, ?6)"
		" ON CONFLICT (sensor_id) DO UPDATE SET node = excluded.node,"
		" version = excluded.version, last_seen = MAX(last_seen, excluded.last_seen),"
		" last_seq = MAX(last_seq, excluded.last_seq), batches = batches + 1,"
		" events = events + excluded.events",
	/* a replayed old batch never replaces a newer status */
	[AP_SENSOR_STATUS] = "UPDATE sensors SET status_ts = ?2, status_json = ?3 WHERE sensor_id = ?1"
			     " AND (status_ts IS NULL OR status_ts <= ?2)",
	[AP_PROCESS_UPSERT] =
		"INSERT INTO processes (sensor_id, pid, start_time, node, ppid, uid, exe, cmdline, cgroup,"
		" container_id, cgroup_id, first_seen, last_seen, k8s_namespace, pod, pod_uid, container,"
		" workload_kind, workload_name, service_account, image)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15, ?16,"
		" ?17, ?18, ?19, ?20)"
		" ON CONFLICT (sensor_id, pid, start_time) DO UPDATE SET node = excluded.node,"
		" ppid = excluded.ppid, uid = excluded.uid, " KEEP("exe") ", " KEEP("cmdline") ", "
		KEEP("cgroup") ", " KEEP("container_id") ", " KEEP("k8s_namespace") ","
		" " KEEP("pod") ", " KEEP("pod_uid") ", " KEEP("container") ", " KEEP("workload_kind") ","
		" " KEEP("workload_name") ", " KEEP("service_account") ", " KEEP("image") ","
		" cgroup_id = excluded.cgroup_id,"
		" first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen)",
	/* the names of a pod (?1) reach the processes described before the watcher knew it */
	[AP_POD_ENRICH] =
		"UPDATE processes SET pod = ?2, k8s_namespace = ?3, workload_kind = ?4,"
		" workload_name = ?5, service_account = ?6 WHERE pod_uid = ?1 AND pod = ''",
	[AP_CONTAINER_ENRICH] =
		"UPDATE processes SET container = ?3, image = ?4 WHERE pod_uid = ?1"
		" AND container_id = ?2 AND container = ''",
	[AP_TOKEN_UPSERT] =
		"INSERT INTO tokens (" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
		" ON CONFLICT (fingerprint) DO UPDATE SET " KEEP("token_type") ", " KEEP("scheme") ", "
		KEEP("header") ", " KEEP("token_prefix") ", token_length = excluded.token_length,"
		" has_checksum = excluded.has_checksum, checksum_valid = excluded.checksum_valid,"
		" confidence = excluded.confidence, " KEEP("key_id") ", " KEEP("aws_key_kind") ", "
		KEEP("aws_account") ", " KEEP("aws_region") ", " KEEP("aws_service") ", "
		KEEP("basic_user") ", " KEEP("basic_password_type") ", " KEEP("jwt_json") ","
		" first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen),"
		" requests = requests + excluded.requests",
	/*
	 * The upsert's outcome when the metadata and first_seen would stay
	 * as they are: only last_seen and requests change, without the
	 * insert attempt and the CASEs, and the first_seen page index is
	 * left alone (SQLite rewrites the entries of every index on a column
	 * an UPDATE sets, changed or not). Same parameters; no row changed
	 * means the upsert has to run.
	 */
	[AP_TOKEN_COUNTERS] =
		"UPDATE tokens SET last_seen = MAX(last_seen, ?19), requests = requests + ?20"
		" WHERE fingerprint = ?1 AND first_seen <= ?18 AND " SAME("token_type", "2")
		" AND " SAME("scheme", "3") " AND " SAME("header", "4") " AND "
		SAME("token_prefix", "5") " AND token_length = ?6 AND has_checksum = ?7"
		" AND checksum_valid = ?8 AND confidence = ?9 AND " SAME("key_id", "10") " AND "
		SAME("aws_key_kind", "11") " AND " SAME("aws_account", "12") " AND "
		SAME("aws_region", "13") " AND " SAME("aws_service", "14") " AND "
		SAME("basic_user", "15") " AND " SAME("basic_password_type", "16") " AND "
		SAME("jwt_json", "17"),
	/*
	 * An observation's row is found by its derived id and checked
	 * against its identity: an id held by another identity updates
	 * nothing and the caller probes the next id. Only counts, times,
	 * node and tls change after the first sighting; method and path stay
	 * those of the triple's first request.
	 */
	[AP_OBS_UPDATE] =
		"UPDATE obs_counts SET first_seen = MIN(first_seen, ?8),"
		" last_seen = MAX(last_seen, ?9), requests = requests + ?10, node = ?11,"
		" tls = MAX(tls, ?12) WHERE id = ?1 AND EXISTS (SELECT 1 FROM obs_ident"
		" WHERE id = ?1 AND fingerprint = ?2 AND sensor_id = ?3 AND pid = ?4 AND exe = ?5"
		" AND dst = ?6 AND host = ?7)",
	/* the counters row follows only when this inserted the identity */
	[AP_OBS_INSERT] =
		"INSERT OR IGNORE INTO obs_ident (id, fingerprint, sensor_id, pid, exe, dst, host,"
		" uid, comm, cgroup_id, src, tls_library, method, path) VALUES (?1, ?2, ?3, ?4, ?5,"
		" ?6, ?7, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[AP_OBS_COUNTS_INSERT] =
		"INSERT INTO obs_counts (id, first_seen, last_seen, requests, tls, node)"
		" VALUES (?1, ?8, ?9, ?10, ?12, ?11)",
	/* an id already verified to hold the identity (store_obs_cache.h) */
	[AP_OBS_COUNTS_UPDATE] =
		"UPDATE obs_counts SET first_seen = MIN(first_seen, ?2),"
		" last_seen = MAX(last_seen, ?3), requests = requests + ?4, node = ?5,"
		" tls = MAX(tls, ?6) WHERE id = ?1",
	[AP_USAGE_UPSERT] = "INSERT INTO usage (obs_id, minute, count) VALUES (?1, ?2, ?3)"
			    " ON CONFLICT (obs_id, minute) DO UPDATE SET count = count + excluded.count",
	[AP_USAGE_UPSERT_MANY] = "INSERT INTO usage (obs_id, minute, count) VALUES " USAGE_64
				 " ON CONFLICT (obs_id, minute) DO UPDATE SET count = count + excluded.count",
	[AP_SEEN_LOG_INSERT] =
		"INSERT INTO seen_log (fingerprint, sensor_id, node, ts, pid, uid, comm, exe, src, dst,"
		" host, tls, method, path, header, in_query) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[AP_HELD_UPSERT] =
		"INSERT INTO held (fingerprint, sensor_id, node, pid, start_time, uid, exe, source,"
		" name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
		" ON CONFLICT (fingerprint, sensor_id, pid, start_time, exe, source, name) DO UPDATE"
		" SET first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen), node = excluded.node",
	/* a token only held so far: known, never used (requests 0); use fills the rest */
	[AP_TOKEN_INSERT_HELD] =
		"INSERT OR IGNORE INTO tokens (" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
	/* a sensor ran its revocation command for a marked token */
	[AP_REVOKE_MARK_DONE] = "UPDATE revoke_marks SET done_at = ?2, done_node = ?3, outcome = ?4"
				" WHERE fingerprint = ?1",
	[AP_REVOCATION_INSERT] = "INSERT INTO revocations (fingerprint, finding_id, hook, ts, outcome,"
				 " exit_code, http_status, detail) VALUES (?1, 0, ?2, ?3, ?4, ?5, 0,"
				 " ?6)",
	/* the newest report names the cause; a replayed older one only widens the times */
	[AP_COVERAGE_UPSERT] =
		"INSERT INTO coverage (sensor_id, node, exe, dst, cause, detail, container_id, pod_uid,"
		" pid, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
		" ON CONFLICT (sensor_id, exe, dst) DO UPDATE SET node = excluded.node,"
		" cause = CASE WHEN excluded.last_seen >= last_seen THEN excluded.cause ELSE cause END,"
		" detail = CASE WHEN excluded.last_seen >= last_seen THEN excluded.detail ELSE detail END,"
		" container_id = excluded.container_id, pod_uid = excluded.pod_uid,"
		" pid = CASE WHEN excluded.last_seen >= last_seen THEN excluded.pid ELSE pid END,"
		" first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen), reports = reports + 1",
};

const struct sq_stmts sqlite_apply_stmts = { apply_sql, AP__COUNT, NULL };

static sqlite3_stmt *stmt(struct sqlite_store *st, enum apply_stmt i)
{
	return sq_stmt(&st->stmts[SQM_APPLY], i);
}


/* One token mention of the batch; mentions are merged per fingerprint. */
struct tok_note {
	const Tokentap__V1__Token *t;
	uint64_t key; /* the fingerprint's first 8 bytes, big-endian: strcmp's order */
	size_t order;
	int64_t first, last;
	uint64_t requests;
};

/* An observation id this batch verified or created; cached after commit. */
struct obs_note {
	uint8_t digest[OBS_DIGEST_LEN];
	int64_t id;
};

/* A usage row of the batch; written together at the end. */
struct usage_note {
	int64_t obs_id, minute, count;
	ptrdiff_t pend; /* >= 0: obs_id is c->pend[pend].id, final after flush_counts */
};

/*
 * A counters update of an id the cache vouches for, deferred to the end
 * of the batch so an id gets one update per batch, in id order. The
 * event's identity is kept for the case the row is not there after all.
 */
struct pend_note {
	int64_t id;
	int64_t first, last;
	uint64_t requests;
	int tls;
	const Tokentap__V1__Token *t;
	const Tokentap__V1__ProcessRef *p;
	const Tokentap__V1__Destination *d;
	const char *method, *path;
};

struct apply_ctx {
	struct sqlite_store *st;
	struct sq_err e;
	const Tokentap__V1__Batch *b;
	int64_t now_ms;
	struct tok_note *notes;   /* one per token event, n_events at most */
	size_t n_notes;
	struct obs_note *fresh;   /* n_events at most */
	size_t n_fresh;
	struct usage_note *usage; /* n_events at most */
	size_t n_usage;
	struct pend_note *pend;   /* n_events at most */
	size_t n_pend;
	struct pend_note **ord;   /* pend entries in id order */
	ptrdiff_t last_pend;      /* the pend entry of the last upsert_obs, or -1 */
};

static void bind_token(sqlite3_stmt *s, const Tokentap__V1__Token *t, int64_t first, int64_t last,
		       uint64_t requests)
{
	sq_bind_text_static(s, 1, t->fingerprint);
	sq_bind_text_static(s, 2, t->token_type);
	sq_bind_text_static(s, 3, t->scheme);
	sq_bind_text_static(s, 4, t->header);
	sq_bind_text_static(s, 5, t->token_prefix);
	sqlite3_bind_int64(s, 6, t->token_length);
	sqlite3_bind_int(s, 7, !!t->has_checksum);
	sqlite3_bind_int(s, 8, !!t->checksum_valid);
	sqlite3_bind_int64(s, 9, t->confidence);
	sq_bind_text_static(s, 10, t->key_id);
	sq_bind_text_static(s, 11, t->aws_key_kind);
	sq_bind_text_static(s, 12, t->aws_account);
	sq_bind_text_static(s, 13, t->aws_region);
	sq_bind_text_static(s, 14, t->aws_service);
	sq_bind_text_static(s, 15, t->basic_user);
	sq_bind_text_static(s, 16, t->basic_password_type);
	sq_bind_text_static(s, 17, t->jwt_json);
	sqlite3_bind_int64(s, 18, first);
	sqlite3_bind_int64(s, 19, last);
	sqlite3_bind_int64(s, 20, (int64_t)requests);
}

/* The counters alone when the metadata is unchanged (the usual case), else the upsert. */
static int upsert_token(struct apply_ctx *c, const Tokentap__V1__Token *t, int64_t first,
			int64_t last, uint64_t requests)
{
	sqlite3_stmt *s = stmt(c->st, AP_TOKEN_COUNTERS);

	bind_token(s, t, first, last, requests);
	if (sq_run(&c->e, s, "token") < 0)
		return -1;
	if (sqlite3_changes(c->st->db) == 1)
		return 0;
	s = stmt(c->st, AP_TOKEN_UPSERT);
	bind_token(s, t, first, last, requests);
	return sq_run(&c->e, s, "token");
}

#define OBS_MAX_PROBES 64

/* Updates the counters of an id known to hold the identity; 1 done, 0 no row, -1 error. */
static int update_counts(struct apply_ctx *c, int tls, int64_t id, int64_t first, int64_t last,
			 uint64_t requests)
{
	sqlite3_stmt *s = stmt(c->st, AP_OBS_COUNTS_UPDATE);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, first);
	sqlite3_bind_int64(s, 3, last);
	sqlite3_bind_int64(s, 4, (int64_t)requests);
	sq_bind_text_static(s, 5, c->b->node);
	sqlite3_bind_int(s, 6, tls);
	if (sq_run(&c->e, s, "observation") < 0)
		return -1;
	return sqlite3_changes(c->st->db) == 1;
}

/* The identity and the counts, bound alike in the update and the insert. */
static void bind_obs(sqlite3_stmt *s, struct apply_ctx *c, const Tokentap__V1__Token *t,
		     const Tokentap__V1__ProcessRef *p, const Tokentap__V1__Destination *d,
		     int64_t first, int64_t last, uint64_t requests)
{
	sq_bind_text_static(s, 2, t->fingerprint);
	sq_bind_text_static(s, 3, c->b->sensor_id);
	sqlite3_bind_int64(s, 4, p->pid);
	sq_bind_text_static(s, 5, p->exe);
	sq_bind_text_static(s, 6, d->dst);
	sq_bind_text_static(s, 7, d->host);
	sqlite3_bind_int64(s, 8, first);
	sqlite3_bind_int64(s, 9, last);
	sqlite3_bind_int64(s, 10, (int64_t)requests);
	sq_bind_text_static(s, 11, c->b->node);
	sqlite3_bind_int(s, 12, !!d->tls);
}

/* What the insert adds to the identity: kept as of the triple's first request. */
static void bind_obs_detail(sqlite3_stmt *s, const Tokentap__V1__ProcessRef *p,
			    const Tokentap__V1__Destination *d, const char *method, const char *path)
{
	sqlite3_bind_int64(s, 13, p->uid);
	sq_bind_text_static(s, 14, p->comm);
	sqlite3_bind_int64(s, 15, (int64_t)p->cgroup_id);
	sq_bind_text_static(s, 16, d->src);
	sq_bind_text_static(s, 17, d->tls_library);
	sq_bind_text_static(s, 18, method);
	sq_bind_text_static(s, 19, path);
}

/* The counters row of an identity just inserted; the id, or -1. */
static int64_t insert_counts(struct apply_ctx *c, const Tokentap__V1__Token *t,
			     const Tokentap__V1__ProcessRef *p, const Tokentap__V1__Destination *d,
			     int64_t id, int64_t first, int64_t last, uint64_t requests)
{
	sqlite3_stmt *s = stmt(c->st, AP_OBS_COUNTS_INSERT);

	bind_obs(s, c, t, p, d, first, last, requests);
	sqlite3_bind_int64(s, 1, id);
	return sq_run(&c->e, s, "observation") < 0 ? -1 : id;
}

/* Keeps the id verified by this batch (its digest is already in place). */
static int64_t fresh_id(struct apply_ctx *c, int64_t id, int known)
{
	if (known)
		c->fresh[c->n_fresh++].id = id;
	return id;
}

/* Returns the observation id, or -1. */
static int64_t upsert_obs(struct apply_ctx *c, const Tokentap__V1__Token *t,
			  const Tokentap__V1__ProcessRef *p, const Tokentap__V1__Destination *d,
			  const char *method, const char *path, int64_t first, int64_t last,
			  uint64_t requests, int verify)
{
	static const Tokentap__V1__Destination no_dst = TOKENTAP__V1__DESTINATION__INIT;
	struct obs_note *fresh = &c->fresh[c->n_fresh];
	sqlite3_stmt *up, *ins;
	int64_t id;
	int known;

	c->last_pend = -1;
	if (!d)
		d = &no_dst;
	known = store_obs_digest(c->st->hasher, t->fingerprint, c->b->sensor_id, p->pid, p->exe,
				 d->dst, d->host, fresh->digest) == 0;
	id = known && !verify ? obs_cache_get(c->st->verified, fresh->digest) : 0;
	if (id) {
		c->last_pend = (ptrdiff_t)c->n_pend;
		c->pend[c->n_pend++] = (struct pend_note){ id, first, last, requests, !!d->tls,
							    t, p, d, method, path };
		return id;
	}
	if (verify)
		/* not where it was: verify from scratch */
		obs_cache_drop(c->st->verified, fresh->digest);
	/* no digest is not expected; probing from 1 still finds the right row */
	id = known ? store_obs_id_of(fresh->digest) : 1;
	up = stmt(c->st, AP_OBS_UPDATE);
	bind_obs(up, c, t, p, d, first, last, requests);
	ins = NULL;
	for (int probe = 0; probe < OBS_MAX_PROBES; probe++) {
		/* the common case: the row exists */
		sqlite3_bind_int64(up, 1, id);
		if (sq_run(&c->e, up, "observation") < 0)
			return -1;
		if (sqlite3_changes(c->st->db) == 1)
			return fresh_id(c, id, known);
		if (!ins) {
			ins = stmt(c->st, AP_OBS_INSERT);
			bind_obs(ins, c, t, p, d, first, last, requests);
			bind_obs_detail(ins, p, d, method, path);
		}
		sqlite3_bind_int64(ins, 1, id);
		if (sq_run(&c->e, ins, "observation") < 0)
			return -1;
		if (sqlite3_changes(c->st->db) == 1)
			return insert_counts(c, t, p, d, id, first, last, requests) < 0 ?
				       -1 : fresh_id(c, id, known);
		/* that id belongs to another identity */
		id = store_obs_id_next(id);
	}
	snprintf(c->e.buf, c->e.len, "observation: no free id after %d probes", OBS_MAX_PROBES);
	return -1;
}

static void note_token(struct apply_ctx *c, const Tokentap__V1__Token *t, int64_t first,
		       int64_t last, uint64_t requests)
{
	const unsigned char *f = (const unsigned char *)t->fingerprint;
	uint64_t key = 0;
	int end = 0;

	/* a shorter fingerprint is padded with 0, as strcmp sees its end */
	for (int i = 0; i < 8; i++) {
		end = end || !f[i];
		key = key << 8 | (end ? 0 : f[i]);
	}
	c->notes[c->n_notes] = (struct tok_note){ t, key, c->n_notes, first, last, requests };
	c->n_notes++;
}

/* strcmp's order, mostly decided by the keys without reaching the strings. */
static int note_cmp(const void *a, const void *b)
{
	const struct tok_note *x = a, *y = b;
	int r = x->key != y->key ? (x->key < y->key ? -1 : 1) :
				   strcmp(x->t->fingerprint, y->t->fingerprint);

	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * One upsert per token of the batch instead of one per event: most events
 * of a batch share a few tokens. Sorting (not hashing) keeps the worst
 * case of a crafted batch at n log n. The latest mention's metadata wins.
 */
static int flush_tokens(struct apply_ctx *c)
{
	qsort(c->notes, c->n_notes, sizeof(*c->notes), note_cmp);
	for (size_t i = 0; i < c->n_notes;) {
		struct tok_note sum = c->notes[i];
		size_t j = i + 1;

		for (; j < c->n_notes && !strcmp(c->notes[j].t->fingerprint, sum.t->fingerprint); j++) {
			sum.t = c->notes[j].t;
			sum.first = c->notes[j].first < sum.first ? c->notes[j].first : sum.first;
			sum.last = c->notes[j].last > sum.last ? c->notes[j].last : sum.last;
			sum.requests += c->notes[j].requests;
		}
		if (upsert_token(c, sum.t, sum.first, sum.last, sum.requests) < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* The sighting's detail, for the risk engine and for forensics. */
static int log_seen(struct apply_ctx *c, const Tokentap__V1__TokenSeen *e)
{
	static const Tokentap__V1__Destination no_dst = TOKENTAP__V1__DESTINATION__INIT;
	const Tokentap__V1__Destination *d = e->destination ? e->destination : &no_dst;
	sqlite3_stmt *s = stmt(c->st, AP_SEEN_LOG_INSERT);

	sq_bind_text_static(s, 1, e->token->fingerprint);
	sq_bind_text_static(s, 2, c->b->sensor_id);
	sq_bind_text_static(s, 3, c->b->node);
	sqlite3_bind_int64(s, 4, e->ts_ms);
	sqlite3_bind_int64(s, 5, e->process->pid);
	sqlite3_bind_int64(s, 6, e->process->uid);
	sq_bind_text_static(s, 7, e->process->comm);
	sq_bind_text_static(s, 8, e->process->exe);
	sq_bind_text_static(s, 9, d->src);
	sq_bind_text_static(s, 10, d->dst);
	sq_bind_text_static(s, 11, d->host);
	sqlite3_bind_int(s, 12, !!d->tls);
	sq_bind_text_static(s, 13, e->method);
	sq_bind_text_static(s, 14, e->path);
	sq_bind_text_static(s, 15, e->token->header);
	sqlite3_bind_int(s, 16, !!e->token->in_query);
	return sq_run(&c->e, s, "seen log");
}

static int apply_seen(struct apply_ctx *c, const Tokentap__V1__TokenSeen *e)
{
	note_token(c, e->token, e->ts_ms, e->ts_ms, 0);
	if (log_seen(c, e) < 0)
		return -1;
	return upsert_obs(c, e->token, e->process, e->destination, e->method, e->path, e->ts_ms,
			  e->ts_ms, 0, 0) < 0 ? -1 : 0;
}

static int apply_held(struct apply_ctx *c, const Tokentap__V1__TokenHeld *e)
{
	sqlite3_stmt *s = stmt(c->st, AP_TOKEN_INSERT_HELD);

	bind_token(s, e->token, e->ts_ms, e->ts_ms, 0);
	if (sq_run(&c->e, s, "token") < 0)
		return -1;
	s = stmt(c->st, AP_HELD_UPSERT);
	sq_bind_text_static(s, 1, e->token->fingerprint);
	sq_bind_text_static(s, 2, c->b->sensor_id);
	sq_bind_text_static(s, 3, c->b->node);
	sqlite3_bind_int64(s, 4, e->process->pid);
	sqlite3_bind_int64(s, 5, e->process_start_ms);
	sqlite3_bind_int64(s, 6, e->process->uid);
	sq_bind_text_static(s, 7, e->process->exe);
	sq_bind_text_static(s, 8, e->source == TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV ? "argv" : "environ");
	sq_bind_text_static(s, 9, e->name);
	sqlite3_bind_int64(s, 10, e->ts_ms);
	return sq_run(&c->e, s, "held");
}

static int apply_usage(struct apply_ctx *c, const Tokentap__V1__TokenUsage *e)
{
	/* the last request's time; first_seen takes the minimum over events,
	 * so a triple whose TokenSeen arrived keeps that exact time */
	int64_t last = e->last_seen_ms ? e->last_seen_ms : e->end_ms ? e->end_ms : e->start_ms;
	int64_t id;

	note_token(c, e->token, last, last, e->count);
	id = upsert_obs(c, e->token, e->process, e->destination, e->method, e->path, last, last,
			e->count, 0);
	if (id < 0)
		return -1;
	c->usage[c->n_usage++] = (struct usage_note){ id, last - last % MINUTE_MS, (int64_t)e->count,
						      c->last_pend };
	return 0;
}

/* By id, then in event order (the entries' addresses). */
static int pend_cmp(const void *a, const void *b)
{
	const struct pend_note *x = *(struct pend_note *const *)a, *y = *(struct pend_note *const *)b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x > y) - (x < y);
}

/* One id's deferred updates summed: the same MIN, MAX, sum and MAX as one by one. */
struct pend_sum {
	int64_t id, first, last;
	uint64_t requests;
	int tls;
	size_t from, to; /* its entries: ord[from..to) */
};

/* The row was not there: each event of it goes the verifying way. */
static int pend_redo(struct apply_ctx *c, const struct pend_sum *m)
{
	for (size_t k = m->from; k < m->to; k++) {
		struct pend_note *e = c->ord[k];
		int64_t id = upsert_obs(c, e->t, e->p, e->d, e->method, e->path, e->first, e->last,
					e->requests, 1);

		if (id < 0)
			return -1;
		e->id = id;
	}
	return 0;
}

/*
 * The deferred counters, one update per id in id order: neighbouring ids
 * share pages, and an id's events of the batch add up first. An id the
 * cache was wrong about is dropped from it and its events are verified
 * and stored one by one, as before.
 */
static int flush_counts(struct apply_ctx *c)
{
	size_t i = 0;

	for (size_t k = 0; k < c->n_pend; k++)
		c->ord[k] = &c->pend[k];
	qsort(c->ord, c->n_pend, sizeof(*c->ord), pend_cmp);
	while (i < c->n_pend) {
		const struct pend_note *e = c->ord[i];
		struct pend_sum m = { e->id, e->first, e->last, e->requests, e->tls, i, i + 1 };
		int rc;

		for (i++; i < c->n_pend && c->ord[i]->id == m.id; i++) {
			uint64_t sum;

			e = c->ord[i];
			/* an overflowing sum goes in two updates, as SQLite would add it */
			if (__builtin_add_overflow(m.requests, e->requests, &sum) || sum > INT64_MAX)
				break;
			m.requests = sum;
			m.first = e->first < m.first ? e->first : m.first;
			m.last = e->last > m.last ? e->last : m.last;
			m.tls = e->tls > m.tls ? e->tls : m.tls;
			m.to = i + 1;
		}
		rc = update_counts(c, m.tls, m.id, m.first, m.last, m.requests);
		if (rc < 0 || (rc == 0 && pend_redo(c, &m) < 0))
			return -1;
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

/*
 * The batch's usage rows, in key order and USAGE_ROWS per
 * statement: one statement per event cost more than the rows it wrote.
 * Rows of one key are summed first; a sum that would overflow stays two
 * rows so SQLite adds them exactly as before.
 */
static int flush_usage(struct apply_ctx *c)
{
	struct usage_note *u = c->usage;
	size_t n = 0, i = 0;

	for (size_t j = 0; j < c->n_usage; j++)
		if (u[j].pend >= 0)
			u[j].obs_id = c->pend[u[j].pend].id;
	qsort(u, c->n_usage, sizeof(*u), usage_cmp);
	for (size_t j = 0; j < c->n_usage; j++) {
		int64_t sum;

		if (n && u[n - 1].obs_id == u[j].obs_id && u[n - 1].minute == u[j].minute &&
		    !__builtin_add_overflow(u[n - 1].count, u[j].count, &sum)) {
			u[n - 1].count = sum;
			continue;
		}
		u[n++] = u[j];
	}
	for (; n - i >= USAGE_ROWS; i += USAGE_ROWS) {
		sqlite3_stmt *s = stmt(c->st, AP_USAGE_UPSERT_MANY);

		for (int k = 0; k < USAGE_ROWS; k++) {
			sqlite3_bind_int64(s, 3 * k + 1, u[i + k].obs_id);
			sqlite3_bind_int64(s, 3 * k + 2, u[i + k].minute);
			sqlite3_bind_int64(s, 3 * k + 3, u[i + k].count);
		}
		if (sq_run(&c->e, s, "usage") < 0)
			return -1;
	}
	for (; i < n; i++) {
		sqlite3_stmt *s = stmt(c->st, AP_USAGE_UPSERT);

		sqlite3_bind_int64(s, 1, u[i].obs_id);
		sqlite3_bind_int64(s, 2, u[i].minute);
		sqlite3_bind_int64(s, 3, u[i].count);
		if (sq_run(&c->e, s, "usage") < 0)
			return -1;
	}
	return 0;
}

static int apply_process(struct apply_ctx *c, const Tokentap__V1__ProcessInfo *e)
{
	sqlite3_stmt *s = stmt(c->st, AP_PROCESS_UPSERT);
	int64_t seen = c->b->sent_at_ms > 0 ? c->b->sent_at_ms : c->now_ms;

	sq_bind_text_static(s, 1, c->b->sensor_id);
	sqlite3_bind_int64(s, 2, e->pid);
	sqlite3_bind_int64(s, 3, e->start_time_ms);
	sq_bind_text_static(s, 4, c->b->node);
	sqlite3_bind_int64(s, 5, e->ppid);
	sqlite3_bind_int64(s, 6, e->uid);
	sq_bind_text_static(s, 7, e->exe);
	sq_bind_text_static(s, 8, e->cmdline);
	sq_bind_text_static(s, 9, e->cgroup);
	sq_bind_text_static(s, 10, e->container_id);
	sq_bind_text_static(s, 13, e->k8s_namespace);
	sqlite3_bind_int64(s, 11, (int64_t)e->cgroup_id);
	sqlite3_bind_int64(s, 12, seen);
	sq_bind_text_static(s, 14, e->pod);
	sq_bind_text_static(s, 15, e->pod_uid);
	sq_bind_text_static(s, 16, e->container);
	sq_bind_text_static(s, 17, e->workload_kind);
	sq_bind_text_static(s, 18, e->workload_name);
	sq_bind_text_static(s, 19, e->service_account);
	sq_bind_text_static(s, 20, e->image);
	if (sq_run(&c->e, s, "process") < 0)
		return -1;
	if (!e->pod_uid || !e->pod_uid[0] || !e->pod || !e->pod[0])
		return 0;
	s = stmt(c->st, AP_POD_ENRICH);
	sq_bind_text_static(s, 1, e->pod_uid);
	sq_bind_text_static(s, 2, e->pod);
	sq_bind_text_static(s, 3, e->k8s_namespace);
	sq_bind_text_static(s, 4, e->workload_kind);
	sq_bind_text_static(s, 5, e->workload_name);
	sq_bind_text_static(s, 6, e->service_account);
	if (sq_run(&c->e, s, "process pod") < 0)
		return -1;
	if (!e->container_id || !e->container_id[0] || !e->container || !e->container[0])
		return 0;
	s = stmt(c->st, AP_CONTAINER_ENRICH);
	sq_bind_text_static(s, 1, e->pod_uid);
	sq_bind_text_static(s, 2, e->container_id);
	sq_bind_text_static(s, 3, e->container);
	sq_bind_text_static(s, 4, e->image);
	return sq_run(&c->e, s, "process container");
}

/* The counters as a JSON object, named as in the proto. */
static int apply_status(struct apply_ctx *c, const Tokentap__V1__SensorStatus *e)
{
	const ProtobufCMessageDescriptor *d = e->base.descriptor;
	struct json_object *o = json_object_new_object();
	sqlite3_stmt *s;
	int rc;

	if (!o)
		return sq_fail(&c->e, "out of memory");
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)e + f->offset;
		uint64_t v;

		if (f->type == PROTOBUF_C_TYPE_UINT32)
			v = *(const uint32_t *)(const void *)p;
		else if (f->type == PROTOBUF_C_TYPE_UINT64)
			v = *(const uint64_t *)(const void *)p;
		else
			continue; /* ts_ms is kept in its own column */
		json_object_object_add(o, f->name, json_object_new_uint64(v));
	}
	s = stmt(c->st, AP_SENSOR_STATUS);
	sq_bind_text_static(s, 1, c->b->sensor_id);
	sqlite3_bind_int64(s, 2, e->ts_ms);
	sq_bind_text(s, 3, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	rc = sq_run(&c->e, s, "sensor status");
	json_object_put(o);
	return rc;
}

/* A sensor ran its revocation command for a marked token: the mark is done. */
static int apply_revocation(struct apply_ctx *c, const Tokentap__V1__RevocationResult *e)
{
	char hook[300];
	sqlite3_stmt *s = stmt(c->st, AP_REVOKE_MARK_DONE);

	sq_bind_text_static(s, 1, e->fingerprint);
	sqlite3_bind_int64(s, 2, e->ts_ms);
	sq_bind_text_static(s, 3, c->b->node);
	sq_bind_text_static(s, 4, e->outcome);
	if (sq_run(&c->e, s, "revocation") < 0)
		return -1;
	snprintf(hook, sizeof(hook), "sensor:%s", c->b->node ? c->b->node : "");
	s = stmt(c->st, AP_REVOCATION_INSERT);
	sq_bind_text_static(s, 1, e->fingerprint);
	sq_bind_text(s, 2, hook);
	sqlite3_bind_int64(s, 3, e->ts_ms);
	sq_bind_text_static(s, 4, e->outcome);
	sqlite3_bind_int(s, 5, e->exit_code);
	sq_bind_text_static(s, 6, e->detail);
	return sq_run(&c->e, s, "revocation");
}

/* A process whose TLS the sensor cannot see, and where it sent. */
static int apply_uncovered(struct apply_ctx *c, const Tokentap__V1__TlsUncovered *e)
{
	sqlite3_stmt *s = stmt(c->st, AP_COVERAGE_UPSERT);

	sq_bind_text_static(s, 1, c->b->sensor_id);
	sq_bind_text_static(s, 2, c->b->node);
	sq_bind_text_static(s, 3, e->process->exe);
	sq_bind_text_static(s, 4, e->dst);
	sq_bind_text_static(s, 5, e->cause);
	sq_bind_text_static(s, 6, e->detail);
	sq_bind_text_static(s, 7, e->container_id);
	sq_bind_text_static(s, 8, e->pod_uid);
	sqlite3_bind_int64(s, 9, e->process->pid);
	sqlite3_bind_int64(s, 10, e->ts_ms);
	return sq_run(&c->e, s, "coverage");
}

static int apply_event(struct apply_ctx *c, const Tokentap__V1__Event *e)
{
	switch (e->kind_case) {
	case TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN:
		return apply_seen(c, e->token_seen);
	case TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE:
		return apply_usage(c, e->token_usage);
	case TOKENTAP__V1__EVENT__KIND_PROCESS_INFO:
		return apply_process(c, e->process_info);
	case TOKENTAP__V1__EVENT__KIND_TOKEN_HELD:
		return apply_held(c, e->token_held);
	case TOKENTAP__V1__EVENT__KIND_REVOCATION_RESULT:
		return apply_revocation(c, e->revocation_result);
	case TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS:
		return apply_status(c, e->sensor_status);
	case TOKENTAP__V1__EVENT__KIND_TLS_UNCOVERED:
		return apply_uncovered(c, e->tls_uncovered);
	default:
		/* validation rejects these; never reached with a checked batch */
		snprintf(c->e.buf, c->e.len, "event without a kind");
		return -1;
	}
}

/* 1 applied, 0 duplicate, -1 error. */
static int apply_all(struct apply_ctx *c)
{
	const Tokentap__V1__Batch *b = c->b;
	sqlite3_stmt *s = stmt(c->st, AP_BATCH_INSERT);

	sq_bind_text_static(s, 1, b->sensor_id);
	sqlite3_bind_int64(s, 2, (int64_t)b->seq);
	sqlite3_bind_int64(s, 3, b->sent_at_ms);
	sqlite3_bind_int64(s, 4, c->now_ms);
	sqlite3_bind_int64(s, 5, (int64_t)b->n_events);
	if (sq_run(&c->e, s, "batch") < 0)
		return -1;
	if (sqlite3_changes(c->st->db) == 0)
		return 0;

	s = stmt(c->st, AP_SENSOR_UPSERT);
	sq_bind_text_static(s, 1, b->sensor_id);
	sq_bind_text_static(s, 2, b->node);
	sq_bind_text_static(s, 3, b->sensor_version);
	sqlite3_bind_int64(s, 4, c->now_ms);
	sqlite3_bind_int64(s, 5, (int64_t)b->seq);
	sqlite3_bind_int64(s, 6, (int64_t)b->n_events);
	if (sq_run(&c->e, s, "sensor") < 0)
		return -1;

	for (size_t i = 0; i < b->n_events; i++)
		if (apply_event(c, b->events[i]) < 0)
			return -1;
	if (flush_counts(c) < 0 || flush_usage(c) < 0)
		return -1;
	return flush_tokens(c) < 0 ? -1 : 1;
}

/* The scratch arrays of a batch, n_events entries each. */
static int ctx_alloc(struct apply_ctx *c, size_t n)
{
	c->notes = malloc(n * sizeof(*c->notes));
	c->fresh = malloc(n * sizeof(*c->fresh));
	c->usage = malloc(n * sizeof(*c->usage));
	c->pend = malloc(n * sizeof(*c->pend));
	c->ord = malloc(n * sizeof(*c->ord));
	return c->notes && c->fresh && c->usage && c->pend && c->ord ? 0 : -1;
}

static void ctx_free(struct apply_ctx *c)
{
	free(c->notes);
	free(c->fresh);
	free(c->usage);
	free(c->pend);
	free(c->ord);
}

enum store_result sqlite_apply_batch(struct store *base, const Tokentap__V1__Batch *b,
				     int64_t now_ms, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct apply_ctx c = { .st = st, .e = { st->db, err, errlen }, .b = b, .now_ms = now_ms,
			       .last_pend = -1 };
	enum store_result res = STORE_ERROR;
	int rc;

	if (ctx_alloc(&c, b->n_events ? b->n_events : 1) < 0) {
		snprintf(err, errlen, "out of memory");
		ctx_free(&c);
		return STORE_ERROR;
	}
	pthread_mutex_lock(&st->lock);
	if (sq_begin(&c.e, "begin") < 0)
		goto out;
	rc = apply_all(&c);
	if (rc <= 0) {
		/* a duplicate also rolls back: it changed nothing anyway */
		sq_rollback(st->db);
		res = rc == 0 ? STORE_DUPLICATE : STORE_ERROR;
		goto out;
	}
	if (sq_commit(&c.e, "commit") < 0)
		goto out;
	/* only committed rows are vouched for: a rolled-back id may go to another identity */
	for (size_t i = 0; i < c.n_fresh; i++)
		obs_cache_put(st->verified, c.fresh[i].digest, c.fresh[i].id);
	res = STORE_APPLIED;
out:
	pthread_mutex_unlock(&st->lock);
	ctx_free(&c);
	return res;
}
