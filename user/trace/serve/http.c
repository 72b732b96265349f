/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "http.h"
#include "log.h"
#include "prom.h"

struct tvn_http {
	struct MHD_Daemon *mhd;
	tvn_http_render_fn render;
	void *ctx;
	int fd;
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

/*
 * gzip (level 1: a scrape of 100 flows at diagnostic is 8 MB of text and
 * compresses about 20x even at the fastest level). Returns a malloc'd body
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
	return out;
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
	const char *accept;
	bool om;
	char *body = NULL;
	size_t len = 0;

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
	if (h->render(h->ctx, om, &body, &len))
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     (char *)"out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
	if (tvn_http__wants_gzip(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
		size_t zlen = 0;
		char *z = gzip_body(body, len, &zlen);

		if (z) {
			struct MHD_Response *r =
			    MHD_create_response_from_buffer(zlen, z, MHD_RESPMEM_MUST_FREE);
			enum MHD_Result ret;

			free(body);
			if (!r)
				return MHD_NO;
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						tvn_prom__content_type(om));
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
			MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
			ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	return reply(conn, MHD_HTTP_OK, tvn_prom__content_type(om), body, len,
		     MHD_RESPMEM_MUST_FREE);
}

struct tvn_http *tvn_http__start(const char *addr, tvn_http_render_fn render, void *ctx)
{
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
	h->render = render;
	h->ctx = ctx;
	/* our own socket, so that "address in use" is an errno and not a guess */
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		goto err;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&ss, sslen) || listen(h->fd, 64))
		goto err;
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				  NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!h->mhd) {
		errno = EIO;
		goto err;
	}
	return h;
err:
	e = errno;
	if (h->fd >= 0)
		close(h->fd);
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
	free(h);
}

const char *tvn_http__addr(const struct tvn_http *h, const char *listen, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *colon = strrchr(listen, ':');
	int port = -1;

	if (!getsockname(h->fd, (struct sockaddr *)&ss, &sl))
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
							 ((struct sockaddr_in *)&ss)->sin_port);
	if (port < 0 || !colon)
		snprintf(buf, len, "%s", listen);
	else
		snprintf(buf, len, "%.*s:%d", (int)(colon - listen), listen, port);
	return buf;
}
