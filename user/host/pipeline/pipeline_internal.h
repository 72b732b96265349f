/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of the pipeline loader share: the document being read (its
 * text, the path of the field being looked at, where errors go), its typed
 * accessors, and the vocabularies that several parts name. Every problem is
 * reported as "FILE:LINE: FIELD: what is wrong (what would be right)"
 * (docs/pipeline-format.md).
 */
#ifndef TORVYN_PIPELINE_INTERNAL_H
#define TORVYN_PIPELINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "pipeline.h"

#define TVN_ID_MAX (TORVYN_NAME_LEN - 1)
#define TVN_DOC_DEPTH 8 /* the deepest field path kept */

/* ------------------------------------------------------------ vocabularies */

/* A name of the file format and the value it stands for; tables end with {NULL, 0}. */
struct tvn_sym {
	const char *name;
	int val;
};

extern const struct tvn_sym tvn_role_syms[]; /* TORVYN_ROLE_* */

/* The name of val in t, or "?". */
const char *tvn_sym__name(const struct tvn_sym *t, int val);

/* ------------------------------------------------------------ the document */

struct tvn_doc_step {
	const char *key; /* NULL: an array index */
	int idx;
};

struct tvn_doc {
	const char *file;
	const char *text;
	size_t len;
	char *err;
	size_t errlen;
	/* the path of the field being read, from the top level down */
	struct tvn_doc_step path[TVN_DOC_DEPTH];
	int depth; /* may exceed TVN_DOC_DEPTH: the steps below it are not kept */
};

/* The steps of the path that are kept. */
static inline int tvn_doc__depth(const struct tvn_doc *doc)
{
	return doc->depth < TVN_DOC_DEPTH ? doc->depth : TVN_DOC_DEPTH;
}

void tvn_doc__push_key(struct tvn_doc *doc, const char *key);
void tvn_doc__push_idx(struct tvn_doc *doc, int idx);
void tvn_doc__pop(struct tvn_doc *doc);

/* json_pos.c: the line of the field at the current path (jansson keeps no positions). */
int tvn_doc__line(const struct tvn_doc *doc);

/*
 * Errors: each writes one line into doc->err and returns -EINVAL. fail is
 * about the field at the current path, fail_key about its field key,
 * fail_idx about element idx of its field key.
 */
int __attribute__((format(printf, 2, 3))) tvn_doc__fail(struct tvn_doc *doc, const char *fmt, ...);
int __attribute__((format(printf, 3, 4)))
tvn_doc__fail_key(struct tvn_doc *doc, const char *key, const char *fmt, ...);
int __attribute__((format(printf, 4, 5)))
tvn_doc__fail_idx(struct tvn_doc *doc, const char *key, int idx, const char *fmt, ...);

/* s between double quotes, with JSON escapes, cut after 64 characters; returns buf. */
const char *tvn_json__quote(const char *s, char *buf, size_t n);
/* "an object", "an integer", ...: the type of v, for messages. */
const char *tvn_json__type_name(const json_t *v);

/* ------------------------------------------------------------ typed accessors */

/*
 * Each reads field key of obj, fails (-EINVAL, a message in doc->err) when it
 * is of the wrong type or out of range, and returns 0, or 1 when the field is
 * absent and not required (req false); expect says what would be right.
 */
int tvn_doc__need_object(struct tvn_doc *doc, const json_t *v, const char *what);
/*
 * Fails on the first key of obj that is not in allowed. A key that is in
 * others, valid elsewhere, gets for_what (" for kind ...") added.
 */
int tvn_doc__check_keys(struct tvn_doc *doc, json_t *obj, const char *const *allowed,
			const char *const *others, const char *for_what);
/* An object (else fails with what) of only the keys in keys. */
int tvn_doc__need_keys(struct tvn_doc *doc, json_t *v, const char *what, const char *const *keys);
int tvn_doc__get(struct tvn_doc *doc, json_t *obj, const char *key, bool req, const char *expect,
		 json_t **out);
int tvn_doc__get_int(struct tvn_doc *doc, json_t *obj, const char *key, bool req, long long lo,
		     long long hi, const char *expect, long long *out);
int tvn_doc__get_num(struct tvn_doc *doc, json_t *obj, const char *key, bool req,
		     bool (*ok)(double), const char *expect, double *out);
int tvn_doc__get_str(struct tvn_doc *doc, json_t *obj, const char *key, bool req,
		     const char *expect, const char **out);
/* A string of min_len..cap-1 bytes copied into dst. */
int tvn_doc__get_text(struct tvn_doc *doc, json_t *obj, const char *key, bool req, size_t min_len,
		      const char *expect, char *dst, size_t cap);
/* One of syms by name. */
int tvn_doc__get_sym(struct tvn_doc *doc, json_t *obj, const char *key, bool req, const char *what,
		     const struct tvn_sym *syms, int *out);
/* An id of [A-Za-z0-9_.-] (and '>' for stream ids, arrow true). */
int tvn_doc__get_id(struct tvn_doc *doc, json_t *obj, const char *key, bool req, bool arrow,
		    char *dst);

/* ------------------------------------------------------------ parts of a flow */

/* load_json.c: the fields of json-generator, json-enrich, json-filter and deflate. */
int tvn_comp_cfg__parse_work(struct tvn_doc *doc, json_t *jc, struct tvn_comp_cfg *c);
/* load_comp.c: "components" of flow object jf into f->comps. */
int tvn_flow_cfg__parse_components(struct tvn_doc *doc, json_t *jf, struct tvn_flow_cfg *f);
/* topology.c: sources, sinks, one input each, no cycles. */
int tvn_flow_cfg__check_topology(struct tvn_doc *doc, const struct tvn_flow_cfg *f);

#endif /* TORVYN_PIPELINE_INTERNAL_H */
