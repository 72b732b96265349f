// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The node agent's discovery: every exec on the node, as the PID that
 * exec'd, so that a new torvyn host is attached within a tick of starting.
 * A separate object from the probe programs (one per host): the agent loads
 * it once. Records go without a wakeup; the agent polls every tick.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} execs SEC(".maps");

/* Execs the ring buffer had no room for: the agent rescans /proc when it grows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exec_lost SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tvn_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 *rec = bpf_ringbuf_reserve(&execs, sizeof(*rec), 0);
	__u32 zero = 0;
	__u64 *lost;

	if (!rec) {
		lost = bpf_map_lookup_elem(&exec_lost, &zero);
		if (lost)
			*lost += 1;
		return 0;
	}
	*rec = (__u32)(bpf_get_current_pid_tgid() >> 32);
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
