/* SPDX-License-Identifier: Apache-2.0 */
#include "held_procs.h"
#include "clock.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fnv.h"
#include "held_scan.h"
#include "procdesc.h"

/* Direct-mapped memory of what was reported: a collision only repeats a report. */
#define SEEN_SLOTS 16384

struct held_procs {
	const struct fp_key *key;
	const char *proc_root;
	bool json;
	FILE *out;
	const struct pipeline_sink *sink;
	struct pod_resolver pods;
	uint64_t *seen;
	struct held_procs_stats st;
};

/* What one scan found, reported after the process is described. */
#define FOUND_MAX 32
struct found {
	struct held_token items[FOUND_MAX];
	size_t n;
};

struct held_procs *held_procs_new(const struct fp_key *key, const char *proc_root, bool json, FILE *out,
				const struct pipeline_sink *sink)
{
	struct held_procs *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->seen = calloc(SEEN_SLOTS, sizeof(*w->seen));
	if (!w->seen) {
		free(w);
		return NULL;
	}
	w->key = key;
	w->proc_root = proc_root;
	w->json = json;
	w->out = out;
	w->sink = sink;
	return w;
}

void held_procs_set_pods(struct held_procs *w, const struct pod_resolver *pods)
{
	w->pods = *pods;
}

void held_procs_free(struct held_procs *w)
{
	if (!w)
		return;
	free(w->seen);
	free(w);
}

const struct held_procs_stats *held_procs_stats(const struct held_procs *w)
{
	return &w->st;
}

static void on_found(void *ctx, const struct held_token *t)
{
	struct found *f = ctx;

	if (f->n == FOUND_MAX)
		return;
	f->items[f->n] = *t;
	/* the token_info is the scanner's: take a reference to its JWT claims */
	if (t->info.jwt)
		json_object_get(t->info.jwt);
	f->n++;
}

/* True the first time this (token, process, program, source, name) is seen. */
static bool first_report(struct held_procs *w, const struct procdesc *d, const struct held_token *t)
{
	char num[48];
	uint64_t h = FNV1A_SEED, *slot;

	snprintf(num, sizeof(num), "%u/%lld/%d", d->pid, (long long)d->start_time_ms, (int)t->source);
	h = fnv1a_field(h, num);
	h = fnv1a_field(h, d->exe);
	h = fnv1a_field(h, t->fingerprint);
	h = fnv1a_field(h, t->name);
	h |= 1; /* 0 marks an empty slot */
	slot = &w->seen[h % SEEN_SLOTS];
	if (*slot == h)
		return false;
	*slot = h;
	return true;
}

static void report(struct held_procs *w, const struct procdesc *d, const struct held_token *t,
		   int64_t now_ns)
{
	const char *source = t->source == HELD_ARGV ? "argv" : "environ";
	struct sighting s;

	memset(&s, 0, sizeof(s));
	snprintf(s.fingerprint, sizeof(s.fingerprint), "%s", t->fingerprint);
	s.info = t->info;
	s.pid = d->pid;
	s.tid = d->pid;
	s.uid = d->uid;
	snprintf(s.exe, sizeof(s.exe), "%s", d->exe);
	{
		/* comm is the program's base name, as the kernel sets it at exec */
		const char *base = strrchr(d->exe, '/');

		base = base ? base + 1 : d->exe;
		memcpy(s.comm, base, strnlen(base, sizeof(s.comm) - 1));
	}
	s.cgroup_id = d->cgroup_id;
	memcpy(s.container_id, d->container_id, sizeof(s.container_id));
	memcpy(s.pod_uid, d->pod_uid, sizeof(s.pod_uid));
	s.ts_unix_ns = now_ns;
	w->st.reported++;
	if (w->out) {
		if (w->json) {
			struct json_object *o = jsonout_held_event(now_ns, &s, source, t->name);
			struct pod_ident id;

			if (o && w->pods.resolve && (s.pod_uid[0] || s.container_id[0]) &&
			    w->pods.resolve(w->pods.ctx, s.pod_uid, s.container_id, &id))
				jsonout_add_pod(o, &id);
			if (o) {
				fprintf(w->out, "%s\n",
					json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
									  JSON_C_TO_STRING_NOSLASHESCAPE));
				json_object_put(o);
			}
		} else {
			textout_held_event(w->out, now_ns, &s, source, t->name);
		}
		fflush(w->out);
	}
	if (w->sink && w->sink->held)
		w->sink->held(w->sink->ctx, &s, d, t->source, t->name);
}

void held_procs_scan_pid(struct held_procs *w, uint32_t pid)
{
	struct found *f;
	struct procdesc *d = NULL;
	int64_t now_ns = clock_real_ns();

	f = calloc(1, sizeof(*f));
	if (!f)
		return;
	w->st.scanned++;
	if (held_scan_pid(w->proc_root, pid, w->key, on_found, f) < 0) {
		w->st.gone++;
		goto out;
	}
	if (f->n == 0)
		goto out;
	/* described only when it holds something: most processes hold nothing */
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	if (procdesc_read(w->proc_root, "/sys/fs/cgroup", pid, d) != 0)
		d->pid = pid;
	for (size_t i = 0; i < f->n; i++)
		if (first_report(w, d, &f->items[i]))
			report(w, d, &f->items[i], now_ns);
out:
	for (size_t i = 0; f && i < f->n; i++)
		token_info_release(&f->items[i].info);
	free(d);
	free(f);
}

void held_procs_scan_all(struct held_procs *w, uint32_t only_pid)
{
	DIR *dir;
	struct dirent *de;
	uint32_t self = (uint32_t)getpid();

	if (only_pid) {
		held_procs_scan_pid(w, only_pid);
		return;
	}
	dir = opendir(w->proc_root);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX || pid == self)
			continue;
		held_procs_scan_pid(w, (uint32_t)pid);
	}
	closedir(dir);
}
