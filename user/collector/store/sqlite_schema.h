/* SPDX-License-Identifier: Apache-2.0 */
/* The list of schema migrations (version 1..latest). */
#ifndef TOKENTAP_SQLITE_SCHEMA_H
#define TOKENTAP_SQLITE_SCHEMA_H

int sqlite_schema_latest(void);
/* SQL that upgrades version-1 to version; NULL when out of range. */
const char *sqlite_schema_migration(int version);

#endif
