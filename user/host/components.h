/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Built-in components, and components loaded from shared objects (components.c). */
#ifndef TORVYN_COMPONENTS_H
#define TORVYN_COMPONENTS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* Opens what c's kind needs (a file, a plugin); on error writes err and returns -errno. */
int tvn_comp__open(struct tvn_comp *c, char *err, size_t errlen);
void tvn_comp__close(struct tvn_comp *c);
/*
 * One invocation. Returns TORVYN_COMPONENT_OK/DROP/END or -TORVYN_ERR_*.
 * Sets *copy_reason / *copy_bytes when the invocation copied payload (reason
 * -1 for none). For a router sets *route.
 */
int tvn_comp__invoke(struct tvn_comp *c, struct tvn_elem *e, int *copy_reason, uint64_t *copy_bytes,
		     uint32_t *route);

#endif /* TORVYN_COMPONENTS_H */
