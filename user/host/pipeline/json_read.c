// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading a pipeline file's fields: the path of the field being read, the
 * error reports "FILE:LINE: FIELD: what is wrong (what would be right)", and
 * typed accessors that report a field of the wrong type or out of range.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pipeline_internal.h"

/* ------------------------------------------------------------ vocabularies */

const char *tvn_sym__name(const struct tvn_sym *t, int val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return "?";
}

static void join_syms(const struct tvn_sym *t, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; t->name && off < n; t++)
		off += snprintf(buf + off, n - off, "%s%s", off ? ", " : "", t->name);
}

static void join_keys(const char *const *k, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; *k && off < n; k++)
		off += snprintf(buf + off, n - off, "%s%s", off ? ", " : "", *k);
}

static bool in_keys(const char *const *k, const char *key)
{
	for (; *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/* ------------------------------------------------------------ error reports */

void tvn_doc__push_key(struct tvn_doc *doc, const char *key)
{
	if (doc->depth < TVN_DOC_DEPTH)
		doc->path[doc->depth] = (struct tvn_doc_step){.key = key};
	doc->depth++;
}

void tvn_doc__push_idx(struct tvn_doc *doc, int idx)
{
	if (doc->depth < TVN_DOC_DEPTH)
		doc->path[doc->depth] = (struct tvn_doc_step){.idx = idx};
	doc->depth++;
}

void tvn_doc__pop(struct tvn_doc *doc)
{
	doc->depth--;
}

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!(*k >= 'a' && *k <= 'z') && !(*k >= 'A' && *k <= 'Z') &&
		    !(*k >= '0' && *k <= '9') && *k != '_' && *k != '-')
			return false;
	return true;
}

/* s between double quotes, with JSON escapes, cut after 64 characters. */
const char *tvn_json__quote(const char *s, char *buf, size_t n)
{
	size_t off = 0, i;

	off += snprintf(buf, n, "\"");
	for (i = 0; s[i] && i < 64 && off + 8 < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			off += snprintf(buf + off, n - off, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			off += snprintf(buf + off, n - off, "\\u%04x", c);
		else
			buf[off++] = c;
	}
	if (s[i] && off + 4 < n)
		off += snprintf(buf + off, n - off, "...");
	snprintf(buf + off, n - off, "\"");
	return buf;
}

static size_t path_str(const struct tvn_doc *doc, char *buf, size_t n)
{
	size_t off = 0;
	char q[96];

	buf[0] = '\0';
	if (!doc->depth)
		return snprintf(buf, n, "(top level)");
	for (int d = 0; d < tvn_doc__depth(doc) && off < n; d++) {
		const struct tvn_doc_step *s = &doc->path[d];

		if (!s->key)
			off += snprintf(buf + off, n - off, "[%d]", s->idx);
		else if (plain_key(s->key))
			off += snprintf(buf + off, n - off, "%s%s", d ? "." : "", s->key);
		else
			off += snprintf(buf + off, n - off, "[%s]",
					tvn_json__quote(s->key, q, sizeof(q)));
	}
	return off;
}

static int __attribute__((format(printf, 2, 0)))
vfail(struct tvn_doc *doc, const char *fmt, va_list ap)
{
	char path[512];
	int n;

	if (!doc->err || !doc->errlen)
		return -EINVAL;
	path_str(doc, path, sizeof(path));
	n = snprintf(doc->err, doc->errlen, "%s:%d: %s: ", doc->file, tvn_doc__line(doc), path);
	if (n >= 0 && (size_t)n < doc->errlen)
		vsnprintf(doc->err + n, doc->errlen - n, fmt, ap);
	return -EINVAL;
}

int tvn_doc__fail(struct tvn_doc *doc, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vfail(doc, fmt, ap);
	va_end(ap);
	return err;
}

int tvn_doc__fail_key(struct tvn_doc *doc, const char *key, const char *fmt, ...)
{
	va_list ap;
	int err;

	tvn_doc__push_key(doc, key);
	va_start(ap, fmt);
	err = vfail(doc, fmt, ap);
	va_end(ap);
	tvn_doc__pop(doc);
	return err;
}

int tvn_doc__fail_idx(struct tvn_doc *doc, const char *key, int idx, const char *fmt, ...)
{
	va_list ap;
	int err;

	tvn_doc__push_key(doc, key);
	tvn_doc__push_idx(doc, idx);
	va_start(ap, fmt);
	err = vfail(doc, fmt, ap);
	va_end(ap);
	tvn_doc__pop(doc);
	tvn_doc__pop(doc);
	return err;
}

/* --------------------------------------------------------- typed accessors */

const char *tvn_json__type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

int tvn_doc__need_object(struct tvn_doc *doc, const json_t *v, const char *what)
{
	if (!json_is_object(v))
		return tvn_doc__fail(doc, "expected %s (got %s)", what, tvn_json__type_name(v));
	return 0;
}

int tvn_doc__check_keys(struct tvn_doc *doc, json_t *obj, const char *const *allowed,
			const char *const *others, const char *for_what)
{
	char list[256], q[96];
	const char *key;

	/* jansson keeps insertion order, so this is the file's order */
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		key = json_object_iter_key(it);
		if (in_keys(allowed, key))
			continue;
		join_keys(allowed, list, sizeof(list));
		return tvn_doc__fail_key(doc, key, "unknown key %s%s (expected one of: %s)",
					 tvn_json__quote(key, q, sizeof(q)),
					 others && in_keys(others, key) ? for_what : "", list);
	}
	return 0;
}

int tvn_doc__need_keys(struct tvn_doc *doc, json_t *v, const char *what, const char *const *keys)
{
	int err = tvn_doc__need_object(doc, v, what);

	return err ? err : tvn_doc__check_keys(doc, v, keys, NULL, NULL);
}

/* *out = obj[key]. Returns 0 when present, 1 when absent but optional, or fails. */
int tvn_doc__get(struct tvn_doc *doc, json_t *obj, const char *key, bool req, const char *expect,
		 json_t **out)
{
	*out = json_object_get(obj, key);
	if (*out)
		return 0;
	if (!req)
		return 1;
	return tvn_doc__fail_key(doc, key, "missing required field (expected %s)", expect);
}

/* tvn_doc__get, and a field of one of the JSON types in types (TYPE_BIT()s). */
#define TYPE_BIT(t) (1u << (t))

static int get_typed(struct tvn_doc *doc, json_t *obj, const char *key, bool req,
		     const char *expect, unsigned int types, json_t **out)
{
	int err;

	err = tvn_doc__get(doc, obj, key, req, expect, out);
	if (err)
		return err;
	if (!(types & TYPE_BIT(json_typeof(*out))))
		return tvn_doc__fail_key(doc, key, "expected %s (got %s)", expect,
					 tvn_json__type_name(*out));
	return 0;
}

int tvn_doc__get_int(struct tvn_doc *doc, json_t *obj, const char *key, bool req, long long lo,
		     long long hi, const char *expect, long long *out)
{
	long long v;
	json_t *j;
	int err;

	err = get_typed(doc, obj, key, req, expect, TYPE_BIT(JSON_INTEGER), &j);
	if (err)
		return err;
	v = json_integer_value(j);
	if (v < lo || v > hi)
		return tvn_doc__fail_key(doc, key, "%lld is out of range (expected %s)", v, expect);
	*out = v;
	return 0;
}

int tvn_doc__get_num(struct tvn_doc *doc, json_t *obj, const char *key, bool req,
		     bool (*ok)(double), const char *expect, double *out)
{
	json_t *j;
	double v;
	int err;

	err =
	    get_typed(doc, obj, key, req, expect, TYPE_BIT(JSON_INTEGER) | TYPE_BIT(JSON_REAL), &j);
	if (err)
		return err;
	v = json_number_value(j);
	if (!ok(v))
		return tvn_doc__fail_key(doc, key, "%g is out of range (expected %s)", v, expect);
	*out = v;
	return 0;
}

int tvn_doc__get_str(struct tvn_doc *doc, json_t *obj, const char *key, bool req,
		     const char *expect, const char **out)
{
	json_t *j;
	int err;

	err = get_typed(doc, obj, key, req, expect, TYPE_BIT(JSON_STRING), &j);
	if (err)
		return err;
	*out = json_string_value(j);
	return 0;
}

/* A string of min_len..cap-1 bytes copied into dst. */
int tvn_doc__get_text(struct tvn_doc *doc, json_t *obj, const char *key, bool req, size_t min_len,
		      const char *expect, char *dst, size_t cap)
{
	const char *s;
	size_t n;
	int err;

	err = tvn_doc__get_str(doc, obj, key, req, expect, &s);
	if (err)
		return err;
	n = strlen(s);
	if (n < min_len || n >= cap)
		return tvn_doc__fail_key(doc, key, "%zu bytes long (expected %s)", n, expect);
	memcpy(dst, s, n + 1);
	return 0;
}

/* One of syms by name; 1 when absent and optional. */
int tvn_doc__get_sym(struct tvn_doc *doc, json_t *obj, const char *key, bool req, const char *what,
		     const struct tvn_sym *syms, int *out)
{
	char list[256], expect[272], q[96];
	const struct tvn_sym *t;
	const char *s;
	int err;

	join_syms(syms, list, sizeof(list));
	snprintf(expect, sizeof(expect), "one of: %s", list);
	err = tvn_doc__get_str(doc, obj, key, req, expect, &s);
	if (err)
		return err;
	for (t = syms; t->name; t++) {
		if (!strcmp(t->name, s)) {
			*out = t->val;
			return 0;
		}
	}
	return tvn_doc__fail_key(doc, key, "unknown %s %s (expected one of: %s)", what,
				 tvn_json__quote(s, q, sizeof(q)), list);
}

static bool id_ok(const char *s, bool arrow)
{
	size_t n = strlen(s);

	if (n < 1 || n > TVN_ID_MAX)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '.' && *s != '-' &&
		    !(arrow && *s == '>'))
			return false;
	return true;
}

/* An id of [A-Za-z0-9_.-] (and '>' for stream ids); 1 when absent and optional. */
int tvn_doc__get_id(struct tvn_doc *doc, json_t *obj, const char *key, bool req, bool arrow,
		    char *dst)
{
	const char *expect = arrow ? "a name of 1 to 47 characters from [A-Za-z0-9_.->]"
				   : "a name of 1 to 47 characters from [A-Za-z0-9_.-]";
	const char *s;
	char q[96];
	int err;

	err = tvn_doc__get_str(doc, obj, key, req, expect, &s);
	if (err)
		return err;
	if (!id_ok(s, arrow))
		return tvn_doc__fail_key(doc, key, "%s is not a valid id (expected %s)",
					 tvn_json__quote(s, q, sizeof(q)), expect);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}
