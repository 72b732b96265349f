// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bench family: fine latency histograms for `torvyn-trace bench`, fed by the
 * step records (invoke.bpf.c) when cfg_bench is set, and the
 * scheduler's view of the target's threads (wakeups, time on and off CPU).
 */
#include "common.bpf.h"

const volatile __u32 cfg_bench = 0; /* set by bench before load */
const volatile __u32 cfg_tgid = 0; /* the traced process, for the scheduler programs */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 512);
	__type(key, struct tvn_comp_key);
	__type(value, struct tvn_fine_val);
} fine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* thread id */
	__type(value, struct tvn_sched_val);
} sched SEC(".maps");

/* A zero value for inserts; too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tvn_fine_val);
} fine_zero SEC(".maps");

static __always_inline __u32 fine_bucket(__u64 v)
{
	__u64 x = v;
	__u32 k = 0, i;

	if (v < 16)
		return (__u32)v;
	if (x >> 32) {
		x >>= 32;
		k += 32;
	}
	if (x >> 16) {
		x >>= 16;
		k += 16;
	}
	if (x >> 8) {
		x >>= 8;
		k += 8;
	}
	if (x >> 4) {
		x >>= 4;
		k += 4;
	}
	if (x >> 2) {
		x >>= 2;
		k += 2;
	}
	if (x >> 1)
		k += 1;
	i = (k - 3) * 16 + (__u32)((v >> (k - 4)) & 15);
	return i < TVN_FINE_BUCKETS ? i : TVN_FINE_BUCKETS - 1;
}

static __always_inline void fine_add(__u32 flow, __u32 comp, __u64 v)
{
	struct tvn_comp_key key = { .flow_idx = flow, .comp_idx = comp };
	struct tvn_fine_val *val;
	__u32 zero = 0, b;

	val = bpf_map_lookup_elem(&fine, &key);
	if (!val) {
		const struct tvn_fine_val *z = bpf_map_lookup_elem(&fine_zero, &zero);

		if (!z)
			return;
		bpf_map_update_elem(&fine, &key, z, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&fine, &key);
		if (!val) {
			stat_inc(TVN_STAT_MAP_FULL);
			return;
		}
	}
	b = fine_bucket(v);
	if (b < TVN_FINE_BUCKETS)
		val->bucket[b]++;
	val->count++;
	val->sum += v;
	if (v > val->max)
		val->max = v;
}

/* Each step record: its processing time, and the end-to-end latency when it ended the path. */
__noinline int tvn_bench_record(const struct torvyn_invoke_rec *rec)
{
	if (!rec || !cfg_bench)
		return 0;
	fine_add(rec->flow_idx, rec->component_idx,
		 rec->end_ns > rec->start_ns ? rec->end_ns - rec->start_ns : 0);
	if (rec->ended)
		fine_add(rec->flow_idx, TVN_FINE_E2E, rec->e2e_ns);
	return 0;
}

static __always_inline struct tvn_sched_val *sched_val(__u32 tid)
{
	struct tvn_sched_val *v = bpf_map_lookup_elem(&sched, &tid);
	struct tvn_sched_val zero = {};

	if (v)
		return v;
	bpf_map_update_elem(&sched, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sched, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tvn_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();
	struct tvn_sched_val *v;

	if (prev->tgid == (int)cfg_tgid) {
		v = sched_val(prev->pid);
		if (v) {
			if (v->on && v->last_ns)
				v->oncpu_ns += now - v->last_ns;
			v->on = 0;
			v->last_ns = now;
		}
	}
	if (next->tgid == (int)cfg_tgid) {
		v = sched_val(next->pid);
		if (v) {
			if (!v->on && v->last_ns)
				v->offcpu_ns += now - v->last_ns;
			v->on = 1;
			v->last_ns = now;
		}
	}
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(tvn_sched_wakeup, struct task_struct *p)
{
	struct tvn_sched_val *v;

	if (p->tgid != (int)cfg_tgid)
		return 0;
	v = sched_val(p->pid);
	if (v)
		__sync_fetch_and_add(&v->wakeups, 1);
	return 0;
}
