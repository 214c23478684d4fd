/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Observation ids already verified against their stored identity, keyed
 * by the identity's digest. A hit lets a batch update the counters row by
 * id without re-reading the identity. Only committed rows are entered and
 * a row never changes identity, so an entry stays true while its row
 * exists; both stores check that the update by id found the row and
 * otherwise drop the entry and store the identity as new. When a set is
 * full one entry is overwritten (its identity is then verified again).
 * One cache per store handle: with the PostgreSQL store each collector
 * replica has its own, and a row another replica inserted is verified
 * once by the upsert before this one caches it.
 */
#ifndef TOKENTAP_STORE_OBS_CACHE_H
#define TOKENTAP_STORE_OBS_CACHE_H

#include <stdint.h>
#include "store_obs_id.h"

struct obs_cache;

struct obs_cache *obs_cache_new(void);
void obs_cache_free(struct obs_cache *c);

/* The verified id of that identity, or 0 when unknown. */
int64_t obs_cache_get(const struct obs_cache *c, const uint8_t digest[OBS_DIGEST_LEN]);
void obs_cache_put(struct obs_cache *c, const uint8_t digest[OBS_DIGEST_LEN], int64_t id);
/* Forgets one identity (its row was not where the entry said). */
void obs_cache_drop(struct obs_cache *c, const uint8_t digest[OBS_DIGEST_LEN]);

#endif
