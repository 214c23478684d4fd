/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Destroys released attachments on a thread of their own. Removing a
 * uprobe waits for the kernel (RCU grace periods, tens of milliseconds
 * each): a release pass of hundreds of files done inline stalled event
 * handling and new attachments for seconds. A removal also holds kernel
 * locks an attachment needs (perf-event uprobes: the trace event mutex,
 * across the grace period), so the reaper waits for a quiet moment: no
 * attachment for LINK_REAPER_QUIET_MS, unless its queue is half full.
 * Items are opaque to it: the destroy function given at start frees one.
 */
#ifndef TOKENTAP_LINK_REAPER_H
#define TOKENTAP_LINK_REAPER_H

#include <stdbool.h>
#include <stdint.h>

#define LINK_REAPER_QUEUE 4096
#define LINK_REAPER_QUIET_MS 200

struct link_reaper;

/* NULL when out of memory or the thread cannot start. */
struct link_reaper *link_reaper_start(void (*destroy)(void *item));
/*
 * Queues item for destruction. False (nothing queued) when r is NULL or
 * the queue is full: the caller destroys it itself.
 */
bool link_reaper_put(struct link_reaper *r, void *item);
/* An attachment is under way: destructions wait until LINK_REAPER_QUIET_MS after the last one. */
void link_reaper_busy(struct link_reaper *r);
/* Items destroyed so far, and queued but not yet destroyed. */
void link_reaper_counts(struct link_reaper *r, uint64_t *done, uint64_t *pending);
/* Destroys every item still queued, then stops the thread. NULL: nothing. */
void link_reaper_stop(struct link_reaper *r);

#endif
