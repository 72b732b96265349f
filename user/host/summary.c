/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --summary: the host's own ground truth, as JSON. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"
#include "torvyn_names.h"

static json_t *hist_json(const struct torvyn_hist_lat *hl)
{
	return json_pack("{s:I, s:I}", "count", (json_int_t)hl->count, "sum_ns",
			 (json_int_t)hl->sum_ns);
}

static json_t *component_json(const struct tvn_comp *c)
{
	const struct torvyn_component_block *b = c->blk;
	json_t *errs = json_object(), *copies = json_object();
	json_t *o;

	for (int k = 1; k < TORVYN_ERR_KINDS; k++) {
		if (b->errors_by_kind[k])
			json_object_set_new(errs, torvyn_err_kind_names[k],
					    json_integer(b->errors_by_kind[k]));
	}
	for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
		if (b->copies_total[r])
			json_object_set_new(copies, torvyn_copy_reason_names[r],
					    json_pack("{s:I, s:I}", "count",
						      (json_int_t)b->copies_total[r], "bytes",
						      (json_int_t)b->copies_bytes[r]));
	}
	o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:o}",
		      "id", c->cfg->id, "role", torvyn_role_names[b->role], "invocations",
		      (json_int_t)b->invocations, "errors", (json_int_t)b->errors, "errors_by_kind",
		      errs, "bytes_in", (json_int_t)b->bytes_in, "bytes_out",
		      (json_int_t)b->bytes_out, "elements_ended", (json_int_t)b->elements_ended,
		      "transfers_in", (json_int_t)b->transfers_in, "copies", copies, "wakeups",
		      (json_int_t)b->wakeups, "idle_ns", (json_int_t)b->idle_ns, "processing_time",
		      hist_json(&b->processing_time), "e2e_latency", hist_json(&b->e2e_latency));
	/* step records component__batch carried: what Level 2 counted of this component */
	if (o)
		json_object_set_new(o, "batch_records", json_integer((json_int_t)c->batch_records));
	return o;
}

static json_t *stream_json(const struct tvn_flow *f, const struct tvn_stream *s)
{
	const struct torvyn_stream_block *b = s->blk;

	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "id", s->cfg.id,
			 "from", f->comps[s->cfg.from].cfg->id, "to", f->comps[s->cfg.to].cfg->id,
			 "capacity", (json_int_t)b->capacity, "elements_transferred",
			 (json_int_t)b->elements_transferred, "elements_dropped",
			 (json_int_t)b->elements_dropped, "backpressure_events",
			 (json_int_t)b->backpressure_events, "backpressure_duration_ns",
			 (json_int_t)b->backpressure_duration_ns, "peak_depth",
			 (json_int_t)b->peak_depth, "wait_time", hist_json(&b->wait_time));
}

static json_t *flow_json(const struct tvn_flow *f)
{
	const struct torvyn_flow_block *b = f->blk;
	json_t *comps = json_array(), *streams = json_array(), *copies = json_object();
	json_t *promoted = json_object();

	for (int j = 0; j < f->n_comps; j++)
		json_array_append_new(comps, component_json(&f->comps[j]));
	for (int j = 0; j < f->n_streams; j++)
		json_array_append_new(streams, stream_json(f, &f->streams[j]));
	for (int r = 0; r < TORVYN_COPY_REASONS; r++)
		json_object_set_new(copies, torvyn_copy_reason_names[r],
				    json_pack("{s:I, s:I}", "count", (json_int_t)b->copies_total[r],
					      "bytes", (json_int_t)b->copies_bytes[r]));
	for (size_t r = 0; r < sizeof(b->promoted_total) / sizeof(b->promoted_total[0]); r++)
		json_object_set_new(promoted, torvyn_promote_names[r],
				    json_integer(b->promoted_total[r]));
	return json_pack("{s:s, s:s, s:I, s:I, s:o, s:{s:I, s:I}, s:o, s:I, s:o, s:o, s:o}", "id",
			 f->cfg->id, "state", torvyn_flow_state_names[b->state], "elements",
			 (json_int_t)b->elements_total, "errors", (json_int_t)b->elements_errors,
			 "copies", copies, "transfers", "count", (json_int_t)b->transfers_total,
			 "bytes", (json_int_t)b->transfers_bytes, "promoted", promoted,
			 "spans_dropped", (json_int_t)b->spans_dropped, "latency",
			 hist_json(&b->latency), "components", comps, "streams", streams);
}

int tvn_host__write_summary(struct tvn_host *h, const char *path)
{
	json_t *root, *flows = json_array(), *pool = json_array();
	int rc;

	for (int i = 0; i < h->n_flows; i++)
		json_array_append_new(flows, flow_json(&h->flows[i]));
	for (int t = 0; t < TORVYN_TIERS; t++) {
		const struct torvyn_pool_tier *pt = &h->pool_blk->tier[t];

		json_array_append_new(
		    pool,
		    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "tier",
			      torvyn_tier_names[t], "buffer_size", (json_int_t)pt->buffer_size,
			      "capacity", (json_int_t)pt->capacity, "available",
			      (json_int_t)pt->available, "allocated", (json_int_t)pt->allocated,
			      "returned", (json_int_t)pt->returned, "fallback_count",
			      (json_int_t)pt->fallback_count, "exhaustion_events",
			      (json_int_t)pt->exhaustion_events));
	}
	root = json_pack("{s:i, s:I, s:I, s:f, s:I, s:o, s:o}", "abi_version",
			 TORVYN_PROBE_ABI_VERSION, "pid", (json_int_t)getpid(),
			 "elements_per_source", (json_int_t)h->opts.elements, "run_seconds",
			 (double)(h->run_end_ns - h->run_start_ns) / 1e9, "max_gap_ns",
			 (json_int_t)h->max_gap_ns, "flows", flows, "pool", pool);
	if (!root)
		return -ENOMEM;
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return rc ? -EIO : 0;
}

int tvn_host__write_gaps(struct tvn_host *h, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	/* one JSON object a line: a pause of one component's loop */
	for (int i = 0; i < h->n_flows; i++) {
		const struct tvn_flow *fl = &h->flows[i];

		for (int j = 0; j < fl->n_comps; j++) {
			const struct tvn_comp *c = &fl->comps[j];

			for (uint32_t k = 0; k < c->n_gaps; k++)
				fprintf(f,
					"{\"flow\":\"%s\",\"component\":\"%s\",\"end_ns\":%llu,"
					"\"gap_ns\":%llu}\n",
					fl->cfg->id, c->cfg->id,
					(unsigned long long)c->gaps[k].end_ns,
					(unsigned long long)c->gaps[k].gap_ns);
		}
	}
	return fclose(f) ? -errno : 0;
}
