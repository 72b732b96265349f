// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tvn_otlp__parse_response: the partial_success of an Export*ServiceResponse,
 * in protobuf or OTLP/JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "otlp_internal.h"

static void put_msg(char *msg, size_t msglen, const char *s)
{
	if (msg && msglen)
		snprintf(msg, msglen, "%s", s ? s : "");
}

/* An int64 field of OTLP/JSON: a decimal string, though numbers are accepted too. */
static int j_get_i64(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;
	long long x;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

/* A field by its lowerCamelCase name or, as proto3 JSON parsers accept, its proto name. */
static json_t *j_field(const json_t *obj, const char *camel, const char *proto)
{
	json_t *v = json_object_get(obj, camel);

	return v ? v : json_object_get(obj, proto);
}

static int parse_json_resp(const uint8_t *body, size_t len, bool traces, int64_t *rejected,
			   char *msg, size_t msglen)
{
	json_t *root = json_loadb((const char *)body, len, 0, NULL), *ps, *em;
	int err = -EINVAL;

	if (!root || !json_is_object(root))
		goto out;
	ps = j_field(root, "partialSuccess", "partial_success");
	if (!ps || json_is_null(ps)) {
		err = 0;
		goto out;
	}
	if (!json_is_object(ps))
		goto out;
	err = traces
		  ? j_get_i64(j_field(ps, "rejectedSpans", "rejected_spans"), rejected)
		  : j_get_i64(j_field(ps, "rejectedDataPoints", "rejected_data_points"), rejected);
	if (err)
		goto out;
	em = j_field(ps, "errorMessage", "error_message");
	if (em && !json_is_null(em) && !json_is_string(em)) {
		err = -EINVAL;
		goto out;
	}
	put_msg(msg, msglen, em ? json_string_value(em) : "");
out:
	json_decref(root);
	return err;
}

static int parse_pb_resp(const uint8_t *body, size_t len, bool traces, int64_t *rejected, char *msg,
			 size_t msglen)
{
	const ProtobufCMessageDescriptor *d =
	    traces
		? &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor
		: &opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor;
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, body);
	const pb_trace_resp *tr = (const pb_trace_resp *)m;
	const pb_metrics_resp *mr = (const pb_metrics_resp *)m;

	if (!m)
		return -EINVAL;
	if (traces && tr->partial_success) {
		*rejected = tr->partial_success->rejected_spans;
		put_msg(msg, msglen, tr->partial_success->error_message);
	} else if (!traces && mr->partial_success) {
		*rejected = mr->partial_success->rejected_data_points;
		put_msg(msg, msglen, mr->partial_success->error_message);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

int tvn_otlp__parse_response(const uint8_t *body, size_t len, bool json, bool traces,
			     int64_t *rejected, char *msg, size_t msglen)
{
	int64_t rej = 0;
	int err;

	put_msg(msg, msglen, "");
	if (rejected)
		*rejected = 0;
	if (!len)
		return 0; /* an empty body is the empty message: full success */
	if (!body)
		return -EINVAL;
	if (json)
		err = parse_json_resp(body, len, traces, &rej, msg, msglen);
	else
		err = parse_pb_resp(body, len, traces, &rej, msg, msglen);
	if (err) {
		put_msg(msg, msglen, "");
		return err;
	}
	if (rejected)
		*rejected = rej;
	return 0;
}
