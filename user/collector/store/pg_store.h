/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL backend of the store, for several collector replicas on
 * one database: a small pool of connections (HTTP threads do not queue
 * on one), one transaction per batch with the (sensor_id, seq) dedupe in
 * the database, bulk writes as array parameters, day partitions made on
 * demand, and a session advisory lock for the one replica that runs the
 * risk engine. What its modules share: the handle, the pool, the calls
 * between modules. Each module (pg_apply.c, pg_query.c, pg_alerts.c,
 * pg_risk.c) owns its statements, prepared per connection on first use.
 */
#ifndef TOKENTAP_PG_STORE_H
#define TOKENTAP_PG_STORE_H

#include <json-c/json.h>
#include <pthread.h>
#include "pg_schema.h"
#include "pg_util.h"
#include "store_backend.h"

/* Connections per store: HTTP workers plus the risk engine, without queueing. */
#define PG_POOL_SIZE 6
/*
 * Batch transactions of one replica at once, by default (store_set_writers).
 * Every batch rewrites the same hot rows (its tokens): more writers than the
 * database has CPUs for queue on those rows and on the CPUs, and the
 * database does less in all (ingest_bench -c: on 2 cores, 2 writers
 * ingest ~1.4 times what 4 do). HTTP threads beyond it wait their turn.
 */
#define PG_WRITERS_DEFAULT 2

struct obs_hasher;
struct obs_cache;

/* One pooled connection with what a thread needs beside it. */
struct pg_slot {
	struct pg_conn pc;
	struct obs_hasher *hasher;
	int busy;
};

/* Partition days known to exist, per table (a small set; misses ask the database). */
#define PG_PART_KNOWN 64

struct pg_store {
	struct store base;
	char *conninfo;
	int readonly;
	char replica_id[33]; /* random per process: whose claims are whose */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct pg_slot slots[PG_POOL_SIZE];
	/* batch transactions running and allowed at once, under lock */
	unsigned writers, writers_max;
	pthread_cond_t writer_done;
	pthread_mutex_t part_lock;
	int64_t part_days[PG_PART__COUNT][PG_PART_KNOWN];
	unsigned part_next[PG_PART__COUNT];
	/* observation ids known to hold their identity (store_obs_cache.h), for pg_apply.c */
	pthread_mutex_t verified_lock;
	struct obs_cache *verified;
	/* leadership: a session of its own holds the advisory lock */
	pthread_mutex_t lead_lock;
	PGconn *lead;
	int leader;
};

static inline struct pg_store *pg_of(struct store *st)
{
	return (struct pg_store *)st;
}

/* A connected slot of the pool (reconnected when it had dropped), or NULL with the reason. */
struct pg_slot *pg_acquire(struct pg_store *st, char *err, size_t errlen);
/* Gives the slot back; a transaction left open is rolled back. */
void pg_release(struct pg_store *st, struct pg_slot *s);
/* A batch transaction's turn among the store's writers, waited for; and its end. */
void pg_writer_enter(struct pg_store *st);
void pg_writer_leave(struct pg_store *st);

/*
 * Makes sure the partitions of table for the days of the times in ms[]
 * exist (outside any transaction of s). 0, or -1 with the reason.
 */
int pg_parts_ensure(struct pg_store *st, struct pg_slot *s, enum pg_part_table t,
		    const int64_t *ms, size_t n, int64_t now_ms, struct pg_err *e);

/* Transactions: BEGIN, COMMIT (rolled back when it fails), ROLLBACK. */
int pg_begin(struct pg_slot *s, struct pg_err *e);
int pg_commit(struct pg_slot *s, struct pg_err *e);
void pg_rollback(struct pg_slot *s);

/* A token's own columns, written by pg_apply.c and read by pg_query.c (enum token_col). */
#define PG_TOKEN_COLS                                                                        \
	"fingerprint, token_type, scheme, header, token_prefix, token_length, has_checksum, " \
	"checksum_valid, confidence, key_id, aws_key_kind, aws_account, aws_region, "          \
	"aws_service, basic_user, basic_password_type, jwt_json, first_seen, last_seen, requests"
enum pg_token_col {
	PTC_FINGERPRINT, PTC_TYPE, PTC_SCHEME, PTC_HEADER, PTC_PREFIX, PTC_LENGTH,
	PTC_HAS_CHECKSUM, PTC_CHECKSUM_VALID, PTC_CONFIDENCE, PTC_KEY_ID, PTC_AWS_KEY_KIND,
	PTC_AWS_ACCOUNT, PTC_AWS_REGION, PTC_AWS_SERVICE, PTC_BASIC_USER,
	PTC_BASIC_PASSWORD_TYPE, PTC_JWT, PTC_FIRST_SEEN, PTC_LAST_SEEN, PTC_REQUESTS,
};

/* A column of the newest process with the pid (and exe, when known) of row. */
#define PG_PROC_OF(row, col)                                                              \
	"(SELECT p." col " FROM processes p WHERE p.sensor_id = " row ".sensor_id AND p.pid = " \
	row ".pid AND (" row ".exe = '' OR p.exe = " row ".exe) ORDER BY p.start_time DESC"   \
	" LIMIT 1)"

/* The operations of store_backend.h, one module each. */
enum store_result pg_apply_batch(struct store *st, const Tokentap__V1__Batch *b, int64_t now_ms,
				 char *err, size_t errlen);
int pg_query_tokens(struct store *st, enum token_sort sort, struct json_object **out, char *err,
		    size_t errlen);
int pg_query_token_page(struct store *st, const struct token_page_query *q,
			struct json_object **out, char *err, size_t errlen);
int pg_query_token(struct store *st, const char *fingerprint, struct json_object **out,
		   char *err, size_t errlen);
int pg_query_coverage(struct store *st, struct json_object **out, char *err, size_t errlen);
int pg_query_sensors(struct store *st, struct json_object **out, char *err, size_t errlen);
int pg_query_alerts(struct store *st, const struct alert_filter *f, struct json_object **out,
		    char *err, size_t errlen);
int pg_pending_revocations(struct store *st, struct json_object *arr, unsigned max);
int pg_risk_pass(struct store *st, const struct risk_config *cfg, int64_t now_ms,
		 struct risk_pass_stats *stats, char *err, size_t errlen);
int pg_risk_due(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
		char *err, size_t errlen);
int pg_risk_record(struct store *st, const struct risk_action *a, int64_t now_ms,
		   const struct risk_outcome *o, char *err, size_t errlen);
int pg_leader(struct store *st);
int pg_set_writers(struct store *st, unsigned n);
int pg_retain(struct store *st, const struct retention_policy *p, int64_t now_ms,
	      struct retention_stats *stats, char *err, size_t errlen);

/* ---- between modules, on one slot ---- */

/* The alert of a finding, as in store_query_alerts; NULL when unknown. */
struct json_object *pg_alert_json(struct pg_slot *s, int64_t finding_id);
/* Open findings of a token, heaviest first. */
struct json_object *pg_open_reasons(struct pg_slot *s, const char *fingerprint);
/* Adds "risk", "held", "held_state" (full: "findings", "revocations") to a token object. */
int pg_add_risk(struct pg_slot *s, struct json_object *tok, const char *fingerprint, int full,
		struct pg_err *e);

#endif
