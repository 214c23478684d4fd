/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thread that reads the mapping events of undecided files (the
 * lib_events ring buffer, woken by each event) and hands each to a
 * callback at once: a new library is attached while the process that maps
 * it is still starting, whatever the main loop is busy with.
 */
#ifndef TOKENTAP_ATTACH_THREAD_H
#define TOKENTAP_ATTACH_THREAD_H

#include <stddef.h>

struct attach_thread;

/* ring_fd: the ring buffer map. NULL (errno set) when it cannot start. */
struct attach_thread *attach_thread_start(int ring_fd, int (*on_event)(void *ctx, void *data, size_t size),
					  void *ctx);
/* Stops the thread, then hands over the events still queued. NULL: nothing. */
void attach_thread_stop(struct attach_thread *t);

#endif
