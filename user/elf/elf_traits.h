/* SPDX-License-Identifier: Apache-2.0 */
/* What kind of program an ELF executable is: static or not, stripped or not, Rust or not. */
#ifndef TOKENTAP_ELF_TRAITS_H
#define TOKENTAP_ELF_TRAITS_H

#include <stdbool.h>

struct elf_traits {
	bool has_symtab;     /* a .symtab section: not stripped */
	bool is_static;      /* no PT_INTERP: no dynamic loader, libraries linked in */
	bool rust;           /* .rustc section, Rust runtime symbols, or Rust's panic paths in .rodata */
	bool known_tls_syms; /* defines a function the TLS probes know (SSL_write, ...) */
};

/* 0, or -1 when path is not a readable ELF file. */
int elf_traits_read(const char *path, struct elf_traits *out);

#endif
