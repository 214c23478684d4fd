/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classification cache: the same credential seen again (same fingerprint,
 * header and scheme) reuses its classification instead of running the
 * classifier per request. Direct-mapped by the fingerprint's last digits.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"

#define CLASS_SLOTS 4096

struct class_slot {
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	char header[CRED_NAME_MAX];
	char scheme[32];
	struct token_info info;
};

struct class_cache {
	struct class_slot slot[CLASS_SLOTS];
};

struct class_cache *class_cache_new(void)
{
	return calloc(1, sizeof(struct class_cache));
}

void class_cache_free(struct class_cache *cc)
{
	if (!cc)
		return;
	for (size_t i = 0; i < CLASS_SLOTS; i++)
		token_info_release(&cc->slot[i].info);
	free(cc);
}

/* out shares the slot's JWT claims (a reference is taken for it). */
void class_cache_classify(struct class_cache *cc, const struct fp_key *key, const char *fp,
			  const struct credential *c, struct token_info *out)
{
	struct class_slot *slot = &cc->slot[strtoul(fp + FINGERPRINT_HEX_LEN - 6, NULL, 16) % CLASS_SLOTS];

	/*
	 * Same credential, same fingerprint: classify once, not per request.
	 * The header and scheme are part of the key: a Basic value and the
	 * same bytes in x-api-key classify differently.
	 */
	if (strcmp(slot->fingerprint, fp) != 0 || strcmp(slot->header, c->header) != 0 ||
	    strcmp(slot->scheme, c->scheme) != 0) {
		token_info_release(&slot->info);
		classify_credential(c, key, &slot->info);
		snprintf(slot->fingerprint, sizeof(slot->fingerprint), "%s", fp);
		snprintf(slot->header, sizeof(slot->header), "%s", c->header);
		snprintf(slot->scheme, sizeof(slot->scheme), "%s", c->scheme);
	}
	*out = slot->info;
	if (out->jwt)
		json_object_get(out->jwt);
}
