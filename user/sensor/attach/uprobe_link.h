/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One uprobe attachment, made the way the sensor's capabilities allow
 * (cap_features.h): a libbpf perf-event link, or a uprobe_multi BPF link
 * created directly (libbpf 1.1 predates them). Either covers every process
 * mapping the file.
 */
#ifndef TOKENTAP_UPROBE_LINK_H
#define TOKENTAP_UPROBE_LINK_H

#include <stdint.h>
#include "cap_features.h"

struct bpf_object;
struct bpf_program;
struct uprobe_link;

/* Chooses the mode for this process; call once, before uprobe_link_prepare. */
void uprobe_link_set_mode(enum uprobe_mode m);
enum uprobe_mode uprobe_link_mode(void);

/*
 * Before the object is loaded: in uprobe_multi mode every uprobe program is
 * loaded for that attach type (the kernel then reads its attach cookie from
 * the multi link).
 */
void uprobe_link_prepare(struct bpf_object *obj);

/*
 * Attaches prog at file offset off of path for every process. NULL with
 * errno set on failure (EACCES or EPERM: the capabilities do not allow it).
 */
struct uprobe_link *uprobe_link_attach(const struct bpf_program *prog, const char *path,
				       uint64_t off, uint64_t cookie);
void uprobe_link_destroy(struct uprobe_link *l);

#endif
