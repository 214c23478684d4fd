/* SPDX-License-Identifier: Apache-2.0 */
/* Small file-system helpers shared by the sensor and its libraries. */
#ifndef TOKENTAP_FSUTIL_H
#define TOKENTAP_FSUTIL_H

/*
 * Creates dir and its missing parents (parents 0755, dir itself 0700: it
 * holds keys and spooled data). Returns 0, or -1 with errno set.
 */
int fs_mkdir_p(const char *dir);

#endif
