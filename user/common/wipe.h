/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wiping memory that held a secret (a credential, a key, a bearer token).
 * The one way the project does it, so that no buffer is cleared with a
 * memset the compiler is free to drop.
 */
#ifndef TOKENTAP_WIPE_H
#define TOKENTAP_WIPE_H

#include <stddef.h>

/* Overwrites n bytes at p in a way the compiler may not elide; p may be NULL. */
void secure_wipe(void *p, size_t n);

#endif
