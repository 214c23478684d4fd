/* SPDX-License-Identifier: Apache-2.0 */
#include "wipe.h"

#include <string.h>

/*
 * glibc's explicit_bzero: a memset the compiler may not drop, at memset's
 * speed. OPENSSL_cleanse, used before, clears a byte per loop turn, and
 * the pipeline wipes its scratch on every request.
 */
void secure_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}
