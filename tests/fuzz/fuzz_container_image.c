/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podman container store fuzz target: the input is a containers.json body;
 * the id looked up is the first container's when there is one. A name
 * found is printable, without spaces, and fits.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "container_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char out[64];

	if (container_image_parse((const char *)data, size, id, out, sizeof(out)) == 0) {
		size_t n = strnlen(out, sizeof(out));

		assert(n > 0 && n < sizeof(out));
		for (size_t i = 0; i < n; i++)
			assert(out[i] > ' ' && out[i] <= '~');
	} else {
		assert(out[0] == '\0');
	}
	return 0;
}
