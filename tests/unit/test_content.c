/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content identity of files (build id note, Go build id, else SHA-256), the
 * cache of analyses keyed by it, and the delay percentiles the sensor
 * reports for library attachment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "content_cache.h"
#include "content_id.h"
#include "latency_stats.h"

/* One ELF note: header, name padded to 4, descriptor padded to 4. */
static size_t put_note(uint8_t *b, uint32_t type, const char *name, uint32_t namesz,
		       const uint8_t *desc, uint32_t descsz)
{
	size_t n = 0;

	memcpy(b + n, &namesz, 4);
	memcpy(b + n + 4, &descsz, 4);
	memcpy(b + n + 8, &type, 4);
	n += 12;
	memset(b + n, 0, (namesz + 3) & ~3u);
	memcpy(b + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memset(b + n, 0, (descsz + 3) & ~3u);
	memcpy(b + n, desc, descsz);
	return n + ((descsz + 3) & ~3u);
}

static void gnu_build_id_found_after_other_notes(void **state)
{
	uint8_t notes[256], abi[16] = { 0 }, id[20];
	struct content_id cid;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		id[i] = (uint8_t)(i * 7 + 1);
	n += put_note(notes + n, 1, "GNU", 4, abi, sizeof(abi));
	n += put_note(notes + n, 3, "GNU", 4, id, sizeof(id));
	assert_int_equal(content_id_from_notes(notes, n, &cid), 0);
	assert_int_equal(cid.kind, CONTENT_ID_BUILD);
	assert_int_equal(cid.len, 20);
	assert_memory_equal(cid.id, id, 20);
}

static void go_build_id_is_digested_and_gnu_preferred(void **state)
{
	const char *goid = "abcdefghijklmnopqrstuvwxyz/0123456789/ABCDEFGHIJKLMNOPQRSTUVWXYZ/zyxwvutsrq";
	uint8_t notes[512], want[32], id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned int len = 0;
	struct content_id cid;
	size_t n;

	(void)state;
	n = put_note(notes, 4, "Go\0\0", 4, (const uint8_t *)goid, (uint32_t)strlen(goid));
	assert_int_equal(content_id_from_notes(notes, n, &cid), 0);
	assert_int_equal(cid.kind, CONTENT_ID_GO);
	assert_int_equal(EVP_Digest(goid, strlen(goid), want, &len, EVP_sha256(), NULL), 1);
	assert_memory_equal(cid.id, want, 32);
	/* a GNU build id after the Go one wins: it names the linked file */
	n += put_note(notes + n, 3, "GNU", 4, id, sizeof(id));
	assert_int_equal(content_id_from_notes(notes, n, &cid), 0);
	assert_int_equal(cid.kind, CONTENT_ID_BUILD);
	assert_int_equal(cid.len, 8);
}

static void malformed_notes_rejected_without_overread(void **state)
{
	uint8_t notes[64], id[20] = { 9 };
	struct content_id cid;
	size_t n;

	(void)state;
	n = put_note(notes, 3, "GNU", 4, id, sizeof(id));
	/* every truncation: no id, and ASan sees no read past the end */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, notes, cut);
		assert_int_equal(content_id_from_notes(copy, cut, &cid), -1);
		free(copy);
	}
	/* a name size past the end */
	notes[0] = 0xff;
	assert_int_equal(content_id_from_notes(notes, n, &cid), -1);
	/* an id longer than any digest */
	n = put_note(notes, 3, "GNU", 4, id, 20);
	notes[4] = 40;
	assert_int_equal(content_id_from_notes(notes, n, &cid), -1);
}

static void file_without_build_id_is_hashed(void **state)
{
	char path[] = "/tmp/test_content_XXXXXX";
	uint8_t data[100000], want[32];
	unsigned int len = 0;
	struct content_id a, b;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	assert_int_equal(content_id_of(path, &a), 0);
	assert_int_equal(a.kind, CONTENT_ID_SHA256);
	assert_int_equal(EVP_Digest(data, sizeof(data), want, &len, EVP_sha256(), NULL), 1);
	assert_memory_equal(a.id, want, 32);
	assert_int_equal(content_id_of(path, &b), 0);
	assert_true(content_id_equal(&a, &b));
	unlink(path);
	assert_int_equal(content_id_of(path, &a), -1);
}

static void real_elf_has_an_id_equal_for_a_copy(void **state)
{
	struct content_id a, b;
	char copy[] = "/tmp/test_content_elf_XXXXXX";
	char buf[65536];
	ssize_t n;
	int in, out;

	(void)state;
	in = open("/proc/self/exe", O_RDONLY);
	out = mkstemp(copy);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	assert_int_equal(content_id_of("/proc/self/exe", &a), 0);
	assert_int_equal(content_id_of(copy, &b), 0);
	assert_true(a.kind != CONTENT_ID_NONE);
	assert_true(content_id_equal(&a, &b));
	unlink(copy);
}

static struct content_id make_id(uint8_t v)
{
	struct content_id id = { .kind = CONTENT_ID_BUILD, .len = 4 };

	memset(id.id, v, 4);
	return id;
}

static void cache_keeps_by_content_and_replaces_oldest(void **state)
{
	struct content_cache *c = content_cache_new(2, sizeof(int));
	struct content_id a = make_id(1), b = make_id(2), d = make_id(3), none = { 0 };
	uint64_t hits, misses;
	int v = 0;

	(void)state;
	assert_non_null(c);
	assert_false(content_cache_get(c, &a, &v));
	v = 10;
	content_cache_put(c, &a, &v);
	v = 20;
	content_cache_put(c, &b, &v);
	assert_true(content_cache_get(c, &a, &v));
	assert_int_equal(v, 10);
	v = 30;
	content_cache_put(c, &d, &v);   /* full: replaces a, the oldest */
	assert_false(content_cache_get(c, &a, &v));
	assert_true(content_cache_get(c, &b, &v));
	assert_int_equal(v, 20);
	assert_true(content_cache_get(c, &d, &v));
	assert_int_equal(v, 30);
	content_cache_put(c, &none, &v);   /* never stored, never found */
	assert_false(content_cache_get(c, &none, &v));
	content_cache_counts(c, &hits, &misses);
	assert_int_equal(hits, 3);
	assert_int_equal(misses, 3);
	content_cache_free(c);
}

static void percentiles_nearest_rank(void **state)
{
	static struct latency_stats l;

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(latency_percentile(&l, 50), 0);
	for (uint64_t v = 100; v >= 1; v--)
		latency_add(&l, v * 1000);
	assert_int_equal(latency_percentile(&l, 50), 50000);
	assert_int_equal(latency_percentile(&l, 99), 99000);
	assert_int_equal(latency_percentile(&l, 100), 100000);
	assert_int_equal(l.count, 100);
	assert_int_equal(l.max_ns, 100000);
	/* the ring keeps the last samples only; the maximum is of all */
	for (int i = 0; i < LATENCY_SAMPLES; i++)
		latency_add(&l, 7);
	assert_int_equal(latency_percentile(&l, 99), 7);
	assert_int_equal(l.max_ns, 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gnu_build_id_found_after_other_notes),
		cmocka_unit_test(go_build_id_is_digested_and_gnu_preferred),
		cmocka_unit_test(malformed_notes_rejected_without_overread),
		cmocka_unit_test(file_without_build_id_is_hashed),
		cmocka_unit_test(real_elf_has_an_id_equal_for_a_copy),
		cmocka_unit_test(cache_keeps_by_content_and_replaces_oldest),
		cmocka_unit_test(percentiles_nearest_rank),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
