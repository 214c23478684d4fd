/* SPDX-License-Identifier: Apache-2.0 */
#include "http2.h"

#include <stdlib.h>
#include <string.h>

#include "wipe.h"

#define H2_FLAG_END_HEADERS 0x4
#define H2_FLAG_PADDED 0x8
#define H2_FLAG_PRIORITY 0x20
#define H2_MAX_TYPE 0x9

int h2_parser_init(struct h2_parser *p, size_t max_block)
{
	memset(p, 0, sizeof(*p));
	if (max_block == 0)
		return -1;
	/* frame and block grow with what arrives: see grow() */
	p->block_cap = max_block;
	/* synced is decided by the first bytes: a preface, or a connection seen late */
	hpack_decoder_init(&p->hpack, H2_HPACK_LIMIT, false);
	return 0;
}

/* A block's fields and text take at most twice its bound (see block_decode). */
int h2_scratch_init(struct h2_scratch *s, size_t max_block)
{
	memset(s, 0, sizeof(*s));
	if (max_block == 0 || max_block > SIZE_MAX / 2)
		return -1;
	s->fields = calloc(H2_MAX_FIELDS, sizeof(*s->fields));
	s->arena = malloc(max_block * 2);
	if (!s->fields || !s->arena) {
		h2_scratch_free(s);
		return -1;
	}
	s->arena_cap = max_block * 2;
	return 0;
}

void h2_scratch_free(struct h2_scratch *s)
{
	secure_wipe(s->arena, s->arena_cap);
	free(s->arena);
	secure_wipe(s->fields, s->fields ? H2_MAX_FIELDS * sizeof(*s->fields) : 0);
	free(s->fields);
	memset(s, 0, sizeof(*s));
}

void h2_parser_free(struct h2_parser *p)
{
	secure_wipe(p->frame, p->frame_alloc);
	secure_wipe(p->block, p->block_alloc);
	free(p->frame);
	free(p->block);
	hpack_decoder_free(&p->hpack);
	memset(p, 0, sizeof(*p));
}

/*
 * Room for need bytes at *buf (need <= max), of which used are kept; the
 * old buffer is wiped before it is freed. A connection holds only what
 * its header blocks needed, not two max-size buffers. -1: out of memory.
 */
static int grow(uint8_t **buf, size_t *alloc, size_t used, size_t need, size_t max)
{
	size_t cap = *alloc ? *alloc : 256;
	uint8_t *b;

	if (need <= *alloc)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > max)
		cap = max;
	b = malloc(cap);
	if (!b)
		return -1;
	if (*buf) {
		memcpy(b, *buf, used);
		secure_wipe(*buf, used);
		free(*buf);
	}
	*buf = b;
	*alloc = cap;
	return 0;
}

bool h2_plausible_frame(const uint8_t *d, size_t len, size_t max_len)
{
	uint32_t flen, sid;

	if (len < H2_FRAME_HDR_LEN)
		return false;
	flen = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
	sid = (uint32_t)d[5] << 24 | (uint32_t)d[6] << 16 | (uint32_t)d[7] << 8 | d[8];
	if (d[3] > H2_MAX_TYPE || flen > max_len || (sid & 0x80000000u))
		return false;
	/* streams a client opens are odd; HEADERS always name one */
	if (d[3] == H2_HEADERS && (sid == 0 || !(sid & 1)))
		return false;
	return true;
}

/* The open header block cannot be decoded: its fields are gone, and so is HPACK sync. */
static void block_drop(struct h2_parser *p)
{
	if (p->in_block || p->block_lost) {
		p->stats.undecodable++;
		p->hpack.synced = false;
	}
	secure_wipe(p->block, p->block_len);
	p->block_len = 0;
	p->in_block = false;
	p->block_lost = false;
}

static bool has_field(const struct hpack_block *b, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < b->n; i++)
		if (b->fields[i].name_len == n && memcmp(b->fields[i].name, name, n) == 0)
			return true;
	return false;
}

/*
 * The decoded fields and their text live only while one block is decoded
 * and reported: in the owner's scratch, or allocated per block rather than
 * held by every connection (~37 KiB each with the default bound,
 * thousands of connections).
 */
static int block_decode(struct h2_parser *p, h2_request_cb cb, void *ctx)
{
	struct h2_scratch *sc = p->scratch;
	bool shared = sc && sc->fields && sc->arena && sc->arena_cap >= p->block_cap * 2;
	struct hpack_block out = {
		.fields = shared ? sc->fields : calloc(H2_MAX_FIELDS, sizeof(*out.fields)),
		.max_fields = H2_MAX_FIELDS,
		.arena = shared ? sc->arena : malloc(p->block_cap * 2), .arena_cap = p->block_cap * 2,
	};
	size_t dirty;
	int rc;
	int delivered = 0;

	if (!out.fields || !out.arena) {
		free(out.fields);
		free(out.arena);
		block_drop(p);
		return 0;
	}
	rc = hpack_decode_block(&p->hpack, p->block ? p->block : (const uint8_t *)"", p->block_len, &out);

	/*
	 * A server's side of a connection seen late looks the same in the
	 * kernel: its response blocks (:status) are not requests, not counted.
	 */
	if (rc == HPACK_OK && has_field(&out, ":status")) {
		p->stats.responses++;
		goto done;
	}
	if (rc != HPACK_OK || out.unknown)
		p->stats.undecodable++;
	/* trailers carry no :method; a block with unknown fields may have lost it */
	if (rc == HPACK_OK && (has_field(&out, ":method") || out.unknown)) {
		struct h2_request req = {
			.stream_id = p->block_stream, .fields = out.fields,
			.n = out.n, .unknown = out.unknown,
		};

		p->stats.requests++;
		cb(&req, ctx);
		delivered = 1;
	}
done:
	/*
	 * A literal that failed half-way may have left bytes past arena_used:
	 * at most its input decoded (Huffman: 8/5 of it), so twice the block
	 * covers it. The shared scratch is used again: leave no text behind.
	 */
	dirty = out.arena_used + 2 * p->block_len;
	secure_wipe(out.arena, dirty < out.arena_cap ? dirty : out.arena_cap);
	secure_wipe(out.fields, out.n * sizeof(*out.fields));
	if (!shared) {
		free(out.arena);
		free(out.fields);
	}
	secure_wipe(p->block, p->block_len);
	p->block_len = 0;
	p->in_block = false;
	return delivered;
}

/* A whole HEADERS or CONTINUATION payload is in p->frame. */
static int header_frame(struct h2_parser *p, h2_request_cb cb, void *ctx)
{
	const uint8_t *f = p->frame;
	size_t len = p->frame_len, pad = 0;

	if (p->frame_lost) {
		/* content partly uncaptured or too large: the whole block is lost */
		if (p->frame_type == H2_HEADERS) {
			if (p->in_block)
				block_drop(p);
			p->in_block = true;
			p->block_stream = p->frame_stream;
		} else if (!p->in_block) {
			p->stats.undecodable++;
			p->hpack.synced = false;
			return 0;
		}
		p->block_lost = true;
	} else if (p->frame_type == H2_HEADERS) {
		if (p->in_block)
			block_drop(p);
		p->in_block = true;
		p->block_stream = p->frame_stream;
		if (p->frame_flags & H2_FLAG_PADDED) {
			if (len < 1)
				goto bad;
			pad = f[0];
			f++;
			len--;
		}
		if (p->frame_flags & H2_FLAG_PRIORITY) {
			if (len < 5)
				goto bad;
			f += 5;
			len -= 5;
		}
		if (pad > len)
			goto bad;
		len -= pad;
	} else if (!p->in_block || p->frame_stream != p->block_stream) {
		/* a CONTINUATION whose HEADERS was not seen */
		p->stats.undecodable++;
		p->hpack.synced = false;
		return 0;
	}
	if (!p->block_lost) {
		if (len > p->block_cap - p->block_len) {
			p->stats.oversize++;
			p->block_lost = true;
		} else if (grow(&p->block, &p->block_alloc, p->block_len, p->block_len + len,
				p->block_cap) != 0) {
			p->block_lost = true;
		} else if (len) {
			memcpy(p->block + p->block_len, f, len);
			p->block_len += len;
		}
	}
	if (!(p->frame_flags & H2_FLAG_END_HEADERS))
		return 0;
	if (p->block_lost) {
		block_drop(p);
		return 0;
	}
	return block_decode(p, cb, ctx);
bad:
	p->block_lost = true;
	block_drop(p);
	return 0;
}

static bool is_header_frame(const struct h2_parser *p)
{
	return p->frame_type == H2_HEADERS || p->frame_type == H2_CONTINUATION;
}

static int frame_done(struct h2_parser *p, h2_request_cb cb, void *ctx)
{
	int n = 0;

	p->stats.frames++;
	if (is_header_frame(p))
		n = header_frame(p, cb, ctx);
	else if (p->in_block)
		/* RFC 9113 6.10: only CONTINUATION may follow an unfinished block */
		block_drop(p);
	secure_wipe(p->frame, p->payload_got < p->frame_alloc ? p->payload_got : p->frame_alloc);
	p->state = H2_FRAME_HDR;
	p->hdr_got = 0;
	p->frame_lost = false;
	return n;
}

static void frame_header(struct h2_parser *p)
{
	const uint8_t *h = p->hdr;

	p->frame_len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
	p->frame_type = h[3];
	p->frame_flags = h[4];
	p->frame_stream = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) &
			  0x7fffffffu;
	p->payload_got = 0;
	p->frame_lost = is_header_frame(p) && p->frame_len > p->block_cap;
	if (p->frame_lost)
		p->stats.oversize++;
	p->state = H2_PAYLOAD;
}

int h2_parser_feed(struct h2_parser *p, const uint8_t *data, size_t len, h2_request_cb cb, void *ctx)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		switch (p->state) {
		case H2_START:
			/* a connection opened before capture began has no preface */
			p->hpack.synced = data[i] == (uint8_t)H2_PREFACE[0];
			p->state = p->hpack.synced ? H2_PREFACE_REST : H2_FRAME_HDR;
			break;
		case H2_PREFACE_REST:
			if (data[i] != (uint8_t)H2_PREFACE[p->preface_got]) {
				p->stats.garbage++;
				p->state = H2_LOST;
				break;
			}
			i++;
			if (++p->preface_got == H2_PREFACE_LEN)
				p->state = H2_FRAME_HDR;
			break;
		case H2_FRAME_HDR:
			p->hdr[p->hdr_got++] = data[i++];
			if (p->hdr_got == H2_FRAME_HDR_LEN) {
				frame_header(p);
				if (p->frame_len == 0)
					n += frame_done(p, cb, ctx);
			}
			break;
		case H2_PAYLOAD: {
			size_t take = p->frame_len - p->payload_got;

			if (take > len - i)
				take = len - i;
			if (is_header_frame(p) && !p->frame_lost &&
			    grow(&p->frame, &p->frame_alloc, p->payload_got, p->payload_got + take,
				 p->block_cap) != 0) {
				p->stats.oversize++;
				p->frame_lost = true;
			}
			if (is_header_frame(p) && !p->frame_lost && take)
				memcpy(p->frame + p->payload_got, data + i, take);
			p->payload_got += (uint32_t)take;
			i += take;
			if (p->payload_got == p->frame_len)
				n += frame_done(p, cb, ctx);
			break;
		}
		case H2_LOST:
			p->stats.garbage += len - i;
			i = len;
			break;
		}
	}
	return n;
}

void h2_parser_skip(struct h2_parser *p, uint64_t n)
{
	if (n == 0)
		return;
	if (p->state == H2_PAYLOAD && n <= p->frame_len - p->payload_got) {
		/* the frame's end is still known: only its content is missing */
		if (is_header_frame(p))
			p->frame_lost = true;
		p->payload_got += (uint32_t)n;
		if (p->payload_got == p->frame_len)
			frame_done(p, NULL, NULL); /* a lost block calls nothing */
		return;
	}
	if (p->in_block)
		p->block_lost = true;
	block_drop(p);
	p->hpack.synced = false;
	p->state = H2_LOST;
}

void h2_parser_write_start(struct h2_parser *p, const uint8_t *data, size_t len)
{
	if (p->state != H2_LOST || !h2_plausible_frame(data, len, p->block_cap > 16384 ? p->block_cap : 16384))
		return;
	p->stats.resyncs++;
	p->state = H2_FRAME_HDR;
	p->hdr_got = 0;
}
