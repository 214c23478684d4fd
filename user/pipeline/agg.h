/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregation of sightings per (token, process, destination) triple: the
 * first sighting of a triple is reported at once, then request counts per
 * interval. Bounded; pure logic.
 */
#ifndef TOKENTAP_AGG_H
#define TOKENTAP_AGG_H

#include <stddef.h>
#include <stdint.h>
#include "sighting.h"

struct agg_entry {
	struct sighting first;     /* the sighting that created the triple */
	uint64_t interval_count;   /* requests since the last flush */
	uint64_t total_count;
	int64_t last_seen_ns;      /* wall clock */
	uint64_t key_hash;
	char *key;
	struct agg_entry *next;
};

struct agg {
	struct agg_entry **buckets;
	size_t nbuckets;
	size_t n;
	size_t max_entries;
	uint64_t overflow;         /* sightings not aggregated: table full */
};

enum agg_result {
	AGG_NEW = 1,      /* first sighting of this triple: report token_seen */
	AGG_COUNTED = 0,
	AGG_FULL = -1,    /* table full: counted in overflow */
};

int agg_init(struct agg *a, size_t max_entries);
void agg_free(struct agg *a);
enum agg_result agg_add(struct agg *a, const struct sighting *s, const struct agg_entry **entry);

typedef void (*agg_flush_cb)(const struct agg_entry *e, uint64_t count, void *ctx);
/* Calls cb for every triple with requests since the last flush, then resets those counts. */
void agg_flush(struct agg *a, agg_flush_cb cb, void *ctx);
/* Forgets triples not seen since before cutoff_ns (a later sighting is new again). */
size_t agg_expire(struct agg *a, int64_t cutoff_ns);

#endif
