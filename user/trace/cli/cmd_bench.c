/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace bench: a host under sustained load, measured at diagnostic
 * level from our own BPF data. Two samples frame the window (warmup
 * excluded): the host's metric blocks, the fine latency histograms of the
 * step records and the scheduler's per-thread figures; the report is their
 * difference.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "commands.h"
#include "exitcodes.h"
#include "log.h"
#include "session.h"
#include "torvyn_parse.h"

#define POLL_MS 50
#define MAX_THREADS 4096

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct bench_opts {
	double duration_s, warmup_s, threshold_pct;
	enum bench_format format;
	const char *report_path, *baseline, *compare;
	int pid;
	char **command;
};

/* One side of the window. */
struct sample {
	struct snapshot snap;
	struct tvn_fine_val *fine; /* by flow * (MAX_COMPONENTS + 1) + comp, E2E last */
	struct {
		__u32 tid;
		struct tvn_sched_val v;
	} *threads;
	int n_threads;
	uint64_t mono_ns;
};

#define FINE_PER_FLOW (TORVYN_MAX_COMPONENTS + 1)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-trace bench [options] (--pid PID | -- COMMAND [ARGS...])\n"
		"\n"
		"Measures a torvyn host under sustained load at diagnostic level: throughput,\n"
		"end-to-end latency percentiles, per-component breakdown, queues, buffers,\n"
		"scheduling and memory. The warmup is excluded from every figure.\n"
		"\n"
		"Options:\n"
		"  -d, --duration SEC        measured window (10)\n"
		"  -w, --warmup SEC          excluded lead-in (2)\n"
		"  -f, --report-format F     pretty (default), json, csv or markdown\n"
		"  -o, --report FILE         write the report to FILE instead of stdout\n"
		"  -b, --baseline NAME       save the report as .torvyn/bench/NAME.json\n"
		"  -c, --compare PATH|NAME   compare with a saved report; exit 3 on a regression\n"
		"  -t, --threshold PCT       regression threshold for --compare (10)\n"
		"  -p, --pid PID             measure a running host instead of starting one\n"
		"\n"
		"Examples:\n"
		"  torvyn-trace bench -- build/torvyn-host run user/host/pipelines/three-stage.json\n"
		"  torvyn-trace bench --duration 5 --baseline main -- build/torvyn-host run p.json\n"
		"  torvyn-trace bench --compare main -- build/torvyn-host run p.json\n"
		"\n"
		"Exit codes: 0 ok, 3 --compare found a regression, others as for attach.\n");
}

static int parse_seconds(const char *opt, const char *s, double min, double *out)
{
	if (torvyn_parse_seconds(s, min, 86400, out)) {
		pr_warn("%s %s: expected seconds >= %g\n", opt, s, min);
		return TVN_EXIT_USAGE;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "report-format", required_argument, NULL, 'f' },
		{ "report", required_argument, NULL, 'o' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "compare", required_argument, NULL, 'c' },
		{ "threshold", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, rc;
	char *end;

	while ((opt = getopt_long(argc, argv, "+d:w:f:o:b:c:t:p:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if ((rc = parse_seconds("--duration", optarg, 0.1, &o->duration_s)))
				return rc;
			break;
		case 'w':
			if ((rc = parse_seconds("--warmup", optarg, 0, &o->warmup_s)))
				return rc;
			break;
		case 'f':
			if (bench_format__parse(optarg, &o->format)) {
				pr_warn("--report-format %s: expected pretty, json, csv or markdown\n",
					optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'o':
			o->report_path = optarg;
			break;
		case 'b':
			o->baseline = optarg;
			break;
		case 'c':
			o->compare = optarg;
			break;
		case 't':
			o->threshold_pct = strtod(optarg, &end);
			if (end == optarg || *end || o->threshold_pct < 0) {
				pr_warn("--threshold %s: expected a percentage >= 0\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'p':
			if (torvyn_parse_pid(optarg, &o->pid)) {
				pr_warn("--pid %s: expected a process id\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'v':
			log_verbosity = LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return TVN_EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->command = &argv[optind];
	if (!o->pid == !o->command) {
		pr_warn("bench needs either --pid PID or -- COMMAND (try --help)\n");
		return TVN_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ samples */

static void on_fine(void *ctx, __u32 flow, __u32 comp, const struct tvn_fine_val *v)
{
	struct sample *sm = ctx;
	__u32 slot;

	if (flow >= TORVYN_MAX_FLOWS)
		return;
	if (comp == TVN_FINE_E2E)
		slot = flow * FINE_PER_FLOW + TORVYN_MAX_COMPONENTS;
	else if (comp < TORVYN_MAX_COMPONENTS)
		slot = flow * FINE_PER_FLOW + comp;
	else
		return;
	sm->fine[slot] = *v;
}

static void on_sched(void *ctx, __u32 tid, const struct tvn_sched_val *v)
{
	struct sample *sm = ctx;

	if (sm->n_threads >= MAX_THREADS)
		return;
	sm->threads[sm->n_threads].tid = tid;
	sm->threads[sm->n_threads].v = *v;
	sm->n_threads++;
}

static int take_sample(struct session *s, struct sample *sm)
{
	memset(sm, 0, sizeof(*sm));
	sm->fine = calloc((size_t)TORVYN_MAX_FLOWS * FINE_PER_FLOW, sizeof(*sm->fine));
	sm->threads = calloc(MAX_THREADS, sizeof(*sm->threads));
	if (!sm->fine || !sm->threads)
		return -ENOMEM;
	sm->mono_ns = mono_ns();
	if (session__snapshot(s, &sm->snap))
		return -ENOMEM;
	session__read_fine(s, on_fine, sm);
	session__read_sched(s, on_sched, sm);
	return 0;
}

static void free_sample(struct sample *sm)
{
	snapshot__free(&sm->snap);
	free(sm->fine);
	free(sm->threads);
}

static const struct tvn_sched_val *thread_of(const struct sample *sm, __u32 tid)
{
	for (int i = 0; i < sm->n_threads; i++) {
		if (sm->threads[i].tid == tid)
			return &sm->threads[i].v;
	}
	return NULL;
}

/* The tids of the host's component threads, named "torvyn/F/C" by the host. */
static int component_tid(int pid, int flow, int comp)
{
	char path[320], want[16], comm[32];
	struct dirent *de;
	DIR *d;
	int tid = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	snprintf(want, sizeof(want), "torvyn/%u/%u", (unsigned int)flow & 0xff,
		 (unsigned int)comp & 0xf);
	d = opendir(path);
	if (!d)
		return 0;
	while (!tid && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.255s/comm", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (!strcmp(comm, want))
				tid = atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return tid;
}

/* ------------------------------------------------------------ the report */

static void fine_delta(const struct tvn_fine_val *b, const struct tvn_fine_val *a, uint64_t *out,
		       uint64_t *count, uint64_t *sum)
{
	for (int i = 0; i < TVN_FINE_BUCKETS; i++)
		out[i] = b->bucket[i] - a->bucket[i];
	*count = b->count - a->count;
	*sum = b->sum - a->sum;
}

/* The largest value seen in the window: the top of its highest bucket, capped by the max. */
static double window_max_us(const uint64_t *d, uint64_t max_ns)
{
	for (int i = TVN_FINE_BUCKETS - 1; i >= 0; i--) {
		if (d[i]) {
			uint64_t hi = i + 1 < TVN_FINE_BUCKETS ? bench_hist_lower(i + 1) : max_ns;

			return (double)(hi < max_ns ? hi : max_ns) / 1e3;
		}
	}
	return 0;
}

/*
 * Quantile q of d in microseconds. One interpolated inside the highest bucket
 * can land above the largest value actually seen: none is above max_us.
 */
static double quantile_us(const uint64_t *d, double q, double max_us)
{
	double us = bench_hist_quantile(d, q) / 1e3;

	return us > max_us ? max_us : us;
}

static void name_of(char *buf, const char *src)
{
	snprintf(buf, BENCH_NAME_LEN, "%.*s", BENCH_NAME_LEN - 1, src);
}

static int build_components(struct bench_report *r, const struct sample *a, const struct sample *b,
			    const double *flow_mean_us)
{
	uint64_t d[TVN_FINE_BUCKETS], cnt, sum;
	double worst = -1;

	for (int f = 0; f < b->snap.n_flows; f++) {
		const struct snap_flow *fb = &b->snap.flows[f];

		for (int j = 0; fb->present && j < TORVYN_MAX_COMPONENTS; j++) {
			const struct snap_comp *cb = &fb->comps[j];
			const struct snap_comp *ca = f < a->snap.n_flows ? &a->snap.flows[f].comps[j] :
									  NULL;
			struct bench_component *bc;
			const struct tvn_fine_val *fa = &a->fine[f * FINE_PER_FLOW + j];
			const struct tvn_fine_val *fv = &b->fine[f * FINE_PER_FLOW + j];
			const struct tvn_sched_val *sa, *sb;
			int tid;

			if (!cb->present)
				continue;
			bc = realloc(r->comps, (r->n_comps + 1) * sizeof(*bc));
			if (!bc)
				return -ENOMEM;
			r->comps = bc;
			bc += r->n_comps++;
			memset(bc, 0, sizeof(*bc));
			name_of(bc->flow, fb->blk.hdr.name);
			name_of(bc->component, cb->blk.hdr.name);
			bc->invocations = cb->blk.invocations - (ca && ca->present ? ca->blk.invocations : 0);
			bc->errors = cb->blk.errors - (ca && ca->present ? ca->blk.errors : 0);
			fine_delta(fv, fa, d, &cnt, &sum);
			bc->max_us = window_max_us(d, fv->max);
			bc->p50_us = quantile_us(d, 0.50, bc->max_us);
			bc->p99_us = quantile_us(d, 0.99, bc->max_us);
			bc->mean_us = cnt ? (double)sum / cnt / 1e3 : 0;
			if (flow_mean_us[f] > 0)
				bc->share_pct = bc->mean_us / flow_mean_us[f] * 100;
			tid = component_tid(r->pid, f, j);
			sb = tid ? thread_of(b, tid) : NULL;
			sa = tid ? thread_of(a, tid) : NULL;
			if (sb) {
				bc->wakeups = sb->wakeups - (sa ? sa->wakeups : 0);
				bc->idle_s = (double)(sb->offcpu_ns - (sa ? sa->offcpu_ns : 0)) / 1e9;
				bc->cpu_s = (double)(sb->oncpu_ns - (sa ? sa->oncpu_ns : 0)) / 1e9;
			}
			r->total_wakeups += bc->wakeups;
			r->total_idle_s += bc->idle_s;
			if (bc->mean_us > worst) {
				worst = bc->mean_us;
				snprintf(r->slowest, sizeof(r->slowest), "%s/%s", bc->flow,
					 bc->component);
			}
		}
	}
	return 0;
}

static int build_streams(struct bench_report *r, const struct sample *a, const struct sample *b)
{
	for (int f = 0; f < b->snap.n_flows; f++) {
		const struct snap_flow *fb = &b->snap.flows[f];

		for (int k = 0; fb->present && k < TORVYN_MAX_STREAMS; k++) {
			const struct snap_stream *sb = &fb->streams[k];
			const struct snap_stream *sa = f < a->snap.n_flows ?
							       &a->snap.flows[f].streams[k] :
							       NULL;
			struct bench_stream *bs;
			uint64_t enq, dsum;

			if (!sb->present)
				continue;
			bs = realloc(r->streams, (r->n_streams + 1) * sizeof(*bs));
			if (!bs)
				return -ENOMEM;
			r->streams = bs;
			bs += r->n_streams++;
			memset(bs, 0, sizeof(*bs));
			name_of(bs->flow, fb->blk.hdr.name);
			name_of(bs->stream, sb->blk.hdr.name);
			enq = sb->diag.enqueues - (sa ? sa->diag.enqueues : 0);
			dsum = sb->diag.depth_sum - (sa ? sa->diag.depth_sum : 0);
			bs->mean_depth = enq ? (double)dsum / enq : 0;
			/* the window's peak (the BPF peaks were reset when it began), else the run's */
			bs->peak_depth = sb->has_diag ? sb->diag.peak_depth : sb->blk.peak_depth;
			bs->capacity = sb->blk.capacity;
			bs->backpressure_events = sb->blk.backpressure_events -
						  (sa && sa->present ? sa->blk.backpressure_events : 0);
			bs->backpressure_s = (double)(sb->blk.backpressure_duration_ns -
						      (sa && sa->present ?
							       sa->blk.backpressure_duration_ns :
							       0)) /
					     1e9;
			bs->elements = sb->blk.elements_transferred -
				       (sa && sa->present ? sa->blk.elements_transferred : 0);
			r->backpressure_events += bs->backpressure_events;
			if (bs->peak_depth > r->queue_peak ||
			    (bs->peak_depth == r->queue_peak && !r->queue_capacity)) {
				r->queue_peak = bs->peak_depth;
				r->queue_capacity = bs->capacity;
			}
		}
	}
	return 0;
}

static int build_report(struct bench_report *r, const struct sample *a, const struct sample *b)
{
	uint64_t *e2e = calloc(TVN_FINE_BUCKETS, sizeof(*e2e)), d[TVN_FINE_BUCKETS], cnt, sum;
	double flow_mean_us[TORVYN_MAX_FLOWS] = { 0 };
	uint64_t e2e_count = 0, e2e_sum = 0, e2e_max = 0;
	int rc;

	if (!e2e)
		return -ENOMEM;
	r->duration_s = (double)(b->mono_ns - a->mono_ns) / 1e9;
	for (int f = 0; f < b->snap.n_flows; f++) {
		const struct snap_flow *fb = &b->snap.flows[f];
		const struct snap_flow *fa = f < a->snap.n_flows ? &a->snap.flows[f] : NULL;
		const struct tvn_fine_val *va = &a->fine[f * FINE_PER_FLOW + TORVYN_MAX_COMPONENTS];
		const struct tvn_fine_val *vb = &b->fine[f * FINE_PER_FLOW + TORVYN_MAX_COMPONENTS];

		if (!fb->present)
			continue;
		r->elements += fb->blk.elements_total - (fa && fa->present ? fa->blk.elements_total : 0);
		for (int j = 0; j < TORVYN_MAX_COMPONENTS; j++) {
			const struct snap_comp *cb = &fb->comps[j];

			if (cb->present && cb->blk.role == TORVYN_ROLE_SOURCE)
				r->bytes += cb->blk.bytes_out -
					    (fa && fa->comps[j].present ? fa->comps[j].blk.bytes_out : 0);
		}
		for (int c = 0; c < TORVYN_COPY_REASONS; c++) {
			r->copies[c] += fb->blk.copies_total[c] -
					(fa && fa->present ? fa->blk.copies_total[c] : 0);
			r->copy_bytes[c] += fb->blk.copies_bytes[c] -
					    (fa && fa->present ? fa->blk.copies_bytes[c] : 0);
		}
		fine_delta(vb, va, d, &cnt, &sum);
		for (int i = 0; i < TVN_FINE_BUCKETS; i++)
			e2e[i] += d[i];
		e2e_count += cnt;
		e2e_sum += sum;
		if (vb->max > e2e_max)
			e2e_max = vb->max;
		flow_mean_us[f] = cnt ? (double)sum / cnt / 1e3 : 0;
	}
	for (int c = 0; c < TORVYN_COPY_REASONS; c++) {
		r->total_copies += r->copies[c];
		r->total_copy_bytes += r->copy_bytes[c];
	}
	r->elements_per_sec = r->duration_s > 0 ? r->elements / r->duration_s : 0;
	r->bytes_per_sec = r->duration_s > 0 ? r->bytes / r->duration_s : 0;
	r->latency_samples = e2e_count;
	r->max_us = window_max_us(e2e, e2e_max);
	r->p50_us = quantile_us(e2e, 0.50, r->max_us);
	r->p90_us = quantile_us(e2e, 0.90, r->max_us);
	r->p95_us = quantile_us(e2e, 0.95, r->max_us);
	r->p99_us = quantile_us(e2e, 0.99, r->max_us);
	r->p999_us = quantile_us(e2e, 0.999, r->max_us);
	r->mean_us = e2e_count ? (double)e2e_sum / e2e_count / 1e3 : 0;
	free(e2e);
	if (b->snap.have_pool) {
		for (int t = 0; t < TORVYN_TIERS; t++) {
			r->pool_hits += b->snap.pool.tier[t].allocated -
					(a->snap.have_pool ? a->snap.pool.tier[t].allocated : 0);
			r->fallback_allocs += b->snap.pool.tier[t].fallback_count -
					      (a->snap.have_pool ? a->snap.pool.tier[t].fallback_count :
								   0);
		}
	}
	r->buffer_allocs = r->pool_hits + r->fallback_allocs;
	r->pool_reuse_pct = r->buffer_allocs ? 100.0 * r->pool_hits / r->buffer_allocs : 0;
	rc = build_components(r, a, b, flow_mean_us);
	return rc ? rc : build_streams(r, a, b);
}

/* ------------------------------------------------------------ running */

static uint64_t rss_bytes(int pid)
{
	char path[64], line[128];
	uint64_t kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb * 1024;
}

static uint64_t elements_now(struct session *s)
{
	struct snapshot sn;
	uint64_t n = 0;

	if (session__snapshot(s, &sn))
		return 0;
	for (int f = 0; f < sn.n_flows; f++)
		n += sn.flows[f].present ? sn.flows[f].blk.elements_total : 0;
	snapshot__free(&sn);
	return n;
}

static pid_t start_command(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "torvyn-trace bench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static int fail_exited(char *err, size_t errlen, int pid)
{
	snprintf(err, errlen, "the command (pid %d) exited before it could be measured", pid);
	return TVN_EXIT_NO_PROCESS;
}

/* A freshly started command needs a moment to exec: retry while it has no probes yet. */
static int open_session(int pid, bool started, struct session **s, char *err, size_t errlen)
{
	struct session_opts so = { .pid = pid, .sample_threshold = 0, .bench = true };
	uint64_t deadline = mono_ns() + 5000000000ull;
	int rc;

	for (;;) {
		rc = session__open(&so, s, err, errlen);
		if (!rc || !started || rc != TVN_EXIT_NO_PROBES || mono_ns() > deadline)
			return rc;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return fail_exited(err, errlen, pid);
		usleep(20000);
	}
}

static bool alive(int pid, bool child)
{
	if (child)
		return waitpid(pid, NULL, WNOHANG) == 0;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

static void progress(double elapsed, double total, double rate, bool warm)
{
	fprintf(stderr, "\r  %s %5.1f s / %.1f s   %12.0f elements/s   ", warm ? "measuring" : "warming up",
		elapsed, total, rate);
}

static int measure(struct session *s, const struct bench_opts *o, int pid, bool child,
		   struct bench_report *r)
{
	struct sample a, b;
	uint64_t t0 = mono_ns(), warm_end = t0 + (uint64_t)(o->warmup_s * 1e9);
	uint64_t end = warm_end + (uint64_t)(o->duration_s * 1e9), last_tick = t0, last_n = 0;
	uint64_t rss_sum = 0, rss_n = 0;
	bool tty = isatty(STDERR_FILENO), warm = false, up = true;
	double rate = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (o->warmup_s <= 0) {
		/* no warmup: the window starts with the process, from zero */
		a.fine = calloc((size_t)TORVYN_MAX_FLOWS * FINE_PER_FLOW, sizeof(*a.fine));
		a.threads = calloc(MAX_THREADS, sizeof(*a.threads));
		if (!a.fine || !a.threads)
			return TVN_EXIT_INTERNAL;
		a.mono_ns = t0;
		warm = true;
	}
	while (!stopping && mono_ns() < end) {
		usleep(POLL_MS * 1000);
		session__poll(s);
		up = alive(pid, child);
		if (!warm && (mono_ns() >= warm_end || !up)) {
			if (!up) {
				pr_warn("pid %d exited during the warmup: nothing to measure (make "
					"the run longer than --warmup)\n",
					pid);
				return TVN_EXIT_NO_PROCESS;
			}
			rc = take_sample(s, &a);
			if (rc)
				return TVN_EXIT_INTERNAL;
			session__reset_peaks(s);
			warm = true;
		}
		if (!up)
			break;
		if (warm) {
			uint64_t rss = rss_bytes(pid);

			rss_sum += rss;
			rss_n++;
			if (rss > r->peak_rss_bytes)
				r->peak_rss_bytes = rss;
		}
		if (tty && mono_ns() - last_tick >= 500000000ull) {
			uint64_t n = elements_now(s), now = mono_ns();

			rate = (double)(n - last_n) / ((now - last_tick) / 1e9);
			last_n = n;
			last_tick = now;
			progress((now - t0) / 1e9, o->warmup_s + o->duration_s, rate, warm);
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (!warm) {
		pr_warn("interrupted during the warmup: nothing measured\n");
		return TVN_EXIT_INTERNAL;
	}
	/* the host's last flush must be in before the window closes */
	session__poll(s);
	if (!up)
		session__target_exited(s);
	rc = take_sample(s, &b);
	if (!rc)
		rc = build_report(r, &a, &b);
	r->mean_rss_bytes = rss_n ? rss_sum / rss_n : 0;
	free_sample(&a);
	free_sample(&b);
	return rc ? TVN_EXIT_INTERNAL : 0;
}

static int output(const struct bench_opts *o, struct bench_report *r)
{
	struct bench_report base = { 0 };
	char path[512], err[512];
	FILE *out = stdout;
	int rc = TVN_EXIT_OK;

	if (o->report_path) {
		out = fopen(o->report_path, "w");
		if (!out) {
			pr_warn("--report %s: %s\n", o->report_path, strerror(errno));
			return TVN_EXIT_USAGE;
		}
	}
	bench_report__write(r, o->format, out);
	if (out != stdout)
		fclose(out);
	if (o->baseline) {
		if (bench_report__save_baseline(r, o->baseline, path, sizeof(path))) {
			pr_warn("--baseline %s: cannot save (names are [A-Za-z0-9_.-], 1 to 64)\n",
				o->baseline);
			return TVN_EXIT_USAGE;
		}
		pr_info("baseline saved: %s\n", path);
	}
	if (o->compare) {
		if (bench_report__resolve(o->compare, path, sizeof(path)) ||
		    bench_report__load(path, &base, err, sizeof(err))) {
			pr_warn("--compare %s: %s\n", o->compare,
				err[0] ? err : "no such file or saved baseline");
			return TVN_EXIT_USAGE;
		}
		if (bench_report__compare(r, &base, o->threshold_pct,
					  o->format == BENCH_JSON ? BENCH_JSON : BENCH_PRETTY,
					  o->report_path ? stdout : stderr))
			rc = TVN_EXIT_REGRESSION;
		bench_report__free(&base);
	}
	return rc;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = { .duration_s = 10, .warmup_s = 2, .threshold_pct = 10 };
	struct bench_report r = { .schema_version = BENCH_SCHEMA_VERSION };
	struct sigaction sa = { .sa_handler = on_signal };
	struct session *s = NULL;
	char err[512] = "";
	uint64_t ns;
	int rc, pid, status;
	time_t now = time(NULL);

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? TVN_EXIT_OK : rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pid = o.pid;
	if (o.command) {
		pid = start_command(o.command);
		if (pid < 0) {
			pr_warn("cannot start %s: %s\n", o.command[0], strerror(errno));
			return TVN_EXIT_INTERNAL;
		}
	}
	rc = open_session(pid, o.command != NULL, &s, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err);
		goto out;
	}
	rc = session__bench_attach(s, err, sizeof(err));
	if (!rc)
		rc = session__set_level(s, TORVYN_LEVEL_DIAGNOSTIC, &ns, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err);
		goto out;
	}
	r.pid = pid;
	r.warmup_s = o.warmup_s;
	strftime(r.started_at, sizeof(r.started_at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (o.command) {
		size_t off = 0;

		for (char **a = o.command; *a && off < sizeof(r.target) - 1; a++)
			off += snprintf(r.target + off, sizeof(r.target) - off, "%s%s",
					a == o.command ? "" : " ", *a);
	} else {
		snprintf(r.target, sizeof(r.target), "pid %d (%.200s)", pid, session__exe(s));
	}
	rc = measure(s, &o, pid, o.command != NULL, &r);
	if (!rc)
		rc = output(&o, &r);
out:
	session__free(s);
	if (o.command && pid > 0) {
		/* the command we started ends with the measurement */
		if (waitpid(pid, &status, WNOHANG) == 0) {
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
		}
	}
	bench_report__free(&r);
	return rc;
}
