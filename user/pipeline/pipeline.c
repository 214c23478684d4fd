/* SPDX-License-Identifier: Apache-2.0 */
#include "pipeline.h"
#include "clock.h"
#include "wipe.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg.h"
#include "classify.h"
#include "http1.h"
#include "hfgroup.h"
#include "http2.h"
#include "exe_cache.h"
#include "sighting.h"
#include "text.h"
#include "tokentap.h"

#define SESSION_BUCKETS 4096
#define SESSION_MAX 8192
#define PARK_MAX 16
/* The nested write that binds a TLS session follows SSL_write at once. */
#define PARK_NS (250LL * 1000 * 1000)
/* A write made during the TLS handshake is held this long for a retry. */
#define RETRY_NS (2000LL * 1000 * 1000)
#define SESSION_IDLE_NS (300LL * 1000 * 1000 * 1000)
#define AGG_IDLE_NS (3600LL * 1000 * 1000 * 1000)
#define AGG_MAX 65536
#define CLASS_SLOTS 4096
/*
 * An HTTP/2 session holds frame, block and decoded-field buffers (4 x
 * H2_BLOCK_MAX) plus its HPACK table: their number is bounded.
 */
#define H2_SESSION_MAX 1024
#define H2_BLOCK_MAX 16384
/* A plaintext session's conn: the fd with this bit, as the BPF side's CONN_PLAIN. */
#define PLAIN_CONN (1ULL << 63)
/* An HPACK encoder's header fields: the encoder pointer with this bit. */
#define HF_CONN (1ULL << 62)
/* Fields of one request come in a burst: this long without one ends it. */
#define HF_QUIET_NS (20LL * 1000 * 1000)
/* Requests being grouped at once (each holds a struct hf_group). */
#define HF_GROUP_MAX 1024

struct session {
	uint32_t pid;
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
	struct sighting *parked;    /* waiting for the TLS bind, PARK_MAX */
	size_t nparked;
	int64_t park_deadline;
	/*
	 * Sightings of a write made while the TLS handshake was in progress:
	 * if the same bytes are written again the first call failed and only
	 * the retry counts; otherwise they are reported after RETRY_NS.
	 */
	struct sighting *retry;
	size_t nretry;
	uint8_t retry_digest[SHA256_DIGEST_LENGTH];
	int64_t retry_deadline;
	int64_t last_ns;
	struct session *next;
};

struct class_slot {
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	char header[CRED_NAME_MAX];
	char scheme[32];
	struct token_info info;
};

struct pipeline {
	struct pipeline_opts o;
	struct pipeline_stats st;
	struct session *buckets[SESSION_BUCKETS];
	size_t nsessions;
	size_t nh2;
	size_t nhf;
	struct agg agg;
	struct class_slot *classes;
	int64_t mono_to_real;
	int64_t next_flush;
	int64_t next_sweep;
	int64_t interval_start;         /* wall clock ns of the last usage flush */
};

/* Context of one captured write while it is parsed. */
struct feed_ctx {
	struct pipeline *p;
	struct session *s;
	const struct tt_event_hdr *h;
	bool in_init;
};

struct pipeline *pipeline_new(const struct pipeline_opts *o)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	p->classes = calloc(CLASS_SLOTS, sizeof(*p->classes));
	if (!p->classes || agg_init(&p->agg, AGG_MAX) != 0) {
		free(p->classes);
		free(p);
		return NULL;
	}
	p->mono_to_real = clock_real_ns() - clock_mono_ns();
	p->interval_start = clock_real_ns();
	p->next_flush = clock_mono_ns() + (int64_t)o->interval_s * 1000000000LL;
	return p;
}

/* ---- output ------------------------------------------------------------ */

static void print_json(struct pipeline *p, struct json_object *o)
{
	if (!o || !p->o.out) {
		json_object_put(o);
		return;
	}
	fprintf(p->o.out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(p->o.out);
	json_object_put(o);
}

static void emit_token(struct pipeline *p, const char *event, int64_t ts, const struct sighting *s,
		       uint64_t count)
{
	if (!p->o.out)
		return;
	if (p->o.json) {
		print_json(p, jsonout_token_event(event, ts, s, count));
	} else {
		textout_token_event(p->o.out, event, ts, s, count);
		fflush(p->o.out);
	}
}

void pipeline_emit_status(struct pipeline *p, const struct status_field *f, size_t n)
{
	if (p->o.json && p->o.out)
		print_json(p, jsonout_status(clock_real_ns(), f, n));
	if (p->o.sink && p->o.sink->status)
		p->o.sink->status(p->o.sink->ctx, f, n);
}

/* A sighting is final: count it, and report the first of its triple now. */
static void report(struct pipeline *p, const struct sighting *s)
{
	switch (agg_add(&p->agg, s, NULL)) {
	case AGG_NEW:
		emit_token(p, "token_seen", s->ts_unix_ns, s, 0);
		if (p->o.sink && p->o.sink->seen)
			p->o.sink->seen(p->o.sink->ctx, s);
		break;
	case AGG_FULL:
		p->st.agg_overflow++;
		break;
	case AGG_COUNTED:
		break;
	}
}

/* ---- sessions -------------------------------------------------------- */

static size_t session_bucket(uint32_t pid, uint64_t conn)
{
	uint64_t h = (conn ^ ((uint64_t)pid << 32) ^ pid) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 52) % SESSION_BUCKETS;
}

static void session_flush_parked(struct pipeline *p, struct session *s)
{
	for (size_t i = 0; i < s->nparked; i++) {
		snprintf(s->parked[i].src, sizeof(s->parked[i].src), "%s", s->src);
		snprintf(s->parked[i].dst, sizeof(s->parked[i].dst), "%s", s->dst);
		if (!s->dst[0])
			p->st.unbound_tls++;
		report(p, &s->parked[i]);
		sighting_release(&s->parked[i]);
	}
	s->nparked = 0;
}

/* A final sighting of a session: reported, or parked until its TLS bind. */
static void deliver(struct pipeline *p, struct session *s, struct sighting *sg, int64_t ts_mono)
{
	/* held sightings learn the address bound since they were made */
	if (!sg->dst[0] && s->dst[0]) {
		snprintf(sg->src, sizeof(sg->src), "%s", s->src);
		snprintf(sg->dst, sizeof(sg->dst), "%s", s->dst);
	}
	if (s->tls && !s->bound && s->nparked < PARK_MAX &&
	    (s->parked || (s->parked = calloc(PARK_MAX, sizeof(*s->parked))))) {
		if (s->nparked == 0)
			s->park_deadline = ts_mono + PARK_NS;
		s->parked[s->nparked++] = *sg;
		return;
	}
	if (s->tls && !sg->dst[0])
		p->st.unbound_tls++;
	report(p, sg);
	sighting_release(sg);
}

/* The held handshake-time write did not recur: it went out. */
static void session_flush_retry(struct pipeline *p, struct session *s, int64_t ts_mono)
{
	for (size_t i = 0; i < s->nretry; i++)
		deliver(p, s, &s->retry[i], ts_mono);
	s->nretry = 0;
}

static void session_drop_retry(struct pipeline *p, struct session *s)
{
	for (size_t i = 0; i < s->nretry; i++)
		sighting_release(&s->retry[i]);
	if (s->nretry)
		p->st.tls_retries++;
	s->nretry = 0;
}

/* HTTP/2 state is wiped with the session (h2_parser_free wipes every buffer). */
static void session_drop_h2(struct pipeline *p, struct session *s)
{
	if (!s->h2)
		return;
	h2_parser_free(s->h2);
	free(s->h2);
	s->h2 = NULL;
	p->nh2--;
}

static void hf_complete_via(struct pipeline *p, struct session *s, struct session *tls);

/* An encoder group reported without a TLS session: no address. */
static void hf_complete(struct pipeline *p, struct session *s)
{
	hf_complete_via(p, s, NULL);
}

static void session_free(struct pipeline *p, struct session *s)
{
	hf_complete(p, s);
	session_flush_retry(p, s, s->last_ns);
	session_flush_parked(p, s);
	http1_parser_free(&s->parser);
	session_drop_h2(p, s);
	free(s->parked);
	free(s->retry);
	free(s);
}

static struct session *session_find(struct pipeline *p, uint32_t pid, uint64_t conn)
{
	for (struct session *s = p->buckets[session_bucket(pid, conn)]; s; s = s->next)
		if (s->pid == pid && s->conn == conn)
			return s;
	return NULL;
}

static struct session *session_get(struct pipeline *p, uint32_t pid, uint64_t conn, bool tls)
{
	struct session *s = session_find(p, pid, conn);
	size_t b;

	if (s)
		return s;
	if (p->nsessions >= SESSION_MAX) {
		p->st.session_overflow++;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (http1_parser_init(&s->parser, p->o.max_header_bytes) != 0) {
		free(s);
		return NULL;
	}
	s->pid = pid;
	s->conn = conn;
	s->tls = tls;
	s->fd = -1;
	b = session_bucket(pid, conn);
	s->next = p->buckets[b];
	p->buckets[b] = s;
	p->nsessions++;
	p->st.sessions = p->nsessions;
	return s;
}

/* Unlinks and frees one session; what it still holds is reported first. */
static void session_remove(struct pipeline *p, struct session *s)
{
	struct session **pp = &p->buckets[session_bucket(s->pid, s->conn)];

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = s->next;
	session_free(p, s);
	p->nsessions--;
	p->st.sessions = p->nsessions;
}

/* Frees sessions matching pid (all when pid is 0) or idle since before cutoff. */
static void session_sweep(struct pipeline *p, uint32_t pid, int64_t cutoff)
{
	for (size_t b = 0; b < SESSION_BUCKETS; b++) {
		struct session **pp = &p->buckets[b];

		while (*pp) {
			struct session *s = *pp;

			if ((pid && s->pid == pid) || (!pid && s->last_ns < cutoff)) {
				*pp = s->next;
				session_free(p, s);
				p->nsessions--;
				p->st.sessions = p->nsessions;
			} else {
				pp = &s->next;
			}
		}
	}
}

/* ---- requests -------------------------------------------------------- */

static void classify_cached(struct pipeline *p, const char *fp, const struct credential *c,
			    struct token_info *out)
{
	struct class_slot *slot = &p->classes[strtoul(fp + FINGERPRINT_HEX_LEN - 6, NULL, 16) % CLASS_SLOTS];

	/*
	 * Same credential, same fingerprint: classify once, not per request.
	 * The header and scheme are part of the key: a Basic value and the
	 * same bytes in x-api-key classify differently.
	 */
	if (strcmp(slot->fingerprint, fp) != 0 || strcmp(slot->header, c->header) != 0 ||
	    strcmp(slot->scheme, c->scheme) != 0) {
		token_info_release(&slot->info);
		classify_credential(c, p->o.key, &slot->info);
		snprintf(slot->fingerprint, sizeof(slot->fingerprint), "%s", fp);
		snprintf(slot->header, sizeof(slot->header), "%s", c->header);
		snprintf(slot->scheme, sizeof(slot->scheme), "%s", c->scheme);
	}
	*out = slot->info;
	if (out->jwt)
		json_object_get(out->jwt);
}

static const char *tls_library_name(unsigned lib)
{
	static const char *const names[TT_LIB_MAX] = {
		[TT_LIB_OPENSSL] = "openssl", [TT_LIB_GNUTLS] = "gnutls",
		[TT_LIB_GO] = "go", [TT_LIB_NSS] = "nss",
	};

	return lib < TT_LIB_MAX && names[lib] ? names[lib] : "unknown";
}

static void on_request(const struct http1_request *req, void *arg)
{
	struct feed_ctx *fc = arg;
	struct pipeline *p = fc->p;
	struct session *s = fc->s;
	const struct tt_event_hdr *h = fc->h;
	const struct http1_header *host = http1_find_header(req, "host");
	struct cred_list *creds;
	struct sighting base;
	struct exe_info pi;

	p->st.requests++;
	creds = malloc(sizeof(*creds));
	if (!creds)
		return;
	if (cred_extract(req, p->o.cred, creds) == 0) {
		cred_list_wipe(creds);
		free(creds);
		return;
	}
	p->st.creds_dropped += creds->dropped;

	memset(&base, 0, sizeof(base));
	base.pid = h->pid;
	base.tid = h->tid;
	base.uid = h->uid;
	text_printable(base.comm, sizeof(base.comm), h->comm, strnlen(h->comm, TT_COMM_LEN));
	exe_cache_get(h->pid, &pi);
	snprintf(base.exe, sizeof(base.exe), "%s", pi.exe);
	memcpy(base.container_id, pi.container_id, sizeof(base.container_id));
	memcpy(base.pod_uid, pi.pod_uid, sizeof(base.pod_uid));
	base.cgroup_id = h->cgroup_id;
	base.tls = s->tls;
	if (s->tls)
		snprintf(base.tls_library, sizeof(base.tls_library), "%s", tls_library_name(h->tls_lib));
	snprintf(base.src, sizeof(base.src), "%s", s->src);
	snprintf(base.dst, sizeof(base.dst), "%s", s->dst);
	if (host)
		text_printable(base.host, sizeof(base.host), host->value, host->value_len);
	text_printable(base.method, sizeof(base.method), req->method, req->method_len);
	cred_redact_target(req->target, req->target_len, base.path, sizeof(base.path));
	base.ts_unix_ns = (int64_t)h->ts_ns + p->mono_to_real;

	for (size_t i = 0; i < creds->n; i++) {
		const struct credential *c = &creds->items[i];
		struct sighting sg = base;

		if (fingerprint_hex(p->o.key, c->value, c->value_len, sg.fingerprint) != 0)
			continue;
		p->st.credentials++;
		snprintf(sg.scheme, sizeof(sg.scheme), "%s", c->scheme);
		snprintf(sg.header, sizeof(sg.header), "%s", c->header);
		sg.in_query = c->source == CRED_SRC_QUERY;
		classify_cached(p, sg.fingerprint, c, &sg.info);
		if (p->o.raw && p->o.raw->wants(p->o.raw->ctx, sg.fingerprint))
			p->o.raw->take(p->o.raw->ctx, sg.fingerprint, sg.info.type, c->value,
				       c->value_len);

		if (fc->in_init && s->nretry < PARK_MAX &&
		    (s->retry || (s->retry = calloc(PARK_MAX, sizeof(*s->retry))))) {
			s->retry[s->nretry++] = sg;
			continue;
		}
		deliver(p, s, &sg, (int64_t)h->ts_ns);
	}
	cred_list_wipe(creds);
	free(creds);
}

/*
 * A decoded HTTP/2 request becomes the HTTP/1 request shape that credential
 * extraction takes: :method, :path as the target, :authority as Host, and
 * every regular field as a header. Pointers stay in the parser's buffers,
 * which it wipes after this call.
 */
static void on_h2_request(const struct h2_request *r, void *arg)
{
	struct http1_request req;
	const struct hpack_field *authority = NULL;

	memset(&req, 0, sizeof(req));
	req.version_minor = 1;
	for (size_t i = 0; i < r->n; i++) {
		const struct hpack_field *f = &r->fields[i];

		if (f->name_len == 7 && !memcmp(f->name, ":method", 7)) {
			req.method = f->value;
			req.method_len = f->value_len;
		} else if (f->name_len == 5 && !memcmp(f->name, ":path", 5)) {
			req.target = f->value;
			req.target_len = f->value_len;
		} else if (f->name_len == 10 && !memcmp(f->name, ":authority", 10)) {
			authority = f;
		} else if (f->name_len && f->name[0] != ':') {
			if (req.n_headers == HTTP1_MAX_HEADERS) {
				req.too_many_headers = true;
				continue;
			}
			req.headers[req.n_headers++] = (struct http1_header){
				.name = f->name, .name_len = f->name_len,
				.value = f->value, .value_len = f->value_len,
			};
		}
	}
	/* Host first: the lookup returns the first match, and :authority wins */
	if (authority) {
		if (req.n_headers == HTTP1_MAX_HEADERS)
			req.n_headers--;
		memmove(&req.headers[1], &req.headers[0], req.n_headers * sizeof(req.headers[0]));
		req.headers[0] = (struct http1_header){
			.name = "host", .name_len = 4,
			.value = authority->value, .value_len = authority->value_len,
		};
		req.n_headers++;
	}
	/* a block whose :method or :path was a table entry never seen */
	if (!req.method) {
		req.method = "";
	}
	if (!req.target) {
		req.target = "";
	}
	on_request(&req, arg);
}

static void set_addrs(struct session *s, const struct tt_event_hdr *h)
{
	if (h->fd >= 0)
		s->fd = h->fd;
	if (!(h->flags & TT_F_ADDR))
		return;
	sighting_format_addr(s->src, sizeof(s->src), h->src.family, h->src.addr, h->src.port);
	sighting_format_addr(s->dst, sizeof(s->dst), h->dst.family, h->dst.addr, h->dst.port);
}

/* Same bytes as the held handshake-time write: that call failed, this is its retry. */
static void check_retry(struct pipeline *p, struct session *s, const struct tt_data_event *e,
			struct feed_ctx *fc)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(e->data, e->h.len, digest);
	if (s->nretry) {
		if (memcmp(digest, s->retry_digest, sizeof(digest)) == 0)
			session_drop_retry(p, s);
		else
			session_flush_retry(p, s, (int64_t)e->h.ts_ns);
	}
	if (e->h.flags & TT_F_IN_INIT) {
		memcpy(s->retry_digest, digest, sizeof(digest));
		s->retry_deadline = (int64_t)e->h.ts_ns + RETRY_NS;
		fc->in_init = true;
	}
	secure_wipe(digest, sizeof(digest));
}

/* One write of an HTTP/2 session: a piece of its client frame stream. */
static void handle_h2(struct pipeline *p, const struct tt_data_event *e, struct feed_ctx *fc)
{
	const struct tt_event_hdr *h = &e->h;
	bool preface = h->len >= H2_PREFACE_LEN && !memcmp(e->data, H2_PREFACE, H2_PREFACE_LEN);
	struct session *s = session_get(p, h->pid, h->conn, h->flags & TT_F_TLS);
	uint64_t before;

	if (!s)
		return;
	s->last_ns = (int64_t)h->ts_ns;
	if (!(h->flags & TT_F_NEED_BIND)) {
		set_addrs(s, h);
		s->bound = true;
	}
	/* a preface on a known session: a new connection reusing the SSL* */
	if (preface)
		session_drop_h2(p, s);
	if (!s->h2) {
		if (p->nh2 >= H2_SESSION_MAX) {
			p->st.session_overflow++;
			return;
		}
		s->h2 = malloc(sizeof(*s->h2));
		if (!s->h2)
			return;
		if (h2_parser_init(s->h2, H2_BLOCK_MAX) != 0) {
			free(s->h2);
			s->h2 = NULL;
			return;
		}
		p->nh2++;
	} else {
		h2_parser_write_start(s->h2, e->data, h->len);
	}
	fc->s = s;
	before = s->h2->stats.undecodable;
	h2_parser_feed(s->h2, e->data, h->len, on_h2_request, fc);
	/* the rest of a write longer than the cap went by uncaptured */
	if (h->orig_len > h->len)
		h2_parser_skip(s->h2, h->orig_len - h->len);
	p->st.h2_undecodable += s->h2->stats.undecodable - before;
}

/*
 * The group of encoder fields is a whole request: reported as a decoded
 * HTTP/2 one through the TLS session that wrote it (tls, from a
 * TT_EV_HFEND: its addresses), or with no address when that write was not
 * seen (the encoder does not know its socket). The group is wiped and
 * freed either way.
 */
static void hf_complete_via(struct pipeline *p, struct session *s, struct session *tls)
{
	struct feed_ctx fc = { .p = p, .s = tls ? tls : s, .h = &s->hf_h };

	if (!s->hf)
		return;
	if (hf_is_request(s->hf)) {
		struct h2_request r = { .fields = s->hf->f, .n = s->hf->n };

		on_h2_request(&r, &fc);
	}
	hf_reset(s->hf);
	free(s->hf);
	s->hf = NULL;
	p->nhf--;
}

/* One header field captured before HPACK encoding (Go's hpack.(*Encoder).WriteField). */
static void handle_hfield(struct pipeline *p, const struct tt_data_event *e)
{
	const struct tt_event_hdr *h = &e->h;
	const char *name, *value;
	size_t nl, vl;
	struct session *s;

	if (hf_split(e->data, h->len, &name, &nl, &value, &vl) != 0) {
		p->st.bad_events++;
		return;
	}
	s = session_get(p, h->pid, h->conn | HF_CONN, true);
	if (!s)
		return;
	s->bound = true;
	if (s->hf && hf_opens_next(s->hf, name, nl))
		hf_complete(p, s);
	s->last_ns = (int64_t)h->ts_ns;
	if (!s->hf) {
		if (p->nhf >= HF_GROUP_MAX) {
			p->st.session_overflow++;
			return;
		}
		s->hf = malloc(sizeof(*s->hf));
		if (!s->hf)
			return;
		s->hf->n = s->hf->used = 0;
		s->hf->regular = s->hf->lost = false;
		s->hf_h = *h;
		p->nhf++;
	}
	/* a cut value is never fingerprinted: the field is left out */
	if (h->flags & TT_F_TRUNC) {
		p->st.headers_truncated++;
		s->hf->lost = true;
		return;
	}
	hf_add(s->hf, name, nl, value, vl);
}

static void handle_data(struct pipeline *p, const struct tt_data_event *e, size_t size)
{
	const struct tt_event_hdr *h = &e->h;
	bool tls = h->flags & TT_F_TLS;
	struct feed_ctx fc = { .p = p, .h = h };
	struct session *s;

	if (h->len > TT_DATA_MAX || sizeof(*h) + h->len > size ||
	    !(h->flags & (TT_F_START | TT_F_CONT | TT_F_H2 | TT_F_HFIELD))) {
		p->st.bad_events++;
		return;
	}
	if (h->flags & TT_F_HFIELD) {
		handle_hfield(p, e);
		return;
	}
	if (h->flags & TT_F_H2) {
		handle_h2(p, e, &fc);
		return;
	}
	if (h->flags & TT_F_START) {
		s = session_get(p, h->pid, h->conn, tls);
		if (!s)
			return;
		if (s->parser.state == HTTP1_HEADERS)
			p->st.headers_incomplete++;
		http1_parser_reset(&s->parser);
	} else {
		s = session_find(p, h->pid, h->conn);
		if (!s || s->parser.state != HTTP1_HEADERS) {
			p->st.orphan_continuations++;
			return;
		}
	}
	s->last_ns = (int64_t)h->ts_ns;
	if (!tls || !(h->flags & TT_F_NEED_BIND)) {
		set_addrs(s, h);
		s->bound = true;
	}
	if (tls && (h->flags & TT_F_START))
		check_retry(p, s, e, &fc);
	fc.s = s;
	uint64_t before_err = s->parser.stats.oversize + s->parser.stats.garbage;
	http1_parser_feed(&s->parser, e->data, h->len, on_request, &fc);
	p->st.parse_errors += s->parser.stats.oversize + s->parser.stats.garbage - before_err;
	/* The rest of a write longer than the cap was never captured. */
	if ((h->flags & TT_F_TRUNC) && s->parser.state == HTTP1_HEADERS) {
		p->st.headers_truncated++;
		http1_parser_reset(&s->parser);
	}
}

/*
 * The thread that encoded a request's header fields writes to a TLS
 * session: the fields are that request, and go out through the session.
 */
static void handle_hfend(struct pipeline *p, const struct tt_data_event *e, size_t size)
{
	const struct tt_event_hdr *h = &e->h;
	struct session *hf, *tls;
	uint64_t enc;

	if (h->len != sizeof(enc) || sizeof(*h) + h->len > size) {
		p->st.bad_events++;
		return;
	}
	memcpy(&enc, e->data, sizeof(enc));
	hf = session_find(p, h->pid, enc | HF_CONN);
	if (!hf || !hf->hf)
		return;
	tls = session_get(p, h->pid, h->conn, true);
	if (tls && !(h->flags & TT_F_NEED_BIND)) {
		set_addrs(tls, h);
		tls->bound = true;
	}
	if (tls)
		tls->last_ns = (int64_t)h->ts_ns;
	hf_complete_via(p, hf, tls);
}

static void handle_bind(struct pipeline *p, const struct tt_event_hdr *h)
{
	struct session *s = session_get(p, h->pid, h->conn, true);

	if (!s)
		return;
	set_addrs(s, h);
	s->bound = true;
	session_flush_parked(p, s);
}

/*
 * The process closed a connection the kernel side tracked: its plaintext
 * session (keyed by fd) and its TLS session (keyed by the session pointer,
 * if still on that fd) are done. Parked sightings are reported first.
 */
static void handle_close(struct pipeline *p, const struct tt_event_hdr *h)
{
	struct session *s;

	if (h->fd < 0) {
		p->st.bad_events++;
		return;
	}
	s = session_find(p, h->pid, (uint64_t)(uint32_t)h->fd | PLAIN_CONN);
	if (s) {
		session_remove(p, s);
		p->st.sessions_closed++;
	}
	if (!h->conn)
		return;
	s = session_find(p, h->pid, h->conn);
	if (s && s->tls && s->fd == h->fd) {
		session_remove(p, s);
		p->st.sessions_closed++;
	}
}

void pipeline_handle(struct pipeline *p, const void *data, size_t size)
{
	const struct tt_event_hdr *h = data;

	if (size < sizeof(*h)) {
		p->st.bad_events++;
		return;
	}
	switch (h->kind) {
	case TT_EV_DATA:
		handle_data(p, data, size);
		break;
	case TT_EV_BIND:
		handle_bind(p, h);
		break;
	case TT_EV_EXIT:
		session_sweep(p, h->pid, 0);
		break;
	case TT_EV_CLOSE:
		handle_close(p, h);
		break;
	case TT_EV_HFEND:
		handle_hfend(p, data, size);
		break;
	default:
		p->st.bad_events++;
	}
}

/* ---- timers ---------------------------------------------------------- */

static void usage_cb(const struct agg_entry *e, uint64_t count, void *ctx)
{
	struct pipeline *p = ctx;
	int64_t now = clock_real_ns();

	emit_token(p, "token_usage", now, &e->first, count);
	if (p->o.sink && p->o.sink->usage)
		p->o.sink->usage(p->o.sink->ctx, e, count, p->interval_start, now);
}

static void flush_usage(struct pipeline *p)
{
	agg_flush(&p->agg, usage_cb, p);
	p->interval_start = clock_real_ns();
}

static void flush_parked_due(struct pipeline *p, int64_t now, bool all)
{
	for (size_t b = 0; b < SESSION_BUCKETS; b++)
		for (struct session *s = p->buckets[b]; s; s = s->next) {
			if (s->hf && (all || now >= s->last_ns + HF_QUIET_NS))
				hf_complete(p, s);
			if (s->nretry && (all || now >= s->retry_deadline))
				session_flush_retry(p, s, now);
			if (s->nparked && (all || now >= s->park_deadline)) {
				/* no bind came: memory BIO or a missed syscall */
				s->bound = true;
				session_flush_parked(p, s);
			}
		}
}

void pipeline_tick(struct pipeline *p, int64_t now)
{
	flush_parked_due(p, now, false);
	if (now >= p->next_flush) {
		flush_usage(p);
		p->next_flush = now + (int64_t)p->o.interval_s * 1000000000LL;
	}
	if (now >= p->next_sweep) {
		session_sweep(p, 0, now - SESSION_IDLE_NS);
		agg_expire(&p->agg, now + p->mono_to_real - AGG_IDLE_NS);
		p->next_sweep = now + 10LL * 1000000000LL;
	}
}

void pipeline_flush_all(struct pipeline *p)
{
	flush_parked_due(p, 0, true);
	flush_usage(p);
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p)
{
	return &p->st;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	session_sweep(p, 0, INT64_MAX);
	agg_free(&p->agg);
	for (size_t i = 0; i < CLASS_SLOTS; i++)
		token_info_release(&p->classes[i].info);
	free(p->classes);
	free(p);
}
