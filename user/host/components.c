/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Built-in components, and components loaded from shared objects. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "components.h"

#define TP_PREFIX "traceparent="

static int plugin_open(struct tvn_comp *c, char *err, size_t errlen)
{
	torvyn_component_entry_fn entry;
	int rc;

	c->dl = dlopen(c->cfg->path, RTLD_NOW | RTLD_LOCAL);
	if (!c->dl) {
		snprintf(err, errlen, "component %s: cannot load %s: %s", c->cfg->id, c->cfg->path,
			 dlerror());
		return -ENOENT;
	}
	entry = (torvyn_component_entry_fn)dlsym(c->dl, "torvyn_component_entry");
	if (!entry) {
		snprintf(err, errlen,
			 "component %s: %s has no torvyn_component_entry(): is it built against "
			 "include/torvyn_component.h?",
			 c->cfg->id, c->cfg->path);
		return -ENOENT;
	}
	c->plugin = entry();
	if (!c->plugin || c->plugin->abi_version != TORVYN_COMPONENT_ABI_VERSION) {
		snprintf(err, errlen,
			 "component %s: %s speaks component ABI %u, this host %u: rebuild it",
			 c->cfg->id, c->cfg->path, c->plugin ? c->plugin->abi_version : 0,
			 TORVYN_COMPONENT_ABI_VERSION);
		return -EPROTO;
	}
	if ((c->cfg->role == TORVYN_ROLE_SOURCE && !c->plugin->produce) ||
	    (c->cfg->role != TORVYN_ROLE_SOURCE && !c->plugin->process)) {
		snprintf(err, errlen, "component %s: %s has no %s function for its role",
			 c->cfg->id, c->cfg->path,
			 c->cfg->role == TORVYN_ROLE_SOURCE ? "produce" : "process");
		return -EPROTO;
	}
	if (c->plugin->init) {
		rc = c->plugin->init(&c->plugin_state, c->cfg->config);
		if (rc) {
			snprintf(err, errlen, "component %s: init failed: %s", c->cfg->id,
				 strerror(rc < 0 ? -rc : rc));
			return rc < 0 ? rc : -rc;
		}
	}
	return 0;
}

int tvn_comp__open(struct tvn_comp *c, char *err, size_t errlen)
{
	const struct tvn_comp_cfg *cfg = c->cfg;

	tvn_rng_seed(&c->rng, cfg->seed * TVN_GOLDEN_GAMMA + (uint64_t)c->flow->idx);
	switch (cfg->kind) {
	case TVN_KIND_LINES:
		c->file = strcmp(cfg->path, "-") ? fopen(cfg->path, "r") : stdin;
		break;
	case TVN_KIND_FILE_SINK:
		c->file = strcmp(cfg->path, "-") ? fopen(cfg->path, "w") : stdout;
		break;
	case TVN_KIND_PLUGIN:
		return plugin_open(c, err, errlen);
	default:
		return 0;
	}
	if (!c->file) {
		int e = errno;

		snprintf(err, errlen, "component %s: cannot open %s: %s", cfg->id, cfg->path,
			 strerror(e));
		return -e;
	}
	return 0;
}

void tvn_comp__close(struct tvn_comp *c)
{
	if (c->file && c->file != stdin && c->file != stdout)
		fclose(c->file);
	else if (c->file == stdout)
		fflush(stdout);
	c->file = NULL;
	if (c->plugin && c->plugin->fini)
		c->plugin->fini(c->plugin_state);
	c->plugin = NULL;
	if (c->dl)
		dlclose(c->dl);
	c->dl = NULL;
	free(c->scratch);
	c->scratch = NULL;
}

static int generate(struct tvn_comp *c, struct tvn_elem *e)
{
	const struct tvn_comp_cfg *cfg = c->cfg;
	uint32_t size = cfg->size_min;

	if (cfg->size_max > cfg->size_min)
		size += tvn_rng_next(&c->rng) % (cfg->size_max - cfg->size_min + 1);
	e->buf = tvn_pool__alloc(c->pool, size);
	if (!e->buf)
		return -TORVYN_ERR_UNAVAILABLE;
	memset(e->buf->data, 'a' + (int)(e->seq % 26), size);
	e->len = size;
	return TORVYN_COMPONENT_OK;
}

/* A record is a line; it may start with "traceparent=<value> ". */
static int read_line(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason, uint64_t *copy_bytes)
{
	char *line = (char *)c->scratch;
	size_t cap = c->scratch_cap;
	ssize_t n = getline(&line, &cap, c->file);
	char *payload;

	c->scratch = (uint8_t *)line;
	c->scratch_cap = cap;
	if (n < 0)
		return TORVYN_COMPONENT_END;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	payload = line;
	e->has_ctx = 0;
	if (!strncmp(line, TP_PREFIX, strlen(TP_PREFIX))) {
		char *val = line + strlen(TP_PREFIX);
		char *end = strchr(val, ' ');
		size_t vlen = end ? (size_t)(end - val) : strlen(val);

		/* a malformed traceparent is ignored, as W3C asks: a fresh trace starts */
		if (!tvn_traceparent_parse(val, vlen, &e->tctx))
			e->has_ctx = 1;
		payload = end ? end + 1 : val + vlen;
	}
	e->len = (uint32_t)strlen(payload);
	e->buf = tvn_pool__alloc(c->pool, e->len ? e->len : 1);
	if (!e->buf)
		return -TORVYN_ERR_UNAVAILABLE;
	memcpy(e->buf->data, payload, e->len);
	*copy_reason = TORVYN_COPY_PAYLOAD_WRITE;
	*copy_bytes = e->len;
	return TORVYN_COMPONENT_OK;
}

static void xform(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		dst[i] = src[i] ^ 0x20;
}

static int transform(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason, uint64_t *copy_bytes)
{
	struct tvn_buf *nb;

	if (!c->cfg->copy) {
		xform(e->buf->data, e->buf->data, e->len);
		return TORVYN_COMPONENT_OK;
	}
	nb = tvn_pool__alloc(c->pool, e->len ? e->len : 1);
	if (!nb)
		return -TORVYN_ERR_UNAVAILABLE;
	xform(nb->data, e->buf->data, e->len);
	tvn_pool__return(e->buf);
	e->buf = nb;
	*copy_reason = TORVYN_COPY_PAYLOAD_WRITE;
	*copy_bytes = e->len;
	return TORVYN_COMPONENT_OK;
}

static int ensure_scratch(struct tvn_comp *c, uint32_t len)
{
	uint8_t *p;

	if (c->scratch_cap >= len)
		return 0;
	p = realloc(c->scratch, len);
	if (!p)
		return -ENOMEM;
	c->scratch = p;
	c->scratch_cap = len;
	return 0;
}

static int payload_filter(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
			  uint64_t *copy_bytes)
{
	if (ensure_scratch(c, e->len ? e->len : 1))
		return -TORVYN_ERR_UNAVAILABLE;
	/* the filter reads the payload into its own memory: a PayloadRead copy */
	memcpy(c->scratch, e->buf->data, e->len);
	*copy_reason = TORVYN_COPY_PAYLOAD_READ;
	*copy_bytes = e->len;
	if (memmem(c->scratch, e->len, c->cfg->contains, strlen(c->cfg->contains)))
		return TORVYN_COMPONENT_OK;
	return TORVYN_COMPONENT_DROP;
}

static int file_sink(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason, uint64_t *copy_bytes)
{
	char tp[TVN_TRACEPARENT_LEN + 1];

	if (e->has_ctx) {
		tvn_elem__fill_ctx(c->flow, e);
		tvn_traceparent_format(e->tctx.trace_id, e->tctx.span_id, e->tctx.flags & 0x01, tp);
		fprintf(c->file, TP_PREFIX "%s ", tp);
	}
	fwrite(e->buf->data, 1, e->len, c->file);
	fputc('\n', c->file);
	*copy_reason = TORVYN_COPY_HOST_SERIALIZE;
	*copy_bytes = e->len;
	return TORVYN_COMPONENT_OK;
}

static int plugin_call(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason,
		       uint64_t *copy_bytes, uint32_t *route)
{
	char tp[TVN_TRACEPARENT_LEN + 1];
	struct torvyn_element view;
	int rc;

	if (c->cfg->role == TORVYN_ROLE_SOURCE) {
		e->buf = tvn_pool__alloc(c->pool, 4096);
		if (!e->buf)
			return -TORVYN_ERR_UNAVAILABLE;
		e->len = 0;
	}
	if (e->has_ctx) {
		tvn_elem__fill_ctx(c->flow, e);
		tvn_traceparent_format(e->tctx.trace_id, e->tctx.span_id, e->tctx.flags & 0x01, tp);
	}
	/* the element's metadata is marshalled into the component's view */
	view = (struct torvyn_element){
	    .seq = e->seq,
	    .data = e->buf->data,
	    .len = e->len,
	    .cap = e->buf->cap,
	    .traceparent = e->has_ctx ? tp : NULL,
	};
	*copy_reason = TORVYN_COPY_METADATA_MARSHAL;
	*copy_bytes = sizeof(view);
	if (c->cfg->role == TORVYN_ROLE_SOURCE)
		rc = c->plugin->produce(c->plugin_state, &view);
	else
		rc = c->plugin->process(c->plugin_state, &view);
	if (view.len > e->buf->cap)
		return -TORVYN_ERR_INVALID_INPUT;
	e->len = view.len;
	if (route)
		*route = view.route;
	if (rc < -TORVYN_ERR_FATAL)
		return -TORVYN_ERR_INTERNAL;
	return rc;
}

int tvn_comp__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason, uint64_t *copy_bytes,
		     uint32_t *route)
{
	*copy_reason = -1;
	switch (c->cfg->kind) {
	case TVN_KIND_GENERATOR:
		return generate(c, e);
	case TVN_KIND_LINES:
		return read_line(c, e, copy_reason, copy_bytes);
	case TVN_KIND_TRANSFORM:
		return transform(c, e, copy_reason, copy_bytes);
	case TVN_KIND_METADATA_FILTER:
		return e->seq % c->cfg->keep_every == 0 ? TORVYN_COMPONENT_OK
							: TORVYN_COMPONENT_DROP;
	case TVN_KIND_PAYLOAD_FILTER:
		return payload_filter(c, e, copy_reason, copy_bytes);
	case TVN_KIND_ROUTER:
		*route = c->rr++ % (uint32_t)c->n_out;
		return TORVYN_COMPONENT_OK;
	case TVN_KIND_NULL_SINK:
		return TORVYN_COMPONENT_OK;
	case TVN_KIND_FILE_SINK:
		return file_sink(c, e, copy_reason, copy_bytes);
	case TVN_KIND_PLUGIN:
		return plugin_call(c, e, copy_reason, copy_bytes, route);
	}
	return -TORVYN_ERR_INTERNAL;
}
