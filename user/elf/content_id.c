/* SPDX-License-Identifier: Apache-2.0 */
#include "content_id.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsym.h"

#define NT_GNU_BUILD_ID_TYPE 3
#define NT_GO_BUILD_ID_TYPE 4
#define ALIGN4(x) (((x) + 3) & ~(size_t)3)

int content_id_from_notes(const uint8_t *notes, size_t n, struct content_id *id)
{
	size_t pos = 0;
	int rc = -1;

	/* Elf64_Nhdr and Elf32_Nhdr are the same: three 4-byte words */
	while (n - pos >= 12) {
		uint32_t namesz, descsz, type;
		size_t name_at, desc_at;

		memcpy(&namesz, notes + pos, 4);
		memcpy(&descsz, notes + pos + 4, 4);
		memcpy(&type, notes + pos + 8, 4);
		name_at = pos + 12;
		if (namesz > n - name_at)
			return -1;
		desc_at = name_at + ALIGN4((size_t)namesz);
		if (desc_at > n || descsz > n - desc_at)
			return -1;
		if (type == NT_GNU_BUILD_ID_TYPE && namesz == 4 && memcmp(notes + name_at, "GNU", 4) == 0) {
			if (descsz == 0 || descsz > CONTENT_ID_MAX)
				return -1;
			id->kind = CONTENT_ID_BUILD;
			id->len = (uint8_t)descsz;
			memcpy(id->id, notes + desc_at, descsz);
			return 0;
		}
		/* the Go build id is a text of ~80 bytes: its digest is the id */
		if (type == NT_GO_BUILD_ID_TYPE && namesz == 4 && memcmp(notes + name_at, "Go\0\0", 4) == 0 &&
		    descsz > 0 && rc != 0) {
			unsigned int len = 0;

			if (EVP_Digest(notes + desc_at, descsz, id->id, &len, EVP_sha256(), NULL) == 1 &&
			    len == 32) {
				id->kind = CONTENT_ID_GO;
				id->len = 32;
				rc = 0;
			}
		}
		pos = desc_at + ALIGN4((size_t)descsz);
		if (pos > n)
			return rc;
	}
	return rc;
}

static int build_id(const char *path, struct content_id *id)
{
	Elf_Scn *scn = NULL;
	int fd, rc = -1;
	Elf *elf = elf_open_file(path, &fd);

	if (!elf)
		return -1;
	while (rc != 0 && (scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf)
			rc = content_id_from_notes(d->d_buf, d->d_size, id);
	}
	elf_close_file(elf, fd);
	return rc;
}

static int file_sha256(const char *path, struct content_id *id)
{
	unsigned char buf[65536];
	unsigned int len = 0;
	EVP_MD_CTX *md;
	struct stat st;
	ssize_t got;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > CONTENT_HASH_MAX_BYTES) {
		close(fd);
		return -1;
	}
	md = EVP_MD_CTX_new();
	if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		while ((got = read(fd, buf, sizeof(buf))) > 0)
			if (EVP_DigestUpdate(md, buf, (size_t)got) != 1)
				break;
		if (got == 0 && EVP_DigestFinal_ex(md, id->id, &len) == 1 && len == 32) {
			id->kind = CONTENT_ID_SHA256;
			id->len = 32;
			rc = 0;
		}
	}
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}

int content_id_of(const char *path, struct content_id *id)
{
	memset(id, 0, sizeof(*id));
	if (build_id(path, id) == 0)
		return 0;
	memset(id, 0, sizeof(*id));
	return file_sha256(path, id);
}

bool content_id_equal(const struct content_id *a, const struct content_id *b)
{
	return a->kind != CONTENT_ID_NONE && a->kind == b->kind && a->len == b->len &&
	       memcmp(a->id, b->id, a->len) == 0;
}
