/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline's entry points: its lifecycle, each ring-buffer record
 * handed to the unit for its kind, and the timers that release what is
 * held (encoder field groups, TLS retries and parked sightings, usage
 * intervals, idle sessions). pipeline_internal.h lists the units.
 */
#include <stdlib.h>

#include "clock.h"
#include "pipeline_internal.h"

#define SESSION_IDLE_NS (300LL * 1000 * 1000 * 1000)
#define AGG_IDLE_NS (3600LL * 1000 * 1000 * 1000)
#define AGG_MAX 65536

struct pipeline *pipeline_new(const struct pipeline_opts *o)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	p->classes = class_cache_new();
	p->creds = calloc(1, sizeof(*p->creds));
	/* without it (no memory) every credential is HMACed */
	p->fps = fp_cache_new();
	if (!p->classes || !p->creds || agg_init(&p->agg, AGG_MAX) != 0) {
		class_cache_free(p->classes);
		free(p->creds);
		fp_cache_free(p->fps);
		free(p);
		return NULL;
	}
	p->mono_to_real = clock_real_ns() - clock_mono_ns();
	p->interval_start_mono = clock_mono_ns();
	p->next_flush = clock_mono_ns() + (int64_t)o->interval_s * 1000000000LL;
	return p;
}

static void handle_data(struct pipeline *p, const struct tt_data_event *e, size_t size)
{
	const struct tt_event_hdr *h = &e->h;

	if (h->len > TT_DATA_MAX || sizeof(*h) + h->len > size ||
	    !(h->flags & (TT_F_START | TT_F_CONT | TT_F_H2 | TT_F_HFIELD | TT_F_HBLOCK))) {
		p->st.bad_events++;
		return;
	}
	if (h->flags & TT_F_HBLOCK)
		h2_fields_block(p, e);
	else if (h->flags & TT_F_HFIELD)
		h2_fields_add(p, e);
	else if (h->flags & TT_F_H2)
		h2_stream_feed(p, e);
	else
		h1_stream_feed(p, e);
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
	s = session_find(p, h->pid, (uint64_t)(uint32_t)h->fd | TT_CONN_PLAIN);
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
		park_bind(p, h);
		break;
	case TT_EV_EXIT:
		session_sweep(p, h->pid, 0);
		break;
	case TT_EV_CLOSE:
		handle_close(p, h);
		break;
	case TT_EV_HFEND:
		h2_fields_end(p, data, size);
		break;
	default:
		p->st.bad_events++;
	}
}

/* Releases what sessions hold once due (all of it when all is set). */
static void flush_held_due(struct pipeline *p, int64_t now, bool all)
{
	for (size_t i = 0; i < p->sessions.cap; i++) {
		struct session *s = p->sessions.slots[i].p;

		if (!s)
			continue;
		if (s->hf && (all || now >= s->last_ns + HF_QUIET_NS))
			h2_fields_complete(p, s);
		if (s->nretry && (all || now >= s->retry_deadline))
			retry_flush(p, s, now);
		if (s->nparked && (all || now >= s->park_deadline)) {
			/* no bind came: memory BIO or a missed syscall */
			s->bound = true;
			park_flush(p, s);
		}
	}
}

void pipeline_tick(struct pipeline *p, int64_t now)
{
	flush_held_due(p, now, false);
	pod_hold_tick(p, now, false);
	usage_tick(p, now);
	if (now >= p->next_sweep) {
		session_sweep(p, 0, now - SESSION_IDLE_NS);
		agg_expire(&p->agg, now + p->mono_to_real - AGG_IDLE_NS);
		p->next_sweep = now + 10LL * 1000000000LL;
	}
}

void pipeline_flush_all(struct pipeline *p)
{
	flush_held_due(p, 0, true);
	pod_hold_tick(p, 0, true);
	usage_flush(p);
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
	ptrtab_free(&p->sessions);
	pod_hold_free(p);
	agg_free(&p->agg);
	class_cache_free(p->classes);
	cred_list_wipe(p->creds);
	free(p->creds);
	fp_cache_free(p->fps);
	h2_scratch_free(&p->h2scratch);
	free(p);
}
