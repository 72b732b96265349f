// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* gzip for request bodies, gunzip for compressed gRPC response messages (zlib). */
#include <errno.h>
#include <stdlib.h>

#include <zlib.h>

#include "export_internal.h"

int tvn_gzip__deflate(const void *in, size_t len, size_t pre, uint8_t **out, size_t *outlen)
{
	z_stream z = {0};
	uint8_t *buf;
	uLong bound;
	int ret;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, len);
	buf = malloc(pre + bound);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = buf + pre;
	z.avail_out = bound;
	ret = deflate(&z, Z_FINISH);
	*outlen = pre + z.total_out;
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

int tvn_gzip__inflate(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = len * 4 + 64;
	uint8_t *buf = NULL, *nb;
	int ret;

	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	do {
		if (cap > max || !(nb = realloc(buf, cap))) {
			ret = Z_MEM_ERROR;
			break;
		}
		buf = nb;
		z.next_out = buf + z.total_out;
		z.avail_out = cap - z.total_out;
		ret = inflate(&z, Z_NO_FLUSH);
		cap *= 2;
	} while (ret == Z_OK);
	*outlen = z.total_out;
	inflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}
