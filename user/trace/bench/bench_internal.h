/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of the bench module share: number formats (fmt.c), text
 * tables (table.c), the writers of each format (human.c, json.c, csv.c)
 * and, for measuring, the samples of a session (sample.c) and the report
 * of a window (window.c).
 */
#ifndef TORVYN_BENCH_INTERNAL_H
#define TORVYN_BENCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "bench.h"
#include "snapshot.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* ------------------------------------------------------------ report.c */

#define TVN_BENCH_N_REASONS 4

/* Names of the copy reasons, in the order of copies[] and copy_bytes[]. */
extern const char *const tvn_bench_copy_reasons[TVN_BENCH_N_REASONS];

/* Counts match the arrays. */
bool tvn_bench_report__valid(const struct tvn_bench_report *r);

/* ------------------------------------------------------------ fmt.c */

void tvn_bench_fmt__num(char *buf, size_t len, double v); /* exact; "" for NaN */
void tvn_bench_fmt__us(char *buf, size_t len, double us); /* "150.0 µs", "2.50 ms" */
void tvn_bench_fmt__s(char *buf, size_t len, double s);
void tvn_bench_fmt__si(char *buf, size_t len, double v, const char *unit);    /* "12.35 k/s" */
void tvn_bench_fmt__iec(char *buf, size_t len, double v, const char *suffix); /* "1.5 MiB" */
void tvn_bench_fmt__pct(char *buf, size_t len, double v);		      /* "95.0%" */

/* ------------------------------------------------------------ table.c */

#define TVN_BENCH_CELL_LEN 128
typedef char tvn_bench_cell[TVN_BENCH_CELL_LEN];

/* Rows of text cells, printed aligned (pretty) or as a GitHub table. */
struct tvn_bench_table {
	int ncols, nrows, cap;
	const char *const *head;
	const char *align; /* 'l' or 'r' per column */
	bool show_head;	   /* in pretty; markdown always has one */
	bool has_marks;
	bool oom; /* a row could not be added: flush fails */
	tvn_bench_cell *cells;
	bool *mark;
};

void tvn_bench_table__init(struct tvn_bench_table *t, const char *const *head, const char *align,
			   int ncols);
void tvn_bench_table__free(struct tvn_bench_table *t);

/*
 * The cells of a new row (marked: "* " in pretty, bold in markdown), or NULL
 * when out of memory; then t prints nothing and flush returns -ENOMEM.
 */
tvn_bench_cell *tvn_bench_table__row(struct tvn_bench_table *t, bool mark);

/* Row i of a table, from ctx. */
typedef void (*tvn_bench_row_fn)(tvn_bench_cell *row, const void *ctx, int i);

/* Adds n rows, row i filled by fill(row, ctx, i); row mark (-1: none) is marked. */
void tvn_bench_table__add_rows(struct tvn_bench_table *t, int n, int mark, tvn_bench_row_fn fill,
			       const void *ctx);

/*
 * Prints t (a GitHub table for TVN_BENCH_MARKDOWN, else aligned text after
 * indent) and frees it. 0, or -ENOMEM with nothing printed when a row was lost.
 */
int tvn_bench_table__flush(struct tvn_bench_table *t, FILE *out, enum tvn_bench_format f,
			   const char *indent);

/*
 * The target of a report (a command line): in markdown a code span, else
 * with control characters as '?' (they would garble the terminal).
 */
void tvn_bench_text__put_target(FILE *out, enum tvn_bench_format f, const char *target);

/* ------------------------------------------------------------ the writers */

int tvn_bench_human__write(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out);
int tvn_bench_json__write(const struct tvn_bench_report *r, FILE *out);
int tvn_bench_csv__write(const struct tvn_bench_report *r, FILE *out);

/* JSON values: at most size bytes of s, non-UTF-8 bytes replaced; NaN and infinities as null. */
json_t *tvn_bench_json__str(const char *s, size_t size);
json_t *tvn_bench_json__real(double v);

/* Indented, reals with the fewest digits that read back exactly, and a newline. 0 or -EIO. */
int tvn_bench_json__dump(json_t *root, FILE *out);

void tvn_bench_csv__put_str(FILE *out, const char *s); /* quoted where it must be */
void tvn_bench_csv__put_num(FILE *out, double v);      /* exact; empty for NaN */

/* ------------------------------------------------------------ sample.c */

struct tvn_session;

#define TVN_BENCH_FINE_PER_FLOW (TORVYN_MAX_COMPONENTS + 1)
#define TVN_BENCH_MAX_THREADS 4096

struct tvn_bench_thread {
	__u32 tid;
	struct tvn_sched_val v;
};

/* One side of the window. */
struct tvn_bench_sample {
	struct tvn_snapshot snap;
	struct tvn_fine_val *fine; /* by flow * TVN_BENCH_FINE_PER_FLOW + comp, E2E last */
	struct tvn_bench_thread *threads;
	int n_threads;
	uint64_t mono_ns;
};

/* CLOCK_MONOTONIC now, in ns: the clock of samples and of the run's deadlines. */
static inline uint64_t tvn_bench__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* An empty sample taken at mono_ns: the start of a window without warmup. 0 or -ENOMEM. */
int tvn_bench_sample__init(struct tvn_bench_sample *sm, uint64_t mono_ns);

/* Everything the report needs from s, now. 0 or -ENOMEM; free it either way. */
int tvn_bench_sample__take(struct tvn_bench_sample *sm, struct tvn_session *s);
void tvn_bench_sample__free(struct tvn_bench_sample *sm);

/* The scheduler figures of thread tid, or NULL. */
const struct tvn_sched_val *tvn_bench_sample__thread(const struct tvn_bench_sample *sm, __u32 tid);

/*
 * The end-to-end histogram of all flows at one moment: what a window's
 * throughput and p99 are the difference of.
 */
struct tvn_bench_mark {
	uint64_t mono_ns;
	uint64_t count;
	uint64_t d[TVN_BENCH_HIST_BUCKETS];
};

/* m, now. 0 or -errno. */
int tvn_bench_mark__take(struct tvn_bench_mark *m, struct tvn_session *s);

/* ------------------------------------------------------------ window.c */

/*
 * Appends the window from mark a to mark b to r->windows. 0 or -ENOMEM
 * (then r is unchanged).
 */
int tvn_bench_report__add_window(struct tvn_bench_report *r, const struct tvn_bench_mark *a,
				 const struct tvn_bench_mark *b);

/*
 * Fills r with the difference of samples a (the window's start) and b (its
 * end): throughput, latency, buffers, per component and per stream. 0 or -ENOMEM.
 */
int tvn_bench_report__build(struct tvn_bench_report *r, const struct tvn_bench_sample *a,
			    const struct tvn_bench_sample *b);

#endif /* TORVYN_BENCH_INTERNAL_H */
