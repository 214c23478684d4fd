/* SPDX-License-Identifier: Apache-2.0 */
#include "exe_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procdesc.h"

#define SLOTS 16384 /* direct-mapped: a collision only costs a readlink */
#define EXE_MAX 512

struct slot {
	uint32_t pid;
	struct exe_info info;
};

static struct slot *slots;

int exe_cache_init(void)
{
	slots = calloc(SLOTS, sizeof(*slots));
	return slots ? 0 : -1;
}

void exe_cache_free(void)
{
	free(slots);
	slots = NULL;
}

static int read_exe(uint32_t pid, char *out, size_t outlen)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, out, outlen - 1);
	if (n <= 0) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* Reads what /proc says of pid now; the exe may be given (exec filename). */
static void store(uint32_t pid, const char *exe)
{
	struct slot *s = &slots[pid % SLOTS];

	s->pid = pid;
	snprintf(s->info.exe, sizeof(s->info.exe), "%s", exe);
	procdesc_container("/proc", pid, s->info.container_id, s->info.pod_uid);
}

void exe_cache_get(uint32_t pid, struct exe_info *out)
{
	struct slot *s = slots ? &slots[pid % SLOTS] : NULL;
	char buf[EXE_MAX];

	if (s && s->pid == pid && s->info.exe[0]) {
		*out = s->info;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (read_exe(pid, buf, sizeof(buf)) != 0)
		return;
	if (s) {
		store(pid, buf);
		*out = s->info;
	} else {
		snprintf(out->exe, sizeof(out->exe), "%s", buf);
	}
}

void exe_cache_exec(uint32_t pid, const char *filename)
{
	char buf[EXE_MAX];

	if (!slots)
		return;
	if (read_exe(pid, buf, sizeof(buf)) == 0)
		store(pid, buf);
	else if (filename[0] == '/')
		store(pid, filename);
	else
		slots[pid % SLOTS].pid = 0;
}
