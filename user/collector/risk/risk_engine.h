/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine inside `serve`: one thread evaluates what the store
 * learnt every second (store_risk_pass), another carries out the queued
 * actions (alert webhooks, revocation hooks) with their retries, so a slow
 * receiver never delays evaluation.
 */
#ifndef TOKENTAP_RISK_ENGINE_H
#define TOKENTAP_RISK_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "risk.h"
#include "store.h"

struct risk_engine;

/* cfg must outlive the engine. NULL with a reason on failure. */
struct risk_engine *risk_engine_start(struct store *st, const struct risk_config *cfg, char *err,
			  size_t errlen);
/*
 * Where the engine reports whether this process leads (store_leader):
 * 1 or 0, written at each change. Optional; set right after start.
 */
void risk_engine_leader_gauge(struct risk_engine *d, atomic_int *gauge);
/* Stops both threads (an action under way finishes first). */
void risk_engine_stop(struct risk_engine *d);

/*
 * Carries out the actions due at now_ms, up to max of them. Returns the
 * number attempted. Used by the action thread and by `evaluate`.
 */
int risk_engine_act(struct store *st, const struct risk_config *cfg, int64_t now_ms, unsigned max);

#endif
