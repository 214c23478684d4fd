/* SPDX-License-Identifier: Apache-2.0 */
/* The collector's counters, rendered as Prometheus text for /metrics. */
#ifndef TOKENTAP_METRICS_H
#define TOKENTAP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Why a request was refused; the label of tokentap_collector_rejects_total. */
enum reject_reason {
	REJECT_UNAUTHORIZED,
	REJECT_FORBIDDEN,
	REJECT_UNSUPPORTED_MEDIA_TYPE,
	REJECT_BODY_TOO_LARGE,
	REJECT_DECOMPRESSED_TOO_LARGE,
	REJECT_BAD_GZIP,
	REJECT_BAD_PROTOBUF,
	REJECT_INVALID_BATCH,
	REJECT_STORE_ERROR,
	REJECT_NOT_FOUND,
	REJECT_METHOD_NOT_ALLOWED,
	REJECT_BAD_REQUEST,
	REJECT__COUNT
};

/* Event kinds in the order of the Event oneof (0: unknown). */
#define METRICS_EVENT_KINDS 8
#define METRICS_LATENCY_BUCKETS 12

struct metrics {
	atomic_uint_fast64_t batches;          /* stored */
	atomic_uint_fast64_t duplicates;       /* acknowledged, already stored */
	atomic_uint_fast64_t events[METRICS_EVENT_KINDS];
	atomic_uint_fast64_t rejects[REJECT__COUNT];
	atomic_uint_fast64_t latency_bucket[METRICS_LATENCY_BUCKETS]; /* non-cumulative */
	atomic_uint_fast64_t latency_count;
	atomic_uint_fast64_t latency_sum_ns;
	atomic_int leader;                     /* 1 while this replica runs the risk engine */
};

void metrics_init(struct metrics *m);
const char *reject_reason_name(enum reject_reason r);
void metrics_reject(struct metrics *m, enum reject_reason r);
/* One store transaction took ns nanoseconds. */
void metrics_store_latency(struct metrics *m, uint64_t ns);
/* Prometheus text exposition; malloc'd, caller frees. NULL on no memory. */
char *metrics_render(struct metrics *m, size_t *len);

#endif
