// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for top's frames (user/trace/top/): a scrape into a frame,
 * rates and p50/p99 from two synthetic scrapes with known histogram
 * deltas, the order, and the text and JSON presentations.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "top.h"

/* Two scrapes 2 s apart of one host (pid 4242, a session: no pid labels). */
static const char scrape_a[] =
    "# HELP torvyn_flow_elements_total Elements.\n"
    "# TYPE torvyn_flow_elements_total counter\n"
    "torvyn_flow_elements_total{flow_id=\"f1\"} 1000\n"
    "torvyn_flow_errors_total{flow_id=\"f1\"} 2\n"
    "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"src\"} 1000\n"
    "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"work\"} 1000\n"
    "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"reset\"} 500\n"
    "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"src\"} 0\n"
    "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"work\"} 2\n"
    "# TYPE torvyn_component_processing_time_seconds histogram\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"1e-"
    "07\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"2.5e-"
    "07\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"1e-"
    "06\"} 1000\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"+"
    "Inf\"} 1000\n"
    "torvyn_component_processing_time_seconds_sum{flow_id=\"f1\",component_id=\"src\"} "
    "0.000500000\n"
    "torvyn_component_processing_time_seconds_count{flow_id=\"f1\",component_id=\"src\"} 1000\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"5e-"
    "07\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"1e-"
    "06\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"2."
    "5e-06\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"5e-"
    "06\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"0."
    "1\"} 1000\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"+"
    "Inf\"} 1000\n"
    "torvyn_stream_queue_current_depth{flow_id=\"f1\",stream_id=\"src->work\"} 10\n"
    "torvyn_stream_queue_capacity{flow_id=\"f1\",stream_id=\"src->work\"} 64\n"
    "torvyn_stream_queue_peak_depth{flow_id=\"f1\",stream_id=\"src->work\"} 64\n"
    "torvyn_stream_backpressure_events_total{flow_id=\"f1\",stream_id=\"src->work\"} 5\n"
    "torvyn_stream_elements_dropped_total{flow_id=\"f1\",stream_id=\"src->work\"} 0\n"
    "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"src\"} 77\n"
    "torvyn_pool_capacity{tier=\"Small\"} 4096\n"
    "torvyn_trace_level 1\n"
    "torvyn_trace_target_up 1\n"
    "torvyn_trace_events_lost_total 3\n"
    "torvyn_trace_info{pid=\"4242\",exe=\"/usr/bin/torvyn-host\"} 1\n";

/*
 * 2 s later: f1 +200 elements, +2 errors; src +100 invocations, all in
 * (1e-7, 2.5e-7]; work +100: 50 in (0.5, 1] us, 40 in (1, 2.5] us, 10 in
 * (2.5, 5] us (its 1000 slow ones are old); reset went back to 20.
 */
static const char scrape_b[] =
    "torvyn_flow_elements_total{flow_id=\"f1\"} 1200\n"
    "torvyn_flow_errors_total{flow_id=\"f1\"} 4\n"
    "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"src\"} 1100\n"
    "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"work\"} 1100\n"
    "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"reset\"} 20\n"
    "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"src\"} 0\n"
    "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"work\"} 4\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"1e-"
    "07\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"2.5e-"
    "07\"} 100\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"1e-"
    "06\"} 1100\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"src\",le=\"+"
    "Inf\"} 1100\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"5e-"
    "07\"} 0\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"1e-"
    "06\"} 50\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"2."
    "5e-06\"} 90\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"5e-"
    "06\"} 100\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"0."
    "1\"} 1100\n"
    "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\",component_id=\"work\",le=\"+"
    "Inf\"} 1100\n"
    "torvyn_stream_queue_current_depth{flow_id=\"f1\",stream_id=\"src->work\"} 32\n"
    "torvyn_stream_queue_capacity{flow_id=\"f1\",stream_id=\"src->work\"} 64\n"
    "torvyn_stream_queue_peak_depth{flow_id=\"f1\",stream_id=\"src->work\"} 64\n"
    "torvyn_stream_backpressure_events_total{flow_id=\"f1\",stream_id=\"src->work\"} 9\n"
    "torvyn_stream_elements_dropped_total{flow_id=\"f1\",stream_id=\"src->work\"} 0\n"
    "torvyn_flow_elements_total{flow_id=\"f2\"} 7\n"
    "torvyn_trace_level 2\n"
    "torvyn_trace_target_up 1\n"
    "torvyn_trace_events_lost_total 3\n"
    "torvyn_trace_map_update_failures_total 1\n"
    "torvyn_trace_info{pid=\"4242\",exe=\"/usr/bin/torvyn-host\"} 1\n";

/* Equal within a few ulps: the interpolation's arithmetic, nothing more. */
#define assert_close(want, got)                                                                    \
	do {                                                                                       \
		double w_ = (want), g_ = (got);                                                    \
		if (!(fabs(w_ - g_) <= 1e-12 * fabs(w_)))                                          \
			fail_msg("%s: expected %.17g, got %.17g", #got, w_, g_);                   \
	} while (0)

static void parse_at(const char *text, int pid, double at, struct tvn_top_frame *f)
{
	int bad = 0;

	assert_int_equal(tvn_top_frame__parse(text, strlen(text), pid, f, &bad), 0);
	f->at = at;
}

static void parse(const char *text, int pid, struct tvn_top_frame *f)
{
	parse_at(text, pid, 0, f);
}

static const struct tvn_top_comp *comp(const struct tvn_top_flow *fl, const char *id)
{
	for (int i = 0; i < fl->n_comps; i++) {
		if (!strcmp(fl->comps[i].id, id))
			return &fl->comps[i];
	}
	fail_msg("no component %s", id);
	return NULL;
}

static void test_parse(void **state)
{
	struct tvn_top_frame f;
	const struct tvn_top_flow *fl;
	const struct tvn_top_comp *c;

	(void)state;
	parse(scrape_a, 4242, &f);
	assert_int_equal(f.n_targets, 1);
	assert_int_equal(f.targets[0].pid, 4242);
	assert_string_equal(f.targets[0].exe, "/usr/bin/torvyn-host");
	assert_null(f.targets[0].service);
	assert_true(f.targets[0].self[TVN_TOP_LEVEL] == 1);
	assert_true(f.targets[0].self[TVN_TOP_TARGET_UP] == 1);
	assert_true(f.targets[0].self[TVN_TOP_EVENTS_LOST] == 3);
	assert_true(isnan(f.targets[0].self[TVN_TOP_MAP_UPDATE_FAILURES]));

	assert_int_equal(f.n_flows, 1);
	fl = &f.flows[0];
	assert_string_equal(fl->id, "f1");
	assert_true(fl->elements == 1000 && fl->errors == 2);
	/* components in the host's order; diagnostic families are not counted twice */
	assert_int_equal(fl->n_comps, 3);
	assert_string_equal(fl->comps[0].id, "src");
	assert_string_equal(fl->comps[1].id, "work");
	assert_string_equal(fl->comps[2].id, "reset");
	c = comp(fl, "src");
	assert_true(c->invocations == 1000 && c->errors == 0);
	assert_int_equal(c->hist.n, 4);
	assert_true(c->hist.le[2] == 1e-06 && c->hist.cum[2] == 1000);
	assert_true(isinf(c->hist.le[3]));
	assert_int_equal(comp(fl, "work")->hist.n, 6);
	assert_int_equal(fl->n_streams, 1);
	assert_string_equal(fl->streams[0].id, "src->work");
	assert_true(fl->streams[0].depth == 10 && fl->streams[0].capacity == 64 &&
		    fl->streams[0].peak == 64 && fl->streams[0].bp_events == 5);
	tvn_top_frame__free(&f);
	tvn_top_frame__free(&f); /* twice: a freed frame is empty */
}

static void test_rates_and_quantiles(void **state)
{
	struct tvn_top_frame a, b;
	const struct tvn_top_flow *fl;
	const struct tvn_top_comp *c;

	(void)state;
	parse_at(scrape_a, 4242, 10.0, &a);
	parse_at(scrape_b, 4242, 12.0, &b);
	tvn_top_frame__diff(&a, NULL);
	tvn_top_frame__diff(&b, &a);
	assert_true(b.dt == 2.0 && b.targets[0].rates_s == 2.0 && !b.targets[0].carried);
	fl = &b.flows[0];
	assert_string_equal(fl->id, "f1");
	assert_true(fl->rate == 100.0);
	assert_true(fl->err_rate == 1.0);

	c = comp(fl, "src");
	assert_true(c->rate == 50.0 && c->err_rate == 0);
	/* 100 in (1e-7, 2.5e-7]: rank 50 and 99 of 100, interpolated */
	assert_close(1.75e-7, c->p50);
	assert_close(2.485e-7, c->p99);

	c = comp(fl, "work");
	assert_true(c->rate == 50.0 && c->err_rate == 1.0);
	/* rank 50: the 50th of (0.5, 1] us; rank 99: the 9th of 10 in (2.5, 5] us */
	assert_close(1e-6, c->p50);
	assert_close(4.75e-6, c->p99);
	assert_close(4.75e-6, fl->p99);

	/* a counter that went down was reset: it counts from 0 */
	c = comp(fl, "reset");
	assert_true(c->rate == 10.0);
	assert_true(isnan(c->p50) && isnan(c->p99)); /* no histogram */

	assert_true(fl->streams[0].bp_rate == 2.0);
	assert_true(fl->streams[0].depth == 32);

	/* a flow the first scrape did not have: counts, but no rates yet */
	fl = &b.flows[1];
	assert_string_equal(fl->id, "f2");
	assert_true(fl->elements == 7 && isnan(fl->rate));

	/* one frame alone: no rates */
	tvn_top_frame__diff(&a, NULL);
	assert_true(a.dt == 0 && a.targets[0].rates_s == 0 && isnan(a.flows[0].rate) &&
		    isnan(a.flows[0].comps[0].p99));
	tvn_top_frame__free(&a);
	tvn_top_frame__free(&b);
}

/* A host of 200 elements/s that flushes at its own pace, scraped every second. */
static void host_frame(struct tvn_top_frame *f, double at, int blocks, int elements, int up,
		       int level)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "torvyn_flow_elements_total{flow_id=\"f\"} %d\n"
		 "torvyn_trace_blocks_received_total %d\n"
		 "torvyn_trace_target_up %d\n"
		 "torvyn_trace_level %d\n",
		 elements, blocks, up, level);
	parse_at(text, 7, at, f);
}

static void test_flush_phases(void **state)
{
	struct tvn_top_frame f[11];

	(void)state;
	/* the first frame: when its counts arrived is unknown */
	host_frame(&f[0], 0, 10, 1000, 1, 1);
	tvn_top_frame__diff(&f[0], NULL);
	assert_true(isnan(f[0].targets[0].seen_at) && !tvn_top_target__settled(&f[0].targets[0]));
	/* a flush: now its time is known, but not the previous one's */
	host_frame(&f[1], 1, 12, 1200, 1, 1);
	tvn_top_frame__diff(&f[1], &f[0]);
	assert_true(isnan(f[1].flows[0].rate) && f[1].targets[0].seen_at == 1);
	assert_false(tvn_top_target__settled(&f[1].targets[0]));
	host_frame(&f[2], 2, 14, 1400, 1, 1);
	tvn_top_frame__diff(&f[2], &f[1]);
	assert_true(f[2].flows[0].rate == 200 && f[2].targets[0].rates_s == 1);
	assert_true(tvn_top_target__settled(&f[2].targets[0]));
	/* no flush in this second: the last rate holds, not 0 */
	host_frame(&f[3], 3, 14, 1400, 1, 1);
	tvn_top_frame__diff(&f[3], &f[2]);
	assert_true(f[3].targets[0].carried && f[3].flows[0].rate == 200);
	assert_false(tvn_top_target__settled(&f[3].targets[0]));
	/* two flushes in the next: their increase over the two seconds, not twice the rate */
	host_frame(&f[4], 4, 18, 1800, 1, 1);
	tvn_top_frame__diff(&f[4], &f[3]);
	assert_true(!f[4].targets[0].carried && f[4].targets[0].rates_s == 2);
	assert_true(f[4].flows[0].rate == 200);
	/* silent for longer than TVN_TOP_CARRY_S: unknown, not the old rate */
	host_frame(&f[5], 5, 18, 1800, 1, 1);
	tvn_top_frame__diff(&f[5], &f[4]);
	assert_true(f[5].targets[0].carried);
	host_frame(&f[6], 7, 18, 1800, 1, 1);
	tvn_top_frame__diff(&f[6], &f[5]);
	assert_true(!f[6].targets[0].carried && isnan(f[6].flows[0].rate));
	/* at level off nothing flushes: unknown, and nothing to wait for */
	host_frame(&f[7], 5, 18, 1800, 1, 0);
	tvn_top_frame__diff(&f[7], &f[4]);
	assert_true(isnan(f[7].flows[0].rate) && tvn_top_target__settled(&f[7].targets[0]));
	/* a host that exited: its counts are final, its rate 0 over the time since */
	host_frame(&f[8], 6, 18, 1800, 0, 0);
	tvn_top_frame__diff(&f[8], &f[4]);
	assert_true(f[8].flows[0].rate == 0 && f[8].targets[0].rates_s == 2);
	/* ...even from a first frame */
	host_frame(&f[9], 0, 24, 1800, 0, 0);
	tvn_top_frame__diff(&f[9], NULL);
	host_frame(&f[10], 0.5, 24, 1800, 0, 0);
	tvn_top_frame__diff(&f[10], &f[9]);
	assert_true(f[10].flows[0].rate == 0 && f[10].targets[0].rates_s == 0.5);
	assert_true(tvn_top_target__settled(&f[10].targets[0]));
	for (int i = 0; i < 11; i++)
		tvn_top_frame__free(&f[i]);
}

static void test_quantile_edges(void **state)
{
	struct tvn_top_hist h = {.n = 3, .le = {1, 2, INFINITY}, .cum = {0, 0, 10}};

	(void)state;
	/* everything above the last finite bound: that bound is all we know */
	assert_true(tvn_top_hist__quantile(&h, 0.5) == 2);
	/* the first bucket starts at 0 */
	h = (struct tvn_top_hist){.n = 3, .le = {1, 2, INFINITY}, .cum = {10, 10, 10}};
	assert_close(0.5, tvn_top_hist__quantile(&h, 0.5));
	assert_close(0.99, tvn_top_hist__quantile(&h, 0.99));
	/* empty, no +Inf bucket, a lone bucket: unknown */
	h = (struct tvn_top_hist){.n = 3, .le = {1, 2, INFINITY}};
	assert_true(isnan(tvn_top_hist__quantile(&h, 0.5)));
	h = (struct tvn_top_hist){.n = 2, .le = {1, 2}, .cum = {1, 2}};
	assert_true(isnan(tvn_top_hist__quantile(&h, 0.5)));
	h = (struct tvn_top_hist){.n = 1, .le = {INFINITY}, .cum = {5}};
	assert_true(isnan(tvn_top_hist__quantile(&h, 0.5)));
}

static void test_bounds_changed(void **state)
{
	const char *a = "torvyn_component_processing_time_seconds_bucket{flow_id=\"f\","
			"component_id=\"c\",le=\"1\"} 1\n"
			"torvyn_component_processing_time_seconds_bucket{flow_id=\"f\","
			"component_id=\"c\",le=\"+Inf\"} 1\n";
	/* the bounds come out of order: they are sorted */
	const char *b = "torvyn_component_processing_time_seconds_bucket{flow_id=\"f\","
			"component_id=\"c\",le=\"+Inf\"} 9\n"
			"torvyn_component_processing_time_seconds_bucket{flow_id=\"f\","
			"component_id=\"c\",le=\"2\"} 9\n";
	struct tvn_top_frame fa, fb;

	(void)state;
	parse_at(a, 1, 0, &fa);
	parse_at(b, 1, 1, &fb);
	assert_true(fb.flows[0].comps[0].hist.le[0] == 2);
	tvn_top_frame__diff(&fb, &fa);
	assert_true(isnan(fb.flows[0].comps[0].p50));
	tvn_top_frame__free(&fa);
	tvn_top_frame__free(&fb);
}

/* An agent's scrape: every series labelled pid, exe, service; targets come out by pid. */
static const char scrape_agent[] =
    "torvyn_flow_elements_total{pid=\"20\",exe=\"h2\",service=\"svc-b\",flow_id=\"x\"} 5\n"
    "torvyn_flow_elements_total{pid=\"10\",exe=\"h1\",service=\"svc-a\",flow_id=\"x\"} 3\n"
    "torvyn_flow_elements_total{pid=\"10\",exe=\"h1\",service=\"svc-a\",flow_id=\"y\"} 30\n"
    "torvyn_trace_level{pid=\"20\",exe=\"h2\",service=\"svc-b\"} 2\n"
    "torvyn_trace_level{pid=\"10\",exe=\"h1\",service=\"svc-a\"} 1\n"
    "torvyn_agent_hosts 2\n";

static void test_agent_labels(void **state)
{
	struct tvn_top_frame f;

	(void)state;
	parse(scrape_agent, 0, &f);
	assert_int_equal(f.n_targets, 2);
	assert_int_equal(f.targets[0].pid, 10);
	assert_string_equal(f.targets[0].exe, "h1");
	assert_string_equal(f.targets[0].service, "svc-a");
	assert_true(f.targets[0].self[TVN_TOP_LEVEL] == 1);
	assert_int_equal(f.targets[1].pid, 20);
	assert_true(f.targets[1].self[TVN_TOP_LEVEL] == 2);
	/* flows grouped by target, each target's in its order */
	assert_int_equal(f.n_flows, 3);
	assert_true(f.flows[0].target == 0 && !strcmp(f.flows[0].id, "x") &&
		    f.flows[0].elements == 3);
	assert_true(f.flows[1].target == 0 && !strcmp(f.flows[1].id, "y"));
	assert_true(f.flows[2].target == 1 && f.flows[2].elements == 5);
	tvn_top_frame__free(&f);
}

/* A session's /metrics read with no PID known: torvyn_trace_info names the target. */
static void test_session_named_by_info(void **state)
{
	struct tvn_top_frame f;

	(void)state;
	parse(scrape_a, 0, &f);
	assert_int_equal(f.n_targets, 1);
	assert_int_equal(f.targets[0].pid, 4242);
	assert_string_equal(f.targets[0].exe, "/usr/bin/torvyn-host");
	tvn_top_frame__free(&f);
}

static void test_sort(void **state)
{
	const char *a = "torvyn_flow_elements_total{flow_id=\"slow\"} 0\n"
			"torvyn_flow_elements_total{flow_id=\"fast\"} 0\n"
			"torvyn_flow_elements_total{flow_id=\"mid\"} 0\n";
	const char *b = "torvyn_flow_elements_total{flow_id=\"slow\"} 1\n"
			"torvyn_flow_errors_total{flow_id=\"slow\"} 9\n"
			"torvyn_flow_elements_total{flow_id=\"fast\"} 100\n"
			"torvyn_flow_elements_total{flow_id=\"mid\"} 10\n";
	struct tvn_top_frame fa, fb;

	(void)state;
	parse_at(a, 1, 0, &fa);
	parse_at(b, 1, 1, &fb);
	tvn_top_frame__diff(&fb, &fa);
	tvn_top_frame__sort(&fb, TVN_TOP_SORT_RATE);
	assert_string_equal(fb.flows[0].id, "fast");
	assert_string_equal(fb.flows[1].id, "mid");
	assert_string_equal(fb.flows[2].id, "slow");
	tvn_top_frame__sort(&fb, TVN_TOP_SORT_ERRORS);
	assert_string_equal(fb.flows[0].id, "slow");
	/* ties keep the host's order */
	assert_string_equal(fb.flows[1].id, "fast");
	tvn_top_frame__sort(&fb, TVN_TOP_SORT_ORDER);
	assert_string_equal(fb.flows[0].id, "slow");
	assert_string_equal(fb.flows[2].id, "mid");
	assert_string_equal(tvn_top_sort__name(TVN_TOP_SORT_P99), "p99");
	tvn_top_frame__free(&fa);
	tvn_top_frame__free(&fb);
}

static void test_malformed(void **state)
{
	struct tvn_top_frame f;
	const char *text = "torvyn_flow_elements_total{flow_id=\"f\"} 1\noops\n";
	int bad = 0;

	(void)state;
	assert_int_equal(tvn_top_frame__parse(text, strlen(text), 1, &f, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	assert_int_equal(f.n_flows, 0); /* nothing left behind */
}

static const char *line_with(const struct tvn_top_lines *l, enum tvn_top_line_kind kind,
			     const char *name)
{
	for (int i = 0; i < l->n; i++) {
		char first[64] = "";

		sscanf(l->v[i].text, "%63s", first);
		if (l->v[i].kind == kind && !strcmp(first, name))
			return l->v[i].text;
	}
	fail_msg("no line for %s", name);
	return NULL;
}

static void test_lines_and_json(void **state)
{
	const struct tvn_top_view_opts o = {.source = "pid 4242", .interval_s = 2};
	struct tvn_top_frame a, b;
	struct tvn_top_lines l;
	json_t *j, *fl, *c;
	char *s;

	(void)state;
	parse_at(scrape_a, 4242, 0, &a);
	parse_at(scrape_b, 4242, 2, &b);
	tvn_top_frame__diff(&b, &a);

	assert_int_equal(tvn_top_lines__build(&b, &o, &l), 0);
	assert_int_equal(l.v[0].kind, TVN_TOP_LINE_TITLE);
	assert_non_null(strstr(l.v[0].text, "pid 4242"));
	assert_non_null(strstr(line_with(&l, TVN_TOP_LINE_TARGET, "pid"), "level diagnostic"));
	/* name, total, per second, p50 (none for a flow), p99, errors */
	assert_string_equal(
	    line_with(&l, TVN_TOP_LINE_FLOW, "f1"),
	    "  f1                              1200      100.0               4.8us        4");
	assert_string_equal(
	    line_with(&l, TVN_TOP_LINE_COMP, "work"),
	    "    work                          1100       50.0     1.0us     4.8us        4");
	assert_non_null(
	    strstr(line_with(&l, TVN_TOP_LINE_STREAM, "src->work"), "[########........]    32/64"));
	assert_non_null(strstr(line_with(&l, TVN_TOP_LINE_COMP, "src"), "175ns"));
	tvn_top_lines__free(&l);

	s = tvn_top_json__dump(&b, &o);
	assert_non_null(s);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(j, "targets"), 0), "pid")),
			 4242);
	fl = json_array_get(
	    json_object_get(json_array_get(json_object_get(j, "targets"), 0), "flows"), 0);
	assert_string_equal(json_string_value(json_object_get(fl, "flow_id")), "f1");
	assert_int_equal(json_integer_value(json_object_get(fl, "elements")), 1200);
	assert_true(json_real_value(json_object_get(fl, "elements_per_second")) == 100.0);
	c = json_array_get(json_object_get(fl, "components"), 1);
	assert_string_equal(json_string_value(json_object_get(c, "component_id")), "work");
	assert_int_equal(json_integer_value(json_object_get(c, "invocations")), 1100);
	assert_close(4.75e-6, json_real_value(json_object_get(c, "p99_seconds")));
	/* the flow that appeared has no rate yet: null, not 0 */
	fl = json_array_get(
	    json_object_get(json_array_get(json_object_get(j, "targets"), 0), "flows"), 1);
	assert_true(json_is_null(json_object_get(fl, "elements_per_second")));
	json_decref(j);
	free(s);
	tvn_top_frame__free(&a);
	tvn_top_frame__free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_rates_and_quantiles),
	    cmocka_unit_test(test_flush_phases),
	    cmocka_unit_test(test_quantile_edges),
	    cmocka_unit_test(test_bounds_changed),
	    cmocka_unit_test(test_agent_labels),
	    cmocka_unit_test(test_session_named_by_info),
	    cmocka_unit_test(test_sort),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_lines_and_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
