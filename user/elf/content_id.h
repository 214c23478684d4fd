/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a file's content is, cheaply: its GNU build id when it has one
 * (.note.gnu.build-id, what a linker writes into nearly every library), or
 * the SHA-256 of its Go build id (.note.go.buildid, a hash of the inputs the
 * go tool writes into every Go binary), else SHA-256 of its bytes. Two copies of one library get the same id, so
 * an analysis done once is reused for every copy.
 */
#ifndef TOKENTAP_CONTENT_ID_H
#define TOKENTAP_CONTENT_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTENT_ID_MAX 32
/* Files hashed when they have no build id: at most this many bytes. */
#define CONTENT_HASH_MAX_BYTES (1ULL << 30)

enum content_id_kind { CONTENT_ID_NONE = 0, CONTENT_ID_BUILD = 1, CONTENT_ID_GO = 2, CONTENT_ID_SHA256 = 3 };

struct content_id {
	uint8_t kind;               /* enum content_id_kind */
	uint8_t len;                /* bytes of id[] used */
	uint8_t id[CONTENT_ID_MAX];
};

/*
 * Finds the GNU build id note (or else the Go one) in an ELF note
 * section's bytes (n bytes at notes). Returns 0 with id filled, -1 when
 * there is none or the notes are malformed.
 */
int content_id_from_notes(const uint8_t *notes, size_t n, struct content_id *id);

/* The id of the file at path. Returns 0, or -1 when it cannot be read (or is too large to hash). */
int content_id_of(const char *path, struct content_id *id);

bool content_id_equal(const struct content_id *a, const struct content_id *b);

#endif
