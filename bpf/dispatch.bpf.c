// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one program every Torvyn probe site runs. A level is one uprobe_multi
 * link of this program over that level's sites, so a level switch is a single
 * attach or detach; the site's cookie selects the spec (arguments) and the
 * probe id, and the probe id selects the family handler.
 */
#include "common.bpf.h"

#define TVN_FAMILY_none(ctx, probe) 0
#define TVN_FAMILY_metrics(ctx, probe) tvn_handle_metrics(ctx, probe)
#define TVN_FAMILY_invoke(ctx, probe) tvn_handle_invoke(ctx, probe)
#define TVN_FAMILY_queue(ctx, probe) tvn_handle_queue(ctx, probe)
#define TVN_FAMILY_pool(ctx, probe) tvn_handle_pool(ctx, probe)

SEC("uprobe.multi")
int torvyn_probe(struct pt_regs *ctx)
{
	__u32 probe = (__u32)bpf_usdt_cookie(ctx);

	if (probe < TVN_P_COUNT)
		stat_inc(TVN_STAT_HITS + probe);
	/*
	 * The family of each probe comes from usdt/torvyn.d (`// bpf:`); the
	 * `none` probes are attached for their semaphores (gates, abi__version)
	 * or left to bpftrace and perf (the per-event probes whose data the
	 * step record carries).
	 */
	switch (probe) {
#define TVN__DISPATCH(id, name, nargs, family)                                                     \
	case TVN_P_##id:                                                                           \
		return TVN_FAMILY_##family(ctx, probe);
		TORVYN_PROBE_LIST(TVN__DISPATCH)
#undef TVN__DISPATCH
	default:
		return 0;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
