/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The built-in components' file I/O (io.c): lines read and records written
 * with plain system calls, so that every failure reaches the element it
 * belongs to (stdio would report it at some later flush, or never), no line
 * grows without bound, and a stopping host is never kept waiting by a
 * descriptor: each wait also watches the host's stop descriptor.
 */
#ifndef TORVYN_HOST_IO_H
#define TORVYN_HOST_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* What tvn_io__wait saw: the descriptor is ready, the host is stopping, or both. */
enum { TVN_IO_READY = 1, TVN_IO_STOPPED = 2 };

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT) or stop_fd (-1: none)
 * is readable; returns the TVN_IO_* bits seen, or -errno. An error or hang-up
 * on fd counts as ready: the read or write that follows reports it.
 */
int tvn_io__wait(int fd, short events, int stop_fd);
/*
 * Whether a write to fd may wait for another process (a pipe, a socket, a
 * terminal) rather than complete or fail at once (a file, /dev/null).
 */
bool tvn_io__may_block(int fd);
/*
 * Writes all of iov to fd; 0 or -errno. With may_block, the write waits for
 * room in slices of PIPE_BUF (a slice fits in the room poll reports, so no
 * write blocks), and gives up with -ECANCELED once stop_fd is readable and
 * fd has no room: a stopping host does not wait for a reader that is gone.
 */
int tvn_io__write(int fd, int stop_fd, bool may_block, const struct iovec *iov, int iovcnt);

/* A line reader on a descriptor it borrows. */
struct tvn_lines {
	int fd;
	int stop_fd;	 /* readable once the host stops; -1: none */
	size_t max_line; /* the longest line taken, its terminator excluded */
	uint8_t *buf;	 /* owned */
	size_t cap;
	size_t pos, len; /* unread bytes: buf[pos, len) */
	size_t scanned;	 /* buf[pos, scanned) holds no newline */
	bool skipping;	 /* inside a line too long, discarding up to its newline */
	bool eof;
};

void tvn_lines__init(struct tvn_lines *r, int fd, int stop_fd, size_t max_line);
/*
 * The next line, without its '\n', NUL-terminated in the reader's buffer
 * (valid until the next call; it may hold NUL bytes of its own): returns 1
 * and sets *line and *len. Returns 0 at the end of input; -EMSGSIZE for a
 * line longer than max_line, which is skipped (the next call resumes after
 * its newline, reading no more of it than one buffer at a time);
 * -ECANCELED once stop_fd is readable; -errno when a read fails.
 */
int tvn_lines__next(struct tvn_lines *r, char **line, size_t *len);
void tvn_lines__fini(struct tvn_lines *r);

#endif /* TORVYN_HOST_IO_H */
