/* SPDX-License-Identifier: Apache-2.0 */
#include "wipe.h"

#include <openssl/crypto.h>

void secure_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}
