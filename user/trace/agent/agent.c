// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's discovery and lifecycle of hosts: scans, execs, the cap, the TTL. */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "agent_internal.h"
#include "log.h"

#define TTL_CHECK_NS 200000000ull /* how often gone hosts are looked at */

static bool any_match(const char *const *globs, int n, const char *path)
{
	for (int i = 0; i < n; i++) {
		if (!fnmatch(globs[i], path, 0))
			return true;
	}
	return false;
}

static bool wanted(const struct tvn_agent *a, const char *exe)
{
	if (any_match(a->o.exclude, a->o.n_exclude, exe))
		return false;
	return !a->o.n_match || any_match(a->o.match, a->o.n_match, exe);
}

struct tvn_agent_host *tvn_agent__find(struct tvn_agent *a, int pid)
{
	for (int i = 0; i < a->n_hosts; i++) {
		if (a->hosts[i]->pid == pid)
			return a->hosts[i];
	}
	return NULL;
}

/* A host over --max-hosts: counted once per PID, never attached. */
static void refuse(struct tvn_agent *a, int pid, const char *exe)
{
	int *r;

	for (int i = 0; i < a->n_refused; i++) {
		if (a->refused[i] == pid)
			return;
	}
	if (a->n_refused == a->cap_refused) {
		r = realloc(a->refused, (a->cap_refused * 2 + 16) * sizeof(*r));
		if (!r)
			return;
		a->refused = r;
		a->cap_refused = a->cap_refused * 2 + 16;
	}
	a->refused[a->n_refused++] = pid;
	pthread_mutex_lock(&a->lock);
	a->over_cap_total++;
	pthread_mutex_unlock(&a->lock);
	pr_warn("pid %d (%s): not attached: --max-hosts %d reached (raise it, or narrow --match)\n",
		pid, exe, a->o.max_hosts);
}

/* A process that may be a host: from the first scan, a rescan or an exec. */
static void consider(void *ctx, int pid)
{
	struct tvn_agent *a = ctx;
	struct tvn_agent_host *h = tvn_agent__find(a, pid);
	char exe[PATH_MAX];

	if (h && h->up && tvn_session__target_up(h->s))
		return;
	if (tvn_discover__check(a->d, pid, exe, sizeof(exe)) != 1 || !wanted(a, exe))
		return;
	/* the PID of a gone host runs a new one: the old series go, or they would clash */
	if (h)
		tvn_agent_host__remove(a, h);
	if (a->n_hosts >= a->o.max_hosts) {
		refuse(a, pid, exe);
		return;
	}
	tvn_agent_host__add(a, pid, exe);
}

static void rescan(void *ctx)
{
	struct tvn_agent *a = ctx;
	int kept = 0;

	/* refused PIDs that are gone may be counted again if reused */
	for (int i = 0; i < a->n_refused; i++) {
		if (!kill(a->refused[i], 0) || errno != ESRCH)
			a->refused[kept++] = a->refused[i];
	}
	a->n_refused = kept;
	tvn_discover__scan(a->d, consider, a);
}

static void on_tick(void *ctx)
{
	struct tvn_agent *a = ctx;
	uint64_t lost;

	tvn_discover__poll(a->d, consider, a);
	/* execs the watcher could not report: a full scan finds them */
	lost = tvn_discover__lost(a->d);
	if (lost != a->exec_lost) {
		a->exec_lost = lost;
		rescan(a);
	}
}

static void expire(void *ctx)
{
	struct tvn_agent *a = ctx;
	uint64_t now = tvn_time__mono_ns();

	for (int i = 0; i < a->n_hosts;) {
		struct tvn_agent_host *h = a->hosts[i];

		if (!h->up && now - h->down_ns >= a->o.ttl_ns) {
			pr_info("pid %d (%s): dropped after its TTL\n", h->pid, h->exe_base);
			tvn_agent_host__remove(a, h); /* hosts[i] is another host now */
			continue;
		}
		i++;
	}
}

int tvn_agent__new(const struct tvn_agent_opts *o, struct tvn_loop *loop, struct tvn_agent **out,
		   struct tvn_err *e)
{
	struct tvn_agent *a = calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (!a)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	a->o = *o;
	a->loop = loop;
	pthread_mutex_init(&a->lock, NULL);
	a->d = tvn_discover__new();
	if (!a->d) {
		rc = tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
		goto err;
	}
	rc = tvn_discover__watch(a->d, e);
	if (rc)
		goto err;
	a->control = tvn_control_server__new();
	if (!a->control) {
		rc = tvn_err__set(e, TVN_CAUSE_INTERNAL, -errno, "control thread: %s",
				  strerror(errno));
		goto err;
	}
	if (tvn_loop__add_timer(loop, 0, 0, on_tick, a) ||
	    tvn_loop__add_timer(loop, 0, o->rescan_ns, rescan, a) ||
	    tvn_loop__add_timer(loop, TTL_CHECK_NS, TTL_CHECK_NS, expire, a)) {
		rc = tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
		goto err;
	}
	*out = a;
	return 0;
err:
	tvn_agent__free(a);
	return rc;
}

void tvn_agent__free(struct tvn_agent *a)
{
	if (!a)
		return;
	while (a->n_hosts)
		tvn_agent_host__remove(a, a->hosts[a->n_hosts - 1]);
	tvn_control_server__free(a->control);
	tvn_discover__free(a->d);
	pthread_mutex_destroy(&a->lock);
	free(a->hosts);
	free(a->refused);
	free(a);
}

void tvn_agent__flush_traces(struct tvn_agent *a)
{
	for (int i = 0; i < a->n_hosts; i++) {
		if (a->hosts[i]->tracing)
			tvn_tracing__retry(a->hosts[i]->tracing, true);
	}
}
