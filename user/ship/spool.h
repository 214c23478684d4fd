/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On-disk queue of serialized batches waiting for delivery: one file per
 * batch, <dir>/<seq, 20 digits>.batch, holding
 *
 *   "TTSP1\n" | u32 length (LE) | u32 crc32 of payload (LE) | payload
 *
 * written to a temporary name, fsync'ed, then renamed, so a crash leaves
 * either the whole file or none. Bounded in bytes: appending past the
 * bound deletes the oldest batches (counted). Files that are truncated,
 * corrupt or not ours are skipped (counted, deleted when they are ours),
 * never fatal. Not thread-safe: callers serialize access.
 */
#ifndef TOKENTAP_SPOOL_H
#define TOKENTAP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_MAGIC "TTSP1\n"
#define SPOOL_MAGIC_LEN 6
#define SPOOL_HEADER_LEN (SPOOL_MAGIC_LEN + 8)
#define SPOOL_PAYLOAD_MAX (64u << 20)   /* a longer length field is corruption */
#define SPOOL_DEFAULT_MAX_BYTES (256ull << 20)

struct spool_stats {
	uint64_t bytes;            /* file bytes in the spool */
	uint64_t files;            /* batches in the spool */
	uint64_t dropped_full;     /* oldest batches deleted to respect the bound */
	uint64_t dropped_corrupt;  /* unreadable batches skipped */
};

struct spool;

/*
 * Opens (creating it, mode 0700) the spool directory and indexes the
 * batches already there; leftover temporary files are deleted. max_bytes
 * 0: the default. NULL on error, with a one-line reason in err.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
void spool_close(struct spool *s);

/*
 * Stores one batch durably under seq (replacing a batch with the same seq).
 * Returns 0, or -1 when it could not be written or is larger than the bound
 * (then counted in dropped_full).
 */
int spool_append(struct spool *s, uint64_t seq, const void *buf, size_t len);

/*
 * The batch with the lowest seq: *buf is malloc'd (caller frees). Corrupt
 * batches met on the way are deleted and counted. Returns 1 when a batch
 * was found, 0 when the spool is empty.
 */
int spool_oldest(struct spool *s, uint64_t *seq, uint8_t **buf, size_t *len);

/* Deletes the batch seq (delivered); a batch already gone is not an error. */
void spool_remove(struct spool *s, uint64_t seq);

/* Highest seq in the spool, 0 when empty. */
uint64_t spool_max_seq(const struct spool *s);

void spool_stats(const struct spool *s, struct spool_stats *out);

#endif
