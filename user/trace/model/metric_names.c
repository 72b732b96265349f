// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OpenTelemetry-to-Prometheus name translation, as the Collector's
 * Prometheus exporter applies it with metric suffixes on: the OTLP name split
 * into words at every character outside [a-zA-Z0-9:], the unit's suffix
 * ("s" -> seconds, "By" -> bytes, "1/s" -> per_second; "{...}" annotations
 * give none) appended unless already one of the words, "total" moved to the
 * end of monotonic sums, "ratio" to the end of gauges in unit "1", the words
 * joined with '_'. The catalogue derives every Prometheus name from its OTLP
 * name this way, so the two vocabularies cannot drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metric_model.h"

#define MAX_WORDS 24
#define WORD_LEN 64

struct unit_word {
	const char *ucum, *prom;
};

/* UCUM units and the words Prometheus names end with. */
static const struct unit_word main_units[] = {
    {"d", "days"},
    {"h", "hours"},
    {"min", "minutes"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"us", "microseconds"},
    {"ns", "nanoseconds"},
    {"By", "bytes"},
    {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},
    {"GiBy", "gibibytes"},
    {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},
    {"MBy", "megabytes"},
    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},
    {"m", "meters"},
    {"V", "volts"},
    {"A", "amperes"},
    {"J", "joules"},
    {"W", "watts"},
    {"g", "grams"},
    {"Cel", "celsius"},
    {"Hz", "hertz"},
    {"1", ""},
    {"%", "percent"},
    {NULL, NULL},
};

/* The unit after '/': "per_<word>". */
static const struct unit_word per_units[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"}, {NULL, NULL},
};

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == ':';
}

static const char *lookup(const struct unit_word *t, const char *u)
{
	for (; t->ucum; t++)
		if (!strcmp(t->ucum, u))
			return t->prom;
	return u;
}

/* s[0..n) without surrounding blanks into out (size WORD_LEN). */
static void trimmed(const char *s, size_t n, char *out)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= WORD_LEN)
		n = WORD_LEN - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* Characters outside names become '_', runs of '_' one, a leading '_' goes. */
static void clean_unit(char *u)
{
	char *o = u;

	for (const char *p = u; *p; p++) {
		char c = name_char(*p) ? *p : '_';

		if (c == '_' && (o == u || o[-1] == '_'))
			continue;
		*o++ = c;
	}
	*o = 0;
}

/* The main and "per" words of a unit, cleaned; either may be empty. */
static void unit_words(const char *unit, char *main_w, char *per_w)
{
	const char *slash = strchr(unit, '/');
	char part[WORD_LEN];

	main_w[0] = per_w[0] = 0;
	trimmed(unit, slash ? (size_t)(slash - unit) : strlen(unit), part);
	if (part[0] && !strpbrk(part, "{}"))
		snprintf(main_w, WORD_LEN, "%s", lookup(main_units, part));
	if (slash && slash[1]) {
		trimmed(slash + 1, strlen(slash + 1), part);
		if (part[0] && !strpbrk(part, "{}") &&
		    snprintf(per_w, WORD_LEN, "per_%s", lookup(per_units, part)) >= WORD_LEN)
			per_w[0] = 0;
	}
	clean_unit(main_w);
	clean_unit(per_w);
}

struct words {
	char w[MAX_WORDS][WORD_LEN];
	int n;
};

static bool has_word(const struct words *ws, const char *w)
{
	for (int i = 0; i < ws->n; i++)
		if (!strcmp(ws->w[i], w))
			return true;
	return false;
}

static int push_word(struct words *ws, const char *w, size_t len)
{
	if (ws->n == MAX_WORDS || len >= WORD_LEN)
		return -ENAMETOOLONG;
	memcpy(ws->w[ws->n], w, len);
	ws->w[ws->n++][len] = 0;
	return 0;
}

/* Drops every occurrence of w, then appends it once. */
static int move_last(struct words *ws, const char *w)
{
	int o = 0;

	for (int i = 0; i < ws->n; i++)
		if (strcmp(ws->w[i], w))
			memmove(ws->w[o++], ws->w[i], WORD_LEN);
	ws->n = o;
	return push_word(ws, w, strlen(w));
}

static void strip_last_underscore(char *w)
{
	size_t n = strlen(w);

	if (n && w[n - 1] == '_')
		w[n - 1] = 0;
}

int tvn_metric_name__unit(const char *unit, char *out, size_t n)
{
	char main_w[WORD_LEN], per_w[WORD_LEN];

	if (!unit || !out || !n)
		return -EINVAL;
	unit_words(unit, main_w, per_w);
	if (!strcmp(per_w, "per_"))
		per_w[0] = 0;
	strip_last_underscore(per_w);
	if (per_w[0])
		strip_last_underscore(main_w);
	if ((size_t)snprintf(out, n, "%s%s%s", main_w, main_w[0] && per_w[0] ? "_" : "", per_w) >=
	    n)
		return -ENAMETOOLONG;
	return 0;
}

int tvn_metric_name__prom(const char *otlp, const char *unit, enum tvn_metric_name_kind kind,
			  char *out, size_t n)
{
	char main_w[WORD_LEN], per_w[WORD_LEN];
	struct words ws = {.n = 0};
	size_t o = 0;
	int ret = 0;

	if (!otlp || !out || !n)
		return -EINVAL;
	for (const char *p = otlp; *p && !ret;) {
		size_t len = 0;

		while (p[len] && name_char(p[len]))
			len++;
		if (len)
			ret = push_word(&ws, p, len);
		p += len;
		while (*p && !name_char(*p))
			p++;
	}
	unit_words(unit ? unit : "", main_w, per_w);
	if (has_word(&ws, main_w))
		main_w[0] = 0;
	if (!strcmp(per_w, "per_"))
		per_w[0] = 0;
	strip_last_underscore(per_w);
	if (has_word(&ws, per_w))
		per_w[0] = 0;
	if (per_w[0])
		strip_last_underscore(main_w);
	if (!ret && main_w[0])
		ret = push_word(&ws, main_w, strlen(main_w));
	if (!ret && per_w[0])
		ret = push_word(&ws, per_w, strlen(per_w));
	if (!ret && kind == TVN_NAME_COUNTER)
		ret = move_last(&ws, "total");
	if (!ret && kind == TVN_NAME_GAUGE && unit && !strcmp(unit, "1"))
		ret = move_last(&ws, "ratio");
	if (ret)
		return ret;
	if (!ws.n)
		return -EINVAL;
	if (isdigit((unsigned char)ws.w[0][0]))
		out[o++] = '_';
	for (int i = 0; i < ws.n; i++) {
		size_t len = strlen(ws.w[i]);

		if (o + len + 2 > n)
			return -ENAMETOOLONG;
		if (i)
			out[o++] = '_';
		memcpy(out + o, ws.w[i], len);
		o += len;
	}
	out[o] = 0;
	return 0;
}

enum tvn_metric_name_kind tvn_metric_name__kind(enum metric_type t)
{
	return t == METRIC_COUNTER     ? TVN_NAME_COUNTER
	       : t == METRIC_HISTOGRAM ? TVN_NAME_HISTOGRAM
				       : TVN_NAME_GAUGE;
}
