/* SPDX-License-Identifier: Apache-2.0 */
#include "timefmt.h"

#include <stdio.h>
#include <time.h>

void time_rfc3339_ms(int64_t ms, char *buf, size_t len)
{
	time_t secs;
	struct tm tm;
	char base[32];

	if (ms < 0)
		ms = 0;
	if (ms > TIME_MAX_MS)
		ms = TIME_MAX_MS;
	secs = (time_t)(ms / 1000);
	if (!gmtime_r(&secs, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
