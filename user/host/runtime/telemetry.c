/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The telemetry thread: every few milliseconds it folds the probe semaphores
 * into the words the hot path reads, writes --progress-log, serves the
 * step-record batches (batch.c), and while a tracer is attached aggregates
 * and flushes the metric blocks.
 */
#include <inttypes.h>
#include <stdio.h>

#include "runtime_internal.h"
#include "torvyn_probes.h"

/* How often the telemetry thread re-reads the probe semaphores. */
#define TVN_PROBE_POLL_NS (5 * 1000000ull)

/*
 * Folds the probe semaphores into the words the hot path reads. hold_off
 * (--ab-period): the hot path runs as at Level 0 whatever is attached, for
 * the half periods that a benchmark compares against.
 */
int tvn_probes__refresh(const struct tvn_host *h, bool hold_off)
{
	int level = torvyn_probes__level();

#ifndef TORVYN_NO_PROBES
	int mode = TVN_HOT_EVENTS;

	/* --force-level: a level's in-process cost measured without a tracer */
	if (h->opts.force_level >= 0)
		level = h->opts.force_level;
	if (hold_off || (!level && !torvyn_probes__any()))
		mode = TVN_HOT_OFF;
	else if (level == TORVYN_LEVEL_PRODUCTION && !torvyn_probes__step_events())
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

/* Tells the tracer the host saw a switch to level. */
static void announce_level(int level)
{
	if (level >= TORVYN_LEVEL_PRODUCTION)
		TORVYN_GATE_PRODUCTION(level);
	if (level >= TORVYN_LEVEL_DIAGNOSTIC)
		TORVYN_GATE_DIAGNOSTIC(level);
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
}

void *tvn_telemetry__main(void *arg)
{
	struct tvn_host *h = arg;
	int last = 0;
	uint64_t next = tvn_now_ns();
	bool due;

	while (!__atomic_load_n(&h->done, __ATOMIC_ACQUIRE)) {
		bool hold_off = ab_hold_off(h);
		int level = tvn_probes__refresh(h, hold_off);

		if (h->progress)
			progress_note(h, h->progress, hold_off ? 0 : level, !hold_off);
		if (level != last) {
			/* a tracer arrived: it gets every block now, not a period later */
			if (level > last)
				next = tvn_now_ns();
			announce_level(level);
			last = level;
		}
		due = tvn_now_ns() >= next;
		tvn_batch__tick(h, due);
		if (due) {
			tvn_clock__tick();
			if (level) {
				tvn_host__aggregate(h);
				tvn_host__flush(h);
			}
			next = tvn_now_ns() + (uint64_t)h->opts.flush_interval_ms * 1000000ull;
		}
		tvn_time__sleep_ns(TVN_PROBE_POLL_NS);
	}
	return NULL;
}
