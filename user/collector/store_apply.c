/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying one batch: a single transaction that first records
 * (sensor_id, seq) in batches, so a replay is detected before anything
 * changes. Counting rule: token_usage carries the count of every request
 * (the first included), token_seen only creates rows.
 */
#include "store_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define MINUTE_MS 60000

struct apply_ctx {
	struct store *st;
	const Tokentap__V1__Batch *b;
	int64_t now_ms;
	char *err;
	size_t errlen;
};

static int fail(struct apply_ctx *c, const char *what)
{
	snprintf(c->err, c->errlen, "%s: %s", what, sqlite3_errmsg(c->st->db));
	return -1;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Runs a write statement to completion (and resets it: COMMIT needs that). */
static int run(struct apply_ctx *c, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fail(c, what);
}

static int upsert_token(struct apply_ctx *c, const Tokentap__V1__Token *t, int64_t first,
			int64_t last, uint64_t requests)
{
	sqlite3_stmt *s = store_stmt(c->st, SQ_TOKEN_UPSERT);

	bind_text(s, 1, t->fingerprint);
	bind_text(s, 2, t->token_type);
	bind_text(s, 3, t->scheme);
	bind_text(s, 4, t->header);
	bind_text(s, 5, t->token_prefix);
	sqlite3_bind_int64(s, 6, t->token_length);
	sqlite3_bind_int(s, 7, !!t->has_checksum);
	sqlite3_bind_int(s, 8, !!t->checksum_valid);
	sqlite3_bind_int64(s, 9, t->confidence);
	bind_text(s, 10, t->key_id);
	bind_text(s, 11, t->aws_key_kind);
	bind_text(s, 12, t->aws_account);
	bind_text(s, 13, t->aws_region);
	bind_text(s, 14, t->aws_service);
	bind_text(s, 15, t->basic_user);
	bind_text(s, 16, t->basic_password_type);
	bind_text(s, 17, t->jwt_json);
	sqlite3_bind_int64(s, 18, first);
	sqlite3_bind_int64(s, 19, last);
	sqlite3_bind_int64(s, 20, (int64_t)requests);
	return run(c, s, "token");
}

/* Returns the observation id, or -1. */
static int64_t upsert_obs(struct apply_ctx *c, const Tokentap__V1__Token *t,
			  const Tokentap__V1__ProcessRef *p, const Tokentap__V1__Destination *d,
			  const char *method, const char *path, int64_t first, int64_t last,
			  uint64_t requests)
{
	static const Tokentap__V1__Destination no_dst = TOKENTAP__V1__DESTINATION__INIT;
	sqlite3_stmt *s = store_stmt(c->st, SQ_OBS_UPSERT);
	int64_t id = -1;
	int rc;

	if (!d)
		d = &no_dst;
	bind_text(s, 1, t->fingerprint);
	bind_text(s, 2, c->b->sensor_id);
	sqlite3_bind_int64(s, 3, p->pid);
	bind_text(s, 4, p->exe);
	bind_text(s, 5, d->dst);
	bind_text(s, 6, d->host);
	bind_text(s, 7, c->b->node);
	sqlite3_bind_int64(s, 8, p->uid);
	bind_text(s, 9, p->comm);
	sqlite3_bind_int64(s, 10, (int64_t)p->cgroup_id);
	bind_text(s, 11, d->src);
	sqlite3_bind_int(s, 12, !!d->tls);
	bind_text(s, 13, d->tls_library);
	bind_text(s, 14, method);
	bind_text(s, 15, path);
	sqlite3_bind_int64(s, 16, first);
	sqlite3_bind_int64(s, 17, last);
	sqlite3_bind_int64(s, 18, (int64_t)requests);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (id < 0)
		fail(c, "observation");
	return id;
}

static int apply_seen(struct apply_ctx *c, const Tokentap__V1__TokenSeen *e)
{
	if (upsert_token(c, e->token, e->ts_ms, e->ts_ms, 0) < 0)
		return -1;
	return upsert_obs(c, e->token, e->process, e->destination, e->method, e->path, e->ts_ms,
			  e->ts_ms, 0) < 0 ? -1 : 0;
}

static int apply_usage(struct apply_ctx *c, const Tokentap__V1__TokenUsage *e)
{
	/* the last request's time; first_seen takes the minimum over events,
	 * so a triple whose TokenSeen arrived keeps that exact time */
	int64_t last = e->last_seen_ms ? e->last_seen_ms : e->end_ms ? e->end_ms : e->start_ms;
	sqlite3_stmt *s;
	int64_t id;

	if (upsert_token(c, e->token, last, last, e->count) < 0)
		return -1;
	id = upsert_obs(c, e->token, e->process, e->destination, e->method, e->path, last, last,
			e->count);
	if (id < 0)
		return -1;
	s = store_stmt(c->st, SQ_USAGE_UPSERT);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, last - last % MINUTE_MS);
	sqlite3_bind_int64(s, 3, (int64_t)e->count);
	return run(c, s, "usage");
}

static int apply_process(struct apply_ctx *c, const Tokentap__V1__ProcessInfo *e)
{
	sqlite3_stmt *s = store_stmt(c->st, SQ_PROCESS_UPSERT);
	int64_t seen = c->b->sent_at_ms > 0 ? c->b->sent_at_ms : c->now_ms;

	bind_text(s, 1, c->b->sensor_id);
	sqlite3_bind_int64(s, 2, e->pid);
	sqlite3_bind_int64(s, 3, e->start_time_ms);
	bind_text(s, 4, c->b->node);
	sqlite3_bind_int64(s, 5, e->ppid);
	sqlite3_bind_int64(s, 6, e->uid);
	bind_text(s, 7, e->exe);
	bind_text(s, 8, e->cmdline);
	bind_text(s, 9, e->cgroup);
	bind_text(s, 10, e->container_id);
	sqlite3_bind_int64(s, 11, (int64_t)e->cgroup_id);
	sqlite3_bind_int64(s, 12, seen);
	return run(c, s, "process");
}

/* The counters as a JSON object, named as in the proto. */
static int apply_status(struct apply_ctx *c, const Tokentap__V1__SensorStatus *e)
{
	const ProtobufCMessageDescriptor *d = e->base.descriptor;
	struct json_object *o = json_object_new_object();
	sqlite3_stmt *s;
	int rc;

	if (!o)
		return fail(c, "out of memory");
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
	s = store_stmt(c->st, SQ_SENSOR_STATUS);
	bind_text(s, 1, c->b->sensor_id);
	sqlite3_bind_int64(s, 2, e->ts_ms);
	sqlite3_bind_text(s, 3, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), -1,
			  SQLITE_TRANSIENT);
	rc = run(c, s, "sensor status");
	json_object_put(o);
	return rc;
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
	case TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS:
		return apply_status(c, e->sensor_status);
	default:
		/* validation rejects these; never reached with a checked batch */
		snprintf(c->err, c->errlen, "event without a kind");
		return -1;
	}
}

/* 1 applied, 0 duplicate, -1 error. */
static int apply_all(struct apply_ctx *c)
{
	const Tokentap__V1__Batch *b = c->b;
	sqlite3_stmt *s = store_stmt(c->st, SQ_BATCH_INSERT);

	bind_text(s, 1, b->sensor_id);
	sqlite3_bind_int64(s, 2, (int64_t)b->seq);
	sqlite3_bind_int64(s, 3, b->sent_at_ms);
	sqlite3_bind_int64(s, 4, c->now_ms);
	sqlite3_bind_int64(s, 5, (int64_t)b->n_events);
	if (run(c, s, "batch") < 0)
		return -1;
	if (sqlite3_changes(c->st->db) == 0)
		return 0;

	s = store_stmt(c->st, SQ_SENSOR_UPSERT);
	bind_text(s, 1, b->sensor_id);
	bind_text(s, 2, b->node);
	bind_text(s, 3, b->sensor_version);
	sqlite3_bind_int64(s, 4, c->now_ms);
	sqlite3_bind_int64(s, 5, (int64_t)b->seq);
	sqlite3_bind_int64(s, 6, (int64_t)b->n_events);
	if (run(c, s, "sensor") < 0)
		return -1;

	for (size_t i = 0; i < b->n_events; i++)
		if (apply_event(c, b->events[i]) < 0)
			return -1;
	return 1;
}

enum store_result store_apply_batch(struct store *st, const Tokentap__V1__Batch *b, int64_t now_ms,
				    char *err, size_t errlen)
{
	struct apply_ctx c = { st, b, now_ms, err, errlen };
	enum store_result res = STORE_ERROR;
	int rc;

	pthread_mutex_lock(&st->lock);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		fail(&c, "begin");
		goto out;
	}
	rc = apply_all(&c);
	if (rc <= 0) {
		/* a duplicate also rolls back: it changed nothing anyway */
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		res = rc == 0 ? STORE_DUPLICATE : STORE_ERROR;
		goto out;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(&c, "commit");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	res = STORE_APPLIED;
out:
	pthread_mutex_unlock(&st->lock);
	return res;
}
