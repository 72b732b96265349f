/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * prom: renders a struct tvn_snapshot as Prometheus text exposition 0.0.4 or as
 * OpenMetrics 1.0 text. The family catalogue is docs/metrics.md.
 */
#ifndef TORVYN_PROM_H
#define TORVYN_PROM_H

#include <stdbool.h>
#include <stddef.h>

struct tvn_snapshot;

/*
 * Renders @s (borrowed, only read) into a new buffer. On success *buf is a
 * malloc'd, NUL-terminated text of *len bytes (the NUL not counted); the
 * caller frees it with free(). Returns 0, or -ENOMEM (then *buf is NULL and
 * *len 0); -EINVAL when an argument is NULL. Thread-safe for distinct
 * snapshots; reads CLOCK_MONOTONIC for the active duration of running flows.
 */
int tvn_prom__render(const struct tvn_snapshot *s, bool openmetrics, char **buf, size_t *len);

/*
 * Renders many targets (a node's hosts: each snapshot with its labels) as one
 * exposition, each family once with the samples of every target; trailer
 * (may be NULL: complete families, in the format asked for) goes after the
 * last family, before OpenMetrics' "# EOF". Returns as tvn_prom__render().
 */
struct tvn_metric_target;
int tvn_prom__render_many(const struct tvn_metric_target *t, int n, bool openmetrics,
			  const char *trailer, char **buf, size_t *len);

/* The Content-Type header value of a rendering; a static string. */
const char *tvn_prom__content_type(bool openmetrics);

/*
 * True when an HTTP Accept header prefers application/openmetrics-text (any
 * version) over the default text/plain: it must be listed with q > 0, and
 * with a q no lower than that of text/plain and of the wildcard ranges that
 * cover it; on equal q the range listed first wins. q=0 is a refusal. NULL
 * or a header without such an entry gives false.
 */
bool tvn_prom__wants_openmetrics(const char *accept_header);

#endif /* TORVYN_PROM_H */
