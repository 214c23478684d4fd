/* SPDX-License-Identifier: Apache-2.0 */
/* Constant tables of RFC 7541 used by the HPACK decoder. */
#ifndef TOKENTAP_HPACK_TABLES_H
#define TOKENTAP_HPACK_TABLES_H

#include <stdint.h>

#define HPACK_STATIC_COUNT 61
#define HPACK_HUFF_SYMS 257 /* 256 octets and EOS */
#define HPACK_HUFF_EOS 256
#define HPACK_HUFF_MAXLEN 30

struct hpack_static_entry {
	const char *name;
	const char *value;
};

/* Index 1 of the RFC is element 0. */
extern const struct hpack_static_entry hpack_static_table[HPACK_STATIC_COUNT];
extern const uint32_t hpack_huff_code[HPACK_HUFF_SYMS];
extern const uint8_t hpack_huff_len[HPACK_HUFF_SYMS];
/* Symbols ordered by (length, code); per length: first code, count, offset into it. */
extern const uint16_t hpack_huff_sorted[HPACK_HUFF_SYMS];
extern const uint32_t hpack_huff_first[HPACK_HUFF_MAXLEN + 1];
extern const uint32_t hpack_huff_count[HPACK_HUFF_MAXLEN + 1];
extern const uint32_t hpack_huff_offset[HPACK_HUFF_MAXLEN + 1];

#endif
