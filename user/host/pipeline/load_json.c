// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The fields of the kinds that do real work per element
 * (docs/pipeline-format.md): json-generator, json-enrich, json-filter and
 * deflate. load_comp.c has already checked the keys and the role.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "pipeline_internal.h"

#define MAX_NOTE (1 << 20)
#define DEF_NOTE 160
#define DEF_LEVEL 6

static const char *const lookup_keys[] = {"field", "table", NULL};

static const char field_expect[] = "a field name of 1 to 63 bytes";
static const char lookup_expect[] =
    "an object {\"field\": NAME, \"table\": {VALUE: {FIELD: VALUE, ...}, ...}}";
static const char table_expect[] =
    "an object {VALUE: {FIELD: VALUE, ...}, ...}: the fields to add, by the value of the field";

static bool any_number(double v)
{
	return !isnan(v);
}

static int parse_json_generator(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	long long note = DEF_NOTE;
	int err;

	err = tvn_doc__get_int(doc, jc, "note_bytes", false, 0, MAX_NOTE,
			       "an integer from 0 to 1048576: the bytes of each record's note",
			       &note);
	c->note_bytes = note;
	return err < 0 ? err : 0;
}

/* Every entry of the table is an object of fields; the whole is kept as compact text. */
static int parse_table(struct tvn_doc *doc, json_t *jt, struct tvn_comp_cfg *c)
{
	const char *value;
	json_t *add;
	size_t n;
	int err = 0;

	if (!json_object_size(jt))
		return tvn_doc__fail(doc, "is empty (expected %s)", table_expect);
	json_object_foreach(jt, value, add)
	{
		if (json_is_object(add))
			continue;
		tvn_doc__push_key(doc, value);
		err = tvn_doc__fail(doc, "expected an object of the fields to add (got %s)",
				    tvn_json__type_name(add));
		tvn_doc__pop(doc);
		return err;
	}
	n = json_dumpb(jt, c->table, sizeof(c->table), JSON_COMPACT);
	if (!n || n >= sizeof(c->table))
		return tvn_doc__fail(doc, "is %zu bytes written compactly (expected at most %zu)",
				     n, sizeof(c->table) - 1);
	c->table[n] = '\0';
	return 0;
}

static int parse_json_enrich(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	json_t *jl, *jt;
	int err;

	err = tvn_doc__get(doc, jc, "lookup", true, lookup_expect, &jl);
	if (err)
		return err;
	tvn_doc__push_key(doc, "lookup");
	err = tvn_doc__need_keys(doc, jl, lookup_expect, lookup_keys);
	if (!err)
		err = tvn_doc__get_text(doc, jl, "field", true, 1, field_expect, c->field,
					sizeof(c->field));
	if (!err)
		err = tvn_doc__get(doc, jl, "table", true, table_expect, &jt);
	if (!err) {
		tvn_doc__push_key(doc, "table");
		if (!json_is_object(jt))
			err = tvn_doc__fail(doc, "expected %s (got %s)", table_expect,
					    tvn_json__type_name(jt));
		else
			err = parse_table(doc, jt, c);
		tvn_doc__pop(doc);
	}
	tvn_doc__pop(doc);
	return err;
}

static int parse_range(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	int err;

	c->match = TVN_MATCH_RANGE;
	c->min = -INFINITY;
	c->max = INFINITY;
	err = tvn_doc__get_num(doc, jc, "min", false, any_number, "a number", &c->min);
	if (err >= 0)
		err = tvn_doc__get_num(doc, jc, "max", false, any_number, "a number", &c->max);
	if (err < 0)
		return err;
	if (c->min > c->max)
		return tvn_doc__fail_key(
		    doc, "min", "%g is greater than max %g (expected min <= max)", c->min, c->max);
	return 0;
}

static int parse_json_filter(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	static const char equals_expect[] = "a string of at most 63 bytes or a number";
	json_t *je = json_object_get(jc, "equals");
	bool range = json_object_get(jc, "min") || json_object_get(jc, "max");
	int err;

	err =
	    tvn_doc__get_text(doc, jc, "field", true, 1, field_expect, c->field, sizeof(c->field));
	if (err)
		return err;
	if (je && range)
		return tvn_doc__fail_key(
		    doc, json_object_get(jc, "min") ? "min" : "max",
		    "give either \"equals\" or \"min\" and/or \"max\", not both");
	if (!je && !range)
		return tvn_doc__fail_key(doc, "equals",
					 "missing required field (expected \"equals\": a string or "
					 "a number, or \"min\" and/or \"max\": numbers)");
	if (range)
		return parse_range(doc, jc, c);
	if (json_is_number(je)) {
		c->match = TVN_MATCH_NUMBER;
		c->num = json_number_value(je);
		return 0;
	}
	if (!json_is_string(je))
		return tvn_doc__fail_key(doc, "equals", "expected %s (got %s)", equals_expect,
					 tvn_json__type_name(je));
	c->match = TVN_MATCH_STRING;
	return tvn_doc__get_text(doc, jc, "equals", true, 0, equals_expect, c->equals,
				 sizeof(c->equals));
}

static int parse_deflate(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	long long level = DEF_LEVEL;
	int err;

	err = tvn_doc__get_int(doc, jc, "level", false, 0, 9,
			       "an integer from 0 (store only) to 9 (smallest output)", &level);
	c->level = level;
	return err < 0 ? err : 0;
}

int tvn_comp_cfg__parse_work(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c)
{
	switch (c->kind) {
	case TVN_KIND_JSON_GENERATOR:
		return parse_json_generator(doc, jc, c);
	case TVN_KIND_JSON_ENRICH:
		return parse_json_enrich(doc, jc, c);
	case TVN_KIND_JSON_FILTER:
		return parse_json_filter(doc, jc, c);
	case TVN_KIND_DEFLATE:
		return parse_deflate(doc, jc, c);
	default:
		return 0;
	}
}
