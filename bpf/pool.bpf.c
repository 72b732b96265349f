// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Diagnostic family: pool allocations, returns, fallbacks and exhaustions per tier. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TORVYN_TIERS);
	__type(key, __u32);
	__type(value, struct tvn_pool_val);
} pools SEC(".maps");

__noinline int tvn_handle_pool(struct pt_regs *ctx, __u32 probe)
{
	__u32 tier;
	struct tvn_pool_val *v;

	if (!ctx)
		return 0;
	tier = (__u32)arg(ctx, 0);
	v = bpf_map_lookup_elem(&pools, &tier);
	if (!v)
		return 0;
	switch (probe) {
	case TVN_P_POOL_ALLOC:
		v->allocs++;
		break;
	case TVN_P_POOL_RETURN:
		v->returns++;
		break;
	case TVN_P_POOL_FALLBACK:
		v->fallbacks++;
		break;
	case TVN_P_POOL_EXHAUSTED:
		v->exhaustions++;
		break;
	}
	return 0;
}
