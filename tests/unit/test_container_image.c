/* SPDX-License-Identifier: Apache-2.0 */
/* A podman container's image name from its container store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "container_image.h"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"

/* As podman writes it: the metadata is a JSON document inside a string. */
static const char store[] =
	"[{\"id\":\"" ID1 "\",\"names\":[\"web\"],\"image\":\"abc\",\"layer\":\"def\","
	"\"metadata\":\"{\\\"image-name\\\":\\\"localhost/tokentap-e2e-curl:1\\\","
	"\\\"image-id\\\":\\\"abc\\\",\\\"name\\\":\\\"web\\\",\\\"created-at\\\":1700000000}\","
	"\"created\":\"2026-01-01T00:00:00Z\",\"flags\":{\"MountLabel\":\"\"}},"
	"{\"id\":\"" ID2 "\",\"metadata\":\"{\\\"image-name\\\":\\\"bad name\\\"}\"}]";

static void test_parse(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(container_image_parse(store, strlen(store), ID1, out, sizeof(out)), 0);
	assert_string_equal(out, "localhost/tokentap-e2e-curl:1");
	/* a name with a space is refused */
	assert_int_equal(container_image_parse(store, strlen(store), ID2, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	/* unknown id, bad id, a name too long for out, not an array, garbage */
	assert_int_equal(container_image_parse(store, strlen(store),
					       "3333333333333333333333333333333333333333333333333333333333333333",
					       out, sizeof(out)), -1);
	assert_int_equal(container_image_parse(store, strlen(store), "1111", out, sizeof(out)), -1);
	assert_int_equal(container_image_parse(store, strlen(store), ID1, out, 10), -1);
	assert_int_equal(container_image_parse("{}", 2, ID1, out, sizeof(out)), -1);
	assert_int_equal(container_image_parse("[{\"id\":", 7, ID1, out, sizeof(out)), -1);
	assert_int_equal(container_image_parse("[{\"id\":\"" ID1 "\",\"metadata\":\"[[[\"}]", 83, ID1, out,
					       sizeof(out)), -1);
}

static void test_read(void **state)
{
	char dir[] = "/tmp/tokentap-ctrimg-XXXXXX", path[256], out[128];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/overlay-containers", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(container_image_read(dir, ID1, out, sizeof(out)), -1);
	snprintf(path, sizeof(path), "%s/overlay-containers/containers.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(store, f);
	fclose(f);
	assert_int_equal(container_image_read(dir, ID1, out, sizeof(out)), 0);
	assert_string_equal(out, "localhost/tokentap-e2e-curl:1");
	unlink(path);
	snprintf(path, sizeof(path), "%s/overlay-containers", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
