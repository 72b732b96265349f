// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The main of probe_host.c: linked with it, or with libprobehost.so holding
 * it. Its own abi__version site (a literal, no semaphore) fires once at
 * start: in probe_host_shared the executable and the shared object both
 * carry torvyn probes, and the tracer must attach both. Built with
 * PROBE_HOST_MAIN_NO_SITE (probe_host_embedded) the executable has none:
 * the runtime's probes are only in the library.
 */
#include <sys/sdt.h>

#include <linux/types.h>

#include "torvyn_abi.h"

int probe_host_run(int argc, char **argv);

int main(int argc, char **argv)
{
#ifndef PROBE_HOST_MAIN_NO_SITE
	DTRACE_PROBE1(torvyn, abi__version, TORVYN_PROBE_ABI_VERSION);
#endif
	return probe_host_run(argc, argv);
}
