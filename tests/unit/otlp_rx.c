// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the exporter's unit tests share (otlp_rx.h): the receiver, options, polling. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otlp_rx.h"

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the receiver */

int rx_count(struct rx *rx)
{
	int n;

	pthread_mutex_lock(&rx->mu);
	n = rx->n;
	pthread_mutex_unlock(&rx->mu);
	return n;
}

void rx_release(struct rx *rx)
{
	pthread_mutex_lock(&rx->mu);
	rx->released = true;
	pthread_cond_broadcast(&rx->cond);
	pthread_mutex_unlock(&rx->mu);
}

/* The value of header name in req (case-insensitive), or NULL. */
const char *rx_header(const struct rx_req *req, const char *name, char *val, size_t vlen)
{
	size_t n = strlen(name);

	for (const char *l = req->hdrs; *l; l = strchr(l, '\n') + 1) {
		if (!strncasecmp(l, name, n) && l[n] == ':') {
			const char *v = l + n + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = strcspn(v, "\r\n");
			snprintf(val, vlen, "%.*s", (int)len, v);
			return val;
		}
		if (!strchr(l, '\n'))
			break;
	}
	return NULL;
}

static bool rx_recv_more(struct rx *rx, int fd, char **buf, size_t *len, size_t *cap)
{
	ssize_t r;

	for (;;) {
		if (*len + 4096 > *cap) {
			*cap = (*cap + 4096) * 2;
			*buf = realloc(*buf, *cap);
			assert_non_null(*buf);
		}
		r = recv(fd, *buf + *len, *cap - *len - 1, 0);
		if (r > 0) {
			*len += r;
			(*buf)[*len] = 0;
			return true;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			return false;
		pthread_mutex_lock(&rx->mu);
		r = rx->stop;
		pthread_mutex_unlock(&rx->mu);
		if (r)
			return false;
	}
}

static void rx_reply(struct rx *rx, int fd, int idx)
{
	struct rx_reply rp = {0};
	char head[512];
	int n;

	pthread_mutex_lock(&rx->mu);
	if (idx < RX_MAX_SCRIPT)
		rp = rx->script[idx];
	while (idx == rx->stall && !rx->released && !rx->stop)
		pthread_cond_wait(&rx->cond, &rx->mu);
	pthread_mutex_unlock(&rx->mu);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
		     rp.status ? rp.status : 200, rp.len, rp.headers ? rp.headers : "");
	send(fd, head, n, MSG_NOSIGNAL);
	if (rp.len)
		send(fd, rp.body, rp.len, MSG_NOSIGNAL);
}

/* Serves the requests of one connection, in order. */
static void rx_conn(struct rx *rx, int fd)
{
	size_t len = 0, cap = 0, hlen, clen;
	char *buf = NULL, *end, *cl;
	struct rx_req *req;
	int idx;

	for (;;) {
		while (!(end = strstr(buf ? buf : "", "\r\n\r\n")))
			if (!rx_recv_more(rx, fd, &buf, &len, &cap))
				goto out;
		hlen = end + 4 - buf;
		*end = 0;
		cl = strcasestr(buf, "\r\ncontent-length:");
		clen = cl ? strtoul(cl + 17, NULL, 10) : 0;
		*end = '\r';
		while (len < hlen + clen)
			if (!rx_recv_more(rx, fd, &buf, &len, &cap))
				goto out;
		pthread_mutex_lock(&rx->mu);
		idx = rx->n;
		assert_true(idx < RX_MAX_REQS);
		req = &rx->reqs[idx];
		sscanf(buf, "%15s %255s", req->method, req->path);
		snprintf(req->hdrs, sizeof(req->hdrs), "%.*s", (int)(hlen - 2), buf);
		req->body = malloc(clen + 1);
		memcpy(req->body, buf + hlen, clen);
		req->len = clen;
		req->t_ms = now_ms();
		rx->n++;
		pthread_mutex_unlock(&rx->mu);
		rx_reply(rx, fd, idx);
		memmove(buf, buf + hlen + clen, len - hlen - clen);
		len -= hlen + clen;
		buf[len] = 0;
	}
out:
	free(buf);
	close(fd);
}

static void *rx_main(void *arg)
{
	struct rx *rx = arg;
	struct timeval tv = {.tv_usec = 50000};
	int fd;

	while ((fd = accept(rx->lfd, NULL, NULL)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		rx_conn(rx, fd);
	}
	return NULL;
}

int listen_any(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

struct rx *rx_start(void)
{
	struct rx *rx = calloc(1, sizeof(*rx));

	assert_non_null(rx);
	rx->stall = -1;
	rx->lfd = listen_any(&rx->port);
	assert_int_equal(listen(rx->lfd, 16), 0);
	pthread_mutex_init(&rx->mu, NULL);
	pthread_cond_init(&rx->cond, NULL);
	assert_int_equal(pthread_create(&rx->thr, NULL, rx_main, rx), 0);
	return rx;
}

void rx_stop(struct rx *rx)
{
	pthread_mutex_lock(&rx->mu);
	rx->stop = true;
	pthread_cond_broadcast(&rx->cond);
	pthread_mutex_unlock(&rx->mu);
	shutdown(rx->lfd, SHUT_RDWR);
	pthread_join(rx->thr, NULL);
	close(rx->lfd);
	for (int i = 0; i < rx->n; i++)
		free(rx->reqs[i].body);
	free(rx);
}

/* ------------------------------------------------------------ the exporter */

struct tvn_exporter_stats stats(struct tvn_exporter *e)
{
	struct tvn_exporter_stats st;

	tvn_exporter__stats(e, &st);
	return st;
}

struct tvn_exporter_opts base_opts(struct rx *rx, char *url, size_t urllen)
{
	struct tvn_exporter_opts o = {
	    .protocol = EXPORTER_HTTP_PROTOBUF,
	    .batch_max_spans = 512,
	    .batch_timeout_ms = 60000, /* the tests flush */
	    .queue_max_batches = 64,
	    .request_timeout_ms = 10000,
	    .max_retry_ms = 30000,
	};

	if (rx) {
		snprintf(url, urllen, "http://127.0.0.1:%d", rx->port);
		o.endpoint = url;
	}
	return o;
}
