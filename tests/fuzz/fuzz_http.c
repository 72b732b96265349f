// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The request headers /metrics reads (serve/http.c): any bytes as the
 * Accept header (tvn_prom__wants_openmetrics) and as Accept-Encoding
 * (tvn_http__wants_gzip), each in a buffer of exactly its length.
 */
#include "fuzz.h"
#include "http.h"
#include "prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t na = nul ? (size_t)(nul - data) : size, nb = nul ? size - na - 1 : 0;
	char *accept = malloc(na + 1), *ae = malloc(nb + 1);
	bool om, gz;

	FUZZ_CHECK(accept && ae, "malloc");
	memcpy(accept, data, na);
	accept[na] = '\0';
	memcpy(ae, nul ? nul + 1 : data, nb);
	ae[nb] = '\0';

	om = tvn_prom__wants_openmetrics(accept);
	FUZZ_CHECK(!om || strcasestr(accept, "application/openmetrics-text"),
		   "OpenMetrics for '%s'", accept);
	FUZZ_CHECK(om == tvn_prom__wants_openmetrics(accept), "not the same twice");
	gz = tvn_http__wants_gzip(ae);
	FUZZ_CHECK(!gz || strcasestr(ae, "gzip"), "gzip for '%s'", ae);
	FUZZ_CHECK(gz == tvn_http__wants_gzip(ae), "not the same twice");
	free(accept);
	free(ae);
	return 0;
}
