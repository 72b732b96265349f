/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace bench: a host under sustained load, measured at diagnostic
 * level (tvn_bench__run), and the report that comes of it: its four
 * renderings (pretty, json, csv, markdown), baselines under .torvyn/bench/
 * and comparisons. Only run.c, sample.c and window.c measure; the rest of
 * the module works on reports alone.
 */
#ifndef TORVYN_BENCH_H
#define TORVYN_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TVN_BENCH_SCHEMA_VERSION 1
#define TVN_BENCH_NAME_LEN 48

enum tvn_bench_format { TVN_BENCH_PRETTY, TVN_BENCH_JSON, TVN_BENCH_CSV, TVN_BENCH_MARKDOWN };

struct tvn_bench_component {
	char flow[TVN_BENCH_NAME_LEN];
	char component[TVN_BENCH_NAME_LEN];
	uint64_t invocations;
	uint64_t errors;
	double p50_us, p99_us, mean_us, max_us;
	double share_pct; /* mean processing time / mean end-to-end latency of its flow, % */
	uint64_t wakeups; /* scheduler wakeups of the component's thread */
	double idle_s;	  /* time the thread spent off CPU (waiting) */
	double cpu_s;	  /* time the thread spent on CPU */
};

struct tvn_bench_stream {
	char flow[TVN_BENCH_NAME_LEN];
	char stream[TVN_BENCH_NAME_LEN];
	double mean_depth; /* mean queue depth seen at each enqueue */
	uint64_t peak_depth;
	uint64_t capacity;
	uint64_t backpressure_events;
	double backpressure_s;
	uint64_t elements; /* transferred through it */
};

/*
 * One window of a run: the run is cut into windows of window_s seconds and
 * each gets its own throughput and p99, from the end-to-end histogram. Their
 * spread is the run's own variation, what --compare weighs a change against.
 */
struct tvn_bench_window {
	double elements_per_sec;
	double p99_us; /* NaN when no element completed in the window */
};

struct tvn_bench_report {
	int schema_version; /* TVN_BENCH_SCHEMA_VERSION */
	char target[256];   /* the command, or "pid N (exe)" */
	int pid;
	char started_at[32]; /* ISO 8601 UTC */
	double duration_s;   /* measured window, warmup excluded */
	double warmup_s;

	/* throughput */
	uint64_t elements; /* elements that completed in the window, all flows */
	uint64_t bytes;	   /* payload bytes the sources produced in the window */
	double elements_per_sec, bytes_per_sec;

	/* end-to-end latency of elements completed in the window, all flows */
	uint64_t latency_samples;
	double p50_us, p90_us, p95_us, p99_us, p999_us, max_us, mean_us;

	struct tvn_bench_component *comps; /* owned */
	int n_comps;
	char slowest[2 * TVN_BENCH_NAME_LEN + 2]; /* "flow/component" with the highest mean */

	struct tvn_bench_stream *streams; /* owned */
	int n_streams;

	/* buffers */
	uint64_t buffer_allocs; /* pool hits + fallbacks */
	uint64_t pool_hits;
	uint64_t fallback_allocs;
	double pool_reuse_pct;		   /* pool_hits / buffer_allocs, % */
	uint64_t copies[4], copy_bytes[4]; /* by reason: MetadataMarshal, PayloadRead, PayloadWrite,
					      HostSerialize */
	uint64_t total_copies, total_copy_bytes;

	/* scheduling */
	uint64_t total_wakeups;
	double total_idle_s;
	uint64_t backpressure_events;
	uint64_t queue_peak;	 /* highest peak depth of any stream */
	uint64_t queue_capacity; /* capacity of that stream */

	/* memory of the host process */
	uint64_t peak_rss_bytes;
	uint64_t mean_rss_bytes;

	/* the windows (none in a report of an older torvyn-trace) */
	double window_s;
	struct tvn_bench_window *windows; /* owned */
	int n_windows;
};

/* ------------------------------------------------------------ measuring */

/* Where a run is, for a progress line; done: the run is over, clear the line. */
struct tvn_bench_progress {
	double elapsed_s, total_s; /* since the start; warmup + window */
	double elements_per_sec;   /* over the last half second */
	bool measuring;		   /* past the warmup */
	bool done;
};

struct tvn_bench_run_opts {
	double duration_s, warmup_s;
	double window_s; /* length of a window (> 0) */
	int pid;	 /* the host */
	char **command;	 /* non-NULL: the caller started pid as this command (its child) */
	/* Blocked by the caller: one of them pending ends the window early. */
	const sigset_t *stop;
	/* NULL, or called about twice a second and once with done at the end. */
	void (*progress)(const struct tvn_bench_progress *p);
};

/*
 * Attaches to o->pid at diagnostic level with the bench programs, waits out
 * the warmup, measures the window (or until the host exits or a stop signal
 * comes) and fills r (zeroed by the caller; r->schema_version is set), which
 * the caller frees with tvn_bench_report__free(). Returns 0 or -errno with e
 * naming the cause. A freshly started command gets 5 s to exec and register
 * its probes.
 */
struct tvn_err;
int tvn_bench__run(const struct tvn_bench_run_opts *o, struct tvn_bench_report *r,
		   struct tvn_err *e);

/* ------------------------------------------------------------ reports */

void tvn_bench_report__free(struct tvn_bench_report *r); /* frees comps and streams; NULL-safe */

/* "pretty", "json", "csv" or "markdown" (--report-format). 0 or -EINVAL. */
int tvn_bench_format__parse(const char *s, enum tvn_bench_format *f);

/*
 * Index in r->comps of the slowest component: the one r->slowest names, else
 * the one with the highest mean_us (the first of equals); -1 without components.
 * The renderings mark this one.
 */
int tvn_bench_report__slowest(const struct tvn_bench_report *r);

/*
 * Writes r to out in format f. 0 or -errno. JSON writes NaN and infinities as
 * null (loaded back as NaN) and saturates counters beyond INT64_MAX.
 */
int tvn_bench_report__write(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out);

/*
 * Loads a report written with TVN_BENCH_JSON. Returns 0, -ENOENT (or another
 * -errno of opening it, err then "FILE: strerror"), -ENOMEM, or -EINVAL with
 * err naming the file and what is wrong (e.g. another schema version).
 * r is overwritten, not freed first; on success the caller frees it with
 * tvn_bench_report__free(), on failure it is left empty. Every field the JSON
 * writer emits is required.
 */
int tvn_bench_report__load(const char *path, struct tvn_bench_report *r, char *err, size_t errlen);

/*
 * Saves r (JSON) as DIR/.torvyn/bench/NAME.json, creating the directories;
 * DIR is the current directory. NAME: [A-Za-z0-9_.-]{1,64}. Writes the path
 * into path_out. 0 or -errno (-EINVAL for a bad name).
 */
int tvn_bench_report__save_baseline(const struct tvn_bench_report *r, const char *name,
				    char *path_out, size_t len);

/*
 * Resolves --compare ARG: an existing file path, else .torvyn/bench/ARG.json.
 * 0 with the path in path; -ENOENT (-EISDIR when ARG is a directory) when
 * neither exists, path then holding the baseline path tried (or ARG when it
 * cannot be a baseline name); -ENAMETOOLONG; -EINVAL for an empty ARG.
 */
int tvn_bench_report__resolve(const char *arg, char *path, size_t len);

/*
 * Prints the side-by-side table (format f; json prints an object with both
 * reports' key figures and the deltas) of base vs cur. Returns 1 when cur
 * regressed, 0 otherwise; -errno (-EINVAL for a negative threshold).
 *
 * When both reports have at least TVN_BENCH_MIN_WINDOWS windows, throughput
 * and p99 are compared through their windows: the change of the mean over
 * the windows with its 95 % confidence interval (tvn_bench_stats__diff_ci),
 * and a regression is a throughput whose whole interval lies below
 * -threshold_pct %, or a p99 whose whole interval lies above +threshold_pct %;
 * the baseline and current figures of those two rows are then the means.
 * Otherwise (a report of an older torvyn-trace) the two figures are compared
 * point to point, more than threshold_pct % worse being a regression, and a
 * note says so. Per-component p99 rows beyond the threshold are marked
 * "slower" but do not make it fail. A change from a zero baseline is n/a
 * (JSON null).
 */
int tvn_bench_report__compare(const struct tvn_bench_report *cur,
			      const struct tvn_bench_report *base, double threshold_pct,
			      enum tvn_bench_format f, FILE *out);

/* ------------------------------------------------------------ statistics */

#define TVN_BENCH_MIN_WINDOWS 3

/* A change in % of a mean, with its 95 % confidence interval, and the two means. */
struct tvn_bench_ci {
	double change_pct, lo_pct, hi_pct;
	double base_mean, cur_mean;
};

/* Mean and standard error (sample standard deviation / sqrt(n)) of the
 * finite values of x; n_out how many there were. 0, or -EINVAL with fewer than 2. */
int tvn_bench_stats__mean_se(const double *x, int n, double *mean, double *se, int *n_out);

/* The 97.5 % quantile of Student's t with df degrees of freedom (> 0): the
 * factor of a two-sided 95 % interval. Rounded down df, so never too narrow. */
double tvn_bench_stats__t975(double df);

/*
 * The change of the mean of cur against the mean of base, in % of base's
 * mean, and its 95 % interval: Welch's t interval of the difference of the
 * means, divided by base's mean. NaN values are left out. 0, or -EINVAL when
 * either side has fewer than 2 values or base's mean is 0.
 */
int tvn_bench_stats__diff_ci(const double *base, int nb, const double *cur, int nc,
			     struct tvn_bench_ci *ci);

/* ------------------------------------------------------------ histograms */

/* Percentile of a log-linear histogram (see tvn_bench_hist__* below), in ns. */
#define TVN_BENCH_HIST_SUB 16 /* sub-buckets per power of two */
#define TVN_BENCH_HIST_BUCKETS 640

/* The bucket of a value, as bpf/bench.bpf.c computes it. */
static inline unsigned int tvn_bench_hist__bucket(uint64_t v)
{
	unsigned int k;

	if (v < TVN_BENCH_HIST_SUB)
		return (unsigned int)v;
	k = 63 - (unsigned int)__builtin_clzll(v); /* k >= 4 */
	v = (v >> (k - 4)) & (TVN_BENCH_HIST_SUB - 1);
	k = (k - 3) * TVN_BENCH_HIST_SUB + (unsigned int)v;
	return k < TVN_BENCH_HIST_BUCKETS ? k : TVN_BENCH_HIST_BUCKETS - 1;
}

/*
 * The lower bound (ns) of bucket i; i == TVN_BENCH_HIST_BUCKETS gives the
 * (exclusive) upper bound of the last bucket, larger i the same. Values of
 * 2^43 ns (~2.4 h) and more all land in the last bucket.
 */
uint64_t tvn_bench_hist__lower(unsigned int i);

/*
 * The value at quantile q (0..1) of counts[TVN_BENCH_HIST_BUCKETS], interpolated
 * linearly inside the bucket; 0 for an empty histogram.
 */
double tvn_bench_hist__quantile(const uint64_t *counts, double q);

#endif /* TORVYN_BENCH_H */
