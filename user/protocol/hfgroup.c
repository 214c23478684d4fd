/* SPDX-License-Identifier: Apache-2.0 */
#include "hfgroup.h"

#include <string.h>

#include "wipe.h"

int hf_split(const uint8_t *d, size_t len, const char **name, size_t *name_len,
	     const char **value, size_t *value_len)
{
	const uint8_t *nul = d && len ? memchr(d, '\0', len) : NULL;

	if (!nul || nul == d)
		return -1;
	*name = (const char *)d;
	*name_len = (size_t)(nul - d);
	*value = (const char *)nul + 1;
	*value_len = len - *name_len - 1;
	return 0;
}

static bool has_field(const struct hf_group *g, const char *name, size_t name_len)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->f[i].name_len == name_len && !memcmp(g->f[i].name, name, name_len))
			return true;
	return false;
}

bool hf_opens_next(const struct hf_group *g, const char *name, size_t name_len)
{
	if (g->n == 0 || name_len == 0 || name[0] != ':')
		return false;
	return g->regular || has_field(g, name, name_len);
}

int hf_add(struct hf_group *g, const char *name, size_t name_len, const char *value,
	   size_t value_len)
{
	struct hpack_field *f;
	char *at;

	if (g->n == HF_FIELDS_MAX || name_len > HF_ARENA_MAX || value_len > HF_ARENA_MAX ||
	    name_len + value_len + 2 > HF_ARENA_MAX - g->used) {
		g->lost = true;
		return -1;
	}
	at = g->arena + g->used;
	memcpy(at, name, name_len);
	at[name_len] = '\0';
	memcpy(at + name_len + 1, value, value_len);
	at[name_len + 1 + value_len] = '\0';
	f = &g->f[g->n++];
	*f = (struct hpack_field){ .name = at, .name_len = name_len,
				   .value = at + name_len + 1, .value_len = value_len };
	g->used += name_len + value_len + 2;
	if (name_len == 0 || name[0] != ':')
		g->regular = true;
	return 0;
}

bool hf_is_request(const struct hf_group *g)
{
	return has_field(g, ":method", 7);
}

void hf_reset(struct hf_group *g)
{
	secure_wipe(g->arena, g->used);
	secure_wipe(g->f, sizeof(g->f[0]) * g->n);
	g->n = 0;
	g->used = 0;
	g->regular = false;
	g->lost = false;
}
