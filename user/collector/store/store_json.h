/* SPDX-License-Identifier: Apache-2.0 */
/* Values into json-c objects as every backend answers them. */
#ifndef TOKENTAP_STORE_JSON_H
#define TOKENTAP_STORE_JSON_H

#include <json-c/json.h>
#include <stdint.h>
#include "risk.h"
#include "timefmt.h"

static inline void put_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* Optional strings are left out when empty. */
static inline void put_opt(struct json_object *o, const char *k, const char *v)
{
	if (v && v[0])
		put_str(o, k, v);
}

static inline void put_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* Caller-facing times are RFC 3339. */
static inline void put_time(struct json_object *o, const char *k, int64_t ms)
{
	char buf[40];

	time_rfc3339_ms(ms, buf, sizeof(buf));
	put_str(o, k, buf);
}

/* "workload": what the risk engine calls the workload of process p. */
static inline void put_workload(struct json_object *o, const struct risk_proc *p)
{
	char w[RISK_SUBJECT_MAX];

	risk_workload(p, w, sizeof(w));
	put_str(o, "workload", w);
}

#endif
