/* SPDX-License-Identifier: Apache-2.0 */
#include "envflags.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64

/* TOKENTAP_ + the option name upper case, '-' as '_'. */
static int var_name(const char *opt, char *out, size_t cap)
{
	size_t n = strlen(ENVFLAGS_PREFIX), len = strlen(opt);

	if (n + len + 1 > cap)
		return -1;
	memcpy(out, ENVFLAGS_PREFIX, n);
	for (size_t i = 0; i < len; i++)
		out[n + i] = opt[i] == '-' ? '_' : (opt[i] >= 'a' && opt[i] <= 'z') ? (char)(opt[i] - 32) : opt[i];
	out[n + len] = '\0';
	return 0;
}

/* "--name" or "--name=..." among the command line's arguments (before a "--"). */
static bool on_command_line(const char *name, int argc, char **argv)
{
	size_t len = strlen(name);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, len) == 0 &&
		    (a[2 + len] == '\0' || a[2 + len] == '='))
			return true;
	}
	return false;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *yes[] = { "1", "true", "yes" }, *no[] = { "", "0", "false", "no" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(v, yes[i]) == 0)
			return *out = true, 0;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcmp(v, no[i]) == 0)
			return *out = false, 0;
	return -1;
}

static char *own(struct envflags *e, char *s)
{
	if (s)
		e->owned[e->n_owned++] = s;
	return s;
}

int envflags_build(const struct option *opts, int argc, char **argv, envflags_get get, void *ctx,
		   struct envflags *out, char *err, size_t errlen)
{
	size_t nopts = 0;
	int n = 1;

	memset(out, 0, sizeof(*out));
	while (opts[nopts].name)
		nopts++;
	/* each option adds at most one argument, plus the command line and NULL */
	out->argv = calloc(nopts + (size_t)argc + 1, sizeof(*out->argv));
	out->owned = calloc(nopts + 1, sizeof(*out->owned));
	if (!out->argv || !out->owned) {
		snprintf(err, errlen, "out of memory");
		envflags_free(out);
		return -1;
	}
	out->argv[0] = argv[0];
	for (size_t i = 0; i < nopts; i++) {
		const struct option *o = &opts[i];
		char var[NAME_MAX_LEN + sizeof(ENVFLAGS_PREFIX)];
		const char *v;
		size_t vlen;
		bool on;

		if (strcmp(o->name, "help") == 0 || strcmp(o->name, "version") == 0)
			continue;
		if (var_name(o->name, var, sizeof(var)) != 0 || !(v = get(var, ctx)))
			continue;
		if (on_command_line(o->name, argc, argv))
			continue;
		vlen = strnlen(v, ENVFLAGS_VALUE_MAX + 1);
		if (vlen > ENVFLAGS_VALUE_MAX) {
			snprintf(err, errlen, "%s: longer than %d bytes", var, ENVFLAGS_VALUE_MAX);
			envflags_free(out);
			return -1;
		}
		for (size_t k = 0; k < vlen; k++)
			if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f) {
				snprintf(err, errlen, "%s: control characters are not allowed", var);
				envflags_free(out);
				return -1;
			}
		if (o->has_arg == no_argument) {
			if (parse_bool(v, &on) != 0) {
				snprintf(err, errlen, "%s: expected 1, true, yes, 0, false or no", var);
				envflags_free(out);
				return -1;
			}
			if (!on)
				continue;
			if (asprintf(&out->argv[n], "--%s", o->name) < 0)
				out->argv[n] = NULL;
		} else {
			/* "--name=value" keeps a value that starts with '-' a value */
			if (asprintf(&out->argv[n], "--%s=%s", o->name, v) < 0)
				out->argv[n] = NULL;
		}
		if (!own(out, out->argv[n])) {
			snprintf(err, errlen, "out of memory");
			envflags_free(out);
			return -1;
		}
		n++;
	}
	for (int i = 1; i < argc; i++)
		out->argv[n++] = argv[i];
	out->argv[n] = NULL;
	out->argc = n;
	return 0;
}

static const char *from_environ(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

int envflags_apply(const struct option *opts, int *argc, char ***argv, struct envflags *out,
		   char *err, size_t errlen)
{
	if (envflags_build(opts, *argc, *argv, from_environ, NULL, out, err, errlen) != 0)
		return -1;
	*argc = out->argc;
	*argv = out->argv;
	return 0;
}

void envflags_free(struct envflags *e)
{
	for (size_t i = 0; i < e->n_owned; i++)
		free(e->owned[i]);
	free(e->owned);
	free(e->argv);
	memset(e, 0, sizeof(*e));
}
