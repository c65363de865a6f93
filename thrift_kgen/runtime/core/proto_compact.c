// SPDX-License-Identifier: GPL-2.0
/*
 * Thrift COMPACT protocol: zigzag varints, field id deltas, bools folded
 * into field headers, little-endian doubles.
 *
 * As proto_binary.c, only the wire format lives here; proto.c dispatches
 * to these functions and does depth, limits, element checks and skipping.
 * Field-id deltas are kept per nesting level in last_fid[depth], which
 * kg_read_struct_begin() / kg_write_struct_begin() reset.
 */
#include "proto_internal.h"

#define KG_CPT_PROTOCOL_ID	0x82
#define KG_CPT_VERSION		1
#define KG_CPT_VERSION_MASK	0x1f
#define KG_CPT_TYPE_SHIFT	5

/* Not a type id: makes the caller's element type check fail. */
#define KG_CPT_BAD_TYPE	0xff

static const u8 kg_cpt_to_ttype[16] = {
	[KG_CT_STOP] = KG_CPT_BAD_TYPE,
	[KG_CT_TRUE] = KG_T_BOOL,
	[KG_CT_FALSE] = KG_T_BOOL,
	[KG_CT_BYTE] = KG_T_BYTE,
	[KG_CT_I16] = KG_T_I16,
	[KG_CT_I32] = KG_T_I32,
	[KG_CT_I64] = KG_T_I64,
	[KG_CT_DOUBLE] = KG_T_DOUBLE,
	[KG_CT_BINARY] = KG_T_STRING,
	[KG_CT_LIST] = KG_T_LIST,
	[KG_CT_SET] = KG_T_SET,
	[KG_CT_MAP] = KG_T_MAP,
	[KG_CT_STRUCT] = KG_T_STRUCT,
	[KG_CT_UUID] = KG_T_UUID,
	[14] = KG_CPT_BAD_TYPE,
	[15] = KG_CPT_BAD_TYPE,
};

/**
 * kg_cpt_min_size() - fewest bytes a value of a type takes on the wire
 * @ttype: a valid type id
 *
 * Return: the minimum encoded size in bytes (at least 1).
 */
u32 kg_cpt_min_size(u8 ttype)
{
	switch (ttype) {
	case KG_T_DOUBLE:
		return 8;
	case KG_T_UUID:
		return 16;
	default:
		return 1;	/* a one-byte varint, length, header or STOP */
	}
}

static inline int kg_cpt_need(struct kg_reader *r, size_t n)
{
	if (likely(kg_r_left(r) >= n))
		return 0;
	return kg_r_short(r, n);
}

/* A varint of at most @maxbytes bytes; overlong encodings are malformed. */
static int kg_cpt_varint(struct kg_reader *r, unsigned int maxbytes, u64 *v)
{
	u64 result = 0;
	unsigned int i;
	u8 b;

	for (i = 0; ; i++) {
		if (i == maxbytes)
			return -EBADMSG;
		if (kg_r_left(r) <= i)
			return kg_r_short(r, i + 1);
		b = r->pos[i];
		result |= (u64)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	/* The 10th byte of a 64-bit varint carries one bit only. */
	if (i == 9 && b > 1)
		return -EBADMSG;
	r->pos += i + 1;
	*v = result;
	return 0;
}

static int kg_cpt_varint32(struct kg_reader *r, u32 *v)
{
	u64 x;
	int err;

	err = kg_cpt_varint(r, 5, &x);
	if (err)
		return err;
	if (x > U32_MAX)
		return -EBADMSG;
	*v = (u32)x;
	return 0;
}

static inline s64 kg_unzigzag(u64 n)
{
	return (s64)(n >> 1) ^ -(s64)(n & 1);
}

static int kg_cpt_zigzag32(struct kg_reader *r, s64 min, s64 max, s32 *v)
{
	u32 x;
	s64 val;
	int err;

	err = kg_cpt_varint32(r, &x);
	if (err)
		return err;
	val = kg_unzigzag(x);
	if (val < min || val > max)
		return -EBADMSG;
	*v = (s32)val;
	return 0;
}

/* A size or length: varint32 that must be a non-negative i32, as Apache. */
static int kg_cpt_size(struct kg_reader *r, u32 *n)
{
	int err;

	err = kg_cpt_varint32(r, n);
	if (err)
		return err;
	return *n > (u32)S32_MAX ? -EBADMSG : 0;
}

/**
 * kg_cpt_read_binary() - read a varint-length byte string without copying
 * @r: the reader
 * @v: set to a view into the input
 *
 * Return: 0, -ENODATA, -EBADMSG or -EMSGSIZE (over limits->max_string).
 */
int kg_cpt_read_binary(struct kg_reader *r, struct kg_bytes *v)
{
	u32 len;
	int err;

	err = kg_cpt_size(r, &len);
	if (err)
		return err;
	if (len > r->limits->max_string)
		return -EMSGSIZE;
	if (kg_cpt_need(r, len))
		return -ENODATA;
	v->data = r->pos;
	v->len = len;
	r->pos += len;
	return 0;
}

/**
 * kg_cpt_read_message_begin() - read a compact message header
 * @r: the reader
 * @name: set to the method name (a view into the input)
 * @type: set to the message type
 * @seqid: set to the sequence id
 *
 * Return: 0, -ENODATA, -EBADMSG (bad protocol id, version or type) or
 * -EMSGSIZE.
 */
int kg_cpt_read_message_begin(struct kg_reader *r, struct kg_bytes *name, u8 *type, s32 *seqid)
{
	u32 seq;
	int err;

	if (kg_cpt_need(r, 1))
		return -ENODATA;
	if (r->pos[0] != KG_CPT_PROTOCOL_ID)
		return -EBADMSG;
	if (kg_cpt_need(r, 2))
		return -ENODATA;
	if ((r->pos[1] & KG_CPT_VERSION_MASK) != KG_CPT_VERSION)
		return -EBADMSG;
	*type = r->pos[1] >> KG_CPT_TYPE_SHIFT;
	if (*type < KG_MSG_CALL || *type > KG_MSG_ONEWAY)
		return -EBADMSG;
	r->pos += 2;
	err = kg_cpt_varint32(r, &seq);
	if (err)
		return err;
	*seqid = (s32)seq;
	return kg_cpt_read_binary(r, name);
}

/**
 * kg_cpt_read_field_begin() - read a field header or the struct's STOP
 * @r: the reader
 * @ttype: set to the field's type id (KG_T_STOP at the end)
 * @id: set to the field id (0 at the end)
 *
 * A bool field's value is in its header: it is kept for kg_read_bool().
 *
 * Return: 0, -ENODATA or -EBADMSG (invalid type id or field id).
 */
int kg_cpt_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id)
{
	u8 b, ct, t;
	s32 fid;
	int err;

	if (kg_cpt_need(r, 1))
		return -ENODATA;
	b = r->pos[0];
	ct = b & 0x0f;
	r->bool_pending = 0;
	if (ct == KG_CT_STOP) {
		r->pos++;
		*ttype = KG_T_STOP;
		*id = 0;
		return 0;
	}
	t = kg_cpt_to_ttype[ct];
	if (t == KG_CPT_BAD_TYPE)
		return -EBADMSG;
	r->pos++;
	if (b >> 4) {
		fid = r->last_fid[r->depth] + (b >> 4);
		if (fid > S16_MAX)
			return -EBADMSG;
	} else {
		err = kg_cpt_zigzag32(r, S16_MIN, S16_MAX, &fid);
		if (err)
			return err;
	}
	r->last_fid[r->depth] = (s16)fid;
	if (t == KG_T_BOOL) {
		r->bool_pending = 1;
		r->bool_value = ct == KG_CT_TRUE;
	}
	*ttype = t;
	*id = (s16)fid;
	return 0;
}

/**
 * kg_cpt_read_list_begin() - read a list or set header
 * @r: the reader
 * @elem: set to the element type id (checked by the caller)
 * @count: set to the element count
 *
 * Return: 0, -ENODATA or -EBADMSG (count over S32_MAX).
 */
int kg_cpt_read_list_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	u8 b;

	if (kg_cpt_need(r, 1))
		return -ENODATA;
	b = *r->pos++;
	*elem = kg_cpt_to_ttype[b & 0x0f];
	if ((b >> 4) != 15) {
		*count = b >> 4;
		return 0;
	}
	return kg_cpt_size(r, count);
}

/**
 * kg_cpt_read_map_begin() - read a map header
 * @r: the reader
 * @ktype: set to the key type id (0 for an empty map: not sent)
 * @vtype: set to the value type id (likewise)
 * @count: set to the number of pairs
 *
 * Return: 0, -ENODATA or -EBADMSG.
 */
int kg_cpt_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count)
{
	int err;
	u8 b;

	err = kg_cpt_size(r, count);
	if (err)
		return err;
	if (!*count) {
		*ktype = 0;
		*vtype = 0;
		return 0;
	}
	if (kg_cpt_need(r, 1))
		return -ENODATA;
	b = *r->pos++;
	*ktype = kg_cpt_to_ttype[b >> 4];
	*vtype = kg_cpt_to_ttype[b & 0x0f];
	return 0;
}

/**
 * kg_cpt_read_bool() - read a bool: from the field header, or one byte
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_cpt_read_bool(struct kg_reader *r, bool *v)
{
	if (r->bool_pending) {
		r->bool_pending = 0;
		*v = r->bool_value;
		return 0;
	}
	if (kg_cpt_need(r, 1))
		return -ENODATA;
	*v = *r->pos++ == KG_CT_TRUE;	/* as Apache: anything else is false */
	return 0;
}

/**
 * kg_cpt_read_byte() - read an i8
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0 or -ENODATA.
 */
int kg_cpt_read_byte(struct kg_reader *r, s8 *v)
{
	if (kg_cpt_need(r, 1))
		return -ENODATA;
	*v = (s8)*r->pos++;
	return 0;
}

/**
 * kg_cpt_read_i16() - read a zigzag varint i16
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EBADMSG (overlong, or out of range).
 */
int kg_cpt_read_i16(struct kg_reader *r, s16 *v)
{
	s32 x;
	int err;

	err = kg_cpt_zigzag32(r, S16_MIN, S16_MAX, &x);
	if (!err)
		*v = (s16)x;
	return err;
}

/**
 * kg_cpt_read_i32() - read a zigzag varint i32
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EBADMSG.
 */
int kg_cpt_read_i32(struct kg_reader *r, s32 *v)
{
	return kg_cpt_zigzag32(r, S32_MIN, S32_MAX, v);
}

/**
 * kg_cpt_read_i64() - read a zigzag varint i64
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EBADMSG.
 */
int kg_cpt_read_i64(struct kg_reader *r, s64 *v)
{
	u64 x;
	int err;

	err = kg_cpt_varint(r, 10, &x);
	if (!err)
		*v = kg_unzigzag(x);
	return err;
}

/**
 * kg_cpt_read_double() - read a double's bit pattern (little-endian)
 * @r: the reader
 * @bits: set to the bits
 *
 * Return: 0 or -ENODATA.
 */
int kg_cpt_read_double(struct kg_reader *r, u64 *bits)
{
	u64 x = 0;
	int i;

	if (kg_cpt_need(r, 8))
		return -ENODATA;
	for (i = 7; i >= 0; i--)
		x = x << 8 | r->pos[i];
	r->pos += 8;
	*bits = x;
	return 0;
}

/**
 * kg_cpt_read_uuid() - read a UUID (16 raw bytes)
 * @r: the reader
 * @v: set to the bytes
 *
 * Return: 0 or -ENODATA.
 */
int kg_cpt_read_uuid(struct kg_reader *r, u8 v[16])
{
	if (kg_cpt_need(r, 16))
		return -ENODATA;
	memcpy(v, r->pos, 16);
	r->pos += 16;
	return 0;
}

/* ---- writing ---- */

static inline void kg_cpt_put8(struct kg_writer *w, u8 v)
{
	u8 *p = kg_w_reserve(w, 1);

	if (p)
		*p = v;
}

static void kg_cpt_put_bytes(struct kg_writer *w, const u8 *tmp, size_t n)
{
	u8 *p = kg_w_reserve(w, n);

	if (p)
		memcpy(p, tmp, n);
}

static void kg_cpt_put_varint(struct kg_writer *w, u64 v)
{
	u8 tmp[10];

	kg_cpt_put_bytes(w, tmp, kg_compact_put_varint(tmp, v) - tmp);
}

static inline u64 kg_zigzag64(s64 v)
{
	return ((u64)v << 1) ^ (u64)(v >> 63);
}

static inline u32 kg_zigzag32(s32 v)
{
	return ((u32)v << 1) ^ (u32)(v >> 31);
}

static void kg_cpt_field_header(struct kg_writer *w, u8 ct, s16 id)
{
	s32 delta = (s32)id - w->last_fid[w->depth];

	if (delta > 0 && delta <= 15) {
		kg_cpt_put8(w, (u8)(delta << 4) | ct);
	} else {
		kg_cpt_put8(w, ct);
		kg_cpt_put_varint(w, kg_zigzag32(id));
	}
	w->last_fid[w->depth] = id;
}

/**
 * kg_cpt_write_binary() - write a varint-length byte string
 * @w: the writer
 * @data: the bytes (may be NULL when @len is 0)
 * @len: how many; more than S32_MAX cannot be encoded (-EMSGSIZE)
 */
void kg_cpt_write_binary(struct kg_writer *w, const void *data, u32 len)
{
	u8 *p;

	if (unlikely(len > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	kg_cpt_put_varint(w, len);
	p = kg_w_reserve(w, len);
	if (p && len)
		memcpy(p, data, len);
}

/**
 * kg_cpt_write_message_begin() - write a compact message header
 * @w: the writer
 * @name: the method name
 * @name_len: its length
 * @type: the message type
 * @seqid: the sequence id
 */
void kg_cpt_write_message_begin(struct kg_writer *w, const char *name, u32 name_len,
				u8 type, s32 seqid)
{
	kg_cpt_put8(w, KG_CPT_PROTOCOL_ID);
	kg_cpt_put8(w, KG_CPT_VERSION | (u8)((type & 0x07) << KG_CPT_TYPE_SHIFT));
	kg_cpt_put_varint(w, (u32)seqid);
	kg_cpt_write_binary(w, name, name_len);
}

/**
 * kg_cpt_write_field_begin() - write a field header (deferred for bools)
 * @w: the writer
 * @ttype: the field's type id
 * @id: the field id
 */
void kg_cpt_write_field_begin(struct kg_writer *w, u8 ttype, s16 id)
{
	if (ttype == KG_T_BOOL) {
		/* The value goes into the header: kg_cpt_write_bool() writes it. */
		w->bool_pending = 1;
		w->bool_fid = id;
		return;
	}
	kg_cpt_field_header(w, kg_compact_type(ttype), id);
}

/**
 * kg_cpt_write_field_stop() - write the STOP that ends a struct
 * @w: the writer
 */
void kg_cpt_write_field_stop(struct kg_writer *w)
{
	kg_cpt_put8(w, KG_CT_STOP);
}

/**
 * kg_cpt_write_list_begin() - write a list or set header
 * @w: the writer
 * @elem: the element type id
 * @count: the element count (at most S32_MAX)
 */
void kg_cpt_write_list_begin(struct kg_writer *w, u8 elem, u32 count)
{
	u8 ct = kg_compact_type(elem);

	if (unlikely(count > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	if (count < 15) {
		kg_cpt_put8(w, (u8)(count << 4) | ct);
	} else {
		kg_cpt_put8(w, 0xf0 | ct);
		kg_cpt_put_varint(w, count);
	}
}

/**
 * kg_cpt_write_map_begin() - write a map header
 * @w: the writer
 * @ktype: the key type id
 * @vtype: the value type id
 * @count: the number of pairs (at most S32_MAX)
 */
void kg_cpt_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count)
{
	if (unlikely(count > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	if (!count) {
		kg_cpt_put8(w, 0);
		return;
	}
	kg_cpt_put_varint(w, count);
	kg_cpt_put8(w, (u8)(kg_compact_type(ktype) << 4) | kg_compact_type(vtype));
}

/**
 * kg_cpt_write_bool() - write a bool: into a pending field header, or a byte
 * @w: the writer
 * @v: the value
 */
void kg_cpt_write_bool(struct kg_writer *w, bool v)
{
	u8 ct = v ? KG_CT_TRUE : KG_CT_FALSE;

	if (w->bool_pending) {
		w->bool_pending = 0;
		kg_cpt_field_header(w, ct, w->bool_fid);
		return;
	}
	kg_cpt_put8(w, ct);
}

/**
 * kg_cpt_write_byte() - write an i8
 * @w: the writer
 * @v: the value
 */
void kg_cpt_write_byte(struct kg_writer *w, s8 v)
{
	kg_cpt_put8(w, (u8)v);
}

/**
 * kg_cpt_write_i16() - write a zigzag varint i16
 * @w: the writer
 * @v: the value
 */
void kg_cpt_write_i16(struct kg_writer *w, s16 v)
{
	kg_cpt_put_varint(w, kg_zigzag32(v));
}

/**
 * kg_cpt_write_i32() - write a zigzag varint i32
 * @w: the writer
 * @v: the value
 */
void kg_cpt_write_i32(struct kg_writer *w, s32 v)
{
	kg_cpt_put_varint(w, kg_zigzag32(v));
}

/**
 * kg_cpt_write_i64() - write a zigzag varint i64
 * @w: the writer
 * @v: the value
 */
void kg_cpt_write_i64(struct kg_writer *w, s64 v)
{
	kg_cpt_put_varint(w, kg_zigzag64(v));
}

/**
 * kg_cpt_write_double() - write a double's bit pattern (little-endian)
 * @w: the writer
 * @bits: the bits
 */
void kg_cpt_write_double(struct kg_writer *w, u64 bits)
{
	u8 *p = kg_w_reserve(w, 8);
	int i;

	if (!p)
		return;
	for (i = 0; i < 8; i++)
		p[i] = (bits >> (8 * i)) & 0xff;
}

/**
 * kg_cpt_write_uuid() - write a UUID (16 raw bytes)
 * @w: the writer
 * @v: the bytes
 */
void kg_cpt_write_uuid(struct kg_writer *w, const u8 v[16])
{
	u8 *p = kg_w_reserve(w, 16);

	if (p)
		memcpy(p, v, 16);
}

/* ---- the out-of-line halves of kgen/proto_inline.h's compact primitives ---- */

/**
 * kg_compact_read_field_slow() - kg_compact_read_field_begin()'s rare cases
 * @r: the reader
 * @ttype: set to the field's type id (KG_T_STOP at the end)
 * @id: set to the field id (0 at the end)
 * @last: the previous field id of this struct (updated)
 *
 * The long form (a zigzag varint field id), a delta past S16_MAX, errors.
 *
 * Return: as kg_cpt_read_field_begin().
 */
int kg_compact_read_field_slow(struct kg_reader *r, u8 *ttype, s16 *id, s16 *last)
{
	int err;

	r->last_fid[r->depth] = *last;
	err = kg_cpt_read_field_begin(r, ttype, id);
	if (!err)
		*last = r->last_fid[r->depth];
	return err;
}

/**
 * kg_compact_write_varint_slow() - a varint that may not fit the buffer
 * @w: the writer
 * @v: the value
 */
void kg_compact_write_varint_slow(struct kg_writer *w, u64 v)
{
	kg_cpt_put_varint(w, v);
}

/**
 * kg_compact_write_field_slow() - a field header that may not fit the buffer
 * @w: the writer
 * @ct: the compact type id (KG_CT_TRUE / KG_CT_FALSE for a bool field)
 * @id: the field id
 * @last: the previous field id of this struct (updated)
 */
void kg_compact_write_field_slow(struct kg_writer *w, u8 ct, s16 id, s16 *last)
{
	u8 tmp[4];

	kg_cpt_put_bytes(w, tmp, kg_compact_put_field(tmp, ct, id, last) - tmp);
}

/**
 * kg_compact_write_field_varint_slow() - a field header and a varint value, slowly
 * @w: the writer
 * @ct: the compact type id
 * @id: the field id
 * @v: the value (zigzag already applied)
 * @last: the previous field id of this struct (updated)
 */
void kg_compact_write_field_varint_slow(struct kg_writer *w, u8 ct, s16 id, u64 v, s16 *last)
{
	kg_compact_write_field_slow(w, ct, id, last);
	kg_cpt_put_varint(w, v);
}

/**
 * kg_compact_write_field_bytes_slow() - a field header and a binary value, slowly
 * @w: the writer
 * @id: the field id
 * @v: the bytes
 * @last: the previous field id of this struct (updated)
 */
void kg_compact_write_field_bytes_slow(struct kg_writer *w, s16 id, struct kg_bytes v,
				       s16 *last)
{
	if (unlikely(v.len > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	kg_compact_write_field_slow(w, KG_CT_BINARY, id, last);
	kg_cpt_write_binary(w, v.data, v.len);
}

/**
 * kg_compact_write_list_begin() - a list or set header
 * @w: the writer
 * @elem: the element type id
 * @count: the element count (at most S32_MAX)
 */
void kg_compact_write_list_begin(struct kg_writer *w, u8 elem, u32 count)
{
	kg_cpt_write_list_begin(w, elem, count);
}

/**
 * kg_compact_write_map_begin() - a map header
 * @w: the writer
 * @ktype: the key type id
 * @vtype: the value type id
 * @count: the number of pairs (at most S32_MAX)
 */
void kg_compact_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count)
{
	kg_cpt_write_map_begin(w, ktype, vtype, count);
}
