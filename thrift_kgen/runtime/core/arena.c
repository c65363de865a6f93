// SPDX-License-Identifier: GPL-2.0
/*
 * Per-message bump allocator: see kgen/arena.h.
 */
#include "kgen/arena.h"
#include "kgen/mem.h"

struct kg_arena_chunk {
	struct kg_arena_chunk *next;
	size_t bytes;		/* allocated, this header included */
	u64 data[];		/* 8-aligned, like the allocation itself */
};

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
	memset(a, 0, sizeof(*a));
	a->base = buf;
	a->size = buf ? size : 0;
}

/**
 * kg_arena_init_mem() - set up an arena that allocates chunks on demand
 * @a: the arena
 * @mem: the budget chunks are charged to
 * @limit: most bytes of chunks one message may use (0: no allocation at all)
 *
 * Nothing is allocated until the first kg_arena_alloc().
 */
void kg_arena_init_mem(struct kg_arena *a, struct kg_mem *mem, size_t limit)
{
	memset(a, 0, sizeof(*a));
	a->mem = mem;
	a->limit = limit;
}

/* Offset in @a->base where @size bytes aligned to @align fit, or false. */
static bool kg_arena_fits(const struct kg_arena *a, size_t size, size_t align, size_t *start)
{
	uintptr_t addr, pad;
	size_t end;

	if (!a->base)
		return false;
	/* Align the address, not the offset: @base may be any pointer. */
	addr = (uintptr_t)a->base + a->used;
	pad = (align - (addr & (align - 1))) & (align - 1);
	return !check_add_overflow(a->used, (size_t)pad, start) &&
	       !check_add_overflow(*start, size, &end) && end <= a->size;
}

/* A new chunk with room for @size bytes at @align; false if over limits. */
static bool kg_arena_grow(struct kg_arena *a, size_t size, size_t align)
{
	size_t hdr = sizeof(struct kg_arena_chunk), want, bytes;
	struct kg_arena_chunk *c;

	if (!a->mem || a->held >= a->limit)
		return false;
	/* Header, worst-case padding, the request; at least double the last. */
	if (check_add_overflow(size, hdr + align, &want))
		return false;
	bytes = a->chunks ? a->chunks->bytes * 2 : KG_ARENA_CHUNK;
	bytes = max(bytes, want);
	bytes = min(bytes, a->limit - a->held);
	if (bytes < want)
		return false;
	c = kg_mem_alloc(a->mem, bytes, false);
	if (!c)
		return false;
	c->bytes = bytes;
	c->next = a->chunks;
	a->chunks = c;
	a->held += bytes;
	a->done += a->used;
	a->base = (u8 *)c->data;
	a->size = bytes - hdr;
	a->used = 0;
	return true;
}

/**
 * kg_arena_alloc() - allocate zeroed memory from an arena
 * @a: the arena
 * @size: bytes wanted
 * @align: alignment, a power of two; 0 means KG_ARENA_ALIGN
 *
 * A growing arena takes a new chunk from its budget when @size does not fit
 * the current one: that can fail for the budget as for the limit.
 *
 * Return: zeroed memory valid until the next kg_arena_reset(), or NULL when
 * the arena is full or @align is not a power of two. A @size of 0 returns a
 * non-NULL pointer that must not be dereferenced.
 */
void *kg_arena_alloc(struct kg_arena *a, size_t size, size_t align)
{
	size_t start;

	if (!align)
		align = KG_ARENA_ALIGN;
	if (unlikely(align & (align - 1)))
		goto fail;
	if (!size)
		return &kg_arena_empty;
	if (unlikely(!kg_arena_fits(a, size, align, &start))) {
		if (!kg_arena_grow(a, size, align) || !kg_arena_fits(a, size, align, &start))
			goto fail;
	}
	a->used = start + size;
	if (a->done + a->used > a->high_water)
		a->high_water = a->done + a->used;
	memset(a->base + start, 0, size);
	return a->base + start;

fail:
	a->failures++;
	return NULL;
}

/**
 * kg_arena_prepare_first() - kg_arena_prepare()'s allocation of the first chunk
 * @a: a growing arena with no chunk and a limit
 *
 * Return: false if the first chunk could not be allocated now.
 */
bool kg_arena_prepare_first(struct kg_arena *a)
{
	return kg_arena_grow(a, 0, KG_ARENA_ALIGN);
}

/* Free the chunks after @keep in the list (all of them if @keep is NULL). */
static void kg_arena_free_chunks(struct kg_arena *a, struct kg_arena_chunk *keep)
{
	struct kg_arena_chunk *c = a->chunks, *next;

	a->chunks = keep;
	while (c) {
		next = c->next;
		if (c != keep) {
			a->held -= c->bytes;
			kg_mem_free(a->mem, c, c->bytes);
		}
		c = next;
	}
	if (keep)
		keep->next = NULL;
}

/**
 * kg_arena_reset_chunks() - kg_arena_reset() of a growing arena holding chunks
 * @a: the arena (used and done already 0)
 */
void kg_arena_reset_chunks(struct kg_arena *a)
{
	struct kg_arena_chunk *c, *oldest = NULL;

	if (!a->mem || !a->chunks)
		return;
	for (c = a->chunks; c; c = c->next)
		oldest = c;
	if (oldest->bytes != KG_ARENA_CHUNK)
		oldest = NULL;
	if (oldest == a->chunks && !oldest->next)
		return;
	kg_arena_free_chunks(a, oldest);
	a->base = oldest ? (u8 *)oldest->data : NULL;
	a->size = oldest ? oldest->bytes - sizeof(*oldest) : 0;
}

/**
 * kg_arena_release() - reset and give every chunk back (growing arenas)
 * @a: the arena
 *
 * For an idle connection, and before the arena is dropped. A no-op on an
 * arena over caller memory, apart from the reset.
 */
void kg_arena_release(struct kg_arena *a)
{
	a->used = 0;
	a->done = 0;
	if (!a->mem)
		return;
	kg_arena_free_chunks(a, NULL);
	a->base = NULL;
	a->size = 0;
}
