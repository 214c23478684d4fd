/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's function table (.gopclntab), read to find function entry addresses
 * in Go executables whose symbol table was stripped (-ldflags="-s -w"):
 * the runtime needs this table for stack traces, so it always survives.
 *
 * Layouts handled (src/debug/gosym/pclntab.go and src/runtime/symtab.go):
 *   0xfffffffb  Go 1.2 - 1.15
 *   0xfffffffa  Go 1.16 - 1.17
 *   0xfffffff0  Go 1.18 - 1.19
 *   0xfffffff1  Go 1.20 and later (same layout as 1.18)
 * Little-endian, 8-byte pointers only (amd64, arm64).
 */
#ifndef TOKENTAP_GOPCLNTAB_H
#define TOKENTAP_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

enum gopcln_version {
	GOPCLN_BAD = 0,
	GOPCLN_12,
	GOPCLN_116,
	GOPCLN_118,
	GOPCLN_120,
};

/* The table's format from its header, or GOPCLN_BAD. */
enum gopcln_version gopclntab_version(const uint8_t *tab, size_t len);

/*
 * Looks up each of names[0..n) (full Go symbol names, e.g.
 * "crypto/tls.(*Conn).Write") in the table tab[0..len). found[i] is set to 1
 * and entries[i] to the function's entry address (a virtual address) for
 * every name found. Returns
 * the number of names found, or -1 when the table is malformed or of an
 * unknown format. Never reads outside tab.
 */
int gopclntab_find(const uint8_t *tab, size_t len, const char *const *names, size_t n,
		   uint64_t *entries, int *found);

#endif
