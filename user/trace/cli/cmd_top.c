// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * torvyn-trace top (--pid PID | --agent ADDR:PORT) [--once] [-j] [--interval SEC]
 * The live view of one host (through the control socket of the session or
 * agent serving it) or of a node (an agent's /metrics); --once prints one
 * frame, its rates taken over one interval, for scripts.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "err.h"
#include "exitcodes.h"
#include "log.h"
#include "opts.h"
#include "top.h"

struct top_opts {
	int pid;
	const char *agent;
	bool once, json;
	double interval_s;
};

static const struct tvn_opt top_table[] = {
    {.name = "pid",
     .short_name = 'p',
     .kind = TVN_OPT_PID,
     .off = offsetof(struct top_opts, pid),
     .arg = "PID",
     .help = "the host to show, through the attach session or agent serving it"},
    {.name = "agent",
     .short_name = 'a',
     .kind = TVN_OPT_LISTEN,
     .off = offsetof(struct top_opts, agent),
     .arg = "ADDR:PORT",
     .help = "every host of the agent serving /metrics there"},
    {.name = "once",
     .short_name = 0,
     .kind = TVN_OPT_FLAG,
     .off = offsetof(struct top_opts, once),
     .arg = NULL,
     .help = "print one frame as text and quit (two scrapes an interval apart)"},
    {.name = "json",
     .short_name = 'j',
     .kind = TVN_OPT_FLAG,
     .off = offsetof(struct top_opts, json),
     .arg = NULL,
     .help = "print that frame as one JSON object (implies --once)"},
    {.name = "interval",
     .short_name = 'i',
     .kind = TVN_OPT_SECONDS,
     .off = offsetof(struct top_opts, interval_s),
     .arg = "SEC",
     .help = "time between frames, and over which rates are taken (1)",
     .min = 0.1,
     .max = 3600},
    TVN_OPT_ROW_VERBOSE,
    TVN_OPT_ROW_QUIET,
    TVN_OPT_ROW_HELP,
    TVN_OPT_ROW_END,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-trace top (--pid PID | --agent ADDR:PORT) [--once] [-j] "
		"[--interval SEC]\n"
		"\n"
		"A live view of running hosts: per flow and component, elements per second,\n"
		"p50 and p99 of processing time (from the histogram's increase over the last\n"
		"interval) and errors; per stream, the queue against its capacity and\n"
		"backpressure; the level and the tracer's own drops.\n"
		"Keys: q quits; o, p, d switch the selected host to off, production, diagnostic;\n"
		"s cycles the sort column; up and down move between flows.\n"
		"\n"
		"Options:\n");
	tvn_opts__print(out, top_table);
	fprintf(out,
		"\n"
		"Examples:\n"
		"  torvyn-trace top --pid $(pgrep -n torvyn-host)\n"
		"  torvyn-trace top --agent 127.0.0.1:9464\n"
		"  torvyn-trace top --pid 1234 --once -j | jq '.targets[0].flows[0].elements'\n");
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One scrape into f, at *at (CLOCK_MONOTONIC s); 0 or an exit code after a message. */
static int sample(struct tvn_top_source *src, const char *what, struct tvn_top_frame *f, double *at)
{
	struct tvn_err e = {0};
	char *body = NULL;
	size_t len = 0;
	int bad = 0, rc;

	if (tvn_top_source__fetch(src, &body, &len, &e))
		return tvn_cli__fail(&e);
	*at = mono_s();
	rc = tvn_top_frame__parse(body, len, tvn_top_source__pid(src), f, &bad);
	free(body);
	if (rc == -EINVAL || rc == -E2BIG)
		pr_warn("top: the metrics from %s are malformed at line %d\n", what, bad);
	else if (rc)
		pr_warn("top: reading the metrics from %s: %s\n", what, strerror(-rc));
	return rc ? TVN_EXIT_INTERNAL : 0;
}

static int once(struct tvn_top_source *src, const struct top_opts *o,
		const struct tvn_top_view_opts *vo)
{
	struct tvn_top_frame first = {0}, second = {0};
	struct timespec gap = {(time_t)o->interval_s,
			       (long)((o->interval_s - (time_t)o->interval_s) * 1e9)};
	double t0, t1;
	int rc = sample(src, vo->source, &first, &t0);

	if (!rc) {
		nanosleep(&gap, NULL);
		rc = sample(src, vo->source, &second, &t1);
	}
	if (!rc) {
		struct tvn_top_lines l;
		char *json;

		tvn_top_frame__diff(&second, &first, t1 - t0);
		if (o->json) {
			json = tvn_top_json__dump(&second, vo);
			rc = json ? 0 : TVN_EXIT_INTERNAL;
			if (json)
				printf("%s\n", json);
			free(json);
		} else if (!tvn_top_lines__build(&second, vo, &l)) {
			for (int i = 0; i < l.n; i++)
				printf("%s\n", l.v[i].text);
			tvn_top_lines__free(&l);
		} else {
			rc = TVN_EXIT_INTERNAL;
		}
	}
	tvn_top_frame__free(&first);
	tvn_top_frame__free(&second);
	return rc;
}

static int live(struct tvn_top_source *src, const struct tvn_top_view_opts *vo)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct tvn_top_frame f = {0};
	double at;
	int rc;

	/* a missing session or agent is reported before the screen is taken */
	rc = sample(src, vo->source, &f, &at);
	tvn_top_frame__free(&f);
	if (rc)
		return rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = tvn_top_view__run(src, vo, &stopping);
	if (rc == -ENOTTY) {
		pr_warn("top: the live view needs a terminal: use --once (or -j) in scripts\n");
		return TVN_EXIT_USAGE;
	}
	return rc ? TVN_EXIT_INTERNAL : TVN_EXIT_OK;
}

int tvn_cli__top(int argc, char **argv)
{
	struct top_opts o = {.interval_s = 1};
	struct tvn_top_source *src;
	char source[320];
	int rc;

	rc = tvn_opts__parse(top_table, argc, argv, &o, usage, NULL, 0);
	if (rc)
		return rc == 1 ? TVN_EXIT_OK : rc;
	if (!o.pid == !o.agent) {
		pr_warn("top needs --pid PID or --agent ADDR:PORT, not both (try --help)\n");
		return TVN_EXIT_USAGE;
	}
	if (o.agent)
		snprintf(source, sizeof(source), "agent %s", o.agent);
	else
		snprintf(source, sizeof(source), "pid %d", o.pid);
	src = tvn_top_source__new(o.pid, o.agent);
	if (!src) {
		pr_warn("top: %s\n", strerror(errno));
		return TVN_EXIT_INTERNAL;
	}
	{
		struct tvn_top_view_opts vo = {
		    .source = source, .interval_s = o.interval_s, .sort = TVN_TOP_SORT_ORDER};

		rc = o.once || o.json ? once(src, &o, &vo) : live(src, &vo);
	}
	tvn_top_source__free(src);
	return rc;
}
