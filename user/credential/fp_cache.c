/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fingerprint cache (fp_cache.h).
 *
 * Why a hit may stand for the HMAC: each entry pairs a credential's
 * SipHash-2-4 tag (128 bits) under the cache's key with the fingerprint
 * HMAC gave for it. The key is random per cache, never leaves this memory
 * and is wiped with it, so nobody can choose two credentials with equal
 * tags: SipHash is a pseudorandom function, and without its key a
 * collision is left to chance, about n^2 / 2^129 among n credentials
 * (1e-27 for a million), well below the chance of two fingerprints (128
 * bits of HMAC) colliding, which the fingerprint already accepts. So a
 * hit names the fingerprint the HMAC would give; a miss computes the HMAC
 * and remembers it. A tag reveals no more than the fingerprint: it is a
 * keyed digest under a key that exists only here. The cache is tied to
 * the fingerprint key it was filled with and starts over when called
 * with another.
 *
 * Sets of WAYS entries, the most recently used first, so a few more
 * credentials than slots cost some misses, not a miss each.
 */
#include "fp_cache.h"
#include "text.h"
#include "wipe.h"

#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SETS 4096
#define WAYS 4
#define TAG_BYTES 16

struct fp_entry {
	uint64_t tag[TAG_BYTES / 8];
	uint8_t fp[FINGERPRINT_BYTES];
};

struct fp_cache {
	EVP_MAC_CTX *sip;                  /* keyed with the cache's random key; NULL until used */
	bool broken;                       /* no SipHash here: every call is an HMAC */
	struct fp_key key;                 /* the fingerprint key the entries were made with */
	struct fp_entry set[SETS][WAYS];
	uint8_t used[SETS];                /* entries in use per set, the first ones */
};

/*
 * The table is left to calloc (untouched pages take no memory) and the
 * MAC is made at the first credential, so an idle sensor pays for neither.
 */
struct fp_cache *fp_cache_new(void)
{
	return calloc(1, sizeof(struct fp_cache));
}

void fp_cache_free(struct fp_cache *c)
{
	if (!c)
		return;
	EVP_MAC_CTX_free(c->sip);
	secure_wipe(c->key.bytes, sizeof(c->key.bytes));
	secure_wipe(c->set, sizeof(c->set));
	free(c);
}

/* The SipHash context under a fresh random key; false when the library has none. */
static bool sip_ready(struct fp_cache *c)
{
	uint8_t k[16];
	size_t size = TAG_BYTES;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t("size", &size),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac;

	if (c->sip || c->broken)
		return c->sip != NULL;
	mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	if (mac)
		c->sip = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!c->sip || RAND_bytes(k, sizeof(k)) != 1 || !EVP_MAC_init(c->sip, k, sizeof(k), params)) {
		EVP_MAC_CTX_free(c->sip);
		c->sip = NULL;
		c->broken = true;
	}
	secure_wipe(k, sizeof(k));
	return c->sip != NULL;
}

/* The credential's tag under the cache's key; false on a library error. */
static bool tag_of(struct fp_cache *c, const void *data, size_t len, uint64_t tag[2])
{
	uint8_t out[TAG_BYTES];
	size_t n = 0;
	bool ok = EVP_MAC_init(c->sip, NULL, 0, NULL) && EVP_MAC_update(c->sip, data, len) &&
		  EVP_MAC_final(c->sip, out, &n, sizeof(out)) && n == sizeof(out);

	if (ok)
		memcpy(tag, out, sizeof(out));
	secure_wipe(out, sizeof(out));
	return ok;
}

static void to_hex(const uint8_t *fp, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < FINGERPRINT_BYTES; i++) {
		out[2 * i] = hex[fp[i] >> 4];
		out[2 * i + 1] = hex[fp[i] & 15];
	}
	out[FINGERPRINT_HEX_LEN] = '\0';
}

/* Entries made with another fingerprint key would name other fingerprints: forget them. */
static void bind_key(struct fp_cache *c, const struct fp_key *key)
{
	/*
	 * Per call: a plain memcmp. Both sides are the sensor's own key, the
	 * same bytes every time, so its timing depends on nothing a peer sends.
	 */
	if (c->key.len == key->len && memcmp(c->key.bytes, key->bytes, key->len) == 0)
		return;
	/* a first key finds the table as calloc left it */
	if (c->key.len) {
		secure_wipe(c->set, sizeof(c->set));
		memset(c->used, 0, sizeof(c->used));
	}
	secure_wipe(c->key.bytes, sizeof(c->key.bytes));
	memcpy(c->key.bytes, key->bytes, key->len);
	c->key.len = key->len;
}

int fp_cache_hex(struct fp_cache *c, const struct fp_key *key, const void *data, size_t len,
		 char *out)
{
	uint64_t tag[2];
	struct fp_entry *set, e;
	size_t used;

	if (!c || !key || key->len == 0 || key->len > sizeof(key->bytes) || !out ||
	    !sip_ready(c) || !tag_of(c, data, len, tag))
		return fingerprint_hex(key, data, len, out);
	bind_key(c, key);
	set = c->set[tag[0] % SETS];
	used = c->used[tag[0] % SETS];
	for (size_t w = 0; w < used; w++) {
		if (set[w].tag[0] != tag[0] || set[w].tag[1] != tag[1])
			continue;
		e = set[w];
		memmove(&set[1], &set[0], w * sizeof(set[0]));
		set[0] = e;
		to_hex(e.fp, out);
		return 0;
	}
	if (fingerprint_hex(key, data, len, out) != 0)
		return -1;
	/* the new entry goes first; the least recently used falls off a full set */
	memcpy(e.tag, tag, sizeof(e.tag));
	for (size_t i = 0; i < FINGERPRINT_BYTES; i++)
		e.fp[i] = (uint8_t)(text_hexval(out[2 * i]) << 4 | text_hexval(out[2 * i + 1]));
	if (used < WAYS)
		c->used[tag[0] % SETS] = (uint8_t)++used;
	memmove(&set[1], &set[0], (used - 1) * sizeof(set[0]));
	set[0] = e;
	return 0;
}
