/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the pipeline's units share: the pipeline and session structs and
 * each unit's entry points. Not for use outside user/pipeline (the sensor
 * sees pipeline.h only).
 *
 * A record's way through the units, in order:
 *
 *   pipeline.c          records dispatched by kind; timers; lifecycle
 *   session_table.c     (pid, conn) -> its struct session
 *   h1_stream.c         HTTP/1 header bytes -> a request
 *   h2_stream.c         HTTP/2 frames -> a request (in the HTTP/1 shape)
 *   h2_fields.c         Go encoder header fields, or a whole request's -> a request
 *   hfblock.c           a whole request's records (TT_F_HBLOCK) -> fields
 *   request_sighting.c  a request -> its credentials -> sightings
 *   class_cache.c       a credential's classification, once per credential
 *   tls_park.c          a TLS sighting held for its bind or a retry
 *   output.c            a final sighting counted, the first one reported
 *   usage_flush.c       each interval's counts reported
 */
#ifndef TOKENTAP_PIPELINE_INTERNAL_H
#define TOKENTAP_PIPELINE_INTERNAL_H

#include <openssl/sha.h>
#include <stdbool.h>
#include <stdint.h>

#include "agg.h"
#include "fp_cache.h"
#include "http1.h"
#include "http2.h"
#include "pipeline.h"
#include "ptrtab.h"
#include "tokentap.h"

/* An HPACK encoder's header fields: the encoder pointer with this bit. */
#define HF_CONN (1ULL << 62)
/* Fields of one request come in a burst: this long without one ends it. */
#define HF_QUIET_NS (20LL * 1000 * 1000)

struct session {
	uint32_t pid;               /* the lookup key */
	uint64_t conn;
	struct http1_parser parser;
	struct h2_parser *h2;       /* HTTP/2 frame stream and HPACK state, or NULL */
	/*
	 * Header fields from an HPACK encoder being grouped into a request, or
	 * NULL; hf_h is the header of its first field's event.
	 */
	struct hf_group *hf;
	struct tt_event_hdr hf_h;
	bool tls;
	bool bound;                 /* TLS: socket known (or known to be unknowable) */
	int fd;                     /* TLS: the socket's fd once bound, else -1 */
	char src[64], dst[64];
	struct tt_addr src_raw, dst_raw; /* what src and dst were formatted from */
	struct sighting *parked;    /* waiting for the TLS bind (tls_park.c) */
	size_t nparked;
	int64_t park_deadline;
	/*
	 * Sightings of a write made while the TLS handshake was in progress:
	 * if the same bytes are written again the first call failed and only
	 * the retry counts; otherwise they are reported after RETRY_NS
	 * (tls_park.c).
	 */
	struct sighting *retry;
	size_t nretry;
	uint8_t retry_digest[SHA256_DIGEST_LENGTH];
	int64_t retry_deadline;
	int64_t last_ns;
};

struct class_cache;

struct pipeline {
	struct pipeline_opts o;
	struct pipeline_stats st;
	struct ptrtab sessions;     /* (pid, conn) -> struct session (session_table.c) */
	size_t nsessions;
	size_t nh2;
	struct h2_scratch h2scratch;    /* where every session's header blocks are decoded (h2_stream.c) */
	size_t nhf;
	struct agg agg;
	struct class_cache *classes;
	/* one request's credentials: reused, wiped after each request */
	struct cred_list *creds;
	struct fp_cache *fps;       /* fingerprints of credentials seen; NULL: none kept */
	int64_t mono_to_real;
	int64_t next_flush;
	int64_t next_sweep;
	int64_t interval_start_mono;    /* CLOCK_MONOTONIC ns of the last usage flush */
	struct pod_hold *pod_hold;      /* NULL until a sighting waits for its pod */
};

/* Context of one captured write while it is parsed. */
struct feed_ctx {
	struct pipeline *p;
	struct session *s;
	const struct tt_event_hdr *h;
	bool in_init;
};

/* session_table.c */
struct session *session_find(struct pipeline *p, uint32_t pid, uint64_t conn);
/* Finds or creates; NULL when the table is full (counted) or out of memory. */
struct session *session_get(struct pipeline *p, uint32_t pid, uint64_t conn, bool tls);
/* Unlinks and frees one session; what it still holds is reported first. */
void session_remove(struct pipeline *p, struct session *s);
/* Frees sessions matching pid (all when pid is 0) or idle since before cutoff. */
void session_sweep(struct pipeline *p, uint32_t pid, int64_t cutoff);
/* Takes the socket's fd and addresses from an event that carries them. */
void session_set_addrs(struct session *s, const struct tt_event_hdr *h);

/* h1_stream.c: a TT_EV_DATA record of an HTTP/1 header block (size checked). */
void h1_stream_feed(struct pipeline *p, const struct tt_data_event *e);

/* h2_stream.c */
/* A TT_EV_DATA record of an HTTP/2 frame stream (size checked). */
void h2_stream_feed(struct pipeline *p, const struct tt_data_event *e);
/* Hands a decoded HTTP/2 request on as an HTTP/1 one; arg: a struct feed_ctx. */
struct h2_request;
void h2_request_report(const struct h2_request *r, void *arg);
void h2_stream_drop(struct pipeline *p, struct session *s);

/* h2_fields.c */
void h2_fields_add(struct pipeline *p, const struct tt_data_event *e);
void h2_fields_block(struct pipeline *p, const struct tt_data_event *e);
void h2_fields_end(struct pipeline *p, const struct tt_data_event *e, size_t size);
/* Reports the session's field group, if any, with no address; frees it. */
void h2_fields_complete(struct pipeline *p, struct session *s);

/* request_sighting.c: an http1_request_cb; arg: a struct feed_ctx. */
void request_to_sightings(const struct http1_request *req, void *arg);

/* class_cache.c */
struct class_cache *class_cache_new(void);
void class_cache_free(struct class_cache *cc);
void class_cache_classify(struct class_cache *cc, const struct fp_key *key, const char *fp,
			  const struct credential *c, struct token_info *out);

/* tls_park.c */
void park_deliver(struct pipeline *p, struct session *s, struct sighting *sg, int64_t ts_mono);
void park_flush(struct pipeline *p, struct session *s);
void park_bind(struct pipeline *p, const struct tt_event_hdr *h);
bool retry_hold(struct session *s, const struct sighting *sg);
void retry_check(struct pipeline *p, struct session *s, const struct tt_data_event *e,
		 struct feed_ctx *fc);
void retry_flush(struct pipeline *p, struct session *s, int64_t ts_mono);

/* output.c */
void output_token(struct pipeline *p, const char *event, int64_t ts, const struct sighting *s,
		  uint64_t count);
void output_sighting(struct pipeline *p, const struct sighting *s);

/* Reports a first sighting: the output stream and the sink. */
void output_report(struct pipeline *p, const struct sighting *s);

/* pod_hold.c: first sightings whose pod the watcher does not know yet. */
struct pod_hold;
/* Holds a copy of s when its pod is unknown; false: report it now. */
bool pod_hold_add(struct pipeline *p, const struct sighting *s, int64_t now);
/* Reports the held sightings whose pod is known now or that are due (all: every one). */
void pod_hold_tick(struct pipeline *p, int64_t now, bool all);
void pod_hold_free(struct pipeline *p);

/* usage_flush.c */
void usage_flush(struct pipeline *p);
/* A usage interval's wall-clock ends: ends now_real, lasts now_mono - start_mono (>= 0). */
void usage_interval(int64_t start_mono, int64_t now_mono, int64_t now_real,
		    int64_t *start_real, int64_t *end_real);
void usage_tick(struct pipeline *p, int64_t now);

#endif
