/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One rendered body per snapshot, shared by every scrape that comes while it
 * is fresh: a render is reused for ttl after it finished, and scrapes that
 * come while one is rendering wait for it instead of rendering again. The
 * gzip'd body is made once from the plain one of the same snapshot. Bodies
 * are reference-counted: a connection still sending an older body keeps it,
 * the last one to let go frees it (and hands big frees back to the system).
 *
 * Per format (Prometheus text, OpenMetrics), the bodies served never go back
 * in time: a new render starts only once the previous one finished. Memory
 * is bounded: with 8 bodies alive (held by slow connections), the current one
 * is served even past its ttl.
 */
#ifndef TORVYN_SCRAPE_CACHE_H
#define TORVYN_SCRAPE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct tvn_body {
	const char *data;
	size_t len;
	uint64_t gen; /* the render that made it; a gzip'd body has its plain one's */
	bool gzip;
};

struct tvn_scrape_cache;

/*
 * Returns NULL and sets errno. render(ctx) and version(ctx) (NULL: none) are
 * called with no lock held; a body is reused only under the version it was
 * rendered at.
 */
struct tvn_scrape_cache *tvn_scrape_cache__new(tvn_http_render_fn render,
					       tvn_http_version_fn version, void *ctx,
					       uint64_t ttl_ns);
/* Drops the cache's references. Every body got from it must be put first. */
void tvn_scrape_cache__free(struct tvn_scrape_cache *c);

/*
 * A reference to the current body of the format (om, gzip), rendering it
 * if none is fresh. Returns 0 and *out (release with tvn_body__put), or the
 * render's -errno (or -ENOMEM).
 */
int tvn_scrape_cache__get(struct tvn_scrape_cache *c, bool om, bool gzip, struct tvn_body **out);
void tvn_body__put(struct tvn_body *b); /* NULL does nothing */

/* Renders so far (each is one snapshot): for tests and figures. */
uint64_t tvn_scrape_cache__renders(struct tvn_scrape_cache *c);

#endif /* TORVYN_SCRAPE_CACHE_H */
