// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "control_server.h"
#include "log.h"

struct entry {
	int lfd;
	struct tvn_control_ops ops;
};

struct tvn_control_server {
	pthread_t thread;
	int wake; /* eventfd: the set changed, or stop */
	/*
	 * Held while the set changes and while a request is answered, so that
	 * remove() returns only once no request of its socket is in progress.
	 */
	pthread_mutex_t lock;
	struct entry *e;
	int n, cap;
	bool stop;
};

/* The set to poll: the wake fd, then each socket; NULL on no memory. */
static struct pollfd *poll_set(struct tvn_control_server *cs, int *n)
{
	struct pollfd *p;

	pthread_mutex_lock(&cs->lock);
	*n = cs->n + 1;
	p = calloc(*n, sizeof(*p));
	if (p) {
		p[0] = (struct pollfd){.fd = cs->wake, .events = POLLIN};
		for (int i = 0; i < cs->n; i++)
			p[i + 1] = (struct pollfd){.fd = cs->e[i].lfd, .events = POLLIN};
	}
	pthread_mutex_unlock(&cs->lock);
	return p;
}

/* Answers the requests waiting on lfd, if it is still served. */
static void serve(struct tvn_control_server *cs, int lfd)
{
	pthread_mutex_lock(&cs->lock);
	for (int i = 0; i < cs->n; i++) {
		if (cs->e[i].lfd == lfd) {
			tvn_control__serve(lfd, &cs->e[i].ops);
			break;
		}
	}
	pthread_mutex_unlock(&cs->lock);
}

static void *run(void *arg)
{
	struct tvn_control_server *cs = arg;

	for (;;) {
		uint64_t v;
		int n;
		struct pollfd *p = poll_set(cs, &n);

		if (!p) {
			usleep(100000);
			continue;
		}
		if (poll(p, n, -1) < 0 && errno != EINTR) {
			pr_warn("control: poll: %s\n", strerror(errno));
			usleep(100000);
		}
		if (p[0].revents & POLLIN) {
			if (read(cs->wake, &v, sizeof(v)) < 0)
				pr_debug("control: wake: %s\n", strerror(errno));
		}
		for (int i = 1; i < n; i++) {
			if (p[i].revents & POLLIN)
				serve(cs, p[i].fd);
		}
		free(p);
		pthread_mutex_lock(&cs->lock);
		if (cs->stop) {
			pthread_mutex_unlock(&cs->lock);
			return NULL;
		}
		pthread_mutex_unlock(&cs->lock);
	}
}

static void wake(struct tvn_control_server *cs)
{
	uint64_t one = 1;

	if (write(cs->wake, &one, sizeof(one)) < 0)
		pr_debug("control: wake: %s\n", strerror(errno));
}

struct tvn_control_server *tvn_control_server__new(void)
{
	struct tvn_control_server *cs = calloc(1, sizeof(*cs));
	int e;

	if (!cs)
		return NULL;
	pthread_mutex_init(&cs->lock, NULL);
	cs->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cs->wake < 0)
		goto err;
	e = pthread_create(&cs->thread, NULL, run, cs);
	if (e) {
		close(cs->wake);
		errno = e;
		goto err;
	}
	return cs;
err:
	e = errno;
	pthread_mutex_destroy(&cs->lock);
	free(cs);
	errno = e;
	return NULL;
}

void tvn_control_server__free(struct tvn_control_server *cs)
{
	if (!cs)
		return;
	pthread_mutex_lock(&cs->lock);
	cs->stop = true;
	pthread_mutex_unlock(&cs->lock);
	wake(cs);
	pthread_join(cs->thread, NULL);
	close(cs->wake);
	pthread_mutex_destroy(&cs->lock);
	free(cs->e);
	free(cs);
}

int tvn_control_server__add(struct tvn_control_server *cs, int lfd,
			    const struct tvn_control_ops *ops)
{
	int rc = 0;

	pthread_mutex_lock(&cs->lock);
	if (cs->n == cs->cap) {
		struct entry *e = realloc(cs->e, (cs->cap * 2 + 8) * sizeof(*e));

		if (e) {
			cs->e = e;
			cs->cap = cs->cap * 2 + 8;
		} else {
			rc = -ENOMEM;
		}
	}
	if (!rc)
		cs->e[cs->n++] = (struct entry){.lfd = lfd, .ops = *ops};
	pthread_mutex_unlock(&cs->lock);
	wake(cs);
	return rc;
}

void tvn_control_server__remove(struct tvn_control_server *cs, int lfd)
{
	pthread_mutex_lock(&cs->lock);
	for (int i = 0; i < cs->n; i++) {
		if (cs->e[i].lfd == lfd) {
			cs->e[i] = cs->e[--cs->n];
			break;
		}
	}
	pthread_mutex_unlock(&cs->lock);
	wake(cs);
}
