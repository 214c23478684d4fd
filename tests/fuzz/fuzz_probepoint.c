/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the probe-point choice: byte 0 gives the number of argument
 * registers (0..7, so out-of-range values are tried too), the rest is
 * machine code at a fixed address (an exact-size heap copy, so any read
 * past the end is caught). A chosen point must lie inside the code. The
 * same bytes also go through the one-field getter decoder, the branch
 * lister and the Rust self-register reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probepoint.h"

#define VADDR 0x401000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t target = 1, off;
	uint8_t *code;
	char why[96];
	int32_t field;
	int nargs;

	if (size < 1)
		return 0;
	nargs = data[0] % 8;
	size--;
	code = malloc(size ? size : 1);
	if (!code)
		return 0;
	memcpy(code, data + 1, size);
	off = probe_point_choose(code, size, VADDR, nargs, &target, why, sizeof(why));
	/* the contract: a call inside the bytes with its target, or the entry with none */
	if (off ? off >= size || target == 0 : target != 0)
		abort();
	if (!memchr(why, '\0', sizeof(why)))
		abort();
	/* a getter's field offset is a small non-negative displacement */
	if (probe_getter_offset(code, size, VADDR, &field) == 0 && (field < 0 || field > 65536))
		abort();
	/* branches: at most max, each from inside the bytes; the Rust self register: -1, 0 or 1 */
	{
		struct probe_branch br[8];
		size_t nb = probe_branches(code, size, VADDR, br, 8);
		int self = probe_rust_self_arg(code, size, VADDR);

		if (nb > 8 || self < -1 || self > 1)
			abort();
	}
	free(code);
	return 0;
}
