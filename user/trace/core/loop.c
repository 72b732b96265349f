// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "loop.h"

struct loop_session {
	struct tvn_session *s;
	struct tvn_loop_session_ops ops;
	void *ctx;
	int pidfd; /* -1 once the target exited */
	bool removed;
};

struct loop_fd {
	int fd; /* -1: removed */
	tvn_loop_fd_fn fn;
	void *ctx;
};

struct loop_timer {
	uint64_t next_ns, period_ns;
	tvn_loop_fn fn;
	void *ctx;
};

struct tvn_loop {
	struct loop_session *sessions;
	int n_sessions;
	struct loop_fd *fds;
	int n_fds;
	struct loop_timer *timers;
	int n_timers;
	bool stopping;
	struct pollfd *pfds; /* scratch: n_fds + n_sessions */
};

/* Grows *arr to hold n + 1 items of size sz. 0 or -ENOMEM. */
static int grow(void **arr, int n, size_t sz)
{
	void *p = realloc(*arr, (n + 1) * sz);

	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

struct tvn_loop *tvn_loop__new(void)
{
	return calloc(1, sizeof(struct tvn_loop));
}

void tvn_loop__free(struct tvn_loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n_sessions; i++) {
		if (l->sessions[i].pidfd >= 0)
			close(l->sessions[i].pidfd);
	}
	free(l->sessions);
	free(l->fds);
	free(l->timers);
	free(l->pfds);
	free(l);
}

int tvn_loop__add_session(struct tvn_loop *l, struct tvn_session *s,
			  const struct tvn_loop_session_ops *ops, void *ctx, struct tvn_err *e)
{
	int pid = tvn_session__pid(s), pidfd;
	struct loop_session *ls;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return tvn_err__set(e, errno == ESRCH ? TVN_CAUSE_NO_PROCESS : TVN_CAUSE_KERNEL,
				    -errno, "pid %d: pidfd_open: %s", pid, strerror(errno));
	if (grow((void **)&l->sessions, l->n_sessions, sizeof(*l->sessions))) {
		close(pidfd);
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	}
	ls = &l->sessions[l->n_sessions++];
	memset(ls, 0, sizeof(*ls));
	ls->s = s;
	if (ops)
		ls->ops = *ops;
	ls->ctx = ctx;
	ls->pidfd = pidfd;
	return 0;
}

void tvn_loop__remove_session(struct tvn_loop *l, struct tvn_session *s)
{
	for (int i = 0; i < l->n_sessions; i++) {
		if (l->sessions[i].s == s)
			l->sessions[i].removed = true;
	}
}

int tvn_loop__add_fd(struct tvn_loop *l, int fd, tvn_loop_fd_fn fn, void *ctx)
{
	if (grow((void **)&l->fds, l->n_fds, sizeof(*l->fds)))
		return -ENOMEM;
	l->fds[l->n_fds++] = (struct loop_fd){.fd = fd, .fn = fn, .ctx = ctx};
	return 0;
}

void tvn_loop__remove_fd(struct tvn_loop *l, int fd)
{
	for (int i = 0; i < l->n_fds; i++) {
		if (l->fds[i].fd == fd)
			l->fds[i].fd = -1;
	}
}

int tvn_loop__add_timer(struct tvn_loop *l, uint64_t first_ns, uint64_t period_ns, tvn_loop_fn fn,
			void *ctx)
{
	if (grow((void **)&l->timers, l->n_timers, sizeof(*l->timers)))
		return -ENOMEM;
	l->timers[l->n_timers++] = (struct loop_timer){
	    .next_ns = tvn_time__mono_ns() + first_ns, .period_ns = period_ns, .fn = fn, .ctx = ctx};
	return 0;
}

void tvn_loop__stop(struct tvn_loop *l)
{
	l->stopping = true;
}

/* Drops the sessions and fds removed during the last tick. */
static void compact(struct tvn_loop *l)
{
	int kept = 0;

	for (int i = 0; i < l->n_fds; i++) {
		if (l->fds[i].fd >= 0)
			l->fds[kept++] = l->fds[i];
	}
	l->n_fds = kept;
	kept = 0;

	for (int i = 0; i < l->n_sessions; i++) {
		if (!l->sessions[i].removed) {
			l->sessions[kept++] = l->sessions[i];
			continue;
		}
		if (l->sessions[i].pidfd >= 0)
			close(l->sessions[i].pidfd);
	}
	l->n_sessions = kept;
}

static void poll_sessions(struct tvn_loop *l)
{
	for (int i = 0; i < l->n_sessions; i++) {
		struct loop_session *ls = &l->sessions[i];

		if (ls->removed)
			continue;
		tvn_session__poll(ls->s);
		if (ls->ops.after_poll)
			ls->ops.after_poll(ls->ctx);
	}
}

static void target_exited(struct loop_session *ls)
{
	close(ls->pidfd);
	ls->pidfd = -1;
	tvn_session__target_exited(ls->s);
	if (ls->ops.target_exited)
		ls->ops.target_exited(ls->ctx);
}

static int tick(struct tvn_loop *l)
{
	int nf = l->n_fds, n;
	uint64_t now;

	if (grow((void **)&l->pfds, nf + l->n_sessions, sizeof(*l->pfds)))
		return -ENOMEM;
	for (int i = 0; i < nf; i++)
		l->pfds[i] = (struct pollfd){.fd = l->fds[i].fd, .events = POLLIN};
	for (int i = 0; i < l->n_sessions; i++)
		l->pfds[nf + i] = (struct pollfd){.fd = l->sessions[i].pidfd, .events = POLLIN};
	n = poll(l->pfds, nf + l->n_sessions, TVN_LOOP_TICK_MS);
	if (n < 0 && errno != EINTR)
		return -errno;
	poll_sessions(l);
	for (int i = 0; n > 0 && i < l->n_sessions; i++) {
		if (!l->sessions[i].removed && (l->pfds[nf + i].revents & POLLIN))
			target_exited(&l->sessions[i]);
	}
	for (int i = 0; n > 0 && i < nf; i++) {
		if (l->fds[i].fd >= 0 && l->fds[i].fd == l->pfds[i].fd &&
		    (l->pfds[i].revents & POLLIN))
			l->fds[i].fn(l->fds[i].ctx, l->fds[i].fd);
	}
	now = tvn_time__mono_ns();
	for (int i = 0; i < l->n_timers; i++) {
		if (now >= l->timers[i].next_ns) {
			l->timers[i].fn(l->timers[i].ctx);
			l->timers[i].next_ns = tvn_time__mono_ns() + l->timers[i].period_ns;
		}
	}
	compact(l);
	return 0;
}

int tvn_loop__run(struct tvn_loop *l, const volatile sig_atomic_t *stop)
{
	int rc = 0;

	while (!rc && !(stop && *stop) && !l->stopping)
		rc = tick(l);
	if (rc)
		pr_warn("event loop: %s\n", strerror(-rc));
	poll_sessions(l);
	return rc;
}
