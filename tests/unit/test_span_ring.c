// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for usdt/span_ring.c and the slot API of torvyn_rt.h. */
#include <errno.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torvyn_rt.h"

static void test_init_exact_and_zeroed(void **state)
{
	static const uint32_t asks[] = { 0, 1, 3, 13, 64, 1000 };
	struct tvn_span_ring ring;

	(void)state;
	for (size_t k = 0; k < sizeof(asks) / sizeof(asks[0]); k++) {
		uint32_t want = asks[k] ? asks[k] : 1;
		static const struct tvn_span_slot zero;

		assert_int_equal(tvn_span_ring__init(&ring, asks[k]), 0);
		assert_non_null(ring.slots);
		assert_int_equal(ring.nslots, want);
		for (uint32_t i = 0; i < want; i++)
			assert_memory_equal(&ring.slots[i], &zero, sizeof(zero));
		tvn_span_ring__fini(&ring);
		assert_null(ring.slots);
		assert_int_equal(ring.nslots, 0);
	}
}

static void test_init_too_large(void **state)
{
	struct tvn_span_ring ring;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, TVN_SPAN_RING_MAX + 1), -ENOMEM);
	assert_null(ring.slots);
	assert_int_equal(ring.nslots, 0);
	tvn_span_ring__fini(&ring);
}

static void test_fini_zeroed_ring(void **state)
{
	struct tvn_span_ring ring = { 0 };

	(void)state;
	tvn_span_ring__fini(&ring);
	tvn_span_ring__fini(&ring);
	errno = 0;
	assert_null(tvn_span_ring__slot(&ring, 0));
	assert_int_equal(errno, EINVAL);
}

/* Slot i is the i-th, whole cache lines apart; none past the end. */
static void test_slot_bounds(void **state)
{
	struct tvn_span_ring ring;

	(void)state;
	assert_int_equal(sizeof(struct tvn_span_slot) % 64, 0);
	assert_int_equal(offsetof(struct tvn_span_slot, rec) % 64, 0);
	assert_int_equal(tvn_span_ring__init(&ring, 13), 0);
	for (uint32_t i = 0; i < 13; i++) {
		assert_ptr_equal(tvn_span_ring__slot(&ring, i), &ring.slots[i]);
		assert_int_equal((uintptr_t)tvn_span_ring__slot(&ring, i) % 64, 0);
	}
	errno = 0;
	assert_null(tvn_span_ring__slot(&ring, 13));
	assert_int_equal(errno, EINVAL);
	assert_null(tvn_span_ring__slot(&ring, UINT32_MAX));
	tvn_span_ring__fini(&ring);
}

/* reset clears the whole header of the element before, records stay for add to zero. */
static void test_records_in_order(void **state)
{
	struct torvyn_span_rec *r;
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 2), 0);
	s = tvn_span_ring__slot(&ring, 1);

	/* Leave junk in the header and the records, then start the next element. */
	tvn_span_slot__reset(s, 7);
	for (int i = 0; i < TVN_SLOT_RECS; i++)
		memset(tvn_span_slot__add(s), 0xee, sizeof(struct torvyn_span_rec));
	memset(&s->hdr, 0xee, sizeof(s->hdr));

	tvn_span_slot__reset(s, 9);
	assert_true(s->hdr.seq == 9);
	assert_int_equal(s->hdr.count, 0);
	assert_int_equal(s->hdr.dropped, 0);
	assert_int_equal(s->hdr.flags, 0);
	assert_true(s->hdr.flow_idx == 0 && s->hdr.remote_parent_span_id == 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(s->hdr.trace_id[i], 0);
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
	assert_int_equal(s->hdr.count, 5);
	for (uint32_t i = 0; i < s->hdr.count; i++) {
		assert_true(s->rec[i].span_id == 100 + i);
		assert_int_equal(s->rec[i].kind, TORVYN_SPAN_INVOKE);
	}
	/* the other slot was never touched */
	assert_int_equal(ring.slots[0].hdr.count, 0);
	assert_true(ring.slots[0].rec[0].span_id == 0);
	tvn_span_ring__fini(&ring);
}

static void test_slot_full(void **state)
{
	struct tvn_span_ring ring;
	struct tvn_span_slot *s;

	(void)state;
	assert_int_equal(tvn_span_ring__init(&ring, 1), 0);
	s = tvn_span_ring__slot(&ring, 0);
	tvn_span_slot__reset(s, 42);
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
	tvn_span_slot__reset(s, 43);
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
	s = tvn_span_ring__slot(&ring, 1);
	tvn_span_slot__reset(s, 5);
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
	assert_true(s->hdr.seq == 5);
	tvn_span_ring__fini(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_exact_and_zeroed),
		cmocka_unit_test(test_init_too_large),
		cmocka_unit_test(test_fini_zeroed_ring),
		cmocka_unit_test(test_slot_bounds),
		cmocka_unit_test(test_records_in_order),
		cmocka_unit_test(test_slot_full),
		cmocka_unit_test(test_rec_next_counts_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
