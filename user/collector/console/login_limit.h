/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console login's guard against guessing: at most LOGIN_FAILS_MAX
 * failed attempts per LOGIN_WINDOW_MS, from anyone; past that every
 * attempt is refused (429) until the window ends. Global rather than per
 * address, so a guesser gains nothing from many source addresses.
 */
#ifndef TOKENTAP_CONSOLE_LOGIN_LIMIT_H
#define TOKENTAP_CONSOLE_LOGIN_LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define LOGIN_FAILS_MAX 10
#define LOGIN_WINDOW_MS 60000

struct login_limit {
	pthread_mutex_t lock;
	int64_t window_start_ms;
	unsigned fails;
};

void login_limit_init(struct login_limit *l);
void login_limit_free(struct login_limit *l);
/* Whether an attempt may be checked now. */
bool login_limit_allow(struct login_limit *l, int64_t now_ms);
/* Counts a failed attempt. */
void login_limit_fail(struct login_limit *l, int64_t now_ms);

#endif
