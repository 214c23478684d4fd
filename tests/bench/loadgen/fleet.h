/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet model of the load generator: which simulated sensor sends
 * which batch, with what in it. Pure logic, no network: a batch is
 * described as plain records (fleet_event) that fleet_encode.c turns
 * into protobuf.
 *
 * Determinism: the content of batch (sensor, seq) is a function of the
 * seed, the sensor, the seq and whether it opened a sensor life, so a
 * replay or a duplicate carries exactly what the first delivery carried.
 * Each sensor draws its own decisions (duplicates, restarts, replays) from
 * its own generator, so a sensor's sequence of sends is the same for a
 * seed whatever order the sensors are driven in.
 *
 * The population: a workload kind (an executable) uses two tokens of its
 * own and, for a share of kinds, one of a few tokens shared by several
 * kinds; each token goes to one or two destinations; each node runs a
 * few processes of a few kinds; every process holds its tokens in its
 * environment and some hold one token they never use.
 */
#ifndef TOKENTAP_LOADGEN_FLEET_H
#define TOKENTAP_LOADGEN_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_MAX_SENSORS 100000
#define FLEET_MAX_EVENTS 10000      /* per batch, a sensor's closing bound is 1000 */
#define FLEET_MAX_PROCS 16          /* processes per node */
#define FLEET_MAX_TRIPLES (FLEET_MAX_PROCS * 3 * 2)
#define FLEET_MAX_REPLAY 3          /* batches a restarted sensor sends again */

struct fleet_config {
	uint32_t sensors;
	uint64_t seed;
	uint32_t events_per_batch;  /* at most; a batch has status + one event per triple */
	double dup_rate;            /* chance a delivered batch is delivered again */
	double restart_rate;        /* chance a sensor restarts after a batch */
	uint32_t workloads;         /* workload kinds in the fleet; 0: sensors / 4 + 8 */
	uint32_t dsts;              /* destinations; 0: 64 */
	int64_t t0_ms;              /* wall-clock time of seq 1 */
	uint32_t interval_ms;       /* time between a sensor's batches */
};

enum fleet_kind {
	FLEET_NEW,      /* a seq sent for the first time */
	FLEET_DUP,      /* the same delivery again (an answer lost in flight) */
	FLEET_REPLAY,   /* re-sent after a restart (spooled, its answer lost) */
};

enum fleet_event_kind {
	FE_STATUS,
	FE_PROCESS,
	FE_HELD,
	FE_SEEN,
	FE_USAGE,
};

/* One event of a batch; indices name the fleet's tokens, workloads, destinations. */
struct fleet_event {
	enum fleet_event_kind kind;
	uint32_t token;     /* FE_HELD, FE_SEEN, FE_USAGE */
	uint32_t proc;      /* index of the process on its node */
	uint32_t pid;
	uint32_t workload;
	uint32_t dst;       /* FE_SEEN, FE_USAGE */
	uint64_t count;     /* FE_USAGE: requests */
	int64_t ts_ms;
};

struct fleet_batch {
	uint32_t sensor;
	uint64_t seq;
	enum fleet_kind kind;
	bool boot;          /* the first batch of a sensor life */
	int64_t sent_at_ms;
	size_t n_events;
	struct fleet_event *events;  /* cap: fleet_max_events() */
};

/* What the fleet's sensors have sent so far, each (sensor, seq) once. */
struct fleet_totals {
	uint64_t sends;          /* deliveries of every kind */
	uint64_t batches;        /* distinct (sensor, seq) */
	uint64_t events;         /* events of distinct batches */
	uint64_t requests;       /* sum of usage counts of distinct batches */
	uint64_t dups, replays, restarts;
};

struct fleet;

/* Checks cfg (NULL and a message when it is out of bounds or out of memory). */
struct fleet *fleet_new(const struct fleet_config *cfg, char *err, size_t errlen);
void fleet_free(struct fleet *f);

/* The largest n_events of a batch: the size of fleet_batch.events. */
size_t fleet_max_events(const struct fleet *f);
uint32_t fleet_tokens(const struct fleet *f);

/*
 * The next send of sensor s into *out (out->events must hold
 * fleet_max_events()). A FLEET_NEW send adds its content to the totals.
 */
void fleet_next(struct fleet *f, uint32_t s, struct fleet_batch *out);
/* New seqs sensor s has sent so far (its last seq). */
uint64_t fleet_sent(const struct fleet *f, uint32_t s);
/* True when sensor s owes no duplicate or replay: its next send is a new seq. */
bool fleet_idle(const struct fleet *f, uint32_t s);

const struct fleet_totals *fleet_totals(const struct fleet *f);
/* Requests the distinct batches carried for token t (0 for a token only held). */
uint64_t fleet_token_requests(const struct fleet *f, uint32_t t);
/* Whether token t was mentioned by any distinct batch (used or held). */
bool fleet_token_known(const struct fleet *f, uint32_t t);

/* The synthetic fingerprint of token t: 32 lowercase hex digits (no credential behind it). */
void fleet_fingerprint(const struct fleet *f, uint32_t t, char out[33]);
/* Names the model's indices take on the wire. */
void fleet_sensor_id(const struct fleet *f, uint32_t s, char *out, size_t len);
void fleet_node(uint32_t s, char *out, size_t len);
void fleet_exe(uint32_t workload, char *out, size_t len);
void fleet_dst(uint32_t dst, char *addr, size_t alen, char *host, size_t hlen);
const char *fleet_token_type(uint32_t t);

#endif
