// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The grammar, per line: blank; "#" and anything (HELP, TYPE, EOF or a
 * comment); or NAME ["{" LABEL="VALUE" {"," LABEL="VALUE"} [","] "}"] VALUE
 * [TIMESTAMP], tokens separated by spaces or tabs. Each line is copied into
 * a scratch buffer where names and unescaped values are NUL-terminated in
 * place, so a sample costs no allocation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

struct line {
	char *p; /* the cursor in the scratch copy of the line */
	struct tvn_promtext_label labels[TVN_PROMTEXT_MAX_LABELS];
	struct tvn_promtext_sample s;
};

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static void skip_blank(struct line *l)
{
	while (*l->p == ' ' || *l->p == '\t')
		l->p++;
}

/* A metric (colon allowed) or label name at the cursor; its end is left for the caller. */
static char *name(struct line *l, bool colon)
{
	char *start = l->p;

	if (!name_char(*l->p, true, colon))
		return NULL;
	while (name_char(*l->p, false, colon))
		l->p++;
	return start;
}

/* A quoted value at the cursor, unescaped in place and NUL-terminated. */
static char *quoted(struct line *l)
{
	char *out, *start;

	if (*l->p != '"')
		return NULL;
	start = out = ++l->p;
	for (;;) {
		char c = *l->p++;

		if (!c)
			return NULL;
		if (c == '"')
			break;
		if (c == '\\') {
			c = *l->p++;
			if (c == 'n')
				c = '\n';
			else if (c != '\\' && c != '"')
				return NULL;
		}
		*out++ = c;
	}
	*out = '\0';
	return start;
}

/* The label set after "{": 0, -EINVAL or -E2BIG. */
static int labels(struct line *l)
{
	for (;;) {
		struct tvn_promtext_label *lb;
		char *n;

		skip_blank(l);
		if (*l->p == '}') {
			l->p++;
			return 0;
		}
		if (l->s.n_labels == TVN_PROMTEXT_MAX_LABELS)
			return -E2BIG;
		n = name(l, false);
		if (!n)
			return -EINVAL;
		lb = &l->labels[l->s.n_labels++];
		lb->name = n;
		if (*l->p == '=') {
			*l->p++ = '\0';
		} else {
			if (*l->p != ' ' && *l->p != '\t')
				return -EINVAL;
			*l->p++ = '\0';
			skip_blank(l);
			if (*l->p++ != '=')
				return -EINVAL;
		}
		skip_blank(l);
		lb->value = quoted(l);
		if (!lb->value)
			return -EINVAL;
		skip_blank(l);
		if (*l->p == ',')
			l->p++;
		else if (*l->p != '}')
			return -EINVAL;
	}
}

/* "NaN", "+Inf", "-Inf" or a Go/C float; the token must end at a blank or the line's end. */
static int value(struct line *l, double *v)
{
	char *end;

	if (!*l->p || *l->p == ' ' || *l->p == '\t')
		return -EINVAL;
	*v = strtod(l->p, &end);
	if (end == l->p || (*end && *end != ' ' && *end != '\t'))
		return -EINVAL;
	l->p = end;
	return 0;
}

/* An optional integer timestamp (milliseconds), then nothing. */
static int rest(struct line *l)
{
	skip_blank(l);
	if (*l->p == '-' || *l->p == '+')
		l->p++;
	while (*l->p >= '0' && *l->p <= '9')
		l->p++;
	skip_blank(l);
	return *l->p ? -EINVAL : 0;
}

static int sample(struct line *l)
{
	char *n = name(l, true);
	bool brace;
	int rc;

	l->s = (struct tvn_promtext_sample){.name = n, .labels = l->labels};
	if (!n || (*l->p != '{' && *l->p != ' ' && *l->p != '\t'))
		return -EINVAL;
	/* the name ends where its label set or its blank begins */
	brace = *l->p == '{';
	*l->p++ = '\0';
	if (!brace) {
		skip_blank(l);
		brace = *l->p == '{';
		l->p += brace;
	}
	if (brace && (rc = labels(l)))
		return rc;
	skip_blank(l);
	if ((rc = value(l, &l->s.value)))
		return rc;
	return rest(l);
}

int tvn_promtext__parse(const char *text, size_t len, tvn_promtext_fn fn, void *ctx, int *bad_line)
{
	struct line l;
	size_t cap = 0, off = 0;
	char *scratch = NULL;
	int no = 0, rc = 0;

	while (off < len && !rc) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = (nl ? (size_t)(nl - text) : len) - off;

		no++;
		if (n + 1 > cap) {
			char *p = realloc(scratch, n + 64);

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			scratch = p;
			cap = n + 64;
		}
		memcpy(scratch, text + off, n);
		if (n && scratch[n - 1] == '\r')
			n--;
		scratch[n] = '\0';
		off = nl ? (size_t)(nl - text) + 1 : len;
		l.p = scratch;
		skip_blank(&l);
		if (!*l.p || *l.p == '#')
			continue;
		rc = sample(&l);
		if (!rc)
			rc = fn(ctx, &l.s);
		else if (bad_line)
			*bad_line = no;
	}
	free(scratch);
	return rc;
}

const char *tvn_promtext__label(const struct tvn_promtext_sample *s, const char *name)
{
	for (int i = 0; i < s->n_labels; i++) {
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	}
	return NULL;
}
