/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building HTTP/2 client bytes in tests and benchmarks: an HPACK literal
 * header field and a frame. Shared by tests/unit and tests/bench (no
 * cmocka here: a field too long for the one-byte lengths aborts).
 */
#ifndef TOKENTAP_TEST_H2_BUILD_H
#define TOKENTAP_TEST_H2_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A literal without indexing, new name (RFC 7541 6.2.2), no Huffman; returns its length. */
static inline size_t hpack_lit(uint8_t *b, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), n = 0;

	/* lengths are written as one byte of a 7-bit prefix */
	if (nl >= 127 || vl >= 127) {
		fprintf(stderr, "hpack_lit: name or value of 127 bytes or more\n");
		abort();
	}
	b[n++] = 0x00;
	b[n++] = (uint8_t)nl;
	memcpy(b + n, name, nl);
	n += nl;
	b[n++] = (uint8_t)vl;
	memcpy(b + n, value, vl);
	return n + vl;
}

/* A frame header and n bytes of payload p at w; returns 9 + n. */
static inline size_t h2_frame(uint8_t *w, uint8_t type, uint8_t flags, uint32_t sid,
			      const uint8_t *p, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };

	memcpy(w, h, 9);
	memcpy(w + 9, p, n);
	return 9 + n;
}

#endif
