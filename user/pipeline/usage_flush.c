/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Usage: every interval_s, the request count of each triple used in the
 * interval is reported (token_usage) and the counts start again.
 */
#include "clock.h"
#include "pipeline_internal.h"

/* One flush's interval: its real-time ends, as usage_interval() gives them. */
struct flush_ctx {
	struct pipeline *p;
	int64_t start, end;
};

static void usage_cb(const struct agg_entry *e, uint64_t count, void *ctx)
{
	struct flush_ctx *f = ctx;
	struct pipeline *p = f->p;
	struct sighting first;

	/* rebuilt per report: the table keeps the sighting's parts shared, not a copy */
	agg_entry_sighting(e, &first);
	output_token(p, "token_usage", f->end, &first, count);
	if (p->o.sink && p->o.sink->usage)
		p->o.sink->usage(p->o.sink->ctx, &first, e->last_seen_ns, count, f->start, f->end);
}

/*
 * The interval ends now (wall clock) and lasted what the monotonic clock
 * measured: a step of the wall clock (settimeofday, an NTP step) during
 * the interval moves both ends, never makes the interval negative or
 * longer than it was.
 */
void usage_interval(int64_t start_mono, int64_t now_mono, int64_t now_real,
		    int64_t *start_real, int64_t *end_real)
{
	int64_t len = now_mono > start_mono ? now_mono - start_mono : 0;

	*end_real = now_real;
	*start_real = now_real > len ? now_real - len : 0;
}

void usage_flush(struct pipeline *p)
{
	struct flush_ctx f = { .p = p };
	int64_t now_mono = clock_mono_ns();

	usage_interval(p->interval_start_mono, now_mono, clock_real_ns(), &f.start, &f.end);
	agg_flush(&p->agg, usage_cb, &f);
	p->interval_start_mono = now_mono;
}

/* Flushes when the interval is over. now: CLOCK_MONOTONIC ns. */
void usage_tick(struct pipeline *p, int64_t now)
{
	if (now >= p->next_flush) {
		usage_flush(p);
		p->next_flush = now + (int64_t)p->o.interval_s * 1000000000LL;
	}
}
