/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control channel of an attach session: an abstract Unix socket named
 * after the target PID ("@torvyn-trace/PID"), so `torvyn-trace level` finds
 * the session without files to clean up. One request line, one reply line:
 * "level off|production|diagnostic" -> "ok LEVEL SWITCH_NS" or "err CODE TEXT";
 * "status" -> "ok LEVEL".
 */
#ifndef TORVYN_CONTROL_H
#define TORVYN_CONTROL_H

#include <stddef.h>

/* Returns the listening fd, or -EADDRINUSE when a session serves pid already. */
int control__listen(int pid);

/* Sends one request to the session of pid; -ECONNREFUSED/-ENOENT when none. */
int control__request(int pid, const char *req, char *reply, size_t len);

/* Reads one request line from an accepted connection (with a timeout). */
int control__read_line(int fd, char *buf, size_t len);

#endif /* TORVYN_CONTROL_H */
