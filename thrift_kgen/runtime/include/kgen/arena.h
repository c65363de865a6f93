/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-message bump allocator.
 *
 * Decoding one message allocates its containers and nested structs here;
 * everything is released at once by kg_arena_reset() when the call ends.
 *
 * Two kinds:
 *  - over caller-supplied memory (kg_arena_init()): never allocates, so the
 *    bytes one message can make us hold are capped by that memory's size;
 *  - growing (kg_arena_init_mem()): chunks are allocated from a memory
 *    budget (kgen/mem.h) when an allocation does not fit, up to @limit bytes
 *    of chunks per message. Nothing is held until the first allocation;
 *    kg_arena_reset() keeps one first-size chunk for the next message and
 *    kg_arena_release() gives everything back (the connection went idle).
 */
#ifndef _KGEN_ARENA_H
#define _KGEN_ARENA_H

#include "compat.h"

struct kg_mem;
struct kg_arena_chunk;

struct kg_arena {
	u8 *base;		/* the current chunk (or the caller's memory) */
	size_t size;		/* capacity of @base in bytes */
	size_t used;		/* bytes of @base handed out (with alignment padding) */
	size_t done;		/* bytes handed out in earlier chunks of this message */
	size_t high_water;	/* largest done + used since init */
	u32 failures;		/* allocations refused since init */
	/* Growing arenas only. */
	struct kg_mem *mem;
	size_t limit;		/* bytes of chunks (headers included) per message */
	size_t held;		/* bytes of chunks allocated now (all charged to @mem) */
	struct kg_arena_chunk *chunks;	/* newest first; @base is in the first */
};

/* Default alignment of kg_arena_alloc(..., 0): enough for u64 and pointers. */
#define KG_ARENA_ALIGN	8
/* First chunk of a growing arena; later ones double, or fit the request. */
#define KG_ARENA_CHUNK	8192

void kg_arena_init(struct kg_arena *a, void *buf, size_t size);
void kg_arena_init_mem(struct kg_arena *a, struct kg_mem *mem, size_t limit);
void *kg_arena_alloc(struct kg_arena *a, size_t size, size_t align);
bool kg_arena_prepare_first(struct kg_arena *a);
void kg_arena_reset_chunks(struct kg_arena *a);
void kg_arena_release(struct kg_arena *a);

/*
 * kg_arena_prepare() - make sure a growing arena has its first chunk
 *
 * Called before decoding a message, so that a budget that cannot even pay
 * for the first chunk makes the caller wait instead of failing the call.
 * Inline, like kg_arena_reset(): both run once per message served.
 *
 * Return: false if the first chunk could not be allocated now.
 */
static inline bool kg_arena_prepare(struct kg_arena *a)
{
	if (likely(!a->mem || a->chunks || !a->limit))
		return true;
	return kg_arena_prepare_first(a);
}

/*
 * kg_arena_reset() - free everything allocated from an arena
 *
 * A growing arena keeps its first chunk if that is of the first size
 * (serving a pipeline of small messages allocates nothing), and gives the
 * rest back. The high-water mark and failure count are kept: they are
 * statistics over the arena's whole life. Holding nothing, or exactly
 * KG_ARENA_CHUNK bytes (only one chunk can be that: a first chunk is at
 * least that size unless @limit is smaller, and then it is the only one),
 * there is nothing to give back.
 */
static inline void kg_arena_reset(struct kg_arena *a)
{
	a->used = 0;
	a->done = 0;
	if (likely(!a->held || a->held == KG_ARENA_CHUNK))
		return;
	kg_arena_reset_chunks(a);
}

static inline size_t kg_arena_used(const struct kg_arena *a)
{
	return a->done + a->used;
}

static inline size_t kg_arena_high_water(const struct kg_arena *a)
{
	return a->high_water;
}

/* Bytes of memory the arena holds (growing arenas; 0 for the other kind). */
static inline size_t kg_arena_held(const struct kg_arena *a)
{
	return a->held;
}

#endif /* _KGEN_ARENA_H */
