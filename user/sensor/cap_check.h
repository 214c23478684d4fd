/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capability check at start: reads the effective set and the kernel
 * version, logs every feature that is off and why (cap_features.h), and
 * says how uprobes will be attached.
 */
#ifndef TOKENTAP_CAP_CHECK_H
#define TOKENTAP_CAP_CHECK_H

#include <stdbool.h>
#include "cap_features.h"

/*
 * Logs the features the capabilities turn off (each of them, with -v also
 * those on). Returns -1 when the programs cannot be loaded at all, else 0
 * with *mode set.
 */
int cap_check(int verbose, enum uprobe_mode *mode);

#endif
