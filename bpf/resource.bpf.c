// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Diagnostic family: buffer copies (by reason) and ownership transfers. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_COMPONENTS * TORVYN_COPY_REASONS);
	__type(key, struct tvn_copy_key);
	__type(value, struct tvn_count_val);
} copies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_STREAMS);
	__type(key, struct tvn_transfer_key);
	__type(value, struct tvn_count_val);
} transfers SEC(".maps");

static const struct tvn_count_val count_zero;

__noinline int tvn_handle_resource(struct pt_regs *ctx, __u32 probe)
{
	struct tvn_count_val *v;

	if (!ctx)
		return 0;
	if (probe == TVN_P_BUFFER_COPY) {
		/* buffer__copy(flow, component, reason, bytes, seq) */
		struct tvn_copy_key key = {};

		key.flow_idx = (__u32)arg(ctx, 0);
		key.comp_idx = (__u32)arg(ctx, 1);
		key.reason = (__u32)arg(ctx, 2);
		v = lookup_or_init(&copies, &key, &count_zero);
		if (v) {
			v->count++;
			v->bytes += arg(ctx, 3);
		}
	} else if (probe == TVN_P_BUFFER_TRANSFER) {
		/* buffer__transfer(flow, buffer, from, to, bytes, seq) */
		struct tvn_transfer_key key = {};

		key.flow_idx = (__u32)arg(ctx, 0);
		key.from_idx = (__u32)arg(ctx, 2);
		key.to_idx = (__u32)arg(ctx, 3);
		v = lookup_or_init(&transfers, &key, &count_zero);
		if (v) {
			v->count++;
			v->bytes += arg(ctx, 4);
		}
	}
	return 0;
}
