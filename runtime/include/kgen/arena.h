/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-message bump allocator.
 *
 * Decoding one message allocates its containers and nested structs here;
 * everything is released at once by kg_arena_reset() when the call ends. The
 * arena never allocates by itself: it carves up memory its owner supplied
 * (kvmalloc'ed once per connection or server), so the bytes one message can
 * make us hold are capped by that memory's size.
 */
#ifndef _KGEN_ARENA_H
#define _KGEN_ARENA_H

#include "compat.h"

struct kg_arena {
	u8 *base;
	size_t size;		/* capacity in bytes */
	size_t used;		/* bytes handed out (with alignment padding) */
	size_t high_water;	/* largest @used since init */
	u32 failures;		/* allocations refused since init */
};

/* Default alignment of kg_arena_alloc(..., 0): enough for u64 and pointers. */
#define KG_ARENA_ALIGN	8

void kg_arena_init(struct kg_arena *a, void *buf, size_t size);
void *kg_arena_alloc(struct kg_arena *a, size_t size, size_t align);
void kg_arena_reset(struct kg_arena *a);

static inline size_t kg_arena_used(const struct kg_arena *a)
{
	return a->used;
}

static inline size_t kg_arena_high_water(const struct kg_arena *a)
{
	return a->high_water;
}

#endif /* _KGEN_ARENA_H */
