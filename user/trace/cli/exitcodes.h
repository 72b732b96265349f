/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace exit codes, one per cause (README.md, "Exit codes"). Only the
 * command line knows them: modules report a struct tvn_err, and
 * tvn_cli__exit_code() maps its cause through one table (cli/errors.c).
 */
#ifndef TORVYN_EXITCODES_H
#define TORVYN_EXITCODES_H

enum tvn_exit {
	TVN_EXIT_OK = 0,
	TVN_EXIT_INTERNAL = 1,	  /* a bug or an unexpected system failure */
	TVN_EXIT_USAGE = 2,	  /* bad command line */
	TVN_EXIT_REGRESSION = 3,  /* bench --compare found a regression (as upstream Torvyn) */
	TVN_EXIT_NO_PROCESS = 4,  /* no process with that PID */
	TVN_EXIT_NO_PROBES = 5,	  /* the target has no torvyn probes */
	TVN_EXIT_ABI = 6,	  /* the target speaks another probe ABI version */
	TVN_EXIT_ADDR_IN_USE = 7, /* --listen address taken */
	TVN_EXIT_PERMISSION = 8,  /* not root / no CAP_BPF+CAP_PERFMON+CAP_SYS_PTRACE */
	TVN_EXIT_NO_SESSION = 9,  /* level: no attach session serves that PID */
	TVN_EXIT_KERNEL = 10,	  /* the kernel lacks BPF, uprobes, uprobe_multi or BTF */
	TVN_EXIT_EXPORT = 11,	  /* bad exporter settings (OTLP endpoint, textfile dir) */
	TVN_EXIT_UNREACHABLE = 12, /* top --agent: the agent does not answer */
	TVN_EXIT_CONTRACT = 13,	   /* the target's probes cannot be traced as built (names which, why) */
};

#include "err.h"

/* The exit code of a cause. */
int tvn_cli__exit_code(enum tvn_cause cause);

/* Prints e's message (as a warning) and returns its exit code. */
int tvn_cli__fail(const struct tvn_err *e);

#endif /* TORVYN_EXITCODES_H */
