/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The /metrics endpoint (libmicrohttpd, its own thread). */
#ifndef TORVYN_HTTP_H
#define TORVYN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tvn_http;

/*
 * Renders the body of one snapshot: Prometheus text, or OpenMetrics with om.
 * Returns 0 and a malloc'd *body, or -errno. Called on the server's thread,
 * once per snapshot however many scrapes share it (see scrape_cache.h).
 */
typedef int (*tvn_http_render_fn)(void *ctx, bool om, char **body, size_t *len);

/*
 * A number that changes with what a scrape must show at once (the level: a
 * switch is answered, then checked by a scrape): a body rendered under
 * another is never reused.
 */
typedef uint64_t (*tvn_http_version_fn)(void *ctx);

#define TVN_HTTP_MAX_CONNECTIONS 256
#define TVN_HTTP_SEND_TIMEOUT_S 30.0

/* Zero fields take the defaults above. */
struct tvn_http_opts {
	/* connections served at once; more wait in the listen queue */
	int max_connections;
	/* a response not sent within this many seconds of its request is cut */
	double send_timeout_s;
	tvn_http_version_fn version; /* NULL: none */
};

/*
 * Listens on addr ("HOST:PORT", IPv4 or [IPv6]) and serves /metrics from
 * render(ctx); o may be NULL. Returns NULL and sets errno (EADDRINUSE,
 * EINVAL for a malformed address, EACCES for a privileged port...).
 */
struct tvn_http *tvn_http__start(const char *addr, tvn_http_render_fn render, void *ctx,
				 const struct tvn_http_opts *o);
void tvn_http__stop(struct tvn_http *h); /* NULL does nothing */

/*
 * The address it listens on, as "HOST:PORT" with the port bound (the one the
 * kernel chose for port 0), into buf. Returns buf.
 */
const char *tvn_http__addr(const struct tvn_http *h, const char *listen, char *buf, size_t len);

/* Splits "HOST:PORT" into a socket address. Returns 0 or -EINVAL. */
struct sockaddr_storage;
int tvn_http__parse_addr(const char *addr, struct sockaddr_storage *ss, unsigned int *sslen);

/*
 * True when an Accept-Encoding header value (NULL: none) takes gzip, and not
 * with q=0: a scrape is then answered gzipped. Apart from the server so that
 * it can be tested (and fuzzed) alone.
 */
bool tvn_http__wants_gzip(const char *accept_encoding);

#endif /* TORVYN_HTTP_H */
