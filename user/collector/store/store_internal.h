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
	SQ_ALERT_DELIVERIES,
	SQ_OPEN_REASONS,
	/* the risk engine's pass (store_risk.c) */
	SQ_RISK_CURSOR_GET,
	SQ_RISK_CURSOR_SET,
	SQ_RISK_SEEN_ROWS,
	SQ_RISK_TOKEN,
	SQ_RISK_FIRST_USE,
	SQ_RISK_KNOWN,
	SQ_RISK_METHODS,
	SQ_RISK_COUNT_DIM,
	SQ_RISK_BASELINE_ADD,
	SQ_RISK_FINDING_GET,
	SQ_RISK_FINDING_BUMP,
	SQ_RISK_FINDING_ADD,
	SQ_RISK_OUTBOX_ADD,
	SQ_RISK_DORMANT_ROWS,
	SQ_RISK_FIRST_NEW_USE,
	SQ_RISK_RESOLVE_HELD,
	SQ_RISK_HELD_ROWS,
	SQ_RISK_EVER_USED,
	SQ_RISK_UNUSED_ROWS,
	SQ_RISK_OPEN_RULES,
	SQ_RISK_RISK_UPSERT,
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
