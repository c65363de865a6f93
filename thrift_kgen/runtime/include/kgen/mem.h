/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory budget: one per server, so one per module.
 *
 * Every allocation a client can cause (the connection structure, its
 * receive and send buffers, its arena chunks) is charged here first and
 * only then allocated, with __GFP_NOWARN | __GFP_NORETRY: a charge over the
 * limit fails before the page allocator is asked, and an allocation the
 * system cannot satisfy at once fails instead of reclaiming hard or waking
 * the OOM killer. Charges are exact byte counts of what was allocated, so
 * in_use returns to 0 once every connection is gone.
 *
 * Free buffers of KG_MEM_CACHE_BYTES (every socket buffer's first size)
 * are kept, still charged, for the next allocation of that size: see
 * kg_mem_free(). The cache is emptied before a charge would fail, at a tick
 * it went unused (kg_mem_cache_tick()) and by kg_mem_shrink().
 *
 * The owner (the server) learns that memory was given back through @wake,
 * called after an uncharge while anyone waits (kg_mem_wait_begin()): it
 * resumes the connections that stopped reading for lack of memory.
 */
#ifndef _KGEN_MEM_H
#define _KGEN_MEM_H

#include "compat.h"
#include "netcompat.h"

/* Allocations reachable from client input: fail fast, quietly, no OOM. */
#define KG_GFP_CLIENT	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)
/* Share of the limit kept for output: limit / KG_MEM_RESERVE_DIV. */
#define KG_MEM_RESERVE_DIV	8

/* The size kept by the cache: KG_BSOCK_INITIAL, the first (usual) socket buffer. */
#define KG_MEM_CACHE_BYTES	16384
#define KG_MEM_CACHE_MAX	16	/* most buffers kept: 256 KiB */

struct kg_mem {
	atomic64_t in_use;		/* bytes charged now */
	atomic64_t peak;		/* largest in_use */
	u64 limit;			/* in_use never exceeds it */
	u64 reserve;			/* of @limit, only for output (replies) */
	atomic64_t frees;		/* uncharges so far (a waiter's lost-wake-up check) */
	atomic_t waiting;		/* holders waiting for an uncharge */
	void (*wake)(struct kg_mem *m);	/* called after an uncharge while waiting > 0 */
	spinlock_t cache_lock;
	u32 ncached;			/* cache[0, ncached): free, charged; cache_lock */
	bool cache_used;		/* taken from since the last kg_mem_cache_tick() */
	void *cache[KG_MEM_CACHE_MAX];
};

void kg_mem_init(struct kg_mem *m, u64 limit, void (*wake)(struct kg_mem *m));
/*
 * @output: bytes for replies, allowed into the last @reserve bytes of the
 * limit; input (receive buffers, arenas, connections) stops short of it, so
 * the input a client can pile up never leaves replies without room.
 */
bool kg_mem_charge(struct kg_mem *m, size_t bytes, bool output);
void kg_mem_uncharge(struct kg_mem *m, size_t bytes);
void *kg_mem_alloc(struct kg_mem *m, size_t bytes, bool output);
void kg_mem_free(struct kg_mem *m, void *p, size_t bytes);
bool kg_mem_shrink(struct kg_mem *m);
void kg_mem_cache_tick(struct kg_mem *m);

/* Bytes of free buffers kept charged by the cache (a snapshot). */
static inline u64 kg_mem_cached(const struct kg_mem *m)
{
	return (u64)READ_ONCE(m->ncached) * KG_MEM_CACHE_BYTES;
}

static inline u64 kg_mem_in_use(const struct kg_mem *m)
{
	return atomic64_read(&m->in_use);
}

static inline u64 kg_mem_frees(const struct kg_mem *m)
{
	return atomic64_read(&m->frees);
}

static inline u64 kg_mem_peak(const struct kg_mem *m)
{
	return atomic64_read(&m->peak);
}

#endif /* _KGEN_MEM_H */
