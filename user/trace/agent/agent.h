/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The node agent: every torvyn host on the node found (a /proc scan at
 * start, an exec watcher, a slow rescan as the safety net) and traced from
 * one process, one session per host served by one event loop; one /metrics
 * for the node with each host's series labelled pid, exe and service; a
 * control socket per host, so `torvyn-trace level --pid PID` works as with
 * attach; gone hosts marked down, then dropped after a TTL.
 */
#ifndef TORVYN_AGENT_H
#define TORVYN_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "loop.h"

struct tvn_exporter;

struct tvn_agent_opts {
	int level;		  /* TORVYN_LEVEL_* for every host attached */
	const char *const *match; /* globs on the executable path; none: every host */
	int n_match;
	const char *const *exclude; /* globs never attached */
	int n_exclude;
	int max_hosts;	    /* hosts kept at once, up or down; more are counted, not attached */
	uint64_t ttl_ns;    /* how long a gone host's series stay, marked down */
	uint64_t rescan_ns; /* /proc rescan period */
	uint64_t sample_threshold; /* the tracer's own trace sampling (BPF side) */
	uint64_t latency_threshold_ns;
	uint32_t ring_bytes; /* each host's ring buffer (see tvn_loader_opts) */
	uint32_t max_flows;  /* flows each host's diagnostic maps hold (see tvn_loader_opts) */
	int control_gid;	  /* members may use the hosts' control sockets (-1: none) */
	struct tvn_exporter *exp; /* NULL: no OTLP */
};

struct tvn_agent;

/*
 * Creates the agent and registers its work with loop (borrowed): the exec
 * watcher, the first scan, the rescans and the TTL. Returns 0 and *out, or
 * -errno with e set. Free with tvn_agent__free() after the loop has run.
 */
int tvn_agent__new(const struct tvn_agent_opts *o, struct tvn_loop *loop, struct tvn_agent **out,
		   struct tvn_err *e);
void tvn_agent__free(struct tvn_agent *a); /* NULL does nothing */

/*
 * The node's exposition: every host's families with its labels, and the
 * agent's own. Any thread. 0 and a malloc'd *body, or -errno.
 */
int tvn_agent__render(struct tvn_agent *a, bool openmetrics, char **body, size_t *len);

/* One host's exposition, with its labels (the control socket's scrape). */
int tvn_agent__render_pid(struct tvn_agent *a, int pid, char **body, size_t *len);

/* Pushes every host's metrics to the OTLP exporter, one Resource each. */
void tvn_agent__push_metrics(struct tvn_agent *a, uint64_t start_unix_ns, uint64_t now_unix_ns);

/* Emits the traces still waiting for names (before the exporter is drained). */
void tvn_agent__flush_traces(struct tvn_agent *a);

#endif /* TORVYN_AGENT_H */
