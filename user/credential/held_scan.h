/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Held-token scanner: credentials a process holds in its environment and
 * command line (docs/token-formats.md "token visible in a process's argv or
 * environment"). Only what a prefix rule of the classifier recognises is
 * reported (classify_find_prefixed()), fingerprinted over the same bytes
 * that would cross the wire, so a held token and its use share one
 * fingerprint. Pure logic plus bounded reads of /proc-like files.
 */
#ifndef TOKENTAP_HELD_SCAN_H
#define TOKENTAP_HELD_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include "classify.h"
#include "fingerprint.h"

#define HELDSCAN_MAX_BYTES (256 * 1024) /* read of one environ or cmdline file */
#define HELDSCAN_NAME_MAX 64

enum held_source { HELD_ENVIRON = 0, HELD_ARGV = 1 };

struct held_token {
	enum held_source source;
	/* environment variable name (printable, truncated), or "argv[N]" */
	char name[HELDSCAN_NAME_MAX];
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	struct token_info info;       /* owned by the scanner: valid only during the callback */
};

typedef void (*held_cb)(void *ctx, const struct held_token *t);

/*
 * Scans a /proc/PID/environ or /proc/PID/cmdline image: NUL-separated
 * strings, possibly not NUL-terminated at the end, possibly cut. For each
 * credential found by classify_find_prefixed(), fingerprints it with key
 * (the same bytes as on the wire => the same fingerprint), classifies it
 * (struct credential with source CRED_SRC_HEADER, empty header/scheme, so
 * only value rules apply) and calls cb. Returns the number reported.
 * A credential appearing twice in one image is reported once per
 * (name, fingerprint).
 *
 * Environment entries are NAME=VALUE: only VALUE is scanned, name = NAME
 * (an entry without '=' is scanned whole, name ""). Command line: each
 * argument is scanned whole, name = "argv[N]".
 */
size_t held_scan_buffer(const char *buf, size_t len, enum held_source src,
		       const struct fp_key *key, held_cb cb, void *ctx);

/*
 * Reads <proc_root>/<pid>/environ and cmdline (proc_root normally "/proc"),
 * each bounded to HELDSCAN_MAX_BYTES (an entry cut by the bound is
 * dropped), scans both, wipes the buffers. Returns the number reported, or
 * -1 with errno when the process is gone or unreadable.
 */
int held_scan_pid(const char *proc_root, uint32_t pid, const struct fp_key *key,
		 held_cb cb, void *ctx);

#endif
