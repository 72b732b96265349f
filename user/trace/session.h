/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An attach session: the BPF object loaded for one target process, the links
 * that make up its level, the ring-buffer consumer and the store of what the
 * host sent. Thread-safe: one thread polls and switches levels, any thread
 * takes snapshots.
 */
#ifndef TORVYN_SESSION_H
#define TORVYN_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct session;

struct session_opts {
	int pid;
	/* the tracer's own trace sampling (BPF side); see bpf/metrics.bpf.c */
	uint64_t sample_threshold; /* tvn_sample_threshold(rate); UINT64_MAX passes all */
	uint64_t latency_threshold_ns;
	/* bench: fine histograms and the scheduler programs */
	bool bench;
};

typedef void (*session_trace_fn)(void *ctx, const struct tvn_rb_trace *rec);

/*
 * Opens the target, checks its probes and ABI, loads the BPF object; attaches
 * nothing yet. Returns 0 and *out (free with session__free()), or a
 * TVN_EXIT_* code > 0 with a message in err naming the cause and the fix.
 */
int session__open(const struct session_opts *opts, struct session **out, char *err,
		  size_t errlen);
void session__free(struct session *s);

/*
 * Switches to level (TORVYN_LEVEL_*): one uprobe_multi attach or detach per
 * level crossed; per-event probes before gates. Returns 0 or a TVN_EXIT_*
 * code with err set; *elapsed_ns is the time the switch took.
 */
int session__set_level(struct session *s, int level, uint64_t *elapsed_ns, char *err,
		       size_t errlen);
int session__level(struct session *s);

/* Consumes the ring buffer (no wakeups are sent: call it on a timer). */
int session__poll(struct session *s);

/* The target is gone: drain what it sent, drop the links, mark it down. */
void session__target_exited(struct session *s);
int session__pid(const struct session *s);
const char *session__exe(const struct session *s);

/* Called on the polling thread for every promoted trace. */
void session__on_trace(struct session *s, session_trace_fn fn, void *ctx);

/*
 * Fills snap with everything known now. Caller frees with snapshot__free().
 * Returns 0 or -ENOMEM.
 */
int session__snapshot(struct session *s, struct snapshot *snap);
void snapshot__free(struct snapshot *snap);

/* bench: attaches the scheduler programs (the session was opened with bench). */
int session__bench_attach(struct session *s, char *err, size_t errlen);

/* bench: forgets the queues' peak depths, so that the next peak is the window's. */
void session__reset_peaks(struct session *s);

/* Calls fn for every fine histogram, summed over CPUs. */
typedef void (*session_fine_fn)(void *ctx, __u32 flow_idx, __u32 comp_idx,
				const struct tvn_fine_val *v);
int session__read_fine(struct session *s, session_fine_fn fn, void *ctx);

/* Calls fn for every thread of the target the scheduler programs saw. */
typedef void (*session_sched_fn)(void *ctx, __u32 tid, const struct tvn_sched_val *v);
int session__read_sched(struct session *s, session_sched_fn fn, void *ctx);

/* The exporter's figures, shown among the self-metrics. */
struct exporter_stats;
void session__set_export_stats(struct session *s, const struct exporter_stats *st);

/*
 * Names for labels and span names, from the host's metric blocks. Copies the
 * flow's name and, for idx >= 0, the component's (kind TORVYN_BLOCK_COMPONENT)
 * or stream's (TORVYN_BLOCK_STREAM) into buf; falls back to the index.
 */
void session__name(struct session *s, uint32_t flow_idx, int kind, int idx, char *buf,
		   size_t len);

/* True once the flow's metric blocks (its names) have arrived. */
bool session__flow_named(struct session *s, uint32_t flow_idx);

/* CLOCK_MONOTONIC ns of the host -> Unix ns. */
uint64_t session__mono_to_unix(const struct session *s, uint64_t mono_ns);

#endif /* TORVYN_SESSION_H */
