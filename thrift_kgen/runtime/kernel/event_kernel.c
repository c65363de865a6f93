// SPDX-License-Identifier: GPL-2.0
/*
 * klibevent, kernel backend: kernel sockets whose sk_data_ready /
 * sk_write_space / sk_state_change are replaced by ours, and a workqueue
 * that runs each event's function in process context.
 *
 * The socket callbacks run in softirq context (or with the socket lock held
 * in process context), so they only record what happened in ev->pending and
 * make the event run; the event function then runs in process context,
 * where sleeping, sending and receiving are allowed. The patterns follow
 * drivers/nvme/target/tcp.c and net/sunrpc/svcsock.c.
 *
 * How an event runs depends on the workqueue mode:
 *  - ordered (the default, like Slick's klibevent): one loop thread of the
 *    module's own drains a ready list of events, one after the other.
 *    Raising an event while the loop runs only appends it, so a handler
 *    that writes to twenty backends wakes nobody at all; raising one while
 *    the loop sleeps is one wake_up_process(). (One work item per event on
 *    an ordered queue made the unbound pool hand every item to another
 *    worker: three context switches per event, ~10% of the forwarder's
 *    time. A loop work item still paid the workqueue's bookkeeping, queueing
 *    and worker management, on every message of a ping-pong client.) Timers
 *    and deferred work (connection reaps) stay on the ordered workqueue and
 *    take loop->serial, which the loop holds for a turn: nothing the server
 *    or a service runs is concurrent with a handler in this mode.
 *  - unbound and per-cpu: one work item per event, run in parallel across
 *    connections.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": event: " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/tcp.h>
#include <linux/workqueue.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <net/sock.h>
#include <net/inet_sock.h>
#include <net/tcp.h>
#include <net/net_namespace.h>

#include "kgen/event.h"
#include "kgen/netcompat.h"

/* Bit numbers of the KG_EV_* masks in kg_event.pending. */
#define KG_EVB_READ	0
#define KG_EVB_WRITE	1
#define KG_EVB_CLOSE	2

struct kg_loop {
	struct workqueue_struct *wq;
	int wq_mode;
	bool single;			/* ordered mode: events run on the loop thread */
	/* Ordered mode: events to run, in order; see kg_loop_turn(). */
	spinlock_t ready_lock;
	struct list_head ready;
	/*
	 * Events raised for writing only (bytes queued on them by another
	 * connection's handler): run after the pass of ready events, so a
	 * forwarder's backend sends what every ready client gave it in one
	 * flush, as the epoll loop does, not a few messages per client run.
	 */
	struct list_head later;
	struct list_head pass;		/* the pass being run (ready_lock) */
	struct kg_event *running;	/* whose function the loop thread is calling */
	bool scheduled;			/* the loop thread has events to run */
	struct task_struct *thread;	/* ordered mode: the loop, see kg_loop_thread() */
	struct mutex serial;		/* ordered mode: a loop turn, a timer or a deferred run */
	/* kg_event_sync() and kg_loop_drain() wait here for the loop thread. */
	wait_queue_head_t idle;
	/*
	 * Work items queued or running, and the loop thread while scheduled.
	 * kg_loop_drain() waits until this is zero rather than using
	 * drain_workqueue(), which WARNs when a socket callback queues work
	 * from outside the queue while it drains.
	 */
	atomic_t inflight;
};

struct kg_sock {
	struct socket *sock;
	struct kg_loop *loop;
	struct kg_event *ev;		/* attached event, if any */
	bool listener;
	/*
	 * A listener's callbacks before we replaced them. TCP children are
	 * cloned from the listener and inherit whatever callbacks it has at
	 * that moment; accept gives the children these back.
	 */
	bool have_orig;
	void (*orig_data_ready)(struct sock *sk);
	void (*orig_write_space)(struct sock *sk);
	void (*orig_state_change)(struct sock *sk);
};

/* ---- loop ---- */

static int kg_loop_thread(void *arg);

/* workqueue.c's WQ_NAME_LEN on 6.1 (32 on 6.12): longer names are cut. */
#define KG_WQ_NAME_LEN	24

/* "<module>_ev<suffix>", the module's name shortened so the suffix stays. */
static void kg_wq_name(char name[KG_WQ_NAME_LEN], const char *suffix)
{
	int room = KG_WQ_NAME_LEN - 1 - (int)strlen("_ev") - (int)strlen(suffix);

	snprintf(name, KG_WQ_NAME_LEN, "%.*s_ev%s", room, KBUILD_MODNAME, suffix);
}

int kg_loop_create(struct kg_loop **out, int wq_mode)
{
	static const char *const suffix[] = {
		[KG_WQ_ORDERED] = "", [KG_WQ_UNBOUND] = "_unbound", [KG_WQ_PERCPU] = "_percpu",
	};
	char name[KG_WQ_NAME_LEN];
	struct kg_loop *loop;

	if (wq_mode < KG_WQ_ORDERED || wq_mode > KG_WQ_PERCPU)
		return -EINVAL;
	loop = kzalloc(sizeof(*loop), GFP_KERNEL);
	if (!loop)
		return -ENOMEM;
	loop->wq_mode = wq_mode;
	/* Per module: two loaded modules' workers are told apart. */
	kg_wq_name(name, suffix[wq_mode]);
	switch (wq_mode) {
	case KG_WQ_ORDERED:
		/* One work item at a time, like Slick's single-thread queue. */
		loop->wq = alloc_ordered_workqueue("%s", 0, name);
		break;
	case KG_WQ_UNBOUND:
		loop->wq = alloc_workqueue("%s", WQ_UNBOUND, 0, name);
		break;
	default:
		/* Work runs on the CPU whose softirq saw the packet. */
		loop->wq = alloc_workqueue("%s", 0, 0, name);
		break;
	}
	if (!loop->wq) {
		kfree(loop);
		return -ENOMEM;
	}
	pr_debug("workqueue %s\n", name);
	loop->single = wq_mode == KG_WQ_ORDERED;
	spin_lock_init(&loop->ready_lock);
	INIT_LIST_HEAD(&loop->ready);
	INIT_LIST_HEAD(&loop->later);
	INIT_LIST_HEAD(&loop->pass);
	init_waitqueue_head(&loop->idle);
	mutex_init(&loop->serial);
	if (loop->single) {
		/* "kgloop:<module>", cut to the 15 characters a task name has. */
		loop->thread = kthread_run(kg_loop_thread, loop, "kgloop:%s", KBUILD_MODNAME);
		if (IS_ERR(loop->thread)) {
			int err = PTR_ERR(loop->thread);

			destroy_workqueue(loop->wq);
			kfree(loop);
			return err;
		}
	}
	*out = loop;
	return 0;
}

int kg_loop_run(struct kg_loop *loop)
{
	/* The workqueue is the loop: nothing to run here. */
	return 0;
}

void kg_loop_stop(struct kg_loop *loop)
{
}

void kg_loop_drain(struct kg_loop *loop)
{
	might_sleep();
	while (atomic_read(&loop->inflight)) {
		flush_workqueue(loop->wq);
		/* The loop thread's turn, which may queue work again. */
		if (loop->thread)
			wait_event(loop->idle, !READ_ONCE(loop->scheduled));
	}
}

void kg_loop_destroy(struct kg_loop *loop)
{
	if (!loop)
		return;
	if (loop->thread)
		kthread_stop(loop->thread);
	destroy_workqueue(loop->wq);
	kfree(loop);
}

static void kg_loop_queue(struct kg_loop *loop, struct work_struct *work)
{
	atomic_inc(&loop->inflight);
	if (!queue_work(loop->wq, work))
		atomic_dec(&loop->inflight);	/* already queued: counted once */
}

/* At the very end of a work function: @loop outlives the work's owner. */
static void kg_loop_done(struct kg_loop *loop)
{
	atomic_dec(&loop->inflight);
}

/* ---- event callbacks (softirq) ---- */

/*
 * Ordered mode, @ev not listed: list it (for writing only: on the later
 * list) and wake the loop if it sleeps. Out of line: an event already
 * listed (a backend every client message writes to) needs none of this.
 */
static noinline void kg_event_list(struct kg_event *ev, unsigned int events)
{
	struct kg_loop *loop = ev->loop;
	unsigned long flags;
	bool start;

	/* Any context: socket callbacks run in softirq, kicks in process context. */
	spin_lock_irqsave(&loop->ready_lock, flags);
	if (list_empty(&ev->ready))
		list_add_tail(&ev->ready, events == KG_EV_WRITE ? &loop->later : &loop->ready);
	start = !loop->scheduled;
	if (start) {
		/* Counted until the loop finds its lists empty: see kg_loop_turn(). */
		atomic_inc(&loop->inflight);
		loop->scheduled = true;
	}
	spin_unlock_irqrestore(&loop->ready_lock, flags);
	/* Orders scheduled before the thread's check of it (kg_loop_thread()). */
	if (start)
		wake_up_process(loop->thread);
}

static __always_inline void kg_event_raise(struct kg_event *ev, unsigned int events)
{
	struct kg_loop *loop = ev->loop;

	if (events & KG_EV_READ)
		set_bit(KG_EVB_READ, &ev->pending);
	if (events & KG_EV_WRITE)
		set_bit(KG_EVB_WRITE, &ev->pending);
	if (events & KG_EV_CLOSE)
		set_bit(KG_EVB_CLOSE, &ev->pending);
	if (unlikely(!loop->single)) {
		/* Orders the bits before the work's PENDING bit; see kg_event_work(). */
		kg_loop_queue(loop, &ev->work);
		return;
	}
	/*
	 * Already listed: nothing to do but the bit. The loop takes an event
	 * off its list before it reads the bits (kg_event_run()'s xchg, a
	 * full barrier), and the barrier here pairs with it: either we see
	 * the event off its list and list it again, or the loop's xchg sees
	 * the bit.
	 */
	smp_mb__after_atomic();
	if (likely(!list_empty(&ev->ready)))
		return;
	kg_event_list(ev, events);
}

/* Caller holds sk->sk_callback_lock. NULL on children not yet accepted. */
static struct kg_event *kg_sk_event(const struct sock *sk)
{
	lockdep_assert_held(&sk->sk_callback_lock);
	return __locked_read_sk_user_data_with_flags(sk, SK_USER_DATA_NOCOPY);
}

static void kg_sk_data_ready(struct sock *sk)
{
	struct kg_event *ev;

	read_lock_bh(&sk->sk_callback_lock);
	ev = kg_sk_event(sk);
	/* On a listener this means connections to accept. */
	if (ev)
		kg_event_raise(ev, KG_EV_READ);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void kg_sk_write_space(struct sock *sk)
{
	struct kg_event *ev;

	read_lock_bh(&sk->sk_callback_lock);
	ev = kg_sk_event(sk);
	/*
	 * As sk_stream_write_space(): only once the queue has drained enough,
	 * and clear SOCK_NOSPACE so that TCP calls us again next time a send
	 * fills it (tcp_check_space() only calls back while it is set).
	 */
	if (ev && sk->sk_socket && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		kg_event_raise(ev, KG_EV_WRITE);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* What a socket in @state has to say, as KG_EV_* bits. */
static unsigned int kg_state_events(const struct sock *sk)
{
	if (READ_ONCE(sk->sk_err))
		return KG_EV_READ | KG_EV_WRITE | KG_EV_CLOSE;
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		/* A non-blocking connect completed. */
		return KG_EV_WRITE;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
	case TCP_LISTEN:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		return 0;
	case TCP_CLOSE_WAIT:
		/* Peer sent FIN: what it sent before stays readable, then EOF. */
		return KG_EV_READ | KG_EV_CLOSE;
	default:
		/* TCP_CLOSE (reset, refused), CLOSING, LAST_ACK, TIME_WAIT */
		return KG_EV_READ | KG_EV_WRITE | KG_EV_CLOSE;
	}
}

static void kg_sk_state_change(struct sock *sk)
{
	struct kg_event *ev;
	unsigned int events;

	read_lock_bh(&sk->sk_callback_lock);
	ev = kg_sk_event(sk);
	if (ev) {
		events = kg_state_events(sk);
		if (events)
			kg_event_raise(ev, events);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* ---- event work (process context) ---- */

/* Take @ev's bits and call its function with them, if it is still attached. */
static void kg_event_run(struct kg_event *ev)
{
	unsigned long bits;
	unsigned int events = 0;

	bits = xchg(&ev->pending, 0);
	if (!bits || !READ_ONCE(ev->attached))
		return;
	if (bits & BIT(KG_EVB_READ))
		events |= KG_EV_READ;
	if (bits & BIT(KG_EVB_WRITE))
		events |= KG_EV_WRITE;
	if (bits & BIT(KG_EVB_CLOSE))
		events |= KG_EV_CLOSE;
	/* @fn may detach @ev, but not free it before kg_event_sync(). */
	ev->fn(ev, events);
}

/* Unbound and per-cpu modes: one work item per event. */
static void kg_event_work(struct work_struct *work)
{
	struct kg_event *ev = container_of(work, struct kg_event, work);
	struct kg_loop *loop = ev->loop;

	/*
	 * The work's PENDING bit was cleared before we started, so a callback
	 * that sets a bit after the xchg queues us again: nothing is lost.
	 */
	kg_event_run(ev);
	kg_loop_done(loop);
}

/* Events run per turn of the ordered loop before it lets others run. */
#define KG_LOOP_BUDGET	256

/*
 * Ordered mode: run the events in passes, as the epoll loop does: a pass
 * of everything ready (each reading connection once), then a pass of the
 * write-only ones (loop->later: the backends those reads wrote to flush
 * once for all of them), then again. Events raised during a pass wait for
 * the next one: a client that stopped for its budget, kicking itself,
 * does not put off the flushes (it did while the ready list had to be
 * empty first: at 128 B a forwarder queued megabytes before its first
 * byte reached a backend). An event is taken off its list before its bits
 * are read, so a raise after that puts it back and nothing is lost. After
 * a budget the turn ends with the loop still scheduled: the thread yields
 * the CPU (cond_resched()) and starts another.
 */
static void kg_loop_turn(struct kg_loop *loop)
{
	struct kg_event *ev;
	unsigned int budget = KG_LOOP_BUDGET;
	bool flushes_due = false;
	bool again = false;

	mutex_lock(&loop->serial);
	spin_lock_irq(&loop->ready_lock);
	for (;;) {
		if (list_empty(&loop->pass)) {
			if (!list_empty(&loop->later) &&
			    (flushes_due || list_empty(&loop->ready))) {
				list_splice_tail_init(&loop->later, &loop->pass);
				flushes_due = false;
			} else if (!list_empty(&loop->ready)) {
				list_splice_tail_init(&loop->ready, &loop->pass);
				flushes_due = true;
			} else {
				break;
			}
		}
		if (!budget--) {
			/* The rest of this pass runs first next turn. */
			list_splice_init(&loop->pass, &loop->ready);
			again = true;
			break;
		}
		ev = list_first_entry(&loop->pass, struct kg_event, ready);
		list_del_init(&ev->ready);
		loop->running = ev;
		spin_unlock_irq(&loop->ready_lock);
		kg_event_run(ev);
		spin_lock_irq(&loop->ready_lock);
		loop->running = NULL;
		/* Someone in kg_event_sync() may wait for this event to return. */
		if (unlikely(wq_has_sleeper(&loop->idle)))
			wake_up_all(&loop->idle);
	}
	if (!again)
		loop->scheduled = false;
	spin_unlock_irq(&loop->ready_lock);
	mutex_unlock(&loop->serial);
	if (!again) {
		kg_loop_done(loop);
		if (unlikely(wq_has_sleeper(&loop->idle)))
			wake_up_all(&loop->idle);
	}
}

/*
 * The ordered loop: sleeps until kg_event_raise() schedules it, runs turns
 * until nothing is ready. The state is set before scheduled is read, so a
 * raise after the read wakes the thread out of (or before) schedule().
 */
static int kg_loop_thread(void *arg)
{
	struct kg_loop *loop = arg;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(loop->scheduled)) {
			__set_current_state(TASK_RUNNING);
			kg_loop_turn(loop);
			cond_resched();
			continue;
		}
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void kg_sk_dgram_ready(struct sock *sk);

/*
 * One attach for streams and datagrams: every callback is saved, so that
 * kg_event_detach() restores the same three whichever kind this was.
 */
static int kg_event_attach_sock(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
				kg_event_fn fn, bool dgram)
{
	struct sock *sk = s->sock->sk;
	unsigned int events;

	if (s->ev)
		return -EBUSY;
	ev->loop = loop;
	ev->sock = s;
	ev->fn = fn;
	ev->pending = 0;
	ev->dgram = dgram;
	INIT_WORK(&ev->work, kg_event_work);
	INIT_LIST_HEAD(&ev->ready);

	/*
	 * Before the first event is raised: once raised, the event may run,
	 * close and free @s on another worker before we get further.
	 */
	s->ev = ev;
	write_lock_bh(&sk->sk_callback_lock);
	ev->saved_data_ready = sk->sk_data_ready;
	ev->saved_write_space = sk->sk_write_space;
	ev->saved_state_change = sk->sk_state_change;
	/* NOCOPY: children cloned from a listener must not see our event. */
	__rcu_assign_sk_user_data_with_flags(sk, ev, SK_USER_DATA_NOCOPY);
	if (dgram) {
		/* No write space or state to report on an unconnected socket. */
		sk->sk_data_ready = kg_sk_dgram_ready;
		/* Datagrams queued before the attach are read once now. */
		events = KG_EV_READ;
	} else {
		if (!s->have_orig) {
			s->orig_data_ready = sk->sk_data_ready;
			s->orig_write_space = sk->sk_write_space;
			s->orig_state_change = sk->sk_state_change;
			s->have_orig = true;
		}
		sk->sk_data_ready = kg_sk_data_ready;
		sk->sk_write_space = kg_sk_write_space;
		sk->sk_state_change = kg_sk_state_change;
		/* Whatever happened before we were listening is reported once now. */
		if (sk->sk_state == TCP_LISTEN)
			events = KG_EV_READ;
		else if (sk->sk_state == TCP_ESTABLISHED && !READ_ONCE(sk->sk_err))
			events = KG_EV_READ | KG_EV_WRITE;
		else
			events = kg_state_events(sk);
	}
	WRITE_ONCE(ev->attached, true);
	if (events)
		kg_event_raise(ev, events);
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

int kg_event_attach(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
		    kg_event_fn fn)
{
	return kg_event_attach_sock(ev, loop, s, fn, false);
}

void kg_event_detach(struct kg_event *ev)
{
	struct kg_sock *s = ev->sock;
	struct sock *sk;

	if (!READ_ONCE(ev->attached))
		return;
	sk = s->sock->sk;
	/* Once the write lock is held no callback of ours is looking at @ev. */
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	sk->sk_data_ready = ev->saved_data_ready;
	sk->sk_write_space = ev->saved_write_space;
	sk->sk_state_change = ev->saved_state_change;
	WRITE_ONCE(ev->attached, false);
	write_unlock_bh(&sk->sk_callback_lock);
	s->ev = NULL;
	/*
	 * UDP calls sk_data_ready from softirq under RCU, having read the
	 * pointer before the lock: let such calls finish before the module
	 * (and our callback) may go. TCP calls it under the socket lock.
	 */
	if (ev->dgram)
		synchronize_net();
}

void kg_event_sync(struct kg_event *ev)
{
	struct kg_loop *loop = ev->loop;
	bool running;

	/* ev->loop is only set once INIT_WORK() has run. */
	if (!loop)
		return;
	if (loop->single) {
		/*
		 * Detached, so it is not raised again: take it off the ready
		 * list, and wait for the loop if it is calling @ev's function
		 * right now (only from outside the loop: a reap holds the
		 * serial lock, so the loop is between turns then).
		 */
		spin_lock_irq(&loop->ready_lock);
		list_del_init(&ev->ready);
		running = loop->running == ev;
		spin_unlock_irq(&loop->ready_lock);
		if (running && !WARN_ON_ONCE(current == loop->thread))
			wait_event(loop->idle, READ_ONCE(loop->running) != ev);
		return;
	}
	/*
	 * A work item cancelled while still pending never ran, so it must
	 * leave the in-flight count here, or kg_loop_drain() would wait for it
	 * forever.
	 */
	if (cancel_work_sync(&ev->work))
		kg_loop_done(loop);
}

void kg_event_kick(struct kg_event *ev, unsigned int events)
{
	if (READ_ONCE(ev->attached) && events)
		kg_event_raise(ev, events);
}

void kg_event_want_write(struct kg_event *ev, bool on)
{
	/* sk_write_space already tells us whenever a full queue drains. */
}

bool kg_event_close_pending(const struct kg_event *ev)
{
	return test_bit(KG_EVB_CLOSE, &ev->pending);
}

bool kg_event_loop_busy(const struct kg_event *ev)
{
	struct kg_loop *loop = ev->loop;

	/* Racy by design: a stale answer costs one flush more or one pass later. */
	return loop->single && !list_empty(&loop->ready);
}

u32 kg_now_ms(void)
{
	/* Truncated: callers compare differences, which survive the wrap. */
	return (u32)jiffies64_to_msecs(get_jiffies_64());
}

/* ---- timers ---- */

/* Ordered mode: what runs on the workqueue is serialized with the loop thread. */
static void kg_loop_serial_lock(struct kg_loop *loop)
{
	if (loop->single)
		mutex_lock(&loop->serial);
}

static void kg_loop_serial_unlock(struct kg_loop *loop)
{
	if (loop->single)
		mutex_unlock(&loop->serial);
}

static void kg_timer_work(struct work_struct *work)
{
	struct kg_timer *t = container_of(to_delayed_work(work), struct kg_timer, dwork);
	struct kg_loop *loop = t->loop;

	kg_loop_serial_lock(loop);
	t->fn(t);
	kg_loop_serial_unlock(loop);
}

void kg_timer_init(struct kg_timer *t, struct kg_loop *loop, kg_timer_fn fn)
{
	t->loop = loop;
	t->fn = fn;
	INIT_DELAYED_WORK(&t->dwork, kg_timer_work);
}

void kg_timer_arm(struct kg_timer *t, u32 ms)
{
	queue_delayed_work(t->loop->wq, &t->dwork, msecs_to_jiffies(ms));
}

void kg_timer_cancel_sync(struct kg_timer *t)
{
	/* Also holds off a re-arm from a run in progress. */
	cancel_delayed_work_sync(&t->dwork);
}

/* ---- deferred work ---- */

static void kg_deferred_work(struct work_struct *work)
{
	struct kg_deferred *d = container_of(work, struct kg_deferred, work);
	struct kg_loop *loop = d->loop;

	/* @fn may free @d: only @loop is used afterwards. */
	kg_loop_serial_lock(loop);
	d->fn(d);
	kg_loop_serial_unlock(loop);
	kg_loop_done(loop);
}

void kg_deferred_init(struct kg_deferred *d, struct kg_loop *loop, kg_deferred_fn fn)
{
	d->loop = loop;
	d->fn = fn;
	INIT_WORK(&d->work, kg_deferred_work);
}

void kg_deferred_queue(struct kg_deferred *d)
{
	kg_loop_queue(d->loop, &d->work);
}

/* ---- sockets ---- */

static int kg_parse_addr(const char *addr, u16 port, struct sockaddr_storage *ss, int *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n;

	if (!addr || !*addr)
		addr = "127.0.0.1";
	n = strlen(addr);
	/* Accept "[::1]" as well as "::1". */
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, addr + 1, n - 2);
		buf[n - 2] = '\0';
		addr = buf;
	}
	memset(ss, 0, sizeof(*ss));
	if (in4_pton(addr, -1, (u8 *)&sin->sin_addr.s_addr, '\0', NULL)) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (in6_pton(addr, -1, sin6->sin6_addr.s6_addr, '\0', NULL)) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

static struct kg_sock *kg_sock_wrap(struct kg_loop *loop, struct socket *sock)
{
	struct kg_sock *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->sock = sock;
	s->loop = loop;
	return s;
}

int kg_sock_listen(struct kg_loop *loop, const char *addr, u16 port, int backlog,
		   struct kg_sock **out)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	struct kg_sock *s;
	int len, ret;

	ret = kg_parse_addr(addr, port, &ss, &len);
	if (ret)
		return ret;
	ret = sock_create_kern(&init_net, ss.ss_family, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	sock_set_reuseaddr(sock->sk);
	ret = kernel_bind(sock, (struct sockaddr *)&ss, len);
	if (ret)
		goto err;
	ret = kernel_listen(sock, backlog);
	if (ret)
		goto err;
	s = kg_sock_wrap(loop, sock);
	if (!s) {
		ret = -ENOMEM;
		goto err;
	}
	s->listener = true;
	*out = s;
	return 0;
err:
	sock_release(sock);
	return ret;
}

/* Give an accepted child the callbacks its listener had before us. */
static void kg_child_fixup(struct kg_sock *listener, struct sock *sk)
{
	if (!listener->have_orig)
		return;
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready == kg_sk_data_ready)
		sk->sk_data_ready = listener->orig_data_ready;
	if (sk->sk_write_space == kg_sk_write_space)
		sk->sk_write_space = listener->orig_write_space;
	if (sk->sk_state_change == kg_sk_state_change)
		sk->sk_state_change = listener->orig_state_change;
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
}

int kg_sock_accept(struct kg_sock *listener, struct kg_sock **out)
{
	struct socket *sock;
	struct kg_sock *s;
	int ret;

	ret = kernel_accept(listener->sock, &sock, O_NONBLOCK);
	if (ret)
		return ret;
	kg_child_fixup(listener, sock->sk);
	tcp_sock_set_nodelay(sock->sk);
	s = kg_sock_wrap(listener->loop, sock);
	if (!s) {
		sock_release(sock);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int kg_sock_connect(struct kg_loop *loop, const char *addr, u16 port, struct kg_sock **out)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	struct kg_sock *s;
	int len, ret;

	ret = kg_parse_addr(addr, port, &ss, &len);
	if (ret)
		return ret;
	ret = sock_create_kern(&init_net, ss.ss_family, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	tcp_sock_set_nodelay(sock->sk);
	s = kg_sock_wrap(loop, sock);
	if (!s) {
		sock_release(sock);
		return -ENOMEM;
	}
	ret = kernel_connect(sock, (struct sockaddr *)&ss, len, O_NONBLOCK);
	if (ret && ret != -EINPROGRESS) {
		sock_release(sock);
		kfree(s);
		return ret;
	}
	*out = s;
	return ret;
}

int kg_sock_error(struct kg_sock *s)
{
	/* -errno, and clears it like SO_ERROR. */
	return sock_error(s->sock->sk);
}

/* Where kg_recv_actor() copies to. */
struct kg_recv_dest {
	u8 *buf;
	size_t got;
};

/*
 * What a read_sock that took nothing means, socket locked. As recvmsg:
 * queued bytes first, then the error, then end of stream, else -EAGAIN.
 */
static int kg_sock_read_nothing(struct sock *sk)
{
	int err = sock_error(sk);

	if (!err && !(sk->sk_state == TCP_CLOSE || (sk->sk_shutdown & RCV_SHUTDOWN)))
		err = -EAGAIN;
	return err;
}

/* Called by read_sock for each piece of queued data, socket locked. */
static int kg_recv_actor(read_descriptor_t *desc, struct sk_buff *skb, unsigned int offset,
			 size_t len)
{
	struct kg_recv_dest *d = desc->arg.data;
	size_t n = min_t(size_t, len, desc->count);

	if (skb_copy_bits(skb, offset, d->buf + d->got, n)) {
		desc->error = -EFAULT;
		return 0;
	}
	d->got += n;
	desc->count -= n;
	return n;
}

/*
 * Straight from the socket's receive queue with read_sock (tcp_read_sock,
 * as net/strparser does): one walk of the queue under the socket lock, none
 * of recvmsg's layers (LSM hook, iov_iter, the blocking-receive machinery).
 */
ssize_t kg_sock_recv(struct kg_sock *s, void *buf, size_t len)
{
	struct socket *sock = s->sock;
	struct sock *sk = sock->sk;
	struct kg_recv_dest d = { .buf = buf };
	read_descriptor_t desc = { .arg.data = &d, .count = min_t(size_t, len, INT_MAX) };
	int ret;

	if (!desc.count)
		return 0;
	lock_sock(sk);
	ret = sock->ops->read_sock(sk, &desc, kg_recv_actor);
	if (!ret && desc.error)
		ret = desc.error;
	if (!ret)
		ret = kg_sock_read_nothing(sk);
	release_sock(sk);
	return ret;
}

/* Where kg_borrow_actor() records the pieces it lends. */
struct kg_borrow_dest {
	struct kg_rx_seg *seg;
	unsigned int n, max;
	bool unlendable;	/* met bytes that are not in pages we may reference */
};

/*
 * Lend [data, data + len) of @page: joins the last segment when it follows
 * it in the same page (one sender's consecutive writes), else a new one.
 * False when every segment is taken.
 */
static bool kg_borrow_piece(struct kg_borrow_dest *d, struct page *page, const u8 *data,
			    u32 len)
{
	struct kg_rx_seg *last = d->n ? &d->seg[d->n - 1] : NULL;

	if (last && last->page == page && last->data + last->len == data) {
		last->len += len;
		return true;
	}
	if (d->n == d->max)
		return false;
	get_page(page);
	d->seg[d->n].data = data;
	d->seg[d->n].page = page;
	d->seg[d->n].len = len;
	d->n++;
	return true;
}

/*
 * Called by read_sock for each skb's queued range, socket locked: takes
 * page references instead of copying (as TCP's splice does), so the bytes
 * stay valid after the skb is eaten and the lock dropped. The linear head
 * only when it is a page fragment of its own (skb_head_is_locked(), as
 * splice); a frag_list or device memory ends the borrow there.
 */
static int kg_borrow_actor(read_descriptor_t *desc, struct sk_buff *skb, unsigned int offset,
			   size_t len)
{
	struct kg_borrow_dest *d = desc->arg.data;
	unsigned int end = offset + min_t(size_t, len, desc->count);
	unsigned int pos = offset, start = skb_headlen(skb), i;

	if (!desc->count)
		return 0;
	if (pos < start) {
		u32 n = min(end, start) - pos;

		if (skb_head_is_locked(skb)) {
			d->unlendable = true;
			return 0;
		}
		if (!kg_borrow_piece(d, virt_to_head_page(skb->data + pos), skb->data + pos, n))
			return 0;
		pos += n;
	}
	for (i = 0; pos < end && i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		unsigned int size = skb_frag_size(f);
		const u8 *base;
		u32 n;

		if (pos >= start + size) {
			start += size;
			continue;
		}
		base = kg_skb_frags_readable(skb) ? skb_frag_address_safe(f) : NULL;
		if (!base) {
			d->unlendable = true;
			break;
		}
		n = min(end, start + size) - pos;
		if (!kg_borrow_piece(d, virt_to_head_page(base + (pos - start)),
				     base + (pos - start), n))
			break;
		pos += n;
		start += size;
	}
	if (pos < end && i == skb_shinfo(skb)->nr_frags)
		d->unlendable = true;	/* the rest is in the frag_list */
	desc->count -= pos - offset;
	return pos - offset;
}

/*
 * kg_sock_recv() without the copy: the same walk of the receive queue, the
 * same end-of-stream and error order, pages lent instead of bytes copied.
 */
ssize_t kg_sock_recv_borrow(struct kg_sock *s, struct kg_rx_seg *seg, unsigned int max,
			    size_t len, unsigned int *nseg)
{
	struct socket *sock = s->sock;
	struct sock *sk = sock->sk;
	struct kg_borrow_dest d = { .seg = seg, .max = max };
	read_descriptor_t desc = { .arg.data = &d, .count = min_t(size_t, len, INT_MAX) };
	int ret;

	*nseg = 0;
	if (!desc.count || !max)
		return -EOPNOTSUPP;
	lock_sock(sk);
	ret = sock->ops->read_sock(sk, &desc, kg_borrow_actor);
	if (!ret && d.unlendable)
		ret = -EOPNOTSUPP;
	if (!ret)
		ret = kg_sock_read_nothing(sk);
	release_sock(sk);
	/* Pieces were taken only if bytes were (ret > 0): read_sock consumed them. */
	*nseg = d.n;
	return ret;
}

void kg_rx_seg_put(struct kg_rx_seg *seg)
{
	put_page(seg->page);
}

bool kg_sock_rx_empty(struct kg_sock *s)
{
	struct sock *sk = s->sock->sk;

	/*
	 * After a receive returned, the backlog was processed (release_sock()),
	 * so what arrived is in the queue; what arrives later calls
	 * sk_data_ready, which raises the event again. An error or a FIN is
	 * reported by sk_state_change the same way.
	 */
	return skb_queue_empty_lockless(&sk->sk_receive_queue) && !READ_ONCE(sk->sk_err) &&
	       !(READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

/*
 * The protocol's sendmsg itself (tcp_sendmsg), as read_sock on the receive
 * side: kernel_sendmsg() adds only sock_sendmsg()'s layer, whose LSM hook
 * has nothing to check on a kernel socket.
 */
ssize_t kg_sock_send(struct kg_sock *s, const void *buf, size_t len)
{
	struct socket *sock = s->sock;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec vec = { .iov_base = (void *)buf, .iov_len = min_t(size_t, len, INT_MAX) };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &vec, 1, vec.iov_len);
	return sock->ops->sendmsg(sock, &msg, vec.iov_len);
}

ssize_t kg_sock_send_pages(struct kg_sock *s, const void *buf, size_t len)
{
	return kg_compat_send_pages(s->sock, buf, len);
}

void kg_sock_shutdown(struct kg_sock *s)
{
	kernel_sock_shutdown(s->sock, SHUT_RDWR);
}

/*
 * Children cloned while our callbacks were set on the listener carry them
 * until accepted. Before the listener goes (and possibly this module with
 * it), accept every child still queued and give it its callbacks back; the
 * grace period lets clones that started before detach reach the queue.
 */
static void kg_listener_drain(struct kg_sock *listener)
{
	struct socket *child;

	synchronize_net();
	while (kernel_accept(listener->sock, &child, O_NONBLOCK) == 0) {
		kg_child_fixup(listener, child->sk);
		sock_release(child);
	}
}

void kg_sock_release(struct kg_sock *s)
{
	if (!s)
		return;
	if (WARN_ON_ONCE(s->ev))
		kg_event_detach(s->ev);
	if (s->listener && s->have_orig)
		kg_listener_drain(s);
	sock_release(s->sock);
	kfree(s);
}

u16 kg_sock_local_port(struct kg_sock *s)
{
	return inet_sk(s->sock->sk)->inet_num;
}

u32 kg_sock_unacked(struct kg_sock *s)
{
	struct sock *sk = s->sock->sk;
	const struct tcp_sock *tp = tcp_sk(sk);

	/* As tcp_ioctl(SIOCOUTQ): a lockless snapshot is all we need. */
	if ((1 << READ_ONCE(sk->sk_state)) & (TCPF_LISTEN | TCPF_SYN_SENT | TCPF_SYN_RECV))
		return 0;
	return READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una);
}

bool kg_sock_peer_gone(struct kg_sock *s)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_PEEK };
	struct kvec vec;
	u8 byte;
	int n;

	vec.iov_base = &byte;
	vec.iov_len = 1;
	n = kernel_recvmsg(s->sock, &msg, &vec, 1, 1, MSG_DONTWAIT | MSG_PEEK);
	return n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR);
}

/* ---- UDP (runtime/core/dgram.c) ---- */

/* Datagrams only: see kg_event_attach_sock(). */
static void kg_sk_dgram_ready(struct sock *sk)
{
	struct kg_event *ev;

	read_lock_bh(&sk->sk_callback_lock);
	ev = kg_sk_event(sk);
	if (ev)
		kg_event_raise(ev, KG_EV_READ);
	read_unlock_bh(&sk->sk_callback_lock);
}

int kg_sock_bind_udp(struct kg_loop *loop, const char *addr, u16 port, struct kg_sock **out)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	struct kg_sock *s;
	int len, ret;

	ret = kg_parse_addr(addr, port, &ss, &len);
	if (ret)
		return ret;
	ret = sock_create_kern(&init_net, ss.ss_family, SOCK_DGRAM, IPPROTO_UDP, &sock);
	if (ret)
		return ret;
	/* No SO_REUSEADDR: on UDP it would let another socket share the port. */
	ret = kernel_bind(sock, (struct sockaddr *)&ss, len);
	if (ret)
		goto err;
	s = kg_sock_wrap(loop, sock);
	if (!s) {
		ret = -ENOMEM;
		goto err;
	}
	*out = s;
	return 0;
err:
	sock_release(sock);
	return ret;
}

ssize_t kg_sock_recv_dgram(struct kg_sock *s, void *buf, size_t len, bool *truncated)
{
	struct msghdr msg = { .msg_flags = 0 };	/* udp_recvmsg() adds MSG_TRUNC */
	struct kvec vec = { .iov_base = buf, .iov_len = min_t(size_t, len, INT_MAX) };
	int n;

	n = kernel_recvmsg(s->sock, &msg, &vec, 1, vec.iov_len, MSG_DONTWAIT);
	/* What fits is copied; MSG_TRUNC says there was more. */
	*truncated = n >= 0 && (msg.msg_flags & MSG_TRUNC);
	return n;
}

u64 kg_sock_dgram_drops(struct kg_sock *s)
{
	/* Counted by the UDP stack when the receive buffer is full (and bad checksums). */
	return (u32)atomic_read(&s->sock->sk->sk_drops);
}

int kg_event_attach_dgram(struct kg_event *ev, struct kg_loop *loop, struct kg_sock *s,
			  kg_event_fn fn)
{
	return kg_event_attach_sock(ev, loop, s, fn, true);
}
