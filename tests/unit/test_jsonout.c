/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON event encoding: the exact field names of token_seen, token_usage and
 * sensor_status, their JSON types, absence of unknown fields, RFC 3339
 * times, the readable form, and address formatting. Events are checked
 * after a round trip through the JSON text, as a consumer would read them.
 * No credential is involved: a sighting holds only its fingerprint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "jsonout.h"
#include "timefmt.h"
#include "sighting.h"

#define TS_NS 1700000000123456789LL

/* Every field of a token event, as the README lists them. */
static const char *const all_fields[] = {
	"ts", "event", "fingerprint", "token_type", "scheme", "header", "pid", "tid", "uid",
	"comm", "exe", "cgroup_id", "tls", "tls_library", "src", "dst", "host", "method", "path",
	"count", "token_prefix", "token_length", "checksum_valid", "confidence", "key_id",
	"aws_key_kind", "aws_account", "aws_region", "aws_service", "basic_user",
	"basic_password_type", "jwt",
};

#define NFIELDS (sizeof(all_fields) / sizeof(all_fields[0]))

static void full_sighting(struct sighting *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->fingerprint, sizeof(s->fingerprint), "00112233445566778899aabbccddeeff");
	snprintf(s->info.type, sizeof(s->info.type), "aws_sigv4");
	snprintf(s->info.prefix, sizeof(s->info.prefix), "AKIA");
	s->info.length = 20;
	s->info.has_checksum = true;
	s->info.checksum_valid = false;
	s->info.confidence = 90;
	snprintf(s->info.key_id, sizeof(s->info.key_id), "AKIAIOSFODNN7EXAMPLE");
	snprintf(s->info.aws_key_kind, sizeof(s->info.aws_key_kind), "long-term");
	snprintf(s->info.aws_account, sizeof(s->info.aws_account), "123456789012");
	snprintf(s->info.aws_region, sizeof(s->info.aws_region), "us-east-1");
	snprintf(s->info.aws_service, sizeof(s->info.aws_service), "s3");
	snprintf(s->info.basic_user, sizeof(s->info.basic_user), "alice");
	snprintf(s->info.basic_password_type, sizeof(s->info.basic_password_type), "opaque");
	s->info.jwt = json_object_new_object();
	assert_non_null(s->info.jwt);
	json_object_object_add(s->info.jwt, "iss", json_object_new_string("https://issuer.example"));
	json_object_object_add(s->info.jwt, "exp", json_object_new_int64(1700003600));
	snprintf(s->scheme, sizeof(s->scheme), "AWS4-HMAC-SHA256");
	snprintf(s->header, sizeof(s->header), "authorization");
	s->pid = 4242;
	s->tid = 4243;
	s->uid = 1000;
	snprintf(s->comm, sizeof(s->comm), "curl");
	snprintf(s->exe, sizeof(s->exe), "/usr/bin/curl");
	s->cgroup_id = 0x1234567890ULL;
	s->tls = true;
	snprintf(s->tls_library, sizeof(s->tls_library), "openssl");
	snprintf(s->src, sizeof(s->src), "10.0.0.5:50000");
	snprintf(s->dst, sizeof(s->dst), "[2001:db8::1]:443");
	snprintf(s->host, sizeof(s->host), "s3.amazonaws.com");
	snprintf(s->method, sizeof(s->method), "PUT");
	snprintf(s->path, sizeof(s->path), "/bucket/key?x-id=");
	s->ts_unix_ns = TS_NS;
}

/* The event as a consumer sees it: serialized, then parsed back. */
static struct json_object *round_trip(struct json_object *o)
{
	const char *text;
	struct json_object *back;

	assert_non_null(o);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	back = json_tokener_parse(text);
	assert_non_null(back);
	json_object_put(o);
	return back;
}

static bool listed(const char *key, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, names[i]) == 0)
			return true;
	return false;
}

/* o has exactly the fields in names. */
static void assert_fields(struct json_object *o, const char *const *names, size_t n)
{
	size_t have = 0;

	json_object_object_foreach(o, key, val) {
		(void)val;
		if (!listed(key, names, n))
			fail_msg("unexpected field %s", key);
		have++;
	}
	for (size_t i = 0; i < n; i++)
		if (!json_object_object_get_ex(o, names[i], NULL))
			fail_msg("missing field %s", names[i]);
	assert_int_equal(have, n);
}

static struct json_object *field(struct json_object *o, const char *k, json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("missing field %s", k);
	if (!json_object_is_type(v, type))
		fail_msg("field %s has type %s", k, json_type_to_name(json_object_get_type(v)));
	return v;
}

static const char *str(struct json_object *o, const char *k)
{
	return json_object_get_string(field(o, k, json_type_string));
}

static int64_t num(struct json_object *o, const char *k)
{
	return json_object_get_int64(field(o, k, json_type_int));
}

static void test_rfc3339(void **state)
{
	char buf[40];

	(void)state;
	time_rfc3339_ns(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	time_rfc3339_ns(TS_NS, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
	/* milliseconds truncate, never round up into the next second */
	time_rfc3339_ns(1999999999LL, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:01.999Z");
	time_rfc3339_ns(951782400000000000LL, buf, sizeof(buf)); /* leap day */
	assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
	time_rfc3339_ns(1767225599999000000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2025-12-31T23:59:59.999Z");
	/* before 1970: a valid time, never a negative fraction */
	time_rfc3339_ns(-1500000000LL, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:58.500Z");
	time_rfc3339_ns(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	/* a short buffer is truncated and terminated */
	memset(buf, 'x', sizeof(buf));
	time_rfc3339_ns(TS_NS, buf, 11);
	assert_string_equal(buf, "2023-11-14");
	/* extremes do not crash */
	time_rfc3339_ns(INT64_MAX, buf, sizeof(buf));
	assert_non_null(strchr(buf, 'Z'));
	time_rfc3339_ns(INT64_MIN, buf, sizeof(buf));
	assert_non_null(strchr(buf, 'Z'));
}

static void test_token_usage_all_fields(void **state)
{
	struct sighting s;
	struct json_object *o, *jwt;

	(void)state;
	full_sighting(&s);
	o = round_trip(jsonout_token_event("token_usage", TS_NS, &s, 17));
	assert_fields(o, all_fields, NFIELDS);

	assert_string_equal(str(o, "ts"), "2023-11-14T22:13:20.123Z");
	assert_string_equal(str(o, "event"), "token_usage");
	assert_string_equal(str(o, "fingerprint"), "00112233445566778899aabbccddeeff");
	assert_string_equal(str(o, "token_type"), "aws_sigv4");
	assert_string_equal(str(o, "scheme"), "AWS4-HMAC-SHA256");
	assert_string_equal(str(o, "header"), "authorization");
	assert_int_equal(num(o, "pid"), 4242);
	assert_int_equal(num(o, "tid"), 4243);
	assert_int_equal(num(o, "uid"), 1000);
	assert_string_equal(str(o, "comm"), "curl");
	assert_string_equal(str(o, "exe"), "/usr/bin/curl");
	assert_int_equal(num(o, "cgroup_id"), 0x1234567890LL);
	assert_true(json_object_get_boolean(field(o, "tls", json_type_boolean)));
	assert_string_equal(str(o, "tls_library"), "openssl");
	assert_string_equal(str(o, "src"), "10.0.0.5:50000");
	assert_string_equal(str(o, "dst"), "[2001:db8::1]:443");
	assert_string_equal(str(o, "host"), "s3.amazonaws.com");
	assert_string_equal(str(o, "method"), "PUT");
	assert_string_equal(str(o, "path"), "/bucket/key?x-id=");
	assert_int_equal(num(o, "count"), 17);
	assert_string_equal(str(o, "token_prefix"), "AKIA");
	assert_int_equal(num(o, "token_length"), 20);
	assert_false(json_object_get_boolean(field(o, "checksum_valid", json_type_boolean)));
	assert_int_equal(num(o, "confidence"), 90);
	assert_string_equal(str(o, "key_id"), "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(str(o, "aws_key_kind"), "long-term");
	assert_string_equal(str(o, "aws_account"), "123456789012");
	assert_string_equal(str(o, "aws_region"), "us-east-1");
	assert_string_equal(str(o, "aws_service"), "s3");
	assert_string_equal(str(o, "basic_user"), "alice");
	assert_string_equal(str(o, "basic_password_type"), "opaque");
	jwt = field(o, "jwt", json_type_object);
	assert_string_equal(str(jwt, "iss"), "https://issuer.example");
	assert_int_equal(num(jwt, "exp"), 1700003600);
	json_object_put(o);

	/* the event took its own reference: the sighting's claims are intact */
	assert_string_equal(str(s.info.jwt, "iss"), "https://issuer.example");
	sighting_release(&s);
}

static void test_token_seen_omits_count(void **state)
{
	const char *no_count[NFIELDS];
	size_t n = 0;
	struct sighting s;
	struct json_object *o;

	(void)state;
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(all_fields[i], "count") != 0)
			no_count[n++] = all_fields[i];
	full_sighting(&s);
	o = round_trip(jsonout_token_event("token_seen", TS_NS, &s, 0));
	assert_fields(o, no_count, n);
	assert_string_equal(str(o, "event"), "token_seen");
	json_object_put(o);
	sighting_release(&s);
}

/* A sighting with nothing known: unknown fields are absent, not empty strings or zeros. */
static void test_unknown_fields_absent(void **state)
{
	static const char *const minimal[] = {
		"ts", "event", "fingerprint", "token_type", "pid", "tid", "uid", "tls",
		"token_length", "confidence",
	};
	struct sighting s;
	struct json_object *o;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.fingerprint, sizeof(s.fingerprint), "ffeeddccbbaa99887766554433221100");
	snprintf(s.info.type, sizeof(s.info.type), "opaque");
	s.info.length = 12;
	s.info.confidence = -5; /* never negative in output */
	s.pid = 7;
	o = round_trip(jsonout_token_event("token_seen", 0, &s, 0));
	assert_fields(o, minimal, sizeof(minimal) / sizeof(minimal[0]));
	assert_string_equal(str(o, "ts"), "1970-01-01T00:00:00.000Z");
	assert_false(json_object_get_boolean(field(o, "tls", json_type_boolean)));
	assert_int_equal(num(o, "confidence"), 0);
	assert_int_equal(num(o, "token_length"), 12);
	assert_int_equal(num(o, "pid"), 7);
	json_object_put(o);

	/* checksum_valid appears only for formats with a checksum, true or false */
	s.info.has_checksum = true;
	s.info.checksum_valid = true;
	o = round_trip(jsonout_token_event("token_seen", 0, &s, 0));
	assert_true(json_object_get_boolean(field(o, "checksum_valid", json_type_boolean)));
	json_object_put(o);
	sighting_release(&s);
}

static void test_large_numbers(void **state)
{
	struct sighting s;
	struct json_object *o;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.info.type, sizeof(s.info.type), "opaque");
	s.pid = UINT32_MAX;
	s.uid = UINT32_MAX;
	s.cgroup_id = UINT64_MAX;
	o = round_trip(jsonout_token_event("token_usage", TS_NS, &s, UINT64_MAX));
	assert_true(json_object_get_uint64(field(o, "count", json_type_int)) == UINT64_MAX);
	assert_true(json_object_get_uint64(field(o, "cgroup_id", json_type_int)) == UINT64_MAX);
	assert_int_equal(num(o, "pid"), UINT32_MAX);
	assert_int_equal(num(o, "uid"), UINT32_MAX);
	/* fingerprint unknown: absent */
	assert_false(json_object_object_get_ex(o, "fingerprint", NULL));
	json_object_put(o);
}

static void test_status(void **state)
{
	static const struct status_field f[] = {
		{ "attached_files", 3 },
		{ "uprobes", 6 },
		{ "uprobes_at_call_site", 4 },
		{ "ringbuf_drops", 0 },
		{ "events", UINT64_MAX },
	};
	static const char *const names[] = {
		"ts", "event", "attached_files", "uprobes", "uprobes_at_call_site", "ringbuf_drops",
		"events",
	};
	struct json_object *o;

	(void)state;
	o = round_trip(jsonout_status(TS_NS, f, sizeof(f) / sizeof(f[0])));
	assert_fields(o, names, sizeof(names) / sizeof(names[0]));
	assert_string_equal(str(o, "ts"), "2023-11-14T22:13:20.123Z");
	assert_string_equal(str(o, "event"), "sensor_status");
	assert_int_equal(num(o, "attached_files"), 3);
	assert_int_equal(num(o, "uprobes"), 6);
	assert_int_equal(num(o, "uprobes_at_call_site"), 4);
	/* a zero counter is a fact, not an unknown: present */
	assert_int_equal(num(o, "ringbuf_drops"), 0);
	assert_true(json_object_get_uint64(field(o, "events", json_type_int)) == UINT64_MAX);
	json_object_put(o);

	o = round_trip(jsonout_status(0, NULL, 0));
	assert_fields(o, names, 2);
	json_object_put(o);
}

static char *capture_text(const char *event, const struct sighting *s, uint64_t count)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	textout_token_event(f, event, TS_NS, s, count);
	assert_int_equal(fclose(f), 0);
	assert_non_null(text);
	return text;
}

static void test_text(void **state)
{
	struct sighting s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	full_sighting(&s);
	text = capture_text("token_usage", &s, 5);
	/* one line, with the time, the type, a short fingerprint and the count */
	assert_non_null(strstr(text, "2023-11-14T22:13:20.123Z token_usage"));
	assert_non_null(strstr(text, "aws_sigv4"));
	assert_non_null(strstr(text, " 001122334455 "));
	assert_null(strstr(text, "00112233445566778899aabbccddeeff"));
	assert_non_null(strstr(text, "pid=4242 exe=/usr/bin/curl tls:openssl"));
	assert_non_null(strstr(text, "[2001:db8::1]:443 PUT s3.amazonaws.com/bucket/key?x-id="));
	assert_non_null(strstr(text, " count=5\n"));
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	free(text);

	/* plaintext, unknown exe and destination, no count */
	s.tls = false;
	s.exe[0] = '\0';
	s.dst[0] = '\0';
	text = capture_text("token_seen", &s, 0);
	assert_non_null(strstr(text, "exe=curl plain -"));
	assert_null(strstr(text, "count="));
	free(text);
	sighting_release(&s);

	f = open_memstream(&text, &len);
	assert_non_null(f);
	textout_status(f, 0, (const struct status_field[]){ { "events", 9 }, { "ringbuf_drops", 1 } }, 2);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "1970-01-01T00:00:00.000Z status events=9 ringbuf_drops=1\n");
	free(text);
}

static void test_format_addr(void **state)
{
	uint8_t v4[16] = { 1, 2, 3, 4 };
	uint8_t v6[16] = { 0 };
	uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 9 };
	uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char out[64];

	(void)state;
	sighting_format_addr(out, sizeof(out), AF_INET, v4, 80);
	assert_string_equal(out, "1.2.3.4:80");
	v6[15] = 1;
	sighting_format_addr(out, sizeof(out), AF_INET6, v6, 443);
	assert_string_equal(out, "[::1]:443");
	sighting_format_addr(out, sizeof(out), AF_INET6, mapped, 8080);
	assert_string_equal(out, "[::ffff:192.168.1.9]:8080");
	sighting_format_addr(out, sizeof(out), AF_INET6, db8, 65535);
	assert_string_equal(out, "[2001:db8::1]:65535");
	sighting_format_addr(out, sizeof(out), AF_INET, v4, 0);
	assert_string_equal(out, "1.2.3.4:0");

	/* unknown families: empty, whatever was there before */
	strcpy(out, "stale");
	sighting_format_addr(out, sizeof(out), AF_UNIX, v4, 80);
	assert_string_equal(out, "");
	strcpy(out, "stale");
	sighting_format_addr(out, sizeof(out), 0, v4, 80);
	assert_string_equal(out, "");
	strcpy(out, "stale");
	sighting_format_addr(out, sizeof(out), 12345, v4, 80);
	assert_string_equal(out, "");

	/* a short buffer truncates, terminated */
	sighting_format_addr(out, 6, AF_INET, v4, 80);
	assert_string_equal(out, "1.2.3");
	/* the longest IPv6 form fits the sighting's field */
	{
		struct sighting s;
		uint8_t all[16];

		memset(all, 0xab, sizeof(all));
		sighting_format_addr(s.dst, sizeof(s.dst), AF_INET6, all, 65535);
		assert_string_equal(s.dst, "[abab:abab:abab:abab:abab:abab:abab:abab]:65535");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_token_usage_all_fields),
		cmocka_unit_test(test_token_seen_omits_count),
		cmocka_unit_test(test_unknown_fields_absent),
		cmocka_unit_test(test_large_numbers),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_format_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
