// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtorvyn-probes: the library, its flows and blocks, the gates and the
 * flush. Every probe site a tracer needs to attach at all (the
 * gates, abi__version, metrics__flush, flow start and end) is in this file:
 * whatever a host calls, a static link pulls them in, and the ABI version is
 * always the constant the tracer checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "probes_internal.h"

#define POLL_NS (5 * 1000000ull)
#define DEFAULT_FLUSH_MS 1000
#define DEFAULT_SAMPLE_RATE 0.01
#define DEFAULT_LATENCY_NS (10 * 1000000ull)

uint64_t tvn_probes__now_ns(void)
{
	return tvn_now_ns();
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void *tvn_probes__block_new(uint32_t kind, uint32_t size, int flow_idx, int idx,
			    const char *flow_name, const char *name)
{
	struct torvyn_block_hdr *h;
	void *p = NULL;

	/* blocks get their own cache lines: each is written by one thread */
	if (posix_memalign(&p, 64, size))
		return NULL;
	memset(p, 0, size);
	h = p; /* every block starts with its header */
	h->kind = kind;
	h->size = size;
	h->flow_idx = flow_idx;
	h->idx = idx;
	snprintf(h->flow_name, sizeof(h->flow_name), "%s", flow_name);
	snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

/* ------------------------------------------------------------ gates */

int tvn_probes__level(const struct tvn_probes *p)
{
	(void)p;
	return torvyn_probes__level();
}

unsigned int tvn_probes__attached(const struct tvn_probes *p)
{
	(void)p;
	return (torvyn_probes__any() ? TVN_PROBES_ANY : 0) |
	       (torvyn_probes__step_events() ? TVN_PROBES_STEP_EVENTS : 0);
}

/* The host saw the level change: the gate probes fire once, then the ABI. */
static void announce(int level)
{
	if (level >= TORVYN_LEVEL_PRODUCTION)
		TORVYN_GATE_PRODUCTION(level);
	if (level >= TORVYN_LEVEL_DIAGNOSTIC)
		TORVYN_GATE_DIAGNOSTIC(level);
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
}

/* ------------------------------------------------------------ flush */

struct sys_sums {
	uint64_t flows_active, comps_active, wakeups, idle, dropped;
};

/* The flow block from its components' blocks; adds to the system's sums. */
static void flow_aggregate(struct tvn_probes_flow *f, struct sys_sums *sum)
{
	struct torvyn_flow_block *fb = f->blk;
	uint64_t total = 0, errors = 0, tr = 0, trb = 0;
	uint64_t copies[TORVYN_COPY_REASONS] = {0}, cbytes[TORVYN_COPY_REASONS] = {0};
	struct torvyn_hist_lat lat = {0};

	for (int j = 0; j < f->n_comps; j++) {
		const struct torvyn_component_block *cb = f->comps[j].blk;

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

static void aggregate_locked(struct tvn_probes *p)
{
	struct sys_sums sum = {0};

	if (p->opts.before_flush)
		p->opts.before_flush(p, p->opts.arg);
	for (int i = 0; i < p->n_flows; i++)
		flow_aggregate(p->flows[i], &sum);
	p->sys->flows_active = sum.flows_active;
	p->sys->components_active = sum.comps_active;
	p->sys->scheduler_wakeups = sum.wakeups;
	p->sys->scheduler_idle_ns = sum.idle;
	p->sys->spans_dropped = sum.dropped;
	p->sys->n_flows = p->n_flows;
}

void tvn_probes__aggregate(struct tvn_probes *p)
{
	pthread_mutex_lock(&p->lock);
	aggregate_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static void flush_block(void *blk)
{
	struct torvyn_block_hdr *hdr = blk;

	hdr->flushes++;
	TORVYN_METRICS_FLUSH(blk, hdr->size, hdr->kind);
}

static void flush_locked(struct tvn_probes *p)
{
	if (!TORVYN_METRICS_FLUSH_ENABLED())
		return;
	aggregate_locked(p);
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
	for (int i = 0; i < p->n_flows; i++) {
		struct tvn_probes_flow *f = p->flows[i];

		for (int j = 0; j < f->n_comps; j++)
			flush_block(f->comps[j].blk);
		for (int j = 0; j < f->n_streams; j++)
			flush_block(f->streams[j].blk);
		flush_block(f->blk);
	}
	flush_block(p->pool);
	flush_block(p->sys);
}

void tvn_probes__flush(struct tvn_probes *p)
{
	pthread_mutex_lock(&p->lock);
	flush_locked(p);
	pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------ polling */

int tvn_probes__announce(struct tvn_probes *p)
{
	int level = torvyn_probes__level(), last;

	pthread_mutex_lock(&p->lock);
	last = p->last_level;
	if (level != last) {
		/* a tracer arrived: it gets every block now, not a period later */
		if (level > last)
			p->next_flush_ns = tvn_now_ns();
		announce(level);
		p->last_level = level;
	}
	pthread_mutex_unlock(&p->lock);
	if (level != last && p->opts.on_level)
		p->opts.on_level(p, level, p->opts.arg);
	return level;
}

int tvn_probes__poll(struct tvn_probes *p)
{
	int level = tvn_probes__announce(p);
	uint64_t now = tvn_now_ns();
	bool due;

	pthread_mutex_lock(&p->lock);
	due = now >= p->next_flush_ns;
	pthread_mutex_unlock(&p->lock);
	/* outside the lock: the host's part may wait */
	if (p->opts.on_tick)
		p->opts.on_tick(p, due, p->opts.arg);
	if (!due)
		return level;
	pthread_mutex_lock(&p->lock);
	tvn_clock__tick();
	if (level)
		flush_locked(p);
	p->next_flush_ns = tvn_now_ns() + p->opts.flush_interval_ms * 1000000ull;
	pthread_mutex_unlock(&p->lock);
	return level;
}

int tvn_probes__wait_attach(struct tvn_probes *p, uint64_t timeout_ns)
{
	uint64_t end = timeout_ns ? tvn_now_ns() + timeout_ns : UINT64_MAX;
	int level;

	while (!TORVYN_GATE_PRODUCTION_ENABLED()) {
		if (tvn_now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(1000000ull);
	}
	/* the tracer raised the gate last: everything it attaches is in place */
	level = tvn_probes__announce(p);
	tvn_probes__flush(p); /* the flows' names before their first trace */
	return level;
}

static void *poll_main(void *arg)
{
	struct tvn_probes *p = arg;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		tvn_probes__poll(p);
		sleep_ns(POLL_NS);
	}
	return NULL;
}

/* ------------------------------------------------------------ the library */

int tvn_probes__open(const struct tvn_probes_opts *opts, struct tvn_probes **out)
{
	struct tvn_probes *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	if (opts)
		p->opts = *opts;
	if (!p->opts.flush_interval_ms)
		p->opts.flush_interval_ms = DEFAULT_FLUSH_MS;
	if (p->opts.sample_rate == 0)
		p->opts.sample_rate = DEFAULT_SAMPLE_RATE;
	if (!p->opts.latency_threshold_ns)
		p->opts.latency_threshold_ns = DEFAULT_LATENCY_NS;
	p->sample_threshold = tvn_sample_threshold(p->opts.sample_rate);
	pthread_mutex_init(&p->lock, NULL);
	p->sys = tvn_probes__block_new(TORVYN_BLOCK_SYSTEM, sizeof(*p->sys), 0, 0, "", "system");
	p->pool = tvn_probes__block_new(TORVYN_BLOCK_POOL, sizeof(*p->pool), 0, 0, "", "pool");
	if (!p->sys || !p->pool) {
		tvn_probes__close(p);
		return -ENOMEM;
	}
	p->sys->abi_version = TORVYN_PROBE_ABI_VERSION;
	tvn_clock__init();
	/* announced at startup, so `torvyn-trace probes` and bpftrace can check the ABI */
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
	if (p->opts.thread) {
		rc = pthread_create(&p->thread, NULL, poll_main, p);
		if (rc) {
			tvn_probes__close(p);
			return -rc;
		}
		p->thread_on = true;
	}
	*out = p;
	return 0;
}

static void flow_free(struct tvn_probes_flow *f)
{
	for (int j = 0; j < f->n_comps; j++)
		free(f->comps[j].blk);
	for (int j = 0; j < f->n_streams; j++)
		free(f->streams[j].blk);
	tvn_span_ring__fini(&f->ring);
	if (f->elem_mem)
		pthread_spin_destroy(&f->elem_lock);
	free(f->elem_mem);
	free(f->blk);
	free(f);
}

void tvn_probes__close(struct tvn_probes *p)
{
	if (!p)
		return;
	if (p->thread_on) {
		__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
		pthread_join(p->thread, NULL);
	}
	if (p->sys && p->pool) {
		for (int i = 0; i < p->n_flows; i++) {
			if (!p->flows[i]->ended && p->flows[i]->blk->start_ns)
				tvn_probes_flow__end(p->flows[i], TORVYN_FLOW_COMPLETED);
		}
		/* the final flush: the tracer sees the exact totals even after we exit */
		tvn_probes__flush(p);
	}
	for (int i = 0; i < p->n_flows; i++)
		flow_free(p->flows[i]);
	free(p->sys);
	free(p->pool);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct torvyn_system_block *tvn_probes__system_block(struct tvn_probes *p)
{
	return p->sys;
}

struct torvyn_pool_block *tvn_probes__pool_block(struct tvn_probes *p)
{
	return p->pool;
}

/* ------------------------------------------------------------ flows */

int tvn_probes__flow_new(struct tvn_probes *p, const char *name, struct tvn_probes_flow **out)
{
	struct tvn_probes_flow *f;
	int rc = 0;

	if (!name)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	if (p->n_flows >= TORVYN_MAX_FLOWS)
		rc = -E2BIG;
	f->p = p;
	f->idx = p->n_flows;
	/* ids must differ across flows, runs and hosts */
	if (getrandom(&f->id_key, sizeof(f->id_key), 0) != sizeof(f->id_key))
		f->id_key = tvn_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)f;
	f->blk = tvn_probes__block_new(TORVYN_BLOCK_FLOW, sizeof(*f->blk), f->idx, 0, name, name);
	if (!rc && !f->blk)
		rc = -ENOMEM;
	if (!rc) {
		f->blk->state = TORVYN_FLOW_VALIDATED;
		p->flows[p->n_flows++] = f;
	}
	pthread_mutex_unlock(&p->lock);
	if (rc) {
		free(f->blk);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int tvn_probes_flow__component(struct tvn_probes_flow *f, const char *name, uint32_t role)
{
	struct tvn_probes_comp *c;

	if (!name || role > TORVYN_ROLE_SINK)
		return -EINVAL;
	if (f->n_comps >= TORVYN_MAX_COMPONENTS)
		return -E2BIG;
	c = &f->comps[f->n_comps];
	c->blk = tvn_probes__block_new(TORVYN_BLOCK_COMPONENT, sizeof(*c->blk), f->idx, f->n_comps,
				       f->blk->hdr.flow_name, name);
	if (!c->blk)
		return -ENOMEM;
	c->blk->role = role;
	f->blk->n_components = f->n_comps + 1;
	return f->n_comps++;
}

int tvn_probes_flow__stream(struct tvn_probes_flow *f, const char *name, uint32_t from, uint32_t to,
			    uint32_t capacity, uint32_t policy)
{
	struct tvn_probes_stream *s;

	if (!name || from >= (uint32_t)f->n_comps || to >= (uint32_t)f->n_comps || !capacity ||
	    policy > TORVYN_POLICY_ERROR)
		return -EINVAL;
	if (f->n_streams >= TORVYN_MAX_STREAMS)
		return -E2BIG;
	s = &f->streams[f->n_streams];
	s->blk = tvn_probes__block_new(TORVYN_BLOCK_STREAM, sizeof(*s->blk), f->idx, f->n_streams,
				       f->blk->hdr.flow_name, name);
	if (!s->blk)
		return -ENOMEM;
	s->blk->from_idx = from;
	s->blk->to_idx = to;
	s->blk->capacity = capacity;
	s->blk->policy = policy;
	s->low_mark = capacity / 2;
	return f->n_streams++;
}

int tvn_probes_flow__ready(struct tvn_probes_flow *f, uint32_t max_in_flight)
{
	int rc;

	if (max_in_flight) {
		rc = tvn_span_ring__init(&f->ring, max_in_flight);
		if (rc)
			return rc;
		f->elem_mem = calloc(max_in_flight, sizeof(*f->elem_mem));
		if (!f->elem_mem)
			return -ENOMEM;
		pthread_spin_init(&f->elem_lock, PTHREAD_PROCESS_PRIVATE);
		for (uint32_t i = 0; i < max_in_flight; i++) {
			f->elem_mem[i].slot = tvn_span_ring__slot(&f->ring, i);
			f->elem_mem[i].next = f->elem_free;
			f->elem_free = &f->elem_mem[i];
		}
	}
	f->blk->state = TORVYN_FLOW_INSTANTIATED;
	return 0;
}

void tvn_probes_flow__start(struct tvn_probes_flow *f)
{
	f->blk->start_ns = tvn_now_ns();
	f->blk->state = TORVYN_FLOW_RUNNING;
	if (TORVYN_FLOW_START_ENABLED())
		TORVYN_FLOW_START(f->idx, f->blk->hdr.flow_name, f->n_comps);
}

void tvn_probes_flow__end(struct tvn_probes_flow *f, uint32_t state)
{
	struct sys_sums sum = {0};

	for (int j = 0; f->fire && j < f->n_comps; j++)
		f->fire(&f->comps[j]);
	if (!f->blk->end_ns)
		f->blk->end_ns = tvn_now_ns();
	f->blk->state = state;
	f->ended = true;
	pthread_mutex_lock(&f->p->lock);
	flow_aggregate(f, &sum);
	pthread_mutex_unlock(&f->p->lock);
	if (TORVYN_FLOW_END_ENABLED())
		TORVYN_FLOW_END(f->idx, state, f->blk->elements_total, f->blk->elements_errors);
}

int tvn_probes_flow__idx(const struct tvn_probes_flow *f)
{
	return f->idx;
}

struct torvyn_flow_block *tvn_probes_flow__block(struct tvn_probes_flow *f)
{
	return f->blk;
}

struct torvyn_component_block *tvn_probes_flow__component_block(struct tvn_probes_flow *f, int comp)
{
	if (comp < 0 || comp >= f->n_comps) {
		errno = EINVAL;
		return NULL;
	}
	return f->comps[comp].blk;
}

struct torvyn_stream_block *tvn_probes_flow__stream_block(struct tvn_probes_flow *f, int stream)
{
	if (stream < 0 || stream >= f->n_streams) {
		errno = EINVAL;
		return NULL;
	}
	return f->streams[stream].blk;
}
