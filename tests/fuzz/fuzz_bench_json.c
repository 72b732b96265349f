// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The bench report loader (user/trace/bench/json.c): any bytes as a saved
 * report or baseline. What loads writes back as JSON that loads again and
 * writes back the same, byte for byte.
 */
#include <errno.h>

#include "fuzz.h"
#include "bench.h"
#include "bench_internal.h"

/* r written as JSON into a new malloc'd string. */
static char *write_json(const struct tvn_bench_report *r, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	FUZZ_CHECK(f, "open_memstream");
	FUZZ_CHECK(tvn_bench_json__write(r, f) == 0, "write a loaded report");
	fclose(f);
	return text;
}

/* Loads the report in data; returns what load returned. */
static int load(const void *data, size_t size, struct tvn_bench_report *r, char *err, size_t errlen)
{
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof(path)), ret;

	ret = tvn_bench_report__load(path, r, err, errlen);
	close(fd);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tvn_bench_report r, r2;
	char err[512], *t1, *t2;
	size_t n1, n2;
	int ret;

	ret = load(data, size, &r, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL, "returned %d", ret);
		FUZZ_CHECK(err[0], "no message");
		return 0;
	}
	t1 = write_json(&r, &n1);
	ret = load(t1, n1, &r2, err, sizeof(err));
	FUZZ_CHECK(ret == 0, "its own output does not load: %s\n%s", err, t1);
	t2 = write_json(&r2, &n2);
	FUZZ_CHECK(n1 == n2 && !memcmp(t1, t2, n1), "written twice, differs:\n%s\n%s", t1, t2);
	free(t1);
	free(t2);
	tvn_bench_report__free(&r);
	tvn_bench_report__free(&r2);
	return 0;
}
