/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector over HTTP (in-process server, libcurl client): batches
 * stored and deduplicated; unauthenticated, wrong token, wrong content
 * type, garbage, gzip bomb, oversized and truncated bodies each get their
 * 4xx with a JSON error, are counted in /metrics, and store nothing; the
 * read endpoints; `serve` refusing unsafe or incomplete options. A refusal
 * decided before the body is read still reaches a client that keeps
 * sending (at once, in slow pieces, or after 100-continue), every time; a
 * body past the drain bound gets its connection closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "batch_fixture.h"
#include "collector_http.h"
#include "serve_cmd.h"
#include "http_server.h"
#include "log.h"
#include "store.h"
#include "store_backends.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define T0 1767225600000LL
#define TOKEN_A "sensor-token-A-for-tests"
#define TOKEN_B "sensor-token-B-for-tests"
#define MAX_BODY (256 * 1024)   /* the server's limit; it drains up to 4 times this */

static char dir[64], authfile[96], emptyfile[96], base[64];
static struct store *st;
static struct server *srv;
static struct metrics metrics;
static struct auth sensor_auth;

static const char *const good_headers[] = {
	"Content-Type: application/x-protobuf", "Content-Encoding: gzip",
	"Authorization: Bearer " TOKEN_A, NULL,
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The group's database: SQLite in memory, then a fresh PostgreSQL one. */
static const char *store_path = ":memory:";

static int setup(void **state)
{
	struct server_config cfg = { 0 };
	char err[256];

	(void)state;
	/* the collector's lines, as the daemon writes them */
	log_setup("tokentap-collector", LOG_FORMAT_TEXT);
	log_text_levels(false);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(dir, sizeof(dir), "/tmp/tokentap-http-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(authfile, sizeof(authfile), "%s/sensor-tokens", dir);
	snprintf(emptyfile, sizeof(emptyfile), "%s/empty", dir);
	write_text(authfile, "# sensors\n" TOKEN_A "\n\n   " TOKEN_B "  \r\n");
	write_text(emptyfile, "# nothing here\n\n");
	if (auth_load(&sensor_auth, authfile, err, sizeof(err)) < 0 || sensor_auth.n != 2)
		return -1;
	st = store_open(store_path, 0, err, sizeof(err));
	if (!st)
		return -1;
	metrics_init(&metrics);
	cfg.listen = "127.0.0.1:0";
	cfg.store = st;
	cfg.sensor_auth = &sensor_auth;
	cfg.metrics = &metrics;
	cfg.limits.max_body = MAX_BODY;
	cfg.limits.max_decompressed = 1024 * 1024;
	cfg.threads = 2;
	srv = server_start(&cfg, err, sizeof(err));
	if (!srv)
		return -1;
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", server_port(srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	server_stop(srv, 1000);
	store_close(st);
	auth_free(&sensor_auth);
	unlink(authfile);
	unlink(emptyfile);
	rmdir(dir);
	curl_global_cleanup();
	return 0;
}

static void req(const char *method, const char *path, const char *const *headers,
		const void *body, size_t len, struct http_reply *r)
{
	char url[256];

	snprintf(url, sizeof(url), "%s%s", base, path);
	if (http_do(method, url, headers, body, len, r) < 0)
		fail_msg("%s %s: no answer", method, path);
}

static uint8_t *batch_body(uint64_t seq, bool gzip, size_t *len)
{
	Tokentap__V1__Batch *b = fx_batch("sensor-http", "node-h", seq);
	uint8_t *p;

	fx_add_seen(b, FP_A, "github_pat", 10, "/usr/bin/curl", "1.2.3.4:443", "api.github.com", T0);
	fx_add_usage(b, FP_A, "github_pat", 10, "/usr/bin/curl", "1.2.3.4:443", "api.github.com", 6,
		     T0 + 10);
	p = fx_pack(b, gzip, len);
	fx_free(b);
	return p;
}

static size_t token_count(void)
{
	struct http_reply r;
	struct json_object *a;
	size_t n;

	req("GET", "/v1/tokens", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	a = json_tokener_parse(r.body);
	assert_non_null(a);
	n = json_object_array_length(a);
	json_object_put(a);
	http_reply_free(&r);
	return n;
}

/* A refusal: the status, a JSON {"error": ...}, no raw token echoed. */
static void assert_refused(struct http_reply *r, long status)
{
	struct json_object *o = json_tokener_parse(r->body);
	struct json_object *e;

	if (r->status != status)
		fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "error", &e));
	assert_true(strlen(json_object_get_string(e)) > 0);
	assert_null(strstr(r->body, "sensor-token"));
	json_object_put(o);
	http_reply_free(r);
}

static void post(const char *const *headers, const void *body, size_t len, struct http_reply *r)
{
	req("POST", "/v1/batches", headers, body, len, r);
}

static void test_hostile_posts_store_nothing(void **state)
{
	static const char *const no_auth[] = { "Content-Type: application/x-protobuf",
					       "Content-Encoding: gzip", NULL };
	static const char *const basic[] = { "Content-Type: application/x-protobuf",
					     "Authorization: Basic dXNlcjpwYXNz", NULL };
	static const char *const wrong[] = { "Content-Type: application/x-protobuf",
					     "Content-Encoding: gzip",
					     "Authorization: Bearer sensor-token-C", NULL };
	static const char *const text[] = { "Content-Type: text/plain", "Content-Encoding: gzip",
					    "Authorization: Bearer " TOKEN_A, NULL };
	static const char *const no_ct[] = { "Content-Type:", "Authorization: Bearer " TOKEN_A,
					     NULL };
	static const char *const brotli[] = { "Content-Type: application/x-protobuf",
					      "Content-Encoding: br",
					      "Authorization: Bearer " TOKEN_A, NULL };
	static const char *const identity[] = { "Content-Type: application/x-protobuf",
						"Authorization: Bearer " TOKEN_A, NULL };
	struct http_reply r;
	size_t len, zlen, big = 300 * 1024, bomb_raw = 8u << 20;
	uint8_t *body = batch_body(1, true, &len), *raw, *zeros, *bomb, *noise;

	(void)state;
	post(no_auth, body, len, &r);
	assert_refused(&r, 401);
	post(basic, body, len, &r);
	assert_refused(&r, 401);
	post(wrong, body, len, &r);
	assert_refused(&r, 403);
	post(text, body, len, &r);
	assert_refused(&r, 415);
	post(no_ct, body, len, &r);
	assert_refused(&r, 415);
	post(brotli, body, len, &r);
	assert_refused(&r, 415);
	post(good_headers, "garbage, not gzip", 17, &r);
	assert_refused(&r, 400);
	post(good_headers, body, len - 5, &r);
	assert_refused(&r, 400);

	/* truncated protobuf, sent plain */
	raw = batch_body(1, false, &len);
	post(identity, raw, len - 2, &r);
	assert_refused(&r, 400);
	free(raw);

	/* gzip bomb: 8 MiB of zeros against a 1 MiB limit */
	zeros = calloc(1, bomb_raw);
	bomb = fx_gzip(zeros, bomb_raw, &zlen);
	free(zeros);
	post(good_headers, bomb, zlen, &r);
	assert_refused(&r, 413);
	free(bomb);

	/* oversized body */
	noise = malloc(big);
	for (size_t i = 0; i < big; i++)
		noise[i] = (uint8_t)(i * 2654435761u >> 13);
	post(good_headers, noise, big, &r);
	assert_refused(&r, 413);
	free(noise);

	/* invalid fingerprint */
	{
		Tokentap__V1__Batch *b = fx_batch("sensor-http", "node-h", 1);

		fx_add_seen(b, "NOT-A-FINGERPRINT", "opaque", 1, "/x", "1.1.1.1:1", "h", T0);
		raw = fx_pack(b, true, &len);
		fx_free(b);
		post(good_headers, raw, len, &r);
		assert_refused(&r, 400);
		free(raw);
	}

	assert_int_equal(token_count(), 0);
	free(body);
}

static void test_stored_then_duplicate(void **state)
{
	static const char *const with_b[] = { "Content-Type: application/x-protobuf; charset=binary",
					      "Content-Encoding: gzip",
					      "Authorization: bearer   " TOKEN_B, NULL };
	struct http_reply r;
	size_t len;
	uint8_t *body = batch_body(2, true, &len);

	(void)state;
	post(good_headers, body, len, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"status\":\"stored\""));
	http_reply_free(&r);
	/* the other token of the file, scheme in lower case, parameters in the type */
	post(with_b, body, len, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"status\":\"duplicate\""));
	http_reply_free(&r);
	assert_int_equal(token_count(), 1);
	free(body);

	req("GET", "/v1/tokens/" FP_A, NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"requests\":6"));
	http_reply_free(&r);
}

static void test_read_endpoints(void **state)
{
	struct http_reply r;

	(void)state;
	req("GET", "/healthz", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"ok\""));
	http_reply_free(&r);
	req("GET", "/v1/sensors", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "sensor-http"));
	http_reply_free(&r);
	req("GET", "/v1/tokens?sort=requests", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	req("GET", "/v1/tokens?sort=bogus", NULL, NULL, 0, &r);
	assert_refused(&r, 400);
	/* a page: an object with the tokens, even when a filter leaves none */
	req("GET", "/v1/tokens?sort=risk&limit=5", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"tokens\""));
	http_reply_free(&r);
	req("GET", "/v1/tokens?node=nowhere&held=used_not_held&min_risk=0&type=jwt"
	    "&namespace=x&workload=x%2Fy&fingerprint=0a", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"tokens\":[]"));
	http_reply_free(&r);
	{
		static const char *const bad[] = {
			"/v1/tokens?limit=0", "/v1/tokens?limit=501", "/v1/tokens?limit=x",
			"/v1/tokens?cursor=1.xyz", "/v1/tokens?cursor=",
			"/v1/tokens?held=yes", "/v1/tokens?min_risk=-1", "/v1/tokens?min_risk=101",
			"/v1/tokens?fingerprint=ABC", "/v1/tokens?fingerprint=",
			"/v1/tokens?node=", "/v1/tokens?type=a%01b", "/v1/tokens?sort=first",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			req("GET", bad[i], NULL, NULL, 0, &r);
			assert_refused(&r, 400);
		}
	}
	req("GET", "/v1/tokens/XYZ", NULL, NULL, 0, &r);
	assert_refused(&r, 400);
	req("GET", "/v1/tokens/ffffffffffffffffffffffffffffffff", NULL, NULL, 0, &r);
	assert_refused(&r, 404);
	req("GET", "/nothing", NULL, NULL, 0, &r);
	assert_refused(&r, 404);
	req("GET", "/v1/batches", NULL, NULL, 0, &r);
	assert_refused(&r, 405);
	req("DELETE", "/v1/tokens", NULL, NULL, 0, &r);
	assert_refused(&r, 405);
}

/* Without a read token: the console and reads for loopback clients addressing loopback. */
static void test_console_loopback_only(void **state)
{
	static const char *const evil_host[] = { "Host: rebound.evil.example", NULL };
	static const char *const local_host[] = { "Host: localhost", NULL };
	static const char *const cross[] = { "Origin: http://evil.example", NULL };
	struct http_reply r;
	char *big;

	(void)state;
	req("GET", "/", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<title>tokentap console</title>"));
	assert_null(strstr(r.body, "<script>"));
	http_reply_free(&r);
	req("GET", "/", local_host, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	/* a DNS name rebound to 127.0.0.1 reaches the socket, not the data */
	req("GET", "/v1/tokens", evil_host, NULL, 0, &r);
	assert_refused(&r, 403);
	req("GET", "/", evil_host, NULL, 0, &r);
	assert_refused(&r, 403);
	req("GET", "/assets/nothing.js", NULL, NULL, 0, &r);
	assert_refused(&r, 404);
	req("PUT", "/", NULL, NULL, 0, &r);
	assert_refused(&r, 405);
	/* logout from another site is refused; a form body over the bound too */
	req("POST", "/logout", cross, NULL, 0, &r);
	assert_refused(&r, 403);
	big = calloc(1, 9000);
	assert_non_null(big);
	memset(big, 'a', 8999);
	req("POST", "/login", cross, big, 8999, &r);
	assert_refused(&r, 413);
	free(big);
}

static void test_metrics_count_rejects(void **state)
{
	struct http_reply r;

	(void)state;
	req("GET", "/metrics", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "tokentap_collector_batches_total 1\n"));
	assert_non_null(strstr(r.body, "tokentap_collector_duplicate_batches_total 1\n"));
	assert_non_null(strstr(r.body, "tokentap_collector_events_total{kind=\"token_usage\"} 1\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"unauthorized\"} 2\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"forbidden\"} 1\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"unsupported_media_type\"} 3\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"bad_gzip\"} 2\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"bad_protobuf\"} 1\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"decompressed_too_large\"} 1\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"body_too_large\"} 1\n"));
	assert_non_null(strstr(r.body, "rejects_total{reason=\"invalid_batch\"} 1\n"));
	assert_non_null(strstr(r.body, "tokentap_collector_store_seconds_count 2\n"));
	http_reply_free(&r);
}

/* ---- refusals that must survive a client still sending ------------------ */

#define RACE_ROUNDS 20

/* A raw HTTP/1.1 client: the test decides exactly when each byte goes out. */
struct raw {
	int fd;
	char buf[16384];
	size_t len;
};

static void raw_open(struct raw *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(server_port(srv)) };
	/* a guard against hanging forever, never a measured delay */
	struct timeval tv = { .tv_sec = 30 };

	c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
}

/* Sends while the server takes it; 0 when all went out, -1 when the server stopped reading. */
static int raw_send(struct raw *c, const void *p, size_t n, size_t piece)
{
	const char *b = p;

	for (size_t off = 0; off < n;) {
		size_t k = n - off < piece ? n - off : piece;
		ssize_t w = send(c->fd, b + off, k, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		off += (size_t)w;
		if (piece < n)
			usleep(200);   /* pacing only: lets the server act between pieces */
	}
	return 0;
}

/*
 * Reads one response: status, and the body into r (Content-Length framed).
 * Returns 0, or -1 when the connection ended without a complete answer.
 */
static int raw_response(struct raw *c, struct http_reply *r)
{
	char *end, *cl;
	size_t hlen, blen;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
		if (c->len == sizeof(c->buf) - 1)
			return -1;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
	c->buf[c->len] = '\0';
	hlen = (size_t)(end + 4 - c->buf);
	if (sscanf(c->buf, "HTTP/1.1 %ld", &r->status) != 1)
		return -1;
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	blen = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	if (blen >= sizeof(c->buf) - hlen)
		return -1;
	while (c->len < hlen + blen) {
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
	r->body = malloc(blen + 1);
	assert_non_null(r->body);
	memcpy(r->body, c->buf + hlen, blen);
	r->body[blen] = '\0';
	r->len = blen;
	/* keep what follows (a final answer after a 100) */
	memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
	c->len -= hlen + blen;
	return 0;
}

static void raw_close(struct raw *c)
{
	close(c->fd);
}

static uint8_t *noise(size_t n)
{
	uint8_t *p = malloc(n);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 2654435761u >> 13);
	return p;
}

/* POST headers for a body of len bytes; extra: more header lines, each ending in CRLF. */
static void raw_headers(struct raw *c, bool auth, size_t len, const char *extra)
{
	char h[512];
	int n = snprintf(h, sizeof(h),
			 "POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Content-Type: application/x-protobuf\r\nContent-Encoding: gzip\r\n"
			 "%sContent-Length: %zu\r\n%s\r\n",
			 auth ? "Authorization: Bearer " TOKEN_A "\r\n" : "", len, extra ? extra : "");

	assert_int_equal(raw_send(c, h, (size_t)n, (size_t)n), 0);
}

/*
 * The answer was decided from the headers (413 from Content-Length, 401)
 * while the client was still sending: it arrives, every time, and the
 * connection stays usable afterwards.
 */
static void test_refusal_reaches_a_sending_client(void **state)
{
	static const char *const no_auth[] = { "Content-Type: application/x-protobuf",
					       "Content-Encoding: gzip", NULL };
	static const char *const text[] = { "Content-Type: text/plain", "Content-Encoding: gzip",
					    "Authorization: Bearer " TOKEN_A, NULL };
	size_t big = 3 * MAX_BODY;   /* over the limit, under the drain bound */
	uint8_t *body = noise(big);
	struct http_reply r;

	(void)state;
	for (int i = 0; i < RACE_ROUNDS; i++) {
		/* all at once, no Expect: the client is writing while the server decides */
		post(good_headers, body, big, &r);
		assert_refused(&r, 413);
		post(no_auth, body, big, &r);
		assert_refused(&r, 401);
		post(text, body, big, &r);
		assert_refused(&r, 415);
	}
	for (int i = 0; i < RACE_ROUNDS; i++) {
		struct raw c;

		/* slowly, in pieces: the refusal is long decided before the last one */
		raw_open(&c);
		raw_headers(&c, i % 2 == 0, MAX_BODY + 1, NULL);
		assert_int_equal(raw_send(&c, body, MAX_BODY + 1, 4096), 0);
		assert_int_equal(raw_response(&c, &r), 0);
		assert_refused(&r, i % 2 == 0 ? 413 : 401);
		/* the same connection still serves a request */
		assert_int_equal(raw_send(&c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34, 34), 0);
		assert_int_equal(raw_response(&c, &r), 0);
		assert_int_equal(r.status, 200);
		http_reply_free(&r);
		raw_close(&c);
	}
	free(body);
}

/* Expect: 100-continue: a body we would drain is asked for, then refused. */
static void test_refusal_after_continue(void **state)
{
	uint8_t *body = noise(2 * MAX_BODY);
	struct http_reply r;
	struct raw c;

	(void)state;
	raw_open(&c);
	raw_headers(&c, true, 2 * MAX_BODY, "Expect: 100-continue\r\n");
	assert_int_equal(raw_response(&c, &r), 0);
	assert_int_equal(r.status, 100);
	http_reply_free(&r);
	assert_int_equal(raw_send(&c, body, 2 * MAX_BODY, 65536), 0);
	assert_int_equal(raw_response(&c, &r), 0);
	assert_refused(&r, 413);
	raw_close(&c);
	free(body);
}

/* More than the drain bound announced: refused at once, before any body byte. */
static void test_refusal_before_an_endless_body(void **state)
{
	struct http_reply r;
	struct raw c;

	(void)state;
	raw_open(&c);
	raw_headers(&c, true, 100 * MAX_BODY, "Expect: 100-continue\r\n");
	assert_int_equal(raw_response(&c, &r), 0);
	assert_refused(&r, 413);
	raw_close(&c);
}

/* A chunked body that never ends: read up to the bound, then the connection is closed. */
static void test_endless_chunked_body_is_cut(void **state)
{
	static const char head[] = "POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				   "Content-Type: application/x-protobuf\r\n"
				   "Authorization: Bearer " TOKEN_A "\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	const size_t data = 64 * 1024, limit = 256 * (size_t)MAX_BODY;
	uint8_t *chunk = noise(data + 16);
	size_t clen, sent = 0;
	struct http_reply r;
	struct raw c;
	int n;

	(void)state;
	/* one chunk: "<hex size>\r\n" <data> "\r\n", sent again and again */
	n = snprintf((char *)chunk, 16, "%zx\r\n", data);
	memcpy(chunk + (size_t)n + data, "\r\n", 2);
	clen = (size_t)n + data + 2;
	raw_open(&c);
	assert_int_equal(raw_send(&c, head, sizeof(head) - 1, sizeof(head)), 0);
	/* far past the bound (4 times the limit): the server stops reading long before */
	while (sent < limit && raw_send(&c, chunk, clen, clen) == 0)
		sent += data;
	assert_true(sent < limit);
	assert_int_equal(raw_response(&c, &r), -1);
	http_reply_free(&r);
	raw_close(&c);
	free(chunk);
	/* and the server goes on serving */
	req("GET", "/healthz", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	http_reply_free(&r);
	assert_int_equal(token_count(), 1);
}

static int serve_args(const char *const *args)
{
	char *argv[16];
	int argc = 0;

	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return serve_main(argc, argv);
}

static void test_serve_refuses_unsafe_options(void **state)
{
	char db[128];

	(void)state;
	snprintf(db, sizeof(db), "%s/never.db", dir);
	/* neither --auth-file nor --insecure-no-auth */
	assert_int_equal(serve_args((const char *[]){ "serve", "--db", db, NULL }), 2);
	/* no --db */
	assert_int_equal(serve_args((const char *[]){ "serve", "--insecure-no-auth", NULL }), 2);
	/* an auth file without tokens */
	assert_int_equal(serve_args((const char *[]){ "serve", "--db", db, "--auth-file", emptyfile,
						      NULL }), 1);
	/* missing auth file */
	assert_int_equal(serve_args((const char *[]){ "serve", "--db", db, "--auth-file",
						      "/nonexistent/tokens", NULL }), 1);
	assert_int_equal(serve_args((const char *[]){ "serve", "--db", db, "--insecure-no-auth",
						      "--max-body", "lots", NULL }), 2);
	assert_int_equal(serve_args((const char *[]){ "serve", "--db", db, "--insecure-no-auth",
						      "--listen", "nowhere", NULL }), 2);
	/* none of these created the database */
	assert_int_equal(access(db, F_OK), -1);
}

static void test_auth_parsing(void **state)
{
	(void)state;
	assert_int_equal(auth_check(&sensor_auth, NULL), AUTH_MISSING);
	assert_int_equal(auth_check(&sensor_auth, "Bearer"), AUTH_MISSING);
	assert_int_equal(auth_check(&sensor_auth, "Bearer   "), AUTH_MISSING);
	assert_int_equal(auth_check(&sensor_auth, "Token " TOKEN_A), AUTH_MISSING);
	assert_int_equal(auth_check(&sensor_auth, "Bearer " TOKEN_A), AUTH_OK);
	assert_int_equal(auth_check(&sensor_auth, "Bearer " TOKEN_A " "), AUTH_OK);
	assert_int_equal(auth_check(&sensor_auth, "Bearer " TOKEN_A "x"), AUTH_WRONG);
	assert_int_equal(auth_check(&sensor_auth, "Bearer sensor-token-A"), AUTH_WRONG);
	assert_int_equal(auth_check(&sensor_auth, "BEARER " TOKEN_B), AUTH_OK);
}

int main(void)
{
	/* order matters: the metrics test counts what the earlier ones did */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_posts_store_nothing),
		cmocka_unit_test(test_stored_then_duplicate),
		cmocka_unit_test(test_read_endpoints),
		cmocka_unit_test(test_metrics_count_rejects),
		cmocka_unit_test(test_console_loopback_only),
		cmocka_unit_test(test_refusal_reaches_a_sending_client),
		cmocka_unit_test(test_refusal_after_continue),
		cmocka_unit_test(test_refusal_before_an_endless_body),
		cmocka_unit_test(test_endless_chunked_body_is_cut),
		cmocka_unit_test(test_serve_refuses_unsafe_options),
		cmocka_unit_test(test_auth_parsing),
	};

	char url[512];
	int rc, pg;

	rc = cmocka_run_group_tests_name("sqlite", tests, setup, teardown);
	/* the same requests, answers and metrics with the PostgreSQL store */
	pg = tb_pg_group(url, sizeof(url));
	if (pg < 0)
		return 1;
	if (pg > 0) {
		store_path = url;
		rc |= cmocka_run_group_tests_name("pg", tests, setup, teardown);
		tb_pg_group_drop();
	}
	return rc;
}
