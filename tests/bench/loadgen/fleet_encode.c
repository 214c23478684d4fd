/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Turns the model's records into the wire format with the test batch
 * builders (tests/unit/batch_fixture.h), which fill every field the
 * collector checks the way the sensor does.
 */
#include "fleet_encode.h"

#include <stdio.h>

#include "batch_fixture.h"

uint8_t *fleet_encode(const struct fleet *f, const struct fleet_batch *b, size_t *len)
{
	char sid[64], node[32], fp[33], exe[64], dst[64], host[64], cmd[128], var[32];
	Tokentap__V1__Batch *m;
	uint8_t *out;

	fleet_sensor_id(f, b->sensor, sid, sizeof(sid));
	fleet_node(b->sensor, node, sizeof(node));
	m = fx_batch(sid, node, b->seq);
	m->sent_at_ms = b->sent_at_ms;
	for (size_t i = 0; i < b->n_events; i++) {
		const struct fleet_event *e = &b->events[i];

		fleet_exe(e->workload, exe, sizeof(exe));
		fleet_dst(e->dst, dst, sizeof(dst), host, sizeof(host));
		if (e->kind == FE_HELD || e->kind == FE_SEEN || e->kind == FE_USAGE)
			fleet_fingerprint(f, e->token, fp);
		switch (e->kind) {
		case FE_STATUS:
			fx_add_status(m, e->ts_ms, b->seq * 100, 0);
			break;
		case FE_PROCESS:
			snprintf(cmd, sizeof(cmd), "%s --config /etc/svc.conf", exe);
			fx_add_process(m, e->pid, e->ts_ms - 3600000 - e->proc, exe, cmd, "");
			break;
		case FE_HELD:
			snprintf(var, sizeof(var), "SVC_TOKEN_%u", e->token % 100);
			fx_add_held(m, fp, fleet_token_type(e->token), e->pid, exe,
				    TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON, var, e->ts_ms);
			break;
		case FE_SEEN:
			fx_add_seen(m, fp, fleet_token_type(e->token), e->pid, exe, dst, host, e->ts_ms);
			break;
		case FE_USAGE:
			fx_add_usage(m, fp, fleet_token_type(e->token), e->pid, exe, dst, host, e->count,
				     e->ts_ms);
			break;
		}
	}
	out = fx_pack(m, true, len);
	fx_free(m);
	return out;
}
