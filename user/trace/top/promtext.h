/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A parser of the Prometheus text exposition format (0.0.4; OpenMetrics'
 * "# EOF" and other comments are skipped): each sample goes to a callback
 * with its name, its labels unescaped and its value. Histograms are plain
 * samples here (NAME_bucket with an "le" label, NAME_sum, NAME_count); what
 * they mean is the caller's.
 */
#ifndef TORVYN_PROMTEXT_H
#define TORVYN_PROMTEXT_H

#include <stddef.h>

#define TVN_PROMTEXT_MAX_LABELS 16

struct tvn_promtext_label {
	const char *name;
	const char *value; /* unescaped: \\, \" and \n resolved */
};

/* One sample; its strings are borrowed and live until the callback returns. */
struct tvn_promtext_sample {
	const char *name;
	const struct tvn_promtext_label *labels;
	int n_labels;
	double value; /* +Inf, -Inf and NaN included */
};

/* Called for each sample; a non-zero return stops the parse and is returned. */
typedef int (*tvn_promtext_fn)(void *ctx, const struct tvn_promtext_sample *s);

/*
 * Parses len bytes of text. Returns 0; the callback's non-zero return; or
 * -EINVAL for a malformed line (its number, from 1, in *bad_line when not
 * NULL), -E2BIG for a sample with more than TVN_PROMTEXT_MAX_LABELS labels,
 * -ENOMEM.
 */
int tvn_promtext__parse(const char *text, size_t len, tvn_promtext_fn fn, void *ctx, int *bad_line);

/* The value of label name of s, or NULL. */
const char *tvn_promtext__label(const struct tvn_promtext_sample *s, const char *name);

#endif /* TORVYN_PROMTEXT_H */
