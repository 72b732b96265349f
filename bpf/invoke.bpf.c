// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Diagnostic family: one hit per component step. component__invoke carries
 * the step's whole record (struct torvyn_invoke_rec): the invocation, the
 * dequeue that handed the element over, the enqueue that passed it on and
 * its copy. One read of the record feeds the per-component, per-copy-reason
 * and per-stream aggregates.
 */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_COMPONENTS);
	__type(key, __u32);
	__type(value, struct tvn_invoke_val);
} invokes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_COMPONENTS * TORVYN_COPY_REASONS);
	__type(key, __u32);
	__type(value, struct tvn_count_val);
} copies SEC(".maps");

extern int tvn_bench_record(const struct torvyn_invoke_rec *rec);

__noinline int tvn_handle_invoke(struct pt_regs *ctx, __u32 probe)
{
	struct torvyn_invoke_rec rec;
	struct tvn_invoke_val *v;
	struct tvn_queue_val *q;
	struct tvn_count_val *cv;
	__u32 slot;

	if (!ctx || probe != TVN_P_COMPONENT_INVOKE)
		return 0;
	if (bpf_probe_read_user(&rec, sizeof(rec), (const void *)arg(ctx, 8))) {
		stat_inc(TVN_STAT_READ_FAIL);
		return 0;
	}
	if (rec.flow_idx >= TORVYN_MAX_FLOWS || rec.component_idx >= TORVYN_MAX_COMPONENTS)
		return 0;
	slot = TVN_COMP_SLOT(rec.flow_idx, rec.component_idx);
	v = bpf_map_lookup_elem(&invokes, &slot);
	if (!v) {
		/* a flow beyond the maps the tracer sized (--max-flows): counted */
		stat_inc(TVN_STAT_MAP_FULL);
		return 0;
	}
	v->invocations++;
	if (rec.status != TORVYN_STATUS_OK)
		v->errors++;
	v->bytes_in += rec.bytes_in;
	v->bytes_out += rec.bytes_out;
	hist_add(&v->time, rec.end_ns > rec.start_ns ? rec.end_ns - rec.start_ns : 0);

	if (rec.copy_reason < TORVYN_COPY_REASONS) {
		slot = TVN_COPY_SLOT(rec.flow_idx, rec.component_idx, rec.copy_reason);
		cv = bpf_map_lookup_elem(&copies, &slot);
		if (cv) {
			cv->count++;
			cv->bytes += rec.copy_bytes;
		}
	}
	if (rec.in_stream < TORVYN_MAX_STREAMS) {
		/* the element was handed over through its input stream */
		v->transfers_in++;
		v->transfer_bytes += rec.bytes_in;
		v->from_idx = rec.from_component;
		slot = TVN_STREAM_SLOT(rec.flow_idx, rec.in_stream);
		q = bpf_map_lookup_elem(&queues, &slot);
		if (q) {
			q->dequeues++;
			q->depth = rec.depth_after_pop;
			q->depth_ts = rec.start_ns;
			hist_add(&q->wait, rec.wait_ns);
		}
	}
	if (rec.out_stream < TORVYN_MAX_STREAMS) {
		slot = TVN_STREAM_SLOT(rec.flow_idx, rec.out_stream);
		q = bpf_map_lookup_elem(&queues, &slot);
		if (q) {
			q->enqueues++;
			q->depth = rec.depth_after_push;
			q->depth_ts = rec.end_ns + 1;
			q->depth_sum += rec.depth_after_push;
			if (rec.depth_after_push > q->peak_depth)
				q->peak_depth = rec.depth_after_push;
		}
	}
	tvn_bench_record(&rec);
	return 0;
}
