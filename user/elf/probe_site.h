/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a uprobe on one function of an ELF file goes: the function's code
 * read from the file, then probe_point_choose (probepoint.h). The sensor's
 * attacher and the benchmarks' empty call-site probe both place their
 * probes through it, so the floor is measured at exactly the sensor's site.
 */
#ifndef TOKENTAP_PROBE_SITE_H
#define TOKENTAP_PROBE_SITE_H

#include <stddef.h>
#include <stdint.h>
#include "elfsym.h"

/* Larger functions are probed at the entry: the analysis needs the whole function. */
#define PROBE_SITE_CODE_MAX 4096

/*
 * The file offset to probe fn of path at: a call inside it proven
 * equivalent to the entry, or the entry. nargs, *call_target and why as
 * for probe_point_choose; why also says when the code could not be read.
 */
uint64_t probe_site_offset(const char *path, const struct elf_func *fn, int nargs,
			   uint64_t *call_target, char *why, size_t whylen);

#endif
