// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* An exposition checker for the prom unit tests: what a scraper relies on (prom_fixture.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "prom_fixture.h"

static struct pfam *pfam_get(struct parsed *p, const char *name, size_t n, bool add)
{
	for (int i = 0; i < p->n; i++)
		if (strlen(p->f[i].name) == n && !strncmp(p->f[i].name, name, n))
			return &p->f[i];
	if (!add || p->n == MAX_FAMS || n >= sizeof(p->f[0].name))
		return NULL;
	memset(&p->f[p->n], 0, sizeof(p->f[0]));
	memcpy(p->f[p->n].name, name, n);
	return &p->f[p->n++];
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !strncmp(s + n - k, suffix, k);
}

/* The declared family a sample name belongs to. */
static struct pfam *family_of(struct parsed *p, const char *name, size_t n, bool om)
{
	static const char *const hist_sfx[] = {"_bucket", "_sum", "_count"};
	struct pfam *f = pfam_get(p, name, n, false);

	if (f && strcmp(f->type, "histogram") && (!om || strcmp(f->type, "counter")) &&
	    strcmp(f->type, "info"))
		return f;
	for (size_t i = 0; i < ARRAY_SIZE(hist_sfx); i++) {
		if (!ends_with(name, n, hist_sfx[i]))
			continue;
		f = pfam_get(p, name, n - strlen(hist_sfx[i]), false);
		if (f && !strcmp(f->type, "histogram"))
			return f;
	}
	if (om && ends_with(name, n, "_total")) {
		f = pfam_get(p, name, n - 6, false);
		if (f && !strcmp(f->type, "counter"))
			return f;
	}
	if (om && ends_with(name, n, "_info")) {
		f = pfam_get(p, name, n - 5, false);
		if (f && !strcmp(f->type, "info"))
			return f;
	}
	return NULL;
}

/* {k="v",...} value: label syntax with escapes, and a number. */
static bool sample_ok(const char *p, const char *end)
{
	char num[64];
	char *nend;

	if (*p == '{') {
		p++;
		while (p < end && *p != '}') {
			while (p < end && (*p == '_' || (*p >= 'a' && *p <= 'z') ||
					   (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
				p++;
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return false;
			for (p += 2; p < end && *p != '"'; p++)
				if (*p == '\\' &&
				    (++p >= end || (*p != '\\' && *p != '"' && *p != 'n')))
					return false;
			if (p >= end)
				return false;
			p++;
			if (p < end && *p == ',')
				p++;
		}
		if (p >= end)
			return false;
		p++;
	}
	if (p >= end || *p != ' ' || (size_t)(end - p - 1) >= sizeof(num) || end - p < 2)
		return false;
	memcpy(num, p + 1, (size_t)(end - p - 1));
	num[end - p - 1] = '\0';
	if (!strcmp(num, "+Inf") || !strcmp(num, "-Inf") || !strcmp(num, "NaN"))
		return true;
	strtod(num, &nend);
	return *nend == '\0';
}

int check_exposition(const char *text, bool om, struct parsed *p)
{
	struct pfam *cur = NULL;
	bool eof = false;

	memset(p, 0, sizeof(*p));
#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(p->err, sizeof(p->err), __VA_ARGS__);                                     \
		return -1;                                                                         \
	} while (0)
	if (!*text || text[strlen(text) - 1] != '\n')
		BAD("does not end in a newline");
	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		int ll = (int)(end - l);

		if (eof)
			BAD("text after # EOF: %.*s", ll, l);
		if (ll == 5 && !strncmp(l, "# EOF", 5)) {
			if (!om)
				BAD("# EOF in 0.0.4 text");
			eof = true;
		} else if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7) ||
			   !strncmp(l, "# UNIT ", 7)) {
			const char *name = l + 7, *sp = memchr(name, ' ', (size_t)(end - name));
			struct pfam *f;

			if (!sp)
				BAD("metadata without text: %.*s", ll, l);
			f = pfam_get(p, name, (size_t)(sp - name), true);
			if (!f)
				BAD("too many families");
			if (f->closed || (cur && cur != f && (f->help || f->typed)))
				BAD("family %s is not contiguous", f->name);
			if (cur && cur != f)
				cur->closed = true;
			cur = f;
			if (l[2] == 'H') {
				if (f->help)
					BAD("second HELP for %s", f->name);
				f->help = true;
			} else if (l[2] == 'T') {
				size_t tl = (size_t)(end - sp - 1);

				if (f->typed)
					BAD("second TYPE for %s", f->name);
				if (tl >= sizeof(f->type))
					BAD("bad type: %.*s", ll, l);
				memcpy(f->type, sp + 1, tl);
				f->typed = true;
				if (!strcmp(f->type, "counter") &&
				    om == ends_with(f->name, strlen(f->name), "_total"))
					BAD("counter %s: _total %s", f->name,
					    om ? "in OM" : "missing");
				if (!om && count_substr(f->name, "_total") > 1)
					BAD("counter %s: _total twice", f->name);
			} else {
				char u[32];

				if (!om)
					BAD("UNIT in 0.0.4 text");
				snprintf(u, sizeof(u), "_%.*s", (int)(end - sp - 1), sp + 1);
				if (!ends_with(f->name, strlen(f->name), u))
					BAD("family %s does not end in unit %s", f->name, u);
				f->unit = true;
			}
		} else if (l[0] == '#') {
			BAD("unknown comment: %.*s", ll, l);
		} else {
			const char *ne = l;
			struct pfam *f;

			while (ne < end && *ne != '{' && *ne != ' ')
				ne++;
			f = family_of(p, l, (size_t)(ne - l), om);
			if (!f)
				BAD("sample of an undeclared family: %.*s", ll, l);
			if (!f->help || !f->typed)
				BAD("sample before HELP and TYPE: %.*s", ll, l);
			if (f != cur)
				BAD("sample outside its family block: %.*s", ll, l);
			if (!strcmp(f->type, "counter")) {
				char name[160];

				snprintf(name, sizeof(name), "%.*s", (int)(ne - l), l);
				if (count_substr(name, "_total") != 1 ||
				    !ends_with(name, strlen(name), "_total"))
					BAD("counter sample without exactly one _total: %.*s", ll,
					    l);
			}
			if (strcmp(f->type, "counter") && ends_with(l, (size_t)(ne - l), "_total"))
				BAD("non-counter sample ends in _total: %.*s", ll, l);
			if (!sample_ok(ne, end))
				BAD("malformed sample: %.*s", ll, l);
		}
		l = end + 1;
	}
	if (om && !eof)
		BAD("no # EOF");
	for (int i = 0; i < p->n; i++)
		if (!p->f[i].help || !p->f[i].typed)
			BAD("family %s lacks HELP or TYPE", p->f[i].name);
#undef BAD
	return 0;
}

void assert_valid(const char *text, bool om)
{
	struct parsed *p = malloc(sizeof(*p));

	assert_non_null(p);
	if (check_exposition(text, om, p))
		fail_msg("%s exposition: %s", om ? "OpenMetrics" : "0.0.4", p->err);
	free(p);
}
