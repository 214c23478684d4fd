/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine's output as JSON: alerts (findings with their token and
 * delivery log) and each token's score, reasons, held inventory and
 * revocation record, for the API, the CLI and alert bodies alike.
 */
#ifndef TOKENTAP_STORE_ALERTS_H
#define TOKENTAP_STORE_ALERTS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include "store.h"

struct alert_filter {
	int min_severity;        /* enum risk_severity; 0 all */
	const char *fingerprint; /* NULL: every token */
	int64_t since_ms;        /* findings first seen at or after; 0 all */
	unsigned limit;          /* 0: 1000 */
};

/* Newest first. 0 and *out (an array), or -1. */
int store_query_alerts(struct store *st, const struct alert_filter *f, struct json_object **out,
		       char *err, size_t errlen);

/* The caller holds st->lock (store_internal.h). NULL when unknown. */
struct json_object *store_alert_json_locked(struct store *st, int64_t finding_id);
/* Open findings of a token, heaviest first: [{rule, severity, weight, reason, subject}]. */
struct json_object *store_open_reasons(struct store *st, const char *fingerprint);
/*
 * Adds "risk" (score, reasons...), "held" and "held_state" to a token
 * object; full also adds "findings" and "revocations". Lock held.
 */
int store_add_risk_locked(struct store *st, struct json_object *tok, const char *fingerprint,
			  int full);

/*
 * Fingerprints marked for sensor-side revocation and not done yet, oldest
 * first, appended to arr (at most max). Returns the number, or -1.
 */
#define STORE_REVOKE_REPLY_MAX 64
int store_pending_revocations(struct store *st, struct json_object *arr, unsigned max);

#endif
