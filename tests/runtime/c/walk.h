/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A generic, typed walk over a message with the reader API: every value is
 * read with its own kg_read_*() (not kg_skip()), optionally re-encoded with
 * the writer API and optionally dumped as canonical JSON. Containers take
 * count * 8 bytes from the arena, as generated decoders would.
 *
 * JSON shapes: bool true/false; integers as numbers; double {"d":"<16 hex>"};
 * string/binary {"s":"<hex>"}; uuid {"u":"<hex>"};
 * struct {"struct":[[id,type,value],...]}; list/set {"list"|"set":[etype,[...]]};
 * map {"map":[ktype,vtype,[[k,v],...]]}; message
 * {"name":"<hex>","type":T,"seqid":N,"body":<struct>}.
 */
#ifndef KT_WALK_H
#define KT_WALK_H

#include <stdio.h>
#include "kgen/proto.h"

static void kt_hex(FILE *f, const u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static int kt_walk_value(struct kg_reader *r, struct kg_writer *w, FILE *f, u8 t);

static int kt_walk_struct(struct kg_reader *r, struct kg_writer *w, FILE *f)
{
	bool first = true;
	u8 ft;
	s16 id;
	int err;

	err = kg_read_struct_begin(r);
	if (err)
		return err;
	if (w)
		kg_write_struct_begin(w);
	if (f)
		fprintf(f, "{\"struct\":[");
	for (;;) {
		err = kg_read_field_begin(r, &ft, &id);
		if (err)
			return err;
		if (ft == KG_T_STOP)
			break;
		if (w)
			kg_write_field_begin(w, ft, id);
		if (f)
			fprintf(f, "%s[%d,%u,", first ? "" : ",", id, ft);
		first = false;
		err = kt_walk_value(r, w, f, ft);
		if (err)
			return err;
		if (f)
			fprintf(f, "]");
		kg_read_field_end(r);
		if (w)
			kg_write_field_end(w);
	}
	if (w) {
		kg_write_field_stop(w);
		kg_write_struct_end(w);
	}
	if (f)
		fprintf(f, "]}");
	return kg_read_struct_end(r);
}

static int kt_walk_value(struct kg_reader *r, struct kg_writer *w, FILE *f, u8 t)
{
	union {
		bool b;
		s8 i8;
		s16 i16;
		s32 i32;
		s64 i64;
		u64 bits;
		struct kg_bytes s;
		u8 uuid[16];
	} v;
	u8 et, vt;
	u32 n, i;
	int err;

	switch (t) {
	case KG_T_BOOL:
		err = kg_read_bool(r, &v.b);
		if (err)
			return err;
		if (w)
			kg_write_bool(w, v.b);
		if (f)
			fprintf(f, v.b ? "true" : "false");
		return 0;
	case KG_T_BYTE:
		err = kg_read_byte(r, &v.i8);
		if (err)
			return err;
		if (w)
			kg_write_byte(w, v.i8);
		if (f)
			fprintf(f, "%d", v.i8);
		return 0;
	case KG_T_I16:
		err = kg_read_i16(r, &v.i16);
		if (err)
			return err;
		if (w)
			kg_write_i16(w, v.i16);
		if (f)
			fprintf(f, "%d", v.i16);
		return 0;
	case KG_T_I32:
		err = kg_read_i32(r, &v.i32);
		if (err)
			return err;
		if (w)
			kg_write_i32(w, v.i32);
		if (f)
			fprintf(f, "%d", v.i32);
		return 0;
	case KG_T_I64:
		err = kg_read_i64(r, &v.i64);
		if (err)
			return err;
		if (w)
			kg_write_i64(w, v.i64);
		if (f)
			fprintf(f, "%lld", (long long)v.i64);
		return 0;
	case KG_T_DOUBLE:
		err = kg_read_double(r, &v.bits);
		if (err)
			return err;
		if (w)
			kg_write_double(w, v.bits);
		if (f)
			fprintf(f, "{\"d\":\"%016llx\"}", (unsigned long long)v.bits);
		return 0;
	case KG_T_STRING:
		err = kg_read_binary(r, &v.s);
		if (err)
			return err;
		/* Zero copy: the view must lie inside the input. */
		if (v.s.len && (v.s.data < r->start || v.s.data + v.s.len > r->end))
			return -EFAULT;
		if (w)
			kg_write_bytes(w, v.s);
		if (f) {
			fprintf(f, "{\"s\":\"");
			kt_hex(f, v.s.data, v.s.len);
			fprintf(f, "\"}");
		}
		return 0;
	case KG_T_UUID:
		err = kg_read_uuid(r, v.uuid);
		if (err)
			return err;
		if (w)
			kg_write_uuid(w, v.uuid);
		if (f) {
			fprintf(f, "{\"u\":\"");
			kt_hex(f, v.uuid, 16);
			fprintf(f, "\"}");
		}
		return 0;
	case KG_T_STRUCT:
		return kt_walk_struct(r, w, f);
	case KG_T_LIST:
	case KG_T_SET:
		err = t == KG_T_LIST ? kg_read_list_begin(r, &et, &n) :
				       kg_read_set_begin(r, &et, &n);
		if (err)
			return err;
		if (!kg_read_alloc(r, n, 8))
			return -ENOMEM;
		if (w) {
			if (t == KG_T_LIST)
				kg_write_list_begin(w, et, n);
			else
				kg_write_set_begin(w, et, n);
		}
		if (f)
			fprintf(f, "{\"%s\":[%u,[", t == KG_T_LIST ? "list" : "set", et);
		for (i = 0; i < n; i++) {
			if (f && i)
				fprintf(f, ",");
			err = kt_walk_value(r, w, f, et);
			if (err)
				return err;
		}
		if (f)
			fprintf(f, "]]}");
		if (w) {
			if (t == KG_T_LIST)
				kg_write_list_end(w);
			else
				kg_write_set_end(w);
		}
		return t == KG_T_LIST ? kg_read_list_end(r) : kg_read_set_end(r);
	case KG_T_MAP:
		err = kg_read_map_begin(r, &et, &vt, &n);
		if (err)
			return err;
		if (!kg_read_alloc(r, n, 8))
			return -ENOMEM;
		if (w)
			kg_write_map_begin(w, et, vt, n);
		if (f)
			fprintf(f, "{\"map\":[%u,%u,[", et, vt);
		for (i = 0; i < n; i++) {
			if (f)
				fprintf(f, "%s[", i ? "," : "");
			err = kt_walk_value(r, w, f, et);
			if (err)
				return err;
			if (f)
				fprintf(f, ",");
			err = kt_walk_value(r, w, f, vt);
			if (err)
				return err;
			if (f)
				fprintf(f, "]");
		}
		if (f)
			fprintf(f, "]]}");
		if (w)
			kg_write_map_end(w);
		return kg_read_map_end(r);
	default:
		/* The reader refuses bad ids before we get here. */
		return -EINVAL;
	}
}

/* Walk a whole message: header, argument/result struct, end. */
static inline int kt_walk_message(struct kg_reader *r, struct kg_writer *w, FILE *f)
{
	struct kg_bytes name;
	u8 type;
	s32 seqid;
	int err;

	err = kg_read_message_begin(r, &name, &type, &seqid);
	if (err)
		return err;
	if (w)
		kg_write_message_begin(w, (const char *)name.data, name.len, type, seqid);
	if (f) {
		fprintf(f, "{\"name\":\"");
		kt_hex(f, name.data, name.len);
		fprintf(f, "\",\"type\":%u,\"seqid\":%d,\"body\":", type, seqid);
	}
	err = kt_walk_struct(r, w, f);
	if (err)
		return err;
	if (f)
		fprintf(f, "}");
	if (w)
		kg_write_message_end(w);
	return kg_read_message_end(r);
}

#endif /* KT_WALK_H */
