/* SPDX-License-Identifier: Apache-2.0 */
#include "timefmt.h"

#include <stdio.h>
#include <time.h>

void time_rfc3339_ns(int64_t unix_ns, char *buf, size_t len)
{
	int64_t rem = unix_ns % 1000000000LL;
	time_t secs = (time_t)(unix_ns / 1000000000LL);
	struct tm tm;
	char base[32];

	/* floor, so times before 1970 never print a negative fraction */
	if (rem < 0) {
		rem += 1000000000LL;
		secs--;
	}
	if (!gmtime_r(&secs, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%s.%03dZ", base, (int)(rem / 1000000LL));
}

void time_rfc3339_ms(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	if (ms > TIME_MAX_MS)
		ms = TIME_MAX_MS;
	time_rfc3339_ns(ms * 1000000LL, buf, len);
}
