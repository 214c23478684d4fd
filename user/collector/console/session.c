/* SPDX-License-Identifier: Apache-2.0 */
#include "session.h"
#include "wipe.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

void session_table_init(struct session_table *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void session_table_free(struct session_table *t)
{
	pthread_mutex_destroy(&t->lock);
	secure_wipe(t->s, sizeof(t->s));
}

static bool value_well_formed(const char *v)
{
	size_t i;

	for (i = 0; i < SESSION_VALUE_LEN; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return false;
	return v[i] == '\0';
}

int session_create(struct session_table *t, int64_t now_ms, char out[SESSION_VALUE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[SESSION_VALUE_LEN / 2];
	size_t slot = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[SESSION_VALUE_LEN] = '\0';
	secure_wipe(raw, sizeof(raw));
	pthread_mutex_lock(&t->lock);
	/* a free or expired slot, else the one closest to expiry */
	for (size_t i = 0; i < SESSION_MAX; i++) {
		if (t->s[i].expires_ms <= now_ms) {
			slot = i;
			break;
		}
		if (t->s[i].expires_ms < t->s[slot].expires_ms)
			slot = i;
	}
	SHA256((const unsigned char *)out, SESSION_VALUE_LEN, t->s[slot].digest);
	t->s[slot].expires_ms = now_ms + SESSION_TTL_MS;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* The slot holding value's digest, or -1; every slot is compared. */
static int find(struct session_table *t, const char *value, int64_t now_ms)
{
	uint8_t d[32];
	int found = -1;

	SHA256((const unsigned char *)value, SESSION_VALUE_LEN, d);
	for (size_t i = 0; i < SESSION_MAX; i++)
		if (t->s[i].expires_ms > now_ms && CRYPTO_memcmp(d, t->s[i].digest, sizeof(d)) == 0)
			found = (int)i;
	return found;
}

bool session_valid(struct session_table *t, const char *value, int64_t now_ms)
{
	int i;

	if (!value || !value_well_formed(value))
		return false;
	pthread_mutex_lock(&t->lock);
	i = find(t, value, now_ms);
	pthread_mutex_unlock(&t->lock);
	return i >= 0;
}

void session_end(struct session_table *t, const char *value)
{
	int i;

	if (!value || !value_well_formed(value))
		return;
	pthread_mutex_lock(&t->lock);
	i = find(t, value, INT64_MIN);
	if (i >= 0)
		memset(&t->s[i], 0, sizeof(t->s[i]));
	pthread_mutex_unlock(&t->lock);
}
