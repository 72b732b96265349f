/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the prom unit tests share: the family catalogue as the tests expect
 * it, a hand-built snapshot, renderings and line checks (prom_fixture.c),
 * and an exposition checker (prom_check.c).
 */
#ifndef TORVYN_TEST_PROM_FIXTURE_H
#define TORVYN_TEST_PROM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prom.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every family of the catalogue, in exposition order, by its OpenMetrics name. */
struct want_fam {
	const char *name;
	const char *type; /* OpenMetrics type */
	const char *unit;
};

/* Every family of the catalogue, in exposition order, by its OpenMetrics name. */
extern const struct want_fam want_fams[];
extern const size_t n_want_fams;

#define N_SELF_FAMS 23

void set_name(char dst[TORVYN_NAME_LEN], const char *src);

/*
 * The hand-built snapshot: flow "f1" (src -> sink through stream "src->sink"),
 * pool, system, diagnostic entries and tracer figures, all with known values.
 */
struct tvn_snapshot *sample_snapshot(void);
void free_snapshot(struct tvn_snapshot *s); /* its flows and transfers too */
uint64_t hist_bucket_sum(const struct torvyn_hist_lat *h);
uint64_t mono_ns(void);

/* Where the test binary lives, where the repository is (find_dirs()). */
struct dirs {
	char out[PATH_MAX];
	char repo[PATH_MAX];
};

/* The directories of the test binary argv0; d keeps what it had when that fails. */
void find_dirs(const char *argv0, struct dirs *d);

/* The rendering of s (asserted to succeed); caller frees. */
char *render(const struct tvn_snapshot *s, bool om);

/* True when text has exactly this line. */
bool has_line(const char *text, const char *line);
void assert_linef(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int count_substr(const char *text, const char *sub);

#define assert_line(text, line)                                                                    \
	do {                                                                                       \
		if (!has_line((text), (line)))                                                     \
			fail_msg("missing line: %s", (line));                                      \
	} while (0)

#define assert_no_line(text, line)                                                                 \
	do {                                                                                       \
		if (has_line((text), (line)))                                                      \
			fail_msg("unexpected line: %s", (line));                                   \
	} while (0)

/* ------------------------------------------------------------ prom_check.c */

#define MAX_FAMS 128

struct pfam {
	char name[128];
	char type[16];
	bool help, typed, unit, closed;
};

struct parsed {
	int n;
	struct pfam f[MAX_FAMS];
	char err[512];
};

/*
 * Checks what a scraper relies on: every sample's family has HELP and TYPE
 * before it, families are contiguous, counters carry _total exactly once
 * (on the 0.0.4 TYPE and on every OpenMetrics sample), UNIT is a suffix of
 * its family, and OpenMetrics ends with "# EOF". Returns 0 or -1 with p->err.
 */
int check_exposition(const char *text, bool om, struct parsed *p);

/* check_exposition() passes, else the test fails with its message. */
void assert_valid(const char *text, bool om);

#endif /* TORVYN_TEST_PROM_FIXTURE_H */
