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

static bool settled(const struct tvn_top_frame *f)
{
	for (int i = 0; i < f->n_targets; i++) {
		if (!tvn_top_target__settled(&f->targets[i]))
			return false;
	}
	return true;
}

static int print_frame(const struct tvn_top_frame *f, const struct top_opts *o,
		       const struct tvn_top_view_opts *vo)
{
	struct tvn_top_lines l;
	char *json;

	if (o->json) {
		json = tvn_top_json__dump(f, vo);
		if (!json)
			return TVN_EXIT_INTERNAL;
		printf("%s\n", json);
		free(json);
		return TVN_EXIT_OK;
	}
	if (tvn_top_lines__build(f, vo, &l))
		return TVN_EXIT_INTERNAL;
	for (int i = 0; i < l.n; i++)
		printf("%s\n", l.v[i].text);
	tvn_top_lines__free(&l);
	return TVN_EXIT_OK;
}

/*
 * Scrapes an interval apart until every running host's rates span two of
 * its flushes (tvn_top_frame__diff()): two scrapes for a host that exited,
 * mostly three for one that runs.
 */
#define ONCE_MAX_SCRAPES 6

static int once(struct tvn_top_source *src, const struct top_opts *o,
		const struct tvn_top_view_opts *vo)
{
	struct timespec gap = {(time_t)o->interval_s,
			       (long)((o->interval_s - (time_t)o->interval_s) * 1e9)};
	struct tvn_top_frame prev = {0}, cur = {0};
	struct tvn_err e = {0};
	int rc = 0;

	if (tvn_top_source__frame(src, &cur, &e))
		return tvn_cli__fail(&e);
	tvn_top_frame__diff(&cur, NULL);
	for (int i = 0; i < ONCE_MAX_SCRAPES - 1 && !rc && (!i || !settled(&cur)); i++) {
		tvn_top_frame__free(&prev);
		prev = cur;
		nanosleep(&gap, NULL);
		if (tvn_top_source__frame(src, &cur, &e))
			rc = tvn_cli__fail(&e);
		else
			tvn_top_frame__diff(&cur, &prev);
	}
	if (!rc)
		rc = print_frame(&cur, o, vo);
	tvn_top_frame__free(&prev);
	tvn_top_frame__free(&cur);
	return rc;
}

static int live(struct tvn_top_source *src, const struct tvn_top_view_opts *vo)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct tvn_top_frame f;
	struct tvn_err e = {0};
	int rc;

	/*
	 * The handlers go first: a stop asked for during the first scrape is
	 * kept even when SIGINT was ignored on entry (a background job).
	 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a missing session or agent is reported before the screen is taken */
	rc = tvn_top_source__frame(src, &f, &e);
	if (!rc)
		tvn_top_frame__free(&f);
	if (stopping)
		return TVN_EXIT_OK;
	if (rc)
		return tvn_cli__fail(&e);
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
