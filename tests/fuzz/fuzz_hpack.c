/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPACK decoder and HTTP/2 frame parser fuzz target. The input is decoded
 * as consecutive HPACK blocks (lengths from a byte each) on one decoder, and
 * as an HTTP/2 client stream fed in two pieces and byte by byte: both feeds
 * must deliver the same requests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpack.h"
#include "http2.h"

struct run {
	int delivered;
	uint64_t digest;
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ULL;
	}
}

static void on_req(const struct h2_request *r, void *ctx)
{
	struct run *run = ctx;

	run->delivered++;
	if (r->n > H2_MAX_FIELDS)
		abort();
	for (size_t i = 0; i < r->n; i++) {
		mix(&run->digest, r->fields[i].name, r->fields[i].name_len);
		mix(&run->digest, r->fields[i].value, r->fields[i].value_len);
	}
	mix(&run->digest, &r->unknown, sizeof(r->unknown));
}

static void hpack_blocks(const uint8_t *data, size_t size)
{
	static struct hpack_field fields[64];
	static char arena[4096];
	struct hpack_block b = { .fields = fields, .max_fields = 64, .arena = arena, .arena_cap = sizeof(arena) };
	struct hpack_decoder d;
	size_t pos = 0;

	hpack_decoder_init(&d, 4096, size & 1);
	while (pos < size) {
		size_t n = data[pos++];

		if (n > size - pos)
			n = size - pos;
		if (hpack_decode_block(&d, data + pos, n, &b) == HPACK_OK &&
		    (b.n > b.max_fields || b.arena_used > b.arena_cap))
			abort();
		if (d.size > d.max_size || d.max_size > d.limit)
			abort();
		pos += n;
	}
	hpack_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h2_parser a, b;
	struct run ra = { 0, 14695981039346656037ULL }, rb = ra;
	size_t cut;

	if (size < 2)
		return 0;
	hpack_blocks(data + 1, size - 1);
	cut = (size_t)data[0] * (size - 1) / 255;
	data++;
	size--;
	if (h2_parser_init(&a, 1024) || h2_parser_init(&b, 1024))
		abort();
	h2_parser_feed(&a, data, cut, on_req, &ra);
	h2_parser_feed(&a, data + cut, size - cut, on_req, &ra);
	for (size_t i = 0; i < size; i++)
		h2_parser_feed(&b, data + i, 1, on_req, &rb);
	if (ra.delivered != rb.delivered || ra.digest != rb.digest || a.state != b.state ||
	    memcmp(&a.stats, &b.stats, sizeof(a.stats)) != 0)
		abort();
	h2_parser_skip(&a, data[0]);
	h2_parser_write_start(&a, data, size);
	h2_parser_feed(&a, data, size, on_req, &ra);
	h2_parser_free(&a);
	h2_parser_free(&b);
	return 0;
}
