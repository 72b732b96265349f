// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Production family: metric blocks (metrics__flush), promoted traces
 * (trace__promote) and flow lifecycle events, copied into the ring buffer.
 * Records are submitted without a wakeup: the tracer polls on a timer, so a
 * probe never pays for waking it.
 */
#include "common.bpf.h"

/*
 * The tracer's own sampling, set before load: it can only narrow what the
 * host promotes (the host decides first, so that unsampled elements never
 * take a probe hit). Same decision function as the host's: the trace id's
 * last 8 bytes, big endian, below the threshold.
 */
const volatile __u64 cfg_sample_threshold = ~0ull; /* ~0: everything the host sampled */
const volatile __u64 cfg_latency_ns = 0; /* tail promotions must exceed this too */

/*
 * The root (flow) span of a trace, found by its kind: after a truncation to
 * TVN_RB_MAX_RECS the last record need not be the root. NULL if none.
 */
static __always_inline const struct torvyn_span_rec *trace_root(const struct tvn_rb_trace *r,
								 __u32 count)
{
#pragma unroll
	for (int i = TVN_RB_MAX_RECS - 1; i >= 0; i--) {
		if ((__u32)i < count && r->rec[i].kind == TORVYN_SPAN_FLOW)
			return &r->rec[i];
	}
	return NULL;
}

static __always_inline bool keep_trace(const struct tvn_rb_trace *r, __u32 count)
{
	const struct torvyn_span_rec *root;
	__u64 x = 0;

	if (r->trace.reason == TORVYN_PROMOTE_ERROR)
		return true;
	if (r->trace.flags & TORVYN_TRACE_FLAG_REMOTE_SAMPLED)
		return true;
	root = trace_root(r, count);
	if (root && r->trace.reason == TORVYN_PROMOTE_LATENCY &&
	    root->end_ns - root->start_ns > cfg_latency_ns)
		return true;
	if (!(r->trace.flags & TORVYN_TRACE_FLAG_SAMPLED))
		return false;
	if (cfg_sample_threshold == ~0ull)
		return true;
#pragma unroll
	for (int i = 8; i < 16; i++)
		x = (x << 8) | r->trace.trace_id[i];
	return x < cfg_sample_threshold;
}

static __always_inline int copy_block(struct pt_regs *ctx)
{
	const void *ptr = (const void *)arg(ctx, 0);
	__u32 size = (__u32)arg(ctx, 1);
	struct tvn_rb_block *r;

	if (size > TVN_RB_MAX_BLOCK)
		size = TVN_RB_MAX_BLOCK;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(TVN_STAT_RB_LOST);
		return 0;
	}
	r->hdr.type = TVN_RB_BLOCK;
	r->hdr.len = sizeof(*r) - sizeof(r->hdr);
	r->kind = (__u32)arg(ctx, 2);
	r->size = size;
	/* the verifier wants the bound at the call: the compiler would drop it */
	barrier_var(size);
	size &= 2 * TVN_RB_MAX_BLOCK - 1;
	if (size > TVN_RB_MAX_BLOCK)
		size = TVN_RB_MAX_BLOCK;
	if (bpf_probe_read_user(r->data, size, ptr)) {
		stat_inc(TVN_STAT_READ_FAIL);
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return 0;
	}
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

static __always_inline int copy_trace(struct pt_regs *ctx)
{
	const void *hdr = (const void *)arg(ctx, 0);
	const void *recs = (const void *)arg(ctx, 1);
	__u32 count = (__u32)arg(ctx, 2);
	struct tvn_rb_trace *r;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(TVN_STAT_RB_LOST);
		return 0;
	}
	r->hdr.type = TVN_RB_TRACE;
	r->hdr.len = sizeof(*r) - sizeof(r->hdr);
	if (bpf_probe_read_user(&r->trace, sizeof(r->trace), hdr))
		goto read_fail;
	if (count > TVN_RB_MAX_RECS) {
		/*
		 * More records than a trace holds: keep the first ones and the
		 * last, which is the root (flow) span by the contract, in the
		 * last place; the ones between are counted as dropped.
		 */
		const struct torvyn_span_rec *last = (const struct torvyn_span_rec *)recs + count - 1;

		if (bpf_probe_read_user(r->rec, (TVN_RB_MAX_RECS - 1) * sizeof(r->rec[0]), recs) ||
		    bpf_probe_read_user(&r->rec[TVN_RB_MAX_RECS - 1], sizeof(r->rec[0]), last))
			goto read_fail;
		r->trace.dropped += count - TVN_RB_MAX_RECS;
		count = TVN_RB_MAX_RECS;
	} else {
		barrier_var(count);
		count &= 2 * TVN_RB_MAX_RECS - 1;
		if (count > TVN_RB_MAX_RECS)
			count = TVN_RB_MAX_RECS;
		if (bpf_probe_read_user(r->rec, count * sizeof(r->rec[0]), recs))
			goto read_fail;
	}
	r->trace.count = count;
	if (!keep_trace(r, count)) {
		stat_inc(TVN_STAT_TRACE_FILTERED);
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return 0;
	}
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
read_fail:
	stat_inc(TVN_STAT_READ_FAIL);
	bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
	return 0;
}

static __always_inline int flow_event(struct pt_regs *ctx, __u32 probe)
{
	struct tvn_rb_flow *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		stat_inc(TVN_STAT_RB_LOST);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->hdr.type = TVN_RB_FLOW;
	r->hdr.len = sizeof(*r) - sizeof(r->hdr);
	r->probe = probe;
	r->flow_idx = (__u32)arg(ctx, 0);
	r->ts_ns = bpf_ktime_get_ns();
	if (probe == TVN_P_FLOW_START) {
		r->n_components = (__u32)arg(ctx, 2);
	} else {
		r->state = (__u32)arg(ctx, 1);
		r->elements = arg(ctx, 2);
		r->errors = arg(ctx, 3);
	}
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

__noinline int tvn_handle_metrics(struct pt_regs *ctx, __u32 probe)
{
	if (!ctx)
		return 0;
	if (probe == TVN_P_METRICS_FLUSH)
		return copy_block(ctx);
	if (probe == TVN_P_TRACE_PROMOTE)
		return copy_trace(ctx);
	return flow_event(ctx, probe);
}
