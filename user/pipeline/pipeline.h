/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From captured bytes to reported sightings: per-connection HTTP/1 and
 * HTTP/2 parsing, credential extraction, fingerprint (then the raw
 * credential is wiped), classification, TLS-session-to-socket binding,
 * aggregation and output. The sensor's interface to it; the units behind
 * it are listed in pipeline_internal.h.
 */
#ifndef TOKENTAP_PIPELINE_H
#define TOKENTAP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cred.h"
#include "fingerprint.h"
#include "held_scan.h"
#include "jsonout.h"
#include "pod_ident.h"
#include "sighting.h"

/*
 * Where reported events go besides stdout (the collector shipper). Any
 * callback may be NULL. Times are wall clock ns.
 */
struct procdesc;
struct exe_cache;
struct pipeline_sink {
	void (*seen)(void *ctx, const struct sighting *s);
	/* first: the triple's first sighting; last_seen_ns: its latest request */
	void (*usage)(void *ctx, const struct sighting *first, int64_t last_seen_ns,
		      uint64_t count, int64_t start_ns, int64_t end_ns);
	void (*status)(void *ctx, const struct status_field *f, size_t n);
	/* a credential held by the process d describes (held_procs.c) */
	void (*held)(void *ctx, const struct sighting *s, const struct procdesc *d,
		     enum held_source src, const char *name);
	/* a process whose TLS the sensor cannot see (user/sensor/coverage.c) */
	void (*uncovered)(void *ctx, const struct uncov_report *r);
	void *ctx;
};

/*
 * Sensor-side revocation (revoker.h): asked for each credential's
 * fingerprint; only a wanted one is handed over raw, before it is wiped.
 */
struct pipeline_raw_hook {
	bool (*wants)(void *ctx, const char *fp);
	void (*take)(void *ctx, const char *fp, const char *token_type, const char *value,
		     size_t len);
	void *ctx;
};

struct pipeline_opts {
	bool json;
	int interval_s;
	size_t max_header_bytes;
	const struct fp_key *key;
	const struct cred_config *cred;
	FILE *out;                       /* NULL: print nothing */
	const struct pipeline_sink *sink; /* NULL: none */
	const struct pipeline_raw_hook *raw; /* NULL: off (the default) */
	struct exe_cache *exes;          /* programs by pid; NULL: read /proc each time */
	struct pod_resolver pods;        /* the pod watcher; resolve NULL: off */
};

struct pipeline_stats {
	uint64_t requests;          /* request header blocks parsed */
	uint64_t credentials;       /* credentials fingerprinted */
	uint64_t bad_events;        /* malformed records from the kernel */
	uint64_t headers_truncated; /* header blocks cut by the capture cap */
	uint64_t headers_incomplete;/* header blocks never finished */
	uint64_t parse_errors;      /* oversize or garbage where a request was due */
	uint64_t orphan_continuations;
	uint64_t unbound_tls;       /* TLS requests reported without an address */
	uint64_t tls_retries;       /* handshake-time writes retried (counted once) */
	uint64_t session_overflow;
	uint64_t agg_overflow;
	uint64_t creds_dropped;     /* more credentials in a request than reported */
	uint64_t h2_undecodable;    /* HTTP/2 header blocks lost or decodable only in part */
	uint64_t sessions;          /* connection sessions held now */
	uint64_t sessions_closed;   /* sessions freed because their fd was closed */
	uint64_t pod_held;          /* first sightings held for their pod's names */
	uint64_t pod_unknown;       /* of those, sent with the pod UID alone */
};

struct pipeline;

struct pipeline *pipeline_new(const struct pipeline_opts *o);
void pipeline_free(struct pipeline *p);
/*
 * One record from the ring buffer (TT_EV_DATA, TT_EV_BIND, TT_EV_EXIT,
 * TT_EV_CLOSE, TT_EV_HFEND); a malformed one is counted in bad_events.
 */
void pipeline_handle(struct pipeline *p, const void *data, size_t size);
/* Timers: parked TLS sightings, usage intervals, idle state. now: CLOCK_MONOTONIC ns. */
void pipeline_tick(struct pipeline *p, int64_t now_mono_ns);
/* Reports everything still held (parked sightings and usage counts). */
void pipeline_flush_all(struct pipeline *p);
const struct pipeline_stats *pipeline_stats(const struct pipeline *p);
/* Writes a sensor_status event (with --json) and hands the fields to the sink. */
void pipeline_emit_status(struct pipeline *p, const struct status_field *f, size_t n);

#endif
