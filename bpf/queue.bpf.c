// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Diagnostic family: queue depth snapshots, wait times, backpressure episodes. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_STREAMS);
	__type(key, struct tvn_stream_key);
	__type(value, struct tvn_queue_val);
} queues SEC(".maps");

static const struct tvn_queue_val queue_zero;

static __always_inline void set_depth(struct tvn_queue_val *v, __u64 depth)
{
	v->depth = depth;
	v->depth_ts = bpf_ktime_get_ns();
	if (depth > v->peak_depth)
		v->peak_depth = depth;
}

__noinline int tvn_handle_queue(struct pt_regs *ctx, __u32 probe)
{
	struct tvn_stream_key key = {};
	struct tvn_queue_val *v;

	if (!ctx)
		return 0;
	key.flow_idx = (__u32)arg(ctx, 0);
	key.stream_idx = (__u32)arg(ctx, 1);
	v = lookup_or_init(&queues, &key, &queue_zero);
	if (!v)
		return 0;
	switch (probe) {
	case TVN_P_QUEUE_ENQUEUE: /* (flow, stream, depth, seq) */
		v->enqueues++;
		set_depth(v, arg(ctx, 2));
		v->depth_sum += v->depth;
		break;
	case TVN_P_QUEUE_DEQUEUE: /* (flow, stream, depth, wait_ns, seq) */
		v->dequeues++;
		set_depth(v, arg(ctx, 2));
		hist_add(&v->wait, arg(ctx, 3));
		break;
	case TVN_P_BACKPRESSURE_ACTIVATE: /* (flow, stream, depth) */
		v->bp_events++;
		break;
	case TVN_P_BACKPRESSURE_DEACTIVATE: /* (flow, stream, depth, duration_ns) */
		hist_add(&v->bp_duration, arg(ctx, 3));
		break;
	}
	return 0;
}
