/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* node_exporter textfile collector output, written atomically. */
#ifndef TORVYN_TEXTFILE_H
#define TORVYN_TEXTFILE_H

#include <stddef.h>

/*
 * Writes buf to DIR/torvyn-PID.prom through a temporary file in DIR and a
 * rename, so the collector never reads half a file. Returns 0 or -errno.
 */
int tvn_textfile__write(const char *dir, int pid, const char *buf, size_t len);

/* The same, as DIR/name (name ends in .prom). */
int tvn_textfile__write_named(const char *dir, const char *name, const char *buf, size_t len);

/* Checks that dir exists and is writable: 0 or -errno. */
int tvn_textfile__check_dir(const char *dir);

#endif /* TORVYN_TEXTFILE_H */
