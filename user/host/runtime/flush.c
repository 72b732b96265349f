/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metric blocks (include/torvyn_abi.h, docs/metrics.md): flow and system
 * blocks derived from the component and stream blocks, and the flush that
 * hands every block to the tracer through the metrics__flush probe.
 */
#include <string.h>

#include "runtime_internal.h"
#include "torvyn_probes.h"

/* What the system block sums over the flows. */
struct sys_sums {
	uint64_t flows_active, comps_active, wakeups, idle, dropped;
};

/* The flow block from its components' blocks; adds to the system's sums. */
static void flow_aggregate(struct tvn_flow *f, struct sys_sums *sum)
{
	struct torvyn_flow_block *fb = f->blk;
	uint64_t total = 0, errors = 0, tr = 0, trb = 0;
	uint64_t copies[TORVYN_COPY_REASONS] = {0}, cbytes[TORVYN_COPY_REASONS] = {0};
	struct torvyn_hist_lat lat = {0};

	for (int j = 0; j < f->n_streams; j++)
		tvn_hist_lat__settle(&f->streams[j].blk->wait_time, &f->streams[j].wait_ticks);
	for (int j = 0; j < f->n_comps; j++) {
		struct torvyn_component_block *cb = f->comps[j].blk;

		/* the hot path sums in clock ticks: the blocks hold ns */
		tvn_hist_lat__settle(&cb->processing_time, &f->comps[j].proc_ticks);
		tvn_hist_lat__settle(&cb->e2e_latency, &f->comps[j].e2e_ticks);

		total += cb->elements_ended;
		errors += cb->errors;
		tr += cb->transfers_in;
		trb += cb->transfers_in_bytes;
		sum->wakeups += cb->wakeups;
		sum->idle += cb->idle_ns;
		for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
			copies[r] += cb->copies_total[r];
			cbytes[r] += cb->copies_bytes[r];
		}
		for (int k = 0; k < TORVYN_LAT_BUCKETS; k++)
			lat.bucket[k] += cb->e2e_latency.bucket[k];
		lat.sum_ns += cb->e2e_latency.sum_ns;
		lat.count += cb->e2e_latency.count;
	}
	/* a stream's drops ended at the producer: counted in its elements_ended */
	/* each field only grows, so a reader never sees a counter go back */
	fb->elements_total = total;
	fb->elements_errors = errors;
	memcpy(fb->copies_total, copies, sizeof(copies));
	memcpy(fb->copies_bytes, cbytes, sizeof(cbytes));
	fb->transfers_total = tr;
	fb->transfers_bytes = trb;
	fb->latency = lat;
	sum->dropped += __atomic_load_n(&fb->spans_dropped, __ATOMIC_RELAXED);
	if (fb->state == TORVYN_FLOW_RUNNING || fb->state == TORVYN_FLOW_DRAINING) {
		sum->flows_active++;
		sum->comps_active += f->n_comps;
	}
}

void tvn_host__aggregate(struct tvn_host *h)
{
	struct torvyn_system_block *sys = h->sys;
	struct sys_sums sum = {0};

	for (int i = 0; i < h->n_flows; i++)
		flow_aggregate(&h->flows[i], &sum);
	tvn_pool__snapshot(&h->pool, h->pool_blk);
	sys->flows_active = sum.flows_active;
	sys->components_active = sum.comps_active;
	sys->memory_total = tvn_pool__memory(&h->pool);
	sys->scheduler_wakeups = sum.wakeups;
	sys->scheduler_idle_ns = sum.idle;
	sys->spans_dropped = sum.dropped;
}

static void flush_block(void *blk)
{
	struct torvyn_block_hdr *hdr = blk;

	hdr->flushes++;
	TORVYN_METRICS_FLUSH(blk, hdr->size, hdr->kind);
}

void tvn_host__flush(struct tvn_host *h)
{
	if (!TORVYN_METRICS_FLUSH_ENABLED())
		return;
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		for (int j = 0; j < f->n_comps; j++)
			flush_block(f->comps[j].blk);
		for (int j = 0; j < f->n_streams; j++)
			flush_block(f->streams[j].blk);
		flush_block(f->blk);
	}
	flush_block(h->pool_blk);
	flush_block(h->sys);
}
