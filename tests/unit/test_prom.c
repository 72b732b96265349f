// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/trace/render/prom.c: Prometheus 0.0.4 and OpenMetrics
 * rendering (the formats; test_prom_families.c checks what the families
 * hold), and that docs/metrics.md names every family.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "prom_fixture.h"

/* Independent copy of the bounds as text: 100 ns .. 10 s. */
static const char *const le_text[TORVYN_LAT_BOUNDS] = {
    "1e-07",  "2.5e-07", "5e-07",  "1e-06", "2.5e-06", "5e-06", "1e-05", "2.5e-05", "5e-05",
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025",  "0.005", "0.01",	 "0.025",   "0.05",
    "0.1",    "0.25",	 "0.5",	   "1",	    "2.5",     "5",	"10",
};

/* ------------------------------------------------------------ stand-ins */

/* -Wl,--wrap=realloc (UNIT_LIBS_prom): fail the Nth call from now on, 0 never. */
static int realloc_fail_at;
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
	if (realloc_fail_at > 0 && --realloc_fail_at == 0)
		return NULL;
	return __real_realloc(p, n);
}

/* ------------------------------------------------------------ tests */

static void test_content_type(void **state)
{
	(void)state;
	assert_string_equal(tvn_prom__content_type(false),
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(tvn_prom__content_type(true),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static void test_accept(void **state)
{
	static const struct {
		const char *accept;
		bool om;
	} cases[] = {
	    {"", false},
	    {"*/*", false},
	    {"text/plain", false},
	    {"text/plain;version=0.0.4", false},
	    {"application/json", false},
	    {"application/openmetrics-text", true},
	    {"application/openmetrics-text; version=1.0.0; charset=utf-8", true},
	    {"application/openmetrics-text;version=0.0.1", true},
	    {"APPLICATION/OpenMetrics-Text", true},
	    {" application/openmetrics-text ;q=0.5", true},
	    {"application/openmetrics-text;q=0", false},
	    {"application/openmetrics-text; version=1.0.0; q=0.000", false},
	    {"application/openmetrics-text;Q=0", false},
	    {"application/openmetrics-text;version=1.0.0;q=0,*/*", false},
	    {"application/openmetrics-text;q=0.001", true},
	    {"application/openmetrics-text;q=1.000", true},
	    {"application/openmetrics-text;q=1.5", false},
	    {"application/openmetrics-text;q=abc", false},
	    {"application/openmetrics-textual", false},
	    {"application/openmetrics", false},
	    {"application/json, application/openmetrics-text;q=0.1", true},
	    /* Prometheus 2.x and 3.x scrapers */
	    {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
	     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	     true},
	    {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
	     "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
	     "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
	     true},
	    /* text preferred */
	    {"text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5", false},
	    {"*/*, application/openmetrics-text;q=0.9", false},
	    /* equal q: the first listed wins */
	    {"text/plain, application/openmetrics-text", false},
	    {"application/openmetrics-text, text/plain", true},
	    {"application/openmetrics-text;q=0.5, text/plain;q=0.5", true},
	    {"text/plain;q=0, application/openmetrics-text;q=0.1", true},
	    {",,application/openmetrics-text,", true},
	};

	(void)state;
	assert_false(tvn_prom__wants_openmetrics(NULL));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (tvn_prom__wants_openmetrics(cases[i].accept) != cases[i].om)
			fail_msg("Accept \"%s\": want %s", cases[i].accept,
				 cases[i].om ? "OpenMetrics" : "text");
}

static void test_render_args(void **state)
{
	struct tvn_snapshot s = {0};
	char *buf = (char *)&s;
	size_t len = 1;

	(void)state;
	assert_int_equal(tvn_prom__render(NULL, false, &buf, &len), -EINVAL);
	assert_int_equal(tvn_prom__render(&s, false, NULL, &len), -EINVAL);
	assert_int_equal(tvn_prom__render(&s, false, &buf, NULL), -EINVAL);
}

/* 100 flows x 5 components x 4 streams, every block and diagnostic entry present. */
static struct tvn_snapshot *big_snapshot(void)
{
	struct tvn_snapshot *s = sample_snapshot();
	struct tvn_snap_flow *one = &s->flows[0];
	struct tvn_snap_flow *flows = calloc(100, sizeof(*flows));
	struct tvn_snap_transfer *x = calloc(400, sizeof(*x));

	assert_non_null(flows);
	assert_non_null(x);
	for (int fi = 0; fi < 100; fi++) {
		struct tvn_snap_flow *f = &flows[fi];
		char fname[TORVYN_NAME_LEN], name[TORVYN_NAME_LEN];

		snprintf(fname, sizeof(fname), "flow-%d", fi);
		f->present = true;
		f->blk = one->blk;
		set_name(f->blk.hdr.flow_name, fname);
		for (int ci = 0; ci < 5; ci++) {
			f->comps[ci] = one->comps[0];
			f->comps[ci].diag_copies[TORVYN_COPY_PAYLOAD_WRITE].count = 1;
			snprintf(name, sizeof(name), "comp-%d", ci);
			set_name(f->comps[ci].blk.hdr.flow_name, fname);
			set_name(f->comps[ci].blk.hdr.name, name);
		}
		for (int si = 0; si < 4; si++) {
			f->streams[si] = one->streams[0];
			snprintf(name, sizeof(name), "comp-%d->comp-%d", si, si + 1);
			set_name(f->streams[si].blk.hdr.flow_name, fname);
			set_name(f->streams[si].blk.hdr.name, name);
			x[fi * 4 + si] = (struct tvn_snap_transfer){
			    (uint32_t)fi, (uint32_t)si, (uint32_t)si + 1, {10, 1000}};
		}
	}
	free(s->flows);
	free(s->transfers);
	s->flows = flows;
	s->n_flows = 100;
	s->transfers = x;
	s->n_transfers = 400;
	return s;
}

/* Out of memory at the first allocation and while growing: -ENOMEM, nothing returned. */
static void test_render_enomem(void **state)
{
	struct tvn_snapshot *s = big_snapshot();
	char *buf = (char *)s;
	size_t len = 1;
	int rc;

	(void)state;
	for (int at = 1; at <= 4; at++) {
		realloc_fail_at = at;
		rc = tvn_prom__render(s, at % 2, &buf, &len);
		if (realloc_fail_at != 0) {
			realloc_fail_at = 0;
			fail_msg("realloc call %d never came", at);
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(buf);
		assert_int_equal(len, 0);
	}
	assert_int_equal(tvn_prom__render(s, false, &buf, &len), 0);
	free(buf);
	free_snapshot(s);
}

/* Buckets at and around the bounds: per-bucket 3 at 100 ns, 5 at 1 us, 2 above 10 s. */
static void check_hist(const char *t, const char *fam, const char *labels, bool om)
{
	uint64_t want;

	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		const char *le = le_text[i];

		if (om && (!strcmp(le, "1") || !strcmp(le, "5") || !strcmp(le, "10")))
			le = !strcmp(le, "1") ? "1.0" : !strcmp(le, "5") ? "5.0" : "10.0";
		want = i < 3 ? 3 : 8;
		assert_linef(t, "%s_bucket{%s,le=\"%s\"} %llu", fam, labels, le,
			     (unsigned long long)want);
	}
	assert_linef(t, "%s_bucket{%s,le=\"+Inf\"} 10", fam, labels);
	assert_linef(t, "%s_sum{%s} 20.000001300", fam, labels);
	assert_linef(t, "%s_count{%s} 10", fam, labels);
	/* 25 finite bounds and +Inf, nothing else */
	{
		char pfx[256];

		snprintf(pfx, sizeof(pfx), "%s_bucket{%s,", fam, labels);
		assert_int_equal(count_substr(t, pfx), TORVYN_LAT_BUCKETS);
	}
}

static void test_histogram_cumulative(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	const struct torvyn_hist_lat *h = &s->flows[0].comps[0].blk.processing_time;
	char *t, *om;

	(void)state;
	/* the input is consistent: count is the sum of the buckets */
	assert_int_equal(h->count, hist_bucket_sum(h));
	assert_int_equal(h->count, 10);
	t = render(s, false);
	om = render(s, true);
	check_hist(t, "torvyn_component_processing_time_seconds",
		   "flow_id=\"f1\",component_id=\"src\"", false);
	check_hist(om, "torvyn_component_processing_time_seconds",
		   "flow_id=\"f1\",component_id=\"src\"", true);
	/* the first bucket's upper bound is inclusive of exactly 100 ns: 1e-07 */
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"sink\",le=\"1e-07\"} 10000");
	/* _count equals +Inf on every histogram of the sample */
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"+Inf\"} 10000");
	assert_line(t, "torvyn_flow_latency_seconds_count{flow_id=\"f1\"} 10000");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"5e-07\"} 9000");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"1e-06\"} 9900");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"10\"} 9900");
	free(t);
	free(om);
	free_snapshot(s);
}

/* A block read mid-update: count behind the buckets. Buckets stay monotonic. */
static void test_histogram_torn(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	struct torvyn_hist_lat *h = &s->flows[0].comps[0].blk.processing_time;
	char *t;

	(void)state;
	h->count = 5; /* buckets say 8 finite + 2 */
	t = render(s, false);
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"10\"} 8");
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"+Inf\"} 8");
	assert_line(t, "torvyn_component_processing_time_seconds_count{flow_id=\"f1\","
		       "component_id=\"src\"} 8");
	free(t);
	h->count = 12; /* count ahead of the buckets */
	t = render(s, false);
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"+Inf\"} 12");
	assert_line(t, "torvyn_component_processing_time_seconds_count{flow_id=\"f1\","
		       "component_id=\"src\"} 12");
	free(t);
	free_snapshot(s);
}

static void test_flow_state(void **state)
{
	static const char *const states[] = {"Created",	 "Validated", "Instantiated", "Running",
					     "Draining", "Completed", "Cancelled",    "Failed"};
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, false), *om = render(s, true);

	(void)state;
	/* one label name in both formats: the stateset's, named after the family */
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		int v = i == TORVYN_FLOW_COMPLETED;

		assert_linef(t, "torvyn_flow_state{flow_id=\"f1\",torvyn_flow_state=\"%s\"} %d",
			     states[i], v);
		assert_linef(om, "torvyn_flow_state{flow_id=\"f1\",torvyn_flow_state=\"%s\"} %d",
			     states[i], v);
	}
	assert_line(t, "# TYPE torvyn_flow_state gauge");
	assert_line(om, "# TYPE torvyn_flow_state stateset");
	free(t);
	free(om);
	free_snapshot(s);
}

static void test_label_escaping(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	struct tvn_snap_flow *f = &s->flows[0];
	char *t;

	(void)state;
	set_name(f->blk.hdr.flow_name, "a\"b\\c\nd");
	/* 48 bytes, no NUL: the label stops at the field's end */
	memset(f->comps[0].blk.hdr.name, 'x', TORVYN_NAME_LEN);
	set_name(f->comps[1].blk.hdr.name, "bad\xff\xc3(utf8\xc3\xa9");
	strcpy(s->target_exe, "/opt/my \"host\"\\bin");
	/* overlong, surrogate, above U+10FFFF, then a valid 4-byte sequence */
	set_name(f->streams[0].blk.hdr.name,
		 "s\xe0\x80\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\xf0\x9f\x98\x80");
	t = render(s, false);
	assert_line(t, "torvyn_flow_elements_total{flow_id=\"a\\\"b\\\\c\\nd\"} 10000");
	assert_linef(t,
		     "torvyn_component_invocations_total{flow_id=\"a\\\"b\\\\c\\nd\","
		     "component_id=\"%.48s\"} 20000",
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_line(t, "torvyn_component_invocations_total{flow_id=\"a\\\"b\\\\c\\nd\","
		       "component_id=\"bad\xef\xbf\xbd\xef\xbf\xbd(utf8\xc3\xa9\"} 10000");
	assert_line(t, "torvyn_trace_info{pid=\"4242\",exe=\"/opt/my \\\"host\\\"\\\\bin\"} 1");
#define FFFD "\xef\xbf\xbd"
	assert_line(
	    t,
	    "torvyn_stream_queue_capacity{flow_id=\"a\\\"b\\\\c\\nd\",stream_id=\"s" FFFD FFFD FFFD
	    "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|\xf0\x9f\x98\x80\"} 64");
#undef FFFD
	assert_valid(t, false);
	free(t);

	set_name(f->blk.hdr.flow_name, ""); /* unnamed: the index */
	t = render(s, false);
	assert_line(t, "torvyn_flow_elements_total{flow_id=\"0\"} 10000");
	free(t);
	free_snapshot(s);
}

/* Counters: _total exactly once on every sample; declared without it in OpenMetrics. */
static void test_counter_total(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, false), *om = render(s, true);

	(void)state;
	assert_valid(t, false);
	assert_valid(om, true);
	assert_null(strstr(t, "_total_total"));
	assert_null(strstr(om, "_total_total"));
	assert_line(t, "# TYPE torvyn_flow_elements_total counter");
	assert_line(om, "# TYPE torvyn_flow_elements counter");
	assert_line(om, "# TYPE torvyn_pool_fallbacks counter");
	assert_line(om, "torvyn_flow_elements_total{flow_id=\"f1\"} 10000");
	assert_no_line(om, "# TYPE torvyn_flow_elements_total counter");
	for (size_t i = 0; i < n_want_fams; i++) {
		char line[160];

		if (strcmp(want_fams[i].type, "counter"))
			continue;
		snprintf(line, sizeof(line), "# TYPE %s_total counter", want_fams[i].name);
		assert_line(t, line);
		assert_no_line(om, line);
	}
	free(t);
	free(om);
	free_snapshot(s);
}

/* The checker itself catches what it is meant to. */
static void test_checker_rejects(void **state)
{
	static const struct {
		const char *text;
		bool om;
	} bad[] = {
	    {"a_total 1\n", false},
	    {"# HELP a_total x\na_total 1\n", false},
	    {"# TYPE a_total counter\na_total 1\n", false},
	    {"# HELP a x\n# TYPE a counter\na 1\n", false},
	    {"# HELP a_total x\n# TYPE a_total counter\na_total 1\n", true},
	    {"# HELP a x\n# TYPE a counter\na_total 1\n", true},
	    {"# HELP g x\n# TYPE g gauge\ng_total 1\n", false},
	    {"# HELP g x\n# TYPE g gauge\ng{l=\"a\\x\"} 1\n", false},
	    {"# HELP g x\n# TYPE g gauge\ng 1\n# HELP h x\n# TYPE h gauge\nh 1\ng 2\n", false},
	    {"# TYPE g_bytes gauge\n# UNIT g_bytes seconds\n# HELP g_bytes x\ng_bytes 1\n"
	     "# EOF\n",
	     true},
	    {"# TYPE g gauge\n# HELP g x\ng 1\n", true},
	    {"# TYPE g gauge\n# HELP g x\ng 1\n# EOF\ng 2\n", true},
	};
	struct parsed *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (check_exposition(bad[i].text, bad[i].om, p) == 0)
			fail_msg("checker accepted case %zu", i);
	assert_int_equal(check_exposition("# HELP g x\n# TYPE g gauge\ng 1\n", false, p), 0);
	free(p);
}

static void test_openmetrics_format(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	char *om = render(s, true), *t = render(s, false);
	size_t n = strlen(om);

	(void)state;
	assert_true(n > 6);
	assert_string_equal(om + n - 6, "# EOF\n");
	assert_int_equal(count_substr(om, "# EOF"), 1);
	assert_null(strstr(t, "# EOF"));
	assert_null(strstr(t, "# UNIT"));
	assert_line(om, "# UNIT torvyn_flow_latency_seconds seconds");
	assert_line(om, "# UNIT torvyn_flow_copied_bytes bytes");
	assert_line(om, "# UNIT torvyn_component_idle_time_seconds seconds");
	assert_line(om, "# TYPE torvyn_flow_latency_seconds histogram");
	assert_line(om, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"10.0\"} 9900");
	assert_line(om, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"2.5\"} 9900");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"10\"} 9900");
	/* TYPE before UNIT before HELP, then samples */
	assert_non_null(strstr(om, "# TYPE torvyn_component_idle_time_seconds counter\n"
				   "# UNIT torvyn_component_idle_time_seconds seconds\n"
				   "# HELP torvyn_component_idle_time_seconds "));
	free(om);
	free(t);
	free_snapshot(s);
}

/* ------------------------------------------------------------ the catalogue page */

/* docs/metrics.md names every family as it is scraped. */
static void test_docs_catalogue(void **state)
{
	char path[PATH_MAX + 32], *doc;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/docs/metrics.md", ((const struct dirs *)*state)->repo);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	doc = malloc((size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	doc[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < n_want_fams; i++) {
		const struct want_fam *w = &want_fams[i];
		char name[160];

		snprintf(name, sizeof(name), "`%s%s`", w->name,
			 !strcmp(w->type, "counter") ? "_total"
			 : !strcmp(w->type, "info")  ? "_info"
						     : "");
		if (!strstr(doc, name))
			fail_msg("%s does not list %s", path, name);
	}
	free(doc);
}

/* ------------------------------------------------------------ speed */

static double render_ms(const struct tvn_snapshot *s, bool om, size_t *len)
{
	double best = 1e9;

	for (int i = 0; i < 10; i++) {
		uint64_t t0 = mono_ns();
		char *buf = NULL;
		double ms;

		assert_int_equal(tvn_prom__render(s, om, &buf, len), 0);
		ms = (double)(mono_ns() - t0) / 1e6;
		best = ms < best ? ms : best;
		free(buf);
	}
	return best;
}

/* 100 flows x 5 components x 4 streams, every family: exact counts; the time is printed. */
static void test_render_large(void **state)
{
	struct tvn_snapshot *s = big_snapshot();
	size_t len_text, len_om;
	double ms_text, ms_om;
	char *t;

	(void)state;
#ifdef TVN_SANITIZE
	/* make SANITIZE=1: time means nothing, and ASan's strstr makes count_substr quadratic */
	free_snapshot(s);
	skip();
#endif
	t = render(s, false);
	assert_valid(t, false);
	assert_line(t, "torvyn_component_invocations_total{flow_id=\"flow-99\","
		       "component_id=\"comp-4\"} 20000");
	assert_int_equal(count_substr(t, "torvyn_component_invocations_total{"), 500);
	assert_int_equal(count_substr(t, "torvyn_stream_queue_wait_time_seconds_count{"), 400);
	assert_int_equal(count_substr(t, "torvyn_diagnostic_transfers_total{"), 400);
	print_message("%d sample lines\n", count_substr(t, "\n") - 2 * count_substr(t, "# TYPE"));
	free(t);
	ms_text = render_ms(s, false, &len_text);
	ms_om = render_ms(s, true, &len_om);
	free_snapshot(s);
	print_message("render 100 flows x 5 components x 4 streams: 0.0.4 %.2f ms (%zu bytes), "
		      "OpenMetrics %.2f ms (%zu bytes)\n",
		      ms_text, len_text, ms_om, len_om);
	/* the time is reported, not asserted: speed is for benchmarks */
}

int main(int argc, char **argv)
{
	struct dirs dirs = {"build/tests", "."};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_accept),
	    cmocka_unit_test(test_render_args),
	    cmocka_unit_test(test_render_enomem),
	    cmocka_unit_test(test_histogram_cumulative),
	    cmocka_unit_test(test_histogram_torn),
	    cmocka_unit_test(test_flow_state),
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_counter_total),
	    cmocka_unit_test(test_checker_rejects),
	    cmocka_unit_test(test_openmetrics_format),
	    cmocka_unit_test_prestate(test_docs_catalogue, &dirs),
	    cmocka_unit_test(test_render_large),
	};

	(void)argc;
	find_dirs(argv[0], &dirs);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
