/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's /metrics text: Prometheus exposition conventions (a HELP
 * and a TYPE line before each family's samples, the tokentap_ prefix,
 * counters ending in _total), the values of the status counters, drops by
 * reason, map fill, and a buffer too small giving 0, never a cut text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor_metrics.h"

static struct sensor_metrics sample(void)
{
	struct sensor_metrics m = { 0 };

	m.c.events = 1234;
	m.c.ringbuf_drops = 7;
	m.c.spool_dropped = 3;
	m.c.spool_write_failures = 5;
	m.c.batches_held = 2;
	m.c.batches_lost = 1;
	m.c.attached_openssl = 2;
	m.c.uprobes = 5;
	m.c.spool_bytes = 4096;
	m.c.batches_sent = 4;
	m.ship_ns_sum = 2500000000ULL;
	m.ready = true;
	m.tls_capture = true;
	m.ringbuf_used_bytes = 100;
	m.ringbuf_size_bytes = 16777216;
	m.maps[0].name = "ssl_socks";
	m.maps[0].entries = 12;
	m.maps[0].capacity = 65536;
	m.n_maps = 1;
	return m;
}

static void values(void **state)
{
	struct sensor_metrics m = sample();
	char buf[32768];
	size_t n = sensor_metrics_render(&m, buf, sizeof(buf));

	(void)state;
	assert_true(n > 0 && n == strlen(buf));
	assert_non_null(strstr(buf, "\ntokentap_events_total 1234\n"));
	assert_non_null(strstr(buf, "\ntokentap_drops_total{reason=\"ringbuf_full\"} 7\n"));
	assert_non_null(strstr(buf, "\ntokentap_drops_total{reason=\"spool_full\"} 3\n"));
	assert_non_null(strstr(buf, "\ntokentap_drops_total{reason=\"batch_lost\"} 1\n"));
	assert_non_null(strstr(buf, "\ntokentap_spool_write_failures_total 5\n"));
	assert_non_null(strstr(buf, "\ntokentap_batches_held 2\n"));
	assert_non_null(strstr(buf, "\ntokentap_attached_files{library=\"openssl\"} 2\n"));
	assert_non_null(strstr(buf, "\ntokentap_bpf_map_entries{map=\"ssl_socks\"} 12\n"));
	assert_non_null(strstr(buf, "\ntokentap_bpf_map_capacity_entries{map=\"ssl_socks\"} 65536\n"));
	assert_non_null(strstr(buf, "\ntokentap_ringbuf_used_bytes 100\n"));
	assert_non_null(strstr(buf, "\ntokentap_spool_bytes 4096\n"));
	assert_non_null(strstr(buf, "\ntokentap_ship_duration_seconds_sum 2.500000\n"));
	assert_non_null(strstr(buf, "\ntokentap_ship_duration_seconds_count 4\n"));
	assert_non_null(strstr(buf, "\ntokentap_ready 1\n"));
	m.ready = false;
	sensor_metrics_render(&m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\ntokentap_ready 0\n"));
}

/* Every sample belongs to the family declared just before it. */
static void exposition_conventions(void **state)
{
	struct sensor_metrics m = sample();
	char buf[32768], family[128] = "", type[32] = "", help_for[128] = "";
	char *save = NULL;
	int families = 0;

	(void)state;
	assert_true(sensor_metrics_render(&m, buf, sizeof(buf)) > 0);
	assert_int_equal(buf[strlen(buf) - 1], '\n');
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128];
		size_t nl;

		if (sscanf(l, "# HELP %127s", help_for) == 1) {
			assert_non_null(strchr(l + 7 + strlen(help_for), ' '));
			continue;
		}
		if (sscanf(l, "# TYPE %127s %31s", family, type) == 2) {
			assert_string_equal(family, help_for);
			assert_memory_equal(family, "tokentap_", 9);
			if (strcmp(type, "counter") == 0)
				assert_string_equal(family + strlen(family) - 6, "_total");
			else
				assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "summary") == 0);
			families++;
			continue;
		}
		assert_true(l[0] != '#');
		nl = strcspn(l, "{ ");
		assert_true(nl < sizeof(name));
		memcpy(name, l, nl);
		name[nl] = '\0';
		if (strcmp(type, "summary") == 0)
			assert_true(strcmp(name, family) == 0 ||
				    (strncmp(name, family, strlen(family)) == 0 &&
				     (strcmp(name + strlen(family), "_sum") == 0 ||
				      strcmp(name + strlen(family), "_count") == 0)));
		else
			assert_string_equal(name, family);
		/* a value after the name and labels */
		assert_non_null(strrchr(l, ' '));
		strtod(strrchr(l, ' ') + 1, NULL);
	}
	assert_true(families > 20);
}

static void too_small_is_zero(void **state)
{
	struct sensor_metrics m = sample();
	char buf[512];

	(void)state;
	assert_int_equal(sensor_metrics_render(&m, buf, sizeof(buf)), 0);
	assert_int_equal(sensor_metrics_render(&m, buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(exposition_conventions),
		cmocka_unit_test(too_small_is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
