/* SPDX-License-Identifier: Apache-2.0 */
/* A fleet_batch as the sensor ships it: gzip(protobuf Batch). */
#ifndef TOKENTAP_LOADGEN_FLEET_ENCODE_H
#define TOKENTAP_LOADGEN_FLEET_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

/* *out is malloc'd; aborts when memory runs out (a benchmark tool). */
uint8_t *fleet_encode(const struct fleet *f, const struct fleet_batch *b, size_t *len);

#endif
