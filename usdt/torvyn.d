/*
 * The Torvyn USDT probe contract, and the one list of probes: `dtrace -h`
 * turns it into build/torvyn_probes_gen.h (a site and an is-enabled
 * semaphore per probe), and tools/probe-list.awk into
 * build/torvyn_probe_list.h, from which the probe ids, their names, the
 * no-probe stubs and the BPF dispatch derive. Each probe's `// bpf:` comment
 * names the BPF family that handles it (bpf/<family>.bpf.c); `none`: attached
 * for its semaphore only, or left to bpftrace and perf.
 * Argument meanings: README.md, "Probe contract". Layouts of the pointed-to
 * structs: include/torvyn_abi.h. Bump TORVYN_PROBE_ABI_VERSION on any change.
 */
provider torvyn {
	/* (abi_version): fired once at startup and at every flush cycle */
	probe abi__version(uint32_t); // bpf: none

	/* Gates: semaphore-only probes. The host tests them on its hot path; a
	 * tracer raises them by attaching. They fire once when the host sees a
	 * gate go up, so a tracer can tell the host noticed. */
	probe gate__production(uint32_t); // bpf: none
	probe gate__diagnostic(uint32_t); // bpf: none
	/* Raised by a tracer about to detach the diagnostic level: the host
	 * stops batching step records, fires every partial batch and answers
	 * with batch__drained, so no record is left behind the detach. */
	probe gate__drain(uint32_t); // bpf: none
	/* (generation): every partial batch fired and batching stopped, while
	 * gate__drain is up; repeated each telemetry tick until it goes down */
	probe batch__drained(uint32_t); // bpf: none

	/* (flow_idx, flow_name, n_components) */
	probe flow__start(uint32_t, char *, uint32_t); // bpf: metrics
	/* (flow_idx, final_state, elements_total, elements_errors) */
	probe flow__end(uint32_t, uint32_t, uint64_t, uint64_t); // bpf: metrics

	/* One hit per invocation carrying the whole record: (flow_idx,
	 * component_idx, seq, start_ns, end_ns, status, bytes_in, bytes_out,
	 * rec), rec a struct torvyn_invoke_rec with the step's queue, transfer
	 * and copy too. Fires when the step ends (after the element moved on). */
	probe component__invoke(uint32_t, uint32_t, uint64_t, uint64_t, uint64_t, uint32_t, uint64_t, uint64_t, void *); // bpf: invoke

	/* (records, count): count struct torvyn_invoke_rec (at most
	 * TORVYN_BATCH_RECS), the steps of one component thread, as
	 * component__invoke would carry them one by one. Fires when the batch is
	 * full, at each flush interval, on a drain (gate__drain) and at exit. */
	probe component__batch(void *, uint32_t); // bpf: invoke

	/* (flow_idx, component_idx, reason, bytes, seq) */
	probe buffer__copy(uint32_t, uint32_t, uint32_t, uint64_t, uint64_t); // bpf: none
	/* (flow_idx, buffer_id, from_component_idx, to_component_idx, bytes, seq) */
	probe buffer__transfer(uint32_t, uint64_t, uint32_t, uint32_t, uint64_t, uint64_t); // bpf: none

	/* (flow_idx, stream_idx, queue_depth) */
	probe backpressure__activate(uint32_t, uint32_t, uint32_t); // bpf: queue
	/* (flow_idx, stream_idx, queue_depth, duration_ns) */
	probe backpressure__deactivate(uint32_t, uint32_t, uint32_t, uint64_t); // bpf: queue

	/* (flow_idx, stream_idx, depth_after, seq) */
	probe queue__enqueue(uint32_t, uint32_t, uint32_t, uint64_t); // bpf: none
	/* (flow_idx, stream_idx, depth_after, wait_ns, seq) */
	probe queue__dequeue(uint32_t, uint32_t, uint32_t, uint64_t, uint64_t); // bpf: none

	/* (tier, size) */
	probe pool__alloc(uint32_t, uint64_t); // bpf: pool
	/* (tier, size) */
	probe pool__return(uint32_t, uint64_t); // bpf: pool
	/* (tier, size): served by the system allocator, the tier was empty */
	probe pool__fallback(uint32_t, uint64_t); // bpf: pool
	/* (tier): the tier's last free buffer was taken */
	probe pool__exhausted(uint32_t); // bpf: pool

	/* (block, size, kind): a pre-allocated metric block, see torvyn_abi.h */
	probe metrics__flush(void *, uint32_t, uint32_t); // bpf: metrics

	/* (hdr, records, count, reason): one element's trace, struct
	 * torvyn_trace_hdr and count struct torvyn_span_rec */
	probe trace__promote(void *, void *, uint32_t, uint32_t); // bpf: metrics

	/* (flow_idx, component_idx, seq, latency_ns, status): an element's path
	 * ended at component_idx, latency_ns after its source invocation began;
	 * per-event (diagnostic), the source of bench's end-to-end percentiles */
	probe element__done(uint32_t, uint32_t, uint64_t, uint64_t, uint32_t); // bpf: none
};
