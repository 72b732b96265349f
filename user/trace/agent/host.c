// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One host of the agent: its session, control socket and tracing, from attach to removal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "agent_internal.h"
#include "control.h"
#include "exporter.h"
#include "level.h"
#include "log.h"
#include "proc.h"

static void host_exited(void *ctx)
{
	struct tvn_agent_host *h = ctx;

	if (h->tracing)
		tvn_tracing__retry(h->tracing, true);
	pthread_mutex_lock(&h->agent->lock);
	h->up = false;
	h->down_ns = tvn_time__mono_ns();
	pthread_mutex_unlock(&h->agent->lock);
	pr_info("pid %d (%s) exited; its series stay, marked down, for the TTL\n", h->pid,
		h->exe_base);
}

static void after_poll(void *ctx)
{
	struct tvn_agent_host *h = ctx;

	if (h->tracing)
		tvn_tracing__retry(h->tracing, false);
}

static int render_host(void *ctx, char **body, size_t *len)
{
	struct tvn_agent_host *h = ctx;

	return tvn_agent__render_pid(h->agent, h->pid, body, len);
}


static void add_span(void *ctx, const struct tvn_otlp_span *span)
{
	struct tvn_agent_host *h = ctx;

	tvn_exporter__add_span_to(h->agent->o.exp, h->res_id, span);
}

/* The OTLP Resource of a host: service, instance, process. */
static int add_resource(struct tvn_agent_host *h)
{
	struct tvn_otlp_resource res = {0};

	snprintf(res.service_name, sizeof(res.service_name), "%s", h->service);
	gethostname(res.host_name, sizeof(res.host_name) - 1);
	snprintf(res.service_instance_id, sizeof(res.service_instance_id), "%.40s-%d",
		 res.host_name, h->pid);
	snprintf(res.executable_name, sizeof(res.executable_name), "%s", h->exe_base);
	res.pid = h->pid;
	h->res_id = tvn_exporter__add_resource(h->agent->o.exp, &res);
	return h->res_id < 0 ? h->res_id : 0;
}

static struct tvn_agent_host *host_new(struct tvn_agent *a, int pid, const char *exe)
{
	struct tvn_agent_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->agent = a;
	h->pid = pid;
	h->ctl = -1;
	h->res_id = -1;
	h->up = true;
	snprintf(h->pid_s, sizeof(h->pid_s), "%d", pid);
	snprintf(h->exe, sizeof(h->exe), "%s", exe);
	tvn_proc__exe_base(exe, h->exe_base, sizeof(h->exe_base));
	tvn_proc__service(pid, h->exe_base, h->service, sizeof(h->service));
	return h;
}

/* The session at the agent's level, in the loop, with its control socket. */
static int host_start(struct tvn_agent *a, struct tvn_agent_host *h, struct tvn_err *e)
{
	static const struct tvn_loop_session_ops ops = {.after_poll = after_poll,
							.target_exited = host_exited};
	struct tvn_loader_opts lo = {.pid = h->pid,
				     .sample_threshold = a->o.sample_threshold,
				     .latency_threshold_ns = a->o.latency_threshold_ns,
				     .ring_bytes = a->o.ring_bytes,
				     .max_flows = a->o.max_flows};
	int rc = tvn_session__open(&lo, &h->s, e);

	if (!rc && a->o.exp && add_resource(h) == 0)
		h->tracing = tvn_tracing__new(h->s, add_span, h);
	if (!rc)
		rc = tvn_loop__add_session(a->loop, h->s, &ops, h, e);
	if (rc)
		return rc;
	h->ctl = tvn_control__listen(h->pid);
	if (h->ctl >= 0) {
		struct tvn_control_ops cops = { .session = h->s, .render = render_host, .ctx = h,
						.allow_gid = a->o.control_gid };

		if (tvn_control_server__add(a->control, h->ctl, &cops)) {
			close(h->ctl);
			h->ctl = -1;
		}
	}
	if (h->ctl < 0)
		pr_info("pid %d: another tracer serves its control socket: 'level --pid %d' "
			"reaches that one\n",
			h->pid, h->pid);
	return tvn_session__set_level(h->s, a->o.level, NULL, e);
}

static void host_free(struct tvn_agent *a, struct tvn_agent_host *h)
{
	if (h->s)
		tvn_loop__remove_session(a->loop, h->s);
	if (h->ctl >= 0) {
		/* after remove() no request of this host is in progress */
		tvn_control_server__remove(a->control, h->ctl);
		close(h->ctl);
	}
	tvn_tracing__free(h->tracing);
	if (h->res_id >= 0)
		tvn_exporter__drop_resource(a->o.exp, h->res_id);
	tvn_session__free(h->s);
	free(h);
}

int tvn_agent_host__add(struct tvn_agent *a, int pid, const char *exe)
{
	struct tvn_agent_host *h = host_new(a, pid, exe), **hosts;
	struct tvn_err e = {0};
	int rc;

	if (!h)
		return -ENOMEM;
	rc = host_start(a, h, &e);
	if (!rc && a->n_hosts == a->cap_hosts) {
		hosts = realloc(a->hosts, (a->cap_hosts * 2 + 8) * sizeof(*hosts));
		rc = hosts ? 0 : -ENOMEM;
		if (hosts) {
			a->hosts = hosts;
			a->cap_hosts = a->cap_hosts * 2 + 8;
		}
	}
	pthread_mutex_lock(&a->lock);
	if (rc) {
		a->attach_failed_total++;
	} else {
		a->hosts[a->n_hosts++] = h;
		a->attached_total++;
	}
	pthread_mutex_unlock(&a->lock);
	if (rc) {
		pr_warn("pid %d (%s): not attached: %s\n", pid, h->exe_base,
			e.msg[0] ? e.msg : strerror(-rc));
		host_free(a, h);
		return rc;
	}
	pr_info("attached to pid %d (%s, service %s) at level %s\n", pid, h->exe_base, h->service,
		tvn_level__name(a->o.level));
	return 0;
}

void tvn_agent_host__remove(struct tvn_agent *a, struct tvn_agent_host *h)
{
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->n_hosts; i++) {
		if (a->hosts[i] == h) {
			a->hosts[i] = a->hosts[--a->n_hosts];
			a->removed_total++;
			break;
		}
	}
	pthread_mutex_unlock(&a->lock);
	host_free(a, h);
}
