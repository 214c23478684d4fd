/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the token page's parameters as a query string "k=v&k=v..." (the
 * values NUL-terminated copies, as the HTTP server hands them): what is
 * accepted must be within bounds, and a cursor it formats parses back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "token_page_args.h"

#define MAX_ARGS 16

struct args {
	char *key[MAX_ARGS], *val[MAX_ARGS];
	size_t n;
};

static const char *lookup(void *ctx, const char *name)
{
	const struct args *a = ctx;

	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->key[i], name))
			return a->val[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *p, *save = NULL;
	struct args a = { .n = 0 };
	struct token_page_query q;
	const char *why = NULL;
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (p = strtok_r(text, "&", &save); p && a.n < MAX_ARGS; p = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(p, '=');

		if (!eq)
			continue;
		*eq = 0;
		a.key[a.n] = p;
		a.val[a.n++] = eq + 1;
	}
	rc = token_page_args(lookup, &a, &q, &why);
	if (rc < 0) {
		if (!why || !why[0])
			abort();
	} else {
		if (q.limit < 1 || q.limit > TOKEN_PAGE_MAX || q.min_risk < -1 || q.min_risk > 100 ||
		    !token_fp_prefix_valid(q.fp_prefix))
			abort();
		if (q.has_cursor) {
			char buf[TOKEN_CURSOR_LEN];
			struct token_page_query r;

			token_cursor_format(q.after_key, q.after_fp, buf);
			token_page_query_init(&r, q.sort);
			if (token_cursor_parse(buf, &r) < 0 || r.after_key != q.after_key ||
			    strcmp(r.after_fp, q.after_fp))
				abort();
		}
	}
	free(text);
	return 0;
}
