/* SPDX-License-Identifier: Apache-2.0 */
#include "content_cache.h"

#include <stdlib.h>
#include <string.h>

struct content_cache {
	size_t slots, value_size, used, next;
	struct content_id *ids;
	unsigned char *values;
	uint64_t hits, misses;
};

struct content_cache *content_cache_new(size_t slots, size_t value_size)
{
	struct content_cache *c;

	if (slots == 0 || value_size == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ids = calloc(slots, sizeof(*c->ids));
	c->values = calloc(slots, value_size);
	if (!c->ids || !c->values) {
		content_cache_free(c);
		return NULL;
	}
	c->slots = slots;
	c->value_size = value_size;
	return c;
}

void content_cache_free(struct content_cache *c)
{
	if (!c)
		return;
	free(c->ids);
	free(c->values);
	free(c);
}

static long find(const struct content_cache *c, const struct content_id *id)
{
	for (size_t i = 0; i < c->used; i++)
		if (content_id_equal(&c->ids[i], id))
			return (long)i;
	return -1;
}

bool content_cache_get(struct content_cache *c, const struct content_id *id, void *value)
{
	long i = find(c, id);

	if (i < 0) {
		c->misses++;
		return false;
	}
	c->hits++;
	memcpy(value, c->values + (size_t)i * c->value_size, c->value_size);
	return true;
}

void content_cache_put(struct content_cache *c, const struct content_id *id, const void *value)
{
	long i;

	if (id->kind == CONTENT_ID_NONE)
		return;
	i = find(c, id);
	if (i < 0) {
		if (c->used < c->slots) {
			i = (long)c->used++;
		} else {
			/* full: replace the oldest */
			i = (long)c->next;
			c->next = (c->next + 1) % c->slots;
		}
	}
	c->ids[i] = *id;
	memcpy(c->values + (size_t)i * c->value_size, value, c->value_size);
}

void content_cache_counts(const struct content_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}
