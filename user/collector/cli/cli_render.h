/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Terminal rendering of the inventory JSON: readable tables. Every string
 * is printed with control characters replaced, since exe paths, hosts and
 * paths come from monitored processes.
 */
#ifndef TOKENTAP_CLI_RENDER_H
#define TOKENTAP_CLI_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/* Pretty JSON, one trailing newline. */
void render_json(FILE *out, struct json_object *o);
/* fp_width: characters of the fingerprint to show (32 all, 12 for top). */
void render_tokens(FILE *out, struct json_object *tokens, int fp_width);
void render_token(FILE *out, struct json_object *token);
/* Findings, newest first: severity, rule, token, reason. */
void render_alerts(FILE *out, struct json_object *alerts);
void render_sensors(FILE *out, struct json_object *sensors);
/* Per node and executable: covered or not, why, last seen, destinations. */
void render_coverage(FILE *out, struct json_object *coverage, bool only_uncovered);

#endif
