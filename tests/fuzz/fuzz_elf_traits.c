/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the program classification of the blind-spot report
 * (elf_traits.c): the input is the executable, read through libelf from
 * an in-memory file as /proc/PID/exe would be. Whatever the bytes, the
 * answer is a classification or -1 with nothing set.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_traits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct elf_traits t;
	char path[64];

	if (fd < 0)
		fd = memfd_create("fuzz-elf", 0);
	if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (elf_traits_read(path, &t) < 0 &&
	    (t.has_symtab || t.is_static || t.rust || t.known_tls_syms))
		abort();
	return 0;
}
