/* SPDX-License-Identifier: Apache-2.0 */
#include "elf_traits.h"
#include "elfsym.h"

#include <gelf.h>
#include <libelf.h>
#include <string.h>

/* .rodata beyond this is not searched (a huge program costs a bounded read). */
#define RODATA_SCAN_MAX (64u << 20)

static bool rodata_names_rustc(Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data;

	if (sh->sh_type != SHT_PROGBITS || sh->sh_size > RODATA_SCAN_MAX)
		return false;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return false;
	/*
	 * Panic locations name the standard library's sources
	 * ("/rustc/<commit>/library/"), unless a distribution remaps them; the
	 * standard library's RUST_BACKTRACE is there either way.
	 */
	return memmem(data->d_buf, data->d_size, "/rustc/", 7) != NULL ||
	       memmem(data->d_buf, data->d_size, "RUST_BACKTRACE", 14) != NULL;
}

int elf_traits_read(const char *path, struct elf_traits *out)
{
	static const char *const rust_syms[] = { "rust_panic", "rust_begin_unwind", "__rust_alloc" };
	static const char *const tls_syms[] = { "SSL_write", "SSL_write_ex", "gnutls_record_send2",
						"PR_Write", "crypto/tls.(*Conn).Write" };
	struct elf_func f[5];
	int found[5], fd = -1;
	size_t phnum, shstrndx;
	Elf_Scn *scn = NULL;
	Elf *elf;

	memset(out, 0, sizeof(*out));
	elf = elf_open_file(path, &fd);
	if (!elf)
		return -1;
	out->is_static = true;
	if (elf_getphdrnum(elf, &phnum) == 0)
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
				out->is_static = false;
		}
	if (elf_getshdrstrndx(elf, &shstrndx) == 0)
		while ((scn = elf_nextscn(elf, scn)) != NULL) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == SHT_SYMTAB)
				out->has_symtab = true;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (!name)
				continue;
			if (strcmp(name, ".rustc") == 0 ||
			    (!out->rust && strcmp(name, ".rodata") == 0 && rodata_names_rustc(scn, &sh)))
				out->rust = true;
		}
	elf_close_file(elf, fd);
	if (elf_find_funcs(path, rust_syms, 3, f, found) > 0)
		out->rust = true;
	if (elf_find_funcs(path, tls_syms, 5, f, found) > 0)
		out->known_tls_syms = true;
	return 0;
}
