/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TOKENTAP_<FLAG> variables as arguments: names derived from the option
 * table, values with and without arguments, the command line winning, the
 * bounds and the errors, help/version never taken, and getopt_long reading
 * the result as it reads a command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envflags.h"

static const struct option opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "metrics-listen", required_argument, NULL, 'm' },
	{ "header", required_argument, NULL, 'H' },
	{ "log-format", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* "NAME=value" pairs, NULL-terminated */
static const char *lookup(const char *name, void *ctx)
{
	const char **env = ctx;
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int build(const char **env, int argc, char **argv, struct envflags *e, char *err)
{
	return envflags_build(opts, argc, argv, lookup, env, e, err, 256);
}

static void assert_argv(const struct envflags *e, const char **want)
{
	int n = 0;

	while (want[n])
		n++;
	assert_int_equal(e->argc, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(e->argv[i], want[i]);
	assert_null(e->argv[n]);
}

static void names_and_values(void **state)
{
	const char *env[] = { "TOKENTAP_JSON=1", "TOKENTAP_METRICS_LISTEN=0.0.0.0:9464",
			      "TOKENTAP_LOG_FORMAT=json", "OTHER_JSON=1", "tokentap_header=x", NULL };
	char *argv[] = { "tokentap", "--header", "x-api-key", NULL };
	const char *want[] = { "tokentap", "--json", "--metrics-listen=0.0.0.0:9464",
			       "--log-format=json", "--header", "x-api-key", NULL };
	struct envflags e;
	char err[256];

	(void)state;
	assert_int_equal(build(env, 3, argv, &e, err), 0);
	assert_argv(&e, want);
	envflags_free(&e);
}

static void command_line_wins(void **state)
{
	const char *env[] = { "TOKENTAP_METRICS_LISTEN=0.0.0.0:9464", "TOKENTAP_LOG_FORMAT=json",
			      "TOKENTAP_JSON=yes", NULL };
	char *argv[] = { "tokentap", "--metrics-listen", "127.0.0.1:1", "--log-format=text",
			 "--", "--json", NULL };
	/* "--json" after "--" is not an option: the variable still counts */
	const char *want[] = { "tokentap", "--json", "--metrics-listen", "127.0.0.1:1",
			       "--log-format=text", "--", "--json", NULL };
	struct envflags e;
	char err[256];

	(void)state;
	assert_int_equal(build(env, 6, argv, &e, err), 0);
	assert_argv(&e, want);
	envflags_free(&e);
}

static void booleans(void **state)
{
	const char *off[] = { "TOKENTAP_JSON=0", NULL }, *empty[] = { "TOKENTAP_JSON=", NULL };
	const char *bad[] = { "TOKENTAP_JSON=maybe", NULL };
	char *argv[] = { "tokentap", NULL };
	const char *want[] = { "tokentap", NULL };
	struct envflags e;
	char err[256];

	(void)state;
	assert_int_equal(build(off, 1, argv, &e, err), 0);
	assert_argv(&e, want);
	envflags_free(&e);
	assert_int_equal(build(empty, 1, argv, &e, err), 0);
	assert_argv(&e, want);
	envflags_free(&e);
	assert_int_equal(build(bad, 1, argv, &e, err), -1);
	assert_non_null(strstr(err, "TOKENTAP_JSON"));
	assert_null(e.argv);
}

static void never_help_or_version(void **state)
{
	const char *env[] = { "TOKENTAP_HELP=1", "TOKENTAP_VERSION=1", NULL };
	char *argv[] = { "tokentap", NULL };
	const char *want[] = { "tokentap", NULL };
	struct envflags e;
	char err[256];

	(void)state;
	assert_int_equal(build(env, 1, argv, &e, err), 0);
	assert_argv(&e, want);
	envflags_free(&e);
}

static void bounds(void **state)
{
	char *big = malloc(ENVFLAGS_VALUE_MAX + 32);
	const char *env[] = { big, NULL }, *ctl[] = { "TOKENTAP_HEADER=a\nb", NULL };
	char *argv[] = { "tokentap", NULL };
	struct envflags e;
	char err[256];
	int n;

	(void)state;
	assert_non_null(big);
	n = snprintf(big, 32, "TOKENTAP_HEADER=");
	memset(big + n, 'a', ENVFLAGS_VALUE_MAX);
	big[n + ENVFLAGS_VALUE_MAX] = '\0';
	assert_int_equal(build(env, 1, argv, &e, err), 0);
	envflags_free(&e);
	big[n + ENVFLAGS_VALUE_MAX] = 'a';
	big[n + ENVFLAGS_VALUE_MAX + 1] = '\0';
	assert_int_equal(build(env, 1, argv, &e, err), -1);
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(build(ctl, 1, argv, &e, err), -1);
	assert_non_null(strstr(err, "control"));
	free(big);
}

/* getopt_long reads a value starting with '-' as the value, not as a flag. */
static void getopt_reads_it(void **state)
{
	const char *env[] = { "TOKENTAP_HEADER=-x-odd", "TOKENTAP_JSON=true", NULL };
	char *argv[] = { "tokentap", NULL };
	struct envflags e;
	char err[256];
	int c, json = 0;
	const char *header = NULL;

	(void)state;
	assert_int_equal(build(env, 1, argv, &e, err), 0);
	optind = 0;
	while ((c = getopt_long(e.argc, e.argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json++;
		else if (c == 'H')
			header = optarg;
		else
			fail_msg("unexpected option %d", c);
	}
	assert_int_equal(json, 1);
	assert_string_equal(header, "-x-odd");
	assert_int_equal(optind, e.argc);
	envflags_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_and_values),
		cmocka_unit_test(command_line_wins),
		cmocka_unit_test(booleans),
		cmocka_unit_test(never_help_or_version),
		cmocka_unit_test(bounds),
		cmocka_unit_test(getopt_reads_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
