// SPDX-License-Identifier: GPL-2.0
/*
 * klibevent, user-space backend: one epoll instance, edge-triggered.
 *
 * kg_loop_run() alternates between running queued work (kicked events, then
 * deferred work) and epoll_wait(). Events reported by epoll are not run
 * directly but queued like kicks, so a handler that detaches another event
 * (closing another connection) can take it off the queue before it runs:
 * nothing the loop still points at is ever freed under it.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) KBUILD_MODNAME ": epoll: " fmt

#include "kgen/event.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KG_EPOLL_BATCH	128
/* What kg_event_loop_busy() counts: events that will read (or see a close). */
#define KG_EV_READS	(KG_EV_READ | KG_EV_CLOSE)

struct kg_loop {
	int epfd;
	int wakefd;			/* eventfd: wakes epoll_wait() for kg_loop_stop() */
	volatile sig_atomic_t stop;
	struct kg_event *ready;		/* kicked since the last pass */
	struct kg_event *ready_tail;
	struct kg_event *running;	/* the pass being run */
	unsigned int readers_queued;	/* on ready or running with KG_EV_READS pending */
	struct kg_deferred *deferred;
	struct kg_deferred *deferred_tail;
	struct kg_timer *timers;	/* armed, unordered (a server has one) */
};

struct kg_sock {
	int fd;
	bool connecting;		/* first EPOLLOUT completes the connect */
	struct kg_event *ev;
	u32 dgram_drops;		/* UDP: the kernel's SO_RXQ_OVFL count, last seen */
};

static struct kg_loop *kg_signal_loop;

/**
 * kg_loop_create() - create an event loop
 * @out: the new loop
 * @wq_mode: ignored in user space (one thread)
 *
 * Return: 0 or a negative errno.
 */
int kg_loop_create(struct kg_loop **out, int wq_mode)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct kg_loop *loop;
	int err;

	(void)wq_mode;
	if (getenv("KGEN_TEST_RX_BORROW"))
		kg_rx_borrow_test = strtol(getenv("KGEN_TEST_RX_BORROW"), NULL, 10);
	loop = kzalloc(sizeof(*loop), GFP_KERNEL);
	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->wakefd < 0)
		goto fail;
	ee.data.ptr = loop;	/* the loop itself marks the wake-up fd */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ee))
		goto fail;
	*out = loop;
	return 0;
fail:
	err = -errno;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	kfree(loop);
	return err;
}

static void kg_loop_wake(struct kg_loop *loop)
{
	u64 one = 1;

	/* Only fails when the counter is saturated, i.e. already woken. */
	if (write(loop->wakefd, &one, sizeof(one)) < 0)
		return;
}

/**
 * kg_loop_stop() - make kg_loop_run() return
 * @loop: the loop
 *
 * Safe from handlers and from signal handlers.
 */
void kg_loop_stop(struct kg_loop *loop)
{
	loop->stop = 1;
	kg_loop_wake(loop);
}

static void kg_signal_stop(int sig)
{
	(void)sig;
	if (kg_signal_loop)
		kg_loop_stop(kg_signal_loop);
}

/**
 * kg_loop_stop_on_signals() - stop @loop on SIGINT or SIGTERM
 * @loop: the loop
 *
 * Also ignores SIGPIPE (sends use MSG_NOSIGNAL anyway).
 *
 * Return: 0 or a negative errno.
 */
int kg_loop_stop_on_signals(struct kg_loop *loop)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	kg_signal_loop = loop;
	sa.sa_handler = kg_signal_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;
	return 0;
}

static void kg_ready_push(struct kg_loop *loop, struct kg_event *ev)
{
	ev->next_ready = NULL;
	if (loop->ready_tail)
		loop->ready_tail->next_ready = ev;
	else
		loop->ready = ev;
	loop->ready_tail = ev;
	ev->queued = true;
}

/* Take @ev off whichever queue holds it (detach). */
static void kg_ready_remove(struct kg_loop *loop, struct kg_event *ev)
{
	struct kg_event **pp, *prev = NULL;

	for (pp = &loop->running; *pp; pp = &(*pp)->next_ready) {
		if (*pp == ev) {
			*pp = ev->next_ready;
			goto done;
		}
	}
	for (pp = &loop->ready; *pp; prev = *pp, pp = &(*pp)->next_ready) {
		if (*pp == ev) {
			*pp = ev->next_ready;
			if (loop->ready_tail == ev)
				loop->ready_tail = prev;
			goto done;
		}
	}
done:
	if (ev->pending & KG_EV_READS)
		loop->readers_queued--;
	ev->next_ready = NULL;
	ev->queued = false;
}

/* Run every event kicked before this pass started; returns how many ran. */
static int kg_loop_run_ready(struct kg_loop *loop)
{
	struct kg_event *ev;
	unsigned int bits;
	int ran = 0;

	loop->running = loop->ready;
	loop->ready = NULL;
	loop->ready_tail = NULL;
	while ((ev = loop->running)) {
		loop->running = ev->next_ready;
		ev->next_ready = NULL;
		ev->queued = false;
		bits = ev->pending;
		ev->pending = 0;
		if (bits & KG_EV_READS)
			loop->readers_queued--;
		if (ev->attached && bits) {
			ev->fn(ev, bits);
			ran++;
		}
	}
	return ran;
}

static int kg_loop_run_deferred(struct kg_loop *loop)
{
	struct kg_deferred *d = loop->deferred;
	struct kg_deferred *next;
	int ran = 0;

	loop->deferred = NULL;
	loop->deferred_tail = NULL;
	for (; d; d = next, ran++) {
		next = d->next;
		d->next = NULL;
		d->queued = false;
		d->fn(d);		/* may free d */
	}
	return ran;
}

static unsigned int kg_epoll_to_bits(u32 events)
{
	unsigned int bits = 0;

	if (events & EPOLLIN)
		bits |= KG_EV_READ;
	if (events & EPOLLOUT)
		bits |= KG_EV_WRITE;
	/* Read what is left before closing: a half-closed peer may still want replies. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		bits |= KG_EV_CLOSE | KG_EV_READ;
	return bits;
}

static void kg_event_update_mask(struct kg_event *ev, u32 mask)
{
	struct epoll_event ee = { .events = mask, .data.ptr = ev };

	if (mask == ev->epoll_mask)
		return;
	if (epoll_ctl(ev->loop->epfd, EPOLL_CTL_MOD, ev->sock->fd, &ee))
		pr_err("epoll_ctl(MOD, fd %d): %d\n", ev->sock->fd, -errno);
	else
		ev->epoll_mask = mask;
}

/* epoll_wait()'s timeout: until the first armed timer is due, -1 if none. */
static int kg_timers_wait_ms(struct kg_loop *loop)
{
	struct kg_timer *t;
	u32 now = kg_now_ms();
	s32 wait, best = -1;

	for (t = loop->timers; t; t = t->next) {
		wait = (s32)(t->due - now);
		if (wait < 0)
			wait = 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	return best;
}

/* Run the timers that are due; each may re-arm itself (for later). */
static void kg_timers_run(struct kg_loop *loop)
{
	struct kg_timer **pp, *t;
	u32 now = kg_now_ms();

restart:
	for (pp = &loop->timers; (t = *pp); pp = &t->next) {
		if ((s32)(now - t->due) < 0)
			continue;
		*pp = t->next;
		t->next = NULL;
		t->armed = false;
		t->fn(t);
		goto restart;
	}
}

/**
 * kg_loop_run() - run the event loop until kg_loop_stop()
 * @loop: the loop
 *
 * Return: 0, or a negative errno if epoll_wait() failed.
 */
int kg_loop_run(struct kg_loop *loop)
{
	struct epoll_event evs[KG_EPOLL_BATCH];
	int i, n;

	while (!loop->stop) {
		kg_timers_run(loop);
		kg_loop_run_ready(loop);
		kg_loop_run_deferred(loop);
		if (loop->stop)
			break;
		n = epoll_wait(loop->epfd, evs, KG_EPOLL_BATCH,
			       loop->ready || loop->deferred ? 0 : kg_timers_wait_ms(loop));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			struct kg_event *ev = evs[i].data.ptr;

			if ((void *)ev == (void *)loop) {
				u64 count;

				if (read(loop->wakefd, &count, sizeof(count)) < 0)
					continue;
				continue;
			}
			if (!ev->attached)
				continue;
			if ((evs[i].events & EPOLLOUT) && ev->sock->connecting) {
				/* The connect finished: keep EPOLLOUT only if wanted. */
				ev->sock->connecting = false;
			}
			kg_event_kick(ev, kg_epoll_to_bits(evs[i].events));
		}
	}
	return 0;
}

/**
 * kg_loop_drain() - run queued events and deferred work until none is left
 * @loop: the loop (not running)
 */
void kg_loop_drain(struct kg_loop *loop)
{
	int rounds;

	/* Bounded: a handler that keeps kicking itself must not hang shutdown. */
	for (rounds = 0; rounds < 1000; rounds++) {
		if (!loop->ready && !loop->deferred)
			return;
		kg_loop_run_ready(loop);
		kg_loop_run_deferred(loop);
	}
	pr_warn("drain: work still queued after %d rounds\n", rounds);
}

/**
 * kg_loop_destroy() - free the loop
 * @loop: the loop; every event detached, every deferred work run
 */
void kg_loop_destroy(struct kg_loop *loop)
{
	if (!loop)
		return;
	WARN_ON(loop->ready || loop->deferred || loop->timers);
	if (kg_signal_loop == loop)
		kg_signal_loop = NULL;
	close(loop->epfd);
	close(loop->wakefd);
	kfree(loop);
}

/* ---- sockets ---- */

static int kg_parse_addr(const char *addr, u16 port, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!addr || !*addr)
		addr = "127.0.0.1";
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

static struct kg_sock *kg_sock_wrap(int fd)
{
	struct kg_sock *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s) {
		close(fd);
		return NULL;
	}
	s->fd = fd;
	return s;
}

static void kg_sock_nodelay(int fd)
{
	int one = 1;

	/* Replies are whole messages: Nagle would only delay them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/**
 * kg_sock_listen() - open a non-blocking listening TCP socket
 * @loop: the loop it will be attached to
 * @addr: IPv4 or IPv6 literal (NULL: 127.0.0.1)
 * @port: port, 0 for any free one (see kg_sock_local_port())
 * @backlog: listen() backlog
 * @out: the socket
 *
 * Return: 0 or a negative errno.
 */
int kg_sock_listen(struct kg_loop *loop, const char *addr, u16 port, int backlog,
		   struct kg_sock **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	(void)loop;
	err = kg_parse_addr(addr, port, &ss, &len);
	if (err)
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = kg_sock_wrap(fd);
	return *out ? 0 : -ENOMEM;
}

/**
 * kg_sock_accept() - accept one pending connection
 * @listener: the listening socket
 * @out: the new non-blocking socket (TCP_NODELAY set)
 *
 * Return: 0, -EAGAIN when none is pending, or a negative errno.
 */
int kg_sock_accept(struct kg_sock *listener, struct kg_sock **out)
{
	int fd;

	for (;;) {
		fd = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		/* A connection reset before we took it: try the next one. */
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	kg_sock_nodelay(fd);
	*out = kg_sock_wrap(fd);
	return *out ? 0 : -ENOMEM;
}

/**
 * kg_sock_connect() - start a non-blocking connect
 * @loop: the loop it will be attached to
 * @addr: IPv4 or IPv6 literal
 * @port: port
 * @out: the socket
 *
 * Return: 0 (connected), -EINPROGRESS (KG_EV_WRITE reports completion, then
 * check kg_sock_error()), or a negative errno.
 */
int kg_sock_connect(struct kg_loop *loop, const char *addr, u16 port, struct kg_sock **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err, ret = 0;

	(void)loop;
	err = kg_parse_addr(addr, port, &ss, &len);
	if (err)
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	kg_sock_nodelay(fd);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		if (errno != EINPROGRESS) {
			err = -errno;
			close(fd);
			return err;
		}
		ret = -EINPROGRESS;
	}
	*out = kg_sock_wrap(fd);
	if (!*out)
		return -ENOMEM;
	(*out)->connecting = ret == -EINPROGRESS;
	return ret;
}

/**
 * kg_sock_error() - the socket's pending error (SO_ERROR)
 * @s: the socket
 *
 * Return: 0 or a negative errno.
 */
int kg_sock_error(struct kg_sock *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

/**
 * kg_sock_recv() - non-blocking receive
 * @s: the socket
 * @buf: destination
 * @len: room in @buf
 *
 * Return: bytes received, 0 at end of stream, -EAGAIN, or a negative errno.
 */
ssize_t kg_sock_recv(struct kg_sock *s, void *buf, size_t len)
{
	ssize_t n = recv(s->fd, buf, len, 0);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

/**
 * kg_sock_send() - non-blocking send
 * @s: the socket
 * @buf: bytes
 * @len: how many
 *
 * Return: bytes sent, -EAGAIN, or a negative errno (never SIGPIPE).
 */
ssize_t kg_sock_send(struct kg_sock *s, const void *buf, size_t len)
{
	ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

/**
 * kg_sock_send_pages() - kg_sock_send(): no zero-copy path in user space
 * @s: the socket
 * @buf: bytes
 * @len: how many
 *
 * Return: as kg_sock_send().
 */
ssize_t kg_sock_send_pages(struct kg_sock *s, const void *buf, size_t len)
{
	return kg_sock_send(s, buf, len);
}

/**
 * kg_sock_shutdown() - shut down both directions (the peer sees EOF)
 * @s: the socket
 */
void kg_sock_shutdown(struct kg_sock *s)
{
	shutdown(s->fd, SHUT_RDWR);
}

/**
 * kg_sock_release() - close and free the socket
 * @s: the socket (its event detached); NULL is ignored
 */
void kg_sock_release(struct kg_sock *s)
{
	if (!s)
		return;
	close(s->fd);
	kfree(s);
}

/**
 * kg_sock_local_port() - the port the socket is bound to
 * @s: the socket
 *
 * Return: the port, 0 on error.
 */
u16 kg_sock_local_port(struct kg_sock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/**
 * kg_sock_peer_gone() - the peer closed or reset, nothing left unread
 * @s: the socket
 *
 * Return: true if a peek finds end of stream or an error.
 */
bool kg_sock_peer_gone(struct kg_sock *s)
{
	char byte;
	ssize_t n = recv(s->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/**
 * kg_sock_rx_empty() - would a receive now find nothing?
 * @s: the socket
 *
 * Return: true when a one-byte peek says -EAGAIN; false for bytes, end of
 * stream or an error (the receive reports those).
 */
bool kg_sock_rx_empty(struct kg_sock *s)
{
	u8 byte;
	ssize_t n = recv(s->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * User space has no pages to lend: it copies. For tests only,
 * KGEN_TEST_RX_BORROW=<n> makes the borrow path run anyway, each segment a
 * malloc'ed piece of 1..n bytes (freed by kg_rx_seg_put(), so ASan sees a
 * view kept too long), every seventh receive refused (the copy path).
 */
long kg_rx_borrow_test;		/* read by kg_loop_create() */
static unsigned long kg_rx_borrow_calls;

ssize_t kg_sock_recv_borrow(struct kg_sock *s, struct kg_rx_seg *seg, unsigned int max,
			    size_t len, unsigned int *nseg)
{
	size_t total = 0;
	unsigned int n = 0;

	*nseg = 0;
	if (kg_rx_borrow_test <= 0 || ++kg_rx_borrow_calls % 7 == 0)
		return -EOPNOTSUPP;
	while (n < max && total < len) {
		size_t want = 1 + (kg_rx_borrow_calls * 7919 + n * 104729) % kg_rx_borrow_test;
		u8 *p;
		ssize_t got;

		want = want < len - total ? want : len - total;
		p = malloc(want);
		if (!p)
			break;
		got = recv(s->fd, p, want, 0);
		if (got <= 0) {
			int err = got < 0 ? errno : 0;

			free(p);
			if (total)
				break;
			if (got == 0)
				return 0;
			return err == EWOULDBLOCK ? -EAGAIN : -err;
		}
		seg[n].data = p;
		seg[n].page = NULL;
		seg[n].len = got;
		n++;
		total += got;
		if ((size_t)got < want)
			break;
	}
	*nseg = n;
	return n ? (ssize_t)total : -EOPNOTSUPP;
}

void kg_rx_seg_put(struct kg_rx_seg *seg)
{
	free((void *)seg->data);
}

/**
 * kg_sock_unacked() - bytes sent but not yet acknowledged by the peer
 * @s: the socket
 *
 * Return: SIOCOUTQ, 0 on error.
 */
u32 kg_sock_unacked(struct kg_sock *s)
{
	int n = 0;

	if (ioctl(s->fd, SIOCOUTQ, &n) || n < 0)
		return 0;
	return (u32)n;
}

/* ---- events ---- */

/**
 * kg_event_attach() - watch @s and call @fn with KG_EV_* bits
 * @ev: the event (owned by the caller)
 * @loop: the loop
 * @s: the socket
 * @fn: called from kg_loop_run()
 *
 * Edge-triggered EPOLLIN | EPOLLRDHUP, plus EPOLLOUT while a connect is in
 * progress or output is pending (kg_event_want_write()). @fn runs once soon
 * with KG_EV_READ in case bytes arrived before the attach.
 *
 * Return: 0 or a negative errno.
 */
int kg_event_attach(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
		    kg_event_fn fn)
{
	struct epoll_event ee;

	memset(ev, 0, sizeof(*ev));
	ev->loop = loop;
	ev->sock = s;
	ev->fn = fn;
	ev->epoll_mask = EPOLLIN | EPOLLRDHUP | EPOLLET;
	if (s->connecting)
		ev->epoll_mask |= EPOLLOUT;
	ee.events = ev->epoll_mask;
	ee.data.ptr = ev;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, s->fd, &ee))
		return -errno;
	s->ev = ev;
	ev->attached = true;
	if (!s->connecting)
		kg_event_kick(ev, KG_EV_READ);
	return 0;
}

/**
 * kg_event_detach() - stop watching; @fn is not called again
 * @ev: the event; safe from its own @fn
 */
void kg_event_detach(struct kg_event *ev)
{
	if (!ev->attached)
		return;
	ev->attached = false;
	if (epoll_ctl(ev->loop->epfd, EPOLL_CTL_DEL, ev->sock->fd, NULL))
		pr_err("epoll_ctl(DEL, fd %d): %d\n", ev->sock->fd, -errno);
	if (ev->queued)
		kg_ready_remove(ev->loop, ev);
	ev->pending = 0;
	ev->sock->ev = NULL;
}

/**
 * kg_event_sync() - wait for a running @fn
 * @ev: the event
 *
 * One thread: outside @fn nothing can be running, so there is nothing to do.
 */
void kg_event_sync(struct kg_event *ev)
{
	(void)ev;
}

/**
 * kg_event_kick() - run @fn soon with @events
 * @ev: the event; a no-op once detached
 * @events: KG_EV_* bits to report
 */
void kg_event_kick(struct kg_event *ev, unsigned int events)
{
	if (!ev->attached)
		return;
	/* Queued events only: a pending bit is set on nothing else. */
	if ((events & KG_EV_READS) && !(ev->pending & KG_EV_READS))
		ev->loop->readers_queued++;
	ev->pending |= events;
	if (!ev->queued)
		kg_ready_push(ev->loop, ev);
}

/**
 * kg_event_want_write() - ask for KG_EV_WRITE while output is pending
 * @ev: the event
 * @on: true to get EPOLLOUT, false to stop
 *
 * Re-arming EPOLLOUT with EPOLL_CTL_MOD reports space at once if there is
 * some, so no edge is lost.
 */
void kg_event_want_write(struct kg_event *ev, bool on)
{
	u32 mask;

	if (!ev->attached)
		return;
	mask = ev->epoll_mask & ~EPOLLOUT;
	if (on || ev->sock->connecting)
		mask |= EPOLLOUT;
	kg_event_update_mask(ev, mask);
}

/**
 * kg_event_close_pending() - a close was reported and @fn has not run since
 * @ev: the event
 *
 * Return: true if KG_EV_CLOSE waits for @fn.
 */
bool kg_event_close_pending(const struct kg_event *ev)
{
	return ev->attached && (ev->pending & KG_EV_CLOSE);
}

/**
 * kg_event_loop_busy() - will reading events run before the loop sleeps?
 * @ev: the running event
 *
 * As the kernel's loop: true while events with bytes to read (or a close)
 * are queued behind the running one, whether epoll reported them or a
 * handler kicked them. Kept as a count, so asking costs nothing.
 *
 * Return: true if some are queued.
 */
bool kg_event_loop_busy(const struct kg_event *ev)
{
	return ev->loop->readers_queued != 0;
}

/**
 * kg_now_ms() - a monotonic clock in milliseconds
 *
 * Return: milliseconds, wrapping at 2^32 (compare differences).
 */
u32 kg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (u32)((u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000);
}

/* ---- timers ---- */

/**
 * kg_timer_init() - prepare a timer
 * @t: the timer
 * @loop: the loop that runs it
 * @fn: what to run when it is due
 */
void kg_timer_init(struct kg_timer *t, struct kg_loop *loop, kg_timer_fn fn)
{
	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->fn = fn;
}

/**
 * kg_timer_arm() - run @t's function once, @ms from now
 * @t: the timer; a no-op if already armed
 * @ms: delay
 */
void kg_timer_arm(struct kg_timer *t, u32 ms)
{
	if (t->armed)
		return;
	t->due = kg_now_ms() + ms;
	t->armed = true;
	t->next = t->loop->timers;
	t->loop->timers = t;
}

/**
 * kg_timer_cancel_sync() - disarm @t
 * @t: the timer (one thread: it cannot be running)
 */
void kg_timer_cancel_sync(struct kg_timer *t)
{
	struct kg_timer **pp;

	if (!t->armed)
		return;
	for (pp = &t->loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = false;
}

/* ---- deferred work ---- */

/**
 * kg_deferred_init() - prepare deferred work
 * @d: the work
 * @loop: the loop that runs it
 * @fn: what to run (may free @d)
 */
void kg_deferred_init(struct kg_deferred *d, struct kg_loop *loop, kg_deferred_fn fn)
{
	d->loop = loop;
	d->fn = fn;
	d->next = NULL;
	d->queued = false;
}

/**
 * kg_deferred_queue() - run @d once soon from the loop
 * @d: the work; a no-op if it is already queued
 */
void kg_deferred_queue(struct kg_deferred *d)
{
	struct kg_loop *loop = d->loop;

	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	if (loop->deferred_tail)
		loop->deferred_tail->next = d;
	else
		loop->deferred = d;
	loop->deferred_tail = d;
}

/* ---- UDP (runtime/core/dgram.c) ---- */

/**
 * kg_sock_bind_udp() - open a non-blocking UDP socket bound to @addr/@port
 * @loop: the loop it will be attached to
 * @addr: IPv4 or IPv6 literal (NULL: 127.0.0.1)
 * @port: port, 0 for any free one
 * @out: the socket
 *
 * SO_RXQ_OVFL is on, so that kg_sock_dgram_drops() can tell how many
 * datagrams the receive buffer dropped.
 *
 * Return: 0 or a negative errno.
 */
int kg_sock_bind_udp(struct kg_loop *loop, const char *addr, u16 port, struct kg_sock **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	(void)loop;
	err = kg_parse_addr(addr, port, &ss, &len);
	if (err)
		return err;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* No SO_REUSEADDR: on UDP it would let another socket share the port. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = kg_sock_wrap(fd);
	return *out ? 0 : -ENOMEM;
}

/**
 * kg_sock_recv_dgram() - receive one datagram
 * @s: the socket
 * @buf: where to
 * @len: room in @buf
 * @truncated: set when the datagram was longer than @len
 *
 * Return: its length (at most @len), -EAGAIN when none is queued, or a
 * negative errno.
 */
ssize_t kg_sock_recv_dgram(struct kg_sock *s, void *buf, size_t len, bool *truncated)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(u32))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*truncated = false;
	n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	*truncated = msg.msg_flags & MSG_TRUNC;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(u32)))
			memcpy(&s->dgram_drops, CMSG_DATA(c), sizeof(u32));
	}
	return n;
}

/**
 * kg_sock_dgram_drops() - datagrams the receive buffer dropped
 * @s: the socket
 *
 * Return: the kernel's count as of the last datagram received (it comes with
 * each one).
 */
u64 kg_sock_dgram_drops(struct kg_sock *s)
{
	return s->dgram_drops;
}

/**
 * kg_event_attach_dgram() - watch a UDP socket for datagrams
 * @ev: the event
 * @loop: the loop
 * @s: the socket
 * @fn: called with KG_EV_READ
 *
 * Return: 0 or a negative errno.
 */
int kg_event_attach_dgram(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
			  kg_event_fn fn)
{
	return kg_event_attach(ev, loop, s, fn);
}
