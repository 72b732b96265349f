// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OTLP/gRPC over libcurl's HTTP/2: the 5-byte message prefix, the grpc-*
 * headers and trailers, and what a call came to. UNAVAILABLE and
 * RESOURCE_EXHAUSTED are retried (after grpc-retry-pushback-ms if the server
 * sent it, not at all if that is negative); other codes are failures.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_internal.h"
#include "log.h"

#define GRPC_RESOURCE_EXHAUSTED 8
#define GRPC_UNAVAILABLE 14

void tvn_grpc__frame(uint8_t *hdr, bool compressed, uint32_t n)
{
	hdr[0] = compressed ? 1 : 0;
	hdr[1] = n >> 24;
	hdr[2] = n >> 16;
	hdr[3] = n >> 8;
	hdr[4] = n;
}

/* ------------------------------------------------------------ headers and trailers */

static void set_status(struct tvn_otlp_resp *rsp, const char *val, size_t vlen)
{
	char num[32];

	snprintf(num, sizeof(num), "%.*s", (int)vlen, val);
	rsp->grpc_status = atoi(num);
}

/* grpc-message is percent-encoded; a malformed escape stays as it is. */
static void set_message(struct tvn_otlp_resp *rsp, const char *val, size_t vlen)
{
	tvn_percent__decode(rsp->grpc_message, sizeof(rsp->grpc_message), val, vlen, false);
}

static void set_pushback(struct tvn_otlp_resp *rsp, const char *val, size_t vlen)
{
	char num[32], *end;

	snprintf(num, sizeof(num), "%.*s", (int)vlen, val);
	rsp->has_pushback = true;
	rsp->pushback_ms = strtol(num, &end, 10);
	if (end == num || *end)
		rsp->pushback_ms = -1;
}

static void set_encoding(struct tvn_otlp_resp *rsp, const char *val, size_t vlen)
{
	rsp->grpc_gzip = vlen == 4 && !strncasecmp(val, "gzip", 4);
}

static const struct {
	const char *name;
	void (*set)(struct tvn_otlp_resp *rsp, const char *val, size_t vlen);
} grpc_headers[] = {
    {"grpc-status", set_status},
    {"grpc-message", set_message},
    {"grpc-retry-pushback-ms", set_pushback},
    {"grpc-encoding", set_encoding},
};

/* True if line is header name; *val and *vlen get its value, trimmed. */
static bool hdr_is(const char *line, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	*val = line;
	*vlen = len;
	return true;
}

void tvn_otlp_resp__header(struct tvn_otlp_resp *rsp, const char *line, size_t len)
{
	const char *val;
	size_t vlen;

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* a new response (after a 100 Continue, say): forget the last one's */
		rsp->grpc_status = -1;
		rsp->grpc_message[0] = 0;
		rsp->has_pushback = false;
		rsp->grpc_gzip = false;
		return;
	}
	for (size_t i = 0; i < sizeof(grpc_headers) / sizeof(grpc_headers[0]); i++) {
		if (hdr_is(line, len, grpc_headers[i].name, &val, &vlen)) {
			grpc_headers[i].set(rsp, val, vlen);
			return;
		}
	}
}

/* ------------------------------------------------------------ results */

static const char *grpc_code_name(int code)
{
	static const char *const names[] = {
	    "OK",
	    "CANCELLED",
	    "UNKNOWN",
	    "INVALID_ARGUMENT",
	    "DEADLINE_EXCEEDED",
	    "NOT_FOUND",
	    "ALREADY_EXISTS",
	    "PERMISSION_DENIED",
	    "RESOURCE_EXHAUSTED",
	    "FAILED_PRECONDITION",
	    "ABORTED",
	    "OUT_OF_RANGE",
	    "UNIMPLEMENTED",
	    "INTERNAL",
	    "UNAVAILABLE",
	    "DATA_LOSS",
	    "UNAUTHENTICATED",
	};

	return code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])) ? names[code] : "?";
}

/* The response message of a successful gRPC call: its partial_success. */
static void grpc_message(const struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
			 bool traces, struct tvn_otlp_result *res)
{
	const uint8_t *b = rsp->body;
	uint8_t *plain = NULL;
	size_t mlen, plen;

	if (rsp->len < GRPC_FRAME_HDR)
		return;
	mlen = (size_t)b[1] << 24 | b[2] << 16 | b[3] << 8 | b[4];
	if (mlen > rsp->len - GRPC_FRAME_HDR) {
		pr_debug("otlp: truncated gRPC response (%zu of %zu bytes)\n",
			 rsp->len - GRPC_FRAME_HDR, mlen);
		return;
	}
	if (b[0] == 1) {
		if (tvn_gzip__inflate(b + GRPC_FRAME_HDR, mlen, RESP_MAX * 4, &plain, &plen)) {
			pr_debug("otlp: cannot inflate the gRPC response\n");
			return;
		}
		tvn_otlp_client__partial_success(c, plain, plen, traces, res);
		free(plain);
		return;
	}
	tvn_otlp_client__partial_success(c, b + GRPC_FRAME_HDR, mlen, traces, res);
}

void tvn_otlp_client__grpc_result(const struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
				  long code, bool traces, struct tvn_otlp_result *res)
{
	int st = rsp->grpc_status;

	if (code != 200) {
		/* the gRPC HTTP mapping: these mean UNAVAILABLE */
		tvn_otlp_client__http_failure(c, rsp, code, res);
		res->outcome = tvn_otlp_client__http_retryable(code) ? EXPORT_RETRY : EXPORT_FAIL;
		return;
	}
	if (st < 0) {
		snprintf(res->msg, sizeof(res->msg), "no grpc-status in the response");
		res->outcome = EXPORT_FAIL;
		return;
	}
	if (st == 0) {
		res->outcome = EXPORT_OK;
		grpc_message(c, rsp, traces, res);
		return;
	}
	snprintf(res->msg, sizeof(res->msg), "grpc-status %d %s%s%s", st, grpc_code_name(st),
		 rsp->grpc_message[0] ? ": " : "", rsp->grpc_message);
	res->outcome = EXPORT_FAIL;
	if (st != GRPC_UNAVAILABLE && st != GRPC_RESOURCE_EXHAUSTED)
		return;
	if (rsp->has_pushback && rsp->pushback_ms < 0)
		return; /* the server asks not to retry */
	res->outcome = EXPORT_RETRY;
	if (rsp->has_pushback)
		res->delay_ms = rsp->pushback_ms;
}
