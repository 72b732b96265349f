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

static struct tvn_host host;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-host run PIPELINE.json [options]\n"
		"       torvyn-host validate PIPELINE.json\n"
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
		"\n"
		"Examples:\n"
		"  torvyn-host run user/host/pipelines/three-stage.json --elements 100000\n"
		"  torvyn-host run pipeline.json --wait-attach --summary /tmp/truth.json\n"
		"\n"
		"Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid pipeline file,\n"
		"4 unreadable pipeline file, 5 a component could not be opened, 6 a flow failed.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	host.interrupted = 1;
	host.stop = 1;
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

int main(int argc, char **argv)
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
	struct tvn_host_opts opts = {
		.sample_rate = 0.01,
		.latency_threshold_ns = 10 * 1000000ull,
		.flush_interval_ms = 1000,
		.gap_threshold_ns = 1000000,
		.force_level = -1,
	};
	struct tvn_pipeline_cfg cfg = { 0 };
	char err[512] = "";
	const char *verb, *path;
	uint64_t v;
	int opt, rc, code = EXIT_OK;
	char *end;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	verb = argv[1];
	if (strcmp(verb, "run") && strcmp(verb, "validate")) {
		fprintf(stderr, "torvyn-host: unknown command '%s' (expected run or validate)\n", verb);
		return EXIT_USAGE;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_u64(optarg, &v) || !v)
				return bad_value("--elements", optarg, "expected a whole number >= 1");
			opts.elements = v;
			break;
		case 'd':
			opts.duration_s = strtod(optarg, &end);
			if (end == optarg || *end || opts.duration_s <= 0)
				return bad_value("--duration", optarg, "expected seconds > 0");
			break;
		case 'w':
			opts.wait_attach = true;
			break;
		case 's':
			opts.summary_path = optarg;
			break;
		case 'r':
			if (torvyn_parse_rate(optarg, &opts.sample_rate))
				return bad_value("--sample-rate", optarg, "expected a number in [0, 1]");
			break;
		case 'l':
			if (torvyn_parse_duration_ns(optarg, &opts.latency_threshold_ns))
				return bad_value("--latency-threshold", optarg,
						 "expected a duration such as 10ms, 500us, 1s");
			break;
		case 'f':
			if (parse_u64(optarg, &v) || !v || v > 3600000)
				return bad_value("--flush-interval", optarg,
						 "expected milliseconds in [1, 3600000]");
			opts.flush_interval_ms = (uint32_t)v;
			break;
		case 'g':
			opts.gap_log = optarg;
			break;
		case 'P':
			opts.progress_log = optarg;
			break;
		case 'A':
			if (parse_u64(optarg, &v) || v < 10 || v > 60000)
				return bad_value("--ab-period", optarg,
						 "expected milliseconds in [10, 60000]");
			opts.ab_period_ms = (uint32_t)v;
			break;
		case 'L':
			if (parse_u64(optarg, &v) || v > 2)
				return bad_value("--force-level", optarg, "expected 0, 1 or 2");
			opts.force_level = (int)v;
			break;
		case 'G':
			if (torvyn_parse_duration_ns(optarg, &opts.gap_threshold_ns))
				return bad_value("--gap-threshold", optarg,
						 "expected a duration such as 1ms, 500us");
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'torvyn-host --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "torvyn-host: %s needs exactly one pipeline file (try --help)\n", verb);
		return EXIT_USAGE;
	}
	path = argv[optind];
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

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* announced at startup so `torvyn-trace probes` and bpftrace can check the ABI */
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
	rc = tvn_host__init(&host, &cfg, &opts, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "torvyn-host: %s\n", err);
		code = EXIT_COMPONENT;
		goto out;
	}
	if (opts.progress_log) {
		host.progress = fopen(opts.progress_log, "w");
		if (!host.progress) {
			fprintf(stderr, "torvyn-host: cannot write progress log %s: %s (give a path "
				"in a writable directory)\n", opts.progress_log, strerror(errno));
			code = EXIT_USAGE;
			goto out;
		}
	}
	rc = tvn_host__run(&host);
	if (rc) {
		fprintf(stderr, "torvyn-host: run failed: %s\n", strerror(-rc));
		code = EXIT_INTERNAL;
	}
	for (int i = 0; i < host.n_flows; i++) {
		if (host.flows[i].blk->state == TORVYN_FLOW_FAILED) {
			fprintf(stderr, "torvyn-host: flow %s failed (error policy \"fail\")\n",
				host.flows[i].cfg->id);
			if (code == EXIT_OK)
				code = EXIT_FLOW_FAILED;
		}
	}
	if (opts.summary_path) {
		rc = tvn_host__write_summary(&host, opts.summary_path);
		if (rc) {
			fprintf(stderr, "torvyn-host: cannot write summary %s: %s\n",
				opts.summary_path, strerror(-rc));
			if (code == EXIT_OK)
				code = EXIT_INTERNAL;
		}
	}
	if (opts.gap_log) {
		rc = tvn_host__write_gaps(&host, opts.gap_log);
		if (rc) {
			fprintf(stderr, "torvyn-host: cannot write gap log %s: %s\n", opts.gap_log,
				strerror(-rc));
			if (code == EXIT_OK)
				code = EXIT_INTERNAL;
		}
	}
out:
	if (host.progress && fclose(host.progress)) {
		fprintf(stderr, "torvyn-host: cannot write progress log %s: %s\n", opts.progress_log,
			strerror(errno));
		if (code == EXIT_OK)
			code = EXIT_INTERNAL;
	}
	tvn_host__fini(&host);
	tvn_pipeline__free(&cfg);
	return code;
}
