/* SPDX-License-Identifier: Apache-2.0 */
#include "procinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 16384 /* direct-mapped: a collision only costs a readlink */
#define EXE_MAX 512

struct slot {
	uint32_t pid;
	char exe[EXE_MAX];
};

static struct slot *slots;

int procinfo_init(void)
{
	slots = calloc(SLOTS, sizeof(*slots));
	return slots ? 0 : -1;
}

void procinfo_free(void)
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

static void store(uint32_t pid, const char *exe)
{
	struct slot *s = &slots[pid % SLOTS];

	s->pid = pid;
	snprintf(s->exe, sizeof(s->exe), "%s", exe);
}

void procinfo_exe(uint32_t pid, char *out, size_t outlen)
{
	struct slot *s = slots ? &slots[pid % SLOTS] : NULL;
	char buf[EXE_MAX];

	if (s && s->pid == pid && s->exe[0]) {
		snprintf(out, outlen, "%s", s->exe);
		return;
	}
	if (read_exe(pid, buf, sizeof(buf)) == 0 && s)
		store(pid, buf);
	snprintf(out, outlen, "%s", buf);
}

void procinfo_exec(uint32_t pid, const char *filename)
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
