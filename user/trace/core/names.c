// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "names.h"

const char *tvn_names__flow(const struct tvn_snap_flow *f)
{
	if (!f)
		return NULL;
	if (f->present)
		return f->blk.hdr.flow_name;
	/* diagnostic entries may come before the flow's block: any block of the flow names it */
	for (int i = 0; i < TORVYN_MAX_COMPONENTS; i++) {
		if (f->comps[i].present)
			return f->comps[i].blk.hdr.flow_name;
	}
	for (int i = 0; i < TORVYN_MAX_STREAMS; i++) {
		if (f->streams[i].present)
			return f->streams[i].blk.hdr.flow_name;
	}
	return NULL;
}

const char *tvn_names__component(const struct tvn_snap_flow *f, int idx)
{
	if (!f || idx < 0 || idx >= TORVYN_MAX_COMPONENTS || !f->comps[idx].present)
		return NULL;
	return f->comps[idx].blk.hdr.name;
}

const char *tvn_names__stream(const struct tvn_snap_flow *f, int idx)
{
	if (!f || idx < 0 || idx >= TORVYN_MAX_STREAMS || !f->streams[idx].present)
		return NULL;
	return f->streams[idx].blk.hdr.name;
}

const char *tvn_names__format(const char *name, uint64_t idx, char *buf, size_t len)
{
	if (name && name[0])
		snprintf(buf, len, "%.*s", TORVYN_NAME_LEN - 1, name);
	else
		snprintf(buf, len, "%llu", (unsigned long long)idx);
	return buf;
}
