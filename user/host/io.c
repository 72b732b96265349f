/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The built-in components' file I/O: lines in, records out, no error lost, no wait unbounded. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

/* What one read asks for at least: the reader's buffer keeps this much room. */
#define TVN_IO_CHUNK 65536
/* The most iovecs one record is written from. */
#define TVN_IO_MAX_IOV 8

int tvn_io__wait(int fd, short events, int stop_fd)
{
	/* poll ignores a negative descriptor: without stop_fd this waits for fd alone */
	struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stop_fd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		return (p[0].revents ? TVN_IO_READY : 0) | (p[1].revents ? TVN_IO_STOPPED : 0);
	}
}

bool tvn_io__may_block(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return true;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return false;
	if (S_ISCHR(st.st_mode))
		return isatty(fd);
	return true; /* a pipe, a socket */
}

/* The first of iov[*i, n) to write at most max bytes of, in part[]; returns its count. */
static int slice(const struct iovec *iov, int i, int n, size_t max, struct iovec *part)
{
	int np = 0;

	for (; i < n && max; i++) {
		size_t l = iov[i].iov_len < max ? iov[i].iov_len : max;

		part[np++] = (struct iovec){.iov_base = iov[i].iov_base, .iov_len = l};
		max -= l;
	}
	return np;
}

/* Waits for room in fd; 0, -ECANCELED (the host stops and there is none) or -errno. */
static int wait_room(int fd, int stop_fd)
{
	int w = tvn_io__wait(fd, POLLOUT, stop_fd);

	if (w < 0)
		return w;
	return w & TVN_IO_READY ? 0 : -ECANCELED;
}

int tvn_io__write(int fd, int stop_fd, bool may_block, const struct iovec *in, int iovcnt)
{
	struct iovec iov[TVN_IO_MAX_IOV], part[TVN_IO_MAX_IOV];
	int i = 0, rc;

	if (iovcnt < 0 || iovcnt > TVN_IO_MAX_IOV)
		return -EINVAL;
	memcpy(iov, in, (size_t)iovcnt * sizeof(*iov));
	for (;;) {
		ssize_t n;
		int np;

		while (i < iovcnt && !iov[i].iov_len)
			i++;
		if (i == iovcnt)
			return 0;
		if (may_block) {
			rc = wait_room(fd, stop_fd);
			if (rc)
				return rc;
		}
		np = slice(iov, i, iovcnt, may_block ? PIPE_BUF : SSIZE_MAX, part);
		n = writev(fd, part, np);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* a descriptor someone else made non-blocking: wait as for a pipe */
			rc = wait_room(fd, stop_fd);
			if (rc)
				return rc;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* no progress and no reason: never spin */
		for (size_t left = (size_t)n; left;) {
			size_t l = iov[i].iov_len < left ? iov[i].iov_len : left;

			iov[i].iov_base = (char *)iov[i].iov_base + l;
			iov[i].iov_len -= l;
			left -= l;
			if (!iov[i].iov_len)
				i++;
		}
	}
}

void tvn_lines__init(struct tvn_lines *r, int fd, int stop_fd, size_t max_line)
{
	*r = (struct tvn_lines){.fd = fd, .stop_fd = stop_fd, .max_line = max_line};
}

void tvn_lines__fini(struct tvn_lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->pos = r->len = r->scanned = 0;
}

/*
 * Room for one more read of TVN_IO_CHUNK bytes and a NUL: the unread bytes
 * move to the front; the buffer grows, but never past what the longest line
 * with a read after it needs (the caller has checked the unread bytes are at
 * most max_line).
 */
static int make_room(struct tvn_lines *r)
{
	size_t limit = r->max_line + TVN_IO_CHUNK + 1, want;
	uint8_t *p;

	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->scanned -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->len >= TVN_IO_CHUNK + 1)
		return 0;
	want = r->cap * 2 > r->len + TVN_IO_CHUNK + 1 ? r->cap * 2 : r->len + TVN_IO_CHUNK + 1;
	if (want > limit)
		want = limit;
	p = realloc(r->buf, want);
	if (!p)
		return -ENOMEM;
	r->buf = p;
	r->cap = want;
	return 0;
}

/* One read into the buffer; 0 (end of input sets eof) or -errno, -ECANCELED. */
static int fill(struct tvn_lines *r)
{
	ssize_t n;
	int rc = make_room(r);

	if (rc)
		return rc;
	rc = tvn_io__wait(r->fd, POLLIN, r->stop_fd);
	if (rc < 0)
		return rc;
	/* stop first: /dev/zero is always readable */
	if (rc & TVN_IO_STOPPED)
		return -ECANCELED;
	n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (!n)
		r->eof = true;
	r->len += (size_t)n;
	return 0;
}

/* The line ending at buf[end] (its newline), or the line too long that ended there. */
static int take_line(struct tvn_lines *r, size_t end, char **line, size_t *len)
{
	size_t start = r->pos;
	bool skipped = r->skipping;

	r->pos = r->scanned = end + 1;
	r->skipping = false;
	if (skipped)
		return 0; /* the rest of a line already reported */
	if (end - start > r->max_line)
		return -EMSGSIZE;
	r->buf[end] = '\0';
	*line = (char *)r->buf + start;
	*len = end - start;
	return 1;
}

int tvn_lines__next(struct tvn_lines *r, char **line, size_t *len)
{
	for (;;) {
		uint8_t *nl = NULL;
		int rc;

		if (r->len > r->scanned)
			nl = memchr(r->buf + r->scanned, '\n', r->len - r->scanned);
		if (nl) {
			rc = take_line(r, (size_t)(nl - r->buf), line, len);
			if (rc)
				return rc;
			continue;
		}
		r->scanned = r->len;
		if (r->skipping) {
			r->pos = r->scanned = r->len = 0; /* what is read of a skipped line goes */
		} else if (r->len - r->pos > r->max_line) {
			r->skipping = true;
			r->pos = r->scanned = r->len = 0;
			return -EMSGSIZE;
		}
		if (r->eof) {
			if (r->skipping || r->pos == r->len)
				return 0;
			/* the last line has no newline */
			r->buf[r->len] = '\0';
			*line = (char *)r->buf + r->pos;
			*len = r->len - r->pos;
			r->pos = r->scanned = r->len;
			return 1;
		}
		rc = fill(r);
		if (rc)
			return rc;
	}
}
