/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Usage: every interval_s, the request count of each triple used in the
 * interval is reported (token_usage) and the counts start again.
 */
#include "clock.h"
#include "pipeline_internal.h"

static void usage_cb(const struct agg_entry *e, uint64_t count, void *ctx)
{
	struct pipeline *p = ctx;
	int64_t now = clock_real_ns();

	output_token(p, "token_usage", now, &e->first, count);
	if (p->o.sink && p->o.sink->usage)
		p->o.sink->usage(p->o.sink->ctx, e, count, p->interval_start, now);
}

void usage_flush(struct pipeline *p)
{
	agg_flush(&p->agg, usage_cb, p);
	p->interval_start = clock_real_ns();
}

/* Flushes when the interval is over. now: CLOCK_MONOTONIC ns. */
void usage_tick(struct pipeline *p, int64_t now)
{
	if (now >= p->next_flush) {
		usage_flush(p);
		p->next_flush = now + (int64_t)p->o.interval_s * 1000000000LL;
	}
}
