// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The scrape cache: one render per snapshot however many scrapes ask, scrapes
 * during a render wait for it, gzip made once from the same snapshot, bodies
 * kept by their holders after the cache moved on, bodies never older than
 * the last one served.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "scrape_cache.h"

#define MS 1000000ull

/* A render that says which render and which format it was; may be slow or fail. */
struct renderer {
	pthread_mutex_t mu;
	int calls[2];
	int fail_next;
	unsigned int sleep_us;
	uint64_t version;
};

static uint64_t version(void *ctx)
{
	return ((struct renderer *)ctx)->version;
}

static int render(void *ctx, bool om, char **body, size_t *len)
{
	struct renderer *r = ctx;
	int n;

	pthread_mutex_lock(&r->mu);
	n = ++r->calls[om];
	if (r->fail_next) {
		r->fail_next = 0;
		pthread_mutex_unlock(&r->mu);
		return -ENOMEM;
	}
	pthread_mutex_unlock(&r->mu);
	if (r->sleep_us)
		usleep(r->sleep_us);
	/* big enough that gzip has something to do */
	*body = malloc(64 * 1024);
	if (!*body)
		return -ENOMEM;
	for (size_t i = 0; i < 64 * 1024; i += 64)
		snprintf(*body + i, 64, "%-62s\n", om ? "om render" : "prom render");
	*len = (size_t)snprintf(*body, 64, "%s render %d", om ? "om" : "prom", n);
	(*body)[*len] = ' ';
	*len = 64 * 1024;
	return 0;
}

static struct renderer *renderer_new(void)
{
	struct renderer *r = calloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	return r;
}

static int starts_with(const struct tvn_body *b, const char *p)
{
	return b->len >= strlen(p) && !memcmp(b->data, p, strlen(p));
}

static void reused_while_fresh(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 10000 * MS);
	struct tvn_body *b[20];

	(void)state;
	for (int i = 0; i < 20; i++)
		assert_int_equal(tvn_scrape_cache__get(c, false, false, &b[i]), 0);
	for (int i = 1; i < 20; i++)
		assert_ptr_equal(b[i], b[0]);
	assert_int_equal(r->calls[0], 1);
	assert_int_equal(tvn_scrape_cache__renders(c), 1);
	assert_true(starts_with(b[0], "prom render 1 "));
	for (int i = 0; i < 20; i++)
		tvn_body__put(b[i]);
	tvn_scrape_cache__free(c);
	free(r);
}

/* An expired body is rendered again, newer; a holder keeps the old one intact. */
static void expired_renders_newer(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 20 * MS);
	struct tvn_body *a, *b;

	(void)state;
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &a), 0);
	usleep(40 * 1000);
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_true(b->gen > a->gen);
	assert_true(starts_with(a, "prom render 1 "));
	assert_true(starts_with(b, "prom render 2 "));
	tvn_body__put(b);
	/* the cache dropped a when b came: a lives on with its holder */
	assert_true(starts_with(a, "prom render 1 "));
	tvn_body__put(a);
	tvn_scrape_cache__free(c);
	free(r);
}

struct scraper {
	struct tvn_scrape_cache *c;
	bool om, gzip;
	struct tvn_body *got;
	int rc;
};

static void *scrape(void *arg)
{
	struct scraper *s = arg;

	s->rc = tvn_scrape_cache__get(s->c, s->om, s->gzip, &s->got);
	return NULL;
}

/* 16 scrapes at once during a 100 ms render: one render, one zip, one body each. */
static void concurrent_share_one_render(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 10000 * MS);
	struct scraper s[16];
	pthread_t t[16];

	(void)state;
	r->sleep_us = 100 * 1000;
	for (int i = 0; i < 16; i++) {
		s[i] = (struct scraper){.c = c, .gzip = i % 2};
		pthread_create(&t[i], NULL, scrape, &s[i]);
	}
	for (int i = 0; i < 16; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r->calls[0], 1);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(s[i].rc, 0);
		assert_ptr_equal(s[i].got, s[i % 2].got);
		assert_int_equal(s[i].got->gen, 1);
		assert_int_equal(s[i].got->gzip, i % 2);
	}
	for (int i = 0; i < 16; i++)
		tvn_body__put(s[i].got);
	tvn_scrape_cache__free(c);
	free(r);
}

/* The gzip'd body is the plain one of the same snapshot, made once. */
static void gzip_of_the_same_snapshot(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 10000 * MS);
	struct tvn_body *p, *z, *z2;
	uLongf n = 128 * 1024;
	char *out = malloc(n);
	z_stream zs = {0};

	(void)state;
	assert_int_equal(tvn_scrape_cache__get(c, true, true, &z), 0);
	assert_int_equal(tvn_scrape_cache__get(c, true, true, &z2), 0);
	assert_int_equal(tvn_scrape_cache__get(c, true, false, &p), 0);
	assert_ptr_equal(z, z2);
	assert_true(z->gzip);
	assert_false(p->gzip);
	assert_int_equal(z->gen, p->gen);
	assert_true(z->len < p->len / 10);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)z->data;
	zs.avail_in = (uInt)z->len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)n;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, p->len);
	assert_memory_equal(out, p->data, p->len);
	inflateEnd(&zs);
	assert_int_equal(r->calls[1], 1);
	assert_int_equal(r->calls[0], 0);
	tvn_body__put(p);
	tvn_body__put(z);
	tvn_body__put(z2);
	tvn_scrape_cache__free(c);
	free(out);
	free(r);
}

/* Formats are rendered apart; a failed render is an error, the next scrape renders again. */
static void formats_apart_and_failures(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 10000 * MS);
	struct tvn_body *p, *o;

	(void)state;
	r->fail_next = 1;
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &p), -ENOMEM);
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &p), 0);
	assert_int_equal(tvn_scrape_cache__get(c, true, false, &o), 0);
	assert_true(starts_with(p, "prom render 2 "));
	assert_true(starts_with(o, "om render 1 "));
	assert_true(o->gen > p->gen);
	tvn_body__put(p);
	tvn_body__put(o);
	tvn_body__put(NULL);
	tvn_scrape_cache__free(c);
	tvn_scrape_cache__free(NULL);
	free(r);
}

/*
 * With no reuse (ttl 0), scrapers racing renders still see, each in turn,
 * bodies never older than the one before: a render starts only after the
 * previous one finished.
 */
struct racer {
	struct tvn_scrape_cache *c;
	int bad;
};

static void *race(void *arg)
{
	struct racer *x = arg;
	uint64_t last = 0;

	for (int i = 0; i < 200; i++) {
		struct tvn_body *b;

		if (tvn_scrape_cache__get(x->c, false, i % 3 == 0, &b)) {
			x->bad++;
			continue;
		}
		if (b->gen < last)
			x->bad++;
		last = b->gen;
		tvn_body__put(b);
	}
	return NULL;
}

static void monotonic_under_races(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 0);
	struct racer x[4];
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		x[i] = (struct racer){.c = c};
		pthread_create(&t[i], NULL, race, &x[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(x[i].bad, 0);
	}
	tvn_scrape_cache__free(c);
	free(r);
}

/*
 * Scrapes one past the ttl each, whose bodies are all still being sent:
 * after 8 bodies alive, the current one is served again instead of a 9th.
 */
static void live_bodies_bounded(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, NULL, r, 0);
	struct tvn_body *b[10], *n;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(tvn_scrape_cache__get(c, false, false, &b[i]), 0);
	assert_int_equal(r->calls[0], 8);
	assert_ptr_equal(b[8], b[7]);
	assert_ptr_equal(b[9], b[7]);
	assert_true(starts_with(b[9], "prom render 8 "));
	for (int i = 0; i < 10; i++)
		if (i != 7)
			tvn_body__put(b[i]);
	/* the old ones went: renders again */
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &n), 0);
	assert_true(starts_with(n, "prom render 9 "));
	tvn_body__put(n);
	tvn_body__put(b[7]);
	tvn_scrape_cache__free(c);
	free(r);
}

/* A new version (a level switch) is rendered at once, fresh or not. */
static void new_version_renders(void **state)
{
	struct renderer *r = renderer_new();
	struct tvn_scrape_cache *c = tvn_scrape_cache__new(render, version, r, 10000 * MS);
	struct tvn_body *a, *b, *d;

	(void)state;
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &a), 0);
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &b), 0);
	assert_ptr_equal(a, b);
	r->version = 1;
	assert_int_equal(tvn_scrape_cache__get(c, false, false, &d), 0);
	assert_true(starts_with(d, "prom render 2 "));
	tvn_body__put(a);
	tvn_body__put(b);
	tvn_body__put(d);
	tvn_scrape_cache__free(c);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reused_while_fresh),
	    cmocka_unit_test(expired_renders_newer),
	    cmocka_unit_test(concurrent_share_one_render),
	    cmocka_unit_test(gzip_of_the_same_snapshot),
	    cmocka_unit_test(formats_apart_and_failures),
	    cmocka_unit_test(monotonic_under_races),
	    cmocka_unit_test(live_bodies_bounded),
	    cmocka_unit_test(new_version_renders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
