/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clocks: monotonic for intervals and deadlines (never jumps), real
 * time for what is reported or stored. The one place either is read.
 */
#ifndef TOKENTAP_CLOCK_H
#define TOKENTAP_CLOCK_H

#include <stdint.h>

/* Milliseconds in an hour and a day: the units of rollups, retention, windows. */
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY (24 * MS_PER_HOUR)

int64_t clock_mono_ns(void);
int64_t clock_mono_ms(void);
int64_t clock_real_ns(void);
int64_t clock_real_ms(void);

#endif
