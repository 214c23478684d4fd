/* SPDX-License-Identifier: Apache-2.0 */
#include "exe_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procdesc.h"

#define SLOTS 16384 /* direct-mapped: a collision only costs a readlink */
#define EXE_MAX 512

/*
 * A slot points to its info, allocated while the process lives: pids
 * advance through every slot as processes come and go, and inline infos
 * (600 bytes each) would make every page of the table resident after
 * 16384 execs; freed at exit, only live processes take memory.
 */
struct slot {
	uint32_t pid;
	struct exe_info *info;
};

struct exe_cache {
	struct slot slots[SLOTS];
};

struct exe_cache *exe_cache_new(void)
{
	return calloc(1, sizeof(struct exe_cache));
}

void exe_cache_free(struct exe_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < SLOTS; i++)
		free(c->slots[i].info);
	free(c);
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
/* Reads what /proc says of pid now; NULL when out of memory (nothing cached). */
static struct exe_info *store(struct exe_cache *c, uint32_t pid, const char *exe)
{
	struct slot *s = &c->slots[pid % SLOTS];

	if (!s->info && !(s->info = malloc(sizeof(*s->info)))) {
		s->pid = 0;
		return NULL;
	}
	s->pid = pid;
	snprintf(s->info->exe, sizeof(s->info->exe), "%s", exe);
	procdesc_container("/proc", pid, s->info->container_id, s->info->pod_uid);
	return s->info;
}

const struct exe_info *exe_cache_peek(struct exe_cache *c, uint32_t pid)
{
	struct slot *s = c ? &c->slots[pid % SLOTS] : NULL;
	char buf[EXE_MAX];

	if (!s)
		return NULL;
	if (s->pid == pid && s->info && s->info->exe[0])
		return s->info;
	if (read_exe(pid, buf, sizeof(buf)) != 0)
		return NULL;
	return store(c, pid, buf);
}

void exe_cache_get(struct exe_cache *c, uint32_t pid, struct exe_info *out)
{
	const struct exe_info *info = exe_cache_peek(c, pid);
	char buf[EXE_MAX];

	if (info) {
		*out = *info;
		return;
	}
	/* no cache, or no memory to keep it: what /proc says now */
	memset(out, 0, sizeof(*out));
	if (read_exe(pid, buf, sizeof(buf)) == 0)
		snprintf(out->exe, sizeof(out->exe), "%s", buf);
}

void exe_cache_forget(struct exe_cache *c, uint32_t pid)
{
	struct slot *s = c ? &c->slots[pid % SLOTS] : NULL;

	if (s && s->pid == pid) {
		free(s->info);
		s->info = NULL;
		s->pid = 0;
	}
}

void exe_cache_exec(struct exe_cache *c, uint32_t pid, const char *filename)
{
	char buf[EXE_MAX];

	if (!c)
		return;
	if (read_exe(pid, buf, sizeof(buf)) == 0)
		store(c, pid, buf);
	else if (filename[0] == '/')
		store(c, pid, filename);
	else
		c->slots[pid % SLOTS].pid = 0;
}
