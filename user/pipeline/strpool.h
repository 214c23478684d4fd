/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interned strings with reference counts: one copy of each distinct
 * string (a program path, a destination, a Host, a method) however many
 * records point at it. Pure logic.
 */
#ifndef TOKENTAP_STRPOOL_H
#define TOKENTAP_STRPOOL_H

#include <stddef.h>
#include "ptrtab.h"

struct strpool {
	struct ptrtab tab;
};

/* A zeroed pool is empty; strpool_free() releases every string left. */
void strpool_free(struct strpool *sp);

/* The pool's copy of s, one more reference to it; NULL when out of memory. */
const char *strpool_get(struct strpool *sp, const char *s);

/* Drops a reference taken by strpool_get (NULL is ignored). */
void strpool_put(struct strpool *sp, const char *s);

#endif
