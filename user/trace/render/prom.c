// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus text 0.0.4 and OpenMetrics 1.0 rendering of a snapshot.
 *
 * The families and their samples come from the metric model's walk
 * (metric_model.h); this file only formats them. A family's HELP/TYPE (and
 * UNIT) lines are written when the walk begins it, just before its first
 * sample, so families without samples leave no trace. Each sample line is
 * written with one reserve of the output buffer: a 100-flow snapshot is tens
 * of thousands of lines.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "metric_model.h"
#include "bounds.h"
#include "prom.h"

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

#define NS_PER_SEC 1000000000ULL

/* ------------------------------------------------------------ output buffer */

struct pbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Room for n more bytes and the final NUL. */
static bool pb_reserve(struct pbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->cap - b->len > n)
		return true;
	cap = b->cap ? b->cap : 65536;
	while (cap - b->len <= n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void pb_put(struct pbuf *b, const char *s, size_t n)
{
	if (!pb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void pb_str(struct pbuf *b, const char *s)
{
	pb_put(b, s, strlen(s));
}

/* ------------------------------------------------------------ numbers */

struct num {
	size_t n;
	char s[40];
};

static void num_u64(struct num *v, uint64_t x)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	v->n = sizeof(tmp) - i;
	memcpy(v->s, tmp + i, v->n);
}

static void num_i64(struct num *v, int64_t x)
{
	if (x >= 0) {
		num_u64(v, (uint64_t)x);
		return;
	}
	num_u64(v, -(uint64_t)x);
	memmove(v->s + 1, v->s, v->n);
	v->s[0] = '-';
	v->n++;
}

/* Nanoseconds as exact decimal seconds, nine fraction digits. */
static void num_ns(struct num *v, uint64_t ns)
{
	uint64_t frac = ns % NS_PER_SEC;

	num_u64(v, ns / NS_PER_SEC);
	for (int i = 9; i > 0; i--) {
		v->s[v->n + i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	v->s[v->n] = '.';
	v->n += 10;
}

/* The shortest %g form that reads back as the same double. */
static void num_dbl(struct num *v, double d)
{
	int n = 0;

	if (isnan(d)) {
		n = snprintf(v->s, sizeof(v->s), "NaN");
	} else if (isinf(d)) {
		n = snprintf(v->s, sizeof(v->s), d > 0 ? "+Inf" : "-Inf");
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			n = snprintf(v->s, sizeof(v->s), "%.*g", prec, d);
			if (strtod(v->s, NULL) == d)
				break;
		}
	}
	v->n = n > 0 ? (size_t)n : 0;
}

/* A value other than a histogram, as its kind wants it. */
static void num_value(struct num *v, const struct tvn_metric_value *val)
{
	if (val->kind == METRIC_I64)
		num_i64(v, val->i);
	else if (val->kind == METRIC_DBL)
		num_dbl(v, val->d);
	else if (val->kind == METRIC_NS)
		num_ns(v, val->u);
	else
		num_u64(v, val->u);
}

/* ------------------------------------------------------------ labels */

/* Big enough for the widest label set: pid and a 255-byte exe, each byte
 * escaped to at most 3 (U+FFFD for invalid UTF-8). */
#define LB_MAX 2048

struct lbuf {
	size_t n;
	char s[LB_MAX];
};

/*
 * Appends key="value" with value escaped (backslash, double quote, newline)
 * and bytes that are not UTF-8 replaced by U+FFFD: names come from the traced
 * process, and one bad byte would make Prometheus reject the whole scrape.
 * value is read up to a NUL or vmax bytes: host names need not end in NUL.
 */
static void lb_add(struct lbuf *l, const char *key, const char *value, size_t vmax)
{
	const unsigned char *v = (const unsigned char *)value;
	size_t vlen = strnlen(value, vmax), klen = strlen(key);
	char *o;

	if (l->n + klen + 4 + 3 * vlen > LB_MAX)
		return; /* cannot happen with the fixed name sizes; never write a torn label */
	o = l->s + l->n;
	if (l->n)
		*o++ = ',';
	memcpy(o, key, klen);
	o += klen;
	*o++ = '=';
	*o++ = '"';
	for (size_t i = 0; i < vlen;) {
		size_t k;

		if (v[i] >= 0x20 && v[i] < 0x80 && v[i] != '\\' && v[i] != '"') {
			*o++ = (char)v[i++];
			continue;
		}
		k = tvn_metric_model__utf8_seq(v + i, vlen - i);
		if (k == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (v[i] == '\\' || v[i] == '"' || v[i] == '\n') {
			*o++ = '\\';
			*o++ = v[i] == '\n' ? 'n' : (char)v[i];
		} else {
			memcpy(o, v + i, k);
			o += k;
		}
		i += k;
	}
	*o++ = '"';
	l->n = (size_t)(o - l->s);
}

/* ------------------------------------------------------------ families */

struct ctx {
	bool om;
	struct pbuf b;
	/*
	 * The `le` labels, from the one bounds list (render/bounds.c), in seconds
	 * as Prometheus clients print them; OpenMetrics wants integral values
	 * with ".0", which put_hist() adds.
	 */
	char le[TORVYN_LAT_BOUNDS][24];
};

static const char *const type_text[] = {
    [METRIC_COUNTER] = "counter", [METRIC_GAUGE] = "gauge", [METRIC_HISTOGRAM] = "histogram",
    [METRIC_STATESET] = "gauge",  [METRIC_INFO] = "gauge",
};

static const char *const type_om[] = {
    [METRIC_COUNTER] = "counter",   [METRIC_GAUGE] = "gauge", [METRIC_HISTOGRAM] = "histogram",
    [METRIC_STATESET] = "stateset", [METRIC_INFO] = "info",
};

/* The suffix of a family's plain samples: also part of its 0.0.4 name. */
static const char *sample_suffix(const struct tvn_metric_family *f)
{
	return f->type == METRIC_COUNTER ? "_total" : f->type == METRIC_INFO ? "_info" : "";
}

static void put_meta(struct ctx *c, const char *what, const struct tvn_metric_family *f,
		     const char *text)
{
	struct pbuf *b = &c->b;

	pb_str(b, what);
	pb_str(b, f->prom);
	if (!c->om)
		pb_str(b, sample_suffix(f));
	pb_put(b, " ", 1);
	pb_str(b, text);
	pb_put(b, "\n", 1);
}

/* The HELP/TYPE (and UNIT) lines, just before a family's first sample. */
static int put_head(void *ctx, const struct tvn_metric_family *f)
{
	struct ctx *c = ctx;

	if (!c->om) {
		put_meta(c, "# HELP ", f, f->help);
		put_meta(c, "# TYPE ", f, type_text[f->type]);
	} else {
		put_meta(c, "# TYPE ", f, type_om[f->type]);
		if (f->prom_unit)
			put_meta(c, "# UNIT ", f, f->prom_unit);
		put_meta(c, "# HELP ", f, f->help);
	}
	return c->b.oom ? -ENOMEM : 0;
}

/* One sample line: name+sfx{labels} value. */
static void line(struct ctx *c, const struct tvn_metric_family *f, const char *sfx,
		 const struct lbuf *l, const struct num *v)
{
	struct pbuf *b = &c->b;
	size_t nl = strlen(f->prom), sl = strlen(sfx);
	char *o;

	if (!pb_reserve(b, nl + sl + l->n + v->n + 8))
		return;
	o = b->p + b->len;
	memcpy(o, f->prom, nl);
	o += nl;
	memcpy(o, sfx, sl);
	o += sl;
	if (l->n) {
		*o++ = '{';
		memcpy(o, l->s, l->n);
		o += l->n;
		*o++ = '}';
	}
	*o++ = ' ';
	memcpy(o, v->s, v->n);
	o += v->n;
	*o++ = '\n';
	b->len = (size_t)(o - b->p);
}

/*
 * Prometheus wants the buckets cumulative; +Inf and _count are the model's
 * count. The 26 bucket lines share name{labels,le=" which is built once.
 */
static void put_hist(struct ctx *c, const struct tvn_metric_family *f, const struct lbuf *l,
		     const struct tvn_metric_hist *h)
{
	struct pbuf *b = &c->b;
	size_t nl = strlen(f->prom), pn = nl + sizeof("_bucket{,le=\"") + l->n;
	uint64_t cum = 0;
	struct num v;
	char *o;

	for (int i = 0; i <= TORVYN_LAT_BOUNDS; i++) {
		const char *bound = i < TORVYN_LAT_BOUNDS ? c->le[i] : "+Inf";
		size_t bl = strlen(bound);
		bool integral = c->om && i < TORVYN_LAT_BOUNDS && !strpbrk(bound, ".e");

		if (i < TORVYN_LAT_BOUNDS)
			cum += h->bucket[i];
		num_u64(&v, i < TORVYN_LAT_BOUNDS ? cum : h->count);
		if (!pb_reserve(b, pn + bl + 2 + v.n + 4))
			return;
		o = b->p + b->len;
		memcpy(o, f->prom, nl);
		o += nl;
		memcpy(o, "_bucket{", 8);
		o += 8;
		memcpy(o, l->s, l->n);
		o += l->n;
		if (l->n)
			*o++ = ',';
		memcpy(o, "le=\"", 4);
		o += 4;
		memcpy(o, bound, bl);
		o += bl;
		if (integral) {
			memcpy(o, ".0", 2);
			o += 2;
		}
		memcpy(o, "\"} ", 3);
		o += 3;
		memcpy(o, v.s, v.n);
		o += v.n;
		*o++ = '\n';
		b->len = (size_t)(o - b->p);
	}
	num_ns(&v, h->sum_ns);
	line(c, f, "_sum", l, &v);
	num_u64(&v, h->count);
	line(c, f, "_count", l, &v);
}

/* The stateset's label is named after its family in both formats (the catalogue's). */
static int put_sample(void *ctx, const struct tvn_metric_family *f,
		      const struct tvn_metric_label *ls, int n, const struct tvn_metric_value *val)
{
	struct ctx *c = ctx;
	struct lbuf l = {.n = 0};
	struct num v;

	for (int i = 0; i < n; i++)
		lb_add(&l, ls[i].key, ls[i].val, ls[i].vmax);
	if (val->kind == METRIC_HIST) {
		put_hist(c, f, &l, val->h);
	} else {
		num_value(&v, val);
		line(c, f, sample_suffix(f), &l, &v);
	}
	return c->b.oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ rendering */

int tvn_prom__render_many(const struct tvn_metric_target *t, int n, bool openmetrics,
			  const char *trailer, char **buf, size_t *len)
{
	static const struct tvn_metric_visitor visitor = {.begin = put_head, .sample = put_sample};
	struct ctx c = {.om = openmetrics};
	int err;

	if ((!t && n) || !buf || !len)
		return -EINVAL;
	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		if (tvn_bounds__format(tvn_lat_bounds_s[i], c.le[i], sizeof(c.le[i])) < 0)
			return -EINVAL;
	}
	*buf = NULL;
	*len = 0;
	err = tvn_metric_model__walk_many(t, n, tvn_time__mono_ns(), &visitor, &c);
	if (trailer)
		pb_str(&c.b, trailer);
	if (openmetrics)
		pb_str(&c.b, "# EOF\n");
	if (err || !pb_reserve(&c.b, 0)) {
		free(c.b.p);
		return err ? err : -ENOMEM;
	}
	c.b.p[c.b.len] = '\0';
	*buf = c.b.p;
	*len = c.b.len;
	return 0;
}

int tvn_prom__render(const struct tvn_snapshot *s, bool openmetrics, char **buf, size_t *len)
{
	struct tvn_metric_target t = {.s = s};

	if (!s)
		return -EINVAL;
	return tvn_prom__render_many(&t, 1, openmetrics, NULL, buf, len);
}

const char *tvn_prom__content_type(bool openmetrics)
{
	return openmetrics ? CT_OPENMETRICS : CT_TEXT;
}

/* ------------------------------------------------------------ Accept */

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *find_ch(const char *p, const char *end, char ch)
{
	while (p < end && *p != ch)
		p++;
	return p < end ? p : NULL;
}

static bool token_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(p, want, n) == 0;
}

/* An RFC 9110 qvalue in thousandths, or -1 when malformed. */
static int parse_q(const char *p, size_t n)
{
	int q, scale = 100;

	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	q = (p[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (p[1] != '.' || n > 5)
		return -1;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* One media range [p, end): its q (-1 if malformed) and whether it is ours. */
static int range_q(const char *p, const char *end, bool *is_om, bool *is_text)
{
	const char *semi = find_ch(p, end, ';');
	const char *tend = semi ? semi : end;
	int q = 1000;

	while (tend > p && (tend[-1] == ' ' || tend[-1] == '\t'))
		tend--;
	*is_om = token_is(p, (size_t)(tend - p), "application/openmetrics-text");
	*is_text = token_is(p, (size_t)(tend - p), "text/plain") ||
		   token_is(p, (size_t)(tend - p), "text/*") ||
		   token_is(p, (size_t)(tend - p), "*/*");
	while (semi) {
		const char *pp = skip_ows(semi + 1, end), *pend;

		semi = find_ch(pp, end, ';');
		pend = semi ? semi : end;
		while (pend > pp && (pend[-1] == ' ' || pend[-1] == '\t'))
			pend--;
		if (pend - pp >= 2 && (pp[0] == 'q' || pp[0] == 'Q') && pp[1] == '=')
			q = parse_q(pp + 2, (size_t)(pend - pp - 2));
	}
	return q;
}

bool tvn_prom__wants_openmetrics(const char *accept)
{
	int om_q = -1, text_q = -1, om_at = 0, text_at = 0, at = 0;
	const char *p = accept;

	if (!accept)
		return false;
	while (*p) {
		const char *end = strchr(p, ','), *start;
		bool is_om, is_text;
		int q;

		if (!end)
			end = p + strlen(p);
		start = skip_ows(p, end);
		q = range_q(start, end, &is_om, &is_text);
		if (q >= 0 && is_om && q > om_q) {
			om_q = q;
			om_at = at;
		}
		if (q >= 0 && is_text && q > text_q) {
			text_q = q;
			text_at = at;
		}
		at++;
		p = *end ? end + 1 : end;
	}
	return om_q > 0 && (om_q > text_q || (om_q == text_q && om_at < text_at));
}
