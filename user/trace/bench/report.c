// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A bench report as a whole: freeing, checking, the slowest component, and
 * writing it in one of the four formats (human.c, json.c, csv.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

const char *const tvn_bench_copy_reasons[TVN_BENCH_N_REASONS] = {
    "MetadataMarshal",
    "PayloadRead",
    "PayloadWrite",
    "HostSerialize",
};

_Static_assert(ARRAY_SIZE(((struct tvn_bench_report *)0)->copies) == TVN_BENCH_N_REASONS,
	       "copy reasons");

void tvn_bench_report__free(struct tvn_bench_report *r)
{
	if (!r)
		return;
	free(r->comps);
	free(r->streams);
	free(r->windows);
	r->comps = NULL;
	r->streams = NULL;
	r->windows = NULL;
	r->n_comps = 0;
	r->n_streams = 0;
	r->n_windows = 0;
}

int tvn_bench_format__parse(const char *s, enum tvn_bench_format *f)
{
	static const char *const names[] = {
	    [TVN_BENCH_PRETTY] = "pretty",
	    [TVN_BENCH_JSON] = "json",
	    [TVN_BENCH_CSV] = "csv",
	    [TVN_BENCH_MARKDOWN] = "markdown",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*f = (enum tvn_bench_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

int tvn_bench_report__slowest(const struct tvn_bench_report *r)
{
	int best = -1;

	for (int i = 0; i < r->n_comps; i++) {
		const struct tvn_bench_component *c = &r->comps[i];
		char name[sizeof(r->slowest)];

		snprintf(name, sizeof(name), "%s/%s", c->flow, c->component);
		if (r->slowest[0] && !strcmp(name, r->slowest))
			return i;
		if (best < 0 || c->mean_us > r->comps[best].mean_us)
			best = i;
	}
	return best;
}

bool tvn_bench_report__valid(const struct tvn_bench_report *r)
{
	return r && r->n_comps >= 0 && r->n_streams >= 0 && r->n_windows >= 0 &&
	       (r->comps || !r->n_comps) && (r->streams || !r->n_streams) &&
	       (r->windows || !r->n_windows);
}

int tvn_bench_report__write(const struct tvn_bench_report *r, enum tvn_bench_format f, FILE *out)
{
	int err;

	if (!tvn_bench_report__valid(r) || !out)
		return -EINVAL;
	switch (f) {
	case TVN_BENCH_PRETTY:
	case TVN_BENCH_MARKDOWN:
		err = tvn_bench_human__write(r, f, out);
		break;
	case TVN_BENCH_JSON:
		err = tvn_bench_json__write(r, out);
		break;
	case TVN_BENCH_CSV:
		err = tvn_bench_csv__write(r, out);
		break;
	default:
		return -EINVAL;
	}
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}
