/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP for services whose methods are all oneway (kg_server_config.listen):
 * one datagram is one Thrift message, unframed, with no reply, as Jaeger
 * clients send spans to an agent.
 *
 * The server (server.c) starts it next to, or instead of, the TCP listener,
 * on the same port number. Datagrams are received into one buffer charged
 * to the server's memory budget at start (the largest message it takes:
 * max_frame, at most a datagram's 65535 bytes), decoded with an arena from
 * the same budget and given to the service's process() as oneway calls with
 * no connection (kg_call.conn is NULL). At most `budget` datagrams are
 * served per turn of the event loop, so a flood cannot hold up the TCP
 * connections; what the socket cannot queue meanwhile the kernel drops.
 */
#ifndef _KGEN_DGRAM_H
#define _KGEN_DGRAM_H

#include "compat.h"

struct kg_dgram;
struct kg_loop;
struct kg_mem;
struct kg_server;
struct kg_service;
struct kg_server_config;
struct kg_server_stats;

/* Largest UDP payload (IPv6 carries up to 65527 bytes, IPv4 65507). */
#define KG_DGRAM_MAX	65535u

int kg_dgram_start(struct kg_dgram **out, struct kg_server *srv, struct kg_loop *loop,
		   struct kg_mem *mem, const struct kg_server_config *cfg,
		   const struct kg_service *svc, u16 port);
u16 kg_dgram_port(const struct kg_dgram *d);
/* Stop serving and give back the memory; the counters stay readable. Not from the loop. */
void kg_dgram_stop(struct kg_dgram *d);
void kg_dgram_free(struct kg_dgram *d);
/* Add the datagram counters (and the messages served) to @st. */
void kg_dgram_stats(const struct kg_dgram *d, struct kg_server_stats *st);

#endif /* _KGEN_DGRAM_H */
