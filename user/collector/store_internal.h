/* SPDX-License-Identifier: Apache-2.0 */
/* What store.c and store_query.c share: the connection and its statements. */
#ifndef TOKENTAP_STORE_INTERNAL_H
#define TOKENTAP_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include "store.h"

enum store_stmt {
	/* writes */
	SQ_BATCH_INSERT,
	SQ_SENSOR_UPSERT,
	SQ_SENSOR_STATUS,
	SQ_PROCESS_UPSERT,
	SQ_TOKEN_UPSERT,
	SQ_TOKEN_COUNTERS,
	SQ_OBS_UPDATE,
	SQ_OBS_INSERT,
	SQ_OBS_COUNTS_INSERT,
	SQ_OBS_COUNTS_UPDATE,
	SQ_USAGE_UPSERT,
	SQ_USAGE_UPSERT_MANY,
	SQ_SEEN_LOG_INSERT,
	SQ_HELD_UPSERT,
	SQ_TOKEN_INSERT_HELD,
	/* reads */
	SQ_TOKENS_BY_LAST_SEEN,
	SQ_TOKENS_BY_REQUESTS,
	SQ_TOKENS_BY_RISK,
	SQ_TOKEN_ONE,
	SQ_TOKEN_PROCESSES,
	SQ_TOKEN_DESTINATIONS,
	SQ_TOKEN_NODES,
	SQ_TOKEN_OBSERVATIONS,
	SQ_TOKEN_USAGE,
	SQ_SENSORS,
	SQ_TOKEN_SEEN_ANY,
	SQ_TOKEN_RISK,
	SQ_TOKEN_HELD,
	SQ__COUNT
};

/* Rows per multi-row usage upsert (3 parameters each). */
#define STORE_USAGE_ROWS 64

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
	sqlite3_stmt *stmt[SQ__COUNT];
	struct obs_hasher *hasher;
	struct obs_cache *verified; /* ids known to hold their identity */
};

/* Resets and clears st->stmt[i] for a new use. Caller holds st->lock. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt i);

#endif
