/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming HTTP/1.x request-header parser for one direction (client to
 * server) of one connection. Pure logic: no I/O, no BPF.
 *
 * Bytes arrive in arbitrary pieces (one piece per captured write). The
 * parser accumulates a header block until the blank line, then hands the
 * parsed request to a callback. Pointers in the request are valid only
 * during the callback: the buffer holds secrets and is wiped afterwards.
 */
#ifndef TOKENTAP_HTTP1_H
#define TOKENTAP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEADERS 96

struct http1_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading/trailing whitespace trimmed, folds joined */
	size_t value_len;
};

struct http1_request {
	const char *method;
	size_t method_len;
	const char *target; /* request-target exactly as sent */
	size_t target_len;
	int version_minor; /* 0 or 1 (HTTP/1.0, HTTP/1.1) */
	struct http1_header headers[HTTP1_MAX_HEADERS];
	size_t n_headers;
	bool too_many_headers; /* headers past HTTP1_MAX_HEADERS were ignored */
};

struct http1_stats {
	uint64_t requests;  /* complete header blocks delivered */
	uint64_t oversize;  /* header blocks larger than max_header_bytes */
	uint64_t garbage;   /* bytes that are not a request where one was due */
};

enum http1_state {
	HTTP1_IDLE = 0,  /* waiting for a request line */
	HTTP1_HEADERS,   /* inside a header block */
	HTTP1_BODY,      /* skipping a Content-Length body */
	HTTP1_SKIP,      /* lost sync: ignore until http1_parser_reset() */
};

struct http1_parser {
	uint8_t *buf;      /* accumulated, not yet complete header block; NULL until needed */
	size_t len;
	size_t cap;        /* bytes allocated at buf: grows on demand up to max */
	size_t max;        /* max_header_bytes */
	enum http1_state state;
	uint64_t body_left;
	/* the request line, parsed when it arrived (offsets into buf): deliver takes it from here */
	struct http1_line {
		size_t method_len, target_off, target_len;
		int version_minor;
	} line;
	struct http1_stats stats;
};

typedef void (*http1_request_cb)(const struct http1_request *req, void *ctx);

/* Returns 0, or -1 if memory cannot be allocated. */
int http1_parser_init(struct http1_parser *p, size_t max_header_bytes);
/* Wipes and frees the buffer. */
void http1_parser_free(struct http1_parser *p);
/* Wipes any partial block and returns to HTTP1_IDLE (a new request starts). */
void http1_parser_reset(struct http1_parser *p);
/*
 * Feeds the next bytes of the stream. Calls cb once per complete request
 * header block, in order (pipelined requests in one piece give several
 * calls). Returns the number of requests delivered.
 */
int http1_parser_feed(struct http1_parser *p, const uint8_t *data, size_t len,
		      http1_request_cb cb, void *ctx);

/* True when data begins with an HTTP/1 method token followed by a space. */
bool http1_is_request_start(const uint8_t *data, size_t len);

/* An empty request: no method, target or headers (headers[] itself is left as it is). */
void http1_request_clear(struct http1_request *req);

/* Case-insensitive header lookup; returns the first match or NULL. */
const struct http1_header *http1_find_header(const struct http1_request *req,
					     const char *name);

#endif
