/* SPDX-License-Identifier: GPL-2.0 */
/* Valid test messages built with the writer API. */
#ifndef KT_MSGS_H
#define KT_MSGS_H

#include "kgen/proto.h"

static const u8 kt_uuid[16] = {
	0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
	0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21,
};

/* A struct using every type, nested containers, empty ones, and @seed. */
static inline void kt_write_rich_struct(struct kg_writer *w, int seed)
{
	int i;

	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_BOOL, 1);
	kg_write_bool(w, seed & 1);
	kg_write_field_begin(w, KG_T_BYTE, 2);
	kg_write_byte(w, (s8)(-seed));
	kg_write_field_begin(w, KG_T_I16, 3);
	kg_write_i16(w, S16_MIN + seed);
	kg_write_field_begin(w, KG_T_I32, 4);
	kg_write_i32(w, S32_MAX - seed);
	kg_write_field_begin(w, KG_T_I64, 5);
	kg_write_i64(w, S64_MIN + seed);
	kg_write_field_begin(w, KG_T_DOUBLE, 6);
	kg_write_double(w, 0x400921fb54442d18ULL);	/* pi */
	kg_write_field_begin(w, KG_T_STRING, 7);
	kg_write_string(w, "hello, kernel", 13);
	kg_write_field_begin(w, KG_T_STRING, 8);
	kg_write_binary(w, "", 0);
	kg_write_field_begin(w, KG_T_UUID, 9);
	kg_write_uuid(w, kt_uuid);
	kg_write_field_begin(w, KG_T_STRUCT, 10);
	{
		kg_write_struct_begin(w);
		kg_write_field_begin(w, KG_T_I32, -1);
		kg_write_i32(w, seed);
		kg_write_field_stop(w);
		kg_write_struct_end(w);
	}
	kg_write_field_begin(w, KG_T_LIST, 11);
	kg_write_list_begin(w, KG_T_I32, 3);
	for (i = 0; i < 3; i++)
		kg_write_i32(w, i * seed);
	kg_write_list_end(w);
	kg_write_field_begin(w, KG_T_SET, 12);
	kg_write_set_begin(w, KG_T_STRING, 2);
	kg_write_string(w, "a", 1);
	kg_write_string(w, "bc", 2);
	kg_write_set_end(w);
	kg_write_field_begin(w, KG_T_MAP, 13);
	kg_write_map_begin(w, KG_T_I16, KG_T_LIST, 2);
	for (i = 0; i < 2; i++) {
		kg_write_i16(w, (s16)i);
		kg_write_list_begin(w, KG_T_BOOL, (u32)i);
		if (i)
			kg_write_bool(w, true);
		kg_write_list_end(w);
	}
	kg_write_map_end(w);
	kg_write_field_begin(w, KG_T_LIST, 14);
	kg_write_list_begin(w, KG_T_STRUCT, 2);
	for (i = 0; i < 2; i++) {
		kg_write_struct_begin(w);
		kg_write_field_begin(w, KG_T_MAP, 1);
		kg_write_map_begin(w, KG_T_STRING, KG_T_DOUBLE, 1);
		kg_write_string(w, "k", 1);
		kg_write_double(w, (u64)i);
		kg_write_map_end(w);
		kg_write_field_stop(w);
		kg_write_struct_end(w);
	}
	kg_write_list_end(w);
	kg_write_field_begin(w, KG_T_MAP, 15);
	kg_write_map_begin(w, KG_T_UUID, KG_T_SET, 0);	/* empty */
	kg_write_map_end(w);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
}

/* A CALL of "echo" whose argument struct holds the rich struct. */
static inline void kt_write_rich_message(struct kg_writer *w, int seed)
{
	kg_write_message_begin(w, "echo", 4, KG_MSG_CALL, seed);
	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_STRUCT, 1);
	kt_write_rich_struct(w, seed);
	kg_write_field_begin(w, KG_T_I32, 2);
	kg_write_i32(w, seed);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	kg_write_message_end(w);
}

/* Encode into @buf (which must be large enough); returns the length. */
static inline size_t kt_rich_p(u8 *buf, size_t cap, int seed, u8 proto)
{
	struct kg_writer w;

	kg_writer_init(&w, buf, cap, proto);
	kt_write_rich_message(&w, seed);
	return w.err ? 0 : w.len;
}

static inline size_t kt_rich(u8 *buf, size_t cap, int seed)
{
	return kt_rich_p(buf, cap, seed, KG_PROTO_BINARY);
}

/*
 * A message whose argument struct nests @levels structs in total (the
 * argument struct included), innermost empty: field 1 of each is the next.
 */
static inline size_t kt_nested(u8 *buf, size_t cap, int levels, u8 how)
{
	size_t n = 0;
	int i;

	/* Header by hand: the writer itself stops at KG_MAX_DEPTH. */
	const u8 hdr[] = { 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'f', 0, 0, 0, 9 };

	if (cap < sizeof(hdr) + (size_t)levels * 9)
		return 0;
	memcpy(buf, hdr, sizeof(hdr));
	n = sizeof(hdr);
	for (i = 1; i < levels; i++) {
		if (how == KG_T_STRUCT) {
			buf[n++] = KG_T_STRUCT;	/* field 1: struct */
			buf[n++] = 0;
			buf[n++] = 1;
		} else {
			/* field 1: list<struct> of one element */
			buf[n++] = KG_T_LIST;
			buf[n++] = 0;
			buf[n++] = 1;
			buf[n++] = KG_T_STRUCT;
			buf[n++] = 0;
			buf[n++] = 0;
			buf[n++] = 0;
			buf[n++] = 1;
		}
	}
	for (i = 0; i < levels; i++)
		buf[n++] = KG_T_STOP;
	return n;
}

#endif /* KT_MSGS_H */
