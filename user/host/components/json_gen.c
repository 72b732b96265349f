// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * json-generator: a JSON record per element whose fields are functions of the
 * element's sequence number N, so tests can predict them:
 *
 *   {"seq":N,"user":"u<N%97>","region":REGIONS[N%5],"amount":N*7919%100000,
 *    "currency":CURRENCIES[N%3],"tags":[TAGS[N%7],TAGS[N/7%7]],
 *    "ts":1700000000000+13*N,"note":"<note_bytes of words drawn from seed and N>"}
 */
#include <stdio.h>
#include <string.h>

#include "work_kinds.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HEAD_MAX 320 /* the record without its note: at most about 170 bytes */

static const char *const regions[] = {"eu", "us", "ap", "sa", "af"};
static const char *const currencies[] = {"EUR", "USD", "JPY"};
static const char *const tags[] = {"new", "repeat", "mobile", "web", "promo", "gift", "bulk"};
/* 16 words: four bits of a draw choose one */
static const char *const words[] = {
    "order",   "shipped", "delayed", "customer",  "priority", "standard", "return",    "invoice",
    "payment", "pending", "express", "warehouse", "address",  "refund",	  "confirmed", "parcel",
};

/* The note: words separated by spaces, cut at exactly n bytes. */
static void note(uint64_t seed, uint64_t seq, char *p, uint32_t n)
{
	uint64_t r = 0;
	uint32_t off = 0;

	for (uint64_t w = 0; off < n; w++) {
		const char *word;
		size_t len;

		if (w % 16 == 0)
			r = tvn_rng_at(seed ^ seq * TVN_GOLDEN_GAMMA, w / 16);
		word = words[(r >> (4 * (w % 16))) & 15];
		len = strlen(word);
		if (off && off < n)
			p[off++] = ' ';
		if (len > n - off)
			len = n - off;
		memcpy(p + off, word, len);
		off += len;
	}
}

/* Writes the record of seq into buf, which holds HEAD_MAX + note_bytes; returns its length. */
static uint32_t format(uint64_t seed, uint64_t seq, uint32_t note_bytes, char *buf)
{
	int n =
	    snprintf(buf, HEAD_MAX,
		     "{\"seq\":%llu,\"user\":\"u%llu\",\"region\":\"%s\",\"amount\":%llu,"
		     "\"currency\":\"%s\",\"tags\":[\"%s\",\"%s\"],\"ts\":%llu,\"note\":\"",
		     (unsigned long long)seq, (unsigned long long)(seq % 97),
		     regions[seq % ARRAY_LEN(regions)], (unsigned long long)(seq * 7919 % 100000),
		     currencies[seq % ARRAY_LEN(currencies)], tags[seq % ARRAY_LEN(tags)],
		     tags[seq / ARRAY_LEN(tags) % ARRAY_LEN(tags)],
		     (unsigned long long)(1700000000000ull + 13 * seq));

	note(seed, seq, buf + n, note_bytes);
	memcpy(buf + n + note_bytes, "\"}", 2);
	return n + note_bytes + 2;
}

int tvn_json_gen__invoke(struct tvn_comp *c, struct tvn_elem *e)
{
	uint32_t cap = HEAD_MAX + c->cfg->note_bytes;

	e->buf = tvn_pool__alloc(c->pool, cap);
	if (!e->buf)
		return -TORVYN_ERR_UNAVAILABLE;
	e->len = format(c->cfg->seed, e->seq, c->cfg->note_bytes, (char *)e->buf->data);
	return TORVYN_COMPONENT_OK;
}
