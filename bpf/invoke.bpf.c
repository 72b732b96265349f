// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Diagnostic family: one hit per component invocation, aggregated per component. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_COMPONENTS);
	__type(key, struct tvn_comp_key);
	__type(value, struct tvn_invoke_val);
} invokes SEC(".maps");

static const struct tvn_invoke_val invoke_zero;

/* component__invoke(flow, component, seq, start_ns, end_ns, status, bytes_in, bytes_out) */
__noinline int tvn_handle_invoke(struct pt_regs *ctx, __u32 probe)
{
	struct tvn_comp_key key = {};
	struct tvn_invoke_val *v;
	__u64 start, end;

	if (!ctx || probe != TVN_P_COMPONENT_INVOKE)
		return 0;
	key.flow_idx = (__u32)arg(ctx, 0);
	key.comp_idx = (__u32)arg(ctx, 1);
	v = lookup_or_init(&invokes, &key, &invoke_zero);
	if (!v)
		return 0;
	start = arg(ctx, 3);
	end = arg(ctx, 4);
	v->invocations++;
	if (arg(ctx, 5) != TORVYN_STATUS_OK)
		v->errors++;
	v->bytes_in += arg(ctx, 6);
	v->bytes_out += arg(ctx, 7);
	hist_add(&v->time, end > start ? end - start : 0);
	return 0;
}
