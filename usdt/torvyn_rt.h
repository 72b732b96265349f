/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtorvyn-probes' internal and fast-path header (include/torvyn/probes.h is
 * the public one): W3C trace context, ids, deterministic head sampling,
 * Torvyn histograms, the per-flow span ring and the clock, as inline helpers
 * for a host linked statically from this repository (torvyn-host's hot path).
 * Nothing here locks, allocates or looks anything up on the hot path.
 */
#ifndef TORVYN_RT_H
#define TORVYN_RT_H

#include <errno.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "torvyn/probes.h" /* the public API; includes torvyn_abi.h */

/* ------------------------------------------------------------ trace context */

/* struct tvn_trace_ctx and TVN_TRACEPARENT_LEN: the library's public header. */

/*
 * Parses a W3C traceparent header value, strictly (trace-context level 1):
 * lowercase hex only, version "ff" rejected, version 00 exactly 55 chars,
 * a future version may be longer only if the next char after flags is '-',
 * all-zero trace-id or parent-id rejected. On success fills trace_id,
 * parent_span_id (the header's parent-id), flags (the header's flags byte);
 * span_id is set to 0. Returns 0 or -EINVAL. s need not be NUL-terminated.
 */
int tvn_traceparent_parse(const char *s, size_t len, struct tvn_trace_ctx *out);

/* Writes "00-<trace_id>-<span_id>-<flags>" and a NUL into out; returns 55. */
int tvn_traceparent_format(const uint8_t trace_id[16], uint64_t span_id, uint8_t flags,
			   char out[TVN_TRACEPARENT_LEN + 1]);

/* ------------------------------------------------------------ ids */

struct tvn_rng {
	uint64_t state;
};

void tvn_rng_seed(struct tvn_rng *rng, uint64_t seed);

#define TVN_GOLDEN_GAMMA 0x9e3779b97f4a7c15ull

/* splitmix64's output function: a bijection of 64-bit words */
static inline uint64_t tvn_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* splitmix64 */
static inline uint64_t tvn_rng_next(struct tvn_rng *rng)
{
	return tvn_mix64(rng->state += TVN_GOLDEN_GAMMA);
}

/*
 * The n-th output (n >= 1) of a generator seeded with seed, without drawing
 * the ones before: ids that are a function of (seed, n) can be computed only
 * where they are read. Distinct n give distinct outputs (n < 2^64).
 */
static inline uint64_t tvn_rng_at(uint64_t seed, uint64_t n)
{
	return tvn_mix64(seed + n * TVN_GOLDEN_GAMMA);
}

/*
 * Ids that are a function of a flow's key and an element's seq, so that they
 * are computed only where a trace is read: the element's trace id is draws
 * 3*seq+1 (high word) and 3*seq+2 (low word, the one head sampling decides
 * on) of a generator seeded with the key, its root span id draw 3*seq+3.
 * Distinct inputs of a bijection: the two words are never both 0.
 */
static inline uint64_t tvn_ids__trace_lo(uint64_t key, uint64_t seq)
{
	return tvn_rng_at(key, 3 * seq + 2);
}

static inline void tvn_ids__trace(uint64_t key, uint64_t seq, uint8_t trace_id[16])
{
	uint64_t hi = __builtin_bswap64(tvn_rng_at(key, 3 * seq + 1));
	uint64_t lo = __builtin_bswap64(tvn_ids__trace_lo(key, seq));

	__builtin_memcpy(trace_id, &hi, 8);
	__builtin_memcpy(trace_id + 8, &lo, 8);
}

static inline uint64_t tvn_ids__span(uint64_t key, uint64_t seq) /* never zero */
{
	uint64_t span = tvn_rng_at(key, 3 * seq + 3);

	return span ? span : 1;
}

/*
 * Never all zero. Two consecutive splitmix64 outputs are never both zero
 * (the output is a bijection of a state that changes at each step), but the
 * loop keeps the promise independent of the generator.
 */
static inline void tvn_trace_id_new(struct tvn_rng *rng, uint8_t trace_id[16])
{
	uint64_t hi, lo;

	do {
		hi = tvn_rng_next(rng);
		lo = tvn_rng_next(rng);
	} while (!hi && !lo);
	hi = __builtin_bswap64(hi);
	lo = __builtin_bswap64(lo);
	__builtin_memcpy(trace_id, &hi, 8);
	__builtin_memcpy(trace_id + 8, &lo, 8);
}

static inline uint64_t tvn_span_id_new(struct tvn_rng *rng) /* never zero */
{
	uint64_t id;

	do
		id = tvn_rng_next(rng);
	while (!id);
	return id;
}

/* ------------------------------------------------------------ head sampling */

/*
 * Deterministic from the trace id: the trace id's last 8 bytes, big endian,
 * compared with rate * 2^64. rate <= 0 samples nothing, rate >= 1 everything.
 */
uint64_t tvn_sample_threshold(double rate);

/* The decision for a trace id whose last 8 bytes, read big endian, are lo. */
static inline bool tvn_sample_decide_lo(uint64_t lo, uint64_t threshold)
{
	return threshold == UINT64_MAX || lo < threshold;
}

static inline bool tvn_sample_decide(const uint8_t trace_id[16], uint64_t threshold)
{
	uint64_t x;

	__builtin_memcpy(&x, trace_id + 8, 8);
	return tvn_sample_decide_lo(__builtin_bswap64(x), threshold); /* big endian */
}

/* ------------------------------------------------------------ histograms */

/* Two UINT64_MAX sentinels follow the TORVYN_LAT_BOUNDS bounds (tvn_lat_bucket). */
extern const uint64_t tvn_lat_bounds_ns[TORVYN_LAT_BOUNDS + 2];
extern const uint64_t tvn_size_bounds[TORVYN_SIZE_BOUNDS];

/* For each power of two 2^k, the index of the first bound >= 2^k (histogram.c). */
extern uint8_t tvn_lat_first_bound_tbl[64];

/*
 * The latency bounds in clock ticks (tvn_ticks), kept by the clock: bound[i]
 * is the largest tick count whose duration in ns (tvn_ticks__dur_ns) is at
 * most tvn_lat_bounds_ns[i], so a tick count falls in the bucket its ns
 * duration would. Two UINT64_MAX sentinels; first[k] as tvn_lat_first_bound_tbl.
 * Rewritten in place when the clock is re-steered (by well under 1 %): a
 * reader that meets an old and a new word counts a duration at a bucket's
 * very edge in its neighbour, never outside the table.
 */
struct tvn_lat_ticks {
	uint64_t bound[TORVYN_LAT_BOUNDS + 2];
	uint8_t first[64];
};

extern struct tvn_lat_ticks tvn_lat_ticks;

/* Fills t for a clock of mult (ns per tick, 32.32 fixed point); histogram.c. */
void tvn_lat_ticks__fill(struct tvn_lat_ticks *t, uint64_t mult);

/*
 * Index of the first of bounds >= v; TORVYN_LAT_BOUNDS for +Inf. On the
 * production hot path: the bounds grow about 2x apart, so from the first
 * bound at or above v's power of two at most two steps remain, taken without
 * a branch (the sentinels stop them at +Inf).
 */
static inline unsigned int tvn_lat_bucket_in(const uint64_t *bounds, const uint8_t *first,
					     uint64_t v)
{
	unsigned int i = first[63 - __builtin_clzll(v | 1)];

	i += v > bounds[i];
	i += v > bounds[i];
	return i;
}

/* Index of the first ns bound >= ns. */
static inline unsigned int tvn_lat_bucket(uint64_t ns)
{
	return tvn_lat_bucket_in(tvn_lat_bounds_ns, tvn_lat_first_bound_tbl, ns);
}

/* The same index for a duration in ticks. */
static inline unsigned int tvn_lat_bucket_ticks(uint64_t ticks)
{
	return tvn_lat_bucket_in(tvn_lat_ticks.bound, tvn_lat_ticks.first, ticks);
}

static inline unsigned int tvn_size_bucket(uint64_t bytes)
{
	unsigned int i = 0;

	while (i < TORVYN_SIZE_BOUNDS && bytes > tvn_size_bounds[i])
		i++;
	return i;
}

static inline void tvn_hist_lat_add(struct torvyn_hist_lat *h, uint64_t ns)
{
	h->bucket[tvn_lat_bucket(ns)]++;
	h->sum_ns += ns;
	h->count++;
}

/*
 * A latency histogram timed in ticks: the hot path counts the bucket in the
 * shared block and adds the ticks to a sum of its own;
 * tvn_hist_lat__settle() then writes the block's sum_ns and count, so that
 * the block holds nanoseconds whenever it is read.
 */
struct tvn_hist_ticks {
	uint64_t sum;	  /* written by the thread that times */
	uint64_t settled; /* the sum already in sum_ns, and the ns fraction left over */
	uint64_t frac;
};

static inline void tvn_hist_lat_add_ticks(struct torvyn_hist_lat *h, struct tvn_hist_ticks *t,
					  uint64_t ticks)
{
	h->bucket[tvn_lat_bucket_ticks(ticks)]++;
	t->sum += ticks;
}

/*
 * From one thread at a time: adds the ticks summed since the last call to
 * sum_ns (at the clock's current rate; sum_ns never goes back) and sets
 * count to the buckets' total. histogram.c.
 */
void tvn_hist_lat__settle(struct torvyn_hist_lat *h, struct tvn_hist_ticks *t);

static inline void tvn_hist_size_add(struct torvyn_hist_size *h, uint64_t bytes)
{
	h->bucket[tvn_size_bucket(bytes)]++;
	h->sum_bytes += bytes;
	h->count++;
}

/* ------------------------------------------------------------ span ring */

/*
 * The per-flow span ring: one slot per element a flow can have in flight.
 * Each slot holds one element's trace header and the span records its
 * components wrote, in the order they wrote them. A host gives each of its
 * element structs a slot of its own for good, so a slot changes hands only
 * with its element: no locks, and no element ever writes another's records,
 * however long one is held up while later ones come and go. (A slot chosen
 * by sequence number would be reused by the element a ring's length later,
 * while a stalled element still held it.)
 */
#define TVN_SLOT_RECS TORVYN_TRACE_RECS
_Static_assert((TVN_SLOT_RECS & (TVN_SLOT_RECS - 1)) == 0, "records per trace: a power of two");
#define TVN_SPAN_RING_MAX (1u << 21) /* slots */

/*
 * Cache-line aligned: the header fills the first line and each record its
 * own, so the threads that hand an element along each write whole lines
 * instead of sharing the ones their neighbours just wrote.
 */
struct tvn_span_slot {
	struct torvyn_trace_hdr hdr; /* hdr.count records are valid */
	_Alignas(64) struct torvyn_span_rec rec[TVN_SLOT_RECS];
};

struct tvn_span_ring {
	struct tvn_span_slot *slots;
	uint32_t nslots;
};

/* nslots zeroed slots, at least 1, at most TVN_SPAN_RING_MAX. Returns 0 or -ENOMEM. */
int tvn_span_ring__init(struct tvn_span_ring *ring, uint32_t nslots);
void tvn_span_ring__fini(struct tvn_span_ring *ring); /* safe on a zeroed ring */

/* Slot i, for the element struct that owns it; NULL (EINVAL) past the end. */
static inline struct tvn_span_slot *tvn_span_ring__slot(struct tvn_span_ring *ring, uint32_t i)
{
	if (i >= ring->nslots) {
		errno = EINVAL;
		return NULL;
	}
	return &ring->slots[i];
}

/*
 * Starts a slot's next element, for a caller that counts records in the
 * header (tvn_span_slot__next): the whole header zeroed but for hdr.seq, so
 * nothing leaks from the element before.
 */
static inline void tvn_span_slot__reset(struct tvn_span_slot *slot, uint64_t seq)
{
	slot->hdr = (struct torvyn_trace_hdr){ .seq = seq };
}

/*
 * The next record of a slot holding *n of them, *n counted wherever the
 * caller keeps it: a host keeps it with the element, so the threads that hand
 * the element along never write the slot's header line. NULL (errno ENOSPC,
 * (*dropped)++) when the slot is full. The caller writes the record whole.
 * Inline: the production level adds one per invocation.
 */
static inline struct torvyn_span_rec *tvn_span_rec__next(struct tvn_span_slot *slot, uint32_t *n,
							 uint32_t *dropped)
{
	if (*n >= TVN_SLOT_RECS) {
		(*dropped)++;
		errno = ENOSPC;
		return NULL;
	}
	return &slot->rec[(*n)++];
}

/* As tvn_span_rec__next, counted in the slot's header. */
static inline struct torvyn_span_rec *tvn_span_slot__next(struct tvn_span_slot *slot)
{
	return tvn_span_rec__next(slot, &slot->hdr.count, &slot->hdr.dropped);
}

/*
 * Exports one element's trace (probes_elem.c): completes the slot's header
 * and each record's seq, parent and span id (span ids from the root's,
 * ctx->span_id, and the record's place; a copy's parent is the record that
 * its aux_idx names, any other's the root; the root record, kind
 * TORVYN_SPAN_FLOW, keeps its own; a transfer recorded with end_ns 0 ends
 * where the next invocation of its receiver starts), counts the promotion and the dropped
 * records in the flow block fb, and fires trace__promote. Only for the
 * traces that are exported: the others never pay for their ids. seg: the
 * records' times are clock ticks, made ns through it; NULL: they are ns.
 */
struct tvn_clock;
void tvn_span_slot__promote(struct tvn_span_slot *s, struct torvyn_flow_block *fb,
			    const struct tvn_trace_ctx *ctx, uint64_t seq, uint32_t nrec,
			    uint32_t ndropped, uint32_t reason, const struct tvn_clock *seg);

/* Appends a zeroed record, for the caller to fill; as tvn_span_slot__next. */
static inline struct torvyn_span_rec *tvn_span_slot__add(struct tvn_span_slot *slot)
{
	struct torvyn_span_rec *r = tvn_span_slot__next(slot);

	if (r)
		*r = (struct torvyn_span_rec){ 0 };
	return r;
}

/* ------------------------------------------------------------ time */

#include <time.h>

static inline uint64_t tvn_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The hot path's clock: raw ticks of the TSC, one instruction, when the
 * kernel itself keeps time with it (constant and synchronized across CPUs);
 * otherwise CLOCK_MONOTONIC ns, one tick per ns. Ticks stay inside the
 * process: everything that leaves it (span records, invoke records, metric
 * blocks) is converted to CLOCK_MONOTONIC ns by tvn_ticks__to_ns() (an
 * instant) or tvn_ticks__dur_ns() (a duration), and nothing else.
 *
 * The conversion is piecewise linear: tvn_clock__tick() starts a new segment
 * where the current one is now, with a rate steered towards CLOCK_MONOTONIC
 * (by at most 0.1 % per second), so tvn_now_ns() never goes backwards and
 * stays within microseconds of clock_gettime.
 */
struct tvn_clock {
	uint64_t seq; /* odd while the writer updates */
	uint64_t base_tsc;
	uint64_t base_ns;
	uint64_t mult;		  /* ns per tick, 32.32 fixed point */
	int tsc;		  /* set once by tvn_clock__init: ticks are the TSC's */
	uint64_t ref_tsc, ref_ns; /* the writer's: its last TSC and CLOCK_MONOTONIC pair */
};

extern struct tvn_clock tvn_clock;

/*
 * Calibrates (about 10 ms) if the TSC is the kernel's clocksource, before
 * any thread reads the clock; otherwise ticks are ns. Also fills
 * tvn_lat_ticks.
 */
void tvn_clock__init(void);
/* Re-steers the rate and the tick bounds; call about once a second from one thread. */
void tvn_clock__tick(void);

static inline uint64_t tvn_ticks(void)
{
	if (__builtin_expect(tvn_clock.tsc, 1))
		return __builtin_ia32_rdtsc();
	return tvn_mono_ns();
}

/* A duration in ticks, in ns at the clock's current rate. */
static inline uint64_t tvn_ticks__dur_ns(uint64_t ticks)
{
	uint64_t mult = __atomic_load_n(&tvn_clock.mult, __ATOMIC_RELAXED);

	return (uint64_t)(((unsigned __int128)ticks * mult) >> 32);
}

/* The most ticks whose duration in ns (at rate mult) is at most ns: a bound in ticks. */
static inline uint64_t tvn_ticks__max_within(uint64_t ns, uint64_t mult)
{
	unsigned __int128 q = ((((unsigned __int128)ns + 1) << 32) - 1) / (mult ? mult : 1);

	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/* An instant of segment (base_tsc, base_ns, mult), before its start or after. */
static inline uint64_t tvn_clock__read(const struct tvn_clock *c, uint64_t tsc)
{
	if (tsc >= c->base_tsc)
		return c->base_ns +
		       (uint64_t)(((unsigned __int128)(tsc - c->base_tsc) * c->mult) >> 32);
	return c->base_ns - (uint64_t)(((unsigned __int128)(c->base_tsc - tsc) * c->mult) >> 32);
}

/* The parameters of the current segment, consistent (a seqlock: never on the hot path). */
static inline void tvn_clock__snap(struct tvn_clock *out)
{
	uint64_t seq;

	do {
		seq = __atomic_load_n(&tvn_clock.seq, __ATOMIC_ACQUIRE);
		out->base_tsc = tvn_clock.base_tsc;
		out->base_ns = tvn_clock.base_ns;
		out->mult = tvn_clock.mult;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&tvn_clock.seq, __ATOMIC_RELAXED));
}

/*
 * An instant in ticks (from tvn_ticks, seconds old at most), in
 * CLOCK_MONOTONIC ns. Instants converted together keep their order.
 */
static inline uint64_t tvn_ticks__to_ns(uint64_t ticks)
{
	struct tvn_clock c;

	if (!tvn_clock.tsc)
		return ticks;
	tvn_clock__snap(&c);
	return tvn_clock__read(&c, ticks);
}

/* CLOCK_MONOTONIC ns, never going backwards across a re-steering. */
static inline uint64_t tvn_now_ns(void)
{
	uint64_t seq, ns;

	if (!tvn_clock.tsc)
		return tvn_mono_ns();
	do {
		seq = __atomic_load_n(&tvn_clock.seq, __ATOMIC_ACQUIRE);
		/* read after the segment's start: never before it */
		ns = tvn_clock__read(&tvn_clock, __builtin_ia32_rdtsc());
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&tvn_clock.seq, __ATOMIC_RELAXED));
	return ns;
}

#endif /* TORVYN_RT_H */
