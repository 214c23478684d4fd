/* SPDX-License-Identifier: Apache-2.0 */
#include "memtrim.h"

#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An object whose code the dynamic linker had to patch: leave it as it is. */
static bool has_textrel(const struct dl_phdr_info *info)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_DYNAMIC)
			continue;
		for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		     d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_TEXTREL || (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)))
				return true;
	}
	return false;
}

/* [lo, hi) of the object's RELRO region, or lo == hi when none. */
static void relro_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
	*lo = *hi = 0;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_GNU_RELRO) {
			*lo = info->dlpi_addr + ph->p_vaddr;
			*hi = *lo + ph->p_memsz;
		}
	}
}

static int trim_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct memtrim_result *r = arg;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), rlo, rhi;

	(void)size;
	r->objects++;
	if (has_textrel(info))
		return 0;
	relro_range(info, &rlo, &rhi);
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || (ph->p_flags & (PF_W | PF_X)) || ph->p_filesz == 0)
			continue;
		/*
		 * Whole pages inside the segment only: a page it shares with
		 * the next segment belongs to that segment's mapping, which
		 * may be writable.
		 */
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		uintptr_t end = start + ph->p_filesz;

		start = (start + page - 1) & ~(page - 1);
		end &= ~(page - 1);
		if (end <= start || (rlo < rhi && start < rhi && rlo < end))
			continue;
		if (madvise((void *)start, end - start, MADV_DONTNEED) == 0) {
			r->segments++;
			r->bytes += end - start;
		}
	}
	return 0;
}

void memtrim_heap(void)
{
	/* free chunks inside the heap too, not only at its top */
	malloc_trim(0);
}

void memtrim_after_start(struct memtrim_result *out)
{
	struct memtrim_result r;

	memset(&r, 0, sizeof(r));
	memtrim_heap();
	dl_iterate_phdr(trim_object, &r);
	if (out)
		*out = r;
}
