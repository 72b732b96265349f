// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Diagnostic family: the step records. Each record (struct torvyn_invoke_rec)
 * is one component step: the invocation, the dequeue that handed the element
 * over, the enqueue that passed it on and its copy, and it feeds the
 * per-component, per-copy-reason and per-stream aggregates. torvyn-trace
 * attaches component__batch, up to TORVYN_BATCH_RECS records a hit, read at
 * once into a per-CPU scratch buffer and aggregated by bpf_loop;
 * component__invoke (one record a hit) is handled the same way, for a
 * session that attaches it instead.
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

/*
 * make bench's Level 2 floor (build/torvyn-trace-batch-hits-only): each
 * batch is read whole and nothing of it is aggregated, what delivering the
 * step records costs before anything is done with them.
 */
const volatile __u32 cfg_batch_hits_only = 0;

/* Where component__batch's records land: too big for the BPF stack. */
struct tvn_batch_scratch {
	struct torvyn_invoke_rec rec[TORVYN_BATCH_RECS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tvn_batch_scratch);
} batch_scratch SEC(".maps");

/* One step record into the aggregates. */
static __always_inline void invoke_add(const struct torvyn_invoke_rec *rec)
{
	struct tvn_invoke_val *v;
	struct tvn_queue_val *q;
	struct tvn_count_val *cv;
	__u32 slot, flow = rec->flow_idx, comp = rec->component_idx;
	__u16 in = rec->in_stream, out = rec->out_stream, reason = rec->copy_reason;

	if (flow >= TORVYN_MAX_FLOWS || comp >= TORVYN_MAX_COMPONENTS)
		return;
	slot = TVN_COMP_SLOT(flow, comp);
	v = bpf_map_lookup_elem(&invokes, &slot);
	if (!v) {
		/* a flow beyond the maps the tracer sized (--max-flows): counted */
		stat_inc(TVN_STAT_MAP_FULL);
		return;
	}
	v->invocations++;
	if (rec->status != TORVYN_STATUS_OK)
		v->errors++;
	v->bytes_in += rec->bytes_in;
	v->bytes_out += rec->bytes_out;
	hist_add(&v->time, rec->end_ns > rec->start_ns ? rec->end_ns - rec->start_ns : 0);

	if (reason < TORVYN_COPY_REASONS) {
		slot = TVN_COPY_SLOT(flow, comp, reason);
		cv = bpf_map_lookup_elem(&copies, &slot);
		if (cv) {
			cv->count++;
			cv->bytes += rec->copy_bytes;
		}
	}
	if (in < TORVYN_MAX_STREAMS) {
		/* the element was handed over through its input stream */
		v->transfers_in++;
		v->transfer_bytes += rec->bytes_in;
		v->from_idx = rec->from_component;
		slot = TVN_STREAM_SLOT(flow, in);
		q = bpf_map_lookup_elem(&queues, &slot);
		if (q) {
			q->dequeues++;
			q->depth = rec->depth_after_pop;
			q->depth_ts = rec->start_ns;
			hist_add(&q->wait, rec->wait_ns);
		}
	}
	if (out < TORVYN_MAX_STREAMS) {
		slot = TVN_STREAM_SLOT(flow, out);
		q = bpf_map_lookup_elem(&queues, &slot);
		if (q) {
			q->enqueues++;
			q->depth = rec->depth_after_push;
			q->depth_ts = rec->end_ns + 1;
			q->depth_sum += rec->depth_after_push;
			if (rec->depth_after_push > q->peak_depth)
				q->peak_depth = rec->depth_after_push;
		}
	}
	tvn_bench_record(rec);
}

/* bpf_loop's callback: record i of this CPU's scratch (a per-CPU lookup is inlined). */
static long batch_one(__u64 i, void *ctx)
{
	__u32 zero = 0;
	struct tvn_batch_scratch *s = bpf_map_lookup_elem(&batch_scratch, &zero);

	(void)ctx;
	if (!s || i >= TORVYN_BATCH_RECS)
		return 1;
	invoke_add(&s->rec[i]);
	return 0;
}

/* component__batch(records, count): one read of the whole batch, then each record. */
static __always_inline int handle_batch(struct pt_regs *ctx)
{
	const void *recs = (const void *)arg(ctx, 0);
	__u32 n = (__u32)arg(ctx, 1), zero = 0;
	struct tvn_batch_scratch *s;
	__u64 size;

	size = (__u64)n * sizeof(s->rec[0]);
	barrier_var(size); /* the bound is checked on the register the read uses */
	if (!n || size > sizeof(s->rec)) {
		/* not a batch this ABI knows: nothing of it is trusted */
		if (n)
			stat_inc(TVN_STAT_READ_FAIL);
		return 0;
	}
	s = bpf_map_lookup_elem(&batch_scratch, &zero);
	if (!s)
		return 0;
	if (bpf_probe_read_user(s->rec, size, recs)) {
		stat_inc(TVN_STAT_READ_FAIL);
		return 0;
	}
	if (!cfg_batch_hits_only)
		bpf_loop(n, batch_one, NULL, 0);
	return 0;
}

__noinline int tvn_handle_invoke(struct pt_regs *ctx, __u32 probe)
{
	struct torvyn_invoke_rec rec;

	if (!ctx)
		return 0;
	if (probe == TVN_P_COMPONENT_BATCH)
		return handle_batch(ctx);
	if (probe != TVN_P_COMPONENT_INVOKE)
		return 0;
	if (bpf_probe_read_user(&rec, sizeof(rec), (const void *)arg(ctx, 8))) {
		stat_inc(TVN_STAT_READ_FAIL);
		return 0;
	}
	invoke_add(&rec);
	return 0;
}
