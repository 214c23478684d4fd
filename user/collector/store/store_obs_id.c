/* SPDX-License-Identifier: Apache-2.0 */
#include "store_obs_id.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct obs_hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

struct obs_hasher *obs_hasher_new(void)
{
	struct obs_hasher *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx) {
		obs_hasher_free(h);
		return NULL;
	}
	return h;
}

void obs_hasher_free(struct obs_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

/* Each field length-prefixed, so ("ab","c") and ("a","bc") differ. */
static size_t put(uint8_t *buf, size_t off, size_t cap, const void *p, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (off + sizeof(len) + n > cap)
		n = 0, len = UINT32_MAX; /* cannot happen with validated batches */
	memcpy(buf + off, &len, sizeof(len));
	memcpy(buf + off + sizeof(len), p, n);
	return off + sizeof(len) + n;
}

int store_obs_digest(struct obs_hasher *h, const char *fingerprint, const char *sensor_id,
		     uint32_t pid, const char *exe, const char *dst, const char *host,
		     uint8_t out[OBS_DIGEST_LEN])
{
	uint8_t buf[2048];
	unsigned int mdlen = 0;
	size_t off = 0;

	off = put(buf, off, sizeof(buf), fingerprint, strlen(fingerprint));
	off = put(buf, off, sizeof(buf), sensor_id, strlen(sensor_id));
	off = put(buf, off, sizeof(buf), &pid, sizeof(pid));
	off = put(buf, off, sizeof(buf), exe, strlen(exe));
	off = put(buf, off, sizeof(buf), dst, strlen(dst));
	off = put(buf, off, sizeof(buf), host, strlen(host));
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, buf, off) != 1 ||
	    EVP_DigestFinal_ex(h->ctx, out, &mdlen) != 1 || mdlen != OBS_DIGEST_LEN)
		return -1;
	return 0;
}

int64_t store_obs_id_of(const uint8_t digest[OBS_DIGEST_LEN])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | digest[i];
	v &= INT64_MAX;
	return v ? (int64_t)v : 1;
}

int64_t store_obs_id(struct obs_hasher *h, const char *fingerprint, const char *sensor_id,
		     uint32_t pid, const char *exe, const char *dst, const char *host)
{
	uint8_t md[OBS_DIGEST_LEN];

	if (store_obs_digest(h, fingerprint, sensor_id, pid, exe, dst, host, md) < 0)
		return 1; /* not expected; probing from 1 still finds the right row */
	return store_obs_id_of(md);
}

int64_t store_obs_id_next(int64_t id)
{
	return id == INT64_MAX ? 1 : id + 1;
}
