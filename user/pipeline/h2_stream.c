/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 frame streams: a TLS session's writes (TT_F_H2) decoded with its
 * own frame parser and HPACK state, and each request block handed on in
 * the HTTP/1 request shape credential extraction takes.
 */
#include <stdlib.h>
#include <string.h>

#include "http2.h"
#include "pipeline_internal.h"

/*
 * An HTTP/2 session holds frame, block and decoded-field buffers (4 x
 * H2_BLOCK_MAX) plus its HPACK table: their number is bounded.
 */
#define H2_SESSION_MAX 1024
#define H2_BLOCK_MAX 16384

/*
 * A decoded HTTP/2 request becomes the HTTP/1 request shape that credential
 * extraction takes: :method, :path as the target, :authority as Host, and
 * every regular field as a header. Pointers stay in the parser's buffers,
 * which it wipes after this call.
 */
void h2_request_report(const struct h2_request *r, void *arg)
{
	struct http1_request req;
	const struct hpack_field *authority = NULL;

	http1_request_clear(&req);
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
	request_to_sightings(&req, arg);
}

/* HTTP/2 state is wiped with the session (h2_parser_free wipes every buffer). */
void h2_stream_drop(struct pipeline *p, struct session *s)
{
	if (!s->h2)
		return;
	h2_parser_free(s->h2);
	free(s->h2);
	s->h2 = NULL;
	p->nh2--;
}

/* One write of an HTTP/2 session: a piece of its client frame stream. */
void h2_stream_feed(struct pipeline *p, const struct tt_data_event *e)
{
	const struct tt_event_hdr *h = &e->h;
	bool preface = h->len >= H2_PREFACE_LEN && !memcmp(e->data, H2_PREFACE, H2_PREFACE_LEN);
	struct session *s = session_get(p, h->pid, h->conn, h->flags & TT_F_TLS);
	struct feed_ctx fc = { .p = p, .h = h };
	uint64_t before;

	if (!s)
		return;
	s->last_ns = (int64_t)h->ts_ns;
	if (!(h->flags & TT_F_NEED_BIND)) {
		session_set_addrs(s, h);
		s->bound = true;
	}
	/* a preface on a known session: a new connection reusing the SSL* */
	if (preface)
		h2_stream_drop(p, s);
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
		/*
		 * One decoding area for every session, made with the first: a
		 * block per request no longer allocates and clears its own.
		 */
		if (!p->h2scratch.arena && h2_scratch_init(&p->h2scratch, H2_BLOCK_MAX) != 0)
			h2_scratch_free(&p->h2scratch);
		s->h2->scratch = p->h2scratch.arena ? &p->h2scratch : NULL;
		p->nh2++;
	} else {
		h2_parser_write_start(s->h2, e->data, h->len);
	}
	fc.s = s;
	before = s->h2->stats.undecodable;
	h2_parser_feed(s->h2, e->data, h->len, h2_request_report, &fc);
	/* the rest of a write longer than the cap went by uncaptured */
	if (h->orig_len > h->len)
		h2_parser_skip(s->h2, h->orig_len - h->len);
	p->st.h2_undecodable += s->h2->stats.undecodable - before;
}
