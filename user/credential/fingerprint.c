/* SPDX-License-Identifier: Apache-2.0 */
#include "fingerprint.h"
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * One-shot HMAC() fetches the digest and MAC implementations and derives
 * the key's inner and outer pads on every call: most of a fingerprint's
 * cost. The context of the last key used is kept instead (a copy of the
 * key to recognise it; the key is in memory anyway) and reset per call,
 * which reuses the derived pads. A mutex: callers may be on any thread.
 */
static struct {
	pthread_mutex_t lock;
	EVP_MAC_CTX *ctx;
	size_t len;
	uint8_t bytes[FINGERPRINT_KEY_MAX];
} mac_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The context keyed with key, ready for a new message; NULL on error. Called locked. */
static EVP_MAC_CTX *mac_for(const struct fp_key *key)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (mac_cache.ctx && mac_cache.len == key->len &&
	    CRYPTO_memcmp(mac_cache.bytes, key->bytes, key->len) == 0)
		return EVP_MAC_init(mac_cache.ctx, NULL, 0, NULL) ? mac_cache.ctx : NULL;
	EVP_MAC_CTX_free(mac_cache.ctx);
	secure_wipe(mac_cache.bytes, sizeof(mac_cache.bytes));
	mac_cache.len = 0;
	mac_cache.ctx = NULL;

	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	if (!mac)
		return NULL;
	mac_cache.ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!mac_cache.ctx)
		return NULL;
	if (!EVP_MAC_init(mac_cache.ctx, key->bytes, key->len, params)) {
		EVP_MAC_CTX_free(mac_cache.ctx);
		mac_cache.ctx = NULL;
		return NULL;
	}
	memcpy(mac_cache.bytes, key->bytes, key->len);
	mac_cache.len = key->len;
	return mac_cache.ctx;
}

int fingerprint_hex(const struct fp_key *key, const void *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	EVP_MAC_CTX *ctx;
	int ok;

	if (!key || key->len == 0 || key->len > sizeof(key->bytes) || !out)
		return -1;
	pthread_mutex_lock(&mac_cache.lock);
	ctx = mac_for(key);
	ok = ctx && EVP_MAC_update(ctx, data, len) &&
	     EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) && mac_len >= FINGERPRINT_BYTES;
	pthread_mutex_unlock(&mac_cache.lock);
	if (!ok) {
		secure_wipe(mac, sizeof(mac));
		return -1;
	}
	for (size_t i = 0; i < FINGERPRINT_BYTES; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[FINGERPRINT_HEX_LEN] = '\0';
	secure_wipe(mac, sizeof(mac));
	return 0;
}

static int read_key_file(struct fp_key *key, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, key->bytes, sizeof(key->bytes));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "key file %s is empty", path);
		return -1;
	}
	if ((size_t)n == sizeof(key->bytes)) {
		snprintf(err, errlen, "key file %s is larger than %d bytes", path, FINGERPRINT_KEY_MAX - 1);
		secure_wipe(key->bytes, sizeof(key->bytes));
		return -1;
	}
	key->len = (size_t)n;
	return 0;
}

int fingerprint_key_load(struct fp_key *key, const char *key_file, const char *state_dir,
			 char *err, size_t errlen)
{
	char path[4096];
	unsigned char fresh[32];
	int fd;

	memset(key, 0, sizeof(*key));
	if (key_file)
		return read_key_file(key, key_file, err, errlen);

	if (snprintf(path, sizeof(path), "%s/fingerprint.key", state_dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	if (access(path, F_OK) == 0)
		return read_key_file(key, path, err, errlen);

	if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
		snprintf(err, errlen, "cannot generate a random fingerprint key");
		return -1;
	}
	/* O_EXCL: two sensors starting at once must not each write a different key. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		secure_wipe(fresh, sizeof(fresh));
		if (errno == EEXIST)
			return read_key_file(key, path, err, errlen);
		snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, fresh, sizeof(fresh)) != (ssize_t)sizeof(fresh) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write key file %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		secure_wipe(fresh, sizeof(fresh));
		return -1;
	}
	close(fd);
	memcpy(key->bytes, fresh, sizeof(fresh));
	key->len = sizeof(fresh);
	secure_wipe(fresh, sizeof(fresh));
	return 0;
}
