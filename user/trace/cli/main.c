/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* torvyn-trace: kernel-assisted observability for Torvyn hosts. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "exitcodes.h"
#include <linux/types.h>

#include "torvyn_abi.h"

/* The Makefile passes VERSION (and git describe, when built from a clone). */
#ifndef TVN_VERSION
#define TVN_VERSION "unknown"
#endif

static const struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} verbs[] = {
    {"attach", tvn_cli__attach, "attach to a running host; serve /metrics, textfiles"},
    {"level", tvn_cli__level, "switch the level of a running attach session"},
    {"probes", tvn_cli__probes, "list the torvyn probes of a process or binary"},
    {"bench", tvn_cli__bench, "measure a host under load: throughput, latency, components"},
    {"agent", tvn_cli__agent, "trace every torvyn host on the node; one /metrics for all"},
    {"top", tvn_cli__top, "live view of a host or an agent's hosts: rates, p99, queues"},
    {"version", NULL, "print the version and the probe ABI version"},
};

static int version(void)
{
	printf("torvyn-trace %s, probe ABI %d\n", TVN_VERSION, TORVYN_PROBE_ABI_VERSION);
	return TVN_EXIT_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: torvyn-trace <command> [options]   (torvyn-trace <command> --help)\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	fprintf(out,
		"\nExamples:\n"
		"  torvyn-trace attach --pid $(pgrep -n torvyn-host)\n"
		"  torvyn-trace level --pid 1234 diagnostic\n"
		"  torvyn-trace probes --binary /usr/bin/torvyn-host -j\n"
		"  torvyn-trace top --pid 1234\n"
		"\nVersion %s, probe ABI %d.\nManual: man torvyn-trace (verbs, exit codes, "
		"environment, files);\n"
		"the probe contract: man 7 torvyn-probes.\n",
		TVN_VERSION, TORVYN_PROBE_ABI_VERSION);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TVN_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return TVN_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
		return version();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (verbs[i].fn && !strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "torvyn-trace: unknown command '%s' (try torvyn-trace --help)\n", argv[1]);
	return TVN_EXIT_USAGE;
}
