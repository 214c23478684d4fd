/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a store backend implements: the operations of store.h, one table
 * per backend. A backend's handle begins with struct store, so store.c
 * dispatches without knowing the backend; store_open picks the first
 * backend that accepts the path. Callers never include this header.
 */
#ifndef TOKENTAP_STORE_BACKEND_H
#define TOKENTAP_STORE_BACKEND_H

#include "store.h"

struct store_ops {
	const char *name;
	void (*close)(struct store *st);
	int (*schema_version)(struct store *st);
	enum store_result (*apply_batch)(struct store *st, const Tokentap__V1__Batch *b,
					 int64_t now_ms, char *err, size_t errlen);
	int (*query_tokens)(struct store *st, enum token_sort sort, struct json_object **out,
			    char *err, size_t errlen);
	int (*query_token_page)(struct store *st, const struct token_page_query *q,
				struct json_object **out, char *err, size_t errlen);
	int (*query_token)(struct store *st, const char *fingerprint, struct json_object **out,
			   char *err, size_t errlen);
	int (*query_sensors)(struct store *st, struct json_object **out, char *err,
			     size_t errlen);
	int (*query_coverage)(struct store *st, struct json_object **out, char *err,
			      size_t errlen);
	int (*query_alerts)(struct store *st, const struct alert_filter *f,
			    struct json_object **out, char *err, size_t errlen);
	int (*pending_revocations)(struct store *st, struct json_object *arr, unsigned max);
	int (*risk_pass)(struct store *st, const struct risk_config *cfg, int64_t now_ms,
			 struct risk_pass_stats *stats, char *err, size_t errlen);
	int (*risk_due)(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
			char *err, size_t errlen);
	int (*risk_record)(struct store *st, const struct risk_action *a, int64_t now_ms,
			   const struct risk_outcome *o, char *err, size_t errlen);
	/* NULL: the only process on its database, always the leader */
	int (*leader)(struct store *st);
	/* NULL: one writer at a time whatever the callers' threads (SQLite) */
	int (*set_writers)(struct store *st, unsigned n);
	int (*retain)(struct store *st, const struct retention_policy *p, int64_t now_ms,
		      struct retention_stats *stats, char *err, size_t errlen);
};

/* The first member of every backend's handle. */
struct store {
	const struct store_ops *ops;
};

/* A backend as store_open sees it. */
struct store_backend {
	/* 1 when path names a database of this backend */
	int (*accepts)(const char *path);
	struct store *(*open)(const char *path, int flags, char *err, size_t errlen);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_pg;

#endif
