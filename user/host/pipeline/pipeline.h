/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pipeline files: JSON (jansson) describing flows of components joined by
 * bounded streams. The format is documented in docs/pipeline-format.md.
 */
#ifndef TORVYN_PIPELINE_H
#define TORVYN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "torvyn_abi.h"

#define TVN_MAX_FAULTS 8
#define TVN_PATH_LEN 256

enum tvn_comp_kind {
	TVN_KIND_GENERATOR,	  /* source: synthetic payloads */
	TVN_KIND_LINES,		  /* source: one element per line of a file or stdin */
	TVN_KIND_TRANSFORM,	  /* processor: in place or by copy */
	TVN_KIND_METADATA_FILTER, /* filter: decides on the sequence number only */
	TVN_KIND_PAYLOAD_FILTER,  /* filter: reads the payload */
	TVN_KIND_ROUTER,	  /* router: round robin over its output streams */
	TVN_KIND_NULL_SINK,
	TVN_KIND_FILE_SINK,
	TVN_KIND_PLUGIN,	 /* any role: a shared object, include/torvyn_component.h */
	TVN_KIND_JSON_GENERATOR, /* source: JSON records that vary with the sequence number */
	TVN_KIND_JSON_ENRICH,	 /* processor: adds the fields a lookup table gives */
	TVN_KIND_JSON_FILTER,	 /* filter: keeps records whose field matches */
	TVN_KIND_DEFLATE,	 /* processor: zlib-compresses the payload */
};

/* json-filter: how a record's field is compared */
enum tvn_match {
	TVN_MATCH_STRING, /* equals a string */
	TVN_MATCH_NUMBER, /* equals a number */
	TVN_MATCH_RANGE,  /* a number within [min, max] */
};

#define TVN_FIELD_LEN 64
#define TVN_TABLE_LEN 2048

enum tvn_fault_type {
	TVN_FAULT_ERROR, /* the component returns an error for element `at` */
	TVN_FAULT_DELAY, /* the component takes `ns` longer on element `at` */
	TVN_FAULT_STALL, /* the component stops taking input for `ns` before element `at` */
};

struct tvn_fault {
	uint64_t at; /* element sequence number, 0-based */
	enum tvn_fault_type type;
	uint32_t error_kind; /* TORVYN_ERR_*, for TVN_FAULT_ERROR */
	uint64_t ns;	     /* for DELAY and STALL */
};

struct tvn_comp_cfg {
	char id[TORVYN_NAME_LEN];
	uint32_t role; /* TORVYN_ROLE_* */
	enum tvn_comp_kind kind;
	/* generator */
	double rate;		     /* elements per second, 0 = as fast as possible */
	uint32_t size_min, size_max; /* payload bytes, uniform in [min, max] */
	uint64_t seed;
	/* lines source, file sink, plugin */
	char path[TVN_PATH_LEN];
	/* transform */
	int copy; /* 0 in place, 1 by copy */
	/* metadata filter: keep elements whose seq % keep_every == 0 */
	uint32_t keep_every;
	/* payload filter: keep elements whose payload contains this */
	char contains[64];
	/* plugin: passed to the plugin's init */
	char config[256];
	/* json-generator: bytes of each record's "note" field */
	uint32_t note_bytes;
	/* json-enrich, json-filter: the record's field they read */
	char field[TVN_FIELD_LEN];
	/* json-enrich: the table, compact JSON {"<value>": {<fields to add>}, ...} */
	char table[TVN_TABLE_LEN];
	/* json-filter: equals (a string or number) or min <= value <= max */
	enum tvn_match match;
	char equals[TVN_FIELD_LEN];
	double num, min, max;
	/* deflate: zlib level 0 to 9 */
	int level;
	struct tvn_fault faults[TVN_MAX_FAULTS];
	int n_faults;
};

struct tvn_stream_cfg {
	char id[TORVYN_NAME_LEN]; /* "<from>-><to>" unless given */
	int from, to;		  /* component indices */
	uint32_t capacity;	  /* default 64 */
	double low_watermark;	  /* fraction of capacity, default 0.5 */
	uint32_t policy;	  /* TORVYN_POLICY_*, default block-producer */
};

#define TVN_ERROR_POLICY_SKIP 0 /* drop the element, count it, go on */
#define TVN_ERROR_POLICY_FAIL 1 /* the flow goes to Failed */

struct tvn_flow_cfg {
	char id[TORVYN_NAME_LEN];
	int error_policy;
	struct tvn_comp_cfg comps[TORVYN_MAX_COMPONENTS];
	int n_comps;
	struct tvn_stream_cfg streams[TORVYN_MAX_STREAMS];
	int n_streams;
};

struct tvn_pipeline_cfg {
	struct tvn_flow_cfg *flows; /* owned; free with tvn_pipeline__free() */
	int n_flows;
};

/*
 * Loads and validates a pipeline file. On error returns -EINVAL (bad content),
 * -ENOENT/-EACCES (cannot read) and writes one line into err:
 * "FILE:LINE: FIELD: what is wrong (what would be right)".
 */
int tvn_pipeline__load(const char *path, struct tvn_pipeline_cfg *cfg, char *err, size_t errlen);
void tvn_pipeline__free(struct tvn_pipeline_cfg *cfg);

#endif /* TORVYN_PIPELINE_H */
