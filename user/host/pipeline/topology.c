// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The shape of a flow (docs/pipeline-format.md): at least one source and one
 * sink, every other component fed by exactly one stream, only a router with
 * several outputs, and no stream cycles.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pipeline_internal.h"

struct topo {
	int in[TORVYN_MAX_COMPONENTS];	       /* input streams */
	int out[TORVYN_MAX_COMPONENTS];	       /* output streams */
	int in_stream[TORVYN_MAX_COMPONENTS];  /* the (first) input stream */
	int out_stream[TORVYN_MAX_COMPONENTS]; /* the first output stream */
};

static int check_stream(struct tvn_doc *doc, const struct tvn_flow_cfg *f, int k, struct topo *t)
{
	const struct tvn_stream_cfg *s = &f->streams[k];
	const char *from = f->comps[s->from].id, *to = f->comps[s->to].id;
	uint32_t from_role = f->comps[s->from].role, to_role = f->comps[s->to].role;

	if (s->from == s->to)
		return tvn_doc__fail_key(
		    doc, "to", "stream from \"%s\" to itself (expected another component)", to);
	for (int j = 0; j < k; j++) {
		if (f->streams[j].from == s->from && f->streams[j].to == s->to)
			return tvn_doc__fail(
			    doc, "duplicate stream from \"%s\" to \"%s\" (already streams[%d])",
			    from, to, j);
		if (!strcmp(f->streams[j].id, s->id))
			return tvn_doc__fail_key(doc, "id",
						 "duplicate stream id \"%s\" (already used by "
						 "streams[%d]; give each stream a distinct \"id\")",
						 s->id, j);
	}
	if (to_role == TORVYN_ROLE_SOURCE)
		return tvn_doc__fail_key(doc, "to",
					 "\"%s\" is a source and takes no input (expected a "
					 "processor, filter, router or sink)",
					 to);
	if (from_role == TORVYN_ROLE_SINK)
		return tvn_doc__fail_key(doc, "from",
					 "\"%s\" is a sink and has no output (expected a source, "
					 "processor, filter or router)",
					 from);
	if (t->in[s->to])
		return tvn_doc__fail_key(doc, "to",
					 "\"%s\" already has an input, streams[%d] (expected "
					 "exactly one input per component)",
					 to, t->in_stream[s->to]);
	if (t->out[s->from] && from_role != TORVYN_ROLE_ROUTER)
		return tvn_doc__fail_key(doc, "from",
					 "\"%s\" already has an output, streams[%d] (expected "
					 "exactly one output; only a router has several)",
					 from, t->out_stream[s->from]);
	if (!t->in[s->to]++)
		t->in_stream[s->to] = k;
	if (!t->out[s->from]++)
		t->out_stream[s->from] = k;
	return 0;
}

static int check_links(struct tvn_doc *doc, const struct tvn_flow_cfg *f, const struct topo *t)
{
	for (int i = 0; i < f->n_comps; i++) {
		const struct tvn_comp_cfg *c = &f->comps[i];
		const char *role = tvn_sym__name(tvn_role_syms, c->role);

		if (c->role != TORVYN_ROLE_SOURCE && !t->in[i])
			return tvn_doc__fail_idx(doc, "components", i,
						 "%s \"%s\" has no input stream (expected "
						 "exactly one)",
						 role, c->id);
		if (c->role != TORVYN_ROLE_SINK && !t->out[i])
			return tvn_doc__fail_idx(doc, "components", i,
						 "%s \"%s\" has no output stream (expected "
						 "%s)",
						 role, c->id,
						 c->role == TORVYN_ROLE_ROUTER ? "at least one"
									       : "exactly one");
	}
	return 0;
}

/*
 * Every component but a source has exactly one input, so walking inputs
 * backwards from any component either reaches a source or loops forever.
 */
static int check_cycles(struct tvn_doc *doc, const struct tvn_flow_cfg *f, const struct topo *t)
{
	int back[TORVYN_MAX_COMPONENTS], n = 0, cur, start = 0, min;
	char msg[TORVYN_MAX_COMPONENTS * (TORVYN_NAME_LEN + 4) + 8];
	size_t off = 0;

	for (cur = 0; cur < f->n_comps; cur++) {
		start = cur;
		for (int steps = 0; steps < f->n_comps; steps++)
			if (f->comps[start].role != TORVYN_ROLE_SOURCE)
				start = f->streams[t->in_stream[start]].from;
		if (f->comps[start].role != TORVYN_ROLE_SOURCE)
			break;
	}
	if (cur == f->n_comps)
		return 0;
	/* start is on the cycle: begin at its first component, list it backwards */
	min = start;
	for (cur = f->streams[t->in_stream[start]].from; cur != start;
	     cur = f->streams[t->in_stream[cur]].from)
		min = cur < min ? cur : min;
	start = cur = min;
	do {
		back[n++] = cur;
		cur = f->streams[t->in_stream[cur]].from;
	} while (cur != start && n < TORVYN_MAX_COMPONENTS);
	off += snprintf(msg, sizeof(msg), "%s", f->comps[start].id);
	for (int i = n - 1; i >= 0 && off < sizeof(msg); i--)
		off += snprintf(msg + off, sizeof(msg) - off, " -> %s", f->comps[back[i]].id);
	return tvn_doc__fail_idx(
	    doc, "streams", t->in_stream[back[n - 1]],
	    "streams form a cycle: %s (expected every component to be fed from a "
	    "source)",
	    msg);
}

int tvn_flow_cfg__check_topology(struct tvn_doc *doc, const struct tvn_flow_cfg *f)
{
	struct topo t = {0};
	bool source = false, sink = false;
	int err = 0;

	for (int i = 0; i < f->n_comps; i++) {
		source |= f->comps[i].role == TORVYN_ROLE_SOURCE;
		sink |= f->comps[i].role == TORVYN_ROLE_SINK;
	}
	if (!source || !sink)
		return tvn_doc__fail_key(doc, "components",
					 "no %s (expected at least one source and one sink)",
					 source ? "sink" : "source");
	tvn_doc__push_key(doc, "streams");
	for (int k = 0; !err && k < f->n_streams; k++) {
		tvn_doc__push_idx(doc, k);
		err = check_stream(doc, f, k, &t);
		tvn_doc__pop(doc);
	}
	tvn_doc__pop(doc);
	if (!err)
		err = check_links(doc, f, &t);
	if (!err)
		err = check_cycles(doc, f, &t);
	return err;
}
