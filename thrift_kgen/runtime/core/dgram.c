// SPDX-License-Identifier: GPL-2.0
/*
 * UDP for oneway-only services (see dgram.h).
 *
 * One event, one buffer, one arena: the event function never runs twice at
 * once (event.h), so nothing here needs a lock; the counters are atomic
 * only for the readers of kg_server_stats().
 *
 * A datagram is dropped (counted in dgrams_dropped, never answered) when it
 * is empty, longer than the buffer (max_frame), its header cannot be read,
 * it is not a CALL or ONEWAY message, or the service could not serve it:
 * arguments malformed or over a limit, no arena memory, unknown method (the
 * processor then asks for an exception reply, which a datagram cannot get:
 * kg_call.unanswered).
 */
#define pr_fmt(fmt) "kgen-dgram: " fmt

#include "kgen/dgram.h"
#include "kgen/server.h"
#include "kgen/event.h"
#include "kgen/arena.h"
#include "kgen/mem.h"
#include "kgen/netcompat.h"

struct kg_dgram {
	struct kg_server *srv;
	const struct kg_service *svc;
	struct kg_mem *mem;
	struct kg_loop *loop;
	struct kg_sock *sock;
	struct kg_event ev;
	bool attached;
	u8 proto;			/* enum kg_protocol, or anything else: per datagram */
	u32 budget;			/* datagrams per run */
	struct kg_limits limits;
	u8 *buf;			/* one datagram, charged to @mem */
	size_t buf_size;
	struct kg_arena arena;
	u16 port;
	u64 lost_at_stop;		/* the socket's drops, kept once it is released */
	atomic64_t dgrams_in, dgrams_dropped, messages;
};

/*
 * The protocol of one datagram. A fixed setting is honoured (a datagram in
 * the other protocol then fails to decode); any other (protocol=auto)
 * looks at the first byte: 0x82 is compact's protocol id, while binary
 * starts 0x80 0x01 (strict) or with the name's length (old style).
 */
static u8 kg_dgram_proto(const struct kg_dgram *d, const u8 *p, size_t len)
{
	if (d->proto == KG_PROTO_BINARY || d->proto == KG_PROTO_COMPACT)
		return d->proto;
	return len && p[0] == 0x82 ? KG_PROTO_COMPACT : KG_PROTO_BINARY;
}

/* Serve the datagram in d->buf. Return: true if served, false if dropped. */
static bool kg_dgram_serve(struct kg_dgram *d, size_t len)
{
	struct kg_reader in;
	struct kg_call call;
	int err;

	memset(&call, 0, sizeof(call));
	kg_reader_init(&in, d->buf, len, kg_dgram_proto(d, d->buf, len), &d->arena, &d->limits);
	err = kg_read_message_begin(&in, &call.method, &call.msg_type, &call.seqid);
	if (err || (call.msg_type != KG_MSG_CALL && call.msg_type != KG_MSG_ONEWAY))
		return false;
	call.raw.data = d->buf;
	call.raw.len = (u32)len;
	call.in = &in;
	call.arena = &d->arena;
	call.server = d->srv;
	call.service_data = d->svc->data;
	/*
	 * There is no way back to the sender: whatever it asked for, the call
	 * is oneway, so the processor writes nothing (and never looks for the
	 * connection, which is NULL).
	 */
	call.msg_type = KG_MSG_ONEWAY;
	err = d->svc->process(&call);
	kg_arena_reset(&d->arena);
	return !err && !call.unanswered;
}

static void kg_dgram_event(struct kg_event *ev, unsigned int events)
{
	struct kg_dgram *d = container_of(ev, struct kg_dgram, ev);
	bool truncated;
	ssize_t len;
	u32 n;

	for (n = 0; n < d->budget; n++) {
		len = kg_sock_recv_dgram(d->sock, d->buf, d->buf_size, &truncated);
		if (len == -EAGAIN)
			return;		/* the next datagram raises the event again */
		if (len < 0) {
			pr_debug("recv: %zd\n", len);
			continue;
		}
		atomic64_inc(&d->dgrams_in);
		if (!len || truncated || !kg_dgram_serve(d, (size_t)len))
			atomic64_inc(&d->dgrams_dropped);
		else
			atomic64_inc(&d->messages);
	}
	/* Budget spent: the other ready events first, then more datagrams. */
	kg_event_kick(ev, KG_EV_READ);
}

/**
 * kg_dgram_start() - serve @svc's oneway calls over UDP
 * @out: the new UDP server
 * @srv: the server calls belong to (kg_call.server)
 * @loop: the event loop
 * @mem: the memory budget for the buffer and the arena
 * @cfg: address, protocol, limits, budget (resolved by kg_server_start())
 * @svc: the service; must outlive it
 * @port: the port (0: any free one, see kg_dgram_port())
 *
 * Return: 0, -ENOMEM (also when the budget cannot pay for the buffer), or
 * the socket's error (e.g. -EADDRINUSE).
 */
int kg_dgram_start(struct kg_dgram **out, struct kg_server *srv, struct kg_loop *loop,
		   struct kg_mem *mem, const struct kg_server_config *cfg,
		   const struct kg_service *svc, u16 port)
{
	struct kg_dgram *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->srv = srv;
	d->svc = svc;
	d->mem = mem;
	d->loop = loop;
	d->proto = cfg->proto;
	d->budget = cfg->budget ?: 1;
	d->limits = cfg->limits;
	d->buf_size = min_t(size_t, cfg->limits.max_frame, KG_DGRAM_MAX);
	d->buf = kg_mem_alloc(mem, d->buf_size, false);
	if (!d->buf) {
		err = -ENOMEM;
		goto free;
	}
	kg_arena_init_mem(&d->arena, mem, cfg->limits.arena_size);
	err = kg_sock_bind_udp(loop, cfg->addr, port, &d->sock);
	if (err)
		goto free_buf;
	d->port = kg_sock_local_port(d->sock);
	err = kg_event_attach_dgram(&d->ev, loop, d->sock, kg_dgram_event);
	if (err)
		goto release;
	d->attached = true;
	*out = d;
	return 0;

release:
	kg_sock_release(d->sock);
free_buf:
	kg_mem_free(mem, d->buf, d->buf_size);
free:
	kfree(d);
	return err;
}

/**
 * kg_dgram_port() - the UDP port
 * @d: the UDP server
 *
 * Return: the bound port.
 */
u16 kg_dgram_port(const struct kg_dgram *d)
{
	return d->port;
}

/**
 * kg_dgram_stop() - stop serving datagrams
 * @d: the UDP server (NULL is ignored)
 *
 * Detaches the socket's callback, waits for a run in progress, closes the
 * socket (dropping whatever it still holds) and gives the buffer and the
 * arena back to the budget. Never from the event loop.
 */
void kg_dgram_stop(struct kg_dgram *d)
{
	if (!d || !d->attached)
		return;
	kg_event_detach(&d->ev);
	kg_event_sync(&d->ev);
	d->attached = false;
	d->lost_at_stop = kg_sock_dgram_drops(d->sock);
	kg_sock_release(d->sock);
	d->sock = NULL;
	kg_arena_release(&d->arena);
	kg_mem_free(d->mem, d->buf, d->buf_size);
	d->buf = NULL;
}

/**
 * kg_dgram_free() - free a stopped UDP server
 * @d: the UDP server (NULL is ignored)
 */
void kg_dgram_free(struct kg_dgram *d)
{
	if (!d)
		return;
	kg_dgram_stop(d);
	kfree(d);
}

/**
 * kg_dgram_stats() - add the UDP counters to @st
 * @d: the UDP server (NULL: nothing to add)
 * @st: the server's counters
 */
void kg_dgram_stats(const struct kg_dgram *d, struct kg_server_stats *st)
{
	struct kg_dgram *m = (struct kg_dgram *)d;

	if (!d)
		return;
	st->dgrams_in += atomic64_read(&m->dgrams_in);
	st->dgrams_dropped += atomic64_read(&m->dgrams_dropped);
	st->messages += atomic64_read(&m->messages);
	st->dgrams_lost += d->attached ? kg_sock_dgram_drops(d->sock) : d->lost_at_stop;
}
