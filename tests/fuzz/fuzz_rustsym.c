/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the Rust symbol demangler and the rustls writer matcher: the
 * input is a symbol name (NUL-terminated exact-size heap copy, so any read
 * past its end is caught). A demangled path is a NUL-terminated string
 * inside the output buffer; byte 0 of the input picks a small or a large
 * output buffer so the overflow refusal is exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustsym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[512], *sym;
	size_t cap;

	if (size < 1)
		return 0;
	cap = data[0] & 1 ? 24 : sizeof(out);
	sym = malloc(size);
	if (!sym)
		return 0;
	memcpy(sym, data + 1, size - 1);
	sym[size - 1] = '\0';
	memset(out, 'x', sizeof(out));
	if (rust_demangle(sym, out, cap) && !memchr(out, '\0', cap))
		abort();
	(void)rustls_writer_fn(sym);
	free(sym);
	return 0;
}
