/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "prom.h"
#include "scrape_cache.h"

/* A body is reused this long after its render finished (Prometheus servers scraping together). */
#define CACHE_TTL_NS (100 * 1000000ull)
/* Bytes copied from the shared body per write: each connection holds one block. */
#define BLOCK_SIZE (32 * 1024)
/* A connection with nothing moving either way is closed after this long. */
#define IDLE_TIMEOUT_S 10u

struct tvn_http {
	struct MHD_Daemon *mhd;
	struct tvn_scrape_cache *cache;
	uint64_t send_timeout_ns;
	int fd;
};

/* One response being sent: a reference to the shared body, and its deadline. */
struct sending {
	struct tvn_body *body;
	uint64_t deadline_ns;
};

int tvn_http__parse_addr(const char *addr, struct sockaddr_storage *ss, unsigned int *sslen)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon || colon == addr)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return -EINVAL;
	hl = colon - addr;
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	{
		struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons(port);
			*sslen = sizeof(*in4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons(port);
			*sslen = sizeof(*in6);
			return 0;
		}
	}
	return -EINVAL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * MHD asks for the next block once the previous one is sent: a reader that
 * keeps taking a little at a time is cut here at its deadline, one that takes
 * nothing by the idle timeout.
 */
static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sending *sd = cls;
	size_t n;

	if (tvn_time__mono_ns() > sd->deadline_ns || pos >= sd->body->len)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = sd->body->len - pos;
	if (n > max)
		n = max;
	memcpy(buf, sd->body->data + pos, n);
	return (ssize_t)n;
}

static void sent_body(void *cls)
{
	struct sending *sd = cls;

	tvn_body__put(sd->body);
	free(sd);
}

/* Takes the reference body. */
static enum MHD_Result reply_body(struct tvn_http *h, struct MHD_Connection *conn,
				  struct tvn_body *body, bool om)
{
	struct sending *sd = malloc(sizeof(*sd));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!sd) {
		tvn_body__put(body);
		return MHD_NO;
	}
	sd->body = body;
	sd->deadline_ns = tvn_time__mono_ns() + h->send_timeout_ns;
	r = MHD_create_response_from_callback(body->len, BLOCK_SIZE, read_body, sd, sent_body);
	if (!r) {
		sent_body(sd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, tvn_prom__content_type(om));
	if (body->gzip) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	}
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * A response that did not complete (cut at its deadline, idle, or an error)
 * is closed with a reset: a plain close would leave the kernel holding its
 * unsent megabytes behind the FIN, for as long as the reader stalls.
 */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)cls;
	(void)con_cls;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/*
 * libmicrohttpd's messages are about its clients (one that hung up, one cut
 * at its deadline): debug messages, or a hostile scraper floods the log.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_debug("http: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* Does the Accept-Encoding header take gzip (and not with q=0)? */
bool tvn_http__wants_gzip(const char *ae)
{
	const char *g;

	if (!ae)
		return false;
	for (g = strstr(ae, "gzip"); g; g = strstr(g + 4, "gzip")) {
		const char *end = g + 4, *q;

		if (g != ae && g[-1] != ' ' && g[-1] != ',')
			continue;
		while (*end == ' ')
			end++;
		if (*end && *end != ',' && *end != ';')
			continue;
		q = *end == ';' ? strstr(end, "q=") : NULL;
		if (q && (q - end) < 8 && strtod(q + 2, NULL) <= 0)
			return false;
		return true;
	}
	return false;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	static const char index_page[] =
	    "<html><head><title>torvyn-trace</title></head><body><h1>torvyn-trace</h1>"
	    "<p><a href=\"/metrics\">/metrics</a></p></body></html>\n";
	static const char not_found[] = "not found: try /metrics\n";
	struct tvn_http *h = cls;
	struct tvn_body *body = NULL;
	const char *accept;
	bool om, gzip;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (char *)"GET only\n",
			     9, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", (char *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", (char *)not_found,
			     sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	om = tvn_prom__wants_openmetrics(accept);
	gzip = tvn_http__wants_gzip(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (tvn_scrape_cache__get(h->cache, om, gzip, &body))
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     (char *)"out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
	return reply_body(h, conn, body, om);
}

/*
 * Connections past the limit wait in the kernel's accept queue rather than
 * being dropped at SYN and retried a second later: the queue holds a burst of
 * BACKLOG_PER_CONNECTION times the limit (the kernel caps it at somaxconn).
 */
#define BACKLOG_PER_CONNECTION 4

struct tvn_http *tvn_http__start(const char *addr, tvn_http_render_fn render, void *ctx,
				 const struct tvn_http_opts *o)
{
	unsigned int limit = o && o->max_connections > 0 ? (unsigned int)o->max_connections
							 : TVN_HTTP_MAX_CONNECTIONS;
	double send_s = o && o->send_timeout_s > 0 ? o->send_timeout_s : TVN_HTTP_SEND_TIMEOUT_S;
	unsigned int idle_s = send_s < IDLE_TIMEOUT_S ? (unsigned int)send_s + 1 : IDLE_TIMEOUT_S;
	struct sockaddr_storage ss;
	unsigned int sslen;
	struct tvn_http *h;
	int one = 1, e;

	if (tvn_http__parse_addr(addr, &ss, &sslen)) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->fd = -1;
	h->send_timeout_ns = (uint64_t)(send_s * 1e9);
	h->cache = tvn_scrape_cache__new(render, o ? o->version : NULL, ctx, CACHE_TTL_NS);
	if (!h->cache)
		goto err;
	/* our own socket, so that "address in use" is an errno and not a guess */
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		goto err;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&ss, sslen) ||
	    listen(h->fd, (int)(limit * BACKLOG_PER_CONNECTION)))
		goto err;
	/* epoll: the process may hold more than FD_SETSIZE descriptors (the agent) */
	h->mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				  handle, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
				  MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
				  idle_s, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!h->mhd) {
		errno = EIO;
		goto err;
	}
	return h;
err:
	e = errno;
	if (h->fd >= 0)
		close(h->fd);
	tvn_scrape_cache__free(h->cache);
	free(h);
	errno = e;
	return NULL;
}

void tvn_http__stop(struct tvn_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	close(h->fd);
	tvn_scrape_cache__free(h->cache);
	free(h);
}

const char *tvn_http__addr(const struct tvn_http *h, const char *listen, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *colon = strrchr(listen, ':');
	int port = -1;

	if (!getsockname(h->fd, (struct sockaddr *)&ss, &sl))
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	if (port < 0 || !colon)
		snprintf(buf, len, "%s", listen);
	else
		snprintf(buf, len, "%.*s:%d", (int)(colon - listen), listen, port);
	return buf;
}
