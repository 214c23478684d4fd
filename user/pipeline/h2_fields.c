/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 header fields captured before HPACK encoding, grouped per
 * connection into requests: one at a time (Go's hpack.(*Encoder).
 * WriteField, TT_F_HFIELD; conn the encoder), or a whole request at once
 * (Go's encodeHeaders, TT_F_HBLOCK; conn the client connection). A group
 * ends when a field or block opens the next request, when the encoding
 * thread writes to its TLS session (TT_EV_HFEND, which also gives the
 * addresses), or when the fields go quiet (HF_QUIET_NS, pipeline.c).
 */
#include <stdlib.h>
#include <string.h>

#include "hfblock.h"
#include "hfgroup.h"
#include "http2.h"
#include "pipeline_internal.h"

/* Requests being grouped at once (each holds a struct hf_group). */
#define HF_GROUP_MAX 1024

/*
 * The group of encoder fields is a whole request: reported as a decoded
 * HTTP/2 one through the TLS session that wrote it (tls, from a
 * TT_EV_HFEND: its addresses), or with no address when that write was not
 * seen (the encoder does not know its socket). The group is wiped and
 * freed either way.
 */
static void complete_via(struct pipeline *p, struct session *s, struct session *tls)
{
	struct feed_ctx fc = { .p = p, .s = tls ? tls : s, .h = &s->hf_h };

	if (!s->hf)
		return;
	if (hf_is_request(s->hf)) {
		struct h2_request r = { .fields = s->hf->f, .n = s->hf->n };

		h2_request_report(&r, &fc);
	}
	hf_reset(s->hf);
	free(s->hf);
	s->hf = NULL;
	p->nhf--;
}

/* An encoder group reported without a TLS session: no address. */
void h2_fields_complete(struct pipeline *p, struct session *s)
{
	complete_via(p, s, NULL);
}

/* Opens the session's group for a request whose first event is h. false: none left. */
static bool group_open(struct pipeline *p, struct session *s, const struct tt_event_hdr *h)
{
	if (p->nhf >= HF_GROUP_MAX) {
		p->st.session_overflow++;
		return false;
	}
	s->hf = malloc(sizeof(*s->hf));
	if (!s->hf)
		return false;
	s->hf->n = s->hf->used = 0;
	s->hf->regular = s->hf->lost = false;
	s->hf_h = *h;
	p->nhf++;
	return true;
}

/* One header field captured before HPACK encoding (Go's hpack.(*Encoder).WriteField). */
void h2_fields_add(struct pipeline *p, const struct tt_data_event *e)
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
		h2_fields_complete(p, s);
	s->last_ns = (int64_t)h->ts_ns;
	if (!s->hf && !group_open(p, s, h))
		return;
	/* a cut value is never fingerprinted: the field is left out */
	if (h->flags & TT_F_TRUNC) {
		p->st.headers_truncated++;
		s->hf->lost = true;
		return;
	}
	hf_add(s->hf, name, nl, value, vl);
}

/*
 * A whole request's fields (Go's encodeHeaders). The request is complete,
 * but its address comes with the thread's next TLS write (TT_EV_HFEND):
 * it waits for that, as a group of single fields does.
 */
void h2_fields_block(struct pipeline *p, const struct tt_data_event *e)
{
	const struct tt_event_hdr *h = &e->h;
	struct session *s = session_get(p, h->pid, h->conn | HF_CONN, true);

	if (!s)
		return;
	s->bound = true;
	/* the previous request on this connection never met its write */
	if (s->hf)
		h2_fields_complete(p, s);
	s->last_ns = (int64_t)h->ts_ns;
	if (!group_open(p, s, h))
		return;
	if (hb_parse(e->data, h->len, s->hf) != 0) {
		p->st.bad_events++;
		hf_reset(s->hf);
		free(s->hf);
		s->hf = NULL;
		p->nhf--;
		return;
	}
	/* fields the probe could not copy: what it did copy still counts */
	if (h->flags & TT_F_TRUNC) {
		p->st.headers_truncated++;
		s->hf->lost = true;
	}
}

/*
 * The thread that encoded a request's header fields writes to a TLS
 * session: the fields are that request, and go out through the session.
 */
void h2_fields_end(struct pipeline *p, const struct tt_data_event *e, size_t size)
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
		session_set_addrs(tls, h);
		tls->bound = true;
	}
	if (tls)
		tls->last_ns = (int64_t)h->ts_ns;
	complete_via(p, hf, tls);
}
