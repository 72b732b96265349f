// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for libtorvyn-probes (usdt/probes.c, usdt/probes_elem.c): what
 * the blocks count at Level 0 and at the production level (a gate raised by
 * hand, as a tracer's attach raises it), promotion, backpressure, pools and
 * traceparent through the public API.
 */
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "probes_internal.h"

static const char TP[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct rig {
	struct tvn_probes *p;
	struct tvn_probes_flow *f;
};

/* source -> worker -> sink over two streams of capacity 4 */
static void rig_open(struct rig *r, double sample_rate)
{
	assert_int_equal(
	    tvn_probes__open(&(struct tvn_probes_opts){.sample_rate = sample_rate}, &r->p), 0);
	assert_int_equal(tvn_probes__flow_new(r->p, "f", &r->f), 0);
	assert_int_equal(tvn_probes_flow__component(r->f, "source", TORVYN_ROLE_SOURCE), 0);
	assert_int_equal(tvn_probes_flow__component(r->f, "worker", TORVYN_ROLE_PROCESSOR), 1);
	assert_int_equal(tvn_probes_flow__component(r->f, "sink", TORVYN_ROLE_SINK), 2);
	assert_int_equal(tvn_probes_flow__stream(r->f, "a", 0, 1, 4, 0), 0);
	assert_int_equal(tvn_probes_flow__stream(r->f, "b", 1, 2, 4, 0), 1);
	assert_int_equal(tvn_probes_flow__stream(r->f, "c", 2, 9, 4, 0), -EINVAL);
	assert_int_equal(tvn_probes_flow__ready(r->f, 2), 0);
	tvn_probes_flow__start(r->f);
}

/* One element through all three; the worker fails it when fail. */
static void one(struct rig *r, bool fail)
{
	struct tvn_probes_elem *e = tvn_probes_flow__elem_begin(r->f, NULL, 0);
	uint64_t t;

	assert_non_null(e);
	t = tvn_probes_flow__step_begin(r->f, 0, e);
	tvn_probes_flow__step_end(r->f, 0, e, t, TORVYN_STATUS_OK, 0, 0, 10);
	tvn_probes_flow__push(r->f, 0, e, 1);
	tvn_probes_flow__pop(r->f, 0, e, 0);
	t = tvn_probes_flow__step_begin(r->f, 1, e);
	tvn_probes_flow__copy(r->f, 1, e, TORVYN_COPY_PAYLOAD_WRITE, 10);
	tvn_probes_flow__step_end(r->f, 1, e, t, fail ? TORVYN_STATUS_ERROR : TORVYN_STATUS_OK,
				  fail ? TORVYN_ERR_INVALID_INPUT : 0, 10, 10);
	if (fail) {
		tvn_probes_flow__elem_end(r->f, 1, e, TORVYN_STATUS_ERROR,
					  TORVYN_ERR_INVALID_INPUT);
		return;
	}
	tvn_probes_flow__push(r->f, 1, e, 1);
	tvn_probes_flow__pop(r->f, 1, e, 0);
	t = tvn_probes_flow__step_begin(r->f, 2, e);
	tvn_probes_flow__step_end(r->f, 2, e, t, TORVYN_STATUS_OK, 0, 10, 10);
	tvn_probes_flow__elem_end(r->f, 2, e, TORVYN_STATUS_OK, 0);
}

static void test_counts_at_level_off(void **state)
{
	struct rig r;
	const struct torvyn_component_block *w;
	const struct torvyn_flow_block *fb;

	(void)state;
	rig_open(&r, 0);
	for (int i = 0; i < 10; i++)
		one(&r, i == 3);
	w = tvn_probes_flow__component_block(r.f, 1);
	assert_int_equal(w->invocations, 10);
	assert_int_equal(w->errors, 1);
	assert_int_equal(w->errors_by_kind[TORVYN_ERR_INVALID_INPUT], 1);
	assert_int_equal(w->bytes_out, 90);
	assert_int_equal(w->copies_total[TORVYN_COPY_PAYLOAD_WRITE], 10);
	assert_int_equal(w->processing_time.count, 0); /* nothing is timed at Level 0 */
	assert_int_equal(tvn_probes_flow__component_block(r.f, 2)->elements_ended, 9);
	assert_int_equal(tvn_probes_flow__stream_block(r.f, 1)->elements_transferred, 9);
	assert_null(tvn_probes_flow__stream_block(r.f, 2));
	tvn_probes__aggregate(r.p);
	fb = tvn_probes_flow__block(r.f);
	assert_int_equal(fb->elements_total, 10);
	assert_int_equal(fb->elements_errors, 1);
	assert_int_equal(fb->transfers_total, 19);
	assert_int_equal(fb->state, TORVYN_FLOW_RUNNING);
	assert_int_equal(tvn_probes__system_block(r.p)->flows_active, 1);
	assert_int_equal(tvn_probes__system_block(r.p)->abi_version, TORVYN_PROBE_ABI_VERSION);
	tvn_probes_flow__end(r.f, TORVYN_FLOW_COMPLETED);
	assert_int_equal(fb->state, TORVYN_FLOW_COMPLETED);
	tvn_probes__close(r.p);
}

static void test_production_times_and_promotes(void **state)
{
	struct rig r;
	const struct torvyn_flow_block *fb;

	(void)state;
	torvyn_gate__production_semaphore = 1; /* what a tracer's attach does */
	rig_open(&r, 1);		       /* every element head-sampled */
	assert_int_equal(tvn_probes__level(r.p), TORVYN_LEVEL_PRODUCTION);
	for (int i = 0; i < 5; i++)
		one(&r, i == 0);
	torvyn_gate__production_semaphore = 0;
	assert_int_equal(tvn_probes_flow__component_block(r.f, 1)->processing_time.count, 5);
	assert_int_equal(tvn_probes_flow__component_block(r.f, 2)->e2e_latency.count, 4);
	fb = tvn_probes_flow__block(r.f);
	assert_int_equal(fb->promoted_total[TORVYN_PROMOTE_ERROR], 1);
	assert_int_equal(fb->promoted_total[TORVYN_PROMOTE_SAMPLED] +
			     fb->promoted_total[TORVYN_PROMOTE_LATENCY],
			 4);
	tvn_probes__close(r.p);
}

static void test_backpressure(void **state)
{
	struct rig r;
	const struct torvyn_stream_block *b;

	(void)state;
	rig_open(&r, 0);
	b = tvn_probes_flow__stream_block(r.f, 0);
	tvn_probes_flow__push(r.f, 0, NULL, 4); /* full: starts */
	tvn_probes_flow__push(r.f, 0, NULL, 4); /* still on: not a new event */
	tvn_probes_flow__pop(r.f, 0, NULL, 3);	/* above the half: still on */
	assert_int_equal(b->backpressure_events, 1);
	tvn_probes_flow__pop(r.f, 0, NULL, 2); /* half empty: ends */
	tvn_probes_flow__push(r.f, 0, NULL, 4);
	assert_int_equal(b->backpressure_events, 2);
	assert_int_equal(b->peak_depth, 4);
	tvn_probes_flow__dropped(r.f, 0);
	assert_int_equal(b->elements_dropped, 1);
	tvn_probes__close(r.p);
}

static void test_pool(void **state)
{
	struct tvn_probes *p;
	const struct torvyn_pool_tier *t;

	(void)state;
	assert_int_equal(tvn_probes__open(NULL, &p), 0);
	assert_int_equal(tvn_probes__pool_tier(p, TORVYN_TIERS, 64, 8), -EINVAL);
	assert_int_equal(tvn_probes__pool_tier(p, TORVYN_TIER_SMALL, 64, 2), 0);
	tvn_probes__pool_event(p, TVN_POOL_ALLOC, TORVYN_TIER_SMALL, 64);
	tvn_probes__pool_event(p, TVN_POOL_ALLOC, TORVYN_TIER_SMALL, 64);
	tvn_probes__pool_event(p, TVN_POOL_EXHAUSTED, TORVYN_TIER_SMALL, 0);
	tvn_probes__pool_event(p, TVN_POOL_FALLBACK, TORVYN_TIER_SMALL, 64);
	tvn_probes__pool_event(p, TVN_POOL_RETURN, TORVYN_TIER_SMALL, 64);
	t = &tvn_probes__pool_block(p)->tier[TORVYN_TIER_SMALL];
	assert_int_equal(t->allocated, 2);
	assert_int_equal(t->returned, 1);
	assert_int_equal(t->available, 1);
	assert_int_equal(t->fallback_count, 1);
	assert_int_equal(t->exhaustion_events, 1);
	tvn_probes__close(p);
}

static void test_traceparent(void **state)
{
	struct rig r;
	struct tvn_probes_elem *e;
	struct tvn_trace_ctx ctx;
	char out[56];

	(void)state;
	rig_open(&r, 0);
	e = tvn_probes_flow__elem_begin(r.f, TP, strlen(TP));
	assert_int_equal(tvn_probes_elem__traceparent(e, out), TVN_TRACEPARENT_LEN);
	/* the same trace, a span of our own, the sampled flag kept */
	assert_memory_equal(out, TP, 36);
	assert_memory_not_equal(out + 36, TP + 36, 16);
	assert_string_equal(out + 52, "-01");
	assert_int_equal(tvn_traceparent__parse(out, strlen(out), &ctx), 0);
	tvn_probes_flow__elem_end(r.f, 0, e, TORVYN_STATUS_OK, 0);
	e = tvn_probes_flow__elem_begin(r.f, "00-bad", 6); /* a new trace */
	tvn_probes_elem__traceparent(e, out);
	assert_memory_not_equal(out, TP, 36);
	assert_int_equal(tvn_probes_elem__seq(e), 1);
	tvn_probes_flow__elem_end(r.f, 0, e, TORVYN_STATUS_OK, 0);
	tvn_probes__close(r.p);
}

struct ticks {
	int calls, due, levels;
};

static void on_tick(struct tvn_probes *p, bool due, void *arg)
{
	struct ticks *t = arg;

	(void)p;
	t->calls++;
	t->due += due;
}

static void on_level(struct tvn_probes *p, int level, void *arg)
{
	(void)p;
	((struct ticks *)arg)->levels += level;
}

/* on_tick at every poll, due once per interval; a level change announced once, at once due */
static void test_poll_ticks(void **state)
{
	struct ticks t = {0};
	struct tvn_probes *p;

	(void)state;
	assert_int_equal(tvn_probes__open(&(struct tvn_probes_opts){.flush_interval_ms = 60000,
								    .on_tick = on_tick,
								    .on_level = on_level,
								    .arg = &t},
					  &p),
			 0);
	assert_int_equal(tvn_probes__poll(p), TORVYN_LEVEL_OFF);
	assert_int_equal(tvn_probes__poll(p), TORVYN_LEVEL_OFF);
	assert_int_equal(t.calls, 2);
	assert_int_equal(t.due, 1); /* the first poll, then not for a minute */
	torvyn_gate__production_semaphore = 1;
	assert_int_equal(tvn_probes__announce(p), TORVYN_LEVEL_PRODUCTION);
	assert_int_equal(tvn_probes__poll(p), TORVYN_LEVEL_PRODUCTION);
	torvyn_gate__production_semaphore = 0;
	assert_int_equal(t.levels, 1); /* announced once */
	assert_int_equal(t.due, 2);    /* a tracer arrived: flushed at once */
	tvn_probes__close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_at_level_off),
	    cmocka_unit_test(test_production_times_and_promotes),
	    cmocka_unit_test(test_backpressure),
	    cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_traceparent),
	    cmocka_unit_test(test_poll_ticks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
