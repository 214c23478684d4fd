/* SPDX-License-Identifier: Apache-2.0 */
#include "elfsym.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

/* Symbol versions ("SSL_write@@OPENSSL_3.0.0") are not part of the name. */
static int name_matches(const char *sym, const char *want)
{
	size_t n = strlen(want);

	return strncmp(sym, want, n) == 0 && (sym[n] == '\0' || sym[n] == '@');
}

int elf_vaddr_to_offset(Elf *elf, uint64_t vaddr, int exec_only, uint64_t *off)
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum) != 0)
		return -1;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    (exec_only && !(ph.p_flags & PF_X)))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

Elf *elf_open_file(const char *path, int *fd)
{
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_close_file(elf, *fd);
		return NULL;
	}
	return elf;
}

void elf_close_file(Elf *elf, int fd)
{
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

static void scan_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, const char *const *names, size_t n,
			struct elf_func *out, int *found)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || sh->sh_entsize == 0)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (found[k] || !name_matches(name, names[k]))
				continue;
			if (elf_vaddr_to_offset(elf, sym.st_value, 1, &out[k].offset) != 0)
				continue;
			out[k].vaddr = sym.st_value;
			out[k].size = sym.st_size;
			found[k] = 1;
		}
	}
}

int elf_find_funcs(const char *path, const char *const *names, size_t n, struct elf_func *out,
		   int *found)
{
	int fd, nfound = 0;
	Elf *elf;

	memset(found, 0, n * sizeof(*found));
	elf = elf_open_file(path, &fd);
	if (!elf)
		return -1;
	/* .dynsym first: it is what the dynamic linker resolves calls to. */
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn)) != NULL) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (pass == 0 ? SHT_DYNSYM : SHT_SYMTAB))
				scan_symtab(elf, scn, &sh, names, n, out, found);
		}
	}
	for (size_t k = 0; k < n; k++)
		nfound += found[k];
	elf_close_file(elf, fd);
	return nfound;
}

int elf_got_slot(const char *path, const char *name, uint64_t *slot)
{
	Elf_Scn *scn = NULL;
	int fd, rc = -1;
	Elf *elf = elf_open_file(path, &fd);

	if (!elf)
		return -1;
	while (rc != 0 && (scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Scn *symscn;
		GElf_Shdr sh, symsh;
		Elf_Data *data, *syms;
		size_t count;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_entsize == 0 ||
		    !(symscn = elf_getscn(elf, sh.sh_link)) || !gelf_getshdr(symscn, &symsh) ||
		    !(data = elf_getdata(scn, NULL)) || !(syms = elf_getdata(symscn, NULL)))
			continue;
		count = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < count; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			const char *sname;
			unsigned type;

			if (!gelf_getrela(data, (int)i, &r))
				break;
			type = (unsigned)GELF_R_TYPE(r.r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) ||
			    !(sname = elf_strptr(elf, symsh.sh_link, sym.st_name)) || !name_matches(sname, name))
				continue;
			*slot = r.r_offset;
			rc = 0;
			break;
		}
	}
	elf_close_file(elf, fd);
	return rc;
}

ssize_t elf_read_bytes(const char *path, uint64_t offset, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = pread(fd, buf, len, (off_t)offset);
	close(fd);
	return r;
}
