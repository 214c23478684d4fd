/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The benchmark loaders' tracefs check: tracepoint ids are read from
 * tracefs, which a fresh machine does not mount.
 */
#ifndef TOKENTAP_BENCH_TRACEFS_H
#define TOKENTAP_BENCH_TRACEFS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing"

/* Mounts tracefs at TRACEFS unless it is there; -1 (said on stderr as prog) when it cannot. */
static inline int ensure_tracefs(const char *prog)
{
	if (access(TRACEFS "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) != 0 && errno != EBUSY) {
		fprintf(stderr, "%s: mount tracefs on %s: %s\n", prog, TRACEFS, strerror(errno));
		return -1;
	}
	return 0;
}

#endif
