/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control channel of an attach session: an abstract Unix socket named
 * after the target PID ("@torvyn-trace/PID"), so `torvyn-trace level` finds
 * the session without files to clean up. One request line, one reply line:
 * "level off|production|diagnostic" -> "ok LEVEL SWITCH_NS" or
 * "err CAUSE TEXT" (CAUSE a tvn_cause__name()); "status" -> "ok LEVEL";
 * "scrape" -> "ok BYTES\n" followed by exactly BYTES bytes of the target's
 * Prometheus text (what its render callback gives), or one "err" line.
 */
#ifndef TORVYN_CONTROL_H
#define TORVYN_CONTROL_H

#include <stddef.h>

/* The largest scrape body a client accepts. */
#define TVN_CONTROL_SCRAPE_MAX (64u << 20)

struct tvn_session;

/* Returns the listening fd, or -EADDRINUSE when a session serves pid already. */
int tvn_control__listen(int pid);

/* What a control socket serves: one target's session and its metrics. */
struct tvn_control_ops {
	struct tvn_session *session; /* level requests switch it */
	/* this target's metrics as Prometheus text: 0 and a malloc'd body, or -errno */
	int (*render)(void *ctx, char **body, size_t *len);
	void *ctx;
	/*
	 * Who may connect: root and the tracer's own user always; members of
	 * this group too (-1: no group). Others get an "err permission" reply.
	 */
	int allow_gid;
};

/* Answers every pending request on the listening fd lfd. */
void tvn_control__serve(int lfd, const struct tvn_control_ops *ops);

/* Sends one request to the session of pid; -ECONNREFUSED/-ENOENT when none. */
int tvn_control__request(int pid, const char *req, char *reply, size_t len);

/*
 * Scrapes the session of pid: 0 and a malloc'd, NUL-terminated body of len
 * bytes of Prometheus text (the caller frees it); -ECONNREFUSED/-ENOENT when
 * no session serves pid, -EOPNOTSUPP when it knows no "scrape", -EFBIG for a
 * body over TVN_CONTROL_SCRAPE_MAX, -EPROTO for a malformed or "err" reply,
 * -ETIMEDOUT.
 */
int tvn_control__scrape(int pid, char **body, size_t *len);

#endif /* TORVYN_CONTROL_H */
