// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic random-input loop over the reader, kg_skip() and
 * kg_frame_next(), for running under ASan + UBSan:
 * ./fuzz ITERATIONS SEED [compact].
 *
 * Inputs are random bytes and mutations (bit flips, interesting values,
 * cuts, splices) of valid messages, strict and old-style, framed or not.
 * Besides "no crash", it checks that the typed walk and kg_skip() agree on
 * the result and the end position, and that kg_frame_next() agrees with
 * them on where an unframed message ends, and that kg_frame_resume() fed
 * the same bytes in random pieces (and under random lower limits) gives
 * kg_frame_next()'s verdict after every piece.
 */
#include "kgen/frame.h"
#include "walk.h"
#include "msgs.h"

static u64 rng_state;

static u64 rnd(void)
{
	/* xorshift64*: deterministic for a given seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static u32 below(u32 n)
{
	return n ? (u32)(rnd() % n) : 0;
}

static const u32 interesting[] = {
	0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000u,
	0xffffffffu, 16384000, 16384001, 0x80010001u, 0x80010004u, 0x80020001u,
};

static u8 seeds[4][4096];
static size_t seed_len[4];
static u8 in[8192];
static u64 arena_mem[1 << 16];

static size_t mutate(void)
{
	size_t n, i, k;
	u32 op, v;

	if (below(8) == 0) {
		n = below(256);
		for (i = 0; i < n; i++)
			in[i] = (u8)rnd();
		return n;
	}
	k = below(4);
	n = seed_len[k];
	memcpy(in, seeds[k], n);
	for (op = below(4) + 1; op; op--) {
		switch (below(5)) {
		case 0:
			in[below((u32)n)] ^= (u8)(1u << below(8));
			break;
		case 1:
			in[below((u32)n)] = (u8)rnd();
			break;
		case 2:
			i = below((u32)n);
			if (i + 4 <= n) {
				v = interesting[below(ARRAY_SIZE(interesting))];
				kg_put_be32(in + i, v);
			}
			break;
		case 3:
			n = below((u32)n + 1);
			break;
		case 4:
			/* splice a slice of another seed in */
			k = below(4);
			i = below((u32)n + 1);
			v = below((u32)seed_len[k]);
			if (i + seed_len[k] - v <= sizeof(in)) {
				memcpy(in + i, seeds[k] + v, seed_len[k] - v);
				n = i + seed_len[k] - v;
			}
			break;
		}
	}
	return n;
}

static void fail(const char *what, size_t n, int a, int b)
{
	size_t i;

	fprintf(stderr, "MISMATCH %s: %d vs %d on %zu bytes:", what, a, b, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%02x", in[i]);
	fprintf(stderr, "\n");
	exit(1);
}

/*
 * Detection (protocol and transport auto) of a message the walk read whole:
 * its protocol, unframed (but for old binary whose name starts with a NUL,
 * 0x80 or 0x82 byte: the ambiguity frame.h describes) and in a frame.
 */
static void check_detect(size_t len, u8 proto)
{
	static u8 framed[sizeof(in) + 4];
	u32 need = 0;
	u8 p = 0xee, t = 0xee;

	if (kg_frame_detect_proto(in, len, &p) || p != proto)
		fail("detect proto", len, p, proto);
	if (in[0] >= 0x80 || (in[4] && in[4] != 0x80 && in[4] != 0x82)) {
		if (kg_frame_detect_transport(in, len, &t, &need) || t != KG_TRANSPORT_BUFFERED)
			fail("detect unframed", len, t, (int)need);
	}
	kg_put_be32(framed, (u32)len);
	memcpy(framed + 4, in, len);
	t = 0xee;
	if (kg_frame_detect_transport(framed, len + 4, &t, &need) || t != KG_TRANSPORT_FRAMED)
		fail("detect framed", len, t, (int)need);
}

/* kg_frame_resume() over random cuts of in[0..n) agrees with kg_frame_next(). */
static void check_resume(size_t n, u8 proto, const struct kg_limits *lim)
{
	struct kg_frame_state st;
	struct kg_frame f, g;
	size_t len = 0;
	int a, b;

	kg_frame_state_reset(&st);
	do {
		len += below(4) ? below(8) : below((u32)n + 1);
		if (len > n)
			len = n;
		a = kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, proto, lim, in, len, &f);
		b = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, lim, in, len, &g);
		if (a != b)
			fail("resume/next", len, a, b);
		if (!a && f.total_len != g.total_len)
			fail("resume/next length", len, (int)f.total_len, (int)g.total_len);
		if (a == -EAGAIN && (f.need <= len || f.need > lim->max_frame))
			fail("resume need", len, (int)f.need, (int)len);
	} while (len < n);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 100000;
	struct kg_limits lim = kg_default_limits;
	struct kg_reader r1, r2;
	struct kg_arena arena;
	struct kg_frame f;
	struct kg_bytes name;
	u8 type;
	s32 seqid;
	long it, ok = 0, nodata = 0, bad = 0, big = 0;
	int e1, e2, e3;
	size_t n;

	u8 proto = argc > 3 && !strcmp(argv[3], "compact") ? KG_PROTO_COMPACT : KG_PROTO_BINARY;

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	if (!rng_state)
		rng_state = 1;
	lim.max_string = 512;
	lim.max_container = 256;
	lim.max_frame = 4096;
	if (proto == KG_PROTO_COMPACT) {
		seed_len[0] = kt_rich_p(seeds[0], sizeof(seeds[0]), 1, proto);
		seed_len[1] = kt_rich_p(seeds[1], sizeof(seeds[1]), 6, proto);
		seed_len[2] = kt_rich_p(seeds[2], sizeof(seeds[2]), 1000, proto);
		/* 20 nested structs */
		memcpy(seeds[3], "\x82\x21\x01\x01f", 5);
		memset(seeds[3] + 5, 0x1c, 19);
		memset(seeds[3] + 24, 0, 20);
		seed_len[3] = 44;
	} else {
		seed_len[0] = kt_rich(seeds[0], sizeof(seeds[0]), 1);
		seed_len[1] = kt_rich(seeds[1], sizeof(seeds[1]), 6);
		/* old-style header version of seed 0 */
		kg_put_be32(seeds[2], 4);
		memcpy(seeds[2] + 4, "echo", 4);
		seeds[2][8] = KG_MSG_CALL;
		memcpy(seeds[2] + 9, seeds[0] + 12, seed_len[0] - 12);
		seed_len[2] = seed_len[0] - 3;
		seed_len[3] = kt_nested(seeds[3], sizeof(seeds[3]), 20, KG_T_LIST);
	}

	for (it = 0; it < iters; it++) {
		n = mutate();

		/* Typed walk and skip: same verdict, same end. */
		kg_arena_init(&arena, arena_mem, sizeof(arena_mem));
		kg_reader_init(&r1, in, n, proto, &arena, &lim);
		e1 = kt_walk_message(&r1, NULL, NULL);
		kg_reader_init(&r2, in, n, proto, NULL, &lim);
		e2 = kg_read_message_begin(&r2, &name, &type, &seqid);
		if (!e2)
			e2 = kg_skip(&r2, KG_T_STRUCT);
		if (e1 != e2)
			fail("walk/skip", n, e1, e2);
		if (!e1 && r1.pos != r2.pos)
			fail("walk/skip end", n, (int)kg_reader_offset(&r1),
			     (int)kg_reader_offset(&r2));
		if (e1 && e1 != -ENODATA && e1 != -EBADMSG && e1 != -EMSGSIZE)
			fail("walk errno", n, e1, 0);
		ok += !e1;
		nodata += e1 == -ENODATA;
		bad += e1 == -EBADMSG;
		big += e1 == -EMSGSIZE;

		/* Unframed framing agrees with them. */
		e3 = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, &lim, in, n, &f);
		if (!e1 && (e3 || f.total_len != kg_reader_offset(&r1)))
			fail("frame/walk", n, e3, e1);
		if (e1 == -ENODATA && e3 != -EAGAIN && e3 != -EMSGSIZE)
			fail("frame/walk enodata", n, e3, e1);
		if (e3 == -EAGAIN && f.need <= n)
			fail("unframed need", n, (int)f.need, (int)n);
		if (e1 && e1 != -ENODATA && e3 != e1)
			fail("frame/walk error", n, e3, e1);

		if (!e1)
			check_detect(kg_reader_offset(&r1), proto);
		check_resume(n, proto, &lim);
		if (below(4) == 0) {
			struct kg_limits low = lim;

			low.max_frame = below((u32)n + 4) + 1;
			low.max_string = below(64);
			low.max_container = below(16);
			low.max_depth = below(24);
			check_resume(n, proto, &low);
		}

		/* Framed: never claims more than it has. */
		e3 = kg_frame_next(KG_TRANSPORT_FRAMED, proto, &lim, in, n, &f);
		if (!e3 && (f.total_len > n || f.total_len != f.payload_len + 4))
			fail("framed length", n, (int)f.total_len, (int)n);
		if (e3 == -EAGAIN && f.need <= n)
			fail("framed need", n, (int)f.need, (int)n);
		if (!e3) {
			kg_reader_init(&r1, in + 4, f.payload_len, proto, &arena, &lim);
			kg_arena_reset(&arena);
			(void)kt_walk_message(&r1, NULL, NULL);
		}
	}
	/* The outcome mix shows the inputs reach every verdict. */
	printf("ok %ld iterations: %ld valid, %ld short, %ld malformed, %ld over limits\n",
	       iters, ok, nodata, bad, big);
	return 0;
}
