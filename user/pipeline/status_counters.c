/* SPDX-License-Identifier: Apache-2.0 */
#include "status_counters.h"

#include <string.h>

#define STATUS_WIRE_NAME_(name, field) #name,
#define STATUS_LOCAL_NAME_(name) #name,
static const char *const names[STATUS_COUNTER_COUNT] = {
	STATUS_COUNTERS(STATUS_WIRE_NAME_, STATUS_LOCAL_NAME_)
};

void status_counters_fields(const struct status_counters *c,
			    struct status_field f[STATUS_COUNTER_COUNT])
{
#define STATUS_WIRE_FIELD_(name, field) STATUS_LOCAL_FIELD_(name)
#define STATUS_LOCAL_FIELD_(name) \
	f[STATUS_ID_##name] = (struct status_field){ names[STATUS_ID_##name], c->name };
	STATUS_COUNTERS(STATUS_WIRE_FIELD_, STATUS_LOCAL_FIELD_)
#undef STATUS_WIRE_FIELD_
#undef STATUS_LOCAL_FIELD_
}

int status_counter_find(const char *name)
{
	for (int i = 0; name && i < STATUS_COUNTER_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}
