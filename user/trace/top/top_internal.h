/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the files of top/ share. */
#ifndef TORVYN_TOP_INTERNAL_H
#define TORVYN_TOP_INTERNAL_H

#include <stddef.h>

/*
 * The index of the entry named id among n entries of sz bytes, each starting
 * with its id (char *), trying hint first; -1 if none.
 */
int tvn_top__find(const void *base, int n, size_t sz, int hint, const char *id);

#endif /* TORVYN_TOP_INTERNAL_H */
