/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The verbs of torvyn-trace, one cmd_<verb>.c each. Each returns an exit code. */
#ifndef TORVYN_COMMANDS_H
#define TORVYN_COMMANDS_H

int tvn_cli__attach(int argc, char **argv);
int tvn_cli__level(int argc, char **argv);
int tvn_cli__probes(int argc, char **argv);
int tvn_cli__bench(int argc, char **argv);
int tvn_cli__agent(int argc, char **argv);
int tvn_cli__top(int argc, char **argv);

#endif /* TORVYN_COMMANDS_H */
