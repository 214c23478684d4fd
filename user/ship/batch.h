/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire encoding of what a sensor ships (proto/tokentap/v1/events.proto):
 * building Event messages from the sensor's structures, and accumulating
 * them into a bounded Batch serialized as gzip(protobuf). Pure logic.
 *
 * Every Event returned here is heap-allocated down to its strings and is
 * released with batch_event_free() (protobuf-c's free_unpacked with the
 * default allocator, so decoded and built events are freed alike).
 */
#ifndef TOKENTAP_BATCH_H
#define TOKENTAP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "held_scan.h"
#include "procdesc.h"
#include "sighting.h"
#include "status_counters.h"
#include "uncovered.h"
#include "tokentap/v1/events.pb-c.h"

typedef Tokentap__V1__Event batch_event;

#define BATCH_DEFAULT_MAX_EVENTS 1000
#define BATCH_DEFAULT_MAX_BYTES (1024 * 1024)   /* protobuf bytes before gzip */
#define BATCH_CMDLINE_MAX 4096

/* Event builders: NULL when out of memory. Times are wall clock ns. */
batch_event *batch_event_token_seen(const struct sighting *s);
/* s: the triple's first sighting; last_seen_ns: its latest request. */
batch_event *batch_event_token_usage(const struct sighting *s, int64_t last_seen_ns,
				     uint64_t count, int64_t start_ns, int64_t end_ns);
/* A credential held by s's process (s carries the token and process; no destination). */
batch_event *batch_event_token_held(const struct sighting *s, enum held_source src,
				    const char *name, int64_t process_start_ms);
/* The outcome of a sensor-side revocation (no secret: the detail is already masked). */
batch_event *batch_event_revocation(int64_t ts_ns, const char *fingerprint, const char *type,
				    const char *outcome, int exit_code, const char *detail);
/* A process whose TLS the sensor cannot see (coverage.c). */
batch_event *batch_event_tls_uncovered(const struct uncov_report *r);
/*
 * Each counter of status_counters.h goes to its SensorStatus field; local
 * counters and unknown names are left out.
 */
batch_event *batch_event_status(int64_t ts_ns, const struct status_field *f, size_t n);
batch_event *batch_event_process_info(const struct procdesc *d);
void batch_event_free(batch_event *ev);

struct batch {
	batch_event **events;
	size_t n, cap;
	size_t bytes;        /* protobuf size of the events so far */
	size_t max_events;
	size_t max_bytes;
};

/* max_events/max_bytes 0: the defaults. */
void batch_init(struct batch *b, size_t max_events, size_t max_bytes);
/* Frees every event held. */
void batch_free(struct batch *b);
/*
 * Takes ownership of ev (freed even on failure). Returns -1 when the batch
 * is already full or memory ran out: serialize and reset first. An empty
 * batch accepts any one event, however large.
 */
int batch_add(struct batch *b, batch_event *ev);
/* At max_events or max_bytes: no more events fit. */
int batch_full(const struct batch *b);

struct batch_meta {
	const char *sensor_id;
	const char *node;
	uint64_t seq;
	int64_t sent_at_ms;
	const char *sensor_version;
};

/*
 * Packs the events with meta into a Batch and gzips it. *out is malloc'd
 * (caller frees). The events stay in b. Returns 0 or -1.
 */
int batch_serialize(const struct batch *b, const struct batch_meta *meta, uint8_t **out,
		    size_t *outlen);
/* Frees the events; the batch is empty and reusable. */
void batch_reset(struct batch *b);

/* gzip (RFC 1952) of in. *out is malloc'd. Returns 0 or -1. */
int batch_gzip(const void *in, size_t inlen, uint8_t **out, size_t *outlen);

#endif
