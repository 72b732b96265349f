// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The components of a flow (docs/pipeline-format.md): id, kind and role, the
 * fields of each kind, and faults to inject.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pipeline_internal.h"

#define MAX_PAYLOAD (16 << 20) /* the pool's largest buffer, TVN_MAX_BUFFER */
#define MAX_FAULT_MS 3600000.0 /* one hour; also keeps ns far from overflow */
#define DEF_PAYLOAD 128

#define ROLE_BIT(r) (1u << (r))
#define ANY_ROLE                                                                                   \
	(ROLE_BIT(TORVYN_ROLE_SOURCE) | ROLE_BIT(TORVYN_ROLE_PROCESSOR) |                          \
	 ROLE_BIT(TORVYN_ROLE_FILTER) | ROLE_BIT(TORVYN_ROLE_ROUTER) | ROLE_BIT(TORVYN_ROLE_SINK))

/* ------------------------------------------------------------ vocabularies */

const struct tvn_sym tvn_role_syms[] = {
    {"source", TORVYN_ROLE_SOURCE}, {"processor", TORVYN_ROLE_PROCESSOR},
    {"filter", TORVYN_ROLE_FILTER}, {"router", TORVYN_ROLE_ROUTER},
    {"sink", TORVYN_ROLE_SINK},	    {NULL, 0},
};

static const struct tvn_sym fault_syms[] = {
    {"error", TVN_FAULT_ERROR},
    {"delay", TVN_FAULT_DELAY},
    {"stall", TVN_FAULT_STALL},
    {NULL, 0},
};

static const struct tvn_sym error_kind_syms[] = {
    {"invalid-input", TORVYN_ERR_INVALID_INPUT},
    {"unavailable", TORVYN_ERR_UNAVAILABLE},
    {"internal", TORVYN_ERR_INTERNAL},
    {"deadline-exceeded", TORVYN_ERR_DEADLINE_EXCEEDED},
    {"fatal", TORVYN_ERR_FATAL},
    {NULL, 0},
};

static const struct tvn_sym mode_syms[] = {
    {"in-place", 0},
    {"copy", 1},
    {NULL, 0},
};

static const struct tvn_sym kind_syms[] = {
    {"generator", TVN_KIND_GENERATOR},
    {"lines", TVN_KIND_LINES},
    {"transform", TVN_KIND_TRANSFORM},
    {"metadata-filter", TVN_KIND_METADATA_FILTER},
    {"payload-filter", TVN_KIND_PAYLOAD_FILTER},
    {"router", TVN_KIND_ROUTER},
    {"null", TVN_KIND_NULL_SINK},
    {"file", TVN_KIND_FILE_SINK},
    {"plugin", TVN_KIND_PLUGIN},
    {"json-generator", TVN_KIND_JSON_GENERATOR},
    {"json-enrich", TVN_KIND_JSON_ENRICH},
    {"json-filter", TVN_KIND_JSON_FILTER},
    {"deflate", TVN_KIND_DEFLATE},
    {NULL, 0},
};

static const char *const payload_keys[] = {"size", "min", "max", NULL};
static const char *const fault_error_keys[] = {"at", "type", "error", NULL};
static const char *const fault_wait_keys[] = {"at", "type", "ms", NULL};
static const char *const fault_any_keys[] = {"at", "type", "error", "ms", NULL};
static const char *const comp_any_keys[] = {
    "id",    "role",   "kind",	     "faults",	 "rate",   "payload",	 "seed",
    "path",  "mode",   "keep_every", "contains", "config", "note_bytes", "lookup",
    "field", "equals", "min",	     "max",	 "level",  NULL};

#define COMMON_KEYS 4 /* id, role, kind, faults: the first entries of comp_any_keys */

static const char *const generator_keys[] = {"rate", "payload", "seed", NULL};
static const char *const path_keys[] = {"path", NULL};
static const char *const transform_keys[] = {"mode", NULL};
static const char *const keep_every_keys[] = {"keep_every", NULL};
static const char *const contains_keys[] = {"contains", NULL};
static const char *const plugin_keys[] = {"path", "config", NULL};
static const char *const no_keys[] = {NULL};
static const char *const json_generator_keys[] = {"rate", "seed", "note_bytes", NULL};
static const char *const json_enrich_keys[] = {"lookup", NULL};
static const char *const json_filter_keys[] = {"field", "equals", "min", "max", NULL};
static const char *const deflate_keys[] = {"level", NULL};

struct kind_info {
	unsigned int roles;	 /* ROLE_BIT() of each role the kind can play */
	const char *const *keys; /* keys besides id, role, kind, faults */
};

static const struct kind_info kinds[] = {
    [TVN_KIND_GENERATOR] = {ROLE_BIT(TORVYN_ROLE_SOURCE), generator_keys},
    [TVN_KIND_LINES] = {ROLE_BIT(TORVYN_ROLE_SOURCE), path_keys},
    [TVN_KIND_TRANSFORM] = {ROLE_BIT(TORVYN_ROLE_PROCESSOR), transform_keys},
    [TVN_KIND_METADATA_FILTER] = {ROLE_BIT(TORVYN_ROLE_FILTER), keep_every_keys},
    [TVN_KIND_PAYLOAD_FILTER] = {ROLE_BIT(TORVYN_ROLE_FILTER), contains_keys},
    [TVN_KIND_ROUTER] = {ROLE_BIT(TORVYN_ROLE_ROUTER), no_keys},
    [TVN_KIND_NULL_SINK] = {ROLE_BIT(TORVYN_ROLE_SINK), no_keys},
    [TVN_KIND_FILE_SINK] = {ROLE_BIT(TORVYN_ROLE_SINK), path_keys},
    [TVN_KIND_PLUGIN] = {ANY_ROLE, plugin_keys},
    [TVN_KIND_JSON_GENERATOR] = {ROLE_BIT(TORVYN_ROLE_SOURCE), json_generator_keys},
    [TVN_KIND_JSON_ENRICH] = {ROLE_BIT(TORVYN_ROLE_PROCESSOR), json_enrich_keys},
    [TVN_KIND_JSON_FILTER] = {ROLE_BIT(TORVYN_ROLE_FILTER), json_filter_keys},
    [TVN_KIND_DEFLATE] = {ROLE_BIT(TORVYN_ROLE_PROCESSOR), deflate_keys},
};

/* ------------------------------------------------------------- components */

static bool rate_ok(double v)
{
	return v >= 0;
}

static bool ms_ok(double v)
{
	return v > 0 && v <= MAX_FAULT_MS;
}

static int payload_sizes(struct tvn_doc *doc, json_t *jp, struct tvn_comp_cfg *c)
{
	static const char expect[] = "an integer from 1 to 16777216";
	bool range = json_object_get(jp, "min") || json_object_get(jp, "max");
	long long min, max;
	int err;

	if (range && json_object_get(jp, "size"))
		return tvn_doc__fail_key(doc, "size",
					 "give either \"size\" or \"min\" and \"max\", not both");
	if (!range) {
		err = tvn_doc__get_int(doc, jp, "size", true, 1, MAX_PAYLOAD, expect, &min);
		max = min;
	} else {
		err = tvn_doc__get_int(doc, jp, "min", true, 1, MAX_PAYLOAD, expect, &min);
		if (!err)
			err = tvn_doc__get_int(doc, jp, "max", true, 1, MAX_PAYLOAD, expect, &max);
	}
	if (err)
		return err;
	if (min > max)
		return tvn_doc__fail_key(
		    doc, "min", "%lld is greater than max %lld (expected min <= max)", min, max);
	c->size_min = min;
	c->size_max = max;
	return 0;
}

/* A source's pace and seed: the generator's and the json-generator's. */
static int parse_rate_seed(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	long long seed = 1;
	int err;

	c->rate = 0;
	err = tvn_doc__get_num(doc, jc, "rate", false, rate_ok,
			       "a number >= 0: elements per second, 0 for as fast as possible",
			       &c->rate);
	if (err < 0)
		return err;
	err = tvn_doc__get_int(doc, jc, "seed", false, 0, LLONG_MAX, "an integer >= 0", &seed);
	if (err < 0)
		return err;
	c->seed = seed;
	return 0;
}

static int parse_generator(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	json_t *jp = json_object_get(jc, "payload");
	int err;

	c->size_min = c->size_max = DEF_PAYLOAD;
	err = parse_rate_seed(doc, jc, c);
	if (err || !jp)
		return err;
	tvn_doc__push_key(doc, "payload");
	err = tvn_doc__need_keys(doc, jp, "an object {\"size\": S} or {\"min\": A, \"max\": B}",
				 payload_keys);
	if (!err)
		err = payload_sizes(doc, jp, c);
	tvn_doc__pop(doc);
	return err;
}

static int parse_kind_fields(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	long long every;
	int err = 0;

	switch (c->kind) {
	case TVN_KIND_GENERATOR:
		return parse_generator(doc, jc, c);
	case TVN_KIND_JSON_GENERATOR:
		err = parse_rate_seed(doc, jc, c);
		return err ? err : tvn_comp_cfg__parse_work(doc, jc, c);
	case TVN_KIND_JSON_ENRICH:
	case TVN_KIND_JSON_FILTER:
	case TVN_KIND_DEFLATE:
		return tvn_comp_cfg__parse_work(doc, jc, c);
	case TVN_KIND_LINES:
		return tvn_doc__get_text(doc, jc, "path", true, 1,
					 "a file path of 1 to 255 bytes, or \"-\" for stdin",
					 c->path, sizeof(c->path));
	case TVN_KIND_TRANSFORM:
		err = tvn_doc__get_sym(doc, jc, "mode", false, "mode", mode_syms, &c->copy);
		break;
	case TVN_KIND_METADATA_FILTER:
		err = tvn_doc__get_int(
		    doc, jc, "keep_every", true, 1, UINT32_MAX,
		    "an integer from 1 to 4294967295: keep elements whose seq % N == 0", &every);
		c->keep_every = err ? 0 : every;
		break;
	case TVN_KIND_PAYLOAD_FILTER:
		return tvn_doc__get_text(doc, jc, "contains", true, 1, "a string of 1 to 63 bytes",
					 c->contains, sizeof(c->contains));
	case TVN_KIND_FILE_SINK:
		return tvn_doc__get_text(doc, jc, "path", true, 1, "a file path of 1 to 255 bytes",
					 c->path, sizeof(c->path));
	case TVN_KIND_PLUGIN:
		err =
		    tvn_doc__get_text(doc, jc, "path", true, 1, "the path of a .so, 1 to 255 bytes",
				      c->path, sizeof(c->path));
		if (!err)
			err = tvn_doc__get_text(doc, jc, "config", false, 0,
						"a string of at most 255 bytes", c->config,
						sizeof(c->config));
		break;
	default:
		break;
	}
	return err < 0 ? err : 0;
}

static int fault_keys(struct tvn_doc *doc, json_t *jf)
{
	json_t *jt = json_object_get(jf, "type");
	const char *t = json_is_string(jt) ? json_string_value(jt) : "";
	char for_what[64];

	if (!strcmp(t, "error")) {
		snprintf(for_what, sizeof(for_what), " for fault type \"%s\"", t);
		return tvn_doc__check_keys(doc, jf, fault_error_keys, fault_any_keys, for_what);
	}
	if (!strcmp(t, "delay") || !strcmp(t, "stall")) {
		snprintf(for_what, sizeof(for_what), " for fault type \"%s\"", t);
		return tvn_doc__check_keys(doc, jf, fault_wait_keys, fault_any_keys, for_what);
	}
	return tvn_doc__check_keys(doc, jf, fault_any_keys, NULL, NULL);
}

static int parse_fault(struct tvn_doc *doc, json_t *jf, uint32_t role, struct tvn_fault *f)
{
	long long at;
	double ms;
	int type, kind = TORVYN_ERR_INTERNAL, err;

	err = tvn_doc__need_object(
	    doc, jf, "an object {\"at\": N, \"type\": \"error\" | \"delay\" | \"stall\"}");
	if (!err)
		err = fault_keys(doc, jf);
	if (!err)
		err =
		    tvn_doc__get_int(doc, jf, "at", true, 0, LLONG_MAX,
				     "an integer >= 0: the element's sequence number, from 0", &at);
	if (!err)
		err = tvn_doc__get_sym(doc, jf, "type", true, "fault type", fault_syms, &type);
	if (err)
		return err;
	if (type == TVN_FAULT_STALL && role == TORVYN_ROLE_SOURCE)
		return tvn_doc__fail_key(
		    doc, "type",
		    "\"stall\" is not allowed on a source, which takes no input "
		    "(expected \"error\" or \"delay\")");
	*f = (struct tvn_fault){.at = at, .type = type};
	if (type == TVN_FAULT_ERROR) {
		err = tvn_doc__get_sym(doc, jf, "error", false, "error", error_kind_syms, &kind);
		f->error_kind = kind;
		return err < 0 ? err : 0;
	}
	err = tvn_doc__get_num(doc, jf, "ms", true, ms_ok,
			       "a number of milliseconds > 0 and <= 3600000", &ms);
	if (err)
		return err;
	f->ns = ms * 1e6 + 0.5;
	if (!f->ns)
		return tvn_doc__fail_key(doc, "ms",
					 "%g rounds to 0 ns (expected at least 0.000001)", ms);
	return 0;
}

static int parse_faults(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	json_t *ja = json_object_get(jc, "faults");
	size_t n;
	int err = 0;

	if (!ja)
		return 0;
	tvn_doc__push_key(doc, "faults");
	n = json_array_size(ja);
	if (!json_is_array(ja)) {
		err = tvn_doc__fail(doc, "expected an array of at most %d faults (got %s)",
				    TVN_MAX_FAULTS, tvn_json__type_name(ja));
	} else if (n > TVN_MAX_FAULTS) {
		tvn_doc__push_idx(doc, TVN_MAX_FAULTS);
		err = tvn_doc__fail(doc, "too many faults: %zu (expected at most %d per component)",
				    n, TVN_MAX_FAULTS);
		tvn_doc__pop(doc);
	}
	for (size_t i = 0; !err && i < n; i++) {
		tvn_doc__push_idx(doc, i);
		err = parse_fault(doc, json_array_get(ja, i), c->role, &c->faults[i]);
		tvn_doc__pop(doc);
	}
	c->n_faults = err ? 0 : n;
	tvn_doc__pop(doc);
	return err;
}

static void kinds_for_role(uint32_t role, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const struct tvn_sym *t = kind_syms; t->name && off < n; t++)
		if (kinds[t->val].roles & ROLE_BIT(role))
			off += snprintf(buf + off, n - off, "%s%s", off ? ", " : "", t->name);
}

/* The role given, or the only one the kind can play; a plugin must say. */
static int parse_role(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	const struct kind_info *k = &kinds[c->kind];
	const char *role_name, *kind_name = tvn_sym__name(kind_syms, c->kind);
	char list[256];
	int role, err;

	if (c->kind == TVN_KIND_PLUGIN && !json_object_get(jc, "role"))
		return tvn_doc__fail_key(
		    doc, "role",
		    "missing required field: a plugin can play any role "
		    "(expected one of: source, processor, filter, router, sink)");
	err = tvn_doc__get_sym(doc, jc, "role", false, "role", tvn_role_syms, &role);
	if (err < 0)
		return err;
	if (err == 1)
		role = __builtin_ctz(k->roles);
	if (!(k->roles & ROLE_BIT(role))) {
		role_name = tvn_sym__name(tvn_role_syms, role);
		kinds_for_role(role, list, sizeof(list));
		return tvn_doc__fail_key(doc, "kind",
					 "kind \"%s\" cannot be a %s (for role \"%s\" expected "
					 "one of: %s)",
					 kind_name, role_name, role_name, list);
	}
	c->role = role;
	return 0;
}

/* Unknown keys, named with what this component's kind accepts when it has one. */
static int comp_keys(struct tvn_doc *doc, json_t *jc)
{
	const char *allowed[COMMON_KEYS + 5], *const *k;
	json_t *jk = json_object_get(jc, "kind");
	const struct tvn_sym *t;
	char for_what[64];
	int n = 0;

	for (t = kind_syms; t->name && json_is_string(jk); t++)
		if (!strcmp(t->name, json_string_value(jk)))
			break;
	if (!json_is_string(jk) || !t->name)
		return tvn_doc__check_keys(doc, jc, comp_any_keys, NULL, NULL);
	for (; n < COMMON_KEYS; n++)
		allowed[n] = comp_any_keys[n];
	for (k = kinds[t->val].keys; *k; k++)
		allowed[n++] = *k;
	allowed[n] = NULL;
	snprintf(for_what, sizeof(for_what), " for kind \"%s\"", t->name);
	return tvn_doc__check_keys(doc, jc, allowed, comp_any_keys, for_what);
}

static int parse_comp(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	int kind, err;

	err =
	    tvn_doc__need_object(doc, jc, "an object {\"id\": ..., \"role\": ..., \"kind\": ...}");
	if (!err)
		err = comp_keys(doc, jc);
	if (!err)
		err = tvn_doc__get_id(doc, jc, "id", true, false, c->id);
	if (!err)
		err = tvn_doc__get_sym(doc, jc, "kind", true, "kind", kind_syms, &kind);
	if (err)
		return err;
	c->kind = kind;
	err = parse_role(doc, jc, c);
	if (!err)
		err = parse_kind_fields(doc, jc, c);
	if (!err)
		err = parse_faults(doc, jc, c);
	return err;
}

int tvn_flow_cfg__parse_components(struct tvn_doc *doc, json_t *jf, struct tvn_flow_cfg *f)
{
	static const char expect[] = "an array of 2 to 16 components";
	json_t *ja;
	size_t n;
	int err;

	err = tvn_doc__get(doc, jf, "components", true, expect, &ja);
	if (err)
		return err;
	tvn_doc__push_key(doc, "components");
	n = json_array_size(ja);
	if (!json_is_array(ja))
		err = tvn_doc__fail(doc, "expected %s (got %s)", expect, tvn_json__type_name(ja));
	else if (n < 2 || n > TORVYN_MAX_COMPONENTS)
		err = tvn_doc__fail(
		    doc, "has %zu (expected 2 to %d components: at least a source and a sink)", n,
		    TORVYN_MAX_COMPONENTS);
	for (size_t i = 0; !err && i < n; i++) {
		tvn_doc__push_idx(doc, i);
		err = parse_comp(doc, json_array_get(ja, i), &f->comps[i]);
		for (size_t j = 0; !err && j < i; j++)
			if (!strcmp(f->comps[i].id, f->comps[j].id))
				err =
				    tvn_doc__fail_key(doc, "id",
						      "duplicate component id \"%s\" (already used "
						      "by components[%zu])",
						      f->comps[i].id, j);
		tvn_doc__pop(doc);
	}
	f->n_comps = err ? 0 : n;
	tvn_doc__pop(doc);
	return err;
}
