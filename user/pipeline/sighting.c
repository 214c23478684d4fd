/* SPDX-License-Identifier: Apache-2.0 */
#include "sighting.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void sighting_copy(struct sighting *dst, const struct sighting *src)
{
	memcpy(dst, src, sizeof(*dst));
	if (dst->info.jwt)
		json_object_get(dst->info.jwt);
}

void sighting_release(struct sighting *s)
{
	token_info_release(&s->info);
}

void sighting_format_addr(char *out, size_t outlen, unsigned family, const uint8_t addr[16],
			  unsigned port)
{
	char ip[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (family == AF_INET && inet_ntop(AF_INET, addr, ip, sizeof(ip)))
		snprintf(out, outlen, "%s:%u", ip, port);
	else if (family == AF_INET6 && inet_ntop(AF_INET6, addr, ip, sizeof(ip)))
		snprintf(out, outlen, "[%s]:%u", ip, port);
}
