/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Built-in kinds that do real work per element, at the scale of a Torvyn
 * component (docs/pipeline-format.md): JSON records made, enriched from a
 * lookup table, filtered on a field, and compressed with zlib.
 *
 * Each invoke has the contract of tvn_comp__invoke (components.h). A kind
 * that keeps state between elements (json-enrich's parsed table, deflate's
 * zlib stream) keeps it in c->plugin_state, which only plugins use otherwise;
 * its close frees it and may be called on a component never opened.
 */
#ifndef TORVYN_WORK_KINDS_H
#define TORVYN_WORK_KINDS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* json_gen.c: one record for e->seq into a new buffer. */
int tvn_json_gen__invoke(struct tvn_comp *c, struct tvn_elem *e);

/* json_enrich.c */
int tvn_json_enrich__open(struct tvn_comp *c, char *err, size_t errlen);
int tvn_json_enrich__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			    uint64_t *copy_bytes);
void tvn_json_enrich__close(struct tvn_comp *c);

/* json_filter.c */
int tvn_json_filter__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			    uint64_t *copy_bytes);

/* deflate.c */
int tvn_deflate__open(struct tvn_comp *c, char *err, size_t errlen);
int tvn_deflate__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			uint64_t *copy_bytes);
void tvn_deflate__close(struct tvn_comp *c);

#endif /* TORVYN_WORK_KINDS_H */
