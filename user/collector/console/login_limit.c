/* SPDX-License-Identifier: Apache-2.0 */
#include "login_limit.h"

#include <string.h>

void login_limit_init(struct login_limit *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
}

void login_limit_free(struct login_limit *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* Starts a new window when the current one is over. Called locked. */
static void roll(struct login_limit *l, int64_t now_ms)
{
	if (now_ms - l->window_start_ms >= LOGIN_WINDOW_MS || now_ms < l->window_start_ms) {
		l->window_start_ms = now_ms;
		l->fails = 0;
	}
}

bool login_limit_allow(struct login_limit *l, int64_t now_ms)
{
	bool ok;

	pthread_mutex_lock(&l->lock);
	roll(l, now_ms);
	ok = l->fails < LOGIN_FAILS_MAX;
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void login_limit_fail(struct login_limit *l, int64_t now_ms)
{
	pthread_mutex_lock(&l->lock);
	roll(l, now_ms);
	if (l->fails < LOGIN_FAILS_MAX)
		l->fails++;
	pthread_mutex_unlock(&l->lock);
}
