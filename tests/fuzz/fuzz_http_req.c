/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's metrics endpoint request parser. Any bytes: no crash, no read
 * past len; the verdict depends only on the first HTTP_REQ_MAX bytes; a
 * complete verdict stays the same when more bytes follow; a request judged
 * OK is a GET of one of the three paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http_route route = HTTP_ROUTE_METRICS, route2 = HTTP_ROUTE_METRICS;
	/* an exact-size copy: ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	enum http_req_result r, r2;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = http_req_parse(buf, size, &route);
	if (r == HTTP_REQ_OK && (size < 14 || memcmp(buf, "GET /", 5) != 0))
		abort();
	if (size > HTTP_REQ_MAX) {
		r2 = http_req_parse(buf, HTTP_REQ_MAX, &route2);
		if (r2 != r || (r == HTTP_REQ_OK && route2 != route))
			abort();
	}
	/* a prefix that was already complete decides the same */
	for (size_t cut = 1; cut < size && cut <= 64; cut++) {
		r2 = http_req_parse(buf, cut, &route2);
		if (r2 != HTTP_REQ_INCOMPLETE && r2 != r)
			abort();
	}
	free(buf);
	return 0;
}
