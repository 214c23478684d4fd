/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Header fields captured one at a time before HPACK encoding (Go's
 * hpack.(*Encoder).WriteField), grouped back into requests. Go writes a
 * request's pseudo-header fields first (:authority, :method, :path,
 * :scheme), then the regular ones: a pseudo-header after a regular field,
 * or one already in the group, opens the next request.
 */
#ifndef TOKENTAP_HFGROUP_H
#define TOKENTAP_HFGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpack.h"

#define HF_FIELDS_MAX 128
#define HF_ARENA_MAX 32768

struct hf_group {
	size_t n;
	size_t used;                 /* bytes of arena in use */
	bool regular;                /* a regular (non-pseudo) field was added */
	bool lost;                   /* a field did not fit or was truncated */
	struct hpack_field f[HF_FIELDS_MAX];
	char arena[HF_ARENA_MAX];    /* names and values, each NUL-terminated */
};

/*
 * Splits one captured field, "name" NUL "value", into its parts (pointers
 * into d). Returns 0, or -1 when there is no NUL or the name is empty.
 */
int hf_split(const uint8_t *d, size_t len, const char **name, size_t *name_len,
	     const char **value, size_t *value_len);

/* Does adding this field end the group's request (the field opens the next)? */
bool hf_opens_next(const struct hf_group *g, const char *name, size_t name_len);

/* Copies a field in. Returns 0, or -1 (and marks the group lost) when full. */
int hf_add(struct hf_group *g, const char *name, size_t name_len, const char *value,
	   size_t value_len);

/* True when the group holds a request: it has :method (a response has :status). */
bool hf_is_request(const struct hf_group *g);

/* Wipes what the group held (values may be credentials) and empties it. */
void hf_reset(struct hf_group *g);

#endif
