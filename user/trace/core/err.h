/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Errors of the tracer's modules: a function returns 0 or -errno, and where
 * the caller needs more than an errno it fills a struct tvn_err with the
 * cause and a message that names the cause and the fix. Only the command
 * line (cli/errors.c) turns a cause into an exit code.
 */
#ifndef TORVYN_ERR_H
#define TORVYN_ERR_H

#include <stddef.h>

/* Why something failed, as a user must act on it. */
enum tvn_cause {
	TVN_CAUSE_NONE,
	TVN_CAUSE_INTERNAL,    /* a bug or an unexpected system failure */
	TVN_CAUSE_USAGE,       /* a bad argument */
	TVN_CAUSE_NO_PROCESS,  /* no process with that PID (or it exited) */
	TVN_CAUSE_NO_PROBES,   /* the target has no torvyn probes */
	TVN_CAUSE_ABI,	       /* the target speaks another probe ABI */
	TVN_CAUSE_ADDR_IN_USE, /* an address (listen, control socket) is taken */
	TVN_CAUSE_PERMISSION,  /* not allowed: privileges missing */
	TVN_CAUSE_NO_SESSION,  /* no attach session serves that PID */
	TVN_CAUSE_KERNEL,      /* the kernel lacks BPF, uprobes, uprobe_multi or BTF */
	TVN_CAUSE_EXPORT,      /* bad exporter settings */
	TVN_CAUSE_UNREACHABLE, /* a remote endpoint (an agent's /metrics) does not answer */
	TVN_CAUSE_CONTRACT,    /* the target's probes cannot be traced as built: an argument, a gate */
	TVN_CAUSE_COUNT,
};

struct tvn_err {
	enum tvn_cause cause;
	char msg[512];
};

/*
 * Sets e (may be NULL) to cause and the formatted message. Returns err, a
 * negative errno, so that `return tvn_err__set(e, ...);` reads as one step.
 */
int tvn_err__set(struct tvn_err *e, enum tvn_cause cause, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The cause of a failed BPF operation (open, load, attach), with a message
 * naming what failed and what to do; err is -errno or errno.
 */
int tvn_err__bpf(struct tvn_err *e, int err, const char *what);

/* The cause's short name ("no-process"), as the control channel sends it. */
const char *tvn_cause__name(enum tvn_cause cause);
/* The cause of a short name; TVN_CAUSE_INTERNAL if unknown. */
enum tvn_cause tvn_cause__parse(const char *name);

#endif /* TORVYN_ERR_H */
