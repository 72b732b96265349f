// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/host/io.c: lines read, records written, errors and stops reported. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "io.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A temporary file holding len bytes of data, open for reading. */
static int file_with(const void *data, size_t len)
{
	char path[] = "/tmp/torvyn-io-test.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void expect_line(struct tvn_lines *r, const char *want)
{
	char *line = NULL;
	size_t len = 0;

	assert_int_equal(tvn_lines__next(r, &line, &len), 1);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	assert_int_equal(line[len], '\0');
}

static void expect_rc(struct tvn_lines *r, int want)
{
	char *line;
	size_t len;

	assert_int_equal(tvn_lines__next(r, &line, &len), want);
}

/* Lines end at '\n'; an empty line is a line; the last may have no newline. */
static void test_lines_split(void **state)
{
	static const char text[] = "alpha\nbb\n\nlast";
	struct tvn_lines r;
	int fd = file_with(text, sizeof(text) - 1);

	(void)state;
	tvn_lines__init(&r, fd, -1, 100);
	expect_line(&r, "alpha");
	expect_line(&r, "bb");
	expect_line(&r, "");
	expect_line(&r, "last");
	expect_rc(&r, 0);
	expect_rc(&r, 0);
	tvn_lines__fini(&r);
	close(fd);
}

/*
 * max_line bytes are a line, one more is not: the line is reported once and
 * skipped whether it fits in one read or spans many (the skipping path).
 */
static void test_lines_too_long(void **state)
{
	size_t big = 300000, n = 0;
	char *text = malloc(2 * big + 64);
	struct tvn_lines r;
	int fd;

	(void)state;
	n += (size_t)sprintf(text + n, "0123456789\n");	 /* exactly max_line */
	n += (size_t)sprintf(text + n, "0123456789A\n"); /* one byte too many, one read */
	n += (size_t)sprintf(text + n, "ok\n");
	memset(text + n, 'x', big); /* many reads */
	n += big;
	n += (size_t)sprintf(text + n, "\nend\n");
	memset(text + n, 'y', big); /* too long and unterminated */
	n += big;
	fd = file_with(text, n);
	tvn_lines__init(&r, fd, -1, 10);
	expect_line(&r, "0123456789");
	expect_rc(&r, -EMSGSIZE);
	expect_line(&r, "ok");
	expect_rc(&r, -EMSGSIZE);
	expect_line(&r, "end");
	expect_rc(&r, -EMSGSIZE);
	expect_rc(&r, 0);
	/* the buffer never held much more than the longest line and one read */
	assert_true(r.cap <= 10 + 65536 + 1);
	tvn_lines__fini(&r);
	close(fd);
	free(text);
}

/* A descriptor that cannot be read (a directory) is an error, not an end. */
static void test_lines_read_error(void **state)
{
	struct tvn_lines r;
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(fd >= 0);
	tvn_lines__init(&r, fd, -1, 100);
	expect_rc(&r, -EISDIR);
	tvn_lines__fini(&r);
	close(fd);
}

struct poke {
	int fd;
	unsigned int after_ms;
};

static void *poke_later(void *arg)
{
	const struct poke *p = arg;
	uint64_t one = 1;

	usleep(p->after_ms * 1000);
	assert_int_equal(write(p->fd, &one, sizeof(one)), sizeof(one));
	return NULL;
}

/* A read blocked on an empty pipe, or reading an endless line, gives up when stop is raised. */
static void test_lines_stop(void **state)
{
	int stop = eventfd(0, EFD_CLOEXEC), p[2], zero = open("/dev/zero", O_RDONLY);
	struct poke poke = {.fd = stop, .after_ms = 30};
	struct tvn_lines r;
	pthread_t t;
	uint64_t t0;

	(void)state;
	assert_true(stop >= 0 && zero >= 0);
	assert_int_equal(pipe(p), 0);
	tvn_lines__init(&r, p[0], stop, 100);
	assert_int_equal(pthread_create(&t, NULL, poke_later, &poke), 0);
	t0 = now_ms();
	expect_rc(&r, -ECANCELED);
	assert_true(now_ms() - t0 < 1000);
	pthread_join(t, NULL);
	tvn_lines__fini(&r);
	close(stop);

	/* /dev/zero: one line, too long, then skipped until the stop */
	stop = eventfd(0, EFD_CLOEXEC);
	poke.fd = stop;
	tvn_lines__init(&r, zero, stop, 1 << 20);
	expect_rc(&r, -EMSGSIZE);
	assert_int_equal(pthread_create(&t, NULL, poke_later, &poke), 0);
	t0 = now_ms();
	expect_rc(&r, -ECANCELED);
	assert_true(now_ms() - t0 < 1000);
	pthread_join(t, NULL);
	assert_true(r.cap <= (1 << 20) + 65536 + 1);
	tvn_lines__fini(&r);
	close(stop);
	close(zero);
	close(p[0]);
	close(p[1]);
}

static void test_may_block(void **state)
{
	int p[2], null = open("/dev/null", O_WRONLY), file = file_with("x", 1);

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_true(tvn_io__may_block(p[1]));
	assert_false(tvn_io__may_block(null));
	assert_false(tvn_io__may_block(file));
	close(p[0]);
	close(p[1]);
	close(null);
	close(file);
}

/* /dev/full fails every write: the caller hears of it at once. */
static void test_write_full(void **state)
{
	int fd = open("/dev/full", O_WRONLY);
	struct iovec iov[2] = {{.iov_base = "abc", .iov_len = 3}, {.iov_base = "\n", .iov_len = 1}};

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(tvn_io__write(fd, -1, tvn_io__may_block(fd), iov, 2), -ENOSPC);
	close(fd);
}

struct drain {
	int fd;
	size_t got;
	uint8_t *buf;
};

static void *drain_pipe(void *arg)
{
	struct drain *d = arg;
	ssize_t n;

	while ((n = read(d->fd, d->buf + d->got, 1 << 16)) > 0)
		d->got += (size_t)n;
	return NULL;
}

/* A record larger than the pipe goes through whole, in slices, while it is read. */
static void test_write_pipe_whole(void **state)
{
	size_t big = 1 << 20;
	uint8_t *payload = malloc(big);
	struct drain d = {.buf = malloc(big + (1 << 16) + 8)};
	int p[2], stop = eventfd(0, EFD_CLOEXEC);
	struct iovec iov[3] = {{.iov_base = "tp ", .iov_len = 3},
			       {.iov_base = payload, .iov_len = big},
			       {.iov_base = "\n", .iov_len = 1}};
	pthread_t t;

	(void)state;
	for (size_t i = 0; i < big; i++)
		payload[i] = (uint8_t)(i * 7);
	assert_int_equal(pipe(p), 0);
	d.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, drain_pipe, &d), 0);
	assert_int_equal(tvn_io__write(p[1], stop, true, iov, 3), 0);
	close(p[1]);
	pthread_join(t, NULL);
	assert_int_equal(d.got, big + 4);
	assert_memory_equal(d.buf, "tp ", 3);
	assert_memory_equal(d.buf + 3, payload, big);
	assert_int_equal(d.buf[big + 3], '\n');
	close(p[0]);
	close(stop);
	free(payload);
	free(d.buf);
}

/* A pipe nobody reads: the write waits, and gives up as soon as stop is raised. */
static void test_write_pipe_stop(void **state)
{
	int p[2], stop = eventfd(0, EFD_CLOEXEC), flags;
	struct poke poke = {.fd = stop, .after_ms = 30};
	char chunk[4096] = {0};
	struct iovec iov = {.iov_base = chunk, .iov_len = sizeof(chunk)};
	pthread_t t;
	uint64_t t0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	/* fill the pipe */
	flags = fcntl(p[1], F_GETFL);
	fcntl(p[1], F_SETFL, flags | O_NONBLOCK);
	while (write(p[1], chunk, sizeof(chunk)) > 0)
		;
	fcntl(p[1], F_SETFL, flags);
	assert_int_equal(pthread_create(&t, NULL, poke_later, &poke), 0);
	t0 = now_ms();
	assert_int_equal(tvn_io__write(p[1], stop, true, &iov, 1), -ECANCELED);
	assert_true(now_ms() - t0 >= 20 && now_ms() - t0 < 1000);
	pthread_join(t, NULL);
	close(p[0]);
	close(p[1]);
	close(stop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_split),	     cmocka_unit_test(test_lines_too_long),
	    cmocka_unit_test(test_lines_read_error), cmocka_unit_test(test_lines_stop),
	    cmocka_unit_test(test_may_block),	     cmocka_unit_test(test_write_full),
	    cmocka_unit_test(test_write_pipe_whole), cmocka_unit_test(test_write_pipe_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
