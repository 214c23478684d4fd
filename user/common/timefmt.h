/* SPDX-License-Identifier: Apache-2.0 */
/* Times as shown and reported: RFC 3339 UTC with milliseconds. */
#ifndef TOKENTAP_TIMEFMT_H
#define TOKENTAP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Latest time accepted from a sensor (2200-01-01): keeps arithmetic in range. */
#define TIME_MAX_MS 7258118400000LL

/*
 * "2026-01-02T03:04:05.678Z" for a Unix time in nanoseconds, rounded down
 * to the millisecond (times before 1970 never print a negative fraction).
 * A short buffer is truncated and terminated.
 */
void time_rfc3339_ns(int64_t unix_ns, char *buf, size_t len);
/* The same for milliseconds; times outside 0..TIME_MAX_MS are clamped. */
void time_rfc3339_ms(int64_t ms, char *buf, size_t len);

#endif
