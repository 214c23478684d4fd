/* SPDX-License-Identifier: Apache-2.0 */
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"
#include "tokentap.skel.h"
#include "uprobe_link.h"

#define TRACEFS "/sys/kernel/tracing"
/* loader_load attaches every one of them or fails */
#define N_TRACEPOINTS 8

/* libbpf's print callback takes no context: the -v level it filters by */
static int libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char *msg, *line, *save = NULL;
	int n;

	if (level == LIBBPF_DEBUG && libbpf_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && !libbpf_verbose)
		return 0;
	if (log_format_current() == LOG_FORMAT_TEXT) {
		/* as always: verifier logs span many lines under one prefix */
		fprintf(stderr, "tokentap: libbpf: ");
		return vfprintf(stderr, fmt, args);
	}
	n = vasprintf(&msg, fmt, args);
	if (n < 0)
		return n;
	/* one JSON object per line of a multi-line message */
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_msg(level == LIBBPF_DEBUG ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "libbpf: %s", line);
	free(msg);
	return n;
}

int loader_check_env(char *err, size_t errlen)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (geteuid() != 0) {
		snprintf(err, errlen, "must run as root (loading BPF programs needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)");
		return -1;
	}
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 8))) {
		snprintf(err, errlen, "kernel %s is too old: tokentap needs Linux 5.8 or later (BPF ring buffer)",
			 u.release);
		return -1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen, "kernel BTF not found at /sys/kernel/btf/vmlinux: tokentap needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	return 0;
}

/* Syscall tracepoints are resolved through tracefs, absent on a fresh machine. */
static int ensure_tracefs(char *err, size_t errlen)
{
	struct stat st;

	if (stat(TRACEFS "/events", &st) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) != 0 && errno != EBUSY) {
		snprintf(err, errlen, "cannot mount tracefs at %s: %s", TRACEFS, strerror(errno));
		return -1;
	}
	return 0;
}

struct tokentap_bpf *loader_load(const struct loader_opts *o, char *err, size_t errlen)
{
	struct tokentap_bpf *skel;
	struct tp {
		struct bpf_program *prog;
		struct bpf_link **link; /* the skeleton destroys the links it holds */
		const char *cat, *name;
	};
	int e;

	libbpf_verbose = o->verbose;
	libbpf_set_print(libbpf_print);
	if (ensure_tracefs(err, errlen) != 0)
		return NULL;
	skel = tokentap_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		return NULL;
	}
	uprobe_link_prepare(skel->obj);
	skel->rodata->targ_tgid = o->only_pid;
	skel->rodata->self_tgid = (uint32_t)getpid();
	skel->rodata->max_capture = o->max_capture;
	skel->rodata->hold_unknown_tls = o->hold_unknown_tls;
	bpf_map__set_max_entries(skel->maps.scratch, (uint32_t)libbpf_num_possible_cpus());
	if (o->ringbuf_bytes)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	e = tokentap_bpf__load(skel);
	if (e) {
		snprintf(err, errlen, "cannot load BPF programs: %s (run with -v -v for the verifier log)",
			 strerror(-e));
		tokentap_bpf__destroy(skel);
		return NULL;
	}

	const struct tp tps[] = {
		{ skel->progs.tp_write, &skel->links.tp_write, "syscalls", "sys_enter_write" },
		{ skel->progs.tp_writev, &skel->links.tp_writev, "syscalls", "sys_enter_writev" },
		{ skel->progs.tp_sendto, &skel->links.tp_sendto, "syscalls", "sys_enter_sendto" },
		{ skel->progs.tp_sendmsg, &skel->links.tp_sendmsg, "syscalls", "sys_enter_sendmsg" },
		{ skel->progs.tp_exec, &skel->links.tp_exec, "sched", "sched_process_exec" },
		{ skel->progs.tp_mmap, &skel->links.tp_mmap, "syscalls", "sys_enter_mmap" },
		{ skel->progs.tp_exit, &skel->links.tp_exit, "sched", "sched_process_exit" },
		{ skel->progs.tp_close, &skel->links.tp_close, "syscalls", "sys_enter_close" },
	};
	_Static_assert(sizeof(tps) / sizeof(tps[0]) == N_TRACEPOINTS, "N_TRACEPOINTS");
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		*tps[i].link = bpf_program__attach_tracepoint(tps[i].prog, tps[i].cat, tps[i].name);
		if (!*tps[i].link) {
			snprintf(err, errlen, "cannot attach tracepoint %s/%s: %s", tps[i].cat, tps[i].name,
				 strerror(errno));
			tokentap_bpf__destroy(skel);
			return NULL;
		}
	}
	return skel;
}

unsigned loader_tracepoints(void)
{
	return N_TRACEPOINTS;
}

void loader_destroy(struct tokentap_bpf *skel)
{
	tokentap_bpf__destroy(skel);
}

void loader_read_stats(struct tokentap_bpf *skel, uint64_t out[TT_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(out, 0, sizeof(uint64_t) * TT_STAT_MAX);
	if (ncpu <= 0 || !(vals = calloc((size_t)ncpu, sizeof(*vals))))
		return;
	for (uint32_t k = 0; k < TT_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &k, vals) != 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
}
