/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 frame stream parser: preface, frames split anywhere, CONTINUATION,
 * padding and priority, uncaptured bytes, connections seen late, garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http2.h"

#define MAX_BLOCK 16384

struct got {
	int n;
	uint32_t stream;
	size_t unknown;
	char method[16], path[64], authority[64], auth[64];
};

static void copy_field(char *dst, size_t cap, const struct hpack_field *f)
{
	snprintf(dst, cap, "%.*s", (int)f->value_len, f->value);
}

static void on_req(const struct h2_request *r, void *ctx)
{
	struct got *g = ctx;

	g->n++;
	g->stream = r->stream_id;
	g->unknown = r->unknown;
	g->method[0] = g->path[0] = g->authority[0] = g->auth[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		const struct hpack_field *f = &r->fields[i];

		if (!strcmp(f->name, ":method"))
			copy_field(g->method, sizeof(g->method), f);
		else if (!strcmp(f->name, ":path"))
			copy_field(g->path, sizeof(g->path), f);
		else if (!strcmp(f->name, ":authority"))
			copy_field(g->authority, sizeof(g->authority), f);
		else if (!strcmp(f->name, "authorization"))
			copy_field(g->auth, sizeof(g->auth), f);
	}
}

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct buf *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void frame(struct buf *w, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };

	put(w, h, 9);
	put(w, p, n);
}

/*
 * GET https example.com /a?x=1; authority then authorization with incremental
 * indexing (dynamic indices 63 and 62 afterwards).
 */
static const uint8_t block1[] = {
	0x82, 0x87, 0x04, 0x06, '/', 'a', '?', 'x', '=', '1',
	0x41, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
	0x57, 0x0a, 'B', 'e', 'a', 'r', 'e', 'r', ' ', 'a', 'b', 'c',
};
/* next request: :method GET, :path /b, authority and authorization by dynamic index */
static const uint8_t block2[] = { 0x82, 0x87, 0x04, 0x02, '/', 'b', 0xbe, 0xbf };
static const uint8_t settings[] = { 0, 3, 0, 0, 0, 100 };
static const uint8_t data8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void two_requests(struct buf *w)
{
	put(w, H2_PREFACE, H2_PREFACE_LEN);
	frame(w, 0x4, 0, 0, settings, sizeof(settings));
	frame(w, 0x1, 0x4 | 0x1, 1, block1, sizeof(block1));
	frame(w, 0x0, 0x1, 1, data8, sizeof(data8));
	frame(w, 0x1, 0x4, 3, block2, sizeof(block2));
}

static void check_two(const struct got *g, const struct h2_parser *p)
{
	assert_int_equal(g->n, 2);
	assert_int_equal(g->stream, 3);
	assert_string_equal(g->method, "GET");
	assert_string_equal(g->path, "/b");
	assert_string_equal(g->authority, "example.com");
	assert_int_equal(strlen(g->auth), 10);
	assert_int_equal(memcmp(g->auth, "Bearer abc", 10), 0);
	assert_int_equal(p->stats.undecodable, 0);
	assert_int_equal(p->stats.frames, 4);
}

static void test_preface_whole(void **state)
{
	struct h2_parser p;
	struct got g = { 0 };
	struct buf w = { .n = 0 };

	(void)state;
	two_requests(&w);
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 2);
	check_two(&g, &p);
	assert_true(p.hpack.synced);
	h2_parser_free(&p);
}

static void test_split_everywhere(void **state)
{
	struct buf w = { .n = 0 };

	(void)state;
	two_requests(&w);
	for (size_t cut = 0; cut <= w.n; cut++) {
		struct h2_parser p;
		struct got g = { 0 };

		assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
		h2_parser_feed(&p, w.b, cut, on_req, &g);
		h2_parser_feed(&p, w.b + cut, w.n - cut, on_req, &g);
		check_two(&g, &p);
		h2_parser_free(&p);
	}
	/* byte by byte */
	struct h2_parser p;
	struct got g = { 0 };

	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	for (size_t i = 0; i < w.n; i++)
		h2_parser_feed(&p, w.b + i, 1, on_req, &g);
	check_two(&g, &p);
	h2_parser_free(&p);
}

static void test_continuation_padding_priority(void **state)
{
	struct h2_parser p;
	struct got g = { 0 };
	struct buf w = { .n = 0 };
	uint8_t first[64];
	size_t n = 0;

	(void)state;
	/* HEADERS with PADDED (3 pad bytes) and PRIORITY, then two CONTINUATIONs */
	first[n++] = 3;
	memcpy(first + n, "\x80\x00\x00\x00\x10", 5);
	n += 5;
	memcpy(first + n, block1, 10);
	n += 10;
	memset(first + n, 0, 3);
	n += 3;
	put(&w, H2_PREFACE, H2_PREFACE_LEN);
	frame(&w, 0x1, 0x8 | 0x20, 5, first, n);
	frame(&w, 0x9, 0, 5, block1 + 10, 13);
	frame(&w, 0x9, 0x4, 5, block1 + 23, sizeof(block1) - 23);
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 1);
	assert_int_equal(g.stream, 5);
	assert_string_equal(g.path, "/a?x=1");
	assert_string_equal(g.authority, "example.com");
	assert_int_equal(memcmp(g.auth, "Bearer abc", 10), 0);

	/* pad length larger than the payload: the block is dropped, counted */
	w.n = 0;
	first[0] = 200;
	frame(&w, 0x1, 0x8 | 0x4, 7, first, 10);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 0);
	assert_int_equal(p.stats.undecodable, 1);
	assert_false(p.hpack.synced);
	h2_parser_free(&p);
}

static void test_interrupted_block(void **state)
{
	struct h2_parser p;
	struct got g = { 0 };
	struct buf w = { .n = 0 };

	(void)state;
	put(&w, H2_PREFACE, H2_PREFACE_LEN);
	frame(&w, 0x1, 0, 1, block1, 10);
	frame(&w, 0x0, 0, 1, data8, 8);        /* not allowed inside a block */
	frame(&w, 0x9, 0x4, 1, block1 + 10, sizeof(block1) - 10);
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 0);
	assert_int_equal(p.stats.undecodable, 2);
	h2_parser_free(&p);
}

static void test_skipped_bytes(void **state)
{
	struct h2_parser p;
	struct got g = { 0 };
	struct buf w = { .n = 0 };
	uint8_t big[9] = { 0, 0x40, 0, 0, 0, 0, 0, 0, 1 }; /* DATA of 16384 bytes */

	(void)state;
	/* a large DATA write captured only in part: the parser stays in step */
	put(&w, H2_PREFACE, H2_PREFACE_LEN);
	frame(&w, 0x1, 0x4, 1, block1, sizeof(block1));
	put(&w, big, 9);
	put(&w, data8, 8);
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	h2_parser_feed(&p, w.b, w.n, on_req, &g);
	h2_parser_skip(&p, 16384 - 8);
	w.n = 0;
	frame(&w, 0x1, 0x4, 3, block2, sizeof(block2));
	h2_parser_feed(&p, w.b, w.n, on_req, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(memcmp(g.auth, "Bearer abc", 10), 0);
	assert_int_equal(p.stats.undecodable, 0);

	/* part of a HEADERS payload uncaptured: block lost, table no longer known */
	w.n = 0;
	frame(&w, 0x1, 0x4, 5, block1, sizeof(block1));
	h2_parser_feed(&p, w.b, w.n - 5, on_req, &g);
	h2_parser_skip(&p, 5);
	assert_int_equal(g.n, 2);
	assert_int_equal(p.stats.undecodable, 1);
	assert_false(p.hpack.synced);
	assert_int_equal(p.state, H2_FRAME_HDR);
	/* a later block with dynamic indices: delivered partly, counted */
	w.n = 0;
	frame(&w, 0x1, 0x4, 7, block2, sizeof(block2));
	h2_parser_feed(&p, w.b, w.n, on_req, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.unknown, 2);
	assert_string_equal(g.path, "/b");
	assert_int_equal(g.auth[0], '\0');
	assert_int_equal(p.stats.undecodable, 2);

	/* a skip past the frame's end loses the boundaries until a new write starts */
	h2_parser_skip(&p, 100);
	assert_int_equal(p.state, H2_LOST);
	h2_parser_feed(&p, data8, sizeof(data8), on_req, &g);
	w.n = 0;
	frame(&w, 0x1, 0x4, 9, block1, sizeof(block1));
	h2_parser_write_start(&p, w.b, w.n);
	assert_int_equal(p.state, H2_FRAME_HDR);
	h2_parser_feed(&p, w.b, w.n, on_req, &g);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.path, "/a?x=1");
	assert_int_equal(p.stats.resyncs, 1);
	h2_parser_free(&p);
}

static void test_seen_late(void **state)
{
	struct h2_parser p;
	struct got g = { 0 };
	struct buf w = { .n = 0 };

	(void)state;
	/* no preface: static and literal fields only */
	frame(&w, 0x1, 0x4, 11, block2, sizeof(block2));
	assert_true(h2_plausible_frame(w.b, w.n, 16384));
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 1);
	assert_false(p.hpack.synced);
	assert_int_equal(g.unknown, 2);
	assert_string_equal(g.method, "GET");
	assert_int_equal(p.stats.undecodable, 1);
	/* the literal authorization of a later block is still seen */
	w.n = 0;
	frame(&w, 0x1, 0x4, 13, block1, sizeof(block1));
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 1);
	assert_int_equal(memcmp(g.auth, "Bearer abc", 10), 0);
	h2_parser_free(&p);
}

static void test_garbage_and_bounds(void **state)
{
	struct h2_parser p;
	struct got g = { 0 };
	struct buf w = { .n = 0 };
	uint8_t junk[64];

	(void)state;
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	assert_int_equal(h2_parser_feed(&p, (const uint8_t *)"PRI * HTTP/1.1\r\n", 16, on_req, &g), 0);
	assert_int_equal(p.state, H2_LOST);
	assert_true(p.stats.garbage > 0);
	h2_parser_free(&p);

	/* a header frame larger than the bound is skipped by length */
	assert_int_equal(h2_parser_init(&p, 32), 0);
	memset(junk, 0x82, sizeof(junk));
	put(&w, H2_PREFACE, H2_PREFACE_LEN);
	frame(&w, 0x1, 0x4, 1, junk, sizeof(junk));
	frame(&w, 0x1, 0x4, 3, junk, 1);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g), 1);
	assert_int_equal(p.stats.oversize, 1);
	h2_parser_free(&p);

	/* a server's response block is not a request and not counted */
	static const uint8_t resp[] = { 0x88, 0xbe };
	struct got g2 = { 0 };

	w.n = 0;
	frame(&w, 0x1, 0x4, 1, resp, sizeof(resp));
	assert_int_equal(h2_parser_init(&p, MAX_BLOCK), 0);
	assert_int_equal(h2_parser_feed(&p, w.b, w.n, on_req, &g2), 0);
	assert_int_equal(p.stats.responses, 1);
	assert_int_equal(p.stats.undecodable, 0);
	h2_parser_free(&p);

	assert_false(h2_plausible_frame((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 16384));
	assert_false(h2_plausible_frame(w.b, 8, 16384));
	/* HEADERS on an even stream is not a client's */
	w.n = 0;
	frame(&w, 0x1, 0x4, 2, block2, sizeof(block2));
	assert_false(h2_plausible_frame(w.b, w.n, 16384));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preface_whole),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_continuation_padding_priority),
		cmocka_unit_test(test_interrupted_block),
		cmocka_unit_test(test_skipped_bytes),
		cmocka_unit_test(test_seen_late),
		cmocka_unit_test(test_garbage_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
