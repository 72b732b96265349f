// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Many sessions in one process: opens one session per PID given, serves
 * them all from one core event loop at LEVEL until every target has exited,
 * then prints each session's final counts as one JSON line. Linked against
 * the tracer's modules without its command line (test_multi_session.sh).
 *
 *   multi_session LEVEL PID...
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "level.h"
#include "log.h"
#include "loop.h"
#include "session.h"

#define MAX_TARGETS 8

struct run {
	struct tvn_loop *loop;
	int n, exited;
};

static void target_exited(void *ctx)
{
	struct run *r = ctx;

	if (++r->exited == r->n)
		tvn_loop__stop(r->loop);
}

static json_t *flow_json(const struct tvn_snap_flow *f, const struct tvn_snapshot *snap)
{
	json_t *comps = json_array();

	for (int j = 0; j < TORVYN_MAX_COMPONENTS; j++) {
		const struct tvn_snap_comp *c = &f->comps[j];

		if (!c->present)
			continue;
		json_array_append_new(
			comps, json_pack("{s:s, s:I, s:I, s:I, s:I}", "id", c->blk.hdr.name,
					 "invocations", (json_int_t)c->blk.invocations, "errors",
					 (json_int_t)c->blk.errors, "processing_count",
					 (json_int_t)c->blk.processing_time.count,
					 "diag_invocations",
					 (json_int_t)(c->has_diag ? c->diag.invocations : 0)));
	}
	(void)snap;
	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "id", f->blk.hdr.name, "elements",
			 (json_int_t)f->blk.elements_total, "errors",
			 (json_int_t)f->blk.elements_errors, "latency_count",
			 (json_int_t)f->blk.latency.count, "components", comps);
}

static int print_session(struct tvn_session *s)
{
	struct tvn_snapshot snap;
	json_t *flows = json_array(), *out;

	if (tvn_session__snapshot(s, NULL, &snap))
		return -1;
	for (int i = 0; i < snap.n_flows; i++) {
		if (snap.flows[i].present)
			json_array_append_new(flows, flow_json(&snap.flows[i], &snap));
	}
	out = json_pack("{s:i, s:i, s:o}", "pid", snap.target_pid, "target_up", snap.target_up,
			"flows", flows);
	json_dumpf(out, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(out);
	tvn_snapshot__free(&snap);
	return 0;
}

int main(int argc, char **argv)
{
	struct tvn_session *s[MAX_TARGETS] = { 0 };
	struct run r = { 0 };
	struct tvn_err e = { 0 };
	int level, rc = 1;

	if (argc < 3 || argc - 2 > MAX_TARGETS || (level = tvn_level__parse(argv[1])) < 0) {
		fprintf(stderr, "usage: multi_session LEVEL PID... (at most %d)\n", MAX_TARGETS);
		return 2;
	}
	tvn_log_verbosity = LOG_WARN;
	r.loop = tvn_loop__new();
	r.n = argc - 2;
	for (int i = 0; i < r.n; i++) {
		struct tvn_loader_opts o = { .pid = atoi(argv[i + 2]), .sample_threshold = ~0ull };
		struct tvn_loop_session_ops ops = { .target_exited = target_exited };

		if (tvn_session__open(&o, &s[i], &e) || tvn_loop__add_session(r.loop, s[i], &ops, &r, &e) ||
		    tvn_session__set_level(s[i], level, NULL, &e)) {
			fprintf(stderr, "pid %s: %s\n", argv[i + 2], e.msg);
			goto out;
		}
	}
	/* attached: the hosts (started with --wait-attach) may go */
	fprintf(stderr, "attached %d\n", r.n);
	if (tvn_loop__run(r.loop, NULL))
		goto out;
	rc = 0;
	for (int i = 0; i < r.n; i++)
		rc |= print_session(s[i]) ? 1 : 0;
out:
	tvn_loop__free(r.loop);
	for (int i = 0; i < r.n; i++)
		tvn_session__free(s[i]);
	return rc;
}
