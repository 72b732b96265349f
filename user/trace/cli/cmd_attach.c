// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * torvyn-trace attach: one session for one target PID, served by the core's
 * event loop. This verb only configures: the session, its control socket,
 * /metrics, textfiles and the OTLP exporter, as the flags say.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "control.h"
#include "control_server.h"
#include "discover.h"
#include "exitcodes.h"
#include "http.h"
#include "level.h"
#include "log.h"
#include "metric_model.h"
#include "priv.h"
#include "proc.h"
#include "loop.h"
#include "opts.h"
#include "otlp_setup.h"
#include "prom.h"
#include "session.h"
#include "textfile.h"
#include "torvyn_rt.h"
#include "tracing.h"

struct attach_opts {
	int pid;
	int level;
	const char *listen;
	const char *textfile_dir;
	double interval_s;
	uint64_t textfile_ttl_ns;
	bool exit_with_target;
	bool follow;
	double sample_rate;
	uint64_t latency_threshold_ns;
	int control_gid;
	struct tvn_otlp_flags otlp;
	struct tvn_http_opts http;
};

/* Everything one attach runs; the loop's callbacks get it as their context. */
struct attach {
	struct attach_opts o;
	struct tvn_session *s;
	struct tvn_tracing *tracing;
	struct tvn_otlp_setup otlp;
	struct tvn_http *http;
	struct tvn_loop *loop;
	struct tvn_control_server *control;
	int ctl;
	uint64_t start_unix;
	/* the labels of every series, which tell hosts apart */
	char pid_s[16], exe[64], service[128];
	uint64_t textfile_failures; /* atomic: the HTTP thread reads it */
	uint64_t fail_logged_ns;    /* the last failure logged (one a minute) */
	uint64_t gone_ns;	    /* when the target exited, 0 while it lives */
	bool textfile_removed;
	/*
	 * --follow: the executable's file, and the watcher that finds the next
	 * process running it. lock guards the session and the labels, which
	 * the HTTP and control threads read while a follow swaps them.
	 */
	pthread_mutex_t lock;
	dev_t exe_dev;
	ino_t exe_ino;
	struct tvn_discover *follow;
	bool following;
	int res_id; /* the OTLP Resource of the current target */
};

static const struct tvn_opt attach_table[] = {
    TVN_OPT_ROW_PID(struct attach_opts, pid),
    {.name = "level",
     .short_name = 'l',
     .kind = TVN_OPT_LEVEL,
     .off = offsetof(struct attach_opts, level),
     .arg = "LEVEL",
     .help = "production (default) or diagnostic"},
    {.name = "listen",
     .short_name = 0,
     .kind = TVN_OPT_LISTEN,
     .off = offsetof(struct attach_opts, listen),
     .arg = "ADDR:PORT",
     .help = "serve /metrics here (127.0.0.1:9464)"},
    {.name = "textfile-dir",
     .short_name = 0,
     .kind = TVN_OPT_STR,
     .off = offsetof(struct attach_opts, textfile_dir),
     .arg = "DIR",
     .help = "also write DIR/torvyn-PID.prom for node_exporter"},
    {.name = "interval",
     .short_name = 'i',
     .kind = TVN_OPT_SECONDS,
     .off = offsetof(struct attach_opts, interval_s),
     .arg = "SEC",
     .help = "textfile period (15)",
     .min = 0.1,
     .max = 86400},
    {.name = "textfile-ttl",
     .kind = TVN_OPT_DURATION,
     .off = offsetof(struct attach_opts, textfile_ttl_ns),
     .arg = "D",
     .help = "remove the textfile this long after the host exited (300s: 5 minutes); it is "
	     "removed at once when the tracer stops"},
    {.name = "follow",
     .short_name = 'f',
     .kind = TVN_OPT_FLAG,
     .off = offsetof(struct attach_opts, follow),
     .arg = NULL,
     .help = "when the host exits, attach to the next process that runs the same "
	     "executable (same file), within a second; its series come under its new pid"},
    {.name = "exit-with-target",
     .short_name = 'x',
     .kind = TVN_OPT_FLAG,
     .off = offsetof(struct attach_opts, exit_with_target),
     .arg = NULL,
     .help = "quit when the host exits (default: keep serving its final values with "
	     "torvyn_trace_target_up 0)"},
    {.name = "sample-rate",
     .short_name = 0,
     .kind = TVN_OPT_RATE,
     .off = offsetof(struct attach_opts, sample_rate),
     .arg = "R",
     .help = "export head-sampled traces whose trace id falls under R (0.01); errors are always "
	     "exported"},
    {.name = "latency-threshold",
     .short_name = 0,
     .kind = TVN_OPT_DURATION,
     .off = offsetof(struct attach_opts, latency_threshold_ns),
     .arg = "D",
     .help = "export elements slower than D end to end (10ms)"},
    TVN_OPT_ROWS_HTTP(struct attach_opts, http),
    TVN_OPT_ROW_CONTROL_GROUP(struct attach_opts, control_gid),
    TVN_OPT_ROWS_OTLP(struct attach_opts, otlp),
    TVN_OPT_ROW_VERBOSE,
    TVN_OPT_ROW_QUIET,
    TVN_OPT_ROW_HELP,
    TVN_OPT_ROW_END,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-trace attach --pid PID [options]\n"
		"\n"
		"Attaches to a running torvyn host, aggregates in BPF maps and serves Prometheus\n"
		"metrics until stopped (SIGINT/SIGTERM). The host head-samples and promotes\n"
		"traces; --sample-rate and --latency-threshold narrow what is exported.\n"
		"\n"
		"Options:\n");
	tvn_opts__print(out, attach_table);
	fprintf(
	    out,
	    "\n"
	    "Examples:\n"
	    "  torvyn-trace attach --pid $(pgrep -n torvyn-host)\n"
	    "  torvyn-trace attach --pid 1234 --level diagnostic --listen 0.0.0.0:9464\n"
	    "  torvyn-trace attach --pid 1234 --textfile-dir /var/lib/prometheus/node-exporter\n"
	    "  torvyn-trace attach --pid 1234 --otlp-endpoint http://127.0.0.1:4318\n"
	    "  torvyn-trace attach --pid 1234 --otlp-protocol grpc \\\n"
	    "      --otlp-endpoint http://127.0.0.1:4317\n");
}

/* ------------------------------------------------------------ snapshots */

/* A snapshot with the exporter's figures among the self-metrics. */
static int collect(struct attach *a, struct tvn_snapshot *snap)
{
	struct tvn_exporter_stats st;
	struct tvn_snap_export x;
	int rc;

	if (!a->otlp.exp) {
		pthread_mutex_lock(&a->lock);
		rc = tvn_session__snapshot(a->s, NULL, snap);
		pthread_mutex_unlock(&a->lock);
		snap->textfile_failures = __atomic_load_n(&a->textfile_failures, __ATOMIC_RELAXED);
		return rc;
	}
	tvn_exporter__stats(a->otlp.exp, &st);
	x = (struct tvn_snap_export){
	    .spans_dropped = st.spans_dropped,
	    .spans_exported = st.spans_exported,
	    .spans_rejected = st.spans_rejected,
	    .retries = st.requests_retried,
	    .failures = st.requests_failed,
	    .partial_successes = st.partial_successes,
	    .metric_requests = st.metric_requests_sent,
	};
	pthread_mutex_lock(&a->lock);
	rc = tvn_session__snapshot(a->s, &x, snap);
	pthread_mutex_unlock(&a->lock);
	snap->textfile_failures = __atomic_load_n(&a->textfile_failures, __ATOMIC_RELAXED);
	return rc;
}

/*
 * /metrics and the textfile alike: every series labelled pid, exe and
 * service, so that hosts never clash wherever their series meet (node
 * scraping, one Prometheus for many endpoints, a restarted host).
 */
static int render(void *ctx, bool om, char **body, size_t *len)
{
	struct attach *a = ctx;
	char pid_s[sizeof(a->pid_s)], exe[sizeof(a->exe)], service[sizeof(a->service)];
	struct tvn_metric_label labels[3] = {
		{"pid", pid_s, sizeof(pid_s)}, {"exe", exe, sizeof(exe)},
		{"service", service, sizeof(service)}};
	struct tvn_metric_target t = {.labels = labels, .n_labels = 3};
	struct tvn_snapshot snap;
	int rc;

	pthread_mutex_lock(&a->lock);
	memcpy(pid_s, a->pid_s, sizeof(pid_s));
	memcpy(exe, a->exe, sizeof(exe));
	memcpy(service, a->service, sizeof(service));
	pthread_mutex_unlock(&a->lock);
	rc = collect(a, &snap);
	t.s = &snap;
	if (!rc)
		rc = tvn_prom__render_many(&t, 1, om, NULL, body, len);
	tvn_snapshot__free(&snap);
	return rc ? -ENOMEM : 0;
}

/*
 * What /metrics must show at once: the target (a follow moves to the next
 * one) and its level (a switch is answered, then checked by a scrape).
 */
static uint64_t version(void *ctx)
{
	struct attach *a = ctx;
	uint64_t v;

	pthread_mutex_lock(&a->lock);
	v = (uint64_t)(uint32_t)a->o.pid << 8 | (uint8_t)tvn_session__level(a->s);
	pthread_mutex_unlock(&a->lock);
	return v;
}

/* ------------------------------------------------------------ the loop's work */


static void textfile_path(const struct attach *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s/torvyn-%d.prom", a->o.textfile_dir, a->o.pid);
}

/* Removes the textfile: the host is gone long enough, or the tracer stops. */
static void remove_textfile(struct attach *a)
{
	char path[PATH_MAX];

	textfile_path(a, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		pr_warn("textfile %s: cannot remove it: %s\n", path, strerror(errno));
	a->textfile_removed = true;
}

static void write_textfile(void *ctx)
{
	struct attach *a = ctx;
	char *buf = NULL, path[PATH_MAX];
	size_t len = 0;
	uint64_t now = tvn_time__mono_ns();
	int rc;

	if (a->textfile_removed)
		return;
	/* the last write showed target_up 0: after the TTL, no dead PID stays */
	if (a->gone_ns && now - a->gone_ns >= a->o.textfile_ttl_ns) {
		remove_textfile(a);
		return;
	}
	rc = render(a, false, &buf, &len);
	if (!rc)
		rc = tvn_textfile__write(a->o.textfile_dir, a->o.pid, buf, len);
	free(buf);
	if (!rc)
		return;
	__atomic_add_fetch(&a->textfile_failures, 1, __ATOMIC_RELAXED);
	/* counted every time, logged once a minute at most */
	if (!a->fail_logged_ns || now - a->fail_logged_ns >= 60000000000ull) {
		textfile_path(a, path, sizeof(path));
		pr_warn("textfile %s: %s (%llu failed writes so far; "
			"torvyn_trace_textfile_write_failures_total)\n",
			path, strerror(-rc),
			(unsigned long long)__atomic_load_n(&a->textfile_failures, __ATOMIC_RELAXED));
		a->fail_logged_ns = now;
	}
}

static void push_metrics(void *ctx)
{
	struct attach *a = ctx;
	struct tvn_snapshot snap;

	if (!collect(a, &snap))
		tvn_exporter__push_metrics(a->otlp.exp, &snap, a->start_unix, tvn_time__unix_ns());
	tvn_snapshot__free(&snap);
}

static int render_text(void *ctx, char **body, size_t *len)
{
	return render(ctx, false, body, len);
}


static void after_poll(void *ctx)
{
	struct attach *a = ctx;

	if (a->tracing)
		tvn_tracing__retry(a->tracing, false);
}

/* The target's pid and labels (under the lock: the HTTP thread reads them). */
static void set_target(struct attach *a, int pid)
{
	pthread_mutex_lock(&a->lock);
	a->o.pid = pid;
	snprintf(a->pid_s, sizeof(a->pid_s), "%d", pid);
	tvn_proc__exe_base(tvn_session__exe(a->s), a->exe, sizeof(a->exe));
	tvn_proc__service(pid, a->exe, a->service, sizeof(a->service));
	pthread_mutex_unlock(&a->lock);
}

/* The executable's file as /proc/PID/exe resolves it, in any mount namespace. */
static int exe_id(int pid, dev_t *dev, ino_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st))
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static int attach_target(struct attach *a, struct tvn_err *e);

/* --follow: a process that may run our executable, from an exec or a scan. */
static void follow_candidate(void *ctx, int pid)
{
	struct attach *a = ctx;
	struct tvn_loader_opts so = {
	    .pid = pid,
	    .sample_threshold = tvn_sample_threshold(a->o.sample_rate),
	    .latency_threshold_ns = a->o.latency_threshold_ns,
	};
	struct tvn_session *old = a->s, *s;
	struct tvn_err e = {0};
	dev_t dev;
	ino_t ino;

	if (!a->following || pid == a->o.pid || exe_id(pid, &dev, &ino) ||
	    dev != a->exe_dev || ino != a->exe_ino)
		return;
	if (tvn_session__open(&so, &s, &e)) {
		pr_warn("--follow: pid %d runs the executable but cannot be attached: %s\n", pid,
			e.msg);
		return;
	}
	/* the old target's session, control socket, tracing and textfile go */
	tvn_loop__remove_session(a->loop, old);
	if (a->ctl >= 0) {
		tvn_control_server__remove(a->control, a->ctl);
		close(a->ctl);
		a->ctl = -1;
	}
	tvn_tracing__free(a->tracing);
	a->tracing = NULL;
	if (a->o.textfile_dir && !a->textfile_removed)
		remove_textfile(a);
	pthread_mutex_lock(&a->lock);
	a->s = s;
	pthread_mutex_unlock(&a->lock);
	tvn_session__free(old); /* a render holds the lock while it snapshots */
	set_target(a, pid);
	a->following = false;
	a->gone_ns = 0;
	a->textfile_removed = false;
	if (attach_target(a, &e)) {
		pr_warn("--follow: pid %d: %s\n", pid, e.msg);
		a->following = true;
		return;
	}
	pr_info("--follow: attached to pid %d, the next process of %s\n", pid, a->exe);
}

static void follow_tick(void *ctx)
{
	struct attach *a = ctx;

	if (a->following)
		tvn_discover__poll(a->follow, follow_candidate, a);
}

static void follow_rescan(void *ctx)
{
	struct attach *a = ctx;

	if (a->following)
		tvn_discover__scan(a->follow, follow_candidate, a);
}

static void target_exited(void *ctx)
{
	struct attach *a = ctx;

	if (a->tracing)
		tvn_tracing__retry(a->tracing, true);
	a->gone_ns = tvn_time__mono_ns();
	if (a->o.textfile_dir)
		write_textfile(a); /* at once: the file shows target_up 0 */
	if (a->o.follow) {
		pr_info("pid %d exited; waiting for the next process of %s\n", a->o.pid, a->exe);
		a->following = true;
		follow_rescan(a);
		return;
	}
	pr_info("pid %d exited; %s\n", a->o.pid,
		a->o.exit_with_target ? "quitting" : "serving its final values until stopped");
	if (a->o.exit_with_target)
		tvn_loop__stop(a->loop);
}

static void add_span(void *ctx, const struct tvn_otlp_span *span)
{
	struct attach *a = ctx;

	tvn_exporter__add_span(a->otlp.exp, span);
}

/* ------------------------------------------------------------ setup */

static int start_serving(struct attach *a)
{
	int e;

	a->ctl = tvn_control__listen(a->o.pid);
	if (a->ctl < 0) {
		if (a->ctl == -EADDRINUSE)
			pr_warn("pid %d already has an attach session: switch its level with "
				"'torvyn-trace level --pid %d ...' or stop it first\n",
				a->o.pid, a->o.pid);
		else
			pr_warn("control socket: %s\n", strerror(-a->ctl));
		return a->ctl == -EADDRINUSE ? TVN_EXIT_ADDR_IN_USE : TVN_EXIT_INTERNAL;
	}
	/* attached, the control socket bound, no thread yet (docs/design.md, "Privileges") */
	tvn_priv__drop_for(a->o.listen, a->o.textfile_dir || a->o.otlp.file);
	a->o.http.version = version;
	a->http = tvn_http__start(a->o.listen, render, a, &a->o.http);
	if (a->http)
		return 0;
	e = errno;
	if (e == EADDRINUSE)
		pr_warn("--listen %s: address already in use: pick another port "
			"(--listen 127.0.0.1:PORT) or stop what holds it (ss -ltnp)\n",
			a->o.listen);
	else
		pr_warn("--listen %s: %s\n", a->o.listen, strerror(e));
	return e == EADDRINUSE ? TVN_EXIT_ADDR_IN_USE
	       : e == EACCES   ? TVN_EXIT_PERMISSION
			       : TVN_EXIT_INTERNAL;
}

/* The loop's work, the control thread and, with --follow, the exec watcher. */
static int configure_loop(struct attach *a)
{
	uint64_t metrics_ns = (uint64_t)(a->o.otlp.metrics_interval_s * 1e9);
	struct tvn_err e = {0};
	int rc = 0;

	a->loop = tvn_loop__new();
	a->control = tvn_control_server__new();
	if (!a->loop || !a->control)
		return TVN_EXIT_INTERNAL;
	if (a->o.textfile_dir)
		rc = tvn_loop__add_timer(a->loop, 0, (uint64_t)(a->o.interval_s * 1e9),
					 write_textfile, a);
	if (!rc && a->otlp.exp)
		rc = tvn_loop__add_timer(a->loop, metrics_ns, metrics_ns, push_metrics, a);
	if (!rc && a->o.follow) {
		a->follow = tvn_discover__new();
		if (!a->follow)
			return TVN_EXIT_INTERNAL;
		if (tvn_discover__watch(a->follow, &e))
			return tvn_cli__fail(&e);
		rc = tvn_loop__add_timer(a->loop, 0, 0, follow_tick, a) ||
		     tvn_loop__add_timer(a->loop, 1000000000ull, 1000000000ull, follow_rescan, a);
	}
	return rc ? TVN_EXIT_INTERNAL : 0;
}

/*
 * The current target into the loop, its control socket onto the control
 * thread, its tracing, and its level. 0 or -errno with e set.
 */
static int attach_target(struct attach *a, struct tvn_err *e)
{
	static const struct tvn_loop_session_ops ops = {
	    .after_poll = after_poll,
	    .target_exited = target_exited,
	};
	struct tvn_control_ops cops = {
	    .session = a->s, .render = render_text, .ctx = a, .allow_gid = a->o.control_gid};
	int rc = tvn_loop__add_session(a->loop, a->s, &ops, a, e);

	if (rc)
		return rc;
	if (a->ctl < 0)
		a->ctl = tvn_control__listen(a->o.pid);
	if (a->ctl >= 0 && tvn_control_server__add(a->control, a->ctl, &cops))
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	if (a->otlp.exp) {
		a->tracing = tvn_tracing__new(a->s, add_span, a);
		if (!a->tracing)
			return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	}
	return tvn_session__set_level(a->s, a->o.level, NULL, e);
}

static int open_session(struct attach *a)
{
	struct tvn_loader_opts so = {
	    .pid = a->o.pid,
	    .sample_threshold = tvn_sample_threshold(a->o.sample_rate),
	    .latency_threshold_ns = a->o.latency_threshold_ns,
	};
	struct tvn_err e = {0};
	char addr[300];
	uint64_t ns = 0;
	int rc;

	if (tvn_session__open(&so, &a->s, &e))
		return tvn_cli__fail(&e);
	set_target(a, a->o.pid);
	if (a->o.follow && exe_id(a->o.pid, &a->exe_dev, &a->exe_ino)) {
		pr_warn("--follow: pid %d: cannot stat its executable: %s\n", a->o.pid,
			strerror(errno));
		return TVN_EXIT_NO_PROCESS;
	}
	rc = start_serving(a);
	if (!rc)
		rc = tvn_otlp_setup__open(&a->otlp, &a->o.otlp, a->o.pid, tvn_session__exe(a->s));
	if (!rc)
		rc = configure_loop(a);
	if (rc)
		return rc;
	ns = tvn_time__mono_ns();
	if (attach_target(a, &e))
		return tvn_cli__fail(&e);
	ns = tvn_time__mono_ns() - ns;
	pr_info("attached to pid %d (%s) at level %s in %.1f ms; serving http://%s/metrics\n",
		a->o.pid, tvn_session__exe(a->s), tvn_level__name(a->o.level), ns / 1e6,
		tvn_http__addr(a->http, a->o.listen, addr, sizeof(addr)));
	return 0;
}

/* What was collected goes out before we leave. */
static void finish(struct attach *a)
{
	if (a->tracing)
		tvn_tracing__retry(a->tracing, true);
	/* a clean stop leaves no file for a collector to serve forever */
	if (a->o.textfile_dir)
		remove_textfile(a);
	if (a->otlp.exp) {
		push_metrics(a);
		tvn_exporter__flush(a->otlp.exp);
	}
}

static void close_all(struct attach *a)
{
	/* stop producing spans, then drain the exporter (5 s at most) */
	tvn_tracing__free(a->tracing);
	tvn_otlp_setup__close(&a->otlp, 5000);
	tvn_http__stop(a->http);
	tvn_control_server__free(a->control);
	tvn_loop__free(a->loop);
	tvn_discover__free(a->follow);
	if (a->ctl >= 0)
		close(a->ctl);
	tvn_session__free(a->s);
}

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

int tvn_cli__attach(int argc, char **argv)
{
	struct attach a = {
	    .o =
		{
		    .level = TORVYN_LEVEL_PRODUCTION,
		    .listen = "127.0.0.1:9464",
		    .interval_s = 15,
		    .sample_rate = 0.01,
		    .latency_threshold_ns = 10 * 1000000ull,
		    .control_gid = -1,
		    .textfile_ttl_ns = 300 * 1000000000ull,
		    .otlp.metrics_interval_s = 15,
		},
	    .ctl = -1,
	    .start_unix = tvn_time__unix_ns(),
	    .lock = PTHREAD_MUTEX_INITIALIZER,
	};
	struct sigaction sa = {.sa_handler = on_signal};
	int rc;

	rc = tvn_opts__parse(attach_table, argc, argv, &a.o, usage, NULL, 0);
	if (rc)
		return rc == 1 ? TVN_EXIT_OK : rc;
	if (!a.o.pid) {
		pr_warn("attach needs --pid PID (try --help)\n");
		return TVN_EXIT_USAGE;
	}
	if (a.o.textfile_dir && (rc = tvn_textfile__check_dir(a.o.textfile_dir))) {
		pr_warn("--textfile-dir %s: %s: give an existing directory this user can write\n",
			a.o.textfile_dir, strerror(-rc));
		return TVN_EXIT_EXPORT;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = open_session(&a);
	if (!rc && tvn_loop__run(a.loop, &exiting))
		rc = TVN_EXIT_INTERNAL;
	if (!rc)
		finish(&a);
	close_all(&a);
	return rc;
}
