/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A whole HTTP/2 request's header fields as Go's once-per-request probes
 * copy them (TT_F_HBLOCK: tt_hb_rec records, tokentap.h), turned into
 * the fields Go's client puts on the wire: :authority, :method, :path,
 * :scheme, then the headers with lowercase names. gRPC-Go's blocks are
 * those fields already (TT_HB_FIELD records only), taken in their order.
 */
#ifndef TOKENTAP_HFBLOCK_H
#define TOKENTAP_HFBLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "hfgroup.h"

/*
 * Fills the empty group g from the len bytes at d. A cut value is left
 * out and marks g lost. Returns 0, or -1 for a malformed block (a record
 * past the end, an unknown kind, a pseudo-field twice, a header without a
 * name, TT_HB_FIELD mixed with other kinds); g then holds what came before
 * and the caller resets it.
 */
int hb_parse(const uint8_t *d, size_t len, struct hf_group *g);

#endif
