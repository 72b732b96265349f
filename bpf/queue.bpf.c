// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Diagnostic family: backpressure episodes. Queue depths and waits come with
 * each step's record (invoke.bpf.c); activation and deactivation are rare
 * events with probes of their own.
 */
#include "common.bpf.h"

__noinline int tvn_handle_queue(struct pt_regs *ctx, __u32 probe)
{
	struct tvn_queue_val *v;
	__u32 flow, stream, slot;

	if (!ctx)
		return 0;
	flow = (__u32)arg(ctx, 0);
	stream = (__u32)arg(ctx, 1);
	if (flow >= TORVYN_MAX_FLOWS || stream >= TORVYN_MAX_STREAMS)
		return 0;
	slot = TVN_STREAM_SLOT(flow, stream);
	v = bpf_map_lookup_elem(&queues, &slot);
	if (!v) {
		stat_inc(TVN_STAT_MAP_FULL);
		return 0;
	}
	if (probe == TVN_P_BACKPRESSURE_ACTIVATE) /* (flow, stream, depth) */
		v->bp_events++;
	else if (probe == TVN_P_BACKPRESSURE_DEACTIVATE) /* (flow, stream, depth, duration_ns) */
		hist_add(&v->bp_duration, arg(ctx, 3));
	return 0;
}
