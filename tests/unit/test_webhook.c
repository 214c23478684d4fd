/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert webhooks against an in-test HTTP server (libmicrohttpd) that records
 * each request and answers a scripted status: success, retryable and final
 * failures, Retry-After, bodies and bearer delivered intact, refused and
 * silent ports, refused schemes, redirects not followed, oversized replies;
 * the backoff schedule; the Slack and plain bodies, hostile strings included;
 * the bearer token file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

#include "webhook.h"
#include "timefmt.h"

#define MAX_REQS 32
#define BODY_MAX (4 * 1024 * 1024)
#define BEARER "hook-bearer-Zq7-for-tests"
/* a status the server answers 200 to, with a body larger than webhook_post reads */
#define ANSWER_BIG 1200

struct rec {
	char method[16];
	char ctype[128];
	char auth[512];
	char url[256];
	char *body;
	size_t len;
	bool had_auth;
};

struct conn_state {
	char *body;
	size_t len;
	bool too_big;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct rec recs[MAX_REQS];
static int nrecs;
static int script[MAX_REQS];
static int nscript, script_pos;

static struct MHD_Daemon *daemon_;
static unsigned port;
static char base[64];
static char *big_reply;

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t cap,
			bool *present)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	if (present)
		*present = v != NULL;
	snprintf(out, cap, "%s", v ? v : "");
}

static enum MHD_Result answer(struct MHD_Connection *c, struct conn_state *cs, const char *url,
			      const char *method)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	int status = 200;
	struct rec *r;

	pthread_mutex_lock(&mu);
	if (script_pos < nscript)
		status = script[script_pos++];
	if (nrecs < MAX_REQS) {
		r = &recs[nrecs++];
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->url, sizeof(r->url), "%s", url);
		copy_header(c, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype, sizeof(r->ctype), NULL);
		copy_header(c, MHD_HTTP_HEADER_AUTHORIZATION, r->auth, sizeof(r->auth),
			    &r->had_auth);
		r->body = cs->body;
		r->len = cs->len;
		cs->body = NULL;
	}
	pthread_mutex_unlock(&mu);

	if (status == ANSWER_BIG) {
		resp = MHD_create_response_from_buffer(BODY_MAX, big_reply, MHD_RESPMEM_PERSISTENT);
		status = 200;
	} else {
		resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	if (status == 429)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "7");
	if (status == 302) {
		char loc[128];

		snprintf(loc, sizeof(loc), "%s/elsewhere", base);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
	}
	rc = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *size, void **con_cls)
{
	struct conn_state *cs = *con_cls;

	(void)cls;
	(void)version;
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return MHD_NO;
		*con_cls = cs;
		return MHD_YES;
	}
	if (*size) {
		if (cs->len + *size > BODY_MAX) {
			cs->too_big = true;
		} else {
			char *nb = realloc(cs->body, cs->len + *size + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + cs->len, data, *size);
			cs->body = nb;
			cs->len += *size;
			cs->body[cs->len] = '\0';
		}
		*size = 0;
		return MHD_YES;
	}
	return answer(c, cs, url, method);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cs) {
		free(cs->body);
		free(cs);
	}
	*con_cls = NULL;
}

static void reset_server(const int *statuses, int n)
{
	pthread_mutex_lock(&mu);
	for (int i = 0; i < nrecs; i++)
		free(recs[i].body);
	memset(recs, 0, sizeof(recs));
	nrecs = 0;
	for (int i = 0; i < n; i++)
		script[i] = statuses[i];
	nscript = n;
	script_pos = 0;
	pthread_mutex_unlock(&mu);
}

static int request_count(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nrecs;
	pthread_mutex_unlock(&mu);
	return n;
}

static int setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;

	(void)state;
	/* the requests go to 127.0.0.1, never through a proxy of the environment */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	big_reply = malloc(BODY_MAX);
	if (!big_reply)
		return -1;
	memset(big_reply, 'x', BODY_MAX);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
				   MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
				   NULL, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		return -1;
	port = info->port;
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(daemon_);
	reset_server(NULL, 0);
	free(big_reply);
	curl_global_cleanup();
	return 0;
}

static void post(const char *path, const char *bearer, const char *body,
		 struct webhook_result *r)
{
	char url[256];

	snprintf(url, sizeof(url), "%s%s", base, path);
	assert_int_equal(webhook_post(url, bearer, body, strlen(body), 5000, r), 0);
}

/* ---- POST ---------------------------------------------------------------- */

static void test_post_statuses(void **state)
{
	static const int statuses[] = { 200, 503, 429, 404, 204, 408 };
	struct webhook_result r;

	(void)state;
	reset_server(statuses, 6);

	post("/hook", BEARER, "{\"a\":1}", &r);
	assert_true(r.ok);
	assert_false(r.retry);
	assert_int_equal(r.http_status, 200);
	assert_int_equal(r.retry_after_ms, 0);
	assert_string_equal(r.error, "");

	post("/hook", BEARER, "{\"a\":2}", &r);
	assert_false(r.ok);
	assert_true(r.retry);
	assert_int_equal(r.http_status, 503);
	assert_string_equal(r.error, "HTTP 503");

	post("/hook", NULL, "{\"a\":3}", &r);
	assert_false(r.ok);
	assert_true(r.retry);
	assert_int_equal(r.http_status, 429);
	assert_int_equal(r.retry_after_ms, 7000);

	post("/hook", NULL, "{\"a\":4}", &r);
	assert_false(r.ok);
	assert_false(r.retry);
	assert_int_equal(r.http_status, 404);
	assert_string_equal(r.error, "HTTP 404");

	post("/hook", NULL, "{}", &r);
	assert_true(r.ok);
	assert_int_equal(r.http_status, 204);

	post("/hook", NULL, "{}", &r);
	assert_false(r.ok);
	assert_true(r.retry);
	assert_int_equal(r.http_status, 408);

	assert_int_equal(request_count(), 6);
}

static void test_post_delivers_body_and_bearer(void **state)
{
	static const int ok[] = { 200, 200 };
	const char *small = "{\"text\":\"caf\xc3\xa9 \\\"quoted\\\"\"}";
	struct webhook_result r;
	char *big;
	size_t big_len = 300 * 1024;

	(void)state;
	reset_server(ok, 2);
	post("/path/x?q=1", BEARER, small, &r);
	assert_true(r.ok);

	/* a body well beyond libcurl's and the server's buffers */
	big = malloc(big_len + 1);
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	big[big_len] = '\0';
	post("/big", NULL, big, &r);
	assert_true(r.ok);

	pthread_mutex_lock(&mu);
	assert_int_equal(nrecs, 2);
	assert_string_equal(recs[0].method, "POST");
	assert_string_equal(recs[0].url, "/path/x");
	assert_string_equal(recs[0].ctype, "application/json");
	assert_true(recs[0].had_auth);
	assert_string_equal(recs[0].auth, "Bearer " BEARER);
	assert_int_equal(recs[0].len, strlen(small));
	assert_memory_equal(recs[0].body, small, strlen(small));
	assert_false(recs[1].had_auth);
	assert_int_equal(recs[1].len, big_len);
	assert_memory_equal(recs[1].body, big, big_len);
	pthread_mutex_unlock(&mu);
	free(big);
}

static void test_post_large_reply_is_bounded(void **state)
{
	static const int big[] = { ANSWER_BIG };
	struct webhook_result r;

	(void)state;
	reset_server(big, 1);
	post("/hook", NULL, "{}", &r);
	/* the status decides; the reply body is cut after NOTIFY_REPLY_MAX bytes */
	assert_true(r.ok);
	assert_int_equal(r.http_status, 200);
}

static void test_redirect_not_followed(void **state)
{
	static const int redirect[] = { 302, 200 };
	struct webhook_result r;

	(void)state;
	reset_server(redirect, 2);
	post("/hook", BEARER, "{}", &r);
	assert_false(r.ok);
	assert_false(r.retry);
	assert_int_equal(r.http_status, 302);
	assert_non_null(strstr(r.error, "302"));
	assert_int_equal(request_count(), 1);
}

/* A bound socket: listening (accepts, never answers) or not (refuses). */
static int local_socket(bool listening, unsigned *out_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*out_port = ntohs(sa.sin_port);
	return fd;
}

static void test_connection_refused(void **state)
{
	struct webhook_result r;
	unsigned p;
	int fd = local_socket(false, &p);
	char url[128];

	(void)state;
	snprintf(url, sizeof(url), "http://hookuser:s3cr3t-pass@127.0.0.1:%u/hook", p);
	assert_int_equal(webhook_post(url, BEARER, "{}", 2, 3000, &r), 0);
	assert_false(r.ok);
	assert_true(r.retry);
	assert_int_equal(r.http_status, 0);
	assert_non_null(strstr(r.error, "connect"));
	assert_non_null(strstr(r.error, "refused"));
	assert_null(strstr(r.error, "s3cr3t"));
	assert_null(strstr(r.error, "hookuser"));
	assert_null(strstr(r.error, BEARER));
	close(fd);
}

static void test_timeout(void **state)
{
	struct webhook_result r;
	unsigned p;
	int fd = local_socket(true, &p);
	char url[128];
	time_t t0 = time(NULL);

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", p);
	assert_int_equal(webhook_post(url, NULL, "{}", 2, 300, &r), 0);
	assert_false(r.ok);
	assert_true(r.retry);
	assert_int_equal(r.http_status, 0);
	assert_non_null(strstr(r.error, "timeout"));
	assert_true(time(NULL) - t0 < 10);
	close(fd);
}

static void test_refused_urls_send_nothing(void **state)
{
	static const char *const bad[] = {
		"file:///etc/passwd", "ftp://127.0.0.1:%u/x", "gopher://127.0.0.1:%u/",
		"dict://127.0.0.1:%u/", "127.0.0.1:%u/hook", "http://", "",
		"http://127.0.0.1:%u/a\nb", "scp://127.0.0.1:%u/x",
	};
	struct webhook_result r;

	(void)state;
	reset_server(NULL, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char url[128];

		snprintf(url, sizeof(url), bad[i], port);
		assert_int_equal(webhook_post(url, NULL, "{}", 2, 1000, &r), -1);
		assert_false(r.ok);
		assert_true(strlen(r.error) > 0);
	}
	assert_int_equal(webhook_post(NULL, NULL, "{}", 2, 1000, &r), -1);
	/* a bearer that would split the header */
	assert_int_equal(webhook_post(base, "Zq9x\r\nX-Evil: 1", "{}", 2, 1000, &r), -1);
	assert_null(strstr(r.error, "Zq9x"));
	assert_int_equal(webhook_post(base, "", "{}", 2, 1000, &r), -1);
	assert_int_equal(webhook_post(base, NULL, "{}", 2, 0, &r), -1);
	assert_int_equal(webhook_post(base, NULL, NULL, 2, 1000, &r), -1);
	assert_int_equal(request_count(), 0);
}

/* ---- backoff ------------------------------------------------------------- */

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(webhook_backoff_ms(0, 0), 0);
	assert_int_equal(webhook_backoff_ms(1, 0), 0);
	assert_int_equal(webhook_backoff_ms(2, 0), 1000);
	assert_int_equal(webhook_backoff_ms(3, 0), 2000);
	assert_int_equal(webhook_backoff_ms(4, 0), 4000);
	assert_int_equal(webhook_backoff_ms(10, 0), 256000);
	assert_int_equal(webhook_backoff_ms(11, 0), 300000);
	assert_int_equal(webhook_backoff_ms(64, 0), 300000);
	assert_int_equal(webhook_backoff_ms(65, 0), 300000);
	assert_int_equal(webhook_backoff_ms(UINT32_MAX, 0), 300000);
	/* Retry-After wins when longer, capped at an hour */
	assert_int_equal(webhook_backoff_ms(2, 7000), 7000);
	assert_int_equal(webhook_backoff_ms(5, 7000), 8000);
	assert_int_equal(webhook_backoff_ms(20, 7200000), 3600000);
	assert_int_equal(webhook_backoff_ms(2, INT64_MAX), 3600000);
	assert_int_equal(webhook_backoff_ms(3, -5), 2000);
}

/* ---- bodies -------------------------------------------------------------- */

/* Parses strictly (UTF-8 checked); fails the test when the text is not one JSON object. */
static struct json_object *parse_strict(const char *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)strlen(s));
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("not strict JSON: %s", s);
	json_tokener_free(tok);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static struct json_object *sample_alert(void)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "id", json_object_new_int64(42));
	json_object_object_add(a, "fingerprint",
			       json_object_new_string("0123abcd89abcdef0123456789abcdef"));
	json_object_object_add(a, "token_type", json_object_new_string("github_pat"));
	json_object_object_add(a, "rule", json_object_new_string("wrong_provider"));
	json_object_object_add(a, "severity", json_object_new_string("high"));
	json_object_object_add(a, "reason",
			       json_object_new_string("GitHub token sent to api.example.com"));
	json_object_object_add(a, "subject", json_object_new_string("/usr/bin/curl"));
	json_object_object_add(a, "node", json_object_new_string("n1"));
	json_object_object_add(a, "exe", json_object_new_string("/usr/bin/curl"));
	json_object_object_add(a, "dst", json_object_new_string("203.0.113.9:443"));
	json_object_object_add(a, "host", json_object_new_string("api.example.com"));
	json_object_object_add(a, "first_seen", json_object_new_int64(1767225600000LL));
	json_object_object_add(a, "last_seen", json_object_new_string("2026-01-01T00:00:00.000Z"));
	return a;
}

static void test_slack_body(void **state)
{
	struct json_object *a = sample_alert(), *o;
	char *s;

	(void)state;
	s = webhook_slack_body(a);
	assert_non_null(s);
	o = parse_strict(s);
	assert_string_equal(get_str(o, "text"),
			    "[HIGH] wrong_provider: GitHub token sent to api.example.com "
			    "(token github_pat 0123abcd\u2026, node n1)");
	assert_int_equal(json_object_object_length(o), 1);
	json_object_put(o);
	free(s);

	/* numbers are shown, absent keys leave their part out */
	json_object_object_del(a, "fingerprint");
	json_object_object_del(a, "severity");
	json_object_object_add(a, "node", json_object_new_int(7));
	s = webhook_slack_body(a);
	o = parse_strict(s);
	assert_string_equal(get_str(o, "text"), "wrong_provider: GitHub token sent to "
						"api.example.com (token github_pat, node 7)");
	json_object_put(o);
	free(s);
	json_object_put(a);

	a = json_object_new_object();
	s = webhook_slack_body(a);
	o = parse_strict(s);
	assert_string_equal(get_str(o, "text"), "alert");
	json_object_put(o);
	free(s);
	json_object_put(a);

	/* structured values are not shown */
	a = json_object_new_object();
	json_object_object_add(a, "rule", json_object_new_array());
	json_object_object_add(a, "node", json_object_new_object());
	json_object_object_add(a, "reason", NULL);
	s = webhook_slack_body(a);
	o = parse_strict(s);
	assert_string_equal(get_str(o, "text"), "alert");
	json_object_put(o);
	free(s);
	json_object_put(a);

	assert_null(webhook_slack_body(NULL));
	a = json_object_new_string("x");
	assert_null(webhook_slack_body(a));
	json_object_put(a);
}

static void test_slack_body_hostile(void **state)
{
	static const char hostile[] = "a\"b\\c\nd\re\tf\x01g\x7fh <!channel> <https://x|y> & "
				      "\xff\xfe bad\xc3 utf8 \xed\xa0\x80 sur \xc2\x85 nel "
				      "\xe2\x9c\x93 ok";
	struct json_object *a = json_object_new_object(), *o;
	const char *text;
	char long_reason[5000];
	char *s;

	(void)state;
	json_object_object_add(a, "rule", json_object_new_string("r\"ule"));
	json_object_object_add(a, "severity", json_object_new_string("cr\nit"));
	json_object_object_add(a, "reason", json_object_new_string(hostile));
	json_object_object_add(a, "token_type", json_object_new_string("t</b>"));
	json_object_object_add(a, "fingerprint", json_object_new_string("\n\n\"\"\\\\<<>>xyz"));
	json_object_object_add(a, "node", json_object_new_string("n\x1b[31mred"));
	s = webhook_slack_body(a);
	assert_non_null(s);
	o = parse_strict(s);
	text = get_str(o, "text");
	for (const char *p = text; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_null(strchr(text, '<'));
	assert_null(strchr(text, '>'));
	assert_non_null(strstr(text, "&lt;!channel&gt;"));
	assert_non_null(strstr(text, " &amp; "));
	assert_non_null(strstr(text, "a\"b\\c d e f g h"));
	assert_non_null(strstr(text, "\xe2\x9c\x93 ok"));
	assert_non_null(strstr(text, "[CR IT] r\"ule: "));
	assert_non_null(strstr(text, "node n [31mred)"));
	json_object_put(o);
	free(s);

	/* long values are cut on a character boundary and marked */
	memset(long_reason, 0, sizeof(long_reason));
	for (size_t i = 0; i + 2 < sizeof(long_reason) - 1; i += 2)
		memcpy(long_reason + i, "\xc3\xa9", 2);
	json_object_object_add(a, "reason", json_object_new_string(long_reason));
	s = webhook_slack_body(a);
	o = parse_strict(s);
	text = get_str(o, "text");
	assert_true(strlen(text) < 2000);
	assert_non_null(strstr(text, "\xc3\xa9\u2026 (token"));
	json_object_put(o);
	free(s);
	json_object_put(a);
}

static void test_json_body(void **state)
{
	struct json_object *a = sample_alert(), *o, *got;
	int64_t now = 1767225600123LL;
	char when[40];
	char *s;

	(void)state;
	s = webhook_json_body(a, now);
	assert_non_null(s);
	o = parse_strict(s);
	time_rfc3339_ms(now, when, sizeof(when));
	assert_string_equal(get_str(o, "sent_at"), when);
	assert_string_equal(get_str(o, "sent_at"), "2026-01-01T00:00:00.123Z");
	assert_string_equal(get_str(o, "source"), "tokentap-collector");
	assert_true(json_object_object_get_ex(o, "alert", &got));
	assert_true(json_object_equal(got, a));
	assert_int_equal(json_object_object_length(o), 3);
	json_object_put(o);
	free(s);
	/* the caller's object is left as it was */
	assert_int_equal(json_object_object_length(a), 13);
	json_object_put(a);

	/* hostile strings: escaped, and invalid UTF-8 replaced */
	a = json_object_new_object();
	json_object_object_add(a, "reason",
			       json_object_new_string("q\"\\\n\r\t\x01\x1f/</script>"));
	json_object_object_add(a, "host", json_object_new_string("bad\xff\xc3 \xe2\x82 end"));
	json_object_object_add(a, "ba\xfe key", json_object_new_string("v"));
	s = webhook_json_body(a, now);
	assert_non_null(s);
	o = parse_strict(s);
	assert_true(json_object_object_get_ex(o, "alert", &got));
	assert_string_equal(get_str(got, "reason"), "q\"\\\n\r\t\x01\x1f/</script>");
	assert_string_equal(get_str(got, "host"), "bad?? ?? end");
	assert_string_equal(get_str(got, "ba? key"), "v");
	json_object_put(o);
	free(s);
	json_object_put(a);

	assert_null(webhook_json_body(NULL, now));
	a = json_object_new_array();
	assert_null(webhook_json_body(a, now));
	json_object_put(a);
}

/* ---- token file ---------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

static void test_token_file(void **state)
{
	char dir[] = "/tmp/tokentap-notify-XXXXXX";
	char path[128], out[64], err[256], big[NOTIFY_TOKEN_MAX + 10];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token", dir);

	write_str(path, " \tsecret-tok_123 \r\nsecond-line\n");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "secret-tok_123");

	write_str(path, "only-line");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "only-line");

	/* the errors never carry the content */
	write_str(path, "\nsecret-on-line-2\n");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_null(strstr(err, "secret"));
	assert_string_equal(out, "");

	write_str(path, "secret with space\n");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_null(strstr(err, "secret"));

	write_str(path, "secret\x01tok\n");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_null(strstr(err, "secret"));

	write_str(path, "secr\xc3\xa9t\n");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);

	write_str(path, "");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);

	/* longer than out */
	write_str(path, "secret-0123456789012345678901234567890123456789012345678901234567890");
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_null(strstr(err, "secret"));

	/* larger than the file limit */
	memset(big, 'a', sizeof(big));
	write_file(path, big, sizeof(big));
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_null(strstr(err, "aaaa"));

	unlink(path);
	assert_int_equal(webhook_read_token_file(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(webhook_read_token_file(dir, out, sizeof(out), err, sizeof(err)), -1);
	rmdir(dir);
}

/* Labels keep scheme, host and port; never the path, query or user info. */
static void test_url_label(void **state)
{
	char a[600], b[600];

	(void)state;
	assert_int_equal(webhook_url_label("https://hooks.slack.com/services/T0/B0/SECRETPART", a,
					  sizeof(a)), 0);
	assert_non_null(strstr(a, "https://hooks.slack.com/#"));
	assert_null(strstr(a, "SECRETPART"));
	assert_int_equal(webhook_url_label("https://hooks.slack.com/services/T0/B0/OTHER", b,
					  sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(webhook_url_label("http://user:pw@127.0.0.1:9000/h?k=v", a, sizeof(a)), 0);
	assert_non_null(strstr(a, "http://127.0.0.1:9000/#"));
	assert_null(strstr(a, "pw"));
	assert_null(strstr(a, "k=v"));
	assert_int_equal(webhook_url_label("not a url", a, sizeof(a)), -1);
	assert_string_equal(a, "webhook");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_statuses),
		cmocka_unit_test(test_post_delivers_body_and_bearer),
		cmocka_unit_test(test_post_large_reply_is_bounded),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_refused_urls_send_nothing),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_slack_body),
		cmocka_unit_test(test_slack_body_hostile),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_url_label),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
