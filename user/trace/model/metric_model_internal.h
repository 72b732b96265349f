/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the walk (metric_model.c) and the catalogue (metric_catalog.c) share:
 * the shape of a catalogue entry, the state of a walk, and the helpers the
 * families that walk the snapshot themselves emit their samples with.
 */
#ifndef TORVYN_METRIC_MODEL_INTERNAL_H
#define TORVYN_METRIC_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "metric_model.h"
#include "snapshot.h"

enum tvn_metric_src {
	SRC_FLOW,    /* present flows: struct torvyn_flow_block */
	SRC_COMP,    /* present components: struct torvyn_component_block */
	SRC_STREAM,  /* present streams: struct torvyn_stream_block */
	SRC_TIER,    /* pool torvyn_tier_names if have_pool: struct torvyn_pool_tier */
	SRC_SYS,     /* if have_sys: struct torvyn_system_block */
	SRC_DCOMP,   /* components with has_diag: struct tvn_invoke_val */
	SRC_DSTREAM, /* streams with has_diag: struct tvn_queue_val */
	SRC_DPOOL,   /* torvyn_tier_names if has_diag_pool: struct tvn_pool_val */
	SRC_SELF,    /* always: struct tvn_snapshot */
	SRC_OWN,     /* the family's fn walks the snapshot itself */
};

enum tvn_metric_val {
	V_U64,	/* __u64 at off */
	V_U32,	/* __u32 at off */
	V_INT,	/* int at off */
	V_DBL,	/* double at off */
	V_NS,	/* __u64 nanoseconds at off */
	V_HIST, /* struct torvyn_hist_lat at off */
	V_ARR,	/* __u64[n_names] at off, one sample per name, label lkey */
	V_FN,	/* fn gives the entity's samples */
};

/* An entity's labels; values that are indices are formatted into num. */
struct tvn_metric_lset {
	struct tvn_metric_label l[METRIC_MAX_LABELS];
	int n;
	char num[METRIC_MAX_LABELS][24];
};

struct tvn_metric_walk;
struct tvn_metric_fam;
typedef void (*tvn_metric_fam_fn)(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
				  const void *base, const struct tvn_metric_lset *l);

struct tvn_metric_fam {
	struct tvn_metric_family pub;
	enum tvn_metric_src src;
	enum tvn_metric_val val;
	size_t off;
	tvn_metric_fam_fn fn;
	bool if_set;	  /* V_U64: only entities whose value is not 0 (reported by the host) */
	const char *lkey; /* V_ARR */
	const char *const *names;
	size_t n_names;
};

struct tvn_metric_walk {
	const struct tvn_snapshot *s; /* sanitized: counts match the arrays */
	uint64_t now_ns;
	const uint32_t *xfer_order; /* transfers sorted by flow, from, to */
	const struct tvn_metric_visitor *v;
	void *ctx;
	const struct tvn_metric_label *extra; /* the target's labels, before every sample's own */
	int n_extra;
	struct tvn_metric_family pub; /* the current family, its Prometheus names derived */
	char prom[128], prom_unit[32];
	bool begun; /* begin was called for the current family */
	int err;
};

/* The catalogue, in exposition order (metric_catalog.c). */
extern const struct tvn_metric_fam tvn_metric_fams[];
extern const size_t tvn_metric_n_fams;

/*
 * w->pub for f: its public fields, with the Prometheus family name and unit
 * derived from its OTLP name, unit and type. Returns 0 or -errno.
 */
int tvn_metric_fam__derive(const struct tvn_metric_fam *f, struct tvn_metric_family *pub,
			   char *prom, size_t prom_len, char *unit, size_t unit_len);

/* Hands one sample of f to the visitor; begins the family first if needed. */
void tvn_metric_walk__emit(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			   const struct tvn_metric_lset *l, const struct tvn_metric_value *v);
void tvn_metric_walk__emit_u64(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			       const struct tvn_metric_lset *l, uint64_t x);

/* Names from the snapshot's blocks, or NULL when absent or out of range. */
const char *tvn_metric_walk__flow_name(const struct tvn_snapshot *s, uint64_t fi);
const char *tvn_metric_walk__comp_name(const struct tvn_snapshot *s, uint64_t fi, uint64_t ci);

static inline uint64_t tvn_metric_walk__read_u64(const void *base, size_t off)
{
	uint64_t x;

	memcpy(&x, (const char *)base + off, sizeof(x));
	return x;
}

void tvn_metric_lset__add(struct tvn_metric_lset *l, const char *key, const char *val, size_t vmax);

/* A name from a block, or the index when the block is absent or unnamed. */
void tvn_metric_lset__name(struct tvn_metric_lset *l, const char *key, const char *name,
			   uint64_t idx);

/* Resets l to the flow_id label of flow fi. */
void tvn_metric_lset__flow(struct tvn_metric_lset *l, const struct tvn_snapshot *s, int fi);

#endif /* TORVYN_METRIC_MODEL_INTERNAL_H */
