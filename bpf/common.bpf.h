/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by every probe family: the maps all families use (declared __weak so
 * each family object can name them and `bpftool gen object` links one copy),
 * the tracer's own counters and the Torvyn histogram bucketing.
 */
#ifndef TORVYN_COMMON_BPF_H
#define TORVYN_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "torvyn_abi.h"
#include "torvyn_bpf.h"

#define TVN_RINGBUF_BYTES (8 << 20)

/* Records for the tracer: metric blocks, promoted traces, flow events. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TVN_RINGBUF_BYTES);
} events SEC(".maps") __weak;

/* Per stream: depth, waits (from step records) and backpressure (own probes). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TORVYN_MAX_FLOWS * TORVYN_MAX_STREAMS);
	__type(key, __u32);
	__type(value, struct tvn_queue_val);
} queues SEC(".maps") __weak;

/* The tracer's own counters: hits per probe, lost records, failed updates. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TVN_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") __weak;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/*
 * Index of the first bound of torvyn_abi.h >= ns (a value equal to a bound
 * is in its bucket). An unrolled scan against immediates: no loads, and the
 * step times and waits of a busy pipeline end it in its first few compares
 * (twice per step record at Level 2, so it counts).
 */
static __always_inline __u32 lat_bucket(__u64 ns)
{
	__u32 b = 0;

#define TVN__LAT_BUCKET_STEP(v)                                                                    \
	if (ns <= (v))                                                                             \
		return b;                                                                          \
	b++;
	TORVYN_LAT_BOUND_LIST(TVN__LAT_BUCKET_STEP)
#undef TVN__LAT_BUCKET_STEP
	return b;
}

static __always_inline void hist_add(struct torvyn_hist_lat *h, __u64 ns)
{
	__u32 b = lat_bucket(ns);

	if (b < TORVYN_LAT_BUCKETS)
		h->bucket[b]++;
	h->sum_ns += ns;
	h->count++;
}

static __always_inline long arg(struct pt_regs *ctx, __u64 n)
{
	long v = 0;

	bpf_usdt_arg(ctx, n, &v);
	return v;
}

/* The family handlers, each in its own object, linked by bpftool gen object. */
extern int tvn_handle_metrics(struct pt_regs *ctx, __u32 probe);
extern int tvn_handle_invoke(struct pt_regs *ctx, __u32 probe);
extern int tvn_handle_queue(struct pt_regs *ctx, __u32 probe);
extern int tvn_handle_pool(struct pt_regs *ctx, __u32 probe);


#endif /* TORVYN_COMMON_BPF_H */
