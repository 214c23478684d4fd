/* SPDX-License-Identifier: Apache-2.0 */
#include "retention_opts.h"
#include "numarg.h"

#include <stdio.h>
#include <string.h>

/* Ten years: far beyond any sensible age, small enough for every time sum. */
#define AGE_MAX_MS (3650ULL * 86400 * 1000)

struct key {
	const char *name;
	size_t off; /* into struct retention_policy, or SIZE_MAX for every */
};

static const struct key keys[] = {
	{ "minutes", offsetof(struct retention_policy, minutes_ms) },
	{ "hours", offsetof(struct retention_policy, hours_ms) },
	{ "days", offsetof(struct retention_policy, days_ms) },
	{ "batch-keys", offsetof(struct retention_policy, dedupe_ms) },
	{ "sightings", offsetof(struct retention_policy, sightings_ms) },
	{ "deliveries", offsetof(struct retention_policy, deliveries_ms) },
	{ "coverage", offsetof(struct retention_policy, coverage_ms) },
	{ "every", SIZE_MAX },
};

static int set(const char *item, struct retention_policy *p, int64_t *every_ms, char *err,
	       size_t errlen)
{
	const char *eq = strchr(item, '=');
	uint64_t v;

	if (!eq) {
		snprintf(err, errlen, "--retention: \"%.40s\" is not KEY=DURATION", item);
		return -1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) != (size_t)(eq - item) ||
		    strncmp(keys[i].name, item, (size_t)(eq - item)))
			continue;
		if (numarg_duration(eq + 1, AGE_MAX_MS, &v) < 0) {
			snprintf(err, errlen,
				 "--retention %s: \"%.40s\" is not a duration like 90s, 15m, 12h, 30d"
				 " (at most 3650d) or 0",
				 keys[i].name, eq + 1);
			return -1;
		}
		if (keys[i].off == SIZE_MAX)
			*every_ms = (int64_t)v;
		else
			*(int64_t *)((char *)p + keys[i].off) = (int64_t)v;
		return 0;
	}
	snprintf(err, errlen,
		 "--retention: unknown key \"%.*s\" (minutes, hours, days, batch-keys, sightings,"
		 " deliveries, coverage, every)",
		 (int)((eq - item) > 40 ? 40 : (eq - item)), item);
	return -1;
}

/* A coarser series must outlive the finer one it is fed from, or rows would skip it. */
static int check_order(const struct retention_policy *p, char *err, size_t errlen)
{
	if (p->hours_ms && p->minutes_ms && p->hours_ms < p->minutes_ms) {
		snprintf(err, errlen, "--retention: hours must be at least minutes (or 0)");
		return -1;
	}
	if (p->days_ms && p->hours_ms && p->days_ms < p->hours_ms) {
		snprintf(err, errlen, "--retention: days must be at least hours (or 0)");
		return -1;
	}
	return 0;
}

int retention_spec_parse(const char *spec, struct retention_policy *p, int64_t *every_ms,
			 char *err, size_t errlen)
{
	char buf[RETENTION_SPEC_MAX];
	char *save = NULL;

	if (!spec || !*spec || strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--retention: empty or longer than %d bytes",
			 RETENTION_SPEC_MAX - 1);
		return -1;
	}
	if (!strcmp(spec, "off")) {
		*every_ms = 0;
		return 0;
	}
	strcpy(buf, spec);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (set(item, p, every_ms, err, errlen) < 0)
			return -1;
	return check_order(p, err, errlen);
}
