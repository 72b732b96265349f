// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The node's exposition: every host's snapshot under its labels, then the agent's own families. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_internal.h"
#include "exporter.h"
#include "metric_model.h"
#include "prom.h"

/* One host as a render sees it: copies, so the host may go meanwhile. */
struct frame_host {
	struct tvn_snapshot snap;
	char pid_s[16], exe[TVN_AGENT_EXE_LABEL], service[TVN_AGENT_SERVICE_LABEL];
	struct tvn_metric_label labels[3];
	int res_id;
};

struct frame {
	struct frame_host *h;
	int n;
	uint64_t up, down, over_cap, attached, failed, removed;
};

static void frame_free(struct frame *f)
{
	for (int i = 0; i < f->n; i++)
		tvn_snapshot__free(&f->h[i].snap);
	free(f->h);
}

/* Snapshots of the hosts (all, or the one of pid > 0) under the agent's lock. */
static int frame_take(struct tvn_agent *a, int pid, struct frame *f)
{
	int rc = 0;

	memset(f, 0, sizeof(*f));
	pthread_mutex_lock(&a->lock);
	f->h = calloc(a->n_hosts ? a->n_hosts : 1, sizeof(*f->h));
	for (int i = 0; f->h && !rc && i < a->n_hosts; i++) {
		struct tvn_agent_host *h = a->hosts[i];
		struct frame_host *fh = &f->h[f->n];

		if (pid > 0 && h->pid != pid)
			continue;
		rc = tvn_session__snapshot(h->s, NULL, &fh->snap);
		if (rc)
			break;
		f->n++;
		memcpy(fh->pid_s, h->pid_s, sizeof(fh->pid_s));
		memcpy(fh->exe, h->exe_base, sizeof(fh->exe));
		memcpy(fh->service, h->service, sizeof(fh->service));
		fh->res_id = h->res_id;
		h->up ? f->up++ : f->down++;
	}
	f->over_cap = a->over_cap_total;
	f->attached = a->attached_total;
	f->failed = a->attach_failed_total;
	f->removed = a->removed_total;
	pthread_mutex_unlock(&a->lock);
	if (!f->h || rc) {
		frame_free(f);
		return rc ? rc : -ENOMEM;
	}
	for (int i = 0; i < f->n; i++) {
		struct frame_host *fh = &f->h[i];

		fh->labels[0] = (struct tvn_metric_label){"pid", fh->pid_s, sizeof(fh->pid_s)};
		fh->labels[1] = (struct tvn_metric_label){"exe", fh->exe, sizeof(fh->exe)};
		fh->labels[2] =
		    (struct tvn_metric_label){"service", fh->service, sizeof(fh->service)};
	}
	return 0;
}

/* The agent's own families, in the format asked for (docs/metrics.md, "Agent"). */
static int trailer(const struct frame *f, bool om, char *buf, size_t len)
{
	const char *t = om ? "" : "_total";

	return snprintf(
	    buf, len,
	    "# HELP torvyn_agent_hosts Torvyn hosts the agent keeps: up (traced) or down (gone, "
	    "kept until the TTL).\n"
	    "# TYPE torvyn_agent_hosts gauge\n"
	    "torvyn_agent_hosts{state=\"up\"} %llu\n"
	    "torvyn_agent_hosts{state=\"down\"} %llu\n"
	    "# HELP torvyn_agent_hosts_attached%s Torvyn hosts the agent attached to.\n"
	    "# TYPE torvyn_agent_hosts_attached%s counter\n"
	    "torvyn_agent_hosts_attached_total %llu\n"
	    "# HELP torvyn_agent_attach_failures%s Torvyn hosts found but not attached: an "
	    "error.\n"
	    "# TYPE torvyn_agent_attach_failures%s counter\n"
	    "torvyn_agent_attach_failures_total %llu\n"
	    "# HELP torvyn_agent_hosts_over_cap%s Torvyn hosts found but not attached: "
	    "--max-hosts reached.\n"
	    "# TYPE torvyn_agent_hosts_over_cap%s counter\n"
	    "torvyn_agent_hosts_over_cap_total %llu\n"
	    "# HELP torvyn_agent_hosts_expired%s Gone hosts dropped after their TTL.\n"
	    "# TYPE torvyn_agent_hosts_expired%s counter\n"
	    "torvyn_agent_hosts_expired_total %llu\n",
	    (unsigned long long)f->up, (unsigned long long)f->down, t, t,
	    (unsigned long long)f->attached, t, t, (unsigned long long)f->failed, t, t,
	    (unsigned long long)f->over_cap, t, t, (unsigned long long)f->removed);
}

static int render(struct tvn_agent *a, int pid, bool om, char **body, size_t *len)
{
	struct tvn_metric_target *t;
	struct frame f;
	char tail[2048];
	int rc = frame_take(a, pid, &f);

	if (rc)
		return rc;
	t = calloc(f.n ? f.n : 1, sizeof(*t));
	if (!t) {
		frame_free(&f);
		return -ENOMEM;
	}
	for (int i = 0; i < f.n; i++)
		t[i] = (struct tvn_metric_target){&f.h[i].snap, f.h[i].labels, 3};
	trailer(&f, om, tail, sizeof(tail));
	rc = tvn_prom__render_many(t, f.n, om, pid > 0 ? NULL : tail, body, len);
	free(t);
	frame_free(&f);
	return rc;
}

int tvn_agent__render(struct tvn_agent *a, bool openmetrics, char **body, size_t *len)
{
	return render(a, 0, openmetrics, body, len);
}

int tvn_agent__render_pid(struct tvn_agent *a, int pid, char **body, size_t *len)
{
	return render(a, pid, false, body, len);
}

void tvn_agent__push_metrics(struct tvn_agent *a, uint64_t start_unix_ns, uint64_t now_unix_ns)
{
	const struct tvn_snapshot **snaps;
	struct frame f;
	int *ids;

	if (!a->o.exp || frame_take(a, 0, &f))
		return;
	snaps = calloc(f.n ? f.n : 1, sizeof(*snaps));
	ids = calloc(f.n ? f.n : 1, sizeof(*ids));
	for (int i = 0; snaps && ids && i < f.n; i++) {
		snaps[i] = &f.h[i].snap;
		ids[i] = f.h[i].res_id;
	}
	if (snaps && ids && f.n)
		tvn_exporter__push_metrics_many(a->o.exp, ids, snaps, f.n, start_unix_ns,
						now_unix_ns);
	free(snaps);
	free(ids);
	frame_free(&f);
}
