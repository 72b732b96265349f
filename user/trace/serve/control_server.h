/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control sockets' own thread. Requests are answered here, never on the
 * event loop: a client that trickles its request or reads its reply slowly
 * delays other control clients (each request has a total deadline), but the
 * loop goes on consuming the ring buffers and the scrapes go on.
 */
#ifndef TORVYN_CONTROL_SERVER_H
#define TORVYN_CONTROL_SERVER_H

#include "control.h"

struct tvn_control_server;

/* Starts the thread. NULL and errno on failure; free(NULL) does nothing. */
struct tvn_control_server *tvn_control_server__new(void);
void tvn_control_server__free(struct tvn_control_server *cs);

/* Serves the listening socket lfd (borrowed) with ops (copied). 0 or -ENOMEM. */
int tvn_control_server__add(struct tvn_control_server *cs, int lfd,
			    const struct tvn_control_ops *ops);

/*
 * Stops serving lfd; when it returns no request of lfd is being answered,
 * so its session may go and lfd may be closed.
 */
void tvn_control_server__remove(struct tvn_control_server *cs, int lfd);

#endif /* TORVYN_CONTROL_SERVER_H */
