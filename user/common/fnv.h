/* SPDX-License-Identifier: Apache-2.0 */
/* FNV-1a, 64 bits: hashing for in-memory tables (not for anything secret). */
#ifndef TOKENTAP_FNV_H
#define TOKENTAP_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_SEED 0xcbf29ce484222325ULL
#define FNV1A_PRIME 0x100000001b3ULL

/* n bytes of p, continuing from h (FNV1A_SEED to start). */
static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV1A_PRIME;
	return h;
}

/* A string, then a separator byte: ("ab", "c") and ("a", "bc") differ. */
static inline uint64_t fnv1a_field(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV1A_PRIME;
	return (h ^ 0xff) * FNV1A_PRIME;
}

#endif
