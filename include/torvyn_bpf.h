/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the BPF programs and the tracer share: probe ids (the USDT cookie of
 * each attached site), ring-buffer record layouts and the keys and values of
 * the diagnostic aggregation maps. Fixed-width types only; the one include is
 * the generated probe list.
 */
#ifndef TORVYN_BPF_H
#define TORVYN_BPF_H

/*
 * Probe ids, in usdt/torvyn.d order: the list is generated from torvyn.d
 * (build/torvyn_probe_list.h), so ids, names and dispatch cannot drift.
 */
#include "torvyn_probe_list.h"

enum torvyn_probe_id {
#define TVN__PROBE_ID(id, name, nargs, family) TVN_P_##id,
	TORVYN_PROBE_LIST(TVN__PROBE_ID)
#undef TVN__PROBE_ID
	TVN_P_COUNT,
};

/* Ring-buffer records: a 8-byte header, then the payload. */
#define TVN_RB_BLOCK 1 /* metrics__flush: a metric block copy */
#define TVN_RB_TRACE 2 /* trace__promote: header and span records */
#define TVN_RB_FLOW 3 /* flow__start / flow__end */

#define TVN_RB_MAX_BLOCK 1024 /* largest metric block copied */
#define TVN_RB_MAX_RECS TORVYN_TRACE_RECS /* span records per promoted trace */

struct tvn_rb_hdr {
	__u32 type; /* TVN_RB_* */
	__u32 len; /* payload bytes */
};

struct tvn_rb_block {
	struct tvn_rb_hdr hdr;
	__u32 kind; /* TORVYN_BLOCK_* */
	__u32 size;
	__u8 data[TVN_RB_MAX_BLOCK];
};

struct tvn_rb_trace {
	struct tvn_rb_hdr hdr;
	struct torvyn_trace_hdr trace;
	struct torvyn_span_rec rec[TVN_RB_MAX_RECS];
};

struct tvn_rb_flow {
	struct tvn_rb_hdr hdr;
	__u32 probe; /* TVN_P_FLOW_START or TVN_P_FLOW_END */
	__u32 flow_idx;
	__u32 state;
	__u32 n_components;
	__u64 elements;
	__u64 errors;
	__u64 ts_ns;
};

/* Diagnostic aggregates (per-CPU arrays; the tracer sums the CPUs). */
struct tvn_comp_key {
	__u32 flow_idx;
	__u32 comp_idx;
};

struct tvn_invoke_val {
	__u64 invocations;
	__u64 errors;
	__u64 bytes_in;
	__u64 bytes_out;
	__u64 transfers_in; /* elements handed over through its input stream */
	__u64 transfer_bytes;
	__u64 from_idx; /* the component at the other end of that stream */
	struct torvyn_hist_lat time;
};

/*
 * The diagnostic maps are per-CPU arrays indexed by flow and component or
 * stream: a probe hit costs array lookups, never a hash insert.
 */
#define TVN_COMP_SLOT(flow, comp) ((flow) * TORVYN_MAX_COMPONENTS + (comp))
#define TVN_STREAM_SLOT(flow, stream) ((flow) * TORVYN_MAX_STREAMS + (stream))
#define TVN_COPY_SLOT(flow, comp, reason) \
	(TVN_COMP_SLOT(flow, comp) * TORVYN_COPY_REASONS + (reason))

struct tvn_count_val {
	__u64 count;
	__u64 bytes;
};

struct tvn_queue_val {
	__u64 depth_sum; /* sum of the depths seen at enqueue, for the mean */
	__u64 enqueues;
	__u64 dequeues;
	__u64 depth; /* depth after the latest event on this CPU */
	__u64 depth_ts; /* when, to pick the newest across CPUs */
	__u64 peak_depth;
	__u64 bp_events;
	struct torvyn_hist_lat wait;
	struct torvyn_hist_lat bp_duration;
};

struct tvn_pool_val {
	__u64 allocs;
	__u64 returns;
	__u64 fallbacks;
	__u64 exhaustions;
};

/*
 * bench: log-linear latency histograms (16 sub-buckets per power of two, see
 * user/trace/bench/bench.h), per component (processing time) and per flow
 * (end to end, comp_idx TVN_FINE_E2E); and per-thread scheduling figures.
 */
#define TVN_FINE_BUCKETS 640
#define TVN_FINE_E2E 0xffffffffu

struct tvn_fine_val {
	__u64 count;
	__u64 sum;
	__u64 max;
	__u64 bucket[TVN_FINE_BUCKETS];
};

struct tvn_sched_val {
	__u64 wakeups;
	__u64 oncpu_ns;
	__u64 offcpu_ns;
	__u64 last_ns; /* last switch in or out */
	__u64 on; /* 1 while on a CPU */
};

/* Per-CPU counters of the tracer's own (array indexed by these). */
#define TVN_STAT_HITS 0 /* + probe id: hits per probe, TVN_P_COUNT entries */
#define TVN_STAT_RB_LOST (TVN_P_COUNT + 0) /* ring-buffer reservations that failed */
#define TVN_STAT_MAP_FULL (TVN_P_COUNT + 1) /* aggregation map updates that failed */
#define TVN_STAT_READ_FAIL (TVN_P_COUNT + 2) /* user-memory reads that failed */
#define TVN_STAT_TRACE_FILTERED (TVN_P_COUNT + 3) /* promoted traces the tracer's sampling dropped */
#define TVN_STAT_COUNT (TVN_P_COUNT + 4)

#endif /* TORVYN_BPF_H */
