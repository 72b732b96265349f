// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * torvyn-trace agent: every torvyn host on the node, from one process. This
 * verb only configures: the agent (agent/), the event loop, one /metrics for
 * the node, a node textfile and the OTLP exporter.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "agent.h"
#include "commands.h"
#include "exitcodes.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "opts.h"
#include "priv.h"
#include "otlp_setup.h"
#include "textfile.h"
#include "torvyn_abi.h"
#include "torvyn_rt.h"

#define MAX_GLOBS 32
#define TEXTFILE_NAME "torvyn.prom"

struct globs {
	const char *v[MAX_GLOBS];
	int n;
};

struct agent_opts {
	const char *listen;
	int level;
	struct globs match, exclude;
	int max_hosts;
	uint64_t ttl_ns;
	double rescan_s;
	const char *textfile_dir;
	double interval_s;
	double sample_rate;
	uint64_t latency_threshold_ns;
	uint32_t ring_bytes;
	int max_flows;
	int control_gid;
	struct tvn_otlp_flags otlp;
	struct tvn_http_opts http;
};

struct agent_run {
	struct agent_opts o;
	struct tvn_agent *agent;
	struct tvn_loop *loop;
	struct tvn_http *http;
	struct tvn_otlp_setup otlp;
	uint64_t start_unix;
};

static int parse_glob(const char *arg, void *field)
{
	struct globs *g = field;

	if (g->n < MAX_GLOBS && arg[0]) {
		g->v[g->n++] = arg;
		return 0;
	}
	pr_warn("'%s': expected a glob such as '*/torvyn-host' (at most %d)\n", arg, MAX_GLOBS);
	return -EINVAL;
}

/* "256K", "1M", "65536": a power of two from 4 KiB to 256 MiB. */
static int parse_ring(const char *arg, void *field)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (end != arg && !*end && v >= 4096 && v <= (256ull << 20) && !(v & (v - 1))) {
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	}
	pr_warn("--ring-size %s: expected a power of two from 4K to 256M, e.g. 256K\n", arg);
	return -EINVAL;
}

#define AO(field) offsetof(struct agent_opts, field)
static const struct tvn_opt agent_table[] = {
    {.name = "listen",
     .kind = TVN_OPT_LISTEN,
     .off = AO(listen),
     .arg = "ADDR:PORT",
     .help = "serve the node's /metrics here (127.0.0.1:9464)"},
    {.name = "level",
     .short_name = 'l',
     .kind = TVN_OPT_LEVEL,
     .off = AO(level),
     .arg = "LEVEL",
     .help = "production (default) or diagnostic, for every host attached"},
    {.name = "match",
     .kind = TVN_OPT_CALL,
     .off = AO(match),
     .arg = "GLOB",
     .help = "attach only hosts whose executable path matches (repeatable)",
     .parse = parse_glob},
    {.name = "exclude",
     .kind = TVN_OPT_CALL,
     .off = AO(exclude),
     .arg = "GLOB",
     .help = "never attach hosts whose executable path matches (repeatable)",
     .parse = parse_glob},
    {.name = "max-hosts",
     .kind = TVN_OPT_COUNT,
     .off = AO(max_hosts),
     .arg = "N",
     .help = "hosts kept at once, up or down (256); more are counted, not attached",
     .min = 1,
     .max = 65536},
    {.name = "ttl",
     .kind = TVN_OPT_DURATION,
     .off = AO(ttl_ns),
     .arg = "D",
     .help = "how long a gone host's series stay, marked down (300s: 5 minutes)"},
    {.name = "rescan",
     .kind = TVN_OPT_SECONDS,
     .off = AO(rescan_s),
     .arg = "SEC",
     .help = "/proc rescan period, the safety net of the exec watcher (30)",
     .min = 0.1,
     .max = 86400},
    {.name = "max-flows",
     .kind = TVN_OPT_COUNT,
     .off = AO(max_flows),
     .arg = "N",
     .help = "flows per host the diagnostic maps hold (16, at most 256): they cost kernel "
	     "memory per flow and CPU; beyond, updates are counted as failed",
     .min = 1,
     .max = TORVYN_MAX_FLOWS},
    {.name = "ring-size",
     .kind = TVN_OPT_CALL,
     .off = AO(ring_bytes),
     .arg = "SIZE",
     .help = "each host's ring buffer, mapped in the agent (256K); more holds bursts of "
	     "promoted traces, and counts in the agent's RSS twice",
     .parse = parse_ring},
    {.name = "textfile-dir",
     .kind = TVN_OPT_STR,
     .off = AO(textfile_dir),
     .arg = "DIR",
     .help = "also write DIR/" TEXTFILE_NAME " for node_exporter"},
    {.name = "interval",
     .short_name = 'i',
     .kind = TVN_OPT_SECONDS,
     .off = AO(interval_s),
     .arg = "SEC",
     .help = "textfile period (15)",
     .min = 0.1,
     .max = 86400},
    {.name = "sample-rate",
     .kind = TVN_OPT_RATE,
     .off = AO(sample_rate),
     .arg = "R",
     .help = "export head-sampled traces whose trace id falls under R (0.01)"},
    {.name = "latency-threshold",
     .kind = TVN_OPT_DURATION,
     .off = AO(latency_threshold_ns),
     .arg = "D",
     .help = "export elements slower than D end to end (10ms)"},
    TVN_OPT_ROWS_HTTP(struct agent_opts, http),
    TVN_OPT_ROW_CONTROL_GROUP(struct agent_opts, control_gid),
    TVN_OPT_ROWS_OTLP(struct agent_opts, otlp),
    TVN_OPT_ROW_VERBOSE,
    TVN_OPT_ROW_QUIET,
    TVN_OPT_ROW_HELP,
    TVN_OPT_ROW_END,
};
#undef AO

static void usage(FILE *out)
{
	fprintf(out, "Usage: torvyn-trace agent [options]\n"
		     "\n"
		     "Finds every torvyn host on this node (at start, then each exec, with a slow\n"
		     "rescan as the safety net), attaches to each and serves one /metrics for the\n"
		     "node: each host's series carry pid, exe and service labels. Gone hosts are\n"
		     "marked down (torvyn_trace_target_up 0), then dropped after --ttl.\n"
		     "`torvyn-trace level --pid PID ...` switches one host's level.\n"
		     "\n"
		     "Options:\n");
	tvn_opts__print(out, agent_table);
	fprintf(out, "\n"
		     "Examples:\n"
		     "  torvyn-trace agent\n"
		     "  torvyn-trace agent --listen 0.0.0.0:9464 --exclude '*/test/*'\n"
		     "  torvyn-trace agent --level diagnostic --match '*/ingest-*'\n"
		     "  torvyn-trace agent --textfile-dir /var/lib/prometheus/node-exporter\n");
}

static int render(void *ctx, bool om, char **body, size_t *len)
{
	struct agent_run *r = ctx;

	return tvn_agent__render(r->agent, om, body, len);
}

static void write_textfile(void *ctx)
{
	struct agent_run *r = ctx;
	char *buf = NULL;
	size_t len = 0;
	int rc = tvn_agent__render(r->agent, false, &buf, &len);

	if (!rc)
		rc = tvn_textfile__write_named(r->o.textfile_dir, TEXTFILE_NAME, buf, len);
	if (rc)
		pr_warn("textfile %s/%s: %s\n", r->o.textfile_dir, TEXTFILE_NAME, strerror(-rc));
	free(buf);
}

static void push_metrics(void *ctx)
{
	struct agent_run *r = ctx;

	tvn_agent__push_metrics(r->agent, r->start_unix, tvn_time__unix_ns());
}

static int start(struct agent_run *r)
{
	struct tvn_agent_opts ao = {
	    .level = r->o.level,
	    .match = r->o.match.v,
	    .n_match = r->o.match.n,
	    .exclude = r->o.exclude.v,
	    .n_exclude = r->o.exclude.n,
	    .max_hosts = r->o.max_hosts,
	    .ttl_ns = r->o.ttl_ns,
	    .rescan_ns = (uint64_t)(r->o.rescan_s * 1e9),
	    .sample_threshold = tvn_sample_threshold(r->o.sample_rate),
	    .latency_threshold_ns = r->o.latency_threshold_ns,
	    .ring_bytes = r->o.ring_bytes,
	    .max_flows = (uint32_t)r->o.max_flows,
	    .control_gid = r->o.control_gid,
	};
	uint64_t metrics_ns = (uint64_t)(r->o.otlp.metrics_interval_s * 1e9);
	struct tvn_err e = {0};
	int rc;

	/* before any thread: the agent keeps what attaching needs, nothing else */
	tvn_priv__drop_for(r->o.listen, r->o.textfile_dir || r->o.otlp.file);
	rc = tvn_otlp_setup__open(&r->otlp, &r->o.otlp, 0, "torvyn-trace-agent");
	if (rc)
		return rc;
	ao.exp = r->otlp.exp;
	r->loop = tvn_loop__new();
	if (!r->loop)
		return TVN_EXIT_INTERNAL;
	if (tvn_agent__new(&ao, r->loop, &r->agent, &e))
		return tvn_cli__fail(&e);
	r->http = tvn_http__start(r->o.listen, render, r, &r->o.http);
	if (!r->http) {
		pr_warn("--listen %s: %s%s\n", r->o.listen, strerror(errno),
			errno == EADDRINUSE ? ": pick another port or stop what holds it (ss -ltnp)"
					    : "");
		return errno == EADDRINUSE ? TVN_EXIT_ADDR_IN_USE
		       : errno == EACCES   ? TVN_EXIT_PERMISSION
					   : TVN_EXIT_INTERNAL;
	}
	rc = r->o.textfile_dir ? tvn_loop__add_timer(r->loop, 0, (uint64_t)(r->o.interval_s * 1e9),
						     write_textfile, r)
			       : 0;
	if (!rc && r->otlp.exp)
		rc = tvn_loop__add_timer(r->loop, metrics_ns, metrics_ns, push_metrics, r);
	if (rc)
		return TVN_EXIT_INTERNAL;
	{
		char addr[300];

		pr_info("agent serving http://%s/metrics\n",
			tvn_http__addr(r->http, r->o.listen, addr, sizeof(addr)));
	}
	return 0;
}

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

int tvn_cli__agent(int argc, char **argv)
{
	struct agent_run r = {
	    .o =
		{
		    .listen = "127.0.0.1:9464",
		    .level = TORVYN_LEVEL_PRODUCTION,
		    .max_hosts = 256,
		    .ttl_ns = 300 * 1000000000ull,
		    .rescan_s = 30,
		    .interval_s = 15,
		    .sample_rate = 0.01,
		    .latency_threshold_ns = 10 * 1000000ull,
		    .ring_bytes = 256 << 10,
		    .max_flows = 16,
		    .control_gid = -1,
		    .otlp.metrics_interval_s = 15,
		},
	    .start_unix = tvn_time__unix_ns(),
	};
	struct sigaction sa = {.sa_handler = on_signal};
	int rc = tvn_opts__parse(agent_table, argc, argv, &r.o, usage, NULL, 0);

	if (rc)
		return rc == 1 ? TVN_EXIT_OK : rc;
	if (r.o.textfile_dir && (rc = tvn_textfile__check_dir(r.o.textfile_dir))) {
		pr_warn("--textfile-dir %s: %s: give an existing directory this user can write\n",
			r.o.textfile_dir, strerror(-rc));
		return TVN_EXIT_EXPORT;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = start(&r);
	if (!rc && tvn_loop__run(r.loop, &exiting))
		rc = TVN_EXIT_INTERNAL;
	if (!rc && r.agent) {
		tvn_agent__flush_traces(r.agent);
		if (r.o.textfile_dir)
			write_textfile(&r);
		if (r.otlp.exp)
			push_metrics(&r);
	}
	tvn_http__stop(r.http);
	tvn_agent__free(r.agent);
	tvn_otlp_setup__close(&r.otlp, 5000);
	tvn_loop__free(r.loop);
	return rc;
}
