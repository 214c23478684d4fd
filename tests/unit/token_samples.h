/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Synthetic credentials for tests: random characters of a format's
 * alphabet after its prefix, with a valid (or deliberately broken)
 * checksum. Never a real token; tests compare fingerprints and types,
 * never print a sample.
 */
#ifndef TOKENTAP_TEST_TOKEN_SAMPLES_H
#define TOKENTAP_TEST_TOKEN_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "checksum.h"

#define B62 "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define HEX "0123456789abcdef"
#define B64URL B62 "-_"
#define B64 B62 "+/"
#define B32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define TOK_MAX 1024

/* A fixed sequence per test binary: a failure is reproducible. */
static uint32_t rng_state = 12345;

static inline char rnd_char(const char *alpha)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return alpha[(rng_state >> 16) % strlen(alpha)];
}

/* out = prefix + n random characters of alpha; returns the length. */
static inline size_t build(char *out, const char *prefix, const char *alpha, size_t n)
{
	size_t p = strlen(prefix);

	assert_true(p + n < TOK_MAX);
	memcpy(out, prefix, p);
	for (size_t i = 0; i < n; i++)
		out[p + i] = rnd_char(alpha);
	out[p + n] = '\0';
	return p + n;
}

/* GitHub/npm layout: prefix + 30 random base62 + base62 CRC32 of those 30. */
static inline size_t build_github(char *out, const char *prefix, bool valid)
{
	size_t len = build(out, prefix, B62, 30);

	base62_encode_crc(checksum_crc32(out + strlen(prefix), 30), out + len);
	len += BASE62_CRC_LEN;
	if (!valid)
		out[len - 1] = out[len - 1] == 'A' ? 'B' : 'A';
	out[len] = '\0';
	return len;
}

#endif
