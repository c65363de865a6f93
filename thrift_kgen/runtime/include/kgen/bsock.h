/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffered sockets (Slick's BufferedSocket).
 *
 * The receive buffer is contiguous so a whole message can be peeked at and
 * parsed in place; discarded bytes are compacted away with memmove() before
 * the next receive, and the buffer grows (doubling) up to rcv_max for a
 * message bigger than it (never while it holds bytes to serve). The send
 * buffer makes writes atomic: write_all() queues all of a message or none of
 * it, and flush() sends what the socket takes now; the rest goes on the next
 * write-space event (kernel) or EPOLLOUT (user space, via
 * kg_event_want_write()). A whole message larger than the send buffer's
 * free room is still queued when it is at most max_msg and what waits is
 * below high_water: the buffer grows for it and it leaves as the peer reads.
 *
 * Memory: no buffer exists until bytes arrive or are queued; an empty buffer
 * is kept while the connection is busy and freed by kg_bsock_trim() (the
 * server calls it once the connection was quiet for a timer tick, or at once
 * when memory is short), the receive buffer also by kg_bsock_release_idle()
 * (or when it is empty at the next fill after a big message). With a budget
 * (kg_bsock_set_budget()) every buffer is charged to it; a receive buffer it cannot pay for sets mem_starved and the owner
 * stops reading (TCP's window then holds the peer back).
 *
 * Locking: the receive side belongs to the connection's own event function.
 * The send side can be written by other connections' handlers (a forwarder
 * writes to its backends) running on other CPUs, so it is protected by
 * send_lock (a mutex: everything runs in process context; a no-op in user
 * space).
 *
 * Backpressure: when more than high_water bytes wait to be sent, the owner
 * stops reading (kg_bsock_pause_if_full()); a flush that drains the buffer
 * below low_water kicks the owner's event and every registered waiter (other
 * connections that could not write here).
 */
#ifndef _KGEN_BSOCK_H
#define _KGEN_BSOCK_H

#include "compat.h"
#include "netcompat.h"
#include "event.h"

#define KG_BSOCK_INITIAL	16384	/* first allocation of each buffer */
/*
 * Zero-copy sends (kernel): a flush of at least this many bytes from a send
 * buffer of page allocator memory lends its pages to the socket instead of
 * copying them (see kg_bsock_flush()); below it a copy costs less than the
 * page references and the buffer given up. Measured: docs/runtime-networking.md.
 */
#ifndef KG_BSOCK_ZC_MIN
#define KG_BSOCK_ZC_MIN		8192
#endif
#define KG_BSOCK_LENT		2	/* lent buffers a socket may wait for */
#define KG_BSOCK_PULL_MIN	256	/* kg_bsock_pull() when the message's length is unknown */

struct kg_mem;

/* A send buffer whose pages the socket still references (zero-copy). */
struct kg_bsock_lent {
	u8 *buf;
	u32 cap;
};

/* Another connection waiting for room in a send buffer. */
struct kg_bsock_waiter {
	struct list_head node;
	struct kg_event *ev;		/* kicked with KG_EV_READ on drain */
};

struct kg_bsock {
	struct kg_sock *sock;
	struct kg_event *ev;		/* the owner's event */

	/* Receive side: the owner's event function only. */
	u8 *rbuf;
	u32 rhead, rtail;		/* unread bytes are rbuf[rhead, rtail) */
	u32 rcap, rcv_max;
	bool eof;			/* the peer will send no more */
	bool rcv_drained;		/* the last receive found nothing more (-EAGAIN) */
	bool mem_starved;		/* the last fill stopped: no memory for the buffer */
	struct kg_mem *mem;		/* the budget buffers are charged to, or NULL */
	/*
	 * Borrowed bytes (kg_bsock_borrow_begin()): rx_seg[rx_cur] from
	 * rx_off on, then the later segments, come after rbuf's unread
	 * bytes; rx_left counts them (0: nothing borrowed). rx_end is the
	 * stream offset after the last one.
	 */
	struct kg_rx_seg *rx_seg;	/* KG_RX_SEGS of them, or NULL: copy only */
	u8 rx_n, rx_cur;
	u32 rx_off, rx_left;
	u64 rx_end;
	u32 rx_limit;			/* most bytes the next borrow takes (0: rcap) */
	u64 bytes_inplace;		/* bytes_in discarded straight from borrowed pages */

	/* Send side: under send_lock. */
	struct mutex send_lock;
	u8 *sbuf;
	u32 shead, stail;		/* unsent bytes are sbuf[shead, stail) */
	u32 scap, snd_max;
	u32 max_msg;			/* largest whole message write_all()/reserve() take */
	u32 high_water, low_water;
	bool paused;			/* owner stopped reading for a full send buffer */
	bool dead;			/* closed: writes fail with -EPIPE */
	bool writing_wanted;
	bool snd_pinned;		/* sbuf's sent bytes are lent: never written again */
	u8 nlent;
	u32 lent_bytes;			/* capacity of lent[], still charged */
	struct kg_bsock_lent lent[KG_BSOCK_LENT];
	struct list_head waiters;	/* struct kg_bsock_waiter */
	u64 bytes_in, bytes_out;
	u64 bytes_lent;			/* bytes_out sent by reference, not copied */
};

int kg_bsock_init(struct kg_bsock *bs, struct kg_sock *sock, struct kg_event *ev,
		  u32 rcv_max, u32 snd_max);
void kg_bsock_set_budget(struct kg_bsock *bs, struct kg_mem *mem, u32 max_msg);
void kg_bsock_destroy(struct kg_bsock *bs);
void kg_bsock_release_idle(struct kg_bsock *bs);
void kg_bsock_trim(struct kg_bsock *bs);
size_t kg_bsock_held(struct kg_bsock *bs, size_t *rcv);
void kg_bsock_mark_dead(struct kg_bsock *bs);

ssize_t kg_bsock_read(struct kg_bsock *bs, void *buf, size_t max_len);
ssize_t kg_bsock_fill(struct kg_bsock *bs, size_t budget);
void kg_bsock_pull(struct kg_bsock *bs, size_t want);
void kg_bsock_unborrow(struct kg_bsock *bs);

/*
 * Let kg_bsock_fill() borrow pages instead of copying, into @seg (the
 * caller's, KG_RX_SEGS of them) until kg_bsock_borrow_end(), which must
 * come before the caller returns to the event loop.
 */
static inline void kg_bsock_borrow_begin(struct kg_bsock *bs, struct kg_rx_seg *seg)
{
	bs->rx_seg = kg_sock_lends_pages() ? seg : NULL;
}

/* The next borrow takes at most @bytes (0: as many as the buffer could hold). */
static inline void kg_bsock_borrow_limit(struct kg_bsock *bs, u32 bytes)
{
	bs->rx_limit = bytes;
}

/* Borrowed bytes remain (served from pages, or to be pulled into rbuf). */
static inline bool kg_bsock_borrowing(const struct kg_bsock *bs)
{
	return bs->rx_left != 0;
}

/* Whatever was not served is copied into the receive buffer: today's state. */
static inline void kg_bsock_borrow_end(struct kg_bsock *bs)
{
	if (kg_bsock_borrowing(bs))
		kg_bsock_unborrow(bs);
	bs->rx_seg = NULL;
}

ssize_t kg_bsock_write(struct kg_bsock *bs, const void *buf, size_t len);
int kg_bsock_write_all(struct kg_bsock *bs, const void *buf, size_t len);
int kg_bsock_make_room(struct kg_bsock *bs, size_t len);

/*
 * Per-message helpers, inline: a call each was a fifth of their cost in a
 * kernel build (fentry, return thunk, spills).
 */
/* Out of line: a borrowed segment ends, rbuf empties with bytes borrowed. */
void kg_bsock_seg_finish(struct kg_bsock *bs);
void kg_bsock_rx_sync(struct kg_bsock *bs);

/**
 * kg_bsock_peek() - look at every received byte not yet discarded
 * @bs: the buffered socket
 * @data: set to the first unread byte (contiguous up to the return value)
 *
 * Return: the number of unread bytes.
 */
static inline ssize_t kg_bsock_peek(struct kg_bsock *bs, const u8 **data)
{
	/* Borrowed bytes come after rbuf's: served from their pages once it is empty. */
	if (bs->rtail == bs->rhead && bs->rx_left) {
		const struct kg_rx_seg *seg = &bs->rx_seg[bs->rx_cur];

		*data = seg->data + bs->rx_off;
		return seg->len - bs->rx_off;
	}
	if (!bs->rbuf) {
		*data = NULL;
		return 0;
	}
	*data = bs->rbuf + bs->rhead;
	return bs->rtail - bs->rhead;
}

/* kg_bsock_discard() from the current borrowed segment: nothing was copied. */
static inline void kg_bsock_discard_borrowed(struct kg_bsock *bs, size_t len)
{
	const struct kg_rx_seg *seg = &bs->rx_seg[bs->rx_cur];
	u32 avail = seg->len - bs->rx_off;

	if (WARN_ON(len > avail))
		len = avail;
	bs->rx_off += len;
	bs->rx_left -= len;
	bs->bytes_inplace += len;
	if (bs->rx_off == seg->len)
		kg_bsock_seg_finish(bs);
}

/**
 * kg_bsock_discard() - drop bytes from the front of the receive buffer
 * @bs: the buffered socket
 * @len: how many; clamped to what is buffered
 */
static inline void kg_bsock_discard(struct kg_bsock *bs, size_t len)
{
	u32 avail = bs->rtail - bs->rhead;

	if (!avail && bs->rx_left) {
		kg_bsock_discard_borrowed(bs, len);
		return;
	}
	if (WARN_ON(len > avail))
		len = avail;
	bs->rhead += len;
	if (bs->rhead == bs->rtail) {
		bs->rhead = 0;
		bs->rtail = 0;
		if (bs->rx_left)
			kg_bsock_rx_sync(bs);	/* the peek region is a segment now */
	}
}

/*
 * Stream offset of the first byte not yet discarded: bytes_in is kept at
 * the end of the peek region (see kg_bsock_peek()).
 */
static inline u64 kg_bsock_consumed(struct kg_bsock *bs)
{
	const u8 *data;

	return bs->bytes_in - kg_bsock_peek(bs, &data);
}

/**
 * kg_bsock_commit() - queue @len reserved bytes and drop the send lock
 * @bs: the buffered socket
 * @len: bytes written at the reserved place (at most what was reserved)
 */
static inline void kg_bsock_commit(struct kg_bsock *bs, size_t len)
{
	bs->stail += len;
	mutex_unlock(&bs->send_lock);
}

/* After kg_bsock_make_room(): where the room starts. */
static inline u8 *kg_bsock_room_start(const struct kg_bsock *bs)
{
	return bs->sbuf + bs->stail;
}

/**
 * kg_bsock_reserve() - lock the send buffer and make room to encode in place
 * @bs: the buffered socket
 * @len: bytes needed
 * @err: set to -ENOBUFS (not now), -EMSGSIZE (never: over max_msg), -EPIPE
 *       or -ENOMEM (the budget cannot pay for it) when NULL is returned
 *
 * As kg_bsock_make_room(): the send lock stays held until kg_bsock_commit().
 *
 * Return: where to write @len bytes, or NULL.
 */
static inline u8 *kg_bsock_reserve(struct kg_bsock *bs, size_t len, int *err)
{
	*err = kg_bsock_make_room(bs, len);
	return *err ? NULL : kg_bsock_room_start(bs);
}

/* After kg_bsock_reserve(): the contiguous room there, at least what was asked for. */
static inline size_t kg_bsock_reserved_room(const struct kg_bsock *bs)
{
	return bs->scap - bs->stail;
}
int kg_bsock_flush(struct kg_bsock *bs);

size_t kg_bsock_unsent(struct kg_bsock *bs);
size_t kg_bsock_room(struct kg_bsock *bs);
bool kg_bsock_pause_if_full(struct kg_bsock *bs);
int kg_bsock_wait_room(struct kg_bsock *bs, struct kg_bsock_waiter *w, size_t need);
void kg_bsock_cancel_wait(struct kg_bsock *bs, struct kg_bsock_waiter *w);

/* Bytes wait in the send buffer (a lockless snapshot; an empty kept buffer is not). */
static inline bool kg_bsock_sending(const struct kg_bsock *bs)
{
	return READ_ONCE(bs->stail) != READ_ONCE(bs->shead);
}

/* Bytes waiting to be sent (a lockless snapshot), and whether the socket refused some. */
static inline u32 kg_bsock_queued(const struct kg_bsock *bs, bool *refused)
{
	*refused = READ_ONCE(bs->writing_wanted);
	return READ_ONCE(bs->stail) - READ_ONCE(bs->shead);
}

static inline void kg_bsock_waiter_init(struct kg_bsock_waiter *w, struct kg_event *ev)
{
	INIT_LIST_HEAD(&w->node);
	w->ev = ev;
}

#endif /* _KGEN_BSOCK_H */
