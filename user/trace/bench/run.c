// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A bench run: a host under sustained load, measured at diagnostic level
 * from our own BPF data. After the warmup a sample opens the window
 * (sample.c), another closes it, and the report is their difference
 * (window.c). In between, a mark every window_s seconds cuts the run into
 * windows, each with its own throughput and p99 (what --compare weighs a
 * change against).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_internal.h"
#include "log.h"
#include "session.h"

#define POLL_MS 50
#define PROGRESS_NS 500000000ull

/* A run in progress. */
struct run {
	const struct tvn_bench_run_opts *o;
	struct tvn_err *e;
	struct tvn_session *s;
	bool child; /* pid is ours: reaped when it exits */
	bool stopping, warm, up;
	struct tvn_bench_sample a;  /* the window's start */
	struct tvn_bench_mark mark; /* where the current window began */
	uint64_t t0, warm_end, end, next_mark;
	uint64_t last_tick, last_n; /* of the progress line */
	uint64_t rss_sum, rss_n;
};

/* True once a stop signal came: waits up to ns for one (0: only looks). */
static bool stop_wait(struct run *run, uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull};

	if (run->stopping)
		return true;
	if (!run->o->stop) {
		if (ns)
			nanosleep(&ts, NULL);
		return false;
	}
	run->stopping = sigtimedwait(run->o->stop, NULL, &ts) > 0;
	return run->stopping;
}

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

static uint64_t elements_now(struct tvn_session *s)
{
	struct tvn_snapshot sn;
	uint64_t n = 0;

	if (tvn_session__snapshot(s, NULL, &sn))
		return 0;
	for (int f = 0; f < sn.n_flows; f++)
		n += sn.flows[f].present ? sn.flows[f].blk.elements_total : 0;
	tvn_snapshot__free(&sn);
	return n;
}

static bool alive(int pid, bool child)
{
	if (child)
		return waitpid(pid, NULL, WNOHANG) == 0;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* ------------------------------------------------------------ the session */

/* A freshly started command needs a moment to exec: retry while it has no probes yet. */
static int open_session(int pid, bool started, struct tvn_session **s, struct tvn_err *e)
{
	struct tvn_loader_opts so = {.pid = pid, .sample_threshold = 0, .bench = true};
	uint64_t deadline = tvn_bench__now_ns() + 5000000000ull;
	int rc;

	for (;;) {
		rc = tvn_session__open(&so, s, e);
		if (!rc || !started || e->cause != TVN_CAUSE_NO_PROBES ||
		    tvn_bench__now_ns() > deadline)
			return rc;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return tvn_err__set(
			    e, TVN_CAUSE_NO_PROCESS, -ESRCH,
			    "the command (pid %d) exited before it could be measured", pid);
		usleep(20000);
	}
}

/* Opened, with the scheduler programs, at diagnostic level. 0 or -errno, e set. */
static int attach(const struct tvn_bench_run_opts *o, struct tvn_session **s, struct tvn_err *e)
{
	uint64_t ns;
	int rc;

	rc = open_session(o->pid, o->command != NULL, s, e);
	if (!rc)
		rc = tvn_session__bench_attach(*s, e);
	if (!rc)
		rc = tvn_session__set_level(*s, TORVYN_LEVEL_DIAGNOSTIC, &ns, e);
	return rc;
}

/* ------------------------------------------------------------ the window */

static int out_of_memory(struct run *run)
{
	return tvn_err__set(run->e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
}

/* The first of the windows --compare weighs changes with begins now. */
static int first_mark(struct run *run)
{
	if (tvn_bench_mark__take(&run->mark, run->s))
		return out_of_memory(run);
	run->next_mark = run->mark.mono_ns + (uint64_t)(run->o->window_s * 1e9);
	return 0;
}

/* The warmup is over (or the host is gone): the window opens. 0 or -errno, e set. */
static int open_window(struct run *run)
{
	if (!run->up)
		return tvn_err__set(run->e, TVN_CAUSE_NO_PROCESS, -ESRCH,
				    "pid %d exited during the warmup: nothing to measure (make the "
				    "run longer than --warmup)",
				    run->o->pid);
	tvn_bench_sample__free(&run->a);
	if (tvn_bench_sample__take(&run->a, run->s))
		return out_of_memory(run);
	tvn_session__reset_peaks(run->s);
	run->warm = true;
	return first_mark(run);
}

/*
 * No warmup on a running host (--pid): its blocks count from its start, so
 * the window starts from what they say at attach. The host flushes them as
 * soon as a tracer arrives: wait for them (2 s at most), then open.
 */
static int open_at_attach(struct run *run)
{
	uint64_t deadline = tvn_bench__now_ns() + 2000000000ull;
	struct tvn_snapshot sn;
	bool any = false;

	while (!any && run->up && tvn_bench__now_ns() < deadline && !stop_wait(run, 0)) {
		tvn_session__poll(run->s);
		if (!tvn_session__snapshot(run->s, NULL, &sn)) {
			for (int f = 0; f < sn.n_flows; f++)
				any |= sn.flows[f].present;
			tvn_snapshot__free(&sn);
		}
		if (!any)
			stop_wait(run, 10000000ull);
		run->up = alive(run->o->pid, run->child);
	}
	if (!any)
		pr_debug("bench: no metric block from pid %d within 2 s of attaching\n",
			 run->o->pid);
	/* every block of that flush in */
	tvn_session__poll(run->s);
	return open_window(run);
}

/* A window ends at each mark: its throughput and p99 go into r. 0 or -errno, e set. */
static int next_mark(struct run *run, struct tvn_bench_report *r)
{
	struct tvn_bench_mark m;

	if (tvn_bench_mark__take(&m, run->s) || tvn_bench_report__add_window(r, &run->mark, &m))
		return out_of_memory(run);
	run->mark = m;
	run->next_mark = m.mono_ns + (uint64_t)(run->o->window_s * 1e9);
	return 0;
}

static void sample_rss(struct run *run, struct tvn_bench_report *r)
{
	uint64_t rss = rss_bytes(run->o->pid);

	run->rss_sum += rss;
	run->rss_n++;
	if (rss > r->peak_rss_bytes)
		r->peak_rss_bytes = rss;
}

static void show_progress(struct run *run)
{
	uint64_t n = elements_now(run->s), now = tvn_bench__now_ns();
	struct tvn_bench_progress p = {
	    .elapsed_s = (now - run->t0) / 1e9,
	    .total_s = run->o->warmup_s + run->o->duration_s,
	    .elements_per_sec = (double)(n - run->last_n) / ((now - run->last_tick) / 1e9),
	    .measuring = run->warm,
	};

	run->last_n = n;
	run->last_tick = now;
	run->o->progress(&p);
}

/* One poll of the loop (run->up false: the host is gone). 0 or -errno, e set. */
static int tick(struct run *run, struct tvn_bench_report *r)
{
	uint64_t now = tvn_bench__now_ns(), wait = POLL_MS * 1000000ull;
	int rc;

	if (run->warm && run->next_mark > now && run->next_mark - now < wait)
		wait = run->next_mark - now;
	else if (run->warm && run->next_mark <= now)
		wait = 0;
	stop_wait(run, wait);
	tvn_session__poll(run->s);
	run->up = alive(run->o->pid, run->child);
	if (!run->warm && (tvn_bench__now_ns() >= run->warm_end || !run->up)) {
		rc = open_window(run);
		if (rc)
			return rc;
	}
	if (!run->up)
		return 0;
	if (run->warm && tvn_bench__now_ns() >= run->next_mark) {
		rc = next_mark(run, r);
		if (rc)
			return rc;
	}
	if (run->warm)
		sample_rss(run, r);
	if (run->o->progress && tvn_bench__now_ns() - run->last_tick >= PROGRESS_NS)
		show_progress(run);
	return 0;
}

/* The window closes: the last sample, the report. 0 or -errno, e set. */
static int close_window(struct run *run, struct tvn_bench_report *r)
{
	struct tvn_bench_sample b;
	int rc;

	memset(&b, 0, sizeof(b));
	/* the host's last flush must be in before the window closes */
	tvn_session__poll(run->s);
	if (!run->up)
		tvn_session__target_exited(run->s);
	/* a last partial window counts when it is half a window or more */
	if (tvn_bench__now_ns() + (uint64_t)(run->o->window_s * 0.5e9) >= run->next_mark &&
	    next_mark(run, r))
		return -ENOMEM;
	rc = tvn_bench_sample__take(&b, run->s);
	if (!rc)
		rc = tvn_bench_report__build(r, &run->a, &b);
	r->mean_rss_bytes = run->rss_n ? run->rss_sum / run->rss_n : 0;
	tvn_bench_sample__free(&b);
	return rc ? tvn_err__set(run->e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory") : 0;
}

static int measure(struct run *run, struct tvn_bench_report *r)
{
	const struct tvn_bench_progress done = {.done = true};
	int rc = 0;

	run->t0 = tvn_bench__now_ns();
	run->warm_end = run->t0 + (uint64_t)(run->o->warmup_s * 1e9);
	run->end = run->warm_end + (uint64_t)(run->o->duration_s * 1e9);
	run->last_tick = run->t0;
	run->up = true;
	r->window_s = run->o->window_s;
	if (run->o->warmup_s <= 0 && run->o->command) {
		/* no warmup, a command we started: the window starts with it, from zero */
		if (tvn_bench_sample__init(&run->a, run->t0))
			return out_of_memory(run);
		run->warm = true;
		rc = first_mark(run);
	} else if (run->o->warmup_s <= 0) {
		rc = open_at_attach(run);
		/* the window is as long as asked, from where it opened */
		run->end = run->a.mono_ns + (uint64_t)(run->o->duration_s * 1e9);
	}
	if (rc)
		return rc;
	while (!rc && run->up && !stop_wait(run, 0) && tvn_bench__now_ns() < run->end)
		rc = tick(run, r);
	if (rc)
		return rc;
	if (run->o->progress)
		run->o->progress(&done);
	if (!run->warm)
		return tvn_err__set(run->e, TVN_CAUSE_INTERNAL, -EINTR,
				    "interrupted during the warmup: nothing measured");
	return close_window(run, r);
}

/* ------------------------------------------------------------ the run */

/* What was measured: the command line, or "pid N (exe)". */
static void describe_target(struct tvn_bench_report *r, const struct tvn_bench_run_opts *o,
			    struct tvn_session *s)
{
	size_t off = 0;

	if (!o->command) {
		snprintf(r->target, sizeof(r->target), "pid %d (%.200s)", o->pid,
			 tvn_session__exe(s));
		return;
	}
	for (char **a = o->command; *a && off < sizeof(r->target) - 1; a++)
		off += snprintf(r->target + off, sizeof(r->target) - off, "%s%s",
				a == o->command ? "" : " ", *a);
}

int tvn_bench__run(const struct tvn_bench_run_opts *o, struct tvn_bench_report *r,
		   struct tvn_err *e)
{
	struct run run = {.o = o, .e = e, .child = o->command != NULL};
	time_t now = time(NULL);
	int rc;

	memset(&run.a, 0, sizeof(run.a));
	rc = attach(o, &run.s, e);
	if (!rc) {
		r->pid = o->pid;
		r->warmup_s = o->warmup_s;
		strftime(r->started_at, sizeof(r->started_at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		describe_target(r, o, run.s);
		rc = measure(&run, r);
	}
	tvn_bench_sample__free(&run.a);
	tvn_session__free(run.s);
	return rc;
}
