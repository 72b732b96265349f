// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pipeline parser (user/host/pipeline/): any bytes as a pipeline file.
 * It either loads a configuration whose indices all hold, or fails with
 * -EINVAL, an empty configuration and one line of message.
 */
#include <errno.h>

#include "fuzz.h"
#include "pipeline.h"

static void check_flow(const struct tvn_flow_cfg *f)
{
	FUZZ_CHECK(strnlen(f->id, sizeof(f->id)) < sizeof(f->id), "flow id not terminated");
	FUZZ_CHECK(f->n_comps >= 2 && f->n_comps <= TORVYN_MAX_COMPONENTS, "%d components",
		   f->n_comps);
	FUZZ_CHECK(f->n_streams >= 1 && f->n_streams <= TORVYN_MAX_STREAMS, "%d streams",
		   f->n_streams);
	for (int i = 0; i < f->n_comps; i++) {
		const struct tvn_comp_cfg *c = &f->comps[i];

		FUZZ_CHECK(strnlen(c->id, sizeof(c->id)) < sizeof(c->id), "component id");
		FUZZ_CHECK(strnlen(c->path, sizeof(c->path)) < sizeof(c->path), "path");
		FUZZ_CHECK(c->n_faults >= 0 && c->n_faults <= TVN_MAX_FAULTS, "%d faults",
			   c->n_faults);
		FUZZ_CHECK(c->size_min <= c->size_max, "size %u > %u", c->size_min, c->size_max);
	}
	for (int i = 0; i < f->n_streams; i++) {
		const struct tvn_stream_cfg *s = &f->streams[i];

		FUZZ_CHECK(s->from >= 0 && s->from < f->n_comps && s->to >= 0 &&
			       s->to < f->n_comps && s->from != s->to,
			   "stream %d: %d -> %d", i, s->from, s->to);
		FUZZ_CHECK(s->capacity >= 1, "capacity 0");
		FUZZ_CHECK(s->low_watermark >= 0 && s->low_watermark < 1, "watermark");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tvn_pipeline_cfg cfg;
	char path[64], err[512];
	int fd = fuzz_memfd(data, size, path, sizeof(path)), ret;

	ret = tvn_pipeline__load(path, &cfg, err, sizeof(err));
	close(fd);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL, "returned %d", ret);
		FUZZ_CHECK(!cfg.flows && !cfg.n_flows, "a failed load left flows");
		FUZZ_CHECK(err[0] && !strchr(err, '\n'), "message: '%s'", err);
		return 0;
	}
	FUZZ_CHECK(cfg.n_flows >= 1, "%d flows", cfg.n_flows);
	for (int i = 0; i < cfg.n_flows; i++)
		check_flow(&cfg.flows[i]);
	tvn_pipeline__free(&cfg);
	return 0;
}
