/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batch ingestion fuzz target: the input is a POST body (gzip when it
 * starts with the gzip magic, plain protobuf otherwise) run through
 * decoding, validation and an in-memory store. Invariants: a stored batch
 * sent again is a duplicate; a refusal always has a 4xx status and a
 * message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "store.h"

#define RESET_EVERY 5000

static struct store *st;
static unsigned stored;

static void reopen(void)
{
	char err[256];

	store_close(st);
	st = store_open(":memory:", 0, err, sizeof(err));
	if (!st)
		abort();
	stored = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_limits lim = { .max_body = 1u << 20, .max_decompressed = 4u << 20 };
	const char *ce = size >= 2 && data[0] == 0x1f && data[1] == 0x8b ? "gzip" : NULL;
	struct ingest_result r;

	if (!st || stored >= RESET_EVERY)
		reopen();
	ingest_body(st, &lim, ce, data, size, 1767225600000LL, &r);
	switch (r.status) {
	case INGEST_STORED:
		stored++;
		if (r.http_status != 200)
			abort();
		ingest_body(st, &lim, ce, data, size, 1767225600000LL, &r);
		if (r.status != INGEST_DUPLICATE)
			abort();
		break;
	case INGEST_DUPLICATE:
		break;
	case INGEST_REJECTED:
		if (r.http_status < 400 || r.http_status > 499 || !r.msg[0])
			abort();
		break;
	default:
		/* the in-memory store does not fail */
		abort();
	}
	return 0;
}
