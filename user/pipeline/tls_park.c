/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS sightings held back. A write on a session not yet bound to its
 * socket is parked until the bind names the addresses (or PARK_NS pass);
 * a write made during the handshake is held for RETRY_NS, since the same
 * bytes written again mean the first call failed and only the retry went
 * out.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"
#include "sighting.h"
#include "wipe.h"

#define PARK_MAX 16
/* The nested write that binds a TLS session follows SSL_write at once. */
#define PARK_NS (250LL * 1000 * 1000)
/* A write made during the TLS handshake is held this long for a retry. */
#define RETRY_NS (2000LL * 1000 * 1000)

void park_flush(struct pipeline *p, struct session *s)
{
	for (size_t i = 0; i < s->nparked; i++) {
		snprintf(s->parked[i].src, sizeof(s->parked[i].src), "%s", s->src);
		snprintf(s->parked[i].dst, sizeof(s->parked[i].dst), "%s", s->dst);
		if (!s->dst[0])
			p->st.unbound_tls++;
		output_sighting(p, &s->parked[i]);
		sighting_release(&s->parked[i]);
	}
	s->nparked = 0;
	/*
	 * PARK_MAX sightings are ~34 KiB: held only while a session waits for
	 * its bind, not for the rest of its life (thousands of TLS sessions).
	 */
	free(s->parked);
	s->parked = NULL;
}

/*
 * A final sighting of a session: reported, or parked until its TLS bind.
 * The parked array is not cleared: an entry is written before it is read
 * (clearing ~34 KiB per TLS session's first write was most of its cost).
 */
void park_deliver(struct pipeline *p, struct session *s, struct sighting *sg, int64_t ts_mono)
{
	/* held sightings learn the address bound since they were made */
	if (!sg->dst[0] && s->dst[0]) {
		snprintf(sg->src, sizeof(sg->src), "%s", s->src);
		snprintf(sg->dst, sizeof(sg->dst), "%s", s->dst);
	}
	if (s->tls && !s->bound && s->nparked < PARK_MAX &&
	    (s->parked || (s->parked = malloc(PARK_MAX * sizeof(*s->parked))))) {
		if (s->nparked == 0)
			s->park_deadline = ts_mono + PARK_NS;
		s->parked[s->nparked++] = *sg;
		return;
	}
	if (s->tls && !sg->dst[0])
		p->st.unbound_tls++;
	output_sighting(p, sg);
	sighting_release(sg);
}

/* TT_EV_BIND: the session's socket is known; what was parked goes out. */
void park_bind(struct pipeline *p, const struct tt_event_hdr *h)
{
	struct session *s = session_get(p, h->pid, h->conn, true);

	if (!s)
		return;
	session_set_addrs(s, h);
	s->bound = true;
	park_flush(p, s);
}

/* Holds a sighting of a handshake-time write; false when there is no room. */
bool retry_hold(struct session *s, const struct sighting *sg)
{
	if (s->nretry < PARK_MAX &&
	    (s->retry || (s->retry = malloc(PARK_MAX * sizeof(*s->retry))))) {
		s->retry[s->nretry++] = *sg;
		return true;
	}
	return false;
}

/* The held handshake-time write did not recur: it went out. */
void retry_flush(struct pipeline *p, struct session *s, int64_t ts_mono)
{
	for (size_t i = 0; i < s->nretry; i++)
		park_deliver(p, s, &s->retry[i], ts_mono);
	s->nretry = 0;
	free(s->retry);
	s->retry = NULL;
}

static void retry_drop(struct pipeline *p, struct session *s)
{
	for (size_t i = 0; i < s->nretry; i++)
		sighting_release(&s->retry[i]);
	if (s->nretry)
		p->st.tls_retries++;
	s->nretry = 0;
	free(s->retry);
	s->retry = NULL;
}

/* Same bytes as the held handshake-time write: that call failed, this is its retry. */
void retry_check(struct pipeline *p, struct session *s, const struct tt_data_event *e,
		 struct feed_ctx *fc)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	/* the digest is only wanted against a held write or for one held now */
	if (!s->nretry && !(e->h.flags & TT_F_IN_INIT))
		return;
	SHA256(e->data, e->h.len, digest);
	if (s->nretry) {
		if (memcmp(digest, s->retry_digest, sizeof(digest)) == 0)
			retry_drop(p, s);
		else
			retry_flush(p, s, (int64_t)e->h.ts_ns);
	}
	if (e->h.flags & TT_F_IN_INIT) {
		memcpy(s->retry_digest, digest, sizeof(digest));
		s->retry_deadline = (int64_t)e->h.ts_ns + RETRY_NS;
		fc->in_init = true;
	}
	secure_wipe(digest, sizeof(digest));
}
