/* SPDX-License-Identifier: Apache-2.0 */
/* The collector's retention thread: a store_retain() pass every period. */
#ifndef TOKENTAP_RETENTION_TASK_H
#define TOKENTAP_RETENTION_TASK_H

#include <stdint.h>
#include "store.h"

struct retention_task;

/* Starts the thread (first pass at once). NULL with err. */
struct retention_task *retention_task_start(struct store *st, const struct retention_policy *p,
					    int64_t every_ms, char *err, size_t errlen);
/* Stops it (a pass in progress finishes its current step first). NULL is a no-op. */
void retention_task_stop(struct retention_task *t);

#endif
