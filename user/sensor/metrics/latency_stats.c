/* SPDX-License-Identifier: Apache-2.0 */
#include "latency_stats.h"

#include <stdlib.h>
#include <string.h>

void latency_add(struct latency_stats *l, uint64_t ns)
{
	l->ns[l->count % LATENCY_SAMPLES] = ns;
	l->count++;
	if (ns > l->max_ns)
		l->max_ns = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t latency_percentile(const struct latency_stats *l, unsigned p)
{
	size_t n = l->count < LATENCY_SAMPLES ? (size_t)l->count : LATENCY_SAMPLES;
	uint64_t *sorted, v;
	size_t rank;

	if (n == 0 || p == 0 || p > 100 || !(sorted = malloc(n * sizeof(*sorted))))
		return 0;
	memcpy(sorted, l->ns, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	/* nearest rank: the smallest sample with at least p% of them at or below it */
	rank = (n * p + 99) / 100;
	v = sorted[rank ? rank - 1 : 0];
	free(sorted);
	return v;
}
