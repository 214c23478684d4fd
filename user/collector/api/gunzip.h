/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded gzip decompression (zlib): a gzip bomb stops at the limit. */
#ifndef TOKENTAP_GUNZIP_H
#define TOKENTAP_GUNZIP_H

#include <stddef.h>
#include <stdint.h>

enum gunzip_result {
	GUNZIP_OK = 0,
	GUNZIP_BAD,        /* not one complete, intact gzip member */
	GUNZIP_TOO_LARGE,  /* would decompress to more than max_out bytes */
	GUNZIP_NOMEM,
};

/*
 * Decompresses exactly one gzip member filling all of in. On GUNZIP_OK
 * *out is malloc'd (caller frees) and holds *outlen <= max_out bytes.
 */
enum gunzip_result gunzip_bounded(const uint8_t *in, size_t inlen, size_t max_out, uint8_t **out,
				  size_t *outlen);

#endif
