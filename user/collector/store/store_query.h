/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inventory as JSON (json-c): the same objects for the HTTP API and
 * the CLI. Keys are documented in docs and checked by the CLI tests.
 */
#ifndef TOKENTAP_STORE_QUERY_H
#define TOKENTAP_STORE_QUERY_H

#include <json-c/json.h>
#include <stddef.h>
#include "store.h"

enum token_sort {
	TOKEN_SORT_LAST_SEEN,
	TOKEN_SORT_REQUESTS,
	TOKEN_SORT_RISK,
};

/* "last_seen"/"requests"/"risk" (NULL: last_seen). Returns -1 for other names. */
int token_sort_parse(const char *name, enum token_sort *out);

/* Every token, without the per-minute series. 0 and *out, or -1. */
int store_query_tokens(struct store *st, enum token_sort sort, struct json_object **out,
		       char *err, size_t errlen);

/*
 * The forensics view of one token, with "usage" and "observations".
 * 1 found (*out set), 0 unknown fingerprint, -1 error.
 */
int store_query_token(struct store *st, const char *fingerprint, struct json_object **out,
		      char *err, size_t errlen);

/* Every sensor with its last status. 0 and *out, or -1. */
int store_query_sensors(struct store *st, struct json_object **out, char *err, size_t errlen);

#endif
