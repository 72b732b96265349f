// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/trace/bench.c: renderings, loading, baselines, compare, histogram. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "bench.h"

/* ------------------------------------------------------------ fixtures */

/* A report in which every field has its own value, so a swap or a loss shows. */
static void fill_report(struct tvn_bench_report *r)
{
	static const char *const names[] = {"source", "transform", "sink"};

	memset(r, 0, sizeof(*r));
	r->schema_version = TVN_BENCH_SCHEMA_VERSION;
	snprintf(r->target, sizeof(r->target), "./torvyn-host --pipeline \"steady, 1\".json");
	r->pid = 4242;
	snprintf(r->started_at, sizeof(r->started_at), "2025-06-01T12:00:00Z");
	r->duration_s = 10.0;
	r->warmup_s = 2.0;
	r->elements = 123456;
	r->bytes = 987654321;
	r->elements_per_sec = 12345.6;
	r->bytes_per_sec = 98765432.1;
	r->latency_samples = 123450;
	r->p50_us = 41.25;
	r->p90_us = 77.5;
	r->p95_us = 90.125;
	r->p99_us = 150.0;
	r->p999_us = 1.0 / 3.0 * 1000; /* needs all 17 digits */
	r->max_us = 2500.75;
	r->mean_us = 50.0625;

	r->n_comps = 3;
	r->comps = calloc(3, sizeof(*r->comps));
	assert_non_null(r->comps);
	for (int i = 0; i < 3; i++) {
		struct tvn_bench_component *c = &r->comps[i];

		snprintf(c->flow, sizeof(c->flow), "steady");
		snprintf(c->component, sizeof(c->component), "%s", names[i]);
		c->invocations = 123456 + i;
		c->errors = (uint64_t)i;
		c->p50_us = 2.5 + 10 * i;
		c->p99_us = 7.25 + 20 * i;
		c->wakeups = 1000 + (uint64_t)i;
		c->idle_s = 0.5 + i;
		c->cpu_s = 0.1 * (i + 1);
	}
	/* transform is the slowest by mean, and has the highest share */
	r->comps[0].mean_us = 3.0;
	r->comps[1].mean_us = 30.0;
	r->comps[2].mean_us = 12.5;
	r->comps[0].max_us = 40.0;
	r->comps[1].max_us = 400.0;
	r->comps[2].max_us = 90.0;
	r->comps[0].share_pct = 6.0;
	r->comps[1].share_pct = 60.0;
	r->comps[2].share_pct = 25.0;

	r->n_streams = 2;
	r->streams = calloc(2, sizeof(*r->streams));
	assert_non_null(r->streams);
	for (int i = 0; i < 2; i++) {
		struct tvn_bench_stream *s = &r->streams[i];

		snprintf(s->flow, sizeof(s->flow), "steady");
		snprintf(s->stream, sizeof(s->stream), "s%d", i + 1);
		s->mean_depth = 3.5 + i;
		s->peak_depth = 60 + (uint64_t)i;
		s->capacity = 64;
		s->backpressure_events = 7 + (uint64_t)i;
		s->backpressure_s = 0.0125 * (i + 1);
		s->elements = 123456 - (uint64_t)i;
	}

	r->buffer_allocs = 1000;
	r->pool_hits = 950;
	r->fallback_allocs = 50;
	r->pool_reuse_pct = 95.0;
	for (int i = 0; i < 4; i++) {
		r->copies[i] = 100 * (uint64_t)(i + 1);
		r->copy_bytes[i] = 4096 * (uint64_t)(i + 1) + 1;
	}
	r->total_copies = 1000;
	r->total_copy_bytes = 40964;
	r->total_wakeups = 3003;
	r->total_idle_s = 4.5;
	r->backpressure_events = 15;
	r->queue_peak = 61;
	r->queue_capacity = 64;
	r->peak_rss_bytes = 48 * 1024 * 1024;
	r->mean_rss_bytes = 40 * 1024 * 1024 + 12345;
}

/* The report as text in format f. Caller frees. */
static char *render(const struct tvn_bench_report *r, enum tvn_bench_format f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(tvn_bench_report__write(r, f, out), 0);
	fclose(out);
	return buf;
}

/* compare()'s result and text. */
static int compare(const struct tvn_bench_report *cur, const struct tvn_bench_report *base, double thr,
		   enum tvn_bench_format f, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int ret;

	assert_non_null(out);
	ret = tvn_bench_report__compare(cur, base, thr, f, out);
	fclose(out);
	*text = buf;
	return ret;
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("missing \"%s\" in:\n%s", (needle), (hay));                       \
	} while (0)

#define assert_lacks(hay, needle)                                                                  \
	do {                                                                                       \
		if (strstr((hay), (needle)))                                                       \
			fail_msg("unexpected \"%s\" in:\n%s", (needle), (hay));                    \
	} while (0)

#define assert_prefix(text, prefix)                                                                \
	do {                                                                                       \
		if (strncmp((text), (prefix), strlen(prefix)))                                     \
			fail_msg("want prefix \"%s\" in:\n%s", (prefix), (text));                  \
	} while (0)

/* A fresh directory that the test works in; restores the old cwd on leave_dir(). */
static char old_cwd[PATH_MAX];
static char tmp_dir[64];

static void enter_tmp_dir(void)
{
	assert_non_null(getcwd(old_cwd, sizeof(old_cwd)));
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_bench.XXXXXX");
	assert_non_null(mkdtemp(tmp_dir));
	assert_int_equal(chdir(tmp_dir), 0);
}

static void leave_tmp_dir(void)
{
	char cmd[128];

	assert_int_equal(chdir(old_cwd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	assert_int_equal(system(cmd), 0);
}

/* cmocka runs teardowns after a failed test too: no test is left in another's directory. */
static int setup_tmp_dir(void **state)
{
	(void)state;
	enter_tmp_dir();
	return 0;
}

static int teardown_tmp_dir(void **state)
{
	(void)state;
	leave_tmp_dir();
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------ JSON round trip */

#define EQ_U(f) assert_int_equal(a->f, b->f)
#define EQ_S(f) assert_string_equal(a->f, b->f)
#define EQ_D(f)                                                                                    \
	do {                                                                                       \
		if (!(a->f == b->f || (isnan(a->f) && isnan(b->f))))                               \
			fail_msg(#f ": %.17g != %.17g", a->f, b->f);                               \
	} while (0)

static void assert_comp_equal(const struct tvn_bench_component *a, const struct tvn_bench_component *b)
{
	EQ_S(flow);
	EQ_S(component);
	EQ_U(invocations);
	EQ_U(errors);
	EQ_D(p50_us);
	EQ_D(p99_us);
	EQ_D(mean_us);
	EQ_D(max_us);
	EQ_D(share_pct);
	EQ_U(wakeups);
	EQ_D(idle_s);
	EQ_D(cpu_s);
}

static void assert_stream_equal(const struct tvn_bench_stream *a, const struct tvn_bench_stream *b)
{
	EQ_S(flow);
	EQ_S(stream);
	EQ_D(mean_depth);
	EQ_U(peak_depth);
	EQ_U(capacity);
	EQ_U(backpressure_events);
	EQ_D(backpressure_s);
	EQ_U(elements);
}

static void assert_report_equal(const struct tvn_bench_report *a, const struct tvn_bench_report *b)
{
	EQ_U(schema_version);
	EQ_S(target);
	EQ_U(pid);
	EQ_S(started_at);
	EQ_D(duration_s);
	EQ_D(warmup_s);
	EQ_U(elements);
	EQ_U(bytes);
	EQ_D(elements_per_sec);
	EQ_D(bytes_per_sec);
	EQ_U(latency_samples);
	EQ_D(p50_us);
	EQ_D(p90_us);
	EQ_D(p95_us);
	EQ_D(p99_us);
	EQ_D(p999_us);
	EQ_D(max_us);
	EQ_D(mean_us);
	EQ_U(n_comps);
	for (int i = 0; i < a->n_comps; i++)
		assert_comp_equal(&a->comps[i], &b->comps[i]);
	EQ_S(slowest);
	EQ_U(n_streams);
	for (int i = 0; i < a->n_streams; i++)
		assert_stream_equal(&a->streams[i], &b->streams[i]);
	EQ_U(buffer_allocs);
	EQ_U(pool_hits);
	EQ_U(fallback_allocs);
	EQ_D(pool_reuse_pct);
	for (int i = 0; i < 4; i++) {
		EQ_U(copies[i]);
		EQ_U(copy_bytes[i]);
	}
	EQ_U(total_copies);
	EQ_U(total_copy_bytes);
	EQ_U(total_wakeups);
	EQ_D(total_idle_s);
	EQ_U(backpressure_events);
	EQ_U(queue_peak);
	EQ_U(queue_capacity);
	EQ_U(peak_rss_bytes);
	EQ_U(mean_rss_bytes);
}

static void round_trip(const struct tvn_bench_report *r)
{
	struct tvn_bench_report back;
	char err[256] = "";
	char *json;

	json = render(r, TVN_BENCH_JSON);
	write_file("r.json", json);
	free(json);
	if (tvn_bench_report__load("r.json", &back, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_report_equal(r, &back);
	tvn_bench_report__free(&back);
}

static void test_json_round_trip(void **state)
{
	struct tvn_bench_report r;

	(void)state;
	fill_report(&r);
	snprintf(r.slowest, sizeof(r.slowest), "steady/transform");
	r.elements = (uint64_t)INT64_MAX; /* the largest counter JSON keeps */
	r.bytes_per_sec = 0.1;
	snprintf(r.comps[2].component, sizeof(r.comps[2].component), "sink-µ\"q\"");
	round_trip(&r);
	tvn_bench_report__free(&r);
}

/* No components, no streams, NaN (written as null): still read back as written. */
static void test_json_round_trip_empty_and_nan(void **state)
{
	struct tvn_bench_report r;

	(void)state;
	fill_report(&r);
	tvn_bench_report__free(&r);
	r.mean_us = NAN;
	r.pool_reuse_pct = NAN;
	round_trip(&r);
}

static void test_json_upstream_names(void **state)
{
	static const char *const paths[][2] = {
	    {"throughput", "elements_per_sec"},
	    {"throughput", "bytes_per_sec"},
	    {"latency", "p50_us"},
	    {"latency", "p90_us"},
	    {"latency", "p95_us"},
	    {"latency", "p99_us"},
	    {"latency", "p999_us"},
	    {"latency", "max_us"},
	    {"resources", "buffer_allocs"},
	    {"resources", "pool_reuse_pct"},
	    {"resources", "total_copies"},
	    {"resources", "peak_memory_bytes"},
	    {"scheduling", "total_wakeups"},
	    {"scheduling", "backpressure_events"},
	    {"scheduling", "queue_peak"},
	    {"scheduling", "queue_capacity"},
	};
	struct tvn_bench_report r;
	json_error_t jerr;
	json_t *root, *pc;
	char *json;

	(void)state;
	fill_report(&r);
	r.p999_us = 333.25;
	r.comps[2].cpu_s = 0.3; /* not 0.1 * 3 == 0.30000000000000004 */
	json = render(&r, TVN_BENCH_JSON);
	root = json_loads(json, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "schema_version")),
			 TVN_BENCH_SCHEMA_VERSION);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!json_is_number(
			json_object_get(json_object_get(root, paths[i][0]), paths[i][1])))
			fail_msg("no number %s.%s", paths[i][0], paths[i][1]);
	assert_true(json_real_value(json_object_get(json_object_get(root, "latency"), "p99_us")) ==
		    150.0);
	pc = json_array_get(json_object_get(root, "per_component"), 1);
	assert_string_equal(json_string_value(json_object_get(pc, "component")), "transform");
	assert_true(json_real_value(json_object_get(pc, "p99_us")) == 27.25);
	assert_true(json_real_value(json_object_get(pc, "p50_us")) == 12.5);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_object_get(root, "resources"), "copies"),
				"PayloadRead"),
		"bytes")),
	    8193);
	/*
	 * Reals print with the fewest digits that read back exactly for all of
	 * them (the round trip tests the 17-digit case): 98765432.1, not
	 * 98765432.099999994; 150.0, not 1.5e2.
	 */
	assert_contains(json, "\"elements_per_sec\": 12345.6,");
	assert_contains(json, "\"bytes_per_sec\": 98765432.1\n");
	assert_contains(json, "\"p99_us\": 150.0,");
	assert_contains(json, "\"p999_us\": 333.25,");
	/* fixed key order: schema_version first */
	assert_prefix(json, "{\n  \"schema_version\": 1,\n  \"target\": \"./torvyn-host");
	json_decref(root);
	free(json);
	tvn_bench_report__free(&r);
}

/* ------------------------------------------------------------ load errors */

static void test_load_bad_schema_version(void **state)
{
	struct tvn_bench_report r;
	char err[256];

	(void)state;
	write_file("old.json", "{\"schema_version\": 7, \"target\": \"x\"}");
	assert_int_equal(tvn_bench_report__load("old.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(
	    err, "old.json: schema_version 7, this torvyn-trace reads 1: re-record the baseline");
	assert_null(r.comps);
}

static void test_load_errors(void **state)
{
	struct tvn_bench_report r, good;
	char err[256], *json, *p;

	(void)state;
	assert_int_equal(tvn_bench_report__load("nope.json", &r, err, sizeof(err)), -ENOENT);
	assert_contains(err, "nope.json");

	write_file("garbage.json", "{\"schema_version\": 1,");
	assert_int_equal(tvn_bench_report__load("garbage.json", &r, err, sizeof(err)), -EINVAL);
	assert_prefix(err, "garbage.json: line 1 column");

	write_file("other.json", "{\"hello\": 1}");
	assert_int_equal(tvn_bench_report__load("other.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "other.json: no schema_version: not a torvyn-trace bench report");

	/* a report without latency.p99_us: the message names the field */
	fill_report(&good);
	json = render(&good, TVN_BENCH_JSON);
	p = strstr(json, "\"p99_us\"");
	assert_non_null(p);
	memcpy(p, "\"p98_us\"", 8);
	write_file("nop99.json", json);
	assert_int_equal(tvn_bench_report__load("nop99.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "nop99.json: latency.p99_us: missing");
	assert_null(r.comps);
	assert_int_equal(r.n_comps, 0);

	/* a negative counter in the second component */
	free(json);
	json = render(&good, TVN_BENCH_JSON);
	p = strstr(json, "\"invocations\": 123457");
	assert_non_null(p);
	memcpy(p, "\"invocations\": -23457", 21);
	write_file("neg.json", json);
	assert_int_equal(tvn_bench_report__load("neg.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "neg.json: per_component[1].invocations: not an integer >= 0");
	free(json);
	tvn_bench_report__free(&good);
}

/* ------------------------------------------------------------ pretty, csv, markdown */

static void test_pretty_sections_and_slowest(void **state)
{
	static const char *const sections[] = {
	    "\nThroughput\n", "\nLatency (end to end, ", "\nPer component\n", "\nQueues\n",
	    "\nBuffers\n",    "\nScheduling\n",		 "\nMemory\n"};
	struct tvn_bench_report r;
	char *text, *line;

	(void)state;
	fill_report(&r);
	text = render(&r, TVN_BENCH_PRETTY);
	assert_prefix(text, "torvyn-trace bench: ./torvyn-host --pipeline \"steady, 1\".json  pid");
	assert_contains(text,
			"pid 4242  window 10.00 s  warmup 2.00 s  started 2025-06-01T12:00:00Z\n");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		assert_contains(text, sections[i]);
	assert_contains(text, "  slowest: steady/transform (share 60.0%)\n");
	/* the star is on the transform row and only there */
	line = strstr(text, "\n  * ");
	assert_non_null(line);
	assert_prefix(line, "\n  * steady/transform ");
	assert_null(strstr(line + 1, "\n  * "));
	assert_contains(text, "    steady/sink ");
	/* units that fit */
	assert_contains(text, "12.35 k/s (123456 elements)");
	assert_contains(text, "94.2 MiB/s (941.9 MiB)");
	assert_contains(text, "  p99    150.0 µs\n");
	assert_contains(text, "  p99.9  333.3 µs\n");
	assert_contains(text, "  max     2.50 ms\n");
	assert_contains(text, "61/64");
	assert_contains(text, "    PayloadRead         200   8.0 KiB\n");
	assert_contains(text, "  pool reuse   95.0%\n");
	assert_contains(text, "  peak RSS  48.0 MiB\n");
	free(text);

	/* the slowest the report names wins over the highest mean */
	snprintf(r.slowest, sizeof(r.slowest), "steady/sink");
	text = render(&r, TVN_BENCH_PRETTY);
	assert_contains(text, "  slowest: steady/sink (share 25.0%)\n");
	assert_contains(text, "\n  * steady/sink ");
	free(text);
	tvn_bench_report__free(&r);
}

static void test_csv_exact(void **state)
{
	static const char want[] =
	    "target,duration_s,elements,elements_per_sec,bytes_per_sec,p50_us,p90_us,"
	    "p95_us,p99_us,p999_us,max_us,buffer_allocs,pool_reuse_pct,total_copies,"
	    "total_wakeups,backpressure_events,queue_peak,queue_capacity,peak_rss_bytes\n"
	    "\"./torvyn-host --pipeline \"\"steady, 1\"\".json\",10,123456,12345.6,"
	    "98765432.1,41.25,77.5,90.125,150,333.3333333333333,2500.75,1000,95,1000,"
	    "3003,15,61,64,50331648\n"
	    "\n"
	    "flow,component,invocations,errors,p50_us,p99_us,mean_us,max_us,share_pct,"
	    "wakeups,idle_s,cpu_s\n"
	    "steady,source,123456,0,2.5,7.25,3,40,6,1000,0.5,0.1\n"
	    "steady,transform,123457,1,12.5,27.25,30,400,60,1001,1.5,0.2\n"
	    "steady,sink,123458,2,22.5,47.25,12.5,90,25,1002,2.5,0.30000000000000004\n";
	struct tvn_bench_report r;
	char *text;

	(void)state;
	fill_report(&r);
	text = render(&r, TVN_BENCH_CSV);
	assert_string_equal(text, want);
	free(text);
	tvn_bench_report__free(&r);
}

static void test_markdown_tables(void **state)
{
	struct tvn_bench_report r;
	char *text;

	(void)state;
	fill_report(&r);
	snprintf(r.comps[0].component, sizeof(r.comps[0].component), "a|b");
	text = render(&r, TVN_BENCH_MARKDOWN);
	assert_prefix(
	    text, "## torvyn-trace bench: `./torvyn-host --pipeline \"steady, 1\".json`\n\n"
		  "pid 4242 · window 10.00 s · warmup 2.00 s · started 2025-06-01T12:00:00Z\n\n");
	assert_contains(text, "### Throughput\n\n| metric | value |\n|---|---|\n| elements/s |");
	assert_contains(text, "### Latency (end to end, 123450 samples)\n\n"
			      "| samples | p50 | p90 | p95 | p99 | p99.9 | max | mean |\n"
			      "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
			      "| 123450 | 41.2 µs | 77.5 µs | 90.1 µs | 150.0 µs | 333.3 µs | "
			      "2.50 ms | 50.1 µs |\n");
	assert_contains(text, "### Per component\n\n| flow/component | invocations | errors | p50 "
			      "| p99 | mean | share | wakeups | idle |\n"
			      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	assert_contains(text, "| steady/a\\|b | 123456 | 0 |");
	assert_contains(text, "| **steady/transform** | 123457 | 1 | 12.5 µs | 27.2 µs | 30.0 µs "
			      "| 60.0% | 1001 | 1.50 s |\n");
	assert_contains(text, "slowest: **steady/transform** (share 60.0%)\n");
	assert_contains(text, "### Queues\n\n| flow/stream | mean depth | peak/capacity |");
	assert_contains(text, "| steady/s2 | 4.5 | 61/64 | 8 | 25.0 ms | 123455 |\n");
	assert_contains(text, "### Buffers\n\n| metric | value |\n");
	assert_contains(text, "| copy reason | copies | bytes |\n|---|---:|---:|\n"
			      "| MetadataMarshal | 100 | 4.0 KiB |\n");
	assert_contains(text,
			"### Scheduling\n\n| metric | value |\n|---|---|\n| wakeups | 3003 |\n");
	assert_contains(text,
			"### Memory\n\n| metric | value |\n|---|---|\n| peak RSS | 48.0 MiB |\n");
	free(text);
	tvn_bench_report__free(&r);
}

static void test_empty_report_renders(void **state)
{
	struct tvn_bench_report r = {.schema_version = TVN_BENCH_SCHEMA_VERSION};
	char *text;

	(void)state;
	assert_int_equal(tvn_bench_report__slowest(&r), -1);
	text = render(&r, TVN_BENCH_PRETTY);
	assert_contains(text, "  no elements completed in the window\n");
	assert_contains(text, "  no components\n");
	assert_contains(text, "  no streams\n");
	assert_lacks(text, "slowest");
	free(text);
	text = render(&r, TVN_BENCH_MARKDOWN);
	assert_contains(text, "no components\n");
	free(text);
	r.n_comps = 2; /* but no array */
	assert_int_equal(tvn_bench_report__write(&r, TVN_BENCH_JSON, stdout), -EINVAL);
}

/* ------------------------------------------------------------ compare */

static void test_compare_same(void **state)
{
	static const enum tvn_bench_format fmts[] = {TVN_BENCH_PRETTY, TVN_BENCH_MARKDOWN, TVN_BENCH_CSV};
	struct tvn_bench_report r;
	json_error_t jerr;
	json_t *root;
	char *text;

	(void)state;
	fill_report(&r);
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		assert_int_equal(compare(&r, &r, 10, fmts[i], &text), 0);
		assert_lacks(text, "REGRESSION");
		assert_lacks(text, "slower");
		assert_lacks(text, "true");
		free(text);
	}
	assert_int_equal(compare(&r, &r, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_contains(text, "\nthroughput (elements/s)   12.35 k/s   12.35 k/s   +0.0%\n");
	assert_contains(text, "p99 steady/transform");
	assert_contains(text, "no regression (threshold 10%)\n");
	free(text);
	assert_int_equal(compare(&r, &r, 10, TVN_BENCH_JSON, &text), 0);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_false(json_object_get(root, "regression")));
	free(text);
	json_decref(root);
	tvn_bench_report__free(&r);
}

static void test_compare_throughput_drop(void **state)
{
	struct tvn_bench_report base, cur;
	json_error_t jerr;
	json_t *root;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	base.elements_per_sec = 10000;
	cur.elements_per_sec = 8000;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 1);
	assert_contains(
	    text, "\nthroughput (elements/s)   10.00 k/s    8.00 k/s  -20.0%  << REGRESSION\n");
	assert_contains(text, "REGRESSION: throughput (elements/s) -20.0% (threshold 10%)\n");
	assert_lacks(text, "no regression");
	free(text);

	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_JSON, &text), 1);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(root, "regression")));
	assert_true(json_number_value(json_object_get(root, "threshold_pct")) == 10);
	assert_true(json_number_value(json_object_get(json_object_get(root, "change_pct"),
						      "elements_per_sec")) == -20);
	assert_true(json_number_value(json_object_get(json_object_get(root, "baseline"),
						      "elements_per_sec")) == 10000);
	assert_true(json_number_value(json_object_get(json_object_get(root, "current"),
						      "elements_per_sec")) == 8000);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(root, "regressions"), 0)),
	    "elements_per_sec");
	json_decref(root);
	free(text);

	/* a 20 % drop passes a 25 % threshold; exactly 10 % is not "more than" 10 % */
	assert_int_equal(compare(&cur, &base, 25, TVN_BENCH_PRETTY, &text), 0);
	free(text);
	cur.elements_per_sec = 9000;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	free(text);
	/* faster is never a regression */
	cur.elements_per_sec = 20000;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	free(text);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

static void test_compare_p99(void **state)
{
	struct tvn_bench_report base, cur;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	base.p99_us = 100;
	cur.p99_us = 105;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_lacks(text, "REGRESSION");
	assert_contains(text, "+5.0%");
	free(text);

	cur.p99_us = 115;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 1);
	assert_contains(text, "  +15.0%  << REGRESSION\n");
	assert_contains(text, "REGRESSION: p99 +15.0% (threshold 10%)\n");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_MARKDOWN, &text), 1);
	assert_contains(text, "| p99 | 100.0 µs | 115.0 µs | +15.0% | **REGRESSION** |\n");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_CSV, &text), 1);
	assert_contains(text, "metric,baseline,current,change_pct,regression\n");
	assert_contains(text, "\np99_us,100,115,15,true\n");
	free(text);

	/* a lower p99 is no regression, nor is a slower component's p99 alone */
	cur.p99_us = 50;
	cur.comps[1].p99_us = base.comps[1].p99_us * 2;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_contains(text,
			"\np99 steady/transform        27.2 µs     54.5 µs  +100.0%  slower\n");
	free(text);

	assert_int_equal(tvn_bench_report__compare(&cur, &base, -1, TVN_BENCH_PRETTY, stdout), -EINVAL);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

/* Components only in one report get no row; a zero baseline gives n/a. */
static void test_compare_components_in_both(void **state)
{
	struct tvn_bench_report base, cur;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	snprintf(cur.comps[0].component, sizeof(cur.comps[0].component), "new-source");
	base.max_us = 0;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_lacks(text, "source");
	assert_contains(text, "p99 steady/sink");
	assert_contains(text, "  n/a");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_JSON, &text), 0);
	assert_contains(text, "\"max_us\": null");
	free(text);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

/* ------------------------------------------------------------ baselines */

static void test_baseline_save_resolve(void **state)
{
	struct tvn_bench_report r, back;
	char path[128], err[256];
	struct stat st;
	struct dirent *d;
	DIR *dir;
	int n = 0;

	(void)state;
	fill_report(&r);
	assert_int_equal(tvn_bench_report__save_baseline(&r, "ci-main_1.0", path, sizeof(path)), 0);
	assert_string_equal(path, ".torvyn/bench/ci-main_1.0.json");
	assert_int_equal(stat(".torvyn/bench/ci-main_1.0.json", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* saving again replaces it and leaves no temp files */
	r.p99_us = 999;
	assert_int_equal(tvn_bench_report__save_baseline(&r, "ci-main_1.0", path, sizeof(path)), 0);
	dir = opendir(".torvyn/bench");
	assert_non_null(dir);
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dir);
	assert_int_equal(n, 1);

	assert_int_equal(tvn_bench_report__resolve("ci-main_1.0", path, sizeof(path)), 0);
	assert_string_equal(path, ".torvyn/bench/ci-main_1.0.json");
	if (tvn_bench_report__load(path, &back, err, sizeof(err)))
		fail_msg("%s", err);
	assert_report_equal(&r, &back);
	tvn_bench_report__free(&back);

	/* an existing file wins, even when it could be a name */
	write_file("ci-main_1.0", "{}");
	assert_int_equal(tvn_bench_report__resolve("ci-main_1.0", path, sizeof(path)), 0);
	assert_string_equal(path, "ci-main_1.0");
	assert_int_equal(
	    tvn_bench_report__resolve(".torvyn/bench/ci-main_1.0.json", path, sizeof(path)), 0);
	assert_string_equal(path, ".torvyn/bench/ci-main_1.0.json");
	assert_int_equal(tvn_bench_report__resolve("nope", path, sizeof(path)), -ENOENT);
	assert_string_equal(path, ".torvyn/bench/nope.json");
	assert_int_equal(tvn_bench_report__resolve("no/such.json", path, sizeof(path)), -ENOENT);
	assert_int_equal(tvn_bench_report__resolve("", path, sizeof(path)), -EINVAL);
	/* too small a buffer */
	assert_int_equal(tvn_bench_report__save_baseline(&r, "x", path, 10), -ENAMETOOLONG);
	tvn_bench_report__free(&r);
}

static void test_baseline_bad_names(void **state)
{
	static const char *const bad[] = {
	    "",	     "a/b",
	    "../x",  "a b",
	    "ü",     "x\n",
	    "name*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	struct tvn_bench_report r;
	char path[128];
	struct stat st;

	(void)state;
	fill_report(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tvn_bench_report__save_baseline(&r, bad[i], path, sizeof(path)) != -EINVAL)
			fail_msg("name \"%s\" accepted", bad[i]);
	assert_int_equal(stat(".torvyn", &st), -1); /* nothing was created */
	assert_int_equal(tvn_bench_report__save_baseline(
			     &r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			     path, sizeof(path)),
			 0); /* 64 */
	/* .torvyn a file: the error comes through */
	assert_int_equal(system("rm -rf .torvyn && touch .torvyn"), 0);
	assert_int_equal(tvn_bench_report__save_baseline(&r, "x", path, sizeof(path)), -ENOTDIR);
	tvn_bench_report__free(&r);
}

static void test_format_parse(void **state)
{
	enum tvn_bench_format f = TVN_BENCH_PRETTY;

	(void)state;
	assert_int_equal(tvn_bench_format__parse("markdown", &f), 0);
	assert_int_equal(f, TVN_BENCH_MARKDOWN);
	assert_int_equal(tvn_bench_format__parse("csv", &f), 0);
	assert_int_equal(f, TVN_BENCH_CSV);
	assert_int_equal(tvn_bench_format__parse("JSON", &f), -EINVAL);
	assert_int_equal(tvn_bench_format__parse("", &f), -EINVAL);
}

/* ------------------------------------------------------------ histogram */

static void check_bucket(uint64_t v)
{
	unsigned int b = tvn_bench_hist__bucket(v);

	if (!(tvn_bench_hist__lower(b) <= v && v < tvn_bench_hist__lower(b + 1)))
		fail_msg("v %llu in bucket %u [%llu, %llu)", (unsigned long long)v, b,
			 (unsigned long long)tvn_bench_hist__lower(b),
			 (unsigned long long)tvn_bench_hist__lower(b + 1));
}

static void test_hist_bucket_lower(void **state)
{
	(void)state;
	for (uint64_t v = 0; v <= 100; v++)
		check_bucket(v);
	for (int k = 1; k < 43; k++) {
		check_bucket((1ULL << k) - 1);
		check_bucket(1ULL << k);
		check_bucket((1ULL << k) + 1);
	}
	check_bucket(1000);
	check_bucket(1000000);
	check_bucket(1000000000);
	check_bucket((1ULL << 43) - 1);
	for (uint64_t v = 1; v < (1ULL << 43); v = v * 3 + 1)
		check_bucket(v);

	/* every bucket: its lower bound falls in it, bounds grow, the width is 1/16 */
	for (unsigned int i = 0; i < TVN_BENCH_HIST_BUCKETS; i++) {
		uint64_t lo = tvn_bench_hist__lower(i), hi = tvn_bench_hist__lower(i + 1);

		assert_int_equal(tvn_bench_hist__bucket(lo), i);
		assert_int_equal(tvn_bench_hist__bucket(hi - 1), i);
		assert_true(hi > lo);
		if (i >= 2 * TVN_BENCH_HIST_SUB)
			assert_true((hi - lo) * 16 <= lo);
	}
	assert_int_equal(tvn_bench_hist__lower(16), 16);
	assert_int_equal(tvn_bench_hist__lower(32), 32);
	assert_int_equal(tvn_bench_hist__lower(33), 34);
	assert_int_equal(tvn_bench_hist__lower(TVN_BENCH_HIST_BUCKETS), 1ULL << 43);
	assert_int_equal(tvn_bench_hist__lower(TVN_BENCH_HIST_BUCKETS + 5), 1ULL << 43);
	/* beyond the range everything lands in the last bucket */
	assert_int_equal(tvn_bench_hist__bucket(1ULL << 43), TVN_BENCH_HIST_BUCKETS - 1);
	assert_int_equal(tvn_bench_hist__bucket(UINT64_MAX), TVN_BENCH_HIST_BUCKETS - 1);
}

static void test_hist_quantiles(void **state)
{
	uint64_t *counts = calloc(TVN_BENCH_HIST_BUCKETS, sizeof(*counts));
	unsigned int b = tvn_bench_hist__bucket(1000);
	double v;

	(void)state;
	assert_non_null(counts);
	assert_true(tvn_bench_hist__quantile(counts, 0.5) == 0);
	assert_true(tvn_bench_hist__quantile(counts, 1) == 0);

	/* 1000 values of 1000 ns: bucket [992, 1024), p50 half way in */
	counts[b] = 1000;
	assert_int_equal(tvn_bench_hist__lower(b), 992);
	v = tvn_bench_hist__quantile(counts, 0.5);
	assert_true(v >= 992 && v < 1024);
	assert_true(v == 1008);
	assert_true(tvn_bench_hist__quantile(counts, 1) == 1024);
	counts[b] = 0;

	/* 1..100 */
	for (uint64_t x = 1; x <= 100; x++)
		counts[tvn_bench_hist__bucket(x)]++;
	v = tvn_bench_hist__quantile(counts, 0.5);
	if (fabs(v - 50) > 50 * 0.0625)
		fail_msg("p50 %g", v);
	v = tvn_bench_hist__quantile(counts, 0.99);
	if (fabs(v - 99) > 99 * 0.0625)
		fail_msg("p99 %g", v);
	v = tvn_bench_hist__quantile(counts, 0.01);
	assert_true(v >= 1 && v <= 2);
	/* 100 is the only value of its bucket [100, 104): q = 1 is the bucket's top */
	assert_int_equal(tvn_bench_hist__lower(tvn_bench_hist__bucket(100)), 100);
	assert_true(tvn_bench_hist__quantile(counts, 1) == 104);
	assert_true(tvn_bench_hist__quantile(counts, 0) == tvn_bench_hist__quantile(counts, 0.01));
	free(counts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_json_round_trip, setup_tmp_dir, teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_json_round_trip_empty_and_nan, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test(test_json_upstream_names),
	    cmocka_unit_test_setup_teardown(test_load_bad_schema_version, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_load_errors, setup_tmp_dir, teardown_tmp_dir),
	    cmocka_unit_test(test_pretty_sections_and_slowest),
	    cmocka_unit_test(test_csv_exact),
	    cmocka_unit_test(test_markdown_tables),
	    cmocka_unit_test(test_empty_report_renders),
	    cmocka_unit_test(test_compare_same),
	    cmocka_unit_test(test_compare_throughput_drop),
	    cmocka_unit_test(test_compare_p99),
	    cmocka_unit_test(test_compare_components_in_both),
	    cmocka_unit_test_setup_teardown(test_baseline_save_resolve, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_baseline_bad_names, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test(test_format_parse),
	    cmocka_unit_test(test_hist_bucket_lower),
	    cmocka_unit_test(test_hist_quantiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
