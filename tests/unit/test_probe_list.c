// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The probe contract is written once, in usdt/torvyn.d: the ids, names and
 * argument counts the host, the BPF programs and the tracer use must be
 * exactly its probes, in its order. This test reads torvyn.d on its own (a
 * parser independent of tools/probe-list.awk) and compares.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>

#include "torvyn_abi.h"
#include "torvyn_bpf.h"
#include "torvyn_names.h"
#include "torvyn_probes.h"

struct d_probe {
	char name[64];
	int nargs;
};

/* Reads every `probe NAME(ARGS);` of torvyn.d; returns how many. */
static int read_d(const char *path, struct d_probe *out, int max)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *open, *close;

		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, "probe ", 6))
			continue;
		p += 6;
		open = strchr(p, '(');
		close = open ? strchr(open, ')') : NULL;
		assert_non_null(close);
		assert_true(n < max);
		snprintf(out[n].name, sizeof(out[n].name), "%.*s", (int)(open - p), p);
		out[n].nargs = 0;
		for (char *a = open + 1; a < close; a++) {
			if (!isspace((unsigned char)*a) && !out[n].nargs)
				out[n].nargs = 1;
			if (*a == ',')
				out[n].nargs++;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void test_list_matches_torvyn_d(void **state)
{
	struct d_probe d[64];
	int n = read_d("usdt/torvyn.d", d, 64);

	(void)state;
	assert_int_equal(n, TVN_P_COUNT);
	for (int i = 0; i < n; i++) {
		assert_string_equal(torvyn_probe_names[i], d[i].name);
		assert_int_equal(torvyn_probe_nargs[i], d[i].nargs);
	}
}

/* Each probe of the list has a site macro and a semaphore test in the dtrace header. */
static void test_every_probe_has_a_site(void **state)
{
	int enabled = 0;

	(void)state;
#define TVN__HAS_SITE(id, name, nargs, family) enabled += !!TORVYN_##id##_ENABLED();
	TORVYN_PROBE_LIST(TVN__HAS_SITE)
#undef TVN__HAS_SITE
	/* nothing links the semaphores' probes here: no tracer, all zero */
	assert_int_equal(enabled, 0);
	assert_int_equal(torvyn_probes__any(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_matches_torvyn_d),
		cmocka_unit_test(test_every_probe_has_a_site),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
