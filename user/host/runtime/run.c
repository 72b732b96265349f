/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Running the flows: a thread per component (step.c), the telemetry thread
 * (telemetry.c), and the flows' states and the final flush when all is done.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime_internal.h"
#include "torvyn_probes.h"

void tvn_host__stop(struct tvn_host *h, bool interrupted)
{
	uint64_t one = 1;
	int saved = errno;
	ssize_t n;

	if (interrupted)
		h->interrupted = 1;
	h->stop = 1;
	/* the flags first: whoever the descriptor wakes reads them */
	if (h->stop_fd >= 0) {
		n = write(h->stop_fd, &one, sizeof(one));
		(void)n; /* a full counter is raised already */
	}
	errno = saved;
}

static void wait_for_tracer(struct tvn_host *h)
{
	while (!h->stop && !TORVYN_GATE_PRODUCTION_ENABLED())
		tvn_time__sleep_ns(1000000ull);
	/* the tracer raised the gates last: everything it attaches is in place */
	TORVYN_GATE_PRODUCTION(tvn_probes__refresh(h, false));
}

/* A thread for component j of flow f, flow index i; on failure the host exits. */
static void comp_start(struct tvn_host *h, struct tvn_flow *f, int i, int j)
{
	char name[16];
	int rc;

	__atomic_add_fetch(&h->running, 1, __ATOMIC_ACQ_REL);
	rc = pthread_create(&f->comps[j].thread, NULL, tvn_comp__main, &f->comps[j]);
	if (rc) {
		/* half a flow cannot drain: there is nothing sane to go on with */
		fprintf(stderr, "torvyn-host: cannot start a thread for %s/%s: %s\n", f->cfg->id,
			f->comps[j].cfg->id, strerror(rc));
		_exit(1);
	}
	/* "torvyn/F/C": tools (bench) map threads to components */
	snprintf(name, sizeof(name), "torvyn/%u/%u", (unsigned int)i & 0xff, (unsigned int)j & 0xf);
	pthread_setname_np(f->comps[j].thread, name);
}

static void flow_start(struct tvn_host *h, int i)
{
	struct tvn_flow *f = &h->flows[i];

	f->blk->start_ns = h->run_start_ns;
	f->blk->state = TORVYN_FLOW_RUNNING;
	if (TORVYN_FLOW_START_ENABLED())
		TORVYN_FLOW_START(f->idx, (char *)f->cfg->id, f->n_comps);
	for (int j = 0; j < f->n_comps; j++) {
		if (f->comps[j].cfg->role == TORVYN_ROLE_SOURCE)
			f->sources_running++;
	}
	for (int j = 0; j < f->n_comps; j++)
		comp_start(h, f, i, j);
}

/* --duration: the sources stop when it is over (or every thread has ended). */
static void wait_duration(struct tvn_host *h)
{
	uint64_t end = h->run_start_ns + (uint64_t)(h->opts.duration_s * 1e9);

	while (!h->stop && __atomic_load_n(&h->running, __ATOMIC_ACQUIRE) && tvn_now_ns() < end)
		tvn_time__sleep_ns(5000000ull);
	tvn_host__stop(h, false);
}

/* Waits for every component thread; each flow's final state and the longest gap. */
static void flows_join(struct tvn_host *h)
{
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		for (int j = 0; j < f->n_comps; j++)
			pthread_join(f->comps[j].thread, NULL);
		f->blk->end_ns = tvn_now_ns();
		f->blk->state = f->failed	 ? TORVYN_FLOW_FAILED
				: h->interrupted ? TORVYN_FLOW_CANCELLED
						 : TORVYN_FLOW_COMPLETED;
	}
	h->run_end_ns = tvn_now_ns();
	for (int i = 0; i < h->n_flows; i++) {
		for (int j = 0; j < h->flows[i].n_comps; j++) {
			if (h->flows[i].comps[j].max_gap_ns > h->max_gap_ns)
				h->max_gap_ns = h->flows[i].comps[j].max_gap_ns;
		}
	}
}

int tvn_host__run(struct tvn_host *h)
{
	pthread_t tele;
	int rc;

	tvn_probes__refresh(h, false);
	tvn_clock__init();
	h->latency_ticks = tvn_ticks__max_within(h->opts.latency_threshold_ns, tvn_clock.mult);
	rc = pthread_create(&tele, NULL, tvn_telemetry__main, h);
	if (rc)
		return -rc;
	if (h->opts.wait_attach) {
		wait_for_tracer(h);
		/* the tracer learns the flows' names before their first trace */
		tvn_host__aggregate(h);
		tvn_host__flush(h);
	}
	h->run_start_ns = tvn_now_ns();
	for (int i = 0; i < h->n_flows; i++)
		flow_start(h, i);
	if (h->opts.duration_s > 0)
		wait_duration(h);
	flows_join(h);
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	pthread_join(tele, NULL);
	tvn_host__aggregate(h);
	/* the final flush: the tracer sees the exact totals even after we exit */
	tvn_host__flush(h);
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		if (TORVYN_FLOW_END_ENABLED())
			TORVYN_FLOW_END(f->idx, f->blk->state, f->blk->elements_total,
					f->blk->elements_errors);
	}
	return 0;
}
