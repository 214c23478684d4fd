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
#include "elfrust.h"
#include "attach_go.h"
#include "log.h"
#include "probe_site.h"
#include "probepoint.h"
#include "exe_cache.h"
#include "link_reaper.h"
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
/* analyses kept by content: distinct TLS libraries and Go programs in use */
#define CONTENT_CACHE_SLOTS 256

/* What attach_tls needs of a file: found once per content, reused for every copy. */
struct tls_analysis {
	int found[PROBE_MAX];
	uint64_t off[PROBE_MAX];
	uint64_t cookie;
	bool rust_sret[2];  /* rustls write, write_vectored: io::Result through a hidden first argument */
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
		for (int k = 0; k < GO_HF_LINKS; k++)
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
	uint64_t off;
	char why[96];

	*call_target = 0;
	if (a->entry_probes)
		return fn->offset;
	off = probe_site_offset(path, fn, 3, call_target, why, sizeof(why));
	if (a->verbose)
		log_info("%s: %s at +%llu (%s)", path, name, (unsigned long long)(off - fn->offset),
			 why);
	if (off != fn->offset)
		a->probes_at_call++;
	return off;
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
	[PROBE_SSL_WRITE_EX2] = { "SSL_write_ex2", TT_LIB_OPENSSL },
	[PROBE_GNUTLS_SEND] = { "gnutls_record_send2", TT_LIB_GNUTLS },
	[PROBE_NSS_WRITE] = { "PR_Write", TT_LIB_NSS },
	[PROBE_NSS_SEND] = { "PR_Send", TT_LIB_NSS },
	[PROBE_JAVA_WRITE] = { "tokentap_java_tls_write", TT_LIB_JAVA },
	/* Rust names carry a hash or a crate disambiguator: found by demangling (elfrust.h) */
	[PROBE_RUSTLS_WRITE] = { "rustls Writer::write", TT_LIB_RUSTLS },
	[PROBE_RUSTLS_WRITEV] = { "rustls Writer::write_vectored", TT_LIB_RUSTLS },
};

/* The probes found by their exact symbol name come first. */
#define PROBE_NAMED PROBE_RUSTLS_WRITE

static struct bpf_program *probe_prog(struct attacher *a, int k, const struct tls_analysis *an)
{
	switch (k) {
	case PROBE_SSL_WRITE:
		return a->skel->progs.probe_ssl_write;
	case PROBE_SSL_WRITE_EX:
	case PROBE_SSL_WRITE_EX2: /* the same first three arguments */
		return a->skel->progs.probe_ssl_write_ex;
	case PROBE_RUSTLS_WRITE:
		return an->rust_sret[0] ? a->skel->progs.probe_rustls_write_sret
					: a->skel->progs.probe_rustls_write;
	case PROBE_RUSTLS_WRITEV:
		return an->rust_sret[1] ? a->skel->progs.probe_rustls_write_vectored_sret
					: a->skel->progs.probe_rustls_write_vectored;
	case PROBE_GNUTLS_SEND:
		return a->skel->progs.probe_gnutls_send;
	case PROBE_JAVA_WRITE:
		return a->skel->progs.probe_java_write;
	default:
		return a->skel->progs.probe_nss_write;
	}
}

/*
 * True when the function fn of path calls or jumps to target (vaddr),
 * directly, through a PLT stub that reads slot, or through slot itself
 * (-fno-plt): a wrapper of target. slot 0: none known.
 */
static bool wraps(const char *path, const struct elf_func *fn, uint64_t target, uint64_t slot)
{
	struct probe_branch br[16], stub[2];
	uint8_t code[CODE_MAX];
	ssize_t got;
	size_t n;

	if (fn->size == 0 || fn->size > CODE_MAX)
		return false;
	got = elf_read_bytes(path, fn->offset, code, fn->size);
	if (got != (ssize_t)fn->size)
		return false;
	n = probe_branches(code, (size_t)got, fn->vaddr, br, 16);
	for (size_t i = 0; i < n; i++) {
		uint8_t plt[16];
		uint64_t off;
		int fd;
		Elf *elf;
		int mapped;

		if (br[i].via_slot ? slot && br[i].target == slot : br[i].target == target)
			return true;
		if (br[i].via_slot || !slot)
			continue;
		/* a PLT stub: [endbr64;] [bnd] jmp *slot(%rip) */
		elf = elf_open_file(path, &fd);
		mapped = elf ? elf_vaddr_to_offset(elf, br[i].target, 1, &off) : -1;
		elf_close_file(elf, fd);
		if (mapped != 0 || elf_read_bytes(path, off, plt, sizeof(plt)) != (ssize_t)sizeof(plt))
			continue;
		for (size_t k = 0, m = probe_branches(plt, sizeof(plt), br[i].target, stub, 2); k < m; k++)
			if (stub[k].via_slot && stub[k].target == slot)
				return true;
	}
	return false;
}

/*
 * rustls's writer in a Rust program or library, found by its demangled
 * name. Probed at the entry: the wrapper calls through a vtable, so there
 * is no direct call to move the probe to.
 */
static void analyse_rustls(struct attacher *a, const char *path, struct tls_analysis *an)
{
	struct elf_func fn[2];
	int found[2];

	if (elf_find_rustls_writer(path, fn, found) <= 0)
		return;
	for (int i = 0; i < 2; i++) {
		uint8_t code[64];
		ssize_t got;
		int self;

		if (!found[i])
			continue;
		got = elf_read_bytes(path, fn[i].offset, code, fn[i].size && fn[i].size < sizeof(code) ?
							      fn[i].size : sizeof(code));
		self = got > 0 ? probe_rust_self_arg(code, (size_t)got, fn[i].vaddr) : -1;
		/* an unknown shape: arguments in unknown registers, so no probe */
		if (self < 0) {
			log_verbose(a->verbose, "%s: %s: unrecognised code, not probed", path,
				    probe_funcs[PROBE_RUSTLS_WRITE + i].name);
			continue;
		}
		an->found[PROBE_RUSTLS_WRITE + i] = 1;
		an->off[PROBE_RUSTLS_WRITE + i] = fn[i].offset;
		an->rust_sret[i] = self == 1;
		log_verbose(a->verbose, "%s: %s at +0 (%s)", path, probe_funcs[PROBE_RUSTLS_WRITE + i].name,
			    self ? "result through a hidden first argument" : "result in registers");
	}
}

static void analyse_tls(struct attacher *a, const char *path, struct tls_analysis *an)
{
	/* the probed functions found by name, then SSL_in_init (only read) */
	const char *names[PROBE_NAMED + 1];
	struct elf_func fn[PROBE_NAMED + 1];
	int found[PROBE_NAMED + 1];
	uint64_t target[PROBE_NAMED];
	int nfound;

	memset(an, 0, sizeof(*an));
	for (int k = 0; k < PROBE_NAMED; k++)
		names[k] = probe_funcs[k].name;
	names[PROBE_NAMED] = "SSL_in_init";
	nfound = elf_find_funcs(path, names, PROBE_NAMED + 1, fn, found);
	if (nfound < 0)
		return;
	if (nfound == 0) {
		analyse_rustls(a, path, an);
		return;
	}
	if (found[PROBE_NAMED])
		an->cookie = in_init_cookie(path, &fn[PROBE_NAMED]);
	for (int k = 0; k < PROBE_NAMED; k++) {
		an->found[k] = found[k];
		/* four arguments, no call inside: always the entry */
		if (found[k] && k == PROBE_JAVA_WRITE)
			an->off[k] = fn[k].offset;
		else if (found[k])
			an->off[k] = probe_offset(a, path, names[k], &fn[k], &target[k]);
	}
	/*
	 * SSL_write built on SSL_write_ex: probing both would see each write
	 * twice. Whichever of SSL_write_ex and SSL_write_ex2 is probed sees it.
	 */
	if (found[PROBE_SSL_WRITE] && found[PROBE_SSL_WRITE_EX] &&
	    target[PROBE_SSL_WRITE] == fn[PROBE_SSL_WRITE_EX].vaddr)
		an->found[PROBE_SSL_WRITE] = 0;
	/*
	 * OpenSSL 3.3+: SSL_write_ex is SSL_write_ex2 with flags 0 (often a tail
	 * jump). With SSL_write_ex2 probed, a wrapper of it is not, or each of
	 * its writes would be seen twice.
	 */
	if (found[PROBE_SSL_WRITE_EX2]) {
		uint64_t ex2 = fn[PROBE_SSL_WRITE_EX2].vaddr, slot = 0;

		if (elf_got_slot(path, "SSL_write_ex2", &slot) != 0)
			slot = 0;
		for (int k = PROBE_SSL_WRITE; k <= PROBE_SSL_WRITE_EX; k++)
			if (found[k] && (target[k] == ex2 || wraps(path, &fn[k], ex2, slot)))
				an->found[k] = 0;
	}
}

static int attach_tls(struct attacher *a, struct attach_file *f, const char *path,
		      const struct content_id *id)
{
	struct tls_analysis an;
	int attached = 0;

	if (!id || !content_cache_get(a->tls_cache, id, &an)) {
		bool any = false;

		analyse_tls(a, path, &an);
		for (int k = 0; k < PROBE_MAX; k++)
			any |= an.found[k] != 0;
		/*
		 * Nothing found in a Rust program without symbols: rustls may be
		 * in it, unnamed. Not cached, so that a copy with symbols (the
		 * same build id) is still analysed and, once it has been, this
		 * one is covered too through the cache.
		 */
		if (!any && !f->is_lib && elf_is_stripped_rust(path))
			f->rust_stripped = true;
		else if (id)
			content_cache_put(a->tls_cache, id, &an);
	}
	for (int k = 0; k < PROBE_MAX; k++) {
		uint64_t ck = probe_funcs[k].lib == TT_LIB_OPENSSL ? an.cookie : 0;

		if (!an.found[k])
			continue;
		f->links[k] = uprobe_link_attach(probe_prog(a, k, &an), path, an.off[k], ck);
		/* kernels before 5.15 have no attach cookies: attach without */
		if (!f->links[k] && ck)
			f->links[k] = uprobe_link_attach(probe_prog(a, k, &an), path, an.off[k], 0);
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
		if (f->rust_stripped)
			a->rust_stripped--;
		f->rust_stripped = false;
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
	    !(is_exe && go_attach(a, f, path, id.kind ? &id : NULL) > 0)) {
		/* a Rust program without symbols (attach_tls): its rustls, if any, cannot be found */
		if (f->rust_stripped) {
			a->rust_stripped++;
			log_verbose(a->verbose, "%s: a stripped Rust program: rustls cannot be probed", name);
		}
		return 0;
	}
	f->rust_stripped = false;
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
	char path[4096 + 32], held[64];
	int fd, rc;

	/* the glob runs before any process scan, with pid 0 */
	if (!pid)
		return examine_file(a, mapped_path, mapped_path, is_exe, true);
	/* /proc/PID/root reaches files in other mount namespaces (containers). */
	snprintf(path, sizeof(path), "/proc/%u/root%s", pid, mapped_path);
	/*
	 * Held open (O_PATH: no side effect on any kind of file) for the
	 * examination: attaching takes milliseconds, and a short-lived process
	 * that exits meanwhile takes its /proc/PID/root with it.
	 */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(held, sizeof(held), "/proc/self/fd/%d", fd);
	rc = examine_file(a, held, mapped_path, is_exe, false);
	close(fd);
	return rc;
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

/* A link of a released file: destroyed by the reaper thread, else here. */
static void drop_link(struct attacher *a, struct uprobe_link *l)
{
	if (!link_reaper_put(a->reaper, l))
		uprobe_link_destroy(l);
	a->probes--;
}

static void release_file(struct attacher *a, struct attach_file *f)
{
	for (int k = 0; k < PROBE_MAX; k++) {
		if (!f->links[k])
			continue;
		drop_link(a, f->links[k]);
		f->links[k] = NULL;
	}
	if (f->go_link) {
		drop_link(a, f->go_link);
		f->go_link = NULL;
	}
	for (int k = 0; k < GO_HF_LINKS; k++) {
		if (!f->go_hf_links[k])
			continue;
		drop_link(a, f->go_hf_links[k]);
		f->go_hf_links[k] = NULL;
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

/* Marks the candidates of p that pid maps executable. */
static void mark_mapped(struct release_pass *p, uint32_t pid)
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
		for (size_t i = 0; i < p->n; i++)
			if (p->ino[i] == (ino_t)ino && major(p->dev[i]) == maj && minor(p->dev[i]) == min)
				p->mapped[i] = true;
	}
	fclose(fp);
}

size_t attacher_release_begin(const struct attacher *a, struct release_pass *p)
{
	p->n = 0;
	p->started_ns = clock_mono_ns();
	for (size_t i = 0; i < a->n && p->n < RELEASE_BATCH; i++) {
		const struct attach_file *f = &a->files[i];

		if (f->tls && !f->keep && p->started_ns - f->seen_ns >= RELEASE_GRACE_NS) {
			p->idx[p->n] = i;
			p->dev[p->n] = f->dev;
			p->ino[p->n] = f->ino;
			p->mapped[p->n] = false;
			p->n++;
		}
	}
	return p->n;
}

void release_pass_scan(struct release_pass *p)
{
	int nproc = 0;
	DIR *d;
	struct dirent *de;

	if (p->n == 0)
		return;
	d = opendir("/proc");
	/* /proc not readable, or no process in it: not what we think, release nothing */
	if (d) {
		while ((de = readdir(d)) != NULL) {
			char *end;
			unsigned long pid = strtoul(de->d_name, &end, 10);

			if (*end != '\0' || pid == 0 || pid >= UINT32_MAX)
				continue;
			nproc++;
			mark_mapped(p, (uint32_t)pid);
		}
		closedir(d);
	}
	if (nproc == 0)
		for (size_t i = 0; i < p->n; i++)
			p->mapped[i] = true;
}

int attacher_release_end(struct attacher *a, const struct release_pass *p)
{
	int released = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct attach_file *f;

		if (p->idx[i] >= a->n)
			continue;
		f = &a->files[p->idx[i]];
		/* released, re-examined or seen in a process while /proc was read: keep */
		if (!f->tls || f->dev != p->dev[i] || f->ino != p->ino[i] || f->seen_ns > p->started_ns)
			continue;
		if (p->mapped[i]) {
			f->seen_ns = p->started_ns;
			continue;
		}
		release_file(a, f);
		released++;
		log_verbose(a->verbose, "released the probes of a file no process maps (dev %u:%u inode %llu)",
			    major(f->dev), minor(f->dev), (unsigned long long)f->ino);
	}
	return released;
}

int attacher_release_unmapped(struct attacher *a)
{
	struct release_pass p;

	if (attacher_release_begin(a, &p) == 0)
		return 0;
	release_pass_scan(&p);
	return attacher_release_end(a, &p);
}
