/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A snapshot: everything one exposition renders, as plain data. The session
 * assembles it (core/snapshot.c: host metric blocks from metrics__flush,
 * diagnostic aggregates summed over CPUs from the BPF maps, the tracer's own
 * figures, and the exporter's figures passed in by whoever owns the
 * exporter); the renderers (Prometheus text, OpenMetrics, OTLP) only read it.
 */
#ifndef TORVYN_SNAPSHOT_H
#define TORVYN_SNAPSHOT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "torvyn_abi.h"
#include "torvyn_bpf.h"

struct tvn_snap_comp {
	bool present; /* a block was received */
	struct torvyn_component_block blk;
	/* diagnostic aggregates (BPF maps); has_diag once the probe ever fired */
	bool has_diag;
	struct tvn_invoke_val diag;
	struct tvn_count_val diag_copies[TORVYN_COPY_REASONS];
};

struct tvn_snap_stream {
	bool present;
	struct torvyn_stream_block blk;
	bool has_diag;
	struct tvn_queue_val diag;
};

struct tvn_snap_transfer {
	__u32 flow_idx, from_idx, to_idx;
	struct tvn_count_val val;
};

struct tvn_snap_flow {
	bool present;
	struct torvyn_flow_block blk;
	struct tvn_snap_comp comps[TORVYN_MAX_COMPONENTS];
	struct tvn_snap_stream streams[TORVYN_MAX_STREAMS];
};

/* The OTLP exporter's figures, among the self-metrics (passed in, never pulled). */
struct tvn_snap_export {
	uint64_t spans_dropped;	 /* OTLP queue full, or gave up */
	uint64_t spans_exported; /* acknowledged by the OTLP destinations */
	uint64_t spans_rejected; /* partial_success rejected_spans */
	uint64_t retries, failures, partial_successes, metric_requests;
};

/*
 * Why a record from the host was dropped (torvyn_trace_malformed_blocks,
 * label reason): a block kind the tracer does not know, a size argument
 * other than the kind's sizeof, a block header that disagrees with the
 * probe's arguments, an index beyond the tracer's limits, a ring-buffer
 * record of an unknown type or size.
 */
enum tvn_bad_reason {
	TVN_BAD_KIND,
	TVN_BAD_SIZE,
	TVN_BAD_HEADER,
	TVN_BAD_INDEX,
	TVN_BAD_RECORD,
	TVN_BAD_REASONS
};
static const char *const tvn_bad_reason_names[TVN_BAD_REASONS] = {"kind", "size", "header", "index",
								  "record"};

struct tvn_snapshot {
	/* the tracer */
	int level;     /* TORVYN_LEVEL_* attached now */
	int target_up; /* 1 while the target process lives */
	int target_pid;
	char target_exe[256];
	int probes_attached;		  /* probe sites attached now */
	uint64_t events_lost;		  /* ring-buffer records lost (BPF side) */
	uint64_t probe_hits[TVN_P_COUNT]; /* BPF program runs per probe */
	uint64_t map_full;		  /* aggregation updates that failed */
	uint64_t read_fail;		  /* user-memory reads that failed */
	uint64_t blocks_received;	  /* metric blocks consumed */
	uint64_t bad_records;		  /* metric blocks of another size or kind, dropped */
	uint64_t bad_by_reason[TVN_BAD_REASONS]; /* the same, and malformed records, by reason */
	uint64_t traces_received;		 /* promoted traces consumed */
	uint64_t traces_filtered; /* promoted traces the tracer's sampling dropped (BPF) */
	bool otlp_enabled;	  /* an exporter's figures are in otlp */
	struct tvn_snap_export otlp;
	uint64_t level_switches;
	uint64_t textfile_failures; /* passed in by who writes the textfiles */
	uint64_t scrapes;
	double start_time; /* unix seconds the session started */

	/* the host's metric blocks, by flow index */
	int n_flows;		     /* highest flow index seen + 1 */
	struct tvn_snap_flow *flows; /* n_flows entries */
	bool have_pool, have_sys;
	struct torvyn_pool_block pool;
	struct torvyn_system_block sys;

	/* diagnostic aggregates that are not per component or stream */
	bool has_diag_pool;
	struct tvn_pool_val diag_pool[TORVYN_TIERS];
	int n_transfers;
	struct tvn_snap_transfer *transfers;
};

#endif /* TORVYN_SNAPSHOT_H */
