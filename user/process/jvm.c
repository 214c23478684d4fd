/* SPDX-License-Identifier: Apache-2.0 */
#include "jvm.h"

#include <dirent.h>
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

bool jvm_signal_ready(const char *proc, uint32_t pid)
{
	char path[64];
	struct dirent *de;
	bool ready = false;
	DIR *d;

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
