/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics endpoint's request parser: the three routes, query strings
 * ignored, other methods and paths told apart from malformed requests,
 * incomplete input asks for more, and the size bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_req.h"

static enum http_req_result parse(const char *s, enum http_route *route)
{
	return http_req_parse(s, strlen(s), route);
}

static void routes(void **state)
{
	enum http_route r;

	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a:1\r\nAccept: */*\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r, HTTP_ROUTE_METRICS);
	assert_int_equal(parse("GET /healthz HTTP/1.0\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r, HTTP_ROUTE_HEALTHZ);
	assert_int_equal(parse("GET /readyz?verbose=1 HTTP/1.1\n\n", &r), HTTP_REQ_OK);
	assert_int_equal(r, HTTP_ROUTE_READYZ);
	/* kubelet's probe, as sent */
	assert_int_equal(parse("GET /readyz HTTP/1.1\r\nHost: 10.1.2.3:9464\r\nUser-Agent: kube-probe/1.30\r\n"
			       "Accept: */*\r\nConnection: close\r\n\r\n", &r), HTTP_REQ_OK);
}

static void other_paths_and_methods(void **state)
{
	enum http_route r;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), HTTP_REQ_NOT_FOUND);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n", &r), HTTP_REQ_NOT_FOUND);
	assert_int_equal(parse("GET /metrics/ HTTP/1.1\r\n\r\n", &r), HTTP_REQ_NOT_FOUND);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r), HTTP_REQ_BAD_METHOD);
	assert_int_equal(parse("HEAD /metrics HTTP/1.1\r\n\r\n", &r), HTTP_REQ_BAD_METHOD);
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", &r), HTTP_REQ_BAD_METHOD);
}

static void malformed(void **state)
{
	enum http_route r;
	static const char *bad[] = {
		"GET /metrics\r\n\r\n",                   /* HTTP/0.9 */
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET /metrics HTTP/1.1 x\r\n\r\n",
		"GET metrics HTTP/1.1\r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		" GET /metrics HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nX: a\x01z\r\n\r\n",
		"GE\x80T /metrics HTTP/1.1\r\n\r\n",
		"GET /met\x7frics HTTP/1.1\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum http_req_result res = parse(bad[i], &r);

		if (res != HTTP_REQ_BAD)
			fail_msg("case %zu: expected BAD, got %d", i, res);
	}
	/* a NUL inside the request line */
	assert_int_equal(http_req_parse("GET /met\0rics HTTP/1.1\r\n\r\n", 26, &r), HTTP_REQ_BAD);
}

static void incomplete_and_bound(void **state)
{
	enum http_route r;
	char big[HTTP_REQ_MAX + 64];
	size_t n;

	(void)state;
	assert_int_equal(http_req_parse("", 0, &r), HTTP_REQ_INCOMPLETE);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n", &r), HTTP_REQ_INCOMPLETE);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n\r", &r), HTTP_REQ_INCOMPLETE);
	/* headers that never end: incomplete until the bound, then bad */
	n = (size_t)snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\n");
	while (n < sizeof(big) - 1)
		big[n++] = 'a';
	big[n] = '\0';
	assert_int_equal(http_req_parse(big, HTTP_REQ_MAX - 1, &r), HTTP_REQ_INCOMPLETE);
	assert_int_equal(http_req_parse(big, HTTP_REQ_MAX, &r), HTTP_REQ_BAD);
	assert_int_equal(http_req_parse(big, sizeof(big) - 1, &r), HTTP_REQ_BAD);
	/* an end past the bound does not count */
	memcpy(big + HTTP_REQ_MAX + 2, "\r\n\r\n", 4);
	assert_int_equal(http_req_parse(big, HTTP_REQ_MAX + 6, &r), HTTP_REQ_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes),
		cmocka_unit_test(other_paths_and_methods),
		cmocka_unit_test(malformed),
		cmocka_unit_test(incomplete_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
