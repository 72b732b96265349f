// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What an OTLP/HTTP reply means: a 2xx is a success that may carry a
 * partial_success; 429, 502, 503 and 504 are worth a retry, after the
 * server's Retry-After if it gave one; any other status is a failure whose
 * reason is the body's text or its google.rpc.Status message.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export_internal.h"
#include "log.h"

bool tvn_otlp_client__http_retryable(long code)
{
	return code == 429 || code == 502 || code == 503 || code == 504;
}

void tvn_otlp_client__partial_success(const struct tvn_otlp_client *c, const uint8_t *body,
				      size_t len, bool traces, struct tvn_otlp_result *res)
{
	bool json = c->protocol == EXPORTER_HTTP_JSON;
	int err;

	if (!len)
		return;
	err = tvn_otlp__parse_response(body, len, json, traces, &res->rejected, res->msg,
				       sizeof(res->msg));
	if (err) {
		pr_debug("otlp: cannot decode the %zu-byte response: %s\n", len, strerror(-err));
		res->rejected = 0;
		res->msg[0] = 0;
		return;
	}
	res->partial = res->rejected > 0 || res->msg[0];
}

static int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -EINVAL;
}

/*
 * google.rpc.Status.message (field 2), which OTLP/HTTP collectors send with a
 * 4xx or 5xx in protobuf. False if the body is not such a message.
 */
static bool pb_status_message(const uint8_t *p, size_t len, char *msg, size_t msglen)
{
	const uint8_t *end = p + len;
	uint64_t key, v;

	while (p < end) {
		if (pb_varint(&p, end, &key))
			return false;
		if ((key & 7) == 0 && !pb_varint(&p, end, &v))
			continue;
		if ((key & 7) != 2 || pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
			return false;
		if (key >> 3 == 2) {
			snprintf(msg, msglen, "%.*s", (int)v, (const char *)p);
			return true;
		}
		p += v;
	}
	return false;
}

void tvn_otlp_client__http_failure(const struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
				   long code, struct tvn_otlp_result *res)
{
	size_t n = 0, lim = rsp->len < 159 ? rsp->len : 159;
	char why[160] = "";

	while (n < lim && isprint(rsp->body[n]))
		n++;
	if (n && n == lim)
		snprintf(why, sizeof(why), "%.*s", (int)n, rsp->body);
	else if (rsp->len && !c->grpc && c->protocol == EXPORTER_HTTP_PROTOBUF)
		pb_status_message(rsp->body, rsp->len, why, sizeof(why));
	snprintf(res->msg, sizeof(res->msg), "HTTP %ld%s%s", code, why[0] ? ": " : "", why);
}

void tvn_otlp_client__http_result(struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
				  long code, bool traces, struct tvn_otlp_result *res)
{
	curl_off_t retry_after = 0;

	if (code >= 200 && code < 300) {
		res->outcome = EXPORT_OK;
		tvn_otlp_client__partial_success(c, rsp->body, rsp->len, traces, res);
		return;
	}
	tvn_otlp_client__http_failure(c, rsp, code, res);
	if (!tvn_otlp_client__http_retryable(code)) {
		res->outcome = EXPORT_FAIL;
		return;
	}
	res->outcome = EXPORT_RETRY;
	if (!curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &retry_after) && retry_after > 0)
		res->delay_ms = retry_after * 1000;
}
