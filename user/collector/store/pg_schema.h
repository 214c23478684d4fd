/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL schema: numbered migrations, and the time partitions. */
#ifndef TOKENTAP_PG_SCHEMA_H
#define TOKENTAP_PG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* The newest schema version. */
int pg_schema_latest(void);
/* The SQL that upgrades version - 1 to version, or NULL. */
const char *pg_schema_migration(int version);

/* The tables partitioned by day (of their time column, Unix ms). */
enum pg_part_table { PG_PART_USAGE, PG_PART_SEEN_LOG, PG_PART__COUNT };
const char *pg_part_table_name(enum pg_part_table t);

/*
 * The statement that creates the partition of table for the day starting
 * at day_ms ("<table>_dYYYYMMDD", [day, day + 1 day)) unless it exists.
 * 0, or -1 when the day is outside years 1970..9999.
 */
int pg_part_sql(enum pg_part_table t, int64_t day_ms, char *buf, size_t len);

/*
 * Days within [now - PG_PART_PAST_DAYS, now + PG_PART_FUTURE_DAYS] get a
 * partition of their own; rows of other days (a skewed or forged clock)
 * go to the table's default partition, so a batch never creates more
 * than a bounded number of tables.
 */
#define PG_PART_PAST_DAYS 400
#define PG_PART_FUTURE_DAYS 2

#endif
