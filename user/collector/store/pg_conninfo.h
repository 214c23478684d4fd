/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PostgreSQL connection strings as the collector takes them in --db:
 * which ones name PostgreSQL, and their printable form without the
 * password. Pure string logic.
 */
#ifndef TOKENTAP_PG_CONNINFO_H
#define TOKENTAP_PG_CONNINFO_H

#include <stddef.h>

/* 1 for "postgres://...", "postgresql://..." and key=value conninfo ("host=... dbname=..."). */
int pg_conninfo_is_pg(const char *s);

/*
 * s with every password replaced by "***": the userinfo password of a
 * URL ("user:***@"), a "password=" query parameter, a password= keyword
 * (quoted or not). Truncated to len - 1.
 */
void pg_conninfo_redact(const char *s, char *out, size_t len);

#endif
