/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's store, as its callers (API, CLI, risk engine) see it: an
 * opaque handle and its operations. A batch is applied once per
 * (sensor_id, seq): a replay changes nothing. Queries answer json-c
 * objects, the same for the HTTP API and the CLI. Every operation is
 * thread-safe. The backend is chosen by store_open (store_backend.h): a
 * postgres:// or postgresql:// URL (or key=value conninfo) opens
 * PostgreSQL (pg_store.h), anything else is a SQLite file (sqlite_store.h).
 */
#ifndef TOKENTAP_STORE_H
#define TOKENTAP_STORE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include "tokentap/v1/events.pb-c.h"

struct store;
struct risk_config;

#define STORE_READONLY 1

enum store_result {
	STORE_APPLIED = 0,
	STORE_DUPLICATE = 1,
	STORE_ERROR = -1,
};

/*
 * Opens (creating when writable) the database at path (or PostgreSQL URL) (":memory:" for a
 * private in-memory one) and brings its schema up to date. A read-only
 * store requires the current schema. On error returns NULL and writes a
 * one-line reason to err.
 */
struct store *store_open(const char *path, int flags, char *err, size_t errlen);
void store_close(struct store *st);

/*
 * 1 when this process is the one that runs the risk engine and delivers
 * alerts: always with SQLite; with PostgreSQL the holder of the database's
 * leader lock, tried again at each call (every second or so), so another
 * replica takes over within seconds when the holder dies. 0 otherwise.
 */
int store_leader(struct store *st);

/*
 * At most n batches applied at once (PostgreSQL; default 2): callers' threads
 * beyond wait their turn. 0; -1 when n is out of the backend's range. A
 * backend with one writer (SQLite) accepts any n >= 1 and keeps its one.
 */
int store_set_writers(struct store *st, unsigned n);

/* The schema version of the database, or -1. */
int store_schema_version(struct store *st);

/*
 * Applies a validated batch in one transaction. now_ms is the receive
 * time (sensors' last_seen). On STORE_ERROR nothing was changed.
 */
enum store_result store_apply_batch(struct store *st, const Tokentap__V1__Batch *b, int64_t now_ms,
				    char *err, size_t errlen);

/* ---- the inventory ------------------------------------------------------ */

enum token_sort {
	TOKEN_SORT_LAST_SEEN,
	TOKEN_SORT_REQUESTS,
	TOKEN_SORT_RISK,
	TOKEN_SORT_FIRST_SEEN,
};

/*
 * "last_seen"/"requests"/"risk"/"first_seen" (NULL: last_seen). Returns -1
 * for other names.
 */
int token_sort_parse(const char *name, enum token_sort *out);

/* Every token, without the per-minute series. 0 and *out, or -1. */
int store_query_tokens(struct store *st, enum token_sort sort, struct json_object **out,
		       char *err, size_t errlen);

/*
 * One page of the inventory: tokens in sort order (the key descending,
 * then the fingerprint ascending), after a keyset cursor, filtered. Read
 * from per-token summary columns and their indexes (first/last seen,
 * requests and the risk score, kept at apply and scoring time), so a page
 * costs the same with ten or ten million tokens behind it.
 */
#define TOKEN_PAGE_MAX 500
#define TOKEN_PAGE_DEFAULT 100

enum token_held_filter {
	TOKEN_HELD_ANY,
	TOKEN_HELD_AND_USED,   /* found in a process and used */
	TOKEN_HELD_NEVER_USED, /* found in a process, never sent */
	TOKEN_USED_NOT_HELD,   /* sent, never found in a process */
};

struct token_page_query {
	enum token_sort sort;
	unsigned limit;           /* 1..TOKEN_PAGE_MAX */
	int has_cursor;           /* 0: the first page */
	int64_t after_key;        /* the cursor: the last row's sort key ... */
	char after_fp[33];        /* ... and fingerprint */
	/* filters; NULL or "" is any */
	const char *token_type;
	const char *k8s_namespace; /* a process that used it ran in this namespace */
	const char *workload;      /* ... was this "namespace/exe" (or "exe" outside Kubernetes) */
	const char *node;          /* ... ran on this node */
	const char *fp_prefix;     /* lowercase hexadecimal, 32 at most */
	enum token_held_filter held;
	int min_risk;              /* 0..100, or -1 for any (tokens not assessed included) */
};

/* The first page by sort, TOKEN_PAGE_DEFAULT rows, no filter. */
void token_page_query_init(struct token_page_query *q, enum token_sort sort);

/*
 * The cursor after a row: "KEY.FINGERPRINT", opaque to callers. buf holds
 * TOKEN_CURSOR_LEN bytes.
 */
#define TOKEN_CURSOR_LEN 56
void token_cursor_format(int64_t key, const char *fp, char *buf);
/* Sets q's cursor from its text; -1 (q unchanged) when it is not one. */
int token_cursor_parse(const char *text, struct token_page_query *q);
/* "held_and_used"/"held_never_used"/"used_not_held" (NULL or "": any); -1 otherwise. */
int token_held_parse(const char *name, enum token_held_filter *out);
/* 1 when s is "" or at most 32 lowercase hexadecimal characters. */
int token_fp_prefix_valid(const char *s);

/*
 * {"tokens": [...as store_query_tokens...], "next_cursor": "..."} (no
 * next_cursor on the last page). 0 and *out, or -1.
 */
int store_query_token_page(struct store *st, const struct token_page_query *q,
			   struct json_object **out, char *err, size_t errlen);

/*
 * The forensics view of one token, with "usage" and "observations", and
 * "usage_split": the per-minute counts by node and executable
 * ({minute, node, exe, count}, oldest first; a minute's rows sum to its
 * "usage" count).
 * 1 found (*out set), 0 unknown fingerprint, -1 error.
 */
int store_query_token(struct store *st, const char *fingerprint, struct json_object **out,
		      char *err, size_t errlen);

/*
 * What the sensors cannot see (coverage_rows.h): per node and executable,
 * covered or not, why, destinations, last seen. 0 and *out (an array), or -1.
 */
int store_query_coverage(struct store *st, struct json_object **out, char *err, size_t errlen);

/* Every sensor with its last status. 0 and *out, or -1. */
int store_query_sensors(struct store *st, struct json_object **out, char *err, size_t errlen);

/* ---- alerts ------------------------------------------------------------- */

struct alert_filter {
	int min_severity;        /* enum risk_severity; 0 all */
	const char *fingerprint; /* NULL: every token */
	int64_t since_ms;        /* findings first seen at or after; 0 all */
	unsigned limit;          /* 0: 1000 */
};

/*
 * Alerts (findings with their token and delivery log), newest first.
 * 0 and *out (an array), or -1.
 */
int store_query_alerts(struct store *st, const struct alert_filter *f, struct json_object **out,
		       char *err, size_t errlen);

/*
 * Fingerprints marked for sensor-side revocation and not done yet, oldest
 * first, appended to arr (at most max). Returns the number, or -1.
 */
#define STORE_REVOKE_REPLY_MAX 64
int store_pending_revocations(struct store *st, struct json_object *arr, unsigned max);

/* ---- the risk engine's work on the store ------------------------------- */

/*
 * One pass evaluates what was learnt since the previous pass (first
 * sightings, held tokens, use after silence, held tokens never used),
 * records findings once per (token, rule, subject), keeps each token's
 * baseline, rescores the tokens touched, and queues alert deliveries and
 * revocation hooks in the outbox. The rules themselves are pure (risk.h).
 */
struct risk_pass_stats {
	unsigned seen;      /* first sightings evaluated */
	unsigned held;      /* held rows evaluated */
	unsigned findings;  /* new findings */
	unsigned scored;    /* tokens rescored */
};

/*
 * Rows read per pass at most: a backlog is worked off over several passes,
 * and a pass holds the store (ingest waits) for a few tens of ms at most.
 */
#define RISK_PASS_ROWS 500

/* One pass at now_ms. 0, or -1 with a one-line reason (nothing changed). */
int store_risk_pass(struct store *st, const struct risk_config *cfg, int64_t now_ms,
		    struct risk_pass_stats *stats, char *err, size_t errlen);

/* One queued action (alert delivery or revocation hook) that is due. */
struct risk_action {
	int64_t finding_id;
	char kind[16];        /* "webhook" or "hook" */
	char target[600];     /* the webhook label (webhook_url_label) or the hook name */
	unsigned attempts;    /* made so far */
	struct json_object *alert; /* the alert, as in store_query_alerts; owned */
};

/* Up to cap due actions (next_at <= now_ms). Returns the number, or -1. */
int store_risk_due(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
		   char *err, size_t errlen);
void risk_action_release(struct risk_action *a);

/*
 * Records an attempt: outcome "ok", "retry" (next_at set) or "failed"
 * (final). For webhooks a delivery log row; for hooks a revocation row
 * (exit_code, http_status, detail) and, with mark, a revocation mark for
 * sensors.
 */
struct risk_outcome {
	const char *outcome;
	int64_t next_at;
	long http_status;
	int exit_code;
	const char *detail;
	int mark;
};
int store_risk_record(struct store *st, const struct risk_action *a, int64_t now_ms,
		      const struct risk_outcome *o, char *err, size_t errlen);

/* ---- bounded history ----------------------------------------------------- */

/*
 * How long each kind of history is kept, in ms; 0 keeps it for ever. The
 * inventory (tokens, observations and their first/last seen and request
 * totals), findings and revocations are never pruned: only detail that
 * has a coarser or newer summary elsewhere.
 */
struct retention_policy {
	int64_t minutes_ms;    /* per-minute usage older than this rolls up to hours */
	int64_t hours_ms;      /* hourly usage older than this rolls up to days */
	int64_t days_ms;       /* daily usage older than this is dropped */
	int64_t dedupe_ms;     /* batch keys older than this are dropped; replays of them
				* stay refused by a per-sensor watermark */
	int64_t sightings_ms;  /* sightings the risk engine has read, older than this,
				* except each token's first */
	int64_t deliveries_ms; /* delivery log rows older than this */
	int64_t coverage_ms;   /* tls_uncovered rows not reported again for this long */
	int keep_unread;       /* keep sightings the risk engine has not read yet (1 unless
				* the engine is off) */
};

/* The defaults: 7, 90 and 730 days of minutes, hours and days; 7, 30, 90 and 30 days. */
void retention_policy_default(struct retention_policy *p);

struct retention_stats {
	uint64_t minutes_rolled;  /* per-minute rows folded into hours */
	uint64_t hours_rolled;    /* hourly rows folded into days */
	uint64_t days_dropped;
	uint64_t batches_pruned;
	uint64_t sightings_pruned;
	uint64_t deliveries_pruned;
	uint64_t coverage_pruned;
};

/*
 * One retention pass at now_ms, in short transactions so ingest is never
 * held for long. Totals and first/last seen are unchanged by it. 0 and
 * *stats (added to), or -1 with a one-line reason (what was done stays).
 */
int store_retain(struct store *st, const struct retention_policy *p, int64_t now_ms,
		 struct retention_stats *stats, char *err, size_t errlen);

#endif
