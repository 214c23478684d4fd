/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Process lifecycle: new programs and late-loaded libraries must be attached
 * within a second, and per-process state freed on exit.
 */
#ifndef TOKENTAP_PROC_BPF_H
#define TOKENTAP_PROC_BPF_H

#define TT_PROT_EXEC 0x4
#define TT_SIGSTOP 19

static __always_inline struct tt_event_hdr *proc_event(void *ring, __u32 kind, __u64 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tt_event_hdr *h;

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return NULL;
	if ((pid_tgid >> 32) == self_tgid)
		return NULL;
	/*
	 * Mapping events go on their own ring (lib_events), read by the attach
	 * thread: a drop there is a drop, but not a record of the events ring.
	 */
	if (ring == (void *)&events) {
		h = rb_reserve(size);
	} else {
		h = bpf_ringbuf_reserve(ring, size, 0);
		if (!h)
			stat_inc(TT_STAT_RB_DROP);
	}
	if (!h)
		return NULL;
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

	e = (struct tt_exec_event *)proc_event(&events, TT_EV_EXEC, sizeof(*e));
	if (!e)
		return 0;
	e->h.aux = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + off);
	/* Attaching a new program is urgent: it may call SSL_write soon. */
	rb_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* A file name a TLS library is loaded by: libssl*, libgnutls*, libnspr4*. */
static __always_inline bool tls_lib_name(struct file *f)
{
	char name[16] = {};
	const unsigned char *p = BPF_CORE_READ(f, f_path.dentry, d_name.name);

	if (bpf_probe_read_kernel_str(name, sizeof(name), p) < 0)
		return false;
	if (name[0] != 'l' || name[1] != 'i' || name[2] != 'b')
		return false;
	if (name[3] == 's' && name[4] == 's' && name[5] == 'l')
		return true;
	if (name[3] == 'g' && name[4] == 'n' && name[5] == 'u' && name[6] == 't' && name[7] == 'l' &&
	    name[8] == 's')
		return true;
	return name[3] == 'n' && name[4] == 's' && name[5] == 'p' && name[6] == 'r' && name[7] == '4';
}

/*
 * An executable mapping of a file the sensor has not decided on yet (a new
 * library, dlopen) wakes it at once; a decided file costs one map lookup.
 */
SEC("tracepoint/syscalls/sys_enter_mmap")
int tp_mmap(struct trace_event_raw_sys_enter *ctx)
{
	struct tt_file_key key = {};
	struct tt_event_hdr *h;
	struct file *f;
	int fd = (int)ctx->args[4];

	if (!(ctx->args[2] & TT_PROT_EXEC) || fd < 0)
		return 0;
	f = fd_to_file(fd);
	if (f) {
		key.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
		key.ino = BPF_CORE_READ(f, f_inode, i_ino);
		key.gen = BPF_CORE_READ(f, f_inode, i_generation);
		if (bpf_map_lookup_elem(&decided, &key))
			return 0;
	}
	h = proc_event(&lib_events, TT_EV_MMAP, sizeof(*h));
	if (!h)
		return 0;
	h->fd = fd;
	h->conn = key.ino;
	h->aux = (__u32)key.dev;
	h->len = key.gen;
	/* stopped on the way back to user space, with fd still open: see --hold-unknown-tls */
	if (hold_unknown_tls && f && tls_lib_name(f)) {
		__u32 tgid = h->pid;
		__u64 ts = h->ts_ns;

		/*
		 * Recorded first: the watchdog must know of every stop, so a
		 * process the map has no room for is not stopped at all.
		 */
		if (bpf_map_update_elem(&held, &tgid, &ts, BPF_ANY) == 0) {
			if (bpf_send_signal(TT_SIGSTOP) == 0)
				h->flags |= TT_F_HELD;
			else
				bpf_map_delete_elem(&held, &tgid);
		}
	}
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
	tls_slot_forget(pid_tgid >> 32);
	h = proc_event(&events, TT_EV_EXIT, sizeof(*h));
	if (h)
		rb_submit(h, wake_flag());
	return 0;
}

#endif
