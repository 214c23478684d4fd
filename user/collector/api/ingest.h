/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One POSTed batch body -> store: bounded gunzip, protobuf decoding under
 * a memory budget, validation, one transaction. Nothing is stored unless
 * every step succeeds. Knows nothing of HTTP beyond the status it maps to.
 */
#ifndef TOKENTAP_INGEST_H
#define TOKENTAP_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include "metrics.h"
#include "store.h"

#define INGEST_DEFAULT_MAX_BODY (4u << 20)
#define INGEST_DEFAULT_MAX_DECOMPRESSED (32u << 20)

struct ingest_limits {
	size_t max_body;           /* bytes as received */
	size_t max_decompressed;   /* protobuf bytes after gunzip */
};

enum ingest_status {
	INGEST_STORED,
	INGEST_DUPLICATE,
	INGEST_REJECTED,           /* see reason; 4xx */
	INGEST_FAILED,             /* store error; 5xx, the sensor retries */
};

struct ingest_result {
	enum ingest_status status;
	enum reject_reason reason; /* when not stored */
	int http_status;
	size_t events;
	size_t kinds[METRICS_EVENT_KINDS];
	uint64_t store_ns;         /* time in the store transaction */
	char msg[200];             /* for the client and the log: never data */
};

void ingest_limits_default(struct ingest_limits *l);

/*
 * content_encoding: the request's Content-Encoding ("gzip", "identity"
 * or NULL). now_ms: the receive time.
 */
void ingest_body(struct store *st, const struct ingest_limits *lim, const char *content_encoding,
		 const uint8_t *body, size_t len, int64_t now_ms, struct ingest_result *res);

/* Decode and validate only (the fuzz target's fast path). 0 or -1. */
int ingest_decode(const struct ingest_limits *lim, const char *content_encoding,
		  const uint8_t *body, size_t len, struct ingest_result *res);

#endif
