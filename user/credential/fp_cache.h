/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded cache of credential fingerprints: the same credential seen
 * again gets its fingerprint without a new HMAC. Looked up by a keyed
 * digest of the credential (SipHash-2-4, 128 bits, under a random key of
 * the cache's own), never by the credential's bytes, which it does not
 * keep. One per thread: no lock.
 */
#ifndef TOKENTAP_FP_CACHE_H
#define TOKENTAP_FP_CACHE_H

#include <stddef.h>
#include "fingerprint.h"

struct fp_cache;

/* An empty cache with a fresh random key; NULL when out of memory or randomness. */
struct fp_cache *fp_cache_new(void);
/* Wipes and frees the cache (NULL is a no-op). */
void fp_cache_free(struct fp_cache *c);

/*
 * fingerprint_hex(key, data, len, out), from the cache when the credential
 * was fingerprinted with this key before. c may be NULL (no cache).
 */
int fp_cache_hex(struct fp_cache *c, const struct fp_key *key, const void *data, size_t len,
		 char *out);

#endif
