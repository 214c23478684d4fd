/* SPDX-License-Identifier: Apache-2.0 */
#include "gunzip.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#define FIRST_CHUNK (256 * 1024)

enum gunzip_result gunzip_bounded(const uint8_t *in, size_t inlen, size_t max_out, uint8_t **out,
				  size_t *outlen)
{
	z_stream zs = { 0 };
	enum gunzip_result res = GUNZIP_BAD;
	uint8_t *buf = NULL;
	/* one byte beyond the limit tells "exactly max_out" from "more" */
	size_t cap = 0, limit = max_out + 1, used = 0;
	int rc = Z_OK;

	*out = NULL;
	*outlen = 0;
	if (inlen == 0 || inlen > UINT_MAX)
		return GUNZIP_BAD;
	/* 16 + MAX_WBITS: gzip wrapper only, header and CRC-32/ISIZE checked */
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return GUNZIP_NOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;

	while (rc != Z_STREAM_END) {
		if (used == cap) {
			size_t ncap = cap ? cap * 2 : FIRST_CHUNK;
			uint8_t *n;

			if (cap == limit) {
				res = GUNZIP_TOO_LARGE;
				goto out;
			}
			if (ncap > limit)
				ncap = limit;
			n = realloc(buf, ncap);
			if (!n) {
				res = GUNZIP_NOMEM;
				goto out;
			}
			buf = n;
			cap = ncap;
		}
		zs.next_out = buf + used;
		zs.avail_out = (uInt)(cap - used > UINT_MAX ? UINT_MAX : cap - used);
		rc = inflate(&zs, Z_NO_FLUSH);
		used = (size_t)(zs.next_out - buf);
		if (rc == Z_MEM_ERROR) {
			res = GUNZIP_NOMEM;
			goto out;
		}
		if (rc == Z_BUF_ERROR && zs.avail_in == 0)
			goto out; /* truncated: input ended inside the stream */
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			goto out; /* Z_DATA_ERROR: corrupt data, header or checksum */
	}
	if (used > max_out) {
		res = GUNZIP_TOO_LARGE;
		goto out;
	}
	if (zs.avail_in != 0)
		goto out; /* bytes after the member */
	*out = buf;
	*outlen = used;
	buf = NULL;
	res = GUNZIP_OK;
out:
	inflateEnd(&zs);
	free(buf);
	return res;
}
