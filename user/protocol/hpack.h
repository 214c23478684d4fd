/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPACK (RFC 7541) header block decoder for one direction of one HTTP/2
 * connection: static and dynamic table, Huffman strings, table size
 * updates. Pure logic, bounded, never trusts its input.
 *
 * Decoded names and values may be secrets (authorization). They are copied
 * into a caller-provided arena that the caller wipes when done; the dynamic
 * table's own copies are wiped on eviction and on hpack_decoder_free().
 */
#ifndef TOKENTAP_HPACK_H
#define TOKENTAP_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The table size the protocol starts with (SETTINGS_HEADER_TABLE_SIZE default). */
#define HPACK_DEFAULT_TABLE_SIZE 4096
/* Per-entry overhead counted against the table size (RFC 7541 4.1). */
#define HPACK_ENTRY_OVERHEAD 32

enum hpack_err {
	HPACK_OK = 0,
	HPACK_E_TRUNCATED = -1,     /* block ends inside a representation */
	HPACK_E_INT_OVERFLOW = -2,  /* integer larger than the decoder accepts */
	HPACK_E_INDEX_ZERO = -3,    /* index 0 is not a field */
	HPACK_E_INDEX_RANGE = -4,   /* index past the static + dynamic table */
	HPACK_E_HUFFMAN = -5,       /* bad code, EOS in a string, or bad padding */
	HPACK_E_TABLE_SIZE = -6,    /* size update above the allowed maximum */
	HPACK_E_UPDATE_POS = -7,    /* size update after a field in the block */
	HPACK_E_SPACE = -8,         /* fields or arena of the caller full */
	HPACK_E_NOMEM = -9,
	HPACK_E_UNKNOWN_INDEX = -10, /* dynamic index of a table never seen (mid-stream start) */
};

struct hpack_field {
	const char *name; /* in the caller's arena, NUL-terminated */
	size_t name_len;
	const char *value;
	size_t value_len;
	bool never_indexed;
};

struct hpack_entry {
	char *buf; /* name then value, one allocation */
	size_t name_len;
	size_t value_len;
};

struct hpack_decoder {
	struct hpack_entry *entries; /* oldest first, newest last */
	size_t count;
	size_t alloc;
	size_t size;            /* RFC size: sum of name + value + 32 */
	size_t max_size;        /* current limit (last size update) */
	size_t limit;           /* most a size update may ask for */
	/*
	 * False when decoding began mid-connection: the peer's table holds
	 * entries never seen, so dynamic indices are unknown, never guessed.
	 */
	bool synced;
};

/* Result of one header block. */
struct hpack_block {
	struct hpack_field *fields; /* caller's array */
	size_t max_fields;
	size_t n;
	char *arena;                /* caller's; wipe when done */
	size_t arena_cap;
	size_t arena_used;
	size_t unknown;             /* fields skipped: dynamic index unknown (not synced) */
};

/*
 * limit: the largest table size a size update may set (e.g. 65536).
 * synced: false for a connection whose start was not seen.
 */
int hpack_decoder_init(struct hpack_decoder *d, size_t limit, bool synced);
/* Wipes and frees every entry. */
void hpack_decoder_free(struct hpack_decoder *d);
/*
 * Decodes one complete header block into out (n, arena_used, unknown reset
 * first). Returns HPACK_OK or an error; after an error the decoder's table
 * may no longer match the peer's and it is marked not synced. Fields whose
 * dynamic index is unknown while not synced are skipped and counted in
 * out->unknown, never guessed; the rest of the block is still decoded.
 */
int hpack_decode_block(struct hpack_decoder *d, const uint8_t *in, size_t len,
		       struct hpack_block *out);

/* Dynamic table entry i (1 = newest), for tests and diagnostics; false if none. */
bool hpack_dyn_entry(const struct hpack_decoder *d, size_t i, const char **name, size_t *name_len,
		     const char **value, size_t *value_len);

/*
 * Decodes one integer with an n-bit prefix (RFC 7541 5.1) at *pos; values
 * above max are HPACK_E_INT_OVERFLOW. Exposed for tests.
 */
int hpack_decode_int(const uint8_t *in, size_t len, size_t *pos, int prefix_bits, uint64_t max,
		     uint64_t *out);
/* Huffman-decodes in into out (at most cap bytes); returns bytes written or an error. */
long hpack_huffman_decode(const uint8_t *in, size_t len, char *out, size_t cap);

const char *hpack_strerror(int err);

#endif
