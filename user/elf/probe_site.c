// SPDX-License-Identifier: Apache-2.0
#include "probe_site.h"

#include <stdio.h>
#include <sys/types.h>

#include "probepoint.h"

uint64_t probe_site_offset(const char *path, const struct elf_func *fn, int nargs,
			   uint64_t *call_target, char *why, size_t whylen)
{
	uint8_t code[PROBE_SITE_CODE_MAX];
	ssize_t got;

	*call_target = 0;
	/*
	 * The analysis needs the whole function: its end is where a call to a
	 * noreturn function (__stack_chk_fail) is recognised.
	 */
	if (fn->size == 0 || fn->size > sizeof(code)) {
		snprintf(why, whylen, "entry: function size %llu unusable",
			 (unsigned long long)fn->size);
		return fn->offset;
	}
	got = elf_read_bytes(path, fn->offset, code, fn->size);
	if (got != (ssize_t)fn->size) {
		snprintf(why, whylen, "entry: code not readable");
		return fn->offset;
	}
	return fn->offset +
	       probe_point_choose(code, (size_t)got, fn->vaddr, nargs, call_target, why, whylen);
}
