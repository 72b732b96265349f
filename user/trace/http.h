/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The /metrics endpoint (libmicrohttpd, its own thread). */
#ifndef TORVYN_HTTP_H
#define TORVYN_HTTP_H

#include "session.h"

struct http_server;

/*
 * Listens on addr ("HOST:PORT", IPv4 or [IPv6]) and serves /metrics from the
 * session's snapshots. Returns NULL and sets errno (EADDRINUSE, EINVAL for a
 * malformed address, EACCES for a privileged port...).
 */
struct http_server *http_server__start(const char *addr, struct session *s);
void http_server__stop(struct http_server *h); /* NULL does nothing */

/* Splits "HOST:PORT" into a socket address. Returns 0 or -EINVAL. */
struct sockaddr_storage;
int http__parse_addr(const char *addr, struct sockaddr_storage *ss, unsigned int *sslen);

#endif /* TORVYN_HTTP_H */
