/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flags from the environment: TOKENTAP_<FLAG> (the long option's name upper
 * case, '-' as '_') for every long option of a binary's option table, turned
 * into arguments before getopt runs. A flag given on the command line wins:
 * its variable is then ignored. For a flag without a value, 1/true/yes adds
 * it and 0/false/no/empty leaves it out. --help and --version are never read
 * from the environment. Values are bounded (ENVFLAGS_VALUE_MAX, no control
 * characters) and then checked by the binary as any argument is.
 */
#ifndef TOKENTAP_ENVFLAGS_H
#define TOKENTAP_ENVFLAGS_H

#include <getopt.h>
#include <stddef.h>

#define ENVFLAGS_VALUE_MAX 4096
#define ENVFLAGS_PREFIX "TOKENTAP_"

/* Looks a variable up: getenv, or a table in the tests. */
typedef const char *(*envflags_get)(const char *name, void *ctx);

struct envflags {
	int argc;
	char **argv;   /* argv[0], the flags from the environment, the command line's */
	char **owned;  /* the strings made here */
	size_t n_owned;
};

/*
 * Builds out->argv from argc/argv and the variables get finds. 0, or -1
 * with err set (a bad value, named by its variable).
 */
int envflags_build(const struct option *opts, int argc, char **argv, envflags_get get, void *ctx,
		   struct envflags *out, char *err, size_t errlen);

/* The same with getenv; on success replaces *argc and *argv. */
int envflags_apply(const struct option *opts, int *argc, char ***argv, struct envflags *out,
		   char *err, size_t errlen);

void envflags_free(struct envflags *e);

#endif
