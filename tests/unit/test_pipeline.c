// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pipeline loader: defaults, replicas, faults, streams, the reference
 * pipelines, and for each bad fixture the exact "FILE:LINE: FIELD: " prefix.
 * Fixtures are found from the source tree: $TORVYN_SRCDIR, else the
 * directory this file was compiled from (make runs in the repository root).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"

#define DATA "tests/unit/data/pipeline/"
#define REF "user/host/pipelines/"

static char srcdir[512];
static char errbuf[1024];

static void init_srcdir(void)
{
	const char *env = getenv("TORVYN_SRCDIR");
	const char *self = "tests/unit/test_pipeline.c";
	size_t n = strlen(__FILE__), m = strlen(self);

	if (env && *env)
		snprintf(srcdir, sizeof(srcdir), "%s/", env);
	else if (n >= m && !strcmp(&__FILE__[n - m], self))
		snprintf(srcdir, sizeof(srcdir), "%.*s", (int)(n - m), __FILE__);
	else
		srcdir[0] = '\0';
}

static const char *fixture(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s%s%s", srcdir, dir, name);
	return buf;
}

static void load_ok(const char *dir, const char *name, struct tvn_pipeline_cfg *cfg)
{
	char path[1024];
	int err;

	memset(errbuf, 'x', sizeof(errbuf));
	err =
	    tvn_pipeline__load(fixture(path, sizeof(path), dir, name), cfg, errbuf, sizeof(errbuf));
	if (err)
		print_error("%s: unexpected error %d: %s\n", name, err, errbuf);
	assert_int_equal(err, 0);
	assert_string_equal(errbuf, "");
}

static void assert_stream(const struct tvn_stream_cfg *s, const char *id, int from, int to,
			  uint32_t capacity, double lw, uint32_t policy)
{
	assert_string_equal(s->id, id);
	assert_int_equal(s->from, from);
	assert_int_equal(s->to, to);
	assert_int_equal(s->capacity, capacity);
	assert_true(s->low_watermark == lw);
	assert_int_equal(s->policy, policy);
}

static void assert_comp(const struct tvn_comp_cfg *c, const char *id, uint32_t role,
			enum tvn_comp_kind kind)
{
	assert_string_equal(c->id, id);
	assert_int_equal(c->role, role);
	assert_int_equal(c->kind, kind);
}

static void assert_fault(const struct tvn_fault *f, uint64_t at, enum tvn_fault_type type,
			 uint32_t error_kind, uint64_t ns)
{
	assert_int_equal(f->at, at);
	assert_int_equal(f->type, type);
	assert_int_equal(f->error_kind, error_kind);
	assert_int_equal(f->ns, ns);
}

/* ------------------------------------------------------------ good files */

static void test_defaults(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_flow_cfg *f;

	(void)state;
	load_ok(DATA, "good-defaults.json", &cfg);
	assert_int_equal(cfg.n_flows, 1);
	f = &cfg.flows[0];
	assert_string_equal(f->id, "main");
	assert_int_equal(f->error_policy, TVN_ERROR_POLICY_SKIP);
	assert_int_equal(f->n_comps, 3);
	assert_comp(&f->comps[0], "gen", TORVYN_ROLE_SOURCE, TVN_KIND_GENERATOR);
	assert_true(f->comps[0].rate == 0.0);
	assert_int_equal(f->comps[0].size_min, 128);
	assert_int_equal(f->comps[0].size_max, 128);
	assert_int_equal(f->comps[0].seed, 1);
	assert_int_equal(f->comps[0].n_faults, 0);
	assert_comp(&f->comps[1], "xform", TORVYN_ROLE_PROCESSOR, TVN_KIND_TRANSFORM);
	assert_int_equal(f->comps[1].copy, 0);
	assert_int_equal(f->comps[1].n_faults, 0);
	assert_comp(&f->comps[2], "out", TORVYN_ROLE_SINK, TVN_KIND_NULL_SINK);
	assert_int_equal(f->n_streams, 2);
	assert_stream(&f->streams[0], "gen->xform", 0, 1, 64, 0.5, TORVYN_POLICY_BLOCK_PRODUCER);
	assert_stream(&f->streams[1], "xform->out", 1, 2, 64, 0.5, TORVYN_POLICY_BLOCK_PRODUCER);
	tvn_pipeline__free(&cfg);
	assert_null(cfg.flows);
	assert_int_equal(cfg.n_flows, 0);
}

static void test_replicas(void **state)
{
	static const char *const ids[] = {"worker-0", "worker-1", "worker-2", "solo"};
	struct tvn_pipeline_cfg cfg;

	(void)state;
	load_ok(DATA, "good-replicas.json", &cfg);
	assert_int_equal(cfg.n_flows, 4);
	for (int i = 0; i < 4; i++) {
		const struct tvn_flow_cfg *f = &cfg.flows[i];

		assert_string_equal(f->id, ids[i]);
		assert_int_equal(f->error_policy,
				 i < 3 ? TVN_ERROR_POLICY_FAIL : TVN_ERROR_POLICY_SKIP);
		assert_int_equal(f->n_comps, 2);
		/* roles left out are the only role the kind can play */
		assert_comp(&f->comps[0], "gen", TORVYN_ROLE_SOURCE, TVN_KIND_GENERATOR);
		assert_int_equal(f->comps[0].seed, i < 3 ? 42 : 1);
		assert_comp(&f->comps[1], "out", TORVYN_ROLE_SINK, TVN_KIND_NULL_SINK);
		assert_int_equal(f->n_streams, 1);
		assert_stream(&f->streams[0], "gen->out", 0, 1, 64, 0.5,
			      TORVYN_POLICY_BLOCK_PRODUCER);
	}
	tvn_pipeline__free(&cfg);
}

static void test_faults(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_comp_cfg *c;

	(void)state;
	load_ok(DATA, "good-faults.json", &cfg);
	c = cfg.flows[0].comps;
	assert_int_equal(c[0].n_faults, 2);
	assert_fault(&c[0].faults[0], 0, TVN_FAULT_ERROR, TORVYN_ERR_INTERNAL, 0);
	assert_fault(&c[0].faults[1], 5, TVN_FAULT_DELAY, TORVYN_ERR_NONE, 1250000);
	assert_int_equal(c[1].n_faults, 8);
	assert_fault(&c[1].faults[0], 17, TVN_FAULT_ERROR, TORVYN_ERR_INTERNAL, 0);
	assert_fault(&c[1].faults[1], 42, TVN_FAULT_DELAY, TORVYN_ERR_NONE, 20000000);
	assert_fault(&c[1].faults[2], 43, TVN_FAULT_STALL, TORVYN_ERR_NONE, 500000);
	assert_fault(&c[1].faults[3], 1, TVN_FAULT_ERROR, TORVYN_ERR_INVALID_INPUT, 0);
	assert_fault(&c[1].faults[4], 2, TVN_FAULT_ERROR, TORVYN_ERR_UNAVAILABLE, 0);
	assert_fault(&c[1].faults[5], 3, TVN_FAULT_ERROR, TORVYN_ERR_DEADLINE_EXCEEDED, 0);
	assert_fault(&c[1].faults[6], 4, TVN_FAULT_ERROR, TORVYN_ERR_FATAL, 0);
	/* above 2^53: must not go through a double */
	assert_fault(&c[1].faults[7], 9007199254740993ULL, TVN_FAULT_STALL, TORVYN_ERR_NONE,
		     3600000000000ULL);
	assert_int_equal(c[2].n_faults, 3);
	assert_fault(&c[2].faults[0], 7, TVN_FAULT_STALL, TORVYN_ERR_NONE, 200000000);
	/* 1.005 * 1e6 is 1004999.99... in binary: rounded, not truncated */
	assert_fault(&c[2].faults[1], 8, TVN_FAULT_DELAY, TORVYN_ERR_NONE, 1005000);
	assert_fault(&c[2].faults[2], 9, TVN_FAULT_DELAY, TORVYN_ERR_NONE, 1);
	tvn_pipeline__free(&cfg);
}

static void test_streams_and_kinds(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_flow_cfg *f;

	(void)state;
	load_ok(DATA, "good-streams.json", &cfg);
	assert_int_equal(cfg.n_flows, 2);
	f = &cfg.flows[0];
	assert_string_equal(f->id, "tree");
	assert_int_equal(f->n_comps, 6);
	assert_comp(&f->comps[0], "gen", TORVYN_ROLE_SOURCE, TVN_KIND_GENERATOR);
	assert_true(f->comps[0].rate == 2.5);
	assert_int_equal(f->comps[0].size_min, 1);
	assert_int_equal(f->comps[0].size_max, 16777216);
	assert_int_equal(f->comps[0].seed, 0);
	assert_comp(&f->comps[1], "fan", TORVYN_ROLE_ROUTER, TVN_KIND_ROUTER);
	assert_comp(&f->comps[4], "keep", TORVYN_ROLE_FILTER, TVN_KIND_METADATA_FILTER);
	assert_int_equal(f->comps[4].keep_every, 3);
	assert_comp(&f->comps[5], "c", TORVYN_ROLE_SINK, TVN_KIND_FILE_SINK);
	assert_string_equal(f->comps[5].path, "/tmp/out.bin");
	assert_int_equal(f->n_streams, 5);
	/* per-stream settings override the flow's queue, which overrides the defaults */
	assert_stream(&f->streams[0], "gen->fan", 0, 1, 65536, 0.0, TORVYN_POLICY_ERROR);
	assert_stream(&f->streams[1], "to-a", 1, 2, 8, 0.25, TORVYN_POLICY_DROP_NEWEST);
	assert_stream(&f->streams[2], "fan->b.x", 1, 3, 8, 0.25, TORVYN_POLICY_DROP_OLDEST);
	assert_stream(&f->streams[3], "fan->keep", 1, 4, 1, 0.25, TORVYN_POLICY_DROP_NEWEST);
	assert_stream(&f->streams[4], "keep->c", 4, 5, 8, 0.25, TORVYN_POLICY_DROP_NEWEST);

	f = &cfg.flows[1];
	assert_string_equal(f->id, "kinds.2");
	assert_int_equal(f->n_comps, 5);
	assert_comp(&f->comps[0], "stdin", TORVYN_ROLE_SOURCE, TVN_KIND_LINES);
	assert_string_equal(f->comps[0].path, "-");
	assert_comp(&f->comps[1], "up", TORVYN_ROLE_PROCESSOR, TVN_KIND_PLUGIN);
	assert_string_equal(f->comps[1].path, "build/plugins/upper.so");
	assert_string_equal(f->comps[1].config, "factor=2");
	assert_comp(&f->comps[2], "grep", TORVYN_ROLE_FILTER, TVN_KIND_PAYLOAD_FILTER);
	assert_string_equal(f->comps[2].contains, "needle \"quoted\"");
	assert_comp(&f->comps[3], "copy", TORVYN_ROLE_PROCESSOR, TVN_KIND_TRANSFORM);
	assert_int_equal(f->comps[3].copy, 1);
	assert_comp(&f->comps[4], "plug-sink", TORVYN_ROLE_SINK, TVN_KIND_PLUGIN);
	assert_string_equal(f->comps[4].config, "");
	assert_int_equal(f->n_streams, 4);
	assert_stream(&f->streams[3], "copy->plug-sink", 3, 4, 64, 0.5,
		      TORVYN_POLICY_BLOCK_PRODUCER);
	tvn_pipeline__free(&cfg);
}

static void test_long_ids(void **state)
{
	struct tvn_pipeline_cfg cfg;
	char id[64];

	(void)state;
	load_ok(DATA, "good-long-ids.json", &cfg);
	assert_int_equal(cfg.n_flows, 101);
	assert_string_equal(cfg.flows[0].id, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJK");
	/* "<from>-><to>" is cut to 47 characters */
	assert_string_equal(cfg.flows[0].streams[0].id,
			    "source-with-a-rather-long-name-0123456789abcd->");
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH-%d", i);
		assert_string_equal(cfg.flows[1 + i].id, id);
	}
	tvn_pipeline__free(&cfg);
}

/* ---------------------------------------------------- reference pipelines */

static int find_kind(const struct tvn_pipeline_cfg *cfg, enum tvn_comp_kind kind)
{
	int n = 0;

	for (int i = 0; i < cfg->n_flows; i++)
		for (int j = 0; j < cfg->flows[i].n_comps; j++)
			n += cfg->flows[i].comps[j].kind == kind;
	return n;
}

static void test_ref_three_stage(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_flow_cfg *f;

	(void)state;
	load_ok(REF, "three-stage.json", &cfg);
	assert_int_equal(cfg.n_flows, 1);
	f = &cfg.flows[0];
	assert_string_equal(f->id, "three-stage");
	assert_int_equal(f->error_policy, TVN_ERROR_POLICY_SKIP);
	assert_int_equal(f->n_comps, 3);
	assert_comp(&f->comps[0], "source", TORVYN_ROLE_SOURCE, TVN_KIND_GENERATOR);
	assert_int_equal(f->comps[0].size_min, 128);
	assert_int_equal(f->comps[0].size_max, 128);
	assert_true(f->comps[0].rate == 0.0);
	assert_int_equal(f->comps[0].n_faults, 0);
	assert_comp(&f->comps[1], "processor", TORVYN_ROLE_PROCESSOR, TVN_KIND_TRANSFORM);
	assert_int_equal(f->comps[1].copy, 0);
	assert_int_equal(f->comps[1].n_faults, 0);
	assert_comp(&f->comps[2], "sink", TORVYN_ROLE_SINK, TVN_KIND_NULL_SINK);
	assert_int_equal(f->comps[2].n_faults, 0);
	assert_int_equal(f->n_streams, 2);
	assert_stream(&f->streams[0], "source->processor", 0, 1, 64, 0.5,
		      TORVYN_POLICY_BLOCK_PRODUCER);
	assert_stream(&f->streams[1], "processor->sink", 1, 2, 64, 0.5,
		      TORVYN_POLICY_BLOCK_PRODUCER);
	tvn_pipeline__free(&cfg);
}

static void test_ref_multi_flow(void **state)
{
	struct tvn_pipeline_cfg cfg;

	(void)state;
	load_ok(REF, "multi-flow.json", &cfg);
	assert_int_equal(cfg.n_flows, 3);
	assert_string_equal(cfg.flows[0].id, "ingest");
	assert_int_equal(cfg.flows[0].comps[1].copy, 1);
	assert_int_equal(cfg.flows[0].comps[2].kind, TVN_KIND_PAYLOAD_FILTER);
	assert_string_equal(cfg.flows[1].id, "fanout");
	assert_int_equal(cfg.flows[1].comps[1].kind, TVN_KIND_ROUTER);
	assert_int_equal(cfg.flows[1].n_streams, 3);
	assert_string_equal(cfg.flows[2].id, "sampled");
	assert_int_equal(cfg.flows[2].error_policy, TVN_ERROR_POLICY_FAIL);
	assert_int_equal(cfg.flows[2].comps[1].keep_every, 10);
	tvn_pipeline__free(&cfg);
}

static void test_ref_backpressure(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_flow_cfg *f;

	(void)state;
	load_ok(REF, "backpressure.json", &cfg);
	assert_int_equal(cfg.n_flows, 1);
	f = &cfg.flows[0];
	assert_int_equal(f->n_comps, 3);
	assert_comp(&f->comps[2], "sink", TORVYN_ROLE_SINK, TVN_KIND_NULL_SINK);
	assert_int_equal(f->comps[2].n_faults, 1);
	assert_fault(&f->comps[2].faults[0], 100, TVN_FAULT_STALL, TORVYN_ERR_NONE, 200000000);
	assert_int_equal(f->n_streams, 2);
	assert_int_equal(f->streams[0].capacity, 16);
	assert_int_equal(f->streams[1].capacity, 16);
	tvn_pipeline__free(&cfg);
}

static void test_ref_all_components(void **state)
{
	static const enum tvn_comp_kind used[] = {
	    TVN_KIND_GENERATOR,	     TVN_KIND_TRANSFORM,      TVN_KIND_METADATA_FILTER,
	    TVN_KIND_PAYLOAD_FILTER, TVN_KIND_ROUTER,	      TVN_KIND_NULL_SINK,
	    TVN_KIND_FILE_SINK,	     TVN_KIND_JSON_GENERATOR, TVN_KIND_JSON_FILTER,
	    TVN_KIND_JSON_ENRICH,    TVN_KIND_DEFLATE,
	};
	struct tvn_pipeline_cfg cfg;

	(void)state;
	load_ok(REF, "all-components.json", &cfg);
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		assert_true(find_kind(&cfg, used[i]) >= 1);
	assert_string_equal(cfg.flows[0].comps[7].path, "/dev/null");
	tvn_pipeline__free(&cfg);
}

/* json-generator, json-filter (each form), json-enrich and deflate, with their defaults */
static void test_work_kinds(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_comp_cfg *c;

	(void)state;
	load_ok(DATA, "good-work-kinds.json", &cfg);
	c = cfg.flows[0].comps;
	assert_comp(&c[0], "gen", TORVYN_ROLE_SOURCE, TVN_KIND_JSON_GENERATOR);
	assert_int_equal(c[0].note_bytes, 160);
	assert_int_equal(c[0].seed, 1);
	assert_true(c[0].rate == 0);
	assert_comp(&c[1], "eu", TORVYN_ROLE_FILTER, TVN_KIND_JSON_FILTER);
	assert_string_equal(c[1].field, "region");
	assert_int_equal(c[1].match, TVN_MATCH_STRING);
	assert_string_equal(c[1].equals, "eu");
	assert_int_equal(c[2].match, TVN_MATCH_NUMBER);
	assert_true(c[2].num == 7);
	assert_int_equal(c[3].match, TVN_MATCH_RANGE);
	assert_true(c[3].min == -INFINITY && c[3].max == 500.5);
	assert_comp(&c[4], "enrich", TORVYN_ROLE_PROCESSOR, TVN_KIND_JSON_ENRICH);
	assert_string_equal(c[4].field, "region");
	assert_string_equal(c[4].table, "{\"eu\":{\"tz\":\"CET\",\"vat\":20}}");
	assert_comp(&c[5], "zip", TORVYN_ROLE_PROCESSOR, TVN_KIND_DEFLATE);
	assert_int_equal(c[5].level, 6);
	tvn_pipeline__free(&cfg);
}

static void test_ref_enrich(void **state)
{
	struct tvn_pipeline_cfg cfg;
	const struct tvn_comp_cfg *c;

	(void)state;
	load_ok(REF, "enrich.json", &cfg);
	assert_int_equal(cfg.n_flows, 1);
	assert_int_equal(cfg.flows[0].n_comps, 5);
	c = cfg.flows[0].comps;
	assert_comp(&c[0], "orders", TORVYN_ROLE_SOURCE, TVN_KIND_JSON_GENERATOR);
	assert_int_equal(c[0].note_bytes, 80);
	assert_comp(&c[1], "large", TORVYN_ROLE_FILTER, TVN_KIND_JSON_FILTER);
	assert_int_equal(c[1].match, TVN_MATCH_RANGE);
	assert_true(c[1].min == 80000 && c[1].max == INFINITY);
	assert_comp(&c[2], "enrich", TORVYN_ROLE_PROCESSOR, TVN_KIND_JSON_ENRICH);
	assert_non_null(strstr(c[2].table, "\"eu\":{\"tz\":\"CET\",\"dc\":\"fra1\""));
	assert_comp(&c[3], "compress", TORVYN_ROLE_PROCESSOR, TVN_KIND_DEFLATE);
	assert_int_equal(c[3].level, 6);
	assert_comp(&c[4], "sink", TORVYN_ROLE_SINK, TVN_KIND_NULL_SINK);
	tvn_pipeline__free(&cfg);
}

/* ------------------------------------------------------------- bad files */

struct bad {
	const char *file;
	int line;
	const char *field; /* or "LINE:COLUMN" for a JSON syntax error */
	const char *msg;   /* the start of what follows "FILE:LINE: FIELD: " */
};

static const struct bad bad_files[] = {
    {"bad-unknown-key.json", 7, "flows[0].components[0].sede",
     "unknown key \"sede\" (expected one of: id, role, kind, faults, rate, payload, seed)"},
    {"bad-key-for-kind.json", 7, "flows[0].components[1].mode",
     "unknown key \"mode\" for kind \"null\" (expected one of: id, role, kind, faults)"},
    {"bad-unknown-flow-key.json", 5, "flows[0].error-policy",
     "unknown key \"error-policy\" (expected one of: id, error_policy, replicas, queue, "
     "components, streams)"},
    /* the first unknown key in the file's order, not in jansson's hash order */
    {"bad-key-order.json", 5, "flows[0].zzz", "unknown key \"zzz\""},
    {"bad-key-weird.json", 9, "flows[0][\"my key\"]", "unknown key \"my key\""},
    {"bad-no-flows.json", 2, "flow", "unknown key \"flow\" (expected one of: flows)"},
    {"bad-unknown-kind.json", 8, "flows[0].components[1].kind",
     "unknown kind \"tranform\" (expected one of: generator, lines, transform, "
     "metadata-filter, payload-filter, router, null, file, plugin, json-generator, "
     "json-enrich, json-filter, deflate)"},
    {"bad-role-kind.json", 10, "flows[0].components[2].kind",
     "kind \"generator\" cannot be a sink (for role \"sink\" expected one of: null, file, "
     "plugin)"},
    {"bad-plugin-role.json", 7, "flows[0].components[1].role",
     "missing required field: a plugin can play any role (expected one of: source, "
     "processor, filter, router, sink)"},
    {"bad-missing-id.json", 7, "flows[0].components[1].id",
     "missing required field (expected a name of 1 to 47 characters from [A-Za-z0-9_.-])"},
    {"bad-missing-flow-id.json", 3, "flows[0].id", "missing required field"},
    {"bad-missing-path.json", 7, "flows[0].components[1].path",
     "missing required field (expected a file path of 1 to 255 bytes)"},
    {"bad-dup-comp.json", 9, "flows[0].components[2].id",
     "duplicate component id \"xform\" (already used by components[1])"},
    {"bad-dup-flow.json", 11, "flows[1].id",
     "duplicate flow id \"main\" (already used by flows[0])"},
    {"bad-dup-replica.json", 12, "flows[1].id",
     "flow id \"w-1\" after replica expansion is already used by flows[0]"},
    {"bad-charset.json", 7, "flows[0].components[1].id",
     "\"my xform\" is not a valid id (expected a name of 1 to 47 characters from "
     "[A-Za-z0-9_.-])"},
    {"bad-id-too-long.json", 4, "flows[0].id",
     "\"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL\" is not a valid id"},
    {"bad-replica-id-too-long.json", 4, "flows[0].id",
     "\"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHI\" is too long for 100 replicas: "
     "\"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHI-99\" has 48 characters (expected "
     "at most 47)"},
    {"bad-two-inputs.json", 13, "flows[0].streams[1].to",
     "\"out\" already has an input, streams[0] (expected exactly one input per component)"},
    {"bad-two-outputs.json", 12, "flows[0].streams[1].from",
     "\"gen\" already has an output, streams[0]"},
    {"bad-cycle.json", 15, "flows[0].streams[2]", "streams form a cycle: a -> b -> c -> a"},
    {"bad-source-input.json", 14, "flows[0].streams[2].to",
     "\"gen\" is a source and takes no input"},
    {"bad-sink-output.json", 13, "flows[0].streams[1].from", "\"out\" is a sink and has no output"},
    {"bad-no-output.json", 9, "flows[0].components[3]",
     "processor \"side\" has no output stream (expected exactly one)"},
    {"bad-router-no-output.json", 9, "flows[0].components[3]",
     "router \"fan\" has no output stream (expected at least one)"},
    {"bad-self-loop.json", 13, "flows[0].streams[2].to", "stream from \"fan\" to itself"},
    {"bad-dup-stream.json", 13, "flows[0].streams[2]",
     "duplicate stream from \"fan\" to \"out\" (already streams[1])"},
    {"bad-dup-stream-id.json", 13, "flows[0].streams[1].id",
     "duplicate stream id \"s\" (already used by streams[0]"},
    {"bad-unknown-from.json", 10, "flows[0].streams[0].from",
     "no component \"generator\" in this flow (expected one of: gen, out)"},
    {"bad-no-sink.json", 5, "flows[0].components",
     "no sink (expected at least one source and one sink)"},
    {"bad-chain-router.json", 7, "flows[0].components[1].role",
     "a router in the middle of a chain"},
    {"bad-chain-order.json", 6, "flows[0].components[0].role",
     "the first component is a sink (expected a source"},
    {"bad-capacity-zero.json", 11, "flows[0].streams[0].capacity",
     "0 is out of range (expected an integer from 1 to 65536)"},
    {"bad-queue-capacity.json", 7, "flows[0].queue.capacity",
     "65537 is out of range (expected an integer from 1 to 65536)"},
    {"bad-capacity-type.json", 5, "flows[0].queue.capacity",
     "expected an integer from 1 to 65536 (got a string)"},
    {"bad-watermark.json", 11, "flows[0].streams[0].low_watermark",
     "1 is out of range (expected a number >= 0 and < 1"},
    {"bad-policy.json", 5, "flows[0].queue.policy",
     "unknown policy \"block\" (expected one of: block-producer, drop-oldest, drop-newest, "
     "error)"},
    {"bad-payload-range.json", 8, "flows[0].components[0].payload.min",
     "300 is greater than max 200"},
    {"bad-payload-big.json", 7, "flows[0].components[0].payload.size",
     "16777217 is out of range (expected an integer from 1 to 16777216)"},
    {"bad-payload-both.json", 7, "flows[0].components[0].payload.size",
     "give either \"size\" or \"min\" and \"max\", not both"},
    {"bad-payload-half.json", 7, "flows[0].components[0].payload.max", "missing required field"},
    {"bad-rate.json", 6, "flows[0].components[0].rate", "-1 is out of range"},
    {"bad-keep-every.json", 7, "flows[0].components[1].keep_every", "0 is out of range"},
    {"bad-contains-long.json", 8, "flows[0].components[1].contains",
     "64 bytes long (expected a string of 1 to 63 bytes)"},
    {"bad-json-generator-key.json", 7, "flows[0].components[0].payload",
     "unknown key \"payload\" for kind \"json-generator\" (expected one of: id, role, kind, "
     "faults, rate, seed, note_bytes)"},
    {"bad-note-bytes.json", 6, "flows[0].components[0].note_bytes",
     "1048577 is out of range (expected an integer from 0 to 1048576: the bytes of each "
     "record's note)"},
    {"bad-enrich-no-lookup.json", 7, "flows[0].components[1].lookup",
     "missing required field (expected an object {\"field\": NAME, \"table\": {VALUE: "
     "{FIELD: VALUE, ...}, ...}})"},
    {"bad-enrich-lookup-key.json", 7, "flows[0].components[1].lookup.fields",
     "unknown key \"fields\" (expected one of: field, table)"},
    {"bad-enrich-no-field.json", 7, "flows[0].components[1].lookup.field",
     "missing required field (expected a field name of 1 to 63 bytes)"},
    {"bad-enrich-table-empty.json", 7, "flows[0].components[1].lookup.table",
     "is empty (expected an object {VALUE: {FIELD: VALUE, ...}, ...}: the fields to add, by "
     "the value of the field)"},
    {"bad-enrich-table-type.json", 7, "flows[0].components[1].lookup.table",
     "expected an object {VALUE: {FIELD: VALUE, ...}, ...}"},
    {"bad-enrich-table-entry.json", 9, "flows[0].components[1].lookup.table.us",
     "expected an object of the fields to add (got a string)"},
    {"bad-enrich-table-big.json", 8, "flows[0].components[1].lookup.table",
     "is 2821 bytes written compactly (expected at most 2047)"},
    {"bad-filter-no-match.json", 7, "flows[0].components[1].equals",
     "missing required field (expected \"equals\": a string or a number, or \"min\" and/or "
     "\"max\": numbers)"},
    {"bad-filter-no-field.json", 7, "flows[0].components[1].field",
     "missing required field (expected a field name of 1 to 63 bytes)"},
    {"bad-filter-both.json", 7, "flows[0].components[1].max",
     "give either \"equals\" or \"min\" and/or \"max\", not both"},
    {"bad-filter-range.json", 7, "flows[0].components[1].min",
     "5 is greater than max 1 (expected min <= max)"},
    {"bad-filter-equals-type.json", 7, "flows[0].components[1].equals",
     "expected a string of at most 63 bytes or a number (got a boolean)"},
    {"bad-deflate-level.json", 7, "flows[0].components[1].level",
     "10 is out of range (expected an integer from 0 (store only) to 9 (smallest output))"},
    {"bad-deflate-role.json", 7, "flows[0].components[1].kind",
     "kind \"deflate\" cannot be a filter (for role \"filter\" expected one of: "
     "metadata-filter, payload-filter, plugin, json-filter)"},
    {"bad-fault-type.json", 9, "flows[0].components[1].faults[1].type",
     "unknown fault type \"crash\" (expected one of: error, delay, stall)"},
    {"bad-fault-key.json", 9, "flows[0].components[1].faults[0].error",
     "unknown key \"error\" for fault type \"delay\" (expected one of: at, type, ms)"},
    {"bad-too-many-faults.json", 16, "flows[0].components[1].faults[8]",
     "too many faults: 9 (expected at most 8 per component)"},
    {"bad-stall-source.json", 7, "flows[0].components[0].faults[0].type",
     "\"stall\" is not allowed on a source"},
    {"bad-fault-ms.json", 8, "flows[0].components[1].faults[0].ms",
     "0 is out of range (expected a number of milliseconds > 0 and <= 3600000)"},
    {"bad-fault-no-ms.json", 9, "flows[0].components[1].faults[0].ms", "missing required field"},
    {"bad-fault-error-kind.json", 8, "flows[0].components[1].faults[0].error",
     "unknown error \"timeout\" (expected one of: invalid-input, unavailable, internal, "
     "deadline-exceeded, fatal)"},
    {"bad-fault-at.json", 8, "flows[0].components[1].faults[0].at", "-1 is out of range"},
    {"bad-replicas.json", 5, "flows[0].replicas",
     "0 is out of range (expected an integer from 1 to 256)"},
    {"bad-too-many-flows.json", 13, "flows[1].replicas",
     "257 flows after replica expansion (expected at most 256 in a file)"},
    {"bad-one-component.json", 5, "flows[0].components", "has 1 (expected 2 to 16 components"},
    {"bad-comp-type.json", 7, "flows[0].components[1]", "expected an object"},
    {"bad-top-array.json", 2, "(top level)",
     "expected an object {\"flows\": [...]} (got an array)"},
    {"bad-top-number.json", 1, "(top level)", "expected an object"},
    {"bad-empty-flows.json", 2, "flows", "has 0 (expected 1 to 256 flows)"},
    {"bad-missing-flows.json", 1, "flows", "missing required field"},
    {"bad-flows-type.json", 2, "flows", "expected an array of 1 to 256 flows (got an object)"},
    /* the tokenizer must see through escapes in keys and strings */
    {"bad-escapes.json", 13, "flows[0].streams[0].id", "\"a\\\"b\" is not a valid id"},
    {"bad-unicode-key.json", 8, "flows[0].components[1][\"\xf0\x9f\x98\x80x\"]",
     "unknown key \"\xf0\x9f\x98\x80x\" (expected one of: id, role, kind, faults)"},
    {"bad-escaped-key.json", 8, "flows[0].components[1].kind", "unknown kind \"nul\""},
    /* syntax errors: jansson's line:column */
    {"bad-syntax.json", 5, "5:18", "invalid JSON: '}' expected near '\"components\"'"},
    {"bad-dup-key.json", 5, "5:10", "invalid JSON: duplicate object key near '\"id\"'"},
    {"bad-empty-file.json", 1, "1:0", "invalid JSON: "},
    /* jansson quotes the bad token, a newline in it too: the message stays one line */
    {"bad-json-control.json", 1, "2:0", "invalid JSON: invalid escape near '\"\\ud?'"},
};

/* One test per bad fixture: -EINVAL, cfg left empty, one line starting with b's prefix. */
static void test_bad(void **state)
{
	const struct bad *b = *state;
	char path[1024], want[2048], got[2048];
	struct tvn_pipeline_cfg cfg;
	int err;

	fixture(path, sizeof(path), DATA, b->file);
	if (b->field[0] >= '0' && b->field[0] <= '9')
		snprintf(want, sizeof(want), "%s:%s: %s", path, b->field, b->msg);
	else
		snprintf(want, sizeof(want), "%s:%d: %s: %s", path, b->line, b->field, b->msg);
	cfg.flows = (void *)&cfg;
	cfg.n_flows = -1;
	errbuf[0] = '\0';
	err = tvn_pipeline__load(path, &cfg, errbuf, sizeof(errbuf));
	snprintf(got, sizeof(got), "%.*s", (int)strlen(want), errbuf);
	assert_string_equal(got, want);
	assert_int_equal(err, -EINVAL);
	assert_null(strchr(errbuf, '\n'));
	assert_null(cfg.flows);
	assert_int_equal(cfg.n_flows, 0);
}

static void test_unreadable(void **state)
{
	struct tvn_pipeline_cfg cfg;
	char path[1024], want[1200];

	(void)state;
	fixture(path, sizeof(path), DATA, "does-not-exist.json");
	assert_int_equal(tvn_pipeline__load(path, &cfg, errbuf, sizeof(errbuf)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	assert_string_equal(errbuf, want);
	assert_null(cfg.flows);
	assert_int_equal(cfg.n_flows, 0);

	fixture(path, sizeof(path), DATA, "");
	assert_int_equal(tvn_pipeline__load(path, &cfg, errbuf, sizeof(errbuf)), -EISDIR);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", path);
	assert_string_equal(errbuf, want);
}

/* A NULL or short error buffer is not written past; a short one is cut. */
static void test_err_buffer(void **state)
{
	struct tvn_pipeline_cfg cfg;
	char path[1024], small[8];

	(void)state;
	fixture(path, sizeof(path), DATA, "bad-unknown-kind.json");
	assert_int_equal(tvn_pipeline__load(path, &cfg, NULL, 0), -EINVAL);
	memset(small, 'x', sizeof(small));
	assert_int_equal(tvn_pipeline__load(path, &cfg, small, 4), -EINVAL);
	assert_int_equal(strlen(small), 3);
	assert_int_equal(small[4], 'x');
	fixture(path, sizeof(path), DATA, "good-defaults.json");
	assert_int_equal(tvn_pipeline__load(path, &cfg, NULL, 0), 0);
	tvn_pipeline__free(&cfg);
	tvn_pipeline__free(&cfg);
	tvn_pipeline__free(NULL);
}

#define N_BAD (sizeof(bad_files) / sizeof(bad_files[0]))

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_replicas),
	    cmocka_unit_test(test_faults),
	    cmocka_unit_test(test_streams_and_kinds),
	    cmocka_unit_test(test_long_ids),
	    cmocka_unit_test(test_ref_three_stage),
	    cmocka_unit_test(test_ref_multi_flow),
	    cmocka_unit_test(test_ref_backpressure),
	    cmocka_unit_test(test_ref_all_components),
	    cmocka_unit_test(test_work_kinds),
	    cmocka_unit_test(test_ref_enrich),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_err_buffer),
	};
	size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + N_BAD];

	init_srcdir();
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < N_BAD; i++)
		tests[n_fixed + i] = (struct CMUnitTest){
		    .name = bad_files[i].file,
		    .test_func = test_bad,
		    .initial_state = (void *)&bad_files[i],
		};
	return _cmocka_run_group_tests("test_pipeline", tests, n_fixed + N_BAD, NULL, NULL);
}
