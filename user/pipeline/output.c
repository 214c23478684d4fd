/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output: a final sighting is counted in the aggregate and the first of
 * its (token, process, destination) triple reported at once; events go to
 * the output stream (JSON lines or text) and to the sink.
 */
#include "clock.h"
#include "pipeline_internal.h"

static void print_json(struct pipeline *p, struct json_object *o)
{
	if (!o || !p->o.out) {
		json_object_put(o);
		return;
	}
	fprintf(p->o.out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(p->o.out);
	json_object_put(o);
}

void output_token(struct pipeline *p, const char *event, int64_t ts, const struct sighting *s,
		  uint64_t count)
{
	if (!p->o.out)
		return;
	if (p->o.json) {
		struct json_object *o = jsonout_token_event(event, ts, s, count);
		struct pod_ident id;

		if (o && (s->pod_uid[0] || s->container_id[0]) && p->o.pods.resolve &&
		    p->o.pods.resolve(p->o.pods.ctx, s->pod_uid, s->container_id, &id))
			jsonout_add_pod(o, &id);
		print_json(p, o);
	} else {
		textout_token_event(p->o.out, event, ts, s, count);
		fflush(p->o.out);
	}
}

void pipeline_emit_status(struct pipeline *p, const struct status_field *f, size_t n)
{
	if (p->o.json && p->o.out)
		print_json(p, jsonout_status(clock_real_ns(), f, n));
	if (p->o.sink && p->o.sink->status)
		p->o.sink->status(p->o.sink->ctx, f, n);
}

void output_report(struct pipeline *p, const struct sighting *s)
{
	output_token(p, "token_seen", s->ts_unix_ns, s, 0);
	if (p->o.sink && p->o.sink->seen)
		p->o.sink->seen(p->o.sink->ctx, s);
}

/* A sighting is final: count it, and report the first of its triple now. */
void output_sighting(struct pipeline *p, const struct sighting *s)
{
	switch (agg_add(&p->agg, s, NULL)) {
	case AGG_NEW:
		if (!pod_hold_add(p, s, clock_mono_ns()))
			output_report(p, s);
		break;
	case AGG_FULL:
		p->st.agg_overflow++;
		break;
	case AGG_COUNTED:
		break;
	}
}
