/* SPDX-License-Identifier: Apache-2.0 */
/* The list of schema migrations (version 1..latest). */
#ifndef TOKENTAP_STORE_SCHEMA_H
#define TOKENTAP_STORE_SCHEMA_H

int store_schema_latest(void);
/* SQL that upgrades version-1 to version; NULL when out of range. */
const char *store_schema_migration(int version);

#endif
