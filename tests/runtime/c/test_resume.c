// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kg_frame_resume() (runtime/core/frame.c), the unframed
 * skip-parse that goes on from where it stopped, against its specification,
 * kg_frame_next() (the one-shot parse from the start).
 *
 * The property: a message fed to kg_frame_resume() in pieces gets, after
 * every piece, the verdict kg_frame_next() gives the same bytes (0 with the
 * same total_len, -EAGAIN, -EBADMSG or -EMSGSIZE), and on -EAGAIN a need
 * that kg_frame_next() confirms (still -EAGAIN one byte before it). Each
 * call gets a fresh copy of exactly the bytes so far, at a new address: ASan
 * catches a read past them, and a pointer kept across calls would read
 * freed memory. Inputs: valid messages of every type (both protocols, strict
 * and old-style binary headers), random nested messages, their truncations
 * and mutations, and limits lowered so that each is hit at every position.
 * Work: the bytes examined stay about the message's length (frame.examined)
 * where kg_frame_next() examines the whole prefix on every call.
 */
#include <time.h>

#include "kgen/frame.h"
#include "kt.h"
#include "msgs.h"

static u64 rng_state = 1;

static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static u32 below(u32 n)
{
	return n ? (u32)(rnd() % n) : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- the property ---- */

struct equiv {
	int verdict;		/* the last call's return */
	u64 examined;		/* bytes examined by kg_frame_resume() in all */
	u64 calls;
};

static int equiv_failed;

#define EQ_FAIL(fmt, ...) do { \
	KT_FAIL(fmt, ##__VA_ARGS__); \
	equiv_failed = 1; \
	return; \
} while (0)

/*
 * Feed @msg[0..cuts[i]) for each cut (increasing; the last is usually @n)
 * and check every call against kg_frame_next(). @copy: a fresh buffer of
 * exactly the prefix per call (slow for big inputs).
 */
static void equiv_cuts(const u8 *msg, size_t n, u8 proto, const struct kg_limits *lim,
		       const size_t *cuts, size_t ncuts, bool copy, struct equiv *res)
{
	struct kg_frame_state st;
	struct kg_frame f, g;
	size_t i, len;
	int a, b;
	u8 *buf;

	memset(res, 0, sizeof(*res));
	kg_frame_state_reset(&st);
	for (i = 0; i < ncuts; i++) {
		len = cuts[i];
		if (copy) {
			buf = malloc(len ? len : 1);
			memcpy(buf, msg, len);
		} else {
			buf = (u8 *)msg;
		}
		a = kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, proto, lim, buf, len, &f);
		res->examined += f.examined;
		res->calls++;
		if (copy)
			free(buf);
		b = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, lim, msg, len, &g);
		res->verdict = a;
		if (a != b)
			EQ_FAIL("len %zu of %zu: resume %d, one-shot %d", len, n, a, b);
		if (!a && f.total_len != g.total_len)
			EQ_FAIL("len %zu: total_len %u vs %u", len, f.total_len, g.total_len);
		if (a == -EAGAIN) {
			if (f.need <= len || f.need > (lim ? lim->max_frame : KG_DEFAULT_MAX_FRAME))
				EQ_FAIL("len %zu: need %u out of range", len, f.need);
			/* A lower bound: one byte short of it, still "need more". */
			if (f.need - 1 > len && f.need - 1 <= n &&
			    kg_frame_next(KG_TRANSPORT_BUFFERED, proto, lim, msg, f.need - 1,
					  &g) != -EAGAIN)
				EQ_FAIL("len %zu: need %u over-estimates", len, f.need);
		}
	}
}

/* Every split into one-byte pieces, and every split into two pieces. */
static void equiv_all_splits(const u8 *msg, size_t n, u8 proto, const struct kg_limits *lim)
{
	size_t *cuts = malloc((n + 1) * sizeof(*cuts));
	struct equiv res;
	size_t i, s;

	for (i = 0; i <= n; i++)
		cuts[i] = i;
	equiv_cuts(msg, n, proto, lim, cuts, n + 1, true, &res);
	for (s = 1; s < n && !equiv_failed; s++) {
		cuts[0] = s;
		cuts[1] = n;
		equiv_cuts(msg, n, proto, lim, cuts, 2, true, &res);
	}
	free(cuts);
}

/* @k random pieces (the last cut is @n). */
static void equiv_random_splits(const u8 *msg, size_t n, u8 proto, const struct kg_limits *lim,
				size_t k, struct equiv *res)
{
	size_t cuts[64], i, j, t;

	if (k > 63)
		k = 63;
	for (i = 0; i < k; i++)
		cuts[i] = below((u32)n + 1);
	cuts[k] = n;
	/* insertion sort: cuts must not decrease */
	for (i = 1; i <= k; i++)
		for (j = i; j && cuts[j - 1] > cuts[j]; j--) {
			t = cuts[j];
			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	equiv_cuts(msg, n, proto, lim, cuts, k + 1, true, res);
}

/* ---- random messages ---- */

static const u8 all_types[] = {
	KG_T_BOOL, KG_T_BYTE, KG_T_DOUBLE, KG_T_I16, KG_T_I32, KG_T_I64, KG_T_STRING,
	KG_T_UUID, KG_T_STRUCT, KG_T_LIST, KG_T_SET, KG_T_MAP,
};

static u8 rand_type(int depth)
{
	/* Scalars only deep down, so messages stay small. */
	return all_types[below(depth > 4 ? 8 : ARRAY_SIZE(all_types))];
}

static void gen_value(struct kg_writer *w, u8 t, int depth);

static void gen_struct(struct kg_writer *w, int depth)
{
	u32 n = below(6), i;
	s16 id = 0;
	u8 t;

	kg_write_struct_begin(w);
	for (i = 0; i < n; i++) {
		/* small and large id steps: compact deltas and long forms */
		id = (s16)(id + (below(4) ? (s16)below(16) + 1 : (s16)below(2000) - 1000));
		t = rand_type(depth);
		kg_write_field_begin(w, t, id);
		gen_value(w, t, depth + 1);
	}
	kg_write_field_stop(w);
	kg_write_struct_end(w);
}

static void gen_value(struct kg_writer *w, u8 t, int depth)
{
	static const char text[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	u32 n, i;
	u8 t1, t2;

	switch (t) {
	case KG_T_BOOL:
		kg_write_bool(w, below(2));
		break;
	case KG_T_BYTE:
		kg_write_byte(w, (s8)rnd());
		break;
	case KG_T_DOUBLE:
		kg_write_double(w, rnd());
		break;
	case KG_T_I16:
		kg_write_i16(w, (s16)rnd());
		break;
	case KG_T_I32:
		kg_write_i32(w, (s32)(rnd() >> below(32)));
		break;
	case KG_T_I64:
		kg_write_i64(w, (s64)(rnd() >> below(64)));
		break;
	case KG_T_STRING:
		n = below(4) ? below(12) : below(300);
		kg_write_binary(w, text, min_t(u32, n, sizeof(text) - 1));
		break;
	case KG_T_UUID:
		kg_write_uuid(w, kt_uuid);
		break;
	case KG_T_STRUCT:
		gen_struct(w, depth);
		break;
	case KG_T_LIST:
	case KG_T_SET:
		n = below(4) ? below(5) : below(40);
		t1 = rand_type(depth + 1);
		kg_write_list_begin(w, t1, n);
		for (i = 0; i < n; i++)
			gen_value(w, t1, depth + 1);
		break;
	case KG_T_MAP:
		n = below(4) ? below(4) : below(20);
		t1 = rand_type(depth + 1);
		t2 = rand_type(depth + 1);
		kg_write_map_begin(w, t1, t2, n);
		for (i = 0; i < n; i++) {
			gen_value(w, t1, depth + 1);
			gen_value(w, t2, depth + 1);
		}
		break;
	}
}

/* A random CALL; binary: old-style header one time in three. */
static size_t gen_message(u8 *buf, size_t cap, u8 proto)
{
	struct kg_writer w;
	u32 name_len;
	size_t n;

	kg_writer_init(&w, buf, cap, proto);
	kg_write_message_begin(&w, "testI32", 7, (u8)(below(2) ? KG_MSG_CALL : KG_MSG_ONEWAY),
			       (s32)rnd());
	gen_struct(&w, 0);
	if (w.err)
		return 0;
	n = w.len;
	if (proto == KG_PROTO_BINARY && !below(3)) {
		/* strict: version|type, len, name, seqid -> old: len, name, type, seqid */
		u8 type = buf[3];

		name_len = kg_get_be32(buf + 4);
		memmove(buf, buf + 4, 4 + name_len);
		buf[4 + name_len] = type;
		memmove(buf + 5 + name_len, buf + 8 + name_len, n - 8 - name_len);
		n -= 3;
	}
	return n;
}

static const u8 nasty[] = { 0x00, 0x01, 0x07, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x7f,
			    0x80, 0x81, 0xff, 0x1c, 0xf9, 0xfb };

/* Flip, overwrite, drop, insert or append bytes. */
static size_t mutate(u8 *buf, size_t n, size_t cap)
{
	u32 ops = below(3) + 1, i;

	while (ops--) {
		i = below((u32)n);
		switch (below(5)) {
		case 0:
			if (n)
				buf[i] ^= (u8)(1u << below(8));
			break;
		case 1:
			if (n)
				buf[i] = nasty[below(ARRAY_SIZE(nasty))];
			break;
		case 2:
			n = below((u32)n + 1);
			break;
		case 3:
			if (n < cap) {
				memmove(buf + i + 1, buf + i, n - i);
				buf[i] = nasty[below(ARRAY_SIZE(nasty))];
				n++;
			}
			break;
		case 4:
			while (n < cap && below(4))
				buf[n++] = (u8)rnd();
			break;
		}
	}
	return n;
}

/* Limits low enough to be hit somewhere in @n bytes (or not at all). */
static void rand_limits(struct kg_limits *lim, size_t n)
{
	*lim = kg_default_limits;
	if (below(2))
		lim->max_frame = below((u32)n + 8) + 1;
	if (below(3) == 0)
		lim->max_string = below(40);
	if (below(3) == 0)
		lim->max_container = below(10);
	if (below(3) == 0)
		lim->max_depth = below(6);
	if (below(8) == 0)
		lim->max_depth = KG_MAX_DEPTH + below(10);
}

/* ---- cases ---- */

static const u8 protos[] = { KG_PROTO_BINARY, KG_PROTO_COMPACT };

KT_TEST(rich_every_split)
{
	static u8 msg[4096];
	size_t pi, n;
	int seed;

	for (pi = 0; pi < 2; pi++) {
		for (seed = 0; seed < 4 && !equiv_failed; seed++) {
			n = kt_rich_p(msg, sizeof(msg), seed, protos[pi]);
			CHECK(n > 100);
			equiv_all_splits(msg, n, protos[pi], NULL);
		}
	}
}

/* Every prefix of a rich message cut short, and each limit at every value. */
KT_TEST(rich_truncated_and_limited)
{
	static u8 msg[4096];
	struct kg_limits lim;
	size_t pi, n, cut;
	u32 v;

	for (pi = 0; pi < 2 && !equiv_failed; pi++) {
		n = kt_rich_p(msg, sizeof(msg), 5, protos[pi]);
		for (cut = 0; cut < n && !equiv_failed; cut += 7)
			equiv_all_splits(msg, cut, protos[pi], NULL);
		for (v = 0; v <= n + 1 && !equiv_failed; v++) {
			lim = kg_default_limits;
			lim.max_frame = v ? v : 1;
			equiv_all_splits(msg, n, protos[pi], &lim);
		}
		for (v = 0; v < 20 && !equiv_failed; v++) {
			lim = kg_default_limits;
			lim.max_string = v;
			equiv_all_splits(msg, n, protos[pi], &lim);
			lim = kg_default_limits;
			lim.max_container = v / 4;
			equiv_all_splits(msg, n, protos[pi], &lim);
			lim = kg_default_limits;
			lim.max_depth = v / 3;
			equiv_all_splits(msg, n, protos[pi], &lim);
		}
	}
}

/* Nesting: structs and lists 70 deep (over KG_MAX_DEPTH), every split. */
KT_TEST(deep_nesting)
{
	static u8 msg[4096];
	struct kg_limits lim = kg_default_limits;
	size_t n;

	n = kt_nested(msg, sizeof(msg), 70, KG_T_STRUCT);
	equiv_all_splits(msg, n, KG_PROTO_BINARY, NULL);
	n = kt_nested(msg, sizeof(msg), 70, KG_T_LIST);
	equiv_all_splits(msg, n, KG_PROTO_BINARY, NULL);
	n = kt_nested(msg, sizeof(msg), 64, KG_T_LIST);
	equiv_all_splits(msg, n, KG_PROTO_BINARY, NULL);
	lim.max_depth = 200;	/* clamped to KG_MAX_DEPTH */
	equiv_all_splits(msg, n, KG_PROTO_BINARY, &lim);
	/* compact: 70 nested struct fields, each delta 1 */
	memcpy(msg, "\x82\x21\x01\x01f", 5);
	memset(msg + 5, 0x1c, 69);
	memset(msg + 74, 0, 70);
	equiv_all_splits(msg, 144, KG_PROTO_COMPACT, NULL);
}

/* Random messages, their mutations and random limits, at random splits. */
KT_TEST(random_messages)
{
	static u8 msg[1 << 16];
	struct kg_limits lim;
	struct equiv res;
	long verdicts[4] = { 0 };	/* ok, again, bad, big */
	int it, k;
	size_t n;
	u8 proto;

	rng_state = 0x5eed;
	for (it = 0; it < 6000 && !equiv_failed; it++) {
		proto = protos[it & 1];
		n = gen_message(msg, sizeof(msg) / 2, proto);
		if (!n) {
			KT_FAIL("generator overflow");
			return;
		}
		if (it % 3)
			n = mutate(msg, n, sizeof(msg));
		if (it % 4 == 0)
			rand_limits(&lim, n);
		else
			lim = kg_default_limits;
		for (k = 0; k < 4 && !equiv_failed; k++)
			equiv_random_splits(msg, n, proto, &lim, 1 + below(k ? 40 : 3), &res);
		verdicts[res.verdict == 0 ? 0 : res.verdict == -EAGAIN ? 1 :
			 res.verdict == -EBADMSG ? 2 : 3]++;
	}
	printf("random messages: %ld whole, %ld incomplete, %ld malformed, %ld over limits\n",
	       verdicts[0], verdicts[1], verdicts[2], verdicts[3]);
	/* Each verdict was reached often: the property was checked on each. */
	CHECK(verdicts[0] > 500 && verdicts[1] > 200 && verdicts[2] > 200 && verdicts[3] > 200);
}

/* Random bytes after valid headers: garbage at every position. */
KT_TEST(garbage_after_header)
{
	static u8 msg[512];
	struct equiv res;
	int it, k;
	size_t n, i, h;

	rng_state = 0xbad;
	for (it = 0; it < 4000 && !equiv_failed; it++) {
		u8 proto = protos[it & 1];

		if (proto == KG_PROTO_BINARY) {
			memcpy(msg, "\x80\x01\x00\x01\x00\x00\x00\x01" "f\x00\x00\x00\x01", 13);
			h = 13;
		} else {
			memcpy(msg, "\x82\x21\x01\x01" "f", 5);
			h = 5;
		}
		n = h + below(sizeof(msg) - h);
		for (i = h; i < n; i++)
			msg[i] = below(3) ? nasty[below(ARRAY_SIZE(nasty))] : (u8)rnd();
		for (k = 0; k < 3 && !equiv_failed; k++)
			equiv_random_splits(msg, n, proto, NULL, 1 + below(30), &res);
	}
}

/*
 * A message of @fields fields (i32, string, list<i16>, double in turn) of
 * about @size bytes; with @stop, then STOP.
 */
static size_t big_message(u8 *buf, size_t cap, u8 proto, size_t size, bool stop)
{
	struct kg_writer w;
	u32 i = 0, j;

	kg_writer_init(&w, buf, cap, proto);
	kg_write_message_begin(&w, "testI32", 7, KG_MSG_CALL, 1);
	kg_write_struct_begin(&w);
	while (w.len + 64 < size) {
		switch (i % 4) {
		case 0:
			kg_write_field_begin(&w, KG_T_I32, 1);
			kg_write_i32(&w, (s32)(i * 2654435761u));
			break;
		case 1:
			kg_write_field_begin(&w, KG_T_STRING, 2);
			kg_write_string(&w, "0123456789abcdef", i % 17);
			break;
		case 2:
			kg_write_field_begin(&w, KG_T_LIST, 3);
			kg_write_list_begin(&w, KG_T_I16, 5);
			for (j = 0; j < 5; j++)
				kg_write_i16(&w, (s16)(i * j));
			break;
		default:
			kg_write_field_begin(&w, KG_T_DOUBLE, 4);
			kg_write_double(&w, i);
			break;
		}
		i++;
	}
	if (stop)
		kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	return w.err ? 0 : w.len;
}

/*
 * 1 MiB in 1-byte pieces straight into kg_frame_resume() (no need to wait
 * for: every call is made): each byte examined about once.
 */
KT_TEST(mib_in_byte_pieces)
{
	size_t cap = (1u << 20) + 256, n, len, pi;
	u8 *msg = malloc(cap);
	struct kg_frame_state st;
	struct kg_frame f, g;
	u64 examined, calls;
	double t0, ms;
	int ret = -EAGAIN;

	for (pi = 0; pi < 2; pi++) {
		n = big_message(msg, cap, protos[pi], 1u << 20, true);
		CHECK(n > 1000000);
		kg_frame_state_reset(&st);
		examined = 0;
		calls = 0;
		t0 = now_ms();
		for (len = 1; len <= n; len++) {
			ret = kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, protos[pi], NULL, msg,
					      len, &f);
			examined += f.examined;
			calls++;
			if (ret != -EAGAIN)
				break;
		}
		ms = now_ms() - t0;
		printf("%zu-byte message, %s, 1-byte pieces: %" PRIu64 " calls, %" PRIu64
		       " bytes examined (%.3f per byte), %.0f ms\n", n,
		       protos[pi] ? "compact" : "binary", calls, examined,
		       (double)examined / n, ms);
		CHECK_EQ(ret, 0);
		CHECK_EQ(len, n);
		CHECK_EQ(f.total_len, n);
		CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, protos[pi], NULL, msg, n, &g), 0);
		CHECK_EQ(g.total_len, n);
		/*
		 * Every byte once; a call that stops inside a value counts the
		 * up to 16 bytes it may have looked at again: the calls made
		 * here stop at most once per value (it waits for a value's
		 * last byte), so the bound is the length plus 16 per call.
		 */
		CHECK(examined >= n);
		CHECK(examined <= n + 16 * calls);
		/* In fact: most calls look at nothing (they wait for need). */
		CHECK(examined <= 3 * (u64)n);
	}
	free(msg);
}

/*
 * The never-ending struct (issue 9): testI32 whose argument struct is the
 * 4-byte field 03 00 32 01 (i8 field 50) repeated to 2 MB, then one more
 * field per arrival. Each arrival costs about its 4 bytes; kg_frame_next()
 * re-parses the whole 2 MB every time.
 */
KT_TEST(never_ending_struct)
{
	const size_t mb2 = 2u << 20, more = 20000;
	size_t cap = mb2 + 4 * more + 64, n = 0, i;
	u8 *msg = malloc(cap);
	struct kg_frame_state st;
	struct kg_frame f;
	u64 examined = 0, old_examined = 0;
	double t0, ms, old_ms;
	int ret;

	memcpy(msg, "\x80\x01\x00\x01\x00\x00\x00\x07testI32\x00\x00\x00\x01", 19);
	n = 19;
	while (n + 4 <= mb2) {
		memcpy(msg + n, "\x03\x00\x32\x01", 4);
		n += 4;
	}
	kg_frame_state_reset(&st);
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n, &f),
		 -EAGAIN);
	CHECK(f.examined >= n - 19);
	t0 = now_ms();
	for (i = 0; i < more; i++) {
		memcpy(msg + n, "\x03\x00\x32\x01", 4);
		n += 4;
		ret = kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n,
				      &f);
		CHECK_EQ_AT(ret, -EAGAIN, i);
		CHECK_EQ_AT(f.need, n + 1, i);
		examined += f.examined;
	}
	ms = now_ms() - t0;
	/* The old way, for comparison: 20 arrivals only, it is that slow. */
	t0 = now_ms();
	for (i = 0; i < 20; i++) {
		CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg,
				       n - 4 * i, &f), -EAGAIN);
		old_examined += f.examined;
	}
	old_ms = (now_ms() - t0) / 20;
	printf("never-ending struct, %zu bytes then %zu 4-byte arrivals: %" PRIu64
	       " bytes examined (%.1f per arrival), %.4f ms per arrival; one-shot parse: %"
	       PRIu64 " bytes, %.2f ms per arrival\n", mb2, more, examined,
	       (double)examined / more, ms / more, old_examined / 20, old_ms);
	/* Its 4 bytes, plus at most 16 looked at where it stopped. */
	CHECK(examined <= (4 + 16) * (u64)more);
	CHECK(old_examined / 20 >= mb2 - 32);
	/* The end is found when it comes. */
	msg[n++] = 0;
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n, &f),
		 0);
	CHECK_EQ(f.total_len, n);
	free(msg);
}

/* A state kept across messages of the same buffer front is the caller's bug: safe anyway. */
KT_TEST(shrunk_buffer_restarts)
{
	static u8 msg[4096];
	struct kg_frame_state st;
	struct kg_frame f;
	size_t n = kt_rich_p(msg, sizeof(msg), 2, KG_PROTO_BINARY);

	kg_frame_state_reset(&st);
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n - 1,
				 &f), -EAGAIN);
	/* Fewer bytes than the last call: parsed again from the start, in bounds. */
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, 20, &f),
		 -EAGAIN);
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n, &f),
		 0);
	CHECK_EQ(f.total_len, n);
	/* Done is sticky until reset, without parsing. */
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n, &f),
		 0);
	CHECK_EQ(f.examined, 0);
	CHECK_EQ(f.total_len, n);
	/* Framed needs no state. */
	kg_put_be32(msg, 5);
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, msg, 9, &f), 0);
	CHECK_EQ(f.total_len, 9);
	CHECK_EQ(kg_frame_resume(&st, 7, KG_PROTO_BINARY, NULL, msg, 9, &f), -EPROTONOSUPPORT);
	kg_frame_state_reset(&st);
	CHECK_EQ(kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, 9, NULL, msg, 9, &f),
		 kg_frame_next(KG_TRANSPORT_BUFFERED, 9, NULL, msg, 9, &f));
	printf("struct kg_frame_state: %zu bytes\n", sizeof(struct kg_frame_state));
}

KT_MAIN(KT_CASE(rich_every_split),
	KT_CASE(rich_truncated_and_limited),
	KT_CASE(deep_nesting),
	KT_CASE(random_messages),
	KT_CASE(garbage_after_header),
	KT_CASE(mib_in_byte_pieces),
	KT_CASE(never_ending_struct),
	KT_CASE(shrunk_buffer_restarts))
