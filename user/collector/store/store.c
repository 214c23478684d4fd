/* SPDX-License-Identifier: Apache-2.0 */
/* The store interface: picks a backend at open, then hands each call to it. */
#include "store_backend.h"

#include <stdio.h>
#include <string.h>

/* The embedded default last: it takes any path. */
static const struct store_backend *const backends[] = {
	&store_backend_pg,
	&store_backend_sqlite,
};

struct store *store_open(const char *path, int flags, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->accepts(path))
			return backends[i]->open(path, flags, err, errlen);
	snprintf(err, errlen, "%s: no store backend for this database", path);
	return NULL;
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

int store_schema_version(struct store *st)
{
	return st->ops->schema_version(st);
}

enum store_result store_apply_batch(struct store *st, const Tokentap__V1__Batch *b, int64_t now_ms,
				    char *err, size_t errlen)
{
	return st->ops->apply_batch(st, b, now_ms, err, errlen);
}

int token_sort_parse(const char *name, enum token_sort *out)
{
	if (!name || !strcmp(name, "last_seen"))
		*out = TOKEN_SORT_LAST_SEEN;
	else if (!strcmp(name, "requests"))
		*out = TOKEN_SORT_REQUESTS;
	else if (!strcmp(name, "risk"))
		*out = TOKEN_SORT_RISK;
	else if (!strcmp(name, "first_seen"))
		*out = TOKEN_SORT_FIRST_SEEN;
	else
		return -1;
	return 0;
}

int store_query_tokens(struct store *st, enum token_sort sort, struct json_object **out,
		       char *err, size_t errlen)
{
	return st->ops->query_tokens(st, sort, out, err, errlen);
}

int store_query_token_page(struct store *st, const struct token_page_query *q,
			   struct json_object **out, char *err, size_t errlen)
{
	return st->ops->query_token_page(st, q, out, err, errlen);
}

int store_query_token(struct store *st, const char *fingerprint, struct json_object **out,
		      char *err, size_t errlen)
{
	return st->ops->query_token(st, fingerprint, out, err, errlen);
}

int store_query_coverage(struct store *st, struct json_object **out, char *err, size_t errlen)
{
	return st->ops->query_coverage(st, out, err, errlen);
}

int store_query_sensors(struct store *st, struct json_object **out, char *err, size_t errlen)
{
	return st->ops->query_sensors(st, out, err, errlen);
}

int store_query_alerts(struct store *st, const struct alert_filter *f, struct json_object **out,
		       char *err, size_t errlen)
{
	return st->ops->query_alerts(st, f, out, err, errlen);
}

int store_pending_revocations(struct store *st, struct json_object *arr, unsigned max)
{
	return st->ops->pending_revocations(st, arr, max);
}

int store_risk_pass(struct store *st, const struct risk_config *cfg, int64_t now_ms,
		    struct risk_pass_stats *stats, char *err, size_t errlen)
{
	return st->ops->risk_pass(st, cfg, now_ms, stats, err, errlen);
}

int store_risk_due(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
		   char *err, size_t errlen)
{
	return st->ops->risk_due(st, now_ms, out, cap, err, errlen);
}

void risk_action_release(struct risk_action *a)
{
	json_object_put(a->alert);
	a->alert = NULL;
}

int store_risk_record(struct store *st, const struct risk_action *a, int64_t now_ms,
		      const struct risk_outcome *o, char *err, size_t errlen)
{
	return st->ops->risk_record(st, a, now_ms, o, err, errlen);
}

int store_leader(struct store *st)
{
	return st->ops->leader ? st->ops->leader(st) : 1;
}

int store_set_writers(struct store *st, unsigned n)
{
	if (n < 1)
		return -1;
	return st->ops->set_writers ? st->ops->set_writers(st, n) : 0;
}

#define DAY_MS (24LL * 3600 * 1000)

void retention_policy_default(struct retention_policy *p)
{
	*p = (struct retention_policy){
		.minutes_ms = 7 * DAY_MS,
		.hours_ms = 90 * DAY_MS,
		.days_ms = 730 * DAY_MS,
		.dedupe_ms = 7 * DAY_MS,
		.sightings_ms = 30 * DAY_MS,
		.deliveries_ms = 90 * DAY_MS,
		.coverage_ms = 30 * DAY_MS,
		.keep_unread = 1,
	};
}

int store_retain(struct store *st, const struct retention_policy *p, int64_t now_ms,
		 struct retention_stats *stats, char *err, size_t errlen)
{
	if (!st->ops->retain) {
		snprintf(err, errlen, "the %s store has no retention", st->ops->name);
		return -1;
	}
	return st->ops->retain(st, p, now_ms, stats, err, errlen);
}
