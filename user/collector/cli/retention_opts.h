/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The --retention option: "KEY=DURATION,..." over the defaults of
 * retention_policy_default(), or "off". Pure parsing, no store access.
 */
#ifndef TOKENTAP_RETENTION_OPTS_H
#define TOKENTAP_RETENTION_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define RETENTION_SPEC_MAX 512
#define RETENTION_EVERY_DEFAULT_MS (10 * 60 * 1000)

/* The keys and what they mean, for --help. */
#define RETENTION_HELP                                                                     \
	"  --retention SPEC        history kept, KEY=DURATION[,...] (units s, m, h, d;\n"      \
	"                          0 keeps for ever), or off:\n"                               \
	"                            minutes=7d      per-minute usage, then hourly\n"          \
	"                            hours=90d       hourly usage, then daily\n"               \
	"                            days=730d       daily usage, then dropped\n"              \
	"                            batch-keys=7d   (sensor, seq) dedupe keys; older\n"       \
	"                                            replays stay refused\n"                   \
	"                            sightings=30d   sightings already evaluated (each\n"      \
	"                                            token's first is kept)\n"                 \
	"                            deliveries=90d  alert delivery log\n"                     \
	"                            coverage=30d    tls_uncovered rows not reported again\n"  \
	"                            every=10m       how often a pass runs (0: never)\n"        \
	"                          Totals, first/last seen and findings are never pruned.\n"

/*
 * Applies spec to p and *every_ms (set them to their defaults first).
 * "off" sets *every_ms to 0. 0, or -1 with a one-line reason.
 */
int retention_spec_parse(const char *spec, struct retention_policy *p, int64_t *every_ms,
			 char *err, size_t errlen);

#endif
