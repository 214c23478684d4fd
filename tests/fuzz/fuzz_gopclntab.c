/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the Go function table reader: the input is the table (an
 * exact-size heap copy, so any read past the end is caught). Names found
 * must be reported consistently with the return value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "net.(*TCPConn).Close", "a",
					     "" };
	uint64_t e[4];
	int found[4], n, sum = 0;
	uint8_t *tab = malloc(size ? size : 1);

	if (!tab)
		return 0;
	memcpy(tab, data, size);
	(void)gopclntab_version(tab, size);
	n = gopclntab_find(tab, size, names, 4, e, found);
	for (int i = 0; i < 4; i++)
		sum += found[i];
	if (n >= 0 && n != sum)
		abort();
	if (n < 0 && sum != 0)
		abort();
	free(tab);
	return 0;
}
