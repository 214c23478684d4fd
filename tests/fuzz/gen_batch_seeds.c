/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the seed corpus of fuzz_batch (tests/fuzz/corpus/batch/): valid
 * batches, gzipped and plain. Built by hand when the seeds must change:
 *
 *   make BUILD=build build/proto/tokentap/v1/events.pb-c.c
 *   cc -std=c11 -D_GNU_SOURCE -Ibuild/proto -Itests/unit tests/fuzz/gen_batch_seeds.c \
 *      build/proto/tokentap/v1/events.pb-c.c -lprotobuf-c -lz -o /tmp/gen_batch_seeds
 *   /tmp/gen_batch_seeds tests/fuzz/corpus/batch
 */
#include <stdio.h>
#include <stdlib.h>

#include "batch_fixture.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define FP_B "fedcba9876543210fedcba9876543210"
#define T0 1767225600000LL

static void write_seed(const char *dir, const char *name, const Tokentap__V1__Batch *b, bool gz)
{
	char path[512];
	size_t len;
	uint8_t *p = fx_pack(b, gz, &len);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	free(p);
}

int main(int argc, char **argv)
{
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* every event kind once */
	b = fx_batch("7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d", "node-a", 1);
	fx_add_seen(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443",
		    "api.github.com", T0);
	fx_add_usage(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443",
		     "api.github.com", 3, T0 + 500);
	fx_add_process(b, 100, T0 - 5000, "/usr/bin/curl", "curl -H *** https://api.github.com/user",
		       "");
	fx_add_status(b, T0 + 1000, 42, 0);
	write_seed(argv[1], "all_kinds.gz", b, true);
	write_seed(argv[1], "all_kinds.pb", b, false);
	fx_free(b);

	/* one token, two processes, two destinations, a JWT */
	b = fx_batch("7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d", "node-a", 2);
	s = fx_add_seen(b, FP_B, "jwt", 200, "/usr/bin/python3.11", "10.1.2.3:8443", "api.internal",
			T0);
	s->token->jwt_json = fx_str("{\"alg\":\"RS256\",\"iss\":\"https://issuer.example\",\"exp\":1767229200}");
	fx_add_usage(b, FP_B, "jwt", 200, "/usr/bin/python3.11", "10.1.2.3:8443", "api.internal", 5,
		     T0 + 100);
	fx_add_usage(b, FP_B, "jwt", 300, "/usr/bin/node", "10.1.2.4:443", "other.internal", 7,
		     T0 + 61000);
	fx_add_process(b, 300, T0 - 1000, "/usr/bin/node", "node app.js",
		       "4f1c0d2e3b4a59687766554433221100ffeeddccbbaa99887766554433221100");
	write_seed(argv[1], "two_processes.gz", b, true);
	write_seed(argv[1], "two_processes.pb", b, false);
	fx_free(b);

	/* held tokens and a sensor-side revocation */
	b = fx_batch("7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d", "node-a", 3);
	fx_add_held(b, FP_A, "github_pat", 400, "/usr/bin/sleep",
		    TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON, "GITHUB_TOKEN", T0);
	fx_add_held(b, FP_B, "npm", 401, "/usr/bin/node", TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV,
		    "argv[2]", T0 + 10);
	fx_add_revocation(b, FP_A, "ok", T0 + 20);
	write_seed(argv[1], "held_revocation.gz", b, true);
	write_seed(argv[1], "held_revocation.pb", b, false);
	fx_free(b);

	/* many triples */
	b = fx_batch("sensor-2", "node-b", 99);
	for (unsigned i = 0; i < 40; i++)
		fx_add_usage(b, i % 2 ? FP_A : FP_B, "opaque", 1000 + i, "/opt/app/bin/worker",
			     "192.0.2.10:80", "plain.example", i + 1, T0 + i * 1000);
	write_seed(argv[1], "many_usage.gz", b, true);
	write_seed(argv[1], "many_usage.pb", b, false);
	fx_free(b);
	return 0;
}
