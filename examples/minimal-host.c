// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A minimal host on libtorvyn-probes (docs/write-your-own-host.md): flows "upper" (the worker
 * copies, upper-cases) and "checked" (it fails every 7th element) of source -> worker -> sink,
 * one thread. It prints its own counts as JSON, as torvyn-host --summary does. Build and run:
 *   cc minimal-host.c $(pkg-config --cflags --libs torvyn-probes) -o minimal-host
 *   ./minimal-host [ELEMENTS] [--wait-attach]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <torvyn/probes.h>

#define CAP 4 /* a queue's capacity; the source emits bursts of CAP */

struct item {
	struct tvn_probes_elem *e;
	char data[32];
	uint64_t len;
};
struct queue {
	struct item q[CAP];
	int head, n;
	unsigned long long moved, full;
};
struct comp {
	const char *id;
	unsigned long long inv, err, in, out, tin, copies, cbytes;
};
struct flow {
	const char *id;
	int fail_every, copy; /* what the worker does */
	struct tvn_probes_flow *pf;
	struct comp c[3];
	struct queue s[2];
	unsigned long long ended, errors;
};

/* One invocation of component ci on it; then on to stream out, or the end (out < 0). */
static void step(struct flow *f, int ci, struct item *it, int out)
{
	struct comp *c = &f->c[ci];
	uint64_t t = tvn_probes_flow__step_begin(f->pf, ci, it->e), in = ci ? it->len : 0;
	int fail = ci == 1 && f->fail_every && tvn_probes_elem__seq(it->e) % f->fail_every == 0;
	uint32_t st = fail ? TORVYN_STATUS_ERROR : TORVYN_STATUS_OK;
	uint32_t kind = fail ? TORVYN_ERR_INVALID_INPUT : TORVYN_ERR_NONE;

	if (ci == 0)
		it->len = (uint64_t)snprintf(it->data, sizeof(it->data), "element %llu",
					     (unsigned long long)tvn_probes_elem__seq(it->e));
	if (ci == 1 && f->copy && !fail) {
		for (uint64_t i = 0; i < it->len; i++)
			it->data[i] -= it->data[i] >= 'a' && it->data[i] <= 'z' ? 32 : 0;
		tvn_probes_flow__copy(f->pf, ci, it->e, TORVYN_COPY_PAYLOAD_WRITE, it->len);
		c->copies++, c->cbytes += it->len;
	}
	c->inv++, c->in += in, c->err += fail, c->out += fail ? 0 : it->len;
	tvn_probes_flow__step_end(f->pf, ci, it->e, t, st, kind, in, fail ? 0 : it->len);
	if (fail || out < 0) { /* the element's path ends here */
		f->ended++, f->errors += fail;
		tvn_probes_flow__elem_end(f->pf, ci, it->e, st, kind);
	} else { /* on to the next queue; the library starts backpressure when one fills */
		struct queue *q = &f->s[out];

		q->q[(q->head + q->n++) % CAP] = *it;
		q->full += q->n == CAP;
		tvn_probes_flow__push(f->pf, out, it->e, (uint32_t)q->n);
	}
}

static void round_of(struct flow *f)
{
	for (int i = 0; i < CAP; i++) {
		struct item it = {.e = tvn_probes_flow__elem_begin(f->pf, NULL, 0)};

		if (it.e) /* NULL: out of memory */
			step(f, 0, &it, 0);
	}
	for (int s = 0; s < 2; s++) { /* queue s drained by component s + 1, which it feeds */
		struct queue *q = &f->s[s];

		while (q->n) {
			struct item it = q->q[q->head];

			q->head = (q->head + 1) % CAP, q->n--, q->moved++, f->c[s + 1].tin++;
			tvn_probes_flow__pop(f->pf, s, it.e, (uint32_t)q->n);
			step(f, s + 1, &it, s == 0 ? 1 : -1);
		}
	}
}

static void print_flow(const struct flow *f)
{
	const struct comp *c = f->c;
	printf("{\"id\":\"%s\",\"elements\":%llu,\"errors\":%llu,\"copies\":{\"PayloadWrite\":"
	       "{\"count\":%llu,\"bytes\":%llu}},\"transfers\":{\"count\":%llu},\"components\":[",
	       f->id, f->ended, f->errors, c[1].copies, c[1].cbytes, c[1].tin + c[2].tin);
	for (int i = 0; i < 3; i++)
		printf("%s{\"id\":\"%s\",\"invocations\":%llu,\"errors\":%llu,\"bytes_in\":%llu,"
		       "\"bytes_out\":%llu,\"transfers_in\":%llu,\"copies\":{\"PayloadWrite\":"
		       "{\"count\":%llu,\"bytes\":%llu}}}",
		       i ? "," : "", c[i].id, c[i].inv, c[i].err, c[i].in, c[i].out, c[i].tin,
		       c[i].copies, c[i].cbytes);
	for (int s = 0; s < 2; s++)
		printf("%s{\"id\":\"s%d\",\"elements_transferred\":%llu,\"elements_dropped\":0,"
		       "\"backpressure_events\":%llu}",
		       s ? "," : "],\"streams\":[", s, f->s[s].moved, f->s[s].full);
	printf("]}");
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
	struct flow flows[2] = {{.id = "upper", .copy = 1}, {.id = "checked", .fail_every = 7}};
	static const char *const names[3] = {"source", "worker", "sink"};
	static const uint32_t roles[3] = {TORVYN_ROLE_SOURCE, TORVYN_ROLE_PROCESSOR,
					  TORVYN_ROLE_SINK};
	struct tvn_probes *p;

	/* the library's own thread reads the gates and flushes the blocks */
	if (tvn_probes__open(&(struct tvn_probes_opts){.thread = true}, &p))
		return 1;
	for (int i = 0; i < 2; i++) {
		struct flow *f = &flows[i];

		if (tvn_probes__flow_new(p, f->id, &f->pf))
			return 1;
		for (int c = 0; c < 3; c++)
			tvn_probes_flow__component(f->pf, f->c[c].id = names[c], roles[c]);
		tvn_probes_flow__stream(f->pf, "s0", 0, 1, CAP, TORVYN_POLICY_BLOCK_PRODUCER);
		tvn_probes_flow__stream(f->pf, "s1", 1, 2, CAP, TORVYN_POLICY_BLOCK_PRODUCER);
		if (tvn_probes_flow__ready(f->pf, 2 * CAP + 1)) /* at most in flight */
			return 1;
	}
	if (argc > 2 && !strcmp(argv[2], "--wait-attach"))
		tvn_probes__wait_attach(p, 0); /* until a tracer raised the production gate */
	for (int i = 0; i < 2; i++)
		tvn_probes_flow__start(flows[i].pf);
	for (uint64_t done = 0; done < n; done += CAP)
		for (int i = 0; i < 2; i++)
			round_of(&flows[i]);
	printf("{\"flows\":[");
	for (int i = 0; i < 2; i++) {
		tvn_probes_flow__end(flows[i].pf, TORVYN_FLOW_COMPLETED);
		print_flow(&flows[i]), printf(i ? "],\"pool\":[]}\n" : ",");
	}
	tvn_probes__close(p); /* the final flush: the tracer keeps the exact totals */
	return 0;
}
