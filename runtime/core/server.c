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
 * Concurrency (kernel): one connection's event function never runs twice at
 * once, so the receive side, the arena and the message loop need no lock.
 * Send buffers are locked in bsock. The server's lock covers the list, the
 * connection count and the stopping flag.
 */
#define pr_fmt(fmt) "kgen-server: " fmt

#include "kgen/server.h"
#include "kgen/event.h"
#include "kgen/bsock.h"
#include "kgen/tsock.h"
#include "kgen/netcompat.h"

#define KG_FILL_BUDGET		(256u * 1024)	/* bytes received per fill */
#define KG_DEFAULT_SNDBUF	(4u * 1024 * 1024)
#define KG_DEFAULT_BUDGET	64

struct kg_server {
	struct kg_server_config cfg;
	const struct kg_service *svc;
	struct kg_loop *loop;
	struct kg_sock *listener;
	struct kg_event listen_ev;
	bool listening;
	u16 port;

	spinlock_t lock;		/* conns, accepted_live, stopping */
	struct list_head conns;
	u32 accepted_live;		/* inbound connections, against max_conns */
	bool stopping;
	atomic_t live;			/* connections not yet reaped */

	atomic64_t accepted, refused, closed, messages, bad_messages;
	atomic64_t app_exceptions, backpressure;
	atomic64_t bytes_in_reaped, bytes_out_reaped;
};

struct kg_conn {
	struct kref ref;
	struct kg_server *srv;
	const struct kg_service *svc;
	struct kg_sock *sock;
	struct kg_event ev;
	struct kg_bsock bs;
	struct kg_tsock ts;
	struct kg_arena arena;
	void *arena_mem;
	struct kg_deferred reap;
	struct list_head node;		/* in srv->conns while open */
	struct kg_bsock_waiter waiter;	/* registered on waiting_on->bs */
	struct kg_conn *waiting_on;	/* holds a reference */
	void *user;
	bool attached;
	bool dead;
	bool outbound;
	bool connecting;
	bool opened;			/* conn_open succeeded: call conn_close */
	bool in_run;			/* the event function will flush before it returns */
	bool close_when_flushed;	/* the peer finished: close once replies are out */
};

/**
 * kg_server_config_defaults() - fill @cfg with the defaults
 * @cfg: the configuration
 *
 * 127.0.0.1, framed binary, Apache's 16 MB max frame, 1024 connections.
 */
void kg_server_config_defaults(struct kg_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = "127.0.0.1";
	cfg->port = 9090;
	cfg->transport = KG_TRANSPORT_FRAMED;
	cfg->proto = KG_PROTO_BINARY;
	cfg->max_conns = 1024;
	cfg->limits = kg_default_limits;
	cfg->rcvbuf_max = cfg->limits.max_frame + KG_FRAME_HEADER_LEN;
	cfg->sndbuf_max = KG_DEFAULT_SNDBUF;
	cfg->budget = KG_DEFAULT_BUDGET;
	cfg->wq_mode = KG_WQ_ORDERED;
}

/* ---- references ---- */

static void kg_conn_free(struct kref *ref)
{
	struct kg_conn *c = container_of(ref, struct kg_conn, ref);

	kfree(c);
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

	if (c->attached)
		kg_event_sync(&c->ev);
	kg_conn_stop_waiting(c);
	if (c->opened && c->svc && c->svc->conn_close)
		c->svc->conn_close(c);
	atomic64_add(c->bs.bytes_in, &srv->bytes_in_reaped);
	atomic64_add(c->bs.bytes_out, &srv->bytes_out_reaped);
	kg_bsock_destroy(&c->bs);
	kg_sock_release(c->sock);
	c->sock = NULL;
	kvfree(c->arena_mem);
	c->arena_mem = NULL;
	atomic_dec(&srv->live);
	kg_conn_put(c);		/* the list's reference */
}

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
	struct kg_server *srv = c->srv;

	spin_lock(&srv->lock);
	if (c->dead) {
		spin_unlock(&srv->lock);
		return;
	}
	WRITE_ONCE(c->dead, true);
	list_del_init(&c->node);
	if (!c->outbound)
		srv->accepted_live--;
	spin_unlock(&srv->lock);

	if (c->attached)
		kg_event_detach(&c->ev);
	if (!c->connecting)
		kg_bsock_flush(&c->bs);
	kg_bsock_mark_dead(&c->bs);
	kg_sock_shutdown(c->sock);
	atomic64_inc(&srv->closed);
	kg_deferred_queue(&c->reap);
}

/* ---- writing ---- */

/*
 * Bytes were queued on @c from somewhere: make sure they get sent. If @c's
 * event function is running it flushes before returning (it clears in_run
 * before its last flush, and both sides order through the send lock);
 * otherwise kick it, so many writes cost one flush in @c's own context.
 */
static void kg_conn_wrote(struct kg_conn *c)
{
	/* Still connecting: the completion event flushes. */
	if (!READ_ONCE(c->connecting) && !READ_ONCE(c->in_run))
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
 * Return: bytes queued (0 when the send buffer is full), or -EPIPE.
 */
ssize_t kg_conn_write(struct kg_conn *c, const void *buf, size_t len)
{
	ssize_t n = kg_bsock_write(&c->bs, buf, len);

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
 * closed; -EFBIG when the message can never fit @to's send buffer.
 */
int kg_conn_forward(struct kg_conn *to, const struct kg_call *call)
{
	struct kg_tmsg msg;
	u32 hdr = call->raw.len - (call->in->end - call->in->start);
	int err;

	msg.raw = call->raw;
	msg.payload.data = call->raw.data + hdr;
	msg.payload.len = call->raw.len - hdr;
	for (;;) {
		err = kg_tsock_write(&to->ts, &msg);
		if (!err) {
			kg_conn_wrote(to);
			return 0;
		}
		/* Not -EMSGSIZE: process() would take it for a decode error. */
		if (err == -EMSGSIZE)
			return -EFBIG;
		if (err != -ENOBUFS)
			return err;
		err = kg_conn_wait_for(call->conn, to,
				       kg_frame_header_len(to->ts.transport) + msg.payload.len);
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
 * Counting pass, then encoded in place in the connection's send buffer.
 * Oneway calls get no reply (returns 0).
 *
 * Return: 0, -ENOBUFS when the reply exceeds the send limit, -EPIPE, or
 * @encode's error.
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
	if (err == -EMSGSIZE)
		err = -ENOBUFS;
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

	if (call->msg_type == KG_MSG_ONEWAY)
		return 0;
	err = kg_tsock_write_encoded(&call->conn->ts, kg_encode_appex, &e);
	if (!err) {
		call->replied = true;
		atomic64_inc(&call->server->app_exceptions);
		kg_conn_wrote(call->conn);
	}
	return err;
}

/* ---- the message loop ---- */

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
	struct kg_reader in;
	struct kg_call call;
	int err;

	memset(&call, 0, sizeof(call));
	kg_reader_init(&in, msg->payload.data, msg->payload.len, c->ts.proto, &c->arena,
		       &srv->cfg.limits);
	err = kg_read_message_begin(&in, &call.method, &call.msg_type, &call.seqid);
	if (err) {
		atomic64_inc(&srv->bad_messages);
		pr_debug("unreadable message header: %d\n", err);
		return -EBADMSG;	/* no seqid to answer to */
	}
	call.raw = msg->raw;
	call.in = &in;
	call.arena = &c->arena;
	call.conn = c;
	call.server = srv;
	call.service_data = c->svc ? c->svc->data : NULL;

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

	if (c->waiting_on)
		return KG_SERVE_STOPPED;
	/* Nobody arranged a wake-up: wait for our own send buffer to drain. */
	err = kg_conn_wait_for(c, c, c->bs.snd_max - c->bs.low_water);
	if (!err)
		kg_event_kick(&c->ev, KG_EV_READ);
	else if (err != -EAGAIN)
		return err;
	return KG_SERVE_STOPPED;
}

static int kg_conn_serve(struct kg_conn *c, u32 *budget)
{
	struct kg_server *srv = c->srv;
	struct kg_tmsg msg;
	const u8 *data;
	ssize_t before, after;
	int err;

	while (*budget) {
		if (kg_bsock_pause_if_full(&c->bs)) {
			atomic64_inc(&srv->backpressure);
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
					return KG_SERVE_STOPPED;
				}
				return KG_SERVE_MORE;
			}
			continue;
		}
		err = kg_tsock_next(&c->ts, &msg);
		if (err == 0)
			return KG_SERVE_MORE;
		if (err < 0) {
			atomic64_inc(&srv->bad_messages);
			pr_debug("undelimitable input (%d): closing\n", err);
			return err;
		}
		err = kg_conn_serve_message(c, &msg);
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

/* Receive and serve until the socket is drained or something stops us. */
static int kg_conn_pump(struct kg_conn *c)
{
	u32 budget = c->srv->cfg.budget ? c->srv->cfg.budget : KG_DEFAULT_BUDGET;
	ssize_t n;
	int ret;

	for (;;) {
		n = kg_bsock_fill(&c->bs, KG_FILL_BUDGET);
		if (n < 0)
			return n;
		ret = kg_conn_serve(c, &budget);
		if (ret)
			return ret < 0 ? ret : 0;
		if (c->bs.eof) {
			/* Served all we can; what is left is a truncated message. */
			c->close_when_flushed = true;
			return 0;
		}
		if (c->bs.rcv_drained)
			return 0;
		if (!n)
			return -EMSGSIZE;	/* buffer full, no whole message in it */
	}
}

static void kg_conn_event(struct kg_event *ev, unsigned int events)
{
	struct kg_conn *c = container_of(ev, struct kg_conn, ev);
	int err = 0;

	if (READ_ONCE(c->dead))
		return;
	if (c->connecting) {
		if (!(events & (KG_EV_WRITE | KG_EV_CLOSE)))
			return;
		err = kg_sock_error(c->sock);
		if (err) {
			pr_debug("connect failed: %d\n", err);
			goto close;
		}
		WRITE_ONCE(c->connecting, false);
	}
	WRITE_ONCE(c->in_run, true);
	if (c->waiting_on && (events & KG_EV_READ))
		kg_conn_stop_waiting(c);	/* woken (or new bytes): retry */
	if (!c->close_when_flushed && !c->waiting_on && (events & (KG_EV_READ | KG_EV_CLOSE)))
		err = kg_conn_pump(c);
	/* Cleared before the last flush: see kg_conn_wrote(). */
	WRITE_ONCE(c->in_run, false);
	if (err)
		goto close;
	err = kg_bsock_flush(&c->bs);
	if (err == -EAGAIN)
		return;
	if (err)
		goto close;
	if (c->close_when_flushed)
		goto close;
	return;
close:
	if (err && err != -ECONNRESET && err != -EPIPE)
		pr_debug("closing connection: %d\n", err);
	kg_conn_close(c);
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
	struct kg_conn *c;
	int err;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	kref_init(&c->ref);
	c->srv = srv;
	c->svc = svc;
	c->sock = sock;
	c->outbound = outbound;
	c->connecting = connecting;
	INIT_LIST_HEAD(&c->node);
	kg_bsock_waiter_init(&c->waiter, &c->ev);
	kg_deferred_init(&c->reap, srv->loop, kg_conn_reap);
	/* One arena per connection, allocated once: no allocation per message. */
	if (cfg->limits.arena_size) {
		c->arena_mem = kvmalloc(cfg->limits.arena_size, GFP_KERNEL);
		if (!c->arena_mem) {
			err = -ENOMEM;
			goto free;
		}
	}
	kg_arena_init(&c->arena, c->arena_mem, cfg->limits.arena_size);
	err = kg_bsock_init(&c->bs, sock, &c->ev, cfg->rcvbuf_max, cfg->sndbuf_max);
	if (err)
		goto free;
	kg_tsock_init(&c->ts, &c->bs, cfg->transport, cfg->proto, &srv->cfg.limits);
	if (svc && svc->conn_open) {
		err = svc->conn_open(c);
		if (err) {
			kg_bsock_destroy(&c->bs);
			goto free;
		}
	}
	c->opened = true;

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
	c->attached = true;
	err = kg_event_attach(&c->ev, srv->loop, sock, kg_conn_event);
	if (err) {
		/* Never attached: nothing else can know about it yet. */
		c->attached = false;
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
	kvfree(c->arena_mem);
	kfree(c);
	return err;
}

static void kg_listen_event(struct kg_event *ev, unsigned int events)
{
	struct kg_server *srv = container_of(ev, struct kg_server, listen_ev);
	struct kg_sock *sock;
	struct kg_conn *c;
	bool refuse;
	int err;

	for (;;) {
		err = kg_sock_accept(srv->listener, &sock);
		if (err == -EAGAIN)
			return;
		if (err) {
			pr_warn_ratelimited("accept failed: %d\n", err);
			return;
		}
		spin_lock(&srv->lock);
		refuse = srv->stopping || srv->accepted_live >= srv->cfg.max_conns;
		if (!refuse)
			srv->accepted_live++;
		spin_unlock(&srv->lock);
		if (refuse) {
			atomic64_inc(&srv->refused);
			kg_sock_release(sock);
			continue;
		}
		err = kg_conn_create(srv, sock, srv->svc, false, false, false, &c);
		if (err) {
			spin_lock(&srv->lock);
			srv->accepted_live--;
			spin_unlock(&srv->lock);
			kg_sock_release(sock);
			if (err != -ESHUTDOWN)
				pr_warn_ratelimited("connection setup failed: %d\n", err);
			continue;
		}
		atomic64_inc(&srv->accepted);
	}
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
		return err;
	}
	*out = c;
	return 0;
}

/* ---- the server ---- */

/**
 * kg_server_start() - listen and serve @svc
 * @out: the new server
 * @cfg: configuration (see kg_server_config_defaults()); copied
 * @svc: the service; must outlive the server
 *
 * Zero limits mean the defaults; rcvbuf_max is raised to hold one whole
 * message of limits.max_frame bytes.
 *
 * Return: 0 or a negative errno.
 */
int kg_server_start(struct kg_server **out, const struct kg_server_config *cfg,
		    const struct kg_service *svc)
{
	char where[KG_ADDR_PORT_SIZE];
	struct kg_server *srv;
	int err;

	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->svc = svc;
	if (!srv->cfg.addr || !*srv->cfg.addr)
		srv->cfg.addr = "127.0.0.1";
	if (!srv->cfg.limits.max_frame)
		srv->cfg.limits = kg_default_limits;
	if (srv->cfg.rcvbuf_max < srv->cfg.limits.max_frame + KG_FRAME_HEADER_LEN)
		srv->cfg.rcvbuf_max = srv->cfg.limits.max_frame + KG_FRAME_HEADER_LEN;
	if (!srv->cfg.sndbuf_max)
		srv->cfg.sndbuf_max = KG_DEFAULT_SNDBUF;
	if (!srv->cfg.budget)
		srv->cfg.budget = KG_DEFAULT_BUDGET;
	spin_lock_init(&srv->lock);
	INIT_LIST_HEAD(&srv->conns);
	atomic_set(&srv->live, 0);

	err = kg_loop_create(&srv->loop, srv->cfg.wq_mode);
	if (err)
		goto free;
	err = kg_sock_listen(srv->loop, srv->cfg.addr, srv->cfg.port, 1024, &srv->listener);
	if (err) {
		pr_err("cannot listen on %s port %u: %d\n", srv->cfg.addr, srv->cfg.port, err);
		goto destroy_loop;
	}
	srv->port = kg_sock_local_port(srv->listener);
	err = kg_event_attach(&srv->listen_ev, srv->loop, srv->listener, kg_listen_event);
	if (err)
		goto release;
	srv->listening = true;
	pr_info("%s listening on %s (%s)\n", svc && svc->name ? svc->name : "server",
		kg_addr_port(where, srv->cfg.addr, srv->port),
		srv->cfg.transport == KG_TRANSPORT_FRAMED ? "framed" : "buffered");
	*out = srv;
	return 0;

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
	spin_lock(&srv->lock);
	srv->stopping = true;
	spin_unlock(&srv->lock);

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
	if (final)
		kg_server_stats(srv, final);
	if (atomic_read(&srv->live))
		pr_warn("%d connections not released at stop\n", atomic_read(&srv->live));
	kg_sock_release(srv->listener);
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
	st->closed = atomic64_read(&s->closed);
	st->messages = atomic64_read(&s->messages);
	st->bad_messages = atomic64_read(&s->bad_messages);
	st->app_exceptions = atomic64_read(&s->app_exceptions);
	st->backpressure = atomic64_read(&s->backpressure);
	st->bytes_in = atomic64_read(&s->bytes_in_reaped);
	st->bytes_out = atomic64_read(&s->bytes_out_reaped);
	spin_lock(&s->lock);
	list_for_each_entry(c, &s->conns, node) {
		st->bytes_in += READ_ONCE(c->bs.bytes_in);
		st->bytes_out += READ_ONCE(c->bs.bytes_out);
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
