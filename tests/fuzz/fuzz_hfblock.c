/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's once-per-request header records (TT_F_HBLOCK) fuzz target: any
 * bytes are parsed into a group; every field must lie in the group's own
 * arena, and a parse of Go's request records that succeeds always yields
 * a request (:method). gRPC-Go's wire-order fields (TT_HB_FIELD) are taken
 * as they are: a block of them need not be a request (trailers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hfblock.h"
#include "tokentap.h"

static struct hf_group g;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = hb_parse(data, size, &g);

	if (g.n > HF_FIELDS_MAX || g.used > HF_ARENA_MAX)
		abort();
	for (size_t i = 0; i < g.n; i++) {
		const char *lo = g.arena, *hi = g.arena + g.used;

		if (g.f[i].name < lo || g.f[i].name + g.f[i].name_len >= hi ||
		    g.f[i].value < lo || g.f[i].value + g.f[i].value_len >= hi)
			abort();
	}
	if (rc == 0 && !g.lost && (size == 0 || data[0] != TT_HB_FIELD) && !hf_is_request(&g))
		abort();
	hf_reset(&g);
	return 0;
}
