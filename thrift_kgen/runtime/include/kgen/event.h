/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klibevent: the event layer. One API, two backends chosen at build time:
 *
 *  - kernel (runtime/kernel/event_kernel.c): sockets from sock_create_kern();
 *    each socket's sk_data_ready / sk_write_space / sk_state_change are saved
 *    and replaced under write_lock_bh(&sk->sk_callback_lock), sk_user_data
 *    points at the struct kg_event; the callbacks (softirq context) only
 *    record the event bits and queue the event's work item; the work item
 *    runs the event function in process context. Callbacks are restored on
 *    detach. Accept, recv and send are non-blocking.
 *  - user space (runtime/user/event_epoll.c): non-blocking fds in one epoll
 *    instance, edge-triggered; kg_loop_run() is the event loop.
 *
 * Like Slick's register_sock(): attach a socket with a function, and the
 * function is called (never concurrently with itself for one event) with the
 * events that happened since it last ran.
 */
#ifndef _KGEN_EVENT_H
#define _KGEN_EVENT_H

#include "compat.h"

#define KG_EV_READ	0x1u	/* bytes (or, on a listener, connections) may be ready */
#define KG_EV_WRITE	0x2u	/* send space available, or a connect completed */
#define KG_EV_CLOSE	0x4u	/* peer closed, reset or error */

enum kg_wq_mode {
	KG_WQ_ORDERED = 0,	/* one ordered workqueue, as Slick did */
	KG_WQ_UNBOUND = 1,
	KG_WQ_PERCPU = 2,
};

struct kg_loop;
struct kg_sock;
struct kg_event;

typedef void (*kg_event_fn)(struct kg_event *ev, unsigned int events);

#ifdef __KERNEL__
#include <linux/workqueue.h>
struct sock;
struct kg_event {
	struct kg_loop *loop;
	struct kg_sock *sock;
	kg_event_fn fn;
	unsigned long pending;		/* KG_EV_* bits, set atomically from softirq */
	struct work_struct work;	/* unbound and per-cpu modes */
	struct list_head ready;		/* ordered mode: on the loop's ready list */
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
	bool attached;
	bool dgram;			/* kg_event_attach_dgram(): detach waits for RCU */
};
#else
struct kg_event {
	struct kg_loop *loop;
	struct kg_sock *sock;
	kg_event_fn fn;
	unsigned int pending;
	unsigned int epoll_mask;
	struct kg_event *next_ready;	/* kicked events, run before the next epoll_wait */
	bool queued;
	bool attached;
};
#endif

int kg_loop_create(struct kg_loop **out, int wq_mode);
/* Runs the loop until kg_loop_stop() (user space); returns at once in the kernel. */
int kg_loop_run(struct kg_loop *loop);
void kg_loop_stop(struct kg_loop *loop);
/* Every event must be detached and synced first. */
void kg_loop_destroy(struct kg_loop *loop);

/* Sockets. All non-blocking; addresses are IPv4 or IPv6 literals. */
int kg_sock_listen(struct kg_loop *loop, const char *addr, u16 port, int backlog,
		   struct kg_sock **out);
int kg_sock_accept(struct kg_sock *listener, struct kg_sock **out);	/* -EAGAIN: none */
/* 0 or -EINPROGRESS (completion is a KG_EV_WRITE, then kg_sock_error()). */
int kg_sock_connect(struct kg_loop *loop, const char *addr, u16 port, struct kg_sock **out);
int kg_sock_error(struct kg_sock *s);			/* pending socket error, 0 if none */
ssize_t kg_sock_recv(struct kg_sock *s, void *buf, size_t len);	/* 0 EOF, -EAGAIN */
/*
 * True when a receive now would find nothing, not even end of stream or an
 * error (bytes arriving later raise KG_EV_READ): the caller can skip the
 * receive that would return -EAGAIN, or not pay for a buffer yet. The
 * kernel looks at the receive queue; user space peeks, a system call, so
 * asking after every receive is worth it only where KG_SOCK_RX_EMPTY_CHEAP.
 */
bool kg_sock_rx_empty(struct kg_sock *s);
/*
 * Borrowed receive (kernel): the socket's queued bytes are not copied but
 * lent as pieces of the pages they arrived in, each page referenced until
 * kg_rx_seg_put(). Pieces contiguous in memory are one segment.
 */
struct page;
struct kg_rx_seg {
	const u8 *data;
	struct page *page;
	u32 len;
};
#define KG_RX_SEGS	16	/* segments one borrow fills at most */
/*
 * Up to @len queued bytes as at most @max segments into @seg (*@nseg set):
 * the bytes taken, 0 at end of stream, -EAGAIN, an error as
 * kg_sock_recv(), or -EOPNOTSUPP when the bytes at the queue's head cannot
 * be lent (not in pages; user space, but for tests): copy them with
 * kg_sock_recv().
 */
ssize_t kg_sock_recv_borrow(struct kg_sock *s, struct kg_rx_seg *seg, unsigned int max,
			    size_t len, unsigned int *nseg);
void kg_rx_seg_put(struct kg_rx_seg *seg);
/* Is it worth asking kg_sock_recv_borrow()? (User space: only in its test mode.) */
#ifdef __KERNEL__
#define kg_sock_lends_pages()	true
#else
extern long kg_rx_borrow_test;	/* event_epoll.c: KGEN_TEST_RX_BORROW */
#define kg_sock_lends_pages()	(kg_rx_borrow_test > 0)
#endif
#ifdef __KERNEL__
#define KG_SOCK_RX_EMPTY_CHEAP	1
#else
#define KG_SOCK_RX_EMPTY_CHEAP	0
#endif
ssize_t kg_sock_send(struct kg_sock *s, const void *buf, size_t len);	/* -EAGAIN */
/*
 * kg_sock_send() by reference (kernel; user space copies): only for a
 * buffer kg_buf_spliceable() accepts, which must then stay unchanged until
 * kg_buf_pages_idle() (see kg_bsock_flush()).
 */
ssize_t kg_sock_send_pages(struct kg_sock *s, const void *buf, size_t len);
void kg_sock_shutdown(struct kg_sock *s);
void kg_sock_release(struct kg_sock *s);
u16 kg_sock_local_port(struct kg_sock *s);
/*
 * True when the peer is gone with nothing left unread: a peek finds end of
 * stream or an error (reset). False while bytes are queued or it is open.
 */
bool kg_sock_peer_gone(struct kg_sock *s);
/* Bytes sent but not yet acknowledged by the peer (SIOCOUTQ); 0 on error. */
u32 kg_sock_unacked(struct kg_sock *s);

/*
 * UDP (runtime/core/dgram.c): a non-blocking socket bound to @addr/@port
 * (0: any free port), attached with kg_event_attach_dgram(), which watches
 * for datagrams only (KG_EV_READ), and detached with kg_event_detach().
 */
int kg_sock_bind_udp(struct kg_loop *loop, const char *addr, u16 port, struct kg_sock **out);
/*
 * One datagram into @buf: its length, -EAGAIN when none is queued, or a
 * negative errno. *@truncated: it was longer than @len (the rest is lost).
 */
ssize_t kg_sock_recv_dgram(struct kg_sock *s, void *buf, size_t len, bool *truncated);
/* Datagrams the socket's receive buffer dropped since it was bound (full). */
u64 kg_sock_dgram_drops(struct kg_sock *s);
int kg_event_attach_dgram(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
			  kg_event_fn fn);

/* Room for "[<IPv6 literal>%<interface>]:<port>"; a longer address ends in "...". */
#define KG_ADDR_PORT_SIZE	80

/**
 * kg_addr_port() - an address and port as messages print them
 * @buf: KG_ADDR_PORT_SIZE bytes
 * @addr: an IPv4 or IPv6 literal
 * @port: the port
 *
 * IPv6 literals go in brackets, so the port stays apart from the address:
 * "127.0.0.1:9090", "[::1]:9090".
 *
 * Return: @buf.
 */
static inline const char *kg_addr_port(char *buf, const char *addr, unsigned int port)
{
	int n;

	if (strchr(addr, ':'))
		n = snprintf(buf, KG_ADDR_PORT_SIZE, "[%s]:%u", addr, port);
	else
		n = snprintf(buf, KG_ADDR_PORT_SIZE, "%s:%u", addr, port);
	if (n >= KG_ADDR_PORT_SIZE)
		memcpy(buf + KG_ADDR_PORT_SIZE - 4, "...", 4);
	return buf;
}

/*
 * Attach: save the socket's callbacks (kernel) / add it to epoll (user) and
 * call @fn with KG_EV_* bits from now on. If data is already queued, @fn runs
 * soon with KG_EV_READ.
 */
int kg_event_attach(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
		    kg_event_fn fn);
/*
 * Detach: restore the callbacks / remove from epoll; no new runs of @fn are
 * queued after it returns. Safe to call from @fn itself.
 */
void kg_event_detach(struct kg_event *ev);
/*
 * Wait until a queued or running @fn has finished (cancel_work_sync()).
 * Never from @fn itself: release paths call it from another context.
 */
void kg_event_sync(struct kg_event *ev);
/*
 * Run @fn soon with @events, as if they had fired (e.g. resume after
 * backpressure). Any context (may be called under a mutex or from another
 * event's @fn). A no-op on a detached event.
 */
void kg_event_kick(struct kg_event *ev, unsigned int events);
/* User space: ask for KG_EV_WRITE while output is pending. Kernel: no-op. */
void kg_event_want_write(struct kg_event *ev, bool on);
/* A KG_EV_CLOSE was reported and @fn has not run since. Any context. */
bool kg_event_close_pending(const struct kg_event *ev);
/*
 * From @ev's @fn: will the loop run other events that read (not only
 * flushes) before it sleeps? The ordered kernel loop: its ready list is not
 * empty (a lockless look). Other modes and user space: false. A write-only
 * run may then leave small output queued for a later pass (server.c).
 */
bool kg_event_loop_busy(const struct kg_event *ev);

/* A coarse monotonic clock in milliseconds; wraps (compare differences). */
u32 kg_now_ms(void);

/*
 * One-shot timer on the loop (kernel: a delayed work item on the loop's
 * workqueue, so in ordered mode it never runs alongside an event; user
 * space: run by kg_loop_run() between epoll waits). @fn may re-arm it.
 */
struct kg_timer;
typedef void (*kg_timer_fn)(struct kg_timer *t);

#ifdef __KERNEL__
struct kg_timer {
	struct kg_loop *loop;
	kg_timer_fn fn;
	struct delayed_work dwork;
};
#else
struct kg_timer {
	struct kg_loop *loop;
	kg_timer_fn fn;
	u32 due;			/* kg_now_ms() */
	bool armed;
	struct kg_timer *next;		/* on the loop's list while armed */
};
#endif

void kg_timer_init(struct kg_timer *t, struct kg_loop *loop, kg_timer_fn fn);
/* Run @fn once in @ms; a no-op if already armed. Any context. */
void kg_timer_arm(struct kg_timer *t, u32 ms);
/* Disarm and wait for a running @fn; @fn cannot re-arm meanwhile. Never from @fn. */
void kg_timer_cancel_sync(struct kg_timer *t);

/*
 * Deferred work outside any socket (kernel: a work item on the loop's queue;
 * user space: run by kg_loop_run() with the kicked events). The server uses
 * it to release a connection once its event is synced, like nvmet-tcp's
 * release_work: @fn may free the structure that embeds @d.
 */
struct kg_deferred;
typedef void (*kg_deferred_fn)(struct kg_deferred *d);

#ifdef __KERNEL__
struct kg_deferred {
	struct kg_loop *loop;
	kg_deferred_fn fn;
	struct work_struct work;
};
#else
struct kg_deferred {
	struct kg_loop *loop;
	kg_deferred_fn fn;
	struct kg_deferred *next;
	bool queued;
};
#endif

void kg_deferred_init(struct kg_deferred *d, struct kg_loop *loop, kg_deferred_fn fn);
/* Queue @d to run once soon; a no-op if it is already queued. Any context. */
void kg_deferred_queue(struct kg_deferred *d);
/*
 * Run (user space) or wait for (kernel: drain_workqueue()) every event run and
 * deferred work queued on @loop, including what those queue in turn. Never
 * from loop context. Used by kg_server_stop() before freeing.
 */
void kg_loop_drain(struct kg_loop *loop);

#ifndef __KERNEL__
/* User space: make SIGINT and SIGTERM stop @loop (kg_loop_run() returns 0). */
int kg_loop_stop_on_signals(struct kg_loop *loop);
#endif

#endif /* _KGEN_EVENT_H */
