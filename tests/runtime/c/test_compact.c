// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the compact protocol (runtime/core/proto_compact.c). */
#include "kgen/frame.h"
#include "kt.h"
#include "walk.h"
#include "msgs.h"

#define CP KG_PROTO_COMPACT

static u8 buf[4096], out[4096];
static u64 arena_mem[4096 / 8];
static struct kg_arena arena;

static void rd(struct kg_reader *r, const void *p, size_t n, const struct kg_limits *l)
{
	kg_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kg_reader_init(r, p, n, CP, &arena, l);
}

static int walk(const u8 *p, size_t n, const struct kg_limits *l)
{
	struct kg_reader r;

	rd(&r, p, n, l);
	return kt_walk_message(&r, NULL, NULL);
}

static int skip(const u8 *p, size_t n, const struct kg_limits *l)
{
	struct kg_reader r;
	struct kg_bytes name;
	u8 type;
	s32 seqid;
	int err;

	rd(&r, p, n, l);
	err = kg_read_message_begin(&r, &name, &type, &seqid);
	if (!err)
		err = kg_skip(&r, KG_T_STRUCT);
	return err;
}

KT_TEST(rich_roundtrip_and_every_prefix)
{
	struct kg_reader r;
	struct kg_writer w;
	struct kg_frame f;
	size_t n, len;
	int seed;

	for (seed = 0; seed < 6; seed++) {
		n = kt_rich_p(buf, sizeof(buf), seed, CP);
		CHECK(n > 50);
		rd(&r, buf, n, NULL);
		kg_writer_init(&w, out, sizeof(out), CP);
		CHECK_EQ(kt_walk_message(&r, &w, NULL), 0);
		CHECK_EQ(kg_reader_remaining(&r), 0);
		CHECK_EQ(w.len, n);
		CHECK_MEM(out, buf, n);
		/* Smaller than binary: varints and deltas at work. */
		CHECK(n < kt_rich(out, sizeof(out), seed));
	}
	n = kt_rich_p(buf, sizeof(buf), 9, CP);
	for (len = 0; len < n; len++) {
		CHECK_EQ_AT(walk(buf, len, NULL), -ENODATA, len);
		CHECK_EQ_AT(skip(buf, len, NULL), -ENODATA, len);
		CHECK_EQ_AT(kg_frame_next(KG_TRANSPORT_BUFFERED, CP, NULL, buf, len, &f), -EAGAIN,
			    len);
		CHECK_EQ_AT(f.need > len && f.need <= n, 1, len);
	}
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, CP, NULL, buf, n, &f), 0);
	CHECK_EQ(f.total_len, n);
}

KT_TEST(writer_count_and_sticky)
{
	struct kg_writer w;
	size_t n = kt_rich_p(buf, sizeof(buf), 5, CP), cap;

	kg_writer_init_count(&w, CP);
	kt_write_rich_message(&w, 5);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, n);
	for (cap = 0; cap <= n; cap++) {
		memset(out, 0xee, sizeof(out));
		kg_writer_init(&w, out, cap, CP);
		kt_write_rich_message(&w, 5);
		CHECK_EQ_AT(w.len, n, cap);
		CHECK_EQ_AT(w.err, cap < n ? -EMSGSIZE : 0, cap);
		CHECK_EQ_AT(out[cap], 0xee, cap);
	}
}

KT_TEST(known_encodings)
{
	static const u8 expect[] = {
		0x82, 0x21, 0xac, 0x02, 0x01, 'f',	/* CALL, seqid 300, "f" */
		0x15, 0x01,				/* 1: i32 -1 (delta 1) */
		0x04, 0x22, 0x04,			/* 17: i16 2 (long form) */
		0x01, 0x20,				/* 16: bool true (delta < 0) */
		0x32,					/* 19: bool false (delta 3) */
		0x17, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,	/* 20: double 1.0, LE */
		0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
							/* 21: i64 min */
		0x19, 0xf3, 0x0f,			/* 22: list<byte> of 15 */
		0x1b, 0x00,				/* 23: empty map */
		0x1b, 0x01, 0x58, 0x02, 0x01, 'x',	/* 24: map<i32,string> {1:"x"} */
		0x19, 0x11, 0x02,			/* 25: list<bool> [false] */
		0x1c, 0x13, 0x02, 0x00,			/* 26: struct { 1: byte 2 } */
		0x00,
	};
	struct kg_writer w;
	int i;

	kg_writer_init(&w, out, sizeof(out), CP);
	kg_write_message_begin(&w, "f", 1, KG_MSG_CALL, 300);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_I32, 1);
	kg_write_i32(&w, -1);
	kg_write_field_begin(&w, KG_T_I16, 17);
	kg_write_i16(&w, 2);
	kg_write_field_begin(&w, KG_T_BOOL, 16);
	kg_write_bool(&w, true);
	kg_write_field_begin(&w, KG_T_BOOL, 19);
	kg_write_bool(&w, false);
	kg_write_field_begin(&w, KG_T_DOUBLE, 20);
	kg_write_double(&w, 0x3ff0000000000000ULL);
	kg_write_field_begin(&w, KG_T_I64, 21);
	kg_write_i64(&w, S64_MIN);
	kg_write_field_begin(&w, KG_T_LIST, 22);
	kg_write_list_begin(&w, KG_T_BYTE, 15);
	for (i = 0; i < 15; i++)
		kg_write_byte(&w, (s8)i);
	kg_write_list_end(&w);
	kg_write_field_begin(&w, KG_T_MAP, 23);
	kg_write_map_begin(&w, KG_T_I32, KG_T_I32, 0);
	kg_write_field_begin(&w, KG_T_MAP, 24);
	kg_write_map_begin(&w, KG_T_I32, KG_T_STRING, 1);
	kg_write_i32(&w, 1);
	kg_write_string(&w, "x", 1);
	kg_write_field_begin(&w, KG_T_LIST, 25);
	kg_write_list_begin(&w, KG_T_BOOL, 1);
	kg_write_bool(&w, false);
	kg_write_field_begin(&w, KG_T_STRUCT, 26);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_BYTE, 1);
	kg_write_byte(&w, 2);
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	CHECK_EQ(w.err, 0);
	/* The list of 15 bytes sits between the two halves of expect[]. */
	CHECK_EQ(w.len, sizeof(expect) + 15);
	CHECK_MEM(out, expect, 37);
	for (i = 0; i < 15; i++)
		CHECK_EQ(out[37 + i], i);
	CHECK_MEM(out + 52, expect + 37, sizeof(expect) - 37);
	/* And it reads back to the same bytes. */
	{
		struct kg_reader r;
		struct kg_writer w2;
		u8 again[256];

		rd(&r, out, w.len, NULL);
		kg_writer_init(&w2, again, sizeof(again), CP);
		CHECK_EQ(kt_walk_message(&r, &w2, NULL), 0);
		CHECK_EQ(w2.len, w.len);
		CHECK_MEM(again, out, w.len);
	}
}

static int header(const u8 *p, size_t n)
{
	struct kg_reader r;
	struct kg_bytes name;
	u8 type;
	s32 seqid;

	rd(&r, p, n, NULL);
	return kg_read_message_begin(&r, &name, &type, &seqid);
}

KT_TEST(bad_headers)
{
	u8 m[] = { 0x82, 0x21, 0x05, 0x01, 'f' };
	unsigned int t;

	CHECK_EQ(header(m, sizeof(m)), 0);
	m[0] = 0x80;
	CHECK_EQ(header(m, 1), -EBADMSG);
	m[0] = 0x82;
	m[1] = 0x22;	/* version 2 */
	CHECK_EQ(header(m, 2), -EBADMSG);
	for (t = 0; t < 8; t++) {
		m[1] = (u8)(1 | t << 5);
		CHECK_EQ_AT(header(m, sizeof(m)), t >= 1 && t <= 4 ? 0 : -EBADMSG, t);
	}
}

static int one(int (*fn)(struct kg_reader *r, void *v), const u8 *p, size_t n)
{
	struct kg_reader r;
	u64 v[4];

	rd(&r, p, n, NULL);
	return fn(&r, v);
}

static int rd_i16(struct kg_reader *r, void *v) { return kg_read_i16(r, v); }
static int rd_i32(struct kg_reader *r, void *v) { return kg_read_i32(r, v); }
static int rd_i64(struct kg_reader *r, void *v) { return kg_read_i64(r, v); }
static int rd_str(struct kg_reader *r, void *v) { return kg_read_string(r, v); }

static int rd_list(struct kg_reader *r, void *v)
{
	u8 et;

	return kg_read_list_begin(r, &et, v);
}

static int rd_map(struct kg_reader *r, void *v)
{
	u8 kt, vt;

	return kg_read_map_begin(r, &kt, &vt, v);
}

KT_TEST(bad_varints_and_sizes)
{
	static const u8 overlong32[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const u8 over_u32[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
	static const u8 max_u32[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	static const u8 i16_over[] = { 0x80, 0x80, 0x04 };	/* zigzag 65536 */
	static const u8 i16_max[] = { 0xfe, 0xff, 0x03 };	/* zigzag 65534 = 32767 */
	static const u8 i64_10th[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0x02 };
	static const u8 i64_11[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0x81, 0x00 };
	static const u8 list_big[] = { 0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f };
	static const u8 list_neg[] = { 0xf5, 0x80, 0x80, 0x80, 0x80, 0x08 };

	CHECK_EQ(one(rd_i32, overlong32, sizeof(overlong32)), -EBADMSG);
	CHECK_EQ(one(rd_i32, over_u32, sizeof(over_u32)), -EBADMSG);
	CHECK_EQ(one(rd_i32, max_u32, sizeof(max_u32)), 0);
	CHECK_EQ(one(rd_i32, max_u32, 4), -ENODATA);
	CHECK_EQ(one(rd_i16, i16_over, sizeof(i16_over)), -EBADMSG);
	CHECK_EQ(one(rd_i16, i16_max, sizeof(i16_max)), 0);
	CHECK_EQ(one(rd_i64, i64_10th, sizeof(i64_10th)), -EBADMSG);
	CHECK_EQ(one(rd_i64, i64_11, sizeof(i64_11)), -EBADMSG);
	/* Lengths and counts over S32_MAX are negative to Apache: malformed. */
	CHECK_EQ(one(rd_str, max_u32, sizeof(max_u32)), -EBADMSG);
	CHECK_EQ(one(rd_list, list_big, sizeof(list_big)), -EBADMSG);
	CHECK_EQ(one(rd_list, list_neg, sizeof(list_neg)), -EBADMSG);
	CHECK_EQ(one(rd_map, max_u32, sizeof(max_u32)), -EBADMSG);
	/* In range but over the limits, or over the input. */
	{
		static const u8 list_lim[] = { 0xf5, 0x81, 0x80, 0x40 };	/* 2^20 + 1 */
		static const u8 list_dbl[] = { 0xa7 };		/* 10 doubles */
		static const u8 str_long[] = { 0xff, 0xff, 0xff, 0x07 };

		CHECK_EQ(one(rd_list, list_lim, sizeof(list_lim)), -EMSGSIZE);
		CHECK_EQ(one(rd_list, list_dbl, sizeof(list_dbl)), -ENODATA);
		CHECK_EQ(one(rd_str, str_long, sizeof(str_long)), -EMSGSIZE);
	}
}

KT_TEST(invalid_types_and_field_ids)
{
	struct kg_reader r;
	u8 t, et, vt;
	s16 id;
	u32 n;
	u8 m[8];

	m[0] = 0x1e;	/* compact type 14 */
	rd(&r, m, 1, NULL);
	CHECK_EQ(kg_read_field_begin(&r, &t, &id), -EBADMSG);
	m[0] = 0x1f;
	rd(&r, m, 1, NULL);
	CHECK_EQ(kg_read_field_begin(&r, &t, &id), -EBADMSG);
	/* Lists of STOP, 14 or 15; maps of those, when not empty. */
	m[0] = 0x10;
	rd(&r, m, 8, NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -EBADMSG);
	m[0] = 0x1e;
	rd(&r, m, 8, NULL);
	CHECK_EQ(kg_read_set_begin(&r, &et, &n), -EBADMSG);
	m[0] = 0x0e;	/* empty: element type not checked */
	rd(&r, m, 8, NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), 0);
	m[0] = 0x01;
	m[1] = 0xf5;
	rd(&r, m, 8, NULL);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -EBADMSG);
	m[1] = 0x50;
	rd(&r, m, 8, NULL);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -EBADMSG);
	/* Field id 32767 (long form), then a delta past S16_MAX. */
	m[0] = 0x05;
	m[1] = 0xfe;
	m[2] = 0xff;
	m[3] = 0x03;
	m[4] = 0x00;	/* i32 0 */
	m[5] = 0x15;
	rd(&r, m, 8, NULL);
	CHECK_EQ(kg_read_struct_begin(&r), 0);
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_I32 && id == 32767);
	CHECK_EQ(kg_skip(&r, t), 0);
	CHECK_EQ(kg_read_field_begin(&r, &t, &id), -EBADMSG);
}

KT_TEST(bool_fields_and_skip)
{
	struct kg_reader r;
	struct kg_writer w;
	bool b;
	u8 t;
	s16 id;

	kg_writer_init(&w, out, sizeof(out), CP);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_BOOL, 1);
	kg_write_bool(&w, true);
	kg_write_field_begin(&w, KG_T_BOOL, 2);
	kg_write_bool(&w, false);
	kg_write_field_begin(&w, KG_T_I32, 3);
	kg_write_i32(&w, 5);
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	CHECK_EQ(w.len, 5);	/* 0x11 0x22 0x15 0x0a 0x00 */
	rd(&r, out, w.len, NULL);
	CHECK_EQ(kg_read_struct_begin(&r), 0);
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_BOOL && id == 1);
	CHECK(!kg_read_bool(&r, &b) && b);
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_BOOL && id == 2);
	CHECK_EQ(kg_skip(&r, t), 0);	/* consumes the header's value, no byte */
	CHECK_EQ(kg_reader_offset(&r), 2);
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_I32 && id == 3);
	CHECK_EQ(kg_skip(&r, t), 0);
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_STOP);
	rd(&r, out, w.len, NULL);
	CHECK_EQ(kg_skip(&r, KG_T_STRUCT), 0);
	CHECK_EQ(kg_reader_remaining(&r), 0);
}

/* A compact CALL "f" whose argument struct nests @levels structs. */
static size_t nested(u8 *p, int levels)
{
	size_t n = 0;
	int i;

	p[n++] = 0x82;
	p[n++] = 0x21;
	p[n++] = 0x01;
	p[n++] = 0x01;
	p[n++] = 'f';
	for (i = 1; i < levels; i++)
		p[n++] = 0x1c;	/* field 1: struct */
	for (i = 0; i < levels; i++)
		p[n++] = 0x00;
	return n;
}

KT_TEST(depth_limit)
{
	struct kg_frame f;
	size_t n;

	n = nested(buf, KG_MAX_DEPTH);
	CHECK_EQ(walk(buf, n, NULL), 0);
	CHECK_EQ(skip(buf, n, NULL), 0);
	n = nested(buf, KG_MAX_DEPTH + 1);
	CHECK_EQ(walk(buf, n, NULL), -EMSGSIZE);
	CHECK_EQ(skip(buf, n, NULL), -EMSGSIZE);
	n = nested(buf, 1000);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, CP, NULL, buf, n, &f), -EMSGSIZE);
}

KT_TEST(app_exception)
{
	struct kg_bytes method = { (const u8 *)"zz", 2 }, name, msg;
	struct kg_writer w;
	struct kg_reader r;
	u8 type;
	s32 seqid;
	u32 extype;

	kg_writer_init(&w, out, sizeof(out), CP);
	kg_write_app_exception(&w, method, 3, KG_APPEX_MISSING_RESULT, "none");
	CHECK_EQ(w.err, 0);
	rd(&r, out, w.len, NULL);
	CHECK_EQ(kg_read_message_begin(&r, &name, &type, &seqid), 0);
	CHECK(type == KG_MSG_EXCEPTION && seqid == 3 && name.len == 2);
	CHECK_EQ(kg_read_app_exception(&r, &extype, &msg), 0);
	CHECK(extype == KG_APPEX_MISSING_RESULT && msg.len == 4 && !memcmp(msg.data, "none", 4));
	CHECK_EQ(kg_reader_remaining(&r), 0);
}

KT_MAIN(KT_CASE(rich_roundtrip_and_every_prefix),
	KT_CASE(writer_count_and_sticky),
	KT_CASE(known_encodings),
	KT_CASE(bad_headers),
	KT_CASE(bad_varints_and_sizes),
	KT_CASE(invalid_types_and_field_ids),
	KT_CASE(bool_fields_and_skip),
	KT_CASE(depth_limit),
	KT_CASE(app_exception))
