/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Level names: "off", "production", "diagnostic" (or 0, 1, 2). */
#ifndef TORVYN_LEVEL_H
#define TORVYN_LEVEL_H

/* -> TORVYN_LEVEL_*, or -EINVAL if s names no level. */
int tvn_level__parse(const char *s);
/* The level's name; "?" if out of range. */
const char *tvn_level__name(int level);

#endif /* TORVYN_LEVEL_H */
