/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's pipeline driven by ring-buffer records built byte for byte
 * as the BPF programs emit them (bpf/tokentap.h; no BPF here): HTTP/1
 * split over writes, TLS writes held until their bind, handshake-time
 * retries, HTTP/2 frames, Go encoder header fields, usage intervals,
 * malformed records, connection close and process exit. Every test checks
 * that no raw credential reaches the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agg.h"
#include "clock.h"
#include "h2_build.h"
#include "http2.h"
#include "pipeline.h"
#include "pipeline_internal.h"
#include "tokentap.h"
#include "token_samples.h"
#include "wipe.h"

#define MS 1000000LL
#define SEC 1000000000LL
/* No such process: above PID_MAX_LIMIT, so nothing is read from /proc. */
#define PID 0x7ffffff0u
#define SSL_PTR 0x5555deadbe00ULL
#define ENC_PTR 0x5555cafe0000ULL

/* What the pipeline reported through its sink. */
struct seen {
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	char type[32];
	char host[SIGHT_HOST_MAX], method[16], path[SIGHT_PATH_MAX], src[64], dst[64], tls_library[16], header[64];
	bool tls;
};

struct t {
	struct pipeline *p;
	struct pipeline_sink sink;
	struct pipeline_opts o;
	struct fp_key key;
	FILE *out;
	char *outbuf;
	size_t outlen;
	struct seen seen[8];
	size_t nseen;
	uint64_t usage[8];
	size_t nusage;
	int64_t now;            /* CLOCK_MONOTONIC of the next record */
	char tok[TOK_MAX];      /* the credential of the test: never in the output */
	size_t toklen;
};

static void on_seen(void *ctx, const struct sighting *s)
{
	struct t *t = ctx;
	struct seen *v;

	assert_true(t->nseen < 8);
	v = &t->seen[t->nseen++];
	snprintf(v->fingerprint, sizeof(v->fingerprint), "%s", s->fingerprint);
	snprintf(v->type, sizeof(v->type), "%s", s->info.type);
	snprintf(v->host, sizeof(v->host), "%s", s->host);
	snprintf(v->method, sizeof(v->method), "%s", s->method);
	snprintf(v->path, sizeof(v->path), "%s", s->path);
	snprintf(v->src, sizeof(v->src), "%s", s->src);
	snprintf(v->dst, sizeof(v->dst), "%s", s->dst);
	snprintf(v->tls_library, sizeof(v->tls_library), "%s", s->tls_library);
	snprintf(v->header, sizeof(v->header), "%s", s->header);
	v->tls = s->tls;
}

static void on_usage(void *ctx, const struct sighting *first, int64_t last_seen_ns,
		     uint64_t count, int64_t start_ns, int64_t end_ns)
{
	struct t *t = ctx;

	(void)first;
	(void)last_seen_ns;
	assert_true(t->nusage < 8);
	assert_true(start_ns <= end_ns);
	t->usage[t->nusage++] = count;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	memcpy(t->key.bytes, "pipeline-test-key", 17);
	t->key.len = 17;
	t->out = open_memstream(&t->outbuf, &t->outlen);
	assert_non_null(t->out);
	t->sink = (struct pipeline_sink){ .seen = on_seen, .usage = on_usage, .ctx = t };
	t->o = (struct pipeline_opts){
		.json = true, .interval_s = 60, .max_header_bytes = 16384, .key = &t->key,
		.cred = cred_config_default(), .out = t->out, .sink = &t->sink,
	};
	t->p = pipeline_new(&t->o);
	assert_non_null(t->p);
	t->now = clock_mono_ns();
	t->toklen = build_github(t->tok, "ghp_", true);
	*state = t;
	return 0;
}

/* The output so far, NUL-terminated; the credential must not be in it. */
static const char *output(struct t *t)
{
	fflush(t->out);
	assert_null(memmem(t->outbuf, t->outlen, t->tok, t->toklen));
	/* nor any long part of it (a value cut at a write boundary) */
	assert_null(memmem(t->outbuf, t->outlen, t->tok + 4, 12));
	return t->outbuf;
}

static int teardown(void **state)
{
	struct t *t = *state;

	pipeline_free(t->p);
	output(t);
	fclose(t->out);
	free(t->outbuf);
	secure_wipe(t->tok, sizeof(t->tok));
	free(t);
	return 0;
}

static const struct tt_addr src4 = { .family = AF_INET, .port = 40000, .addr = { 10, 0, 0, 1 } };
static const struct tt_addr dst4 = { .family = AF_INET, .port = 443, .addr = { 93, 184, 216, 34 } };

/* event_begin(): the header of every record the BPF side builds. */
static void hdr(struct t *t, struct tt_event_hdr *h, unsigned kind, unsigned flags, int fd,
		uint64_t conn)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->flags = flags;
	h->ts_ns = (unsigned long long)t->now;
	h->pid = PID;
	h->tid = PID + 1;
	h->uid = 1000;
	h->fd = fd;
	h->conn = conn;
	h->cgroup_id = 42;
	memcpy(h->comm, "client", 7);
}

/* fill_addrs(): the socket's addresses. */
static void addrs(struct tt_event_hdr *h)
{
	h->src = src4;
	h->dst = dst4;
	h->flags |= TT_F_ADDR;
}

/*
 * Hands the record to the pipeline in a buffer of exactly its size, as
 * bpf_ringbuf_output() submits sizeof(h) + len bytes: a read past it is
 * an ASan error.
 */
static void submit(struct t *t, const void *rec, size_t size)
{
	void *copy = malloc(size ? size : 1);

	assert_non_null(copy);
	memcpy(copy, rec, size);
	pipeline_handle(t->p, copy, size);
	free(copy);
	t->now += MS;
}

/* event_submit(): a data event carrying n bytes (orig_len: what was written). */
static void data(struct t *t, struct tt_data_event *e, const void *d, size_t n, size_t orig)
{
	assert_true(n <= TT_DATA_MAX);
	memcpy(e->data, d, n);
	e->h.len = (unsigned)n;
	e->h.orig_len = (unsigned)orig;
	submit(t, e, sizeof(e->h) + n);
}

static struct tt_data_event *new_event(void)
{
	struct tt_data_event *e = malloc(sizeof(*e));

	assert_non_null(e);
	return e;
}

/* A plaintext write (plain_capture): conn is fd | TT_CONN_PLAIN. */
static void plain_write(struct t *t, unsigned flags, int fd, const char *d)
{
	struct tt_data_event *e = new_event();

	hdr(t, &e->h, TT_EV_DATA, flags, fd, (uint64_t)fd | TT_CONN_PLAIN);
	addrs(&e->h);
	data(t, e, d, strlen(d), strlen(d));
	free(e);
}

/* A TLS library's write (on_tls_write), not yet bound to its socket unless bound. */
static void tls_write(struct t *t, unsigned flags, uint64_t ssl, bool bound, const void *d,
		      size_t n)
{
	struct tt_data_event *e = new_event();

	hdr(t, &e->h, TT_EV_DATA, TT_F_TLS | flags, -1, ssl);
	e->h.tls_lib = TT_LIB_OPENSSL;
	if (bound) {
		e->h.fd = 7;
		addrs(&e->h);
	} else {
		e->h.flags |= TT_F_NEED_BIND;
	}
	data(t, e, d, n, n);
	free(e);
}

/* tls_bind(): the session's socket is known (a bare header record). */
static void tls_bind(struct t *t, uint64_t ssl, int fd)
{
	struct tt_event_hdr h;

	hdr(t, &h, TT_EV_BIND, 0, fd, ssl);
	addrs(&h);
	submit(t, &h, sizeof(h));
}

/* tp_close(): a tracked fd was closed; ssl its bound TLS session or 0. */
static void close_fd(struct t *t, int fd, uint64_t ssl)
{
	struct tt_event_hdr h;

	hdr(t, &h, TT_EV_CLOSE, 0, fd, ssl);
	submit(t, &h, sizeof(h));
}

/* "Authorization: Bearer <tok>" request text. */
static void request(const struct t *t, char *out, size_t cap, const char *path)
{
	int n = snprintf(out, cap,
			 "GET %s HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: t\r\n"
			 "Authorization: Bearer %s\r\nAccept: */*\r\n\r\n",
			 path, t->tok);

	assert_true(n > 0 && (size_t)n < cap);
}

static void expect_fingerprint(const struct t *t, const struct seen *v)
{
	char fp[FINGERPRINT_HEX_LEN + 1];

	assert_int_equal(fingerprint_hex(&t->key, t->tok, t->toklen, fp), 0);
	assert_string_equal(v->fingerprint, fp);
	assert_string_equal(v->type, "github_pat");
	assert_string_equal(v->header, "authorization");
}

/* A plaintext request whose token is cut by the end of the first write. */
static void test_http1_split_bearer(void **state)
{
	struct t *t = *state;
	char req[1024], *cut;
	const struct pipeline_stats *st = pipeline_stats(t->p);

	request(t, req, sizeof(req), "/v1/user?page=2&q=x");
	cut = strstr(req, t->tok) + 10;
	{
		char first[1024];

		snprintf(first, sizeof(first), "%.*s", (int)(cut - req), req);
		plain_write(t, TT_F_START, 5, first);
	}
	assert_int_equal(t->nseen, 0);
	plain_write(t, TT_F_CONT, 5, cut);

	assert_int_equal(t->nseen, 1);
	expect_fingerprint(t, &t->seen[0]);
	assert_string_equal(t->seen[0].host, "api.example.com");
	assert_string_equal(t->seen[0].method, "GET");
	/* query values are never reported */
	assert_string_equal(t->seen[0].path, "/v1/user?page=&q=");
	assert_string_equal(t->seen[0].src, "10.0.0.1:40000");
	assert_string_equal(t->seen[0].dst, "93.184.216.34:443");
	assert_false(t->seen[0].tls);
	assert_string_equal(t->seen[0].tls_library, "");
	assert_int_equal(st->requests, 1);
	assert_int_equal(st->credentials, 1);
	assert_int_equal(st->bad_events, 0);
	assert_int_equal(st->sessions, 1);

	const char *o = output(t);

	assert_non_null(strstr(o, "\"event\":\"token_seen\""));
	assert_non_null(strstr(o, t->seen[0].fingerprint));
}

/* A continuation with no request open is counted, never parsed. */
static void test_http1_orphan_continuation(void **state)
{
	struct t *t = *state;

	plain_write(t, TT_F_CONT, 5, "Authorization: Bearer x\r\n\r\n");
	assert_int_equal(pipeline_stats(t->p)->orphan_continuations, 1);
	assert_int_equal(t->nseen, 0);
}

/* A TLS write is held until the bind that names its socket. */
static void test_tls_parked_until_bind(void **state)
{
	struct t *t = *state;
	char req[1024];
	const struct pipeline_stats *st = pipeline_stats(t->p);

	request(t, req, sizeof(req), "/repos");
	tls_write(t, TT_F_START, SSL_PTR, false, req, strlen(req));
	assert_int_equal(st->credentials, 1);
	assert_int_equal(t->nseen, 0);
	/* not yet due */
	pipeline_tick(t->p, t->now);
	assert_int_equal(t->nseen, 0);

	tls_bind(t, SSL_PTR, 7);
	assert_int_equal(t->nseen, 1);
	expect_fingerprint(t, &t->seen[0]);
	assert_true(t->seen[0].tls);
	assert_string_equal(t->seen[0].tls_library, "openssl");
	assert_string_equal(t->seen[0].dst, "93.184.216.34:443");
	assert_string_equal(t->seen[0].path, "/repos");
	assert_int_equal(st->unbound_tls, 0);

	/* bound now: the next request is reported at once */
	tls_write(t, TT_F_START, SSL_PTR, true, req, strlen(req));
	assert_int_equal(st->requests, 2);
	assert_int_equal(t->nseen, 1); /* same triple: counted, not seen again */
	output(t);
}

/* No bind comes (a memory BIO): the write is reported without an address. */
static void test_tls_park_expires(void **state)
{
	struct t *t = *state;
	char req[1024];

	request(t, req, sizeof(req), "/");
	tls_write(t, TT_F_START, SSL_PTR, false, req, strlen(req));
	pipeline_tick(t->p, t->now + SEC);
	assert_int_equal(t->nseen, 1);
	assert_string_equal(t->seen[0].dst, "");
	assert_int_equal(pipeline_stats(t->p)->unbound_tls, 1);
	output(t);
}

/* A handshake-time write repeated with the same bytes is one request. */
static void test_tls_handshake_retry(void **state)
{
	struct t *t = *state;
	char req[1024];
	const struct pipeline_stats *st = pipeline_stats(t->p);

	request(t, req, sizeof(req), "/retry");
	tls_write(t, TT_F_START | TT_F_IN_INIT, SSL_PTR, false, req, strlen(req));
	tls_write(t, TT_F_START, SSL_PTR, true, req, strlen(req));
	assert_int_equal(t->nseen, 1);
	assert_int_equal(st->tls_retries, 1);
	pipeline_flush_all(t->p);
	/* the retry alone was counted */
	assert_int_equal(t->nusage, 1);
	assert_int_equal(t->usage[0], 1);
	output(t);
}

/* HPACK literal without indexing, new name (RFC 7541 6.2.2), short strings. */
/* An HTTP/2 frame stream: the preface write, then a HEADERS frame in the next. */
static void test_h2_frames(void **state)
{
	struct t *t = *state;
	static const uint8_t settings[] = { 0, 3, 0, 0, 0, 100 };
	uint8_t block[512], w[1024];
	char bearer[TOK_MAX + 16];
	size_t bn = 0, wn;
	const struct pipeline_stats *st = pipeline_stats(t->p);

	snprintf(bearer, sizeof(bearer), "Bearer %s", t->tok);
	bn += hpack_lit(block + bn, ":method", "POST");
	bn += hpack_lit(block + bn, ":scheme", "https");
	bn += hpack_lit(block + bn, ":authority", "api.github.com");
	bn += hpack_lit(block + bn, ":path", "/graphql");
	bn += hpack_lit(block + bn, "host", "ignored.example");
	bn += hpack_lit(block + bn, "authorization", bearer);

	memcpy(w, H2_PREFACE, H2_PREFACE_LEN);
	wn = H2_PREFACE_LEN + h2_frame(w + H2_PREFACE_LEN, 0x4, 0, 0, settings, sizeof(settings));
	tls_write(t, TT_F_H2, SSL_PTR, true, w, wn);
	wn = h2_frame(w, 0x1, 0x4 | 0x1, 1, block, bn);
	tls_write(t, TT_F_H2, SSL_PTR, true, w, wn);

	assert_int_equal(t->nseen, 1);
	expect_fingerprint(t, &t->seen[0]);
	assert_string_equal(t->seen[0].method, "POST");
	assert_string_equal(t->seen[0].path, "/graphql");
	/* :authority wins over a host field */
	assert_string_equal(t->seen[0].host, "api.github.com");
	assert_string_equal(t->seen[0].dst, "93.184.216.34:443");
	assert_int_equal(st->requests, 1);
	assert_int_equal(st->h2_undecodable, 0);
	output(t);
}

/* go_hfield(): one header field, name NUL value, keyed by the encoder. */
static void hfield(struct t *t, const char *name, const char *value, unsigned extra)
{
	struct tt_data_event *e = new_event();
	size_t nl = strlen(name), vl = strlen(value);

	hdr(t, &e->h, TT_EV_DATA, TT_F_TLS | TT_F_HFIELD | extra, -1, ENC_PTR);
	e->h.tls_lib = TT_LIB_GO;
	memcpy(e->data, name, nl);
	e->data[nl] = 0;
	memcpy(e->data + nl + 1, value, vl);
	e->h.len = (unsigned)(nl + 1 + vl);
	e->h.orig_len = e->h.len;
	submit(t, e, sizeof(e->h) + e->h.len);
	free(e);
}

/* hf_end(): the encoding thread writes to a TLS session; data is the encoder. */
static void hfend(struct t *t, uint64_t ssl, uint64_t enc)
{
	struct tt_data_event *e = new_event();

	hdr(t, &e->h, TT_EV_HFEND, TT_F_TLS, 9, ssl);
	e->h.tls_lib = TT_LIB_GO;
	addrs(&e->h);
	memcpy(e->data, &enc, sizeof(enc));
	e->h.len = sizeof(enc);
	submit(t, e, sizeof(e->h) + sizeof(enc));
	free(e);
}

static void go_request(struct t *t, const char *path)
{
	char bearer[TOK_MAX + 16];

	snprintf(bearer, sizeof(bearer), "Bearer %s", t->tok);
	hfield(t, ":authority", "api.github.com", 0);
	hfield(t, ":method", "GET", 0);
	hfield(t, ":path", path, 0);
	hfield(t, ":scheme", "https", 0);
	hfield(t, "authorization", bearer, 0);
	hfield(t, "user-agent", "Go-http-client/2.0", 0);
}

/* Go's encoder fields are grouped into one request, bound by the next TLS write. */
static void test_go_hfields_grouped(void **state)
{
	struct t *t = *state;
	const struct pipeline_stats *st = pipeline_stats(t->p);

	go_request(t, "/user");
	assert_int_equal(t->nseen, 0);
	hfend(t, SSL_PTR, ENC_PTR);
	assert_int_equal(t->nseen, 1);
	expect_fingerprint(t, &t->seen[0]);
	assert_string_equal(t->seen[0].method, "GET");
	assert_string_equal(t->seen[0].path, "/user");
	assert_string_equal(t->seen[0].host, "api.github.com");
	assert_string_equal(t->seen[0].dst, "93.184.216.34:443");
	assert_string_equal(t->seen[0].tls_library, "go");
	assert_int_equal(st->requests, 1);

	/* an HFEND for an encoder with nothing pending changes nothing */
	hfend(t, SSL_PTR, ENC_PTR);
	assert_int_equal(st->requests, 1);
	output(t);
}

/* Without an HFEND, a pseudo-header after a regular field opens the next request. */
static void test_go_hfields_next_and_quiet(void **state)
{
	struct t *t = *state;
	const struct pipeline_stats *st = pipeline_stats(t->p);

	go_request(t, "/a");
	go_request(t, "/b");
	/* the first was closed by the second's :authority, with no address */
	assert_int_equal(st->requests, 1);
	assert_int_equal(t->nseen, 1);
	assert_string_equal(t->seen[0].path, "/a");
	assert_string_equal(t->seen[0].dst, "");
	/* the second ends when the fields go quiet */
	pipeline_tick(t->p, t->now + 100 * MS);
	assert_int_equal(st->requests, 2);
	/* same token, process and (no) destination: one triple */
	assert_int_equal(t->nseen, 1);

	/* a cut value is never fingerprinted */
	hfield(t, ":method", "GET", 0);
	hfield(t, "authorization", "Bearer abc", TT_F_TRUNC);
	pipeline_flush_all(t->p);
	assert_int_equal(st->headers_truncated, 1);
	assert_int_equal(st->credentials, 2);
	output(t);
}

/* go_h2_req(): one record of a whole request's block. */
static size_t hb_rec(uint8_t *at, unsigned kind, const char *name, const char *value)
{
	size_t nl = name ? strlen(name) : 0, vl = strlen(value);
	struct tt_hb_rec r = { (unsigned char)kind, (unsigned char)nl, (unsigned short)vl };

	memcpy(at, &r, sizeof(r));
	memcpy(at + sizeof(r), name ? name : "", nl);
	memcpy(at + sizeof(r) + nl, value, vl);
	return sizeof(r) + nl + vl;
}

/* A whole request at once, keyed by the client connection (here ENC_PTR). */
static void hblock(struct t *t, const char *path, const char *query, unsigned extra)
{
	struct tt_data_event *e = new_event();
	char bearer[TOK_MAX + 16];
	size_t n = 0;

	snprintf(bearer, sizeof(bearer), "Bearer %s", t->tok);
	hdr(t, &e->h, TT_EV_DATA, TT_F_TLS | TT_F_HBLOCK | extra, -1, ENC_PTR);
	e->h.tls_lib = TT_LIB_GO;
	n += hb_rec(e->data + n, TT_HB_AUTHORITY, NULL, "api.github.com");
	n += hb_rec(e->data + n, TT_HB_METHOD, NULL, "");
	n += hb_rec(e->data + n, TT_HB_SCHEME, NULL, "https");
	n += hb_rec(e->data + n, TT_HB_PATH, NULL, path);
	if (query)
		n += hb_rec(e->data + n, TT_HB_QUERY, NULL, query);
	n += hb_rec(e->data + n, TT_HB_HEADER, "User-Agent", "Go-http-client/2.0");
	n += hb_rec(e->data + n, TT_HB_HEADER, "Authorization", bearer);
	e->h.len = (unsigned)n;
	e->h.orig_len = e->h.len;
	submit(t, e, sizeof(e->h) + e->h.len);
	free(e);
}

/*
 * Go's once-per-request block: a request with Go's names lowercased and
 * the method it defaults to, bound by the thread's next TLS write; a block
 * with no write ends at the next block; a malformed one is refused.
 */
static void test_go_hblock(void **state)
{
	struct t *t = *state;
	const struct pipeline_stats *st = pipeline_stats(t->p);
	struct tt_data_event *e;

	hblock(t, "/user", "page=2", 0);
	assert_int_equal(t->nseen, 0);
	hfend(t, SSL_PTR, ENC_PTR);
	assert_int_equal(t->nseen, 1);
	expect_fingerprint(t, &t->seen[0]);
	assert_string_equal(t->seen[0].method, "GET");
	assert_string_equal(t->seen[0].path, "/user?page=");
	assert_string_equal(t->seen[0].host, "api.github.com");
	assert_string_equal(t->seen[0].header, "authorization");
	assert_string_equal(t->seen[0].dst, "93.184.216.34:443");
	assert_string_equal(t->seen[0].tls_library, "go");
	assert_int_equal(st->requests, 1);

	/* no write seen: the next block closes it, without an address */
	hblock(t, "/a", NULL, 0);
	hblock(t, "/b", NULL, 0);
	assert_int_equal(st->requests, 2);
	pipeline_tick(t->p, t->now + 100 * MS);
	assert_int_equal(st->requests, 3);

	/* a block the probe could not copy whole still counts what it holds */
	hblock(t, "/c", NULL, TT_F_TRUNC);
	hfend(t, SSL_PTR, ENC_PTR);
	assert_int_equal(st->requests, 4);
	assert_int_equal(st->headers_truncated, 1);
	assert_int_equal(st->credentials, 4);

	/* a record running past the block */
	e = new_event();
	hdr(t, &e->h, TT_EV_DATA, TT_F_TLS | TT_F_HBLOCK, -1, ENC_PTR);
	e->h.len = (unsigned)hb_rec(e->data, TT_HB_HEADER, "Authorization", "Bearer x") - 1;
	submit(t, e, sizeof(e->h) + e->h.len);
	free(e);
	assert_int_equal(st->bad_events, 1);
	assert_int_equal(st->requests, 4);
	output(t);
}

/* Usage counts go out once per interval, and only for triples used in it. */
static void test_usage_flush_per_interval(void **state)
{
	struct t *t = *state;
	char req[1024];
	int64_t start = t->now;

	request(t, req, sizeof(req), "/u");
	plain_write(t, TT_F_START, 5, req);
	plain_write(t, TT_F_START, 5, req);
	plain_write(t, TT_F_START, 5, req);
	assert_int_equal(t->nseen, 1);

	pipeline_tick(t->p, start + 30 * SEC);
	assert_int_equal(t->nusage, 0);
	pipeline_tick(t->p, start + 61 * SEC);
	assert_int_equal(t->nusage, 1);
	assert_int_equal(t->usage[0], 3);

	/* nothing used since: nothing to report */
	pipeline_tick(t->p, start + 122 * SEC);
	assert_int_equal(t->nusage, 1);

	t->now = start + 130 * SEC;
	plain_write(t, TT_F_START, 5, req);
	pipeline_tick(t->p, start + 183 * SEC);
	assert_int_equal(t->nusage, 2);
	assert_int_equal(t->usage[1], 1);

	const char *o = output(t);

	assert_non_null(strstr(o, "\"event\":\"token_usage\""));
}

/* Malformed records are counted and dropped; none is read past its end. */
static void test_malformed_events(void **state)
{
	struct t *t = *state;
	struct tt_data_event *e = new_event();
	const struct pipeline_stats *st = pipeline_stats(t->p);
	uint64_t bad = 0;

	/* shorter than a header */
	hdr(t, &e->h, TT_EV_DATA, TT_F_START, 5, 5 | TT_CONN_PLAIN);
	submit(t, e, sizeof(e->h) - 1);
	assert_int_equal(st->bad_events, ++bad);
	submit(t, e, 0);
	assert_int_equal(st->bad_events, ++bad);

	/* len says more than the record holds */
	hdr(t, &e->h, TT_EV_DATA, TT_F_START, 5, 5 | TT_CONN_PLAIN);
	memcpy(e->data, "GET / HTTP/1.1\r\n", 16);
	e->h.len = 64;
	submit(t, e, sizeof(e->h) + 16);
	assert_int_equal(st->bad_events, ++bad);

	/* len beyond what any record carries */
	e->h.len = TT_DATA_MAX + 1;
	submit(t, e, sizeof(e->h) + 16);
	assert_int_equal(st->bad_events, ++bad);

	/* a data event that is neither a start, a continuation, HTTP/2 nor a field */
	hdr(t, &e->h, TT_EV_DATA, TT_F_TLS, -1, SSL_PTR);
	data(t, e, "GET / HTTP/1.1\r\n\r\n", 18, 18);
	assert_int_equal(st->bad_events, ++bad);

	/* an unknown kind */
	hdr(t, &e->h, 99, 0, 5, 5);
	submit(t, e, sizeof(e->h));
	assert_int_equal(st->bad_events, ++bad);

	/* a header field without its NUL */
	hdr(t, &e->h, TT_EV_DATA, TT_F_TLS | TT_F_HFIELD, -1, ENC_PTR);
	data(t, e, "authorization", 13, 13);
	assert_int_equal(st->bad_events, ++bad);

	/* an HFEND whose encoder is not 8 bytes */
	hdr(t, &e->h, TT_EV_HFEND, TT_F_TLS, -1, SSL_PTR);
	data(t, e, "1234", 4, 4);
	assert_int_equal(st->bad_events, ++bad);

	/* a close without an fd */
	close_fd(t, -1, 0);
	assert_int_equal(st->bad_events, ++bad);

	/* garbage where a request was due: a parse error, not a bad record */
	plain_write(t, TT_F_START, 5, "GET \x01\x02\x03 nonsense\r\n\r\n");
	assert_int_equal(st->bad_events, bad);
	assert_int_equal(st->parse_errors, 1);

	free(e);
	assert_int_equal(st->requests, 0);
	assert_int_equal(t->nseen, 0);
	assert_int_equal(st->sessions, 1);
	output(t);
}

/* Closing an fd frees its sessions; what a TLS session held is reported first. */
static void test_close_frees_sessions(void **state)
{
	struct t *t = *state;
	char req[1024];
	const struct pipeline_stats *st = pipeline_stats(t->p);

	/* a plaintext header block left open */
	plain_write(t, TT_F_START, 5, "GET /open HTTP/1.1\r\nHost: a\r\n");
	assert_int_equal(st->sessions, 1);
	close_fd(t, 5, 0);
	assert_int_equal(st->sessions, 0);
	assert_int_equal(st->sessions_closed, 1);
	/* its continuation now has nowhere to go */
	plain_write(t, TT_F_CONT, 5, "Authorization: Bearer x\r\n\r\n");
	assert_int_equal(st->orphan_continuations, 1);

	/* a TLS session on fd 7 with a sighting held for its bind */
	request(t, req, sizeof(req), "/held");
	tls_write(t, TT_F_START, SSL_PTR, false, req, strlen(req));
	tls_bind(t, SSL_PTR, 7);
	tls_write(t, TT_F_START | TT_F_IN_INIT, SSL_PTR, false, req, strlen(req));
	assert_int_equal(t->nseen, 1);
	assert_int_equal(st->sessions, 1);
	/* another fd's close leaves it */
	close_fd(t, 8, SSL_PTR);
	assert_int_equal(st->sessions, 1);
	close_fd(t, 7, SSL_PTR);
	assert_int_equal(st->sessions, 0);
	assert_int_equal(st->sessions_closed, 2);
	assert_int_equal(st->requests, 2);
	pipeline_flush_all(t->p);
	assert_int_equal(t->nusage, 1);
	assert_int_equal(t->usage[0], 2);
	output(t);
}

/* A process's exit frees all its sessions; idle ones go after a while. */
static void test_exit_and_idle_sweep(void **state)
{
	struct t *t = *state;
	struct tt_event_hdr h;
	const struct pipeline_stats *st = pipeline_stats(t->p);

	plain_write(t, TT_F_START, 5, "GET /a HTTP/1.1\r\n");
	plain_write(t, TT_F_START, 6, "GET /b HTTP/1.1\r\n");
	assert_int_equal(st->sessions, 2);
	hdr(t, &h, TT_EV_EXIT, 0, -1, 0);
	submit(t, &h, sizeof(h));
	assert_int_equal(st->sessions, 0);

	plain_write(t, TT_F_START, 5, "GET /a HTTP/1.1\r\n");
	pipeline_tick(t->p, t->now + 60 * SEC);
	assert_int_equal(st->sessions, 1);
	pipeline_tick(t->p, t->now + 400 * SEC);
	assert_int_equal(st->sessions, 0);
	assert_int_equal(st->sessions_closed, 0);
}

/*
 * Thousands of sessions of one process: each is found again after others
 * came and went (the index grows, removals shift its probe runs), and the
 * process's exit frees every one.
 */
static void test_many_sessions(void **state)
{
	struct t *t = *state;
	const struct pipeline_stats *st = pipeline_stats(t->p);
	struct tt_event_hdr h;
	char cont[1024];
	size_t closed = 0;

	for (int fd = 100; fd < 2100; fd++)
		plain_write(t, TT_F_START, fd, "GET /many HTTP/1.1\r\nHost: api.example.com\r\n");
	assert_int_equal(st->sessions, 2000);
	for (int fd = 100; fd < 2100; fd += 3, closed++)
		close_fd(t, fd, 0);
	assert_int_equal(st->sessions, 2000 - closed);
	snprintf(cont, sizeof(cont), "Authorization: Bearer %.*s\r\n\r\n", (int)t->toklen, t->tok);
	for (int fd = 100; fd < 2100; fd++)
		plain_write(t, TT_F_CONT, fd, cont);
	secure_wipe(cont, sizeof(cont));
	assert_int_equal(st->orphan_continuations, closed);
	assert_int_equal(st->requests, 2000 - closed);
	assert_int_equal(t->nseen, 1);
	hdr(t, &h, TT_EV_EXIT, 0, -1, 0);
	submit(t, &h, sizeof(h));
	assert_int_equal(st->sessions, 0);
	pipeline_flush_all(t->p);
	assert_int_equal(t->nusage, 1);
	assert_int_equal(t->usage[0], 2000 - closed);
	output(t);
}

#define POD_UID "0b7c1d2e-3f40-4152-8364-758697a8b9ca"

/* A pod watcher that knows the pod once told so. */
static int pod_known;

static int resolve_pod(void *ctx, const char *pod_uid, const char *container_id,
		       struct pod_ident *out)
{
	(void)ctx;
	(void)container_id;
	if (!pod_known || strcmp(pod_uid, POD_UID) != 0)
		return 0;
	memset(out, 0, sizeof(*out));
	snprintf(out->pod, sizeof(out->pod), "api-7d4b9c8f6-x2x9z");
	snprintf(out->k8s_namespace, sizeof(out->k8s_namespace), "payments");
	snprintf(out->workload_kind, sizeof(out->workload_kind), "Deployment");
	snprintf(out->workload_name, sizeof(out->workload_name), "api");
	return 1;
}

static void pod_sighting(struct sighting *sg, const char *fp, uint32_t pid)
{
	memset(sg, 0, sizeof(*sg));
	snprintf(sg->fingerprint, sizeof(sg->fingerprint), "%s", fp);
	snprintf(sg->info.type, sizeof(sg->info.type), "opaque");
	snprintf(sg->pod_uid, sizeof(sg->pod_uid), POD_UID);
	snprintf(sg->exe, sizeof(sg->exe), "/app/server");
	snprintf(sg->dst, sizeof(sg->dst), "10.0.0.1:443");
	sg->pid = pid;
	sg->ts_unix_ns = clock_real_ns();
}

/*
 * A first sighting from a pod the watcher does not know waits for it: out
 * with the names once known, else after the hold with the pod UID alone.
 */
static void test_pod_hold(void **state)
{
	struct t *t = *state;
	struct pipeline *p;
	struct sighting sg;
	int64_t now = clock_mono_ns();
	const char *o;

	pipeline_free(t->p);
	t->o.pods = (struct pod_resolver){ resolve_pod, NULL };
	t->p = p = pipeline_new(&t->o);
	assert_non_null(p);
	pod_known = 0;

	pod_sighting(&sg, "00000000000000000000000000000001", 10);
	output_sighting(p, &sg);
	assert_int_equal(t->nseen, 0);
	pipeline_tick(p, now + SEC);
	assert_int_equal(t->nseen, 0);
	pod_known = 1;
	pipeline_tick(p, now + SEC + 1);
	assert_int_equal(t->nseen, 1);
	o = output(t);
	assert_non_null(strstr(o, "\"pod\":\"api-7d4b9c8f6-x2x9z\""));
	assert_non_null(strstr(o, "\"workload_kind\":\"Deployment\""));

	/* known now: no wait */
	pod_sighting(&sg, "00000000000000000000000000000002", 11);
	output_sighting(p, &sg);
	assert_int_equal(t->nseen, 2);

	/* never known: out after the hold, the pod UID alone */
	pod_known = 0;
	pod_sighting(&sg, "00000000000000000000000000000003", 12);
	output_sighting(p, &sg);
	assert_int_equal(t->nseen, 2);
	pipeline_tick(p, clock_mono_ns() + 3 * SEC);
	assert_int_equal(t->nseen, 3);
	assert_int_equal(pipeline_stats(p)->pod_held, 2);
	assert_int_equal(pipeline_stats(p)->pod_unknown, 1);

	/* held at exit: reported by the final flush */
	pod_sighting(&sg, "00000000000000000000000000000004", 13);
	output_sighting(p, &sg);
	assert_int_equal(t->nseen, 3);
	pipeline_flush_all(p);
	assert_int_equal(t->nseen, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http1_split_bearer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http1_orphan_continuation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_parked_until_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_park_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_handshake_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_h2_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_go_hfields_grouped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_go_hblock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_go_hfields_next_and_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_flush_per_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_frees_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_and_idle_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pod_hold, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
