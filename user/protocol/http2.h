/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 client-to-server frame stream parser for one connection: the
 * connection preface, frames split across arbitrary writes, HEADERS plus
 * CONTINUATION (PADDED, PRIORITY) gathered per stream into one bounded
 * header block, decoded with the connection's HPACK state. Every other
 * frame is skipped by its length, including bytes that were never captured
 * (h2_parser_skip). Pure logic: no I/O, no BPF.
 *
 * Header blocks may hold secrets: the block and decoded-field buffers are
 * wiped after each callback and on free.
 */
#ifndef TOKENTAP_HTTP2_H
#define TOKENTAP_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpack.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_HDR_LEN 9
#define H2_MAX_FIELDS 128
/* Largest table size a peer's SETTINGS may allow the encoder. */
#define H2_HPACK_LIMIT 65536

enum h2_frame_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_CONTINUATION = 0x9,
};

enum h2_state {
	H2_START = 0,  /* nothing seen: preface or (connection opened earlier) a frame */
	H2_PREFACE_REST,
	H2_FRAME_HDR,
	H2_PAYLOAD,
	H2_LOST,       /* frame boundaries unknown: wait for h2_parser_write_start() */
};

/* One complete header block that opens a request. */
struct h2_request {
	uint32_t stream_id;
	const struct hpack_field *fields;
	size_t n;
	size_t unknown;  /* fields skipped: dynamic indices of a table never seen */
};

struct h2_stats {
	uint64_t frames;
	uint64_t requests;      /* header blocks delivered */
	uint64_t undecodable;   /* header blocks lost or not (fully) decodable */
	uint64_t oversize;      /* header blocks larger than the bound */
	uint64_t garbage;       /* bytes that are not HTTP/2 where a frame was due */
	uint64_t resyncs;       /* frame boundaries found again after a loss */
	uint64_t responses;     /* response blocks (a server's stream), ignored */
};

typedef void (*h2_request_cb)(const struct h2_request *req, void *ctx);

/*
 * Where header blocks are decoded: the fields and their text, wiped after
 * each block. Parsers fed on one thread may share one (h2_parser.scratch)
 * instead of allocating both per block.
 */
struct h2_scratch {
	struct hpack_field *fields; /* H2_MAX_FIELDS, zero between blocks */
	char *arena;
	size_t arena_cap;
};

/* Room for the blocks of parsers bounded by max_block. Returns 0 or -1 (no memory). */
int h2_scratch_init(struct h2_scratch *s, size_t max_block);
/* Wipes and frees; s is zeroed. */
void h2_scratch_free(struct h2_scratch *s);

struct h2_parser {
	enum h2_state state;
	size_t preface_got;
	uint8_t hdr[H2_FRAME_HDR_LEN];
	size_t hdr_got;
	uint32_t frame_len;
	uint8_t frame_type;
	uint8_t frame_flags;
	uint32_t frame_stream;
	uint32_t payload_got;
	bool frame_lost;        /* part of this header frame was never seen */
	uint8_t *frame;         /* HEADERS/CONTINUATION payload (frame_alloc bytes, <= block_cap) */
	uint8_t *block;         /* header block fragments of the open block (block_alloc bytes) */
	size_t frame_alloc, block_alloc; /* grown on demand; NULL and 0 until needed */
	size_t block_len;
	size_t block_cap;       /* bound of a header block and of a frame */
	bool in_block;          /* waiting for CONTINUATION of block_stream */
	bool block_lost;
	uint32_t block_stream;
	struct hpack_decoder hpack;
	struct h2_stats stats;
	/*
	 * The owner's, set after h2_parser_init: blocks are decoded there
	 * when it has room for this parser's bound; NULL: allocated per block.
	 */
	struct h2_scratch *scratch;
};

/* max_block: bound of one header block (and frame) in bytes. Returns 0 or -1 (no memory). */
int h2_parser_init(struct h2_parser *p, size_t max_block);
/* Wipes and frees everything, HPACK table included. */
void h2_parser_free(struct h2_parser *p);
/* Feeds captured bytes; calls cb per request header block. Returns requests delivered. */
int h2_parser_feed(struct h2_parser *p, const uint8_t *data, size_t len, h2_request_cb cb, void *ctx);
/* n bytes of the stream went by uncaptured (a write longer than the capture cap). */
void h2_parser_skip(struct h2_parser *p, uint64_t n);
/*
 * A new write begins with data: after a loss, frame boundaries are taken up
 * again when it opens with a plausible frame header.
 */
void h2_parser_write_start(struct h2_parser *p, const uint8_t *data, size_t len);
/* True when data opens with a plausible client frame header of type type. */
bool h2_plausible_frame(const uint8_t *data, size_t len, size_t max_len);

#endif
