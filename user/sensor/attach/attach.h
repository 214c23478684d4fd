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
#include "tokentap.h"

struct tokentap_bpf;
struct uprobe_link;
struct exe_cache;
struct content_cache;
struct link_reaper;

/* The functions probed, in every file that defines them. */
enum tls_probe {
	PROBE_SSL_WRITE,     /* OpenSSL, BoringSSL */
	PROBE_SSL_WRITE_EX,
	PROBE_SSL_WRITE_EX2, /* OpenSSL 3.3+ */
	PROBE_GNUTLS_SEND,   /* GnuTLS gnutls_record_send2 */
	PROBE_NSS_WRITE,     /* NSS (NSPR) PR_Write */
	PROBE_NSS_SEND,      /* NSS (NSPR) PR_Send */
	PROBE_JAVA_WRITE,    /* the Java agent's libtokentap_java.so (--java) */
	PROBE_RUSTLS_WRITE,  /* rustls <Writer as std::io::Write>::write (found by demangled name) */
	PROBE_RUSTLS_WRITEV, /* ... ::write_vectored */
	PROBE_MAX,
};

/* Go header probe links per file: a std/x/net pair, then gRPC-Go's */
#define GO_HF_LINKS 3

struct attach_file {
	dev_t dev;
	ino_t ino;
	bool tls;               /* defines a probed function and is attached */
	bool is_lib;
	unsigned lib;           /* enum tt_tls_lib */
	struct uprobe_link *links[PROBE_MAX];
	struct uprobe_link *go_link;  /* Go crypto/tls (attach_go.h) */
	/* Go HTTP/2 headers: encodeHeaders or hpack WriteField (std and x/net), gRPC-Go's writeHeader */
	struct uprobe_link *go_hf_links[GO_HF_LINKS];
	bool keep;              /* found by the startup glob: never released */
	bool released;          /* links destroyed: no process mapped it any more */
	int64_t seen_ns;        /* last attach or sighting in a process's maps (CLOCK_MONOTONIC) */
	unsigned go_slot;       /* 1 + its go_bins index, kept across release and re-attach; 0: none */
	struct tt_file_key kkey; /* the BPF programs' name for it (decided map); ino 0: none */
	int64_t ctime_ns;       /* st_ctime when examined: a reused inode number differs */
	bool rust_stripped;     /* a Rust program without symbols: its rustls cannot be probed */
};

struct attacher {
	struct tokentap_bpf *skel;
	struct exe_cache *exes;     /* told of every process found running */
	struct attach_file *files;  /* every file examined, TLS or not */
	size_t n, cap;
	uint32_t self_pid;
	uint32_t only_pid;          /* 0: all processes */
	bool entry_probes;          /* never move probes off the entry */
	int verbose;
	unsigned go_bins_used;      /* go_bins slots handed out; never reused by another file */
	/* counts for the startup line and sensor_status */
	unsigned tls_libs, tls_exes, probes, probes_at_call, attach_errors;
	/* attach_errors the kernel refused for want of a capability (EACCES, EPERM) */
	unsigned attach_denied;
	unsigned files_by_lib[TT_LIB_MAX];
	unsigned released_files;    /* attachments released since start */
	unsigned rust_stripped;     /* stripped Rust programs examined (rustls not probed) */
	uint64_t examined;          /* files analysed (or taken from the caches) since start */
	struct content_cache *tls_cache;  /* TLS library analyses by content */
	struct content_cache *go_cache;   /* Go program analyses by content (attach_go.c) */
	struct link_reaper *reaper; /* destroys released links; NULL: destroyed inline */
};

#define RELEASE_BATCH 256

/*
 * One release pass in three steps, so that the slow part (reading every
 * process's maps) holds no lock: begin and end under the attacher's lock,
 * scan without it.
 */
struct release_pass {
	size_t n;
	int64_t started_ns;
	size_t idx[RELEASE_BATCH];   /* indexes into the attacher's files */
	dev_t dev[RELEASE_BATCH];
	ino_t ino[RELEASE_BATCH];
	bool mapped[RELEASE_BATCH];
};

void attacher_init(struct attacher *a, struct tokentap_bpf *skel, struct exe_cache *exes,
		   uint32_t only_pid, bool entry_probes, int verbose);
void attacher_free(struct attacher *a);
/*
 * False when TLS cannot be captured: no way to attach uprobes with these
 * capabilities, or the kernel refused every attachment tried.
 */
bool attacher_tls_possible(const struct attacher *a);
/* Counts an attachment that failed (errno set by the attempt). */
void attach_failed(struct attacher *a);
/* Examines every executable mapping of pid. Returns files newly attached. */
int attacher_scan_pid(struct attacher *a, uint32_t pid);
/*
 * A process maps the file open as its fd executable (the BPF mmap event;
 * key: the kernel's name for the file, marked decided once examined). Examines it through the
 * process's descriptor unless it is known. Returns 1 when newly attached, 0
 * when known or nothing to probe, -1 when the descriptor no longer names the
 * file (then scan the process's maps instead).
 */
int attacher_mapped(struct attacher *a, uint32_t pid, int fd, const struct tt_file_key *key);
/* After a scan of the mapping process: the file named key is decided if the scan found it. */
void attacher_mark_scanned(struct attacher *a, const struct tt_file_key *key);
/* Examines the file open as fd in this process (an exec being gated). Returns 1 when attached. */
int attacher_examine_open(struct attacher *a, int fd, bool is_exe);
/* Every process (or only_pid), plus libssl in the standard library directories. */
int attacher_scan_all(struct attacher *a);
/* True when some attached file could be released (not from the startup glob). */
bool attacher_has_releasable(const struct attacher *a);
/*
 * Releases the attachments of files no process maps any more (one pass over
 * every /proc/PID/maps), except the standard libraries found at startup. A file
 * mapped again later is attached again. Returns files released.
 */
int attacher_release_unmapped(struct attacher *a);
/* The candidates of a pass (attached, not from the glob, not seen lately). Returns p->n. */
size_t attacher_release_begin(const struct attacher *a, struct release_pass *p);
/* Marks the candidates some process maps executable (one pass over /proc); needs no attacher. */
void release_pass_scan(struct release_pass *p);
/*
 * Releases the candidates no process mapped, unless examined or seen again
 * since begin. Their links go to the reaper. Returns files released.
 */
int attacher_release_end(struct attacher *a, const struct release_pass *p);

#endif
