// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * json-filter: parses the record (jansson) and keeps it when its field
 * matches: equal to a string or a number, or a number within [min, max].
 * A record without the field is dropped; a payload that is not a JSON object
 * is invalid input.
 */
#include <string.h>

#include <jansson.h>

#include "work_kinds.h"

static bool matches(const struct tvn_comp_cfg *cfg, const json_t *v)
{
	double x;

	if (cfg->match == TVN_MATCH_STRING)
		return json_is_string(v) && !strcmp(json_string_value(v), cfg->equals);
	if (!json_is_number(v))
		return false;
	x = json_number_value(v);
	if (cfg->match == TVN_MATCH_NUMBER)
		return x == cfg->num;
	return x >= cfg->min && x <= cfg->max;
}

int tvn_json_filter__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			    uint64_t *copy_bytes)
{
	json_error_t je;
	json_t *rec;
	bool keep;

	/* the parser reads the payload into objects of its own: a PayloadRead copy */
	*copy_reason = TORVYN_COPY_PAYLOAD_READ;
	*copy_bytes = e->len;
	rec = json_loadb((const char *)e->buf->data, e->len, 0, &je);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return -TORVYN_ERR_INVALID_INPUT;
	}
	keep = matches(c->cfg, json_object_get(rec, c->cfg->field));
	json_decref(rec);
	return keep ? TORVYN_COMPONENT_OK : TORVYN_COMPONENT_DROP;
}
