/* SPDX-License-Identifier: Apache-2.0 */
/* Rust programs: rustls's plaintext writer by symbol, and stripped Rust programs. */
#ifndef TOKENTAP_ELFRUST_H
#define TOKENTAP_ELFRUST_H

#include <stdbool.h>
#include "elfsym.h"
#include "rustsym.h"

/*
 * Finds <rustls::...::Writer as std::io::Write>::write (out[0]) and
 * ::write_vectored (out[1]) among the function symbols of path, under
 * either Rust mangling; found[i] is set for each. Returns the number
 * found, or -1 when path is not a readable ELF object.
 */
int elf_find_rustls_writer(const char *path, struct elf_func out[2], int found[2]);

/*
 * True when path is a Rust program (elf_traits.h) without a symbol table:
 * nothing in it can be found by name, so rustls in it cannot be probed.
 */
bool elf_is_stripped_rust(const char *path);

#endif
