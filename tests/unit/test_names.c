// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One name resolver: the store (span names and attributes) and the metric
 * walk (Prometheus and OTLP labels) name every flow and component alike, in
 * every state of arrival: nothing yet, only a component's block, the flow's
 * block, an empty name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "metric_model.h"
#include "metric_model_internal.h"
#include "names.h"
#include "store.h"

static void put(struct tvn_store *st, uint32_t kind, size_t size, uint32_t flow, uint32_t idx,
		const char *flow_name, const char *name)
{
	struct tvn_rb_block r;
	struct torvyn_block_hdr *h = (void *)r.data;

	memset(&r, 0, sizeof(r));
	r.hdr.type = TVN_RB_BLOCK;
	r.kind = kind;
	r.size = (uint32_t)size;
	h->kind = kind;
	h->size = (uint32_t)size;
	h->flow_idx = flow;
	h->idx = idx;
	snprintf(h->flow_name, sizeof(h->flow_name), "%s", flow_name);
	snprintf(h->name, sizeof(h->name), "%s", name);
	assert_int_equal(tvn_store__put(st, &r), 0);
}

/* The flow's and component 1's names as spans and as labels see them agree, and are want. */
static void agree(struct tvn_store *st, const char *want_flow, const char *want_comp)
{
	char span_flow[64], span_comp[64], label[64];
	struct tvn_snapshot snap;

	memset(&snap, 0, sizeof(snap));
	tvn_store__name(st, 2, TORVYN_BLOCK_FLOW, -1, span_flow, sizeof(span_flow));
	tvn_store__name(st, 2, TORVYN_BLOCK_COMPONENT, 1, span_comp, sizeof(span_comp));
	assert_int_equal(tvn_store__copy(st, &snap), 0);
	tvn_names__format(tvn_metric_walk__flow_name(&snap, 2), 2, label, sizeof(label));
	assert_string_equal(span_flow, label);
	assert_string_equal(span_flow, want_flow);
	tvn_names__format(tvn_metric_walk__comp_name(&snap, 2, 1), 1, label, sizeof(label));
	assert_string_equal(span_comp, label);
	assert_string_equal(span_comp, want_comp);
	free(snap.flows);
}

static void test_spans_and_labels_agree(void **state)
{
	struct tvn_store *st = tvn_store__new();

	(void)state;
	assert_non_null(st);
	agree(st, "2", "1"); /* nothing yet: indices */
	put(st, TORVYN_BLOCK_COMPONENT, sizeof(struct torvyn_component_block), 2, 1, "ingest",
	    "parse");
	agree(st, "ingest", "parse"); /* a component's block names its flow too */
	put(st, TORVYN_BLOCK_FLOW, sizeof(struct torvyn_flow_block), 2, 0, "ingest", "ingest");
	agree(st, "ingest", "parse");
	put(st, TORVYN_BLOCK_COMPONENT, sizeof(struct torvyn_component_block), 2, 1, "ingest", "");
	agree(st, "ingest", "1"); /* an empty name: the index, in both */
	tvn_store__free(st);
}

static void test_other_abi_block_refused(void **state)
{
	struct tvn_store *st = tvn_store__new();
	struct tvn_rb_block r;
	struct tvn_snapshot snap;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.kind = TORVYN_BLOCK_FLOW;
	r.size = sizeof(struct torvyn_flow_block) + 8;
	assert_int_equal(tvn_store__put(st, &r), -EPROTO);
	memset(&snap, 0, sizeof(snap));
	assert_int_equal(tvn_store__copy(st, &snap), 0);
	assert_int_equal(snap.bad_records, 1);
	assert_int_equal(snap.blocks_received, 0);
	assert_int_equal(snap.n_flows, 0);
	tvn_store__free(st);
}

/* Each way a record can be malformed is counted under its own reason. */
static void test_malformed_by_reason(void **state)
{
	struct tvn_store *st = tvn_store__new();
	struct torvyn_block_hdr *hdr;
	struct tvn_snapshot snap;
	struct tvn_rb_block r;

	(void)state;
	memset(&r, 0, sizeof(r));
	hdr = (void *)r.data;
	r.kind = 9; /* kind */
	assert_int_equal(tvn_store__put(st, &r), -EPROTO);
	r.kind = TORVYN_BLOCK_FLOW; /* size, twice */
	r.size = sizeof(struct torvyn_flow_block) - 8;
	assert_int_equal(tvn_store__put(st, &r), -EPROTO);
	assert_int_equal(tvn_store__put(st, &r), -EPROTO);
	r.size = sizeof(struct torvyn_flow_block); /* header */
	hdr->kind = TORVYN_BLOCK_STREAM;
	hdr->size = r.size;
	assert_int_equal(tvn_store__put(st, &r), -EPROTO);
	hdr->kind = TORVYN_BLOCK_FLOW; /* index */
	hdr->flow_idx = TORVYN_MAX_FLOWS;
	assert_int_equal(tvn_store__put(st, &r), -EPROTO);
	tvn_store__bad_record(st, 77, 3); /* record */
	hdr->flow_idx = 0;
	assert_int_equal(tvn_store__put(st, &r), 0);
	memset(&snap, 0, sizeof(snap));
	assert_int_equal(tvn_store__copy(st, &snap), 0);
	assert_int_equal(snap.bad_by_reason[TVN_BAD_KIND], 1);
	assert_int_equal(snap.bad_by_reason[TVN_BAD_SIZE], 2);
	assert_int_equal(snap.bad_by_reason[TVN_BAD_HEADER], 1);
	assert_int_equal(snap.bad_by_reason[TVN_BAD_INDEX], 1);
	assert_int_equal(snap.bad_by_reason[TVN_BAD_RECORD], 1);
	assert_int_equal(snap.bad_records, 5);
	assert_int_equal(snap.blocks_received, 1);
	free(snap.flows);
	tvn_store__free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spans_and_labels_agree),
	    cmocka_unit_test(test_other_abi_block_refused),
	    cmocka_unit_test(test_malformed_by_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
