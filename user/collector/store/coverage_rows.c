/* SPDX-License-Identifier: Apache-2.0 */
#include "coverage_rows.h"
#include "store_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int coverage_builder_init(struct coverage_builder *b)
{
	memset(b, 0, sizeof(*b));
	b->arr = json_object_new_array();
	b->uncovered = json_object_new_object();
	if (!b->arr || !b->uncovered) {
		coverage_builder_free(b);
		return -1;
	}
	return 0;
}

static char *key_of(const char *node, const char *exe)
{
	size_t n = strlen(node) + strlen(exe) + 2;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%s\n%s", node, exe);
	return k;
}

/* A new entry for the group r opens; its first row is its newest. */
static struct json_object *open_entry(const struct coverage_row *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	put_str(o, "node", r->node);
	put_str(o, "exe", r->exe);
	json_object_object_add(o, "covered", json_object_new_boolean(r->covered));
	if (r->covered) {
		put_opt(o, "tls_library", r->tls_library);
	} else {
		put_str(o, "cause", r->cause ? r->cause : "unknown");
		put_opt(o, "detail", r->detail);
		put_opt(o, "container_id", r->container_id);
		put_opt(o, "pod_uid", r->pod_uid);
	}
	put_time(o, "last_seen", r->last_seen);
	json_object_object_add(o, "destinations", json_object_new_array());
	return o;
}

int coverage_builder_add(struct coverage_builder *b, const struct coverage_row *r)
{
	char *key = key_of(r->node, r->exe);
	struct json_object *dests;

	if (!key)
		return -1;
	if (!b->cur || b->cur_covered != r->covered || strcmp(key, b->cur_key) != 0) {
		free(b->cur_key);
		b->cur_key = key;
		b->cur_covered = r->covered;
		b->cur = NULL;
		/* an executable seen uncovered is listed as such, once */
		if (r->covered && json_object_object_get_ex(b->uncovered, key, NULL))
			return 0;
		b->cur = open_entry(r);
		if (!b->cur)
			return -1;
		json_object_array_add(b->arr, b->cur);
		if (!r->covered)
			json_object_object_add(b->uncovered, key, NULL);
	} else {
		free(key);
	}
	if (!b->cur)
		return 0;
	json_object_object_get_ex(b->cur, "destinations", &dests);
	if (r->dst && r->dst[0] && json_object_array_length(dests) < COVERAGE_DESTS_MAX)
		json_object_array_add(dests, json_object_new_string(r->dst));
	return 0;
}

struct json_object *coverage_builder_done(struct coverage_builder *b)
{
	struct json_object *arr = b->arr;

	b->arr = NULL;
	coverage_builder_free(b);
	return arr;
}

void coverage_builder_free(struct coverage_builder *b)
{
	json_object_put(b->arr);
	json_object_put(b->uncovered);
	free(b->cur_key);
	memset(b, 0, sizeof(*b));
}
