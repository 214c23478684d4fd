/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One credential seen in one request: everything tokentap reports about
 * it, none of it secret (the credential itself is already fingerprinted
 * and wiped when a sighting exists).
 */
#ifndef TOKENTAP_SIGHTING_H
#define TOKENTAP_SIGHTING_H

#include <stdbool.h>
#include <stdint.h>
#include "classify.h"
#include "fingerprint.h"

#define SIGHT_PATH_MAX 512
#define SIGHT_HOST_MAX 256
#define SIGHT_EXE_MAX 512

struct sighting {
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	struct token_info info;         /* owned: release with sighting_release() */
	char scheme[32];
	char header[64];
	bool in_query;                  /* the credential was a query parameter (header names it) */
	uint32_t pid, tid, uid;
	char comm[17];
	char exe[SIGHT_EXE_MAX];        /* "" when unknown */
	uint64_t cgroup_id;
	char container_id[65];          /* "" when not in a container */
	char pod_uid[37];               /* Kubernetes pod UID, "" when none */
	bool tls;
	char tls_library[16];           /* "openssl", ... "" for plaintext */
	char src[64];                   /* "ip:port", "[v6]:port", "" when unknown */
	char dst[64];
	char host[SIGHT_HOST_MAX];      /* Host header, "" when absent */
	char method[16];
	char path[SIGHT_PATH_MAX];      /* query values removed */
	int64_t ts_unix_ns;             /* wall clock of the request */
};

/* Deep copy (the JWT object is shared by reference count). */
void sighting_copy(struct sighting *dst, const struct sighting *src);
void sighting_release(struct sighting *s);

/* Formats an address as "1.2.3.4:80" or "[::1]:80"; "" for unknown families. */
void sighting_format_addr(char *out, size_t outlen, unsigned family, const uint8_t addr[16],
			  unsigned port);

#endif
