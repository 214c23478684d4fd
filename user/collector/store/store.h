/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's embedded store: SQLite in WAL mode, schema migrations
 * recorded in a schema_version table, one transaction per batch. A batch
 * is applied once per (sensor_id, seq): a replay changes nothing.
 * Thread-safe: one connection serialized by a mutex.
 */
#ifndef TOKENTAP_STORE_H
#define TOKENTAP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "tokentap/v1/events.pb-c.h"

struct store;

#define STORE_READONLY 1

enum store_result {
	STORE_APPLIED = 0,
	STORE_DUPLICATE = 1,
	STORE_ERROR = -1,
};

/*
 * Opens (creating when writable) the database at path (":memory:" for a
 * private in-memory one) and brings its schema up to date. A read-only
 * store requires the current schema. On error returns NULL and writes a
 * one-line reason to err.
 */
struct store *store_open(const char *path, int flags, char *err, size_t errlen);
void store_close(struct store *st);

/* The schema version of the database and the one this build writes. */
int store_schema_version(struct store *st);
int store_schema_latest(void);

/*
 * Applies a validated batch in one transaction. now_ms is the receive
 * time (sensors' last_seen). On STORE_ERROR nothing was changed.
 */
enum store_result store_apply_batch(struct store *st, const Tokentap__V1__Batch *b, int64_t now_ms,
				    char *err, size_t errlen);

#endif
