/* SPDX-License-Identifier: Apache-2.0 */
/* Function symbols of an ELF file: where a function's code is in the file. */
#ifndef TOKENTAP_ELFSYM_H
#define TOKENTAP_ELFSYM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <libelf.h>

struct elf_func {
	uint64_t vaddr;    /* st_value */
	uint64_t size;     /* st_size, 0 when unknown */
	uint64_t offset;   /* file offset of the first instruction */
};

/*
 * Looks up each of names[0..n) among the defined function symbols of the
 * ELF file at path (.dynsym first, then .symtab). found[i] is set to 1 and
 * out[i] filled for every name found. Returns the number found, or -1 when
 * the file is not a readable ELF object.
 */
int elf_find_funcs(const char *path, const char *const *names, size_t n, struct elf_func *out,
		   int *found);

/* Opens path as an ELF object; NULL when it is not one. Close with elf_close_file. */
Elf *elf_open_file(const char *path, int *fd);
void elf_close_file(Elf *elf, int fd);

/* File offset of vaddr through the PT_LOAD headers (exec_only: code only). 0 or -1. */
int elf_vaddr_to_offset(Elf *elf, uint64_t vaddr, int exec_only, uint64_t *off);

/*
 * The address of the GOT slot through which calls to name go (its
 * JUMP_SLOT or GLOB_DAT relocation): a function calling a sibling export
 * of a shared library goes through it. 0, or -1 when there is none.
 */
int elf_got_slot(const char *path, const char *name, uint64_t *slot);

/* Reads up to len bytes at offset of path into buf; returns bytes read or -1. */
ssize_t elf_read_bytes(const char *path, uint64_t offset, void *buf, size_t len);

#endif
