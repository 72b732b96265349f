// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A bench report for people: pretty (aligned text for a terminal) or
 * markdown (headings and GitHub tables). Both walk the same sections.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench_internal.h"

#define CELL_LEN TVN_BENCH_CELL_LEN

static void section(FILE *out, enum tvn_bench_format f, const char *title)
{
	if (f == TVN_BENCH_MARKDOWN)
		fprintf(out, "### %s\n\n", title);
	else
		fprintf(out, "\n%s\n", title);
}

/* A line in place of an empty section's table. */
static void none(FILE *out, enum tvn_bench_format f, const char *what)
{
	if (f == TVN_BENCH_MARKDOWN)
		fprintf(out, "%s\n\n", what);
	else
		fprintf(out, "  %s\n", what);
}

/* The command and the window: markdown separates with " · ", pretty with two spaces. */
static void write_header(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	bool md = f == TVN_BENCH_MARKDOWN;
	const char *sep = md ? " · " : "  ";

	fputs(md ? "## torvyn-trace bench: " : "torvyn-trace bench: ", out);
	tvn_bench_text__put_target(out, f, r->target);
	fprintf(out, "%spid %d%swindow %.2f s%swarmup %.2f s", md ? "\n\n" : sep, r->pid, sep,
		r->duration_s, sep, r->warmup_s);
	if (r->started_at[0])
		fprintf(out, "%sstarted %s", sep, r->started_at);
	fputs(md ? "\n\n" : "\n", out);
}

/* ------------------------------------------------------------ metric/value tables */

static const char *const kv_head[] = {"metric", "value"};

/* A section of one two-column metric/value table (no header in pretty). */
static void kv_begin(struct tvn_bench_table *t, FILE *out, enum tvn_bench_format f,
		     const char *title)
{
	section(out, f, title);
	tvn_bench_table__init(t, kv_head, "ll", 2);
	t->show_head = false;
}

static void kv_add(struct tvn_bench_table *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void kv_add(struct tvn_bench_table *t, const char *key, const char *fmt, ...)
{
	tvn_bench_cell *row = tvn_bench_table__row(t, false);
	va_list ap;

	if (!row)
		return; /* the flush fails */
	snprintf(row[0], CELL_LEN, "%s", key);
	va_start(ap, fmt);
	vsnprintf(row[1], CELL_LEN, fmt, ap);
	va_end(ap);
}

static int kv_flush(struct tvn_bench_table *t, FILE *out, enum tvn_bench_format f)
{
	return tvn_bench_table__flush(t, out, f, "  ");
}

/* ------------------------------------------------------------ sections */

/* The run's own variation, what --compare weighs changes against: the windows' range. */
static void write_window_spread(struct tvn_bench_table *t, const struct tvn_bench_report *r)
{
	double lo = INFINITY, hi = -INFINITY;
	char a[64], b[64];

	if (r->n_windows < 2)
		return;
	for (int i = 0; i < r->n_windows; i++) {
		lo = fmin(lo, r->windows[i].elements_per_sec);
		hi = fmax(hi, r->windows[i].elements_per_sec);
	}
	tvn_bench_fmt__si(a, sizeof(a), lo, "/s");
	tvn_bench_fmt__si(b, sizeof(b), hi, "/s");
	kv_add(t, "windows", "%d of %g s: %s to %s", r->n_windows, r->window_s, a, b);
}

static int write_throughput(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	struct tvn_bench_table t;
	char a[64], b[64];

	kv_begin(&t, out, f, "Throughput");
	tvn_bench_fmt__si(a, sizeof(a), r->elements_per_sec, "/s");
	kv_add(&t, "elements/s", "%s (%" PRIu64 " elements)", a, r->elements);
	tvn_bench_fmt__iec(a, sizeof(a), r->bytes_per_sec, "/s");
	tvn_bench_fmt__iec(b, sizeof(b), (double)r->bytes, "");
	kv_add(&t, "bytes/s", "%s (%s)", a, b);
	write_window_spread(&t, r);
	return kv_flush(&t, out, f);
}

/* Markdown: one row of all percentiles; pretty: one line each. */
static int write_latency(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	static const char *const head[] = {"samples", "p50",   "p90", "p95",
					   "p99",     "p99.9", "max", "mean"};
	const double v[] = {r->p50_us,	r->p90_us, r->p95_us, r->p99_us,
			    r->p999_us, r->max_us, r->mean_us};
	char title[80];
	struct tvn_bench_table t;
	tvn_bench_cell *row;

	snprintf(title, sizeof(title), "Latency (end to end, %" PRIu64 " samples)",
		 r->latency_samples);
	section(out, f, title);
	if (!r->latency_samples) {
		none(out, f, "no elements completed in the window");
		return 0;
	}
	if (f == TVN_BENCH_MARKDOWN) {
		tvn_bench_table__init(&t, head, "rrrrrrrr", 8);
		row = tvn_bench_table__row(&t, false);
		if (row) {
			snprintf(row[0], CELL_LEN, "%" PRIu64, r->latency_samples);
			for (int i = 0; i < 7; i++)
				tvn_bench_fmt__us(row[i + 1], CELL_LEN, v[i]);
		}
		return tvn_bench_table__flush(&t, out, f, "");
	}
	tvn_bench_table__init(&t, head, "lr", 2);
	t.show_head = false;
	for (int i = 0; i < 7; i++) {
		row = tvn_bench_table__row(&t, false);
		if (!row)
			break;
		snprintf(row[0], CELL_LEN, "%s", head[i + 1]);
		tvn_bench_fmt__us(row[1], CELL_LEN, v[i]);
	}
	return tvn_bench_table__flush(&t, out, f, "  ");
}

/* A section with a row per item, or a line saying there is none. */
struct list {
	const char *title, *empty;
	const char *const *head;
	const char *align; /* and the number of columns */
	tvn_bench_row_fn fill;
};

static int write_list(const struct list *l, int n, int mark, const struct tvn_bench_report *r,
		      enum tvn_bench_format f, FILE *out)
{
	struct tvn_bench_table t;

	section(out, f, l->title);
	if (!n) {
		none(out, f, l->empty);
		return 0;
	}
	tvn_bench_table__init(&t, l->head, l->align, (int)strlen(l->align));
	tvn_bench_table__add_rows(&t, n, mark, l->fill, r);
	return tvn_bench_table__flush(&t, out, f, "  ");
}

static void component_row(tvn_bench_cell *row, const void *ctx, int i)
{
	const struct tvn_bench_component *c = &((const struct tvn_bench_report *)ctx)->comps[i];

	snprintf(row[0], CELL_LEN, "%s/%s", c->flow, c->component);
	snprintf(row[1], CELL_LEN, "%" PRIu64, c->invocations);
	snprintf(row[2], CELL_LEN, "%" PRIu64, c->errors);
	tvn_bench_fmt__us(row[3], CELL_LEN, c->p50_us);
	tvn_bench_fmt__us(row[4], CELL_LEN, c->p99_us);
	tvn_bench_fmt__us(row[5], CELL_LEN, c->mean_us);
	tvn_bench_fmt__pct(row[6], CELL_LEN, c->share_pct);
	snprintf(row[7], CELL_LEN, "%" PRIu64, c->wakeups);
	tvn_bench_fmt__s(row[8], CELL_LEN, c->idle_s);
}

static const char *const component_head[] = {
    "flow/component", "invocations", "errors", "p50", "p99", "mean", "share", "wakeups", "idle"};

static const struct list components = {"Per component", "no components", component_head,
				       "lrrrrrrrr", component_row};

static void write_slowest(const struct tvn_bench_component *c, enum tvn_bench_format f, FILE *out)
{
	char pct[32];

	tvn_bench_fmt__pct(pct, sizeof(pct), c->share_pct);
	if (f == TVN_BENCH_MARKDOWN)
		fprintf(out, "slowest: **%s/%s** (share %s)\n\n", c->flow, c->component, pct);
	else
		fprintf(out, "  slowest: %s/%s (share %s)\n", c->flow, c->component, pct);
}

/* The slowest component is marked, and named below the table. */
static int write_components(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	int slow = tvn_bench_report__slowest(r);
	int err = write_list(&components, r->n_comps, slow, r, f, out);

	if (!err && r->n_comps)
		write_slowest(&r->comps[slow], f, out);
	return err;
}

static void stream_row(tvn_bench_cell *row, const void *ctx, int i)
{
	const struct tvn_bench_stream *s = &((const struct tvn_bench_report *)ctx)->streams[i];

	snprintf(row[0], CELL_LEN, "%s/%s", s->flow, s->stream);
	snprintf(row[1], CELL_LEN, "%.1f", s->mean_depth);
	snprintf(row[2], CELL_LEN, "%" PRIu64 "/%" PRIu64, s->peak_depth, s->capacity);
	snprintf(row[3], CELL_LEN, "%" PRIu64, s->backpressure_events);
	tvn_bench_fmt__s(row[4], CELL_LEN, s->backpressure_s);
	snprintf(row[5], CELL_LEN, "%" PRIu64, s->elements);
}

static const char *const stream_head[] = {"flow/stream",  "mean depth",	       "peak/capacity",
					  "backpressure", "backpressure time", "elements"};

static const struct list queues = {"Queues", "no streams", stream_head, "lrrrrr", stream_row};

static void copy_row(tvn_bench_cell *row, const void *ctx, int i)
{
	const struct tvn_bench_report *r = ctx;

	snprintf(row[0], CELL_LEN, "%s", tvn_bench_copy_reasons[i]);
	snprintf(row[1], CELL_LEN, "%" PRIu64, r->copies[i]);
	tvn_bench_fmt__iec(row[2], CELL_LEN, (double)r->copy_bytes[i], "");
}

/* Copies by reason, under the buffer figures (indented further in pretty). */
static int write_copies(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	static const char *const head[] = {"copy reason", "copies", "bytes"};
	struct tvn_bench_table t;

	tvn_bench_table__init(&t, head, "lrr", 3);
	tvn_bench_table__add_rows(&t, TVN_BENCH_N_REASONS, -1, copy_row, r);
	return tvn_bench_table__flush(&t, out, f, "    ");
}

static int write_buffers(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	struct tvn_bench_table t;
	char a[64], b[64];
	int err;

	kv_begin(&t, out, f, "Buffers");
	kv_add(&t, "allocations", "%" PRIu64, r->buffer_allocs);
	kv_add(&t, "pool hits", "%" PRIu64, r->pool_hits);
	kv_add(&t, "fallbacks", "%" PRIu64, r->fallback_allocs);
	tvn_bench_fmt__pct(a, sizeof(a), r->pool_reuse_pct);
	kv_add(&t, "pool reuse", "%s", a);
	tvn_bench_fmt__iec(b, sizeof(b), (double)r->total_copy_bytes, "");
	kv_add(&t, "copies", "%" PRIu64 " (%s)", r->total_copies, b);
	err = kv_flush(&t, out, f);
	return err ?: write_copies(r, f, out);
}

static int write_sched_mem(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	struct tvn_bench_table t;
	char a[64];
	int err;

	kv_begin(&t, out, f, "Scheduling");
	kv_add(&t, "wakeups", "%" PRIu64, r->total_wakeups);
	tvn_bench_fmt__s(a, sizeof(a), r->total_idle_s);
	kv_add(&t, "idle", "%s", a);
	err = kv_flush(&t, out, f);
	if (err)
		return err;

	kv_begin(&t, out, f, "Memory");
	tvn_bench_fmt__iec(a, sizeof(a), (double)r->peak_rss_bytes, "");
	kv_add(&t, "peak RSS", "%s", a);
	tvn_bench_fmt__iec(a, sizeof(a), (double)r->mean_rss_bytes, "");
	kv_add(&t, "mean RSS", "%s", a);
	return kv_flush(&t, out, f);
}

int tvn_bench_human__write(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	int err;

	write_header(r, f, out);
	err = write_throughput(r, f, out);
	err = err ?: write_latency(r, f, out);
	err = err ?: write_components(r, f, out);
	err = err ?: write_list(&queues, r->n_streams, -1, r, f, out);
	err = err ?: write_buffers(r, f, out);
	err = err ?: write_sched_mem(r, f, out);
	return err;
}
