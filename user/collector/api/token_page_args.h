/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parameters of a token page (GET /v1/tokens, `tokens` on the command
 * line) checked into a struct token_page_query. Pure: the caller hands a
 * lookup of its own parameters.
 */
#ifndef TOKENTAP_TOKEN_PAGE_ARGS_H
#define TOKENTAP_TOKEN_PAGE_ARGS_H

#include "store.h"

/* The names read, in the order a query string is written from them. */
#define TOKEN_PAGE_ARG_COUNT 10
extern const char *const token_page_arg_names[TOKEN_PAGE_ARG_COUNT];

/* A parameter's value by name, NULL when absent. */
typedef const char *(*token_page_arg_fn)(void *ctx, const char *name);

/*
 * Reads sort, limit, cursor, type, namespace, workload, node, held,
 * min_risk and fingerprint (a prefix) into q (whose strings then point
 * into the caller's values). 1 when they ask for a page (anything but
 * sort given), 0 for the whole list as before (sort alone), -1 with a
 * one-line static reason in *why.
 */
int token_page_args(token_page_arg_fn get, void *ctx, struct token_page_query *q,
		    const char **why);

#endif
