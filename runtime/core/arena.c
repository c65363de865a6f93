// SPDX-License-Identifier: GPL-2.0
/*
 * Per-message bump allocator: see kgen/arena.h.
 */
#include "kgen/arena.h"

/*
 * Zero-size allocations get a valid, non-NULL pointer (so callers can treat
 * NULL as "out of memory" only) that must never be dereferenced.
 */
static u64 kg_arena_empty;

/**
 * kg_arena_init() - set up an arena over caller-provided memory
 * @a: the arena
 * @buf: memory to hand out (may be NULL when @size is 0)
 * @size: bytes in @buf
 *
 * No memory is allocated; @buf must outlive the arena.
 */
void kg_arena_init(struct kg_arena *a, void *buf, size_t size)
{
	a->base = buf;
	a->size = buf ? size : 0;
	a->used = 0;
	a->high_water = 0;
	a->failures = 0;
}

/**
 * kg_arena_alloc() - allocate zeroed memory from an arena
 * @a: the arena
 * @size: bytes wanted
 * @align: alignment, a power of two; 0 means KG_ARENA_ALIGN
 *
 * Return: zeroed memory valid until the next kg_arena_reset(), or NULL when
 * the arena is full or @align is not a power of two. A @size of 0 returns a
 * non-NULL pointer that must not be dereferenced.
 */
void *kg_arena_alloc(struct kg_arena *a, size_t size, size_t align)
{
	uintptr_t base, addr, pad;
	size_t start, end;

	if (!align)
		align = KG_ARENA_ALIGN;
	if (unlikely(align & (align - 1)))
		goto fail;
	if (!size)
		return &kg_arena_empty;
	if (unlikely(!a->base))
		goto fail;

	/* Align the address, not the offset: @base may be any pointer. */
	base = (uintptr_t)a->base;
	addr = base + a->used;
	pad = (align - (addr & (align - 1))) & (align - 1);
	if (unlikely(check_add_overflow(a->used, (size_t)pad, &start) ||
		     check_add_overflow(start, size, &end) || end > a->size))
		goto fail;

	a->used = end;
	if (end > a->high_water)
		a->high_water = end;
	memset(a->base + start, 0, size);
	return a->base + start;

fail:
	a->failures++;
	return NULL;
}

/**
 * kg_arena_reset() - free everything allocated from an arena
 * @a: the arena
 *
 * The high-water mark and failure count are kept: they are statistics over
 * the arena's whole life.
 */
void kg_arena_reset(struct kg_arena *a)
{
	a->used = 0;
}
