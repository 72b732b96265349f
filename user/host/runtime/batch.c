/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Step-record batches, the telemetry thread's side. At Level 2 each
 * component thread appends its step records to its own batch and fires
 * component__batch per TORVYN_BATCH_RECS records (step_batch.h). What a full
 * batch does not cover is done here:
 *
 * - at each flush interval, a flush request (batch_gen) that every thread
 *   serves at its next step; the batch of a thread that waits (parked) is
 *   flushed by this thread for it, so an idle component's records are not
 *   held back;
 * - gate__drain, raised by a tracer about to detach the diagnostic level:
 *   batching stops, a request goes out, and once every thread has served it
 *   batch__drained fires. The tracer detaches only then, so no record is
 *   left in a batch the probe can no longer carry.
 *
 * The ownership word (batch_state) keeps the two threads off one batch: the
 * component thread owns it (OWN) except while it waits (PARK), and this
 * thread flushes a parked batch only after taking it (TAKEN).
 */
#include "runtime_internal.h"
#include "torvyn_probes.h"

/* A drain's answer: the threads serve it within a step; polled this often, this many times. */
#define TVN_DRAIN_POLL_NS 100000ull
#define TVN_DRAIN_POLLS 40

void tvn_batch__fire(struct tvn_comp *c)
{
	struct tvn_batch *b = c->batch;

	if (!b->n)
		return;
	/* counted only when a probe takes them: what --summary compares with */
	if (TORVYN_COMPONENT_BATCH_ENABLED()) {
		TORVYN_COMPONENT_BATCH(b->rec, b->n);
		c->batch_records += b->n;
	}
	b->n = 0;
}

/* True when c has served request gen, flushing its batch for it if it waits. */
static bool batch_served(struct tvn_comp *c, uint32_t gen)
{
	int want = TVN_BATCH_PARK;

	if (__atomic_load_n(&c->batch_done, __ATOMIC_ACQUIRE) == gen)
		return true;
	/* sequentially consistent with the request: see batch_open (step_batch.h) */
	if (!__atomic_compare_exchange_n(&c->batch_state, &want, TVN_BATCH_TAKEN, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return want == TVN_BATCH_NONE; /* no batch (yet, or any more): nothing held */
	tvn_batch__fire(c);
	__atomic_store_n(&c->batch_done, gen, __ATOMIC_RELAXED);
	__atomic_store_n(&c->batch_state, TVN_BATCH_PARK, __ATOMIC_RELEASE);
	return true;
}

/* Every thread served request gen (the waiting ones' batches flushed here). */
static bool all_served(struct tvn_host *h, uint32_t gen)
{
	bool served = true;

	for (int i = 0; i < h->n_flows; i++) {
		for (int j = 0; j < h->flows[i].n_comps; j++)
			served &= batch_served(&h->flows[i].comps[j], gen);
	}
	return served;
}

/*
 * Threads batch while component__batch is attached, unless a drain is on. A
 * tracer's diagnostic link raises gate__diagnostic after its batch site, so
 * with the production gate up batching waits for that gate: no record is
 * handed to a site whose breakpoint is not in yet. bpftrace alone raises no
 * gate.
 */
static bool batch_wanted(const struct tvn_host *h, bool drain)
{
	/* --force-level 2: the batching's in-process cost, with nothing to fire to */
	if (h->opts.force_level >= TORVYN_LEVEL_DIAGNOSTIC)
		return true;
	return TORVYN_COMPONENT_BATCH_ENABLED() && !drain &&
	       (TORVYN_GATE_DIAGNOSTIC_ENABLED() || !TORVYN_GATE_PRODUCTION_ENABLED());
}

void tvn_batch__refresh(struct tvn_host *h)
{
	__atomic_store_n(&h->batch_on, batch_wanted(h, TORVYN_GATE_DRAIN_ENABLED()),
			 __ATOMIC_RELAXED);
}

void tvn_batch__tick(struct tvn_host *h, bool interval)
{
	bool drain = TORVYN_GATE_DRAIN_ENABLED() != 0, on = batch_wanted(h, drain), served;
	bool was_on = __atomic_load_n(&h->batch_on, __ATOMIC_RELAXED);
	uint32_t gen = h->batch_gen; /* written by this thread only */

	/*
	 * batch_on before the request: a thread that sees the request (acquire)
	 * sees batching off too, so after serving a drain it appends nothing.
	 */
	__atomic_store_n(&h->batch_on, on, __ATOMIC_RELAXED);
	if ((drain && !h->batch_draining) || (was_on && !on) || (interval && !drain))
		__atomic_store_n(&h->batch_gen, ++gen, __ATOMIC_SEQ_CST);
	/* like every gate, it fires once seen: its site is where the tracer finds it */
	if (drain && !h->batch_draining)
		TORVYN_GATE_DRAIN(gen);
	/* a tracer waits on a drain: answered within the tick, not a tick later */
	served = all_served(h, gen);
	for (int k = 0; drain && !served && k < TVN_DRAIN_POLLS; k++) {
		tvn_time__sleep_ns(TVN_DRAIN_POLL_NS);
		served = all_served(h, gen);
	}
	h->batch_draining = drain;
	/* repeated while the gate is up: any tracer that raised it hears one */
	if (drain && served && TORVYN_BATCH_DRAINED_ENABLED())
		TORVYN_BATCH_DRAINED(gen);
}
