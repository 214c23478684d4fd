/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: gunzip + unpack of a serialized batch (the collector's view). */
#ifndef TOKENTAP_TEST_BATCH_DECODE_H
#define TOKENTAP_TEST_BATCH_DECODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tokentap/v1/events.pb-c.h"

#define TEST_GUNZIP_MAX (64u << 20)

/* NULL when not gzip or larger than TEST_GUNZIP_MAX; *outlen set otherwise. */
static inline uint8_t *test_gunzip(const uint8_t *in, size_t inlen, size_t *outlen)
{
	size_t cap = inlen * 4 + 1024;
	uint8_t *out = malloc(cap);
	z_stream z;
	int rc;

	if (!out)
		return NULL;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)inlen;
	for (;;) {
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if ((rc != Z_OK && rc != Z_BUF_ERROR) || (rc == Z_BUF_ERROR && z.avail_in == 0) ||
		    cap >= TEST_GUNZIP_MAX) {
			inflateEnd(&z);
			free(out);
			return NULL;
		}
		if (z.avail_out == 0) {
			uint8_t *n = realloc(out, cap * 2);

			if (!n) {
				inflateEnd(&z);
				free(out);
				return NULL;
			}
			out = n;
			cap *= 2;
		}
	}
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

/* Free with tokentap__v1__batch__free_unpacked(b, NULL). */
static inline Tokentap__V1__Batch *test_decode_batch(const uint8_t *gz, size_t len)
{
	size_t plen;
	uint8_t *p = test_gunzip(gz, len, &plen);
	Tokentap__V1__Batch *b;

	if (!p)
		return NULL;
	b = tokentap__v1__batch__unpack(NULL, plen, p);
	free(p);
	return b;
}

#endif
