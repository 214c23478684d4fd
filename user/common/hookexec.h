/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a revocation hook: an operator's command, no shell, a minimal
 * environment, input on stdin, output captured (bounded), a deadline.
 * Safe to call from a worker thread of a multithreaded process.
 */
#ifndef TOKENTAP_HOOKEXEC_H
#define TOKENTAP_HOOKEXEC_H

#include <stdbool.h>
#include <stddef.h>

#define HOOK_OUTPUT_MAX 2048
/* Entries of extra_env accepted. */
#define HOOK_ENV_MAX 64
/* Between SIGTERM to the hook's process group and SIGKILL. */
#define HOOK_KILL_GRACE_MS 2000

struct hook_result {
	int exit_code;                /* exit status, or -1 */
	int term_signal;              /* signal that ended it, 0 when none */
	bool timed_out;               /* killed after the timeout */
	char output[HOOK_OUTPUT_MAX]; /* first bytes of stdout+stderr, NUL-terminated;
				       * printable ASCII kept, every other byte '?' */
	size_t output_len;            /* < HOOK_OUTPUT_MAX */
	char error[256];              /* why it could not be started */
};

/*
 * Runs argv[0] (an absolute path) with argv: no shell, the environment
 * PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C plus extra_env ("K=V"
 * entries, NULL-terminated, may be NULL), stdin fed with input[0..len)
 * then closed, stdout and stderr captured together into r->output (the
 * rest read and discarded), every other descriptor closed, the child in a
 * process group of its own with default signal dispositions and an empty
 * signal mask. After timeout_ms the group gets SIGTERM, then SIGKILL
 * HOOK_KILL_GRACE_MS later. A hook that ignores its stdin never blocks
 * the caller, and a write to its closed stdin never raises SIGPIPE in the
 * process. Output left behind by the hook's background children is not
 * waited for once the hook itself has exited.
 *
 * Returns 0 when the command ran to an end (see exit_code, term_signal,
 * timed_out), -1 when it could not be started (r->error says why).
 */
int hook_run(char *const argv[], const char *const *extra_env, const void *input, size_t len,
	     long timeout_ms, struct hook_result *r);

#endif
