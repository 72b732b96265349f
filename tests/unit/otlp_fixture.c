// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the OTLP encoder and exporter tests share (otlp_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otlp_fixture.h"

void otlp_dirs__find(struct otlp_dirs *d, const char *argv0)
{
	char *slash;

	if (!realpath(argv0, d->out))
		return;
	slash = strrchr(d->out, '/');
	if (slash)
		*slash = '\0'; /* .../build/tests */
	snprintf(d->repo, sizeof(d->repo), "%s", d->out);
	for (int i = 0; i < 2; i++) {
		slash = strrchr(d->repo, '/');
		if (slash)
			*slash = '\0';
	}
}

void otlp_dirs__write(const struct otlp_dirs *d, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->out, name);
	f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s", path);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Google's protobuf runtime, from our .proto files, reads what we wrote: the
 * protobuf and the JSON must decode to the same message.
 */
void otlp_dirs__decode(const struct otlp_dirs *d, const char *args)
{
	char cmd[3 * PATH_MAX + 1024];
	int rc;

	if (system("command -v protoc >/dev/null 2>&1") != 0 ||
	    access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1") != 0)
		skip();
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/unit/otlp_decode.py' '%s' '%s' %s",
		 d->repo, d->repo, d->out, args);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("%s: exit status %d", cmd, rc);
}
