/* SPDX-License-Identifier: Apache-2.0 */
#include "sqlite_walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* A WAL frame's header: page number, then the database size after a commit (0 otherwise). */
#define FRAME_HDR 24
/* What is held at most; a longer run of frames is written in pieces of this size. */
#define HOLD_MAX (4u << 20)
/* The default VFS writes at most 128 KiB - 1 per call (it masks the length) */
#define WRITE_MAX (124u << 10)

struct wb_file {
	sqlite3_file base;
	sqlite3_file *real;  /* the default VFS's file, allocated right after this struct */
	int wal;             /* only a WAL file holds writes */
	int commit;          /* the last write was a commit frame's header */
	unsigned char *held; /* bytes for the file at [at, at + len) */
	size_t len, cap;
	sqlite3_int64 at;
};

static sqlite3_vfs *parent;

static int flush(struct wb_file *f)
{
	int rc = SQLITE_OK;

	for (size_t done = 0, n; done < f->len && rc == SQLITE_OK; done += n) {
		n = f->len - done < WRITE_MAX ? f->len - done : WRITE_MAX;
		rc = f->real->pMethods->xWrite(f->real, f->held + done, (int)n,
					       f->at + (sqlite3_int64)done);
	}
	f->len = 0;
	return rc;
}

/* Room for n more bytes; 0, or -1 when they are to be written through. */
static int reserve(struct wb_file *f, size_t n)
{
	size_t cap = f->cap ? f->cap : 64u << 10;
	unsigned char *p;

	if (f->len + n > HOLD_MAX)
		return -1;
	while (cap < f->len + n)
		cap *= 2;
	if (cap == f->cap)
		return 0;
	p = realloc(f->held, cap);
	if (!p)
		return -1;
	f->held = p;
	f->cap = cap;
	return 0;
}

/*
 * A commit frame's header goes out at once with the run before it, and
 * so does the write after it (its page): after writing the commit frame
 * SQLite may rewrite frame headers (their checksums), the commit
 * frame's last, with no page after it.
 */
static int wb_write(sqlite3_file *pf, const void *p, int n, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)pf;
	const unsigned char *b = p;
	int now = f->commit, rc;

	if (!f->wal)
		return f->real->pMethods->xWrite(f->real, p, n, off);
	f->commit = n == FRAME_HDR && (b[4] | b[5] | b[6] | b[7]);
	now = now || f->commit;
	/* anything but the next bytes of the run writes the run first, keeping the order */
	if (f->len && off != f->at + (sqlite3_int64)f->len && (rc = flush(f)) != SQLITE_OK)
		return rc;
	if (reserve(f, (size_t)n) < 0) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		if (reserve(f, (size_t)n) < 0)
			return f->real->pMethods->xWrite(f->real, p, n, off);
	}
	if (!f->len)
		f->at = off;
	memcpy(f->held + f->len, p, (size_t)n);
	f->len += (size_t)n;
	return now ? flush(f) : SQLITE_OK;
}

static int wb_close(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f), rc2 = f->real->pMethods->xClose(f->real);

	free(f->held);
	f->held = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

/* Every other method writes what is held, then forwards. */
#define FLUSHED(f)                                                   \
	struct wb_file *f = (struct wb_file *)pf;                    \
	int frc = flush(f);                                          \
	if (frc != SQLITE_OK)                                        \
		return frc

static int wb_read(sqlite3_file *pf, void *p, int n, sqlite3_int64 off)
{
	FLUSHED(f);
	return f->real->pMethods->xRead(f->real, p, n, off);
}

static int wb_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	FLUSHED(f);
	return f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *pf, int flags)
{
	FLUSHED(f);
	return f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	FLUSHED(f);
	return f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *pf, int level)
{
	FLUSHED(f);
	return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *pf, int level)
{
	FLUSHED(f);
	return f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved(sqlite3_file *pf, int *out)
{
	FLUSHED(f);
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *pf, int op, void *arg)
{
	FLUSHED(f);
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;

	return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int wb_shm_map(sqlite3_file *pf, int page, int size, int extend, void volatile **p)
{
	FLUSHED(f);
	return f->real->pMethods->xShmMap(f->real, page, size, extend, p);
}

static int wb_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
	FLUSHED(f);
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;

	/* never holding anything here: only the database file has shared memory */
	f->real->pMethods->xShmBarrier(f->real);
}

static int wb_shm_unmap(sqlite3_file *pf, int del)
{
	FLUSHED(f);
	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int wb_fetch(sqlite3_file *pf, sqlite3_int64 off, int n, void **pp)
{
	FLUSHED(f);
	return f->real->pMethods->xFetch(f->real, off, n, pp);
}

static int wb_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
	struct wb_file *f = (struct wb_file *)pf;

	return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* One table per version of the real file's methods, so SQLite sees what it has. */
static sqlite3_io_methods methods[3];

static void methods_init(void)
{
	for (int v = 1; v <= 3; v++) {
		sqlite3_io_methods *m = &methods[v - 1];

		*m = (sqlite3_io_methods){
			.iVersion = v,
			.xClose = wb_close,
			.xRead = wb_read,
			.xWrite = wb_write,
			.xTruncate = wb_truncate,
			.xSync = wb_sync,
			.xFileSize = wb_file_size,
			.xLock = wb_lock,
			.xUnlock = wb_unlock,
			.xCheckReservedLock = wb_check_reserved,
			.xFileControl = wb_file_control,
			.xSectorSize = wb_sector_size,
			.xDeviceCharacteristics = wb_device_characteristics,
		};
		if (v >= 2) {
			m->xShmMap = wb_shm_map;
			m->xShmLock = wb_shm_lock;
			m->xShmBarrier = wb_shm_barrier;
			m->xShmUnmap = wb_shm_unmap;
		}
		if (v >= 3) {
			m->xFetch = wb_fetch;
			m->xUnfetch = wb_unfetch;
		}
	}
}

/* sizeof(struct wb_file) rounded up, so the real file after it stays aligned. */
#define WB_SIZE ((sizeof(struct wb_file) + 15) & ~(size_t)15)

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags, int *out)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)pf + WB_SIZE);
	rc = parent->xOpen(parent, name, f->real, flags, out);
	if (!f->real->pMethods)
		return rc; /* nothing opened: SQLite calls no method */
	if (f->real->pMethods->iVersion < 1 || f->real->pMethods->iVersion > 3) {
		f->real->pMethods->xClose(f->real);
		return SQLITE_CANTOPEN;
	}
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->base.pMethods = &methods[f->real->pMethods->iVersion - 1];
	return rc;
}

/* The rest of the VFS is the default one's. */
static int wb_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	return parent->xDelete(parent, n, sync);
}

static int wb_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	(void)v;
	return parent->xAccess(parent, n, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *v, const char *n, int len, char *out)
{
	(void)v;
	return parent->xFullPathname(parent, n, len, out);
}

static void *wb_dlopen(sqlite3_vfs *v, const char *n)
{
	(void)v;
	return parent->xDlOpen(parent, n);
}

static void wb_dlerror(sqlite3_vfs *v, int len, char *out)
{
	(void)v;
	parent->xDlError(parent, len, out);
}

static void (*wb_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return parent->xDlSym(parent, h, sym);
}

static void wb_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	parent->xDlClose(parent, h);
}

static int wb_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return parent->xRandomness(parent, n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return parent->xSleep(parent, us);
}

static int wb_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return parent->xCurrentTime(parent, out);
}

static int wb_last_error(sqlite3_vfs *v, int len, char *out)
{
	(void)v;
	return parent->xGetLastError ? parent->xGetLastError(parent, len, out) : 0;
}

static int wb_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return parent->xCurrentTimeInt64(parent, out);
}

static sqlite3_vfs vfs = {
	.iVersion = 2,
	.zName = "tokentap-walbuf",
	.xOpen = wb_open,
	.xDelete = wb_delete,
	.xAccess = wb_access,
	.xFullPathname = wb_full_pathname,
	.xDlOpen = wb_dlopen,
	.xDlError = wb_dlerror,
	.xDlSym = wb_dlsym,
	.xDlClose = wb_dlclose,
	.xRandomness = wb_randomness,
	.xSleep = wb_sleep,
	.xCurrentTime = wb_current_time,
	.xGetLastError = wb_last_error,
	.xCurrentTimeInt64 = wb_current_time64,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered;

static void wb_register(void)
{
	parent = sqlite3_vfs_find(NULL);
	/* the current time in ms comes from version 2 */
	if (!parent || parent->iVersion < 2)
		return;
	methods_init();
	vfs.szOsFile = (int)(WB_SIZE + (size_t)parent->szOsFile);
	vfs.mxPathname = parent->mxPathname;
	registered = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
}

const char *sqlite_walbuf_vfs(void)
{
	pthread_once(&once, wb_register);
	return registered ? vfs.zName : NULL;
}
