/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming HTTP/1.x request-header parser (see http1.h).
 *
 * Bytes are copied into one bounded buffer until the blank line that ends
 * the header block. Each feed scans only the bytes it added (a line end is
 * recognised by looking back at most two bytes), so a block that arrives
 * one byte at a time costs linear time. After the callback the block is
 * wiped: it holds credentials.
 */
#include "http1.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "wipe.h"

struct method {
	const char *name;
	size_t len;
};

#define METHOD(s) { s, sizeof(s) - 1 }
static const struct method methods[] = {
	METHOD("GET"),	   METHOD("POST"),    METHOD("PUT"),
	METHOD("DELETE"),  METHOD("HEAD"),    METHOD("OPTIONS"),
	METHOD("PATCH"),   METHOD("CONNECT"), METHOD("TRACE"),
};
#undef METHOD
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))
/* Longest method plus its space ("OPTIONS ", "CONNECT "). */
#define METHOD_PREFIX_MAX 8

/* What the header block says about the bytes that follow it. */
struct framing {
	bool has_length;
	uint64_t length;
	bool lost; /* chunked, unknown or conflicting framing, tunnel, upgrade */
};

/* A header whose value may still grow through obsolete line folding. */
struct pending {
	bool active;
	const char *name;
	size_t name_len;
	uint8_t *value;
	size_t value_len;
	struct http1_header *stored; /* NULL when past HTTP1_MAX_HEADERS */
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* Every header of every request meets these: the literal's length is known, no strlen. */
#define NAME_IS(a, alen, lit) name_eq((a), (alen), (lit), sizeof(lit) - 1)

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar: the only bytes allowed in a header name. */
static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Bytes never valid in a request line: controls (CR only before LF). */
static bool is_line_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\r') || c == 0x7f;
}

static void trim(uint8_t **s, size_t *n)
{
	while (*n && is_ows((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ows((*s)[*n - 1]))
		(*n)--;
}

bool http1_is_request_start(const uint8_t *data, size_t len)
{
	if (!data)
		return false;
	for (size_t i = 0; i < N_METHODS; i++) {
		size_t m = methods[i].len;

		if (len > m && data[m] == ' ' && memcmp(data, methods[i].name, m) == 0)
			return true;
	}
	return false;
}

/* True while the first bytes may still become "METHOD ". */
static bool is_method_prefix(const uint8_t *data, size_t len)
{
	if (len > METHOD_PREFIX_MAX)
		len = METHOD_PREFIX_MAX;
	for (size_t i = 0; i < N_METHODS; i++) {
		size_t m = methods[i].len;
		size_t n = len < m ? len : m;

		if (memcmp(data, methods[i].name, n) != 0)
			continue;
		if (len <= m || data[m] == ' ')
			return true;
	}
	return false;
}

/* Parses "METHOD SP target SP HTTP/1.d" (line without its line end) into out. */
static bool parse_request_line(const uint8_t *line, size_t n, struct http1_line *out)
{
	static const char proto[] = "HTTP/1.";
	const size_t plen = sizeof(proto) - 1;
	const uint8_t *sp1 = memchr(line, ' ', n);
	size_t mlen, tstart, tlen = 0;
	bool known = false;

	if (!sp1)
		return false;
	mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < N_METHODS; i++)
		if (mlen == methods[i].len && memcmp(line, methods[i].name, mlen) == 0) {
			known = true;
			break;
		}
	if (!known)
		return false;
	tstart = mlen + 1;
	while (tstart + tlen < n && line[tstart + tlen] != ' ') {
		uint8_t c = line[tstart + tlen];

		if (c < 0x21 || c == 0x7f)
			return false;
		tlen++;
	}
	if (tlen == 0 || tstart + tlen + 1 + plen + 1 != n)
		return false;
	if (memcmp(line + tstart + tlen + 1, proto, plen) != 0)
		return false;
	if (line[n - 1] < '0' || line[n - 1] > '9')
		return false;
	out->method_len = mlen;
	out->target_off = tstart;
	out->target_len = tlen;
	out->version_minor = line[n - 1] - '0';
	return true;
}

static void wipe_buffer(struct http1_parser *p)
{
	secure_wipe(p->buf, p->len);
	p->len = 0;
}

int http1_parser_init(struct http1_parser *p, size_t max_header_bytes)
{
	if (!p)
		return -1;
	memset(p, 0, sizeof(*p));
	if (max_header_bytes == 0)
		return -1;
	/*
	 * The buffer is allocated when bytes arrive and grows with the block:
	 * a sensor holds a parser per connection, and most header blocks are
	 * far below max_header_bytes.
	 */
	p->max = max_header_bytes;
	p->state = HTTP1_IDLE;
	return 0;
}

/*
 * Room for need bytes (need <= max). calloc: bytes past len are always
 * zero, so wiping len bytes suffices; the old buffer is wiped before it is
 * freed. -1 when out of memory.
 */
static int reserve(struct http1_parser *p, size_t need)
{
	size_t cap = p->cap ? p->cap : 512;
	uint8_t *b;

	if (need <= p->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > p->max)
		cap = p->max;
	b = calloc(1, cap);
	if (!b)
		return -1;
	if (p->buf) {
		memcpy(b, p->buf, p->len);
		secure_wipe(p->buf, p->cap);
		free(p->buf);
	}
	p->buf = b;
	p->cap = cap;
	return 0;
}

void http1_parser_free(struct http1_parser *p)
{
	if (!p)
		return;
	if (p->buf) {
		secure_wipe(p->buf, p->cap);
		free(p->buf);
	}
	memset(p, 0, sizeof(*p));
}

void http1_parser_reset(struct http1_parser *p)
{
	if (!p || !p->max)
		return;
	wipe_buffer(p);
	p->state = HTTP1_IDLE;
	p->body_left = 0;
}

const struct http1_header *http1_find_header(const struct http1_request *req, const char *name)
{
	if (!req || !name)
		return NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < req->n_headers; i++)
		if (name_eq(req->headers[i].name, req->headers[i].name_len, name, len))
			return &req->headers[i];
	return NULL;
}

static bool parse_u64(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* A header's value is final: note what it says about message framing. */
static void finish_header(struct pending *h, struct framing *f)
{
	uint64_t n = 0;

	if (!h->active)
		return;
	if (h->stored)
		h->stored->value_len = h->value_len;
	if (NAME_IS(h->name, h->name_len, "content-length")) {
		if (!parse_u64(h->value, h->value_len, &n) || (f->has_length && f->length != n))
			f->lost = true;
		f->has_length = true;
		f->length = n;
	} else if (NAME_IS(h->name, h->name_len, "transfer-encoding") ||
		   NAME_IS(h->name, h->name_len, "upgrade")) {
		/* Chunked bodies are not decoded, and an upgraded stream is no longer HTTP/1. */
		f->lost = true;
	}
	h->active = false;
}

/* Obsolete line folding: append the continuation to the value with one SP. */
static void fold_into(struct pending *h, uint8_t *cont, size_t n)
{
	trim(&cont, &n);
	if (!h->active || n == 0)
		return;
	/* The value ends before the line end that precedes cont, so the join moves bytes left. */
	if (h->value_len) {
		h->value[h->value_len] = ' ';
		h->value_len++;
	}
	memmove(h->value + h->value_len, cont, n);
	h->value_len += n;
}

static void start_header(struct pending *h, struct http1_request *req, uint8_t *line, size_t n)
{
	uint8_t *colon = memchr(line, ':', n);
	uint8_t *value;
	size_t name_len, value_len;

	h->active = false;
	if (!colon || colon == line)
		return;
	name_len = (size_t)(colon - line);
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar(line[i]))
			return; /* malformed line: ignored, the block stays in sync */
	value = colon + 1;
	value_len = n - name_len - 1;
	trim(&value, &value_len);
	h->active = true;
	h->name = (const char *)line;
	h->name_len = name_len;
	h->value = value;
	h->value_len = value_len;
	h->stored = NULL;
	if (req->n_headers < HTTP1_MAX_HEADERS) {
		h->stored = &req->headers[req->n_headers++];
		h->stored->name = h->name;
		h->stored->name_len = name_len;
		h->stored->value = (const char *)value;
		h->stored->value_len = value_len;
	} else {
		req->too_many_headers = true;
	}
}

/*
 * Parses buf[0..end), a complete header block. Its request line was parsed
 * into line when it arrived and is not parsed again.
 */
static void parse_block(uint8_t *buf, size_t end, const struct http1_line *line,
			struct http1_request *req, struct framing *f)
{
	struct pending h = { 0 };
	size_t pos = 0;
	bool first = true;

	while (pos < end) {
		uint8_t *nl = memchr(buf + pos, '\n', end - pos);
		size_t next, n;

		if (!nl)
			break;
		next = (size_t)(nl - buf) + 1;
		n = next - 1 - pos;
		if (n && buf[pos + n - 1] == '\r')
			n--;
		if (first) {
			req->method = (const char *)buf;
			req->method_len = line->method_len;
			req->target = (const char *)buf + line->target_off;
			req->target_len = line->target_len;
			req->version_minor = line->version_minor;
			first = false;
		} else if (n == 0) {
			break;
		} else if (is_ows(buf[pos])) {
			fold_into(&h, buf + pos, n);
		} else {
			finish_header(&h, f);
			start_header(&h, req, buf + pos, n);
		}
		pos = next;
	}
	finish_header(&h, f);
	if (req->method_len == 7 && memcmp(req->method, "CONNECT", 7) == 0)
		f->lost = true; /* the rest of the stream is a tunnel */
}

/*
 * Request line still incomplete: checks bytes from old on. Returns -1 for
 * garbage, 1 when the line is complete and valid, 0 when more is needed.
 */
static int check_request_line(struct http1_parser *p, size_t old)
{
	const uint8_t *nl;
	size_t n;

	if (!is_method_prefix(p->buf, p->len))
		return -1;
	/*
	 * A complete line is left to parse_request_line, which accepts no
	 * control byte anywhere in it; only an incomplete one is scanned for
	 * them here, so that garbage is refused before its line ends.
	 */
	nl = memchr(p->buf + old, '\n', p->len - old);
	if (!nl) {
		for (size_t i = old; i < p->len; i++)
			if (is_line_ctl(p->buf[i]))
				return -1;
		return 0;
	}
	n = (size_t)(nl - p->buf);
	if (n && p->buf[n - 1] == '\r')
		n--;
	return parse_request_line(p->buf, n, &p->line) ? 1 : -1;
}

/*
 * Byte at distance back before data[i], where data continues the buffer;
 * 0 when that is before the start of the block.
 */
static uint8_t byte_before(const struct http1_parser *p, const uint8_t *data, size_t i,
			   size_t back)
{
	if (i >= back)
		return data[i - back];
	if (p->len >= back - i)
		return p->buf[p->len - (back - i)];
	return 0;
}

/*
 * Length of data up to and including the blank line that ends the block,
 * or 0. The block never starts with CR or LF (they are skipped before a
 * request line), so the first line can never look blank.
 */
static size_t find_block_end(const struct http1_parser *p, const uint8_t *data, size_t n)
{
	const uint8_t *nl;
	size_t i = 0;

	while (i < n && (nl = memchr(data + i, '\n', n - i)) != NULL) {
		uint8_t b1;

		i = (size_t)(nl - data);
		b1 = byte_before(p, data, i, 1);
		if (b1 == '\n' || (b1 == '\r' && byte_before(p, data, i, 2) == '\n'))
			return i + 1;
		i++;
	}
	return 0;
}

/*
 * All but the header array (3 KiB): entries past n_headers are never
 * read, and clearing it per request cost more than parsing it.
 */
void http1_request_clear(struct http1_request *req)
{
	memset(req, 0, offsetof(struct http1_request, headers));
	memset(&req->n_headers, 0, sizeof(*req) - offsetof(struct http1_request, n_headers));
}

static void deliver(struct http1_parser *p, size_t end, http1_request_cb cb, void *ctx)
{
	struct http1_request req;
	struct framing f = { 0 };

	http1_request_clear(&req);
	parse_block(p->buf, end, &p->line, &req, &f);
	p->stats.requests++;
	if (cb)
		cb(&req, ctx);
	wipe_buffer(p);
	if (f.lost) {
		p->state = HTTP1_SKIP;
	} else if (f.has_length && f.length > 0) {
		p->state = HTTP1_BODY;
		p->body_left = f.length;
	} else {
		p->state = HTTP1_IDLE;
	}
}

/* Lost sync: drop what is buffered and ignore the stream until a reset. */
static void lose_sync(struct http1_parser *p, uint64_t *counter)
{
	(*counter)++;
	wipe_buffer(p);
	p->state = HTTP1_SKIP;
}

/*
 * Takes header bytes from data into the buffer. Returns how many bytes of
 * data were consumed; *done is set when a request was delivered.
 */
static size_t take_header_bytes(struct http1_parser *p, const uint8_t *data, size_t avail,
				http1_request_cb cb, void *ctx, bool *done)
{
	size_t old = p->len;
	size_t n = p->max - p->len;
	size_t end;

	if (n > avail)
		n = avail;
	/* Copy only up to the block's end: what follows belongs to the next message. */
	end = find_block_end(p, data, n);
	if (end)
		n = end;
	if (n == 0 || reserve(p, old + n) != 0) {
		lose_sync(p, &p->stats.oversize);
		return avail;
	}
	memcpy(p->buf + old, data, n);
	p->len += n;
	if (p->state == HTTP1_IDLE) {
		int r = check_request_line(p, old);

		if (r < 0) {
			lose_sync(p, &p->stats.garbage);
			return avail;
		}
		if (r > 0)
			p->state = HTTP1_HEADERS;
	}
	if (end) {
		/* The block's last line end follows the request line's, so r was 1. */
		deliver(p, p->len, cb, ctx);
		*done = true;
		return n;
	}
	if (p->len == p->max) {
		lose_sync(p, &p->stats.oversize);
		return avail;
	}
	return n;
}

int http1_parser_feed(struct http1_parser *p, const uint8_t *data, size_t len,
		      http1_request_cb cb, void *ctx)
{
	size_t off = 0;
	int delivered = 0;

	if (!p || !p->max || !data)
		return 0;
	while (off < len && p->state != HTTP1_SKIP) {
		bool done = false;

		if (p->state == HTTP1_BODY) {
			uint64_t take = len - off;

			if (take > p->body_left)
				take = p->body_left;
			off += (size_t)take;
			p->body_left -= take;
			if (p->body_left == 0)
				p->state = HTTP1_IDLE;
			continue;
		}
		/* Empty lines before a request line are allowed (RFC 9112 2.2). */
		if (p->state == HTTP1_IDLE && p->len == 0 &&
		    (data[off] == '\r' || data[off] == '\n')) {
			off++;
			continue;
		}
		off += take_header_bytes(p, data + off, len - off, cb, ctx, &done);
		if (done)
			delivered++;
	}
	return delivered;
}
