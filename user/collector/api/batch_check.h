/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Semantic validation of a decoded Batch before anything is stored:
 * identities and fingerprints well-formed, times and counts in range,
 * every string within the bounds events.proto documents.
 */
#ifndef TOKENTAP_BATCH_CHECK_H
#define TOKENTAP_BATCH_CHECK_H

#include <stddef.h>
#include "tokentap/v1/events.pb-c.h"

#define BATCH_CHECK_MAX_EVENTS 100000
#define SENSOR_ID_MAX 64

/*
 * Returns 0 when b may be stored, else -1 with a one-line reason in err
 * (naming the field and event index, never echoing a value). Bytes that
 * are not valid UTF-8 in free-text fields (exe, host, path...) are
 * replaced by '?' in place: they come from monitored processes, and
 * rejecting the whole batch for them would let a process hide its
 * requests.
 */
int batch_check(Tokentap__V1__Batch *b, char *err, size_t errlen);

/* 32 lowercase hex characters. */
int fingerprint_valid(const char *s);

#endif
