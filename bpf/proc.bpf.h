/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Process lifecycle: new programs and late-loaded libraries must be attached
 * within a second, and per-process state freed on exit.
 */
#ifndef TOKENTAP_PROC_BPF_H
#define TOKENTAP_PROC_BPF_H

#define TT_PROT_EXEC 0x4

static __always_inline struct tt_event_hdr *proc_event(__u32 kind, __u64 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tt_event_hdr *h;

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return NULL;
	if ((pid_tgid >> 32) == self_tgid)
		return NULL;
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		stat_inc(TT_STAT_RB_DROP);
		return NULL;
	}
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->fd = -1;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	return h;
}

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct tt_exec_event *e;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 off = ctx->__data_loc_filename & 0xffff;

	e = (struct tt_exec_event *)proc_event(TT_EV_EXEC, sizeof(*e));
	if (!e)
		return 0;
	e->h.aux = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + off);
	/* Attaching a new program is urgent: it may call SSL_write soon. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int tp_mmap(struct trace_event_raw_sys_enter *ctx)
{
	struct tt_event_hdr *h;

	if (!(ctx->args[2] & TT_PROT_EXEC) || (int)ctx->args[4] < 0)
		return 0;
	h = proc_event(TT_EV_MMAP, sizeof(*h));
	if (!h)
		return 0;
	h->fd = (int)ctx->args[4];
	bpf_ringbuf_submit(h, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int tp_exit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tt_event_hdr *h;

	/* only the whole process, not each thread */
	if ((__u32)pid_tgid != (pid_tgid >> 32))
		return 0;
	h = proc_event(TT_EV_EXIT, sizeof(*h));
	if (h)
		bpf_ringbuf_submit(h, wake_flag());
	return 0;
}

#endif
