/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one name resolver. A host names its flows, components and streams in
 * their metric blocks; every label (Prometheus, OTLP metrics) and every span
 * name and attribute takes its names from these functions, so a flow's label
 * and its span attribute can never differ. Until a block has named an entity,
 * its index stands in for its name, everywhere alike.
 */
#ifndef TORVYN_NAMES_RESOLVE_H
#define TORVYN_NAMES_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* The flow's name: from its block, or any of its blocks; NULL until one came. */
const char *tvn_names__flow(const struct tvn_snap_flow *f);
/* A component's or stream's name; NULL until its block came (or idx is out of range). */
const char *tvn_names__component(const struct tvn_snap_flow *f, int idx);
const char *tvn_names__stream(const struct tvn_snap_flow *f, int idx);

/*
 * name (at most TORVYN_NAME_LEN - 1 bytes), or idx as text when name is NULL
 * or empty, into buf. Returns buf.
 */
const char *tvn_names__format(const char *name, uint64_t idx, char *buf, size_t len);

#endif /* TORVYN_NAMES_RESOLVE_H */
