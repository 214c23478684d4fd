/* SPDX-License-Identifier: Apache-2.0 */
#include "jvm.h"

#include <dirent.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool jvm_maps_line_maps(const char *line, const char *lib)
{
	char perms[8] = "";
	const char *path, *base;
	size_t len;

	/* start-end perms offset dev inode path */
	if (sscanf(line, "%*x-%*x %7s", perms) != 1 || strlen(perms) < 3 || perms[2] != 'x')
		return false;
	path = strchr(line, '/');
	if (!path)
		return false;
	len = strcspn(path, "\n");
	base = path + len;
	while (base > path && base[-1] != '/')
		base--;
	return (size_t)(path + len - base) == strlen(lib) && memcmp(base, lib, strlen(lib)) == 0;
}

bool jvm_is_hotspot(const char *proc, uint32_t pid)
{
	return jvm_state_of(proc, pid) == JVM_HOTSPOT;
}

enum jvm_state jvm_state_of(const char *proc, uint32_t pid)
{
	char path[64], line[4096 + 256];
	enum jvm_state found = JVM_NONE;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%u/maps", proc, pid);
	fp = fopen(path, "re");
	if (!fp)
		return JVM_NONE;
	while (found != JVM_HOTSPOT && fgets(line, sizeof(line), fp)) {
		/* a line longer than the buffer: skip its rest */
		if (!strchr(line, '\n')) {
			int c;

			while ((c = fgetc(fp)) != EOF && c != '\n')
				;
		}
		if (jvm_maps_line_maps(line, "libjvm.so"))
			found = JVM_HOTSPOT;
		else if (jvm_maps_line_maps(line, "libjli.so"))
			found = JVM_LAUNCHER;
	}
	fclose(fp);
	return found;
}

int jvm_nspid_parse(const char *status, size_t n, uint32_t *nspid)
{
	const char *p = status, *end = status + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > 6 && memcmp(p, "NSpid:", 6) == 0) {
			unsigned long last = 0;
			int fields = 0;

			for (const char *q = p + 6; q < p + len;) {
				unsigned long v = 0;
				int digits = 0;

				while (q < p + len && (*q == ' ' || *q == '\t'))
					q++;
				while (q < p + len && *q >= '0' && *q <= '9' && digits < 11) {
					v = v * 10 + (unsigned long)(*q - '0');
					q++;
					digits++;
				}
				if (digits == 0) {
					if (q < p + len)
						return -1;
					break;
				}
				if (v == 0 || v > UINT32_MAX)
					return -1;
				last = v;
				fields++;
			}
			if (fields == 0)
				return -1;
			*nspid = (uint32_t)last;
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -1;
}

bool jvm_status_catches(const char *status, size_t n, int sig)
{
	const char *p = status, *end = status + n;

	if (sig < 1 || sig > 64)
		return false;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > 7 && memcmp(p, "SigCgt:", 7) == 0) {
			uint64_t mask = 0;
			int digits = 0;

			for (const char *q = p + 7; q < p + len; q++) {
				int v;

				if (*q == ' ' || *q == '\t')
					continue;
				if (*q >= '0' && *q <= '9')
					v = *q - '0';
				else if (*q >= 'a' && *q <= 'f')
					v = *q - 'a' + 10;
				else
					return false;
				if (++digits > 16)
					return false;
				mask = mask << 4 | (uint64_t)v;
			}
			return digits > 0 && (mask >> (sig - 1) & 1);
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return false;
}

bool jvm_cmdline_no_attach(const char *cmdline, size_t n)
{
	static const char flag[] = "-XX:+DisableAttachMechanism";
	size_t fl = sizeof(flag) - 1;

	for (size_t i = 0; i < n;) {
		const char *arg = cmdline + i;
		const char *nul = memchr(arg, '\0', n - i);
		size_t len = nul ? (size_t)(nul - arg) : n - i;

		if (len == fl && memcmp(arg, flag, fl) == 0)
			return true;
		i += len + 1;
	}
	return false;
}

/* Reads a small /proc file whole into buf; its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp)
		return -1;
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return (ssize_t)n;
}

bool jvm_signal_ready(const char *proc, uint32_t pid)
{
	char path[64], status[4096];
	struct dirent *de;
	bool ready = false;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%u/status", proc, pid);
	n = read_small(path, status, sizeof(status));
	if (n <= 0 || !jvm_status_catches(status, (size_t)n, 3))
		return false;
	snprintf(path, sizeof(path), "%s/%u/task", proc, pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!ready && (de = readdir(d)) != NULL) {
		char comm_path[64 + 256 + 16], comm[32] = "";
		FILE *fp;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(comm_path, sizeof(comm_path), "%s/%s/comm", path, de->d_name);
		fp = fopen(comm_path, "re");
		if (!fp)
			continue;
		if (fgets(comm, sizeof(comm), fp))
			/* comm is cut at 15 bytes: "Signal Dispatch" */
			ready = strncmp(comm, "Signal Dispatch", 15) == 0;
		fclose(fp);
	}
	closedir(d);
	return ready;
}
