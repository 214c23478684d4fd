/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session table: one struct session per (process, connection), where
 * conn is a TLS session pointer, fd | TT_CONN_PLAIN for plaintext, or an
 * HPACK encoder | HF_CONN. A bounded open-addressing table of (hash,
 * session) slots: a lookup compares hashes in one or two adjacent slots
 * and touches only the session it finds, where a chain made it read every
 * session ahead of it. Freeing a session reports what it still holds.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"
#include "sighting.h"

#define SESSION_MAX 8192

/* The table indexes by the low bits: mix every input bit into them (splitmix64's finaliser). */
static uint64_t session_hash(uint32_t pid, uint64_t conn)
{
	uint64_t h = conn ^ ((uint64_t)pid << 32) ^ pid;

	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static void session_free(struct pipeline *p, struct session *s)
{
	h2_fields_complete(p, s);
	retry_flush(p, s, s->last_ns);
	park_flush(p, s);
	http1_parser_free(&s->parser);
	h2_stream_drop(p, s);
	free(s->parked);
	free(s->retry);
	free(s);
}

struct session *session_find(struct pipeline *p, uint32_t pid, uint64_t conn)
{
	size_t pos = (size_t)-1;
	uint64_t h = session_hash(pid, conn);
	struct session *s;

	while ((s = ptrtab_next(&p->sessions, h, &pos)))
		if (s->pid == pid && s->conn == conn)
			return s;
	return NULL;
}

struct session *session_get(struct pipeline *p, uint32_t pid, uint64_t conn, bool tls)
{
	struct session *s = session_find(p, pid, conn);

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
	if (ptrtab_insert(&p->sessions, session_hash(pid, conn), s) != 0) {
		http1_parser_free(&s->parser);
		free(s);
		return NULL;
	}
	p->nsessions++;
	p->st.sessions = p->nsessions;
	return s;
}

void session_remove(struct pipeline *p, struct session *s)
{
	size_t pos = (size_t)-1;
	void *q;

	while ((q = ptrtab_next(&p->sessions, session_hash(s->pid, s->conn), &pos)) && q != s)
		;
	if (!q)
		return;
	/* out of the table before its held sightings are reported */
	ptrtab_remove_at(&p->sessions, pos);
	session_free(p, s);
	p->nsessions--;
	p->st.sessions = p->nsessions;
}

void session_sweep(struct pipeline *p, uint32_t pid, int64_t cutoff)
{
	size_t i = 0;

	/*
	 * A removal shifts later slots back into slot i, so i is looked at
	 * again; a slot wrapped round from the start may be looked at twice,
	 * which changes nothing.
	 */
	while (i < p->sessions.cap) {
		struct session *s = p->sessions.slots[i].p;

		if (s && ((pid && s->pid == pid) || (!pid && s->last_ns < cutoff))) {
			ptrtab_remove_at(&p->sessions, i);
			session_free(p, s);
			p->nsessions--;
			p->st.sessions = p->nsessions;
		} else {
			i++;
		}
	}
}

void session_set_addrs(struct session *s, const struct tt_event_hdr *h)
{
	if (h->fd >= 0)
		s->fd = h->fd;
	if (!(h->flags & TT_F_ADDR))
		return;
	/* a connection's addresses do not change: format them once, not per write */
	if (s->src[0] && memcmp(&s->src_raw, &h->src, sizeof(h->src)) == 0 &&
	    memcmp(&s->dst_raw, &h->dst, sizeof(h->dst)) == 0)
		return;
	s->src_raw = h->src;
	s->dst_raw = h->dst;
	sighting_format_addr(s->src, sizeof(s->src), h->src.family, h->src.addr, h->src.port);
	sighting_format_addr(s->dst, sizeof(s->dst), h->dst.family, h->dst.addr, h->dst.port);
}
