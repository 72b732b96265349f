// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One scrape into a frame: the families top shows (docs/metrics.md), each
 * a row saying which entity it belongs to and which field it fills; every
 * other family is skipped. Samples of one entity come in runs (a family
 * lists them by flow, then component or stream), so each lookup tries the
 * last entity found before searching.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "top.h"
#include "top_internal.h"

const struct tvn_top_self_row tvn_top_self_rows[TVN_TOP_SELF_COUNT] = {
    [TVN_TOP_LEVEL] = {"torvyn_trace_level", "level", "level"},
    [TVN_TOP_TARGET_UP] = {"torvyn_trace_target_up", "target_up", "up"},
    [TVN_TOP_BLOCKS_RECEIVED] = {"torvyn_trace_blocks_received_total", "blocks_received", "blocks"},
    [TVN_TOP_EVENTS_LOST] = {"torvyn_trace_events_lost_total", "events_lost", "lost"},
    [TVN_TOP_MAP_UPDATE_FAILURES] = {"torvyn_trace_map_update_failures_total",
				     "map_update_failures", "map-fail"},
    [TVN_TOP_USER_READ_FAILURES] = {"torvyn_trace_user_read_failures_total", "user_read_failures",
				    "read-fail"},
    [TVN_TOP_TRACES_FILTERED] = {"torvyn_trace_traces_filtered_total", "traces_filtered",
				 "filtered"},
    [TVN_TOP_SPANS_DROPPED] = {"torvyn_trace_spans_dropped_total", "spans_dropped",
			       "spans-dropped"},
    [TVN_TOP_SPANS_REJECTED] = {"torvyn_trace_spans_rejected_total", "spans_rejected",
				"spans-rejected"},
    [TVN_TOP_OTLP_FAILURES] = {"torvyn_trace_otlp_failures_total", "otlp_failures", "otlp-fail"},
};

enum scope { SC_SELF, SC_INFO, SC_FLOW, SC_COMP, SC_BUCKET, SC_STREAM };

struct family {
	const char *name;
	enum scope scope;
	size_t off; /* of the double in the flow, component or stream; SC_SELF: the index */
};

static const struct family families[] = {
    {"torvyn_flow_elements_total", SC_FLOW, offsetof(struct tvn_top_flow, elements)},
    {"torvyn_flow_errors_total", SC_FLOW, offsetof(struct tvn_top_flow, errors)},
    {"torvyn_component_invocations_total", SC_COMP, offsetof(struct tvn_top_comp, invocations)},
    {"torvyn_component_errors_total", SC_COMP, offsetof(struct tvn_top_comp, errors)},
    {"torvyn_component_processing_time_seconds_bucket", SC_BUCKET, 0},
    {"torvyn_stream_queue_current_depth", SC_STREAM, offsetof(struct tvn_top_stream, depth)},
    {"torvyn_stream_queue_capacity", SC_STREAM, offsetof(struct tvn_top_stream, capacity)},
    {"torvyn_stream_queue_peak_depth", SC_STREAM, offsetof(struct tvn_top_stream, peak)},
    {"torvyn_stream_backpressure_events_total", SC_STREAM,
     offsetof(struct tvn_top_stream, bp_events)},
    {"torvyn_stream_elements_dropped_total", SC_STREAM, offsetof(struct tvn_top_stream, dropped)},
    {"torvyn_trace_info", SC_INFO, 0},
};

_Static_assert(offsetof(struct tvn_top_flow, id) == 0 && offsetof(struct tvn_top_comp, id) == 0 &&
		   offsetof(struct tvn_top_stream, id) == 0,
	       "each entity starts with its id");

static const struct family *family_of(const char *name)
{
	if (strncmp(name, "torvyn_", 7))
		return NULL;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (!strcmp(families[i].name, name))
			return &families[i];
	}
	return NULL;
}

/* The row of a self-metric: off is its index. */
static int self_of(const char *name, struct family *out)
{
	for (int i = 0; i < TVN_TOP_SELF_COUNT; i++) {
		if (!strcmp(tvn_top_self_rows[i].family, name)) {
			*out = (struct family){.name = name, .scope = SC_SELF, .off = (size_t)i};
			return 0;
		}
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ entities */

int tvn_top__find(const void *base, int n, size_t sz, int hint, const char *id)
{
	const char *b = base;

	if (hint >= 0 && hint < n && !strcmp(*(char *const *)(b + (size_t)hint * sz), id))
		return hint;
	for (int i = 0; i < n; i++) {
		if (!strcmp(*(char *const *)(b + (size_t)i * sz), id))
			return i;
	}
	return -1;
}

/* Appends a zeroed entry named id to *arr (n entries of sz bytes); its index or -ENOMEM. */
static int add(void *arr, int *n, size_t sz, const char *id)
{
	char *p = realloc(*(void **)arr, (size_t)(*n + 1) * sz), *e;

	if (!p)
		return -ENOMEM;
	*(void **)arr = p;
	e = p + (size_t)*n * sz;
	memset(e, 0, sz);
	*(char **)e = strdup(id);
	if (!*(char **)e)
		return -ENOMEM;
	return (*n)++;
}

struct build {
	struct tvn_top_frame *f;
	int default_pid;
	int target, flow, comp, stream; /* the last found */
};

static char *label_dup(const struct tvn_promtext_sample *s, const char *name, int *rc)
{
	const char *v = tvn_promtext__label(s, name);
	char *d = v ? strdup(v) : NULL;

	if (v && !d)
		*rc = -ENOMEM;
	return d;
}

/* The target of s: its "pid" label, else the source's PID. */
static int target_of(struct build *b, const struct tvn_promtext_sample *s)
{
	const char *p = tvn_promtext__label(s, "pid");
	int pid = p ? atoi(p) : b->default_pid, rc = 0;
	struct tvn_top_frame *f = b->f;
	struct tvn_top_target *t;

	if (b->target >= 0 && f->targets[b->target].pid == pid)
		return b->target;
	for (int i = 0; i < f->n_targets; i++) {
		if (f->targets[i].pid == pid)
			return b->target = i;
	}
	t = realloc(f->targets, (size_t)(f->n_targets + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	f->targets = t;
	t += f->n_targets;
	*t = (struct tvn_top_target){.pid = pid, .seen_at = NAN};
	for (int i = 0; i < TVN_TOP_SELF_COUNT; i++)
		t->self[i] = NAN;
	/* an agent labels every series with exe and service */
	t->exe = label_dup(s, "exe", &rc);
	t->service = label_dup(s, "service", &rc);
	b->target = f->n_targets++;
	return rc ? rc : b->target;
}

static int flow_of(struct build *b, int target, const char *id)
{
	struct tvn_top_frame *f = b->f;
	int i = b->flow;

	if (i >= 0 && f->flows[i].target == target && !strcmp(f->flows[i].id, id))
		return i;
	for (i = 0; i < f->n_flows; i++) {
		if (f->flows[i].target == target && !strcmp(f->flows[i].id, id))
			return b->flow = i;
	}
	i = add(&f->flows, &f->n_flows, sizeof(*f->flows), id);
	if (i < 0)
		return i;
	f->flows[i].target = target;
	f->flows[i].order = i;
	b->comp = b->stream = -1;
	return b->flow = i;
}

static int comp_of(struct build *b, struct tvn_top_flow *fl, const char *id)
{
	int i = tvn_top__find(fl->comps, fl->n_comps, sizeof(*fl->comps), b->comp, id);

	if (i < 0) {
		i = add(&fl->comps, &fl->n_comps, sizeof(*fl->comps), id);
		if (i >= 0)
			fl->comps[i].order = i;
	}
	return i < 0 ? i : (b->comp = i);
}

static int stream_of(struct build *b, struct tvn_top_flow *fl, const char *id)
{
	int i = tvn_top__find(fl->streams, fl->n_streams, sizeof(*fl->streams), b->stream, id);

	if (i < 0)
		i = add(&fl->streams, &fl->n_streams, sizeof(*fl->streams), id);
	return i < 0 ? i : (b->stream = i);
}

/* ------------------------------------------------------------ samples */

static int put_bucket(struct tvn_top_hist *h, const struct tvn_promtext_sample *s)
{
	const char *le = tvn_promtext__label(s, "le");
	char *end;
	double v;
	int i;

	if (!le)
		return -EINVAL;
	v = strtod(le, &end);
	if (end == le || *end)
		return -EINVAL;
	for (i = 0; i < h->n && h->le[i] != v; i++)
		;
	if (i == h->n) {
		if (h->n == TVN_TOP_MAX_BUCKETS)
			return -E2BIG;
		/* keep the bounds ascending, whatever order they came in */
		for (i = h->n++; i > 0 && h->le[i - 1] > v; i--) {
			h->le[i] = h->le[i - 1];
			h->cum[i] = h->cum[i - 1];
		}
		h->le[i] = v;
	}
	h->cum[i] = s->value;
	return 0;
}

/*
 * torvyn_trace_info names the process: the exe of a session's target. It
 * never makes a target of its own: a session's series carry no pid label,
 * and read from its /metrics (no PID known) they belong to PID 0 until
 * this names it.
 */
static int put_info(struct build *b, const struct tvn_promtext_sample *s)
{
	const char *p = tvn_promtext__label(s, "pid");
	int pid = p ? atoi(p) : b->default_pid, rc = 0;
	struct tvn_top_target *t = NULL;

	for (int i = 0; i < b->f->n_targets && !t; i++) {
		if (b->f->targets[i].pid == pid)
			t = &b->f->targets[i];
	}
	for (int i = 0; i < b->f->n_targets && !t; i++) {
		if (b->f->targets[i].pid == b->default_pid)
			t = &b->f->targets[i];
	}
	if (!t)
		return 0;
	t->pid = pid;
	if (!t->exe)
		t->exe = label_dup(s, "exe", &rc);
	return rc;
}

static int put_entity(struct build *b, int t, const struct family *fam,
		      const struct tvn_promtext_sample *s)
{
	const char *fid = tvn_promtext__label(s, "flow_id");
	const char *key = fam->scope == SC_STREAM ? "stream_id" : "component_id";
	const char *id = tvn_promtext__label(s, key);
	struct tvn_top_flow *fl;
	int i;

	if (!fid || (fam->scope != SC_FLOW && !id))
		return 0; /* not a series of ours: skipped */
	i = flow_of(b, t, fid);
	if (i < 0)
		return i;
	fl = &b->f->flows[i];
	if (fam->scope == SC_FLOW) {
		*(double *)((char *)fl + fam->off) = s->value;
		return 0;
	}
	if (fam->scope == SC_STREAM) {
		i = stream_of(b, fl, id);
		if (i >= 0)
			*(double *)((char *)&fl->streams[i] + fam->off) = s->value;
		return i < 0 ? i : 0;
	}
	i = comp_of(b, fl, id);
	if (i < 0)
		return i;
	if (fam->scope == SC_BUCKET)
		return put_bucket(&fl->comps[i].hist, s);
	*(double *)((char *)&fl->comps[i] + fam->off) = s->value;
	return 0;
}

static int on_sample(void *ctx, const struct tvn_promtext_sample *s)
{
	struct build *b = ctx;
	const struct family *fam = family_of(s->name);
	struct family self;
	int t;

	if (!fam && !self_of(s->name, &self))
		fam = &self;
	if (!fam)
		return 0;
	if (fam->scope == SC_INFO)
		return put_info(b, s);
	t = target_of(b, s);
	if (t < 0)
		return t;
	if (fam->scope == SC_SELF) {
		b->f->targets[t].self[fam->off] = s->value;
		return 0;
	}
	return put_entity(b, t, fam, s);
}

/* ------------------------------------------------------------ order */

static int by_pid(const void *a, const void *b)
{
	const struct tvn_top_target *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Targets by ascending PID, each flow's index following its target. */
static int order_targets(struct tvn_top_frame *f)
{
	int *to = calloc(f->n_targets ? f->n_targets : 1, sizeof(*to));
	int *pid_at = calloc(f->n_targets ? f->n_targets : 1, sizeof(*pid_at));

	if (!to || !pid_at) {
		free(to);
		free(pid_at);
		return -ENOMEM;
	}
	for (int i = 0; i < f->n_targets; i++)
		pid_at[i] = f->targets[i].pid;
	qsort(f->targets, f->n_targets, sizeof(*f->targets), by_pid);
	for (int i = 0; i < f->n_targets; i++) {
		for (int j = 0; j < f->n_targets; j++) {
			if (f->targets[j].pid == pid_at[i])
				to[i] = j;
		}
	}
	for (int i = 0; i < f->n_flows; i++)
		f->flows[i].target = to[f->flows[i].target];
	free(to);
	free(pid_at);
	return 0;
}

int tvn_top_frame__parse(const char *text, size_t len, int default_pid, struct tvn_top_frame *f,
			 int *bad_line)
{
	struct build b = {
	    .f = f, .default_pid = default_pid, .target = -1, .flow = -1, .comp = -1, .stream = -1};
	int rc;

	*f = (struct tvn_top_frame){0};
	rc = tvn_promtext__parse(text, len, on_sample, &b, bad_line);
	if (!rc)
		rc = order_targets(f);
	if (!rc)
		tvn_top_frame__sort(f, TVN_TOP_SORT_ORDER);
	if (rc)
		tvn_top_frame__free(f);
	return rc;
}

void tvn_top_frame__free(struct tvn_top_frame *f)
{
	for (int i = 0; i < f->n_targets; i++) {
		free(f->targets[i].exe);
		free(f->targets[i].service);
	}
	for (int i = 0; i < f->n_flows; i++) {
		struct tvn_top_flow *fl = &f->flows[i];

		for (int j = 0; j < fl->n_comps; j++)
			free(fl->comps[j].id);
		for (int j = 0; j < fl->n_streams; j++)
			free(fl->streams[j].id);
		free(fl->comps);
		free(fl->streams);
		free(fl->id);
	}
	free(f->targets);
	free(f->flows);
	*f = (struct tvn_top_frame){0};
}
