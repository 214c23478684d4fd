/* SPDX-License-Identifier: Apache-2.0 */
#include "ingest.h"
#include "clock.h"
#include "batch_check.h"
#include "gunzip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * protobuf-c allocates every sub-message and string: a few bytes of
 * input can become a hundred bytes of structures. The decoder gets a
 * budget proportional to its input so a crafted batch cannot exhaust
 * memory.
 */
#define DECODE_BUDGET_FACTOR 16
#define DECODE_BUDGET_BASE (1u << 20)

/*
 * The decoded batch lives in an arena: protobuf-c asks for a block per
 * sub-message, string and array, and one malloc (and free) each cost
 * more than the decoding. Chunks grow geometrically and all go back at
 * once when the batch is done. The budget charges every block as a
 * malloc'd one would, so the limits are those of a plain allocator; a
 * freed block is not refunded (only the newest one is reused), so
 * repeated frees cannot let memory grow past the budget.
 */
#define ARENA_CHUNK_MIN (64u << 10)
#define ARENA_CHUNK_MAX (1u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct budget {
	size_t left;
	int exhausted;
	struct arena_chunk *chunks; /* newest first */
	void *last;                 /* the newest block, which free can take back */
	size_t last_size;
};

/* What a malloc'd block used to be charged: its size plus a header. */
#define BLOCK_HEAD sizeof(max_align_t)

static size_t align_up(size_t n)
{
	return (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
}

static struct arena_chunk *arena_grow(struct budget *b, size_t need)
{
	size_t size = b->chunks ? b->chunks->size * 2 : ARENA_CHUNK_MIN;
	struct arena_chunk *c;

	if (size > ARENA_CHUNK_MAX)
		size = ARENA_CHUNK_MAX;
	if (size < need)
		size = need;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = b->chunks;
	b->chunks = c;
	return c;
}

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	struct arena_chunk *c = b->chunks;
	size_t n;
	void *p;

	if (size > b->left || size + BLOCK_HEAD > b->left) {
		b->exhausted = 1;
		return NULL;
	}
	n = align_up(size ? size : 1);
	if (!c || c->size - c->used < n) {
		c = arena_grow(b, n);
		if (!c)
			return NULL;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	b->left -= size + BLOCK_HEAD;
	b->last = p;
	b->last_size = n;
	return p;
}

static void budget_free(void *data, void *p)
{
	struct budget *b = data;

	/* only the newest block can be reused; the charge stays */
	if (p && p == b->last) {
		b->chunks->used -= b->last_size;
		b->last = NULL;
	}
}

static void budget_init(struct budget *b, size_t left)
{
	b->left = left;
	b->exhausted = 0;
	b->chunks = NULL;
	b->last = NULL;
	b->last_size = 0;
}

/* Frees everything the decoder allocated: no walk over the message. */
static void budget_release(struct budget *b)
{
	while (b->chunks) {
		struct arena_chunk *c = b->chunks;

		b->chunks = c->next;
		free(c);
	}
	b->last = NULL;
}

void ingest_limits_default(struct ingest_limits *l)
{
	l->max_body = INGEST_DEFAULT_MAX_BODY;
	l->max_decompressed = INGEST_DEFAULT_MAX_DECOMPRESSED;
}

static void reject(struct ingest_result *res, enum reject_reason r, int http, const char *msg)
{
	res->status = INGEST_REJECTED;
	res->reason = r;
	res->http_status = http;
	snprintf(res->msg, sizeof(res->msg), "%s", msg);
}

/* 1 gzip, 0 identity, -1 unsupported. */
static int parse_encoding(const char *ce)
{
	char tok[16];
	size_t n;

	if (!ce)
		return 0;
	while (*ce == ' ' || *ce == '\t')
		ce++;
	n = strcspn(ce, " \t");
	if (n >= sizeof(tok) || ce[n + strspn(ce + n, " \t")] != '\0')
		return -1;
	memcpy(tok, ce, n);
	tok[n] = '\0';
	if (n == 0 || !strcasecmp(tok, "identity"))
		return 0;
	if (!strcasecmp(tok, "gzip") || !strcasecmp(tok, "x-gzip"))
		return 1;
	return -1;
}

/*
 * Decodes into *out (free with budget_release(bud)); 0 or -1 with res
 * filled. *raw holds the decompressed buffer to free (may be NULL).
 */
static int decode(const struct ingest_limits *lim, const char *ce, const uint8_t *body, size_t len,
		  struct ingest_result *res, struct budget *bud, ProtobufCAllocator *alloc,
		  Tokentap__V1__Batch **out)
{
	const uint8_t *pb = body;
	uint8_t *raw = NULL;
	size_t pblen = len;
	int enc = parse_encoding(ce);
	char why[160];

	memset(res, 0, sizeof(*res));
	*out = NULL;
	if (len > lim->max_body) {
		reject(res, REJECT_BODY_TOO_LARGE, 413, "request body exceeds the size limit");
		return -1;
	}
	if (enc < 0) {
		reject(res, REJECT_UNSUPPORTED_MEDIA_TYPE, 415,
		       "unsupported Content-Encoding: use gzip or identity");
		return -1;
	}
	if (enc == 1) {
		switch (gunzip_bounded(body, len, lim->max_decompressed, &raw, &pblen)) {
		case GUNZIP_OK:
			pb = raw;
			break;
		case GUNZIP_TOO_LARGE:
			reject(res, REJECT_DECOMPRESSED_TOO_LARGE, 413,
			       "decompressed batch exceeds the size limit");
			return -1;
		case GUNZIP_NOMEM:
			res->status = INGEST_FAILED;
			res->reason = REJECT_STORE_ERROR;
			res->http_status = 503;
			snprintf(res->msg, sizeof(res->msg), "out of memory");
			return -1;
		default:
			reject(res, REJECT_BAD_GZIP, 400, "body is not a valid gzip stream");
			return -1;
		}
	} else if (len > lim->max_decompressed) {
		reject(res, REJECT_DECOMPRESSED_TOO_LARGE, 413, "batch exceeds the size limit");
		return -1;
	}

	budget_init(bud, pblen * DECODE_BUDGET_FACTOR + DECODE_BUDGET_BASE);
	alloc->alloc = budget_alloc;
	alloc->free = budget_free;
	alloc->allocator_data = bud;
	*out = tokentap__v1__batch__unpack(alloc, pblen, pb);
	free(raw);
	if (!*out) {
		budget_release(bud);
		if (bud->exhausted)
			reject(res, REJECT_DECOMPRESSED_TOO_LARGE, 413,
			       "batch needs too much memory to decode");
		else
			reject(res, REJECT_BAD_PROTOBUF, 400, "malformed or truncated protobuf Batch");
		return -1;
	}
	if (batch_check(*out, why, sizeof(why)) < 0) {
		char msg[200];

		snprintf(msg, sizeof(msg), "invalid batch: %s", why);
		reject(res, REJECT_INVALID_BATCH, 400, msg);
		budget_release(bud);
		*out = NULL;
		return -1;
	}
	res->events = (*out)->n_events;
	for (size_t i = 0; i < (*out)->n_events; i++) {
		unsigned k = (unsigned)(*out)->events[i]->kind_case;

		res->kinds[k < METRICS_EVENT_KINDS ? k : 0]++;
	}
	return 0;
}

int ingest_decode(const struct ingest_limits *lim, const char *content_encoding,
		  const uint8_t *body, size_t len, struct ingest_result *res)
{
	struct budget bud;
	ProtobufCAllocator alloc;
	Tokentap__V1__Batch *b;

	if (decode(lim, content_encoding, body, len, res, &bud, &alloc, &b) < 0)
		return -1;
	budget_release(&bud);
	return 0;
}

void ingest_body(struct store *st, const struct ingest_limits *lim, const char *content_encoding,
		 const uint8_t *body, size_t len, int64_t now_ms, struct ingest_result *res)
{
	struct budget bud;
	ProtobufCAllocator alloc;
	Tokentap__V1__Batch *b;
	char err[160];
	uint64_t t0;
	enum store_result sr;

	if (decode(lim, content_encoding, body, len, res, &bud, &alloc, &b) < 0)
		return;
	t0 = clock_mono_ns();
	sr = store_apply_batch(st, b, now_ms, err, sizeof(err));
	res->store_ns = clock_mono_ns() - t0;
	budget_release(&bud);
	switch (sr) {
	case STORE_APPLIED:
		res->status = INGEST_STORED;
		res->http_status = 200;
		snprintf(res->msg, sizeof(res->msg), "stored");
		break;
	case STORE_DUPLICATE:
		res->status = INGEST_DUPLICATE;
		res->http_status = 200;
		snprintf(res->msg, sizeof(res->msg), "duplicate");
		break;
	default:
		/* 503: the sensor keeps the batch and retries */
		res->status = INGEST_FAILED;
		res->reason = REJECT_STORE_ERROR;
		res->http_status = 503;
		snprintf(res->msg, sizeof(res->msg), "store error: %s", err);
		break;
	}
}
