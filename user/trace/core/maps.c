// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"
#include "torvyn.skel.h"

/* Per-CPU values are laid out 8-byte aligned, one per possible CPU. */
#define STRIDE(type) ((sizeof(type) + 7) & ~(size_t)7)

/* Sums the per-CPU copies of a value made only of __u64 counters. */
static void sum_u64(void *dst, const void *percpu, size_t value_size, int ncpus)
{
	size_t stride = (value_size + 7) & ~(size_t)7, n = value_size / 8;
	__u64 *d = dst;

	memset(dst, 0, value_size);
	for (int c = 0; c < ncpus; c++) {
		const __u64 *v = (const void *)((const char *)percpu + c * stride);

		for (size_t i = 0; i < n; i++)
			d[i] += v[i];
	}
}

/* Looks one slot of a per-CPU array up; vals holds ncpus values. */
static int percpu_lookup(struct bpf_map *map, __u32 slot, void *vals)
{
	return bpf_map_lookup_elem(bpf_map__fd(map), &slot, vals) ? -errno : 0;
}

static void add_transfer(struct tvn_snapshot *snap, __u32 flow, __u32 from, __u32 to,
			 const struct tvn_invoke_val *v)
{
	struct tvn_snap_transfer *t =
	    realloc(snap->transfers, (snap->n_transfers + 1) * sizeof(*t));

	if (!t)
		return;
	snap->transfers = t;
	t += snap->n_transfers++;
	t->flow_idx = flow;
	t->from_idx = from;
	t->to_idx = to;
	t->val.count = v->transfers_in;
	t->val.bytes = v->transfer_bytes;
}

static void read_comp_diag(const struct tvn_loader *l, struct tvn_snapshot *snap, __u32 f, __u32 j,
			   void *vals)
{
	struct torvyn_bpf *skel = tvn_loader__skel(l);
	int ncpus = tvn_loader__ncpus(l);
	struct tvn_snap_comp *c = &snap->flows[f].comps[j];
	struct tvn_invoke_val sum;
	__u64 from = 0;

	if (percpu_lookup(skel->maps.invokes, TVN_COMP_SLOT(f, j), vals))
		return;
	sum_u64(&sum, vals, sizeof(sum), ncpus);
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct tvn_invoke_val *v =
		    (const void *)((const char *)vals + cpu * STRIDE(struct tvn_invoke_val));

		if (v->transfers_in)
			from = v->from_idx; /* an index, not a counter: never summed */
	}
	sum.from_idx = from;
	if (!sum.invocations)
		return;
	c->has_diag = true;
	c->diag = sum;
	/* labelled by names: only components whose blocks (names) have arrived */
	if (sum.transfers_in && from < TORVYN_MAX_COMPONENTS && snap->flows[f].comps[from].present)
		add_transfer(snap, f, (__u32)from, j, &sum);
	for (__u32 r = 0; r < TORVYN_COPY_REASONS; r++) {
		if (!percpu_lookup(skel->maps.copies, TVN_COPY_SLOT(f, j, r), vals))
			sum_u64(&c->diag_copies[r], vals, sizeof(struct tvn_count_val), ncpus);
	}
}

static void read_stream_diag(const struct tvn_loader *l, struct tvn_snapshot *snap, __u32 f,
			     __u32 k, void *vals)
{
	int ncpus = tvn_loader__ncpus(l);
	struct tvn_queue_val q;
	__u64 newest = 0;

	if (percpu_lookup(tvn_loader__skel(l)->maps.queues, TVN_STREAM_SLOT(f, k), vals))
		return;
	sum_u64(&q, vals, sizeof(q), ncpus);
	/* depth is a gauge: the newest CPU's; the peak is the highest of any CPU's */
	q.depth = q.depth_ts = q.peak_depth = 0;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct tvn_queue_val *v =
		    (const void *)((const char *)vals + cpu * STRIDE(struct tvn_queue_val));

		if (v->depth_ts >= newest && (v->enqueues || v->dequeues)) {
			newest = v->depth_ts;
			q.depth = v->depth;
		}
		if (v->peak_depth > q.peak_depth)
			q.peak_depth = v->peak_depth;
	}
	q.depth_ts = newest;
	if (!q.enqueues && !q.dequeues && !q.bp_events && !q.bp_duration.count)
		return;
	snap->flows[f].streams[k].has_diag = true;
	snap->flows[f].streams[k].diag = q;
}

/*
 * Only for the flows, components and streams whose blocks have arrived:
 * aggregates are keyed by index, series are labelled by name, and a series
 * must not change its labels once the names arrive.
 */
void tvn_maps__read_diag(const struct tvn_loader *l, struct tvn_snapshot *snap)
{
	size_t biggest = STRIDE(struct tvn_queue_val) > STRIDE(struct tvn_invoke_val)
			     ? STRIDE(struct tvn_queue_val)
			     : STRIDE(struct tvn_invoke_val);
	void *vals = calloc(tvn_loader__ncpus(l), biggest);

	if (!vals)
		return;
	for (int f = 0; f < snap->n_flows; f++) {
		if (!snap->flows[f].present)
			continue;
		for (int j = 0; j < TORVYN_MAX_COMPONENTS; j++) {
			if (snap->flows[f].comps[j].present)
				read_comp_diag(l, snap, f, j, vals);
		}
		for (int k = 0; k < TORVYN_MAX_STREAMS; k++) {
			if (snap->flows[f].streams[k].present)
				read_stream_diag(l, snap, f, k, vals);
		}
	}
	free(vals);
}

void tvn_maps__read_stats(const struct tvn_loader *l, struct tvn_snapshot *snap)
{
	int fd = bpf_map__fd(tvn_loader__skel(l)->maps.stats), ncpus = tvn_loader__ncpus(l);
	__u64 *vals = calloc(ncpus, sizeof(__u64));

	if (!vals)
		return;
	for (__u32 i = 0; i < TVN_STAT_COUNT; i++) {
		__u64 total = 0;

		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			total += vals[c];
		if (i < TVN_P_COUNT)
			snap->probe_hits[i] = total;
		else if (i == TVN_STAT_RB_LOST)
			snap->events_lost = total;
		else if (i == TVN_STAT_MAP_FULL)
			snap->map_full = total;
		else if (i == TVN_STAT_READ_FAIL)
			snap->read_fail = total;
		else if (i == TVN_STAT_TRACE_FILTERED)
			snap->traces_filtered = total;
	}
	free(vals);
}

void tvn_maps__read_pool(const struct tvn_loader *l, struct tvn_snapshot *snap)
{
	int fd = bpf_map__fd(tvn_loader__skel(l)->maps.pools), ncpus = tvn_loader__ncpus(l);
	char *vals = calloc(ncpus, STRIDE(struct tvn_pool_val));

	if (!vals)
		return;
	for (__u32 t = 0; t < TORVYN_TIERS; t++) {
		struct tvn_pool_val *p = &snap->diag_pool[t];

		if (bpf_map_lookup_elem(fd, &t, vals))
			continue;
		sum_u64(p, vals, sizeof(*p), ncpus);
		if (p->allocs || p->returns || p->fallbacks || p->exhaustions)
			snap->has_diag_pool = true;
	}
	free(vals);
}

int tvn_maps__read_fine(const struct tvn_loader *l, tvn_fine_fn fn, void *ctx)
{
	int fd = bpf_map__fd(tvn_loader__skel(l)->maps.fine), ncpus = tvn_loader__ncpus(l);
	struct tvn_comp_key key, next;
	struct tvn_fine_val *sum = malloc(sizeof(*sum));
	char *vals = calloc(ncpus, STRIDE(struct tvn_fine_val));
	bool first = true;

	if (!sum || !vals) {
		free(sum);
		free(vals);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		sum_u64(sum, vals, sizeof(*sum), ncpus);
		sum->max = 0; /* a maximum, not a counter */
		for (int c = 0; c < ncpus; c++) {
			const struct tvn_fine_val *v =
			    (const void *)(vals + c * STRIDE(struct tvn_fine_val));

			if (v->max > sum->max)
				sum->max = v->max;
		}
		fn(ctx, key.flow_idx, key.comp_idx, sum);
	}
	free(sum);
	free(vals);
	return 0;
}

int tvn_maps__read_sched(const struct tvn_loader *l, tvn_sched_fn fn, void *ctx)
{
	int fd = bpf_map__fd(tvn_loader__skel(l)->maps.sched);
	__u32 key, next;
	struct tvn_sched_val v;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &v))
			fn(ctx, key, &v);
	}
	return 0;
}

void tvn_maps__reset_peak(const struct tvn_loader *l, __u32 flow_idx, __u32 stream_idx)
{
	int fd = bpf_map__fd(tvn_loader__skel(l)->maps.queues), ncpus = tvn_loader__ncpus(l);
	char *vals = calloc(ncpus, STRIDE(struct tvn_queue_val));
	__u32 slot = TVN_STREAM_SLOT(flow_idx, stream_idx);

	if (!vals)
		return;
	if (!bpf_map_lookup_elem(fd, &slot, vals)) {
		/* a racing update may be lost: it only lowers this one peak */
		for (int c = 0; c < ncpus; c++)
			((struct tvn_queue_val *)(vals + c * STRIDE(struct tvn_queue_val)))
			    ->peak_depth = 0;
		bpf_map_update_elem(fd, &slot, vals, BPF_ANY);
	}
	free(vals);
}
