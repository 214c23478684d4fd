/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Row ids of observations, derived from their identity (fingerprint,
 * sensor, pid, exe, dst, host): SHA-256 truncated to 63 bits. Collisions
 * are resolved by probing the next id, checked against the stored
 * identity, so they cost a retry and never merge two observations; the
 * cryptographic hash keeps them too rare to be provoked.
 */
#ifndef TOKENTAP_STORE_OBS_ID_H
#define TOKENTAP_STORE_OBS_ID_H

#include <stdint.h>

struct obs_hasher;

/* A reusable SHA-256 context (fetching the digest per call costs more than hashing). */
struct obs_hasher *obs_hasher_new(void);
void obs_hasher_free(struct obs_hasher *h);

#define OBS_DIGEST_LEN 32

/*
 * The identity's SHA-256 (the id is its first 63 bits). 0, or -1 when
 * hashing failed.
 */
int store_obs_digest(struct obs_hasher *h, const char *fingerprint, const char *sensor_id,
		     uint32_t pid, const char *exe, const char *dst, const char *host,
		     uint8_t out[OBS_DIGEST_LEN]);
/* The first id for that digest, in 1..INT64_MAX. */
int64_t store_obs_id_of(const uint8_t digest[OBS_DIGEST_LEN]);
/* The first id to try, in 1..INT64_MAX. h is used by one thread at a time. */
int64_t store_obs_id(struct obs_hasher *h, const char *fingerprint, const char *sensor_id,
		     uint32_t pid, const char *exe, const char *dst, const char *host);
/* The id probed after id. */
int64_t store_obs_id_next(int64_t id);

#endif
