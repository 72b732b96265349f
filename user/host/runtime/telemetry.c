/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The telemetry thread: every few milliseconds it folds the probe semaphores
 * into the words the hot path reads, writes --progress-log, and polls
 * libtorvyn-probes, which announces levels and flushes the metric blocks
 * while a tracer is attached; at each poll it serves the step-record
 * batches (batch.c).
 */
#include <inttypes.h>
#include <stdio.h>

#include "runtime_internal.h"

/* How often the telemetry thread re-reads the probe semaphores. */
#define TVN_PROBE_POLL_NS (5 * 1000000ull)

/*
 * Folds the probe semaphores into the words the hot path reads. hold_off
 * (--ab-period): the hot path runs as at Level 0 whatever is attached, for
 * the half periods that a benchmark compares against.
 */
int tvn_probes__refresh(const struct tvn_host *h, bool hold_off)
{
	int level = tvn_probes__level(h->probes);

#ifndef TORVYN_NO_PROBES
	unsigned int attached = tvn_probes__attached(h->probes);
	int mode = TVN_HOT_EVENTS;

	/* --force-level: a level's in-process cost measured without a tracer */
	if (h->opts.force_level >= 0)
		level = h->opts.force_level;
	if (hold_off || (!level && !(attached & TVN_PROBES_ANY)))
		mode = TVN_HOT_OFF;
	else if (level == TORVYN_LEVEL_PRODUCTION && !(attached & TVN_PROBES_STEP_EVENTS))
		mode = TVN_HOT_LEVEL; /* the production copy of the step: no probe tests */
	__atomic_store_n(&tvn_level, hold_off ? 0 : level, __ATOMIC_RELAXED);
	__atomic_store_n(&tvn_probes_hot, mode, __ATOMIC_RELEASE);
#else
	(void)h;
	(void)hold_off;
#endif
	return level;
}

/*
 * --progress-log: "<CLOCK_MONOTONIC ns> <elements ended> <level> <half>" per
 * tick, so that a benchmark can compare throughput at two levels within one
 * run, free of the run-to-run spread. level is what the hot path runs at;
 * half is 0 in the halves --ab-period holds at Level 0, 1 otherwise.
 */
static void progress_note(struct tvn_host *h, FILE *log, int level, bool on)
{
	uint64_t ended = 0;

	for (int i = 0; i < h->n_flows; i++) {
		for (int j = 0; j < h->flows[i].n_comps; j++)
			ended += __atomic_load_n(&h->flows[i].comps[j].blk->elements_ended,
						 __ATOMIC_RELAXED);
	}
	fprintf(log, "%" PRIu64 " %" PRIu64 " %d %d\n", tvn_mono_ns(), ended, level, on);
}

/* --ab-period: true in the half periods the hot path runs as at Level 0. */
static bool ab_hold_off(struct tvn_host *h)
{
	uint64_t ab = h->opts.ab_period_ms * 1000000ull;
	uint64_t t0 = __atomic_load_n(&h->run_start_ns, __ATOMIC_RELAXED);

	return ab && t0 && ((tvn_now_ns() - t0) / ab) % 2 == 1;
}

void *tvn_telemetry__main(void *arg)
{
	struct tvn_host *h = arg;

	while (!__atomic_load_n(&h->done, __ATOMIC_ACQUIRE)) {
		bool hold_off = ab_hold_off(h);
		int level = tvn_probes__refresh(h, hold_off);

		if (h->progress)
			progress_note(h, h->progress, hold_off ? 0 : level, !hold_off);
		/* announces a new level, serves the batches, flushes when due */
		tvn_probes__poll(h->probes);
		tvn_time__sleep_ns(TVN_PROBE_POLL_NS);
	}
	return NULL;
}
