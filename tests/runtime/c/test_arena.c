// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the per-message arena (runtime/core/arena.c). */
#include "kgen/arena.h"
#include "kt.h"

static u64 mem[128];	/* 1 KiB, 8-aligned */

KT_TEST(alloc_is_zeroed_and_aligned)
{
	struct kg_arena a;
	u8 *p, *q;
	size_t i;

	memset(mem, 0xab, sizeof(mem));
	kg_arena_init(&a, mem, sizeof(mem));
	p = kg_arena_alloc(&a, 3, 1);
	CHECK(p != NULL);
	for (i = 0; i < 3; i++)
		CHECK_EQ(p[i], 0);
	q = kg_arena_alloc(&a, 16, 8);
	CHECK(q != NULL);
	CHECK_EQ((uintptr_t)q % 8, 0);
	CHECK(q >= p + 3);
	for (i = 0; i < 16; i++)
		CHECK_EQ(q[i], 0);
	q = kg_arena_alloc(&a, 1, 0);	/* default alignment */
	CHECK_EQ((uintptr_t)q % KG_ARENA_ALIGN, 0);
	q = kg_arena_alloc(&a, 4, 64);
	CHECK_EQ((uintptr_t)q % 64, 0);
}

KT_TEST(alignment_relative_to_address_not_offset)
{
	struct kg_arena a;
	u8 *base = (u8 *)mem + 1;	/* odd base */
	u8 *p;

	kg_arena_init(&a, base, 64);
	p = kg_arena_alloc(&a, 8, 8);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p % 8, 0);
	CHECK_EQ(kg_arena_used(&a), (size_t)(p + 8 - base));
}

KT_TEST(exhaustion_returns_null_and_counts)
{
	struct kg_arena a;
	int n = 0;

	kg_arena_init(&a, mem, 100);
	while (kg_arena_alloc(&a, 10, 1))
		n++;
	CHECK_EQ(n, 10);
	CHECK_EQ(kg_arena_used(&a), 100);
	CHECK_EQ(a.failures, 1);
	/* Exactly-fitting allocation succeeds, one byte more fails. */
	kg_arena_reset(&a);
	CHECK(kg_arena_alloc(&a, 100, 1) != NULL);
	kg_arena_reset(&a);
	CHECK(kg_arena_alloc(&a, 101, 1) == NULL);
	/* Padding counts against the cap. */
	kg_arena_reset(&a);
	CHECK(kg_arena_alloc(&a, 1, 1) != NULL);
	CHECK(kg_arena_alloc(&a, 93, 8) == NULL);	/* 1 + 7 pad + 93 > 100 */
	CHECK(kg_arena_alloc(&a, 92, 8) != NULL);	/* exactly 100 */
}

KT_TEST(huge_sizes_do_not_wrap)
{
	struct kg_arena a;

	kg_arena_init(&a, mem, sizeof(mem));
	CHECK(kg_arena_alloc(&a, 8, 1) != NULL);
	CHECK(kg_arena_alloc(&a, SIZE_MAX, 1) == NULL);
	CHECK(kg_arena_alloc(&a, SIZE_MAX - 4, 8) == NULL);
	CHECK_EQ(kg_arena_used(&a), 8);
}

KT_TEST(bad_alignment_refused)
{
	struct kg_arena a;

	kg_arena_init(&a, mem, sizeof(mem));
	CHECK(kg_arena_alloc(&a, 8, 3) == NULL);
	CHECK(kg_arena_alloc(&a, 8, 12) == NULL);
	CHECK_EQ(kg_arena_used(&a), 0);
}

KT_TEST(reset_and_high_water)
{
	struct kg_arena a;

	kg_arena_init(&a, mem, sizeof(mem));
	CHECK(kg_arena_alloc(&a, 300, 1) != NULL);
	CHECK_EQ(kg_arena_high_water(&a), 300);
	kg_arena_reset(&a);
	CHECK_EQ(kg_arena_used(&a), 0);
	CHECK(kg_arena_alloc(&a, 100, 1) != NULL);
	CHECK_EQ(kg_arena_high_water(&a), 300);
	CHECK(kg_arena_alloc(&a, 400, 1) != NULL);
	CHECK_EQ(kg_arena_high_water(&a), 500);
	/* After a reset the same memory is handed out again, zeroed. */
	kg_arena_reset(&a);
	{
		u8 *p = kg_arena_alloc(&a, 8, 8);

		CHECK(p == (u8 *)mem);
		CHECK_EQ(p[0], 0);
	}
}

KT_TEST(zero_size_and_empty_arena)
{
	struct kg_arena a;
	void *p;

	kg_arena_init(&a, NULL, 0);
	p = kg_arena_alloc(&a, 0, 1);
	CHECK(p != NULL);		/* zero-size: valid, non-NULL */
	CHECK(kg_arena_alloc(&a, 1, 1) == NULL);
	kg_arena_init(&a, mem, sizeof(mem));
	CHECK(kg_arena_alloc(&a, 0, 8) != NULL);
	CHECK_EQ(kg_arena_used(&a), 0);
}

KT_MAIN(KT_CASE(alloc_is_zeroed_and_aligned),
	KT_CASE(alignment_relative_to_address_not_offset),
	KT_CASE(exhaustion_returns_null_and_counts),
	KT_CASE(huge_sizes_do_not_wrap),
	KT_CASE(bad_alignment_refused),
	KT_CASE(reset_and_high_water),
	KT_CASE(zero_size_and_empty_arena))
