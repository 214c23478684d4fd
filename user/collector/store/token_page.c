/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inventory page's query: its defaults, its keyset cursor and the
 * checks on the filters callers pass in. Pure: no database here.
 */
#include "store.h"
#include "numarg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void token_page_query_init(struct token_page_query *q, enum token_sort sort)
{
	*q = (struct token_page_query){
		.sort = sort,
		.limit = TOKEN_PAGE_DEFAULT,
		.held = TOKEN_HELD_ANY,
		.min_risk = -1,
	};
}

/* The length of s when it is lowercase hexadecimal of at most max characters, else -1. */
static int hex_len(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	return (int)i;
}

int token_fp_prefix_valid(const char *s)
{
	return !s || hex_len(s, 32) >= 0;
}

void token_cursor_format(int64_t key, const char *fp, char *buf)
{
	snprintf(buf, TOKEN_CURSOR_LEN, "%" PRId64 ".%.32s", key, fp);
}

int token_cursor_parse(const char *text, struct token_page_query *q)
{
	/* a key is "-1" (not assessed) or a non-negative integer: no other negative */
	char num[24];
	const char *dot = text ? strchr(text, '.') : NULL;
	const char *digits = text;
	size_t n;
	uint64_t v;
	int neg = 0;

	if (!dot || hex_len(dot + 1, 32) != 32)
		return -1;
	n = (size_t)(dot - text);
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, text, n);
	num[n] = 0;
	if (num[0] == '-') {
		neg = 1;
		digits = num + 1;
	} else {
		digits = num;
	}
	if (numarg_uint(digits, neg ? 1 : 0, neg ? 1 : INT64_MAX, &v) < 0)
		return -1;
	q->has_cursor = 1;
	q->after_key = neg ? -(int64_t)v : (int64_t)v;
	memcpy(q->after_fp, dot + 1, 32);
	q->after_fp[32] = 0;
	return 0;
}

int token_held_parse(const char *name, enum token_held_filter *out)
{
	if (!name || !name[0])
		*out = TOKEN_HELD_ANY;
	else if (!strcmp(name, "held_and_used"))
		*out = TOKEN_HELD_AND_USED;
	else if (!strcmp(name, "held_never_used"))
		*out = TOKEN_HELD_NEVER_USED;
	else if (!strcmp(name, "used_not_held"))
		*out = TOKEN_USED_NOT_HELD;
	else
		return -1;
	return 0;
}
