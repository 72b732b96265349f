/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* torvyn-host: the reference Torvyn runtime in C. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"
#include "torvyn_parse.h"
#include "torvyn_probes.h"

/* The Makefile passes VERSION (and git describe, when built from a clone). */
#ifndef TVN_VERSION
#define TVN_VERSION "unknown"
#endif

/* Exit codes (README.md, "torvyn-host"). */
enum {
	EXIT_OK = 0,
	EXIT_INTERNAL = 1,
	EXIT_USAGE = 2,
	EXIT_BAD_PIPELINE = 3,
	EXIT_UNREADABLE = 4,
	EXIT_COMPONENT = 5,
	EXIT_FLOW_FAILED = 6,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-host run PIPELINE.json [options]\n"
		"       torvyn-host validate PIPELINE.json\n"
		"       torvyn-host --version\n"
		"\n"
		"Runs the flows of a pipeline file, one thread per component.\n"
		"\n"
		"Options:\n"
		"  --elements N            every source emits exactly N elements, then flows drain\n"
		"  --duration SEC          sources stop after SEC seconds, then flows drain\n"
		"  --wait-attach           start flows only once a tracer has attached\n"
		"                          (the production gate semaphore is raised)\n"
		"  --summary FILE          write the host's own counts as JSON on exit\n"
		"  --sample-rate R         head sampling rate at production level (0.01)\n"
		"  --latency-threshold D   tail-latency promotion threshold (10ms; ns, us, ms, s)\n"
		"  --flush-interval MS     metric block flush period while traced (1000)\n"
		"  --gap-log FILE          record every component step that took longer than\n"
		"                          --gap-threshold (1ms), voluntary queue waits excluded, to\n"
		"                          FILE (JSON lines, CLOCK_MONOTONIC): the host's pauses\n"
		"  --gap-threshold D       see --gap-log\n"
		"  --progress-log FILE     every 5 ms, a line \"<CLOCK_MONOTONIC ns> <elements ended>\n"
		"                          <level> <half>\" to FILE (half: 0 while --ab-period holds\n"
		"                          Level 0, else 1)\n"
		"  --ab-period MS          for benchmarks: every MS milliseconds (10-60000) the hot\n"
		"                          path switches between the level attached and Level 0;\n"
		"                          with --progress-log, two levels compared within one run\n"
		"  --force-level L         do the in-process work of level L (1, 2) with no tracer:\n"
		"                          for measuring what a level costs the host itself\n"
		"  -h, --help              this text\n"
		"  -V, --version           the version and the probe ABI version\n"
		"\n"
		"Examples:\n"
		"  torvyn-host run user/host/pipelines/three-stage.json --elements 100000\n"
		"  torvyn-host run user/host/pipelines/three-stage.json --wait-attach --summary t.json\n"
		"  torvyn-host validate user/host/pipelines/demo.json\n"
		"\n"
		"Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid pipeline file,\n"
		"4 unreadable pipeline file, 5 a component could not be opened, 6 a flow failed.\n"
		"Manual: man torvyn-host; the probes it declares: man 7 torvyn-probes.\n");
}

/*
 * The host a signal stops. The one piece of file-scope state the host keeps:
 * a signal handler has no other way to reach it. Set before the handlers are
 * installed, never again.
 */
static struct tvn_host *signal_host;

static void on_signal(int sig)
{
	(void)sig;
	tvn_host__stop(signal_host, true);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static int bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "torvyn-host: %s %s: %s\n", opt, val, want);
	return EXIT_USAGE;
}

/* parse_args and parse_opt: the command line is fine, go on. */
#define GO_ON (-1)

/* The options that take a number or a duration; GO_ON or an exit code. */
static int parse_value_opt(int opt, const char *arg, struct tvn_host_opts *opts)
{
	uint64_t v;

	switch (opt) {
	case 'n':
		if (parse_u64(arg, &v) || !v)
			return bad_value("--elements", arg, "expected a whole number >= 1");
		opts->elements = v;
		break;
	case 'r':
		if (torvyn_parse_rate(arg, &opts->sample_rate))
			return bad_value("--sample-rate", arg, "expected a number in [0, 1]");
		break;
	case 'l':
		if (torvyn_parse_duration_ns(arg, &opts->latency_threshold_ns))
			return bad_value("--latency-threshold", arg,
					 "expected a duration such as 10ms, 500us, 1s");
		break;
	case 'f':
		if (parse_u64(arg, &v) || !v || v > 3600000)
			return bad_value("--flush-interval", arg,
					 "expected milliseconds in [1, 3600000]");
		opts->flush_interval_ms = (uint32_t)v;
		break;
	case 'A':
		if (parse_u64(arg, &v) || v < 10 || v > 60000)
			return bad_value("--ab-period", arg,
					 "expected milliseconds in [10, 60000]");
		opts->ab_period_ms = (uint32_t)v;
		break;
	case 'L':
		if (parse_u64(arg, &v) || v > 2)
			return bad_value("--force-level", arg, "expected 0, 1 or 2");
		opts->force_level = (int)v;
		break;
	case 'G':
		if (torvyn_parse_duration_ns(arg, &opts->gap_threshold_ns))
			return bad_value("--gap-threshold", arg,
					 "expected a duration such as 1ms, 500us");
		break;
	}
	return GO_ON;
}

/* Where a file option goes: --summary ('s'), --gap-log ('g'), --progress-log ('P'). */
static const char **file_opt(struct tvn_host_opts *opts, int opt)
{
	return opt == 's' ? &opts->summary_path : opt == 'g' ? &opts->gap_log : &opts->progress_log;
}

/* One option from getopt_long; GO_ON or an exit code. */
static int parse_opt(int opt, const char *arg, struct tvn_host_opts *opts)
{
	char *end;

	switch (opt) {
	case 'd':
		opts->duration_s = strtod(arg, &end);
		if (end == arg || *end || opts->duration_s <= 0)
			return bad_value("--duration", arg, "expected seconds > 0");
		return GO_ON;
	case 'w':
		opts->wait_attach = true;
		return GO_ON;
	case 's':
	case 'g':
	case 'P':
		*file_opt(opts, opt) = arg;
		return GO_ON;
	case 'n':
	case 'r':
	case 'l':
	case 'f':
	case 'A':
	case 'L':
	case 'G':
		return parse_value_opt(opt, arg, opts);
	case 'h':
		usage(stdout);
		return EXIT_OK;
	default:
		fprintf(stderr, "Try 'torvyn-host --help'.\n");
		return EXIT_USAGE;
	}
}

/* The verb, its options and the pipeline file; GO_ON or an exit code. */
static int parse_args(int argc, char **argv, struct tvn_host_opts *opts, const char **verb,
		      const char **path)
{
	static const struct option longopts[] = {
		{ "elements", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "wait-attach", no_argument, NULL, 'w' },
		{ "summary", required_argument, NULL, 's' },
		{ "sample-rate", required_argument, NULL, 'r' },
		{ "latency-threshold", required_argument, NULL, 'l' },
		{ "flush-interval", required_argument, NULL, 'f' },
		{ "gap-log", required_argument, NULL, 'g' },
		{ "gap-threshold", required_argument, NULL, 'G' },
		{ "force-level", required_argument, NULL, 'L' },
		{ "progress-log", required_argument, NULL, 'P' },
		{ "ab-period", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, code;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("torvyn-host %s, probe ABI %d\n", TVN_VERSION, TORVYN_PROBE_ABI_VERSION);
		return EXIT_OK;
	}
	*verb = argv[1];
	if (strcmp(*verb, "run") && strcmp(*verb, "validate")) {
		fprintf(stderr, "torvyn-host: unknown command '%s' (expected run or validate)\n",
			*verb);
		return EXIT_USAGE;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		code = parse_opt(opt, optarg, opts);
		if (code != GO_ON)
			return code;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "torvyn-host: %s needs exactly one pipeline file (try --help)\n",
			*verb);
		return EXIT_USAGE;
	}
	*path = argv[optind];
	return GO_ON;
}

/* A failure after the run: the first one decides the exit code. */
static void note_failure(int *code, int failure)
{
	if (*code == EXIT_OK)
		*code = failure;
}

/* A flow's I/O errors, told with their count, and its failure; once the run is over. */
static void report_flow(const struct tvn_flow *f, int *code)
{
	const char *why = "error policy \"fail\"";

	for (int j = 0; j < f->n_comps; j++) {
		const struct tvn_comp *c = &f->comps[j];

		if (!c->io_errors)
			continue;
		fprintf(stderr,
			"torvyn-host: flow %s: component %s: %llu I/O error(s), the first: %s\n",
			f->cfg->id, c->cfg->id, (unsigned long long)c->io_errors, c->io_msg);
		if (c->broken)
			why = "a component cannot go on";
	}
	if (f->blk->state == TORVYN_FLOW_FAILED) {
		fprintf(stderr, "torvyn-host: flow %s failed (%s)\n", f->cfg->id, why);
		note_failure(code, EXIT_FLOW_FAILED);
	}
}

/* --summary and --gap-log, once the run is over. */
static void write_outputs(struct tvn_host *host, const struct tvn_host_opts *opts, int *code)
{
	int rc;

	if (opts->summary_path) {
		rc = tvn_host__write_summary(host, opts->summary_path);
		if (rc) {
			fprintf(stderr, "torvyn-host: cannot write summary %s: %s\n",
				opts->summary_path, strerror(-rc));
			note_failure(code, EXIT_INTERNAL);
		}
	}
	if (opts->gap_log) {
		rc = tvn_host__write_gaps(host, opts->gap_log);
		if (rc) {
			fprintf(stderr, "torvyn-host: cannot write gap log %s: %s\n", opts->gap_log,
				strerror(-rc));
			note_failure(code, EXIT_INTERNAL);
		}
	}
}

/* Runs the flows of cfg to their end; returns the exit code. */
static int run(struct tvn_host *host, struct tvn_pipeline_cfg *cfg,
	       const struct tvn_host_opts *opts)
{
	char err[512] = "";
	int rc, code = EXIT_OK;

	rc = tvn_host__init(host, cfg, opts, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "torvyn-host: %s\n", err);
		return EXIT_COMPONENT;
	}
	if (opts->progress_log) {
		host->progress = fopen(opts->progress_log, "w");
		if (!host->progress) {
			fprintf(stderr,
				"torvyn-host: cannot write progress log %s: %s (give a path "
				"in a writable directory)\n",
				opts->progress_log, strerror(errno));
			return EXIT_USAGE;
		}
	}
	/*
	 * Only now: until the host is set up, a signal's default action ends it
	 * at once, even in the open of a FIFO that no one has opened yet.
	 */
	signal_host = host;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = tvn_host__run(host);
	if (rc) {
		fprintf(stderr, "torvyn-host: run failed: %s\n", strerror(-rc));
		code = EXIT_INTERNAL;
	}
	for (int i = 0; i < host->n_flows; i++)
		report_flow(&host->flows[i], &code);
	write_outputs(host, opts, &code);
	return code;
}

int main(int argc, char **argv)
{
	struct tvn_host_opts opts = {
		.sample_rate = 0.01,
		.latency_threshold_ns = 10 * 1000000ull,
		.flush_interval_ms = 1000,
		.gap_threshold_ns = 1000000,
		.force_level = -1,
	};
	struct tvn_pipeline_cfg cfg = { 0 };
	struct tvn_host host = { 0 };
	const char *verb = NULL, *path = NULL;
	char err[512] = "";
	int rc, code;

	code = parse_args(argc, argv, &opts, &verb, &path);
	if (code != GO_ON)
		return code;
	rc = tvn_pipeline__load(path, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "torvyn-host: %s\n", err);
		return rc == -EINVAL ? EXIT_BAD_PIPELINE : EXIT_UNREADABLE;
	}
	if (!strcmp(verb, "validate")) {
		printf("%s: %d flow(s), valid\n", path, cfg.n_flows);
		tvn_pipeline__free(&cfg);
		return EXIT_OK;
	}
	signal(SIGPIPE, SIG_IGN);
	/* announced at startup so `torvyn-trace probes` and bpftrace can check the ABI */
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
	code = run(&host, &cfg, &opts);
	if (host.progress && fclose(host.progress)) {
		fprintf(stderr, "torvyn-host: cannot write progress log %s: %s\n",
			opts.progress_log, strerror(errno));
		note_failure(&code, EXIT_INTERNAL);
	}
	tvn_host__fini(&host);
	tvn_pipeline__free(&cfg);
	return code;
}
