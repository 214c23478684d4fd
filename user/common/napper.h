/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A background thread's sleep that a stop request cuts short: the thread
 * naps between rounds, the owner asks it to stop and it wakes at once.
 */
#ifndef TOKENTAP_NAPPER_H
#define TOKENTAP_NAPPER_H

#include <pthread.h>
#include <stdbool.h>

struct napper {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
};

void napper_init(struct napper *n);
void napper_destroy(struct napper *n);
/* Sleeps up to ms; false when asked to stop (before or during the nap). */
bool napper_nap(struct napper *n, long ms);
/* Wakes every nap, now and later, with false. */
void napper_stop(struct napper *n);

#endif
