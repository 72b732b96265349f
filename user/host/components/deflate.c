// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * deflate: compresses each payload on its own, in the zlib format (RFC 1950)
 * at the configured level, into a new buffer that replaces it: a PayloadWrite
 * copy of the compressed bytes. One zlib stream per component, reset for each
 * element, so the element pays for compressing, not for zlib's set-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <zlib.h>

#include "work_kinds.h"

int tvn_deflate__open(struct tvn_comp *c, char *err, size_t errlen)
{
	z_stream *zs = calloc(1, sizeof(*zs));
	int rc;

	if (!zs) {
		snprintf(err, errlen, "component %s: out of memory", c->cfg->id);
		return -ENOMEM;
	}
	rc = deflateInit(zs, c->cfg->level);
	if (rc != Z_OK) {
		snprintf(err, errlen, "component %s: cannot start zlib at level %d: %s", c->cfg->id,
			 c->cfg->level, zs->msg ? zs->msg : zError(rc));
		free(zs);
		return rc == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	c->plugin_state = zs;
	return 0;
}

void tvn_deflate__close(struct tvn_comp *c)
{
	z_stream *zs = c->plugin_state;

	if (!zs)
		return;
	deflateEnd(zs);
	free(zs);
	c->plugin_state = NULL;
}

int tvn_deflate__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			uint64_t *copy_bytes)
{
	z_stream *zs = c->plugin_state;
	uLong bound = deflateBound(zs, e->len);
	struct tvn_buf *nb;

	if (bound > TVN_MAX_BUFFER)
		return -TORVYN_ERR_INVALID_INPUT;
	nb = tvn_pool__alloc(c->pool, bound);
	if (!nb)
		return -TORVYN_ERR_UNAVAILABLE;
	deflateReset(zs);
	zs->next_in = e->buf->data;
	zs->avail_in = e->len;
	zs->next_out = nb->data;
	zs->avail_out = nb->cap;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
		tvn_pool__return(nb);
		return -TORVYN_ERR_INTERNAL;
	}
	tvn_pool__return(e->buf);
	e->buf = nb;
	e->len = zs->total_out;
	*copy_reason = TORVYN_COPY_PAYLOAD_WRITE;
	*copy_bytes = e->len;
	return TORVYN_COMPONENT_OK;
}
