/* SPDX-License-Identifier: Apache-2.0 */
#include "ingest.h"
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

struct budget {
	size_t left;
	int exhausted;
};

/* Each block carries its size in front, so free can give it back. */
union block_head {
	size_t size;
	max_align_t align;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	union block_head *h;

	if (size > b->left || size + sizeof(*h) > b->left) {
		b->exhausted = 1;
		return NULL;
	}
	h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size + sizeof(*h);
	b->left -= h->size;
	return h + 1;
}

static void budget_free(void *data, void *p)
{
	struct budget *b = data;
	union block_head *h;

	if (!p)
		return;
	h = (union block_head *)p - 1;
	b->left += h->size;
	free(h);
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
 * Decodes into *out (free with free_unpacked and alloc); 0 or -1 with res
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

	bud->left = pblen * DECODE_BUDGET_FACTOR + DECODE_BUDGET_BASE;
	bud->exhausted = 0;
	alloc->alloc = budget_alloc;
	alloc->free = budget_free;
	alloc->allocator_data = bud;
	*out = tokentap__v1__batch__unpack(alloc, pblen, pb);
	free(raw);
	if (!*out) {
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
		tokentap__v1__batch__free_unpacked(*out, alloc);
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
	tokentap__v1__batch__free_unpacked(b, &alloc);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	t0 = mono_ns();
	sr = store_apply_batch(st, b, now_ms, err, sizeof(err));
	res->store_ns = mono_ns() - t0;
	tokentap__v1__batch__free_unpacked(b, &alloc);
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
