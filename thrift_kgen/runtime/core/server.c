// SPDX-License-Identifier: GPL-2.0
/*
 * Thrift server: listener, connections and calls (see server.h).
 *
 * Lifetime of a connection, after nvmet-tcp:
 *  - it is created with one reference, owned by the server's list;
 *  - kg_conn_close() (from its own handler, another connection's handler,
 *    or kg_server_stop()) takes it off the list, detaches its event (no new
 *    runs are queued), shuts the socket down and queues the reap work;
 *  - the reap work first waits for a run of the event function that may
 *    still be queued or running (kg_event_sync(): in the kernel, off the
 *    ready list or cancel_work_sync()), and only then calls conn_close,
 *    frees the buffers and the socket and drops the list's reference;
 *  - the last kg_conn_put() frees the structure itself. Other connections
 *    may hold references (a forwarder's backends) past the reap: their
 *    writes then fail with -EPIPE, nothing else is touched.
 *
 * State: enum kg_conn_state. CLOSED is set under the server's lock by
 * kg_conn_close() from any context; the event function's own steps
 * (CONNECTING -> OPEN -> DRAINING) are compare-and-swaps, so they never undo
 * a close.
 *
 * Concurrency (kernel): one connection's event function never runs twice at
 * once, so the receive side, the arena and the message loop need no lock.
 * Send buffers are locked in bsock. The server's lock covers the list, the
 * connection count, the stopping flag, the memory waiters and evicting.
 *
 * Memory (see mem.h, docs/runtime-core.md): the structure, both buffers and
 * the arena's chunks of every connection are charged to srv->mem. A
 * connection that cannot get memory for input stops reading and waits on
 * srv->mem_waiters; kg_server_make_room() closes the connection holding the
 * most input memory (receive buffer and arena), never one with replies in
 * its send buffer; the budget's wake hook resumes the waiters. Lock order:
 * a send lock, then the server's lock (an uncharge under a send lock wakes
 * the waiters), then the event layer's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "kgen/server.h"
#include "kgen/event.h"
#include "kgen/bsock.h"
#include "kgen/tsock.h"
#include "kgen/netcompat.h"
#include "kgen/mem.h"
#include "kgen/dgram.h"

#define KG_FILL_BUDGET		(256u * 1024)	/* bytes received per fill */
#define KG_DEFAULT_SNDBUF	(1024u * 1024)
#define KG_DEFAULT_BUDGET	64
/* A kernel service needs no 16 MB message: 4 MiB, and strings up to it. */
#define KG_SERVER_MAX_FRAME	(4u << 20)
/* 16 messages of max_frame at once, or thousands of idle connections. */
#define KG_DEFAULT_MEM_BUDGET	(64u << 20)
/*
 * Connections accepted per run of the listener before it requeues itself
 * behind the other ready events: a burst of connects may not hold up the
 * connections already served.
 */
#define KG_ACCEPT_BUDGET	16
/* Timeout checks: a quarter of the shortest timeout, within these bounds. */
#define KG_TICK_MIN_MS		100u
#define KG_TICK_MAX_MS		1000u
/* Longest timeout: differences of kg_now_ms() must fit an s32. */
#define KG_TIMEOUT_MAX_MS	(24u * 24 * 3600 * 1000)
/* Connections closed or retired per pass (more wait for the next one). */
#define KG_EXPIRE_BATCH		32
/*
 * A run for writing only (bytes queued by other connections' handlers, a
 * forwarder's backend) leaves fewer than this many bytes queued while the
 * loop has connections to read, for at most KG_FLUSH_DEFER_MAX passes: one
 * flush and one wake-up of the peer for several passes of small messages,
 * where each pass flushed every backend. Below the buffer's first size
 * (KG_BSOCK_INITIAL) and KG_BSOCK_ZC_MIN, so it grows no buffer; bigger
 * messages reach it in every pass and are flushed as before.
 */
#ifndef KG_FLUSH_BATCH
#define KG_FLUSH_BATCH		12288u
#endif
#define KG_FLUSH_DEFER_MAX	16

/* A connection's life (struct kg_conn.state). */
enum kg_conn_state {
	KG_CONN_OPEN = 0,	/* serving */
	KG_CONN_CONNECTING,	/* outbound, connect in progress: writes are queued */
	KG_CONN_DRAINING,	/* the peer finished: closed once replies are out */
	KG_CONN_CLOSED,		/* off the list; the reap work releases it */
};

/* Who runs a connection's event function: see kg_conn_event(). */
enum kg_run_state {
	KG_RUN_IDLE = 0,
	KG_RUN_BUSY,		/* the event function, past its last look at input */
	KG_RUN_SERVING,		/* the event function, which flushes before it returns */
	KG_RUN_RETIRING,	/* the listener checks whether the peer is gone */
};

enum kg_close_reason {
	KG_CLOSE_OTHER = 0,
	KG_CLOSE_IDLE,
	KG_CLOSE_MESSAGE_TIMEOUT,
	KG_CLOSE_BAD_INPUT,
};

struct kg_server {
	struct kg_server_config cfg;
	const struct kg_service *svc;
	struct kg_loop *loop;
	struct kg_sock *listener;
	struct kg_event listen_ev;
	bool listening;
	u16 port;
	struct kg_dgram *dgram;		/* listen=udp or both (dgram.c) */

	spinlock_t lock;		/* conns, accepted_live, stopping, timer_armed */
	struct list_head conns;
	u32 accepted_live;		/* inbound connections, against max_conns */
	bool stopping;
	bool timer_armed;
	atomic_t live;			/* connections not yet reaped */
	struct kg_timer timer;		/* timeouts */
	u32 tick_ms;

	atomic64_t accepted, refused, closed, messages, bad_messages;
	atomic64_t refused_max_conns, closed_idle, closed_message_timeout, closed_bad_input;
	atomic64_t app_exceptions, backpressure;
	atomic64_t bytes_in_reaped, bytes_out_reaped, parse_bytes_reaped, bytes_lent_reaped;
	atomic64_t bytes_inplace_reaped;

	struct kg_mem mem;
	struct list_head mem_waiters;	/* struct kg_conn.mem_node, under lock */
	u64 evicting;			/* input bytes of victims not yet reaped */
	atomic64_t mem_pressure, refused_memory, closed_memory, closed_reply_too_large;
	atomic64_t conns_binary, conns_compact;
};

struct kg_conn {
	struct kref ref;
	struct kg_server *srv;
	const struct kg_service *svc;
	struct kg_sock *sock;
	struct kg_event ev;
	struct kg_bsock bs;
	struct kg_tsock ts;
	struct kg_arena arena;		/* chunks from srv->mem while a message is served */
	struct kg_deferred reap;
	struct list_head mem_node;	/* in srv->mem_waiters: waits for memory */
	size_t evicted_bytes;		/* counted in srv->evicting until reaped */
	struct list_head node;		/* in srv->conns while open */
	struct kg_bsock_waiter waiter;	/* registered on waiting_on->bs */
	struct kg_conn *waiting_on;	/* holds a reference */
	void *user;
	atomic_t state;			/* enum kg_conn_state */
	bool trim_wanted;		/* quiet for a tick: free the empty buffers and arena */
	bool serve_first;		/* whole messages were left unserved: no receive before them */
	u32 msg_bytes;			/* stream bytes per message served, lately (borrow sizing) */
	u8 flush_defers;		/* write-only runs since the last flush: see kg_conn_flush_later() */
	atomic_t run_state;		/* enum kg_run_state */
	bool outbound;			/* kg_connect()'s, not accepted */
	u8 close_reason;		/* enum kg_close_reason, set by the event function */
	/* Set by the event function: when the message in progress began, 0 if none. */
	u32 partial_since;
	/* The timeout pass's own (under srv->lock): when bytes last moved, 0 if never looked at. */
	u32 active_at;
	u64 seen_bytes;
};

static inline enum kg_conn_state kg_conn_state(const struct kg_conn *c)
{
	return atomic_read(&c->state);
}

/**
 * kg_server_config_defaults() - fill @cfg with the defaults
 * @cfg: the configuration
 *
 * 127.0.0.1, framed, the protocol of each client (auto), 4 MiB max frame
 * (strings up to it; replies up to whatever max_frame is at start),
 * a 1 MiB send buffer, 1024 connections, a 64 MiB memory budget.
 */
void kg_server_config_defaults(struct kg_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = "127.0.0.1";
	cfg->port = 9090;
	cfg->transport = KG_TRANSPORT_FRAMED;
	cfg->proto = KG_PROTO_AUTO;
	cfg->max_conns = 1024;
	cfg->limits = kg_default_limits;
	cfg->limits.max_frame = KG_SERVER_MAX_FRAME;
	cfg->limits.max_string = KG_SERVER_MAX_FRAME;
	cfg->rcvbuf_max = cfg->limits.max_frame + KG_FRAME_HEADER_LEN;
	cfg->sndbuf_max = KG_DEFAULT_SNDBUF;
	cfg->max_reply = 0;	/* resolved at start: max_frame + 4, at least sndbuf_max */
	cfg->mem_budget = KG_DEFAULT_MEM_BUDGET;
	cfg->budget = KG_DEFAULT_BUDGET;
	cfg->wq_mode = KG_WQ_ORDERED;
	cfg->idle_timeout_ms = KG_DEFAULT_IDLE_TIMEOUT_MS;
	cfg->message_timeout_ms = KG_DEFAULT_MESSAGE_TIMEOUT_MS;
}

/* ---- references ---- */

static void kg_conn_free(struct kref *ref)
{
	struct kg_conn *c = container_of(ref, struct kg_conn, ref);

	kvfree(c);	/* uncharged at the reap: the server may be gone by now */
}

/**
 * kg_conn_get() - take a reference on a connection
 * @c: the connection
 */
void kg_conn_get(struct kg_conn *c)
{
	kref_get(&c->ref);
}

/**
 * kg_conn_put() - drop a reference; the last one frees the structure
 * @c: the connection (NULL is ignored)
 *
 * Any context: the socket and buffers were already released by the reap
 * work, so only memory is freed here.
 */
void kg_conn_put(struct kg_conn *c)
{
	if (c)
		kref_put(&c->ref, kg_conn_free);
}

/* ---- closing ---- */

static void kg_conn_stop_waiting(struct kg_conn *c)
{
	struct kg_conn *target = c->waiting_on;

	if (!target)
		return;
	kg_bsock_cancel_wait(&target->bs, &c->waiter);
	c->waiting_on = NULL;
	kg_conn_put(target);
}

/* Deferred: the event is detached; wait for its last run, then release. */
static void kg_conn_reap(struct kg_deferred *d)
{
	struct kg_conn *c = container_of(d, struct kg_conn, reap);
	struct kg_server *srv = c->srv;

	/* Listed, so attached and opened (kg_conn_create()). */
	kg_event_sync(&c->ev);
	kg_conn_stop_waiting(c);
	if (c->svc && c->svc->conn_close)
		c->svc->conn_close(c);
	atomic64_add(c->bs.bytes_in, &srv->bytes_in_reaped);
	atomic64_add(c->ts.parse_bytes, &srv->parse_bytes_reaped);
	atomic64_add(c->bs.bytes_out, &srv->bytes_out_reaped);
	atomic64_add(c->bs.bytes_lent, &srv->bytes_lent_reaped);
	atomic64_add(c->bs.bytes_inplace, &srv->bytes_inplace_reaped);
	if (c->evicted_bytes) {
		/* Before the uncharges: the waiters they wake may evict again. */
		spin_lock(&srv->lock);
		srv->evicting -= c->evicted_bytes;
		spin_unlock(&srv->lock);
	}
	kg_bsock_destroy(&c->bs);
	kg_sock_release(c->sock);
	c->sock = NULL;
	kg_arena_release(&c->arena);
	atomic_dec(&srv->live);
	kg_mem_uncharge(&srv->mem, sizeof(*c));
	if (!atomic_read(&srv->live))
		kg_mem_shrink(&srv->mem);	/* quiet now: hold no free buffers */
	kg_conn_put(c);		/* the list's reference */
}

static bool kg_conn_close_why(struct kg_conn *c, enum kg_close_reason why);

/**
 * kg_conn_close() - close a connection
 * @c: the connection
 *
 * Safe from any handler (its own or another connection's) and more than
 * once. Queued replies get one last non-blocking flush; the rest is dropped.
 * The connection is released later, once its handler cannot be running.
 */
void kg_conn_close(struct kg_conn *c)
{
	kg_conn_close_why(c, KG_CLOSE_OTHER);
}

/* kg_conn_close(), counting @why. Return: false if it was closed already. */
static bool kg_conn_close_why(struct kg_conn *c, enum kg_close_reason why)
{
	struct kg_server *srv = c->srv;
	enum kg_conn_state was;

	spin_lock(&srv->lock);
	/*
	 * Closers serialize on the lock; the event function's compare-and-swaps
	 * in between cannot undo CLOSED (a stale @was only skips a flush).
	 */
	was = kg_conn_state(c);
	if (was == KG_CONN_CLOSED) {
		spin_unlock(&srv->lock);
		return false;
	}
	atomic_set(&c->state, KG_CONN_CLOSED);
	list_del_init(&c->node);
	if (!list_empty(&c->mem_node)) {
		list_del_init(&c->mem_node);
		atomic_dec(&srv->mem.waiting);
	}
	if (!c->outbound)
		srv->accepted_live--;
	spin_unlock(&srv->lock);

	kg_event_detach(&c->ev);
	if (was != KG_CONN_CONNECTING)
		kg_bsock_flush(&c->bs);
	kg_bsock_mark_dead(&c->bs);
	kg_sock_shutdown(c->sock);
	atomic64_inc(&srv->closed);
	if (why == KG_CLOSE_IDLE)
		atomic64_inc(&srv->closed_idle);
	else if (why == KG_CLOSE_MESSAGE_TIMEOUT)
		atomic64_inc(&srv->closed_message_timeout);
	else if (why == KG_CLOSE_BAD_INPUT)
		atomic64_inc(&srv->closed_bad_input);
	kg_deferred_queue(&c->reap);
	return true;
}

/* ---- memory ---- */

/*
 * The budget's wake hook (after an uncharge while someone waits): resume
 * every waiter once a receive buffer's worth of input memory is free.
 */
static void kg_server_mem_wake(struct kg_mem *m)
{
	struct kg_server *srv = container_of(m, struct kg_server, mem);
	struct kg_conn *c;

	if (kg_mem_in_use(m) + KG_BSOCK_INITIAL > m->limit - m->reserve)
		return;
	spin_lock(&srv->lock);
	while (!list_empty(&srv->mem_waiters)) {
		c = list_first_entry(&srv->mem_waiters, struct kg_conn, mem_node);
		list_del_init(&c->mem_node);
		atomic_dec(&m->waiting);
		kg_event_kick(&c->ev, KG_EV_READ);
	}
	spin_unlock(&srv->lock);
}

/*
 * The budget is spent: close the connection holding the most input memory
 * (receive buffer plus arena: a message it has not finished sending, or
 * not yet been served) so that the others can go on. Connections with
 * bytes in their send buffer are never chosen: they are sending replies,
 * which leave as their client reads (one that never reads is ended by the
 * timeouts). Outbound connections (the module's own, to configured
 * backends) are not chosen either, nor connections between messages: their
 * kept buffers are given back instead (kg_conn_trim()), and nobody is
 * closed this time. Nothing is chosen while an earlier victim is still
 * being released: its reap frees the memory and wakes the waiters.
 */
static void kg_conn_trim_if_quiet(struct kg_conn *c);

/*
 * Between messages, with nothing unread and not being served: what @c holds
 * are only the buffers and arena kept for its next message (see
 * kg_conn_trim()). Under srv->lock.
 */
static bool kg_conn_between_messages(struct kg_conn *c)
{
	return READ_ONCE(c->bs.rhead) == READ_ONCE(c->bs.rtail) && !READ_ONCE(c->partial_since) &&
	       atomic_read(&c->run_state) != KG_RUN_SERVING;
}

static void kg_server_make_room(struct kg_server *srv)
{
	struct kg_conn *c, *victim = NULL;
	size_t best = 0, held, rcv;
	bool trimming = false;

	spin_lock(&srv->lock);
	if (srv->evicting) {
		spin_unlock(&srv->lock);
		return;
	}
	list_for_each_entry(c, &srv->conns, node) {
		if (c->outbound)
			continue;	/* the module's own (a forwarder's backends) */
		if (kg_bsock_sending(&c->bs))
			continue;	/* replies in flight */
		kg_bsock_held(&c->bs, &rcv);
		held = rcv + READ_ONCE(c->arena.held);
		if (!held)
			continue;
		if (kg_conn_between_messages(c)) {
			/* Its run gives them back (and wakes the waiters): close nobody. */
			kg_conn_trim_if_quiet(c);
			trimming = true;
			continue;
		}
		if (held > best) {
			best = held;
			victim = c;
		}
	}
	if (trimming)
		victim = NULL;
	if (victim) {
		kg_conn_get(victim);
		victim->evicted_bytes = best;
		srv->evicting += best;
	}
	spin_unlock(&srv->lock);
	if (!victim)
		return;
	pr_debug("memory budget spent: closing a connection holding %zu bytes\n", best);
	atomic64_inc(&srv->closed_memory);
	kg_conn_close(victim);
	kg_conn_put(victim);
}

/*
 * @c needs memory it cannot get: it stops reading until some is freed, and
 * room is made. @frees is the budget's uncharge count from before the
 * failed attempt: if memory was freed since, retry at once (the wake-up
 * may have come before @c was listed).
 */
static void kg_conn_mem_wait(struct kg_conn *c, u64 frees)
{
	struct kg_server *srv = c->srv;

	atomic64_inc(&srv->mem_pressure);
	spin_lock(&srv->lock);
	if (kg_conn_state(c) != KG_CONN_CLOSED && list_empty(&c->mem_node)) {
		list_add_tail(&c->mem_node, &srv->mem_waiters);
		atomic_inc(&srv->mem.waiting);
	}
	spin_unlock(&srv->lock);
	kg_server_make_room(srv);
	if (kg_mem_frees(&srv->mem) != frees)
		kg_event_kick(&c->ev, KG_EV_READ);
}

static bool kg_conn_mem_waiting(struct kg_conn *c)
{
	bool waiting;

	spin_lock(&c->srv->lock);
	waiting = !list_empty(&c->mem_node);
	spin_unlock(&c->srv->lock);
	return waiting;
}

/* ---- writing ---- */

/*
 * Bytes were queued on @c from somewhere: make sure they get sent. If @c's
 * event function is serving it flushes before returning (it leaves
 * KG_RUN_SERVING before its last flush, and both sides order through the
 * send lock); otherwise kick it, so many writes cost one flush in @c's own
 * context.
 */
static void kg_conn_wrote(struct kg_conn *c)
{
	/* Still connecting: the completion event flushes. */
	if (kg_conn_state(c) != KG_CONN_CONNECTING &&
	    atomic_read(&c->run_state) != KG_RUN_SERVING)
		kg_event_kick(&c->ev, KG_EV_WRITE);
}

/**
 * kg_conn_write_all() - queue all of @len bytes on @c or none
 * @c: the connection
 * @buf: bytes
 * @len: how many
 *
 * Return: 0, -ENOBUFS (no room now), -EPIPE (closed), -ENOMEM.
 */
int kg_conn_write_all(struct kg_conn *c, const void *buf, size_t len)
{
	int err = kg_bsock_write_all(&c->bs, buf, len);

	if (!err)
		kg_conn_wrote(c);
	return err;
}

/**
 * kg_conn_write() - queue as much of @len bytes on @c as fits now
 * @c: the connection
 * @buf: bytes
 * @len: how many
 *
 * Return: bytes queued (0 when the send buffer is full or the memory budget
 * is spent: @c is woken when it can go on), or -EPIPE.
 */
ssize_t kg_conn_write(struct kg_conn *c, const void *buf, size_t len)
{
	u64 frees = kg_mem_frees(&c->srv->mem);
	ssize_t n = kg_bsock_write(&c->bs, buf, len);

	if (n == -ENOMEM) {
		/* Nothing queued: @c resumes once memory is freed. */
		kg_conn_mem_wait(c, frees);
		return 0;
	}
	if (n > 0)
		kg_conn_wrote(c);
	return n;
}

/**
 * kg_conn_peek() - the bytes received on @c and not yet discarded
 * @c: the connection
 * @data: set to the first byte
 *
 * Only from @c's own handler.
 *
 * Return: how many bytes.
 */
ssize_t kg_conn_peek(struct kg_conn *c, const u8 **data)
{
	return kg_bsock_peek(&c->bs, data);
}

/**
 * kg_conn_discard() - drop received bytes from the front
 * @c: the connection
 * @len: how many
 */
void kg_conn_discard(struct kg_conn *c, size_t len)
{
	kg_bsock_discard(&c->bs, len);
}

/*
 * @waiter could not write to @target: wake it when @target drains.
 * Return: -EAGAIN when registered, 0 when there is room now (retry).
 */
static int kg_conn_wait_for(struct kg_conn *waiter, struct kg_conn *target, size_t need)
{
	int ret;

	if (waiter->waiting_on && waiter->waiting_on != target)
		kg_conn_stop_waiting(waiter);
	if (!waiter->waiting_on) {
		kg_conn_get(target);
		waiter->waiting_on = target;
	}
	ret = kg_bsock_wait_room(&target->bs, &waiter->waiter, need);
	if (ret == -EAGAIN)
		atomic64_inc(&waiter->srv->backpressure);
	else
		kg_conn_stop_waiting(waiter);
	return ret;
}

/**
 * kg_conn_forward() - forward the call's whole message to @to, as received
 * @to: the destination connection
 * @call: the call being served
 *
 * Return: 0; -EAGAIN when @to is full (the caller's connection is woken
 * when it drains: return -EAGAIN from process()); -EPIPE when @to is
 * closed; -EFBIG when the message can never fit @to's send buffer; -EPROTO
 * when @to speaks another protocol than the call came in (a compact client
 * of an auto server forwarded to a binary backend: not re-encoded).
 */
int kg_conn_forward(struct kg_conn *to, const struct kg_call *call)
{
	u32 hdr = call->raw.len - (call->in->end - call->in->start);
	const u8 *payload = call->raw.data + hdr;
	u32 len = call->raw.len - hdr;
	int err;

	/* Bytes as received: meaningless to a peer of the other protocol. */
	if (call->conn->ts.proto != to->ts.proto)
		return -EPROTO;
	for (;;) {
		u64 frees = kg_mem_frees(&to->srv->mem);

		/* No message struct on the stack: no canary, nothing cleared. */
		err = kg_tsock_write_payload(&to->ts, payload, len);
		if (!err) {
			kg_conn_wrote(to);
			return 0;
		}
		if (err == -ENOMEM) {
			/* The budget is spent: the caller waits for memory. */
			kg_conn_mem_wait(call->conn, frees);
			return -EAGAIN;
		}
		/* Not -EMSGSIZE: process() would take it for a decode error. */
		if (err == -EMSGSIZE)
			return -EFBIG;
		if (err != -ENOBUFS)
			return err;
		err = kg_conn_wait_for(call->conn, to, kg_frame_header_len(to->ts.transport) + len);
		if (err)
			return err;
	}
}

struct kg_msg_encoding {
	const char *name;
	u32 name_len;
	u8 msg_type;
	s32 seqid;
	kg_encode_fn encode;
	const void *value;
};

static int kg_encode_message(struct kg_writer *w, const void *arg)
{
	const struct kg_msg_encoding *m = arg;
	int err;

	kg_write_message_begin(w, m->name, m->name_len, m->msg_type, m->seqid);
	err = m->encode ? m->encode(w, m->value) : 0;
	kg_write_message_end(w);
	return err;
}

/**
 * kg_conn_send_message() - send one whole Thrift message on @c
 * @c: the connection
 * @name: method name
 * @msg_type: KG_MSG_*
 * @seqid: sequence id
 * @encode: writes the value (the argument or result struct); may be NULL
 * @value: passed to @encode
 *
 * Encoded in place in the send buffer, framed if @c is.
 *
 * Return: 0, -ENOBUFS (no room now), -EPIPE, -EMSGSIZE, or @encode's error.
 */
int kg_conn_send_message(struct kg_conn *c, const char *name, u8 msg_type, s32 seqid,
			 kg_encode_fn encode, const void *value)
{
	struct kg_msg_encoding m = {
		.name = name, .name_len = strlen(name), .msg_type = msg_type,
		.seqid = seqid, .encode = encode, .value = value,
	};
	int err = kg_tsock_write_encoded(&c->ts, kg_encode_message, &m);

	if (!err)
		kg_conn_wrote(c);
	return err;
}

/**
 * kg_call_reply() - write the reply to @call
 * @call: the call being served
 * @msg_type: KG_MSG_REPLY (or KG_MSG_EXCEPTION)
 * @encode: writes the result struct
 * @value: passed to @encode
 *
 * Encoded in one pass in place in the connection's send buffer, which
 * grows for a reply larger than its free room (up to max_reply; such a
 * reply is encoded once more, see kg_tsock_write_encoded()). A
 * reply over max_reply is answered with a TApplicationException (if that
 * fits) and the connection closed; so is one the memory budget cannot pay
 * for. Oneway calls get no reply (returns 0).
 *
 * Return: 0; -EFBIG (over max_reply) or -ECONNABORTED (no memory):
 * process() returns it and the connection is closed; -ENOBUFS, -EPIPE, or @encode's
 * error.
 */
int kg_call_reply(struct kg_call *call, u8 msg_type, kg_encode_fn encode, const void *value)
{
	struct kg_msg_encoding m = {
		.name = (const char *)call->method.data, .name_len = call->method.len,
		.msg_type = msg_type, .seqid = call->seqid, .encode = encode, .value = value,
	};
	int err;

	if (call->msg_type == KG_MSG_ONEWAY)
		return 0;
	err = kg_tsock_write_encoded(&call->conn->ts, kg_encode_message, &m);
	if (err == -EMSGSIZE) {
		atomic64_inc(&call->server->closed_reply_too_large);
		pr_debug("reply over max_reply (%u): closing\n", call->server->cfg.max_reply);
		kg_call_reply_app_exception(call, KG_APPEX_INTERNAL_ERROR, "reply too large");
		return -EFBIG;
	}
	if (err == -ENOMEM) {
		/* A reply cannot wait: the handler ran. Out of memory for it: close. */
		atomic64_inc(&call->server->closed_memory);
		return -ECONNABORTED;
	}
	if (!err) {
		call->replied = true;
		kg_conn_wrote(call->conn);
	}
	return err;
}

struct kg_appex_encoding {
	struct kg_bytes method;
	s32 seqid;
	u32 type;
	const char *message;
};

static int kg_encode_appex(struct kg_writer *w, const void *arg)
{
	const struct kg_appex_encoding *e = arg;

	kg_write_app_exception(w, e->method, e->seqid, e->type, e->message);
	return 0;
}

/**
 * kg_call_reply_app_exception() - reply with a TApplicationException
 * @call: the call being served
 * @type: enum kg_app_exception_type
 * @message: text for the client
 *
 * Return: 0 (also for oneway calls, which get nothing), -ENOBUFS, -EPIPE.
 */
int kg_call_reply_app_exception(struct kg_call *call, u32 type, const char *message)
{
	struct kg_appex_encoding e = {
		.method = call->method, .seqid = call->seqid, .type = type, .message = message,
	};
	int err;

	if (call->msg_type == KG_MSG_ONEWAY) {
		call->unanswered = true;
		return 0;
	}
	err = kg_tsock_write_encoded(&call->conn->ts, kg_encode_appex, &e);
	if (!err) {
		call->replied = true;
		atomic64_inc(&call->server->app_exceptions);
		kg_conn_wrote(call->conn);
	}
	return err;
}

/* ---- the message loop ---- */

/* An accepted connection's protocol is known: fixed at accept, or detected. */
static void kg_server_count_proto(struct kg_server *srv, u8 proto)
{
	atomic64_inc(proto == KG_PROTO_COMPACT ? &srv->conns_compact : &srv->conns_binary);
}

enum kg_serve_result {
	KG_SERVE_MORE = 0,	/* every whole message served: receive more */
	KG_SERVE_STOPPED = 1,	/* stopped for budget or backpressure: a kick is arranged */
};

static bool kg_decode_error(int err)
{
	return err == -EBADMSG || err == -ENODATA || err == -EMSGSIZE || err == -ENOMEM;
}

/* Serve one whole message. Return 0 (consumed), -EAGAIN (keep it) or an error. */
static int kg_conn_serve_message(struct kg_conn *c, const struct kg_tmsg *msg)
{
	struct kg_server *srv = c->srv;
	struct kg_reader in __kg_noinit;
	struct kg_call call __kg_noinit;
	int err;

	kg_reader_init(&in, msg->payload.data, msg->payload.len, c->ts.proto, &c->arena,
		       &srv->cfg.limits);
	err = kg_read_message_begin_inline(&in, &call.method, &call.msg_type, &call.seqid);
	if (err) {
		atomic64_inc(&srv->bad_messages);
		pr_debug("unreadable message header: %d\n", err);
		return -EBADMSG;	/* no seqid to answer to */
	}
	/* Every member set (not cleared first: see __kg_noinit). */
	call.raw = msg->raw;
	call.in = &in;
	call.arena = &c->arena;
	call.conn = c;
	call.server = srv;
	call.service_data = c->svc ? c->svc->data : NULL;
	call.replied = false;
	call.unanswered = false;

	if (c->outbound ? (call.msg_type != KG_MSG_REPLY && call.msg_type != KG_MSG_EXCEPTION)
			: (call.msg_type != KG_MSG_CALL && call.msg_type != KG_MSG_ONEWAY)) {
		atomic64_inc(&srv->bad_messages);
		if (!c->outbound)
			kg_call_reply_app_exception(&call, KG_APPEX_INVALID_MESSAGE_TYPE,
						    "invalid message type");
		return 0;
	}
	if (!c->svc || !c->svc->process)
		return 0;
	err = c->svc->process(&call);
	kg_arena_reset(&c->arena);
	if (err == -EAGAIN)
		return err;
	if (err && kg_decode_error(err)) {
		atomic64_inc(&srv->bad_messages);
		if (!call.replied)
			kg_call_reply_app_exception(&call, KG_APPEX_PROTOCOL_ERROR,
						    "malformed arguments");
		err = 0;
	}
	if (!err)
		atomic64_inc(&srv->messages);
	return err;
}

/* Handler refused to go on for a full send buffer: sleep until kicked. */
static int kg_conn_blocked(struct kg_conn *c)
{
	int err;

	if (c->waiting_on || kg_conn_mem_waiting(c))
		return KG_SERVE_STOPPED;	/* a drain or the memory wake kicks us */
	/* Nobody arranged a wake-up: wait for our own send buffer to drain. */
	err = kg_conn_wait_for(c, c, c->bs.snd_max - c->bs.low_water);
	if (!err)
		kg_event_kick(&c->ev, KG_EV_READ);
	else if (err != -EAGAIN)
		return err;
	return KG_SERVE_STOPPED;
}

/*
 * The receive buffer holds the start of a message but not all of it: note
 * when that began, for message_timeout_ms. Only a clock read per message.
 */
static void kg_conn_note_partial(struct kg_conn *c)
{
	const u8 *data;

	if (!kg_bsock_peek(&c->bs, &data))
		WRITE_ONCE(c->partial_since, 0);
	else if (!c->partial_since)
		WRITE_ONCE(c->partial_since, kg_now_ms() | 1);	/* 0 means none */
}

/*
 * kg_bsock_pause_if_full() once per message, without its lock while the
 * send buffer is below high water: an unlocked look that says "not full"
 * is what the locked check would have said a moment earlier (bytes queued
 * after it are seen on the next message, or refused by the write), and one
 * that says "full" is decided under the lock.
 */
static bool kg_conn_send_full(struct kg_conn *c)
{
	if (likely(READ_ONCE(c->bs.stail) - READ_ONCE(c->bs.shead) <= c->bs.high_water))
		return false;
	return kg_bsock_pause_if_full(&c->bs);
}

static int kg_conn_serve(struct kg_conn *c, u32 *budget)
{
	struct kg_server *srv = c->srv;
	struct kg_tmsg msg;
	const u8 *data;
	ssize_t before, after;
	bool detecting;
	u64 frees;
	int err;

	while (*budget) {
		if (kg_conn_send_full(c)) {
			atomic64_inc(&srv->backpressure);
			/* Not reading now: this pause is not the peer being slow. */
			WRITE_ONCE(c->partial_since, 0);
			return KG_SERVE_STOPPED;	/* the draining flush kicks us */
		}
		if (c->svc && c->svc->on_bytes) {
			before = kg_bsock_peek(&c->bs, &data);
			if (!before)
				return KG_SERVE_MORE;
			err = c->svc->on_bytes(c);
			if (err == -EAGAIN)
				return kg_conn_blocked(c);
			if (err)
				return err;
			(*budget)--;
			after = kg_bsock_peek(&c->bs, &data);
			if (after == before) {
				/* Nothing taken: it needs more bytes, or room to write. */
				if (kg_bsock_pause_if_full(&c->bs)) {
					atomic64_inc(&srv->backpressure);
					WRITE_ONCE(c->partial_since, 0);
					return KG_SERVE_STOPPED;
				}
				kg_conn_note_partial(c);
				return KG_SERVE_MORE;
			}
			WRITE_ONCE(c->partial_since, 0);
			continue;
		}
		detecting = c->ts.proto == KG_PROTO_AUTO;
		err = kg_tsock_next(&c->ts, &msg);
		if (unlikely(detecting) && c->ts.proto != KG_PROTO_AUTO)
			kg_server_count_proto(srv, c->ts.proto);
		if (err == 0) {
			kg_conn_note_partial(c);
			return KG_SERVE_MORE;
		}
		if (err < 0) {
			atomic64_inc(&srv->bad_messages);
			pr_debug("undelimitable input (%d): closing\n", err);
			c->close_reason = KG_CLOSE_BAD_INPUT;
			return err;
		}
		WRITE_ONCE(c->partial_since, 0);	/* whole: no longer a timeout matter */
		/* The arena's first chunk, or wait for memory keeping the message. */
		frees = kg_mem_frees(&srv->mem);
		if (!kg_arena_prepare(&c->arena)) {
			kg_conn_mem_wait(c, frees);
			return KG_SERVE_STOPPED;
		}
		err = kg_conn_serve_message(c, &msg);
		if (err == -EBADMSG)
			c->close_reason = KG_CLOSE_BAD_INPUT;	/* unreadable header */
		if (err == -EAGAIN)
			return kg_conn_blocked(c);
		if (err)
			return err;
		kg_tsock_discard(&c->ts);
		(*budget)--;
	}
	kg_event_kick(&c->ev, KG_EV_READ);	/* let other connections run first */
	return KG_SERVE_STOPPED;
}

/*
 * kg_conn_serve() what the fill received. Borrowed bytes (see
 * kg_bsock_fill()) are served from their pages; a message that goes on in
 * the next segment has what it needs pulled into the receive buffer, and
 * whatever is left when serving stops is copied there: pages are never
 * kept once the run ends.
 */
static int kg_conn_serve_rx(struct kg_conn *c, u32 *budget)
{
	u64 from = kg_bsock_consumed(&c->bs);
	u32 left = *budget;
	int ret = kg_conn_serve(c, budget);

	while (kg_bsock_borrowing(&c->bs)) {
		if (ret) {
			kg_bsock_unborrow(&c->bs);
			break;
		}
		kg_bsock_pull(&c->bs, c->ts.need);
		ret = kg_conn_serve(c, budget);
	}
	/* A run's bytes fit u32: a fill takes at most the receive buffer. */
	if (left != *budget)
		c->msg_bytes = (u32)(kg_bsock_consumed(&c->bs) - from) / (left - *budget);
	return ret;
}

/*
 * Borrow about what the rest of the budget serves (messages like the last
 * ones): borrowed bytes left when the budget runs out are copied, so
 * borrowing a whole buffer of small messages would copy most of them after
 * all. Fewer than that only costs another fill.
 */
static void kg_conn_borrow_size(struct kg_conn *c, u32 budget)
{
	u64 want = (u64)c->msg_bytes * budget;

	kg_bsock_borrow_limit(&c->bs, want && want < U32_MAX ? (u32)want : 0);
}

/*
 * What the next fill may receive. A framed message whose start is in the
 * receive buffer (pulled from borrowed pages, or it came in pieces): just
 * its rest, which is copied, so that the bytes after it are borrowed again
 * rather than copied too. Its length is known, so this costs one more
 * fill at most; an unframed message's need only bounds it from below.
 */
static size_t kg_conn_fill_budget(struct kg_conn *c)
{
	const u8 *data;
	ssize_t have;

	if (!c->bs.rx_seg || c->ts.transport != KG_TRANSPORT_FRAMED)
		return KG_FILL_BUDGET;
	have = kg_bsock_peek(&c->bs, &data);
	if (!have || c->ts.need <= (size_t)have || c->ts.need - have >= KG_FILL_BUDGET)
		return KG_FILL_BUDGET;
	return c->ts.need - have;
}

/* Receive and serve until the socket is drained or something stops us. */
static int kg_conn_pump_rx(struct kg_conn *c)
{
	u32 budget = c->srv->cfg.budget ? c->srv->cfg.budget : KG_DEFAULT_BUDGET;
	ssize_t n;
	u64 frees;
	int ret;

	/*
	 * The last run stopped (for its budget, backpressure or memory) with
	 * messages in the receive buffer: serve them before receiving more.
	 * Receiving first would compact the buffer, moving all of them to make
	 * room for a few more (at 128 B, a quarter of the forwarder's time).
	 */
	if (c->serve_first) {
		c->serve_first = false;
		ret = kg_conn_serve(c, &budget);
		if (ret) {
			c->serve_first = ret > 0;
			return ret < 0 ? ret : 0;
		}
	}
	for (;;) {
		frees = kg_mem_frees(&c->srv->mem);
		kg_conn_borrow_size(c, budget);
		n = kg_bsock_fill(&c->bs, kg_conn_fill_budget(c));
		if (n < 0)
			return n;
		ret = kg_conn_serve_rx(c, &budget);
		if (ret) {
			c->serve_first = ret > 0;
			return ret < 0 ? ret : 0;
		}
		if (c->bs.eof) {
			/* Served all we can; what is left is a truncated message. */
			atomic_cmpxchg(&c->state, KG_CONN_OPEN, KG_CONN_DRAINING);
			return 0;
		}
		if (c->bs.mem_starved) {
			if (n)
				continue;	/* serving may have made room: fill again */
			/* Stop reading: TCP's window holds the client back. */
			kg_conn_mem_wait(c, frees);
			return 0;
		}
		if (c->bs.rcv_drained)
			return 0;
		if (!n) {
			c->close_reason = KG_CLOSE_BAD_INPUT;
			return -EMSGSIZE;	/* buffer full, no whole message in it */
		}
	}
}

/*
 * The receive buffer is empty at a fill: the socket's pages are borrowed
 * rather than copied (kernel), into @seg on this stack, for this run only.
 */
static int kg_conn_pump(struct kg_conn *c)
{
	struct kg_rx_seg seg[KG_RX_SEGS] __kg_noinit;
	int ret;

	kg_bsock_borrow_begin(&c->bs, seg);
	ret = kg_conn_pump_rx(c);
	kg_bsock_borrow_end(&c->bs);
	return ret;
}

/*
 * Pay for what is used, but not per message: the arena and empty buffers
 * stay while the connection is busy (three alloc/free pairs per ping-pong
 * message otherwise) and go once the timeout pass saw it quiet for a tick,
 * or at once while anyone waits for memory.
 */
static void kg_conn_trim(struct kg_conn *c)
{
	if (!READ_ONCE(c->trim_wanted) && !atomic_read(&c->srv->mem.waiting))
		return;
	WRITE_ONCE(c->trim_wanted, false);
	kg_arena_release(&c->arena);
	kg_bsock_trim(&c->bs);
}

/*
 * A write-only run with little queued while the loop has connections to
 * read: put the flush off to a later pass (re-raised for writing: the loop
 * runs it after the next pass of ready events, or flushes it when nothing
 * is left to read). Never for bytes the socket refused (they have waited
 * already), nor more than KG_FLUSH_DEFER_MAX passes in a row (a trickle to
 * one backend is not held up by traffic to others). Below KG_FLUSH_BATCH
 * every message fits (it is under high_water), so no writer waits on it.
 */
static bool kg_conn_flush_later(struct kg_conn *c, unsigned int events)
{
	bool refused;
	u32 queued;

	if (events != KG_EV_WRITE || c->flush_defers >= KG_FLUSH_DEFER_MAX)
		return false;
	queued = kg_bsock_queued(&c->bs, &refused);
	if (!queued || refused || queued >= KG_FLUSH_BATCH || !kg_event_loop_busy(&c->ev))
		return false;
	c->flush_defers++;
	kg_event_kick(&c->ev, KG_EV_WRITE);
	return true;
}

static void kg_conn_run(struct kg_conn *c, unsigned int events)
{
	enum kg_conn_state state = kg_conn_state(c);
	int err = 0;

	if (state == KG_CONN_CLOSED)
		return;
	if (state == KG_CONN_OPEN && kg_conn_flush_later(c, events))
		return;
	c->flush_defers = 0;
	if (state == KG_CONN_CONNECTING) {
		if (!(events & (KG_EV_WRITE | KG_EV_CLOSE)))
			return;
		err = kg_sock_error(c->sock);
		if (err) {
			pr_debug("connect failed: %d\n", err);
			goto close;
		}
		/* Fails only if closed meanwhile: then there is nothing to do. */
		if (atomic_cmpxchg(&c->state, KG_CONN_CONNECTING, KG_CONN_OPEN) !=
		    KG_CONN_CONNECTING)
			return;
		state = KG_CONN_OPEN;
	}
	atomic_set(&c->run_state, KG_RUN_SERVING);
	if (c->waiting_on && (events & KG_EV_READ))
		kg_conn_stop_waiting(c);	/* woken (or new bytes): retry */
	if (state == KG_CONN_OPEN && !c->waiting_on && (events & (KG_EV_READ | KG_EV_CLOSE)))
		err = kg_conn_pump(c);
	/* Left before the last flush: see kg_conn_wrote(). */
	atomic_set(&c->run_state, KG_RUN_BUSY);
	if (err)
		goto close;
	err = kg_bsock_flush(&c->bs);
	kg_conn_trim(c);
	if (err == -EAGAIN)
		return;
	if (err)
		goto close;
	if (kg_conn_state(c) == KG_CONN_DRAINING)
		goto close;
	return;
close:
	if (err && err != -ECONNRESET && err != -EPIPE)
		pr_debug("closing connection: %d\n", err);
	kg_conn_close_why(c, c->close_reason);
}

/*
 * The event function proper runs only while it holds run_state: the
 * listener may hold it instead for a moment to see whether the peer is gone
 * (kg_server_retire_gone()); it kicks the event again if it lets go.
 */
static void kg_conn_event(struct kg_event *ev, unsigned int events)
{
	struct kg_conn *c = container_of(ev, struct kg_conn, ev);

	if (atomic_cmpxchg(&c->run_state, KG_RUN_IDLE, KG_RUN_BUSY) != KG_RUN_IDLE)
		return;
	kg_conn_run(c, events);
	atomic_set(&c->run_state, KG_RUN_IDLE);
}

/* ---- creating connections ---- */

/*
 * A connection over @sock, listed and attached. On failure nothing is left
 * and the caller still owns @sock. With @caller_ref the caller gets its own
 * reference, taken before the event can run (and perhaps close it).
 */
static int kg_conn_create(struct kg_server *srv, struct kg_sock *sock,
			  const struct kg_service *svc, bool outbound, bool connecting,
			  bool caller_ref, struct kg_conn **out)
{
	const struct kg_server_config *cfg = &srv->cfg;
	u8 transport = cfg->transport, proto = cfg->proto;
	struct kg_conn *c;
	int err;

	if (outbound) {
		/* Ours to choose, nothing to detect: framed binary unless configured. */
		if (transport == KG_TRANSPORT_AUTO)
			transport = KG_TRANSPORT_FRAMED;
		if (proto == KG_PROTO_AUTO)
			proto = KG_PROTO_BINARY;
	}
	/* The only memory an idle connection holds: its buffers come later. */
	c = kg_mem_alloc(&srv->mem, sizeof(*c), false);
	if (!c)
		return -ENOSPC;
	memset(c, 0, sizeof(*c));
	kref_init(&c->ref);
	c->srv = srv;
	c->svc = svc;
	c->sock = sock;
	c->outbound = outbound;
	atomic_set(&c->state, connecting ? KG_CONN_CONNECTING : KG_CONN_OPEN);
	atomic_set(&c->run_state, KG_RUN_IDLE);
	INIT_LIST_HEAD(&c->node);
	INIT_LIST_HEAD(&c->mem_node);
	kg_bsock_waiter_init(&c->waiter, &c->ev);
	kg_deferred_init(&c->reap, srv->loop, kg_conn_reap);
	/* Chunks come from the budget while a message is decoded. */
	kg_arena_init_mem(&c->arena, &srv->mem, cfg->limits.arena_size);
	err = kg_bsock_init(&c->bs, sock, &c->ev, cfg->rcvbuf_max, cfg->sndbuf_max);
	if (err)
		goto free;
	kg_bsock_set_budget(&c->bs, &srv->mem, cfg->max_reply);
	kg_tsock_init(&c->ts, &c->bs, transport, proto, &srv->cfg.limits);
	if (svc && svc->conn_open) {
		err = svc->conn_open(c);
		if (err) {
			kg_bsock_destroy(&c->bs);
			goto free;
		}
	}

	spin_lock(&srv->lock);
	if (srv->stopping) {
		spin_unlock(&srv->lock);
		err = -ESHUTDOWN;
		goto close_svc;
	}
	list_add_tail(&c->node, &srv->conns);
	atomic_inc(&srv->live);
	spin_unlock(&srv->lock);

	if (caller_ref)
		kg_conn_get(c);
	err = kg_event_attach(&c->ev, srv->loop, sock, kg_conn_event);
	if (err) {
		spin_lock(&srv->lock);
		list_del_init(&c->node);
		spin_unlock(&srv->lock);
		atomic_dec(&srv->live);
		goto close_svc;
	}
	*out = c;
	return 0;

close_svc:
	if (svc && svc->conn_close)
		svc->conn_close(c);
	kg_bsock_destroy(&c->bs);
free:
	kg_arena_release(&c->arena);
	kg_mem_free(&srv->mem, c, sizeof(*c));
	return err;
}

/* ---- timeouts ---- */

/*
 * The timeout pass, under srv->lock: did bytes move on @c since the last
 * pass? Bytes received, or taken by the peer (acknowledged: a client
 * reading a long reply slowly keeps the kernel's send queue moving), are
 * activity; bytes merely queued in the kernel are not.
 */
static bool kg_conn_moved(struct kg_conn *c, u32 now)
{
	u64 moved = READ_ONCE(c->bs.bytes_in) + READ_ONCE(c->bs.bytes_out);

	lockdep_assert_held(&c->srv->lock);
	moved -= kg_sock_unacked(c->sock);
	if (c->active_at && moved == c->seen_bytes)
		return false;
	c->seen_bytes = moved;
	c->active_at = now | 1;		/* 0 means not looked at yet */
	return true;
}

/* Quiet for a whole tick and holding memory: let its own run give it back. */
static void kg_conn_trim_if_quiet(struct kg_conn *c)
{
	enum kg_conn_state state = kg_conn_state(c);
	size_t rcv;

	/* Not while connecting: a write event would be taken for its completion. */
	if (READ_ONCE(c->trim_wanted) || state == KG_CONN_CLOSED || state == KG_CONN_CONNECTING)
		return;
	if (!kg_bsock_held(&c->bs, &rcv) && !READ_ONCE(c->arena.held))
		return;
	WRITE_ONCE(c->trim_wanted, true);
	/* A write event only flushes: it reads nothing, allocates nothing. */
	kg_event_kick(&c->ev, KG_EV_WRITE);
}

/* Why @c should be closed now, if it should; after kg_conn_moved(). */
static enum kg_close_reason kg_conn_expired(struct kg_conn *c, bool moved, u32 now)
{
	const struct kg_server_config *cfg = &c->srv->cfg;
	u32 since;

	if (!moved && cfg->idle_timeout_ms &&
	    (s32)(now - c->active_at) >= (s32)cfg->idle_timeout_ms)
		return KG_CLOSE_IDLE;
	since = READ_ONCE(c->partial_since);
	if (cfg->message_timeout_ms && since &&
	    (s32)(now - since) >= (s32)cfg->message_timeout_ms)
		return KG_CLOSE_MESSAGE_TIMEOUT;
	return KG_CLOSE_OTHER;
}

/*
 * A few times per second while there are connections: one walk of the
 * list, so the events themselves pay nothing but a clock read per message.
 */
static void kg_server_timer(struct kg_timer *t)
{
	struct kg_server *srv = container_of(t, struct kg_server, timer);
	struct kg_conn *victim[KG_EXPIRE_BATCH];
	u8 why[KG_EXPIRE_BATCH];
	u32 now = kg_now_ms();
	struct kg_conn *c;
	unsigned int i, n = 0;
	enum kg_close_reason r;
	bool moved;

	spin_lock(&srv->lock);
	if (srv->stopping || list_empty(&srv->conns)) {
		srv->timer_armed = false;	/* the next accept arms it again */
		spin_unlock(&srv->lock);
		return;
	}
	list_for_each_entry(c, &srv->conns, node) {
		moved = kg_conn_moved(c, now);
		if (!moved)
			kg_conn_trim_if_quiet(c);
		if (c->outbound)
			continue;
		r = kg_conn_expired(c, moved, now);
		if (r != KG_CLOSE_OTHER && n < KG_EXPIRE_BATCH) {
			kg_conn_get(c);
			victim[n] = c;
			why[n++] = r;
		}
	}
	spin_unlock(&srv->lock);
	kg_mem_cache_tick(&srv->mem);
	for (i = 0; i < n; i++) {
		kg_conn_close_why(victim[i], why[i]);
		kg_conn_put(victim[i]);
	}
	/*
	 * A full batch may have left more expired: come back in a moment,
	 * behind the events queued meanwhile, not a whole tick later (1000
	 * idle connections would otherwise take 30 ticks to close).
	 */
	kg_timer_arm(&srv->timer, n == KG_EXPIRE_BATCH ? 1 : srv->tick_ms);
}

static void kg_server_timer_start(struct kg_server *srv)
{
	bool arm = false;

	if (!srv->tick_ms)
		return;
	spin_lock(&srv->lock);
	if (!srv->timer_armed && !srv->stopping) {
		srv->timer_armed = true;
		arm = true;
	}
	spin_unlock(&srv->lock);
	if (arm)
		kg_timer_arm(&srv->timer, srv->tick_ms);
}

/* ---- accepting ---- */

/* Nothing left to answer on @c: the listener holds its run_state. */
static bool kg_conn_finished(struct kg_conn *c)
{
	const u8 *data;

	return !kg_bsock_peek(&c->bs, &data) && !kg_bsock_unsent(&c->bs) && !c->waiting_on &&
	       kg_sock_peer_gone(c->sock);
}

/*
 * At max_conns: close the connections whose peer has closed with nothing
 * left to answer and whose event has not run since (its close event is
 * still pending), so that churn does not lock live clients out. Only
 * connections with a pending close are looked at, a batch per call.
 *
 * Return: how many were closed.
 */
static unsigned int kg_server_retire_gone(struct kg_server *srv)
{
	struct kg_conn *batch[KG_EXPIRE_BATCH];
	unsigned int i, n = 0, retired = 0;
	struct kg_conn *c;

	spin_lock(&srv->lock);
	list_for_each_entry(c, &srv->conns, node) {
		if (c->outbound || !kg_event_close_pending(&c->ev))
			continue;
		kg_conn_get(c);
		batch[n++] = c;
		if (n == KG_EXPIRE_BATCH)
			break;
	}
	spin_unlock(&srv->lock);
	for (i = 0; i < n; i++) {
		c = batch[i];
		/* Its event function is not running and will not start meanwhile. */
		if (atomic_cmpxchg(&c->run_state, KG_RUN_IDLE, KG_RUN_RETIRING) == KG_RUN_IDLE) {
			if (kg_conn_finished(c) && kg_conn_close_why(c, KG_CLOSE_OTHER)) {
				retired++;
			} else {
				atomic_set(&c->run_state, KG_RUN_IDLE);
				/* A run refused meanwhile lost its bits. */
				kg_event_kick(&c->ev, KG_EV_READ | KG_EV_WRITE | KG_EV_CLOSE);
			}
		}
		kg_conn_put(c);
	}
	return retired;
}

/* Take a max_conns slot. Return: 0, -EBUSY (full) or -ESHUTDOWN. */
static int kg_server_take_slot(struct kg_server *srv)
{
	int ret = 0;

	spin_lock(&srv->lock);
	if (srv->stopping)
		ret = -ESHUTDOWN;
	else if (srv->accepted_live >= srv->cfg.max_conns)
		ret = -EBUSY;
	else
		srv->accepted_live++;
	spin_unlock(&srv->lock);
	return ret;
}

static void kg_listen_event(struct kg_event *ev, unsigned int events)
{
	struct kg_server *srv = container_of(ev, struct kg_server, listen_ev);
	bool retired = false;
	struct kg_sock *sock;
	struct kg_conn *c;
	unsigned int n;
	int err;

	for (n = 0; n < KG_ACCEPT_BUDGET; n++) {
		err = kg_sock_accept(srv->listener, &sock);
		if (err == -EAGAIN)
			return;
		if (err) {
			pr_warn_ratelimited("accept failed: %d\n", err);
			return;
		}
		/* Connected and closed before we got to it: nothing to serve. */
		if (kg_sock_peer_gone(sock)) {
			kg_sock_release(sock);
			atomic64_inc(&srv->accepted);
			atomic64_inc(&srv->closed);
			continue;
		}
		err = kg_server_take_slot(srv);
		if (err == -EBUSY && !retired) {
			retired = true;		/* one look per run: bounded work */
			if (kg_server_retire_gone(srv))
				err = kg_server_take_slot(srv);
		}
		if (err) {
			atomic64_inc(&srv->refused);
			if (err == -EBUSY)
				atomic64_inc(&srv->refused_max_conns);
			kg_sock_release(sock);
			continue;
		}
		err = kg_conn_create(srv, sock, srv->svc, false, false, false, &c);
		if (err) {
			spin_lock(&srv->lock);
			srv->accepted_live--;
			spin_unlock(&srv->lock);
			kg_sock_release(sock);
			if (err == -ENOSPC) {
				/* Not even an idle connection's worth: room for the next. */
				atomic64_inc(&srv->refused_memory);
				atomic64_inc(&srv->refused);
				kg_server_make_room(srv);
				continue;
			}
			if (err != -ESHUTDOWN)
				pr_warn_ratelimited("connection setup failed: %d\n", err);
			continue;
		}
		atomic64_inc(&srv->accepted);
		if (srv->cfg.proto != KG_PROTO_AUTO)
			kg_server_count_proto(srv, srv->cfg.proto);
		kg_server_timer_start(srv);
	}
	/* Budget spent: the others' ready events first, then accept more. */
	kg_event_kick(ev, KG_EV_READ);
}

/**
 * kg_connect() - open an outbound connection
 * @srv: the server whose loop and limits it uses
 * @addr: IPv4 or IPv6 literal
 * @port: port
 * @svc: gets the messages arriving on it (replies); NULL to drop them
 * @out: the connection, with a reference for the caller
 *
 * Return: 0 (the connect may still be in progress; writes are queued) or a
 * negative errno.
 */
int kg_connect(struct kg_server *srv, const char *addr, u16 port,
	       const struct kg_service *svc, struct kg_conn **out)
{
	struct kg_sock *sock;
	struct kg_conn *c;
	int err;

	err = kg_sock_connect(srv->loop, addr, port, &sock);
	if (err && err != -EINPROGRESS)
		return err;
	err = kg_conn_create(srv, sock, svc, true, err == -EINPROGRESS, true, &c);
	if (err) {
		kg_sock_release(sock);
		return err == -ENOSPC ? -ENOMEM : err;
	}
	*out = c;
	return 0;
}

/* ---- the server ---- */

static const char *kg_transport_name(u8 transport)
{
	switch (transport) {
	case KG_TRANSPORT_FRAMED:
		return "framed";
	case KG_TRANSPORT_BUFFERED:
		return "buffered";
	default:
		return "framed or buffered";
	}
}

static const char *const kg_listen_names[] = { "tcp", "udp", "both" };

/* UDP carries oneway calls only (no reply): refuse a service with others. */
static int kg_server_check_listen(const struct kg_server_config *cfg,
				  const struct kg_service *svc)
{
	const char *what = cfg->listen < ARRAY_SIZE(kg_listen_names) ?
			   kg_listen_names[cfg->listen] : NULL;

	if (!what) {
		pr_err("listen %u out of range (tcp, udp or both)\n", cfg->listen);
		return -EINVAL;
	}
	if (cfg->listen == KG_LISTEN_TCP)
		return 0;
	if (!svc || svc->on_bytes || !svc->oneway_only) {
		if (svc && svc->first_twoway)
			pr_err("listen=%s: %s is not oneway; UDP serves only services whose methods are all oneway\n",
			       what, svc->first_twoway);
		else
			pr_err("listen=%s: %s is not a oneway-only Thrift service; UDP serves only those\n",
			       what, svc && svc->name ? svc->name : "the service");
		return -EINVAL;
	}
	return 0;
}

/**
 * kg_server_start() - listen and serve @svc
 * @out: the new server
 * @cfg: configuration (see kg_server_config_defaults()); copied
 * @svc: the service; must outlive the server
 *
 * Zero limits mean the defaults; rcvbuf_max is raised to hold one whole
 * message of limits.max_frame bytes, max_reply to sndbuf_max.
 *
 * Return: 0 or a negative errno.
 */
int kg_server_start(struct kg_server **out, const struct kg_server_config *cfg,
		    const struct kg_service *svc)
{
	char where[KG_ADDR_PORT_SIZE];
	struct kg_server *srv;
	int err;

	err = kg_server_check_listen(cfg, svc);
	if (err)
		return err;
	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->svc = svc;
	if (!srv->cfg.addr || !*srv->cfg.addr)
		srv->cfg.addr = "127.0.0.1";
	if (!srv->cfg.limits.max_frame) {
		srv->cfg.limits = kg_default_limits;
		srv->cfg.limits.max_frame = KG_SERVER_MAX_FRAME;
		srv->cfg.limits.max_string = KG_SERVER_MAX_FRAME;
	}
	if (srv->cfg.rcvbuf_max < srv->cfg.limits.max_frame + KG_FRAME_HEADER_LEN)
		srv->cfg.rcvbuf_max = srv->cfg.limits.max_frame + KG_FRAME_HEADER_LEN;
	if (!srv->cfg.sndbuf_max)
		srv->cfg.sndbuf_max = KG_DEFAULT_SNDBUF;
	if (!srv->cfg.max_reply)
		srv->cfg.max_reply = srv->cfg.limits.max_frame + KG_FRAME_HEADER_LEN;
	if (srv->cfg.max_reply < srv->cfg.sndbuf_max)
		srv->cfg.max_reply = srv->cfg.sndbuf_max;
	if (!srv->cfg.mem_budget)
		srv->cfg.mem_budget = KG_DEFAULT_MEM_BUDGET;
	kg_mem_init(&srv->mem, srv->cfg.mem_budget, kg_server_mem_wake);
	INIT_LIST_HEAD(&srv->mem_waiters);
	if (!srv->cfg.budget)
		srv->cfg.budget = KG_DEFAULT_BUDGET;
	spin_lock_init(&srv->lock);
	INIT_LIST_HEAD(&srv->conns);
	atomic_set(&srv->live, 0);
	srv->cfg.idle_timeout_ms = min(srv->cfg.idle_timeout_ms, KG_TIMEOUT_MAX_MS);
	srv->cfg.message_timeout_ms = min(srv->cfg.message_timeout_ms, KG_TIMEOUT_MAX_MS);
	if (srv->cfg.idle_timeout_ms || srv->cfg.message_timeout_ms) {
		u32 shortest = srv->cfg.idle_timeout_ms ?: U32_MAX;

		if (srv->cfg.message_timeout_ms)
			shortest = min(shortest, srv->cfg.message_timeout_ms);
		srv->tick_ms = clamp(shortest / 4, KG_TICK_MIN_MS, KG_TICK_MAX_MS);
	} else {
		/* No timeouts: the pass still gives quiet connections' memory back. */
		srv->tick_ms = KG_TICK_MAX_MS;
	}

	err = kg_loop_create(&srv->loop, srv->cfg.wq_mode);
	if (err)
		goto free;
	kg_timer_init(&srv->timer, srv->loop, kg_server_timer);
	srv->port = srv->cfg.port;
	if (srv->cfg.listen != KG_LISTEN_UDP) {
		err = kg_sock_listen(srv->loop, srv->cfg.addr, srv->cfg.port, 1024,
				     &srv->listener);
		if (err) {
			pr_err("cannot listen on %s port %u: %d\n", srv->cfg.addr,
			       srv->cfg.port, err);
			goto destroy_loop;
		}
		srv->port = kg_sock_local_port(srv->listener);
	}
	/*
	 * UDP before accepting: nothing is left to undo but the datagram
	 * server if the listener's attach fails. Both: the port TCP got.
	 */
	if (srv->cfg.listen != KG_LISTEN_TCP) {
		err = kg_dgram_start(&srv->dgram, srv, srv->loop, &srv->mem, &srv->cfg, svc,
				     srv->port);
		if (err) {
			pr_err("cannot serve UDP on %s port %u: %d\n", srv->cfg.addr, srv->port,
			       err);
			goto release;
		}
		srv->port = kg_dgram_port(srv->dgram);
		pr_info("%s listening on %s (UDP, one message per datagram)\n",
			svc && svc->name ? svc->name : "server",
			kg_addr_port(where, srv->cfg.addr, srv->port));
	}
	if (srv->listener) {
		err = kg_event_attach(&srv->listen_ev, srv->loop, srv->listener, kg_listen_event);
		if (err)
			goto stop_dgram;
		srv->listening = true;
		pr_info("%s listening on %s (%s)\n", svc && svc->name ? svc->name : "server",
			kg_addr_port(where, srv->cfg.addr, srv->port),
			kg_transport_name(srv->cfg.transport));
	}
	*out = srv;
	return 0;

stop_dgram:
	kg_dgram_free(srv->dgram);
release:
	kg_sock_release(srv->listener);
destroy_loop:
	kg_loop_destroy(srv->loop);
free:
	kfree(srv);
	return err;
}

/**
 * kg_server_stop() - close every connection and free the server
 * @srv: the server (NULL is ignored); never from one of its handlers
 *
 * The listener is detached and synced first, so no connection is accepted
 * while the others close. Closing queues each connection's reap work, which
 * syncs its event before freeing; draining the loop waits for all of them.
 * Connections still referenced elsewhere (kg_conn_get()) stay as empty
 * shells until their last kg_conn_put().
 */
void kg_server_stop(struct kg_server *srv)
{
	kg_server_stop_stats(srv, NULL);
}

/**
 * kg_server_stop_stats() - kg_server_stop(), reading the counters last
 * @srv: the server (NULL is ignored)
 * @final: if not NULL, the counters once every connection is closed
 */
void kg_server_stop_stats(struct kg_server *srv, struct kg_server_stats *final)
{
	struct kg_conn *c;

	if (!srv)
		return;
	if (srv->listening) {
		kg_event_detach(&srv->listen_ev);
		kg_event_sync(&srv->listen_ev);
	}
	kg_dgram_stop(srv->dgram);
	spin_lock(&srv->lock);
	srv->stopping = true;
	spin_unlock(&srv->lock);
	/* Before the loop goes: a pass may be running; none is armed after this. */
	kg_timer_cancel_sync(&srv->timer);

	for (;;) {
		spin_lock(&srv->lock);
		if (list_empty(&srv->conns)) {
			spin_unlock(&srv->lock);
			break;
		}
		c = list_first_entry(&srv->conns, struct kg_conn, node);
		kg_conn_get(c);
		spin_unlock(&srv->lock);
		kg_conn_close(c);
		kg_conn_put(c);
	}
	kg_loop_drain(srv->loop);
	kg_mem_shrink(&srv->mem);
	if (final)
		kg_server_stats(srv, final);
	if (atomic_read(&srv->live))
		pr_warn("%d connections not released at stop\n", atomic_read(&srv->live));
	if (kg_mem_in_use(&srv->mem))
		pr_warn("%llu bytes of the memory budget still charged at stop\n",
			(unsigned long long)kg_mem_in_use(&srv->mem));
	kg_sock_release(srv->listener);
	kg_dgram_free(srv->dgram);
	kg_loop_destroy(srv->loop);
	kfree(srv);
}

/**
 * kg_server_port() - the port the server listens on
 * @srv: the server
 *
 * Return: the port (the one chosen by the system when configured as 0).
 */
u16 kg_server_port(const struct kg_server *srv)
{
	return srv->port;
}

/**
 * kg_server_loop() - the server's event loop
 * @srv: the server
 *
 * Return: the loop.
 */
struct kg_loop *kg_server_loop(const struct kg_server *srv)
{
	return srv->loop;
}

/**
 * kg_server_stats() - read the counters
 * @srv: the server
 * @st: filled with a snapshot
 */
void kg_server_stats(const struct kg_server *srv, struct kg_server_stats *st)
{
	struct kg_server *s = (struct kg_server *)srv;
	struct kg_conn *c;

	st->accepted = atomic64_read(&s->accepted);
	st->refused = atomic64_read(&s->refused);
	st->refused_max_conns = atomic64_read(&s->refused_max_conns);
	st->closed = atomic64_read(&s->closed);
	st->closed_idle = atomic64_read(&s->closed_idle);
	st->closed_message_timeout = atomic64_read(&s->closed_message_timeout);
	st->closed_bad_input = atomic64_read(&s->closed_bad_input);
	st->messages = atomic64_read(&s->messages);
	st->bad_messages = atomic64_read(&s->bad_messages);
	st->app_exceptions = atomic64_read(&s->app_exceptions);
	st->backpressure = atomic64_read(&s->backpressure);
	st->bytes_in = atomic64_read(&s->bytes_in_reaped);
	st->parse_bytes = atomic64_read(&s->parse_bytes_reaped);
	st->bytes_out = atomic64_read(&s->bytes_out_reaped);
	st->bytes_out_zerocopy = atomic64_read(&s->bytes_lent_reaped);
	st->rx_inplace_bytes = atomic64_read(&s->bytes_inplace_reaped);
	st->mem_budget = s->mem.limit;
	st->mem_in_use = kg_mem_in_use(&s->mem);
	st->mem_peak = kg_mem_peak(&s->mem);
	st->mem_cached = kg_mem_cached(&s->mem);
	st->mem_pressure = atomic64_read(&s->mem_pressure);
	st->refused_memory = atomic64_read(&s->refused_memory);
	st->closed_memory = atomic64_read(&s->closed_memory);
	st->closed_reply_too_large = atomic64_read(&s->closed_reply_too_large);
	st->conns_binary = atomic64_read(&s->conns_binary);
	st->conns_compact = atomic64_read(&s->conns_compact);
	st->dgrams_in = 0;
	st->dgrams_dropped = 0;
	st->dgrams_lost = 0;
	kg_dgram_stats(s->dgram, st);
	spin_lock(&s->lock);
	st->live = s->accepted_live;
	list_for_each_entry(c, &s->conns, node) {
		st->bytes_in += READ_ONCE(c->bs.bytes_in);
		st->parse_bytes += READ_ONCE(c->ts.parse_bytes);
		st->bytes_out += READ_ONCE(c->bs.bytes_out);
		st->bytes_out_zerocopy += READ_ONCE(c->bs.bytes_lent);
		st->rx_inplace_bytes += READ_ONCE(c->bs.bytes_inplace);
	}
	spin_unlock(&s->lock);
}

/* ---- small accessors ---- */

/**
 * kg_conn_user() - the handler's per-connection pointer
 * @c: the connection
 *
 * Return: what kg_conn_set_user() stored, NULL at first.
 */
void *kg_conn_user(const struct kg_conn *c)
{
	return c->user;
}

/**
 * kg_conn_set_user() - store the handler's per-connection pointer
 * @c: the connection
 * @user: anything; freeing it is the handler's job (conn_close)
 */
void kg_conn_set_user(struct kg_conn *c, void *user)
{
	c->user = user;
}

/**
 * kg_conn_server() - the server a connection belongs to
 * @c: the connection
 *
 * Return: the server.
 */
struct kg_server *kg_conn_server(const struct kg_conn *c)
{
	return c->srv;
}

/**
 * kg_conn_service_data() - the data of the service serving @c
 * @c: the connection
 *
 * Return: kg_service.data, or NULL.
 */
void *kg_conn_service_data(const struct kg_conn *c)
{
	return c->svc ? c->svc->data : NULL;
}
