// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pipeline files (docs/pipeline-format.md): parsed with jansson, validated
 * in full, and every problem reported as
 * "FILE:LINE: FIELD: what is wrong (what would be right)".
 *
 * jansson keeps no positions for values, so a small tokenizer walks the raw
 * text along the field's path to find its line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pipeline.h"

#define ID_MAX (TORVYN_NAME_LEN - 1)
#define PATH_DEPTH 8
#define MAX_FILE_SIZE (4 << 20) /* a pipeline file is a few KiB */
#define MAX_PAYLOAD (16 << 20)	/* the max buffer (UPSTREAM.md) */
#define MAX_CAPACITY 65536
#define MAX_REPLICAS 256
#define MAX_FAULT_MS 3600000.0 /* one hour; also keeps ns far from overflow */
#define DEF_CAPACITY 64
#define DEF_LOW_WATERMARK 0.5
#define DEF_PAYLOAD 128

#define ROLE_BIT(r) (1u << (r))
#define ANY_ROLE                                                                                   \
	(ROLE_BIT(TORVYN_ROLE_SOURCE) | ROLE_BIT(TORVYN_ROLE_PROCESSOR) |                          \
	 ROLE_BIT(TORVYN_ROLE_FILTER) | ROLE_BIT(TORVYN_ROLE_ROUTER) | ROLE_BIT(TORVYN_ROLE_SINK))

/* ------------------------------------------------------------ vocabularies */

struct sym {
	const char *name;
	int val;
};

static const struct sym role_syms[] = {
    {"source", TORVYN_ROLE_SOURCE}, {"processor", TORVYN_ROLE_PROCESSOR},
    {"filter", TORVYN_ROLE_FILTER}, {"router", TORVYN_ROLE_ROUTER},
    {"sink", TORVYN_ROLE_SINK},	    {NULL, 0},
};

static const struct sym policy_syms[] = {
    {"block-producer", TORVYN_POLICY_BLOCK_PRODUCER},
    {"drop-oldest", TORVYN_POLICY_DROP_OLDEST},
    {"drop-newest", TORVYN_POLICY_DROP_NEWEST},
    {"error", TORVYN_POLICY_ERROR},
    {NULL, 0},
};

static const struct sym error_policy_syms[] = {
    {"skip", TVN_ERROR_POLICY_SKIP},
    {"fail", TVN_ERROR_POLICY_FAIL},
    {NULL, 0},
};

static const struct sym fault_syms[] = {
    {"error", TVN_FAULT_ERROR},
    {"delay", TVN_FAULT_DELAY},
    {"stall", TVN_FAULT_STALL},
    {NULL, 0},
};

static const struct sym error_kind_syms[] = {
    {"invalid-input", TORVYN_ERR_INVALID_INPUT},
    {"unavailable", TORVYN_ERR_UNAVAILABLE},
    {"internal", TORVYN_ERR_INTERNAL},
    {"deadline-exceeded", TORVYN_ERR_DEADLINE_EXCEEDED},
    {"fatal", TORVYN_ERR_FATAL},
    {NULL, 0},
};

static const struct sym mode_syms[] = {
    {"in-place", 0},
    {"copy", 1},
    {NULL, 0},
};

static const struct sym kind_syms[] = {
    {"generator", TVN_KIND_GENERATOR},
    {"lines", TVN_KIND_LINES},
    {"transform", TVN_KIND_TRANSFORM},
    {"metadata-filter", TVN_KIND_METADATA_FILTER},
    {"payload-filter", TVN_KIND_PAYLOAD_FILTER},
    {"router", TVN_KIND_ROUTER},
    {"null", TVN_KIND_NULL_SINK},
    {"file", TVN_KIND_FILE_SINK},
    {"plugin", TVN_KIND_PLUGIN},
    {NULL, 0},
};

static const char *const top_keys[] = {"flows", NULL};
static const char *const flow_keys[] = {"id",	      "error_policy", "replicas", "queue",
					"components", "streams",      NULL};
static const char *const queue_keys[] = {"capacity", "low_watermark", "policy", NULL};
static const char *const stream_keys[] = {"id",	    "from", "to", "capacity", "low_watermark",
					  "policy", NULL};
static const char *const payload_keys[] = {"size", "min", "max", NULL};
static const char *const fault_error_keys[] = {"at", "type", "error", NULL};
static const char *const fault_wait_keys[] = {"at", "type", "ms", NULL};
static const char *const fault_any_keys[] = {"at", "type", "error", "ms", NULL};
static const char *const comp_any_keys[] = {"id",	"role",	  "kind", "faults", "rate",
					    "payload",	"seed",	  "path", "mode",   "keep_every",
					    "contains", "config", NULL};

#define COMMON_KEYS 4 /* id, role, kind, faults: the first entries of comp_any_keys */

static const char *const generator_keys[] = {"rate", "payload", "seed", NULL};
static const char *const path_keys[] = {"path", NULL};
static const char *const transform_keys[] = {"mode", NULL};
static const char *const keep_every_keys[] = {"keep_every", NULL};
static const char *const contains_keys[] = {"contains", NULL};
static const char *const plugin_keys[] = {"path", "config", NULL};
static const char *const no_keys[] = {NULL};

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
};

static const char *sym_name(const struct sym *t, int val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return "?";
}

static void join_syms(const struct sym *t, char *buf, size_t n)
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

/* -------------------------------------------------- finding a field's line */

struct tok {
	const char *p, *end;
	int line;
};

static void tk_ws(struct tok *t)
{
	for (; t->p < t->end; t->p++) {
		if (*t->p == '\n')
			t->line++;
		else if (*t->p != ' ' && *t->p != '\t' && *t->p != '\r')
			break;
	}
}

static bool tk_at(struct tok *t, char c)
{
	return t->p < t->end && *t->p == c;
}

static void tk_skip_str(struct tok *t)
{
	for (t->p++; t->p < t->end && *t->p != '"'; t->p++)
		if (*t->p == '\\' && t->p + 1 < t->end)
			t->p++;
	if (t->p < t->end)
		t->p++;
}

/* Skips one value of any type, nested ones included. */
static void tk_skip_value(struct tok *t)
{
	int depth = 0;

	do {
		tk_ws(t);
		if (t->p >= t->end)
			return;
		switch (*t->p) {
		case '"':
			tk_skip_str(t);
			break;
		case '{':
		case '[':
			depth++;
			t->p++;
			break;
		case '}':
		case ']':
			depth--;
			t->p++;
			break;
		case ',':
		case ':':
			t->p++;
			break;
		default: /* number, true, false, null: always moves on */
			do
				t->p++;
			while (t->p < t->end && !strchr(",:[]{}\" \t\r\n", *t->p));
		}
	} while (depth > 0);
}

static int hex4(const char *p, const char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++, p++) {
		v <<= 4;
		if (*p >= '0' && *p <= '9')
			v |= *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			v |= (*p | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

static int utf8_put(unsigned int cp, char *u)
{
	if (cp < 0x80) {
		u[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	u[0] = 0xf0 | (cp >> 18);
	u[1] = 0x80 | ((cp >> 12) & 0x3f);
	u[2] = 0x80 | ((cp >> 6) & 0x3f);
	u[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* Decodes the escape at t->p (a backslash) into u; returns its length in bytes. */
static int tk_escape(struct tok *t, char *u)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int cp, lo;

	if (++t->p >= t->end)
		return 0;
	if (*t->p != 'u') {
		e = strchr(from, *t->p);
		u[0] = e && *t->p ? to[e - from] : *t->p;
		t->p++;
		return 1;
	}
	cp = hex4(t->p + 1, t->end);
	if (cp < 0)
		return 0;
	t->p += 5;
	/* a high surrogate followed by \uDC00-\uDFFF is one code point */
	if (cp >= 0xd800 && cp < 0xdc00 && t->end - t->p >= 6 && t->p[0] == '\\' &&
	    t->p[1] == 'u') {
		lo = hex4(t->p + 2, t->end);
		if (lo >= 0xdc00 && lo < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			t->p += 6;
		}
	}
	return utf8_put(cp, u);
}

/* Consumes the string at t->p and tells whether, unescaped, it equals s. */
static bool tk_str_eq(struct tok *t, const char *s)
{
	size_t n = strlen(s), i = 0;
	bool eq = true;
	char u[4];
	int ulen;

	for (t->p++; t->p < t->end && *t->p != '"'; i += ulen) {
		if (*t->p == '\\') {
			ulen = tk_escape(t, u);
		} else {
			u[0] = *t->p++;
			ulen = 1;
		}
		if (eq && (i + ulen > n || memcmp(s + i, u, ulen)))
			eq = false;
	}
	if (t->p < t->end)
		t->p++;
	return eq && i == n;
}

/* Moves t from an object's '{' to the value of key; returns the key's line or 0. */
static int tk_member(struct tok *t, const char *key)
{
	int line;
	bool eq;

	if (!tk_at(t, '{'))
		return 0;
	t->p++;
	for (;;) {
		tk_ws(t);
		if (!tk_at(t, '"'))
			return 0;
		line = t->line;
		eq = tk_str_eq(t, key);
		tk_ws(t);
		if (!tk_at(t, ':'))
			return 0;
		t->p++;
		tk_ws(t);
		if (eq)
			return line;
		tk_skip_value(t);
		tk_ws(t);
		if (!tk_at(t, ','))
			return 0;
		t->p++;
	}
}

/* Moves t from an array's '[' to element idx; returns its line or 0. */
static int tk_element(struct tok *t, int idx)
{
	if (!tk_at(t, '['))
		return 0;
	t->p++;
	for (int i = 0;; i++) {
		tk_ws(t);
		if (t->p >= t->end || *t->p == ']')
			return 0;
		if (i == idx)
			return t->line;
		tk_skip_value(t);
		tk_ws(t);
		if (!tk_at(t, ','))
			return 0;
		t->p++;
	}
}

/* ------------------------------------------------------------ error reports */

struct step {
	const char *key; /* NULL: an array index */
	int idx;
};

struct ld {
	const char *file;
	const char *text;
	size_t len;
	char *err;
	size_t errlen;
	struct step path[PATH_DEPTH];
	int depth;
};

static void push_key(struct ld *l, const char *key)
{
	if (l->depth < PATH_DEPTH)
		l->path[l->depth] = (struct step){.key = key};
	l->depth++;
}

static void push_idx(struct ld *l, int idx)
{
	if (l->depth < PATH_DEPTH)
		l->path[l->depth] = (struct step){.idx = idx};
	l->depth++;
}

static void pop(struct ld *l)
{
	l->depth--;
}

static int path_depth(const struct ld *l)
{
	return l->depth < PATH_DEPTH ? l->depth : PATH_DEPTH;
}

/*
 * The line where the value at the current path (or its key) starts; where the
 * path leaves the text (a missing field), the line of the deepest value found.
 */
static int line_of(const struct ld *l)
{
	struct tok t = {l->text, l->text + l->len, 1};
	int line, best;

	tk_ws(&t);
	best = t.line;
	for (int d = 0; d < path_depth(l); d++) {
		const struct step *s = &l->path[d];

		line = s->key ? tk_member(&t, s->key) : tk_element(&t, s->idx);
		if (!line)
			break;
		best = line;
	}
	return best;
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
static const char *quote(const char *s, char *buf, size_t n)
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

static size_t path_str(const struct ld *l, char *buf, size_t n)
{
	size_t off = 0;
	char q[96];

	buf[0] = '\0';
	if (!l->depth)
		return snprintf(buf, n, "(top level)");
	for (int d = 0; d < path_depth(l) && off < n; d++) {
		const struct step *s = &l->path[d];

		if (!s->key)
			off += snprintf(buf + off, n - off, "[%d]", s->idx);
		else if (plain_key(s->key))
			off += snprintf(buf + off, n - off, "%s%s", d ? "." : "", s->key);
		else
			off += snprintf(buf + off, n - off, "[%s]", quote(s->key, q, sizeof(q)));
	}
	return off;
}

static int __attribute__((format(printf, 2, 0))) vfail(struct ld *l, const char *fmt, va_list ap)
{
	char path[512];
	int n;

	if (!l->err || !l->errlen)
		return -EINVAL;
	path_str(l, path, sizeof(path));
	n = snprintf(l->err, l->errlen, "%s:%d: %s: ", l->file, line_of(l), path);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - n, fmt, ap);
	return -EINVAL;
}

/* Reports a problem with the field at the current path; returns -EINVAL. */
static int __attribute__((format(printf, 2, 3))) fail(struct ld *l, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vfail(l, fmt, ap);
	va_end(ap);
	return err;
}

/* Reports a problem with field key of the object at the current path. */
static int __attribute__((format(printf, 3, 4)))
fail_key(struct ld *l, const char *key, const char *fmt, ...)
{
	va_list ap;
	int err;

	push_key(l, key);
	va_start(ap, fmt);
	err = vfail(l, fmt, ap);
	va_end(ap);
	pop(l);
	return err;
}

static int __attribute__((format(printf, 4, 5)))
fail_idx(struct ld *l, const char *key, int idx, const char *fmt, ...)
{
	va_list ap;
	int err;

	push_key(l, key);
	push_idx(l, idx);
	va_start(ap, fmt);
	err = vfail(l, fmt, ap);
	va_end(ap);
	pop(l);
	pop(l);
	return err;
}

/* --------------------------------------------------------- typed accessors */

static const char *jtype(const json_t *v)
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

static int need_object(struct ld *l, const json_t *v, const char *what)
{
	if (!json_is_object(v))
		return fail(l, "expected %s (got %s)", what, jtype(v));
	return 0;
}

/*
 * Fails on the first key of obj that is not in allowed. A key that is in
 * others, valid elsewhere, gets for_what (" for kind ...") added.
 */
static int check_keys(struct ld *l, json_t *obj, const char *const *allowed,
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
		return fail_key(l, key, "unknown key %s%s (expected one of: %s)",
				quote(key, q, sizeof(q)),
				others && in_keys(others, key) ? for_what : "", list);
	}
	return 0;
}

/* *out = obj[key]. Returns 0 when present, 1 when absent but optional, or fails. */
static int get(struct ld *l, json_t *obj, const char *key, bool req, const char *expect,
	       json_t **out)
{
	*out = json_object_get(obj, key);
	if (*out)
		return 0;
	if (!req)
		return 1;
	return fail_key(l, key, "missing required field (expected %s)", expect);
}

static int get_int(struct ld *l, json_t *obj, const char *key, bool req, long long lo, long long hi,
		   const char *expect, long long *out)
{
	long long v;
	json_t *j;
	int err;

	err = get(l, obj, key, req, expect, &j);
	if (err)
		return err;
	if (!json_is_integer(j))
		return fail_key(l, key, "expected %s (got %s)", expect, jtype(j));
	v = json_integer_value(j);
	if (v < lo || v > hi)
		return fail_key(l, key, "%lld is out of range (expected %s)", v, expect);
	*out = v;
	return 0;
}

static int get_num(struct ld *l, json_t *obj, const char *key, bool req, bool (*ok)(double),
		   const char *expect, double *out)
{
	json_t *j;
	double v;
	int err;

	err = get(l, obj, key, req, expect, &j);
	if (err)
		return err;
	if (!json_is_number(j))
		return fail_key(l, key, "expected %s (got %s)", expect, jtype(j));
	v = json_number_value(j);
	if (!ok(v))
		return fail_key(l, key, "%g is out of range (expected %s)", v, expect);
	*out = v;
	return 0;
}

static int get_str(struct ld *l, json_t *obj, const char *key, bool req, const char *expect,
		   const char **out)
{
	json_t *j;
	int err;

	err = get(l, obj, key, req, expect, &j);
	if (err)
		return err;
	if (!json_is_string(j))
		return fail_key(l, key, "expected %s (got %s)", expect, jtype(j));
	*out = json_string_value(j);
	return 0;
}

/* A string of min_len..cap-1 bytes copied into dst. */
static int get_text(struct ld *l, json_t *obj, const char *key, bool req, size_t min_len,
		    const char *expect, char *dst, size_t cap)
{
	const char *s;
	size_t n;
	int err;

	err = get_str(l, obj, key, req, expect, &s);
	if (err)
		return err;
	n = strlen(s);
	if (n < min_len || n >= cap)
		return fail_key(l, key, "%zu bytes long (expected %s)", n, expect);
	memcpy(dst, s, n + 1);
	return 0;
}

/* One of syms by name; 1 when absent and optional. */
static int get_sym(struct ld *l, json_t *obj, const char *key, bool req, const char *what,
		   const struct sym *syms, int *out)
{
	char list[256], expect[272], q[96];
	const struct sym *t;
	const char *s;
	int err;

	join_syms(syms, list, sizeof(list));
	snprintf(expect, sizeof(expect), "one of: %s", list);
	err = get_str(l, obj, key, req, expect, &s);
	if (err)
		return err;
	for (t = syms; t->name; t++) {
		if (!strcmp(t->name, s)) {
			*out = t->val;
			return 0;
		}
	}
	return fail_key(l, key, "unknown %s %s (expected one of: %s)", what, quote(s, q, sizeof(q)),
			list);
}

static bool id_ok(const char *s, bool arrow)
{
	size_t n = strlen(s);

	if (n < 1 || n > ID_MAX)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '.' && *s != '-' &&
		    !(arrow && *s == '>'))
			return false;
	return true;
}

/* An id of [A-Za-z0-9_.-] (and '>' for stream ids); 1 when absent and optional. */
static int get_id(struct ld *l, json_t *obj, const char *key, bool req, bool arrow, char *dst)
{
	const char *expect = arrow ? "a name of 1 to 47 characters from [A-Za-z0-9_.->]"
				   : "a name of 1 to 47 characters from [A-Za-z0-9_.-]";
	const char *s;
	char q[96];
	int err;

	err = get_str(l, obj, key, req, expect, &s);
	if (err)
		return err;
	if (!id_ok(s, arrow))
		return fail_key(l, key, "%s is not a valid id (expected %s)",
				quote(s, q, sizeof(q)), expect);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* ------------------------------------------------------------- components */

static bool rate_ok(double v)
{
	return v >= 0;
}

static bool watermark_ok(double v)
{
	return v >= 0 && v < 1;
}

static bool ms_ok(double v)
{
	return v > 0 && v <= MAX_FAULT_MS;
}

static int payload_sizes(struct ld *l, json_t *jp, struct tvn_comp_cfg *c)
{
	static const char expect[] = "an integer from 1 to 16777216";
	bool range = json_object_get(jp, "min") || json_object_get(jp, "max");
	long long min, max;
	int err;

	if (range && json_object_get(jp, "size"))
		return fail_key(l, "size", "give either \"size\" or \"min\" and \"max\", not both");
	if (!range) {
		err = get_int(l, jp, "size", true, 1, MAX_PAYLOAD, expect, &min);
		max = min;
	} else {
		err = get_int(l, jp, "min", true, 1, MAX_PAYLOAD, expect, &min);
		if (!err)
			err = get_int(l, jp, "max", true, 1, MAX_PAYLOAD, expect, &max);
	}
	if (err)
		return err;
	if (min > max)
		return fail_key(l, "min", "%lld is greater than max %lld (expected min <= max)",
				min, max);
	c->size_min = min;
	c->size_max = max;
	return 0;
}

static int parse_generator(struct ld *l, json_t *jc, struct tvn_comp_cfg *c)
{
	json_t *jp = json_object_get(jc, "payload");
	long long seed = 1;
	int err;

	c->rate = 0;
	c->size_min = c->size_max = DEF_PAYLOAD;
	err = get_num(l, jc, "rate", false, rate_ok,
		      "a number >= 0: elements per second, 0 for as fast as possible", &c->rate);
	if (err < 0)
		return err;
	err = get_int(l, jc, "seed", false, 0, LLONG_MAX, "an integer >= 0", &seed);
	if (err < 0)
		return err;
	c->seed = seed;
	if (!jp)
		return 0;
	push_key(l, "payload");
	err = need_object(l, jp, "an object {\"size\": S} or {\"min\": A, \"max\": B}");
	if (!err)
		err = check_keys(l, jp, payload_keys, NULL, NULL);
	if (!err)
		err = payload_sizes(l, jp, c);
	pop(l);
	return err;
}

static int parse_kind_fields(struct ld *l, json_t *jc, struct tvn_comp_cfg *c)
{
	long long every;
	int err = 0;

	switch (c->kind) {
	case TVN_KIND_GENERATOR:
		return parse_generator(l, jc, c);
	case TVN_KIND_LINES:
		return get_text(l, jc, "path", true, 1,
				"a file path of 1 to 255 bytes, or \"-\" for stdin", c->path,
				sizeof(c->path));
	case TVN_KIND_TRANSFORM:
		err = get_sym(l, jc, "mode", false, "mode", mode_syms, &c->copy);
		break;
	case TVN_KIND_METADATA_FILTER:
		err = get_int(l, jc, "keep_every", true, 1, UINT32_MAX,
			      "an integer from 1 to 4294967295: keep elements whose seq % N == 0",
			      &every);
		c->keep_every = err ? 0 : every;
		break;
	case TVN_KIND_PAYLOAD_FILTER:
		return get_text(l, jc, "contains", true, 1, "a string of 1 to 63 bytes",
				c->contains, sizeof(c->contains));
	case TVN_KIND_FILE_SINK:
		return get_text(l, jc, "path", true, 1, "a file path of 1 to 255 bytes", c->path,
				sizeof(c->path));
	case TVN_KIND_PLUGIN:
		err = get_text(l, jc, "path", true, 1, "the path of a .so, 1 to 255 bytes", c->path,
			       sizeof(c->path));
		if (!err)
			err = get_text(l, jc, "config", false, 0, "a string of at most 255 bytes",
				       c->config, sizeof(c->config));
		break;
	default:
		break;
	}
	return err < 0 ? err : 0;
}

static int fault_keys(struct ld *l, json_t *jf)
{
	json_t *jt = json_object_get(jf, "type");
	const char *t = json_is_string(jt) ? json_string_value(jt) : "";
	char for_what[64];

	if (!strcmp(t, "error")) {
		snprintf(for_what, sizeof(for_what), " for fault type \"%s\"", t);
		return check_keys(l, jf, fault_error_keys, fault_any_keys, for_what);
	}
	if (!strcmp(t, "delay") || !strcmp(t, "stall")) {
		snprintf(for_what, sizeof(for_what), " for fault type \"%s\"", t);
		return check_keys(l, jf, fault_wait_keys, fault_any_keys, for_what);
	}
	return check_keys(l, jf, fault_any_keys, NULL, NULL);
}

static int parse_fault(struct ld *l, json_t *jf, uint32_t role, struct tvn_fault *f)
{
	long long at;
	double ms;
	int type, kind = TORVYN_ERR_INTERNAL, err;

	err = need_object(l, jf,
			  "an object {\"at\": N, \"type\": \"error\" | \"delay\" | \"stall\"}");
	if (!err)
		err = fault_keys(l, jf);
	if (!err)
		err = get_int(l, jf, "at", true, 0, LLONG_MAX,
			      "an integer >= 0: the element's sequence number, from 0", &at);
	if (!err)
		err = get_sym(l, jf, "type", true, "fault type", fault_syms, &type);
	if (err)
		return err;
	if (type == TVN_FAULT_STALL && role == TORVYN_ROLE_SOURCE)
		return fail_key(l, "type",
				"\"stall\" is not allowed on a source, which takes no input "
				"(expected \"error\" or \"delay\")");
	*f = (struct tvn_fault){.at = at, .type = type};
	if (type == TVN_FAULT_ERROR) {
		err = get_sym(l, jf, "error", false, "error", error_kind_syms, &kind);
		f->error_kind = kind;
		return err < 0 ? err : 0;
	}
	err = get_num(l, jf, "ms", true, ms_ok, "a number of milliseconds > 0 and <= 3600000", &ms);
	if (err)
		return err;
	f->ns = ms * 1e6 + 0.5;
	if (!f->ns)
		return fail_key(l, "ms", "%g rounds to 0 ns (expected at least 0.000001)", ms);
	return 0;
}

static int parse_faults(struct ld *l, json_t *jc, struct tvn_comp_cfg *c)
{
	json_t *ja = json_object_get(jc, "faults");
	size_t n;
	int err = 0;

	if (!ja)
		return 0;
	push_key(l, "faults");
	n = json_array_size(ja);
	if (!json_is_array(ja)) {
		err = fail(l, "expected an array of at most %d faults (got %s)", TVN_MAX_FAULTS,
			   jtype(ja));
	} else if (n > TVN_MAX_FAULTS) {
		push_idx(l, TVN_MAX_FAULTS);
		err = fail(l, "too many faults: %zu (expected at most %d per component)", n,
			   TVN_MAX_FAULTS);
		pop(l);
	}
	for (size_t i = 0; !err && i < n; i++) {
		push_idx(l, i);
		err = parse_fault(l, json_array_get(ja, i), c->role, &c->faults[i]);
		pop(l);
	}
	c->n_faults = err ? 0 : n;
	pop(l);
	return err;
}

static void kinds_for_role(uint32_t role, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const struct sym *t = kind_syms; t->name && off < n; t++)
		if (kinds[t->val].roles & ROLE_BIT(role))
			off += snprintf(buf + off, n - off, "%s%s", off ? ", " : "", t->name);
}

/* The role given, or the only one the kind can play; a plugin must say. */
static int parse_role(struct ld *l, json_t *jc, struct tvn_comp_cfg *c)
{
	const struct kind_info *k = &kinds[c->kind];
	const char *role_name, *kind_name = sym_name(kind_syms, c->kind);
	char list[256];
	int role, err;

	if (c->kind == TVN_KIND_PLUGIN && !json_object_get(jc, "role"))
		return fail_key(l, "role",
				"missing required field: a plugin can play any role "
				"(expected one of: source, processor, filter, router, sink)");
	err = get_sym(l, jc, "role", false, "role", role_syms, &role);
	if (err < 0)
		return err;
	if (err == 1)
		role = __builtin_ctz(k->roles);
	if (!(k->roles & ROLE_BIT(role))) {
		role_name = sym_name(role_syms, role);
		kinds_for_role(role, list, sizeof(list));
		return fail_key(l, "kind",
				"kind \"%s\" cannot be a %s (for role \"%s\" expected "
				"one of: %s)",
				kind_name, role_name, role_name, list);
	}
	c->role = role;
	return 0;
}

/* Unknown keys, named with what this component's kind accepts when it has one. */
static int comp_keys(struct ld *l, json_t *jc)
{
	const char *allowed[COMMON_KEYS + 4], *const *k;
	json_t *jk = json_object_get(jc, "kind");
	const struct sym *t;
	char for_what[64];
	int n = 0;

	for (t = kind_syms; t->name && json_is_string(jk); t++)
		if (!strcmp(t->name, json_string_value(jk)))
			break;
	if (!json_is_string(jk) || !t->name)
		return check_keys(l, jc, comp_any_keys, NULL, NULL);
	for (; n < COMMON_KEYS; n++)
		allowed[n] = comp_any_keys[n];
	for (k = kinds[t->val].keys; *k; k++)
		allowed[n++] = *k;
	allowed[n] = NULL;
	snprintf(for_what, sizeof(for_what), " for kind \"%s\"", t->name);
	return check_keys(l, jc, allowed, comp_any_keys, for_what);
}

static int parse_comp(struct ld *l, json_t *jc, struct tvn_comp_cfg *c)
{
	int kind, err;

	err = need_object(l, jc, "an object {\"id\": ..., \"role\": ..., \"kind\": ...}");
	if (!err)
		err = comp_keys(l, jc);
	if (!err)
		err = get_id(l, jc, "id", true, false, c->id);
	if (!err)
		err = get_sym(l, jc, "kind", true, "kind", kind_syms, &kind);
	if (err)
		return err;
	c->kind = kind;
	err = parse_role(l, jc, c);
	if (!err)
		err = parse_kind_fields(l, jc, c);
	if (!err)
		err = parse_faults(l, jc, c);
	return err;
}

static int parse_components(struct ld *l, json_t *jf, struct tvn_flow_cfg *f)
{
	static const char expect[] = "an array of 2 to 16 components";
	json_t *ja;
	size_t n;
	int err;

	err = get(l, jf, "components", true, expect, &ja);
	if (err)
		return err;
	push_key(l, "components");
	n = json_array_size(ja);
	if (!json_is_array(ja))
		err = fail(l, "expected %s (got %s)", expect, jtype(ja));
	else if (n < 2 || n > TORVYN_MAX_COMPONENTS)
		err = fail(l, "has %zu (expected 2 to %d components: at least a source and a sink)",
			   n, TORVYN_MAX_COMPONENTS);
	for (size_t i = 0; !err && i < n; i++) {
		push_idx(l, i);
		err = parse_comp(l, json_array_get(ja, i), &f->comps[i]);
		for (size_t j = 0; !err && j < i; j++)
			if (!strcmp(f->comps[i].id, f->comps[j].id))
				err = fail_key(l, "id",
					       "duplicate component id \"%s\" (already used "
					       "by components[%zu])",
					       f->comps[i].id, j);
		pop(l);
	}
	f->n_comps = err ? 0 : n;
	pop(l);
	return err;
}

/* ---------------------------------------------------------------- streams */

static int queue_fields(struct ld *l, json_t *obj, struct tvn_stream_cfg *s)
{
	long long cap;
	int policy, err;

	err =
	    get_int(l, obj, "capacity", false, 1, MAX_CAPACITY, "an integer from 1 to 65536", &cap);
	if (err < 0)
		return err;
	if (!err)
		s->capacity = cap;
	err = get_num(l, obj, "low_watermark", false, watermark_ok,
		      "a number >= 0 and < 1: a fraction of the capacity", &s->low_watermark);
	if (err < 0)
		return err;
	err = get_sym(l, obj, "policy", false, "policy", policy_syms, &policy);
	if (err < 0)
		return err;
	if (!err)
		s->policy = policy;
	return 0;
}

static int parse_queue(struct ld *l, json_t *jf, struct tvn_stream_cfg *def)
{
	json_t *jq = json_object_get(jf, "queue");
	int err;

	if (!jq)
		return 0;
	push_key(l, "queue");
	err = need_object(l, jq,
			  "an object {\"capacity\": ..., \"low_watermark\": ..., "
			  "\"policy\": ...}");
	if (!err)
		err = check_keys(l, jq, queue_keys, NULL, NULL);
	if (!err)
		err = queue_fields(l, jq, def);
	pop(l);
	return err;
}

/* "<from>-><to>", cut to fit TORVYN_NAME_LEN. */
static void default_stream_id(char *dst, const char *from, const char *to)
{
	char buf[2 * TORVYN_NAME_LEN + 4];

	snprintf(buf, sizeof(buf), "%s->%s", from, to);
	memcpy(dst, buf, ID_MAX);
	dst[ID_MAX] = '\0';
}

static int comp_ref(struct ld *l, json_t *js, const char *key, const struct tvn_flow_cfg *f,
		    int *out)
{
	char list[TORVYN_MAX_COMPONENTS * (TORVYN_NAME_LEN + 2)], q[96];
	const char *name;
	size_t off = 0;
	int err;

	err = get_str(l, js, key, true, "the id of a component of this flow", &name);
	if (err)
		return err;
	for (int i = 0; i < f->n_comps; i++) {
		if (!strcmp(f->comps[i].id, name)) {
			*out = i;
			return 0;
		}
		off +=
		    snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", f->comps[i].id);
	}
	return fail_key(l, key, "no component %s in this flow (expected one of: %s)",
			quote(name, q, sizeof(q)), list);
}

static int parse_stream(struct ld *l, json_t *js, const struct tvn_flow_cfg *f,
			const struct tvn_stream_cfg *def, struct tvn_stream_cfg *s)
{
	int err;

	*s = *def;
	err = need_object(l, js, "an object {\"from\": ..., \"to\": ...}");
	if (!err)
		err = check_keys(l, js, stream_keys, NULL, NULL);
	if (!err)
		err = comp_ref(l, js, "from", f, &s->from);
	if (!err)
		err = comp_ref(l, js, "to", f, &s->to);
	if (!err)
		err = queue_fields(l, js, s);
	if (!err)
		err = get_id(l, js, "id", false, true, s->id);
	if (err == 1)
		default_stream_id(s->id, f->comps[s->from].id, f->comps[s->to].id);
	return err < 0 ? err : 0;
}

static int parse_streams(struct ld *l, json_t *ja, struct tvn_flow_cfg *f,
			 const struct tvn_stream_cfg *def)
{
	size_t n = json_array_size(ja);
	int err = 0;

	push_key(l, "streams");
	if (!json_is_array(ja))
		err = fail(l, "expected an array of 1 to %d streams (got %s)", TORVYN_MAX_STREAMS,
			   jtype(ja));
	else if (n < 1 || n > TORVYN_MAX_STREAMS)
		err = fail(l,
			   "has %zu (expected 1 to %d streams, or no \"streams\" to chain the "
			   "components in order)",
			   n, TORVYN_MAX_STREAMS);
	for (size_t k = 0; !err && k < n; k++) {
		push_idx(l, k);
		err = parse_stream(l, json_array_get(ja, k), f, def, &f->streams[k]);
		pop(l);
	}
	f->n_streams = err ? 0 : n;
	pop(l);
	return err;
}

/* Without "streams": component i feeds i + 1, from one source to one sink. */
static int chain_streams(struct ld *l, struct tvn_flow_cfg *f, const struct tvn_stream_cfg *def)
{
	static const char hint[] = "without \"streams\" the components are chained in order";
	int last = f->n_comps - 1, err = 0;

	push_key(l, "components");
	for (int i = 0; !err && i <= last; i++) {
		uint32_t role = f->comps[i].role;
		const char *name = sym_name(role_syms, role);

		push_idx(l, i);
		if (i == 0 && role != TORVYN_ROLE_SOURCE)
			err = fail_key(l, "role",
				       "the first component is a %s (expected a source: %s)", name,
				       hint);
		else if (i == last && role != TORVYN_ROLE_SINK)
			err =
			    fail_key(l, "role", "the last component is a %s (expected a sink: %s)",
				     name, hint);
		else if (i && i < last && role != TORVYN_ROLE_PROCESSOR &&
			 role != TORVYN_ROLE_FILTER)
			err = fail_key(l, "role",
				       "a %s in the middle of a chain (expected a processor "
				       "or a filter: %s; add \"streams\" for other shapes)",
				       name, hint);
		pop(l);
	}
	pop(l);
	if (err)
		return err;
	for (int i = 0; i < last; i++) {
		f->streams[i] = *def;
		f->streams[i].from = i;
		f->streams[i].to = i + 1;
		default_stream_id(f->streams[i].id, f->comps[i].id, f->comps[i + 1].id);
	}
	f->n_streams = last;
	return 0;
}

/* ---------------------------------------------------------------- topology */

struct topo {
	int in[TORVYN_MAX_COMPONENTS];	       /* input streams */
	int out[TORVYN_MAX_COMPONENTS];	       /* output streams */
	int in_stream[TORVYN_MAX_COMPONENTS];  /* the (first) input stream */
	int out_stream[TORVYN_MAX_COMPONENTS]; /* the first output stream */
};

static int check_stream(struct ld *l, const struct tvn_flow_cfg *f, int k, struct topo *t)
{
	const struct tvn_stream_cfg *s = &f->streams[k];
	const char *from = f->comps[s->from].id, *to = f->comps[s->to].id;
	uint32_t from_role = f->comps[s->from].role, to_role = f->comps[s->to].role;

	if (s->from == s->to)
		return fail_key(l, "to",
				"stream from \"%s\" to itself (expected another component)", to);
	for (int j = 0; j < k; j++) {
		if (f->streams[j].from == s->from && f->streams[j].to == s->to)
			return fail(l,
				    "duplicate stream from \"%s\" to \"%s\" (already streams[%d])",
				    from, to, j);
		if (!strcmp(f->streams[j].id, s->id))
			return fail_key(l, "id",
					"duplicate stream id \"%s\" (already used by "
					"streams[%d]; give each stream a distinct \"id\")",
					s->id, j);
	}
	if (to_role == TORVYN_ROLE_SOURCE)
		return fail_key(l, "to",
				"\"%s\" is a source and takes no input (expected a "
				"processor, filter, router or sink)",
				to);
	if (from_role == TORVYN_ROLE_SINK)
		return fail_key(l, "from",
				"\"%s\" is a sink and has no output (expected a source, "
				"processor, filter or router)",
				from);
	if (t->in[s->to])
		return fail_key(l, "to",
				"\"%s\" already has an input, streams[%d] (expected "
				"exactly one input per component)",
				to, t->in_stream[s->to]);
	if (t->out[s->from] && from_role != TORVYN_ROLE_ROUTER)
		return fail_key(l, "from",
				"\"%s\" already has an output, streams[%d] (expected "
				"exactly one output; only a router has several)",
				from, t->out_stream[s->from]);
	if (!t->in[s->to]++)
		t->in_stream[s->to] = k;
	if (!t->out[s->from]++)
		t->out_stream[s->from] = k;
	return 0;
}

static int check_links(struct ld *l, const struct tvn_flow_cfg *f, const struct topo *t)
{
	for (int i = 0; i < f->n_comps; i++) {
		const struct tvn_comp_cfg *c = &f->comps[i];
		const char *role = sym_name(role_syms, c->role);

		if (c->role != TORVYN_ROLE_SOURCE && !t->in[i])
			return fail_idx(l, "components", i,
					"%s \"%s\" has no input stream (expected "
					"exactly one)",
					role, c->id);
		if (c->role != TORVYN_ROLE_SINK && !t->out[i])
			return fail_idx(l, "components", i,
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
static int check_cycles(struct ld *l, const struct tvn_flow_cfg *f, const struct topo *t)
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
	return fail_idx(l, "streams", t->in_stream[back[n - 1]],
			"streams form a cycle: %s (expected every component to be fed from a "
			"source)",
			msg);
}

static int check_topology(struct ld *l, const struct tvn_flow_cfg *f)
{
	struct topo t = {0};
	bool source = false, sink = false;
	int err = 0;

	for (int i = 0; i < f->n_comps; i++) {
		source |= f->comps[i].role == TORVYN_ROLE_SOURCE;
		sink |= f->comps[i].role == TORVYN_ROLE_SINK;
	}
	if (!source || !sink)
		return fail_key(l, "components",
				"no %s (expected at least one source and one sink)",
				source ? "sink" : "source");
	push_key(l, "streams");
	for (int k = 0; !err && k < f->n_streams; k++) {
		push_idx(l, k);
		err = check_stream(l, f, k, &t);
		pop(l);
	}
	pop(l);
	if (!err)
		err = check_links(l, f, &t);
	if (!err)
		err = check_cycles(l, f, &t);
	return err;
}

/* ------------------------------------------------------------------ flows */

static int parse_flow(struct ld *l, json_t *jf, struct tvn_flow_cfg *f, long long *replicas)
{
	struct tvn_stream_cfg def = {
	    .capacity = DEF_CAPACITY,
	    .low_watermark = DEF_LOW_WATERMARK,
	    .policy = TORVYN_POLICY_BLOCK_PRODUCER,
	};
	json_t *js;
	int err;

	*replicas = 1;
	f->error_policy = TVN_ERROR_POLICY_SKIP;
	err = need_object(l, jf, "an object {\"id\": ..., \"components\": [...]}");
	if (!err)
		err = check_keys(l, jf, flow_keys, NULL, NULL);
	if (!err)
		err = get_id(l, jf, "id", true, false, f->id);
	if (!err && get_sym(l, jf, "error_policy", false, "error policy", error_policy_syms,
			    &f->error_policy) < 0)
		err = -EINVAL;
	if (!err && get_int(l, jf, "replicas", false, 1, MAX_REPLICAS, "an integer from 1 to 256",
			    replicas) < 0)
		err = -EINVAL;
	if (!err)
		err = parse_queue(l, jf, &def);
	if (!err)
		err = parse_components(l, jf, f);
	if (err)
		return err;
	js = json_object_get(jf, "streams");
	err = js ? parse_streams(l, js, f, &def) : chain_streams(l, f, &def);
	if (!err)
		err = check_topology(l, f);
	return err;
}

static int digits(long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Appends f, replicas times, to cfg; ja is the "flows" array for earlier ids. */
static int add_flow(struct ld *l, struct tvn_pipeline_cfg *cfg, const struct tvn_flow_cfg *f,
		    long long replicas, json_t *ja, size_t idx, int *src)
{
	char id[TORVYN_NAME_LEN + 16];
	struct tvn_flow_cfg *flows;
	size_t len = strlen(f->id);
	int n = cfg->n_flows;

	for (size_t j = 0; j < idx; j++)
		if (!strcmp(f->id, json_string_value(json_object_get(json_array_get(ja, j), "id"))))
			return fail_key(l, "id",
					"duplicate flow id \"%s\" (already used by flows[%zu])",
					f->id, j);
	if (n + replicas > TORVYN_MAX_FLOWS)
		return fail_key(l, "replicas",
				"%lld flows after replica expansion (expected at "
				"most %d in a file)",
				n + replicas, TORVYN_MAX_FLOWS);
	if (replicas > 1 && len + 1 + digits(replicas - 1) > ID_MAX)
		return fail_key(l, "id",
				"\"%s\" is too long for %lld replicas: \"%s-%lld\" has %zu "
				"characters (expected at most %d)",
				f->id, replicas, f->id, replicas - 1,
				len + 1 + digits(replicas - 1), ID_MAX);
	flows = realloc(cfg->flows, (n + replicas) * sizeof(*flows));
	if (!flows)
		return -ENOMEM;
	cfg->flows = flows;
	for (int r = 0; r < replicas; r++) {
		snprintf(id, sizeof(id), replicas > 1 ? "%s-%d" : "%s", f->id, r);
		for (int j = 0; j < cfg->n_flows; j++)
			if (!strcmp(id, flows[j].id))
				return fail_key(l, "id",
						"flow id \"%s\" after replica expansion is "
						"already used by flows[%d] (expected "
						"distinct flow ids)",
						id, src[j]);
		flows[cfg->n_flows] = *f;
		memcpy(flows[cfg->n_flows].id, id, TORVYN_NAME_LEN);
		src[cfg->n_flows++] = idx;
	}
	return 0;
}

static int parse_flows(struct ld *l, json_t *ja, struct tvn_pipeline_cfg *cfg)
{
	int src[TORVYN_MAX_FLOWS];
	struct tvn_flow_cfg *f;
	long long replicas;
	size_t n = json_array_size(ja);
	int err = 0;

	if (!json_is_array(ja))
		return fail(l, "expected an array of 1 to %d flows (got %s)", TORVYN_MAX_FLOWS,
			    jtype(ja));
	if (n < 1 || n > TORVYN_MAX_FLOWS)
		return fail(l, "has %zu (expected 1 to %d flows)", n, TORVYN_MAX_FLOWS);
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		memset(f, 0, sizeof(*f));
		push_idx(l, i);
		err = parse_flow(l, json_array_get(ja, i), f, &replicas);
		if (!err)
			err = add_flow(l, cfg, f, replicas, ja, i, src);
		pop(l);
	}
	free(f);
	return err;
}

static int parse_pipeline(struct ld *l, json_t *root, struct tvn_pipeline_cfg *cfg)
{
	json_t *ja;
	int err;

	err = need_object(l, root, "an object {\"flows\": [...]}");
	if (!err)
		err = check_keys(l, root, top_keys, NULL, NULL);
	if (!err)
		err = get(l, root, "flows", true, "an array of 1 to 256 flows", &ja);
	if (err)
		return err;
	push_key(l, "flows");
	err = parse_flows(l, ja, cfg);
	pop(l);
	return err;
}

static int read_all(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *p;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || n == cap) {
			cap = buf ? cap * 2 : cap;
			p = cap > MAX_FILE_SIZE ? NULL : realloc(buf, cap);
			if (!p) {
				err = cap > MAX_FILE_SIZE ? -EFBIG : -ENOMEM;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		n += r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = n;
	return 0;
}

int tvn_pipeline__load(const char *path, struct tvn_pipeline_cfg *cfg, char *err, size_t errlen)
{
	struct ld l = {.file = path, .err = err, .errlen = errlen};
	json_error_t jerr;
	json_t *root;
	char *text = NULL;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !cfg)
		return -EINVAL;
	cfg->flows = NULL;
	cfg->n_flows = 0;
	ret = read_all(path, &text, &l.len);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	l.text = text;
	root = json_loadb(text, l.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
				 jerr.column, jerr.text);
		ret = -EINVAL;
		goto out;
	}
	ret = parse_pipeline(&l, root, cfg);
	json_decref(root);
	if (ret)
		tvn_pipeline__free(cfg);
out:
	free(text);
	return ret;
}

void tvn_pipeline__free(struct tvn_pipeline_cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->flows);
	cfg->flows = NULL;
	cfg->n_flows = 0;
}
