/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thrift server: a listening socket, its connections, and the calls on them.
 *
 * This is what generated service code and hand-written handlers see. It sits
 * on the event layer (event.h: kernel socket callbacks + workqueue, or epoll),
 * buffered sockets (bsock.h) and Thrift sockets (tsock.h), which it hides.
 *
 * Flow of a request: the connection's event fires -> bytes are received into
 * its buffered socket -> kg_tsock_next() finds one whole message (framed or
 * unframed) -> the service's process() decodes it with a reader positioned
 * after the message header, calls the user's handler, and writes the reply
 * with kg_call_reply() straight into the connection's send buffer -> the
 * message is discarded from the receive buffer and the arena reset.
 *
 * Backpressure: a connection whose send buffer is above its high-water mark
 * is not read until it drains. A reply larger than the send buffer's free
 * room is queued whole (up to max_reply) and sent as the client reads.
 *
 * Memory: one budget per server (mem_budget) pays for every connection
 * structure, buffer and arena chunk; buffers and arenas exist only while
 * bytes or a message need them. When the budget is spent, a connection that
 * needs more stops reading until memory is freed, the connection holding
 * the most received-but-unserved memory is closed to make room, and accepts
 * that cannot pay for an idle connection are refused. See
 * docs/runtime-core.md ("Memory budget").
 */
#ifndef _KGEN_SERVER_H
#define _KGEN_SERVER_H

#include "compat.h"
#include "proto.h"
#include "frame.h"		/* enum kg_transport */

struct kg_server;
struct kg_conn;

/*
 * One request being served; valid only during process()/the handler.
 * kg_conn_serve_message() sets it member by member (not cleared first): a
 * member added here is set there too.
 */
struct kg_call {
	struct kg_bytes method;		/* name from the message header */
	u8 msg_type;			/* KG_MSG_CALL or KG_MSG_ONEWAY */
	s32 seqid;
	struct kg_bytes raw;		/* the whole message received, frame header included */
	struct kg_reader *in;		/* positioned after the message header */
	struct kg_arena *arena;		/* freed when the call ends */
	struct kg_conn *conn;		/* where it came from and the reply goes; NULL: UDP */
	struct kg_server *server;
	void *service_data;		/* the service's state, from kg_service.init() */
	bool replied;
	/* A reply or exception was due but not sent: a oneway call (UDP drops it). */
	bool unanswered;
};

typedef int (*kg_encode_fn)(struct kg_writer *w, const void *value);

/*
 * Write a whole reply message: header (name = call->method, seqid), the
 * value encoded by @encode, end; framed if the connection is. Computes the
 * size first, reserves it in the send buffer, encodes in place.
 * A reply larger than the send buffer's free room is queued whole and sent
 * as the client reads (the connection reads no new request meanwhile).
 * Returns 0; -EFBIG when the reply is over max_reply (the client gets a
 * TApplicationException if that fits, and the connection is closed);
 * -ENOMEM when the memory budget cannot pay for it (the connection is
 * closed); -EPIPE; or @encode's error. process() returns it as it is.
 */
int __must_check kg_call_reply(struct kg_call *call, u8 msg_type, kg_encode_fn encode,
			       const void *value);
/* Reply with a TApplicationException (ignored for oneway calls). */
int kg_call_reply_app_exception(struct kg_call *call, u32 type, const char *message);

/*
 * A service: generated code fills this (name, process); the hand-written
 * handler file provides init/exit through the generated glue.
 */
struct kg_service {
	const char *name;
	/*
	 * Serve one message. Return:
	 *  0        handled (a reply or app exception may have been written);
	 *  -EAGAIN  not now: a write was refused for a full send buffer
	 *           (kg_conn_forward() registers the wait itself); the message
	 *           is kept and process() sees it again once there is room.
	 *           Only if nothing was written for this message yet;
	 *  -EBADMSG, -ENODATA, -EMSGSIZE, -ENOMEM (the arena): the arguments
	 *           could not be decoded: the server replies PROTOCOL_ERROR
	 *           (unless a reply was written or the call is oneway), drops
	 *           the message and goes on;
	 *  other negative errno: the connection is closed.
	 * A message that cannot even be delimited or whose header cannot be
	 * read closes the connection before process() is called.
	 */
	int (*process)(struct kg_call *call);
	/*
	 * Raw byte mode (no Thrift framing), e.g. the paper's echo: if set,
	 * called with new bytes instead of process(); use kg_conn_peek(),
	 * kg_conn_discard() and kg_conn_write(). Return 0 (bytes left unread
	 * are offered again when more arrive or the send buffer drains),
	 * -EAGAIN as for process(), or a negative errno to close.
	 */
	int (*on_bytes)(struct kg_conn *conn);
	/* Optional: a connection opened / is closing (per-connection state). */
	int (*conn_open)(struct kg_conn *conn);
	void (*conn_close)(struct kg_conn *conn);
	void *data;			/* becomes kg_call.service_data */
	/*
	 * Set by the generator: every method is oneway, so the service may be
	 * served over UDP (kg_server_config.listen); otherwise @first_twoway
	 * names a method that is not ("Service.method"), for the refusal.
	 */
	bool oneway_only;
	const char *first_twoway;
};

/* What kg_server_start() listens on: one port number for both. */
enum kg_listen {
	KG_LISTEN_TCP = 0,
	KG_LISTEN_UDP = 1,	/* oneway-only services: one datagram is one message */
	KG_LISTEN_BOTH = 2,
};

/* Defaults of the timeouts (0 in the config disables one). */
#define KG_DEFAULT_IDLE_TIMEOUT_MS	300000u	/* 5 minutes, nothing sent or taken */
#define KG_DEFAULT_MESSAGE_TIMEOUT_MS	30000u	/* 30 s to finish a message */

struct kg_server_config {
	const char *addr;		/* IPv4 or IPv6 literal; "127.0.0.1" by default */
	u16 port;
	u8 transport;			/* enum kg_transport; AUTO: each client's */
	/*
	 * enum kg_protocol. AUTO (the default): each accepted connection's,
	 * found from its first bytes (frame.h); replies go out in it.
	 * Outbound connections (kg_connect()) use binary then, and framed
	 * for transport AUTO. A fixed protocol refuses other clients.
	 */
	u8 proto;
	u8 listen;			/* enum kg_listen */
	u32 max_conns;			/* further connections are accepted and closed */
	u32 rcvbuf_max;			/* bytes buffered per connection, >= max_frame + 4 */
	u32 sndbuf_max;			/* bytes queued per connection, more: stop reading */
	u32 max_reply;			/* largest message queued at once (>= sndbuf_max) */
	u32 mem_budget;			/* bytes of buffers, arenas, connections, in all */
	u32 budget;			/* messages per connection per run, for fairness */
	/*
	 * Accepted connections only, checked a few times per second: closed
	 * when no byte came in and none of its output was taken for
	 * idle_timeout_ms, or when one request message stayed incomplete for
	 * message_timeout_ms (slowloris). 0 disables.
	 */
	u32 idle_timeout_ms;
	u32 message_timeout_ms;
	int wq_mode;			/* kernel: 0 ordered (as Slick), 1 unbound, 2 per-cpu */
	struct kg_limits limits;
};

void kg_server_config_defaults(struct kg_server_config *cfg);

struct kg_loop;

int __must_check kg_server_start(struct kg_server **out, const struct kg_server_config *cfg,
				 const struct kg_service *svc);
/* Close every connection, wait for running handlers, free everything. */
void kg_server_stop(struct kg_server *srv);
struct kg_server_stats;
/* The same, filling @final (if not NULL) once every connection is closed. */
void kg_server_stop_stats(struct kg_server *srv, struct kg_server_stats *final);
/* User space only: run the event loop until kg_server_stop() or a signal. */
int kg_server_run(struct kg_server *srv);
/* The bound port (useful with port 0). */
u16 kg_server_port(const struct kg_server *srv);
/* The event loop the server runs on (user space: to run it yourself). */
struct kg_loop *kg_server_loop(const struct kg_server *srv);

/* ---- connections ---- */
void kg_conn_get(struct kg_conn *c);
void kg_conn_put(struct kg_conn *c);
void *kg_conn_user(const struct kg_conn *c);
void kg_conn_set_user(struct kg_conn *c, void *user);
/* Raw byte access (on_bytes services and clients). */
ssize_t kg_conn_peek(struct kg_conn *c, const u8 **data);
void kg_conn_discard(struct kg_conn *c, size_t len);
/* All or nothing: -ENOBUFS if the send buffer cannot take len more bytes. */
int __must_check kg_conn_write_all(struct kg_conn *c, const void *buf, size_t len);
/* As much as fits now: bytes queued (0 when full), or -EPIPE if closing. */
ssize_t __must_check kg_conn_write(struct kg_conn *c, const void *buf, size_t len);
struct kg_server *kg_conn_server(const struct kg_conn *c);
/* The service's data (kg_service.data) of the connection. */
void *kg_conn_service_data(const struct kg_conn *c);
/*
 * Forward the call's whole message to @to without re-encoding (re-framed if
 * @to uses the other transport). On -EAGAIN (@to's send buffer is full) the
 * caller's connection is woken when @to drains: return -EAGAIN from
 * process() to get the same message again then. -EPIPE: @to is closed.
 * -EFBIG: the message is larger than @to's send limit (sndbuf_max).
 * -EPROTO: @to speaks another protocol (bytes are not re-encoded).
 */
int __must_check kg_conn_forward(struct kg_conn *to, const struct kg_call *call);
void kg_conn_close(struct kg_conn *c);

/*
 * Outbound connection to another Thrift server (non-blocking connect).
 * Messages arriving on it are given to @svc->process like server calls
 * (msg_type REPLY/EXCEPTION), so generated client stubs decode replies there.
 * Writes before the connect completes are queued. *@out is a reference for
 * the caller (kg_conn_put() it); the connection stays open until
 * kg_conn_close() or kg_server_stop(). @svc may be NULL (replies dropped).
 */
int __must_check kg_connect(struct kg_server *srv, const char *addr, u16 port,
			    const struct kg_service *svc, struct kg_conn **out);
/* Send one whole Thrift message (header + value) on @c; framed if configured. */
int __must_check kg_conn_send_message(struct kg_conn *c, const char *name, u8 msg_type,
				      s32 seqid, kg_encode_fn encode, const void *value);

/* Counters, readable from debugfs (kernel) or by the user-space server. */
struct kg_server_stats {
	u64 accepted;
	u64 refused;		/* every refusal at accept: max_conns, memory */
	u64 refused_max_conns;	/* of those: over max_conns */
	u64 live;		/* accepted connections open now (what max_conns limits) */
	u64 closed;		/* every close */
	u64 closed_idle;	/* of those: idle_timeout_ms */
	u64 closed_message_timeout;	/* message_timeout_ms */
	u64 closed_bad_input;	/* input that cannot be delimited or read */
	u64 messages;
	u64 bad_messages;
	u64 app_exceptions;
	u64 bytes_in;
	u64 bytes_out;
	u64 bytes_out_zerocopy;	/* of bytes_out: sent by reference (kernel, big flushes) */
	u64 rx_inplace_bytes;	/* of bytes_in: served from the socket's pages, not copied */
	/* Times reading paused for a full send buffer (own or a forward target's). */
	u64 backpressure;
	/*
	 * Bytes examined to find where messages end: unframed, about bytes_in
	 * (each byte once); more would mean re-parsing.
	 */
	u64 parse_bytes;
	u64 mem_budget;		/* bytes allowed (config) */
	u64 mem_in_use;		/* bytes charged now */
	u64 mem_peak;		/* largest mem_in_use */
	u64 mem_cached;		/* of mem_in_use, free socket buffers kept for reuse */
	u64 mem_pressure;	/* times a connection stopped reading for lack of memory */
	u64 refused_memory;	/* accepts refused: the budget could not pay for a connection */
	u64 closed_memory;	/* connections closed to free memory, or whose reply had none */
	u64 closed_reply_too_large;	/* a reply over max_reply */
	/*
	 * Accepted connections by protocol: counted at accept when the
	 * protocol is fixed, once their first message shows it when auto.
	 */
	u64 conns_binary;
	u64 conns_compact;
	/* UDP (listen=udp or both): datagrams taken from the socket, and of those dropped */
	u64 dgrams_in;
	u64 dgrams_dropped;	/* malformed, too large, not a oneway call, no memory */
	u64 dgrams_lost;	/* never taken: the socket's receive buffer was full */
};

void kg_server_stats(const struct kg_server *srv, struct kg_server_stats *st);

#endif /* _KGEN_SERVER_H */
