/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline's events turned into wire events for the collector: token
 * sightings and usage, a description of each process the first time it is
 * seen using a token, and the sensor's status.
 */
#ifndef TOKENTAP_SHIP_SINK_H
#define TOKENTAP_SHIP_SINK_H

#include "pipeline.h"
#include "shipper.h"

struct ship_sink {
	struct pipeline_sink sink;    /* hand &sink to the pipeline */
	struct shipper *shipper;
	uint64_t *described;          /* processes already described (direct-mapped) */
};

int ship_sink_init(struct ship_sink *ss, struct shipper *sh);
void ship_sink_free(struct ship_sink *ss);

#endif
