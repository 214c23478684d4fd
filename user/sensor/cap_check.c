/* SPDX-License-Identifier: Apache-2.0 */
#include "cap_check.h"

#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"

static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
}

int cap_check(int verbose, enum uprobe_mode *mode)
{
	struct cap_feature f[CAP_FEATURE_MAX];
	struct utsname u;
	int major = 0, minor = 0;
	uint64_t eff = effective_caps();
	size_t n;

	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) != 2)
		major = minor = 0;
	n = cap_features(eff, major, minor, f);
	for (size_t i = 0; i < n; i++) {
		if (f[i].on)
			log_verbose(verbose, "capabilities: %s: on (%s)", f[i].name, f[i].detail);
		else if (i == 1)
			/* the sensor's main purpose: say it where nobody can miss it */
			log_error("capabilities: TLS CAPTURE IS OFF: %s; only plaintext HTTP is seen and /readyz answers 503",
				  f[i].detail);
		else if (i > 0)
			log_warn("capabilities: %s: off: %s", f[i].name, f[i].detail);
	}
	if (!f[0].on) {
		log_error("capabilities: cannot load the BPF programs: %s (effective set %#llx)",
			  f[0].detail, (unsigned long long)eff);
		return -1;
	}
	*mode = cap_uprobe_mode(eff, major, minor);
	return 0;
}
