// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one table from causes to exit codes. */
#include "exitcodes.h"
#include "log.h"

static const unsigned char exit_of[TVN_CAUSE_COUNT] = {
    [TVN_CAUSE_NONE] = TVN_EXIT_OK,
    [TVN_CAUSE_INTERNAL] = TVN_EXIT_INTERNAL,
    [TVN_CAUSE_USAGE] = TVN_EXIT_USAGE,
    [TVN_CAUSE_NO_PROCESS] = TVN_EXIT_NO_PROCESS,
    [TVN_CAUSE_NO_PROBES] = TVN_EXIT_NO_PROBES,
    [TVN_CAUSE_ABI] = TVN_EXIT_ABI,
    [TVN_CAUSE_ADDR_IN_USE] = TVN_EXIT_ADDR_IN_USE,
    [TVN_CAUSE_PERMISSION] = TVN_EXIT_PERMISSION,
    [TVN_CAUSE_NO_SESSION] = TVN_EXIT_NO_SESSION,
    [TVN_CAUSE_KERNEL] = TVN_EXIT_KERNEL,
    [TVN_CAUSE_EXPORT] = TVN_EXIT_EXPORT,
    [TVN_CAUSE_UNREACHABLE] = TVN_EXIT_UNREACHABLE,
    [TVN_CAUSE_CONTRACT] = TVN_EXIT_CONTRACT,
};

int tvn_cli__exit_code(enum tvn_cause cause)
{
	return cause >= 0 && cause < TVN_CAUSE_COUNT ? exit_of[cause] : TVN_EXIT_INTERNAL;
}

int tvn_cli__fail(const struct tvn_err *e)
{
	pr_warn("%s\n", e->msg);
	return tvn_cli__exit_code(e->cause);
}
