/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace bench: options, the command to start, and what becomes of
 * the report (--report, --baseline, --compare). The measuring is
 * tvn_bench__run() (bench/run.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "commands.h"
#include "exitcodes.h"
#include "log.h"
#include "torvyn_parse.h"

struct bench_opts {
	struct tvn_bench_run_opts run;
	double threshold_pct;
	enum tvn_bench_format format;
	const char *report_path, *baseline, *compare;
};

static void usage(FILE *out)
{
	fprintf(
	    out,
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

/* ------------------------------------------------------------ options */

static int parse_seconds(const char *opt, const char *s, double min, double *out)
{
	if (torvyn_parse_seconds(s, min, 86400, out)) {
		pr_warn("%s %s: expected seconds >= %g\n", opt, s, min);
		return TVN_EXIT_USAGE;
	}
	return 0;
}

/* One option of the report: 0 or TVN_EXIT_USAGE. */
static int parse_report_opt(int opt, const char *arg, struct bench_opts *o)
{
	char *end;

	switch (opt) {
	case 'f':
		if (tvn_bench_format__parse(arg, &o->format)) {
			pr_warn("--report-format %s: expected pretty, json, csv or markdown\n",
				arg);
			return TVN_EXIT_USAGE;
		}
		return 0;
	case 'o':
		o->report_path = arg;
		return 0;
	case 'b':
		o->baseline = arg;
		return 0;
	case 'c':
		o->compare = arg;
		return 0;
	case 't':
		o->threshold_pct = strtod(arg, &end);
		if (end == arg || *end || o->threshold_pct < 0) {
			pr_warn("--threshold %s: expected a percentage >= 0\n", arg);
			return TVN_EXIT_USAGE;
		}
		return 0;
	}
	return TVN_EXIT_USAGE;
}

static const struct option long_opts[] = {
    {"duration", required_argument, NULL, 'd'},
    {"warmup", required_argument, NULL, 'w'},
    {"report-format", required_argument, NULL, 'f'},
    {"report", required_argument, NULL, 'o'},
    {"baseline", required_argument, NULL, 'b'},
    {"compare", required_argument, NULL, 'c'},
    {"threshold", required_argument, NULL, 't'},
    {"pid", required_argument, NULL, 'p'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

/* Parsed options, -1 after --help, or TVN_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int opt, rc = 0;

	while (!rc &&
	       (opt = getopt_long(argc, argv, "+d:w:f:o:b:c:t:p:vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			rc = parse_seconds("--duration", optarg, 0.1, &o->run.duration_s);
			break;
		case 'w':
			rc = parse_seconds("--warmup", optarg, 0, &o->run.warmup_s);
			break;
		case 'f':
		case 'o':
		case 'b':
		case 'c':
		case 't':
			rc = parse_report_opt(opt, optarg, o);
			break;
		case 'p':
			if (torvyn_parse_pid(optarg, &o->run.pid)) {
				pr_warn("--pid %s: expected a process id\n", optarg);
				rc = TVN_EXIT_USAGE;
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
	if (rc)
		return rc;
	if (optind < argc)
		o->run.command = &argv[optind];
	if (!o->run.pid == !o->run.command) {
		pr_warn("bench needs either --pid PID or -- COMMAND (try --help)\n");
		return TVN_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ the command */

/* The child gets the signal mask of before (old): SIGINT and SIGTERM reach it. */
static pid_t start_command(char **argv, const sigset_t *old)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "torvyn-trace bench: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	return pid;
}

/* The command we started ends with the measurement. */
static void stop_command(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
}

/* The progress line on a terminal. */
static void show_progress(const struct tvn_bench_progress *p)
{
	if (p->done) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\r  %s %5.1f s / %.1f s   %12.0f elements/s   ",
		p->measuring ? "measuring" : "warming up", p->elapsed_s, p->total_s,
		p->elements_per_sec);
}

/* ------------------------------------------------------------ the report */

static int compare(const struct bench_opts *o, const struct tvn_bench_report *r)
{
	struct tvn_bench_report base = {0};
	char path[512], err[512] = "";
	int rc = TVN_EXIT_OK;

	if (tvn_bench_report__resolve(o->compare, path, sizeof(path)) ||
	    tvn_bench_report__load(path, &base, err, sizeof(err))) {
		pr_warn("--compare %s: %s\n", o->compare,
			err[0] ? err : "no such file or saved baseline");
		return TVN_EXIT_USAGE;
	}
	if (tvn_bench_report__compare(r, &base, o->threshold_pct,
				      o->format == TVN_BENCH_JSON ? TVN_BENCH_JSON
								  : TVN_BENCH_PRETTY,
				      o->report_path ? stdout : stderr))
		rc = TVN_EXIT_REGRESSION;
	tvn_bench_report__free(&base);
	return rc;
}

static int output(const struct bench_opts *o, const struct tvn_bench_report *r)
{
	char path[512];
	FILE *out = stdout;

	if (o->report_path) {
		out = fopen(o->report_path, "w");
		if (!out) {
			pr_warn("--report %s: %s\n", o->report_path, strerror(errno));
			return TVN_EXIT_USAGE;
		}
	}
	tvn_bench_report__write(r, o->format, out);
	if (out != stdout)
		fclose(out);
	if (o->baseline) {
		if (tvn_bench_report__save_baseline(r, o->baseline, path, sizeof(path))) {
			pr_warn("--baseline %s: cannot save (names are [A-Za-z0-9_.-], 1 to 64)\n",
				o->baseline);
			return TVN_EXIT_USAGE;
		}
		pr_info("baseline saved: %s\n", path);
	}
	return o->compare ? compare(o, r) : TVN_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {.run = {.duration_s = 10, .warmup_s = 2}, .threshold_pct = 10};
	struct tvn_bench_report r = {.schema_version = TVN_BENCH_SCHEMA_VERSION};
	sigset_t stop, old;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? TVN_EXIT_OK : rc;
	/* a stop signal ends the window early: the report still comes */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	o.run.stop = &stop;
	o.run.progress = isatty(STDERR_FILENO) ? show_progress : NULL;
	if (o.run.command) {
		o.run.pid = start_command(o.run.command, &old);
		if (o.run.pid < 0) {
			pr_warn("cannot start %s: %s\n", o.run.command[0], strerror(errno));
			return TVN_EXIT_INTERNAL;
		}
	}
	rc = tvn_bench__run(&o.run, &r);
	if (!rc)
		rc = output(&o, &r);
	if (o.run.command && o.run.pid > 0)
		stop_command(o.run.pid);
	tvn_bench_report__free(&r);
	return rc;
}
