/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline's events turned into wire events for the collector: token
 * sightings and usage, a description of each process the first time it is
 * seen using a token, and the sensor's status.
 */
#ifndef TOKENTAP_BATCH_SINK_H
#define TOKENTAP_BATCH_SINK_H

#include "pipeline.h"
#include "shipper.h"

struct batch_sink {
	struct pipeline_sink sink;    /* hand &sink to the pipeline */
	struct shipper *shipper;
	uint64_t *described;          /* processes already described (direct-mapped) */
	struct pod_resolver pods;     /* the pod watcher; resolve NULL: off */
};

/* pods: NULL or the pod watcher that names the pod of each described process. */
int batch_sink_init(struct batch_sink *ss, struct shipper *sh, const struct pod_resolver *pods);
void batch_sink_free(struct batch_sink *ss);

#endif
