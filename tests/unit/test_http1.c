/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1 request-header parser: splits, pipelining, folding, bounds, garbage.
 * Fake tokens are built at run time and compared with memcmp only, so a
 * failing assertion never prints one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http1.h"

#define CAP_16K 16384
#define LOG_MAX 65536

/* Every delivered request, serialised, so whole runs can be compared. */
struct capture {
	char log[LOG_MAX];
	size_t log_len;
	int n;
	char last_method[16];
	char last_target[256];
	size_t last_n_headers;
	bool last_too_many;
	int last_version;
};

static void log_bytes(struct capture *c, const char *p, size_t n)
{
	if (c->log_len + n > sizeof(c->log))
		n = sizeof(c->log) - c->log_len;
	memcpy(c->log + c->log_len, p, n);
	c->log_len += n;
}

static void on_request(const struct http1_request *req, void *ctx)
{
	struct capture *c = ctx;
	char v[8];

	c->n++;
	log_bytes(c, req->method, req->method_len);
	log_bytes(c, "|", 1);
	log_bytes(c, req->target, req->target_len);
	snprintf(v, sizeof(v), "|%d\n", req->version_minor);
	log_bytes(c, v, strlen(v));
	for (size_t i = 0; i < req->n_headers; i++) {
		log_bytes(c, req->headers[i].name, req->headers[i].name_len);
		log_bytes(c, ":", 1);
		log_bytes(c, req->headers[i].value, req->headers[i].value_len);
		log_bytes(c, "\n", 1);
	}
	snprintf(c->last_method, sizeof(c->last_method), "%.*s", (int)req->method_len,
		 req->method);
	snprintf(c->last_target, sizeof(c->last_target), "%.*s", (int)req->target_len,
		 req->target);
	c->last_n_headers = req->n_headers;
	c->last_too_many = req->too_many_headers;
	c->last_version = req->version_minor;
}

static struct capture *capture_new(void)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	return c;
}

static int feed_str(struct http1_parser *p, const char *s, struct capture *c)
{
	return http1_parser_feed(p, (const uint8_t *)s, strlen(s), on_request, c);
}

/* Builds a token-shaped string at run time (no literal secret in the source). */
static void fake_token(char *out, size_t cap, const char *prefix, char fill)
{
	size_t n = strlen(prefix);

	assert_true(n + 37 <= cap);
	memcpy(out, prefix, n);
	for (size_t i = 0; i < 36; i++)
		out[n + i] = (char)(fill + (char)(i % 10));
	out[n + 36] = '\0';
}

static char sample[2048];
static size_t sample_len;
static char sample_token[64];

static void build_sample(void)
{
	fake_token(sample_token, sizeof(sample_token), "ghp" "_", '0');
	sample_len = (size_t)snprintf(sample, sizeof(sample),
		"\r\n"
		"GET /api/v1/items?access_token=%s&x=1 HTTP/1.1\r\n"
		"Host: example.test\r\n"
		"aUtHoRiZaTiOn:   Bearer %s  \r\n"
		"X-Folded: first\r\n"
		"  second\r\n"
		"\tthird  \r\n"
		"Accept: */*\n"
		"\r\n"
		"POST /upload HTTP/1.1\r\n"
		"Content-Length: 11\r\n"
		"\r\n"
		"hello\r\n\r\nxx"
		"GET /last HTTP/1.0\n"
		"X-Empty:\n"
		"\n"
		"PUT /partial HTTP/1.1\r\nHost: x",
		sample_token, sample_token);
	assert_true(sample_len < sizeof(sample));
}

static void run_pieces(const size_t *cuts, size_t n_cuts, struct capture *c,
		       struct http1_parser *p)
{
	size_t pos = 0;

	assert_int_equal(http1_parser_init(p, CAP_16K), 0);
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : sample_len;

		http1_parser_feed(p, (const uint8_t *)sample + pos, end - pos, on_request, c);
		pos = end;
	}
}

static void assert_same_run(const struct capture *a, const struct http1_parser *pa,
			    const struct capture *b, const struct http1_parser *pb)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->log_len, b->log_len);
	assert_true(memcmp(a->log, b->log, a->log_len) == 0);
	assert_int_equal(pa->state, pb->state);
	assert_int_equal(pa->len, pb->len);
	assert_int_equal(pa->stats.requests, pb->stats.requests);
	assert_int_equal(pa->stats.garbage, pb->stats.garbage);
	assert_int_equal(pa->stats.oversize, pb->stats.oversize);
}

static void test_sample_whole(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	static const char want_tail[] = "GET|/last|0\nX-Empty:\n";
	char want_auth[128];
	char want_fold[] = "X-Folded:first second third\n";

	(void)state;
	build_sample();
	run_pieces(NULL, 0, c, &p);
	assert_int_equal(c->n, 3);
	assert_int_equal(p.state, HTTP1_HEADERS);
	assert_int_equal(p.stats.requests, 3);
	assert_int_equal(p.stats.garbage, 0);
	snprintf(want_auth, sizeof(want_auth), "aUtHoRiZaTiOn:Bearer %s\n", sample_token);
	assert_non_null(memmem(c->log, c->log_len, want_auth, strlen(want_auth)));
	assert_non_null(memmem(c->log, c->log_len, want_fold, strlen(want_fold)));
	assert_non_null(memmem(c->log, c->log_len, "POST|/upload|1\nContent-Length:11\n", 33));
	assert_int_equal(c->log_len >= strlen(want_tail), 1);
	assert_memory_equal(c->log + c->log_len - strlen(want_tail), want_tail, strlen(want_tail));
	http1_parser_free(&p);
	free(c);
}

static void test_split_byte_by_byte(void **state)
{
	struct capture *ref = capture_new(), *c = capture_new();
	struct http1_parser pr, p;
	size_t *cuts;

	(void)state;
	build_sample();
	run_pieces(NULL, 0, ref, &pr);
	cuts = calloc(sample_len, sizeof(*cuts));
	assert_non_null(cuts);
	for (size_t i = 0; i + 1 < sample_len; i++)
		cuts[i] = i + 1;
	run_pieces(cuts, sample_len - 1, c, &p);
	assert_same_run(ref, &pr, c, &p);
	http1_parser_free(&pr);
	http1_parser_free(&p);
	free(cuts);
	free(ref);
	free(c);
}

static void test_split_two_pieces_every_offset(void **state)
{
	struct capture *ref = capture_new(), *c = capture_new();
	struct http1_parser pr, p;

	(void)state;
	build_sample();
	run_pieces(NULL, 0, ref, &pr);
	for (size_t cut = 0; cut <= sample_len; cut++) {
		memset(c, 0, sizeof(*c));
		run_pieces(&cut, 1, c, &p);
		assert_same_run(ref, &pr, c, &p);
		http1_parser_free(&p);
	}
	/* Three pieces too: every pair of cuts 7 bytes apart. */
	for (size_t cut = 0; cut + 7 <= sample_len; cut++) {
		size_t cuts[2] = { cut, cut + 7 };

		memset(c, 0, sizeof(*c));
		run_pieces(cuts, 2, c, &p);
		assert_same_run(ref, &pr, c, &p);
		http1_parser_free(&p);
	}
	http1_parser_free(&pr);
	free(ref);
	free(c);
}

static void test_pipelined_gets(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	assert_int_equal(feed_str(&p,
				  "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
				  "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
				  "GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
				  c),
			 3);
	assert_int_equal(c->n, 3);
	assert_string_equal(c->last_target, "/c");
	assert_non_null(strstr(c->log, "GET|/a|1\nHost:h\nGET|/b|1\nHost:h\nGET|/c|1\n"));
	assert_int_equal(p.state, HTTP1_IDLE);
	assert_int_equal(p.len, 0);
	http1_parser_free(&p);
	free(c);
}

static void test_post_body_then_get(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	/* The body looks like a request: it must be skipped, not parsed. */
	assert_int_equal(feed_str(&p,
				  "POST /f HTTP/1.1\r\ncontent-length: 28\r\n\r\n"
				  "GET /evil HTTP/1.1\r\nX: y\r\n\r\n"
				  "GET /next HTTP/1.1\r\n\r\n",
				  c),
			 2);
	assert_string_equal(c->last_target, "/next");
	assert_null(strstr(c->log, "evil"));

	/* Body split over feeds, the next request right after it. */
	memset(c, 0, sizeof(*c));
	assert_int_equal(feed_str(&p, "PUT /g HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123", c), 1);
	assert_int_equal(p.state, HTTP1_BODY);
	assert_int_equal(p.body_left, 6);
	assert_int_equal(feed_str(&p, "456", c), 0);
	assert_int_equal(feed_str(&p, "789DELETE /h HTTP/1.1\r\n\r\n", c), 1);
	assert_string_equal(c->last_method, "DELETE");
	assert_int_equal(p.state, HTTP1_IDLE);
	http1_parser_free(&p);
	free(c);
}

static void test_header_case(void **state)
{
	struct http1_request req;
	static const char *names[] = { "AUTHORIZATION", "authorization", "AuThOrIzAtIoN" };

	(void)state;
	memset(&req, 0, sizeof(req));
	req.headers[0] = (struct http1_header){ "Host", 4, "h", 1 };
	req.headers[1] = (struct http1_header){ "aUtHoRiZaTiOn", 13, "x", 1 };
	req.n_headers = 2;
	for (size_t i = 0; i < 3; i++)
		assert_ptr_equal(http1_find_header(&req, names[i]), &req.headers[1]);
	assert_null(http1_find_header(&req, "authorizatio"));
	assert_null(http1_find_header(&req, "x-api-key"));
	assert_ptr_equal(http1_find_header(&req, "HOST"), &req.headers[0]);
}

static void test_obs_fold(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	assert_int_equal(feed_str(&p,
				  "GET / HTTP/1.1\r\n"
				  "X-A: one\r\n"
				  " \t two \r\n"
				  "\t\r\n"
				  "\tthree\r\n"
				  "X-B:\r\n"
				  "  late\r\n"
				  "X-C:   trimmed\t \r\n"
				  "\r\n",
				  c),
			 1);
	assert_int_equal(c->last_n_headers, 3);
	assert_non_null(strstr(c->log, "X-A:one two three\nX-B:late\nX-C:trimmed\n"));
	http1_parser_free(&p);
	free(c);
}

static void test_oversize(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	char big[300];

	(void)state;
	assert_int_equal(http1_parser_init(&p, 128), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nCookie: ", c), 0);
	assert_int_equal(feed_str(&p, big, c), 0);
	assert_int_equal(p.stats.oversize, 1);
	assert_int_equal(p.state, HTTP1_SKIP);
	assert_int_equal(p.len, 0);
	for (size_t i = 0; i < p.cap; i++)
		assert_int_equal(p.buf[i], 0);
	/* Ignored until reset; then a new request parses. */
	assert_int_equal(feed_str(&p, "\r\n\r\nGET /x HTTP/1.1\r\n\r\n", c), 0);
	http1_parser_reset(&p);
	assert_int_equal(feed_str(&p, "GET /x HTTP/1.1\r\n\r\n", c), 1);
	assert_int_equal(c->n, 1);

	/* A block of exactly cap bytes fits; one more byte does not. */
	http1_parser_free(&p);
	assert_int_equal(http1_parser_init(&p, 20), 0);
	assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nA:\r\n\r\n", c), 0);
	assert_int_equal(p.stats.oversize, 1);
	http1_parser_reset(&p);
	assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nA:\n\n", c), 1);
	assert_int_equal(p.stats.oversize, 1);
	http1_parser_free(&p);
	free(c);
}

static void test_garbage(void **state)
{
	static const char *bad[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"GETX / HTTP/1.1\r\n\r\n",
		"get / HTTP/1.1\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		"GET /a\tb HTTP/1.1\r\n\r\n",
		"GET /a\rb HTTP/1.1\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET\r\n\r\n",
		"GET / HTTP/1.\r\n\r\n",
		"GET /\x01",
	};
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http1_parser_reset(&p);
		assert_int_equal(feed_str(&p, bad[i], c), 0);
		assert_int_equal(p.state, HTTP1_SKIP);
		assert_int_equal(p.stats.garbage, i + 1);
		assert_int_equal(p.len, 0);
	}
	/* NUL inside the target. */
	http1_parser_reset(&p);
	assert_int_equal(http1_parser_feed(&p, (const uint8_t *)"GET /\0 HTTP/1.1\r\n\r\n", 19,
					   on_request, c),
			 0);
	assert_int_equal(p.state, HTTP1_SKIP);
	assert_int_equal(c->n, 0);
	http1_parser_free(&p);
	free(c);
}

static void test_big_cookie_then_authorization(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	char *cookie = malloc(8193);
	char tok[64];
	char want[128];

	(void)state;
	assert_non_null(cookie);
	memset(cookie, 'c', 8192);
	cookie[8192] = '\0';
	fake_token(tok, sizeof(tok), "glpat" "-", 'A');
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	feed_str(&p, "GET /repo HTTP/1.1\r\nHost: git.test\r\nCookie: session=", c);
	feed_str(&p, cookie, c);
	feed_str(&p, "\r\nAuthorization: Bearer ", c);
	feed_str(&p, tok, c);
	assert_int_equal(feed_str(&p, "\r\n\r\n", c), 1);
	assert_int_equal(p.stats.oversize, 0);
	snprintf(want, sizeof(want), "Authorization:Bearer %s\n", tok);
	assert_non_null(memmem(c->log, c->log_len, want, strlen(want)));
	http1_parser_free(&p);
	free(cookie);
	free(c);
}

static void test_lf_only(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	assert_int_equal(feed_str(&p, "HEAD /lf HTTP/1.0\nHost: a\nX-K: v\n\nOPTIONS * HTTP/1.1\n\n",
				  c),
			 2);
	assert_non_null(strstr(c->log, "HEAD|/lf|0\nHost:a\nX-K:v\nOPTIONS|*|1\n"));
	http1_parser_free(&p);
	free(c);
}

static void test_chunked_and_tunnel_skip(void **state)
{
	static const char *lost[] = {
		"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n",
		"POST /c HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"POST /c HTTP/1.1\r\nContent-Length: -1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	};
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
		http1_parser_reset(&p);
		assert_int_equal(feed_str(&p, lost[i], c), 1);
		assert_int_equal(p.state, HTTP1_SKIP);
	}
	assert_int_equal(p.stats.garbage, 0);
	http1_parser_free(&p);
	free(c);
}

static void test_too_many_headers(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	char line[32];

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	feed_str(&p, "POST / HTTP/1.1\r\n", c);
	for (int i = 0; i < HTTP1_MAX_HEADERS + 10; i++) {
		snprintf(line, sizeof(line), "X-H%d: %d\r\n", i, i);
		feed_str(&p, line, c);
	}
	/* Framing headers past the limit still count. */
	assert_int_equal(feed_str(&p, "Content-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\n\r\n", c), 2);
	assert_int_equal(c->n, 2);
	http1_parser_free(&p);
	free(c);
	c = capture_new();
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	feed_str(&p, "GET / HTTP/1.1\r\n", c);
	for (int i = 0; i < HTTP1_MAX_HEADERS + 1; i++)
		feed_str(&p, "A: b\r\n", c);
	assert_int_equal(feed_str(&p, "\r\n", c), 1);
	assert_int_equal(c->last_n_headers, HTTP1_MAX_HEADERS);
	assert_true(c->last_too_many);
	http1_parser_free(&p);
	free(c);
}

static void test_malformed_header_lines_ignored(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, CAP_16K), 0);
	assert_int_equal(feed_str(&p,
				  "GET / HTTP/1.1\r\n"
				  " leading fold\r\n"
				  "no colon here\r\n"
				  ": empty name\r\n"
				  "Bad Name: v\r\n"
				  "Good: v\r\n"
				  "\r\n",
				  c),
			 1);
	assert_int_equal(c->last_n_headers, 1);
	assert_non_null(strstr(c->log, "GET|/|1\nGood:v\n"));
	http1_parser_free(&p);
	free(c);
}

/*
 * The buffer starts empty and grows with the block: a 3000-byte header
 * fed 7 bytes at a time crosses several growths, parses whole, and leaves
 * no byte of it behind; a parser that never saw a byte holds no buffer.
 */
static void test_buffer_grows(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	static char req[3200], big[3001], want[3100];
	size_t n;

	(void)state;
	assert_int_equal(http1_parser_init(&p, 16384), 0);
	assert_null(p.buf);
	assert_int_equal(p.cap, 0);
	memset(big, 'q', sizeof(big) - 1);
	snprintf(req, sizeof(req), "GET /g HTTP/1.1\r\nX-Big: %s\r\n\r\n", big);
	n = strlen(req);
	for (size_t off = 0; off < n; off += 7)
		http1_parser_feed(&p, (const uint8_t *)req + off, n - off < 7 ? n - off : 7,
				  on_request, c);
	assert_int_equal(c->n, 1);
	snprintf(want, sizeof(want), "GET|/g|1\nX-Big:%s\n", big);
	assert_int_equal(c->log_len, strlen(want));
	assert_memory_equal(c->log, want, c->log_len);
	assert_true(p.cap >= n && p.cap <= 16384);
	assert_int_equal(p.len, 0);
	for (size_t i = 0; i < p.cap; i++)
		assert_int_equal(p.buf[i], 0);
	http1_parser_free(&p);
	free(c);
}

static void test_buffer_wiped(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	char tok[64], req[256];

	(void)state;
	fake_token(tok, sizeof(tok), "xoxb" "-", 'a');
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\nGET /n", tok);
	assert_int_equal(http1_parser_init(&p, 512), 0);
	assert_int_equal(feed_str(&p, req, c), 1);
	assert_int_equal(p.len, 6);
	assert_null(memmem(p.buf, p.cap, tok, strlen(tok)));
	for (size_t i = p.len; i < p.cap; i++)
		assert_int_equal(p.buf[i], 0);
	http1_parser_reset(&p);
	for (size_t i = 0; i < p.cap; i++)
		assert_int_equal(p.buf[i], 0);
	http1_parser_free(&p);
	assert_null(p.buf);
	free(c);
}

static void test_is_request_start(void **state)
{
	static const char *yes[] = { "GET /", "POST ", "PUT x", "DELETE /", "HEAD /",
				     "OPTIONS *", "PATCH /", "CONNECT h", "TRACE /" };
	static const char *no[] = { "GET", "GET/", "get /", "GE", "", "PRI * HTTP/2.0",
				    "POSTS /", "\x16\x03" };

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(http1_is_request_start((const uint8_t *)yes[i], strlen(yes[i])));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(http1_is_request_start((const uint8_t *)no[i], strlen(no[i])));
	assert_false(http1_is_request_start(NULL, 5));
}

static void test_linear_byte_by_byte(void **state)
{
	struct capture *c = capture_new();
	struct http1_parser p;
	size_t cap = 1 << 20;
	char *big = malloc(cap);

	/* A 1 MiB header block fed one byte at a time stays fast (no rescans). */
	(void)state;
	assert_non_null(big);
	memset(big, 'v', cap);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(big + cap - 4, "\r\n\r\n", 4);
	assert_int_equal(http1_parser_init(&p, cap), 0);
	for (size_t i = 0; i < cap; i++)
		http1_parser_feed(&p, (const uint8_t *)big + i, 1, on_request, c);
	assert_int_equal(c->n, 1);
	http1_parser_free(&p);
	free(big);
	free(c);
}

static void test_init_errors(void **state)
{
	struct http1_parser p;

	(void)state;
	assert_int_equal(http1_parser_init(&p, 0), -1);
	assert_int_equal(http1_parser_init(NULL, 10), -1);
	assert_int_equal(http1_parser_feed(NULL, (const uint8_t *)"x", 1, NULL, NULL), 0);
	assert_int_equal(http1_parser_init(&p, 64), 0);
	/* A NULL callback still counts requests. */
	assert_int_equal(http1_parser_feed(&p, (const uint8_t *)"GET / HTTP/1.1\n\n", 16, NULL,
					   NULL),
			 1);
	assert_int_equal(p.stats.requests, 1);
	http1_parser_free(&p);
	http1_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_whole),
		cmocka_unit_test(test_split_byte_by_byte),
		cmocka_unit_test(test_split_two_pieces_every_offset),
		cmocka_unit_test(test_pipelined_gets),
		cmocka_unit_test(test_post_body_then_get),
		cmocka_unit_test(test_header_case),
		cmocka_unit_test(test_obs_fold),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_big_cookie_then_authorization),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_chunked_and_tunnel_skip),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_malformed_header_lines_ignored),
		cmocka_unit_test(test_buffer_wiped),
		cmocka_unit_test(test_is_request_start),
		cmocka_unit_test(test_linear_byte_by_byte),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_buffer_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
