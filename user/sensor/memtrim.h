/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Giving back, once start-up is over, the memory only start-up needed:
 * the heap's free pages, and the pages of read-only data the dynamic
 * linker and the BPF load read once.
 */
#ifndef TOKENTAP_MEMTRIM_H
#define TOKENTAP_MEMTRIM_H

#include <stddef.h>

struct memtrim_result {
	size_t objects;   /* ELF objects of the process looked at */
	size_t segments;  /* read-only data segments released */
	size_t bytes;     /* their size (what was resident is less) */
};

/*
 * malloc_trim(0), then MADV_DONTNEED on every loaded object's PT_LOAD
 * segments that are neither writable nor executable (ELF headers, symbol
 * and relocation tables, read-only data such as the embedded BPF object).
 * Those pages were never written, so they still equal the file: dropping
 * them from this process's page tables loses nothing, and a later read
 * maps them again from the page cache. Writable segments (RELRO included,
 * written by relocation) and code (where uprobes may sit) are left alone,
 * as is any object with text relocations.
 */
void memtrim_after_start(struct memtrim_result *out);

/*
 * malloc_trim(0): the free pages inside the heap go back to the kernel.
 * Bursts of events leave short-lived chunks (JSON lines, batches) freed
 * between long-lived records, where the heap's top cannot shrink past
 * them; called once per status interval.
 */
void memtrim_heap(void);

#endif
