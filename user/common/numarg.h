/* SPDX-License-Identifier: Apache-2.0 */
/* Numeric command-line arguments, strictly parsed. */
#ifndef TOKENTAP_NUMARG_H
#define TOKENTAP_NUMARG_H

#include <stdint.h>

/* "4194304", "512k", "4M", "1G" (powers of 1024) in 1..max. 0 or -1. */
int numarg_size(const char *s, uint64_t max, uint64_t *out);
/* Decimal integer in min..max. 0 or -1. */
int numarg_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A duration with its unit, "90s", "15m", "12h", "30d", into milliseconds
 * at most max_ms; "0" alone is 0. 0 or -1.
 */
int numarg_duration(const char *s, uint64_t max_ms, uint64_t *out_ms);

#endif
