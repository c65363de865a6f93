// SPDX-License-Identifier: GPL-2.0
/*
 * Memory budget: see kgen/mem.h.
 */
#include "kgen/mem.h"

/**
 * kg_mem_init() - set up a budget
 * @m: the budget
 * @limit: bytes that may be charged at once
 * @wake: called after an uncharge while someone waits; may be NULL
 */
void kg_mem_init(struct kg_mem *m, u64 limit, void (*wake)(struct kg_mem *m))
{
	atomic64_set(&m->in_use, 0);
	atomic64_set(&m->peak, 0);
	atomic64_set(&m->frees, 0);
	atomic_set(&m->waiting, 0);
	m->limit = limit;
	m->reserve = limit / KG_MEM_RESERVE_DIV;
	m->wake = wake;
}

/**
 * kg_mem_charge() - reserve @bytes of the budget
 * @m: the budget
 * @bytes: how many
 * @output: for a reply: may use the reserve (see kgen/mem.h)
 *
 * Never overshoots, even with charges racing on other CPUs: the new total
 * is checked before it is stored.
 *
 * Return: true if charged, false if that would exceed the limit.
 */
bool kg_mem_charge(struct kg_mem *m, size_t bytes, bool output)
{
	u64 limit = output ? m->limit : m->limit - m->reserve;
	s64 old = atomic64_read(&m->in_use), new, peak;

	do {
		if ((u64)bytes > limit || (u64)old > limit - bytes)
			return false;
		new = old + (s64)bytes;
	} while (!atomic64_try_cmpxchg(&m->in_use, &old, new));

	peak = atomic64_read(&m->peak);
	while (new > peak && !atomic64_try_cmpxchg(&m->peak, &peak, new))
		;
	return true;
}

/**
 * kg_mem_uncharge() - give back @bytes charged earlier
 * @m: the budget
 * @bytes: how many
 *
 * Calls @m->wake if anyone is waiting. Never with a lock the wake function
 * takes (the server's lock).
 */
void kg_mem_uncharge(struct kg_mem *m, size_t bytes)
{
	if (!bytes)
		return;
	atomic64_sub((s64)bytes, &m->in_use);
	atomic64_inc(&m->frees);
	WARN_ON_ONCE(atomic64_read(&m->in_use) < 0);
	if (atomic_read(&m->waiting) && m->wake)
		m->wake(m);
}

/**
 * kg_mem_alloc() - charge and allocate
 * @m: the budget
 * @bytes: how many (more than 0)
 * @output: as for kg_mem_charge()
 *
 * kvmalloc() with KG_GFP_CLIENT: no warning, no hard reclaim, no OOM
 * killer, no retry here either.
 *
 * Return: the memory (uninitialised), or NULL when the budget or the system
 * cannot give it now (nothing is left charged).
 */
void *kg_mem_alloc(struct kg_mem *m, size_t bytes, bool output)
{
	void *p;

	if (!kg_mem_charge(m, bytes, output))
		return NULL;
	p = kvmalloc(bytes, KG_GFP_CLIENT);
	if (!p)
		kg_mem_uncharge(m, bytes);
	return p;
}

/**
 * kg_mem_free() - free what kg_mem_alloc() returned and uncharge it
 * @m: the budget
 * @p: the memory (NULL is ignored)
 * @bytes: the size it was allocated with
 */
void kg_mem_free(struct kg_mem *m, void *p, size_t bytes)
{
	if (!p)
		return;
	kvfree(p);
	kg_mem_uncharge(m, bytes);
}
