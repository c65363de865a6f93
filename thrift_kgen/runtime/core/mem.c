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
	spin_lock_init(&m->cache_lock);
	m->ncached = 0;
	m->cache_used = false;
}

/**
 * kg_mem_shrink() - free and uncharge the cached free buffers
 * @m: the budget
 *
 * Before a charge would fail, and when the owner goes quiet (its last
 * connection closed) or stops: in_use then counts only memory in use.
 *
 * Return: whether there was any.
 */
bool kg_mem_shrink(struct kg_mem *m)
{
	void *p[KG_MEM_CACHE_MAX];
	u32 i, n;

	if (!READ_ONCE(m->ncached))
		return false;
	spin_lock(&m->cache_lock);
	n = m->ncached;
	memcpy(p, m->cache, n * sizeof(p[0]));
	WRITE_ONCE(m->ncached, 0);
	spin_unlock(&m->cache_lock);
	for (i = 0; i < n; i++)
		kvfree(p[i]);
	if (n) {
		/* No wake: the charge that empties it wants the memory itself. */
		atomic64_sub((s64)n * KG_MEM_CACHE_BYTES, &m->in_use);
		atomic64_inc(&m->frees);
	}
	return n;
}

/**
 * kg_mem_cache_tick() - the owner's periodic call: empty an unused cache
 * @m: the budget
 *
 * A cache nothing took from for a whole tick is given back.
 */
void kg_mem_cache_tick(struct kg_mem *m)
{
	if (READ_ONCE(m->cache_used))
		WRITE_ONCE(m->cache_used, false);
	else
		kg_mem_shrink(m);
}

/*
 * A cached buffer, if input may have it: it is charged already, but input
 * must leave the reserve to replies as if it were charged now.
 */
static void *kg_mem_cache_take(struct kg_mem *m, bool output)
{
	void *p = NULL;

	if (!READ_ONCE(m->ncached))
		return NULL;
	if (!output && (u64)atomic64_read(&m->in_use) - kg_mem_cached(m) + KG_MEM_CACHE_BYTES >
		       m->limit - m->reserve)
		return NULL;
	spin_lock(&m->cache_lock);
	if (m->ncached) {
		p = m->cache[m->ncached - 1];
		WRITE_ONCE(m->ncached, m->ncached - 1);
		WRITE_ONCE(m->cache_used, true);
	}
	spin_unlock(&m->cache_lock);
	return p;
}

/* Keep @p (KG_MEM_CACHE_BYTES, charged) for the next one. Return: kept. */
static bool kg_mem_cache_put(struct kg_mem *m, void *p)
{
	bool kept = false;

	if (atomic_read(&m->waiting))
		return false;	/* someone needs the memory now */
	spin_lock(&m->cache_lock);
	if (m->ncached < KG_MEM_CACHE_MAX) {
		m->cache[m->ncached] = p;
		WRITE_ONCE(m->ncached, m->ncached + 1);
		kept = true;
	}
	spin_unlock(&m->cache_lock);
	if (kept && atomic_read(&m->waiting)) {
		/* Someone began to wait meanwhile: it gets the memory. */
		kg_mem_shrink(m);
		if (m->wake)
			m->wake(m);
	}
	return kept;
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
	bool emptied = false;

	for (;;) {
		if ((u64)bytes > limit || (u64)old > limit - bytes) {
			/* Free buffers kept charged go before a charge fails. */
			if (emptied || !kg_mem_shrink(m))
				return false;
			emptied = true;
			old = atomic64_read(&m->in_use);
			continue;
		}
		new = old + (s64)bytes;
		if (atomic64_try_cmpxchg(&m->in_use, &old, new))
			break;
	}

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
 * Return: the memory (uninitialised: a cached buffer holds old bytes), or
 * NULL when the budget or the system cannot give it now (nothing is left
 * charged).
 */
void *kg_mem_alloc(struct kg_mem *m, size_t bytes, bool output)
{
	void *p;

	if (bytes == KG_MEM_CACHE_BYTES) {
		p = kg_mem_cache_take(m, output);
		if (p)
			return p;
	}
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
 *
 * A buffer of KG_MEM_CACHE_BYTES is kept, still charged, while the cache has
 * room and nobody waits for memory: the next one then costs no page
 * allocation and no clearing (init_on_alloc) of 16 KiB. A forwarder replaces
 * its send buffer after each flush that lent the pages to TCP (zero-copy).
 */
void kg_mem_free(struct kg_mem *m, void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes == KG_MEM_CACHE_BYTES && kg_mem_cache_put(m, p))
		return;
	kvfree(p);
	kg_mem_uncharge(m, bytes);
}
