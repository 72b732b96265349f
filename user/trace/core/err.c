// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

static const char *const cause_names[TVN_CAUSE_COUNT] = {
    [TVN_CAUSE_NONE] = "none",
    [TVN_CAUSE_INTERNAL] = "internal",
    [TVN_CAUSE_USAGE] = "usage",
    [TVN_CAUSE_NO_PROCESS] = "no-process",
    [TVN_CAUSE_NO_PROBES] = "no-probes",
    [TVN_CAUSE_ABI] = "abi",
    [TVN_CAUSE_ADDR_IN_USE] = "addr-in-use",
    [TVN_CAUSE_PERMISSION] = "permission",
    [TVN_CAUSE_NO_SESSION] = "no-session",
    [TVN_CAUSE_KERNEL] = "kernel",
    [TVN_CAUSE_EXPORT] = "export",
    [TVN_CAUSE_UNREACHABLE] = "unreachable",
    [TVN_CAUSE_CONTRACT] = "contract",
};

int tvn_err__set(struct tvn_err *e, enum tvn_cause cause, int err, const char *fmt, ...)
{
	va_list ap;

	if (err > 0)
		err = -err;
	if (!e)
		return err;
	e->cause = cause;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err;
}

int tvn_err__bpf(struct tvn_err *e, int err, const char *what)
{
	err = err < 0 ? -err : err;
	if (err == EACCES && geteuid() == 0)
		return tvn_err__set(e, TVN_CAUSE_KERNEL, err,
				    "%s: the kernel's BPF verifier rejected the programs: run with "
				    "-v for its log and report it",
				    what);
	if (err == EPERM || err == EACCES)
		return tvn_err__set(e, TVN_CAUSE_PERMISSION, err,
				    "%s: permission denied: run torvyn-trace as root (it needs "
				    "CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)",
				    what);
	if (err == ENOSYS || err == EOPNOTSUPP || err == EINVAL || err == ENOENT)
		return tvn_err__set(e, TVN_CAUSE_KERNEL, err,
				    "%s: %s: this kernel lacks what torvyn-trace needs (BPF, "
				    "uprobes, uprobe_multi links: Linux >= 6.6 with CONFIG_UPROBES "
				    "and BTF)",
				    what, strerror(err));
	return tvn_err__set(e, TVN_CAUSE_INTERNAL, err, "%s: %s", what, strerror(err));
}

const char *tvn_cause__name(enum tvn_cause cause)
{
	return cause >= 0 && cause < TVN_CAUSE_COUNT ? cause_names[cause] : "internal";
}

enum tvn_cause tvn_cause__parse(const char *name)
{
	for (int i = 0; i < TVN_CAUSE_COUNT; i++) {
		if (!strcmp(cause_names[i], name))
			return (enum tvn_cause)i;
	}
	return TVN_CAUSE_INTERNAL;
}
