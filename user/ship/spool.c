/* SPDX-License-Identifier: Apache-2.0 */
#include "spool.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SEQ_DIGITS 20
#define SUFFIX ".batch"
#define TMP_SUFFIX ".tmp"

struct spool_entry {
	uint64_t seq;
	uint64_t size;   /* file size, header included */
};

struct spool {
	int dirfd;
	uint64_t max_bytes;
	struct spool_entry *e;   /* sorted by seq */
	size_t n, cap;
	struct spool_stats st;
};

static void name_of(uint64_t seq, char *out, size_t outlen, const char *suffix)
{
	snprintf(out, outlen, "%020llu%s", (unsigned long long)seq, suffix);
}

/* "<20 digits><suffix>" -> seq; -1 for any other name. */
static int parse_name(const char *name, const char *suffix, uint64_t *seq)
{
	size_t sl = strlen(suffix);
	unsigned long long v = 0;

	if (strlen(name) != SEQ_DIGITS + sl || strcmp(name + SEQ_DIGITS, suffix) != 0)
		return -1;
	for (int i = 0; i < SEQ_DIGITS; i++) {
		unsigned d;

		if (name[i] < '0' || name[i] > '9')
			return -1;
		d = (unsigned)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*seq = v;
	return 0;
}

/* Index of the first entry with seq >= key. */
static size_t lower_bound(const struct spool *s, uint64_t key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->e[mid].seq < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int index_put(struct spool *s, uint64_t seq, uint64_t size)
{
	size_t i = lower_bound(s, seq);

	if (i < s->n && s->e[i].seq == seq) {
		s->st.bytes -= s->e[i].size;
		s->e[i].size = size;
		s->st.bytes += size;
		return 0;
	}
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct spool_entry *ne = realloc(s->e, ncap * sizeof(*ne));

		if (!ne)
			return -1;
		s->e = ne;
		s->cap = ncap;
	}
	memmove(s->e + i + 1, s->e + i, (s->n - i) * sizeof(*s->e));
	s->e[i].seq = seq;
	s->e[i].size = size;
	s->n++;
	s->st.bytes += size;
	s->st.files = s->n;
	return 0;
}

static void index_del_at(struct spool *s, size_t i)
{
	s->st.bytes -= s->e[i].size;
	memmove(s->e + i, s->e + i + 1, (s->n - i - 1) * sizeof(*s->e));
	s->n--;
	s->st.files = s->n;
}

static void unlink_seq(struct spool *s, uint64_t seq)
{
	char name[64];

	name_of(seq, name, sizeof(name), SUFFIX);
	unlinkat(s->dirfd, name, 0);
}

static int scan(struct spool *s)
{
	int fd = dup(s->dirfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		uint64_t seq;

		if (fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		/* a temporary file is a write cut short by a crash: never renamed, never acknowledged */
		if (parse_name(de->d_name, SUFFIX TMP_SUFFIX, &seq) == 0) {
			unlinkat(s->dirfd, de->d_name, 0);
			continue;
		}
		if (parse_name(de->d_name, SUFFIX, &seq) != 0)
			continue;
		if (index_put(s, seq, (uint64_t)st.st_size) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* Deletes the oldest batches until need more bytes fit under the bound. */
static void make_room(struct spool *s, uint64_t need)
{
	while (s->n > 0 && s->st.bytes + need > s->max_bytes) {
		unlink_seq(s, s->e[0].seq);
		index_del_at(s, 0);
		s->st.dropped_full++;
	}
}

struct spool *spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->max_bytes = max_bytes ? max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	if (fs_mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot create spool directory %s: %s", dir, strerror(errno));
		free(s);
		return NULL;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "cannot open spool directory %s: %s", dir, strerror(errno));
		free(s);
		return NULL;
	}
	if (scan(s) != 0) {
		snprintf(err, errlen, "cannot read spool directory %s: %s", dir, strerror(errno));
		spool_close(s);
		return NULL;
	}
	/* a smaller bound than the last run: keep the newest */
	make_room(s, 0);
	return s;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->e);
	free(s);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int spool_append(struct spool *s, uint64_t seq, const void *buf, size_t len)
{
	char name[64], tmp[64];
	uint8_t hdr[SPOOL_HEADER_LEN];
	uint64_t need = SPOOL_HEADER_LEN + (uint64_t)len;
	int fd;

	if (len > SPOOL_PAYLOAD_MAX || need > s->max_bytes) {
		s->st.dropped_full++;
		return -1;
	}
	/* a batch replacing one of the same seq frees its bytes first */
	{
		size_t i = lower_bound(s, seq);

		if (i < s->n && s->e[i].seq == seq)
			index_del_at(s, i);
	}
	make_room(s, need);
	memcpy(hdr, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	put_le32(hdr + SPOOL_MAGIC_LEN, (uint32_t)len);
	put_le32(hdr + SPOOL_MAGIC_LEN + 4, (uint32_t)crc32(0L, buf, (uInt)len));
	name_of(seq, name, sizeof(name), SUFFIX);
	name_of(seq, tmp, sizeof(tmp), SUFFIX TMP_SUFFIX);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, hdr, sizeof(hdr)) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		close(fd);
		unlinkat(s->dirfd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(s->dirfd, tmp, s->dirfd, name) != 0) {
		unlinkat(s->dirfd, tmp, 0);
		return -1;
	}
	/* the rename itself is durable only once the directory is synced */
	fsync(s->dirfd);
	if (index_put(s, seq, need) != 0)
		return -1;
	return 0;
}

/*
 * Reads and checks one batch file: 0 with *buf malloc'd, -1 when the file
 * is gone, -2 when it is corrupt, -3 on a passing failure (out of memory
 * or file descriptors: try again later, delete nothing).
 */
static int read_batch(struct spool *s, uint64_t seq, uint8_t **buf, size_t *len)
{
	char name[64];
	uint8_t hdr[SPOOL_HEADER_LEN];
	struct stat st;
	uint32_t plen, crc;
	uint8_t *p;
	size_t got = 0;
	int fd;

	name_of(seq, name, sizeof(name), SUFFIX);
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -1;
		return errno == EMFILE || errno == ENFILE || errno == ENOMEM ? -3 : -2;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < SPOOL_HEADER_LEN)
		goto corrupt;
	while (got < sizeof(hdr)) {
		ssize_t r = read(fd, hdr + got, sizeof(hdr) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto corrupt;
		got += (size_t)r;
	}
	plen = get_le32(hdr + SPOOL_MAGIC_LEN);
	crc = get_le32(hdr + SPOOL_MAGIC_LEN + 4);
	/* the length is checked against the file before anything is allocated */
	if (memcmp(hdr, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0 || plen > SPOOL_PAYLOAD_MAX ||
	    (uint64_t)st.st_size != SPOOL_HEADER_LEN + (uint64_t)plen)
		goto corrupt;
	p = malloc(plen ? plen : 1);
	if (!p) {
		close(fd);
		return -3;
	}
	for (got = 0; got < plen;) {
		ssize_t r = read(fd, p + got, plen - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(p);
			goto corrupt;
		}
		got += (size_t)r;
	}
	close(fd);
	if ((uint32_t)crc32(0L, p, plen) != crc) {
		free(p);
		return -2;
	}
	*buf = p;
	*len = plen;
	return 0;
corrupt:
	close(fd);
	return -2;
}

int spool_oldest(struct spool *s, uint64_t *seq, uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	while (s->n > 0) {
		uint64_t q = s->e[0].seq;
		int rc = read_batch(s, q, buf, len);

		if (rc == 0) {
			*seq = q;
			return 1;
		}
		if (rc == -3)
			return 0;
		if (rc == -2) {
			unlink_seq(s, q);
			s->st.dropped_corrupt++;
		}
		index_del_at(s, 0);
	}
	return 0;
}

void spool_remove(struct spool *s, uint64_t seq)
{
	size_t i = lower_bound(s, seq);

	if (i < s->n && s->e[i].seq == seq) {
		unlink_seq(s, seq);
		index_del_at(s, i);
	}
}

uint64_t spool_max_seq(const struct spool *s)
{
	return s->n ? s->e[s->n - 1].seq : 0;
}

void spool_stats(const struct spool *s, struct spool_stats *out)
{
	*out = s->st;
}
