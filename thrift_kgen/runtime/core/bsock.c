// SPDX-License-Identifier: GPL-2.0
/*
 * Buffered sockets: see bsock.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": bsock: " fmt

#include "kgen/bsock.h"
#include "kgen/mem.h"

/* Buffers are charged to the budget when there is one (the server's). */
static void *kg_bsock_alloc(struct kg_bsock *bs, size_t bytes, bool output)
{
	if (bs->mem)
		return kg_mem_alloc(bs->mem, bytes, output);
	return kvmalloc(bytes, KG_GFP_CLIENT);
}

static void kg_bsock_free(struct kg_bsock *bs, void *p, size_t bytes)
{
	if (bs->mem)
		kg_mem_free(bs->mem, p, bytes);
	else
		kvfree(p);
}

/* Bytes that may be queued now by a partial write: up to snd_max. */
static u32 kg_bsock_snd_free(const struct kg_bsock *bs)
{
	u32 unsent = bs->stail - bs->shead;

	return unsent < bs->snd_max ? bs->snd_max - unsent : 0;
}

/*
 * Can a whole message of @len bytes be queued now? Within snd_max, or, up
 * to max_msg, once what is queued is below the high-water mark: a reply
 * larger than the buffer's free room then waits in the buffer for a slow
 * reader, and the owner stops reading (above high_water) until it drains.
 */
static bool kg_bsock_snd_fits(const struct kg_bsock *bs, size_t len)
{
	u32 unsent = bs->stail - bs->shead;

	return len <= kg_bsock_snd_free(bs) || (len <= bs->max_msg && unsent <= bs->high_water);
}

/**
 * kg_bsock_init() - set up the buffers of a connected socket
 * @bs: the buffered socket
 * @sock: the non-blocking socket it reads and writes
 * @ev: the owner's event (asked for write space, kicked after backpressure)
 * @rcv_max: most bytes the receive buffer may hold (one whole message fits)
 * @snd_max: most bytes that may wait to be sent
 *
 * Nothing is allocated here: each buffer is allocated when bytes arrive or
 * are queued, grows on demand up to its limit and is freed once empty (see
 * kg_bsock_release_idle()). Without kg_bsock_set_budget(), buffers are not
 * charged anywhere and whole messages are limited to @snd_max.
 *
 * Return: 0.
 */
int kg_bsock_init(struct kg_bsock *bs, struct kg_sock *sock, struct kg_event *ev,
		  u32 rcv_max, u32 snd_max)
{
	memset(bs, 0, sizeof(*bs));
	bs->sock = sock;
	bs->ev = ev;
	bs->rcv_max = max_t(u32, rcv_max, 64);
	bs->snd_max = max_t(u32, snd_max, 64);
	bs->max_msg = bs->snd_max;
	bs->high_water = bs->snd_max / 2;
	bs->low_water = bs->snd_max / 4;
	mutex_init(&bs->send_lock);
	INIT_LIST_HEAD(&bs->waiters);
	return 0;
}

/**
 * kg_bsock_set_budget() - charge the buffers to @mem, allow big messages
 * @bs: the buffered socket, before any byte moved
 * @mem: the budget (NULL: none)
 * @max_msg: largest whole message write_all()/reserve() queue; at least snd_max
 */
void kg_bsock_set_budget(struct kg_bsock *bs, struct kg_mem *mem, u32 max_msg)
{
	bs->mem = mem;
	bs->max_msg = max_t(u32, max_msg, bs->snd_max);
}

/**
 * kg_bsock_held() - bytes of buffer the socket holds now
 * @bs: the buffered socket
 * @rcv: set to the receive buffer's share
 *
 * A snapshot without locks (for choosing whom to close under pressure).
 *
 * Return: receive plus send buffer capacity.
 */
size_t kg_bsock_held(struct kg_bsock *bs, size_t *rcv)
{
	*rcv = READ_ONCE(bs->rcap);
	return *rcv + READ_ONCE(bs->scap) + READ_ONCE(bs->lent_bytes);
}

/*
 * Free the lent buffers the socket let go of (@all: every one, at close:
 * what the network still references stays alive on its own references,
 * no longer charged). send_lock held.
 */
static void kg_bsock_reap_lent(struct kg_bsock *bs, bool all)
{
	u8 i = 0;

	lockdep_assert_held(&bs->send_lock);
	while (i < bs->nlent) {
		struct kg_bsock_lent *l = &bs->lent[i];

		if (!all && !kg_buf_pages_idle(l->buf)) {
			i++;
			continue;
		}
		kg_bsock_free(bs, l->buf, l->cap);
		WRITE_ONCE(bs->lent_bytes, bs->lent_bytes - l->cap);
		*l = bs->lent[--bs->nlent];
	}
}

/*
 * A lent buffer of at least @need bytes the network let go of, taken back
 * as the send buffer: a ping-pong peer has read and acknowledged the last
 * reply when the next is written, so replies cost no allocation.
 */
static u8 *kg_bsock_take_lent(struct kg_bsock *bs, size_t need, u32 *cap)
{
	u8 i;

	for (i = 0; i < bs->nlent; i++) {
		struct kg_bsock_lent *l = &bs->lent[i];
		u8 *buf = l->buf;

		if (l->cap < need || !kg_buf_pages_idle(buf))
			continue;
		*cap = l->cap;
		WRITE_ONCE(bs->lent_bytes, bs->lent_bytes - l->cap);
		*l = bs->lent[--bs->nlent];
		return buf;
	}
	return NULL;
}

/* The pinned send buffer joins the lent ones (a slot is free: kg_bsock_zc_ok()). */
static void kg_bsock_lend(struct kg_bsock *bs, u8 *buf, u32 cap)
{
	bs->lent[bs->nlent].buf = buf;
	bs->lent[bs->nlent].cap = cap;
	bs->nlent++;
	WRITE_ONCE(bs->lent_bytes, bs->lent_bytes + cap);
	bs->snd_pinned = false;
}

/*
 * Send @unsent bytes by reference? Big enough to beat a copy, from page
 * allocator memory, with a slot to lend the buffer to once it is left, and
 * nobody waiting for memory (a lent buffer stays charged until the peer
 * has acknowledged and, on loopback, read it).
 */
static bool kg_bsock_zc_ok(const struct kg_bsock *bs, u32 unsent)
{
	if (unsent < KG_BSOCK_ZC_MIN)
		return false;
	if (bs->snd_pinned)
		return true;
	return bs->nlent < KG_BSOCK_LENT && kg_buf_spliceable(bs->sbuf) &&
	       !(bs->mem && atomic_read(&bs->mem->waiting));
}

/* Wake everyone waiting for room here; called with send_lock held. */
static void kg_bsock_wake_waiters(struct kg_bsock *bs)
{
	lockdep_assert_held(&bs->send_lock);
	while (!list_empty(&bs->waiters)) {
		struct kg_bsock_waiter *w;

		w = list_first_entry(&bs->waiters, struct kg_bsock_waiter, node);
		list_del_init(&w->node);
		kg_event_kick(w->ev, KG_EV_READ);
	}
}

/**
 * kg_bsock_mark_dead() - refuse further writes and wake waiters
 * @bs: the buffered socket, whose connection is closing
 *
 * Waiters are kicked so they notice (their next write fails with -EPIPE).
 */
void kg_bsock_mark_dead(struct kg_bsock *bs)
{
	mutex_lock(&bs->send_lock);
	bs->dead = true;
	kg_bsock_wake_waiters(bs);
	mutex_unlock(&bs->send_lock);
}

/* The current borrowed segment is all discarded or copied: let its page go. */
static void kg_bsock_seg_done(struct kg_bsock *bs)
{
	kg_rx_seg_put(&bs->rx_seg[bs->rx_cur]);
	bs->rx_off = 0;
	if (++bs->rx_cur == bs->rx_n) {
		bs->rx_cur = 0;
		bs->rx_n = 0;
	}
}

/*
 * bytes_in is the stream offset after the peek region (kg_tsock_next()
 * finds its message's start from it): rbuf's unread bytes while there are
 * any, else the current borrowed segment; later segments are not counted yet.
 */
void kg_bsock_rx_sync(struct kg_bsock *bs)
{
	u32 hidden = bs->rx_left;

	if (bs->rhead == bs->rtail && hidden)
		hidden -= bs->rx_seg[bs->rx_cur].len - bs->rx_off;
	bs->bytes_in = bs->rx_end - hidden;
}

/**
 * kg_bsock_destroy() - free the buffers
 * @bs: the buffered socket; its event must be detached and synced
 *
 * The socket itself belongs to the caller. Other connections may still hold
 * a reference to the owner and try to write: they get -EPIPE.
 */
void kg_bsock_destroy(struct kg_bsock *bs)
{
	mutex_lock(&bs->send_lock);
	bs->dead = true;
	kg_bsock_wake_waiters(bs);
	kg_bsock_reap_lent(bs, true);
	/* Pinned or not: the network keeps its own references. */
	kg_bsock_free(bs, bs->sbuf, bs->scap);
	bs->snd_pinned = false;
	bs->sbuf = NULL;
	bs->shead = 0;
	bs->stail = 0;
	bs->scap = 0;
	mutex_unlock(&bs->send_lock);
	while (bs->rx_left) {
		bs->rx_left -= bs->rx_seg[bs->rx_cur].len - bs->rx_off;
		kg_bsock_seg_done(bs);
	}
	kg_bsock_free(bs, bs->rbuf, bs->rcap);
	bs->rbuf = NULL;
	bs->rhead = 0;
	bs->rtail = 0;
	bs->rcap = 0;
}

/* The current borrowed segment is all discarded: on to the next (kg_bsock_discard()). */
void kg_bsock_seg_finish(struct kg_bsock *bs)
{
	kg_bsock_seg_done(bs);
	kg_bsock_rx_sync(bs);
}

/**
 * kg_bsock_read() - copy out and discard up to @max_len received bytes
 * @bs: the buffered socket
 * @buf: destination
 * @max_len: room in @buf
 *
 * Return: bytes copied (0 if none are buffered).
 */
ssize_t kg_bsock_read(struct kg_bsock *bs, void *buf, size_t max_len)
{
	size_t total = 0;
	const u8 *data;
	ssize_t n;

	while (total < max_len && (n = kg_bsock_peek(bs, &data)) > 0) {
		n = min_t(size_t, n, max_len - total);
		memcpy((u8 *)buf + total, data, n);
		kg_bsock_discard(bs, n);
		total += n;
	}
	return total;
}

/**
 * kg_bsock_release_idle() - free the receive buffer if it holds nothing
 * @bs: the buffered socket (from the owner's event function)
 *
 * The next bytes allocate a small one again. (kg_bsock_trim() frees the
 * send buffer as well.)
 */
void kg_bsock_release_idle(struct kg_bsock *bs)
{
	/* While borrowing, the buffer is where unserved borrowed bytes go. */
	if (!bs->rbuf || bs->rtail != bs->rhead || bs->rx_left)
		return;
	kg_bsock_free(bs, bs->rbuf, bs->rcap);
	bs->rbuf = NULL;
	bs->rcap = 0;
	bs->rhead = 0;
	bs->rtail = 0;
}

/**
 * kg_bsock_trim() - free both buffers if they hold nothing
 * @bs: the buffered socket (from the owner's event function)
 *
 * Buffers are kept while the connection is busy (an alloc/free pair per
 * message otherwise) and given back once it has been quiet for a while, or
 * when memory is short: an idle connection then holds no buffer at all.
 */
void kg_bsock_trim(struct kg_bsock *bs)
{
	kg_bsock_release_idle(bs);
	mutex_lock(&bs->send_lock);
	kg_bsock_reap_lent(bs, false);
	if (bs->sbuf && bs->stail == bs->shead && !bs->snd_pinned) {
		kg_bsock_free(bs, bs->sbuf, bs->scap);
		bs->sbuf = NULL;
		bs->scap = 0;
		bs->shead = 0;
		bs->stail = 0;
	}
	mutex_unlock(&bs->send_lock);
}

/*
 * Make room at the tail of the receive buffer: allocate, compact, grow.
 * -ENOMEM: the budget (or the system) cannot pay for it now.
 */
static int kg_bsock_rcv_room(struct kg_bsock *bs)
{
	u8 *bigger;
	u32 cap;

	if (!bs->rbuf) {
		cap = min_t(u32, KG_BSOCK_INITIAL, bs->rcv_max);
		bs->rbuf = kg_bsock_alloc(bs, cap, false);
		if (!bs->rbuf)
			return -ENOMEM;
		bs->rcap = cap;
		return 0;
	}
	if (bs->rtail < bs->rcap && bs->rhead < bs->rcap / 2)
		return 0;
	if (bs->rhead) {
		memmove(bs->rbuf, bs->rbuf + bs->rhead, bs->rtail - bs->rhead);
		bs->rtail -= bs->rhead;
		bs->rhead = 0;
	}
	if (bs->rtail < bs->rcap)
		return 0;
	if (bs->rcap >= bs->rcv_max)
		return -ENOBUFS;
	cap = bs->rcap > bs->rcv_max / 2 ? bs->rcv_max : bs->rcap * 2;
	bigger = kg_bsock_alloc(bs, cap, false);
	if (!bigger)
		return -ENOMEM;
	memcpy(bigger, bs->rbuf, bs->rtail);
	kg_bsock_free(bs, bs->rbuf, bs->rcap);
	bs->rbuf = bigger;
	bs->rcap = cap;
	return 0;
}

/*
 * Copy @len borrowed bytes after rbuf's unread ones. There is room: at most
 * rcap bytes were borrowed, into an empty buffer, and only they enter it
 * until all are served or copied.
 */
static void kg_bsock_rx_copy(struct kg_bsock *bs, u32 len)
{
	while (len) {
		const struct kg_rx_seg *seg = &bs->rx_seg[bs->rx_cur];
		u32 n = min(len, seg->len - bs->rx_off);

		if (bs->rcap - bs->rtail < n && bs->rhead) {
			memmove(bs->rbuf, bs->rbuf + bs->rhead, bs->rtail - bs->rhead);
			bs->rtail -= bs->rhead;
			bs->rhead = 0;
		}
		if (WARN_ON_ONCE(bs->rcap - bs->rtail < n)) {
			/* Cannot happen (see above); lose the stream, not memory safety. */
			while (bs->rx_left) {
				bs->rx_left -= bs->rx_seg[bs->rx_cur].len - bs->rx_off;
				kg_bsock_seg_done(bs);
			}
			bs->eof = true;
			return;
		}
		memcpy(bs->rbuf + bs->rtail, seg->data + bs->rx_off, n);
		bs->rtail += n;
		bs->rx_off += n;
		bs->rx_left -= n;
		len -= n;
		if (bs->rx_off == seg->len)
			kg_bsock_seg_done(bs);
	}
}

/**
 * kg_bsock_pull() - copy borrowed bytes a message needs into the buffer
 * @bs: the buffered socket, borrowing, whose peek region holds an
 *	incomplete message that goes on in the next segment
 * @want: bytes the message needs from its start (0 or too few: unknown)
 *
 * The peek region becomes the receive buffer, holding the region's bytes
 * and @want in all (or KG_BSOCK_PULL_MIN more when @want says nothing new),
 * as far as bytes were borrowed; the rest stay in their pages, served once
 * the buffer is empty again.
 */
void kg_bsock_pull(struct kg_bsock *bs, size_t want)
{
	u32 have = bs->rtail - bs->rhead;

	if (!bs->rx_left)
		return;
	if (!have) {
		have = bs->rx_seg[bs->rx_cur].len - bs->rx_off;
		kg_bsock_rx_copy(bs, have);
	}
	want = want > have ? want - have : KG_BSOCK_PULL_MIN;
	kg_bsock_rx_copy(bs, min_t(size_t, want, bs->rx_left));
	kg_bsock_rx_sync(bs);
}

/**
 * kg_bsock_unborrow() - copy every borrowed byte left into the buffer
 * @bs: the buffered socket
 *
 * Its pages are let go: the socket is as if kg_bsock_fill() had copied.
 */
void kg_bsock_unborrow(struct kg_bsock *bs)
{
	if (!bs->rx_left)
		return;
	kg_bsock_rx_copy(bs, bs->rx_left);
	kg_bsock_rx_sync(bs);
}

/*
 * kg_bsock_fill()'s receive into an empty buffer, borrowing the pages: at
 * most what the buffer could take (it exists, charged), so that what is not
 * served can always be copied into it. -EOPNOTSUPP: copy instead.
 */
static ssize_t kg_bsock_borrow(struct kg_bsock *bs, size_t budget)
{
	unsigned int nseg;
	ssize_t n;

	n = kg_bsock_rcv_room(bs);
	if (n == -ENOMEM) {
		bs->mem_starved = true;
		return 0;
	}
	if (n)
		return -EOPNOTSUPP;
	if (bs->rx_limit)
		budget = min_t(size_t, budget, bs->rx_limit);
	n = kg_sock_recv_borrow(bs->sock, bs->rx_seg, KG_RX_SEGS,
				min_t(size_t, budget, bs->rcap), &nseg);
	if (n > 0) {
		bs->rx_n = nseg;
		bs->rx_cur = 0;
		bs->rx_off = 0;
		bs->rx_left = n;
		bs->rx_end = bs->bytes_in + n;
		kg_bsock_rx_sync(bs);
		if (KG_SOCK_RX_EMPTY_CHEAP && kg_sock_rx_empty(bs->sock))
			bs->rcv_drained = true;
	} else if (n == 0) {
		bs->eof = true;
	} else if (n == -EAGAIN) {
		bs->rcv_drained = true;
		n = 0;
	}
	return n;
}

/**
 * kg_bsock_fill() - receive what the socket has
 * @bs: the buffered socket
 * @budget: stop after about this many bytes (fairness between connections)
 *
 * Receives until the socket has nothing more (sets @bs->rcv_drained), the
 * peer closed (sets @bs->eof), @budget bytes arrived (no more), the receive buffer
 * is full at rcv_max, or memory for it cannot be had now (sets
 * @bs->mem_starved: the caller stops reading until memory is freed). With
 * edge-triggered events the caller must come back (kg_event_kick()) unless
 * rcv_drained or eof is set.
 *
 * Return: bytes received, or the socket's error.
 */
ssize_t kg_bsock_fill(struct kg_bsock *bs, size_t budget)
{
	size_t total = 0;
	ssize_t n;

	bs->rcv_drained = false;
	bs->mem_starved = false;
	/*
	 * Empty after a message bigger than a fill: give it back, start small
	 * again. One a fill can use is kept while the connection is busy
	 * (kg_bsock_trim() frees it once quiet): freed, it would be grown again
	 * by doubling, copying nearly as many bytes as the fill receives.
	 */
	if (bs->rhead == bs->rtail && bs->rcap > max_t(size_t, KG_BSOCK_INITIAL, budget))
		kg_bsock_release_idle(bs);
	/* No buffer yet (or trimmed): pay for one only once bytes are there. */
	if (!bs->rbuf && !bs->eof && kg_sock_rx_empty(bs->sock)) {
		bs->rcv_drained = true;
		return 0;
	}
	if (bs->rx_seg && bs->rhead == bs->rtail && !bs->rx_left && !bs->eof) {
		n = kg_bsock_borrow(bs, budget);
		if (n != -EOPNOTSUPP)
			return n;
	}
	while (!bs->eof && total < budget) {
		/*
		 * Full and bytes received: serve those first. The buffer grows
		 * only when a fill finds it full before receiving anything,
		 * i.e. serving took nothing (one message is bigger than it):
		 * growing for a stream of small messages would copy them all
		 * and clear pages up to the fill budget, for every connection.
		 */
		if (total && bs->rtail == bs->rcap)
			break;
		n = kg_bsock_rcv_room(bs);
		if (n == -ENOBUFS)
			break;
		if (n == -ENOMEM) {
			bs->mem_starved = true;
			break;
		}
		n = kg_sock_recv(bs->sock, bs->rbuf + bs->rtail,
				 min_t(size_t, bs->rcap - bs->rtail, budget - total));
		if (n > 0) {
			bs->rtail += n;
			total += n;
			/* Skip the receive that would only say -EAGAIN: a whole pass of TCP. */
			if (KG_SOCK_RX_EMPTY_CHEAP && kg_sock_rx_empty(bs->sock)) {
				bs->rcv_drained = true;
				break;
			}
		} else if (n == 0) {
			bs->eof = true;
		} else if (n == -EAGAIN) {
			bs->rcv_drained = true;
			break;
		} else if (n != -EINTR) {
			bs->bytes_in += total;
			return n;
		}
	}
	bs->bytes_in += total;
	return total;
}

/*
 * Room for @len more bytes at the send buffer's tail (@len already checked
 * against the limits); send_lock held. The buffer doubles up to snd_max,
 * beyond it grows to exactly what a big message needs.
 */
static int kg_bsock_snd_room(struct kg_bsock *bs, size_t len)
{
	u32 unsent = bs->stail - bs->shead;
	u8 *bigger;
	size_t cap;
	u32 taken;

	lockdep_assert_held(&bs->send_lock);
	if (!len || len <= bs->scap - bs->stail)
		return 0;
	/* Lent bytes before shead are the network's until it lets go. */
	if (bs->shead && !bs->snd_pinned) {
		memmove(bs->sbuf, bs->sbuf + bs->shead, unsent);
		bs->shead = 0;
		bs->stail = unsent;
	}
	if (len <= bs->scap - bs->stail)
		return 0;
	cap = max_t(size_t, (size_t)bs->scap * 2, KG_BSOCK_INITIAL);
	cap = min_t(size_t, cap, bs->snd_max);
	cap = max_t(size_t, cap, unsent + len);
	bigger = bs->nlent ? kg_bsock_take_lent(bs, unsent + len, &taken) : NULL;
	if (bigger) {
		cap = taken;
	} else {
		if (bs->nlent)
			kg_bsock_reap_lent(bs, false);	/* idle but too small */
		bigger = kg_bsock_alloc(bs, cap, true);
		if (!bigger)
			return -ENOMEM;
	}
	if (unsent)
		memcpy(bigger, bs->sbuf + bs->shead, unsent);
	if (bs->snd_pinned)
		kg_bsock_lend(bs, bs->sbuf, bs->scap);
	else
		kg_bsock_free(bs, bs->sbuf, bs->scap);
	bs->sbuf = bigger;
	WRITE_ONCE(bs->scap, cap);
	bs->shead = 0;
	bs->stail = unsent;
	return 0;
}

/**
 * kg_bsock_write() - queue as many bytes as fit
 * @bs: the buffered socket
 * @buf: bytes to send
 * @len: how many
 *
 * Nothing is sent here: call kg_bsock_flush().
 *
 * Return: bytes queued (possibly 0), -EPIPE if the socket is closing, or
 * -ENOMEM.
 */
ssize_t kg_bsock_write(struct kg_bsock *bs, const void *buf, size_t len)
{
	ssize_t ret;
	size_t n;

	mutex_lock(&bs->send_lock);
	if (bs->dead) {
		ret = -EPIPE;
		goto out;
	}
	n = min_t(size_t, len, kg_bsock_snd_free(bs));
	ret = kg_bsock_snd_room(bs, n);
	if (ret)
		goto out;
	if (n)
		kg_copy(bs->sbuf + bs->stail, buf, n);	/* small: word moves */
	bs->stail += n;
	ret = n;
out:
	mutex_unlock(&bs->send_lock);
	return ret;
}

/**
 * kg_bsock_write_all() - queue all of @len bytes or none
 * @bs: the buffered socket
 * @buf: bytes to send
 * @len: how many
 *
 * Return: 0, -ENOBUFS when they do not fit now, -EMSGSIZE when they never
 * can (over max_msg), -EPIPE if closing, -ENOMEM.
 */
int kg_bsock_write_all(struct kg_bsock *bs, const void *buf, size_t len)
{
	int err;
	u8 *dst = kg_bsock_reserve(bs, len, &err);

	if (!dst)
		return err;
	kg_copy(dst, buf, len);
	kg_bsock_commit(bs, len);
	return 0;
}

/**
 * kg_bsock_make_room() - lock the send buffer and make room to write in place
 * @bs: the buffered socket
 * @len: bytes needed
 *
 * On success the send lock stays held until kg_bsock_commit(), which must
 * follow without sleeping on anything but memory; the room starts at
 * kg_bsock_room_start(). (kg_bsock_reserve() is the same returning that
 * place; this form spares its callers a local whose address is taken.)
 *
 * Return: 0, -ENOBUFS (not now), -EMSGSIZE (never: over max_msg), -EPIPE
 * or -ENOMEM (the budget cannot pay for it).
 */
int kg_bsock_make_room(struct kg_bsock *bs, size_t len)
{
	int err;

	mutex_lock(&bs->send_lock);
	if (bs->dead)
		err = -EPIPE;
	else if (len > bs->max_msg)
		err = -EMSGSIZE;
	else if (!kg_bsock_snd_fits(bs, len))
		err = -ENOBUFS;
	else if (len <= bs->scap - bs->stail)
		return 0;	/* the room is there: the usual case */
	else
		err = kg_bsock_snd_room(bs, len);
	if (err)
		mutex_unlock(&bs->send_lock);
	return err;
}

/**
 * kg_bsock_flush() - send queued bytes until the socket is full
 * @bs: the buffered socket
 *
 * Whatever the socket does not take now goes on the next KG_EV_WRITE: the
 * kernel's write-space callback, or EPOLLOUT requested here. Draining below
 * the low-water mark resumes the owner (if it paused) and the waiters.
 * Safe from any connection's handler: the send lock orders the bytes.
 *
 * Return: 0 when everything was sent, -EAGAIN when bytes remain, or the
 * socket's error.
 */
int kg_bsock_flush(struct kg_bsock *bs)
{
	bool sent = false;
	ssize_t n = 0;
	u32 unsent;

	mutex_lock(&bs->send_lock);
	while (bs->stail > bs->shead) {
		unsent = bs->stail - bs->shead;
		if (kg_bsock_zc_ok(bs, unsent)) {
			/* By reference: these bytes are never written again. */
			n = kg_sock_send_pages(bs->sock, bs->sbuf + bs->shead, unsent);
			if (n > 0) {
				bs->snd_pinned = true;
				bs->bytes_lent += n;
			}
		} else {
			n = kg_sock_send(bs->sock, bs->sbuf + bs->shead, unsent);
		}
		if (n > 0) {
			bs->shead += n;
			bs->bytes_out += n;
			sent = true;
			continue;
		}
		if (n == -EINTR)
			continue;
		if (n == 0)
			n = -EAGAIN;
		break;
	}
	unsent = bs->stail - bs->shead;
	if (!unsent && bs->snd_pinned) {
		/* All sent, some of it lent: the next bytes go to a new buffer. */
		kg_bsock_lend(bs, bs->sbuf, bs->scap);
		bs->sbuf = NULL;
		WRITE_ONCE(bs->scap, 0);
	}
	if (!unsent) {
		bs->shead = 0;
		bs->stail = 0;
		n = 0;
		/* The empty buffer is kept for the next reply: see kg_bsock_trim(). */
	}
	if (sent && unsent <= bs->low_water) {
		if (bs->paused) {
			bs->paused = false;
			kg_event_kick(bs->ev, KG_EV_READ);
		}
		kg_bsock_wake_waiters(bs);
	}
	if (n == -EAGAIN && !bs->writing_wanted) {
		bs->writing_wanted = true;
		kg_event_want_write(bs->ev, true);
	} else if (!unsent && bs->writing_wanted) {
		bs->writing_wanted = false;
		kg_event_want_write(bs->ev, false);
	}
	mutex_unlock(&bs->send_lock);
	return n < 0 ? (int)n : 0;
}

/**
 * kg_bsock_unsent() - bytes queued but not yet sent
 * @bs: the buffered socket
 *
 * Return: the count (a snapshot).
 */
size_t kg_bsock_unsent(struct kg_bsock *bs)
{
	size_t n;

	mutex_lock(&bs->send_lock);
	n = bs->stail - bs->shead;
	mutex_unlock(&bs->send_lock);
	return n;
}

/**
 * kg_bsock_room() - bytes that could be queued now
 * @bs: the buffered socket
 *
 * Return: the count (a snapshot); 0 once the socket is closing.
 */
size_t kg_bsock_room(struct kg_bsock *bs)
{
	size_t n;

	mutex_lock(&bs->send_lock);
	n = bs->dead ? 0 : kg_bsock_snd_free(bs);
	mutex_unlock(&bs->send_lock);
	return n;
}

/**
 * kg_bsock_pause_if_full() - should the owner stop reading?
 * @bs: the buffered socket
 *
 * Checked and recorded under the send lock, so a flush on another CPU either
 * sees the pause and kicks the owner, or ran before and the check fails.
 *
 * Return: true if the owner must stop reading until it is kicked.
 */
bool kg_bsock_pause_if_full(struct kg_bsock *bs)
{
	bool full;

	/*
	 * Below the mark, nothing to record: a lockless look (the common
	 * case, checked before every message) spares two mutex operations.
	 * Writers that push it over after this look are the same race as
	 * right after the unlock below: the next check sees them.
	 */
	if (READ_ONCE(bs->stail) - READ_ONCE(bs->shead) <= bs->high_water)
		return false;
	mutex_lock(&bs->send_lock);
	full = bs->stail - bs->shead > bs->high_water;
	if (full)
		bs->paused = true;
	mutex_unlock(&bs->send_lock);
	return full;
}

/**
 * kg_bsock_wait_room() - register @w to be kicked when @bs drains
 * @bs: the buffered socket that refused a write
 * @w: the waiter (another connection's event)
 * @need: bytes the waiter wants to write
 *
 * Return: 0 if @need bytes fit now (retry at once; not registered),
 * -EAGAIN when registered, -EPIPE if @bs is closing, -EMSGSIZE if @need
 * can never fit (over max_msg).
 */
int kg_bsock_wait_room(struct kg_bsock *bs, struct kg_bsock_waiter *w, size_t need)
{
	int ret = -EAGAIN;

	if (need > bs->max_msg)
		return -EMSGSIZE;
	mutex_lock(&bs->send_lock);
	if (bs->dead)
		ret = -EPIPE;
	else if (kg_bsock_snd_fits(bs, need))
		ret = 0;
	else if (list_empty(&w->node))
		list_add_tail(&w->node, &bs->waiters);
	mutex_unlock(&bs->send_lock);
	return ret;
}

/**
 * kg_bsock_cancel_wait() - unregister @w if it is still waiting on @bs
 * @bs: the buffered socket
 * @w: the waiter
 */
void kg_bsock_cancel_wait(struct kg_bsock *bs, struct kg_bsock_waiter *w)
{
	mutex_lock(&bs->send_lock);
	if (!list_empty(&w->node))
		list_del_init(&w->node);
	mutex_unlock(&bs->send_lock);
}
