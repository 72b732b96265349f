/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The C ABI of components loaded from shared objects by torvyn-host.
 *
 * A component library exports one function:
 *
 *	const struct torvyn_component *torvyn_component_entry(void);
 *
 * The host calls init once per component instance (with the "config" string
 * of the pipeline file), then, from the component's own thread, produce (for
 * a source) or process (for every other role) once per element, then fini.
 * A component never sees trace context unless it asks for it (traceparent is
 * read-only) and never propagates it: the host does.
 */
#ifndef TORVYN_COMPONENT_H
#define TORVYN_COMPONENT_H

#include <stdint.h>

#define TORVYN_COMPONENT_ABI_VERSION 1

/* Return values of produce and process. Errors are negated TORVYN_ERR_* kinds. */
#define TORVYN_COMPONENT_OK 0 /* element passes on */
#define TORVYN_COMPONENT_DROP 1 /* filter: element stops here; source: no element */
#define TORVYN_COMPONENT_END 2 /* source: end of stream */
/* -1 invalid-input, -2 unavailable, -3 internal, -4 deadline-exceeded, -5 fatal */

struct torvyn_element {
	uint64_t seq; /* element sequence number within the flow, 0-based */
	uint8_t *data; /* payload, writable in place */
	uint32_t len; /* payload bytes */
	uint32_t cap; /* bytes available at data; a source or processor may set len <= cap */
	const char *traceparent; /* current W3C traceparent, or NULL */
	uint32_t route; /* router: output index to send the element to */
	uint32_t pad;
};

struct torvyn_component {
	uint32_t abi_version; /* TORVYN_COMPONENT_ABI_VERSION */
	const char *name;
	/* Returns 0 or a negative errno; *state is passed to the other calls. */
	int (*init)(void **state, const char *config);
	int (*produce)(void *state, struct torvyn_element *elem);
	int (*process)(void *state, struct torvyn_element *elem);
	void (*fini)(void *state);
};

typedef const struct torvyn_component *(*torvyn_component_entry_fn)(void);

#endif /* TORVYN_COMPONENT_H */
