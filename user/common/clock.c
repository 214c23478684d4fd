/* SPDX-License-Identifier: Apache-2.0 */
#include "clock.h"

#include <time.h>

#ifdef TOKENTAP_TEST_HOOKS
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Test builds only: the wall clock is shifted by the signed number of
 * seconds in the file TOKENTAP_TEST_CLOCK_OFFSET_FILE names, read at every
 * call, so a test steps the sensor's clock without stepping the host's
 * (CLOCK_REALTIME is shared by every process; a time namespace does not
 * cover it).
 */
static int64_t test_offset_ns(void)
{
	const char *path = getenv("TOKENTAP_TEST_CLOCK_OFFSET_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10) * 1000000000LL;
}
#else
static int64_t test_offset_ns(void)
{
	return 0;
}
#endif

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
	return read_ns(CLOCK_REALTIME) + test_offset_ns();
}

int64_t clock_real_ms(void)
{
	return clock_real_ns() / 1000000LL;
}
