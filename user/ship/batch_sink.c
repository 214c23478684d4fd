/* SPDX-License-Identifier: Apache-2.0 */
#include "batch_sink.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "fnv.h"
#include "procdesc.h"

#define DESCRIBED_SLOTS 8192

/*
 * Identity of a process for "already described": pid, program, and
 * whether its pod's names were known, so a process first described with
 * its pod UID alone is described again once the pod watcher knows it.
 */
static uint64_t process_key(const struct sighting *s, bool pod_known)
{
	return (fnv1a(FNV1A_SEED ^ s->pid, s->exe, strlen(s->exe)) & ~(uint64_t)3) |
	       (pod_known ? 3 : 1);
}

static bool resolve_pod(const struct batch_sink *ss, const char *pod_uid, const char *container_id,
			struct pod_ident *out)
{
	return ss->pods.resolve && (pod_uid[0] || container_id[0]) &&
	       ss->pods.resolve(ss->pods.ctx, pod_uid, container_id, out);
}

/*
 * Describes s's process the first time it is seen; known, when the caller
 * has read it already (a holder), saves a second read of /proc.
 */
static void describe_process(struct batch_sink *ss, const struct sighting *s,
			     const struct procdesc *known)
{
	struct pod_ident id;
	bool pod_known = resolve_pod(ss, s->pod_uid, s->container_id, &id);
	uint64_t key = process_key(s, pod_known);
	uint64_t *slot = &ss->described[(key >> 2) % DESCRIBED_SLOTS];
	struct procdesc *d;

	/* a pid reused by another program is described again on its first token */
	if (*slot == key)
		return;
	*slot = key;
	d = calloc(1, sizeof(*d));
	if (!d)
		return;
	if (known) {
		*d = *known;
		if (pod_known)
			d->pod = id;
		shipper_add(ss->shipper, batch_event_process_info(d));
		free(d);
		return;
	}
	/* a short-lived client may be gone already: report what the sighting knows */
	if (procdesc_read("/proc", "/sys/fs/cgroup", s->pid, d) != 0) {
		d->pid = s->pid;
		d->uid = s->uid;
		d->cgroup_id = s->cgroup_id;
	}
	if (!d->exe[0])
		snprintf(d->exe, sizeof(d->exe), "%s", s->exe);
	if (!d->pod_uid[0]) {
		memcpy(d->pod_uid, s->pod_uid, sizeof(d->pod_uid));
		memcpy(d->container_id, s->container_id, sizeof(d->container_id));
	}
	if (pod_known)
		d->pod = id;
	shipper_add(ss->shipper, batch_event_process_info(d));
	free(d);
}

static void on_seen(void *ctx, const struct sighting *s)
{
	struct batch_sink *ss = ctx;

	describe_process(ss, s, NULL);
	shipper_add(ss->shipper, batch_event_token_seen(s));
}

static void on_usage(void *ctx, const struct sighting *first, int64_t last_seen_ns,
		     uint64_t count, int64_t start_ns, int64_t end_ns)
{
	struct batch_sink *ss = ctx;

	shipper_add(ss->shipper,
		    batch_event_token_usage(first, last_seen_ns, count, start_ns, end_ns));
}

static void on_held(void *ctx, const struct sighting *s, const struct procdesc *d,
		    enum held_source src, const char *name)
{
	struct batch_sink *ss = ctx;

	describe_process(ss, s, d);
	shipper_add(ss->shipper, batch_event_token_held(s, src, name, d->start_time_ms));
}

static void on_status(void *ctx, const struct status_field *f, size_t n)
{
	struct batch_sink *ss = ctx;

	shipper_add(ss->shipper, batch_event_status(clock_real_ns(), f, n));
}

static void on_uncovered(void *ctx, const struct uncov_report *r)
{
	struct batch_sink *ss = ctx;

	shipper_add(ss->shipper, batch_event_tls_uncovered(r));
}

int batch_sink_init(struct batch_sink *ss, struct shipper *sh, const struct pod_resolver *pods)
{
	memset(ss, 0, sizeof(*ss));
	ss->described = calloc(DESCRIBED_SLOTS, sizeof(*ss->described));
	if (!ss->described)
		return -1;
	ss->shipper = sh;
	if (pods)
		ss->pods = *pods;
	ss->sink.seen = on_seen;
	ss->sink.held = on_held;
	ss->sink.usage = on_usage;
	ss->sink.status = on_status;
	ss->sink.uncovered = on_uncovered;
	ss->sink.ctx = ss;
	return 0;
}

void batch_sink_free(struct batch_sink *ss)
{
	free(ss->described);
	memset(ss, 0, sizeof(*ss));
}
