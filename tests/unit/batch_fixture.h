/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds tokentap.v1 Batch messages for collector tests, fuzz seeds and
 * benchmarks. Everything is heap-allocated so the whole batch is released
 * with tokentap__v1__batch__free_unpacked(b, NULL). Allocation failures
 * abort: this is test code.
 */
#ifndef TOKENTAP_TEST_BATCH_FIXTURE_H
#define TOKENTAP_TEST_BATCH_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tokentap/v1/events.pb-c.h"

static inline void *fx_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		abort();
	return p;
}

static inline char *fx_str(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}

static inline Tokentap__V1__Batch *fx_batch(const char *sensor_id, const char *node, uint64_t seq)
{
	Tokentap__V1__Batch *b = fx_alloc(sizeof(*b));

	tokentap__v1__batch__init(b);
	b->sensor_id = fx_str(sensor_id);
	b->node = fx_str(node);
	b->seq = seq;
	b->sent_at_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
	b->sensor_version = fx_str("0.1.0");
	return b;
}

static inline Tokentap__V1__Token *fx_token(const char *fp, const char *type)
{
	Tokentap__V1__Token *t = fx_alloc(sizeof(*t));

	tokentap__v1__token__init(t);
	t->fingerprint = fx_str(fp);
	t->token_type = fx_str(type);
	t->scheme = fx_str("Bearer");
	t->header = fx_str("authorization");
	t->token_prefix = fx_str(strcmp(type, "github_pat") ? "" : "ghp_");
	t->token_length = 40;
	t->confidence = 90;
	return t;
}

static inline Tokentap__V1__ProcessRef *fx_proc(uint32_t pid, const char *exe)
{
	Tokentap__V1__ProcessRef *p = fx_alloc(sizeof(*p));
	const char *base = strrchr(exe, '/');

	tokentap__v1__process_ref__init(p);
	p->pid = pid;
	p->tid = pid;
	p->uid = 1000;
	p->comm = fx_str(base ? base + 1 : exe);
	p->exe = fx_str(exe);
	return p;
}

static inline Tokentap__V1__Destination *fx_dst(const char *dst, const char *host, bool tls)
{
	Tokentap__V1__Destination *d = fx_alloc(sizeof(*d));

	tokentap__v1__destination__init(d);
	d->src = fx_str("10.0.0.1:40000");
	d->dst = fx_str(dst);
	d->host = fx_str(host);
	d->tls = tls;
	d->tls_library = fx_str(tls ? "openssl" : "");
	return d;
}

static inline Tokentap__V1__Event *fx_add_event(Tokentap__V1__Batch *b)
{
	Tokentap__V1__Event *e = fx_alloc(sizeof(*e));
	Tokentap__V1__Event **n = realloc(b->events, (b->n_events + 1) * sizeof(*n));

	if (!n)
		abort();
	tokentap__v1__event__init(e);
	b->events = n;
	b->events[b->n_events++] = e;
	return e;
}

/* A first sighting of (fp, pid/exe, dst/host) at ts_ms. */
static inline Tokentap__V1__TokenSeen *fx_add_seen(Tokentap__V1__Batch *b, const char *fp,
						   const char *type, uint32_t pid, const char *exe,
						   const char *dst, const char *host, int64_t ts_ms)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__TokenSeen *s = fx_alloc(sizeof(*s));

	tokentap__v1__token_seen__init(s);
	s->ts_ms = ts_ms;
	s->token = fx_token(fp, type);
	s->process = fx_proc(pid, exe);
	s->destination = fx_dst(dst, host, true);
	s->method = fx_str("GET");
	s->path = fx_str("/user?page=");
	e->kind_case = TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN;
	e->token_seen = s;
	return s;
}

/* count requests of the triple, the last at last_ms, in [last_ms - 1000, last_ms + 1). */
static inline Tokentap__V1__TokenUsage *fx_add_usage(Tokentap__V1__Batch *b, const char *fp,
						     const char *type, uint32_t pid,
						     const char *exe, const char *dst,
						     const char *host, uint64_t count,
						     int64_t last_ms)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__TokenUsage *u = fx_alloc(sizeof(*u));

	tokentap__v1__token_usage__init(u);
	u->start_ms = last_ms - 1000;
	u->end_ms = last_ms + 1;
	u->last_seen_ms = last_ms;
	u->count = count;
	u->token = fx_token(fp, type);
	u->process = fx_proc(pid, exe);
	u->destination = fx_dst(dst, host, true);
	u->method = fx_str("GET");
	u->path = fx_str("/user?page=");
	e->kind_case = TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE;
	e->token_usage = u;
	return u;
}

static inline Tokentap__V1__ProcessInfo *fx_add_process(Tokentap__V1__Batch *b, uint32_t pid,
							int64_t start_ms, const char *exe,
							const char *cmdline,
							const char *container_id)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__ProcessInfo *p = fx_alloc(sizeof(*p));

	tokentap__v1__process_info__init(p);
	p->pid = pid;
	p->start_time_ms = start_ms;
	p->ppid = 1;
	p->uid = 1000;
	p->exe = fx_str(exe);
	p->cmdline = fx_str(cmdline);
	p->cgroup = fx_str("/system.slice/test.service");
	p->container_id = fx_str(container_id);
	e->kind_case = TOKENTAP__V1__EVENT__KIND_PROCESS_INFO;
	e->process_info = p;
	return p;
}

static inline Tokentap__V1__SensorStatus *fx_add_status(Tokentap__V1__Batch *b, int64_t ts_ms,
							uint64_t events, uint64_t drops)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__SensorStatus *s = fx_alloc(sizeof(*s));

	tokentap__v1__sensor_status__init(s);
	s->ts_ms = ts_ms;
	s->uprobes = 4;
	s->tracepoints = 4;
	s->events = events;
	s->ringbuf_drops = drops;
	e->kind_case = TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS;
	e->sensor_status = s;
	return s;
}

/* gzip (RFC 1952) of in; malloc'd. */
static inline void fx_set_str(char **field, const char *v)
{
	if (*field != protobuf_c_empty_string)
		free(*field);
	*field = fx_str(v);
}

/* A credential found in a process (scheme and header are "" for held tokens). */
static inline Tokentap__V1__TokenHeld *fx_add_held(Tokentap__V1__Batch *b, const char *fp,
						   const char *type, uint32_t pid, const char *exe,
						   Tokentap__V1__HeldSource source, const char *name,
						   int64_t ts)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__TokenHeld *h = fx_alloc(sizeof(*h));

	tokentap__v1__token_held__init(h);
	h->ts_ms = ts;
	h->token = fx_token(fp, type);
	fx_set_str(&h->token->scheme, "");
	fx_set_str(&h->token->header, "");
	h->process = fx_proc(pid, exe);
	h->source = source;
	h->name = fx_str(name);
	h->process_start_ms = ts - 3600000;
	e->kind_case = TOKENTAP__V1__EVENT__KIND_TOKEN_HELD;
	e->token_held = h;
	return h;
}

static inline Tokentap__V1__RevocationResult *fx_add_revocation(Tokentap__V1__Batch *b,
								 const char *fp,
								 const char *outcome, int64_t ts)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__RevocationResult *r = fx_alloc(sizeof(*r));

	tokentap__v1__revocation_result__init(r);
	r->ts_ms = ts;
	r->fingerprint = fx_str(fp);
	r->outcome = fx_str(outcome);
	r->exit_code = 0;
	r->detail = fx_str("revoked");
	r->token_type = fx_str("github_pat");
	e->kind_case = TOKENTAP__V1__EVENT__KIND_REVOCATION_RESULT;
	e->revocation_result = r;
	return r;
}

/* A blind spot: exe (pid) sent TLS to dst, not seen into, for cause (detail). */
static inline Tokentap__V1__TlsUncovered *fx_add_uncovered(Tokentap__V1__Batch *b, uint32_t pid,
							   const char *exe, const char *dst,
							   const char *cause, const char *detail,
							   int64_t ts)
{
	Tokentap__V1__Event *e = fx_add_event(b);
	Tokentap__V1__TlsUncovered *u = fx_alloc(sizeof(*u));

	tokentap__v1__tls_uncovered__init(u);
	u->ts_ms = ts;
	u->process = fx_proc(pid, exe);
	u->process->tid = 0;
	u->dst = fx_str(dst);
	u->cause = fx_str(cause);
	u->detail = fx_str(detail);
	u->container_id = fx_str("");
	u->pod_uid = fx_str("");
	e->kind_case = TOKENTAP__V1__EVENT__KIND_TLS_UNCOVERED;
	e->tls_uncovered = u;
	return u;
}

static inline uint8_t *fx_gzip(const void *in, size_t len, size_t *outlen)
{
	z_stream zs = { 0 };
	uint8_t *out;
	size_t cap;

	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	cap = deflateBound(&zs, len);
	out = fx_alloc(cap);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		abort();
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* The batch serialized, gzipped when gzip; malloc'd. */
static inline uint8_t *fx_pack(const Tokentap__V1__Batch *b, bool gzip, size_t *len)
{
	size_t n = tokentap__v1__batch__get_packed_size(b);
	uint8_t *raw = fx_alloc(n);
	uint8_t *z;

	tokentap__v1__batch__pack(b, raw);
	if (!gzip) {
		*len = n;
		return raw;
	}
	z = fx_gzip(raw, n, len);
	free(raw);
	return z;
}

static inline void fx_free(Tokentap__V1__Batch *b)
{
	tokentap__v1__batch__free_unpacked(b, NULL);
}

#endif
