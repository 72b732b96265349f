// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixtures of the bench unit tests (bench_fixture.h). */
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

#include "bench_fixture.h"

void fill_report(struct tvn_bench_report *r)
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
char *render(const struct tvn_bench_report *r, enum tvn_bench_format f)
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
int compare(const struct tvn_bench_report *cur, const struct tvn_bench_report *base, double thr,
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

struct tmp_dir {
	char old_cwd[PATH_MAX];
	char path[64];
};

int setup_tmp_dir(void **state)
{
	struct tmp_dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	assert_non_null(getcwd(d->old_cwd, sizeof(d->old_cwd)));
	snprintf(d->path, sizeof(d->path), "/tmp/test_bench.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	assert_int_equal(chdir(d->path), 0);
	*state = d;
	return 0;
}

int teardown_tmp_dir(void **state)
{
	struct tmp_dir *d = *state;
	char cmd[128];

	assert_int_equal(chdir(d->old_cwd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

#define EQ_U(f) assert_int_equal(a->f, b->f)
#define EQ_S(f) assert_string_equal(a->f, b->f)
#define EQ_D(f)                                                                                    \
	do {                                                                                       \
		if (!(a->f == b->f || (isnan(a->f) && isnan(b->f))))                               \
			fail_msg(#f ": %.17g != %.17g", a->f, b->f);                               \
	} while (0)

static void assert_comp_equal(const struct tvn_bench_component *a,
			      const struct tvn_bench_component *b)
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

void assert_report_equal(const struct tvn_bench_report *a, const struct tvn_bench_report *b)
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
	EQ_D(window_s);
	EQ_U(n_windows);
	for (int i = 0; i < a->n_windows; i++) {
		EQ_D(windows[i].elements_per_sec);
		EQ_D(windows[i].p99_us);
	}
}
