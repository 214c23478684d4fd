/* SPDX-License-Identifier: Apache-2.0 */
#include "exec_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define WAITERS_MAX 256     /* execs held at once; more are allowed at once */
#define JOBS_MAX 64         /* distinct files being analysed at once */
#define DECIDED_SLOTS 4096  /* direct-mapped memory of decided files */
#define IGNORE_MARKS_MAX 16384 /* each pins an inode in memory */
#define FS_MAX 1024
#define NS_MAX 256          /* mount namespaces watched at once */
#define OVERLAYFS_MAGIC 0x794c7630

/*
 * Mount notifications (Linux 6.15+): a FAN_MARK_MNTNS mark reports every
 * mount attached in that namespace. Older uapi headers lack them.
 */
#ifndef FAN_REPORT_MNT
#define FAN_REPORT_MNT 0x00004000
#endif
#ifndef FAN_MARK_MNTNS
#define FAN_MARK_MNTNS 0x00000110
#endif
#ifndef FAN_MNT_ATTACH
#define FAN_MNT_ATTACH 0x01000000
#endif

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

/* A file, as decided: modified (mtime, ctime) means undecided again. */
struct file_id {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns, ctime_ns;
};

struct job {
	enum job_state state;
	int fd;             /* our own descriptor of the file */
	struct file_id id;
};

/* A mount namespace, and a process in it through which its mounts are reached. */
struct mntns {
	dev_t dev;
	ino_t ino;
	pid_t pid;
};

struct waiter {
	int fd;             /* the event's descriptor: answered by it */
	int job;
	int64_t since_ns, deadline_ns;
};

struct exec_gate {
	struct exec_gate_opts o;
	int fan, mounts_fd, wake[2];  /* wake: analysis done or stop */
	int mnt_fan;                  /* mount notifications; -1 before 6.15 */
	pid_t self;
	pthread_t answerer, analyser;
	bool answerer_up, analyser_up;
	pthread_mutex_t lock;         /* jobs, stopping, fs, stats */
	pthread_cond_t work;
	bool stopping;
	struct job jobs[JOBS_MAX];
	struct waiter waiters[WAITERS_MAX];
	size_t nwaiters;
	struct file_id decided[DECIDED_SLOTS];
	dev_t fs[FS_MAX];
	bool fs_seen[FS_MAX];         /* found by the current rescan */
	size_t nfs;
	struct mntns ns[NS_MAX];
	size_t nns;
	struct exec_gate_stats st;
};

static bool id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns;
}

static size_t decided_slot(const struct file_id *id)
{
	return (size_t)((id->ino * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)id->dev) % DECIDED_SLOTS;
}

static int file_id_of(int fd, struct file_id *id)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	*id = (struct file_id){ st.st_dev, st.st_ino,
				st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
				st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec };
	return 0;
}

static void answer(struct exec_gate *g, int fd)
{
	struct fanotify_response r = { .fd = fd, .response = FAN_ALLOW };

	/* never deny: the only answer is allow, written once per event */
	if (write(g->fan, &r, sizeof(r)) != (ssize_t)sizeof(r))
		log_warn("exec gate: cannot answer an event: %s", strerror(errno));
	close(fd);
}

/* Caller holds g->lock. */
static bool fs_marked(struct exec_gate *g, dev_t dev)
{
	for (size_t i = 0; i < g->nfs; i++) {
		if (g->fs[i] == dev) {
			g->fs_seen[i] = true;
			return true;
		}
	}
	return false;
}

/* Marks the filesystem holding path once. Caller holds g->lock. */
static void mark_fs(struct exec_gate *g, const char *path, dev_t dev)
{
	if (fs_marked(g, dev) || g->nfs == FS_MAX)
		return;
	if (fanotify_mark(g->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD,
			  path) != 0) {
		log_verbose(g->o.verbose, "exec gate: cannot mark the filesystem of %s: %s", path,
			    strerror(errno));
		return;
	}
	g->fs_seen[g->nfs] = true;
	g->fs[g->nfs++] = dev;
	g->st.filesystems++;
	log_verbose(g->o.verbose, "exec gate: filesystem of %s marked", path);
}

/* Filesystems no program is executed from (and some that refuse marks). */
static bool pseudo_fs(const char *type)
{
	static const char *const skip[] = {
		"proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "bpf", "securityfs",
		"pstore", "configfs", "fusectl", "devpts", "mqueue", "hugetlbfs", "autofs",
		"binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs", "selinuxfs",
	};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(type, skip[i]) == 0)
			return true;
	return false;
}

/* mountinfo escapes blanks and backslashes in paths as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * Marks every filesystem in the mount namespace of pid (0: the sensor's)
 * not marked yet, through /proc/PID/root: a mount point is a path in that
 * process's root. -1 when the process is gone. Caller holds g->lock.
 */
static int mark_mounts_of(struct exec_gate *g, pid_t pid)
{
	char line[8192], path[4200], root[32] = "";
	FILE *fp;

	if (pid > 0) {
		snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	} else {
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	}
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		unsigned maj, min;
		char mnt[4096], type[64];
		const char *sep;

		/* id parent maj:min root mountpoint options [optional...] - type source superoptions */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", type) != 1 || pseudo_fs(type))
			continue;
		unescape(mnt);
		if (fs_marked(g, makedev(maj, min)))
			continue;
		snprintf(path, sizeof(path), "%s%s", root, mnt);
		mark_fs(g, path, makedev(maj, min));
	}
	fclose(fp);
	return 0;
}

static void mark_mounts(struct exec_gate *g)
{
	pthread_mutex_lock(&g->lock);
	mark_mounts_of(g, 0);
	pthread_mutex_unlock(&g->lock);
}

/* Forgets the namespaces whose process is gone. Caller holds g->lock. */
static void prune_ns(struct exec_gate *g)
{
	char path[32];

	for (size_t i = 0; i < g->nns;) {
		snprintf(path, sizeof(path), "/proc/%d", (int)g->ns[i].pid);
		if (access(path, F_OK) == 0) {
			i++;
			continue;
		}
		g->ns[i] = g->ns[--g->nns];
	}
}

/*
 * Watches the mount namespace of pid: every filesystem in it marked now,
 * and every mount attached to it later reported (mnt_fan), so a filesystem
 * mounted there after this is marked before its first exec, as long as
 * the mount comes ahead of the exec by the time one notification takes.
 * Caller holds g->lock.
 */
static void watch_ns(struct exec_gate *g, pid_t pid)
{
	char path[48];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if (stat(path, &st) != 0)
		return;
	for (size_t i = 0; i < g->nns; i++) {
		struct stat old;
		char old_path[48];

		if (g->ns[i].dev != st.st_dev || g->ns[i].ino != st.st_ino)
			continue;
		snprintf(old_path, sizeof(old_path), "/proc/%d/ns/mnt", (int)g->ns[i].pid);
		/*
		 * The process it was first seen through still in it: the same
		 * namespace. That process is kept, not replaced by this one: a
		 * short-lived program would leave a dead pid behind, and every
		 * exec after it would take the namespace for a new one and scan
		 * its mounts again.
		 */
		if (g->ns[i].pid == pid ||
		    (stat(old_path, &old) == 0 && old.st_dev == st.st_dev && old.st_ino == st.st_ino))
			return;
		/* a namespace gone, its inode number given to this new one: watch it anew */
		g->ns[i] = g->ns[--g->nns];
		break;
	}
	if (g->nns == NS_MAX)
		prune_ns(g);
	if (g->nns == NS_MAX) {
		g->st.ns_overflow++;
		return;
	}
	if (g->mnt_fan >= 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fanotify_mark(g->mnt_fan, FAN_MARK_ADD | FAN_MARK_MNTNS, FAN_MNT_ATTACH,
					    fd, NULL) != 0)
			log_verbose(g->o.verbose, "exec gate: cannot watch the mounts of pid %d: %s",
				    (int)pid, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	g->ns[g->nns++] = (struct mntns){ st.st_dev, st.st_ino, pid };
	g->st.mount_namespaces++;
	mark_mounts_of(g, pid);
}

/*
 * Marks what is new in every watched namespace. A filesystem found in
 * none is forgotten: the kernel drops its mark with it, and its device
 * number (anonymous for overlayfs, tmpfs) is given to the next one
 * mounted, which must be marked anew.
 */
static void rescan(struct exec_gate *g)
{
	size_t n = 0;

	pthread_mutex_lock(&g->lock);
	memset(g->fs_seen, 0, sizeof(g->fs_seen));
	mark_mounts_of(g, 0);
	for (size_t i = 0; i < g->nns;) {
		if (mark_mounts_of(g, g->ns[i].pid) == 0) {
			i++;
			continue;
		}
		g->ns[i] = g->ns[--g->nns];  /* its process is gone */
	}
	for (size_t i = 0; i < g->nfs; i++) {
		if (g->fs_seen[i]) {
			g->fs[n] = g->fs[i];
			g->fs_seen[n++] = true;
		}
	}
	g->nfs = n;
	pthread_mutex_unlock(&g->lock);
}

/* A mount was attached in a watched namespace. */
static void on_mount_events(struct exec_gate *g)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	bool any = false;

	/* the events name mounts by id; rescanning the few namespaces is simpler and as fast */
	while (read(g->mnt_fan, buf, sizeof(buf)) > 0)
		any = true;
	if (!any)
		return;
	pthread_mutex_lock(&g->lock);
	g->st.mount_events++;
	pthread_mutex_unlock(&g->lock);
	rescan(g);
}

void exec_gate_cover_pid(struct exec_gate *g, uint32_t pid)
{
	char path[64];
	struct stat st;

	if (!g)
		return;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st) != 0)
		return;
	pthread_mutex_lock(&g->lock);
	mark_fs(g, path, st.st_dev);
	watch_ns(g, (pid_t)pid);
	pthread_mutex_unlock(&g->lock);
}

/* The analysis thread: examines queued files one at a time. */
static void *analyse(void *arg)
{
	struct exec_gate *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		int k;

		for (k = 0; k < JOBS_MAX && g->jobs[k].state != JOB_QUEUED; k++)
			;
		if (k == JOBS_MAX) {
			pthread_cond_wait(&g->work, &g->lock);
			continue;
		}
		g->jobs[k].state = JOB_RUNNING;
		pthread_mutex_unlock(&g->lock);
#ifdef TOKENTAP_TEST_HOOKS
		/* test builds only: an analysis that stalls, to test the deadline */
		{
			const char *ms = getenv("TOKENTAP_TEST_GATE_STALL_MS");

			if (ms)
				usleep((useconds_t)strtoul(ms, NULL, 10) * 1000);
		}
#endif
		g->o.decide(g->o.ctx, g->jobs[k].fd);
		pthread_mutex_lock(&g->lock);
		g->jobs[k].state = JOB_DONE;
		if (write(g->wake[1], "d", 1) < 0 && errno != EAGAIN)
			log_warn("exec gate: cannot wake the answering thread: %s", strerror(errno));
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void remove_waiter(struct exec_gate *g, size_t i)
{
	g->waiters[i] = g->waiters[--g->nwaiters];
}

/* Finished analyses: remember the file, allow its waiters. Caller holds g->lock. */
static void finish_jobs(struct exec_gate *g)
{
	int64_t now = clock_mono_ns();

	for (int k = 0; k < JOBS_MAX; k++) {
		struct job *j = &g->jobs[k];

		if (j->state != JOB_DONE)
			continue;
		g->decided[decided_slot(&j->id)] = j->id;
		/* until the file is modified the kernel does not ask again */
		if (g->st.ignore_marks < IGNORE_MARKS_MAX &&
		    fanotify_mark(g->fan, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM,
				  j->fd, NULL) == 0)
			g->st.ignore_marks++;
		for (size_t i = 0; i < g->nwaiters;) {
			struct waiter *w = &g->waiters[i];

			if (w->job != k) {
				i++;
				continue;
			}
			if ((uint64_t)(now - w->since_ns) > g->st.wait_ns_max)
				g->st.wait_ns_max = (uint64_t)(now - w->since_ns);
			answer(g, w->fd);
			g->st.decided++;
			remove_waiter(g, i);
		}
		close(j->fd);
		j->state = JOB_FREE;
	}
}

/* Allows what waited past its deadline. Caller holds g->lock. */
static void expire(struct exec_gate *g, int64_t now)
{
	for (size_t i = 0; i < g->nwaiters;) {
		if (now < g->waiters[i].deadline_ns) {
			i++;
			continue;
		}
		if ((uint64_t)(now - g->waiters[i].since_ns) > g->st.wait_ns_max)
			g->st.wait_ns_max = (uint64_t)(now - g->waiters[i].since_ns);
		answer(g, g->waiters[i].fd);
		g->st.timeouts++;
		remove_waiter(g, i);
	}
}

/*
 * An exec from overlayfs (a container's root) asks twice: for the overlay
 * file, then for the file of the layer beneath it. Both are one file to a
 * uprobe (the kernel places it on the layer's inode), so examining both
 * would attach twice and count every call twice. The layer's file names
 * itself by the overlay path: seen through the process's root, that path
 * is an overlay file with the same inode number. The overlay event alone
 * is examined.
 */
static bool overlay_layer_file(int fd, const struct file_id *id, pid_t pid)
{
	char link[32], name[4096], path[4200];
	struct stat st;
	struct statfs sf;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, name, sizeof(name) - 1);
	if (n <= 0 || name[0] != '/')
		return false;
	name[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, name);
	if (stat(path, &st) != 0 || st.st_ino != id->ino || st.st_dev == id->dev)
		return false;
	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == OVERLAYFS_MAGIC;
}

/* One permission event: allow at once, or hold it until its file is examined. */
static void on_event(struct exec_gate *g, const struct fanotify_event_metadata *m)
{
	struct file_id id;
	int k, free_k = -1;
	int64_t now;

	g->st.events++;
	/* the sensor never waits on itself */
	if (m->pid == g->self || file_id_of(m->fd, &id) != 0) {
		g->st.allowed_known++;
		answer(g, m->fd);
		return;
	}
	if (id_equal(&g->decided[decided_slot(&id)], &id)) {
		g->st.allowed_known++;
		answer(g, m->fd);
		return;
	}
	if (overlay_layer_file(m->fd, &id, m->pid)) {
		g->st.overlay_layers++;
		answer(g, m->fd);
		return;
	}
	if (g->nwaiters == WAITERS_MAX) {
		g->st.overflow++;
		answer(g, m->fd);
		return;
	}
	for (k = 0; k < JOBS_MAX; k++) {
		if (g->jobs[k].state == JOB_FREE) {
			if (free_k < 0)
				free_k = k;
		} else if (g->jobs[k].state != JOB_DONE && id_equal(&g->jobs[k].id, &id)) {
			break;
		}
	}
	if (k == JOBS_MAX) {
		int fd;

		if (free_k < 0 || (fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 3)) < 0) {
			g->st.overflow++;
			answer(g, m->fd);
			return;
		}
		k = free_k;
		g->jobs[k] = (struct job){ JOB_QUEUED, fd, id };
		pthread_cond_signal(&g->work);
	}
	now = clock_mono_ns();
	g->waiters[g->nwaiters++] = (struct waiter){ m->fd, k, now,
						     now + (int64_t)g->o.timeout_ms * 1000000LL };
}

static void read_events(struct exec_gate *g)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	ssize_t len;

	while ((len = read(g->fan, buf, sizeof(buf))) > 0) {
		const struct fanotify_event_metadata *m = (const void *)buf;

		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
				continue;
			pthread_mutex_lock(&g->lock);
			if (m->mask & FAN_OPEN_EXEC_PERM)
				on_event(g, m);
			else
				close(m->fd);
			pthread_mutex_unlock(&g->lock);
		}
	}
}

/*
 * The answering thread: reads events, answers, and keeps every deadline.
 * It waits on nothing but poll, so a stalled analysis never holds an exec
 * past its deadline.
 */
static void *answer_loop(void *arg)
{
	struct exec_gate *g = arg;

	for (;;) {
		struct pollfd p[4] = {
			{ .fd = g->fan, .events = POLLIN },
			{ .fd = g->wake[0], .events = POLLIN },
			{ .fd = g->mnt_fan, .events = POLLIN },
			{ .fd = g->mounts_fd, .events = POLLPRI },
		};
		int timeout = -1;
		int64_t now = clock_mono_ns();
		char drain[64];

		pthread_mutex_lock(&g->lock);
		if (g->stopping) {
			pthread_mutex_unlock(&g->lock);
			break;
		}
		for (size_t i = 0; i < g->nwaiters; i++) {
			int64_t ms = (g->waiters[i].deadline_ns - now + 999999) / 1000000;

			if (timeout < 0 || ms < timeout)
				timeout = ms < 0 ? 0 : (int)ms;
		}
		pthread_mutex_unlock(&g->lock);
		/* a negative fd is ignored by poll */
		if (poll(p, 4, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			while (read(g->wake[0], drain, sizeof(drain)) > 0)
				;
		if (p[0].revents & POLLIN)
			read_events(g);
		if (p[2].revents & POLLIN)
			on_mount_events(g);
		if (p[3].revents & (POLLPRI | POLLERR)) {
			/* the mount table changed: a new container root filesystem, say */
			lseek(g->mounts_fd, 0, SEEK_SET);
			while (read(g->mounts_fd, drain, sizeof(drain)) > 0)
				;
			rescan(g);
		}
		pthread_mutex_lock(&g->lock);
		finish_jobs(g);
		expire(g, clock_mono_ns());
		pthread_mutex_unlock(&g->lock);
	}
	return NULL;
}

struct exec_gate *exec_gate_start(const struct exec_gate_opts *o, char *err, size_t errlen)
{
	struct exec_gate *g = calloc(1, sizeof(*g));

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->o = *o;
	g->self = getpid();
	g->fan = g->mounts_fd = g->mnt_fan = g->wake[0] = g->wake[1] = -1;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->work, NULL);
	g->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (g->fan < 0) {
		snprintf(err, errlen, "--gate-exec: fanotify permission events are not available: %s "
			 "(needs CONFIG_FANOTIFY_ACCESS_PERMISSIONS and CAP_SYS_ADMIN)", strerror(errno));
		goto fail;
	}
	if (pipe2(g->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "--gate-exec: pipe: %s", strerror(errno));
		goto fail;
	}
	g->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	mark_mounts(g);
	/* before 6.15 (EINVAL): namespaces are rescanned only when a program runs in them */
	g->mnt_fan = fanotify_init(FAN_REPORT_MNT | FAN_CLOEXEC | FAN_NONBLOCK, 0);
	if (g->mnt_fan < 0)
		log_verbose(o->verbose, "exec gate: no mount notifications: %s", strerror(errno));
	pthread_mutex_lock(&g->lock);
	watch_ns(g, g->self);
	/* a sensor in a container sharing the host's pids: the host's namespace too */
	watch_ns(g, 1);
	pthread_mutex_unlock(&g->lock);
	if (g->st.filesystems == 0) {
		snprintf(err, errlen, "--gate-exec: no filesystem could be marked for exec permission events");
		goto fail;
	}
	if (pthread_create(&g->analyser, NULL, analyse, g) != 0) {
		snprintf(err, errlen, "--gate-exec: cannot start a thread");
		goto fail;
	}
	g->analyser_up = true;
	if (pthread_create(&g->answerer, NULL, answer_loop, g) != 0) {
		snprintf(err, errlen, "--gate-exec: cannot start a thread");
		goto fail;
	}
	g->answerer_up = true;
	return g;
fail:
	exec_gate_stop(g);
	return NULL;
}

void exec_gate_stop(struct exec_gate *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_broadcast(&g->work);
	pthread_mutex_unlock(&g->lock);
	if (g->wake[1] >= 0 && write(g->wake[1], "s", 1) < 0)
		log_warn("exec gate: cannot wake the answering thread: %s", strerror(errno));
	if (g->answerer_up)
		pthread_join(g->answerer, NULL);
	if (g->analyser_up)
		pthread_join(g->analyser, NULL);
	/* nothing is left waiting: what is held now is allowed */
	for (size_t i = 0; i < g->nwaiters; i++)
		answer(g, g->waiters[i].fd);
	for (int k = 0; k < JOBS_MAX; k++)
		if (g->jobs[k].state != JOB_FREE)
			close(g->jobs[k].fd);
	if (g->fan >= 0)
		close(g->fan);
	if (g->mounts_fd >= 0)
		close(g->mounts_fd);
	if (g->mnt_fan >= 0)
		close(g->mnt_fan);
	if (g->wake[0] >= 0)
		close(g->wake[0]);
	if (g->wake[1] >= 0)
		close(g->wake[1]);
	pthread_cond_destroy(&g->work);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void exec_gate_stats(struct exec_gate *g, struct exec_gate_stats *out)
{
	pthread_mutex_lock(&g->lock);
	*out = g->st;
	pthread_mutex_unlock(&g->lock);
}
