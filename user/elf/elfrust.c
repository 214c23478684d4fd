/* SPDX-License-Identifier: Apache-2.0 */
#include "elfrust.h"
#include "elf_traits.h"

#include <gelf.h>
#include <string.h>

static void scan_rustls(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct elf_func out[2],
			int found[2])
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || sh->sh_entsize == 0)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count && !(found[0] && found[1]); i++) {
		GElf_Sym sym;
		const char *name;
		int k;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		switch (rustls_writer_fn(name)) {
		case RUSTLS_FN_WRITE:
			k = 0;
			break;
		case RUSTLS_FN_WRITE_VECTORED:
			k = 1;
			break;
		default:
			continue;
		}
		if (found[k] || elf_vaddr_to_offset(elf, sym.st_value, 1, &out[k].offset) != 0)
			continue;
		out[k].vaddr = sym.st_value;
		out[k].size = sym.st_size;
		found[k] = 1;
	}
}

int elf_find_rustls_writer(const char *path, struct elf_func out[2], int found[2])
{
	Elf_Scn *scn = NULL;
	int fd;
	Elf *elf;

	found[0] = found[1] = 0;
	elf = elf_open_file(path, &fd);
	if (!elf)
		return -1;
	/* Rust functions are local symbols of the program: .symtab (a cdylib exports them in .dynsym) */
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			scan_rustls(elf, scn, &sh, out, found);
	}
	elf_close_file(elf, fd);
	return found[0] + found[1];
}

bool elf_is_stripped_rust(const char *path)
{
	struct elf_traits t;

	return elf_traits_read(path, &t) == 0 && t.rust && !t.has_symtab;
}
