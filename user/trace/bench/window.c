// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The report of a window: the difference of the samples that frame it
 * (sample.c). Counters are subtracted, histograms subtracted bucket by
 * bucket before their quantiles are read.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

_Static_assert(TVN_BENCH_HIST_BUCKETS == TVN_FINE_BUCKETS, "bench histograms are the fine ones");

/* The end-to-end latency of all flows, summed over the window. */
struct e2e {
	uint64_t d[TVN_FINE_BUCKETS];
	uint64_t count, sum, max;
	bool seen; /* the step records carried end-to-end latencies at all */
};

/* The tids of the host's component threads, named "torvyn/F/C" by the host. */
static int component_tid(int pid, int flow, int comp)
{
	char path[320], want[16], comm[32];
	struct dirent *de;
	DIR *d;
	int tid = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	snprintf(want, sizeof(want), "torvyn/%u/%u", (unsigned int)flow & 0xff,
		 (unsigned int)comp & 0xf);
	d = opendir(path);
	if (!d)
		return 0;
	while (!tid && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.255s/comm", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (!strcmp(comm, want))
				tid = atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return tid;
}

/* ------------------------------------------------------------ histograms */

static void fine_delta(const struct tvn_fine_val *b, const struct tvn_fine_val *a, uint64_t *out,
		       uint64_t *count, uint64_t *sum)
{
	for (int i = 0; i < TVN_FINE_BUCKETS; i++)
		out[i] = b->bucket[i] - a->bucket[i];
	*count = b->count - a->count;
	*sum = b->sum - a->sum;
}

/* The largest value seen in the window: the top of its highest bucket, capped by the max. */
static double window_max_us(const uint64_t *d, uint64_t max_ns)
{
	for (int i = TVN_FINE_BUCKETS - 1; i >= 0; i--) {
		if (d[i]) {
			uint64_t hi =
			    i + 1 < TVN_FINE_BUCKETS ? tvn_bench_hist__lower(i + 1) : max_ns;

			return (double)(hi < max_ns ? hi : max_ns) / 1e3;
		}
	}
	return 0;
}

/*
 * Quantile q of d in microseconds. One interpolated inside the highest bucket
 * can land above the largest value actually seen: none is above max_us.
 */
static double quantile_us(const uint64_t *d, double q, double max_us)
{
	double us = tvn_bench_hist__quantile(d, q) / 1e3;

	return us > max_us ? max_us : us;
}

static const struct tvn_fine_val *fine_of(const struct tvn_bench_sample *sm, int flow, int comp)
{
	return &sm->fine[flow * TVN_BENCH_FINE_PER_FLOW + comp];
}

/* ------------------------------------------------------------ components and streams */

static void name_of(char *buf, const char *src)
{
	snprintf(buf, TVN_BENCH_NAME_LEN, "%.*s", TVN_BENCH_NAME_LEN - 1, src);
}

/* Latency of component j of flow f: its fine histogram over the window. */
static void component_latency(struct tvn_bench_component *bc, const struct tvn_bench_sample *a,
			      const struct tvn_bench_sample *b, int f, int j, double flow_mean_us)
{
	const struct tvn_fine_val *fv = fine_of(b, f, j);
	uint64_t d[TVN_FINE_BUCKETS], cnt, sum;

	fine_delta(fv, fine_of(a, f, j), d, &cnt, &sum);
	bc->max_us = window_max_us(d, fv->max);
	bc->p50_us = quantile_us(d, 0.50, bc->max_us);
	bc->p99_us = quantile_us(d, 0.99, bc->max_us);
	bc->mean_us = cnt ? (double)sum / cnt / 1e3 : 0;
	if (flow_mean_us > 0)
		bc->share_pct = bc->mean_us / flow_mean_us * 100;
}

/* Scheduling of the component's thread, when the host named it. */
static void component_sched(struct tvn_bench_component *bc, const struct tvn_bench_sample *a,
			    const struct tvn_bench_sample *b, int pid, int f, int j)
{
	int tid = component_tid(pid, f, j);
	const struct tvn_sched_val *sb = tid ? tvn_bench_sample__thread(b, tid) : NULL;
	const struct tvn_sched_val *sa = tid ? tvn_bench_sample__thread(a, tid) : NULL;

	if (!sb)
		return;
	bc->wakeups = sb->wakeups - (sa ? sa->wakeups : 0);
	bc->idle_s = (double)(sb->offcpu_ns - (sa ? sa->offcpu_ns : 0)) / 1e9;
	bc->cpu_s = (double)(sb->oncpu_ns - (sa ? sa->oncpu_ns : 0)) / 1e9;
}

/* Stream sb over the window; sa is where it stood at the start (NULL: nowhere). */
static void stream_delta(struct tvn_bench_stream *bs, const struct tvn_snap_stream *sa,
			 const struct tvn_snap_stream *sb)
{
	bool had = sa && sa->present;
	uint64_t enq, dsum;

	enq = sb->diag.enqueues - (sa ? sa->diag.enqueues : 0);
	dsum = sb->diag.depth_sum - (sa ? sa->diag.depth_sum : 0);
	bs->mean_depth = enq ? (double)dsum / enq : 0;
	/* the window's peak (the BPF peaks were reset when it began), else the run's */
	bs->peak_depth = sb->has_diag ? sb->diag.peak_depth : sb->blk.peak_depth;
	bs->capacity = sb->blk.capacity;
	bs->backpressure_events =
	    sb->blk.backpressure_events - (had ? sa->blk.backpressure_events : 0);
	bs->backpressure_s = (double)(sb->blk.backpressure_duration_ns -
				      (had ? sa->blk.backpressure_duration_ns : 0)) /
			     1e9;
	bs->elements = sb->blk.elements_transferred - (had ? sa->blk.elements_transferred : 0);
}

/* Component j of flow f (present in b) as the next entry of r->comps. */
static void add_component(struct tvn_bench_report *r, const struct tvn_bench_sample *a,
			  const struct tvn_bench_sample *b, int f, int j, double flow_mean_us)
{
	const struct tvn_snap_flow *fb = &b->snap.flows[f];
	const struct tvn_snap_comp *cb = &fb->comps[j];
	const struct tvn_snap_comp *ca = f < a->snap.n_flows ? &a->snap.flows[f].comps[j] : NULL;
	bool had = ca && ca->present;
	struct tvn_bench_component *bc = &r->comps[r->n_comps++];

	name_of(bc->flow, fb->blk.hdr.name);
	name_of(bc->component, cb->blk.hdr.name);
	bc->invocations = cb->blk.invocations - (had ? ca->blk.invocations : 0);
	bc->errors = cb->blk.errors - (had ? ca->blk.errors : 0);
	component_latency(bc, a, b, f, j, flow_mean_us);
	component_sched(bc, a, b, r->pid, f, j);
	r->total_wakeups += bc->wakeups;
	r->total_idle_s += bc->idle_s;
}

/* Stream k of flow f (present in b) as the next entry of r->streams. */
static void add_stream(struct tvn_bench_report *r, const struct tvn_bench_sample *a,
		       const struct tvn_bench_sample *b, int f, int k)
{
	const struct tvn_snap_flow *fb = &b->snap.flows[f];
	struct tvn_bench_stream *bs = &r->streams[r->n_streams++];

	name_of(bs->flow, fb->blk.hdr.name);
	name_of(bs->stream, fb->streams[k].blk.hdr.name);
	stream_delta(bs, f < a->snap.n_flows ? &a->snap.flows[f].streams[k] : NULL,
		     &fb->streams[k]);
	r->backpressure_events += bs->backpressure_events;
	if (bs->peak_depth > r->queue_peak ||
	    (bs->peak_depth == r->queue_peak && !r->queue_capacity)) {
		r->queue_peak = bs->peak_depth;
		r->queue_capacity = bs->capacity;
	}
}

/* Room in r for the components and streams present in b. 0 or -ENOMEM. */
static int alloc_members(struct tvn_bench_report *r, const struct tvn_snapshot *b)
{
	size_t n_comps = 0, n_streams = 0;

	for (int f = 0; f < b->n_flows; f++) {
		for (int i = 0; b->flows[f].present && i < TORVYN_MAX_COMPONENTS; i++)
			n_comps += b->flows[f].comps[i].present;
		for (int i = 0; b->flows[f].present && i < TORVYN_MAX_STREAMS; i++)
			n_streams += b->flows[f].streams[i].present;
	}
	r->comps = n_comps ? calloc(n_comps, sizeof(*r->comps)) : NULL;
	r->streams = n_streams ? calloc(n_streams, sizeof(*r->streams)) : NULL;
	return (n_comps && !r->comps) || (n_streams && !r->streams) ? -ENOMEM : 0;
}

/* The components and streams of the present flows of b, in flow and index order. */
static int add_members(struct tvn_bench_report *r, const struct tvn_bench_sample *a,
		       const struct tvn_bench_sample *b, const double *flow_mean_us)
{
	int err = alloc_members(r, &b->snap);

	for (int f = 0; !err && f < b->snap.n_flows; f++) {
		const struct tvn_snap_flow *fb = &b->snap.flows[f];

		for (int j = 0; fb->present && j < TORVYN_MAX_COMPONENTS; j++)
			if (fb->comps[j].present)
				add_component(r, a, b, f, j, flow_mean_us[f]);
		for (int k = 0; fb->present && k < TORVYN_MAX_STREAMS; k++)
			if (fb->streams[k].present)
				add_stream(r, a, b, f, k);
	}
	return err;
}

/* The component with the highest mean (the first of equals) is the slowest. */
static void name_slowest(struct tvn_bench_report *r)
{
	double worst = -1;

	for (int i = 0; i < r->n_comps; i++) {
		const struct tvn_bench_component *bc = &r->comps[i];

		if (bc->mean_us > worst) {
			worst = bc->mean_us;
			snprintf(r->slowest, sizeof(r->slowest), "%s/%s", bc->flow, bc->component);
		}
	}
}

/* ------------------------------------------------------------ flows */

/* Elements, source bytes and copies of flow fb over the window; fa where it stood (or NULL). */
static void flow_counts(struct tvn_bench_report *r, const struct tvn_snap_flow *fa,
			const struct tvn_snap_flow *fb)
{
	bool had = fa && fa->present;

	r->elements += fb->blk.elements_total - (had ? fa->blk.elements_total : 0);
	for (int j = 0; j < TORVYN_MAX_COMPONENTS; j++) {
		const struct tvn_snap_comp *cb = &fb->comps[j];

		if (cb->present && cb->blk.role == TORVYN_ROLE_SOURCE)
			r->bytes += cb->blk.bytes_out -
				    (fa && fa->comps[j].present ? fa->comps[j].blk.bytes_out : 0);
	}
	for (int c = 0; c < TORVYN_COPY_REASONS; c++) {
		r->copies[c] += fb->blk.copies_total[c] - (had ? fa->blk.copies_total[c] : 0);
		r->copy_bytes[c] += fb->blk.copies_bytes[c] - (had ? fa->blk.copies_bytes[c] : 0);
	}
}

/* Adds flow f's end-to-end latency to e; returns the flow's mean in µs. */
static double flow_latency(struct e2e *e, const struct tvn_bench_sample *a,
			   const struct tvn_bench_sample *b, int f)
{
	const struct tvn_fine_val *vb = fine_of(b, f, TORVYN_MAX_COMPONENTS);
	uint64_t d[TVN_FINE_BUCKETS], cnt, sum;

	fine_delta(vb, fine_of(a, f, TORVYN_MAX_COMPONENTS), d, &cnt, &sum);
	for (int i = 0; i < TVN_FINE_BUCKETS; i++)
		e->d[i] += d[i];
	e->count += cnt;
	e->sum += sum;
	e->seen |= vb->count > 0;
	if (vb->max > e->max)
		e->max = vb->max;
	return cnt ? (double)sum / cnt / 1e3 : 0;
}

static void report_latency(struct tvn_bench_report *r, const struct e2e *e)
{
	r->latency_samples = e->count;
	r->max_us = window_max_us(e->d, e->max);
	r->p50_us = quantile_us(e->d, 0.50, r->max_us);
	r->p90_us = quantile_us(e->d, 0.90, r->max_us);
	r->p95_us = quantile_us(e->d, 0.95, r->max_us);
	r->p99_us = quantile_us(e->d, 0.99, r->max_us);
	r->p999_us = quantile_us(e->d, 0.999, r->max_us);
	r->mean_us = e->count ? (double)e->sum / e->count / 1e3 : 0;
}

static void report_pool(struct tvn_bench_report *r, const struct tvn_snapshot *a,
			const struct tvn_snapshot *b)
{
	if (b->have_pool) {
		for (int t = 0; t < TORVYN_TIERS; t++) {
			r->pool_hits += b->pool.tier[t].allocated -
					(a->have_pool ? a->pool.tier[t].allocated : 0);
			r->fallback_allocs += b->pool.tier[t].fallback_count -
					      (a->have_pool ? a->pool.tier[t].fallback_count : 0);
		}
	}
	r->buffer_allocs = r->pool_hits + r->fallback_allocs;
	r->pool_reuse_pct = r->buffer_allocs ? 100.0 * r->pool_hits / r->buffer_allocs : 0;
}

int tvn_bench_report__add_window(struct tvn_bench_report *r, const struct tvn_bench_mark *a,
				 const struct tvn_bench_mark *b)
{
	uint64_t d[TVN_BENCH_HIST_BUCKETS], n = b->count - a->count, hi = 0;
	double secs = (double)(b->mono_ns - a->mono_ns) / 1e9;
	struct tvn_bench_window *w;

	if (!(r->n_windows & (r->n_windows - 1))) {
		/* at 0, 1, 2, 4, ...: room for as many again */
		w = realloc(r->windows, sizeof(*w) * (size_t)(r->n_windows ? 2 * r->n_windows : 1));
		if (!w)
			return -ENOMEM;
		r->windows = w;
	}
	for (int i = 0; i < TVN_BENCH_HIST_BUCKETS; i++) {
		d[i] = b->d[i] - a->d[i];
		if (d[i])
			hi = tvn_bench_hist__lower(i + 1);
	}
	w = &r->windows[r->n_windows++];
	w->elements_per_sec = secs > 0 ? n / secs : 0;
	/* capped by the top of the highest bucket used, as the report's p99 is */
	w->p99_us = n ? quantile_us(d, 0.99, hi / 1e3) : NAN;
	return 0;
}

int tvn_bench_report__build(struct tvn_bench_report *r, const struct tvn_bench_sample *a,
			    const struct tvn_bench_sample *b)
{
	double flow_mean_us[TORVYN_MAX_FLOWS] = {0};
	struct e2e *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	r->duration_s = (double)(b->mono_ns - a->mono_ns) / 1e9;
	for (int f = 0; f < b->snap.n_flows; f++) {
		if (!b->snap.flows[f].present)
			continue;
		flow_counts(r, f < a->snap.n_flows ? &a->snap.flows[f] : NULL, &b->snap.flows[f]);
		flow_mean_us[f] = flow_latency(e, a, b, f);
	}
	for (int c = 0; c < TORVYN_COPY_REASONS; c++) {
		r->total_copies += r->copies[c];
		r->total_copy_bytes += r->copy_bytes[c];
	}
	/*
	 * Elements that completed in the window: counted by the step records,
	 * live at both ends, where the host's blocks lag by up to a flush
	 * interval. The blocks only when there are no step records.
	 */
	if (e->seen)
		r->elements = e->count;
	r->elements_per_sec = r->duration_s > 0 ? r->elements / r->duration_s : 0;
	r->bytes_per_sec = r->duration_s > 0 ? r->bytes / r->duration_s : 0;
	report_latency(r, e);
	free(e);
	report_pool(r, &a->snap, &b->snap);
	rc = add_members(r, a, b, flow_mean_us);
	name_slowest(r);
	return rc;
}
