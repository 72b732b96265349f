// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP trace encoders (render/otlp_pb.c, otlp_json.c): a span and its
 * resource from the input, attribute strings of any bytes (set through
 * tvn_otlp_span__attr_str as the tracer does, or written into the fields
 * directly as the resource's extra attributes are). The protobuf encoding
 * is decoded with protobuf-c and the JSON with jansson; both must give back
 * every field, strings cleaned of invalid UTF-8 and nothing else changed.
 */
#include <errno.h>
#include <jansson.h>

#include "fuzz.h"
#include "otlp.h"
#include "otlp_internal.h"

#define CLEAN_MAX (3 * 256 + 1)

static void fuzz_kv(struct fuzz_in *in, struct tvn_otlp_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	fuzz_field(in, kv->key, sizeof(kv->key));
	kv->type = (enum otlp_value_type)(fuzz_u8(in) % 4);
	fuzz_field(in, kv->str, sizeof(kv->str));
	kv->i = (int64_t)fuzz_u64(in);
	fuzz_bytes(in, &kv->d, sizeof(kv->d));
	if (kv->type == OTLP_BOOL)
		kv->i &= 1;
}

static void fuzz_span(struct fuzz_in *in, struct tvn_otlp_span *s)
{
	int n;

	memset(s, 0, sizeof(*s));
	fuzz_bytes(in, s->trace_id, sizeof(s->trace_id));
	fuzz_bytes(in, s->span_id, sizeof(s->span_id));
	fuzz_bytes(in, s->parent_span_id, sizeof(s->parent_span_id));
	s->flags = fuzz_u8(in);
	fuzz_field(in, s->name, sizeof(s->name));
	s->kind = fuzz_u8(in) % 6;
	s->start_unix_ns = fuzz_u64(in);
	s->end_unix_ns = fuzz_u64(in);
	s->status_code = fuzz_u8(in) % 3;
	fuzz_field(in, s->status_message, sizeof(s->status_message));
	n = fuzz_u8(in) % (OTLP_MAX_ATTRS + 3);
	for (int i = 0; i < n; i++) {
		if (fuzz_u8(in) & 1) {
			/* the tracer's way: NUL-terminated strings through the setters */
			char *k = fuzz_cstr(in, 255), *v = fuzz_cstr(in, 255);

			if (fuzz_u8(in) & 1)
				tvn_otlp_span__attr_str(s, k, v);
			else
				tvn_otlp_span__attr_int(s, k, (int64_t)fuzz_u64(in));
			free(k);
			free(v);
		} else if (s->n_attrs < OTLP_MAX_ATTRS) {
			fuzz_kv(in, &s->attrs[s->n_attrs++]);
		}
	}
}

static void fuzz_resource(struct fuzz_in *in, struct tvn_otlp_resource *r)
{
	memset(r, 0, sizeof(*r));
	fuzz_field(in, r->service_name, sizeof(r->service_name));
	fuzz_field(in, r->service_instance_id, sizeof(r->service_instance_id));
	fuzz_field(in, r->host_name, sizeof(r->host_name));
	r->pid = (int64_t)(fuzz_u64(in) & 0x3fffff);
	fuzz_field(in, r->executable_name, sizeof(r->executable_name));
	r->n_extra = fuzz_u8(in) % 9;
	for (int i = 0; i < r->n_extra; i++)
		fuzz_kv(in, &r->extra[i]);
}

/* got equals s (max bytes, or up to a NUL) cleaned of invalid UTF-8. */
static void check_str(const char *what, const char *got, const char *s, size_t max)
{
	char want[CLEAN_MAX];

	fuzz_clean(s, max, want);
	FUZZ_CHECK(got && !strcmp(got, want), "%s: '%s', want '%s'", what, got ? got : "(null)",
		   want);
}

/* ------------------------------------------------------------ protobuf */

static void check_pb_kv(const pb_keyvalue *p, const struct tvn_otlp_kv *kv)
{
	const pb_anyvalue *v = p->value;

	check_str("protobuf key", p->key, kv->key, sizeof(kv->key));
	FUZZ_CHECK(v, "no value");
	switch (kv->type) {
	case OTLP_STR:
		FUZZ_CHECK(v->value_case ==
			       OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE,
			   "not a string");
		check_str("protobuf string", v->string_value, kv->str, sizeof(kv->str));
		break;
	case OTLP_INT:
		FUZZ_CHECK(v->value_case ==
				   OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE &&
			       v->int_value == kv->i,
			   "int");
		break;
	case OTLP_DOUBLE:
		FUZZ_CHECK(
		    v->value_case ==
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE &&
			!memcmp(&v->double_value, &kv->d, sizeof(kv->d)),
		    "double");
		break;
	case OTLP_BOOL:
		FUZZ_CHECK(v->value_case ==
				   OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE &&
			       v->bool_value == (kv->i != 0),
			   "bool");
		break;
	}
}

static void check_pb(const uint8_t *buf, size_t len, const struct tvn_otlp_span *s)
{
	pb_trace_req *req =
	    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, buf);
	const pb_span *p;
	size_t na = (size_t)tvn_otlp_span__n_attrs(s);

	FUZZ_CHECK(req, "protobuf-c cannot decode the request");
	FUZZ_CHECK(req->n_resource_spans == 1 && req->resource_spans[0]->n_scope_spans == 1 &&
		       req->resource_spans[0]->scope_spans[0]->n_spans == 1,
		   "not one span");
	p = req->resource_spans[0]->scope_spans[0]->spans[0];
	FUZZ_CHECK(p->trace_id.len == 16 && !memcmp(p->trace_id.data, s->trace_id, 16), "trace id");
	FUZZ_CHECK(p->span_id.len == 8 && !memcmp(p->span_id.data, s->span_id, 8), "span id");
	FUZZ_CHECK(tvn_otlp_span__has_parent(s)
		       ? p->parent_span_id.len == 8 &&
			     !memcmp(p->parent_span_id.data, s->parent_span_id, 8)
		       : p->parent_span_id.len == 0,
		   "parent span id");
	FUZZ_CHECK(p->flags == s->flags && (int)p->kind == s->kind, "flags, kind");
	FUZZ_CHECK(p->start_time_unix_nano == s->start_unix_ns &&
		       p->end_time_unix_nano == s->end_unix_ns,
		   "times");
	check_str("protobuf name", p->name, s->name, sizeof(s->name));
	if (s->status_code || s->status_message[0]) {
		FUZZ_CHECK(p->status && (int)p->status->code == s->status_code, "status code");
		check_str("protobuf status", p->status->message, s->status_message,
			  sizeof(s->status_message));
	}
	FUZZ_CHECK(p->n_attributes == na, "%zu attributes, want %zu", p->n_attributes, na);
	for (size_t i = 0; i < na; i++)
		check_pb_kv(p->attributes[i], &s->attrs[i]);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}

/* ------------------------------------------------------------ JSON */

static void check_json_kv(json_t *j, const struct tvn_otlp_kv *kv)
{
	json_t *v = json_object_get(j, "value");
	char want[24];

	check_str("JSON key", json_string_value(json_object_get(j, "key")), kv->key,
		  sizeof(kv->key));
	switch (kv->type) {
	case OTLP_STR:
		check_str("JSON string", json_string_value(json_object_get(v, "stringValue")),
			  kv->str, sizeof(kv->str));
		break;
	case OTLP_INT:
		snprintf(want, sizeof(want), "%lld", (long long)kv->i);
		check_str("JSON int", json_string_value(json_object_get(v, "intValue")), want,
			  sizeof(want));
		break;
	case OTLP_DOUBLE:
		FUZZ_CHECK(json_object_get(v, "doubleValue"), "JSON double");
		break;
	case OTLP_BOOL:
		FUZZ_CHECK(json_is_boolean(json_object_get(v, "boolValue")) &&
			       json_is_true(json_object_get(v, "boolValue")) == (kv->i != 0),
			   "JSON bool");
		break;
	}
}

static void check_json(const char *buf, size_t len, const struct tvn_otlp_span *s)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr), *sp, *attrs;
	size_t na = (size_t)tvn_otlp_span__n_attrs(s);

	FUZZ_CHECK(root, "jansson cannot read the request: %s", jerr.text);
	sp = json_array_get(
	    json_object_get(
		json_array_get(
		    json_object_get(json_array_get(json_object_get(root, "resourceSpans"), 0),
				    "scopeSpans"),
		    0),
		"spans"),
	    0);
	FUZZ_CHECK(sp, "no span");
	check_str("JSON name", s->name[0] ? json_string_value(json_object_get(sp, "name")) : "",
		  s->name, sizeof(s->name));
	if (s->status_message[0])
		check_str(
		    "JSON status",
		    json_string_value(json_object_get(json_object_get(sp, "status"), "message")),
		    s->status_message, sizeof(s->status_message));
	attrs = json_object_get(sp, "attributes");
	FUZZ_CHECK(json_array_size(attrs) == na, "%zu JSON attributes, want %zu",
		   json_array_size(attrs), na);
	for (size_t i = 0; i < na; i++)
		check_json_kv(json_array_get(attrs, i), &s->attrs[i]);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct tvn_otlp_resource res;
	struct tvn_otlp_span span;
	uint8_t *pb;
	char *js;
	size_t len;
	int ret;

	fuzz_resource(&in, &res);
	fuzz_span(&in, &span);
	ret = tvn_otlp__encode_traces_pb(&res, &span, 1, &pb, &len);
	FUZZ_CHECK(ret == 0, "protobuf encoding: %d", ret);
	check_pb(pb, len, &span);
	free(pb);
	ret = tvn_otlp__encode_traces_json(&res, &span, 1, &js, &len);
	FUZZ_CHECK(ret == 0, "JSON encoding: %d", ret);
	check_json(js, len, &span);
	free(js);
	return 0;
}
