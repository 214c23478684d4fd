/* SPDX-License-Identifier: Apache-2.0 */
#include "attach.h"
#include "clock.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "content_cache.h"
#include "elfsym.h"
#include "attach_go.h"
#include "log.h"
#include "probepoint.h"
#include "exe_cache.h"
#include "tokentap.h"
#include "tokentap.skel.h"
#include "uprobe_link.h"

#define MAX_FILES 65536
#define CODE_MAX 4096
/*
 * A file attached or seen mapped this recently is never released: a
 * process may be mapping it right now, before its mapping shows in /proc.
 */
#define RELEASE_GRACE_NS (2LL * 1000 * 1000 * 1000)
#define RELEASE_BATCH 256
/* analyses kept by content: distinct TLS libraries and Go programs in use */
#define CONTENT_CACHE_SLOTS 256

/* What attach_tls needs of a file: found once per content, reused for every copy. */
struct tls_analysis {
	int found[PROBE_MAX];
	uint64_t off[PROBE_MAX];
	uint64_t cookie;
};

void attacher_init(struct attacher *a, struct tokentap_bpf *skel, struct exe_cache *exes,
		   uint32_t only_pid, bool entry_probes, int verbose)
{
	memset(a, 0, sizeof(*a));
	a->skel = skel;
	a->exes = exes;
	a->self_pid = (uint32_t)getpid();
	a->only_pid = only_pid;
	a->entry_probes = entry_probes;
	a->verbose = verbose;
	a->tls_cache = content_cache_new(CONTENT_CACHE_SLOTS, sizeof(struct tls_analysis));
	a->go_cache = content_cache_new(CONTENT_CACHE_SLOTS, sizeof(struct go_analysis));
}

void attacher_free(struct attacher *a)
{
	for (size_t i = 0; i < a->n; i++) {
		for (int k = 0; k < PROBE_MAX; k++)
			uprobe_link_destroy(a->files[i].links[k]);
		uprobe_link_destroy(a->files[i].go_link);
		for (int k = 0; k < 2; k++)
			uprobe_link_destroy(a->files[i].go_hf_links[k]);
	}
	free(a->files);
	content_cache_free(a->tls_cache);
	content_cache_free(a->go_cache);
	memset(a, 0, sizeof(*a));
}

bool attacher_tls_possible(const struct attacher *a)
{
	return uprobe_link_mode() != UPROBE_MODE_NONE && !(a->attach_denied && !a->probes);
}

void attach_failed(struct attacher *a)
{
	a->attach_errors++;
	if (errno == EACCES || errno == EPERM)
		a->attach_denied++;
}

static struct attach_file *find_file(struct attacher *a, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->files[i].dev == dev && a->files[i].ino == ino)
			return &a->files[i];
	return NULL;
}

static struct attach_file *add_file(struct attacher *a, dev_t dev, ino_t ino)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct attach_file *f;

		if (cap > MAX_FILES || !(f = realloc(a->files, cap * sizeof(*f))))
			return NULL;
		a->files = f;
		a->cap = cap;
	}
	memset(&a->files[a->n], 0, sizeof(a->files[0]));
	a->files[a->n].dev = dev;
	a->files[a->n].ino = ino;
	return &a->files[a->n++];
}

/*
 * Where to probe fn: the entry, or a call inside it proven equivalent
 * (probepoint.h). Returns the file offset.
 */
static uint64_t probe_offset(struct attacher *a, const char *path, const char *name,
			     const struct elf_func *fn, uint64_t *call_target)
{
	uint8_t code[CODE_MAX];
	ssize_t got;
	uint64_t delta;
	char why[96];

	*call_target = 0;
	/*
	 * The analysis needs the whole function: its end is where a call to a
	 * noreturn function (__stack_chk_fail) is recognised.
	 */
	if (a->entry_probes || fn->size == 0 || fn->size > CODE_MAX)
		return fn->offset;
	got = elf_read_bytes(path, fn->offset, code, fn->size);
	if (got != (ssize_t)fn->size)
		return fn->offset;
	delta = probe_point_choose(code, (size_t)got, fn->vaddr, 3, call_target, why, sizeof(why));
	if (a->verbose)
		log_info("%s: %s at +%llu (%s)", path, name, (unsigned long long)delta, why);
	if (delta)
		a->probes_at_call++;
	return fn->offset + delta;
}

/*
 * 1 + offset of the handshake-in-progress flag, read from this build's
 * SSL_in_init; 0 when it is not a plain field getter.
 */
static uint64_t in_init_cookie(const char *path, const struct elf_func *fn)
{
	uint8_t code[64];
	ssize_t got = elf_read_bytes(path, fn->offset, code, sizeof(code));
	int32_t off;

	if (got <= 0 || probe_getter_offset(code, (size_t)got, fn->vaddr, &off) != 0)
		return 0;
	return (uint64_t)off + 1;
}

static const struct {
	const char *name;
	unsigned lib;
} probe_funcs[PROBE_MAX] = {
	[PROBE_SSL_WRITE] = { "SSL_write", TT_LIB_OPENSSL },
	[PROBE_SSL_WRITE_EX] = { "SSL_write_ex", TT_LIB_OPENSSL },
	[PROBE_GNUTLS_SEND] = { "gnutls_record_send2", TT_LIB_GNUTLS },
	[PROBE_NSS_WRITE] = { "PR_Write", TT_LIB_NSS },
	[PROBE_NSS_SEND] = { "PR_Send", TT_LIB_NSS },
	[PROBE_JAVA_WRITE] = { "tokentap_java_tls_write", TT_LIB_JAVA },
};

static struct bpf_program *probe_prog(struct attacher *a, int k)
{
	switch (k) {
	case PROBE_SSL_WRITE:
		return a->skel->progs.probe_ssl_write;
	case PROBE_SSL_WRITE_EX:
		return a->skel->progs.probe_ssl_write_ex;
	case PROBE_GNUTLS_SEND:
		return a->skel->progs.probe_gnutls_send;
	case PROBE_JAVA_WRITE:
		return a->skel->progs.probe_java_write;
	default:
		return a->skel->progs.probe_nss_write;
	}
}

static void analyse_tls(struct attacher *a, const char *path, struct tls_analysis *an)
{
	/* the probed functions, then SSL_in_init (only read) */
	const char *names[PROBE_MAX + 1];
	struct elf_func fn[PROBE_MAX + 1];
	int found[PROBE_MAX + 1];
	uint64_t target[PROBE_MAX];

	memset(an, 0, sizeof(*an));
	for (int k = 0; k < PROBE_MAX; k++)
		names[k] = probe_funcs[k].name;
	names[PROBE_MAX] = "SSL_in_init";
	if (elf_find_funcs(path, names, PROBE_MAX + 1, fn, found) <= 0)
		return;
	if (found[PROBE_MAX])
		an->cookie = in_init_cookie(path, &fn[PROBE_MAX]);
	for (int k = 0; k < PROBE_MAX; k++) {
		an->found[k] = found[k];
		/* four arguments, no call inside: always the entry */
		if (found[k] && k == PROBE_JAVA_WRITE)
			an->off[k] = fn[k].offset;
		else if (found[k])
			an->off[k] = probe_offset(a, path, names[k], &fn[k], &target[k]);
	}
	/* SSL_write built on SSL_write_ex: probing both would see each write twice. */
	if (found[PROBE_SSL_WRITE] && found[PROBE_SSL_WRITE_EX] &&
	    target[PROBE_SSL_WRITE] == fn[PROBE_SSL_WRITE_EX].vaddr)
		an->found[PROBE_SSL_WRITE] = 0;
}

static int attach_tls(struct attacher *a, struct attach_file *f, const char *path,
		      const struct content_id *id)
{
	struct tls_analysis an;
	int attached = 0;

	if (!id || !content_cache_get(a->tls_cache, id, &an)) {
		analyse_tls(a, path, &an);
		if (id)
			content_cache_put(a->tls_cache, id, &an);
	}
	for (int k = 0; k < PROBE_MAX; k++) {
		uint64_t ck = probe_funcs[k].lib == TT_LIB_OPENSSL ? an.cookie : 0;

		if (!an.found[k])
			continue;
		f->links[k] = uprobe_link_attach(probe_prog(a, k), path, an.off[k], ck);
		/* kernels before 5.15 have no attach cookies: attach without */
		if (!f->links[k] && ck)
			f->links[k] = uprobe_link_attach(probe_prog(a, k), path, an.off[k], 0);
		if (!f->links[k]) {
			attach_failed(a);
			log_warn("cannot attach %s in %s: %s", probe_funcs[k].name, path, strerror(errno));
			continue;
		}
		f->lib = probe_funcs[k].lib;
		a->probes++;
		attached++;
	}
	return attached;
}

/* Its executable mappings need no more events (the decided map). */
static void mark_decided(struct attacher *a, const struct tt_file_key *key)
{
	uint8_t one = 1;

	if (a->skel)
		bpf_map_update_elem(bpf_map__fd(a->skel->maps.decided), key, &one, BPF_ANY);
}

/* f is undecided again (released): its next mapping is seen. */
static void forget_decided(struct attacher *a, struct attach_file *f)
{
	if (a->skel && f->kkey.ino)
		bpf_map_delete_elem(bpf_map__fd(a->skel->maps.decided), &f->kkey);
	memset(&f->kkey, 0, sizeof(f->kkey));
}

static void release_file(struct attacher *a, struct attach_file *f);

/*
 * Examines one file: path reaches it (through /proc), name is how the
 * process names it. keep: found by the startup glob.
 */
static int examine_file(struct attacher *a, const char *path, const char *name, bool is_exe,
			bool keep)
{
	struct attach_file *f;
	struct content_id id;
	struct stat st;
	const char *base;
	int64_t ctime_ns;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
	f = find_file(a, st.st_dev, st.st_ino);
	if (f && !f->released && f->ctime_ns != ctime_ns) {
		/* the inode number names another file now (or it changed): examine it again */
		if (f->tls)
			release_file(a, f);
		else
			f->released = true;
	}
	if (f && !f->released) {
		f->seen_ns = clock_mono_ns();
		return 0;
	}
	if (f) {
		/* released when its last user exited; mapped again now */
		memset(f->links, 0, sizeof(f->links));
		f->go_link = NULL;
		memset(f->go_hf_links, 0, sizeof(f->go_hf_links));
		f->released = false;
		f->lib = TT_LIB_NONE;
	} else {
		f = add_file(a, st.st_dev, st.st_ino);
		if (!f)
			return 0;
		f->keep = keep;
	}
	f->seen_ns = clock_mono_ns();
	f->ctime_ns = ctime_ns;
	a->examined++;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	f->is_lib = !is_exe && strstr(base, ".so") != NULL;
	if (content_id_of(path, &id) != 0)
		id.kind = CONTENT_ID_NONE;
	/* Go programs carry their own TLS stack, crypto/tls */
	if (attach_tls(a, f, path, id.kind ? &id : NULL) == 0 &&
	    !(is_exe && go_attach(a, f, path, id.kind ? &id : NULL) > 0))
		return 0;
	f->tls = true;
	a->files_by_lib[f->lib]++;
	if (f->is_lib)
		a->tls_libs++;
	else
		a->tls_exes++;
	log_verbose(a->verbose, "attached %s (%s)", name, f->is_lib ? "library" : "executable");
	return 1;
}

/* Examines one mapped file, found through the process's own view of it. */
static int examine(struct attacher *a, uint32_t pid, const char *mapped_path, bool is_exe)
{
	char path[4096 + 32];

	/* /proc/PID/root reaches files in other mount namespaces (containers). */
	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/root%s", pid, mapped_path);
	else
		snprintf(path, sizeof(path), "%s", mapped_path);
	/* the glob runs before any process scan, with pid 0 */
	return examine_file(a, path, mapped_path, is_exe, pid == 0);
}

int attacher_examine_open(struct attacher *a, int fd, bool is_exe)
{
	char path[64], name[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, name, sizeof(name) - 1);
	name[n > 0 ? n : 0] = '\0';
	/* the uprobe is placed by path: the kernel follows this link to the file itself */
	return examine_file(a, path, n > 0 ? name : path, is_exe, false);
}

int attacher_mapped(struct attacher *a, uint32_t pid, int fd, const struct tt_file_key *key)
{
	struct attach_file *f;
	char path[64];
	struct stat st;
	int ofd, rc;

	if (pid == a->self_pid || (a->only_pid && pid != a->only_pid))
		return 0;
	/* the process is inside mmap(fd) or just past it: its descriptor is the file */
	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0)
		return -1;
	if (fstat(ofd, &st) != 0 || (uint64_t)st.st_ino != key->ino) {
		/* closed and the number reused: not the mapped file */
		close(ofd);
		return -1;
	}
	rc = attacher_examine_open(a, ofd, false);
	close(ofd);
	f = find_file(a, st.st_dev, st.st_ino);
	if (f && !f->released) {
		/* the kernel's name for the file (device, inode, generation) */
		f->kkey = *key;
		mark_decided(a, key);
	}
	return rc;
}

void attacher_mark_scanned(struct attacher *a, const struct tt_file_key *key)
{
	dev_t dev = makedev((unsigned)(key->dev >> 20), (unsigned)(key->dev & 0xfffff));
	struct attach_file *f = find_file(a, dev, (ino_t)key->ino);

	/* a device named differently by stat (btrfs, overlayfs) is not found: more events, no harm */
	if (f && !f->released) {
		f->kkey = *key;
		mark_decided(a, key);
	}
}

int attacher_scan_pid(struct attacher *a, uint32_t pid)
{
	char maps[64], exe[4096], line[4096 + 256];
	FILE *fp;
	ssize_t n;
	int added = 0;

	if (pid == a->self_pid || (a->only_pid && pid != a->only_pid))
		return 0;
	snprintf(maps, sizeof(maps), "/proc/%u/exe", pid);
	n = readlink(maps, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	/* remember the program now: the process may be gone when its events are read */
	if (n > 0)
		exe_cache_exec(a->exes, pid, exe);
	snprintf(maps, sizeof(maps), "/proc/%u/maps", pid);
	fp = fopen(maps, "re");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		char perms[8] = "", *path;
		unsigned long long ino = 0;

		/* start-end perms offset dev inode path */
		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %llu", perms, &ino) != 2)
			continue;
		if (perms[2] != 'x' || ino == 0)
			continue;
		path = strchr(line, '/');
		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		/* a file replaced on disk still shows its old inode: skip it */
		if (strstr(path, " (deleted)"))
			continue;
		added += examine(a, pid, path, strcmp(path, exe) == 0);
	}
	fclose(fp);
	return added;
}

int attacher_scan_all(struct attacher *a)
{
	static const char *const lib_globs[] = {
		"/usr/lib/x86_64-linux-gnu/libssl.so*", "/lib/x86_64-linux-gnu/libssl.so*",
		"/usr/lib64/libssl.so*", "/usr/lib/libssl.so*", "/usr/local/lib/libssl.so*",
		"/usr/local/lib64/libssl.so*", "/usr/lib/x86_64-linux-gnu/libgnutls.so*",
		"/lib/x86_64-linux-gnu/libgnutls.so*", "/usr/lib64/libgnutls.so*",
		"/usr/lib/x86_64-linux-gnu/libnspr4.so*", "/usr/lib64/libnspr4.so*",
	};
	int added = 0;
	DIR *d;
	struct dirent *de;

	if (a->only_pid)
		return attacher_scan_pid(a, a->only_pid);
	/* Libraries nobody maps yet: a client started later is covered at once. */
	for (size_t i = 0; i < sizeof(lib_globs) / sizeof(lib_globs[0]); i++) {
		glob_t g;

		if (glob(lib_globs[i], 0, NULL, &g) != 0)
			continue;
		for (size_t k = 0; k < g.gl_pathc; k++)
			added += examine(a, 0, g.gl_pathv[k], false);
		globfree(&g);
	}
	d = opendir("/proc");
	if (!d)
		return added;
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end == '\0' && pid > 0 && pid < UINT32_MAX)
			added += attacher_scan_pid(a, (uint32_t)pid);
	}
	closedir(d);
	return added;
}

bool attacher_has_releasable(const struct attacher *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->files[i].tls && !a->files[i].keep)
			return true;
	return false;
}

static void release_file(struct attacher *a, struct attach_file *f)
{
	for (int k = 0; k < PROBE_MAX; k++) {
		if (!f->links[k])
			continue;
		uprobe_link_destroy(f->links[k]);
		f->links[k] = NULL;
		a->probes--;
	}
	if (f->go_link) {
		uprobe_link_destroy(f->go_link);
		f->go_link = NULL;
		a->probes--;
	}
	for (int k = 0; k < 2; k++) {
		if (!f->go_hf_links[k])
			continue;
		uprobe_link_destroy(f->go_hf_links[k]);
		f->go_hf_links[k] = NULL;
		a->probes--;
	}
	a->files_by_lib[f->lib]--;
	if (f->is_lib)
		a->tls_libs--;
	else
		a->tls_exes--;
	f->tls = false;
	f->released = true;
	a->released_files++;
	forget_decided(a, f);
}

/* Marks the candidates (indexes into a->files) that pid maps executable. */
static void mark_mapped(struct attacher *a, uint32_t pid, const size_t *cand, bool *mapped,
			size_t ncand)
{
	char maps[64], line[4096 + 256];
	FILE *fp;

	snprintf(maps, sizeof(maps), "/proc/%u/maps", pid);
	fp = fopen(maps, "re");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		char perms[8] = "";
		unsigned maj = 0, min = 0;
		unsigned long long ino = 0;

		/* a line longer than the buffer: skip its rest */
		if (!strchr(line, '\n')) {
			int c;

			while ((c = fgetc(fp)) != EOF && c != '\n')
				;
		}
		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu", perms, &maj, &min, &ino) != 4)
			continue;
		if (perms[2] != 'x' || ino == 0)
			continue;
		for (size_t i = 0; i < ncand; i++) {
			const struct attach_file *f = &a->files[cand[i]];

			if (f->ino == (ino_t)ino && major(f->dev) == maj && minor(f->dev) == min)
				mapped[i] = true;
		}
	}
	fclose(fp);
}

int attacher_release_unmapped(struct attacher *a)
{
	size_t cand[RELEASE_BATCH];
	bool mapped[RELEASE_BATCH];
	size_t ncand = 0;
	int64_t now = clock_mono_ns();
	int released = 0, nproc = 0;
	DIR *d;
	struct dirent *de;

	for (size_t i = 0; i < a->n && ncand < RELEASE_BATCH; i++) {
		const struct attach_file *f = &a->files[i];

		if (f->tls && !f->keep && now - f->seen_ns >= RELEASE_GRACE_NS)
			cand[ncand++] = i;
	}
	if (ncand == 0)
		return 0;
	memset(mapped, 0, sizeof(mapped));
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end != '\0' || pid == 0 || pid >= UINT32_MAX)
			continue;
		nproc++;
		mark_mapped(a, (uint32_t)pid, cand, mapped, ncand);
	}
	closedir(d);
	/* no process readable at all: /proc is not what we think, release nothing */
	if (nproc == 0)
		return 0;
	for (size_t i = 0; i < ncand; i++) {
		struct attach_file *f = &a->files[cand[i]];

		if (mapped[i]) {
			f->seen_ns = now;
			continue;
		}
		release_file(a, f);
		released++;
		log_verbose(a->verbose, "released the probes of a file no process maps (dev %u:%u inode %llu)",
			    major(f->dev), minor(f->dev), (unsigned long long)f->ino);
	}
	return released;
}
