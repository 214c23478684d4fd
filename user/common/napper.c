/* SPDX-License-Identifier: Apache-2.0 */
#include "napper.h"

#include <errno.h>
#include <time.h>

void napper_init(struct napper *n)
{
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	n->stopping = false;
}

void napper_destroy(struct napper *n)
{
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
}

bool napper_nap(struct napper *n, long ms)
{
	struct timespec ts;
	bool go;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->lock);
	while (!n->stopping && pthread_cond_timedwait(&n->wake, &n->lock, &ts) != ETIMEDOUT)
		;
	go = !n->stopping;
	pthread_mutex_unlock(&n->lock);
	return go;
}

void napper_stop(struct napper *n)
{
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	pthread_cond_broadcast(&n->wake);
	pthread_mutex_unlock(&n->lock);
}
