/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * metric_model: the one catalogue of the metric families of docs/metrics.md
 * (names, types, units, help texts, where the samples come from) and the walk
 * that turns a struct tvn_snapshot into them. The renderers (render/prom.c: Prometheus
 * text and OpenMetrics; render/otlp_*.c: OTLP metrics) only format what the walk
 * hands them, so they cannot disagree about which series exist or what they
 * hold. A new metric is one line of the table in metric_catalog.c.
 */
#ifndef TORVYN_METRIC_MODEL_H
#define TORVYN_METRIC_MODEL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "torvyn_abi.h"

struct tvn_snapshot;

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM, METRIC_STATESET, METRIC_INFO };

struct tvn_metric_family {
	const char *otlp; /* OTLP name: torvyn.<namespace>.<name>, no unit, no suffix */
	const char *unit; /* UCUM unit of the OTLP metric: "s", "By", "{element}", ... */
	enum metric_type type;
	const char *upstream; /* upstream Torvyn's name for it, or NULL */
	const char *help;
	const char *otlp_help; /* NULL: help */
	/* derived from otlp, unit and type by the walk (tvn_metric_name__prom): */
	const char *prom;      /* OpenMetrics family name: without _total or _info */
	const char *prom_unit; /* its unit word ("seconds", "bytes"), or NULL */
};

/* How the OpenTelemetry-to-Prometheus translation treats a metric. */
enum tvn_metric_name_kind {
	TVN_NAME_GAUGE,	    /* gauge: unit "1" gives _ratio */
	TVN_NAME_COUNTER,   /* monotonic sum: _total */
	TVN_NAME_UPDOWN,    /* non-monotonic sum */
	TVN_NAME_HISTOGRAM, /* histogram */
};

/*
 * The Prometheus name the OpenTelemetry Collector's Prometheus exporter gives
 * an OTLP metric (add_metric_suffixes on): into out (n bytes). Returns 0,
 * -EINVAL (nothing of the name is left) or -ENAMETOOLONG.
 */
int tvn_metric_name__prom(const char *otlp, const char *unit, enum tvn_metric_name_kind kind,
			  char *out, size_t n);

/* The unit words that translation appends for unit ("" for "{...}" or "1"). */
int tvn_metric_name__unit(const char *unit, char *out, size_t n);

/* The kind of a catalogue type: counters are monotonic sums, the rest gauges or histograms. */
enum tvn_metric_name_kind tvn_metric_name__kind(enum metric_type t);

/*
 * A label: value is read up to a NUL or vmax bytes and may hold any bytes
 * (names come from the traced process); each renderer escapes or replaces.
 */
struct tvn_metric_label {
	const char *key, *val;
	size_t vmax;
};

#define METRIC_MAX_LABELS 4

/* Per-bucket counts (the last is above the highest bound); count is their sum. */
struct tvn_metric_hist {
	uint64_t bucket[TORVYN_LAT_BUCKETS];
	uint64_t count, sum_ns;
};

enum metric_value_kind { METRIC_U64, METRIC_I64, METRIC_DBL, METRIC_NS, METRIC_HIST };

struct tvn_metric_value {
	enum metric_value_kind kind;
	union {
		uint64_t u;			 /* METRIC_U64, METRIC_NS (nanoseconds) */
		int64_t i;			 /* METRIC_I64 */
		double d;			 /* METRIC_DBL */
		const struct tvn_metric_hist *h; /* METRIC_HIST */
	};
};

/*
 * The walk calls begin before a family's first sample (families without
 * samples are skipped), sample for each point, end after its last. The
 * pointers passed live only for the call. A callback returns 0 or -errno;
 * an error stops the walk, which returns it. begin and end may be NULL.
 */
struct tvn_metric_visitor {
	int (*begin)(void *ctx, const struct tvn_metric_family *f);
	int (*sample)(void *ctx, const struct tvn_metric_family *f,
		      const struct tvn_metric_label *l, int n_labels,
		      const struct tvn_metric_value *v);
	int (*end)(void *ctx, const struct tvn_metric_family *f);
};

/*
 * Walks every family of @s (borrowed, only read) in exposition order.
 * now_mono_ns (CLOCK_MONOTONIC) ends the active duration of running flows.
 * Negative counts or missing arrays in @s mean "none"; transfers are visited
 * sorted by flow, from, to. Returns 0, -EINVAL, -ENOMEM or a visitor's error.
 */
int tvn_metric_model__walk(const struct tvn_snapshot *s, uint64_t now_mono_ns,
			   const struct tvn_metric_visitor *v, void *ctx);

/* One target of a walk over many (a node's hosts): its snapshot and its labels. */
struct tvn_metric_target {
	const struct tvn_snapshot *s;
	const struct tvn_metric_label *labels; /* put before each sample's own labels */
	int n_labels;			       /* at most TVN_METRIC_MAX_TARGET_LABELS */
};

#define TVN_METRIC_MAX_TARGET_LABELS 4

/*
 * Walks every family once, each with the samples of every target in turn,
 * so that a family's samples stay together whatever the number of targets.
 * Returns as tvn_metric_model__walk().
 */
int tvn_metric_model__walk_many(const struct tvn_metric_target *t, int n, uint64_t now_mono_ns,
				const struct tvn_metric_visitor *v, void *ctx);

/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes readable), 0 when the
 * byte at s starts none: the renderers put U+FFFD for such bytes of label
 * values, which come from the traced process.
 */
size_t tvn_metric_model__utf8_seq(const unsigned char *s, size_t n);

#endif /* TORVYN_METRIC_MODEL_H */
