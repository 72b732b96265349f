// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Positions in a pipeline file: jansson keeps no positions for values, so a
 * small tokenizer walks the raw text along the field's path to find its line.
 */
#include <stdbool.h>
#include <string.h>

#include "pipeline_internal.h"

/* A cursor in the text; line is the line p is on. */
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

/* ------------------------------------------------------------ the path's line */

/*
 * The line where the value at the current path (or its key) starts; where the
 * path leaves the text (a missing field), the line of the deepest value found.
 */
int tvn_doc__line(const struct tvn_doc *doc)
{
	struct tok t = {doc->text, doc->text + doc->len, 1};
	int line, best;

	tk_ws(&t);
	best = t.line;
	for (int d = 0; d < tvn_doc__depth(doc); d++) {
		const struct tvn_doc_step *s = &doc->path[d];

		line = s->key ? tk_member(&t, s->key) : tk_element(&t, s->idx);
		if (!line)
			break;
		best = line;
	}
	return best;
}
