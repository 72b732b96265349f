/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Torvyn probe ABI: everything the host, the BPF programs and the tracer
 * must agree on. Fixed-width types only and no includes, so that the same
 * file compiles in the host (after <linux/types.h>), in BPF (after vmlinux.h)
 * and in the tracer. Bump TORVYN_PROBE_ABI_VERSION on any layout change.
 */
#ifndef TORVYN_ABI_H
#define TORVYN_ABI_H

#define TORVYN_PROBE_ABI_VERSION 1

/* Levels (upstream Torvyn: docs/metrics.md). */
#define TORVYN_LEVEL_OFF 0
#define TORVYN_LEVEL_PRODUCTION 1
#define TORVYN_LEVEL_DIAGNOSTIC 2

#define TORVYN_NAME_LEN 48
#define TORVYN_MAX_COMPONENTS 16 /* per flow */
#define TORVYN_MAX_STREAMS 16 /* per flow */
#define TORVYN_MAX_FLOWS 256

/*
 * Histogram bounds, defined once: the host's buckets, the BPF programs', the
 * Prometheus `le` labels and the OTLP explicit bounds all derive from these
 * lists. Bucket i holds the values v <= bound i; one more bucket is +Inf.
 * Latency, in ns: 1-2.5-5 per decade, 100 ns .. 10 s (docs/metrics.md).
 */
#define TORVYN_LAT_BOUND_LIST(X)                                                                   \
	X(100ull) X(250ull) X(500ull)                                                              \
	X(1000ull) X(2500ull) X(5000ull)                                                           \
	X(10000ull) X(25000ull) X(50000ull)                                                        \
	X(100000ull) X(250000ull) X(500000ull)                                                     \
	X(1000000ull) X(2500000ull) X(5000000ull)                                                  \
	X(10000000ull) X(25000000ull) X(50000000ull)                                               \
	X(100000000ull) X(250000000ull) X(500000000ull)                                            \
	X(1000000000ull) X(2500000000ull) X(5000000000ull)                                         \
	X(10000000000ull)
/* Size, in bytes: 64 B .. 16 MiB by powers of 4. */
#define TORVYN_SIZE_BOUND_LIST(X)                                                                  \
	X(64ull) X(256ull) X(1024ull) X(4096ull) X(16384ull) X(65536ull) X(262144ull)               \
	X(1048576ull) X(4194304ull) X(16777216ull)
#define TORVYN__COUNT_ONE(v) +1
#define TORVYN_LAT_BOUNDS (0 TORVYN_LAT_BOUND_LIST(TORVYN__COUNT_ONE))
#define TORVYN_LAT_BUCKETS (TORVYN_LAT_BOUNDS + 1)
#define TORVYN_SIZE_BOUNDS (0 TORVYN_SIZE_BOUND_LIST(TORVYN__COUNT_ONE))
#define TORVYN_SIZE_BUCKETS (TORVYN_SIZE_BOUNDS + 1)
/* As a comma-separated initializer: { TORVYN_LAT_BOUND_LIST(TORVYN_BOUND_ITEM) } */
#define TORVYN_BOUND_ITEM(v) v,

/* Component invocation status, also span status (upstream Torvyn: docs/metrics.md). */
#define TORVYN_STATUS_OK 0
#define TORVYN_STATUS_ERROR 1
#define TORVYN_STATUS_TIMEOUT 2
#define TORVYN_STATUS_CANCELLED 3

/* Process error kinds (upstream Torvyn: docs/metrics.md); 0 is "no error". */
#define TORVYN_ERR_NONE 0
#define TORVYN_ERR_INVALID_INPUT 1
#define TORVYN_ERR_UNAVAILABLE 2
#define TORVYN_ERR_INTERNAL 3
#define TORVYN_ERR_DEADLINE_EXCEEDED 4
#define TORVYN_ERR_FATAL 5
#define TORVYN_ERR_KINDS 6

/* Copy reasons (upstream Torvyn: docs/metrics.md). */
#define TORVYN_COPY_METADATA_MARSHAL 0
#define TORVYN_COPY_PAYLOAD_READ 1
#define TORVYN_COPY_PAYLOAD_WRITE 2
#define TORVYN_COPY_HOST_SERIALIZE 3
#define TORVYN_COPY_REASONS 4

/* Pool tiers (upstream Torvyn: docs/metrics.md). */
#define TORVYN_TIER_SMALL 0
#define TORVYN_TIER_MEDIUM 1
#define TORVYN_TIER_LARGE 2
#define TORVYN_TIER_HUGE 3
#define TORVYN_TIERS 4

/* Flow states (upstream Torvyn: docs/metrics.md). */
#define TORVYN_FLOW_CREATED 0
#define TORVYN_FLOW_VALIDATED 1
#define TORVYN_FLOW_INSTANTIATED 2
#define TORVYN_FLOW_RUNNING 3
#define TORVYN_FLOW_DRAINING 4
#define TORVYN_FLOW_COMPLETED 5
#define TORVYN_FLOW_CANCELLED 6
#define TORVYN_FLOW_FAILED 7

/* Component roles. */
#define TORVYN_ROLE_SOURCE 0
#define TORVYN_ROLE_PROCESSOR 1
#define TORVYN_ROLE_FILTER 2
#define TORVYN_ROLE_ROUTER 3
#define TORVYN_ROLE_SINK 4

/* Queue policies. */
#define TORVYN_POLICY_BLOCK_PRODUCER 0
#define TORVYN_POLICY_DROP_OLDEST 1
#define TORVYN_POLICY_DROP_NEWEST 2
#define TORVYN_POLICY_ERROR 3

/* Promotion reasons (trace__promote). */
#define TORVYN_PROMOTE_SAMPLED 0 /* head-sampled element, exported whole */
#define TORVYN_PROMOTE_ERROR 1
#define TORVYN_PROMOTE_LATENCY 2

/* Trace flags (W3C bit 0, Torvyn bit 1). */
#define TORVYN_TRACE_FLAG_SAMPLED 0x01
#define TORVYN_TRACE_FLAG_DIAGNOSTIC 0x02
#define TORVYN_TRACE_FLAG_REMOTE_SAMPLED 0x04 /* the incoming traceparent was sampled */

/* Metric block kinds (metrics__flush arg2). */
#define TORVYN_BLOCK_FLOW 1
#define TORVYN_BLOCK_COMPONENT 2
#define TORVYN_BLOCK_STREAM 3
#define TORVYN_BLOCK_POOL 4
#define TORVYN_BLOCK_SYSTEM 5

struct torvyn_hist_lat {
	__u64 bucket[TORVYN_LAT_BUCKETS]; /* not cumulative; bucket i holds v <= bound[i] */
	__u64 sum_ns;
	__u64 count;
};

struct torvyn_hist_size {
	__u64 bucket[TORVYN_SIZE_BUCKETS];
	__u64 sum_bytes;
	__u64 count;
};

/*
 * Every block starts with this header. The host writes each counter from one
 * thread only; readers may see a block mid-update but every field on its own
 * is monotonic (counters) or current (gauges).
 */
struct torvyn_block_hdr {
	__u32 kind; /* TORVYN_BLOCK_* */
	__u32 size; /* sizeof the whole block */
	__u32 flow_idx; /* flow index in the host, 0-based; 0 for pool/system */
	__u32 idx; /* component or stream index within the flow */
	__u64 flushes; /* incremented by the host at each flush */
	char flow_name[TORVYN_NAME_LEN];
	char name[TORVYN_NAME_LEN]; /* component or stream name, flow name for flows */
};

struct torvyn_flow_block {
	struct torvyn_block_hdr hdr;
	__u64 elements_total; /* elements that reached the end of the flow (sink, filter, error) */
	__u64 elements_errors; /* elements on which a component returned an error */
	__u64 copies_total[TORVYN_COPY_REASONS];
	__u64 copies_bytes[TORVYN_COPY_REASONS];
	__u64 transfers_total;
	__u64 transfers_bytes;
	__u64 start_ns; /* CLOCK_MONOTONIC when the flow entered Running */
	__u64 end_ns; /* when it left Running/Draining, 0 while active */
	__u32 state; /* TORVYN_FLOW_* */
	__u32 n_components;
	__u64 sampled_total; /* elements exported by head sampling */
	__u64 promoted_total[3]; /* by TORVYN_PROMOTE_* */
	__u64 spans_dropped; /* span records exported traces lost: their element's slot was full */
	struct torvyn_hist_lat latency; /* end-to-end, production level and up */
};

struct torvyn_component_block {
	struct torvyn_block_hdr hdr;
	__u32 role; /* TORVYN_ROLE_* */
	__u32 pad;
	__u64 invocations;
	__u64 errors;
	__u64 errors_by_kind[TORVYN_ERR_KINDS];
	__u64 bytes_in;
	__u64 bytes_out;
	__u64 fuel_consumed; /* always 0: native components have no fuel */
	__u64 memory_current; /* bytes of payload the component holds now */
	__u64 wakeups; /* times the component's thread woke from a wait */
	__u64 idle_ns; /* time spent waiting for input or output */
	__u64 elements_ended; /* elements whose path ended here (sink, filter drop, error) */
	__u64 copies_total[TORVYN_COPY_REASONS];
	__u64 copies_bytes[TORVYN_COPY_REASONS];
	__u64 transfers_in; /* ownership transfers into this component */
	__u64 transfers_in_bytes;
	struct torvyn_hist_lat processing_time; /* production level and up */
	struct torvyn_hist_lat e2e_latency; /* of elements ending here, production level and up */
};

struct torvyn_stream_block {
	struct torvyn_block_hdr hdr;
	__u32 from_idx;
	__u32 to_idx;
	__u32 capacity;
	__u32 policy;
	__u64 elements_transferred;
	__u64 elements_dropped; /* by drop-oldest / drop-newest / error */
	__u64 backpressure_events;
	__u64 backpressure_duration_ns;
	__u64 current_depth;
	__u64 peak_depth;
	struct torvyn_hist_lat wait_time; /* diagnostic level */
};

struct torvyn_pool_tier {
	__u64 buffer_size;
	__u64 capacity;
	__u64 available;
	__u64 allocated; /* served from the pool */
	__u64 returned;
	__u64 fallback_count; /* served by the system allocator: tier empty */
	__u64 exhaustion_events; /* the tier became empty */
};

struct torvyn_pool_block {
	struct torvyn_block_hdr hdr;
	struct torvyn_pool_tier tier[TORVYN_TIERS];
};

struct torvyn_system_block {
	struct torvyn_block_hdr hdr;
	__u64 flows_active;
	__u64 components_active;
	__u64 memory_total; /* bytes of pool memory mapped */
	__u64 scheduler_wakeups;
	__u64 scheduler_idle_ns;
	__u64 spans_dropped;
	__u32 abi_version;
	__u32 n_flows;
};

/* Span record kinds. */
#define TORVYN_SPAN_FLOW 0
#define TORVYN_SPAN_INVOKE 1
#define TORVYN_SPAN_TRANSFER 2
#define TORVYN_SPAN_COPY 3
#define TORVYN_SPAN_BACKPRESSURE 4

/*
 * One span record, 64 bytes. The fields upstream Torvyn names (span id, parent
 * span id, component id, start, end, status, element sequence) plus what the
 * resource spans need.
 */
struct torvyn_span_rec {
	__u64 span_id;
	__u64 parent_span_id;
	__u64 start_ns;
	__u64 end_ns;
	__u64 seq;
	__u64 bytes;
	__u64 aux; /* transfer: buffer id; backpressure: queue depth; copy: buffer id */
	__u16 component_idx; /* component (invoke, copy), stream (backpressure), from (transfer) */
	__u16 aux_idx; /* transfer: to component */
	__u8 kind; /* TORVYN_SPAN_* */
	__u8 status; /* TORVYN_STATUS_* */
	__u8 error_kind; /* TORVYN_ERR_* */
	__u8 reason; /* copy reason */
};

/*
 * The whole record of one component step, the last argument of
 * component__invoke: the invocation, the dequeue that handed the element
 * over, the enqueue that passed it on, its copy, and, when its path ended
 * here, its end-to-end latency. One probe hit carries all of it, so that
 * the diagnostic level costs one uprobe per invocation.
 */
#define TORVYN_NONE16 0xffff

struct torvyn_invoke_rec {
	__u32 flow_idx;
	__u16 component_idx;
	__u8 status; /* TORVYN_STATUS_* */
	__u8 error_kind; /* TORVYN_ERR_* */
	__u64 seq;
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u64 bytes_in;
	__u64 bytes_out;
	/* input: the stream the element came from (TORVYN_NONE16 for a source) */
	__u16 in_stream;
	__u16 from_component;
	__u32 depth_after_pop;
	__u64 wait_ns; /* time the element waited in that stream */
	__u64 buffer_id;
	/* output: the stream it went to (TORVYN_NONE16: none, or it ended here) */
	__u16 out_stream;
	__u16 copy_reason; /* TORVYN_NONE16: no copy */
	__u32 depth_after_push;
	__u64 copy_bytes;
	__u64 e2e_ns; /* source invocation start to here, when ended is set */
	__u32 ended; /* the element's path ended in this step */
	__u32 pad;
	/*
	 * The fields of an input (from_component .. buffer_id), an output
	 * (depth_after_push) or a copy (copy_bytes) mean something only when its
	 * stream or reason is not TORVYN_NONE16: the host does not clear them.
	 */
};

/*
 * Step records per component__batch hit: a component thread appends each
 * step's struct torvyn_invoke_rec to its own batch and fires one hit per this
 * many (and at each flush interval, drain and exit), so that the diagnostic
 * level costs 1/TORVYN_BATCH_RECS of a uprobe per step.
 */
#define TORVYN_BATCH_RECS 64

/*
 * Span records per promoted trace: the host's slot per element, the BPF
 * ring-buffer record and the tracer's spans per trace are all this many. A
 * power of two (the BPF side masks with it). A slot that fills up keeps its
 * root span in the last record (the host's span_next), and the tracer finds
 * the root by its kind, never by its place.
 */
#define TORVYN_TRACE_RECS 16

/* What trace__promote points at: one element's trace. */
struct torvyn_trace_hdr {
	__u8 trace_id[16];
	__u64 remote_parent_span_id; /* incoming traceparent's parent-id, 0 if none */
	__u64 flow_idx;
	__u64 seq;
	__u32 flags; /* TORVYN_TRACE_FLAG_* */
	__u32 reason; /* TORVYN_PROMOTE_* */
	__u32 count; /* records that follow in the records argument */
	__u32 dropped; /* records of this element lost to the ring before promotion */
};

#endif /* TORVYN_ABI_H */
