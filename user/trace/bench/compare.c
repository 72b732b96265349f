// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two reports side by side (--compare): the key figures of both, their
 * change, and whether the current run regressed beyond the threshold.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

#define CELL_LEN TVN_BENCH_CELL_LEN

enum kind { K_ELEM_RATE, K_BYTE_RATE, K_LATENCY };

struct figure {
	const char *key;   /* JSON and CSV name */
	const char *label; /* pretty and markdown */
	size_t off;
	enum kind kind;
	bool gate;    /* a regression of it fails the comparison */
	long win_off; /* its field in struct tvn_bench_window, -1: none */
};

/* clang-format off */
#define FIG(k, l, m, kind, gate, w)                                                                \
	{ k, l, offsetof(struct tvn_bench_report, m), kind, gate, w }
#define WIN(m) ((long)offsetof(struct tvn_bench_window, m))
/* clang-format on */

static const struct figure figures[] = {
    FIG("elements_per_sec", "throughput (elements/s)", elements_per_sec, K_ELEM_RATE, true,
	WIN(elements_per_sec)),
    FIG("bytes_per_sec", "bytes/s", bytes_per_sec, K_BYTE_RATE, false, -1),
    FIG("p50_us", "p50", p50_us, K_LATENCY, false, -1),
    FIG("p99_us", "p99", p99_us, K_LATENCY, true, WIN(p99_us)),
    FIG("p999_us", "p99.9", p999_us, K_LATENCY, false, -1),
    FIG("max_us", "max", max_us, K_LATENCY, false, -1),
    FIG("mean_us", "mean", mean_us, K_LATENCY, false, -1),
};

/* Both reports have windows enough to weigh a change against their spread. */
static bool windowed(const struct tvn_bench_report *cur, const struct tvn_bench_report *base)
{
	return cur->n_windows >= TVN_BENCH_MIN_WINDOWS && base->n_windows >= TVN_BENCH_MIN_WINDOWS;
}

/* Field off of every window of r, into a new array (caller frees); NULL when out of memory. */
static double *window_values(const struct tvn_bench_report *r, long off)
{
	double *v = malloc(sizeof(*v) * (size_t)r->n_windows);

	for (int i = 0; v && i < r->n_windows; i++)
		v[i] = *(const double *)((const char *)&r->windows[i] + off);
	return v;
}

/* The change of a figure's mean over the windows, with its interval. 0, -EINVAL, -ENOMEM. */
static int window_ci(const struct tvn_bench_report *cur, const struct tvn_bench_report *base,
		     long off, struct tvn_bench_ci *ci)
{
	double *b = window_values(base, off), *c = window_values(cur, off);
	int err =
	    b && c ? tvn_bench_stats__diff_ci(b, base->n_windows, c, cur->n_windows, ci) : -ENOMEM;

	free(b);
	free(c);
	return err;
}

static double fig_value(const struct tvn_bench_report *r, const struct figure *f)
{
	return *(const double *)((const char *)r + f->off);
}

/* Change in %; NaN when there is nothing to compare with. */
static double change_pct(double base, double cur)
{
	if (!isfinite(base) || !isfinite(cur))
		return NAN;
	if (base == 0)
		return cur == 0 ? 0 : NAN;
	return (cur - base) / fabs(base) * 100;
}

/* Worse by more than the threshold; the slack keeps an exact -10 % from counting at 10. */
static bool worse(enum kind kind, double chg, double threshold)
{
	if (isnan(chg))
		return false;
	if (kind == K_LATENCY)
		return chg > threshold + 1e-9;
	return chg < -threshold - 1e-9;
}

/* ------------------------------------------------------------ rows */

struct cmp_row {
	char key[2 * TVN_BENCH_NAME_LEN + 16];
	char label[2 * TVN_BENCH_NAME_LEN + 16];
	const struct tvn_bench_component *cc; /* component rows */
	enum kind kind;
	double base, cur, chg;
	double lo, hi; /* the change's 95 % interval; NaN: compared point to point */
	bool gate, worse;
};

static const struct tvn_bench_component *find_comp(const struct tvn_bench_report *r,
						   const struct tvn_bench_component *c)
{
	for (int i = 0; i < r->n_comps; i++)
		if (!strcmp(r->comps[i].flow, c->flow) &&
		    !strcmp(r->comps[i].component, c->component))
			return &r->comps[i];
	return NULL;
}

/* A figure's row; through the windows when both reports have them. 0 or -ENOMEM. */
static int figure_row(struct cmp_row *row, const struct figure *f,
		      const struct tvn_bench_report *cur, const struct tvn_bench_report *base,
		      double threshold)
{
	struct tvn_bench_ci ci;
	int err;

	snprintf(row->key, sizeof(row->key), "%s", f->key);
	snprintf(row->label, sizeof(row->label), "%s", f->label);
	row->kind = f->kind;
	row->gate = f->gate;
	row->base = fig_value(base, f);
	row->cur = fig_value(cur, f);
	row->chg = change_pct(row->base, row->cur);
	row->lo = row->hi = NAN;
	if (f->win_off < 0 || !windowed(cur, base)) {
		row->worse = worse(row->kind, row->chg, threshold);
		return 0;
	}
	err = window_ci(cur, base, f->win_off, &ci);
	if (err == -ENOMEM)
		return err;
	if (err) {
		/* too few windows with a value: nothing can be told apart */
		row->chg = NAN;
		row->worse = false;
		return 0;
	}
	/* the figures the change is of: the means over the windows */
	row->base = ci.base_mean;
	row->cur = ci.cur_mean;
	row->chg = ci.change_pct;
	row->lo = ci.lo_pct;
	row->hi = ci.hi_pct;
	/* worse only when the whole interval is beyond the threshold */
	row->worse = worse(row->kind, f->kind == K_LATENCY ? ci.lo_pct : ci.hi_pct, threshold);
	return 0;
}

/* The p99 of a component in both reports. */
static void component_row(struct cmp_row *row, const struct tvn_bench_component *c,
			  const struct tvn_bench_component *b)
{
	snprintf(row->key, sizeof(row->key), "p99_us:%s/%s", c->flow, c->component);
	snprintf(row->label, sizeof(row->label), "p99 %s/%s", c->flow, c->component);
	row->cc = c;
	row->kind = K_LATENCY;
	row->base = b->p99_us;
	row->cur = c->p99_us;
}

/* The rows of the comparison; caller frees. */
static struct cmp_row *cmp_rows(const struct tvn_bench_report *cur,
				const struct tvn_bench_report *base, double threshold, int *n)
{
	struct cmp_row *rows = calloc(ARRAY_SIZE(figures) + (size_t)cur->n_comps, sizeof(*rows));
	int k = 0;

	if (!rows)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++) {
		if (figure_row(&rows[k++], &figures[i], cur, base, threshold)) {
			free(rows);
			return NULL;
		}
	}
	for (int i = 0; i < cur->n_comps; i++) {
		const struct tvn_bench_component *b = find_comp(base, &cur->comps[i]);

		if (!b)
			continue;
		component_row(&rows[k], &cur->comps[i], b);
		rows[k].chg = change_pct(rows[k].base, rows[k].cur);
		rows[k].lo = rows[k].hi = NAN;
		rows[k].worse = worse(rows[k].kind, rows[k].chg, threshold);
		k++;
	}
	*n = k;
	return rows;
}

/* ------------------------------------------------------------ pretty and markdown */

static void fmt_value(char *buf, size_t len, enum kind kind, double v)
{
	if (kind == K_ELEM_RATE)
		tvn_bench_fmt__si(buf, len, v, "/s");
	else if (kind == K_BYTE_RATE)
		tvn_bench_fmt__iec(buf, len, v, "/s");
	else
		tvn_bench_fmt__us(buf, len, v);
}

static const char *row_mark(const struct cmp_row *row, enum tvn_bench_format f)
{
	if (!row->worse)
		return "";
	if (!row->gate)
		return "slower";
	return f == TVN_BENCH_MARKDOWN ? "**REGRESSION**" : "<< REGRESSION";
}

/* Which run a column is: "baseline: TARGET, started T". */
static void compare_who(FILE *out, const char *what, const struct tvn_bench_report *r,
			enum tvn_bench_format f)
{
	fprintf(out, "%s%s: ", f == TVN_BENCH_MARKDOWN ? "- " : "", what);
	tvn_bench_text__put_target(out, f, r->target);
	if (r->started_at[0])
		fprintf(out, ", started %s", r->started_at);
	fputc('\n', out);
}

struct rows_ctx {
	const struct cmp_row *rows;
	enum tvn_bench_format f;
};

static void compare_row(tvn_bench_cell *c, const void *ctx, int i)
{
	const struct rows_ctx *x = ctx;
	const struct cmp_row *row = &x->rows[i];

	snprintf(c[0], CELL_LEN, "%s", row->label);
	fmt_value(c[1], CELL_LEN, row->kind, row->base);
	fmt_value(c[2], CELL_LEN, row->kind, row->cur);
	if (isnan(row->chg))
		snprintf(c[3], CELL_LEN, "n/a");
	else if (!isnan(row->lo))
		snprintf(c[3], CELL_LEN, "%+.1f%% [%+.1f, %+.1f]", row->chg, row->lo, row->hi);
	else
		snprintf(c[3], CELL_LEN, "%+.1f%%", row->chg);
	snprintf(c[4], CELL_LEN, "%s", row_mark(row, x->f));
}

static int compare_table(const struct cmp_row *rows, int n, enum tvn_bench_format f, FILE *out)
{
	static const char *const head[] = {"metric", "baseline", "current", "change", ""};
	const struct rows_ctx ctx = {rows, f};
	struct tvn_bench_table t;

	tvn_bench_table__init(&t, head, "lrrrl", 5);
	tvn_bench_table__add_rows(&t, n, -1, compare_row, &ctx);
	return tvn_bench_table__flush(&t, out, f, "");
}

/* What the throughput and p99 changes are weighed against. */
static const char *method_note(const struct tvn_bench_report *cur,
			       const struct tvn_bench_report *base)
{
	if (windowed(cur, base))
		return NULL;
	if (base->n_windows < TVN_BENCH_MIN_WINDOWS)
		return "the baseline has no per-window figures (recorded by an older torvyn-trace, "
		       "or too short): throughput and p99 are compared point to point, without a "
		       "confidence interval; record the baseline again";
	return "the current run has fewer than 3 windows: throughput and p99 are compared "
	       "point to point, without a confidence interval; measure longer or with a "
	       "shorter --window";
}

static void compare_method(const struct tvn_bench_report *cur, const struct tvn_bench_report *base,
			   enum tvn_bench_format f, FILE *out)
{
	const char *note = method_note(cur, base);

	if (note) {
		fprintf(out, "note: %s\n", note);
		return;
	}
	fprintf(out,
		"throughput and p99: mean over %d windows of %g s (baseline) and %d of %g s "
		"(current), [95%% interval]; a regression is an interval wholly beyond the "
		"threshold\n",
		base->n_windows, base->window_s, cur->n_windows, cur->window_s);
	if (f == TVN_BENCH_MARKDOWN)
		fputc('\n', out);
}

static int compare_human(const struct tvn_bench_report *cur, const struct tvn_bench_report *base,
			 const struct cmp_row *rows, int n, double threshold,
			 enum tvn_bench_format f, FILE *out)
{
	bool regressed = false;
	int err;

	if (f == TVN_BENCH_MARKDOWN)
		fputs("## torvyn-trace bench: comparison\n\n", out);
	compare_who(out, "baseline", base, f);
	compare_who(out, "current", cur, f);
	fputc('\n', out);
	err = compare_table(rows, n, f, out);
	if (err)
		return err;
	if (f != TVN_BENCH_MARKDOWN)
		fputc('\n', out);
	compare_method(cur, base, f, out);
	for (int i = 0; i < n; i++) {
		if (!rows[i].gate || !rows[i].worse)
			continue;
		fprintf(out, "%s: %s %+.1f%%",
			f == TVN_BENCH_MARKDOWN ? "**REGRESSION**" : "REGRESSION", rows[i].label,
			rows[i].chg);
		if (!isnan(rows[i].lo))
			fprintf(out, ", 95%% interval [%+.1f%%, %+.1f%%]", rows[i].lo, rows[i].hi);
		fprintf(out, " (threshold %g%%)\n", threshold);
		regressed = true;
	}
	if (!regressed)
		fprintf(out, "no regression (threshold %g%%)\n", threshold);
	return 0;
}

/* ------------------------------------------------------------ csv */

static int compare_csv(const struct cmp_row *rows, int n, FILE *out)
{
	fputs("metric,baseline,current,change_pct,regression,ci95_lo_pct,ci95_hi_pct\n", out);
	for (int i = 0; i < n; i++) {
		tvn_bench_csv__put_str(out, rows[i].key);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].base);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].cur);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].chg);
		fprintf(out, ",%s,", rows[i].gate && rows[i].worse ? "true" : "false");
		tvn_bench_csv__put_num(out, rows[i].lo);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].hi);
		fputc('\n', out);
	}
	return 0;
}

/* ------------------------------------------------------------ json */

static json_t *key_figures(const struct tvn_bench_report *r, const struct cmp_row *rows, int n,
			   bool base)
{
	json_t *obj = json_object();
	int err;

	if (!obj)
		return NULL;
	err = json_object_set_new(obj, "target", tvn_bench_json__str(r->target, sizeof(r->target)));
	err = err
		  ?: json_object_set_new(obj, "started_at",
					 tvn_bench_json__str(r->started_at, sizeof(r->started_at)));
	for (int i = 0; !err && i < n && !rows[i].cc; i++)
		err = json_object_set_new(obj, rows[i].key,
					  tvn_bench_json__real(base ? rows[i].base : rows[i].cur));
	if (err) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* A component row of the JSON comparison. */
static json_t *component_json(const struct cmp_row *row)
{
	static const char *const keys[] = {"flow",	     "component",  "baseline_p99_us",
					   "current_p99_us", "change_pct", "slower"};
	const struct tvn_bench_component *cc = row->cc;
	json_t *const vals[ARRAY_SIZE(keys)] = {
	    tvn_bench_json__str(cc->flow, sizeof(cc->flow)),
	    tvn_bench_json__str(cc->component, sizeof(cc->component)),
	    tvn_bench_json__real(row->base),
	    tvn_bench_json__real(row->cur),
	    tvn_bench_json__real(row->chg),
	    json_boolean(row->worse),
	};
	json_t *c = json_object();
	int err = 0;

	/* each value is taken, set or not */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		err |= json_object_set_new(c, keys[i], vals[i]);
	if (err) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* The changes of the figures into chg, the component rows into comps, the regressions into list. */
static int compare_lists(const struct cmp_row *rows, int n, json_t *chg, json_t *ci, json_t *comps,
			 json_t *list)
{
	int err = 0;

	for (int i = 0; !err && i < n; i++) {
		if (rows[i].gate && rows[i].worse)
			err = json_array_append_new(list, json_string(rows[i].key));
		if (!err && !isnan(rows[i].lo))
			err =
			    json_object_set_new(ci, rows[i].key,
						json_pack("[oo]", tvn_bench_json__real(rows[i].lo),
							  tvn_bench_json__real(rows[i].hi)));
		if (!rows[i].cc)
			err = err
				  ?: json_object_set_new(chg, rows[i].key,
							 tvn_bench_json__real(rows[i].chg));
		else
			err = err ?: json_array_append_new(comps, component_json(&rows[i]));
	}
	return err;
}

static int compare_json(const struct tvn_bench_report *cur, const struct tvn_bench_report *base,
			const struct cmp_row *rows, int n, double threshold, bool regressed,
			FILE *out)
{
	json_t *root = json_object(), *chg = json_object(), *comps = json_array();
	json_t *list = json_array(), *ci = json_object();
	const char *note = method_note(cur, base);
	int err;

	err = !root || !chg || !comps || !list || !ci;
	err = err ?: compare_lists(rows, n, chg, ci, comps, list);
	err = err ?: json_object_set_new(root, "method", json_string(note ? "point" : "windows"));
	err = err ?: json_object_set_new(root, "ci95_pct", json_incref(ci));
	if (note)
		err = err ?: json_object_set_new(root, "note", json_string(note));
	err = err ?: json_object_set_new(root, "baseline", key_figures(base, rows, n, true));
	err = err ?: json_object_set_new(root, "current", key_figures(cur, rows, n, false));
	err = err ?: json_object_set_new(root, "change_pct", json_incref(chg));
	err = err ?: json_object_set_new(root, "regression", json_boolean(regressed));
	err = err ?: json_object_set_new(root, "threshold_pct", tvn_bench_json__real(threshold));
	err = err ?: json_object_set_new(root, "regressions", json_incref(list));
	err = err ?: json_object_set_new(root, "per_component", json_incref(comps));
	json_decref(chg);
	json_decref(ci);
	json_decref(list);
	json_decref(comps);
	if (!err)
		err = tvn_bench_json__dump(root, out);
	else
		err = -ENOMEM;
	json_decref(root);
	return err;
}

/* ------------------------------------------------------------ the comparison */

int tvn_bench_report__compare(const struct tvn_bench_report *cur,
			      const struct tvn_bench_report *base, double threshold_pct,
			      enum tvn_bench_format f, FILE *out)
{
	bool regressed = false;
	struct cmp_row *rows;
	int n = 0, err;

	if (!tvn_bench_report__valid(cur) || !tvn_bench_report__valid(base) || !out ||
	    !(threshold_pct >= 0))
		return -EINVAL;
	if (f != TVN_BENCH_PRETTY && f != TVN_BENCH_JSON && f != TVN_BENCH_CSV &&
	    f != TVN_BENCH_MARKDOWN)
		return -EINVAL;
	rows = cmp_rows(cur, base, threshold_pct, &n);
	if (!rows)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		regressed |= rows[i].gate && rows[i].worse;
	if (f == TVN_BENCH_JSON)
		err = compare_json(cur, base, rows, n, threshold_pct, regressed, out);
	else if (f == TVN_BENCH_CSV)
		err = compare_csv(rows, n, out);
	else
		err = compare_human(cur, base, rows, n, threshold_pct, f, out);
	free(rows);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	if (err)
		return err;
	return regressed ? 1 : 0;
}
