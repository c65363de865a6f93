// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the memory budget (runtime/core/mem.c) and of what draws
 * from it: growing arenas (arena.c) and buffered sockets (bsock.c, over a
 * stub socket). What is checked: a charge never takes in_use over the limit
 * (input never into the output reserve), the peak is the true maximum,
 * every byte charged is uncharged, buffers exist only while they hold bytes
 * (or wait, still charged, in the budget's cache of free buffers),
 * and a whole message larger than the send buffer's free room is queued
 * when it is within max_msg.
 */
#include "kgen/mem.h"
#include "kgen/arena.h"
#include "kgen/bsock.h"
#include "kt.h"

/* ---- stub socket and events for bsock ---- */

struct kg_sock {
	const u8 *data;
	size_t len, taken;	/* the peer's bytes, and how many were received */
	size_t send_room;	/* bytes the peer's window takes now */
	size_t sent;
};

ssize_t kg_sock_recv(struct kg_sock *s, void *buf, size_t len)
{
	size_t n = min_t(size_t, len, s->len - s->taken);

	if (!n)
		return -EAGAIN;
	memcpy(buf, s->data + s->taken, n);
	s->taken += n;
	return (ssize_t)n;
}

/* No pages to lend: the copy path. */
long kg_rx_borrow_test;

ssize_t kg_sock_recv_borrow(struct kg_sock *s, struct kg_rx_seg *seg, unsigned int max,
			    size_t len, unsigned int *nseg)
{
	*nseg = 0;
	return -EOPNOTSUPP;
}

void kg_rx_seg_put(struct kg_rx_seg *seg)
{
}

bool kg_sock_rx_empty(struct kg_sock *s)
{
	return false;
}

ssize_t kg_sock_send(struct kg_sock *s, const void *buf, size_t len)
{
	size_t n = min_t(size_t, len, s->send_room);

	if (!n)
		return -EAGAIN;
	s->send_room -= n;
	s->sent += n;
	return (ssize_t)n;
}

ssize_t kg_sock_send_pages(struct kg_sock *s, const void *buf, size_t len)
{
	return kg_sock_send(s, buf, len);
}

void kg_event_kick(struct kg_event *ev, unsigned int events)
{
}

void kg_event_want_write(struct kg_event *ev, bool on)
{
}

static int wakes;

static void count_wake(struct kg_mem *m)
{
	wakes++;
}

/* ---- the budget ---- */

KT_TEST(charge_respects_limit_and_reserve)
{
	struct kg_mem m;

	kg_mem_init(&m, 8000, NULL);
	CHECK_EQ(m.reserve, 1000);
	CHECK(kg_mem_charge(&m, 6000, false));
	CHECK(!kg_mem_charge(&m, 1001, false));	/* input stops at 7000 */
	CHECK(kg_mem_charge(&m, 1000, false));
	CHECK(!kg_mem_charge(&m, 1, false));
	CHECK(kg_mem_charge(&m, 1000, true));	/* output may use the reserve */
	CHECK(!kg_mem_charge(&m, 1, true));
	CHECK_EQ(kg_mem_in_use(&m), 8000);
	CHECK_EQ(kg_mem_peak(&m), 8000);
	kg_mem_uncharge(&m, 8000);
	CHECK_EQ(kg_mem_in_use(&m), 0);
	CHECK_EQ(kg_mem_peak(&m), 8000);
	/* Sizes that would wrap a u64 sum are refused, not wrapped. */
	CHECK(!kg_mem_charge(&m, SIZE_MAX, true));
	CHECK(kg_mem_charge(&m, 10, true));
	CHECK(!kg_mem_charge(&m, SIZE_MAX - 5, true));
	CHECK_EQ(kg_mem_in_use(&m), 10);
	kg_mem_uncharge(&m, 10);
}

KT_TEST(peak_is_the_maximum)
{
	struct kg_mem m;
	size_t i, in_use = 0, peak = 0;

	kg_mem_init(&m, 1u << 20, NULL);
	for (i = 0; i < 1000; i++) {
		size_t n = (i * 7919) % 4096;

		if (i % 3 == 2 && in_use >= n) {
			kg_mem_uncharge(&m, n);
			in_use -= n;
		} else if (kg_mem_charge(&m, n, i & 1)) {
			in_use += n;
		}
		peak = max(peak, in_use);
		CHECK_EQ_AT(kg_mem_in_use(&m), in_use, i);
		CHECK_EQ_AT(kg_mem_peak(&m), peak, i);
	}
	kg_mem_uncharge(&m, in_use);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

KT_TEST(alloc_free_and_wake)
{
	struct kg_mem m;
	void *p, *q;

	wakes = 0;
	kg_mem_init(&m, 64 * 1024, count_wake);
	p = kg_mem_alloc(&m, 40 * 1024, false);
	CHECK(p != NULL);
	memset(p, 1, 40 * 1024);
	q = kg_mem_alloc(&m, 20 * 1024, false);	/* 60 KiB > 56 KiB for input */
	CHECK(q == NULL);
	CHECK_EQ(kg_mem_in_use(&m), 40 * 1024);
	q = kg_mem_alloc(&m, 20 * 1024, true);
	CHECK(q != NULL);
	kg_mem_free(&m, q, 20 * 1024);
	CHECK_EQ(wakes, 0);			/* nobody waits */
	atomic_inc(&m.waiting);
	kg_mem_free(&m, p, 40 * 1024);
	CHECK_EQ(wakes, 1);
	CHECK_EQ(kg_mem_in_use(&m), 0);
	CHECK_EQ(kg_mem_frees(&m), 2);
	kg_mem_free(&m, NULL, 123);		/* ignored */
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

/*
 * Free buffers of KG_MEM_CACHE_BYTES stay charged for the next allocation,
 * up to KG_MEM_CACHE_MAX, and go back before a charge fails, to a waiter,
 * at an unused tick and on kg_mem_shrink().
 */
KT_TEST(cache_keeps_free_buffers_charged)
{
	const size_t b = KG_MEM_CACHE_BYTES;
	void *p[KG_MEM_CACHE_MAX + 1], *q;
	struct kg_mem m;
	int i;

	wakes = 0;
	kg_mem_init(&m, 1u << 20, count_wake);
	p[0] = kg_mem_alloc(&m, b, false);
	CHECK(p[0] != NULL);
	kg_mem_free(&m, p[0], b);
	CHECK_EQ(kg_mem_cached(&m), b);
	CHECK_EQ(kg_mem_in_use(&m), b);		/* still charged */
	q = kg_mem_alloc(&m, b, false);
	CHECK(q == p[0]);			/* the same buffer again */
	CHECK_EQ(kg_mem_cached(&m), 0);
	CHECK_EQ(kg_mem_in_use(&m), b);
	kg_mem_free(&m, q, b);
	q = kg_mem_alloc(&m, b + 1, false);	/* another size: never from the cache */
	CHECK(q != p[0]);
	CHECK_EQ(kg_mem_in_use(&m), 2 * b + 1);
	kg_mem_free(&m, q, b + 1);
	CHECK_EQ(kg_mem_in_use(&m), b);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
	CHECK_EQ(kg_mem_cached(&m), 0);

	/* At most KG_MEM_CACHE_MAX are kept. */
	for (i = 0; i <= KG_MEM_CACHE_MAX; i++) {
		p[i] = kg_mem_alloc(&m, b, true);
		CHECK(p[i] != NULL);
	}
	for (i = 0; i <= KG_MEM_CACHE_MAX; i++)
		kg_mem_free(&m, p[i], b);
	CHECK_EQ(kg_mem_cached(&m), KG_MEM_CACHE_MAX * b);
	CHECK_EQ(kg_mem_in_use(&m), KG_MEM_CACHE_MAX * b);

	/* A tick after one that saw the cache used empties it; an unused tick at once. */
	q = kg_mem_alloc(&m, b, false);
	kg_mem_free(&m, q, b);
	kg_mem_cache_tick(&m);
	CHECK_EQ(kg_mem_cached(&m), KG_MEM_CACHE_MAX * b);
	kg_mem_cache_tick(&m);
	CHECK_EQ(kg_mem_cached(&m), 0);
	CHECK_EQ(kg_mem_in_use(&m), 0);

	/* Nothing is kept while someone waits for memory: it is given back. */
	q = kg_mem_alloc(&m, b, false);
	atomic_inc(&m.waiting);
	kg_mem_free(&m, q, b);
	CHECK_EQ(wakes, 1);
	CHECK_EQ(kg_mem_cached(&m), 0);
	CHECK_EQ(kg_mem_in_use(&m), 0);
	atomic_dec(&m.waiting);
	CHECK_EQ(wakes, 1);
}

/* The cache never makes a charge fail, nor lets input into the output reserve. */
KT_TEST(cache_yields_to_charges_and_the_reserve)
{
	const size_t b = KG_MEM_CACHE_BYTES;
	struct kg_mem m;
	void *p[4], *q;
	int i;

	kg_mem_init(&m, 4 * b, NULL);		/* 3.5 buffers for input */
	for (i = 0; i < 3; i++)
		p[i] = kg_mem_alloc(&m, b, false);
	p[3] = kg_mem_alloc(&m, b, true);	/* the reserve's part */
	CHECK(p[0] && p[1] && p[2] && p[3]);
	CHECK_EQ(kg_mem_in_use(&m), 4 * b);
	kg_mem_free(&m, p[3], b);
	kg_mem_free(&m, p[2], b);
	CHECK_EQ(kg_mem_cached(&m), 2 * b);
	/* Input may take one back (3 in use), not a second (4 > 3.5). */
	q = kg_mem_alloc(&m, b, false);
	CHECK(q == p[2]);
	CHECK(kg_mem_alloc(&m, b, false) == NULL);
	CHECK_EQ(kg_mem_cached(&m), 0);		/* that charge emptied the cache first */
	CHECK_EQ(kg_mem_in_use(&m), 3 * b);
	p[3] = kg_mem_alloc(&m, b, true);	/* output still may */
	CHECK(p[3] != NULL);
	CHECK_EQ(kg_mem_in_use(&m), 4 * b);
	CHECK_EQ(kg_mem_peak(&m), 4 * b);
	kg_mem_free(&m, p[3], b);
	kg_mem_free(&m, q, b);
	kg_mem_free(&m, p[1], b);
	CHECK_EQ(kg_mem_cached(&m), 3 * b);
	/* A charge that fits only without the cache gets the memory. */
	CHECK(kg_mem_charge(&m, 2 * b + b / 2, false));
	CHECK_EQ(kg_mem_cached(&m), 0);
	CHECK_EQ(kg_mem_in_use(&m), 3 * b + b / 2);
	CHECK(kg_mem_peak(&m) <= 4 * b);
	kg_mem_uncharge(&m, 2 * b + b / 2);
	kg_mem_free(&m, p[0], b);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

/* ---- growing arenas ---- */

/*
 * What the arena or socket holds: in_use less the free buffers the budget
 * keeps for reuse (its cache, tested above).
 */
static u64 held(struct kg_mem *m)
{
	return kg_mem_in_use(m) - kg_mem_cached(m);
}


KT_TEST(arena_allocates_lazily_and_gives_back)
{
	struct kg_arena a;
	struct kg_mem m;
	u8 *p;
	int i;

	kg_mem_init(&m, 1u << 20, NULL);
	kg_arena_init_mem(&a, &m, 256 * 1024);
	CHECK_EQ(held(&m), 0);
	CHECK(kg_arena_prepare(&a));
	CHECK_EQ(held(&m), KG_ARENA_CHUNK);
	for (i = 0; i < 100; i++) {
		p = kg_arena_alloc(&a, 1000, 8);
		CHECK(p != NULL);
		CHECK_EQ((uintptr_t)p % 8, 0);
		memset(p, i, 1000);
	}
	CHECK(kg_arena_used(&a) >= 100 * 1000);
	CHECK_EQ(held(&m), kg_arena_held(&a));
	CHECK(kg_arena_held(&a) <= 256 * 1024);
	/* One allocation bigger than any chunk so far gets a chunk of its own. */
	p = kg_arena_alloc(&a, 100 * 1024, 16);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p % 16, 0);
	CHECK_EQ(held(&m), kg_arena_held(&a));
	/* Reset keeps the first chunk only; release keeps nothing. */
	kg_arena_reset(&a);
	CHECK_EQ(kg_arena_used(&a), 0);
	CHECK_EQ(held(&m), KG_ARENA_CHUNK);
	CHECK(kg_arena_alloc(&a, 100, 0) != NULL);
	CHECK_EQ(held(&m), KG_ARENA_CHUNK);
	kg_arena_release(&a);
	CHECK_EQ(held(&m), 0);
	CHECK_EQ(kg_arena_held(&a), 0);
	CHECK(kg_arena_alloc(&a, 8, 0) != NULL);	/* usable again */
	kg_arena_release(&a);
	CHECK_EQ(held(&m), 0);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

KT_TEST(arena_limit_and_budget_refuse)
{
	struct kg_arena a;
	struct kg_mem m;
	int n = 0;

	kg_mem_init(&m, 1u << 20, NULL);
	kg_arena_init_mem(&a, &m, 64 * 1024);
	while (kg_arena_alloc(&a, 1024, 0))
		n++;
	CHECK(n >= 50 && n < 64);
	CHECK(kg_arena_held(&a) <= 64 * 1024);
	CHECK_EQ(a.failures, 1);
	CHECK(kg_arena_alloc(&a, 64 * 1024, 0) == NULL);	/* over the limit */
	CHECK(kg_arena_alloc(&a, SIZE_MAX - 8, 0) == NULL);	/* no wrap */
	kg_arena_release(&a);
	CHECK_EQ(held(&m), 0);

	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);

	/* A budget smaller than the limit: the budget says no first. */
	kg_mem_init(&m, 40 * 1024, NULL);	/* 35 KiB for input */
	kg_arena_init_mem(&a, &m, 1u << 20);
	n = 0;
	while (kg_arena_alloc(&a, 1024, 0))
		n++;
	CHECK(n > 0);
	CHECK(held(&m) <= 35 * 1024);
	CHECK_EQ(held(&m), kg_arena_held(&a));
	kg_arena_release(&a);
	CHECK_EQ(held(&m), 0);
	CHECK_EQ(kg_mem_peak(&m) <= 35 * 1024, 1);

	/* Limit 0: a growing arena that never allocates. */
	kg_arena_init_mem(&a, &m, 0);
	CHECK(kg_arena_prepare(&a));
	CHECK(kg_arena_alloc(&a, 1, 0) == NULL);
	CHECK_EQ(held(&m), 0);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

/* ---- buffered sockets ---- */

KT_TEST(bsock_buffers_exist_only_while_used)
{
	static u8 in[100000];
	struct kg_sock sock = { .data = in, .len = sizeof(in), .send_room = 0 };
	struct kg_bsock bs;
	struct kg_mem m;
	u8 out[1000];
	const u8 *p;
	size_t got = 0;
	int i;

	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = (u8)(i * 31);
	kg_mem_init(&m, 1u << 20, NULL);
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 200000, 4096), 0);
	kg_bsock_set_budget(&bs, &m, 65536);
	CHECK_EQ(held(&m), 0);		/* nothing until bytes move */
	while (got < sizeof(in)) {
		ssize_t n = kg_bsock_fill(&bs, 30000);

		CHECK(n >= 0);
		CHECK_EQ(held(&m), bs.rcap);
		got += n;
		if (n <= 0)
			break;
	}
	CHECK_EQ(got, sizeof(in));
	CHECK_EQ(kg_bsock_peek(&bs, &p), sizeof(in));
	CHECK_MEM(p, in, sizeof(in));
	kg_bsock_release_idle(&bs);		/* not empty: kept */
	CHECK(held(&m) > 0);
	kg_bsock_discard(&bs, sizeof(in));
	kg_bsock_release_idle(&bs);
	CHECK_EQ(held(&m), 0);
	CHECK_EQ(kg_bsock_peek(&bs, &p), 0);
	CHECK_EQ(kg_bsock_read(&bs, out, sizeof(out)), 0);

	/* Send: a 10 KB message is over the 4 KB send buffer, not over max_msg. */
	memset(out, 7, sizeof(out));
	CHECK_EQ(kg_bsock_write_all(&bs, out, 1000), 0);
	CHECK(held(&m) > 0);
	{
		u8 *dst;
		int err;

		dst = kg_bsock_reserve(&bs, 10000, &err);
		CHECK(dst != NULL);
		if (dst) {
			memset(dst, 9, 10000);
			kg_bsock_commit(&bs, 10000);
		}
		CHECK_EQ(kg_bsock_unsent(&bs), 11000);
		/* Above high water now: another message must wait. */
		CHECK(kg_bsock_reserve(&bs, 100, &err) == NULL);
		CHECK_EQ(err, -ENOBUFS);
		CHECK(kg_bsock_reserve(&bs, 70000, &err) == NULL);
		CHECK_EQ(err, -EMSGSIZE);
		CHECK_EQ(kg_bsock_write(&bs, out, 10), 0);	/* partial writes: no room */
	}
	CHECK_EQ(kg_bsock_flush(&bs), -EAGAIN);
	sock.send_room = 5000;
	CHECK_EQ(kg_bsock_flush(&bs), -EAGAIN);
	CHECK_EQ(kg_bsock_unsent(&bs), 6000);
	sock.send_room = 1u << 20;
	CHECK_EQ(kg_bsock_flush(&bs), 0);
	CHECK_EQ(sock.sent, 11000);
	CHECK(held(&m) > 0);		/* flushed empty: kept for the next reply */
	kg_bsock_trim(&bs);
	CHECK_EQ(held(&m), 0);		/* trimmed: nothing held */
	kg_bsock_destroy(&bs);
	CHECK_EQ(held(&m), 0);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

KT_TEST(bsock_starves_instead_of_overshooting)
{
	static u8 in[300000];
	struct kg_sock sock = { .data = in, .len = sizeof(in) };
	struct kg_bsock bs;
	struct kg_mem m;
	ssize_t n;

	kg_mem_init(&m, 160 * 1024, NULL);	/* 140 KiB for input */
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 1u << 20, 4096), 0);
	kg_bsock_set_budget(&bs, &m, 4096);
	/* As the server does when serving takes nothing (one huge message). */
	n = kg_bsock_fill(&bs, SIZE_MAX);
	CHECK(n > 0);
	while (n > 0 && !bs.mem_starved)
		n = kg_bsock_fill(&bs, SIZE_MAX);
	CHECK(bs.mem_starved);
	CHECK(kg_mem_peak(&m) <= 140 * 1024);
	CHECK(!bs.rcv_drained);
	kg_bsock_destroy(&bs);
	CHECK_EQ(held(&m), 0);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

/*
 * A fill that filled the buffer stops there: the bytes are served first.
 * The buffer grows only when a fill finds it full before receiving, i.e.
 * nothing was taken out of it (a message bigger than the buffer).
 */
KT_TEST(bsock_grows_only_when_nothing_was_taken)
{
	static u8 in[100000];
	struct kg_sock sock = { .data = in, .len = sizeof(in) };
	struct kg_bsock bs;
	struct kg_mem m;
	ssize_t n;

	kg_mem_init(&m, 1u << 20, NULL);
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 1u << 20, 4096), 0);
	kg_bsock_set_budget(&bs, &m, 4096);
	n = kg_bsock_fill(&bs, SIZE_MAX);
	CHECK_EQ(n, KG_BSOCK_INITIAL);
	CHECK_EQ(bs.rcap, KG_BSOCK_INITIAL);
	CHECK(!bs.rcv_drained);
	/* Served up to a partial message at the end: compacted, not grown. */
	kg_bsock_discard(&bs, KG_BSOCK_INITIAL - 100);
	n = kg_bsock_fill(&bs, SIZE_MAX);
	CHECK_EQ(n, KG_BSOCK_INITIAL - 100);
	CHECK_EQ(bs.rcap, KG_BSOCK_INITIAL);
	/* Nothing taken: the message is bigger than the buffer, which doubles. */
	n = kg_bsock_fill(&bs, SIZE_MAX);
	CHECK_EQ(n, KG_BSOCK_INITIAL);
	CHECK_EQ(bs.rcap, 2 * KG_BSOCK_INITIAL);
	kg_bsock_destroy(&bs);
	CHECK_EQ(held(&m), 0);
	kg_mem_shrink(&m);
	CHECK_EQ(kg_mem_in_use(&m), 0);
}

KT_MAIN(KT_CASE(charge_respects_limit_and_reserve),
	KT_CASE(peak_is_the_maximum),
	KT_CASE(alloc_free_and_wake),
	KT_CASE(cache_keeps_free_buffers_charged),
	KT_CASE(cache_yields_to_charges_and_the_reserve),
	KT_CASE(arena_allocates_lazily_and_gives_back),
	KT_CASE(arena_limit_and_budget_refuse),
	KT_CASE(bsock_buffers_exist_only_while_used),
	KT_CASE(bsock_starves_instead_of_overshooting),
	KT_CASE(bsock_grows_only_when_nothing_was_taken))
