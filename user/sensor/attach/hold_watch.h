/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --hold-unknown-tls: the deadline of a stop. The BPF mmap program records
 * every process it stops (the held map); the sensor continues it once its
 * library is attached. This thread continues any process still held past
 * HOLD_DEADLINE_MS, whatever the main loop is doing, and every one at stop.
 */
#ifndef TOKENTAP_HOLD_WATCH_H
#define TOKENTAP_HOLD_WATCH_H

#include <stdint.h>

#define HOLD_DEADLINE_MS 100

struct hold_watch;

/* held_fd: the held map. NULL when the thread cannot start. */
struct hold_watch *hold_watch_start(int held_fd);
/* The main loop continued pid: forget it. */
void hold_watch_release(struct hold_watch *w, uint32_t pid);
/* Processes continued at the deadline (not by the main loop). */
uint64_t hold_watch_timeouts(const struct hold_watch *w);
/* Continues every process still held and stops the thread. */
void hold_watch_stop(struct hold_watch *w);

#endif
