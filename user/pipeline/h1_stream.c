/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1 writes: a request's header block, which may span several writes
 * (TT_F_START, then TT_F_CONT), fed to its session's parser. Each complete
 * request goes on to request_sighting.c.
 */
#include "pipeline_internal.h"

void h1_stream_feed(struct pipeline *p, const struct tt_data_event *e)
{
	const struct tt_event_hdr *h = &e->h;
	bool tls = h->flags & TT_F_TLS;
	struct feed_ctx fc = { .p = p, .h = h };
	struct session *s;

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
		session_set_addrs(s, h);
		s->bound = true;
	}
	if (tls && (h->flags & TT_F_START))
		retry_check(p, s, e, &fc);
	fc.s = s;
	uint64_t before_err = s->parser.stats.oversize + s->parser.stats.garbage;
	http1_parser_feed(&s->parser, e->data, h->len, request_to_sightings, &fc);
	p->st.parse_errors += s->parser.stats.oversize + s->parser.stats.garbage - before_err;
	/* The rest of a write longer than the cap was never captured. */
	if ((h->flags & TT_F_TRUNC) && s->parser.state == HTTP1_HEADERS) {
		p->st.headers_truncated++;
		http1_parser_reset(&s->parser);
	}
}
