/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Built-in components, and components loaded from shared objects. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "components.h"
#include "work_kinds.h"

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

/* "-" is standard input or output; anything else a path. */
static const char *where(const struct tvn_comp *c)
{
	if (strcmp(c->cfg->path, "-"))
		return c->cfg->path;
	return c->cfg->kind == TVN_KIND_LINES ? "standard input" : "standard output";
}

/* A lines source or a file sink: its descriptor, and for a source its line reader. */
static int file_open(struct tvn_comp *c, char *err, size_t errlen)
{
	const struct tvn_comp_cfg *cfg = c->cfg;
	bool in = cfg->kind == TVN_KIND_LINES;
	int e;

	c->own_fd = strcmp(cfg->path, "-") != 0;
	if (!c->own_fd)
		c->fd = in ? STDIN_FILENO : STDOUT_FILENO;
	else if (in)
		c->fd = open(cfg->path, O_RDONLY | O_CLOEXEC);
	else
		c->fd = open(cfg->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (c->fd < 0) {
		e = errno;
		c->own_fd = false;
		snprintf(err, errlen, "component %s: cannot open %s: %s", cfg->id, cfg->path,
			 strerror(e));
		return -e;
	}
	if (in)
		tvn_lines__init(&c->lines, c->fd, c->flow->host->stop_fd, TVN_MAX_BUFFER);
	else
		c->may_block = tvn_io__may_block(c->fd);
	return 0;
}

int tvn_comp__open(struct tvn_comp *c, char *err, size_t errlen)
{
	const struct tvn_comp_cfg *cfg = c->cfg;

	tvn_rng_seed(&c->rng, cfg->seed * TVN_GOLDEN_GAMMA + (uint64_t)c->flow->idx);
	switch (cfg->kind) {
	case TVN_KIND_LINES:
	case TVN_KIND_FILE_SINK:
		return file_open(c, err, errlen);
	case TVN_KIND_PLUGIN:
		return plugin_open(c, err, errlen);
	case TVN_KIND_JSON_ENRICH:
		return tvn_json_enrich__open(c, err, errlen);
	case TVN_KIND_DEFLATE:
		return tvn_deflate__open(c, err, errlen);
	default:
		return 0;
	}
}

void tvn_comp__close(struct tvn_comp *c)
{
	tvn_lines__fini(&c->lines);
	/* a file that fails to close lost writes: one more error, told */
	if (c->own_fd && close(c->fd) && c->cfg->kind == TVN_KIND_FILE_SINK)
		fprintf(stderr, "torvyn-host: flow %s: component %s: cannot write %s: %s\n",
			c->flow->cfg->id, c->cfg->id, c->cfg->path, strerror(errno));
	c->own_fd = false;
	if (c->plugin && c->plugin->fini)
		c->plugin->fini(c->plugin_state);
	c->plugin = NULL;
	if (c->cfg->kind == TVN_KIND_JSON_ENRICH)
		tvn_json_enrich__close(c);
	else if (c->cfg->kind == TVN_KIND_DEFLATE)
		tvn_deflate__close(c);
	if (c->dl)
		dlclose(c->dl);
	c->dl = NULL;
	free(c->scratch);
	c->scratch = NULL;
}

/*
 * A read or write of c failed (err: -errno; -EMSGSIZE, a line too long): it
 * is counted, and the first one is told at once; main tells the count at exit.
 */
static void io_error(struct tvn_comp *c, int err, const char *verb)
{
	const char *name = strerrorname_np(-err);

	if (c->io_errors++)
		return;
	if (err == -ECANCELED)
		snprintf(c->io_msg, sizeof(c->io_msg),
			 "cannot %s %s: the host stopped while it waited (ECANCELED)", verb,
			 where(c));
	else if (err == -EMSGSIZE)
		snprintf(c->io_msg, sizeof(c->io_msg),
			 "a line of %s is longer than %u bytes, the largest element: skipped",
			 where(c), TVN_MAX_BUFFER);
	else
		snprintf(c->io_msg, sizeof(c->io_msg), "cannot %s %s: %s (%s)", verb, where(c),
			 strerror(-err), name ? name : "?");
	fprintf(stderr, "torvyn-host: flow %s: component %s: %s; %s\n", c->flow->cfg->id,
		c->cfg->id, c->io_msg,
		c->broken ? "the flow fails" : "this and any further errors are counted");
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
	const size_t tpl = strlen(TP_PREFIX);
	char *line, *payload;
	size_t n, plen;
	int rc = tvn_lines__next(&c->lines, &line, &n);

	if (!rc || rc == -ECANCELED)
		return TORVYN_COMPONENT_END;
	if (rc == -EMSGSIZE) {
		io_error(c, rc, "read");
		return -TORVYN_ERR_INVALID_INPUT;
	}
	if (rc < 0) {
		/* what follows an unreadable stretch is unknown: the source cannot go on */
		c->broken = true;
		io_error(c, rc, "read");
		return -TORVYN_ERR_FATAL;
	}
	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	payload = line;
	plen = n;
	e->has_ctx = 0;
	if (n >= tpl && !memcmp(line, TP_PREFIX, tpl)) {
		char *val = line + tpl;
		char *end = memchr(val, ' ', n - tpl);
		size_t vlen = end ? (size_t)(end - val) : n - tpl;

		/* a malformed traceparent is ignored, as W3C asks: a fresh trace starts */
		if (!tvn_traceparent_parse(val, vlen, &e->tctx))
			e->has_ctx = 1;
		payload = end ? end + 1 : val + vlen;
		plen = n - (size_t)(payload - line);
	}
	e->len = (uint32_t)plen;
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

/* One record a line, written whole or counted as an error. */
static int file_sink(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason, uint64_t *copy_bytes)
{
	/* "traceparent=<value> ": the value's NUL becomes the space */
	char tp[sizeof(TP_PREFIX) + TVN_TRACEPARENT_LEN];
	struct iovec iov[3];
	int n = 0, rc;

	if (e->has_ctx) {
		tvn_elem__fill_ctx(c->flow, e);
		memcpy(tp, TP_PREFIX, strlen(TP_PREFIX));
		tvn_traceparent_format(e->tctx.trace_id, e->tctx.span_id, e->tctx.flags & 0x01,
				       tp + strlen(TP_PREFIX));
		tp[sizeof(tp) - 1] = ' ';
		iov[n++] = (struct iovec){.iov_base = tp, .iov_len = sizeof(tp)};
	}
	iov[n++] = (struct iovec){.iov_base = e->buf->data, .iov_len = e->len};
	iov[n++] = (struct iovec){.iov_base = "\n", .iov_len = 1};
	rc = tvn_io__write(c->fd, c->flow->host->stop_fd, c->may_block, iov, n);
	if (rc) {
		io_error(c, rc, "write");
		return -TORVYN_ERR_UNAVAILABLE;
	}
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
	case TVN_KIND_JSON_GENERATOR:
		return tvn_json_gen__invoke(c, e);
	case TVN_KIND_JSON_ENRICH:
		return tvn_json_enrich__invoke(c, e, copy_reason, copy_bytes);
	case TVN_KIND_JSON_FILTER:
		return tvn_json_filter__invoke(c, e, copy_reason, copy_bytes);
	case TVN_KIND_DEFLATE:
		return tvn_deflate__invoke(c, e, copy_reason, copy_bytes);
	}
	return -TORVYN_ERR_INTERNAL;
}
