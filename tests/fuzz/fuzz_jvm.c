/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NSpid parser of /proc/PID/status and the maps-line matcher. Any
 * bytes: no crash, no read past the end; a parsed pid is never 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: ASan sees any read past the end */
	char *buf = malloc(size + 1);
	uint32_t pid = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (jvm_nspid_parse(buf, size, &pid) == 0 && pid == 0)
		abort();
	/* the maps matcher reads a NUL-terminated line */
	buf[size] = '\0';
	(void)jvm_maps_line_maps(buf, "libjvm.so");
	free(buf);
	return 0;
}
