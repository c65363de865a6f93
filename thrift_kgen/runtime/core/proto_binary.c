// SPDX-License-Identifier: GPL-2.0
/*
 * Thrift BINARY protocol: fixed-width big-endian integers, i32 lengths.
 *
 * Only the wire format lives here. Depth, limits on containers, element type
 * checks and skipping are protocol-independent and live in proto.c, which
 * dispatches to these functions on reader->proto / writer->proto.
 */
#include "proto_internal.h"

/**
 * kg_bin_min_size() - fewest bytes a value of a type takes on the wire
 * @ttype: a valid type id
 *
 * Used to refuse container counts the remaining input cannot possibly hold
 * before anything is allocated for them.
 *
 * Return: the minimum encoded size in bytes (at least 1).
 */
u32 kg_bin_min_size(u8 ttype)
{
	switch (ttype) {
	case KG_T_BOOL:
	case KG_T_BYTE:
		return 1;
	case KG_T_I16:
		return 2;
	case KG_T_I32:
		return 4;
	case KG_T_DOUBLE:
	case KG_T_I64:
		return 8;
	case KG_T_STRING:
		return 4;		/* length */
	case KG_T_STRUCT:
		return 1;		/* STOP */
	case KG_T_MAP:
		return 6;		/* key type, value type, count */
	case KG_T_SET:
	case KG_T_LIST:
		return 5;		/* element type, count */
	case KG_T_UUID:
		return 16;
	default:
		return 1;
	}
}

static inline int kg_bin_need(struct kg_reader *r, size_t n)
{
	if (likely(kg_r_left(r) >= n))
		return 0;
	kg_r_short(r, n);
	return -ENODATA;
}

static int kg_bin_read_len(struct kg_reader *r, u32 max, u32 *len)
{
	s32 v;

	if (kg_bin_need(r, 4))
		return -ENODATA;
	v = (s32)kg_get_be32(r->pos);
	r->pos += 4;
	if (unlikely(v < 0))
		return -EBADMSG;
	if (unlikely((u32)v > max))
		return -EMSGSIZE;
	*len = (u32)v;
	return 0;
}

/**
 * kg_bin_read_binary() - read a length-prefixed byte string without copying
 * @r: the reader
 * @v: set to a view into the input
 *
 * Return: 0, -ENODATA, -EBADMSG (negative length) or -EMSGSIZE (longer than
 * limits->max_string).
 */
int kg_bin_read_binary(struct kg_reader *r, struct kg_bytes *v)
{
	u32 len;
	int err;

	err = kg_bin_read_len(r, r->limits->max_string, &len);
	if (err)
		return err;
	if (kg_bin_need(r, len))
		return -ENODATA;
	v->data = r->pos;
	v->len = len;
	r->pos += len;
	return 0;
}

/**
 * kg_bin_read_message_begin() - read a strict or old-style message header
 * @r: the reader
 * @name: set to the method name (a view into the input)
 * @type: set to the message type
 * @seqid: set to the sequence id
 *
 * Strict headers start with the i32 0x8001000T (T = type); old ones with the
 * name's length, then the name, then a type byte.
 *
 * Return: 0, -ENODATA, -EBADMSG (bad version or message type) or -EMSGSIZE.
 */
int kg_bin_read_message_begin(struct kg_reader *r, struct kg_bytes *name, u8 *type, s32 *seqid)
{
	u32 v;
	int err;

	if (kg_bin_need(r, 4))
		return -ENODATA;
	v = kg_get_be32(r->pos);
	if (v & 0x80000000u) {
		if ((v & KG_BIN_VERSION_MASK) != KG_BIN_VERSION_1)
			return -EBADMSG;
		*type = (u8)(v & KG_BIN_TYPE_MASK);
		/* Refuse a bad type before waiting for the rest of the header. */
		if (unlikely(*type < KG_MSG_CALL || *type > KG_MSG_ONEWAY))
			return -EBADMSG;
		r->pos += 4;
		err = kg_bin_read_binary(r, name);
		if (err)
			return err;
	} else {
		err = kg_bin_read_binary(r, name);
		if (err)
			return err;
		if (kg_bin_need(r, 1))
			return -ENODATA;
		*type = *r->pos++;
	}
	if (kg_bin_need(r, 4))
		return -ENODATA;
	*seqid = (s32)kg_get_be32(r->pos);
	r->pos += 4;
	if (unlikely(*type < KG_MSG_CALL || *type > KG_MSG_ONEWAY))
		return -EBADMSG;
	return 0;
}

/**
 * kg_bin_read_field_begin() - read a field header or the struct's STOP
 * @r: the reader
 * @ttype: set to the field's type id (KG_T_STOP at the end)
 * @id: set to the field id (0 at the end)
 *
 * Return: 0, -ENODATA or -EBADMSG (invalid type id).
 */
int kg_bin_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id)
{
	u8 t;

	if (kg_bin_need(r, 1))
		return -ENODATA;
	t = *r->pos;
	if (t == KG_T_STOP) {
		r->pos++;
		*ttype = KG_T_STOP;
		*id = 0;
		return 0;
	}
	if (unlikely(!kg_ttype_valid(t)))
		return -EBADMSG;
	if (kg_bin_need(r, 3))
		return -ENODATA;
	*ttype = t;
	*id = (s16)kg_get_be16(r->pos + 1);
	r->pos += 3;
	return 0;
}

/**
 * kg_bin_read_list_begin() - read a list or set header
 * @r: the reader
 * @elem: set to the element type id (checked by the caller)
 * @count: set to the element count (checked against limits by the caller)
 *
 * Return: 0, -ENODATA or -EBADMSG (negative count).
 */
int kg_bin_read_list_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	s32 n;

	if (kg_bin_need(r, 5))
		return -ENODATA;
	n = (s32)kg_get_be32(r->pos + 1);
	if (unlikely(n < 0))
		return -EBADMSG;
	*elem = r->pos[0];
	*count = (u32)n;
	r->pos += 5;
	return 0;
}

/**
 * kg_bin_read_map_begin() - read a map header
 * @r: the reader
 * @ktype: set to the key type id
 * @vtype: set to the value type id
 * @count: set to the number of key/value pairs
 *
 * Return: 0, -ENODATA or -EBADMSG (negative count).
 */
int kg_bin_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count)
{
	s32 n;

	if (kg_bin_need(r, 6))
		return -ENODATA;
	n = (s32)kg_get_be32(r->pos + 2);
	if (unlikely(n < 0))
		return -EBADMSG;
	*ktype = r->pos[0];
	*vtype = r->pos[1];
	*count = (u32)n;
	r->pos += 6;
	return 0;
}

/**
 * kg_bin_read_bool() - read a bool (one byte, non-zero is true, as Apache)
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_bool(struct kg_reader *r, bool *v)
{
	if (kg_bin_need(r, 1))
		return -ENODATA;
	*v = *r->pos++ != 0;
	return 0;
}

/**
 * kg_bin_read_byte() - read an i8
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_byte(struct kg_reader *r, s8 *v)
{
	if (kg_bin_need(r, 1))
		return -ENODATA;
	*v = (s8)*r->pos++;
	return 0;
}

/**
 * kg_bin_read_i16() - read a big-endian i16
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_i16(struct kg_reader *r, s16 *v)
{
	if (kg_bin_need(r, 2))
		return -ENODATA;
	*v = (s16)kg_get_be16(r->pos);
	r->pos += 2;
	return 0;
}

/**
 * kg_bin_read_i32() - read a big-endian i32
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_i32(struct kg_reader *r, s32 *v)
{
	if (kg_bin_need(r, 4))
		return -ENODATA;
	*v = (s32)kg_get_be32(r->pos);
	r->pos += 4;
	return 0;
}

/**
 * kg_bin_read_i64() - read a big-endian i64
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_i64(struct kg_reader *r, s64 *v)
{
	if (kg_bin_need(r, 8))
		return -ENODATA;
	*v = (s64)kg_get_be64(r->pos);
	r->pos += 8;
	return 0;
}

/**
 * kg_bin_read_double() - read a double's IEEE-754 bit pattern
 * @r: the reader
 * @bits: set to the bits
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_double(struct kg_reader *r, u64 *bits)
{
	if (kg_bin_need(r, 8))
		return -ENODATA;
	*bits = kg_get_be64(r->pos);
	r->pos += 8;
	return 0;
}

/**
 * kg_bin_read_uuid() - read a UUID (16 raw bytes)
 * @r: the reader
 * @v: set to the bytes
 *
 * Return: 0 or -ENODATA.
 */
int kg_bin_read_uuid(struct kg_reader *r, u8 v[16])
{
	if (kg_bin_need(r, 16))
		return -ENODATA;
	memcpy(v, r->pos, 16);
	r->pos += 16;
	return 0;
}

/* ---- writing ---- */

static inline void kg_bin_put8(struct kg_writer *w, u8 v)
{
	u8 *p = kg_w_reserve(w, 1);

	if (p)
		*p = v;
}

static inline void kg_bin_put16(struct kg_writer *w, u16 v)
{
	u8 *p = kg_w_reserve(w, 2);

	if (p)
		kg_put_be16(p, v);
}

static inline void kg_bin_put32(struct kg_writer *w, u32 v)
{
	u8 *p = kg_w_reserve(w, 4);

	if (p)
		kg_put_be32(p, v);
}

static inline void kg_bin_put64(struct kg_writer *w, u64 v)
{
	u8 *p = kg_w_reserve(w, 8);

	if (p)
		kg_put_be64(p, v);
}

/**
 * kg_bin_write_binary() - write a length-prefixed byte string
 * @w: the writer
 * @data: the bytes (may be NULL when @len is 0)
 * @len: how many; more than S32_MAX cannot be encoded (-EMSGSIZE)
 */
void kg_bin_write_binary(struct kg_writer *w, const void *data, u32 len)
{
	u8 *p;

	if (unlikely(len > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	kg_bin_put32(w, len);
	p = kg_w_reserve(w, len);
	if (p && len)
		memcpy(p, data, len);
}

/**
 * kg_bin_write_message_begin() - write a strict message header
 * @w: the writer
 * @name: the method name
 * @name_len: its length
 * @type: the message type
 * @seqid: the sequence id
 */
void kg_bin_write_message_begin(struct kg_writer *w, const char *name, u32 name_len,
				u8 type, s32 seqid)
{
	kg_bin_put32(w, KG_BIN_VERSION_1 | type);
	kg_bin_write_binary(w, name, name_len);
	kg_bin_put32(w, (u32)seqid);
}

/**
 * kg_bin_write_field_begin() - write a field header
 * @w: the writer
 * @ttype: the field's type id
 * @id: the field id
 */
void kg_bin_write_field_begin(struct kg_writer *w, u8 ttype, s16 id)
{
	u8 *p = kg_w_reserve(w, 3);

	if (p) {
		p[0] = ttype;
		kg_put_be16(p + 1, (u16)id);
	}
}

/**
 * kg_bin_write_field_stop() - write the STOP that ends a struct
 * @w: the writer
 */
void kg_bin_write_field_stop(struct kg_writer *w)
{
	kg_bin_put8(w, KG_T_STOP);
}

/**
 * kg_bin_write_list_begin() - write a list or set header
 * @w: the writer
 * @elem: the element type id
 * @count: the element count (at most S32_MAX)
 */
void kg_bin_write_list_begin(struct kg_writer *w, u8 elem, u32 count)
{
	u8 *p;

	if (unlikely(count > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	p = kg_w_reserve(w, 5);
	if (p) {
		p[0] = elem;
		kg_put_be32(p + 1, count);
	}
}

/**
 * kg_bin_write_map_begin() - write a map header
 * @w: the writer
 * @ktype: the key type id
 * @vtype: the value type id
 * @count: the number of pairs (at most S32_MAX)
 */
void kg_bin_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count)
{
	u8 *p;

	if (unlikely(count > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	p = kg_w_reserve(w, 6);
	if (p) {
		p[0] = ktype;
		p[1] = vtype;
		kg_put_be32(p + 2, count);
	}
}

/**
 * kg_bin_write_bool() - write a bool as one byte, 0 or 1
 * @w: the writer
 * @v: the value
 */
void kg_bin_write_bool(struct kg_writer *w, bool v)
{
	kg_bin_put8(w, v ? 1 : 0);
}

/**
 * kg_bin_write_byte() - write an i8
 * @w: the writer
 * @v: the value
 */
void kg_bin_write_byte(struct kg_writer *w, s8 v)
{
	kg_bin_put8(w, (u8)v);
}

/**
 * kg_bin_write_i16() - write a big-endian i16
 * @w: the writer
 * @v: the value
 */
void kg_bin_write_i16(struct kg_writer *w, s16 v)
{
	kg_bin_put16(w, (u16)v);
}

/**
 * kg_bin_write_i32() - write a big-endian i32
 * @w: the writer
 * @v: the value
 */
void kg_bin_write_i32(struct kg_writer *w, s32 v)
{
	kg_bin_put32(w, (u32)v);
}

/**
 * kg_bin_write_i64() - write a big-endian i64
 * @w: the writer
 * @v: the value
 */
void kg_bin_write_i64(struct kg_writer *w, s64 v)
{
	kg_bin_put64(w, (u64)v);
}

/**
 * kg_bin_write_double() - write a double's IEEE-754 bit pattern
 * @w: the writer
 * @bits: the bits
 */
void kg_bin_write_double(struct kg_writer *w, u64 bits)
{
	kg_bin_put64(w, bits);
}

/**
 * kg_bin_write_uuid() - write a UUID (16 raw bytes)
 * @w: the writer
 * @v: the bytes
 */
void kg_bin_write_uuid(struct kg_writer *w, const u8 v[16])
{
	u8 *p = kg_w_reserve(w, 16);

	if (p)
		memcpy(p, v, 16);
}
