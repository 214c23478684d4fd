/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1 parser fuzz target. The stream is parsed twice, once split in two
 * at a position taken from the first byte and once byte by byte; both runs
 * must deliver the same requests and end in the same state. Parsed
 * requests also go through credential extraction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "http1.h"

struct run {
	int delivered;
	uint64_t digest; /* FNV-1a over every delivered request */
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ULL;
	}
}

static void check_header(const struct http1_header *h)
{
	if (!h->name || h->name_len == 0)
		abort();
	if (h->value_len && (h->value[0] == ' ' || h->value[h->value_len - 1] == ' '))
		abort(); /* values are trimmed */
}

static void on_request(const struct http1_request *req, void *ctx)
{
	static struct cred_list creds;
	struct run *r = ctx;
	char redacted[512];

	r->delivered++;
	if (req->n_headers > HTTP1_MAX_HEADERS || req->method_len == 0 || req->target_len == 0)
		abort();
	if (!http1_is_request_start((const uint8_t *)req->method, req->method_len + 1))
		abort();
	mix(&r->digest, req->method, req->method_len);
	mix(&r->digest, req->target, req->target_len);
	mix(&r->digest, &req->version_minor, sizeof(req->version_minor));
	for (size_t i = 0; i < req->n_headers; i++) {
		check_header(&req->headers[i]);
		mix(&r->digest, req->headers[i].name, req->headers[i].name_len);
		mix(&r->digest, "\0", 1);
		mix(&r->digest, req->headers[i].value, req->headers[i].value_len);
		mix(&r->digest, "\0", 1);
	}
	if (cred_extract(req, cred_config_default(), &creds) > CRED_MAX)
		abort();
	cred_list_wipe(&creds);
	if (cred_redact_target(req->target, req->target_len, redacted, sizeof(redacted)) >=
	    sizeof(redacted))
		abort();
}

/* After any run, bytes past len must be zero: nothing stale is kept. */
static void check_parser(const struct http1_parser *p)
{
	if (p->len > p->cap)
		abort();
	for (size_t i = p->len; i < p->cap; i++)
		if (p->buf[i])
			abort();
}

static void same(const struct http1_parser *a, const struct run *ra, const struct http1_parser *b,
		 const struct run *rb)
{
	if (ra->delivered != rb->delivered || ra->digest != rb->digest)
		abort();
	if (a->state != b->state || a->len != b->len || a->body_left != b->body_left)
		abort();
	if (memcmp(&a->stats, &b->stats, sizeof(a->stats)) != 0)
		abort();
	if (a->len && memcmp(a->buf, b->buf, a->len) != 0)
		abort();
	if ((uint64_t)ra->delivered != a->stats.requests)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_parser a, b;
	struct run ra = { 0, 14695981039346656037ULL }, rb = ra;
	size_t cap, cut;
	int n = 0;

	if (size < 2)
		return 0;
	/* The first byte picks the split, the second the header cap (64 B .. 16 KiB). */
	cap = 64 + (size_t)data[1] * 64;
	cut = (size_t)data[0] * (size - 2) / 255;
	data += 2;
	size -= 2;
	if (http1_parser_init(&a, cap) || http1_parser_init(&b, cap))
		abort();
	n += http1_parser_feed(&a, data, cut, on_request, &ra);
	n += http1_parser_feed(&a, data + cut, size - cut, on_request, &ra);
	if (n != ra.delivered)
		abort();
	for (size_t i = 0; i < size; i++)
		http1_parser_feed(&b, data + i, 1, on_request, &rb);
	check_parser(&a);
	check_parser(&b);
	same(&a, &ra, &b, &rb);
	http1_parser_reset(&a);
	if (a.len || a.state != HTTP1_IDLE)
		abort();
	check_parser(&a);
	http1_parser_free(&a);
	http1_parser_free(&b);
	return 0;
}
