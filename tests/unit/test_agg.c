/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregation table: first sighting and counting per (token, process,
 * destination) triple, flush and its reset, the size bound, expiry that
 * never loses unreported counts. Runs under ASan/LSan, so every test frees
 * what it made (a JWT claim object is shared by reference count).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agg.h"

#define SEC 1000000000LL

static void make_sighting(struct sighting *s, const char *fp, uint32_t pid, const char *exe,
			  const char *dst, const char *host, int64_t ts)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", fp);
	snprintf(s->info.type, sizeof(s->info.type), "opaque");
	s->pid = pid;
	s->tid = pid;
	snprintf(s->exe, sizeof(s->exe), "%s", exe);
	snprintf(s->dst, sizeof(s->dst), "%s", dst);
	snprintf(s->host, sizeof(s->host), "%s", host);
	snprintf(s->method, sizeof(s->method), "GET");
	s->ts_unix_ns = ts;
}

#define FP_A "00112233445566778899aabbccddeeff"
#define FP_B "ffeeddccbbaa99887766554433221100"

static void base(struct sighting *s, int64_t ts)
{
	make_sighting(s, FP_A, 100, "/usr/bin/curl", "10.0.0.1:443", "api.example.com", ts);
}

/* What a flush reported: one row per callback. */
struct flushed {
	size_t n;
	const struct agg_entry *e[16];
	uint64_t count[16];
};

static void on_flush(const struct agg_entry *e, uint64_t count, void *ctx)
{
	struct flushed *f = ctx;

	assert_true(f->n < 16);
	f->e[f->n] = e;
	f->count[f->n] = count;
	f->n++;
}

static void on_count(const struct agg_entry *e, uint64_t count, void *ctx)
{
	(void)e;
	assert_true(count > 0);
	(*(size_t *)ctx)++;
}

static void test_new_then_counted(void **state)
{
	struct agg a;
	struct sighting s;
	const struct agg_entry *e1, *e2;

	(void)state;
	assert_int_equal(agg_init(&a, 16), 0);
	base(&s, 5 * SEC);
	assert_int_equal(agg_add(&a, &s, &e1), AGG_NEW);
	assert_non_null(e1);
	assert_int_equal(e1->interval_count, 1);
	assert_int_equal(e1->total_count, 1);
	assert_int_equal(e1->last_seen_ns, 5 * SEC);
	assert_string_equal(e1->exe, "/usr/bin/curl");

	s.ts_unix_ns = 7 * SEC;
	s.tid = 101; /* another thread of the same process: same triple */
	assert_int_equal(agg_add(&a, &s, &e2), AGG_COUNTED);
	assert_ptr_equal(e1, e2);
	assert_int_equal(e2->interval_count, 2);
	assert_int_equal(e2->total_count, 2);
	assert_int_equal(e2->last_seen_ns, 7 * SEC);
	/* the first sighting is kept as it was */
	assert_int_equal(e2->first_ns, 5 * SEC);
	assert_int_equal(e2->tid, 100);
	assert_int_equal(a.n, 1);

	/* entry is optional */
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	assert_int_equal(e1->total_count, 3);
	agg_free(&a);
}

/* agg_count: the same triple as agg_add, found from its key fields alone. */
static void test_count_by_key(void **state)
{
	struct agg a;
	struct sighting s;
	const struct agg_entry *e;
	struct agg_key k = { .pid = 100, .fingerprint = FP_A, .dst = "10.0.0.1:443",
			     .host = "api.example.com", .method = "GET", .exe = "/usr/bin/curl" };

	(void)state;
	assert_int_equal(agg_init(&a, 16), 0);
	/* nothing there yet: not counted, nothing made */
	assert_false(agg_count(&a, &k, 4 * SEC));
	assert_int_equal(a.n, 0);
	base(&s, 5 * SEC);
	assert_int_equal(agg_add(&a, &s, &e), AGG_NEW);
	assert_true(agg_count(&a, &k, 6 * SEC));
	assert_int_equal(e->interval_count, 2);
	assert_int_equal(e->total_count, 2);
	assert_int_equal(e->last_seen_ns, 6 * SEC);
	assert_int_equal(e->first_ns, 5 * SEC);

	/* any key field that differs is another triple */
	struct agg_key other[6];

	for (size_t i = 0; i < 6; i++)
		other[i] = k;
	other[0].pid = 101;
	other[1].fingerprint = FP_B;
	other[2].dst = "10.0.0.2:443";
	other[3].host = "other.example.com";
	other[4].method = "POST";
	other[5].exe = "/usr/bin/python3";
	for (size_t i = 0; i < 6; i++)
		assert_false(agg_count(&a, &other[i], 7 * SEC));
	assert_int_equal(e->total_count, 2);
	assert_int_equal(a.n, 1);
	/* agg_add sees what agg_count counted */
	s.ts_unix_ns = 8 * SEC;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	assert_int_equal(e->total_count, 3);
	agg_free(&a);
}

static void test_distinct_triples(void **state)
{
	struct agg a;
	struct sighting s;

	(void)state;
	assert_int_equal(agg_init(&a, 64), 0);
	base(&s, SEC);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);

	base(&s, SEC);
	s.pid = 101;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	base(&s, SEC);
	snprintf(s.exe, sizeof(s.exe), "/usr/bin/python3");
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	base(&s, SEC);
	snprintf(s.dst, sizeof(s.dst), "10.0.0.2:443");
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	base(&s, SEC);
	snprintf(s.host, sizeof(s.host), "other.example.com");
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	base(&s, SEC);
	snprintf(s.fingerprint, sizeof(s.fingerprint), FP_B);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	/* unknown destination is its own triple too */
	base(&s, SEC);
	s.dst[0] = '\0';
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	/* a write after reads is new too: the collector judges methods */
	base(&s, SEC);
	snprintf(s.method, sizeof(s.method), "POST");
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	assert_int_equal(a.n, 8);

	/* fields outside the key do not split it */
	base(&s, SEC);
	s.tid = 555;
	s.uid = 1000;
	snprintf(s.path, sizeof(s.path), "/v1/other");
	snprintf(s.src, sizeof(s.src), "10.0.0.9:50000");
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	assert_int_equal(a.n, 8);
	assert_int_equal(a.overflow, 0);
	agg_free(&a);
}

static void test_flush_reports_and_resets(void **state)
{
	struct agg a;
	struct sighting s;
	const struct agg_entry *ea, *eb, *ec;
	struct flushed f = { 0 };

	(void)state;
	assert_int_equal(agg_init(&a, 16), 0);
	base(&s, SEC);
	assert_int_equal(agg_add(&a, &s, &ea), AGG_NEW);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	s.pid = 200;
	assert_int_equal(agg_add(&a, &s, &eb), AGG_NEW);

	agg_flush(&a, on_flush, &f);
	assert_int_equal(f.n, 2);
	for (size_t i = 0; i < f.n; i++) {
		if (f.e[i] == ea)
			assert_int_equal(f.count[i], 3);
		else if (f.e[i] == eb)
			assert_int_equal(f.count[i], 1);
		else
			fail_msg("flush reported an unknown entry");
	}
	assert_int_equal(ea->interval_count, 0);
	assert_int_equal(ea->total_count, 3);

	/* nothing new: a second flush reports nothing */
	memset(&f, 0, sizeof(f));
	agg_flush(&a, on_flush, &f);
	assert_int_equal(f.n, 0);

	/* only the triple seen since the last flush is reported */
	s.pid = 200;
	assert_int_equal(agg_add(&a, &s, &ec), AGG_COUNTED);
	assert_ptr_equal(ec, eb);
	memset(&f, 0, sizeof(f));
	agg_flush(&a, on_flush, &f);
	assert_int_equal(f.n, 1);
	assert_ptr_equal(f.e[0], eb);
	assert_int_equal(f.count[0], 1);
	assert_int_equal(eb->total_count, 2);
	agg_free(&a);
}

static void test_full(void **state)
{
	struct agg a;
	struct sighting s;
	const struct agg_entry *e = (const struct agg_entry *)&e;
	struct flushed f = { 0 };

	(void)state;
	assert_int_equal(agg_init(&a, 3), 0);
	for (uint32_t pid = 1; pid <= 3; pid++) {
		base(&s, SEC);
		s.pid = pid;
		assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	}
	base(&s, SEC);
	s.pid = 4;
	assert_int_equal(agg_add(&a, &s, &e), AGG_FULL);
	assert_null(e);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_FULL);
	assert_int_equal(a.overflow, 2);
	assert_int_equal(a.n, 3);

	/* known triples are still counted when the table is full */
	s.pid = 2;
	assert_int_equal(agg_add(&a, &s, &e), AGG_COUNTED);
	assert_non_null(e);
	assert_int_equal(e->interval_count, 2);
	assert_int_equal(a.overflow, 2);

	/* overflowed sightings are never reported as usage */
	agg_flush(&a, on_flush, &f);
	assert_int_equal(f.n, 3);
	agg_free(&a);

	/* a zero-sized table takes nothing */
	assert_int_equal(agg_init(&a, 0), 0);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_FULL);
	assert_int_equal(a.overflow, 1);
	agg_free(&a);
}

static void test_expire(void **state)
{
	struct agg a;
	struct sighting s;
	const struct agg_entry *e;
	struct flushed f = { 0 };

	(void)state;
	assert_int_equal(agg_init(&a, 16), 0);
	base(&s, 10 * SEC);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW); /* old, will be flushed */
	s.pid = 2;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW); /* old, flushed, seen again later */
	s.pid = 3;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW); /* old, counted after the flush */
	agg_flush(&a, on_flush, &f);
	assert_int_equal(f.n, 3);

	s.pid = 3;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED); /* unreported, still old */
	s.pid = 2;
	s.ts_unix_ns = 100 * SEC;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	s.pid = 4;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW); /* recent, unreported */
	assert_int_equal(a.n, 4);

	/* cutoff between the old and the recent: only pid 1 is idle and reported */
	assert_int_equal(agg_expire(&a, 50 * SEC), 1);
	assert_int_equal(a.n, 3);

	/* pid 3's unreported count survives expiry and is flushed */
	memset(&f, 0, sizeof(f));
	agg_flush(&a, on_flush, &f);
	assert_int_equal(f.n, 3);
	for (size_t i = 0; i < f.n; i++)
		assert_int_equal(f.count[i], 1);
	/* now reported, and idle: pid 3 goes; the recent ones stay */
	assert_int_equal(agg_expire(&a, 50 * SEC), 1);
	assert_int_equal(a.n, 2);
	/* cutoff equal to last seen: not idle yet */
	assert_int_equal(agg_expire(&a, 100 * SEC), 0);

	/* a sighting after expiry is new again, with fresh counts */
	base(&s, 200 * SEC);
	assert_int_equal(agg_add(&a, &s, &e), AGG_NEW);
	assert_int_equal(e->total_count, 1);
	assert_int_equal(e->first_ns, 200 * SEC);
	assert_int_equal(a.n, 3);

	/* everything reported and idle: all go, and the table is reusable */
	memset(&f, 0, sizeof(f));
	agg_flush(&a, on_flush, &f);
	assert_int_equal(agg_expire(&a, 1000 * SEC), 3);
	assert_int_equal(a.n, 0);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	agg_free(&a);
}

/* Every field of the first sighting comes back as it went in; the parts are shared. */
static void test_first_sighting_kept(void **state)
{
	struct agg a;
	struct sighting s, out;
	const struct agg_entry *e1, *e2;

	(void)state;
	assert_int_equal(agg_init(&a, 16), 0);
	base(&s, 5 * SEC);
	snprintf(s.info.prefix, sizeof(s.info.prefix), "ghp_");
	s.info.length = 40;
	s.info.has_checksum = true;
	s.info.checksum_valid = true;
	s.info.confidence = 100;
	snprintf(s.info.basic_user, sizeof(s.info.basic_user), "alice");
	/* every string of the token's description, the longest that fits */
	memset(s.info.key_id, 'K', sizeof(s.info.key_id) - 1);
	snprintf(s.info.aws_key_kind, sizeof(s.info.aws_key_kind), "temporary");
	snprintf(s.info.aws_account, sizeof(s.info.aws_account), "123456789012");
	snprintf(s.info.aws_region, sizeof(s.info.aws_region), "eu-west-1");
	snprintf(s.info.aws_service, sizeof(s.info.aws_service), "s3");
	snprintf(s.info.basic_password_type, sizeof(s.info.basic_password_type), "opaque");
	snprintf(s.info.azure_signature, sizeof(s.info.azure_signature), "APIM");
	snprintf(s.scheme, sizeof(s.scheme), "Bearer");
	snprintf(s.header, sizeof(s.header), "authorization");
	s.in_query = true;
	s.tid = 101;
	s.uid = 1000;
	snprintf(s.comm, sizeof(s.comm), "curl");
	s.cgroup_id = 77;
	snprintf(s.container_id, sizeof(s.container_id), "abc123");
	snprintf(s.pod_uid, sizeof(s.pod_uid), "pod-1");
	s.tls = true;
	snprintf(s.tls_library, sizeof(s.tls_library), "openssl");
	snprintf(s.src, sizeof(s.src), "10.0.0.2:5555");
	snprintf(s.path, sizeof(s.path), "/v1/x?a=");
	assert_int_equal(agg_add(&a, &s, &e1), AGG_NEW);
	agg_entry_sighting(e1, &out);
	assert_memory_equal(&out, &s, sizeof(s));

	/* another process, same token and program: one token record, one exe string */
	s.pid = 200;
	snprintf(s.path, sizeof(s.path), "/other");
	assert_int_equal(agg_add(&a, &s, &e2), AGG_NEW);
	assert_ptr_not_equal(e1, e2);
	assert_ptr_equal(e1->tok, e2->tok);
	assert_ptr_equal(e1->exe, e2->exe);
	agg_entry_sighting(e2, &out);
	assert_string_equal(out.path, "/other");
	assert_int_equal(out.pid, 200);
	agg_entry_sighting(e1, &out);
	assert_string_equal(out.path, "/v1/x?a=");
	agg_free(&a);
}

/* The JWT claim object is shared with the caller: both releases are needed, neither is too many. */
static void test_jwt_reference(void **state)
{
	struct agg a;
	struct sighting s;
	const struct agg_entry *e;

	(void)state;
	assert_int_equal(agg_init(&a, 4), 0);
	base(&s, SEC);
	s.info.jwt = json_object_new_object();
	assert_non_null(s.info.jwt);
	json_object_object_add(s.info.jwt, "iss", json_object_new_string("https://issuer.example"));
	assert_int_equal(agg_add(&a, &s, &e), AGG_NEW);
	assert_ptr_equal(e->tok->jwt, s.info.jwt);
	assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	sighting_release(&s);
	/* the table's reference keeps it alive */
	assert_string_equal(json_object_get_string(json_object_object_get(e->tok->jwt, "iss")),
			    "https://issuer.example");
	/* expiry frees it too */
	agg_flush(&a, on_flush, &(struct flushed){ 0 });
	assert_int_equal(agg_expire(&a, 2 * SEC), 1);
	assert_int_equal(a.n, 0);

	base(&s, SEC);
	s.info.jwt = json_object_new_object();
	assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	sighting_release(&s);
	agg_free(&a);
}

/* Many triples: the index grows, removal from the middle of probe runs. */
static void test_many(void **state)
{
	struct agg a;
	struct sighting s;
	size_t rows = 0;

	(void)state;
	assert_int_equal(agg_init(&a, 5000), 0);
	for (uint32_t pid = 0; pid < 5000; pid++) {
		base(&s, (int64_t)pid * SEC);
		s.pid = pid;
		assert_int_equal(agg_add(&a, &s, NULL), AGG_NEW);
	}
	for (uint32_t pid = 0; pid < 5000; pid += 2) {
		base(&s, (int64_t)pid * SEC);
		s.pid = pid;
		assert_int_equal(agg_add(&a, &s, NULL), AGG_COUNTED);
	}
	assert_int_equal(a.entries.n, 5000);
	assert_true(a.entries.cap >= 2 * a.entries.n);
	/* one token, one program, one destination: one of each shared */
	assert_int_equal(a.tokens.n, 1);
	base(&s, SEC);
	s.pid = 99999;
	assert_int_equal(agg_add(&a, &s, NULL), AGG_FULL);
	agg_flush(&a, on_count, &rows);
	assert_int_equal(rows, 5000);
	assert_int_equal(agg_expire(&a, 2500 * SEC), 2500);
	assert_int_equal(a.n, 2500);
	for (uint32_t pid = 0; pid < 5000; pid++) {
		base(&s, 9000 * SEC);
		s.pid = pid;
		assert_int_equal(agg_add(&a, &s, NULL), pid < 2500 ? AGG_NEW : AGG_COUNTED);
	}
	agg_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_then_counted),
		cmocka_unit_test(test_count_by_key),
		cmocka_unit_test(test_distinct_triples),
		cmocka_unit_test(test_flush_reports_and_resets),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_jwt_reference),
		cmocka_unit_test(test_first_sighting_kept),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
