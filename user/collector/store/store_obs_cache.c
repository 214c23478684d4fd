/* SPDX-License-Identifier: Apache-2.0 */
#include "store_obs_cache.h"

#include <stdlib.h>
#include <string.h>

/*
 * 4-way set associative, a fixed 1.3 MiB whatever the traffic: a busy
 * node's active observations (a few thousand) stay resident, where a
 * direct-mapped table would keep evicting the pairs sharing a slot.
 */
#define OBS_CACHE_SETS 8192
#define OBS_CACHE_WAYS 4

struct obs_slot {
	uint8_t digest[OBS_DIGEST_LEN];
	int64_t id; /* 0: empty */
};

struct obs_cache {
	struct obs_slot set[OBS_CACHE_SETS][OBS_CACHE_WAYS];
};

struct obs_cache *obs_cache_new(void)
{
	return calloc(1, sizeof(struct obs_cache));
}

void obs_cache_free(struct obs_cache *c)
{
	free(c);
}

/* The digest is uniform: bytes past the id's make a fair set index. */
static uint32_t set_of(const uint8_t *d)
{
	uint32_t v = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];

	return v % OBS_CACHE_SETS;
}

static int way_of(const struct obs_slot *set, const uint8_t *d)
{
	for (int w = 0; w < OBS_CACHE_WAYS; w++)
		if (set[w].id && !memcmp(set[w].digest, d, OBS_DIGEST_LEN))
			return w;
	return -1;
}

int64_t obs_cache_get(const struct obs_cache *c, const uint8_t digest[OBS_DIGEST_LEN])
{
	const struct obs_slot *set = c->set[set_of(digest)];
	int w = way_of(set, digest);

	return w < 0 ? 0 : set[w].id;
}

void obs_cache_put(struct obs_cache *c, const uint8_t digest[OBS_DIGEST_LEN], int64_t id)
{
	struct obs_slot *set = c->set[set_of(digest)];
	int w = way_of(set, digest);

	for (int i = 0; w < 0 && i < OBS_CACHE_WAYS; i++)
		if (!set[i].id)
			w = i;
	if (w < 0)
		w = digest[12] % OBS_CACHE_WAYS; /* full: any way will do */
	memcpy(set[w].digest, digest, OBS_DIGEST_LEN);
	set[w].id = id;
}

void obs_cache_drop(struct obs_cache *c, const uint8_t digest[OBS_DIGEST_LEN])
{
	struct obs_slot *set = c->set[set_of(digest)];
	int w = way_of(set, digest);

	if (w >= 0)
		set[w].id = 0;
}
