// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A bench report as JSON: written for --report-format json and baselines,
 * loaded back for --compare.
 *
 * The layout is described once, by the field tables below: the writer and
 * the loader both walk them, so every field written is read back.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

/* ------------------------------------------------------------ layout */

enum ftype { F_INT, F_U64, F_DBL, F_STR };

struct field {
	const char *key;
	enum ftype type;
	size_t off, size;
};

/* clang-format off */
#define FLD(T, ty, k, m) { k, ty, offsetof(T, m), sizeof(((T *)0)->m) }
/* clang-format on */
#define RF(ty, k, m) FLD(struct tvn_bench_report, ty, k, m)
#define CF(ty, k, m) FLD(struct tvn_bench_component, ty, k, m)
#define SF(ty, k, m) FLD(struct tvn_bench_stream, ty, k, m)

static const struct field top_fields[] = {
    RF(F_STR, "target", target),	 RF(F_INT, "pid", pid),
    RF(F_STR, "started_at", started_at), RF(F_DBL, "duration_s", duration_s),
    RF(F_DBL, "warmup_s", warmup_s),	 RF(F_U64, "elements", elements),
    RF(F_U64, "bytes", bytes),		 RF(F_STR, "slowest", slowest),
};

static const struct field throughput_fields[] = {
    RF(F_DBL, "elements_per_sec", elements_per_sec),
    RF(F_DBL, "bytes_per_sec", bytes_per_sec),
};

static const struct field latency_fields[] = {
    RF(F_DBL, "p50_us", p50_us),   RF(F_DBL, "p90_us", p90_us),
    RF(F_DBL, "p95_us", p95_us),   RF(F_DBL, "p99_us", p99_us),
    RF(F_DBL, "p999_us", p999_us), RF(F_DBL, "max_us", max_us),
    RF(F_DBL, "mean_us", mean_us), RF(F_U64, "samples", latency_samples),
};

static const struct field resources_fields[] = {
    RF(F_U64, "buffer_allocs", buffer_allocs),	    RF(F_U64, "pool_hits", pool_hits),
    RF(F_U64, "fallback_allocs", fallback_allocs),  RF(F_DBL, "pool_reuse_pct", pool_reuse_pct),
    RF(F_U64, "total_copies", total_copies),	    RF(F_U64, "total_copy_bytes", total_copy_bytes),
    RF(F_U64, "peak_memory_bytes", peak_rss_bytes), RF(F_U64, "mean_memory_bytes", mean_rss_bytes),
};

static const struct field scheduling_fields[] = {
    RF(F_U64, "total_wakeups", total_wakeups),
    RF(F_DBL, "total_idle_s", total_idle_s),
    RF(F_U64, "backpressure_events", backpressure_events),
    RF(F_U64, "queue_peak", queue_peak),
    RF(F_U64, "queue_capacity", queue_capacity),
};

static const struct field comp_fields[] = {
    CF(F_STR, "flow", flow),
    CF(F_STR, "component", component),
    CF(F_U64, "invocations", invocations),
    CF(F_U64, "errors", errors),
    CF(F_DBL, "p50_us", p50_us),
    CF(F_DBL, "p99_us", p99_us),
    CF(F_DBL, "mean_us", mean_us),
    CF(F_DBL, "max_us", max_us),
    CF(F_DBL, "share_pct", share_pct),
    CF(F_U64, "wakeups", wakeups),
    CF(F_DBL, "idle_s", idle_s),
    CF(F_DBL, "cpu_s", cpu_s),
};

static const struct field stream_fields[] = {
    SF(F_STR, "flow", flow),
    SF(F_STR, "stream", stream),
    SF(F_DBL, "mean_depth", mean_depth),
    SF(F_U64, "peak_depth", peak_depth),
    SF(F_U64, "capacity", capacity),
    SF(F_U64, "backpressure_events", backpressure_events),
    SF(F_DBL, "backpressure_s", backpressure_s),
    SF(F_U64, "elements", elements),
};

/* The count and bytes of copy reason i, through the fields of copies[0], copy_bytes[0]. */
static const struct field copy_fields[] = {
    RF(F_U64, "count", copies[0]),
    RF(F_U64, "bytes", copy_bytes[0]),
};

struct fsection {
	const char *key;
	const struct field *f;
	size_t n;
};

/* clang-format off */
#define SECTION(k, a) { k, a, ARRAY_SIZE(a) }
/* clang-format on */

/* The objects of the report, in output order; "copies" goes into resources. */
static const struct fsection sections[] = {
    SECTION("throughput", throughput_fields),
    SECTION("latency", latency_fields),
    SECTION("resources", resources_fields),
    SECTION("scheduling", scheduling_fields),
};

/* An array of the report: per_component or queues. */
struct farray {
	const char *key;
	size_t items_off, n_off, size; /* of the pointer and the count in the report */
	const struct field *f;
	size_t nf;
};

/* clang-format off */
#define ARRAY(k, p, n, a)                                                                          \
	{ k, offsetof(struct tvn_bench_report, p), offsetof(struct tvn_bench_report, n),           \
	  sizeof(*((struct tvn_bench_report *)0)->p), a, ARRAY_SIZE(a) }
/* clang-format on */

static const struct farray arrays[] = {
    ARRAY("per_component", comps, n_comps, comp_fields),
    ARRAY("queues", streams, n_streams, stream_fields),
};

/* ------------------------------------------------------------ values */

/* JSON keeps strings UTF-8; a command line need not be: replace what is not. */
json_t *tvn_bench_json__str(const char *s, size_t size)
{
	size_t n = strnlen(s, size);
	json_t *j = json_stringn(s, n);
	char *copy;

	if (j)
		return j;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	copy[n] = 0;
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

/* JSON has no NaN or infinity: such a value is written as null. */
json_t *tvn_bench_json__real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* json_int_t is signed: counters beyond 2^63 (never seen) saturate. */
static json_t *ju64(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* ------------------------------------------------------------ writing */

static int put_fields(json_t *obj, const void *base, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)base + f[i].off;
		json_t *v = NULL;

		switch (f[i].type) {
		case F_INT:
			v = json_integer(*(const int *)p);
			break;
		case F_U64:
			v = ju64(*(const uint64_t *)p);
			break;
		case F_DBL:
			v = tvn_bench_json__real(*(const double *)p);
			break;
		case F_STR:
			v = tvn_bench_json__str(p, f[i].size);
			break;
		}
		if (json_object_set_new(obj, f[i].key, v))
			return -ENOMEM;
	}
	return 0;
}

static json_t *fields_obj(const void *base, const struct field *f, size_t n)
{
	json_t *obj = json_object();

	if (obj && put_fields(obj, base, f, n)) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

static json_t *copies_obj(const struct tvn_bench_report *r)
{
	json_t *obj = json_object();

	for (int i = 0; obj && i < TVN_BENCH_N_REASONS; i++) {
		json_t *c = fields_obj((const char *)r + i * sizeof(uint64_t), copy_fields,
				       ARRAY_SIZE(copy_fields));

		if (!c || json_object_set_new(obj, tvn_bench_copy_reasons[i], c)) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

static int put_array(json_t *root, const struct tvn_bench_report *r, const struct farray *a)
{
	int n = *(const int *)((const char *)r + a->n_off);
	json_t *arr = json_array();
	const char *items;

	memcpy(&items, (const char *)r + a->items_off, sizeof(items));

	if (json_object_set_new(root, a->key, arr))
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (json_array_append_new(arr, fields_obj(items + i * a->size, a->f, a->nf)))
			return -ENOMEM;
	return 0;
}

static int put_section(json_t *root, const struct tvn_bench_report *r, const struct fsection *s)
{
	json_t *obj = fields_obj(r, s->f, s->n);
	int err = json_object_set_new(root, s->key, obj);

	if (!err && !strcmp(s->key, "resources"))
		err = json_object_set_new(obj, "copies", copies_obj(r));
	/* the arrays follow the latency */
	for (size_t i = 0; !err && !strcmp(s->key, "latency") && i < ARRAY_SIZE(arrays); i++)
		err = put_array(root, r, &arrays[i]);
	return err;
}

/* The windows, a list per figure: {"seconds": S, "elements_per_sec": [...], "p99_us": [...]}. */
static int put_windows(json_t *root, const struct tvn_bench_report *r)
{
	json_t *obj = json_object(), *eps = json_array(), *p99 = json_array();
	int err = !obj || !eps || !p99;

	err = err ?: json_object_set_new(obj, "seconds", tvn_bench_json__real(r->window_s));
	err = err ?: json_object_set(obj, "elements_per_sec", eps);
	err = err ?: json_object_set(obj, "p99_us", p99);
	for (int i = 0; !err && i < r->n_windows; i++) {
		err = json_array_append_new(eps,
					    tvn_bench_json__real(r->windows[i].elements_per_sec));
		err = err ?: json_array_append_new(p99, tvn_bench_json__real(r->windows[i].p99_us));
	}
	json_decref(eps);
	json_decref(p99);
	if (err) {
		json_decref(obj);
		return -ENOMEM;
	}
	return json_object_set_new(root, "windows", obj) ? -ENOMEM : 0;
}

static json_t *report_json(const struct tvn_bench_report *r)
{
	json_t *root = json_object();
	int err;

	if (!root)
		return NULL;
	err = json_object_set_new(root, "schema_version", json_integer(r->schema_version));
	err = err ?: put_fields(root, r, top_fields, ARRAY_SIZE(top_fields));
	for (size_t i = 0; !err && i < ARRAY_SIZE(sections); i++)
		err = put_section(root, r, &sections[i]);
	err = err ?: put_windows(root, r);
	if (err) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Digits a real needs to read back exactly, and no exponent for its integer part. */
static int digits_of(double d)
{
	char buf[40];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		/* 10000.0, not 1e4 */
		if (strtod(buf, NULL) == d && fabs(d) < pow(10, p))
			break;
	}
	return p;
}

/* Digits the reals of j need to read back exactly: 17 for all would print 0.1 as
 * 0.10000000000000001. */
static int real_digits(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int p = 1;

	if (json_is_real(j))
		return digits_of(json_real_value(j));
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			int q = real_digits(v);

			p = q > p ? q : p;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			int q = real_digits(v);

			p = q > p ? q : p;
		}
	}
	return p;
}

int tvn_bench_json__dump(json_t *root, FILE *out)
{
	size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(real_digits(root));

	if (json_dumpf(root, out, flags) || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

int tvn_bench_json__write(const struct tvn_bench_report *r, FILE *out)
{
	json_t *root = report_json(r);
	int err;

	if (!root)
		return -ENOMEM;
	err = tvn_bench_json__dump(root, out);
	json_decref(root);
	return err;
}

/* ------------------------------------------------------------ loading */

struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

static int load_fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int load_fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!l->err || !l->errlen)
		return -EINVAL;
	n = snprintf(l->err, l->errlen, "%s: ", l->path);
	if (n >= 0 && (size_t)n < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int get_field(struct loader *l, json_t *obj, const char *where, void *base,
		     const struct field *f)
{
	const char *sep = where[0] ? "." : "";
	json_t *v = json_object_get(obj, f->key);
	char *p = (char *)base + f->off;
	json_int_t i;

	if (!v)
		return load_fail(l, "%s%s%s: missing", where, sep, f->key);
	switch (f->type) {
	case F_INT:
		i = json_is_integer(v) ? json_integer_value(v) : 0;
		if (!json_is_integer(v) || i < INT_MIN || i > INT_MAX)
			return load_fail(l, "%s%s%s: not an int", where, sep, f->key);
		*(int *)p = (int)i;
		return 0;
	case F_U64:
		i = json_is_integer(v) ? json_integer_value(v) : -1;
		if (i < 0)
			return load_fail(l, "%s%s%s: not an integer >= 0", where, sep, f->key);
		*(uint64_t *)p = (uint64_t)i;
		return 0;
	case F_DBL:
		if (json_is_null(v))
			*(double *)p = NAN;
		else if (json_is_number(v))
			*(double *)p = json_number_value(v);
		else
			return load_fail(l, "%s%s%s: not a number", where, sep, f->key);
		return 0;
	case F_STR:
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return load_fail(l, "%s%s%s: not a string", where, sep, f->key);
		if (json_string_length(v) >= f->size)
			return load_fail(l, "%s%s%s: longer than %zu bytes", where, sep, f->key,
					 f->size - 1);
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	return -EINVAL;
}

static int get_fields(struct loader *l, json_t *obj, const char *where, void *base,
		      const struct field *f, size_t n)
{
	int err = 0;

	if (!json_is_object(obj))
		return load_fail(l, "%s: missing or not an object", where);
	for (size_t i = 0; !err && i < n; i++)
		err = get_field(l, obj, where, base, &f[i]);
	return err;
}

static int get_copies(struct loader *l, json_t *res, struct tvn_bench_report *r)
{
	json_t *copies = json_object_get(res, "copies");
	char where[64];
	int err = 0;

	if (!json_is_object(copies))
		return load_fail(l, "resources.copies: missing or not an object");
	for (int i = 0; !err && i < TVN_BENCH_N_REASONS; i++) {
		snprintf(where, sizeof(where), "resources.copies.%s", tvn_bench_copy_reasons[i]);
		err = get_fields(l, json_object_get(copies, tvn_bench_copy_reasons[i]), where,
				 (char *)r + i * sizeof(uint64_t), copy_fields,
				 ARRAY_SIZE(copy_fields));
	}
	return err;
}

static int get_array(struct loader *l, json_t *root, struct tvn_bench_report *r,
		     const struct farray *a)
{
	json_t *arr = json_object_get(root, a->key);
	size_t len = json_array_size(arr);
	char where[64], *items;
	int err = 0;

	if (!json_is_array(arr))
		return load_fail(l, "%s: missing or not an array", a->key);
	if (len > INT_MAX)
		return load_fail(l, "%s: too many entries", a->key);
	items = len ? calloc(len, a->size) : NULL;
	if (len && !items)
		return -ENOMEM;
	/* the report owns them from here: freed with it on a later error */
	memcpy((char *)r + a->items_off, &items, sizeof(items));
	*(int *)((char *)r + a->n_off) = (int)len;
	for (size_t i = 0; !err && i < len; i++) {
		snprintf(where, sizeof(where), "%s[%zu]", a->key, i);
		err =
		    get_fields(l, json_array_get(arr, i), where, items + i * a->size, a->f, a->nf);
	}
	return err;
}

/* A list of numbers (null: NaN) of exactly n entries into the windows' field at off. */
static int get_window_list(struct loader *l, json_t *w, const char *key, struct tvn_bench_report *r,
			   size_t off)
{
	json_t *arr = json_object_get(w, key), *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) != (size_t)r->n_windows)
		return load_fail(l, "windows.%s: not a list of %d numbers", key, r->n_windows);
	json_array_foreach(arr, i, v)
	{
		double *d = (double *)((char *)&r->windows[i] + off);

		if (json_is_null(v))
			*d = NAN;
		else if (json_is_number(v))
			*d = json_number_value(v);
		else
			return load_fail(l, "windows.%s[%zu]: not a number", key, i);
	}
	return 0;
}

/* The windows are optional: a report of an older torvyn-trace has none. */
static int get_windows(struct loader *l, json_t *root, struct tvn_bench_report *r)
{
	json_t *w = json_object_get(root, "windows"), *secs;
	size_t n;

	if (!w)
		return 0;
	secs = json_object_get(w, "seconds");
	if (!json_is_object(w) || !json_is_number(secs))
		return load_fail(l, "windows: not an object with seconds");
	n = json_array_size(json_object_get(w, "elements_per_sec"));
	if (n > INT_MAX / 2)
		return load_fail(l, "windows: too many entries");
	r->window_s = json_number_value(secs);
	r->windows = n ? calloc(n, sizeof(*r->windows)) : NULL;
	if (n && !r->windows)
		return -ENOMEM;
	r->n_windows = (int)n;
	return get_window_list(l, w, "elements_per_sec", r,
			       offsetof(struct tvn_bench_window, elements_per_sec))
		   ?: get_window_list(l, w, "p99_us", r, offsetof(struct tvn_bench_window, p99_us));
}

static int check_version(struct loader *l, json_t *root)
{
	json_t *ver = json_object_get(root, "schema_version");

	if (!json_is_object(root))
		return load_fail(l, "not a JSON object: not a torvyn-trace bench report");
	if (!json_is_integer(ver))
		return load_fail(l, "no schema_version: not a torvyn-trace bench report");
	if (json_integer_value(ver) != TVN_BENCH_SCHEMA_VERSION)
		return load_fail(l,
				 "schema_version %" JSON_INTEGER_FORMAT
				 ", this torvyn-trace reads %d: re-record the baseline",
				 json_integer_value(ver), TVN_BENCH_SCHEMA_VERSION);
	return 0;
}

static int report_from_json(struct loader *l, json_t *root, struct tvn_bench_report *r)
{
	int err = check_version(l, root);

	if (err)
		return err;
	r->schema_version = TVN_BENCH_SCHEMA_VERSION;
	err = get_fields(l, root, "", r, top_fields, ARRAY_SIZE(top_fields));
	for (size_t i = 0; !err && i < ARRAY_SIZE(sections); i++)
		err = get_fields(l, json_object_get(root, sections[i].key), sections[i].key, r,
				 sections[i].f, sections[i].n);
	err = err ?: get_copies(l, json_object_get(root, "resources"), r);
	for (size_t i = 0; !err && i < ARRAY_SIZE(arrays); i++)
		err = get_array(l, root, r, &arrays[i]);
	return err ?: get_windows(l, root, r);
}

int tvn_bench_report__load(const char *path, struct tvn_bench_report *r, char *err, size_t errlen)
{
	struct loader l = {.path = path, .err = err, .errlen = errlen};
	struct tvn_bench_report tmp = {0};
	json_error_t jerr;
	json_t *root;
	FILE *f;
	int ret;

	if (err && errlen)
		err[0] = 0;
	memset(r, 0, sizeof(*r));
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!root)
		return load_fail(&l, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	ret = report_from_json(&l, root, &tmp);
	json_decref(root);
	if (ret) {
		tvn_bench_report__free(&tmp);
		return ret;
	}
	*r = tmp;
	return 0;
}
