/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The names of the ABI's enumerations, as they appear in labels, JSON and
 * span attributes: one table each, for the host and the tracer. Include
 * after torvyn_abi.h (and torvyn_bpf.h for the probe names).
 */
#ifndef TORVYN_NAMES_H
#define TORVYN_NAMES_H

static const char *const torvyn_copy_reason_names[TORVYN_COPY_REASONS] = {
	[TORVYN_COPY_METADATA_MARSHAL] = "MetadataMarshal",
	[TORVYN_COPY_PAYLOAD_READ] = "PayloadRead",
	[TORVYN_COPY_PAYLOAD_WRITE] = "PayloadWrite",
	[TORVYN_COPY_HOST_SERIALIZE] = "HostSerialize",
};

static const char *const torvyn_promote_names[3] = {
	[TORVYN_PROMOTE_SAMPLED] = "sampled",
	[TORVYN_PROMOTE_ERROR] = "error",
	[TORVYN_PROMOTE_LATENCY] = "latency",
};

static const char *const torvyn_tier_names[TORVYN_TIERS] = {
	[TORVYN_TIER_SMALL] = "Small",
	[TORVYN_TIER_MEDIUM] = "Medium",
	[TORVYN_TIER_LARGE] = "Large",
	[TORVYN_TIER_HUGE] = "Huge",
};

#define TORVYN_FLOW_STATES 8
static const char *const torvyn_flow_state_names[TORVYN_FLOW_STATES] = {
	[TORVYN_FLOW_CREATED] = "Created",	     [TORVYN_FLOW_VALIDATED] = "Validated",
	[TORVYN_FLOW_INSTANTIATED] = "Instantiated", [TORVYN_FLOW_RUNNING] = "Running",
	[TORVYN_FLOW_DRAINING] = "Draining",	     [TORVYN_FLOW_COMPLETED] = "Completed",
	[TORVYN_FLOW_CANCELLED] = "Cancelled",	     [TORVYN_FLOW_FAILED] = "Failed",
};

static const char *const torvyn_err_kind_names[TORVYN_ERR_KINDS] = {
	[TORVYN_ERR_NONE] = "none",
	[TORVYN_ERR_INVALID_INPUT] = "invalid-input",
	[TORVYN_ERR_UNAVAILABLE] = "unavailable",
	[TORVYN_ERR_INTERNAL] = "internal",
	[TORVYN_ERR_DEADLINE_EXCEEDED] = "deadline-exceeded",
	[TORVYN_ERR_FATAL] = "fatal",
};

static const char *const torvyn_role_names[5] = {
	[TORVYN_ROLE_SOURCE] = "source", [TORVYN_ROLE_PROCESSOR] = "processor",
	[TORVYN_ROLE_FILTER] = "filter", [TORVYN_ROLE_ROUTER] = "router",
	[TORVYN_ROLE_SINK] = "sink",
};

#ifdef TORVYN_BPF_H
/* The usdt probe names (usdt/torvyn.d), in enum torvyn_probe_id order. */
static const char *const torvyn_probe_names[TVN_P_COUNT] = {
#define TVN__PROBE_NAME(id, name, nargs, family) [TVN_P_##id] = #name,
	TORVYN_PROBE_LIST(TVN__PROBE_NAME)
#undef TVN__PROBE_NAME
};

/* How many arguments each probe takes (usdt/torvyn.d). */
static const unsigned char torvyn_probe_nargs[TVN_P_COUNT] = {
#define TVN__PROBE_NARGS(id, name, nargs, family) [TVN_P_##id] = nargs,
	TORVYN_PROBE_LIST(TVN__PROBE_NARGS)
#undef TVN__PROBE_NARGS
};
#endif

#endif /* TORVYN_NAMES_H */
