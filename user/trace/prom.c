// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus text 0.0.4 and OpenMetrics 1.0 rendering of a snapshot.
 *
 * One table lists every family in exposition order with where its samples
 * come from; the renderer walks it once. A family's HELP/TYPE (and UNIT)
 * lines are written just before its first sample, so families without
 * samples leave no trace. Each sample line is written with one reserve of
 * the output buffer: a 100-flow snapshot is tens of thousands of lines.
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

#include "prom.h"
#include "snapshot.h"
#include "torvyn_names.h"

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_PER_SEC 1000000000ULL

/* The latency bounds of UPSTREAM.md (100 ns .. 10 s) in seconds, as Go's
 * strconv 'g' prints them (what Prometheus clients emit); OpenMetrics wants
 * integral values with ".0". */
/* clang-format off */
static const char *const le_text[TORVYN_LAT_BOUNDS] = {
	"1e-07", "2.5e-07", "5e-07",
	"1e-06", "2.5e-06", "5e-06",
	"1e-05", "2.5e-05", "5e-05",
	"0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005",
	"0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5",
	"1", "2.5", "5",
	"10",
};

static const char *const le_om[TORVYN_LAT_BOUNDS] = {
	"1e-07", "2.5e-07", "5e-07",
	"1e-06", "2.5e-06", "5e-06",
	"1e-05", "2.5e-05", "5e-05",
	"0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005",
	"0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5",
	"1.0", "2.5", "5.0",
	"10.0",
};
/* clang-format on */

_Static_assert(ARRAY_SIZE(torvyn_probe_names) == TVN_P_COUNT, "a probe has no name");
_Static_assert(ARRAY_SIZE(torvyn_promote_names) == 3, "promoted_total[] has 3 reasons");
_Static_assert(TORVYN_FLOW_FAILED == TORVYN_FLOW_STATES - 1, "flow states changed");

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

/* ------------------------------------------------------------ labels */

/* Big enough for the widest label set: pid and a 255-byte exe, each byte
 * escaped to at most 3 (U+FFFD for invalid UTF-8). */
#define LB_MAX 1024

struct lbuf {
	size_t n;
	char s[LB_MAX];
};

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

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
		k = utf8_seq(v + i, vlen - i);
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

static void lb_add_u64(struct lbuf *l, const char *key, uint64_t x)
{
	struct num v;

	num_u64(&v, x);
	v.s[v.n] = '\0';
	lb_add(l, key, v.s, sizeof(v.s));
}

/* A name from a block, or the index when the block is absent or unnamed. */
static void lb_name(struct lbuf *l, const char *key, const char *name, uint64_t idx)
{
	if (name && name[0])
		lb_add(l, key, name, TORVYN_NAME_LEN);
	else
		lb_add_u64(l, key, idx);
}

static const char *flow_name(const struct snapshot *s, uint64_t fi)
{
	const struct snap_flow *f;

	if (!s->flows || fi >= (uint64_t)s->n_flows)
		return NULL;
	f = &s->flows[fi];
	if (f->present)
		return f->blk.hdr.flow_name;
	/* Diagnostic entries may come without the flow's block: any block of
	 * the flow carries its name. */
	for (int i = 0; i < TORVYN_MAX_COMPONENTS; i++)
		if (f->comps[i].present)
			return f->comps[i].blk.hdr.flow_name;
	for (int i = 0; i < TORVYN_MAX_STREAMS; i++)
		if (f->streams[i].present)
			return f->streams[i].blk.hdr.flow_name;
	return NULL;
}

static const char *comp_name(const struct snapshot *s, uint64_t fi, uint64_t ci)
{
	const struct snap_comp *c;

	if (!s->flows || fi >= (uint64_t)s->n_flows || ci >= TORVYN_MAX_COMPONENTS)
		return NULL;
	c = &s->flows[fi].comps[ci];
	return c->present ? c->blk.hdr.name : NULL;
}

static const char *stream_name(const struct snapshot *s, uint64_t fi, uint64_t si)
{
	const struct snap_stream *st = &s->flows[fi].streams[si];

	return st->present ? st->blk.hdr.name : NULL;
}

/* ------------------------------------------------------------ families */

enum ftype { T_COUNTER, T_GAUGE, T_HISTOGRAM, T_STATESET, T_INFO };

/* Where a family's samples come from: each entity that has data gives one
 * label set and a base pointer that the family's offset applies to. */
enum src {
	SRC_FLOW,    /* present flows: struct torvyn_flow_block */
	SRC_COMP,    /* present components: struct torvyn_component_block */
	SRC_STREAM,  /* present streams: struct torvyn_stream_block */
	SRC_TIER,    /* pool torvyn_tier_names if have_pool: struct torvyn_pool_tier */
	SRC_SYS,     /* if have_sys: struct torvyn_system_block */
	SRC_DCOMP,   /* components with has_diag: struct tvn_invoke_val */
	SRC_DSTREAM, /* streams with has_diag: struct tvn_queue_val */
	SRC_DPOOL,   /* torvyn_tier_names if has_diag_pool: struct tvn_pool_val */
	SRC_SELF,    /* always: struct snapshot */
	SRC_OWN,     /* the family's fn walks the snapshot itself */
};

enum val {
	V_U64,	/* __u64 at off */
	V_U32,	/* __u32 at off */
	V_INT,	/* int at off */
	V_DBL,	/* double at off */
	V_NS,	/* __u64 nanoseconds at off, rendered in seconds */
	V_HIST, /* struct torvyn_hist_lat at off */
	V_ARR,	/* __u64[n_names] at off, one sample per name, label lkey */
	V_FN,	/* fn renders the entity's samples */
};

struct ctx;
struct fam;
typedef void (*fam_fn)(struct ctx *c, const struct fam *f, const void *base, const struct lbuf *l);

struct fam {
	const char *name; /* OpenMetrics family name: without _total or _info */
	enum ftype type;
	const char *unit; /* "seconds", "bytes" or NULL; name ends in _<unit> */
	const char *help;
	enum src src;
	enum val val;
	size_t off;
	fam_fn fn;
	const char *lkey; /* V_ARR */
	const char *const *names;
	size_t n_names;
};

struct ctx {
	const struct snapshot *s;
	bool om;
	uint64_t now_ns;
	const uint32_t *xfer_order; /* transfers sorted by flow, from, to */
	struct pbuf b;
	const struct fam *head_done; /* the family whose header is out */
};

static const char *const type_text[] = {
    [T_COUNTER] = "counter", [T_GAUGE] = "gauge", [T_HISTOGRAM] = "histogram",
    [T_STATESET] = "gauge",  [T_INFO] = "gauge",
};

static const char *const type_om[] = {
    [T_COUNTER] = "counter",   [T_GAUGE] = "gauge", [T_HISTOGRAM] = "histogram",
    [T_STATESET] = "stateset", [T_INFO] = "info",
};

/* The suffix of a family's plain samples: also part of its 0.0.4 name. */
static const char *sample_suffix(const struct fam *f)
{
	return f->type == T_COUNTER ? "_total" : f->type == T_INFO ? "_info" : "";
}

static void put_meta(struct ctx *c, const char *what, const struct fam *f, const char *text)
{
	struct pbuf *b = &c->b;

	pb_str(b, what);
	pb_str(b, f->name);
	if (!c->om)
		pb_str(b, sample_suffix(f));
	pb_put(b, " ", 1);
	pb_str(b, text);
	pb_put(b, "\n", 1);
}

static void put_head(struct ctx *c, const struct fam *f)
{
	if (c->head_done == f)
		return;
	c->head_done = f;
	if (!c->om) {
		put_meta(c, "# HELP ", f, f->help);
		put_meta(c, "# TYPE ", f, type_text[f->type]);
		return;
	}
	put_meta(c, "# TYPE ", f, type_om[f->type]);
	if (f->unit)
		put_meta(c, "# UNIT ", f, f->unit);
	put_meta(c, "# HELP ", f, f->help);
}

/* One sample line: name+sfx{labels,xkey="xval"} value. xval is a fixed string. */
static void line(struct ctx *c, const struct fam *f, const char *sfx, const struct lbuf *l,
		 const char *xkey, const char *xval, const struct num *v)
{
	struct pbuf *b = &c->b;
	size_t nl = strlen(f->name), sl = strlen(sfx);
	size_t kl = xkey ? strlen(xkey) : 0, xl = xkey ? strlen(xval) : 0;
	char *o;

	put_head(c, f);
	if (!pb_reserve(b, nl + sl + l->n + kl + xl + v->n + 8))
		return;
	o = b->p + b->len;
	memcpy(o, f->name, nl);
	o += nl;
	memcpy(o, sfx, sl);
	o += sl;
	if (l->n || xkey) {
		*o++ = '{';
		memcpy(o, l->s, l->n);
		o += l->n;
		if (xkey) {
			if (l->n)
				*o++ = ',';
			memcpy(o, xkey, kl);
			o += kl;
			*o++ = '=';
			*o++ = '"';
			memcpy(o, xval, xl);
			o += xl;
			*o++ = '"';
		}
		*o++ = '}';
	}
	*o++ = ' ';
	memcpy(o, v->s, v->n);
	o += v->n;
	*o++ = '\n';
	b->len = (size_t)(o - b->p);
}

static uint64_t rd_u64(const void *base, size_t off)
{
	uint64_t x;

	memcpy(&x, (const char *)base + off, sizeof(x));
	return x;
}

/*
 * The block holds per-bucket counts; Prometheus wants them cumulative. A
 * block read mid-update may have count behind its buckets: +Inf and _count
 * take the larger, so the buckets stay monotonic and _count equals +Inf.
 * The 26 bucket lines share name{labels,le=" which is built once.
 */
static void put_hist(struct ctx *c, const struct fam *f, const struct lbuf *l,
		     const struct torvyn_hist_lat *h)
{
	const char *const *le = c->om ? le_om : le_text;
	struct pbuf *b = &c->b;
	size_t nl = strlen(f->name), pn = nl + sizeof("_bucket{,le=\"") + l->n;
	uint64_t cum = 0, total;
	struct num v;
	char *o;

	put_head(c, f);
	for (int i = 0; i <= TORVYN_LAT_BOUNDS; i++) {
		const char *bound = i < TORVYN_LAT_BOUNDS ? le[i] : "+Inf";
		size_t bl = strlen(bound);

		if (i < TORVYN_LAT_BOUNDS)
			cum += h->bucket[i];
		total = h->count > cum ? h->count : cum;
		num_u64(&v, i < TORVYN_LAT_BOUNDS ? cum : total);
		if (!pb_reserve(b, pn + bl + v.n + 4))
			return;
		o = b->p + b->len;
		memcpy(o, f->name, nl);
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
		memcpy(o, "\"} ", 3);
		o += 3;
		memcpy(o, v.s, v.n);
		o += v.n;
		*o++ = '\n';
		b->len = (size_t)(o - b->p);
	}
	num_ns(&v, h->sum_ns);
	line(c, f, "_sum", l, NULL, NULL, &v);
	num_u64(&v, total);
	line(c, f, "_count", l, NULL, NULL, &v);
}

static void put_entity(struct ctx *c, const struct fam *f, const void *base, const struct lbuf *l)
{
	const char *p = (const char *)base + f->off;
	struct num v;
	uint32_t u32;
	double d;
	int i;

	switch (f->val) {
	case V_U64:
		num_u64(&v, rd_u64(base, f->off));
		break;
	case V_U32:
		memcpy(&u32, p, sizeof(u32));
		num_u64(&v, u32);
		break;
	case V_INT:
		memcpy(&i, p, sizeof(i));
		num_i64(&v, i);
		break;
	case V_DBL:
		memcpy(&d, p, sizeof(d));
		num_dbl(&v, d);
		break;
	case V_NS:
		num_ns(&v, rd_u64(base, f->off));
		break;
	case V_HIST:
		put_hist(c, f, l, (const struct torvyn_hist_lat *)p);
		return;
	case V_ARR:
		for (size_t k = 0; k < f->n_names; k++) {
			num_u64(&v, rd_u64(base, f->off + k * sizeof(__u64)));
			line(c, f, sample_suffix(f), l, f->lkey, f->names[k], &v);
		}
		return;
	case V_FN:
		f->fn(c, f, base, l);
		return;
	}
	line(c, f, sample_suffix(f), l, NULL, NULL, &v);
}

static void lb_flow(struct lbuf *l, const struct snapshot *s, int fi)
{
	l->n = 0;
	lb_name(l, "flow_id", flow_name(s, (uint64_t)fi), (uint64_t)fi);
}

static void walk_flows(struct ctx *c, const struct fam *f)
{
	const struct snapshot *s = c->s;
	struct lbuf l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		if (!s->flows[fi].present)
			continue;
		lb_flow(&l, s, fi);
		put_entity(c, f, &s->flows[fi].blk, &l);
	}
}

static void walk_comps(struct ctx *c, const struct fam *f, bool diag)
{
	const struct snapshot *s = c->s;
	struct lbuf l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct snap_comp *sc = &s->flows[fi].comps[ci];

			if (!(diag ? sc->has_diag : sc->present))
				continue;
			lb_flow(&l, s, fi);
			lb_name(&l, "component_id", comp_name(s, fi, ci), ci);
			put_entity(c, f, diag ? (const void *)&sc->diag : &sc->blk, &l);
		}
	}
}

static void walk_streams(struct ctx *c, const struct fam *f, bool diag)
{
	const struct snapshot *s = c->s;
	struct lbuf l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int si = 0; si < TORVYN_MAX_STREAMS; si++) {
			const struct snap_stream *st = &s->flows[fi].streams[si];

			if (!(diag ? st->has_diag : st->present))
				continue;
			lb_flow(&l, s, fi);
			lb_name(&l, "stream_id", stream_name(s, fi, si), si);
			put_entity(c, f, diag ? (const void *)&st->diag : &st->blk, &l);
		}
	}
}

static void walk_tiers(struct ctx *c, const struct fam *f, bool diag)
{
	const struct snapshot *s = c->s;
	struct lbuf l;

	if (!(diag ? s->has_diag_pool : s->have_pool))
		return;
	for (int t = 0; t < TORVYN_TIERS; t++) {
		l.n = 0;
		lb_add(&l, "tier", torvyn_tier_names[t], 16);
		put_entity(c, f, diag ? (const void *)&s->diag_pool[t] : &s->pool.tier[t], &l);
	}
}

static void walk(struct ctx *c, const struct fam *f)
{
	const struct snapshot *s = c->s;
	struct lbuf l = {.n = 0};

	switch (f->src) {
	case SRC_FLOW:
		walk_flows(c, f);
		break;
	case SRC_COMP:
	case SRC_DCOMP:
		walk_comps(c, f, f->src == SRC_DCOMP);
		break;
	case SRC_STREAM:
	case SRC_DSTREAM:
		walk_streams(c, f, f->src == SRC_DSTREAM);
		break;
	case SRC_TIER:
	case SRC_DPOOL:
		walk_tiers(c, f, f->src == SRC_DPOOL);
		break;
	case SRC_SYS:
		if (s->have_sys)
			put_entity(c, f, &s->sys, &l);
		break;
	case SRC_SELF:
		put_entity(c, f, s, &l);
		break;
	case SRC_OWN:
		f->fn(c, f, s, &l);
		break;
	}
}

/* ------------------------------------------------------------ special families */

static void fn_active_duration(struct ctx *c, const struct fam *f, const void *base,
			       const struct lbuf *l)
{
	const struct torvyn_flow_block *b = base;
	uint64_t end = b->end_ns ? b->end_ns : c->now_ns;
	struct num v;

	num_ns(&v, b->start_ns && end > b->start_ns ? end - b->start_ns : 0);
	line(c, f, "", l, NULL, NULL, &v);
}

/* 0.0.4: a gauge with label state; OpenMetrics: a stateset, whose label is
 * named after the family. */
static void fn_flow_state(struct ctx *c, const struct fam *f, const void *base,
			  const struct lbuf *l)
{
	const struct torvyn_flow_block *b = base;
	const char *key = c->om ? f->name : "state";
	struct num v;

	for (uint32_t i = 0; i < TORVYN_FLOW_STATES; i++) {
		num_u64(&v, b->state == i);
		line(c, f, "", l, key, torvyn_flow_state_names[i], &v);
	}
}

/* Only reasons that happened: the map has no entry for the others. */
static void fn_diag_copies(struct ctx *c, const struct fam *f, const void *base,
			   const struct lbuf *unused)
{
	const struct snapshot *s = base;
	struct lbuf l;
	struct num v;

	(void)unused;
	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct tvn_count_val *cv = s->flows[fi].comps[ci].diag_copies;

			for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
				if (!cv[r].count)
					continue;
				lb_flow(&l, s, fi);
				lb_name(&l, "component_id", comp_name(s, fi, ci), ci);
				num_u64(&v, rd_u64(&cv[r], f->off));
				line(c, f, "_total", &l, "reason", torvyn_copy_reason_names[r], &v);
			}
		}
	}
}

static void fn_diag_transfers(struct ctx *c, const struct fam *f, const void *base,
			      const struct lbuf *unused)
{
	const struct snapshot *s = base;
	struct lbuf l;
	struct num v;

	(void)unused;
	for (int i = 0; i < s->n_transfers; i++) {
		const struct snap_transfer *t = &s->transfers[c->xfer_order[i]];

		l.n = 0;
		lb_name(&l, "flow_id", flow_name(s, t->flow_idx), t->flow_idx);
		lb_name(&l, "from_component", comp_name(s, t->flow_idx, t->from_idx), t->from_idx);
		lb_name(&l, "to_component", comp_name(s, t->flow_idx, t->to_idx), t->to_idx);
		num_u64(&v, rd_u64(&t->val, f->off));
		line(c, f, "_total", &l, NULL, NULL, &v);
	}
}

static void fn_info(struct ctx *c, const struct fam *f, const void *base, const struct lbuf *unused)
{
	const struct snapshot *s = base;
	struct lbuf l = {.n = 0};
	struct num v;

	(void)unused;
	num_i64(&v, s->target_pid);
	v.s[v.n] = '\0';
	lb_add(&l, "pid", v.s, sizeof(v.s));
	lb_add(&l, "exe", s->target_exe, sizeof(s->target_exe));
	num_u64(&v, 1);
	line(c, f, "_info", &l, NULL, NULL, &v);
}

/* ------------------------------------------------------------ the catalogue */

/* Designated initializers for the table below. */
#define FAM(n, t, u, h) .name = (n), .type = (t), .unit = (u), .help = (h)
#define AT(s, type, field, v) .src = (s), .val = (v), .off = offsetof(type, field)
#define FLOW(f) AT(SRC_FLOW, struct torvyn_flow_block, f, V_U64)
#define FLOWv(f, v) AT(SRC_FLOW, struct torvyn_flow_block, f, v)
#define COMP(f) AT(SRC_COMP, struct torvyn_component_block, f, V_U64)
#define COMPv(f, v) AT(SRC_COMP, struct torvyn_component_block, f, v)
#define STREAM(f) AT(SRC_STREAM, struct torvyn_stream_block, f, V_U64)
#define STREAMv(f, v) AT(SRC_STREAM, struct torvyn_stream_block, f, v)
#define TIER(f) AT(SRC_TIER, struct torvyn_pool_tier, f, V_U64)
#define SYS(f) AT(SRC_SYS, struct torvyn_system_block, f, V_U64)
#define SYSv(f, v) AT(SRC_SYS, struct torvyn_system_block, f, v)
#define DCOMP(f) AT(SRC_DCOMP, struct tvn_invoke_val, f, V_U64)
#define DCOMPv(f, v) AT(SRC_DCOMP, struct tvn_invoke_val, f, v)
#define DSTREAM(f) AT(SRC_DSTREAM, struct tvn_queue_val, f, V_U64)
#define DSTREAMv(f, v) AT(SRC_DSTREAM, struct tvn_queue_val, f, v)
#define DPOOL(f) AT(SRC_DPOOL, struct tvn_pool_val, f, V_U64)
#define SELF(f) AT(SRC_SELF, struct snapshot, f, V_U64)
#define SELFv(f, v) AT(SRC_SELF, struct snapshot, f, v)
#define OWN(fun, field) AT(SRC_OWN, struct tvn_count_val, field, V_FN), .fn = (fun)
#define ARR(key, tbl) .lkey = (key), .names = (tbl), .n_names = ARRAY_SIZE(tbl)

static const struct fam fams[] = {
    /* flow */
    {FAM("torvyn_flow_elements", T_COUNTER, NULL,
	 "Elements that reached the end of the flow (sink, filter drop or error)."),
     FLOW(elements_total)},
    {FAM("torvyn_flow_elements_errors", T_COUNTER, NULL,
	 "Elements on which a component returned an error."),
     FLOW(elements_errors)},
    {FAM("torvyn_flow_latency_seconds", T_HISTOGRAM, "seconds",
	 "End-to-end latency of the elements of the flow."),
     FLOWv(latency, V_HIST)},
    {FAM("torvyn_flow_copies", T_COUNTER, NULL, "Buffer copies in the flow, by reason."),
     FLOWv(copies_total, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn_flow_copies_bytes", T_COUNTER, "bytes", "Bytes copied in the flow, by reason."),
     FLOWv(copies_bytes, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn_flow_transfers", T_COUNTER, NULL,
	 "Buffer ownership transfers between the components of the flow."),
     FLOW(transfers_total)},
    {FAM("torvyn_flow_transfers_bytes", T_COUNTER, "bytes",
	 "Bytes of the buffers whose ownership moved between components of the flow."),
     FLOW(transfers_bytes)},
    {FAM("torvyn_flow_active_duration_seconds", T_GAUGE, "seconds",
	 "Time the flow has been running, or ran until it ended."),
     FLOWv(start_ns, V_FN), .fn = fn_active_duration},
    {FAM("torvyn_flow_state", T_STATESET, NULL,
	 "Lifecycle state of the flow: 1 for the current state, 0 for the others."),
     FLOWv(state, V_FN), .fn = fn_flow_state},
    {FAM("torvyn_flow_traces_promoted", T_COUNTER, NULL,
	 "Element traces exported, by reason: head-sampled, error or tail latency."),
     FLOWv(promoted_total, V_ARR), ARR("reason", torvyn_promote_names)},
    /* component */
    {FAM("torvyn_component_invocations", T_COUNTER, NULL, "Invocations of the component."),
     COMP(invocations)},
    {FAM("torvyn_component_errors", T_COUNTER, NULL,
	 "Invocations of the component that returned an error."),
     COMP(errors)},
    {FAM("torvyn_component_processing_time_seconds", T_HISTOGRAM, "seconds",
	 "Time per invocation of the component."),
     COMPv(processing_time, V_HIST)},
    {FAM("torvyn_component_fuel_consumed", T_COUNTER, NULL,
	 "WebAssembly fuel consumed by the component (always 0 for native components)."),
     COMP(fuel_consumed)},
    {FAM("torvyn_component_memory_current_bytes", T_GAUGE, "bytes",
	 "Bytes of payload the component holds now."),
     COMP(memory_current)},
    {FAM("torvyn_component_input_bytes", T_COUNTER, "bytes",
	 "Payload bytes passed into the component."),
     COMP(bytes_in)},
    {FAM("torvyn_component_output_bytes", T_COUNTER, "bytes",
	 "Payload bytes produced by the component."),
     COMP(bytes_out)},
    {FAM("torvyn_component_wakeups", T_COUNTER, NULL,
	 "Times the thread of the component woke from a wait."),
     COMP(wakeups)},
    {FAM("torvyn_component_idle_seconds", T_COUNTER, "seconds",
	 "Time the component spent waiting for input or output."),
     COMPv(idle_ns, V_NS)},
    /* stream */
    {FAM("torvyn_stream_elements_transferred", T_COUNTER, NULL,
	 "Elements passed through the stream."),
     STREAM(elements_transferred)},
    {FAM("torvyn_stream_elements_dropped", T_COUNTER, NULL,
	 "Elements dropped by the overflow policy of the stream."),
     STREAM(elements_dropped)},
    {FAM("torvyn_stream_backpressure_events", T_COUNTER, NULL,
	 "Times backpressure activated on the stream."),
     STREAM(backpressure_events)},
    {FAM("torvyn_stream_backpressure_duration_seconds", T_COUNTER, "seconds",
	 "Time the stream spent in backpressure."),
     STREAMv(backpressure_duration_ns, V_NS)},
    {FAM("torvyn_stream_queue_current_depth", T_GAUGE, NULL,
	 "Elements in the queue of the stream now."),
     STREAM(current_depth)},
    {FAM("torvyn_stream_queue_peak_depth", T_GAUGE, NULL,
	 "Highest depth the queue of the stream reached."),
     STREAM(peak_depth)},
    {FAM("torvyn_stream_queue_capacity", T_GAUGE, NULL, "Capacity of the queue of the stream."),
     STREAMv(capacity, V_U32)},
    {FAM("torvyn_stream_queue_wait_time_seconds", T_HISTOGRAM, "seconds",
	 "Time elements waited in the queue of the stream."),
     STREAMv(wait_time, V_HIST)},
    /* pool */
    {FAM("torvyn_pool_capacity", T_GAUGE, NULL, "Buffers in the pool tier."), TIER(capacity)},
    {FAM("torvyn_pool_available", T_GAUGE, NULL, "Free buffers in the pool tier now."),
     TIER(available)},
    {FAM("torvyn_pool_allocated", T_COUNTER, NULL, "Buffers served from the pool tier."),
     TIER(allocated)},
    {FAM("torvyn_pool_returned", T_COUNTER, NULL, "Buffers returned to the pool tier."),
     TIER(returned)},
    {FAM("torvyn_pool_fallback_count", T_COUNTER, NULL,
	 "Buffers served by the system allocator because the pool tier was empty."),
     TIER(fallback_count)},
    {FAM("torvyn_pool_exhaustion_events", T_COUNTER, NULL, "Times the pool tier became empty."),
     TIER(exhaustion_events)},
    {FAM("torvyn_pool_buffer_size_bytes", T_GAUGE, "bytes",
	 "Size of each buffer of the pool tier."),
     TIER(buffer_size)},
    /* system */
    {FAM("torvyn_system_flows_active", T_GAUGE, NULL, "Flows running now."), SYS(flows_active)},
    {FAM("torvyn_system_components_active", T_GAUGE, NULL, "Component instances running now."),
     SYS(components_active)},
    {FAM("torvyn_system_memory_total_bytes", T_GAUGE, "bytes", "Bytes of pool memory mapped."),
     SYS(memory_total)},
    {FAM("torvyn_system_scheduler_wakeups", T_COUNTER, NULL, "Wakeups of the threads of the host."),
     SYS(scheduler_wakeups)},
    {FAM("torvyn_system_scheduler_idle_seconds", T_COUNTER, "seconds",
	 "Time the threads of the host spent idle."),
     SYSv(scheduler_idle_ns, V_NS)},
    {FAM("torvyn_system_spans_dropped", T_COUNTER, NULL, "Spans the host dropped before export."),
     SYS(spans_dropped)},
    /* diagnostic level, from the BPF maps */
    {FAM("torvyn_diagnostic_invocations", T_COUNTER, NULL,
	 "Component invocations seen by the diagnostic probes."),
     DCOMP(invocations)},
    {FAM("torvyn_diagnostic_invocation_errors", T_COUNTER, NULL,
	 "Component invocations that ended in an error, seen by the diagnostic probes."),
     DCOMP(errors)},
    {FAM("torvyn_diagnostic_processing_time_seconds", T_HISTOGRAM, "seconds",
	 "Time per component invocation, seen by the diagnostic probes."),
     DCOMPv(time, V_HIST)},
    {FAM("torvyn_diagnostic_copies", T_COUNTER, NULL,
	 "Buffer copies per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, count)},
    {FAM("torvyn_diagnostic_copies_bytes", T_COUNTER, "bytes",
	 "Bytes copied per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, bytes)},
    {FAM("torvyn_diagnostic_transfers", T_COUNTER, NULL,
	 "Buffer ownership transfers per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, count)},
    {FAM("torvyn_diagnostic_transfers_bytes", T_COUNTER, "bytes",
	 "Bytes transferred per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, bytes)},
    {FAM("torvyn_diagnostic_queue_enqueues", T_COUNTER, NULL,
	 "Elements enqueued on the stream, seen by the diagnostic probes."),
     DSTREAM(enqueues)},
    {FAM("torvyn_diagnostic_queue_dequeues", T_COUNTER, NULL,
	 "Elements dequeued from the stream, seen by the diagnostic probes."),
     DSTREAM(dequeues)},
    {FAM("torvyn_diagnostic_queue_depth", T_GAUGE, NULL,
	 "Depth of the queue of the stream after its latest event."),
     DSTREAM(depth)},
    {FAM("torvyn_diagnostic_queue_peak_depth", T_GAUGE, NULL,
	 "Highest depth of the queue of the stream, seen by the diagnostic probes."),
     DSTREAM(peak_depth)},
    {FAM("torvyn_diagnostic_queue_wait_time_seconds", T_HISTOGRAM, "seconds",
	 "Time elements waited in the queue, seen by the diagnostic probes."),
     DSTREAMv(wait, V_HIST)},
    {FAM("torvyn_diagnostic_backpressure_events", T_COUNTER, NULL,
	 "Times backpressure activated on the stream, seen by the diagnostic probes."),
     DSTREAM(bp_events)},
    {FAM("torvyn_diagnostic_backpressure_duration_seconds", T_HISTOGRAM, "seconds",
	 "Length of the backpressure episodes of the stream."),
     DSTREAMv(bp_duration, V_HIST)},
    {FAM("torvyn_diagnostic_pool_allocations", T_COUNTER, NULL,
	 "Buffers served from the pool tier, seen by the diagnostic probes."),
     DPOOL(allocs)},
    {FAM("torvyn_diagnostic_pool_returns", T_COUNTER, NULL,
	 "Buffers returned to the pool tier, seen by the diagnostic probes."),
     DPOOL(returns)},
    {FAM("torvyn_diagnostic_pool_fallbacks", T_COUNTER, NULL,
	 "Allocations served by the system allocator, seen by the diagnostic probes."),
     DPOOL(fallbacks)},
    {FAM("torvyn_diagnostic_pool_exhaustions", T_COUNTER, NULL,
	 "Times the pool tier became empty, seen by the diagnostic probes."),
     DPOOL(exhaustions)},
    /* the tracer itself */
    {FAM("torvyn_trace_level", T_GAUGE, NULL,
	 "Probe level attached now: 0 off, 1 production, 2 diagnostic."),
     SELFv(level, V_INT)},
    {FAM("torvyn_trace_target_up", T_GAUGE, NULL, "1 while the traced process lives, else 0."),
     SELFv(target_up, V_INT)},
    {FAM("torvyn_trace_probes_attached", T_GAUGE, NULL, "Probe sites attached now."),
     SELFv(probes_attached, V_INT)},
    {FAM("torvyn_trace_events_lost", T_COUNTER, NULL,
	 "Ring-buffer records lost because the buffer was full."),
     SELF(events_lost)},
    {FAM("torvyn_trace_probe_hits", T_COUNTER, NULL, "BPF program runs per probe."),
     SELFv(probe_hits, V_ARR), ARR("probe", torvyn_probe_names)},
    {FAM("torvyn_trace_map_update_failures", T_COUNTER, NULL,
	 "Diagnostic aggregation map updates that failed."),
     SELF(map_full)},
    {FAM("torvyn_trace_user_read_failures", T_COUNTER, NULL,
	 "Reads of the memory of the traced process that failed."),
     SELF(read_fail)},
    {FAM("torvyn_trace_blocks_received", T_COUNTER, NULL, "Metric blocks received from the host."),
     SELF(blocks_received)},
    {FAM("torvyn_trace_traces_received", T_COUNTER, NULL,
	 "Promoted element traces received from the host."),
     SELF(traces_received)},
    {FAM("torvyn_trace_traces_filtered", T_COUNTER, NULL,
	 "Promoted traces the tracer's own sampling (--sample-rate, --latency-threshold) dropped."),
     SELF(traces_filtered)},
    {FAM("torvyn_trace_spans_dropped", T_COUNTER, NULL,
	 "Spans the OTLP exporter dropped: queue full (oldest batch first) or retries exhausted."),
     SELF(spans_dropped)},
    {FAM("torvyn_trace_spans_exported", T_COUNTER, NULL,
	 "Spans every OTLP destination accepted."),
     SELF(spans_exported)},
    {FAM("torvyn_trace_spans_rejected", T_COUNTER, NULL,
	 "Spans an OTLP receiver rejected in a partial success."),
     SELF(spans_rejected)},
    {FAM("torvyn_trace_otlp_retries", T_COUNTER, NULL,
	 "OTLP requests retried (429, 502, 503, 504, UNAVAILABLE, RESOURCE_EXHAUSTED, no connection)."),
     SELF(otlp_retries)},
    {FAM("torvyn_trace_otlp_failures", T_COUNTER, NULL,
	 "OTLP requests given up: a non-retryable answer or retries exhausted."),
     SELF(otlp_failures)},
    {FAM("torvyn_trace_otlp_partial_successes", T_COUNTER, NULL,
	 "OTLP responses that reported a partial success."),
     SELF(otlp_partial_successes)},
    {FAM("torvyn_trace_otlp_metric_requests", T_COUNTER, NULL,
	 "OTLP metric requests sent."),
     SELF(otlp_metric_requests)},
    {FAM("torvyn_trace_level_switches", T_COUNTER, NULL, "Changes of the attached probe level."),
     SELF(level_switches)},
    {FAM("torvyn_trace_scrapes", T_COUNTER, NULL, "Metric expositions served."), SELF(scrapes)},
    {FAM("torvyn_trace_start_time_seconds", T_GAUGE, "seconds",
	 "Start time of the tracer session in seconds since the Unix epoch."),
     SELFv(start_time, V_DBL)},
    {FAM("torvyn_trace", T_INFO, NULL, "The traced process."), .src = SRC_OWN, .val = V_FN,
     .fn = fn_info},
};

/* ------------------------------------------------------------ rendering */

struct xfer_key {
	uint32_t flow, from, to, idx;
};

static int xfer_cmp(const void *a, const void *b)
{
	const struct xfer_key *x = a, *y = b;

	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The transfers come in BPF hash order; an exposition must be stable. */
static uint32_t *sort_transfers(const struct snapshot *s)
{
	size_t n = (size_t)s->n_transfers;
	struct xfer_key *k = malloc(sizeof(*k) * n);
	uint32_t *order = malloc(sizeof(*order) * n);

	if (!k || !order) {
		free(k);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		k[i] = (struct xfer_key){s->transfers[i].flow_idx, s->transfers[i].from_idx,
					 s->transfers[i].to_idx, (uint32_t)i};
	qsort(k, n, sizeof(*k), xfer_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = k[i].idx;
	free(k);
	return order;
}

int prom__render(const struct snapshot *s, bool openmetrics, char **buf, size_t *len)
{
	struct snapshot view;
	struct ctx c = {.om = openmetrics};
	uint32_t *order = NULL;
	struct timespec ts;

	if (!s || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	/* Negative counts or missing arrays render as empty. */
	view = *s;
	if (view.n_flows < 0 || !view.flows)
		view.n_flows = 0;
	if (view.n_transfers < 0 || !view.transfers)
		view.n_transfers = 0;
	if (view.n_transfers > 0) {
		order = sort_transfers(&view);
		if (!order)
			return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c.s = &view;
	c.now_ns = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
	c.xfer_order = order;

	for (size_t i = 0; i < ARRAY_SIZE(fams); i++)
		walk(&c, &fams[i]);
	if (openmetrics)
		pb_str(&c.b, "# EOF\n");
	free(order);

	if (!pb_reserve(&c.b, 0)) {
		free(c.b.p);
		return -ENOMEM;
	}
	c.b.p[c.b.len] = '\0';
	*buf = c.b.p;
	*len = c.b.len;
	return 0;
}

const char *prom__content_type(bool openmetrics)
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

bool prom__wants_openmetrics(const char *accept)
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
