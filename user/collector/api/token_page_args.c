/* SPDX-License-Identifier: Apache-2.0 */
/* Checks the parameters of a token page: every value bounded and validated. */
#include "token_page_args.h"
#include "numarg.h"

#include <string.h>

const char *const token_page_arg_names[TOKEN_PAGE_ARG_COUNT] = {
	"sort", "limit", "cursor", "type", "namespace", "workload", "node", "held", "min_risk",
	"fingerprint",
};

/* Text of 1..max bytes without control characters. */
static int text_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int token_page_args(token_page_arg_fn get, void *ctx, struct token_page_query *q,
		    const char **why)
{
	const char *sort = get(ctx, "sort"), *limit = get(ctx, "limit");
	const char *cursor = get(ctx, "cursor"), *held = get(ctx, "held");
	const char *min_risk = get(ctx, "min_risk"), *fp = get(ctx, "fingerprint");
	enum token_sort ts;
	int paged = 0;
	uint64_t v;

	if (token_sort_parse(sort, &ts) < 0) {
		*why = "sort must be last_seen, requests, risk or first_seen";
		return -1;
	}
	token_page_query_init(q, ts);
	if (limit) {
		if (numarg_uint(limit, 1, TOKEN_PAGE_MAX, &v) < 0) {
			*why = "limit must be 1..500";
			return -1;
		}
		q->limit = (unsigned)v;
		paged = 1;
	}
	if (cursor) {
		if (token_cursor_parse(cursor, q) < 0) {
			*why = "cursor must be a next_cursor of the same sort";
			return -1;
		}
		paged = 1;
	}
	/* type: a token type name; namespace and node: Kubernetes and host names */
	q->token_type = get(ctx, "type");
	q->k8s_namespace = get(ctx, "namespace");
	q->node = get(ctx, "node");
	q->workload = get(ctx, "workload");
	if ((q->token_type && !text_ok(q->token_type, 64)) ||
	    (q->k8s_namespace && !text_ok(q->k8s_namespace, 253)) ||
	    (q->node && !text_ok(q->node, 253)) ||
	    (q->workload && !text_ok(q->workload, 4096 + 254))) {
		*why = "type, namespace, node and workload must be short printable text";
		return -1;
	}
	if (q->token_type || q->k8s_namespace || q->node || q->workload)
		paged = 1;
	if (held) {
		if (token_held_parse(held, &q->held) < 0 || q->held == TOKEN_HELD_ANY) {
			*why = "held must be held_and_used, held_never_used or used_not_held";
			return -1;
		}
		paged = 1;
	}
	if (min_risk) {
		if (numarg_uint(min_risk, 0, 100, &v) < 0) {
			*why = "min_risk must be 0..100";
			return -1;
		}
		q->min_risk = (int)v;
		paged = 1;
	}
	if (fp) {
		if (!fp[0] || !token_fp_prefix_valid(fp)) {
			*why = "fingerprint must be 1..32 lowercase hexadecimal characters (a prefix)";
			return -1;
		}
		q->fp_prefix = fp;
		paged = 1;
	}
	return paged;
}
