// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the protocol reader/writer (runtime/core/proto*.c). */
#include "kgen/proto.h"
#include "kt.h"
#include "walk.h"
#include "msgs.h"

static u8 buf[4096], out[4096];
static u64 arena_mem[4096 / 8];
static struct kg_arena arena;

static void rd(struct kg_reader *r, const void *p, size_t n, const struct kg_limits *l)
{
	kg_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kg_reader_init(r, p, n, KG_PROTO_BINARY, &arena, l);
}

/* Walk (typed decode) a message; returns the error, sets *used. */
static int walk(const u8 *p, size_t n, const struct kg_limits *l, size_t *used)
{
	struct kg_reader r;
	int err;

	rd(&r, p, n, l);
	err = kt_walk_message(&r, NULL, NULL);
	if (used)
		*used = kg_reader_offset(&r);
	return err;
}

/* Skip-parse a message with kg_skip(). */
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
	if (!err && r.depth != 0)
		err = -EINVAL;
	return err;
}

KT_TEST(rich_roundtrip_bytes_equal)
{
	struct kg_reader r;
	struct kg_writer w;
	size_t n;
	int seed;

	for (seed = 0; seed < 8; seed++) {
		n = kt_rich(buf, sizeof(buf), seed);
		CHECK(n > 100);
		rd(&r, buf, n, NULL);
		kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
		CHECK_EQ(kt_walk_message(&r, &w, NULL), 0);
		CHECK_EQ(kg_reader_remaining(&r), 0);
		CHECK_EQ(r.depth, 0);
		CHECK_EQ(w.err, 0);
		CHECK_EQ(w.len, n);
		CHECK_MEM(out, buf, n);
		CHECK_EQ(skip(buf, n, NULL), 0);
	}
}

KT_TEST(count_mode_matches_real_write)
{
	struct kg_writer w;
	size_t n = kt_rich(buf, sizeof(buf), 3);

	kg_writer_init_count(&w, KG_PROTO_BINARY);
	kt_write_rich_message(&w, 3);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, n);
}

KT_TEST(writer_sticky_error_at_every_capacity)
{
	struct kg_writer w;
	size_t n = kt_rich(buf, sizeof(buf), 5), cap;

	for (cap = 0; cap <= n; cap++) {
		memset(out, 0xee, sizeof(out));
		kg_writer_init(&w, out, cap, KG_PROTO_BINARY);
		kt_write_rich_message(&w, 5);
		CHECK_EQ_AT(w.len, n, cap);	/* keeps counting */
		CHECK_EQ_AT(w.err, cap < n ? -EMSGSIZE : 0, cap);
		/* Nothing is written past the capacity. */
		CHECK_EQ_AT(out[cap], 0xee, cap);
	}
}

KT_TEST(truncation_at_every_offset_is_enodata)
{
	size_t n = kt_rich(buf, sizeof(buf), 7), len, used;

	for (len = 0; len < n; len++) {
		CHECK_EQ_AT(walk(buf, len, NULL, &used), -ENODATA, len);
		CHECK_EQ_AT(skip(buf, len, NULL), -ENODATA, len);
		CHECK(used <= len);
	}
	CHECK_EQ(walk(buf, n, NULL, &used), 0);
	CHECK_EQ(used, n);
}

KT_TEST(old_style_header_accepted)
{
	struct kg_reader r;
	struct kg_writer w;
	struct kg_bytes name;
	size_t n = kt_rich(buf, sizeof(buf), 2), hlen = 4 + 4 + 4 + 4;
	u8 old[4096];
	u8 type;
	s32 seqid;

	/* name length, name, type byte, seqid: then the same body. */
	kg_put_be32(old, 4);
	memcpy(old + 4, "echo", 4);
	old[8] = KG_MSG_ONEWAY;
	kg_put_be32(old + 9, 2);
	memcpy(old + 13, buf + hlen, n - hlen);
	rd(&r, old, n - 3, NULL);
	CHECK_EQ(kg_read_message_begin(&r, &name, &type, &seqid), 0);
	CHECK_EQ(name.len, 4);
	CHECK_MEM(name.data, "echo", 4);
	CHECK(name.data == old + 4);	/* zero copy */
	CHECK_EQ(type, KG_MSG_ONEWAY);
	CHECK_EQ(seqid, 2);
	/* The re-encoded message is the strict one. */
	old[8] = KG_MSG_CALL;
	rd(&r, old, n - 3, NULL);
	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	CHECK_EQ(kt_walk_message(&r, &w, NULL), 0);
	CHECK_EQ(w.len, n);
	CHECK_MEM(out, buf, n);
}

static int read_header(const u8 *p, size_t n)
{
	struct kg_reader r;
	struct kg_bytes name;
	u8 type;
	s32 seqid;

	rd(&r, p, n, NULL);
	return kg_read_message_begin(&r, &name, &type, &seqid);
}

KT_TEST(bad_versions_and_types)
{
	u8 m[16] = { 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'x', 0, 0, 0, 1 };
	unsigned int t;

	CHECK_EQ(read_header(m, 13), 0);
	m[1] = 0x02;			/* version 2 */
	CHECK_EQ(read_header(m, 13), -EBADMSG);
	CHECK_EQ(read_header(m, 4), -EBADMSG);	/* known from 4 bytes */
	m[0] = 0xff;
	m[1] = 0xff;
	CHECK_EQ(read_header(m, 13), -EBADMSG);
	m[0] = 0x80;
	m[1] = 0x01;
	for (t = 0; t < 256; t++) {
		m[3] = (u8)t;
		CHECK_EQ_AT(read_header(m, 13), t >= 1 && t <= 4 ? 0 : -EBADMSG, t);
	}
	/* Old style with a bad type byte. */
	{
		u8 o[] = { 0, 0, 0, 1, 'x', 9, 0, 0, 0, 1 };

		CHECK_EQ(read_header(o, sizeof(o)), -EBADMSG);
		o[5] = KG_MSG_REPLY;
		CHECK_EQ(read_header(o, sizeof(o)), 0);
	}
}

KT_TEST(negative_lengths_are_ebadmsg)
{
	struct kg_reader r;
	struct kg_bytes s;
	u8 et, vt;
	u32 n;
	u8 str[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	u8 lst[] = { KG_T_I32, 0x80, 0, 0, 0 };
	u8 map[] = { KG_T_I32, KG_T_I32, 0xff, 0xff, 0xff, 0xfe };
	u8 hdr[] = { 0x80, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff };

	rd(&r, str, sizeof(str), NULL);
	CHECK_EQ(kg_read_string(&r, &s), -EBADMSG);
	rd(&r, lst, sizeof(lst), NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -EBADMSG);
	rd(&r, lst, sizeof(lst), NULL);
	CHECK_EQ(kg_read_set_begin(&r, &et, &n), -EBADMSG);
	rd(&r, map, sizeof(map), NULL);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -EBADMSG);
	CHECK_EQ(read_header(hdr, sizeof(hdr)), -EBADMSG);
	rd(&r, lst, sizeof(lst), NULL);
	CHECK_EQ(kg_skip(&r, KG_T_LIST), -EBADMSG);
	/* -1, the smallest negative, for each kind of length. */
	kg_put_be32(lst + 1, 0xffffffff);
	rd(&r, lst, sizeof(lst), NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -EBADMSG);
	kg_put_be32(map + 2, 0xffffffff);
	rd(&r, map, sizeof(map), NULL);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -EBADMSG);
	kg_put_be32(hdr + 4, 0xffffffff);
	CHECK_EQ(read_header(hdr, sizeof(hdr)), -EBADMSG);
	kg_put_be32(str, 0x80000000);
	rd(&r, str, sizeof(str), NULL);
	CHECK_EQ(kg_read_binary(&r, &s), -EBADMSG);
}

KT_TEST(container_counts_checked)
{
	struct kg_limits l = kg_default_limits;
	struct kg_reader r;
	u8 m[64] = { 0 };
	u8 et, vt;
	u32 n;

	l.max_container = 10;
	/* list<i32> of 11: over the limit, whatever follows. */
	m[0] = KG_T_I32;
	kg_put_be32(m + 1, 11);
	rd(&r, m, sizeof(m), &l);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -EMSGSIZE);
	/* 10 elements of 4 bytes need 40 bytes after the header. */
	kg_put_be32(m + 1, 10);
	rd(&r, m, 5 + 40, &l);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), 0);
	CHECK_EQ(n, 10);
	rd(&r, m, 5 + 39, &l);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -ENODATA);
	/* Huge counts under the default limit still cannot outrun the input. */
	kg_put_be32(m + 1, 0x7fffffff);
	rd(&r, m, sizeof(m), NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -EMSGSIZE);
	kg_put_be32(m + 1, 1u << 20);
	rd(&r, m, sizeof(m), NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -ENODATA);
	/* Struct elements need at least their STOP byte. */
	m[0] = KG_T_STRUCT;
	kg_put_be32(m + 1, 3);
	rd(&r, m, 5 + 3, NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), 0);
	rd(&r, m, 5 + 2, NULL);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), -ENODATA);
	/* map<i64, uuid>: 24 bytes a pair. */
	m[0] = KG_T_I64;
	m[1] = KG_T_UUID;
	kg_put_be32(m + 2, 2);
	rd(&r, m, 6 + 48, &l);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), 0);
	rd(&r, m, 6 + 47, &l);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -ENODATA);
	kg_put_be32(m + 2, 11);
	rd(&r, m, sizeof(m), &l);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -EMSGSIZE);
}

static const u8 invalid_types[] = { 1, 5, 7, 9, 17, 18, 31, 32, 100, 255 };

KT_TEST(invalid_type_ids_refused)
{
	struct kg_reader r;
	u8 m[16] = { 0 };
	u8 t, et, vt;
	s16 id;
	u32 n;
	size_t i;

	for (i = 0; i < sizeof(invalid_types); i++) {
		u8 bad = invalid_types[i];

		m[0] = bad;
		m[2] = 1;
		rd(&r, m, sizeof(m), NULL);
		CHECK_EQ_AT(kg_read_field_begin(&r, &t, &id), -EBADMSG, bad);
		rd(&r, m, sizeof(m), NULL);
		CHECK_EQ_AT(kg_skip(&r, bad), -EBADMSG, bad);
		/* list<bad> with one element */
		m[0] = bad;
		kg_put_be32(m + 1, 1);
		rd(&r, m, sizeof(m), NULL);
		CHECK_EQ_AT(kg_read_list_begin(&r, &et, &n), -EBADMSG, bad);
		/* map<i32, bad> and map<bad, i32> */
		m[0] = KG_T_I32;
		m[1] = bad;
		kg_put_be32(m + 2, 1);
		rd(&r, m, sizeof(m), NULL);
		CHECK_EQ_AT(kg_read_map_begin(&r, &et, &vt, &n), -EBADMSG, bad);
		m[0] = bad;
		m[1] = KG_T_I32;
		rd(&r, m, sizeof(m), NULL);
		CHECK_EQ_AT(kg_read_map_begin(&r, &et, &vt, &n), -EBADMSG, bad);
		memset(m, 0, sizeof(m));
	}
	/* STOP is not a value type either. */
	rd(&r, m, sizeof(m), NULL);
	CHECK_EQ(kg_skip(&r, KG_T_STOP), -EBADMSG);
	/* Inside a message, an invalid field type deep down is found by skip. */
	{
		size_t len = kt_rich(buf, sizeof(buf), 1), j, hits = 0;

		for (j = 0; j < len; j++) {
			u8 save = buf[j];

			/* Replace each field-type byte (followed by a field id) in turn. */
			if (save != KG_T_I32 && save != KG_T_MAP)
				continue;
			buf[j] = 7;
			if (walk(buf, len, NULL, NULL) == -EBADMSG) {
				CHECK_EQ_AT(skip(buf, len, NULL), -EBADMSG, j);
				hits++;
			}
			buf[j] = save;
		}
		CHECK(hits >= 5);
	}
}

KT_TEST(depth_limit_structs)
{
	struct kg_limits l = kg_default_limits;
	size_t n;

	n = kt_nested(buf, sizeof(buf), KG_MAX_DEPTH, KG_T_STRUCT);
	CHECK_EQ(walk(buf, n, NULL, NULL), 0);
	CHECK_EQ(skip(buf, n, NULL), 0);
	n = kt_nested(buf, sizeof(buf), KG_MAX_DEPTH + 1, KG_T_STRUCT);
	CHECK_EQ(walk(buf, n, NULL, NULL), -EMSGSIZE);
	CHECK_EQ(skip(buf, n, NULL), -EMSGSIZE);
	n = kt_nested(buf, sizeof(buf), 300, KG_T_STRUCT);
	CHECK_EQ(skip(buf, n, NULL), -EMSGSIZE);
	/* A lower configured limit; and a higher one is capped at KG_MAX_DEPTH. */
	l.max_depth = 3;
	n = kt_nested(buf, sizeof(buf), 3, KG_T_STRUCT);
	CHECK_EQ(skip(buf, n, &l), 0);
	n = kt_nested(buf, sizeof(buf), 4, KG_T_STRUCT);
	CHECK_EQ(skip(buf, n, &l), -EMSGSIZE);
	CHECK_EQ(walk(buf, n, &l, NULL), -EMSGSIZE);
	l.max_depth = 1000;
	n = kt_nested(buf, sizeof(buf), KG_MAX_DEPTH + 1, KG_T_STRUCT);
	CHECK_EQ(skip(buf, n, &l), -EMSGSIZE);
}

KT_TEST(depth_limit_containers)
{
	size_t n;

	/* k structs with k - 1 lists between them: depth 2k - 1. */
	n = kt_nested(buf, sizeof(buf), (KG_MAX_DEPTH + 1) / 2, KG_T_LIST);
	CHECK_EQ(walk(buf, n, NULL, NULL), 0);
	CHECK_EQ(skip(buf, n, NULL), 0);
	n = kt_nested(buf, sizeof(buf), (KG_MAX_DEPTH + 1) / 2 + 1, KG_T_LIST);
	CHECK_EQ(walk(buf, n, NULL, NULL), -EMSGSIZE);
	CHECK_EQ(skip(buf, n, NULL), -EMSGSIZE);
	n = kt_nested(buf, sizeof(buf), 400, KG_T_LIST);
	CHECK_EQ(skip(buf, n, NULL), -EMSGSIZE);
}

KT_TEST(depth_limit_on_container_enter)
{
	struct kg_limits l = kg_default_limits;
	struct kg_reader r;
	u8 m[64] = { 0 };
	u8 et, vt;
	u32 n;

	/* Headers of empty containers: only the depth can refuse them. */
	m[0] = KG_T_I32;
	l.max_depth = 2;
	rd(&r, m, sizeof(m), &l);
	CHECK_EQ(kg_read_struct_begin(&r), 0);
	CHECK_EQ(kg_read_list_begin(&r, &et, &n), 0);
	CHECK_EQ(r.depth, 2);
	CHECK_EQ(kg_read_set_begin(&r, &et, &n), -EMSGSIZE);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), -EMSGSIZE);
	CHECK_EQ(kg_read_list_end(&r), 0);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &n), 0);
	CHECK_EQ(kg_read_map_end(&r), 0);
	CHECK_EQ(kg_read_set_begin(&r, &et, &n), 0);
	CHECK_EQ(kg_read_set_end(&r), 0);
	CHECK_EQ(kg_read_struct_end(&r), 0);
	CHECK_EQ(r.depth, 0);
	/* list<list<list<...>>> one element each, deeper than the limit. */
	{
		size_t i, len = 0;
		u8 deep[6 * 70];

		for (i = 0; i < 70; i++) {
			deep[len++] = KG_T_LIST;
			kg_put_be32(deep + len, 1);
			len += 4;
		}
		rd(&r, deep, len, NULL);
		CHECK_EQ(kg_skip(&r, KG_T_LIST), -EMSGSIZE);
		CHECK_EQ(r.depth, KG_MAX_DEPTH);
	}
	/* kg_read_app_exception() enters a struct too. */
	{
		struct kg_bytes msg;
		u32 t;

		l.max_depth = 0;
		rd(&r, m, sizeof(m), &l);
		CHECK_EQ(kg_read_app_exception(&r, &t, &msg), -EMSGSIZE);
	}
}

KT_TEST(struct_depth_bookkeeping)
{
	struct kg_reader r;
	struct kg_writer w;
	u8 m[] = { KG_T_STOP };
	int i;

	rd(&r, m, sizeof(m), NULL);
	for (i = 0; i < KG_MAX_DEPTH; i++)
		CHECK_EQ(kg_read_struct_begin(&r), 0);
	CHECK_EQ(r.depth, KG_MAX_DEPTH);
	CHECK_EQ(kg_read_struct_begin(&r), -EMSGSIZE);
	for (i = 0; i < KG_MAX_DEPTH; i++)
		CHECK_EQ(kg_read_struct_end(&r), 0);
	CHECK_EQ(r.depth, 0);
	CHECK_EQ(kg_read_struct_end(&r), 0);	/* unbalanced: stays 0 */
	CHECK_EQ(r.depth, 0);
	kg_writer_init_count(&w, KG_PROTO_BINARY);
	for (i = 0; i < KG_MAX_DEPTH; i++)
		kg_write_struct_begin(&w);
	CHECK_EQ(w.err, 0);
	kg_write_struct_begin(&w);
	CHECK_EQ(w.err, -EMSGSIZE);
}

KT_TEST(string_limits_and_zero_copy)
{
	struct kg_limits l = kg_default_limits;
	struct kg_reader r;
	struct kg_bytes s;
	u8 m[4 + 10];

	memset(m, 'z', sizeof(m));
	kg_put_be32(m, 10);
	l.max_string = 10;
	rd(&r, m, sizeof(m), &l);
	CHECK_EQ(kg_read_string(&r, &s), 0);
	CHECK(s.data == m + 4);
	CHECK_EQ(s.len, 10);
	l.max_string = 9;
	rd(&r, m, sizeof(m), &l);
	CHECK_EQ(kg_read_binary(&r, &s), -EMSGSIZE);
	/* Over the limit is refused before waiting for the bytes. */
	kg_put_be32(m, 1000);
	rd(&r, m, 4, &l);
	CHECK_EQ(kg_read_binary(&r, &s), -EMSGSIZE);
	kg_put_be32(m, 0x7fffffff);
	rd(&r, m, sizeof(m), NULL);
	CHECK_EQ(kg_read_binary(&r, &s), -EMSGSIZE);
	/* Method names obey max_string too. */
	{
		u8 h[] = { 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 20 };

		rd(&r, h, sizeof(h), &l);
		CHECK_EQ(read_header(h, sizeof(h)), -ENODATA);
		kg_reader_init(&r, h, sizeof(h), KG_PROTO_BINARY, NULL, &l);
		{
			struct kg_bytes name;
			u8 type;
			s32 seq;

			CHECK_EQ(kg_read_message_begin(&r, &name, &type, &seq), -EMSGSIZE);
		}
	}
}

KT_TEST(base_types_extremes)
{
	struct kg_writer w;
	struct kg_reader r;
	bool b;
	s8 i8;
	s16 i16;
	s32 i32;
	s64 i64;
	u64 d;
	u8 u[16];
	static const u8 expect[] = {
		1, 0, 0x80, 0x7f, 0xff,
		0x80, 0x00, 0x7f, 0xff,
		0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
		0x80, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xf0, 0, 0, 0, 0, 0, 0,
	};

	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	kg_write_bool(&w, true);
	kg_write_bool(&w, false);
	kg_write_byte(&w, S8_MIN);
	kg_write_byte(&w, S8_MAX);
	kg_write_byte(&w, -1);
	kg_write_i16(&w, S16_MIN);
	kg_write_i16(&w, S16_MAX);
	kg_write_i32(&w, S32_MIN);
	kg_write_i32(&w, -1);
	kg_write_i64(&w, S64_MIN);
	kg_write_i64(&w, S64_MAX);
	kg_write_double(&w, 0xfff0000000000000ULL);	/* -inf */
	kg_write_uuid(&w, kt_uuid);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, sizeof(expect) + 16);
	CHECK_MEM(out, expect, sizeof(expect));
	CHECK_MEM(out + sizeof(expect), kt_uuid, 16);

	rd(&r, out, w.len, NULL);
	CHECK(!kg_read_bool(&r, &b) && b);
	CHECK(!kg_read_bool(&r, &b) && !b);
	CHECK(!kg_read_byte(&r, &i8) && i8 == S8_MIN);
	CHECK(!kg_read_byte(&r, &i8) && i8 == S8_MAX);
	CHECK(!kg_read_byte(&r, &i8) && i8 == -1);
	CHECK(!kg_read_i16(&r, &i16) && i16 == S16_MIN);
	CHECK(!kg_read_i16(&r, &i16) && i16 == S16_MAX);
	CHECK(!kg_read_i32(&r, &i32) && i32 == S32_MIN);
	CHECK(!kg_read_i32(&r, &i32) && i32 == -1);
	CHECK(!kg_read_i64(&r, &i64) && i64 == S64_MIN);
	CHECK(!kg_read_i64(&r, &i64) && i64 == S64_MAX);
	CHECK(!kg_read_double(&r, &d) && d == 0xfff0000000000000ULL);
	CHECK(!kg_read_uuid(&r, u));
	CHECK_MEM(u, kt_uuid, 16);
	CHECK_EQ(kg_reader_remaining(&r), 0);
	CHECK_EQ(kg_read_bool(&r, &b), -ENODATA);
	CHECK_EQ(kg_read_uuid(&r, u), -ENODATA);

	/* Any non-zero byte reads as true, as Apache does. */
	out[0] = 2;
	rd(&r, out, 1, NULL);
	CHECK(!kg_read_bool(&r, &b) && b);
}

KT_TEST(field_headers)
{
	struct kg_writer w;
	struct kg_reader r;
	u8 t;
	s16 id;

	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	kg_write_field_begin(&w, KG_T_I64, -32768);
	kg_write_field_stop(&w);
	CHECK_EQ(w.len, 4);
	CHECK_EQ(out[0], KG_T_I64);
	CHECK_EQ(out[1], 0x80);
	CHECK_EQ(out[2], 0x00);
	CHECK_EQ(out[3], 0);
	rd(&r, out, 4, NULL);
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_I64 && id == -32768);
	id = 99;
	CHECK(!kg_read_field_begin(&r, &t, &id) && t == KG_T_STOP && id == 0);
	/* A field header cut after its type byte. */
	rd(&r, out, 2, NULL);
	CHECK_EQ(kg_read_field_begin(&r, &t, &id), -ENODATA);
}

KT_TEST(read_alloc_arena)
{
	struct kg_reader r;
	u8 small[64];
	struct kg_arena a;
	u8 m[1] = { 0 };
	void *p;

	kg_arena_init(&a, small, sizeof(small));
	kg_reader_init(&r, m, 1, KG_PROTO_BINARY, &a, NULL);
	p = kg_read_alloc(&r, 4, 8);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p % 8, 0);
	CHECK(kg_read_alloc(&r, 100, 1) == NULL);		/* exhausted */
	CHECK(kg_read_alloc(&r, 0xffffffffu, SIZE_MAX / 2) == NULL);	/* overflow */
	CHECK(kg_read_alloc(&r, 0, 16) != NULL);		/* empty is fine */
	kg_reader_init(&r, m, 1, KG_PROTO_BINARY, NULL, NULL);
	CHECK(kg_read_alloc(&r, 1, 1) == NULL);			/* no arena */
}

KT_TEST(walk_with_small_arena_is_enomem)
{
	struct kg_reader r;
	struct kg_arena a;
	u8 small[32];
	size_t n = kt_rich(buf, sizeof(buf), 4);

	kg_arena_init(&a, small, sizeof(small));
	kg_reader_init(&r, buf, n, KG_PROTO_BINARY, &a, NULL);
	CHECK_EQ(kt_walk_message(&r, NULL, NULL), -ENOMEM);
	CHECK(a.failures >= 1);
}

KT_TEST(skip_every_type)
{
	struct kg_writer w;
	struct kg_reader r;
	size_t n;

	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	kg_write_bool(&w, 1);
	kg_write_byte(&w, 1);
	kg_write_i16(&w, 1);
	kg_write_i32(&w, 1);
	kg_write_i64(&w, 1);
	kg_write_double(&w, 1);
	kg_write_string(&w, "abc", 3);
	kg_write_uuid(&w, kt_uuid);
	kt_write_rich_struct(&w, 9);
	kg_write_list_begin(&w, KG_T_LIST, 1);
	kg_write_list_begin(&w, KG_T_I16, 2);
	kg_write_i16(&w, 1);
	kg_write_i16(&w, 2);
	kg_write_set_begin(&w, KG_T_DOUBLE, 0);
	kg_write_map_begin(&w, KG_T_STRING, KG_T_STRUCT, 1);
	kg_write_string(&w, "k", 1);
	kg_write_field_stop(&w);
	n = w.len;
	CHECK_EQ(w.err, 0);
	rd(&r, out, n, NULL);
	CHECK_EQ(kg_skip(&r, KG_T_BOOL), 0);
	CHECK_EQ(kg_reader_offset(&r), 1);
	CHECK_EQ(kg_skip(&r, KG_T_BYTE), 0);
	CHECK_EQ(kg_skip(&r, KG_T_I16), 0);
	CHECK_EQ(kg_skip(&r, KG_T_I32), 0);
	CHECK_EQ(kg_skip(&r, KG_T_I64), 0);
	CHECK_EQ(kg_skip(&r, KG_T_DOUBLE), 0);
	CHECK_EQ(kg_reader_offset(&r), 24);
	CHECK_EQ(kg_skip(&r, KG_T_STRING), 0);
	CHECK_EQ(kg_skip(&r, KG_T_UUID), 0);
	CHECK_EQ(kg_reader_offset(&r), 24 + 7 + 16);
	CHECK_EQ(kg_skip(&r, KG_T_STRUCT), 0);
	CHECK_EQ(kg_skip(&r, KG_T_LIST), 0);
	CHECK_EQ(kg_skip(&r, KG_T_SET), 0);
	CHECK_EQ(kg_skip(&r, KG_T_MAP), 0);
	CHECK_EQ(kg_reader_remaining(&r), 0);
	CHECK_EQ(r.depth, 0);
}

KT_TEST(app_exception_roundtrip)
{
	struct kg_writer w;
	struct kg_reader r;
	struct kg_bytes name, msg, method = { (const u8 *)"doit", 4 };
	u8 type;
	s32 seqid;
	u32 extype;

	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	kg_write_app_exception(&w, method, 77, KG_APPEX_UNKNOWN_METHOD, "no such method");
	CHECK_EQ(w.err, 0);
	rd(&r, out, w.len, NULL);
	CHECK_EQ(kg_read_message_begin(&r, &name, &type, &seqid), 0);
	CHECK_EQ(type, KG_MSG_EXCEPTION);
	CHECK_EQ(seqid, 77);
	CHECK(name.len == 4 && !memcmp(name.data, "doit", 4));
	CHECK_EQ(kg_read_app_exception(&r, &extype, &msg), 0);
	CHECK_EQ(extype, KG_APPEX_UNKNOWN_METHOD);
	CHECK(msg.len == 14 && !memcmp(msg.data, "no such method", 14));
	CHECK_EQ(kg_read_message_end(&r), 0);
	CHECK_EQ(kg_reader_remaining(&r), 0);
	CHECK_EQ(r.depth, 0);
	/* Without a message; and truncated at every offset. */
	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	kg_write_app_exception(&w, method, 1, KG_APPEX_INTERNAL_ERROR, NULL);
	{
		size_t len, n = w.len;

		for (len = 0; len <= n; len++) {
			int err;

			rd(&r, out, len, NULL);
			err = kg_read_message_begin(&r, &name, &type, &seqid);
			if (!err)
				err = kg_read_app_exception(&r, &extype, &msg);
			CHECK_EQ_AT(err, len < n ? -ENODATA : 0, len);
		}
		CHECK_EQ(extype, KG_APPEX_INTERNAL_ERROR);
		CHECK_EQ(msg.len, 0);
	}
	/* Unknown fields are skipped; wrong-typed known ones too. */
	kg_writer_init(&w, out, sizeof(out), KG_PROTO_BINARY);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_LIST, 9);
	kg_write_list_begin(&w, KG_T_I64, 1);
	kg_write_i64(&w, 5);
	kg_write_field_begin(&w, KG_T_I64, 1);
	kg_write_i64(&w, 5);
	kg_write_field_begin(&w, KG_T_I32, 2);
	kg_write_i32(&w, 7);
	kg_write_field_stop(&w);
	rd(&r, out, w.len, NULL);
	CHECK_EQ(kg_read_app_exception(&r, &extype, &msg), 0);
	CHECK_EQ(extype, 7);
	CHECK(msg.data == NULL && msg.len == 0);
}

KT_TEST(unknown_protocol_refused)
{
	struct kg_reader r;
	struct kg_writer w;
	struct kg_bytes name;
	u8 type;
	s32 seqid;
	size_t n = kt_rich(buf, sizeof(buf), 1);

	static const u8 types[] = {
		KG_T_BOOL, KG_T_BYTE, KG_T_I16, KG_T_I32, KG_T_I64, KG_T_DOUBLE,
		KG_T_STRING, KG_T_UUID, KG_T_STRUCT, KG_T_LIST, KG_T_SET, KG_T_MAP,
	};
	struct kg_bytes s;
	size_t i;
	u8 et, vt;
	u32 cnt;
	s16 id;

	kg_reader_init(&r, buf, n, 7, NULL, NULL);
	CHECK_EQ(kg_read_message_begin(&r, &name, &type, &seqid), -EPROTONOSUPPORT);
	CHECK_EQ(kg_read_field_begin(&r, &type, &id), -EPROTONOSUPPORT);
	CHECK_EQ(kg_read_list_begin(&r, &et, &cnt), -EPROTONOSUPPORT);
	CHECK_EQ(kg_read_map_begin(&r, &et, &vt, &cnt), -EPROTONOSUPPORT);
	CHECK_EQ(kg_read_string(&r, &s), -EPROTONOSUPPORT);
	for (i = 0; i < sizeof(types); i++) {
		r.depth = 0;
		CHECK_EQ_AT(kg_skip(&r, types[i]), -EPROTONOSUPPORT, types[i]);
	}
	/* Every writer entry point sets the sticky error. */
#define W7(call) do { \
		kg_writer_init(&w, out, sizeof(out), 7); \
		call; \
		CHECK_EQ(w.err, -EPROTONOSUPPORT); \
		CHECK_EQ(w.len, 0); \
	} while (0)
	W7(kg_write_message_begin(&w, "a", 1, KG_MSG_CALL, 1));
	W7(kg_write_field_begin(&w, KG_T_I32, 1));
	W7(kg_write_field_stop(&w));
	W7(kg_write_list_begin(&w, KG_T_I32, 1));
	W7(kg_write_set_begin(&w, KG_T_I32, 1));
	W7(kg_write_map_begin(&w, KG_T_I32, KG_T_I32, 1));
	W7(kg_write_bool(&w, 1));
	W7(kg_write_byte(&w, 1));
	W7(kg_write_i16(&w, 1));
	W7(kg_write_i32(&w, 1));
	W7(kg_write_i64(&w, 1));
	W7(kg_write_double(&w, 1));
	W7(kg_write_string(&w, "a", 1));
	W7(kg_write_uuid(&w, kt_uuid));
#undef W7
}

KT_TEST(writer_refuses_unencodable_lengths)
{
	struct kg_writer w;

	kg_writer_init_count(&w, KG_PROTO_BINARY);
	kg_write_binary(&w, NULL, 0x80000000u);
	CHECK_EQ(w.err, -EMSGSIZE);
	kg_writer_init_count(&w, KG_PROTO_BINARY);
	kg_write_list_begin(&w, KG_T_I32, 0x80000000u);
	CHECK_EQ(w.err, -EMSGSIZE);
	kg_writer_init_count(&w, KG_PROTO_BINARY);
	kg_write_map_begin(&w, KG_T_I32, KG_T_I32, 0xffffffffu);
	CHECK_EQ(w.err, -EMSGSIZE);
}

KT_TEST(default_limits)
{
	CHECK_EQ(kg_default_limits.max_frame, 16384000);
	CHECK_EQ(kg_default_limits.max_depth, KG_MAX_DEPTH);
	CHECK(kg_default_limits.max_string <= kg_default_limits.max_frame);
	CHECK(kg_default_limits.max_container > 0);
	CHECK(kg_default_limits.arena_size > 0);
}

KT_MAIN(KT_CASE(rich_roundtrip_bytes_equal),
	KT_CASE(count_mode_matches_real_write),
	KT_CASE(writer_sticky_error_at_every_capacity),
	KT_CASE(truncation_at_every_offset_is_enodata),
	KT_CASE(old_style_header_accepted),
	KT_CASE(bad_versions_and_types),
	KT_CASE(negative_lengths_are_ebadmsg),
	KT_CASE(container_counts_checked),
	KT_CASE(invalid_type_ids_refused),
	KT_CASE(depth_limit_structs),
	KT_CASE(depth_limit_containers),
	KT_CASE(depth_limit_on_container_enter),
	KT_CASE(struct_depth_bookkeeping),
	KT_CASE(string_limits_and_zero_copy),
	KT_CASE(base_types_extremes),
	KT_CASE(field_headers),
	KT_CASE(read_alloc_arena),
	KT_CASE(walk_with_small_arena_is_enomem),
	KT_CASE(skip_every_type),
	KT_CASE(app_exception_roundtrip),
	KT_CASE(unknown_protocol_refused),
	KT_CASE(writer_refuses_unencodable_lengths),
	KT_CASE(default_limits))
