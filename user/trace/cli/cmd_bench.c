/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace bench: options, the command to start, and what becomes of
 * the report (--report, --baseline, --compare). The measuring is
 * tvn_bench__run() (bench/run.c).
 */
#include <errno.h>
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
#include "opts.h"

struct bench_opts {
	struct tvn_bench_run_opts run;
	double threshold_pct;
	enum tvn_bench_format format;
	const char *report_path, *baseline, *compare;
};

static int parse_format(const char *arg, void *field)
{
	if (!tvn_bench_format__parse(arg, field))
		return 0;
	pr_warn("--report-format %s: expected pretty, json, csv or markdown\n", arg);
	return -EINVAL;
}

static int parse_pct(const char *arg, void *field)
{
	double *pct = field;
	char *end;

	*pct = strtod(arg, &end);
	if (end != arg && !*end && *pct >= 0)
		return 0;
	pr_warn("--threshold %s: expected a percentage >= 0\n", arg);
	return -EINVAL;
}

#define BO(field) offsetof(struct bench_opts, field)
static const struct tvn_opt bench_table[] = {
    {.name = "duration",
     .short_name = 'd',
     .kind = TVN_OPT_SECONDS,
     .off = BO(run.duration_s),
     .arg = "SEC",
     .help = "measured window (10)",
     .min = 0.1,
     .max = 86400},
    {.name = "warmup",
     .short_name = 'w',
     .kind = TVN_OPT_SECONDS,
     .off = BO(run.warmup_s),
     .arg = "SEC",
     .help = "excluded lead-in (2)",
     .min = 0,
     .max = 86400},
    {.name = "window",
     .kind = TVN_OPT_SECONDS,
     .off = BO(run.window_s),
     .arg = "SEC",
     .help = "length of each window --compare weighs changes with (0.5)",
     .min = 0.01,
     .max = 3600},
    {.name = "report-format",
     .short_name = 'f',
     .kind = TVN_OPT_CALL,
     .off = BO(format),
     .arg = "F",
     .help = "pretty (default), json, csv or markdown",
     .parse = parse_format},
    {.name = "report",
     .short_name = 'o',
     .kind = TVN_OPT_STR,
     .off = BO(report_path),
     .arg = "FILE",
     .help = "write the report to FILE instead of stdout"},
    {.name = "baseline",
     .short_name = 'b',
     .kind = TVN_OPT_STR,
     .off = BO(baseline),
     .arg = "NAME",
     .help = "save the report as .torvyn/bench/NAME.json"},
    {.name = "compare",
     .short_name = 'c',
     .kind = TVN_OPT_STR,
     .off = BO(compare),
     .arg = "PATH|NAME",
     .help = "compare with a saved report; exit 3 on a regression"},
    {.name = "threshold",
     .short_name = 't',
     .kind = TVN_OPT_CALL,
     .off = BO(threshold_pct),
     .arg = "PCT",
     .help = "regression threshold for --compare (10)",
     .parse = parse_pct},
    {.name = "pid",
     .short_name = 'p',
     .kind = TVN_OPT_PID,
     .off = BO(run.pid),
     .arg = "PID",
     .help = "measure a running host instead of starting one"},
    TVN_OPT_ROW_VERBOSE,
    TVN_OPT_ROW_HELP,
    TVN_OPT_ROW_END,
};
#undef BO

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-trace bench [options] (--pid PID | -- COMMAND [ARGS...])\n"
		"\n"
		"Measures a torvyn host under sustained load at diagnostic level: throughput,\n"
		"end-to-end latency percentiles, per-component breakdown, queues, buffers,\n"
		"scheduling and memory. The warmup is excluded from every figure.\n"
		"\n"
		"Options:\n");
	tvn_opts__print(out, bench_table);
	fprintf(out, "\n"
		     "Examples:\n"
		     "  torvyn-trace bench --pid 1234 --duration 3 --warmup 1\n"
		     "  torvyn-trace bench --duration 3 --warmup 1 --baseline main -- \\\n"
		     "      torvyn-host run user/host/pipelines/three-stage.json\n"
		     "  torvyn-trace bench --duration 3 --warmup 1 --compare main -- \\\n"
		     "      torvyn-host run user/host/pipelines/three-stage.json\n"
		     "\n"
		     "--compare weighs throughput and p99 against the run's own variation: the\n"
		     "window is cut into --window pieces, and a regression is a change whose 95 %%\n"
		     "confidence interval (over those pieces) lies wholly beyond --threshold.\n"
		     "\n"
		     "Exit codes: 0 ok, 3 --compare found a regression, others as for attach.\n");
}

/* Parsed options, -1 after --help, or TVN_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int first,
	    rc = tvn_opts__parse(bench_table, argc, argv, o, usage, &first, TVN_OPTS_IN_ORDER);

	if (rc)
		return rc == 1 ? -1 : rc;
	if (first < argc)
		o->run.command = &argv[first];
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

int tvn_cli__bench(int argc, char **argv)
{
	struct bench_opts o = {.run = {.duration_s = 10, .warmup_s = 2, .window_s = 0.5},
			       .threshold_pct = 10};
	struct tvn_bench_report r = {.schema_version = TVN_BENCH_SCHEMA_VERSION};
	struct tvn_err e = {0};
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
	rc = tvn_bench__run(&o.run, &r, &e) ? tvn_cli__fail(&e) : output(&o, &r);
	if (o.run.command && o.run.pid > 0)
		stop_command(o.run.pid);
	tvn_bench_report__free(&r);
	return rc;
}
