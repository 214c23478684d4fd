/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential extraction fuzz target: the input is parsed as a request and
 * its credentials extracted; the raw input is also used as a target (query
 * parameters) and as an Authorization value. Every credential must point
 * into the request or the scratch area; redaction must never copy a value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "http1.h"

static struct cred_list creds;

static bool inside(const void *p, size_t n, const void *base, size_t len)
{
	const uint8_t *b = base, *q = p;

	return q >= b && n <= len && (size_t)(q - b) <= len - n;
}

static void check_list(const struct cred_list *l, const void *base, size_t len)
{
	if (l->n > CRED_MAX || l->scratch_used > sizeof(l->scratch))
		abort();
	for (size_t i = 0; i < l->n; i++) {
		const struct credential *c = &l->items[i];

		if (c->value_len == 0 || !c->value)
			abort();
		if (!inside(c->value, c->value_len, base, len) &&
		    !inside(c->value, c->value_len, l->scratch, l->scratch_used))
			abort();
		if (!memchr(c->header, '\0', sizeof(c->header)) ||
		    !memchr(c->scheme, '\0', sizeof(c->scheme)) ||
		    !memchr(c->aws_region, '\0', sizeof(c->aws_region)) ||
		    !memchr(c->aws_service, '\0', sizeof(c->aws_service)))
			abort();
	}
}

/* Redacted output: printable, bounded, and no byte follows '=' in the query but '&'. */
static void check_redact(const char *t, size_t len, size_t outcap)
{
	char out[1024];
	size_t n = cred_redact_target(t, len, out, outcap);
	bool in_query = false;

	if (outcap == 0) {
		if (n)
			abort();
		return;
	}
	if (n >= outcap || out[n] != '\0' || strlen(out) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (out[i] <= 0x20 || out[i] >= 0x7f)
			abort();
		if (out[i] == '?')
			in_query = true;
		if (in_query && out[i] == '=' && i + 1 < n && out[i + 1] != '&')
			abort();
	}
}


static void on_request(const struct http1_request *req, void *arg)
{
	const struct http1_parser *p = arg;

	cred_extract(req, cred_config_default(), &creds);
	check_list(&creds, p->buf, p->cap);
	cred_list_wipe(&creds);
	check_redact(req->target, req->target_len, 1024);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_parser p;
	struct http1_request *req;
	char *copy;

	if (http1_parser_init(&p, 65536))
		abort();
	http1_parser_feed(&p, data, size, on_request, &p);
	http1_parser_free(&p);

	/* The raw bytes as a target and as header values. */
	req = calloc(1, sizeof(*req));
	copy = malloc(size + 1);
	if (!req || !copy)
		abort();
	memcpy(copy, data, size);
	req->method = "GET";
	req->method_len = 3;
	req->target = copy;
	req->target_len = size;
	req->headers[0] = (struct http1_header){ "Authorization", 13, copy, size };
	req->headers[1] = (struct http1_header){ "Proxy-Authorization", 19, copy, size };
	req->headers[2] = (struct http1_header){ "X-Api-Key", 9, copy, size };
	req->n_headers = 3;
	cred_extract(req, cred_config_default(), &creds);
	check_list(&creds, copy, size);
	cred_list_wipe(&creds);
	for (size_t cap = 0; cap < 8; cap++)
		check_redact(copy, size, cap);
	check_redact(copy, size, size % 1024 + 1);
	check_redact(copy, size, 1024);
	free(copy);
	free(req);
	return 0;
}
