// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A frame as lines of text: what `top --once` prints and what the terminal
 * view draws (with the selected flow highlighted). Counts are printed
 * whole, so a script reads the exact figures; rates and times are short.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "level.h"
#include "top.h"

#define HEAD_NAME "FLOW / COMPONENT / STREAM"
#define BAR 16

struct num {
	char s[32];
};

static struct num count(double v)
{
	struct num n;

	snprintf(n.s, sizeof(n.s), isnan(v) ? "-" : "%.0f", v);
	return n;
}

/* A step of a scale: values below `below` print with fmt, multiplied by mul. */
struct step {
	double below;
	const char *fmt;
	double mul;
};

static struct num scaled(double v, const struct step *s)
{
	struct num n = {"-"};

	for (; !isnan(v); s++) {
		if (v < s->below) {
			snprintf(n.s, sizeof(n.s), s->fmt, v * s->mul);
			break;
		}
	}
	return n;
}

static struct num rate(double v)
{
	static const struct step steps[] = {{1e4, "%.1f", 1},
					    {1e6, "%.1fk", 1e-3},
					    {1e9, "%.2fM", 1e-6},
					    {INFINITY, "%.2fG", 1e-9}};

	return scaled(v, steps);
}

static struct num secs(double v)
{
	static const struct step steps[] = {{1e-6, "%.0fns", 1e9},
					    {1e-3, "%.1fus", 1e6},
					    {1, "%.2fms", 1e3},
					    {INFINITY, "%.2fs", 1}};

	return scaled(v, steps);
}

static int push(struct tvn_top_lines *l, enum tvn_top_line_kind kind, int flow, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static int push(struct tvn_top_lines *l, enum tvn_top_line_kind kind, int flow, const char *fmt,
		...)
{
	struct tvn_top_line *v = realloc(l->v, (size_t)(l->n + 1) * sizeof(*v));
	va_list ap;
	int rc;

	if (!v)
		return -ENOMEM;
	l->v = v;
	v += l->n;
	*v = (struct tvn_top_line){.kind = kind, .flow = flow};
	va_start(ap, fmt);
	rc = vasprintf(&v->text, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

static int widest(int w, const char *name, int indent)
{
	int n = (int)strlen(name) + indent;

	return n > w ? n : w;
}

/* The name column: wide enough for the heading and every name, indented ones included. */
static int name_width(const struct tvn_top_frame *f)
{
	int w = (int)strlen(HEAD_NAME);

	for (int i = 0; i < f->n_flows; i++) {
		const struct tvn_top_flow *fl = &f->flows[i];

		w = widest(w, fl->id, 2);
		for (int j = 0; j < fl->n_comps; j++)
			w = widest(w, fl->comps[j].id, 4);
		for (int j = 0; j < fl->n_streams; j++)
			w = widest(w, fl->streams[j].id, 4);
	}
	return w;
}

/* The host, its level, and on a line of its own the tracer's drops for it. */
static int target_lines(struct tvn_top_lines *l, const struct tvn_top_target *t)
{
	const double *v = t->self;
	char drops[512] = "", rates[64] = "no rates";
	size_t n = 0;
	int rc;

	if (t->rates_s > 0)
		snprintf(rates, sizeof(rates), "rates over %.2f s%s", t->rates_s,
			 t->carried ? ", no flush since" : "");
	rc = push(l, TVN_TOP_LINE_TARGET, -1, "pid %d %s%s%s%s  level %s  target %s  %s", t->pid,
		  t->exe ? t->exe : "?", t->service ? " (" : "", t->service ? t->service : "",
		  t->service ? ")" : "",
		  isnan(v[TVN_TOP_LEVEL]) ? "?" : tvn_level__name((int)v[TVN_TOP_LEVEL]),
		  isnan(v[TVN_TOP_TARGET_UP]) ? "?"
		  : v[TVN_TOP_TARGET_UP] > 0  ? "up"
					      : "down",
		  rates);
	for (int i = TVN_TOP_EVENTS_LOST; i < TVN_TOP_SELF_COUNT && n < sizeof(drops); i++) {
		if (!isnan(v[i]))
			n += snprintf(drops + n, sizeof(drops) - n, "  %s %s",
				      tvn_top_self_rows[i].label, count(v[i]).s);
	}
	if (!rc && drops[0])
		rc = push(l, TVN_TOP_LINE_TARGET, -1, "tracer drops:%s", drops);
	return rc;
}

static int stream_line(struct tvn_top_lines *l, int fi, int w, const struct tvn_top_stream *s)
{
	char bar[BAR + 3] = "[";
	int fill = s->capacity > 0 ? (int)lround(BAR * fmin(s->depth / s->capacity, 1)) : 0;

	for (int i = 0; i < BAR; i++)
		bar[i + 1] = i < fill ? '#' : '.';
	bar[BAR + 1] = ']';
	return push(l, TVN_TOP_LINE_STREAM, fi,
		    "    %-*s %s %5s/%-5s peak %s  bp %s (%s/s)  drop %s", w - 4, s->id, bar,
		    count(s->depth).s, count(s->capacity).s, count(s->peak).s,
		    count(s->bp_events).s, rate(s->bp_rate).s, count(s->dropped).s);
}

static int flow_lines(struct tvn_top_lines *l, const struct tvn_top_frame *f, int fi, int w)
{
	const struct tvn_top_flow *fl = &f->flows[fi];
	int rc =
	    push(l, TVN_TOP_LINE_FLOW, fi, "  %-*s %12s %10s %9s %9s %8s", w - 2, fl->id,
		 count(fl->elements).s, rate(fl->rate).s, "", secs(fl->p99).s, count(fl->errors).s);

	for (int j = 0; !rc && j < fl->n_comps; j++) {
		const struct tvn_top_comp *c = &fl->comps[j];

		rc = push(l, TVN_TOP_LINE_COMP, fi, "    %-*s %12s %10s %9s %9s %8s", w - 4, c->id,
			  count(c->invocations).s, rate(c->rate).s, secs(c->p50).s, secs(c->p99).s,
			  count(c->errors).s);
	}
	for (int j = 0; !rc && j < fl->n_streams; j++)
		rc = stream_line(l, fi, w, &fl->streams[j]);
	return rc;
}

int tvn_top_lines__build(const struct tvn_top_frame *f, const struct tvn_top_view_opts *o,
			 struct tvn_top_lines *out)
{
	int w = name_width(f), rc;

	*out = (struct tvn_top_lines){0};
	rc = push(out, TVN_TOP_LINE_TITLE, -1, "torvyn-trace top: %s, every %.1f s, sort %s%s",
		  o->source, o->interval_s, tvn_top_sort__name(o->sort),
		  o->keys ? "   [q]uit [o]ff [p]roduction [d]iagnostic [s]ort up/down" : "");
	if (!rc)
		rc = push(out, TVN_TOP_LINE_HEAD, -1, "%-*s %12s %10s %9s %9s %8s", w, HEAD_NAME,
			  "TOTAL", "PER SEC", "P50", "P99", "ERRORS");
	for (int t = 0, fi = 0; !rc && t < f->n_targets; t++) {
		rc = target_lines(out, &f->targets[t]);
		for (; !rc && fi < f->n_flows && f->flows[fi].target == t; fi++)
			rc = flow_lines(out, f, fi, w);
	}
	if (rc)
		tvn_top_lines__free(out);
	return rc;
}

void tvn_top_lines__free(struct tvn_top_lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	*l = (struct tvn_top_lines){0};
}
