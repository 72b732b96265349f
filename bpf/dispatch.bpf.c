// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one program every Torvyn probe site runs. A level is one uprobe_multi
 * link of this program over that level's sites, so a level switch is a single
 * attach or detach; the site's cookie selects the spec (arguments) and the
 * probe id, and the probe id selects the family handler.
 */
#include "common.bpf.h"

SEC("uprobe.multi")
int torvyn_probe(struct pt_regs *ctx)
{
	__u32 probe = (__u32)bpf_usdt_cookie(ctx);

	if (probe < TVN_P_COUNT)
		stat_inc(TVN_STAT_HITS + probe);
	switch (probe) {
	case TVN_P_COMPONENT_INVOKE:
		return tvn_handle_invoke(ctx, probe);
	case TVN_P_BACKPRESSURE_ACTIVATE:
	case TVN_P_BACKPRESSURE_DEACTIVATE:
		return tvn_handle_queue(ctx, probe);
	case TVN_P_POOL_ALLOC:
	case TVN_P_POOL_RETURN:
	case TVN_P_POOL_FALLBACK:
	case TVN_P_POOL_EXHAUSTED:
		return tvn_handle_pool(ctx, probe);
	case TVN_P_METRICS_FLUSH:
	case TVN_P_TRACE_PROMOTE:
	case TVN_P_FLOW_START:
	case TVN_P_FLOW_END:
		return tvn_handle_metrics(ctx, probe);
	default:
		/*
		 * gates and abi__version: attached for their semaphores; the
		 * per-event probes whose data the step record carries
		 * (copy, transfer, enqueue, dequeue, pool alloc/return,
		 * element__done) are for bpftrace and perf, not attached here
		 */
		return 0;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
