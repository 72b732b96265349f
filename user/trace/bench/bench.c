// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * torvyn-trace bench reports: rendering (pretty, json, csv, markdown),
 * loading, baselines and comparison; plus the log-linear histogram helpers.
 *
 * The JSON layout is described once, by the field tables below: the writer
 * and the loader both walk them, so every field written is read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define N_REASONS 4
#define BASELINE_DIR ".torvyn/bench"
#define BASELINE_NAME_MAX 64

static const char *const copy_reasons[N_REASONS] = {
    "MetadataMarshal",
    "PayloadRead",
    "PayloadWrite",
    "HostSerialize",
};

_Static_assert(ARRAY_SIZE(((struct bench_report *)0)->copies) == N_REASONS, "copy reasons");

/* ------------------------------------------------------------ histogram */

uint64_t bench_hist_lower(unsigned int i)
{
	unsigned int k;

	if (i > BENCH_HIST_BUCKETS)
		i = BENCH_HIST_BUCKETS;
	if (i < BENCH_HIST_SUB)
		return i;
	k = i / BENCH_HIST_SUB + 3;
	return (uint64_t)(BENCH_HIST_SUB + i % BENCH_HIST_SUB) << (k - 4);
}

double bench_hist_quantile(const uint64_t *counts, double q)
{
	uint64_t total = 0, rank, before = 0;
	double x, lo, hi;
	unsigned int i;

	for (i = 0; i < BENCH_HIST_BUCKETS; i++)
		total += counts[i];
	if (!total)
		return 0;
	if (!(q > 0)) /* also NaN */
		q = 0;
	if (q > 1)
		q = 1;
	/* q * total carries rounding noise (0.07 * 100 = 7.000000000000001) */
	x = q * (double)total;
	x = ceil(x - x * 1e-12);
	rank = x < 1 ? 1 : (uint64_t)x;
	if (rank > total)
		rank = total;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		if (before + counts[i] >= rank)
			break;
		before += counts[i];
	}
	lo = (double)bench_hist_lower(i);
	hi = (double)bench_hist_lower(i + 1);
	return lo + (hi - lo) * (double)(rank - before) / (double)counts[i];
}

/* ------------------------------------------------------------ small things */

void bench_report__free(struct bench_report *r)
{
	if (!r)
		return;
	free(r->comps);
	free(r->streams);
	r->comps = NULL;
	r->streams = NULL;
	r->n_comps = 0;
	r->n_streams = 0;
}

int bench_format__parse(const char *s, enum bench_format *f)
{
	static const char *const names[] = {
	    [BENCH_PRETTY] = "pretty",
	    [BENCH_JSON] = "json",
	    [BENCH_CSV] = "csv",
	    [BENCH_MARKDOWN] = "markdown",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*f = (enum bench_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

int bench_report__slowest(const struct bench_report *r)
{
	int best = -1;

	for (int i = 0; i < r->n_comps; i++) {
		const struct bench_component *c = &r->comps[i];
		char name[sizeof(r->slowest)];

		snprintf(name, sizeof(name), "%s/%s", c->flow, c->component);
		if (r->slowest[0] && !strcmp(name, r->slowest))
			return i;
		if (best < 0 || c->mean_us > r->comps[best].mean_us)
			best = i;
	}
	return best;
}

static bool report_ok(const struct bench_report *r)
{
	return r && r->n_comps >= 0 && r->n_streams >= 0 && (r->comps || !r->n_comps) &&
	       (r->streams || !r->n_streams);
}

/* ------------------------------------------------------------ number formatting */

/* Shortest decimal text that reads back as v; plain notation where that is short. */
static void fmt_num(char *buf, size_t len, double v)
{
	double a = fabs(v);
	int p;

	if (!isfinite(v)) {
		snprintf(buf, len, "%s", "");
		return;
	}
	if (a == 0 || (a >= 1e-6 && a < 1e15)) {
		for (p = 0; p <= 20; p++) {
			snprintf(buf, len, "%.*f", p, v);
			if (strtod(buf, NULL) == v)
				return;
		}
	}
	for (p = 1; p < 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/* A duration given in µs, in the unit that fits. */
static void fmt_us(char *buf, size_t len, double us)
{
	double a = fabs(us);

	if (!isfinite(us))
		snprintf(buf, len, "-");
	else if (us == 0)
		snprintf(buf, len, "0");
	else if (a < 1)
		snprintf(buf, len, "%.0f ns", us * 1e3);
	else if (a < 1e3)
		snprintf(buf, len, "%.*f µs", a < 10 ? 2 : 1, us);
	else if (a < 1e6)
		snprintf(buf, len, "%.*f ms", a < 1e4 ? 2 : 1, us / 1e3);
	else
		snprintf(buf, len, "%.*f s", a < 1e7 ? 2 : 1, us / 1e6);
}

static void fmt_s(char *buf, size_t len, double s)
{
	fmt_us(buf, len, s * 1e6);
}

/* SI prefixes for counts and rates ("12.35 k"). */
static void fmt_si(char *buf, size_t len, double v, const char *unit)
{
	static const char *const pfx[] = {"k", "M", "G", "T", "P"};
	int i = -1;

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	while (fabs(v) >= 1000 && i < (int)ARRAY_SIZE(pfx) - 1) {
		v /= 1000;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%.1f %s", v, unit);
	else
		snprintf(buf, len, "%.2f %s%s", v, pfx[i], unit);
}

/* IEC prefixes for bytes ("1.5 MiB"). */
static void fmt_iec(char *buf, size_t len, double v, const char *suffix)
{
	static const char *const pfx[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	int i = -1;

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	while (fabs(v) >= 1024 && i < (int)ARRAY_SIZE(pfx) - 1) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%.0f B%s", v, suffix);
	else
		snprintf(buf, len, "%.1f %s%s", v, pfx[i], suffix);
}

static void fmt_pct(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", v);
}

/* ------------------------------------------------------------ tables */

#define CELL_LEN 128
typedef char cell_t[CELL_LEN];

/* Rows of text cells, printed aligned (pretty) or as a GitHub table. */
struct table {
	int ncols, nrows, cap;
	const char *const *head;
	const char *align; /* 'l' or 'r' per column */
	bool show_head;	   /* in pretty; markdown always has one */
	bool has_marks;
	cell_t *cells;
	bool *mark;
};

static void table__init(struct table *t, const char *const *head, const char *align, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->head = head;
	t->align = align;
	t->ncols = ncols;
	t->show_head = true;
}

static void table__free(struct table *t)
{
	free(t->cells);
	free(t->mark);
	t->cells = NULL;
	t->mark = NULL;
}

/* The cells of a new row, or NULL (out of memory). */
static cell_t *table__row(struct table *t, bool mark)
{
	cell_t *row;

	if (t->nrows == t->cap) {
		int cap = t->cap ? 2 * t->cap : 8;
		cell_t *cells = realloc(t->cells, (size_t)cap * t->ncols * sizeof(cell_t));
		bool *marks;

		if (!cells)
			return NULL;
		t->cells = cells;
		marks = realloc(t->mark, (size_t)cap * sizeof(bool));
		if (!marks)
			return NULL;
		t->mark = marks;
		t->cap = cap;
	}
	row = &t->cells[(size_t)t->nrows * t->ncols];
	memset(row, 0, (size_t)t->ncols * sizeof(cell_t));
	t->mark[t->nrows++] = mark;
	t->has_marks |= mark;
	return row;
}

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void put_padded(FILE *out, const char *s, int width, char align, bool last)
{
	int pad = width - text_width(s);

	if (align == 'r')
		fprintf(out, "%*s%s", pad > 0 ? pad : 0, "", s);
	else if (last)
		fputs(s, out);
	else
		fprintf(out, "%s%*s", s, pad > 0 ? pad : 0, "");
}

static void table__print_line(const struct table *t, FILE *out, const char *indent,
			      const int *width, const char *const *cells, bool mark)
{
	int last = t->ncols - 1;

	while (last > 0 && !cells[last][0]) /* no trailing blanks */
		last--;
	fputs(indent, out);
	if (t->has_marks)
		fputs(mark ? "* " : "  ", out);
	for (int c = 0; c <= last; c++) {
		if (c)
			fputs("  ", out);
		put_padded(out, cells[c], width[c], t->align[c], c == last);
	}
	fputc('\n', out);
}

static int table__print_pretty(const struct table *t, FILE *out, const char *indent)
{
	const char **cells;
	int *width;

	width = calloc((size_t)t->ncols, sizeof(*width));
	cells = calloc((size_t)t->ncols, sizeof(*cells));
	if (!width || !cells) {
		free(width);
		free(cells);
		return -ENOMEM;
	}
	for (int c = 0; c < t->ncols; c++) {
		if (t->show_head)
			width[c] = text_width(t->head[c]);
		for (int r = 0; r < t->nrows; r++) {
			int w = text_width(t->cells[(size_t)r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	if (t->show_head)
		table__print_line(t, out, indent, width, t->head, false);
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			cells[c] = t->cells[(size_t)r * t->ncols + c];
		table__print_line(t, out, indent, width, cells, t->mark[r]);
	}
	free(width);
	free(cells);
	return 0;
}

/* A table cell: '|' would end it, a newline would end the table. */
static void put_md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static void table__print_md(const struct table *t, FILE *out)
{
	for (int c = 0; c < t->ncols; c++) {
		fputs("| ", out);
		put_md_cell(out, t->head[c]);
		fputc(' ', out);
	}
	fputs("|\n", out);
	for (int c = 0; c < t->ncols; c++)
		fputs(t->align[c] == 'r' ? "|---:" : "|---", out);
	fputs("|\n", out);
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			bool bold = c == 0 && t->mark[r];

			fputs(bold ? "| **" : "| ", out);
			put_md_cell(out, t->cells[(size_t)r * t->ncols + c]);
			fputs(bold ? "** " : " ", out);
		}
		fputs("|\n", out);
	}
	fputc('\n', out);
}

static int table__print(const struct table *t, FILE *out, enum bench_format f)
{
	if (f == BENCH_MARKDOWN) {
		table__print_md(t, out);
		return 0;
	}
	return table__print_pretty(t, out, "  ");
}

/* ------------------------------------------------------------ pretty and markdown */

static void section(FILE *out, enum bench_format f, const char *title)
{
	if (f == BENCH_MARKDOWN)
		fprintf(out, "### %s\n\n", title);
	else
		fprintf(out, "\n%s\n", title);
}

/* Control characters of a command line would garble the terminal. */
static void put_sanitized(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* s as a Markdown code span: a fence longer than any run of backticks in s. */
static void put_md_code(FILE *out, const char *s)
{
	int run = 0, longest = 0;
	size_t n = strlen(s);
	bool pad;

	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	pad = n && (s[0] == '`' || s[n - 1] == '`');
	for (int i = 0; i <= longest; i++)
		fputc('`', out);
	if (pad)
		fputc(' ', out);
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	if (pad)
		fputc(' ', out);
	for (int i = 0; i <= longest; i++)
		fputc('`', out);
}

static void write_header(const struct bench_report *r, enum bench_format f, FILE *out)
{
	char win[32], warm[32];

	snprintf(win, sizeof(win), "%.2f s", r->duration_s);
	snprintf(warm, sizeof(warm), "%.2f s", r->warmup_s);
	if (f == BENCH_MARKDOWN) {
		fputs("## torvyn-trace bench: ", out);
		put_md_code(out, r->target);
		fprintf(out, "\n\npid %d · window %s · warmup %s", r->pid, win, warm);
		if (r->started_at[0])
			fprintf(out, " · started %s", r->started_at);
		fputs("\n\n", out);
		return;
	}
	fputs("torvyn-trace bench: ", out);
	put_sanitized(out, r->target);
	fprintf(out, "  pid %d  window %s  warmup %s", r->pid, win, warm);
	if (r->started_at[0])
		fprintf(out, "  started %s", r->started_at);
	fputc('\n', out);
}

static const char *const kv_head[] = {"metric", "value"};

/* A two-column metric/value table: no header in pretty. */
static void kv_init(struct table *t)
{
	table__init(t, kv_head, "ll", 2);
	t->show_head = false;
}

static int kv_add(struct table *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int kv_add(struct table *t, const char *key, const char *fmt, ...)
{
	cell_t *row = table__row(t, false);
	va_list ap;

	if (!row)
		return -ENOMEM;
	snprintf(row[0], CELL_LEN, "%s", key);
	va_start(ap, fmt);
	vsnprintf(row[1], CELL_LEN, fmt, ap);
	va_end(ap);
	return 0;
}

static int kv_flush(struct table *t, FILE *out, enum bench_format f)
{
	int err = table__print(t, out, f);

	table__free(t);
	return err;
}

static int write_throughput(const struct bench_report *r, enum bench_format f, FILE *out)
{
	char a[64], b[64];
	struct table t;
	int err = 0;

	section(out, f, "Throughput");
	kv_init(&t);
	fmt_si(a, sizeof(a), r->elements_per_sec, "/s");
	err = err ?: kv_add(&t, "elements/s", "%s (%" PRIu64 " elements)", a, r->elements);
	fmt_iec(a, sizeof(a), r->bytes_per_sec, "/s");
	fmt_iec(b, sizeof(b), (double)r->bytes, "");
	err = err ?: kv_add(&t, "bytes/s", "%s (%s)", a, b);
	return err ?: kv_flush(&t, out, f);
}

static int write_latency(const struct bench_report *r, enum bench_format f, FILE *out)
{
	static const char *const head[] = {"samples", "p50",   "p90", "p95",
					   "p99",     "p99.9", "max", "mean"};
	const double v[] = {r->p50_us,	r->p90_us, r->p95_us, r->p99_us,
			    r->p999_us, r->max_us, r->mean_us};
	char title[80];
	struct table t;
	cell_t *row;
	int err;

	snprintf(title, sizeof(title), "Latency (end to end, %" PRIu64 " samples)",
		 r->latency_samples);
	section(out, f, title);
	if (!r->latency_samples) {
		fputs(f == BENCH_MARKDOWN ? "no elements completed in the window\n\n"
					  : "  no elements completed in the window\n",
		      out);
		return 0;
	}
	if (f == BENCH_MARKDOWN) {
		table__init(&t, head, "rrrrrrrr", 8);
		row = table__row(&t, false);
		if (!row)
			return -ENOMEM;
		snprintf(row[0], CELL_LEN, "%" PRIu64, r->latency_samples);
		for (int i = 0; i < 7; i++)
			fmt_us(row[i + 1], CELL_LEN, v[i]);
		table__print_md(&t, out);
		table__free(&t);
		return 0;
	}
	table__init(&t, head, "lr", 2);
	t.show_head = false;
	for (int i = 0; i < 7; i++) {
		row = table__row(&t, false);
		if (!row) {
			table__free(&t);
			return -ENOMEM;
		}
		snprintf(row[0], CELL_LEN, "%s", head[i + 1]);
		fmt_us(row[1], CELL_LEN, v[i]);
	}
	err = table__print(&t, out, f);
	table__free(&t);
	return err;
}

static int write_components(const struct bench_report *r, enum bench_format f, FILE *out)
{
	static const char *const head[] = {"flow/component", "invocations", "errors",  "p50", "p99",
					   "mean",	     "share",	    "wakeups", "idle"};
	int slow = bench_report__slowest(r);
	struct table t;
	int err;

	section(out, f, "Per component");
	if (!r->n_comps) {
		fputs(f == BENCH_MARKDOWN ? "no components\n\n" : "  no components\n", out);
		return 0;
	}
	table__init(&t, head, "lrrrrrrrr", 9);
	for (int i = 0; i < r->n_comps; i++) {
		const struct bench_component *c = &r->comps[i];
		cell_t *row = table__row(&t, i == slow);

		if (!row) {
			table__free(&t);
			return -ENOMEM;
		}
		snprintf(row[0], CELL_LEN, "%s/%s", c->flow, c->component);
		snprintf(row[1], CELL_LEN, "%" PRIu64, c->invocations);
		snprintf(row[2], CELL_LEN, "%" PRIu64, c->errors);
		fmt_us(row[3], CELL_LEN, c->p50_us);
		fmt_us(row[4], CELL_LEN, c->p99_us);
		fmt_us(row[5], CELL_LEN, c->mean_us);
		fmt_pct(row[6], CELL_LEN, c->share_pct);
		snprintf(row[7], CELL_LEN, "%" PRIu64, c->wakeups);
		fmt_s(row[8], CELL_LEN, c->idle_s);
	}
	err = table__print(&t, out, f);
	table__free(&t);
	if (!err) {
		const struct bench_component *c = &r->comps[slow];
		char pct[32];

		fmt_pct(pct, sizeof(pct), c->share_pct);
		if (f == BENCH_MARKDOWN)
			fprintf(out, "slowest: **%s/%s** (share %s)\n\n", c->flow, c->component,
				pct);
		else
			fprintf(out, "  slowest: %s/%s (share %s)\n", c->flow, c->component, pct);
	}
	return err;
}

static int write_queues(const struct bench_report *r, enum bench_format f, FILE *out)
{
	static const char *const head[] = {"flow/stream",  "mean depth",	"peak/capacity",
					   "backpressure", "backpressure time", "elements"};
	struct table t;
	int err;

	section(out, f, "Queues");
	if (!r->n_streams) {
		fputs(f == BENCH_MARKDOWN ? "no streams\n\n" : "  no streams\n", out);
		return 0;
	}
	table__init(&t, head, "lrrrrr", 6);
	for (int i = 0; i < r->n_streams; i++) {
		const struct bench_stream *s = &r->streams[i];
		cell_t *row = table__row(&t, false);

		if (!row) {
			table__free(&t);
			return -ENOMEM;
		}
		snprintf(row[0], CELL_LEN, "%s/%s", s->flow, s->stream);
		snprintf(row[1], CELL_LEN, "%.1f", s->mean_depth);
		snprintf(row[2], CELL_LEN, "%" PRIu64 "/%" PRIu64, s->peak_depth, s->capacity);
		snprintf(row[3], CELL_LEN, "%" PRIu64, s->backpressure_events);
		fmt_s(row[4], CELL_LEN, s->backpressure_s);
		snprintf(row[5], CELL_LEN, "%" PRIu64, s->elements);
	}
	err = table__print(&t, out, f);
	table__free(&t);
	return err;
}

static int write_buffers(const struct bench_report *r, enum bench_format f, FILE *out)
{
	static const char *const head[] = {"copy reason", "copies", "bytes"};
	char a[64], b[64];
	struct table t;
	int err = 0;

	section(out, f, "Buffers");
	kv_init(&t);
	err = err ?: kv_add(&t, "allocations", "%" PRIu64, r->buffer_allocs);
	err = err ?: kv_add(&t, "pool hits", "%" PRIu64, r->pool_hits);
	err = err ?: kv_add(&t, "fallbacks", "%" PRIu64, r->fallback_allocs);
	fmt_pct(a, sizeof(a), r->pool_reuse_pct);
	err = err ?: kv_add(&t, "pool reuse", "%s", a);
	fmt_iec(b, sizeof(b), (double)r->total_copy_bytes, "");
	err = err ?: kv_add(&t, "copies", "%" PRIu64 " (%s)", r->total_copies, b);
	err = err ?: kv_flush(&t, out, f);
	if (err)
		return err;

	table__init(&t, head, "lrr", 3);
	for (int i = 0; i < N_REASONS; i++) {
		cell_t *row = table__row(&t, false);

		if (!row) {
			table__free(&t);
			return -ENOMEM;
		}
		snprintf(row[0], CELL_LEN, "%s", copy_reasons[i]);
		snprintf(row[1], CELL_LEN, "%" PRIu64, r->copies[i]);
		fmt_iec(row[2], CELL_LEN, (double)r->copy_bytes[i], "");
	}
	if (f == BENCH_MARKDOWN) {
		table__print_md(&t, out);
		table__free(&t);
		return 0;
	}
	err = table__print_pretty(&t, out, "    ");
	table__free(&t);
	return err;
}

static int write_sched_mem(const struct bench_report *r, enum bench_format f, FILE *out)
{
	char a[64];
	struct table t;
	int err = 0;

	section(out, f, "Scheduling");
	kv_init(&t);
	err = err ?: kv_add(&t, "wakeups", "%" PRIu64, r->total_wakeups);
	fmt_s(a, sizeof(a), r->total_idle_s);
	err = err ?: kv_add(&t, "idle", "%s", a);
	err = err ?: kv_flush(&t, out, f);
	if (err)
		return err;

	section(out, f, "Memory");
	kv_init(&t);
	fmt_iec(a, sizeof(a), (double)r->peak_rss_bytes, "");
	err = err ?: kv_add(&t, "peak RSS", "%s", a);
	fmt_iec(a, sizeof(a), (double)r->mean_rss_bytes, "");
	err = err ?: kv_add(&t, "mean RSS", "%s", a);
	return err ?: kv_flush(&t, out, f);
}

static int write_human(const struct bench_report *r, enum bench_format f, FILE *out)
{
	int err;

	write_header(r, f, out);
	err = write_throughput(r, f, out);
	err = err ?: write_latency(r, f, out);
	err = err ?: write_components(r, f, out);
	err = err ?: write_queues(r, f, out);
	err = err ?: write_buffers(r, f, out);
	err = err ?: write_sched_mem(r, f, out);
	return err;
}

/* ------------------------------------------------------------ JSON layout */

enum ftype { F_INT, F_U64, F_DBL, F_STR };

struct field {
	const char *key;
	enum ftype type;
	size_t off, size;
};

/* clang-format off */
#define FLD(T, ty, k, m) { k, ty, offsetof(T, m), sizeof(((T *)0)->m) }
/* clang-format on */
#define RF(ty, k, m) FLD(struct bench_report, ty, k, m)
#define CF(ty, k, m) FLD(struct bench_component, ty, k, m)
#define SF(ty, k, m) FLD(struct bench_stream, ty, k, m)

static const struct field top_fields[] = {
    RF(F_STR, "target", target),	 RF(F_INT, "pid", pid),
    RF(F_STR, "started_at", started_at), RF(F_DBL, "duration_s", duration_s),
    RF(F_DBL, "warmup_s", warmup_s),	 RF(F_U64, "elements", elements),
    RF(F_U64, "bytes", bytes),		 RF(F_STR, "slowest", slowest),
};

static const struct field throughput_fields[] = {
    RF(F_DBL, "elements_per_sec", elements_per_sec),
    RF(F_DBL, "bytes_per_sec", bytes_per_sec),
};

static const struct field latency_fields[] = {
    RF(F_DBL, "p50_us", p50_us),   RF(F_DBL, "p90_us", p90_us),
    RF(F_DBL, "p95_us", p95_us),   RF(F_DBL, "p99_us", p99_us),
    RF(F_DBL, "p999_us", p999_us), RF(F_DBL, "max_us", max_us),
    RF(F_DBL, "mean_us", mean_us), RF(F_U64, "samples", latency_samples),
};

static const struct field resources_fields[] = {
    RF(F_U64, "buffer_allocs", buffer_allocs),	    RF(F_U64, "pool_hits", pool_hits),
    RF(F_U64, "fallback_allocs", fallback_allocs),  RF(F_DBL, "pool_reuse_pct", pool_reuse_pct),
    RF(F_U64, "total_copies", total_copies),	    RF(F_U64, "total_copy_bytes", total_copy_bytes),
    RF(F_U64, "peak_memory_bytes", peak_rss_bytes), RF(F_U64, "mean_memory_bytes", mean_rss_bytes),
};

static const struct field scheduling_fields[] = {
    RF(F_U64, "total_wakeups", total_wakeups),
    RF(F_DBL, "total_idle_s", total_idle_s),
    RF(F_U64, "backpressure_events", backpressure_events),
    RF(F_U64, "queue_peak", queue_peak),
    RF(F_U64, "queue_capacity", queue_capacity),
};

static const struct field comp_fields[] = {
    CF(F_STR, "flow", flow),
    CF(F_STR, "component", component),
    CF(F_U64, "invocations", invocations),
    CF(F_U64, "errors", errors),
    CF(F_DBL, "p50_us", p50_us),
    CF(F_DBL, "p99_us", p99_us),
    CF(F_DBL, "mean_us", mean_us),
    CF(F_DBL, "max_us", max_us),
    CF(F_DBL, "share_pct", share_pct),
    CF(F_U64, "wakeups", wakeups),
    CF(F_DBL, "idle_s", idle_s),
    CF(F_DBL, "cpu_s", cpu_s),
};

static const struct field stream_fields[] = {
    SF(F_STR, "flow", flow),
    SF(F_STR, "stream", stream),
    SF(F_DBL, "mean_depth", mean_depth),
    SF(F_U64, "peak_depth", peak_depth),
    SF(F_U64, "capacity", capacity),
    SF(F_U64, "backpressure_events", backpressure_events),
    SF(F_DBL, "backpressure_s", backpressure_s),
    SF(F_U64, "elements", elements),
};

struct fsection {
	const char *key;
	const struct field *f;
	size_t n;
};

/* clang-format off */
#define SECTION(k, a) { k, a, ARRAY_SIZE(a) }
/* clang-format on */

/* The objects of the report, in output order; "copies" goes into resources. */
static const struct fsection sections[] = {
    SECTION("throughput", throughput_fields),
    SECTION("latency", latency_fields),
    SECTION("resources", resources_fields),
    SECTION("scheduling", scheduling_fields),
};

/* ------------------------------------------------------------ JSON writing */

/* JSON keeps strings UTF-8; a command line need not be: replace what is not. */
static json_t *jstr(const char *s, size_t size)
{
	size_t n = strnlen(s, size);
	json_t *j = json_stringn(s, n);
	char *copy;

	if (j)
		return j;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	copy[n] = 0;
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

/* JSON has no NaN or infinity: such a value is written as null. */
static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* json_int_t is signed: counters beyond 2^63 (never seen) saturate. */
static json_t *ju64(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static int put_fields(json_t *obj, const void *base, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)base + f[i].off;
		json_t *v = NULL;

		switch (f[i].type) {
		case F_INT:
			v = json_integer(*(const int *)p);
			break;
		case F_U64:
			v = ju64(*(const uint64_t *)p);
			break;
		case F_DBL:
			v = jreal(*(const double *)p);
			break;
		case F_STR:
			v = jstr(p, f[i].size);
			break;
		}
		if (json_object_set_new(obj, f[i].key, v))
			return -ENOMEM;
	}
	return 0;
}

static json_t *fields_obj(const void *base, const struct field *f, size_t n)
{
	json_t *obj = json_object();

	if (obj && put_fields(obj, base, f, n)) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

static json_t *copies_obj(const struct bench_report *r)
{
	json_t *obj = json_object();

	for (int i = 0; obj && i < N_REASONS; i++) {
		json_t *c = json_object();

		if (!c || json_object_set_new(c, "count", ju64(r->copies[i])) ||
		    json_object_set_new(c, "bytes", ju64(r->copy_bytes[i])) ||
		    json_object_set_new(obj, copy_reasons[i], c)) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

static int put_array(json_t *root, const char *key, const void *items, int n, size_t size,
		     const struct field *f, size_t nf)
{
	json_t *arr = json_array();

	if (json_object_set_new(root, key, arr))
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (json_array_append_new(arr, fields_obj((const char *)items + i * size, f, nf)))
			return -ENOMEM;
	return 0;
}

static json_t *report_json(const struct bench_report *r)
{
	json_t *root = json_object();
	int err;

	if (!root)
		return NULL;
	err = json_object_set_new(root, "schema_version", json_integer(r->schema_version));
	err = err ?: put_fields(root, r, top_fields, ARRAY_SIZE(top_fields));
	for (size_t i = 0; !err && i < ARRAY_SIZE(sections); i++) {
		json_t *obj = fields_obj(r, sections[i].f, sections[i].n);

		err = json_object_set_new(root, sections[i].key, obj);
		if (!err && !strcmp(sections[i].key, "resources"))
			err = json_object_set_new(obj, "copies", copies_obj(r));
		if (!err && !strcmp(sections[i].key, "latency")) {
			err = put_array(root, "per_component", r->comps, r->n_comps,
					sizeof(*r->comps), comp_fields, ARRAY_SIZE(comp_fields));
			err = err
				  ?: put_array(root, "queues", r->streams, r->n_streams,
					       sizeof(*r->streams), stream_fields,
					       ARRAY_SIZE(stream_fields));
		}
	}
	if (err) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Digits the reals of j need to read back exactly: 17 for all would print 0.1 as
 * 0.10000000000000001. */
static int real_digits(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int p = 1;

	if (json_is_real(j)) {
		char buf[40];
		double d = json_real_value(j);

		for (p = 1; p < 17; p++) {
			snprintf(buf, sizeof(buf), "%.*g", p, d);
			/* and no exponent for the integer part: 10000.0, not 1e4 */
			if (strtod(buf, NULL) == d && fabs(d) < pow(10, p))
				break;
		}
		return p;
	}
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			int q = real_digits(v);

			p = q > p ? q : p;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			int q = real_digits(v);

			p = q > p ? q : p;
		}
	}
	return p;
}

static int dump_json(json_t *root, FILE *out)
{
	size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(real_digits(root));

	if (json_dumpf(root, out, flags) || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

static int write_json(const struct bench_report *r, FILE *out)
{
	json_t *root = report_json(r);
	int err;

	if (!root)
		return -ENOMEM;
	err = dump_json(root, out);
	json_decref(root);
	return err;
}

/* ------------------------------------------------------------ CSV */

/* RFC 4180: quote a field holding a comma, a quote or a line break. */
static void put_csv(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void put_csv_num(FILE *out, double v)
{
	char buf[64];

	fmt_num(buf, sizeof(buf), v);
	fputs(buf, out);
}

static void put_csv_u64(FILE *out, uint64_t v)
{
	fprintf(out, "%" PRIu64, v);
}

static int write_csv(const struct bench_report *r, FILE *out)
{
	const double lat[] = {r->p50_us, r->p90_us, r->p95_us, r->p99_us, r->p999_us, r->max_us};
	const uint64_t tail[] = {r->total_copies, r->total_wakeups,  r->backpressure_events,
				 r->queue_peak,	  r->queue_capacity, r->peak_rss_bytes};

	fputs("target,duration_s,elements,elements_per_sec,bytes_per_sec,"
	      "p50_us,p90_us,p95_us,p99_us,p999_us,max_us,buffer_allocs,pool_reuse_pct,"
	      "total_copies,total_wakeups,backpressure_events,queue_peak,queue_capacity,"
	      "peak_rss_bytes\n",
	      out);
	put_csv(out, r->target);
	fputc(',', out);
	put_csv_num(out, r->duration_s);
	fputc(',', out);
	put_csv_u64(out, r->elements);
	fputc(',', out);
	put_csv_num(out, r->elements_per_sec);
	fputc(',', out);
	put_csv_num(out, r->bytes_per_sec);
	for (size_t i = 0; i < ARRAY_SIZE(lat); i++) {
		fputc(',', out);
		put_csv_num(out, lat[i]);
	}
	fputc(',', out);
	put_csv_u64(out, r->buffer_allocs);
	fputc(',', out);
	put_csv_num(out, r->pool_reuse_pct);
	for (size_t i = 0; i < ARRAY_SIZE(tail); i++) {
		fputc(',', out);
		put_csv_u64(out, tail[i]);
	}
	fputs("\n\nflow,component,invocations,errors,p50_us,p99_us,mean_us,max_us,share_pct,"
	      "wakeups,idle_s,cpu_s\n",
	      out);
	for (int i = 0; i < r->n_comps; i++) {
		const struct bench_component *c = &r->comps[i];
		const double d[] = {c->p50_us, c->p99_us, c->mean_us, c->max_us, c->share_pct};

		put_csv(out, c->flow);
		fputc(',', out);
		put_csv(out, c->component);
		fprintf(out, ",%" PRIu64 ",%" PRIu64, c->invocations, c->errors);
		for (size_t k = 0; k < ARRAY_SIZE(d); k++) {
			fputc(',', out);
			put_csv_num(out, d[k]);
		}
		fprintf(out, ",%" PRIu64 ",", c->wakeups);
		put_csv_num(out, c->idle_s);
		fputc(',', out);
		put_csv_num(out, c->cpu_s);
		fputc('\n', out);
	}
	return 0;
}

int bench_report__write(const struct bench_report *r, enum bench_format f, FILE *out)
{
	int err;

	if (!report_ok(r) || !out)
		return -EINVAL;
	switch (f) {
	case BENCH_PRETTY:
	case BENCH_MARKDOWN:
		err = write_human(r, f, out);
		break;
	case BENCH_JSON:
		err = write_json(r, out);
		break;
	case BENCH_CSV:
		err = write_csv(r, out);
		break;
	default:
		return -EINVAL;
	}
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}

/* ------------------------------------------------------------ JSON loading */

struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

static int load_fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int load_fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!l->err || !l->errlen)
		return -EINVAL;
	n = snprintf(l->err, l->errlen, "%s: ", l->path);
	if (n >= 0 && (size_t)n < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int get_field(struct loader *l, json_t *obj, const char *where, void *base,
		     const struct field *f)
{
	const char *sep = where[0] ? "." : "";
	json_t *v = json_object_get(obj, f->key);
	char *p = (char *)base + f->off;
	json_int_t i;

	if (!v)
		return load_fail(l, "%s%s%s: missing", where, sep, f->key);
	switch (f->type) {
	case F_INT:
		i = json_is_integer(v) ? json_integer_value(v) : 0;
		if (!json_is_integer(v) || i < INT_MIN || i > INT_MAX)
			return load_fail(l, "%s%s%s: not an int", where, sep, f->key);
		*(int *)p = (int)i;
		return 0;
	case F_U64:
		i = json_is_integer(v) ? json_integer_value(v) : -1;
		if (i < 0)
			return load_fail(l, "%s%s%s: not an integer >= 0", where, sep, f->key);
		*(uint64_t *)p = (uint64_t)i;
		return 0;
	case F_DBL:
		if (json_is_null(v))
			*(double *)p = NAN;
		else if (json_is_number(v))
			*(double *)p = json_number_value(v);
		else
			return load_fail(l, "%s%s%s: not a number", where, sep, f->key);
		return 0;
	case F_STR:
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return load_fail(l, "%s%s%s: not a string", where, sep, f->key);
		if (json_string_length(v) >= f->size)
			return load_fail(l, "%s%s%s: longer than %zu bytes", where, sep, f->key,
					 f->size - 1);
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	return -EINVAL;
}

static int get_fields(struct loader *l, json_t *obj, const char *where, void *base,
		      const struct field *f, size_t n)
{
	int err = 0;

	if (!json_is_object(obj))
		return load_fail(l, "%s: missing or not an object", where);
	for (size_t i = 0; !err && i < n; i++)
		err = get_field(l, obj, where, base, &f[i]);
	return err;
}

static int get_copies(struct loader *l, json_t *res, struct bench_report *r)
{
	json_t *copies = json_object_get(res, "copies");
	static const struct field cnt[] = {
	    FLD(struct bench_report, F_U64, "count", copies[0]),
	    FLD(struct bench_report, F_U64, "bytes", copy_bytes[0]),
	};
	char where[64];
	int err = 0;

	if (!json_is_object(copies))
		return load_fail(l, "resources.copies: missing or not an object");
	for (int i = 0; !err && i < N_REASONS; i++) {
		/* copies[i] and copy_bytes[i] through the fields of copies[0], copy_bytes[0] */
		snprintf(where, sizeof(where), "resources.copies.%s", copy_reasons[i]);
		err = get_fields(l, json_object_get(copies, copy_reasons[i]), where,
				 (char *)r + i * sizeof(uint64_t), cnt, ARRAY_SIZE(cnt));
	}
	return err;
}

static int get_array(struct loader *l, json_t *root, const char *key, void **items, int *n,
		     size_t size, const struct field *f, size_t nf)
{
	json_t *arr = json_object_get(root, key);
	size_t len = json_array_size(arr);
	char where[64];
	int err = 0;

	if (!json_is_array(arr))
		return load_fail(l, "%s: missing or not an array", key);
	if (len > INT_MAX)
		return load_fail(l, "%s: too many entries", key);
	*items = len ? calloc(len, size) : NULL;
	if (len && !*items)
		return -ENOMEM;
	*n = (int)len;
	for (size_t i = 0; !err && i < len; i++) {
		snprintf(where, sizeof(where), "%s[%zu]", key, i);
		err =
		    get_fields(l, json_array_get(arr, i), where, (char *)*items + i * size, f, nf);
	}
	return err;
}

static int report_from_json(struct loader *l, json_t *root, struct bench_report *r)
{
	json_t *ver = json_object_get(root, "schema_version");
	int err;

	if (!json_is_object(root))
		return load_fail(l, "not a JSON object: not a torvyn-trace bench report");
	if (!json_is_integer(ver))
		return load_fail(l, "no schema_version: not a torvyn-trace bench report");
	if (json_integer_value(ver) != BENCH_SCHEMA_VERSION)
		return load_fail(l,
				 "schema_version %" JSON_INTEGER_FORMAT
				 ", this torvyn-trace reads %d: re-record the baseline",
				 json_integer_value(ver), BENCH_SCHEMA_VERSION);
	r->schema_version = BENCH_SCHEMA_VERSION;
	err = get_fields(l, root, "", r, top_fields, ARRAY_SIZE(top_fields));
	for (size_t i = 0; !err && i < ARRAY_SIZE(sections); i++)
		err = get_fields(l, json_object_get(root, sections[i].key), sections[i].key, r,
				 sections[i].f, sections[i].n);
	err = err ?: get_copies(l, json_object_get(root, "resources"), r);
	err = err
		  ?: get_array(l, root, "per_component", (void **)&r->comps, &r->n_comps,
			       sizeof(*r->comps), comp_fields, ARRAY_SIZE(comp_fields));
	err = err
		  ?: get_array(l, root, "queues", (void **)&r->streams, &r->n_streams,
			       sizeof(*r->streams), stream_fields, ARRAY_SIZE(stream_fields));
	return err;
}

int bench_report__load(const char *path, struct bench_report *r, char *err, size_t errlen)
{
	struct loader l = {.path = path, .err = err, .errlen = errlen};
	struct bench_report tmp = {0};
	json_error_t jerr;
	json_t *root;
	FILE *f;
	int ret;

	if (err && errlen)
		err[0] = 0;
	memset(r, 0, sizeof(*r));
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!root)
		return load_fail(&l, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	ret = report_from_json(&l, root, &tmp);
	json_decref(root);
	if (ret) {
		bench_report__free(&tmp);
		return ret;
	}
	*r = tmp;
	return 0;
}

/* ------------------------------------------------------------ baselines */

static bool baseline_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > BASELINE_NAME_MAX)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.-") == n;
}

static int mkdir_p(const char *dir)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = strchr(buf, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -errno;
		if (!p)
			return 0;
		*p = '/';
	}
}

/* Write to a fresh file beside path, then rename over it: readers see old or new, never half. */
static int write_atomic(const struct bench_report *r, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int fd = -1, err;

	for (int i = 0; fd < 0 && i < 100; i++) {
		snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%d", path, (int)getpid(), i);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto err_unlink;
	}
	err = bench_report__write(r, BENCH_JSON, f);
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		return 0;
err_unlink:
	unlink(tmp);
	return err;
}

int bench_report__save_baseline(const struct bench_report *r, const char *name, char *path_out,
				size_t len)
{
	char path[sizeof(BASELINE_DIR) + BASELINE_NAME_MAX + 8];
	int err;

	if (!name || !baseline_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s.json", BASELINE_DIR, name);
	if (path_out && strlen(path) >= len)
		return -ENAMETOOLONG;
	err = mkdir_p(BASELINE_DIR);
	err = err ?: write_atomic(r, path);
	if (!err && path_out)
		snprintf(path_out, len, "%s", path);
	return err;
}

int bench_report__resolve(const char *arg, char *path, size_t len)
{
	struct stat st;
	bool is_dir = false;
	int n;

	if (!arg || !arg[0] || !len)
		return -EINVAL;
	if (!stat(arg, &st)) {
		if (!S_ISDIR(st.st_mode)) {
			n = snprintf(path, len, "%s", arg);
			return (size_t)n < len ? 0 : -ENAMETOOLONG;
		}
		is_dir = true;
	}
	if (!baseline_name_ok(arg)) {
		snprintf(path, len, "%s", arg);
		return is_dir ? -EISDIR : -ENOENT;
	}
	n = snprintf(path, len, "%s/%s.json", BASELINE_DIR, arg);
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	if (!stat(path, &st))
		return 0;
	return is_dir ? -EISDIR : -ENOENT;
}

/* ------------------------------------------------------------ compare */

enum kind { K_ELEM_RATE, K_BYTE_RATE, K_LATENCY };

struct figure {
	const char *key;   /* JSON and CSV name */
	const char *label; /* pretty and markdown */
	size_t off;
	enum kind kind;
	bool gate; /* a regression of it fails the comparison */
};

/* clang-format off */
#define FIG(k, l, m, kind, gate) { k, l, offsetof(struct bench_report, m), kind, gate }
/* clang-format on */

static const struct figure figures[] = {
    FIG("elements_per_sec", "throughput (elements/s)", elements_per_sec, K_ELEM_RATE, true),
    FIG("bytes_per_sec", "bytes/s", bytes_per_sec, K_BYTE_RATE, false),
    FIG("p50_us", "p50", p50_us, K_LATENCY, false),
    FIG("p99_us", "p99", p99_us, K_LATENCY, true),
    FIG("p999_us", "p99.9", p999_us, K_LATENCY, false),
    FIG("max_us", "max", max_us, K_LATENCY, false),
    FIG("mean_us", "mean", mean_us, K_LATENCY, false),
};

static double fig_value(const struct bench_report *r, const struct figure *f)
{
	return *(const double *)((const char *)r + f->off);
}

/* Change in %; NaN when there is nothing to compare with. */
static double change_pct(double base, double cur)
{
	if (!isfinite(base) || !isfinite(cur))
		return NAN;
	if (base == 0)
		return cur == 0 ? 0 : NAN;
	return (cur - base) / fabs(base) * 100;
}

/* Worse by more than the threshold; the slack keeps an exact -10 % from counting at 10. */
static bool worse(enum kind kind, double chg, double threshold)
{
	if (isnan(chg))
		return false;
	if (kind == K_LATENCY)
		return chg > threshold + 1e-9;
	return chg < -threshold - 1e-9;
}

struct cmp_row {
	char key[2 * BENCH_NAME_LEN + 16];
	char label[2 * BENCH_NAME_LEN + 16];
	const struct bench_component *cc; /* component rows */
	enum kind kind;
	double base, cur, chg;
	bool gate, worse;
};

static const struct bench_component *find_comp(const struct bench_report *r,
					       const struct bench_component *c)
{
	for (int i = 0; i < r->n_comps; i++)
		if (!strcmp(r->comps[i].flow, c->flow) &&
		    !strcmp(r->comps[i].component, c->component))
			return &r->comps[i];
	return NULL;
}

/* The rows of the comparison; caller frees. */
static struct cmp_row *cmp_rows(const struct bench_report *cur, const struct bench_report *base,
				double threshold, int *n)
{
	struct cmp_row *rows = calloc(ARRAY_SIZE(figures) + (size_t)cur->n_comps, sizeof(*rows));
	int k = 0;

	if (!rows)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++, k++) {
		snprintf(rows[k].key, sizeof(rows[k].key), "%s", figures[i].key);
		snprintf(rows[k].label, sizeof(rows[k].label), "%s", figures[i].label);
		rows[k].kind = figures[i].kind;
		rows[k].gate = figures[i].gate;
		rows[k].base = fig_value(base, &figures[i]);
		rows[k].cur = fig_value(cur, &figures[i]);
	}
	for (int i = 0; i < cur->n_comps; i++) {
		const struct bench_component *c = &cur->comps[i];
		const struct bench_component *b = find_comp(base, c);

		if (!b)
			continue;
		snprintf(rows[k].key, sizeof(rows[k].key), "p99_us:%s/%s", c->flow, c->component);
		snprintf(rows[k].label, sizeof(rows[k].label), "p99 %s/%s", c->flow, c->component);
		rows[k].cc = c;
		rows[k].kind = K_LATENCY;
		rows[k].base = b->p99_us;
		rows[k].cur = c->p99_us;
		k++;
	}
	for (int i = 0; i < k; i++) {
		rows[i].chg = change_pct(rows[i].base, rows[i].cur);
		rows[i].worse = worse(rows[i].kind, rows[i].chg, threshold);
	}
	*n = k;
	return rows;
}

static void fmt_value(char *buf, size_t len, enum kind kind, double v)
{
	if (kind == K_ELEM_RATE)
		fmt_si(buf, len, v, "/s");
	else if (kind == K_BYTE_RATE)
		fmt_iec(buf, len, v, "/s");
	else
		fmt_us(buf, len, v);
}

static const char *row_mark(const struct cmp_row *row, enum bench_format f)
{
	if (!row->worse)
		return "";
	if (!row->gate)
		return "slower";
	return f == BENCH_MARKDOWN ? "**REGRESSION**" : "<< REGRESSION";
}

/* Which run a column is: "baseline: TARGET, started T". */
static void compare_who(FILE *out, const char *what, const struct bench_report *r,
			enum bench_format f)
{
	fprintf(out, "%s%s: ", f == BENCH_MARKDOWN ? "- " : "", what);
	if (f == BENCH_MARKDOWN)
		put_md_code(out, r->target);
	else
		put_sanitized(out, r->target);
	if (r->started_at[0])
		fprintf(out, ", started %s", r->started_at);
	fputc('\n', out);
}

static int compare_human(const struct bench_report *cur, const struct bench_report *base,
			 const struct cmp_row *rows, int n, double threshold, enum bench_format f,
			 FILE *out)
{
	static const char *const head[] = {"metric", "baseline", "current", "change", ""};
	bool regressed = false;
	struct table t;
	int err;

	if (f == BENCH_MARKDOWN)
		fputs("## torvyn-trace bench: comparison\n\n", out);
	compare_who(out, "baseline", base, f);
	compare_who(out, "current", cur, f);
	fputc('\n', out);
	table__init(&t, head, "lrrrl", 5);
	for (int i = 0; i < n; i++) {
		cell_t *c = table__row(&t, false);

		if (!c) {
			table__free(&t);
			return -ENOMEM;
		}
		snprintf(c[0], CELL_LEN, "%s", rows[i].label);
		fmt_value(c[1], CELL_LEN, rows[i].kind, rows[i].base);
		fmt_value(c[2], CELL_LEN, rows[i].kind, rows[i].cur);
		if (isnan(rows[i].chg))
			snprintf(c[3], CELL_LEN, "n/a");
		else
			snprintf(c[3], CELL_LEN, "%+.1f%%", rows[i].chg);
		snprintf(c[4], CELL_LEN, "%s", row_mark(&rows[i], f));
	}
	err =
	    f == BENCH_MARKDOWN ? (table__print_md(&t, out), 0) : table__print_pretty(&t, out, "");
	table__free(&t);
	if (err)
		return err;
	if (f != BENCH_MARKDOWN)
		fputc('\n', out);
	for (int i = 0; i < n; i++) {
		if (!rows[i].gate || !rows[i].worse)
			continue;
		fprintf(out, "%s: %s %+.1f%% (threshold %g%%)\n",
			f == BENCH_MARKDOWN ? "**REGRESSION**" : "REGRESSION", rows[i].label,
			rows[i].chg, threshold);
		regressed = true;
	}
	if (!regressed)
		fprintf(out, "no regression (threshold %g%%)\n", threshold);
	return 0;
}

static int compare_csv(const struct cmp_row *rows, int n, FILE *out)
{
	fputs("metric,baseline,current,change_pct,regression\n", out);
	for (int i = 0; i < n; i++) {
		put_csv(out, rows[i].key);
		fputc(',', out);
		put_csv_num(out, rows[i].base);
		fputc(',', out);
		put_csv_num(out, rows[i].cur);
		fputc(',', out);
		put_csv_num(out, rows[i].chg);
		fprintf(out, ",%s\n", rows[i].gate && rows[i].worse ? "true" : "false");
	}
	return 0;
}

static json_t *key_figures(const struct bench_report *r, const struct cmp_row *rows, int n,
			   bool base)
{
	json_t *obj = json_object();
	int err;

	if (!obj)
		return NULL;
	err = json_object_set_new(obj, "target", jstr(r->target, sizeof(r->target)));
	err = err
		  ?: json_object_set_new(obj, "started_at",
					 jstr(r->started_at, sizeof(r->started_at)));
	for (int i = 0; !err && i < n && !rows[i].cc; i++)
		err =
		    json_object_set_new(obj, rows[i].key, jreal(base ? rows[i].base : rows[i].cur));
	if (err) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int compare_json(const struct bench_report *cur, const struct bench_report *base,
			const struct cmp_row *rows, int n, double threshold, bool regressed,
			FILE *out)
{
	json_t *root = json_object(), *chg = json_object(), *comps = json_array();
	json_t *list = json_array();
	int err;

	err = !root || !chg || !comps || !list;
	for (int i = 0; !err && i < n; i++) {
		json_t *c;

		if (rows[i].gate && rows[i].worse)
			err = json_array_append_new(list, json_string(rows[i].key));
		if (!rows[i].cc) {
			err = err ?: json_object_set_new(chg, rows[i].key, jreal(rows[i].chg));
			continue;
		}
		c = json_object();
		err = err ?: json_array_append_new(comps, c);
		err = err ?: json_object_set_new(c, "flow", jstr(rows[i].cc->flow, BENCH_NAME_LEN));
		err = err
			  ?: json_object_set_new(c, "component",
						 jstr(rows[i].cc->component, BENCH_NAME_LEN));
		err = err ?: json_object_set_new(c, "baseline_p99_us", jreal(rows[i].base));
		err = err ?: json_object_set_new(c, "current_p99_us", jreal(rows[i].cur));
		err = err ?: json_object_set_new(c, "change_pct", jreal(rows[i].chg));
		err = err ?: json_object_set_new(c, "slower", json_boolean(rows[i].worse));
	}
	err = err ?: json_object_set_new(root, "baseline", key_figures(base, rows, n, true));
	err = err ?: json_object_set_new(root, "current", key_figures(cur, rows, n, false));
	err = err ?: json_object_set_new(root, "change_pct", json_incref(chg));
	err = err ?: json_object_set_new(root, "regression", json_boolean(regressed));
	err = err ?: json_object_set_new(root, "threshold_pct", jreal(threshold));
	err = err ?: json_object_set_new(root, "regressions", json_incref(list));
	err = err ?: json_object_set_new(root, "per_component", json_incref(comps));
	json_decref(chg);
	json_decref(list);
	json_decref(comps);
	if (!err)
		err = dump_json(root, out);
	else
		err = -ENOMEM;
	json_decref(root);
	return err;
}

int bench_report__compare(const struct bench_report *cur, const struct bench_report *base,
			  double threshold_pct, enum bench_format f, FILE *out)
{
	bool regressed = false;
	struct cmp_row *rows;
	int n = 0, err;

	if (!report_ok(cur) || !report_ok(base) || !out || !(threshold_pct >= 0))
		return -EINVAL;
	if (f != BENCH_PRETTY && f != BENCH_JSON && f != BENCH_CSV && f != BENCH_MARKDOWN)
		return -EINVAL;
	rows = cmp_rows(cur, base, threshold_pct, &n);
	if (!rows)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		regressed |= rows[i].gate && rows[i].worse;
	if (f == BENCH_JSON)
		err = compare_json(cur, base, rows, n, threshold_pct, regressed, out);
	else if (f == BENCH_CSV)
		err = compare_csv(rows, n, out);
	else
		err = compare_human(cur, base, rows, n, threshold_pct, f, out);
	free(rows);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	if (err)
		return err;
	return regressed ? 1 : 0;
}
