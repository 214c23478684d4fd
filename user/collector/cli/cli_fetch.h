/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the CLI reads the inventory: a database file directly (--db) or
 * a running collector's JSON API (--url, libcurl). Both give the same
 * JSON objects.
 */
#ifndef TOKENTAP_CLI_FETCH_H
#define TOKENTAP_CLI_FETCH_H

#include <json-c/json.h>
#include <stddef.h>
#include "store.h"

struct cli_source {
	const char *db;          /* one of db and url */
	const char *url;
	const char *token_file;  /* Bearer token for --url reads, optional */
	struct store *st;
	void *curl;
	struct curl_slist *headers;
};

/* 0 or -1 with err. */
int cli_source_open(struct cli_source *s, char *err, size_t errlen);
void cli_source_close(struct cli_source *s);

/* 0 and *out, or -1 with err. */
int cli_fetch_tokens(struct cli_source *s, enum token_sort sort, struct json_object **out,
		     char *err, size_t errlen);
/*
 * One page of tokens: q from the store, or the same parameters (args, by
 * token_page_arg_names, NULL when not given) from the API. 0 and *out,
 * or -1 with err.
 */
int cli_fetch_token_page(struct cli_source *s, const struct token_page_query *q,
			 const char *const *args, struct json_object **out, char *err,
			 size_t errlen);
/* 1 found (*out), 0 unknown fingerprint, -1 error. */
int cli_fetch_token(struct cli_source *s, const char *fingerprint, struct json_object **out,
		    char *err, size_t errlen);
/* Alerts matching f, newest first. 0 and *out, or -1 with err. */
int cli_fetch_alerts(struct cli_source *s, const struct alert_filter *f, struct json_object **out,
		     char *err, size_t errlen);
int cli_fetch_coverage(struct cli_source *s, struct json_object **out, char *err, size_t errlen);
int cli_fetch_sensors(struct cli_source *s, struct json_object **out, char *err, size_t errlen);

#endif
