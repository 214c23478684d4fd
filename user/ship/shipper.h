/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery of events to the collector. Events are gathered into a batch
 * that closes when full or 0.5 s after its first event; a closed batch gets
 * the next sequence number (persisted before use) and goes to the spool on
 * disk first, then a sender thread POSTs spooled batches in seq order to
 * <url>/v1/batches with libcurl, retrying with backoff while the collector
 * is unreachable or busy. Nothing is lost while the spool has room; a
 * batch the spool cannot take (a full disk) is held in memory (at most 64
 * batches, 16 MiB) and written once it can.
 *
 * A batch the collector will never take does not block the ones behind
 * it: one refused as malformed or too large (400/413/415) is dropped, and
 * so is one whose upload the collector cuts off SHIPPER_POISON_TRIES times
 * in a row while it answers its health check (a body far over its limit
 * gets the connection closed, and the 413 may never arrive). Each batch
 * gets its own tries.
 *
 * Several collectors may be given (replicas behind one database): each
 * batch goes to the current one; a failure that is retried (no connection,
 * timeout, 429, 5xx, an upload cut off while it is down) moves the next
 * attempt to the next collector in the list, round robin. Batches keep
 * their order and seqs whichever collector takes them; a refusal for good
 * (400/413/415, poison) drops the batch as with one collector.
 *
 * shipper_add/tick/close/free belong to one thread (the sensor's main
 * loop); shipper_stats may be called from any thread.
 */
#ifndef TOKENTAP_SHIPPER_H
#define TOKENTAP_SHIPPER_H

#include <stdint.h>
#include "batch.h"

#define SHIPPER_URLS_MAX 8

/* Collector base URLs in the order they are tried; each is a copy. */
struct shipper_urls {
	char *url[SHIPPER_URLS_MAX];
	size_t n;
};

/*
 * Adds one --collector argument, a URL or a comma-separated list of them,
 * each http:// or https://, at most SHIPPER_URLS_MAX in all. -1 with a
 * one-line reason in err (u unchanged).
 */
int shipper_urls_add(struct shipper_urls *u, const char *arg, char *err, size_t errlen);
void shipper_urls_free(struct shipper_urls *u);

struct shipper_opts {
	/* collector base URLs (shipper_urls_add), tried in this order; at least one */
	const struct shipper_urls *urls;
	const char *token_file;   /* sensor token; NULL: no Authorization header */
	const char *ca_file;      /* CA bundle for https; NULL: system default */
	const char *client_cert;  /* mTLS client certificate and key; NULL: none */
	const char *client_key;
	const char *node;         /* node name; NULL: the host name */
	const char *state_dir;    /* holds sensor_id, seq and spool/ */
	uint64_t spool_max_bytes; /* 0: 256 MiB */
	int verbose;
	/* Retry delays (ms); 0: 200 ms .. 30 s. */
	unsigned backoff_min_ms, backoff_max_ms;
	/* Batch bounds; 0: the defaults of batch.h. */
	size_t batch_max_events, batch_max_bytes;
};

struct shipper_stats {
	uint64_t spool_bytes;      /* waiting on disk */
	uint64_t spool_batches;
	uint64_t spool_dropped;    /* deleted when the spool was full, or unreadable */
	uint64_t batches_sent;     /* acknowledged by the collector */
	uint64_t ship_ns_sum;      /* time the acknowledged POSTs took, summed */
	uint64_t batches_rejected; /* 400/413/415, or cut off while the collector is up: dropped */
	uint64_t retries;          /* failed attempts that will be retried */
	uint64_t failovers;        /* moves to the next collector after a failure */
	uint64_t spool_write_failures; /* new batches the spool could not take (a full disk) */
	uint64_t batches_held;     /* of which held in memory now, until the spool takes them */
	uint64_t batches_lost;     /* dropped: no room to hold them, or still held at exit */
	uint64_t events_lost;      /* could not be encoded (out of memory) */
};

/* Cut-off uploads of one batch, with the collector up, before it is dropped. */
#define SHIPPER_POISON_TRIES 4

struct shipper;

/* NULL on error with a one-line reason in err (the token never appears in it). */
struct shipper *shipper_new(const struct shipper_opts *o, char *err, size_t errlen);

/* Takes ownership of ev (NULL is counted as a lost event). */
void shipper_add(struct shipper *s, batch_event *ev);

/* Closes the open batch once it is 0.5 s old. now: CLOCK_MONOTONIC ns. */
void shipper_tick(struct shipper *s, int64_t now_mono_ns);

/*
 * Shutdown: closes the open batch, tries to deliver what is spooled for up
 * to timeout_ms (at least one attempt, even during a backoff), stops the
 * sender. What is left stays spooled for the next run.
 */
void shipper_close(struct shipper *s, int timeout_ms);

/* Closes (timeout 0) if needed and frees everything; the token is wiped. */
void shipper_free(struct shipper *s);

void shipper_stats(struct shipper *s, struct shipper_stats *out);

/*
 * Fingerprints the collector marked for sensor-side revocation, as its
 * last reply listed them. Any thread. Returns the number copied.
 */
#define SHIPPER_REVOKE_MAX 64
size_t shipper_revoke_list(struct shipper *s, char (*out)[33], size_t cap);

/* The sensor identity, a UUID kept in <state-dir>/sensor_id. */
const char *shipper_sensor_id(const struct shipper *s);

#endif
