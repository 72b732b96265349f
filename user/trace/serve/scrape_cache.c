/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include "clock.h"
#include "scrape_cache.h"

/*
 * glibc keeps freed memory of a big body in its heap (its mmap threshold
 * rises to the biggest block freed), so a free this big is followed by a
 * trim: after a burst of scrapes, the tracer's RSS comes back.
 */
#define TRIM_AT (1u << 20)
/*
 * Bodies alive at once, the cache's own included: past this, the current body
 * is served however old it is rather than render another. Scrapes spread
 * out one per ttl, each held for its whole send timeout, would otherwise
 * keep one body each (256 connections of 8 MB: 2 GB).
 */
#define LIVE_MAX 8

struct body {
	struct tvn_body pub; /* first: a struct tvn_body * is a struct body * */
	atomic_uint refs;
	atomic_uint *live; /* the cache's count of bodies alive */
	char *buf;
};

/* One format's current snapshot: its plain body, and its gzip'd one once asked for. */
struct slot {
	struct body *plain, *gz;
	uint64_t fresh_until, version;
	bool rendering, zipping;
};

struct tvn_scrape_cache {
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* a render or a gzip finished */
	struct slot slot[2]; /* [om] */
	tvn_http_render_fn render;
	tvn_http_version_fn version;
	void *ctx;
	uint64_t ttl_ns, gen;
	atomic_uint live;
};

/* Takes buf (freed on failure). */
static struct body *body_new(struct tvn_scrape_cache *c, char *buf, size_t len, uint64_t gen,
			     bool gzip)
{
	struct body *b = malloc(sizeof(*b));

	if (!b) {
		free(buf);
		return NULL;
	}
	b->pub = (struct tvn_body){.data = buf, .len = len, .gen = gen, .gzip = gzip};
	atomic_init(&b->refs, 1);
	b->live = &c->live;
	atomic_fetch_add(b->live, 1);
	b->buf = buf;
	return b;
}

static struct tvn_body *body_get(struct body *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	return &b->pub;
}

void tvn_body__put(struct tvn_body *pub)
{
	struct body *b = (struct body *)pub;
	size_t len;

	if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	len = b->pub.len;
	atomic_fetch_sub(b->live, 1);
	free(b->buf);
	free(b);
	if (len >= TRIM_AT)
		malloc_trim(0);
}

/*
 * gzip at level 1: a scrape of 100 flows at diagnostic is 8 MB of text and
 * compresses about 20x even at the fastest level. Returns a malloc'd body
 * or NULL.
 */
static char *gzip_body(const char *in, size_t len, size_t *out_len)
{
	z_stream z = {0};
	size_t cap;
	char *out;

	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, len);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_len = z.total_out;
	deflateEnd(&z);
	/* deflateBound is generous: give the slack back, the body may live long */
	return realloc(out, *out_len ? *out_len : 1) ?: out;
}

struct tvn_scrape_cache *tvn_scrape_cache__new(tvn_http_render_fn render,
					       tvn_http_version_fn version, void *ctx,
					       uint64_t ttl_ns)
{
	struct tvn_scrape_cache *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->render = render;
	c->version = version;
	c->ctx = ctx;
	c->ttl_ns = ttl_ns;
	atomic_init(&c->live, 0);
	return c;
}

static void slot_clear(struct slot *s)
{
	tvn_body__put(&s->plain->pub);
	if (s->gz)
		tvn_body__put(&s->gz->pub);
	s->plain = s->gz = NULL;
}

void tvn_scrape_cache__free(struct tvn_scrape_cache *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < 2; i++)
		if (c->slot[i].plain)
			slot_clear(&c->slot[i]);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

uint64_t tvn_scrape_cache__renders(struct tvn_scrape_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->gen;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* Called locked; renders unlocked. Returns 0 with s->plain fresh, or -errno. */
static int render_locked(struct tvn_scrape_cache *c, struct slot *s, bool om, uint64_t version)
{
	char *buf = NULL;
	size_t len = 0;
	struct body *b;
	int rc;

	s->rendering = true;
	pthread_mutex_unlock(&c->mu);
	rc = c->render(c->ctx, om, &buf, &len);
	if (rc) {
		free(buf);
		buf = NULL;
	}
	pthread_mutex_lock(&c->mu);
	s->rendering = false;
	pthread_cond_broadcast(&c->cv);
	if (rc)
		return rc < 0 ? rc : -EIO;
	b = body_new(c, buf, len, ++c->gen, false);
	if (!b)
		return -ENOMEM;
	if (s->plain)
		slot_clear(s);
	s->plain = b;
	s->version = version;
	/* counted from the end of the render: scrapes that waited for it reuse it */
	s->fresh_until = tvn_time__mono_ns() + c->ttl_ns;
	return 0;
}

/*
 * Called locked with s->plain set; zips unlocked. Returns 0 and a reference
 * to the gzip'd body of s->plain as it was, or -ENOMEM.
 */
static int zip_locked(struct tvn_scrape_cache *c, struct slot *s, struct tvn_body **out)
{
	struct body *p = s->plain, *z = NULL;
	size_t zlen = 0;
	char *buf;

	s->zipping = true;
	body_get(p);
	pthread_mutex_unlock(&c->mu);
	buf = gzip_body(p->pub.data, p->pub.len, &zlen);
	if (buf)
		z = body_new(c, buf, zlen, p->pub.gen, true);
	pthread_mutex_lock(&c->mu);
	s->zipping = false;
	pthread_cond_broadcast(&c->cv);
	if (z && s->plain == p && !s->gz)
		s->gz = (struct body *)body_get(z);
	/* else a newer render replaced the slot meanwhile: this scrape gets the one it asked for */
	tvn_body__put(&p->pub);
	if (!z)
		return -ENOMEM;
	*out = &z->pub;
	return 0;
}

int tvn_scrape_cache__get(struct tvn_scrape_cache *c, bool om, bool gzip, struct tvn_body **out)
{
	uint64_t v = c->version ? c->version(c->ctx) : 0;
	struct slot *s = &c->slot[om];
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		bool fresh = s->plain && s->version == v &&
			     (tvn_time__mono_ns() < s->fresh_until || atomic_load(&c->live) >= LIVE_MAX);

		if (!fresh && !s->rendering) {
			rc = render_locked(c, s, om, v);
			if (rc)
				break;
			fresh = true;
		}
		if (!fresh) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		if (!gzip) {
			*out = body_get(s->plain);
			break;
		}
		if (s->gz) {
			*out = body_get(s->gz);
			break;
		}
		if (s->zipping) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		rc = zip_locked(c, s, out);
		break;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}
