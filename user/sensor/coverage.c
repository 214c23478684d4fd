/* SPDX-License-Identifier: Apache-2.0 */
#include "coverage.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "fnv.h"
#include "attach.h"
#include "clock.h"
#include "elf_traits.h"
#include "exe_cache.h"
#include "jsonout.h"
#include "sighting.h"
#include "uncovered.h"

#define DEDUPE_SLOTS 4096
#define MAPS_LINE_MAX 4096
/* Programs whose ELF traits are remembered (direct-mapped by file identity). */
#define TRAITS_SLOTS 64

struct coverage {
	char proc_root[256];
	struct exe_cache *exes;
	bool json;
	FILE *out;
	const struct pipeline_sink *sink;
	struct uncov_dedupe *dedupe;
	const struct coverage_probed *probed;
	/* reports waiting COVERAGE_SETTLE_NS, oldest first (a ring) */
	struct pending {
		int64_t due_ns;
		bool decided, covered;  /* decided at the process's exit */
		struct uncov_report r;
	} pend[COVERAGE_PENDING_MAX];
	size_t head, n;
	uint64_t overflow_seen;
	/*
	 * A program reporting many destinations is read once, not once per
	 * destination: its traits by (device, inode, change time).
	 */
	struct traits_slot {
		uint64_t key;    /* 0: empty */
		struct elf_traits t;
	} traits[TRAITS_SLOTS];
	struct coverage_stats st;
};

struct coverage *coverage_new(const char *proc_root, struct exe_cache *exes, int interval_s, bool json,
			      FILE *out, const struct pipeline_sink *sink,
			      const struct coverage_probed *probed)
{
	struct coverage *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->dedupe = uncov_dedupe_new(DEDUPE_SLOTS, (int64_t)(interval_s > 0 ? interval_s : 1) * 1000000000LL);
	if (!c->dedupe) {
		free(c);
		return NULL;
	}
	snprintf(c->proc_root, sizeof(c->proc_root), "%s", proc_root);
	c->exes = exes;
	c->json = json;
	c->out = out;
	c->sink = sink;
	c->probed = probed;
	return c;
}

void coverage_free(struct coverage *c)
{
	if (!c)
		return;
	uncov_dedupe_free(c->dedupe);
	free(c);
}

struct coverage_stats coverage_stats(const struct coverage *c)
{
	struct coverage_stats z = { 0 };

	return c ? c->st : z;
}

static bool file_attached(const struct attacher *att, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < att->n; i++)
		if (att->files[i].dev == dev && att->files[i].ino == ino)
			return att->files[i].tls && !att->files[i].released;
	return false;
}

/* The libraries the process maps: JVM, probed libraries not attached, unknown TLS libraries. */
static void maps_facts(const struct coverage *c, const struct attacher *att, uint32_t pid,
		       struct uncov_facts *f)
{
	char path[320], line[MAPS_LINE_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%u/maps", c->proc_root, pid);
	fp = fopen(path, "re");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		unsigned maj, min;
		unsigned long long ino;
		int off = 0;
		const char *file, *base;

		/* start-end perms offset maj:min inode path */
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) != 3 || !off)
			continue;
		file = line + off;
		if (file[0] != '/')
			continue;
		line[strcspn(line, "\n")] = '\0';
		base = strrchr(file, '/') + 1;
		if (strncmp(base, "libjvm.so", 9) == 0)
			f->jvm = true;
		else if (uncov_is_probed_lib(base) && !file_attached(att, makedev(maj, min), (ino_t)ino))
			f->probed_lib_unattached = true;
		else if (!f->unsupported_lib[0] && uncov_is_unsupported_lib(base))
			snprintf(f->unsupported_lib, sizeof(f->unsupported_lib), "%s", base);
	}
	fclose(fp);
}

/* elf_traits_read, remembered per file; 0, or -1 when it is not a readable ELF file. */
static int program_traits(struct coverage *c, const char *path, struct elf_traits *t)
{
	struct traits_slot *s;
	struct stat st;
	uint64_t key;

	if (stat(path, &st) != 0)
		return -1;
	key = fnv1a(FNV1A_SEED, &st.st_dev, sizeof(st.st_dev));
	key = fnv1a(key, &st.st_ino, sizeof(st.st_ino));
	key = fnv1a(key, &st.st_ctim, sizeof(st.st_ctim));
	key |= 1; /* never 0, the empty slot */
	s = &c->traits[key % TRAITS_SLOTS];
	if (s->key == key) {
		*t = s->t;
		return 0;
	}
	if (elf_traits_read(path, t) != 0)
		return -1;
	s->key = key;
	s->t = *t;
	return 0;
}

static void gather_facts(struct coverage *c, const struct attacher *att, uint32_t pid,
			 const char *exe, struct uncov_facts *f)
{
	const char *base = strrchr(exe, '/');
	struct elf_traits t;
	char path[320];

	memset(f, 0, sizeof(*f));
	base = base ? base + 1 : exe;
	f->jvm = strcmp(base, "java") == 0;
	maps_facts(c, att, pid, f);
	/* through /proc: the program as the process sees it, also inside a container */
	snprintf(path, sizeof(path), "%s/%u/exe", c->proc_root, pid);
	if (program_traits(c, path, &t) == 0) {
		f->rust = t.rust;
		f->has_symtab = t.has_symtab;
		f->is_static = t.is_static;
		f->known_tls_syms = t.known_tls_syms;
	}
}

static void print_report(struct coverage *c, const struct uncov_report *r)
{
	if (!c->out)
		return;
	if (c->json) {
		struct json_object *o = jsonout_uncovered_event(r);

		if (o) {
			fprintf(c->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
										     JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		}
	} else {
		textout_uncovered_event(c->out, r);
	}
	fflush(c->out);
}

static void emit(struct coverage *c, const struct uncov_report *r)
{
	c->st.reports++;
	print_report(c, r);
	if (c->sink && c->sink->uncovered)
		c->sink->uncovered(c->sink->ctx, r);
}

void coverage_record(struct coverage *c, const struct attacher *att, const struct tt_event_hdr *h)
{
	struct uncov_report r;
	struct uncov_facts f;
	struct exe_info ei;

	c->st.sockets++;
	memset(&r, 0, sizeof(r));
	exe_cache_get(c->exes, h->pid, &ei);
	if (h->flags & TT_F_ADDR)
		sighting_format_addr(r.dst, sizeof(r.dst), h->dst.family, h->dst.addr, h->dst.port);
	if (!uncov_dedupe_first(c->dedupe, ei.exe[0] ? ei.exe : h->comm, r.dst, clock_mono_ns())) {
		if (uncov_dedupe_overflow(c->dedupe) > c->overflow_seen) {
			c->overflow_seen = uncov_dedupe_overflow(c->dedupe);
			c->st.dropped++;
		}
		return;
	}
	r.ts_ns = clock_real_ns();
	r.pid = h->pid;
	r.uid = h->uid;
	memcpy(r.comm, h->comm, strnlen(h->comm, TT_COMM_LEN));
	memcpy(r.exe, ei.exe, sizeof(r.exe));
	memcpy(r.container_id, ei.container_id, sizeof(r.container_id));
	memcpy(r.pod_uid, ei.pod_uid, sizeof(r.pod_uid));
	r.cgroup_id = h->cgroup_id;
	gather_facts(c, att, h->pid, ei.exe, &f);
	r.cause = uncov_cause_choose(&f);
	if (r.cause == UNCOV_UNSUPPORTED_LIB)
		snprintf(r.detail, sizeof(r.detail), "%s", f.unsupported_lib);
	if (!c->probed) {
		emit(c, &r);
		return;
	}
	if (c->n == COVERAGE_PENDING_MAX) {
		c->st.dropped++;
		return;
	}
	c->pend[(c->head + c->n) % COVERAGE_PENDING_MAX] =
		(struct pending){ .due_ns = clock_mono_ns() + COVERAGE_SETTLE_NS, .r = r };
	c->n++;
}

/* Did a probed TLS write run in pid since the sensor started? */
static bool probed_since(const struct coverage *c, uint32_t pid)
{
	return c->probed->probed(c->probed->ctx, pid);
}

void coverage_tick(struct coverage *c, int64_t now_ns)
{
	while (c && c->n && c->pend[c->head].due_ns <= now_ns) {
		struct pending *p = &c->pend[c->head];
		bool covered = p->decided ? p->covered : probed_since(c, p->r.pid);

		if (covered)
			c->st.settled++;
		else
			emit(c, &p->r);
		c->head = (c->head + 1) % COVERAGE_PENDING_MAX;
		c->n--;
	}
}

void coverage_exit(struct coverage *c, uint32_t pid)
{
	if (!c || !c->probed)
		return;
	/* decided now, while the process's entry is there; reported in order when due */
	for (size_t i = 0; i < c->n; i++) {
		struct pending *p = &c->pend[(c->head + i) % COVERAGE_PENDING_MAX];

		if (p->r.pid == pid && !p->decided) {
			p->covered = probed_since(c, pid);
			p->decided = true;
		}
	}
	c->probed->forget(c->probed->ctx, pid);
}
