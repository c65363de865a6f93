/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel primitives the networking core (bsock, tsock, server) needs
 * beyond compat.h: kref, list_head and atomics. Kernel: the real headers.
 * User space: shims with the same names; the epoll backend runs one thread,
 * so plain integers are enough (and RCU has no readers to wait for: a
 * callback runs at once).
 */
#ifndef _KGEN_NETCOMPAT_H
#define _KGEN_NETCOMPAT_H

#include "compat.h"

#ifdef __KERNEL__

#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/list.h>
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/skbuff.h>
#include <linux/version.h>

/* Most pages one zero-copy send hands over (64 KiB with 4 KiB pages). */
#define KG_ZC_PAGES_MAX	16

/*
 * Can the socket take references to the pages of @p instead of copying?
 * Memory straight from the page allocator (a kmalloc above the slab caches'
 * largest size) can; slab objects cannot (sendpage_ok() refuses them) and
 * vmalloc'ed buffers are left out (a reference per page to check).
 */
static inline bool kg_buf_spliceable(const void *p)
{
	return p && !is_vmalloc_addr(p) && !PageSlab(virt_to_head_page(p));
}

/* Only our own reference is left on @p's pages: the network let go of them. */
static inline bool kg_buf_pages_idle(const void *p)
{
	return page_ref_count(virt_to_head_page(p)) == 1;
}

/*
 * Send [p, p + len) by reference, without copying, up to KG_ZC_PAGES_MAX
 * pages; the bytes must stay unchanged until kg_buf_pages_idle(). Returns
 * the bytes taken or -errno (-EAGAIN when the socket is full).
 */
static inline int kg_compat_send_pages(struct socket *sock, const u8 *p, size_t len)
{
	int flags = MSG_DONTWAIT | MSG_NOSIGNAL;
	size_t done = 0;
	int n = 0;
#ifdef MSG_SPLICE_PAGES
	/* 6.5 replaced sendpage with sendmsg(MSG_SPLICE_PAGES) over a bvec (6.12). */
	struct bio_vec bv[KG_ZC_PAGES_MAX];
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	while (done < len && n < KG_ZC_PAGES_MAX) {
		size_t off = offset_in_page(p + done);
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - off);

		bvec_set_page(&bv[n++], virt_to_page(p + done), chunk, off);
		done += chunk;
	}
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, n, done);
	return sock->ops->sendmsg(sock, &msg, done);
#else
	/* 6.1: one sendpage per page, all but the last with more to come. */
	int ret = 0;

	while (done < len && n++ < KG_ZC_PAGES_MAX) {
		size_t off = offset_in_page(p + done);
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - off);
		int more = done + chunk < len && n < KG_ZC_PAGES_MAX ?
			   MSG_MORE | MSG_SENDPAGE_NOTLAST : 0;

		ret = sock->ops->sendpage(sock, virt_to_page(p + done), off, chunk, flags | more);
		if (ret <= 0)
			break;
		done += ret;
		if (ret < chunk)
			break;
	}
	return done ? (int)done : ret;
#endif
}

/*
 * Are @skb's paged frags host memory, pages to take references to? 6.12's
 * devmem TCP can fill them with device memory (net_iov, no struct page).
 */
static inline bool kg_skb_frags_readable(const struct sk_buff *skb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	return skb_frags_readable(skb);
#else
	return true;
#endif
}

#else /* !__KERNEL__ */

struct kref {
	unsigned int refcount;
};

static inline void kref_init(struct kref *k)
{
	k->refcount = 1;
}

static inline void kref_get(struct kref *k)
{
	WARN_ON(k->refcount == 0);
	k->refcount++;
}

static inline int kref_put(struct kref *k, void (*release)(struct kref *k))
{
	if (WARN_ON(k->refcount == 0))
		return 0;
	if (--k->refcount == 0) {
		release(k);
		return 1;
	}
	return 0;
}

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	INIT_LIST_HEAD(n);
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, __typeof__(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_next_entry(pos, member))

typedef struct {
	long long counter;
} atomic64_t;

typedef struct {
	int counter;
} atomic_t;

/* No zero-copy sends in user space: buffers are never pinned. */
static inline bool kg_buf_spliceable(const void *p)
{
	(void)p;
	return false;
}

static inline bool kg_buf_pages_idle(const void *p)
{
	(void)p;
	return true;
}

/* RCU: one thread, so no reader is ever inside a read section when a writer runs. */
struct rcu_head {
	void (*func)(struct rcu_head *head);
};

#define __rcu
#define rcu_read_lock()			do { } while (0)
#define rcu_read_unlock()		do { } while (0)
#define rcu_dereference(p)		(p)
#define rcu_dereference_protected(p, c)	((void)(c), (p))
#define rcu_assign_pointer(p, v)	((p) = (v))
#define RCU_INIT_POINTER(p, v)		((p) = (v))
#define lockdep_is_held(l)		((void)(l), 1)
#define rcu_barrier()			do { } while (0)

static inline void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	func(head);
}

#define ATOMIC_INIT(i)		{ (i) }
#define atomic64_set(a, i)	((a)->counter = (i))
#define atomic64_read(a)	((a)->counter)
#define atomic64_add(i, a)	((void)((a)->counter += (i)))
#define atomic64_inc(a)		((void)((a)->counter++))
#define atomic64_sub(i, a)	((void)((a)->counter -= (i)))

/* One thread: the exchange always succeeds when the value is the expected one. */
static inline bool atomic64_try_cmpxchg(atomic64_t *a, s64 *old, s64 new)
{
	if (a->counter != *old) {
		*old = a->counter;
		return false;
	}
	a->counter = new;
	return true;
}

#define atomic_set(a, i)	((a)->counter = (i))
#define atomic_read(a)		((a)->counter)
#define atomic_inc(a)		((void)((a)->counter++))
#define atomic_dec(a)		((void)((a)->counter--))

static inline int atomic_cmpxchg(atomic_t *a, int old, int new)
{
	int cur = a->counter;

	if (cur == old)
		a->counter = new;
	return cur;
}

#endif /* __KERNEL__ */

#endif /* _KGEN_NETCOMPAT_H */
