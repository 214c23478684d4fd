/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine's work on the store: one pass evaluates what was learnt
 * since the previous pass (first sightings in seen_log, held tokens, use
 * after silence, held tokens never used), records findings once per
 * (token, rule, subject), keeps each token's baseline, rescores the
 * tokens touched, and queues alert deliveries and revocation hooks in the
 * outbox. The rules themselves are pure (risk.h).
 */
#ifndef TOKENTAP_STORE_RISK_H
#define TOKENTAP_STORE_RISK_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include "risk.h"
#include "store.h"

struct risk_pass_stats {
	unsigned seen;      /* first sightings evaluated */
	unsigned held;      /* held rows evaluated */
	unsigned findings;  /* new findings */
	unsigned scored;    /* tokens rescored */
};

/*
 * Rows read per pass at most: a backlog is worked off over several passes,
 * and a pass holds the store (ingest waits) for a few tens of ms at most.
 */
#define RISK_PASS_ROWS 500

/* One pass at now_ms. 0, or -1 with a one-line reason (nothing changed). */
int store_risk_pass(struct store *st, const struct risk_config *cfg, int64_t now_ms,
		    struct risk_pass_stats *stats, char *err, size_t errlen);

/* One queued action (alert delivery or revocation hook) that is due. */
struct risk_action {
	int64_t finding_id;
	char kind[16];        /* "webhook" or "hook" */
	char target[600];     /* the webhook label (webhook_url_label) or the hook name */
	unsigned attempts;    /* made so far */
	struct json_object *alert; /* the alert (store_alert_json), owned */
};

/* Up to cap due actions (next_at <= now_ms). Returns the number, or -1. */
int store_risk_due(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
		   char *err, size_t errlen);
void risk_action_release(struct risk_action *a);

/*
 * Records an attempt: outcome "ok", "retry" (next_at set) or "failed"
 * (final). For webhooks a delivery log row; for hooks a revocation row
 * (exit_code, http_status, detail) and, with mark, a revocation mark for
 * sensors.
 */
struct risk_outcome {
	const char *outcome;
	int64_t next_at;
	long http_status;
	int exit_code;
	const char *detail;
	int mark;
};
int store_risk_record(struct store *st, const struct risk_action *a, int64_t now_ms,
		      const struct risk_outcome *o, char *err, size_t errlen);

#endif
