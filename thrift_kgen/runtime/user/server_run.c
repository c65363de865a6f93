// SPDX-License-Identifier: GPL-2.0
/*
 * User-space only part of the server: running its event loop.
 */
#include "kgen/server.h"
#include "kgen/event.h"

/**
 * kg_server_run() - run the server's loop until SIGINT, SIGTERM or a stop
 * @srv: the server
 *
 * Call kg_server_stop() afterwards to close connections and free it.
 *
 * Return: 0, or a negative errno if the loop failed.
 */
int kg_server_run(struct kg_server *srv)
{
	struct kg_loop *loop = kg_server_loop(srv);
	int err = kg_loop_stop_on_signals(loop);

	if (err)
		return err;
	return kg_loop_run(loop);
}
