/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log helper: text lines exactly as the binaries have always written
 * them, JSON lines that parse with their fields, one line per message
 * whatever the message holds (no forged lines, always valid UTF-8), and
 * the --log-format parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "log.h"
#include "text.h"

/* stderr is pointed at a temporary file for each test and read back. */
static int saved_stderr = -1;
static FILE *capture;

static int setup(void **state)
{
	(void)state;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	capture = tmpfile();
	if (saved_stderr < 0 || !capture)
		return -1;
	dup2(fileno(capture), STDERR_FILENO);
	log_setup("tokentap", LOG_FORMAT_TEXT);
	log_text_levels(true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	log_setup("tokentap", LOG_FORMAT_TEXT);
	log_text_levels(true);
	return 0;
}

/* What was written to stderr since the test began; the caller frees it. */
static char *captured(void)
{
	long n;
	char *s;

	fflush(stderr);
	n = lseek(fileno(capture), 0, SEEK_END);
	assert_true(n >= 0);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(pread(fileno(capture), s, (size_t)n, 0), n);
	return s;
}

static void test_text_lines(void **state)
{
	char *out;

	(void)state;
	log_info("ready: %d files", 3);
	log_warn("no BTF");
	log_error("cannot open %s", "/x");
	log_verbose(false, "hidden");
	log_verbose(true, "shown");
	out = captured();
	assert_string_equal(out, "tokentap: ready: 3 files\n"
				 "tokentap: warning: no BTF\n"
				 "tokentap: error: cannot open /x\n"
				 "tokentap: shown\n");
	free(out);
}

static void test_collector_text_lines(void **state)
{
	char *out;

	(void)state;
	log_setup("tokentap-collector", LOG_FORMAT_TEXT);
	log_text_levels(false);
	log_error("database locked");
	log_cmd(stderr, LOG_LEVEL_ERROR, "serve", "--db PATH is required");
	out = captured();
	assert_string_equal(out, "tokentap-collector: database locked\n"
				 "tokentap-collector serve: --db PATH is required\n");
	free(out);
}

static void test_json_lines(void **state)
{
	struct json_object *o, *v;
	char *out, *nl;

	(void)state;
	log_setup("tokentap-collector", LOG_FORMAT_JSON);
	log_cmd(stderr, LOG_LEVEL_WARN, "serve", "slow \"store\" %d ms", 12);
	out = captured();
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, ""); /* exactly one line */
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "level", &v));
	assert_string_equal(json_object_get_string(v), "warning");
	assert_true(json_object_object_get_ex(o, "program", &v));
	assert_string_equal(json_object_get_string(v), "tokentap-collector");
	assert_true(json_object_object_get_ex(o, "command", &v));
	assert_string_equal(json_object_get_string(v), "serve");
	assert_true(json_object_object_get_ex(o, "msg", &v));
	assert_string_equal(json_object_get_string(v), "slow \"store\" 12 ms");
	assert_true(json_object_object_get_ex(o, "ts", &v));
	assert_int_equal(strlen(json_object_get_string(v)), strlen("2026-01-02T03:04:05.678Z"));
	json_object_put(o);
	free(out);
}

/* A path holding a newline, control bytes and broken UTF-8 stays one line. */
static void test_hostile_message(void **state)
{
	static const char path[] = "/tmp/a\nTOKENTAP: ready\r\x1b[2J\xff\xc3(\xe2\x82\xac";
	struct json_object *o;
	char *out;

	(void)state;
	log_error("cannot open %s", path);
	out = captured();
	assert_string_equal(out, "tokentap: error: cannot open /tmp/a?TOKENTAP: ready?" "?[2J?" "?(\xe2\x82\xac\n");
	free(out);

	log_setup(NULL, LOG_FORMAT_JSON);
	assert_int_equal(log_format_current(), LOG_FORMAT_JSON);
	assert_int_equal(ftruncate(fileno(capture), 0), 0);
	assert_int_equal(lseek(fileno(capture), 0, SEEK_SET), 0);
	log_info("%s", path);
	out = captured();
	assert_non_null(strchr(out, '\n'));
	assert_int_equal(strchr(out, '\n')[1], '\0');
	for (size_t i = 0; out[i];) {
		size_t n = (unsigned char)out[i] < 0x80 ? 1 : utf8_seq((unsigned char *)out + i,
									 strlen(out + i));
		assert_true(n > 0);
		i += n;
	}
	o = json_tokener_parse(out);
	assert_non_null(o);
	json_object_put(o);
	free(out);
}

/* A message longer than the line buffer is cut, still one line. */
static void test_long_message(void **state)
{
	char big[5000], *out;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	out = captured();
	assert_non_null(strchr(out, '\n'));
	assert_int_equal(strchr(out, '\n')[1], '\0');
	assert_true(strlen(out) < sizeof(big));
	free(out);
}

static void test_format_parse(void **state)
{
	enum log_format f = LOG_FORMAT_TEXT;

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("JSON", &f), -1);
	assert_int_equal(log_format_parse("", &f), -1);
	assert_int_equal(log_format_parse(NULL, &f), -1);
	assert_int_equal(log_format_parse("text", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collector_text_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message, setup, teardown),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
