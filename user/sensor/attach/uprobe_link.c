/* SPDX-License-Identifier: Apache-2.0 */
#include "uprobe_link.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* linux/bpf.h of Linux 6.6; Debian 12's headers predate it */
#define TT_BPF_TRACE_UPROBE_MULTI 48

/* BPF_LINK_CREATE's attributes for uprobe_multi, laid out as union bpf_attr. */
struct uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

struct uprobe_link {
	struct bpf_link *lk; /* perf mode */
	int fd;              /* multi mode, else -1 */
};

/* one sensor per process: chosen once at start */
static enum uprobe_mode mode = UPROBE_MODE_PERF;

void uprobe_link_set_mode(enum uprobe_mode m)
{
	mode = m;
}

enum uprobe_mode uprobe_link_mode(void)
{
	return mode;
}

void uprobe_link_prepare(struct bpf_object *obj)
{
	struct bpf_program *p;

	if (mode != UPROBE_MODE_MULTI)
		return;
	bpf_object__for_each_program(p, obj)
		if (strcmp(bpf_program__section_name(p), "uprobe") == 0)
			bpf_program__set_expected_attach_type(p, (enum bpf_attach_type)TT_BPF_TRACE_UPROBE_MULTI);
}

static int multi_link(const struct bpf_program *prog, const char *path, uint64_t off, uint64_t cookie)
{
	struct uprobe_multi_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)bpf_program__fd(prog);
	a.attach_type = TT_BPF_TRACE_UPROBE_MULTI;
	a.path = (uint64_t)(uintptr_t)path;
	a.offsets = (uint64_t)(uintptr_t)&off;
	a.cookies = (uint64_t)(uintptr_t)&cookie;
	a.cnt = 1;
	/* pid 0: every process that maps the file */
	return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}

struct uprobe_link *uprobe_link_attach(const struct bpf_program *prog, const char *path,
				       uint64_t off, uint64_t cookie)
{
	struct uprobe_link *l;
	int e;

	if (mode == UPROBE_MODE_NONE) {
		errno = EPERM;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->fd = -1;
	if (mode == UPROBE_MODE_MULTI) {
		l->fd = multi_link(prog, path, off, cookie);
	} else {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie);

		l->lk = bpf_program__attach_uprobe_opts(prog, -1, path, (size_t)off, &uo);
	}
	if (l->fd < 0 && !l->lk) {
		e = errno;
		free(l);
		errno = e;
		return NULL;
	}
	return l;
}

void uprobe_link_destroy(struct uprobe_link *l)
{
	if (!l)
		return;
	if (l->lk)
		bpf_link__destroy(l->lk);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}
