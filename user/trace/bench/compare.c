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
	bool gate; /* a regression of it fails the comparison */
};

/* clang-format off */
#define FIG(k, l, m, kind, gate) { k, l, offsetof(struct tvn_bench_report, m), kind, gate }
/* clang-format on */

static const struct figure figures[] = {
    FIG("elements_per_sec", "throughput (elements/s)", elements_per_sec, K_ELEM_RATE, true),
    FIG("bytes_per_sec", "bytes/s", bytes_per_sec, K_BYTE_RATE, false),
    FIG("p50_us", "p50", p50_us, K_LATENCY, false),
    FIG("p99_us", "p99", p99_us, K_LATENCY, true),
    FIG("p999_us", "p99.9", p999_us, K_LATENCY, false),
    FIG("max_us", "max", max_us, K_LATENCY, false),
    FIG("mean_us", "mean", mean_us, K_LATENCY, false),
};

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

static void figure_row(struct cmp_row *row, const struct figure *f,
		       const struct tvn_bench_report *cur, const struct tvn_bench_report *base)
{
	snprintf(row->key, sizeof(row->key), "%s", f->key);
	snprintf(row->label, sizeof(row->label), "%s", f->label);
	row->kind = f->kind;
	row->gate = f->gate;
	row->base = fig_value(base, f);
	row->cur = fig_value(cur, f);
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
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++)
		figure_row(&rows[k++], &figures[i], cur, base);
	for (int i = 0; i < cur->n_comps; i++) {
		const struct tvn_bench_component *b = find_comp(base, &cur->comps[i]);

		if (b)
			component_row(&rows[k++], &cur->comps[i], b);
	}
	for (int i = 0; i < k; i++) {
		rows[i].chg = change_pct(rows[i].base, rows[i].cur);
		rows[i].worse = worse(rows[i].kind, rows[i].chg, threshold);
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
	for (int i = 0; i < n; i++) {
		if (!rows[i].gate || !rows[i].worse)
			continue;
		fprintf(out, "%s: %s %+.1f%% (threshold %g%%)\n",
			f == TVN_BENCH_MARKDOWN ? "**REGRESSION**" : "REGRESSION", rows[i].label,
			rows[i].chg, threshold);
		regressed = true;
	}
	if (!regressed)
		fprintf(out, "no regression (threshold %g%%)\n", threshold);
	return 0;
}

/* ------------------------------------------------------------ csv */

static int compare_csv(const struct cmp_row *rows, int n, FILE *out)
{
	fputs("metric,baseline,current,change_pct,regression\n", out);
	for (int i = 0; i < n; i++) {
		tvn_bench_csv__put_str(out, rows[i].key);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].base);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].cur);
		fputc(',', out);
		tvn_bench_csv__put_num(out, rows[i].chg);
		fprintf(out, ",%s\n", rows[i].gate && rows[i].worse ? "true" : "false");
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
static int compare_lists(const struct cmp_row *rows, int n, json_t *chg, json_t *comps,
			 json_t *list)
{
	int err = 0;

	for (int i = 0; !err && i < n; i++) {
		if (rows[i].gate && rows[i].worse)
			err = json_array_append_new(list, json_string(rows[i].key));
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
	json_t *list = json_array();
	int err;

	err = !root || !chg || !comps || !list;
	err = err ?: compare_lists(rows, n, chg, comps, list);
	err = err ?: json_object_set_new(root, "baseline", key_figures(base, rows, n, true));
	err = err ?: json_object_set_new(root, "current", key_figures(cur, rows, n, false));
	err = err ?: json_object_set_new(root, "change_pct", json_incref(chg));
	err = err ?: json_object_set_new(root, "regression", json_boolean(regressed));
	err = err ?: json_object_set_new(root, "threshold_pct", tvn_bench_json__real(threshold));
	err = err ?: json_object_set_new(root, "regressions", json_incref(list));
	err = err ?: json_object_set_new(root, "per_component", json_incref(comps));
	json_decref(chg);
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
