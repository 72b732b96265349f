// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* W3C trace context (traceparent, level 1) and the id generator. */
#include <errno.h>
#include <string.h>

#include "torvyn_rt.h"

/* Offsets in "vv-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>". */
#define TP_VERSION 0
#define TP_TRACE_ID 3
#define TP_PARENT_ID 36
#define TP_FLAGS 53

static const char hex_lc[] = "0123456789abcdef";

/* Lowercase hex only: the spec's HEXDIGLC. */
static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes 2 * n hex chars from s into out[0..n). Returns 0 or -EINVAL. */
static int hex_decode(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(s[2 * i]);
		int lo = hex_nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lc[in[i] >> 4];
		out[2 * i + 1] = hex_lc[in[i] & 0xf];
	}
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static uint64_t get_be64(const uint8_t b[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static void put_be64(uint8_t b[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

int tvn_traceparent_parse(const char *s, size_t len, struct tvn_trace_ctx *out)
{
	uint8_t version, trace_id[16], parent_id[8], flags;

	/* Every check below reads only s[0..55), plus s[55] when len > 55. */
	if (!s || !out || len < TVN_TRACEPARENT_LEN)
		return -EINVAL;
	if (s[TP_TRACE_ID - 1] != '-' || s[TP_PARENT_ID - 1] != '-' || s[TP_FLAGS - 1] != '-')
		return -EINVAL;
	if (hex_decode(s + TP_VERSION, 1, &version) || version == 0xff)
		return -EINVAL;
	/* Version 00 is exactly 55 chars; a later one may append "-...". */
	if (len > TVN_TRACEPARENT_LEN && (version == 0 || s[TVN_TRACEPARENT_LEN] != '-'))
		return -EINVAL;
	if (hex_decode(s + TP_TRACE_ID, sizeof(trace_id), trace_id) ||
	    hex_decode(s + TP_PARENT_ID, sizeof(parent_id), parent_id) ||
	    hex_decode(s + TP_FLAGS, 1, &flags))
		return -EINVAL;
	if (all_zero(trace_id, sizeof(trace_id)) || all_zero(parent_id, sizeof(parent_id)))
		return -EINVAL;

	memcpy(out->trace_id, trace_id, sizeof(trace_id));
	out->span_id = 0;
	out->parent_span_id = get_be64(parent_id);
	out->flags = flags;
	return 0;
}

int tvn_traceparent_format(const uint8_t trace_id[16], uint64_t span_id, uint8_t flags,
			   char out[TVN_TRACEPARENT_LEN + 1])
{
	uint8_t sid[8];

	put_be64(sid, span_id);
	out[0] = '0';
	out[1] = '0';
	out[TP_TRACE_ID - 1] = '-';
	hex_encode(trace_id, 16, out + TP_TRACE_ID);
	out[TP_PARENT_ID - 1] = '-';
	hex_encode(sid, sizeof(sid), out + TP_PARENT_ID);
	out[TP_FLAGS - 1] = '-';
	hex_encode(&flags, 1, out + TP_FLAGS);
	out[TVN_TRACEPARENT_LEN] = '\0';
	return TVN_TRACEPARENT_LEN;
}

void tvn_rng_seed(struct tvn_rng *rng, uint64_t seed)
{
	rng->state = seed;
}

/* The public names (include/torvyn/probes.h). */
int tvn_traceparent__parse(const char *s, size_t len, struct tvn_trace_ctx *out)
{
	return tvn_traceparent_parse(s, len, out);
}

int tvn_traceparent__format(const uint8_t trace_id[16], uint64_t span_id, uint8_t flags,
			    char out[TVN_TRACEPARENT_LEN + 1])
{
	return tvn_traceparent_format(trace_id, span_id, flags, out);
}
