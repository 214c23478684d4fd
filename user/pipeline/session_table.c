/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session table: one struct session per (process, connection), where
 * conn is a TLS session pointer, fd | TT_CONN_PLAIN for plaintext, or an
 * HPACK encoder | HF_CONN. A bounded hash table; freeing a session reports
 * what it still holds.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"
#include "sighting.h"

#define SESSION_MAX 8192

static size_t session_bucket(uint32_t pid, uint64_t conn)
{
	uint64_t h = (conn ^ ((uint64_t)pid << 32) ^ pid) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 52) % SESSION_BUCKETS;
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
	for (struct session *s = p->buckets[session_bucket(pid, conn)]; s; s = s->next)
		if (s->pid == pid && s->conn == conn)
			return s;
	return NULL;
}

struct session *session_get(struct pipeline *p, uint32_t pid, uint64_t conn, bool tls)
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

void session_remove(struct pipeline *p, struct session *s)
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

void session_sweep(struct pipeline *p, uint32_t pid, int64_t cutoff)
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
