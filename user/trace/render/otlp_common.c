// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What every OTLP encoder (otlp.h) builds on: the arena that holds one
 * encoding's allocations, UTF-8 clean copies of strings, the span attributes,
 * the resource's attributes and the check of a trace request's spans and
 * resources.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_internal.h"

/* ------------------------------------------------------------ arena */

void *tvn_otlp_arena__alloc(struct tvn_otlp_arena *a, size_t size)
{
	void *p;

	if (a->oom)
		return NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		void **blk = realloc(a->blk, cap * sizeof(*blk));

		if (!blk)
			goto oom;
		a->blk = blk;
		a->cap = cap;
	}
	p = calloc(1, size ? size : 1);
	if (!p)
		goto oom;
	a->blk[a->n++] = p;
	return p;
oom:
	a->oom = true;
	return NULL;
}

void tvn_otlp_arena__free(struct tvn_otlp_arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blk[i]);
	free(a->blk);
	*a = (struct tvn_otlp_arena){0};
}

char *tvn_otlp_arena__str(struct tvn_otlp_arena *a, const char *s, size_t max)
{
	const unsigned char *v = (const unsigned char *)s;
	size_t n = strnlen(s, max);
	char *out = tvn_otlp_arena__alloc(a, 3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = tvn_metric_model__utf8_seq(v + i, n - i);

		if (k == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, v + i, k);
		o += k;
		i += k;
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------ span attributes */

/* The next free attribute of s, zeroed and named key; NULL once all are taken. */
static struct tvn_otlp_kv *span_attr_new(struct tvn_otlp_span *s, const char *key,
					 enum otlp_value_type type)
{
	struct tvn_otlp_kv *kv;

	if (!s || !key || s->n_attrs < 0 || s->n_attrs >= OTLP_MAX_ATTRS)
		return NULL;
	kv = &s->attrs[s->n_attrs++];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->type = type;
	return kv;
}

void tvn_otlp_span__attr_str(struct tvn_otlp_span *s, const char *key, const char *val)
{
	struct tvn_otlp_kv *kv = span_attr_new(s, key, OTLP_STR);

	if (kv)
		snprintf(kv->str, sizeof(kv->str), "%s", val ? val : "");
}

void tvn_otlp_span__attr_int(struct tvn_otlp_span *s, const char *key, int64_t val)
{
	struct tvn_otlp_kv *kv = span_attr_new(s, key, OTLP_INT);

	if (kv)
		kv->i = val;
}

int tvn_otlp_span__n_attrs(const struct tvn_otlp_span *s)
{
	if (s->n_attrs < 0)
		return 0;
	return s->n_attrs > OTLP_MAX_ATTRS ? OTLP_MAX_ATTRS : s->n_attrs;
}

bool tvn_otlp_span__has_parent(const struct tvn_otlp_span *s)
{
	for (size_t i = 0; i < sizeof(s->parent_span_id); i++)
		if (s->parent_span_id[i])
			return true;
	return false;
}

/* ------------------------------------------------------------ resource attributes */

static bool ra_has(const struct tvn_otlp_res_attrs *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return true;
	return false;
}

static void ra_str(struct tvn_otlp_res_attrs *r, const char *key, const char *val, size_t max)
{
	struct tvn_otlp_kv *kv;
	size_t n = strnlen(val, max);

	if (!n || r->n == RES_MAX_ATTRS || ra_has(r, key))
		return;
	kv = &r->kv[r->n++];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->type = OTLP_STR;
	snprintf(kv->str, sizeof(kv->str), "%.*s", (int)n, val);
}

/*
 * Keys must be unique within a resource: an extra attribute (from
 * OTEL_RESOURCE_ATTRIBUTES) that repeats one set above loses, as
 * OTEL_SERVICE_NAME wins over service.name there.
 */
void tvn_otlp_res_attrs__fill(struct tvn_otlp_res_attrs *r, const struct tvn_otlp_resource *res)
{
	r->n = 0;
	ra_str(r, "service.name", res->service_name[0] ? res->service_name : "torvyn-host",
	       sizeof(res->service_name));
	ra_str(r, "service.instance.id", res->service_instance_id,
	       sizeof(res->service_instance_id));
	ra_str(r, "host.name", res->host_name, sizeof(res->host_name));
	if (res->pid > 0) {
		struct tvn_otlp_kv *kv = &r->kv[r->n++];

		memset(kv, 0, sizeof(*kv));
		snprintf(kv->key, sizeof(kv->key), "process.pid");
		kv->type = OTLP_INT;
		kv->i = res->pid;
	}
	ra_str(r, "process.executable.name", res->executable_name, sizeof(res->executable_name));
	ra_str(r, "telemetry.sdk.name", OTLP_SDK_NAME, sizeof(OTLP_SDK_NAME));
	ra_str(r, "telemetry.sdk.language", OTLP_SDK_LANGUAGE, sizeof(OTLP_SDK_LANGUAGE));
	ra_str(r, "telemetry.sdk.version", OTLP_SDK_VERSION, sizeof(OTLP_SDK_VERSION));
	for (int i = 0; i < res->n_extra && i < (int)ARRAY_SIZE(res->extra); i++) {
		const struct tvn_otlp_kv *x = &res->extra[i];

		if (!x->key[0] || r->n == RES_MAX_ATTRS || ra_has(r, x->key))
			continue;
		r->kv[r->n++] = *x;
	}
}

/* ------------------------------------------------------------ the spans of a request */

uint32_t tvn_otlp_traces__res_of(const struct tvn_otlp_traces *t, size_t i)
{
	return t->res_of ? t->res_of[i] : 0;
}

int tvn_otlp_traces__start(const struct tvn_otlp_traces *t, void *out, size_t *len)
{
	if (!t || (!t->res && t->n_res) || (!t->spans && t->n) || !out || !len)
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++)
		if (tvn_otlp_traces__res_of(t, i) >= t->n_res)
			return -EINVAL;
	*(void **)out = NULL;
	*len = 0;
	return 0;
}
