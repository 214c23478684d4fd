/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's pure parts: the login form field, loopback peers and
 * hosts, the Origin check, sessions (opaque, expiring, ended by logout,
 * bounded), the login guard, and the embedded assets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "console_assets.h"
#include "form.h"
#include "login_limit.h"
#include "security_headers.h"
#include "session.h"

#define NOW 1767225600000LL

static long field(const char *body, const char *name, char *out, size_t cap)
{
	return form_field(body, strlen(body), name, out, cap);
}

static void test_form_field(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(field("token=abc", "token", out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(field("x=1&token=a%2Bb+c%3d&y=2", "token", out, sizeof(out)), 6);
	assert_string_equal(out, "a+b c=");
	assert_int_equal(field("token=", "token", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* a longer name with the same start is another field */
	assert_int_equal(field("tokens=abc", "token", out, sizeof(out)), -1);
	assert_int_equal(field("xtoken=abc", "token", out, sizeof(out)), -1);
	assert_int_equal(field("", "token", out, sizeof(out)), -1);
	/* repeated, a NUL, a broken escape, too long: refused */
	assert_int_equal(field("token=a&token=b", "token", out, sizeof(out)), -1);
	assert_int_equal(field("token=a%00b", "token", out, sizeof(out)), -1);
	assert_int_equal(field("token=a%2", "token", out, sizeof(out)), -1);
	assert_int_equal(field("token=a%zz", "token", out, sizeof(out)), -1);
	assert_int_equal(field("token=0123456789", "token", out, 10), -1);
	assert_int_equal(field("token=012345678", "token", out, 10), 9);
	/* the body need not be NUL-terminated: only len bytes are read */
	assert_int_equal(form_field("token=abcdef", 9, "token", out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
}

static void test_peer_is_loopback(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	(void)state;
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	assert_true(peer_is_loopback((struct sockaddr *)&in));
	inet_pton(AF_INET, "127.45.6.7", &in.sin_addr);
	assert_true(peer_is_loopback((struct sockaddr *)&in));
	inet_pton(AF_INET, "10.0.0.1", &in.sin_addr);
	assert_false(peer_is_loopback((struct sockaddr *)&in));
	inet_pton(AF_INET, "128.0.0.1", &in.sin_addr);
	assert_false(peer_is_loopback((struct sockaddr *)&in));
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	assert_true(peer_is_loopback((struct sockaddr *)&in6));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
	assert_true(peer_is_loopback((struct sockaddr *)&in6));
	inet_pton(AF_INET6, "::ffff:192.168.1.1", &in6.sin6_addr);
	assert_false(peer_is_loopback((struct sockaddr *)&in6));
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	assert_false(peer_is_loopback((struct sockaddr *)&in6));
	assert_false(peer_is_loopback(NULL));
}

static void test_host_is_loopback(void **state)
{
	(void)state;
	assert_true(host_is_loopback("127.0.0.1:7733"));
	assert_true(host_is_loopback("127.0.0.1"));
	assert_true(host_is_loopback("localhost:7733"));
	assert_true(host_is_loopback("LocalHost"));
	assert_true(host_is_loopback("[::1]:7733"));
	assert_true(host_is_loopback("[::1]"));
	/* a name that only resolves to loopback is what DNS rebinding uses */
	assert_false(host_is_loopback("evil.example:7733"));
	assert_false(host_is_loopback("localhost.evil.example"));
	assert_false(host_is_loopback("127.0.0.1.evil.example"));
	assert_false(host_is_loopback("127.1"));
	assert_false(host_is_loopback("10.0.0.1:7733"));
	assert_false(host_is_loopback("[::2]:7733"));
	assert_false(host_is_loopback("[::1]x"));
	assert_false(host_is_loopback("127.0.0.1:77a"));
	assert_false(host_is_loopback(""));
	assert_false(host_is_loopback(NULL));
}

static void test_origin_matches(void **state)
{
	(void)state;
	assert_true(origin_matches("http://127.0.0.1:7733", "127.0.0.1:7733", false));
	assert_true(origin_matches("https://c.example", "c.example", true));
	assert_false(origin_matches("http://c.example", "c.example", true));
	assert_false(origin_matches("https://c.example", "c.example", false));
	assert_false(origin_matches("http://evil.example", "127.0.0.1:7733", false));
	assert_false(origin_matches("http://127.0.0.1:7733.evil", "127.0.0.1:7733", false));
	assert_false(origin_matches("null", "127.0.0.1:7733", false));
	assert_false(origin_matches(NULL, "127.0.0.1:7733", false));
	assert_false(origin_matches("http://127.0.0.1:7733", NULL, false));
}

static void test_session_lifecycle(void **state)
{
	struct session_table t;
	char a[SESSION_VALUE_LEN + 1], b[SESSION_VALUE_LEN + 1];

	(void)state;
	session_table_init(&t);
	assert_int_equal(session_create(&t, NOW, a), 0);
	assert_int_equal(session_create(&t, NOW, b), 0);
	assert_int_equal(strlen(a), SESSION_VALUE_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), SESSION_VALUE_LEN);
	assert_string_not_equal(a, b);
	assert_true(session_valid(&t, a, NOW + 1));
	assert_true(session_valid(&t, b, NOW + SESSION_TTL_MS - 1));
	/* expired */
	assert_false(session_valid(&t, a, NOW + SESSION_TTL_MS));
	/* a changed, short, long or foreign value */
	{
		char c[SESSION_VALUE_LEN + 2];

		memcpy(c, a, sizeof(a));
		c[0] = c[0] == '0' ? '1' : '0';
		assert_false(session_valid(&t, c, NOW));
		assert_false(session_valid(&t, "abc", NOW));
		memcpy(c, a, SESSION_VALUE_LEN);
		c[SESSION_VALUE_LEN] = '0';
		c[SESSION_VALUE_LEN + 1] = '\0';
		assert_false(session_valid(&t, c, NOW));
		memcpy(c, a, sizeof(a));
		c[3] = 'A';
		assert_false(session_valid(&t, c, NOW));
	}
	assert_false(session_valid(&t, NULL, NOW));
	/* logout ends one session, not the other */
	session_end(&t, a);
	assert_false(session_valid(&t, a, NOW + 1));
	assert_true(session_valid(&t, b, NOW + 1));
	session_end(&t, "not-a-session");
	session_end(&t, NULL);
	assert_true(session_valid(&t, b, NOW + 1));
	session_table_free(&t);
}

static void test_session_table_bounded(void **state)
{
	struct session_table t;
	char first[SESSION_VALUE_LEN + 1], v[SESSION_VALUE_LEN + 1], last[SESSION_VALUE_LEN + 1];

	(void)state;
	session_table_init(&t);
	assert_int_equal(session_create(&t, NOW, first), 0);
	for (int i = 1; i < SESSION_MAX; i++)
		assert_int_equal(session_create(&t, NOW + i, v), 0);
	assert_true(session_valid(&t, first, NOW + SESSION_MAX));
	/* the table is full: the session closest to expiry makes room */
	assert_int_equal(session_create(&t, NOW + SESSION_MAX, last), 0);
	assert_false(session_valid(&t, first, NOW + SESSION_MAX));
	assert_true(session_valid(&t, last, NOW + SESSION_MAX));
	assert_true(session_valid(&t, v, NOW + SESSION_MAX));
	session_table_free(&t);
}

static void test_login_limit(void **state)
{
	struct login_limit l;

	(void)state;
	login_limit_init(&l);
	for (int i = 0; i < LOGIN_FAILS_MAX; i++) {
		assert_true(login_limit_allow(&l, NOW + i));
		login_limit_fail(&l, NOW + i);
	}
	assert_false(login_limit_allow(&l, NOW + LOGIN_FAILS_MAX));
	assert_false(login_limit_allow(&l, NOW + LOGIN_WINDOW_MS - 1));
	/* a new window */
	assert_true(login_limit_allow(&l, NOW + LOGIN_WINDOW_MS));
	/* a clock that went back starts one too */
	login_limit_fail(&l, NOW + LOGIN_WINDOW_MS);
	assert_true(login_limit_allow(&l, NOW));
	login_limit_free(&l);
}

static void test_assets(void **state)
{
	const struct console_asset *index = console_asset_find("/");
	const struct console_asset *login = console_asset_find("/login");
	char js[64], css[64];
	const char *p;

	(void)state;
	assert_non_null(index);
	assert_non_null(login);
	assert_string_equal(index->content_type, "text/html; charset=utf-8");
	assert_string_equal(index->cache_control, "no-store");
	/* the page names its bundles by content hash; both are served, cached for good */
	p = memmem(index->data, index->len, "src=\"/assets/console.", 21);
	assert_non_null(p);
	assert_int_equal(sscanf(p + 5, "%63[^\"]", js), 1);
	p = memmem(index->data, index->len, "href=\"/assets/console.", 22);
	assert_non_null(p);
	assert_int_equal(sscanf(p + 6, "%63[^\"]", css), 1);
	assert_non_null(console_asset_find(js));
	assert_non_null(console_asset_find(css));
	assert_non_null(strstr(console_asset_find(js)->cache_control, "immutable"));
	assert_string_equal(console_asset_find(css)->content_type, "text/css; charset=utf-8");
	assert_true(console_asset_find(js)->len > 1000);
	/* no inline script in the pages: the CSP would refuse it */
	assert_null(memmem(index->data, index->len, "<script>", 8));
	assert_null(memmem(login->data, login->len, "<script>", 8));
	assert_null(console_asset_find("/assets/"));
	assert_null(console_asset_find("/assets/console.js"));
	assert_null(console_asset_find("/../etc/passwd"));
	assert_non_null(strstr(CONSOLE_CSP, "script-src 'self'"));
	assert_null(strstr(CONSOLE_CSP, "unsafe-inline"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_field),
		cmocka_unit_test(test_peer_is_loopback),
		cmocka_unit_test(test_host_is_loopback),
		cmocka_unit_test(test_origin_matches),
		cmocka_unit_test(test_session_lifecycle),
		cmocka_unit_test(test_session_table_bounded),
		cmocka_unit_test(test_login_limit),
		cmocka_unit_test(test_assets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
