/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JVM detection parsers (NSpid and SigCgt of /proc/PID/status, the
 * command line, a maps line) and the attach answer check. Any bytes: no
 * crash, no read past the end; a parsed pid is never 0; an answer judged
 * a success starts with "0\n".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotspot_attach.h"
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
	(void)jvm_status_catches(buf, size, 3);
	(void)jvm_cmdline_no_attach(buf, size);
	/* the maps matcher reads a NUL-terminated line */
	buf[size] = '\0';
	(void)jvm_maps_line_maps(buf, "libjvm.so");
	if (hotspot_load_answer_ok(buf) && strncmp(buf, "0\n", 2) != 0)
		abort();
	free(buf);
	return 0;
}
