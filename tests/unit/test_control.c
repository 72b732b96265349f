// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the control protocol's "scrape" (user/trace/serve/control.c):
 * the server sends exactly what its render callback gives, however large; the
 * client reads exactly BYTES bytes and refuses what is malformed, cut short,
 * or over 64 MiB; a signal caught while it waits does not cut the scrape.
 * The socket is named after a PID no process has (negative).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "control.h"
#include "session.h"

/* control.c answers level requests through the session: not used here. */
int tvn_session__level(struct tvn_session *s)
{
	(void)s;
	return 0;
}

int tvn_session__set_level(struct tvn_session *s, int level, uint64_t *ns, struct tvn_err *e)
{
	(void)s, (void)level, (void)ns, (void)e;
	return -ENOTSUP;
}

static int fake_pid(void)
{
	return -(int)getpid();
}

/* ------------------------------------------------------------ a client on its own thread */

struct client {
	pthread_t th;
	char *body;
	size_t len;
	int rc;
};

static void *scrape(void *arg)
{
	struct client *c = arg;

	c->rc = tvn_control__scrape(fake_pid(), &c->body, &c->len);
	return NULL;
}

static void client_start(struct client *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(pthread_create(&c->th, NULL, scrape, c), 0);
}

static void client_join(struct client *c)
{
	assert_int_equal(pthread_join(c->th, NULL), 0);
}

static void wait_connection(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};

	assert_int_equal(poll(&p, 1, 5000), 1);
}

/* ------------------------------------------------------------ the real server */

struct body {
	size_t len;
	int rc;
};

static int render(void *ctx, char **body, size_t *len)
{
	const struct body *b = ctx;

	if (b->rc)
		return b->rc;
	*body = malloc(b->len + 1);
	if (!*body)
		return -ENOMEM;
	for (size_t i = 0; i < b->len; i++)
		(*body)[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
	*len = b->len;
	return 0;
}

static void serve_one(const struct body *b, struct client *c)
{
	const struct tvn_control_ops ops = {.render = render, .ctx = (void *)b};
	int lfd = tvn_control__listen(fake_pid());

	assert_true(lfd >= 0);
	client_start(c);
	wait_connection(lfd);
	tvn_control__serve(lfd, &ops);
	client_join(c);
	close(lfd);
}

static void check_body(const struct client *c, size_t len)
{
	assert_int_equal(c->rc, 0);
	assert_int_equal(c->len, len);
	for (size_t i = 0; i < len; i++) {
		if (c->body[i] != ((i % 61 == 60) ? '\n' : (char)('a' + i % 26)))
			fail_msg("byte %zu differs", i);
	}
	assert_int_equal(c->body[len], '\0');
}

static void test_scrape_served(void **state)
{
	struct body b = {.len = 7};
	struct client c;

	(void)state;
	serve_one(&b, &c);
	check_body(&c, 7);
	free(c.body);
	/* far beyond a socket's buffer: written and read in many pieces */
	b.len = 3u << 20;
	serve_one(&b, &c);
	check_body(&c, b.len);
	free(c.body);
	/* an empty exposition is a body of 0 bytes */
	b.len = 0;
	serve_one(&b, &c);
	check_body(&c, 0);
	free(c.body);
}

static void test_scrape_render_fails(void **state)
{
	struct body b = {.rc = -ENOMEM};
	struct client c;

	(void)state;
	serve_one(&b, &c);
	assert_int_equal(c.rc, -EPROTO);
	assert_null(c.body);
}

/* ------------------------------------------------------------ scripted servers */

/* Accepts one client, reads its request, answers reply (n bytes), closes. */
static void answer_with(const char *reply, size_t n, struct client *c)
{
	int lfd = tvn_control__listen(fake_pid()), fd;
	char req[64] = "";

	assert_true(lfd >= 0);
	client_start(c);
	wait_connection(lfd);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_true(read(fd, req, sizeof(req) - 1) > 0);
	assert_string_equal(req, "scrape\n");
	assert_int_equal(send(fd, reply, n, MSG_NOSIGNAL), (ssize_t)n);
	close(fd);
	client_join(c);
	close(lfd);
}

static void expect_rc(const char *reply, int rc)
{
	struct client c;

	answer_with(reply, strlen(reply), &c);
	assert_int_equal(c.rc, rc);
	assert_null(c.body);
}

static void test_scrape_refused(void **state)
{
	struct client c;

	(void)state;
	/* 64 MiB is the limit: one byte more is refused before anything is read */
	expect_rc("ok 67108865\n", -EFBIG);
	expect_rc("ok 99999999999999999999\n", -EPROTO);
	/* cut short, malformed, or a server that knows no "scrape" */
	expect_rc("ok 10\nabc", -EPROTO);
	expect_rc("ok ten\n", -EPROTO);
	expect_rc("ok 10", -EPROTO);
	expect_rc("", -EPROTO);
	expect_rc("err usage unknown request 'scrape'\n", -EOPNOTSUPP);
	expect_rc("err internal cannot render metrics\n", -EPROTO);
	/* more bytes than announced: exactly BYTES are the body */
	answer_with("ok 3\nabcdef", 11, &c);
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.len, 3);
	assert_string_equal(c.body, "abc");
	free(c.body);
	/* no session at all */
	assert_int_equal(tvn_control__scrape(fake_pid(), &c.body, &c.len), -ECONNREFUSED);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Sends part of a reply to the client thread after a signal interrupted its wait. */
static void signal_then_send(int fd, struct client *c, const char *part)
{
	usleep(50000); /* the client is waiting by then */
	assert_int_equal(pthread_kill(c->th, SIGUSR1), 0);
	usleep(50000);
	assert_int_equal(send(fd, part, strlen(part), MSG_NOSIGNAL), (ssize_t)strlen(part));
}

/*
 * A signal the client's process catches (top's SIGWINCH on a resize, a stop
 * asked for) interrupts its wait for the head and for the body: neither is a
 * timeout, and the scrape gets the whole body.
 */
static void test_scrape_survives_signals(void **state)
{
	struct sigaction sa = {.sa_handler = on_usr1}, old; /* no SA_RESTART: EINTR */
	int lfd = tvn_control__listen(fake_pid()), fd;
	char req[64] = "";
	struct client c;

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	client_start(&c);
	wait_connection(lfd);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_true(read(fd, req, sizeof(req) - 1) > 0);
	signal_then_send(fd, &c, "ok 5\n");
	signal_then_send(fd, &c, "hello");
	close(fd);
	client_join(&c);
	close(lfd);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.len, 5);
	assert_string_equal(c.body, "hello");
	free(c.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scrape_served),
	    cmocka_unit_test(test_scrape_render_fails),
	    cmocka_unit_test(test_scrape_refused),
	    cmocka_unit_test(test_scrape_survives_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
