// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A frame as one JSON object (`top --once -j`): counts as integers, rates
 * per second and quantiles in seconds as numbers, null where unknown.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "level.h"
#include "top.h"

static json_t *count(double v)
{
	return isnan(v) ? json_null() : json_integer((json_int_t)v);
}

static json_t *real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *comp_json(const struct tvn_top_comp *c)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "component_id", str(c->id),
			 "invocations", count(c->invocations), "invocations_per_second",
			 real(c->rate), "errors", count(c->errors), "errors_per_second",
			 real(c->err_rate), "p50_seconds", real(c->p50), "p99_seconds",
			 real(c->p99));
}

static json_t *stream_json(const struct tvn_top_stream *s)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "stream_id", str(s->id),
			 "queue_depth", count(s->depth), "queue_capacity", count(s->capacity),
			 "queue_peak_depth", count(s->peak), "backpressure_events",
			 count(s->bp_events), "backpressure_events_per_second", real(s->bp_rate),
			 "elements_dropped", count(s->dropped));
}

static json_t *flow_json(const struct tvn_top_flow *fl)
{
	json_t *comps = json_array(), *streams = json_array();

	for (int i = 0; i < fl->n_comps; i++)
		json_array_append_new(comps, comp_json(&fl->comps[i]));
	for (int i = 0; i < fl->n_streams; i++)
		json_array_append_new(streams, stream_json(&fl->streams[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "flow_id", str(fl->id), "elements",
			 count(fl->elements), "elements_per_second", real(fl->rate), "errors",
			 count(fl->errors), "errors_per_second", real(fl->err_rate), "components",
			 comps, "streams", streams);
}

static json_t *target_json(const struct tvn_top_frame *f, int t)
{
	const struct tvn_top_target *tg = &f->targets[t];
	double level = tg->self[TVN_TOP_LEVEL], up = tg->self[TVN_TOP_TARGET_UP];
	json_t *tracer = json_object(), *flows = json_array();

	for (int i = TVN_TOP_EVENTS_LOST; i < TVN_TOP_SELF_COUNT; i++)
		json_object_set_new(tracer, tvn_top_self_rows[i].key, count(tg->self[i]));
	for (int i = 0; i < f->n_flows; i++) {
		if (f->flows[i].target == t)
			json_array_append_new(flows, flow_json(&f->flows[i]));
	}
	return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "pid", tg->pid, "exe",
			 str(tg->exe), "service", str(tg->service), "level",
			 isnan(level) ? json_null() : json_string(tvn_level__name((int)level)),
			 "target_up", isnan(up) ? json_null() : json_boolean(up > 0),
			 "rates_seconds", tg->rates_s > 0 ? json_real(tg->rates_s) : json_null(),
			 "rates_carried", tg->carried, "tracer", tracer, "flows", flows);
}

char *tvn_top_json__dump(const struct tvn_top_frame *f, const struct tvn_top_view_opts *o)
{
	json_t *targets = json_array(), *root;
	char *s;

	for (int t = 0; t < f->n_targets; t++)
		json_array_append_new(targets, target_json(f, t));
	root = json_pack("{s:s, s:o, s:s, s:o}", "source", o->source, "interval_seconds",
			 f->dt > 0 ? json_real(f->dt) : json_null(), "sort",
			 tvn_top_sort__name(o->sort), "targets", targets);
	s = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	return s;
}
