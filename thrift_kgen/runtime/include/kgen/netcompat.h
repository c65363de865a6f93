/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel primitives the networking core (bsock, tsock, server) needs
 * beyond compat.h: kref, list_head and atomics. Kernel: the real headers.
 * User space: shims with the same names; the epoll backend runs one thread,
 * so plain integers are enough.
 */
#ifndef _KGEN_NETCOMPAT_H
#define _KGEN_NETCOMPAT_H

#include "compat.h"

#ifdef __KERNEL__

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/atomic.h>

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
