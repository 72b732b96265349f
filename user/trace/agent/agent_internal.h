/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the agent's files share: its hosts and its state. */
#ifndef TORVYN_AGENT_INTERNAL_H
#define TORVYN_AGENT_INTERNAL_H

#include <limits.h>
#include <pthread.h>

#include "agent.h"
#include "control_server.h"
#include "discover.h"
#include "session.h"
#include "tracing.h"


#define TVN_AGENT_EXE_LABEL 64 /* bytes of the executable's basename in labels */
#define TVN_AGENT_SERVICE_LABEL 128

/* One traced host. */
struct tvn_agent_host {
	struct tvn_agent *agent;
	struct tvn_session *s;
	struct tvn_tracing *tracing;
	int pid;
	int ctl;    /* its control socket, -1 if another tracer holds it */
	int res_id; /* its OTLP Resource, -1 without OTLP */
	bool up;
	uint64_t down_ns; /* CLOCK_MONOTONIC when it exited */
	char pid_s[16];
	char exe[PATH_MAX];
	char exe_base[TVN_AGENT_EXE_LABEL];
	char service[TVN_AGENT_SERVICE_LABEL];
};

struct tvn_agent {
	struct tvn_agent_opts o;
	struct tvn_loop *loop;
	struct tvn_discover *d;
	struct tvn_control_server *control; /* the hosts' control sockets, on its own thread */
	uint64_t exec_lost; /* the watcher's losses seen so far */
	int *refused;	    /* PIDs over --max-hosts, counted once each */
	int n_refused, cap_refused;

	pthread_mutex_t lock; /* what render reads: hosts and counters */
	struct tvn_agent_host **hosts;
	int n_hosts, cap_hosts;
	uint64_t over_cap_total, attached_total, attach_failed_total, removed_total;
};

/* The host of pid, or NULL (under the lock, or on the loop's thread). */
struct tvn_agent_host *tvn_agent__find(struct tvn_agent *a, int pid);

/* Attaches to pid, which runs exe (a torvyn host). 0 or -errno (logged). */
int tvn_agent_host__add(struct tvn_agent *a, int pid, const char *exe);
/* Drops a host: detaches, frees its session and its control socket. */
void tvn_agent_host__remove(struct tvn_agent *a, struct tvn_agent_host *h);

#endif /* TORVYN_AGENT_INTERNAL_H */
