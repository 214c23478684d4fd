/* SPDX-License-Identifier: Apache-2.0 */
#include "clock.h"

#include <time.h>

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

int64_t clock_mono_ms(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000000LL;
}

int64_t clock_real_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

int64_t clock_real_ms(void)
{
	return read_ns(CLOCK_REALTIME) / 1000000LL;
}
