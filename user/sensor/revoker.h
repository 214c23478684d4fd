/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sensor-side revocation (--revoke-command, off by default). Some
 * providers revoke only when given the token itself (GitHub's credential
 * revocation API), which the collector never has. The collector marks a
 * token for revocation (a revocation hook with mark_for_sensor) and lists
 * it in its batch replies; when this sensor next captures that token on
 * the wire, it runs the local command once with the raw token on standard
 * input, in a worker thread, and reports the outcome (never the token).
 *
 * The raw token is copied only for a marked fingerprint, into locked
 * memory that is wiped as soon as the command has read it.
 */
#ifndef TOKENTAP_REVOKER_H
#define TOKENTAP_REVOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct revoker_result {
	char fingerprint[33];
	char token_type[32];
	char outcome[16];      /* "ok", "failed", "timeout", "error" */
	int exit_code;
	char detail[1024];     /* command output, the token masked */
	int64_t ts_ns;
};

struct revoker;

/* command: absolute path, run without a shell. NULL when out of memory. */
struct revoker *revoker_new(const char *command, unsigned timeout_s);
/* Runs the commands queued, then stops the worker (results stay to collect). */
void revoker_stop(struct revoker *r);
/* Stops if needed, wipes and frees. */
void revoker_free(struct revoker *r);

/* The collector's current list (main thread). */
void revoker_set_marked(struct revoker *r, char (*fps)[33], size_t n);
/* Marked and not handled yet in this run (main thread, per credential). */
bool revoker_wants(struct revoker *r, const char *fp);
/* Hands the raw credential over for its command (main thread). */
void revoker_take(struct revoker *r, const char *fp, const char *token_type, const char *value,
		  size_t len);
/* Calls cb for each command finished since the last call (main thread). */
void revoker_results(struct revoker *r, void (*cb)(void *ctx, const struct revoker_result *res),
		     void *ctx);

#endif
