// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * json-enrich: parses the record (jansson), looks the value of its field up
 * in the table of the pipeline file, adds that entry's fields (replacing any
 * of the same name) and writes the record back, compact, into a new buffer:
 * the copy is a PayloadWrite of the new record's bytes. A record whose field
 * is missing, not a string or not in the table passes unchanged, uncopied;
 * a payload that is not a JSON object is invalid input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "work_kinds.h"

struct enrich {
	json_t *table; /* value -> object of fields to add */
	size_t grow;   /* bytes the largest entry can add to a record */
};

int tvn_json_enrich__open(struct tvn_comp *c, char *err, size_t errlen)
{
	struct enrich *st = calloc(1, sizeof(*st));
	const char *value;
	json_error_t je;
	json_t *add;

	if (!st) {
		snprintf(err, errlen, "component %s: out of memory", c->cfg->id);
		return -ENOMEM;
	}
	st->table = json_loads(c->cfg->table, 0, &je);
	if (!json_is_object(st->table)) {
		snprintf(err, errlen, "component %s: cannot read its lookup table: %s", c->cfg->id,
			 je.text);
		json_decref(st->table);
		free(st);
		return -EINVAL;
	}
	json_object_foreach(st->table, value, add)
	{
		size_t n = json_dumpb(add, NULL, 0, JSON_COMPACT);

		if (n > st->grow)
			st->grow = n;
	}
	c->plugin_state = st;
	return 0;
}

void tvn_json_enrich__close(struct tvn_comp *c)
{
	struct enrich *st = c->plugin_state;

	if (!st)
		return;
	json_decref(st->table);
	free(st);
	c->plugin_state = NULL;
}

/* rec written compactly into *nb, a new buffer from the pool; 0 or -TORVYN_ERR_*. */
static int serialize(struct tvn_comp *c, const json_t *rec, uint32_t guess, struct tvn_buf **nb,
		     uint32_t *len)
{
	size_t n;

	*nb = tvn_pool__alloc(c->pool, guess);
	if (!*nb)
		return -TORVYN_ERR_UNAVAILABLE;
	n = json_dumpb(rec, (char *)(*nb)->data, (*nb)->cap, JSON_COMPACT);
	if (n > (*nb)->cap) {
		/* longer than the guess (escapes written out): once more, in a buffer that fits */
		tvn_pool__return(*nb);
		*nb = n <= TVN_MAX_BUFFER ? tvn_pool__alloc(c->pool, n) : NULL;
		if (!*nb)
			return -TORVYN_ERR_UNAVAILABLE;
		n = json_dumpb(rec, (char *)(*nb)->data, (*nb)->cap, JSON_COMPACT);
	}
	if (!n || n > (*nb)->cap) {
		tvn_pool__return(*nb);
		return -TORVYN_ERR_INTERNAL;
	}
	*len = n;
	return 0;
}

int tvn_json_enrich__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			    uint64_t *copy_bytes)
{
	struct enrich *st = c->plugin_state;
	json_t *rec, *key, *add;
	struct tvn_buf *nb;
	json_error_t je;
	uint32_t len;
	int rc;

	rec = json_loadb((const char *)e->buf->data, e->len, 0, &je);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return -TORVYN_ERR_INVALID_INPUT;
	}
	key = json_object_get(rec, c->cfg->field);
	add = json_is_string(key) ? json_object_get(st->table, json_string_value(key)) : NULL;
	if (!add || json_object_update(rec, add)) {
		json_decref(rec);
		return add ? -TORVYN_ERR_INTERNAL : TORVYN_COMPONENT_OK;
	}
	rc = serialize(c, rec, e->len + st->grow + 1, &nb, &len);
	json_decref(rec);
	if (rc)
		return rc;
	tvn_pool__return(e->buf);
	e->buf = nb;
	e->len = len;
	*copy_reason = TORVYN_COPY_PAYLOAD_WRITE;
	*copy_bytes = len;
	return TORVYN_COMPONENT_OK;
}
