/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The coverage report (store_query_coverage) from rows, the same for every
 * backend: per node and executable, whether the sensor sees its TLS, why
 * not, the destinations and when it was last seen. Rows come grouped by
 * (node, exe), newest first in a group; the uncovered ones (the coverage
 * table) before the covered ones (observations with TLS captured). An
 * executable reported uncovered on a node is listed once, as uncovered.
 */
#ifndef TOKENTAP_COVERAGE_ROWS_H
#define TOKENTAP_COVERAGE_ROWS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Destinations listed per executable at most. */
#define COVERAGE_DESTS_MAX 50
/* Rows read per query at most. */
#define COVERAGE_ROWS_MAX 20000

struct coverage_row {
	const char *node, *exe, *dst;
	bool covered;
	const char *cause, *detail, *container_id, *pod_uid; /* uncovered rows */
	const char *tls_library;                              /* covered rows */
	int64_t last_seen;                                    /* Unix ms */
};

struct coverage_builder {
	struct json_object *arr;      /* the answer */
	struct json_object *cur;      /* the entry rows are added to */
	struct json_object *uncovered;/* "node\nexe" of every uncovered entry */
	char *cur_key;
	bool cur_covered;
};

/* 0, or -1 when out of memory. */
int coverage_builder_init(struct coverage_builder *b);
/* 0, or -1 when out of memory. */
int coverage_builder_add(struct coverage_builder *b, const struct coverage_row *r);
/* The array of entries (the caller owns it); b is released. */
struct json_object *coverage_builder_done(struct coverage_builder *b);
/* Releases b without an answer. */
void coverage_builder_free(struct coverage_builder *b);

#endif
