// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Delivery to the endpoint with retries: a request that failed in a way worth
 * retrying (connection refused, 429, 503, UNAVAILABLE...) goes again after
 * the server's wait or an exponential backoff, until max_retry_ms since the
 * first attempt or the exit deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "log.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 16000

void tvn_backoff__init(struct tvn_backoff *b, uint64_t seed)
{
	b->rng = seed | 1;
}

static uint64_t rng_next(struct tvn_backoff *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

long tvn_backoff__delay_ms(struct tvn_backoff *b, unsigned int attempt)
{
	long base = attempt >= 5 ? BACKOFF_MAX_MS : BACKOFF_FIRST_MS << attempt;

	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	return base * 8 / 10 + (long)(rng_next(b) % (uint64_t)(base * 4 / 10 + 1));
}

/*
 * Waits before the next attempt: false (res->outcome set) if there is no
 * next attempt, because the wait ends past max_retry_ms or the exit deadline.
 */
static bool retry_wait(struct tvn_exporter *e, const char *url, unsigned int attempt, uint64_t t0,
		       struct tvn_otlp_result *res)
{
	long delay =
	    res->delay_ms >= 0 ? res->delay_ms : tvn_backoff__delay_ms(&e->backoff, attempt);

	if (tvn_export__now_ms() + delay > t0 + e->opts.max_retry_ms) {
		res->outcome = EXPORT_FAIL;
		pr_debug("otlp: %s: %s; no retry within %u ms\n", url, res->msg,
			 e->opts.max_retry_ms);
		return false;
	}
	pr_debug("otlp: %s: %s; retrying in %ld ms\n", url, res->msg, delay);
	pthread_mutex_lock(&e->mu);
	e->st.requests_retried++;
	pthread_mutex_unlock(&e->mu);
	if (!tvn_exporter__sleep_until(e, tvn_export__now_ms() + delay)) {
		res->outcome = EXPORT_ABORT;
		return false;
	}
	return true;
}

void tvn_exporter__send(struct tvn_exporter *e, const struct tvn_otlp_req *r,
			struct tvn_otlp_result *res)
{
	const char *url = r->metrics ? e->client.metrics_url : e->client.traces_url;
	uint64_t t0 = tvn_export__now_ms();
	uint8_t *body = NULL;
	size_t len = 0;
	int err;

	err = tvn_otlp_client__body(&e->client, r, &body, &len);
	if (err) {
		memset(res, 0, sizeof(*res));
		snprintf(res->msg, sizeof(res->msg), "cannot build the body: %s", strerror(-err));
		res->outcome = EXPORT_FAIL;
		return;
	}
	for (unsigned int attempt = 0;; attempt++) {
		tvn_otlp_client__post(&e->client, url, body, len, !r->metrics, res);
		if (res->outcome != EXPORT_RETRY || !retry_wait(e, url, attempt, t0, res))
			break;
	}
	free(body);
}
