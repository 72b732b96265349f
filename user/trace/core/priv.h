/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege. Attaching needs CAP_BPF and CAP_PERFMON (BPF programs,
 * uprobe_multi links), CAP_SYS_PTRACE (another user's /proc/PID/root and
 * environment) and CAP_DAC_READ_SEARCH (an executable only its owner may
 * read); a level switch attaches again, so a session keeps these four. A
 * tracer started as full root drops every other capability once it has
 * attached and bound its sockets.
 */
#ifndef TORVYN_PRIV_H
#define TORVYN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

/* The capabilities a session keeps, as a capability bit mask. */
uint64_t tvn_priv__session_caps(void);

/*
 * Reduces the calling thread's capabilities (effective, permitted,
 * inheritable, bounding set where allowed) to those of
 * tvn_priv__session_caps() and extra (a mask, e.g. CAP_NET_BIND_SERVICE for
 * a privileged port), or fewer if it had fewer. Capabilities are per thread:
 * call it before starting threads, which inherit it. Returns 0 or -errno.
 */
int tvn_priv__drop(uint64_t extra);

/*
 * tvn_priv__drop() for a verb that will listen on listen ("HOST:PORT": a port
 * below 1024 keeps CAP_NET_BIND_SERVICE) and, with writes_files, write
 * textfiles or an OTLP file (keeps CAP_DAC_OVERRIDE). A failure is logged:
 * the tracer goes on with what it has.
 */
void tvn_priv__drop_for(const char *listen, bool writes_files);

/* The capabilities of the calling thread: effective, as a mask. */
uint64_t tvn_priv__effective(void);

#endif /* TORVYN_PRIV_H */
