/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Analyses of files by content (content_id.h): a copy of a library or
 * program already analysed costs only its probe attachments. Fixed size;
 * the oldest entry is replaced when full. Not thread-safe.
 */
#ifndef TOKENTAP_CONTENT_CACHE_H
#define TOKENTAP_CONTENT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "content_id.h"

struct content_cache;

/* slots entries of value_size bytes each. NULL when out of memory. */
struct content_cache *content_cache_new(size_t slots, size_t value_size);
void content_cache_free(struct content_cache *c);
/* Copies the value stored for id into value; false when there is none. */
bool content_cache_get(struct content_cache *c, const struct content_id *id, void *value);
/* Stores (or replaces) the value for id. An id of kind NONE is not stored. */
void content_cache_put(struct content_cache *c, const struct content_id *id, const void *value);
/* Lookups that found a value, and that did not. */
void content_cache_counts(const struct content_cache *c, uint64_t *hits, uint64_t *misses);

#endif
