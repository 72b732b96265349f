/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading the BPF side's aggregates: per-CPU values summed (counters) or
 * combined as what they are (gauges, peaks, indices), for snapshots and for
 * bench. Maps are read without locks: the kernel serializes the syscalls.
 */
#ifndef TORVYN_MAPS_H
#define TORVYN_MAPS_H

#include <linux/types.h>

#include "loader.h"
#include "snapshot.h"

/* The tracer's own figures: probe hits, ring-buffer losses, failed updates and reads. */
void tvn_maps__read_stats(const struct tvn_loader *l, struct tvn_snapshot *snap);

/* Pool events and the diagnostic arrays of the flows, components and streams in snap. */
void tvn_maps__read_pool(const struct tvn_loader *l, struct tvn_snapshot *snap);
void tvn_maps__read_diag(const struct tvn_loader *l, struct tvn_snapshot *snap);

/* bench: calls fn for every fine histogram, summed over CPUs. 0 or -ENOMEM. */
typedef void (*tvn_fine_fn)(void *ctx, __u32 flow_idx, __u32 comp_idx,
			    const struct tvn_fine_val *v);
int tvn_maps__read_fine(const struct tvn_loader *l, tvn_fine_fn fn, void *ctx);

/* bench: calls fn for every thread of the target the scheduler programs saw. */
typedef void (*tvn_sched_fn)(void *ctx, __u32 tid, const struct tvn_sched_val *v);
int tvn_maps__read_sched(const struct tvn_loader *l, tvn_sched_fn fn, void *ctx);

/* bench: forgets one stream's peak depth, so that the next peak is the window's. */
void tvn_maps__reset_peak(const struct tvn_loader *l, __u32 flow_idx, __u32 stream_idx);

#endif /* TORVYN_MAPS_H */
