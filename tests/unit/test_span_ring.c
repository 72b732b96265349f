// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for usdt/span_ring.c. */
#include <errno.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torvyn_rt.h"

static void check_init(uint32_t ask, uint32_t want)
{
	struct tvn_span_ring ring;

	assert_int_equal(tvn_span_ring__init(&ring, ask), 0);
	assert_non_null(ring.slots);
	assert_int_equal(ring.nslots, want);
	assert_int_equal(ring.mask, want - 1);
	assert_true(ring.overwritten == 0);
	for (uint32_t i = 0; i < want; i++)
		assert_true(ring.slots[i].active == 0);
	tvn_span_ring__fini(&ring);
	assert_null(ring.slots);
	assert_int_equal(ring.nslots, 0);
}

static void test_init_rounds_up(void **state)
{
	(void)state;
	check_init(100, 128);
	check_init(64, 64);
	check_init(TVN_SPAN_RING_DEFAULT, 64);
	check_init(65, 128);
	check_init(3, 4);
	check_init(1, 1);
	check_init(0, 1);
}

static void test_init_too_large(void **state)
{
	struct tvn_span_ring ring;

	(void)state;
	memset(&ring, 0xa5, sizeof(ring));
	assert_int_equal(tvn_span_ring__init(&ring, (1u << 31) + 1), -ENOMEM);
	/* Left zeroed, so fini is still safe. */
	assert_null(ring.slots);
	assert_int_equal(ring.nslots, 0);
	tvn_span_ring__fini(&ring);
}

static void test_fini_zeroed_ring(void **state)
{
	struct tvn_span_ring ring;

	(void)state;
	memset(&ring, 0, sizeof(ring));
	tvn_span_ring__fini(&ring);
	tvn_span_ring__fini(&ring);
	assert_null(ring.slots);

	/* Nor do begin/get touch memory on a ring that has none. */
	errno = 0;
	assert_null(tvn_span_ring__begin(&ring, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(tvn_span_ring__get(&ring, 0));
	tvn_span_ring__end(NULL);
}

/* A slot nobody claimed belongs to no element, seq 0 included. */
static void test_get_unclaimed(void **state)
{
	struct tvn_span_ring ring;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 8), 0);
	for (uint64_t seq = 0; seq < 64; seq++)
		assert_null(tvn_span_ring__get(&ring, seq));
	assert_null(tvn_span_ring__get(&ring, UINT64_MAX));
	tvn_span_ring__fini(&ring);

	assert_int_equal(tvn_span_ring__init(&ring, 1), 0);
	assert_null(tvn_span_ring__get(&ring, 0));
	assert_null(tvn_span_ring__get(&ring, 1));
	tvn_span_ring__fini(&ring);
}

static void test_begin_resets(void **state)
{
	static const uint8_t zero_id[16];
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 4), 0);
	s = tvn_span_ring__begin(&ring, 6);
	assert_ptr_equal(s, &ring.slots[2]);
	assert_true(s->hdr.seq == 6);
	assert_int_equal(s->hdr.count, 0);
	assert_int_equal(s->hdr.dropped, 0);
	assert_true(s->active == 1);

	/* The previous element leaves a full header and records behind. */
	memset(s->hdr.trace_id, 0xab, 16);
	s->hdr.remote_parent_span_id = 7;
	s->hdr.flow_idx = 3;
	s->hdr.flags = TORVYN_TRACE_FLAG_SAMPLED;
	s->hdr.reason = TORVYN_PROMOTE_ERROR;
	assert_non_null(tvn_span_slot__add(s));
	s->hdr.dropped = 9;
	tvn_span_ring__end(s);
	assert_true(s->active == 0);

	assert_ptr_equal(tvn_span_ring__begin(&ring, 10), s);
	assert_true(s->hdr.seq == 10);
	assert_int_equal(s->hdr.count, 0);
	assert_int_equal(s->hdr.dropped, 0);
	assert_true(s->active == 1);
	assert_memory_equal(s->hdr.trace_id, zero_id, 16);
	assert_true(s->hdr.remote_parent_span_id == 0);
	assert_true(s->hdr.flow_idx == 0);
	assert_int_equal(s->hdr.flags, 0);
	assert_int_equal(s->hdr.reason, 0);
	assert_true(ring.overwritten == 0);
	tvn_span_ring__fini(&ring);
}

static void test_wrap(void **state)
{
	struct tvn_span_slot *a, *b;
	struct tvn_span_ring ring;
	uint64_t seq = 1000003;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, TVN_SPAN_RING_DEFAULT), 0);
	a = tvn_span_ring__begin(&ring, seq);
	assert_non_null(a);
	assert_ptr_equal(a, &ring.slots[seq & 63]);
	assert_ptr_equal(tvn_span_ring__get(&ring, seq), a);
	/* seq + nslots shares the slot but does not own it yet. */
	errno = 0;
	assert_null(tvn_span_ring__get(&ring, seq + 64));
	assert_int_equal(errno, ENOENT);
	/* Ended: free for reuse, but still readable until reclaimed. */
	tvn_span_ring__end(a);
	assert_ptr_equal(tvn_span_ring__get(&ring, seq), a);

	b = tvn_span_ring__begin(&ring, seq + 64);
	assert_ptr_equal(b, a);
	assert_ptr_equal(tvn_span_ring__get(&ring, seq + 64), b);
	assert_null(tvn_span_ring__get(&ring, seq));
	/* Neighbours are untouched. */
	assert_null(tvn_span_ring__get(&ring, seq + 1));
	assert_true(ring.overwritten == 0);
	tvn_span_ring__fini(&ring);
}

static void test_overwritten(void **state)
{
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 4), 0);

	/* Active elements in different slots do not collide. */
	for (uint64_t seq = 0; seq < 4; seq++)
		assert_non_null(tvn_span_ring__begin(&ring, seq));
	assert_true(ring.overwritten == 0);

	/* seq 1 never ended: reclaiming its slot counts. */
	s = tvn_span_ring__begin(&ring, 5);
	assert_true(ring.overwritten == 1);
	assert_null(tvn_span_ring__get(&ring, 1));

	/* seq 5 ended: reclaiming does not count. */
	tvn_span_ring__end(s);
	s = tvn_span_ring__begin(&ring, 9);
	assert_true(ring.overwritten == 1);

	/* seq 9 active again when 13 arrives. */
	tvn_span_ring__begin(&ring, 13);
	assert_true(ring.overwritten == 2);

	/* Claiming the same seq twice while active also reclaims it. */
	tvn_span_ring__begin(&ring, 13);
	assert_true(ring.overwritten == 3);
	tvn_span_ring__fini(&ring);
}

static void test_records_in_order(void **state)
{
	struct torvyn_span_rec *r;
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 2), 0);

	/* Leave junk in the records, then reuse the slot. */
	s = tvn_span_ring__begin(&ring, 0);
	for (int i = 0; i < TVN_SLOT_RECS; i++)
		memset(tvn_span_slot__add(s), 0xee, sizeof(struct torvyn_span_rec));
	tvn_span_ring__end(s);

	s = tvn_span_ring__begin(&ring, 2);
	for (uint64_t i = 0; i < 5; i++) {
		r = tvn_span_slot__add(s);
		assert_non_null(r);
		assert_ptr_equal(r, &s->rec[i]);
		assert_true(r->span_id == 0 && r->parent_span_id == 0 && r->start_ns == 0 &&
			    r->end_ns == 0 && r->seq == 0 && r->bytes == 0 && r->aux == 0 &&
			    r->component_idx == 0 && r->aux_idx == 0 && r->kind == 0 &&
			    r->status == 0 && r->error_kind == 0 && r->reason == 0);
		r->span_id = 100 + i;
		r->kind = TORVYN_SPAN_INVOKE;
	}

	/* Drained through get(), in the order they were added. */
	s = tvn_span_ring__get(&ring, 2);
	assert_non_null(s);
	assert_int_equal(s->hdr.count, 5);
	for (uint32_t i = 0; i < s->hdr.count; i++) {
		assert_true(s->rec[i].span_id == 100 + i);
		assert_int_equal(s->rec[i].kind, TORVYN_SPAN_INVOKE);
	}
	tvn_span_ring__fini(&ring);
}

static void test_slot_full(void **state)
{
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 1), 0);
	s = tvn_span_ring__begin(&ring, 42);
	for (int i = 0; i < TVN_SLOT_RECS; i++)
		assert_ptr_equal(tvn_span_slot__add(s), &s->rec[i]);
	assert_int_equal(s->hdr.count, TVN_SLOT_RECS);
	assert_int_equal(s->hdr.dropped, 0);

	for (int i = 1; i <= 3; i++) {
		errno = 0;
		assert_null(tvn_span_slot__add(s));
		assert_int_equal(errno, ENOSPC);
		assert_int_equal(s->hdr.dropped, i);
		assert_int_equal(s->hdr.count, TVN_SLOT_RECS);
	}

	/* The next element starts empty. */
	tvn_span_ring__end(s);
	s = tvn_span_ring__begin(&ring, 43);
	assert_int_equal(s->hdr.dropped, 0);
	assert_int_equal(s->hdr.count, 0);
	assert_ptr_equal(tvn_span_slot__add(s), &s->rec[0]);
	tvn_span_ring__fini(&ring);
}

/*
 * The host counts an element's records with the element (the threads that
 * hand it along then never write the slot's header): the same fill and the
 * same ENOSPC, on the caller's counters, the header untouched.
 */
static void test_rec_next_counts_outside(void **state)
{
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;
	uint32_t n = 0, dropped = 0;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 2), 0);
	s = tvn_span_ring__begin(&ring, 5);
	for (uint32_t i = 0; i < TVN_SLOT_RECS; i++) {
		assert_ptr_equal(tvn_span_rec__next(s, &n, &dropped), &s->rec[i]);
		assert_int_equal(n, i + 1);
	}
	errno = 0;
	assert_null(tvn_span_rec__next(s, &n, &dropped));
	assert_int_equal(errno, ENOSPC);
	assert_null(tvn_span_rec__next(s, &n, &dropped));
	assert_int_equal(n, TVN_SLOT_RECS);
	assert_int_equal(dropped, 2);
	assert_int_equal(s->hdr.count, 0);
	assert_int_equal(s->hdr.dropped, 0);
	tvn_span_ring__fini(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rounds_up),
		cmocka_unit_test(test_init_too_large),
		cmocka_unit_test(test_fini_zeroed_ring),
		cmocka_unit_test(test_get_unclaimed),
		cmocka_unit_test(test_begin_resets),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_overwritten),
		cmocka_unit_test(test_records_in_order),
		cmocka_unit_test(test_slot_full),
		cmocka_unit_test(test_rec_next_counts_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
