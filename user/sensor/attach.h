/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding TLS libraries and executables and attaching uprobes to them, once
 * per file (device + inode) with pid -1, so that one attachment covers every
 * process that maps the file, now and later.
 */
#ifndef TOKENTAP_ATTACH_H
#define TOKENTAP_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct tokentap_bpf;
struct bpf_link;

struct attach_file {
	dev_t dev;
	ino_t ino;
	bool tls;               /* exports SSL_write / SSL_write_ex and is attached */
	bool is_lib;
	struct bpf_link *links[2];
};

struct attacher {
	struct tokentap_bpf *skel;
	struct attach_file *files;  /* every file examined, TLS or not */
	size_t n, cap;
	uint32_t self_pid;
	uint32_t only_pid;          /* 0: all processes */
	bool entry_probes;          /* never move probes off the entry */
	int verbose;
	/* counts for the startup line and sensor_status */
	unsigned tls_libs, tls_exes, probes, probes_at_call, attach_errors;
};

void attacher_init(struct attacher *a, struct tokentap_bpf *skel, uint32_t only_pid,
		   bool entry_probes, int verbose);
void attacher_free(struct attacher *a);
/* Examines every executable mapping of pid. Returns files newly attached. */
int attacher_scan_pid(struct attacher *a, uint32_t pid);
/* Every process (or only_pid), plus libssl in the standard library directories. */
int attacher_scan_all(struct attacher *a);

#endif
