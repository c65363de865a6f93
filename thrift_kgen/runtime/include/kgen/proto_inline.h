/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inline primitives of one wire format each, for generated code.
 *
 * Generated encoders and decoders have one body per protocol
 * (<struct>_encode_binary(), <struct>_decode_compact(), ...) that call only
 * the kg_binary_* or only the kg_compact_* functions below: no switch on
 * w->proto / r->proto per field. <struct>_encode() and <struct>_decode()
 * choose the body once per value. The kg_read_* / kg_write_* API of
 * kgen/proto.h stays for hand-written code (message headers, exceptions,
 * skipping); both produce the same bytes and accept the same input.
 *
 * Every read keeps the bounds and errors of kgen/proto.h: a short input is
 * -ENODATA with r->need set (kg_reader_short()), malformed is -EBADMSG, a
 * limit is -EMSGSIZE. Rare cases (multi-byte compact varints, the end of a
 * buffer) go to out-of-line functions, so the inline paths stay small.
 *
 * Writes: the fast path stores when the bytes fit (w->len + n <= w->cap).
 * Otherwise kg_writer_overflow() counts them and sets the sticky error; it
 * also sets cap to 0 so that no later write stores anything. A counting
 * writer (buf NULL) has cap 0: it always takes that path.
 *
 * Compact field-id deltas are kept by the caller (@last, a local of each
 * struct body) rather than in w->last_fid[] / r->last_fid[].
 */
#ifndef _KGEN_PROTO_INLINE_H
#define _KGEN_PROTO_INLINE_H

/* Compact type ids. */
enum kg_compact_type {
	KG_CT_STOP = 0,
	KG_CT_TRUE = 1,
	KG_CT_FALSE = 2,
	KG_CT_BYTE = 3,
	KG_CT_I16 = 4,
	KG_CT_I32 = 5,
	KG_CT_I64 = 6,
	KG_CT_DOUBLE = 7,
	KG_CT_BINARY = 8,
	KG_CT_LIST = 9,
	KG_CT_SET = 10,
	KG_CT_MAP = 11,
	KG_CT_STRUCT = 12,
	KG_CT_UUID = 13,
};

/* Out of line (proto.c, proto_binary.c, proto_compact.c): the rare paths. */
int kg_reader_short(struct kg_reader *r, u64 n);
void kg_writer_overflow(struct kg_writer *w, size_t n);
int kg_bin_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id);
int kg_binary_read_seq_begin(struct kg_reader *r, u8 *elem, u32 *count);
int kg_binary_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count);
int kg_compact_read_seq_begin(struct kg_reader *r, u8 *elem, u32 *count);
int kg_compact_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count);
int kg_compact_read_field_slow(struct kg_reader *r, u8 *ttype, s16 *id, s16 *last);
int kg_cpt_read_i16(struct kg_reader *r, s16 *v);
int kg_cpt_read_i32(struct kg_reader *r, s32 *v);
int kg_cpt_read_i64(struct kg_reader *r, s64 *v);
int kg_cpt_read_binary(struct kg_reader *r, struct kg_bytes *v);
void kg_compact_write_varint_slow(struct kg_writer *w, u64 v);
void kg_compact_write_field_slow(struct kg_writer *w, u8 ct, s16 id, s16 *last);
void kg_compact_write_field_varint_slow(struct kg_writer *w, u8 ct, s16 id, u64 v, s16 *last);
void kg_compact_write_field_bytes_slow(struct kg_writer *w, s16 id, struct kg_bytes v,
				       s16 *last);
void kg_compact_write_list_begin(struct kg_writer *w, u8 elem, u32 count);
void kg_compact_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count);

/* ---- shared ---- */

/* Set the writer's sticky error (the first one wins); nothing is stored after. */
static inline void kg_w_error(struct kg_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	w->cap = 0;
}

/*
 * Whether @n bytes fit; if not, they are counted (kg_writer_overflow()). When they
 * do, kg_w_take() says where they go: two steps rather than a pointer that may be
 * NULL, so that the fast path tests nothing else.
 */
static __always_inline bool kg_w_fits(struct kg_writer *w, size_t n)
{
	if (likely(w->len + n <= w->cap))
		return true;
	kg_writer_overflow(w, n);
	return false;
}

static __always_inline u8 *kg_w_take(struct kg_writer *w, size_t n)
{
	u8 *p = w->buf + w->len;

	w->len += n;
	return p;
}

/* Enter a struct: false when too deep (or cyclic), with the sticky -EMSGSIZE. */
static __always_inline bool kg_writer_enter(struct kg_writer *w)
{
	if (unlikely(w->depth >= KG_MAX_DEPTH)) {
		kg_w_error(w, -EMSGSIZE);
		return false;
	}
	w->depth++;
	return true;
}

static __always_inline void kg_writer_leave(struct kg_writer *w)
{
	w->depth--;
}

/* Enter a struct (containers: kg_*_read_*_begin()); the depth limit guards stacks. */
static __always_inline int kg_reader_enter(struct kg_reader *r)
{
	if (unlikely(r->depth >= min_t(u32, r->limits->max_depth, KG_MAX_DEPTH)))
		return -EMSGSIZE;
	r->depth++;
	return 0;
}

static __always_inline void kg_reader_leave(struct kg_reader *r)
{
	if (likely(r->depth))
		r->depth--;
}

static __always_inline bool kg_r_has(const struct kg_reader *r, size_t n)
{
	return likely((size_t)(r->end - r->pos) >= n);
}

/* ---- binary: writing ---- */

static __always_inline void kg_binary_put_field(u8 *p, u8 ttype, s16 id)
{
	p[0] = ttype;
	kg_put_be16(p + 1, (u16)id);
}

static __always_inline void kg_binary_write_field_begin(struct kg_writer *w, u8 ttype, s16 id)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 3)))
		return;
	p = kg_w_take(w, 3);
	kg_binary_put_field(p, ttype, id);
}

static __always_inline void kg_binary_write_field_stop(struct kg_writer *w)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 1)))
		return;
	p = kg_w_take(w, 1);
	*p = KG_T_STOP;
}

static __always_inline void kg_binary_write_u8(struct kg_writer *w, u8 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 1)))
		return;
	p = kg_w_take(w, 1);
	*p = v;
}

static __always_inline void kg_binary_write_bool(struct kg_writer *w, bool v)
{
	kg_binary_write_u8(w, v ? 1 : 0);
}

static __always_inline void kg_binary_write_byte(struct kg_writer *w, s8 v)
{
	kg_binary_write_u8(w, (u8)v);
}

static __always_inline void kg_binary_write_i16(struct kg_writer *w, s16 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 2)))
		return;
	p = kg_w_take(w, 2);
	kg_put_be16(p, (u16)v);
}

static __always_inline void kg_binary_write_i32(struct kg_writer *w, s32 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 4)))
		return;
	p = kg_w_take(w, 4);
	kg_put_be32(p, (u32)v);
}

static __always_inline void kg_binary_write_i64(struct kg_writer *w, s64 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 8)))
		return;
	p = kg_w_take(w, 8);
	kg_put_be64(p, (u64)v);
}

static __always_inline void kg_binary_write_double(struct kg_writer *w, u64 bits)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 8)))
		return;
	p = kg_w_take(w, 8);
	kg_put_be64(p, bits);
}

/* @pre bytes of header (a field header, or none) before the length and the bytes. */
static __always_inline void kg_binary_write_bytes_after(struct kg_writer *w, u8 ttype, s16 id,
							size_t pre, struct kg_bytes v)
{
	u8 *p;

	if (unlikely(v.len > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	if (unlikely(!kg_w_fits(w, pre + 4 + (size_t)v.len)))
		return;
	p = kg_w_take(w, pre + 4 + (size_t)v.len);
	if (pre)
		kg_binary_put_field(p, ttype, id);
	kg_put_be32(p + pre, v.len);
	if (v.len)
		memcpy(p + pre + 4, v.data, v.len);
}

static __always_inline void kg_binary_write_bytes(struct kg_writer *w, struct kg_bytes v)
{
	kg_binary_write_bytes_after(w, 0, 0, 0, v);
}

static __always_inline void kg_binary_write_uuid(struct kg_writer *w, const u8 v[16])
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 16)))
		return;
	p = kg_w_take(w, 16);
	memcpy(p, v, 16);
}

/* A field header and its value in one reservation. */
static __always_inline void kg_binary_write_field_bool(struct kg_writer *w, s16 id, bool v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 4)))
		return;
	p = kg_w_take(w, 4);
	kg_binary_put_field(p, KG_T_BOOL, id);
	p[3] = v ? 1 : 0;
}

static __always_inline void kg_binary_write_field_byte(struct kg_writer *w, s16 id, s8 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 4)))
		return;
	p = kg_w_take(w, 4);
	kg_binary_put_field(p, KG_T_BYTE, id);
	p[3] = (u8)v;
}

static __always_inline void kg_binary_write_field_i16(struct kg_writer *w, s16 id, s16 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 5)))
		return;
	p = kg_w_take(w, 5);
	kg_binary_put_field(p, KG_T_I16, id);
	kg_put_be16(p + 3, (u16)v);
}

static __always_inline void kg_binary_write_field_i32(struct kg_writer *w, s16 id, s32 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 7)))
		return;
	p = kg_w_take(w, 7);
	kg_binary_put_field(p, KG_T_I32, id);
	kg_put_be32(p + 3, (u32)v);
}

static __always_inline void kg_binary_write_field_i64(struct kg_writer *w, s16 id, s64 v)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 11)))
		return;
	p = kg_w_take(w, 11);
	kg_binary_put_field(p, KG_T_I64, id);
	kg_put_be64(p + 3, (u64)v);
}

static __always_inline void kg_binary_write_field_double(struct kg_writer *w, s16 id, u64 bits)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 11)))
		return;
	p = kg_w_take(w, 11);
	kg_binary_put_field(p, KG_T_DOUBLE, id);
	kg_put_be64(p + 3, bits);
}

static __always_inline void kg_binary_write_field_bytes(struct kg_writer *w, s16 id,
							struct kg_bytes v)
{
	kg_binary_write_bytes_after(w, KG_T_STRING, id, 3, v);
}

static __always_inline void kg_binary_write_list_begin(struct kg_writer *w, u8 elem, u32 count)
{
	u8 *p;

	if (unlikely(count > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	if (unlikely(!kg_w_fits(w, 5)))
		return;
	p = kg_w_take(w, 5);
	p[0] = elem;
	kg_put_be32(p + 1, count);
}

static __always_inline void kg_binary_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype,
						      u32 count)
{
	u8 *p;

	if (unlikely(count > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	if (unlikely(!kg_w_fits(w, 6)))
		return;
	p = kg_w_take(w, 6);
	p[0] = ktype;
	p[1] = vtype;
	kg_put_be32(p + 2, count);
}

/* ---- binary: reading ---- */

static __always_inline int kg_binary_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id)
{
	const u8 *p = r->pos;
	u8 t;

	/*
	 * As kg_bin_read_field_begin() (a bad type before a short header), all
	 * inline: passing it @ttype and @id would make the caller's locals
	 * address-taken, so every struct decoder paid a stack canary. Errors
	 * are constants, so the compiler sees @ttype and @id set whenever 0 is
	 * returned.
	 */
	if (unlikely(!kg_r_has(r, 1))) {
		kg_reader_short(r, 1);
		return -ENODATA;
	}
	t = p[0];
	if (t == KG_T_STOP) {
		r->pos = p + 1;
		*ttype = KG_T_STOP;
		*id = 0;
		return 0;
	}
	if (unlikely(t >= 32 || !((KG_VALID_TTYPES >> t) & 1)))
		return -EBADMSG;
	if (unlikely(!kg_r_has(r, 3))) {
		kg_reader_short(r, 3);
		return -ENODATA;
	}
	*ttype = t;
	*id = (s16)kg_get_be16(p + 1);
	r->pos = p + 3;
	return 0;
}

static __always_inline int kg_binary_read_bool(struct kg_reader *r, bool *v)
{
	if (unlikely(!kg_r_has(r, 1)))
		return kg_reader_short(r, 1);
	*v = *r->pos++ != 0;
	return 0;
}

static __always_inline int kg_binary_read_byte(struct kg_reader *r, s8 *v)
{
	if (unlikely(!kg_r_has(r, 1)))
		return kg_reader_short(r, 1);
	*v = (s8)*r->pos++;
	return 0;
}

static __always_inline int kg_binary_read_i16(struct kg_reader *r, s16 *v)
{
	if (unlikely(!kg_r_has(r, 2)))
		return kg_reader_short(r, 2);
	*v = (s16)kg_get_be16(r->pos);
	r->pos += 2;
	return 0;
}

static __always_inline int kg_binary_read_i32(struct kg_reader *r, s32 *v)
{
	if (unlikely(!kg_r_has(r, 4)))
		return kg_reader_short(r, 4);
	*v = (s32)kg_get_be32(r->pos);
	r->pos += 4;
	return 0;
}

static __always_inline int kg_binary_read_i64(struct kg_reader *r, s64 *v)
{
	if (unlikely(!kg_r_has(r, 8)))
		return kg_reader_short(r, 8);
	*v = (s64)kg_get_be64(r->pos);
	r->pos += 8;
	return 0;
}

static __always_inline int kg_binary_read_double(struct kg_reader *r, u64 *bits)
{
	if (unlikely(!kg_r_has(r, 8)))
		return kg_reader_short(r, 8);
	*bits = kg_get_be64(r->pos);
	r->pos += 8;
	return 0;
}

static __always_inline int kg_binary_read_binary(struct kg_reader *r, struct kg_bytes *v)
{
	s32 len;

	if (unlikely(!kg_r_has(r, 4)))
		return kg_reader_short(r, 4);
	len = (s32)kg_get_be32(r->pos);
	if (unlikely(len < 0))
		return -EBADMSG;
	if (unlikely((u32)len > r->limits->max_string))
		return -EMSGSIZE;
	r->pos += 4;
	if (unlikely(!kg_r_has(r, (u32)len)))
		return kg_reader_short(r, (u32)len);
	v->data = r->pos;
	v->len = (u32)len;
	r->pos += len;
	return 0;
}

static __always_inline int kg_binary_read_string(struct kg_reader *r, struct kg_bytes *v)
{
	return kg_binary_read_binary(r, v);
}

static __always_inline int kg_binary_read_uuid(struct kg_reader *r, u8 v[16])
{
	if (unlikely(!kg_r_has(r, 16)))
		return kg_reader_short(r, 16);
	memcpy(v, r->pos, 16);
	r->pos += 16;
	return 0;
}

/*
 * Decoders read the fields first in declaration order: the next header is
 * taken (true) only if it is exactly the one expected; anything else is
 * left to the general loop, from the same position.
 */
static __always_inline bool kg_binary_take_field(struct kg_reader *r, u8 ttype, s16 id)
{
	const u8 *p = r->pos;

	if (likely(kg_r_has(r, 3) && p[0] == ttype && kg_get_be16(p + 1) == (u16)id)) {
		r->pos = p + 3;
		return true;
	}
	return false;
}

static __always_inline bool kg_binary_take_stop(struct kg_reader *r)
{
	if (likely(kg_r_has(r, 1) && *r->pos == KG_T_STOP)) {
		r->pos++;
		return true;
	}
	return false;
}

/* Strict binary message headers: the i32 0x8001000T (T = the message type). */
#define KG_BIN_VERSION_1	0x80010000u
#define KG_BIN_VERSION_MASK	0xffff0000u
#define KG_BIN_TYPE_MASK	0x000000ffu

/*
 * kg_read_message_begin() with a fast path for a server's usual header,
 * strict binary: version, name length, name and seqid with one bounds check.
 * Anything else (old binary, compact, every error) goes to
 * kg_read_message_begin(), which reads the header again: the same checks,
 * the same errors.
 */
static __always_inline int kg_read_message_begin_inline(struct kg_reader *r, struct kg_bytes *name,
							 u8 *type, s32 *seqid)
{
	const u8 *p = r->pos;
	u32 v, len;
	u8 t;

	if (likely(r->proto == KG_PROTO_BINARY && kg_r_has(r, 12))) {
		v = kg_get_be32(p);
		len = kg_get_be32(p + 4);
		t = (u8)(v & KG_BIN_TYPE_MASK);
		if (likely((v & ~KG_BIN_TYPE_MASK) == KG_BIN_VERSION_1 &&
			   t >= KG_MSG_CALL && t <= KG_MSG_ONEWAY && len <= (u32)S32_MAX &&
			   len <= r->limits->max_string && len <= kg_reader_remaining(r) - 12)) {
			name->data = p + 8;
			name->len = len;
			*type = t;
			*seqid = (s32)kg_get_be32(p + 8 + len);
			r->pos = p + 12 + len;
			return 0;
		}
	}
	return kg_read_message_begin(r, name, type, seqid);
}

/*
 * Container headers: kg_binary_read_seq_begin() / kg_binary_read_map_begin() with a
 * fast path for the element types the caller wants (constants): anything else, and
 * every error, is left to the out-of-line function, which reads the header again.
 */
static __always_inline u32 kg_binary_min_size(u8 ttype)
{
	switch (ttype) {
	case KG_T_I16:
		return 2;
	case KG_T_I32:
	case KG_T_STRING:
		return 4;
	case KG_T_DOUBLE:
	case KG_T_I64:
		return 8;
	case KG_T_MAP:
		return 6;
	case KG_T_SET:
	case KG_T_LIST:
		return 5;
	case KG_T_UUID:
		return 16;
	default:
		return 1;
	}
}

static __always_inline bool kg_reader_count_ok(const struct kg_reader *r, u32 n, u32 each,
					       size_t header)
{
	return likely(n <= r->limits->max_container &&
		      (u64)n * each <= (u64)(r->end - r->pos) - header);
}

static __always_inline bool kg_reader_may_enter(const struct kg_reader *r)
{
	return likely(r->depth < min_t(u32, r->limits->max_depth, KG_MAX_DEPTH));
}

static __always_inline int kg_binary_read_seq_of(struct kg_reader *r, u8 want, u8 *elem,
						 u32 *count)
{
	const u8 *p = r->pos;
	s32 n;

	if (unlikely(!kg_r_has(r, 5) || p[0] != want || !kg_reader_may_enter(r)))
		return kg_binary_read_seq_begin(r, elem, count);
	n = (s32)kg_get_be32(p + 1);
	if (unlikely(n < 0 || !kg_reader_count_ok(r, (u32)n, kg_binary_min_size(want), 5)))
		return kg_binary_read_seq_begin(r, elem, count);
	r->depth++;
	r->pos = p + 5;
	*elem = want;
	*count = (u32)n;
	return 0;
}

static __always_inline int kg_binary_read_map_of(struct kg_reader *r, u8 kwant, u8 vwant,
						 u8 *ktype, u8 *vtype, u32 *count)
{
	const u8 *p = r->pos;
	s32 n;

	if (unlikely(!kg_r_has(r, 6) || p[0] != kwant || p[1] != vwant ||
		     !kg_reader_may_enter(r)))
		return kg_binary_read_map_begin(r, ktype, vtype, count);
	n = (s32)kg_get_be32(p + 2);
	if (unlikely(n < 0 || !kg_reader_count_ok(r, (u32)n, kg_binary_min_size(kwant) +
						  kg_binary_min_size(vwant), 6)))
		return kg_binary_read_map_begin(r, ktype, vtype, count);
	r->depth++;
	r->pos = p + 6;
	*ktype = kwant;
	*vtype = vwant;
	*count = (u32)n;
	return 0;
}

/* ---- compact: writing ---- */

static __always_inline u8 kg_compact_type(u8 ttype)
{
	switch (ttype) {
	case KG_T_BOOL:
		return KG_CT_TRUE;	/* element type of bool containers, as Apache */
	case KG_T_BYTE:
		return KG_CT_BYTE;
	case KG_T_I16:
		return KG_CT_I16;
	case KG_T_I32:
		return KG_CT_I32;
	case KG_T_I64:
		return KG_CT_I64;
	case KG_T_DOUBLE:
		return KG_CT_DOUBLE;
	case KG_T_STRING:
		return KG_CT_BINARY;
	case KG_T_LIST:
		return KG_CT_LIST;
	case KG_T_SET:
		return KG_CT_SET;
	case KG_T_MAP:
		return KG_CT_MAP;
	case KG_T_STRUCT:
		return KG_CT_STRUCT;
	case KG_T_UUID:
		return KG_CT_UUID;
	default:
		return KG_CT_STOP;
	}
}

static __always_inline u32 kg_compact_zigzag32(s32 v)
{
	return ((u32)v << 1) ^ (u32)(v >> 31);
}

static __always_inline u64 kg_compact_zigzag64(s64 v)
{
	return ((u64)v << 1) ^ (u64)(v >> 63);
}

static __always_inline u8 *kg_compact_put_varint(u8 *p, u64 v)
{
	while (v >= 0x80) {
		*p++ = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	*p++ = v & 0x7f;
	return p;
}

static __always_inline void kg_compact_used(struct kg_writer *w, const u8 *end)
{
	w->len = (size_t)(end - w->buf);
}

/* A field header at @p (at most 4 bytes); returns the end. */
static __always_inline u8 *kg_compact_put_field(u8 *p, u8 ct, s16 id, s16 *last)
{
	s32 delta = (s32)id - *last;

	if (likely(delta > 0 && delta <= 15)) {
		*p++ = (u8)(delta << 4) | ct;
	} else {
		*p++ = ct;
		p = kg_compact_put_varint(p, kg_compact_zigzag32(id));
	}
	*last = id;
	return p;
}

static __always_inline void kg_compact_write_varint(struct kg_writer *w, u64 v, size_t max)
{
	if (likely(w->len + max <= w->cap))
		kg_compact_used(w, kg_compact_put_varint(w->buf + w->len, v));
	else
		kg_compact_write_varint_slow(w, v);
}

/*
 * The short field header (id delta 1 to 15) stored, with room for @max more bytes
 * after it, at *@at. False when either is not so: the caller's out-of-line path.
 */
static __always_inline bool kg_compact_field_fits(struct kg_writer *w, u8 ct, s16 id,
						  s16 *last, size_t max, u8 **at)
{
	s32 delta = (s32)id - *last;
	u8 *p;

	if (unlikely(delta <= 0 || delta > 15 || w->len + 1 + max > w->cap))
		return false;
	p = w->buf + w->len;
	*p = (u8)(delta << 4) | ct;
	*last = id;
	*at = p + 1;
	return true;
}

static __always_inline void kg_compact_write_field_begin(struct kg_writer *w, u8 ttype, s16 id,
							 s16 *last)
{
	u8 *p;

	if (likely(kg_compact_field_fits(w, kg_compact_type(ttype), id, last, 0, &p)))
		kg_compact_used(w, p);
	else
		kg_compact_write_field_slow(w, kg_compact_type(ttype), id, last);
}

static __always_inline void kg_compact_write_field_stop(struct kg_writer *w)
{
	kg_binary_write_u8(w, KG_CT_STOP);
}

static __always_inline void kg_compact_write_bool(struct kg_writer *w, bool v)
{
	kg_binary_write_u8(w, v ? KG_CT_TRUE : KG_CT_FALSE);
}

static __always_inline void kg_compact_write_byte(struct kg_writer *w, s8 v)
{
	kg_binary_write_u8(w, (u8)v);
}

static __always_inline void kg_compact_write_i16(struct kg_writer *w, s16 v)
{
	kg_compact_write_varint(w, kg_compact_zigzag32(v), 3);
}

static __always_inline void kg_compact_write_i32(struct kg_writer *w, s32 v)
{
	kg_compact_write_varint(w, kg_compact_zigzag32(v), 5);
}

static __always_inline void kg_compact_write_i64(struct kg_writer *w, s64 v)
{
	kg_compact_write_varint(w, kg_compact_zigzag64(v), 10);
}

static __always_inline void kg_compact_put_le64(u8 *p, u64 bits)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (bits >> (8 * i)) & 0xff;
}

static __always_inline void kg_compact_write_double(struct kg_writer *w, u64 bits)
{
	u8 *p;

	if (unlikely(!kg_w_fits(w, 8)))
		return;
	p = kg_w_take(w, 8);
	kg_compact_put_le64(p, bits);
}

static __always_inline void kg_compact_write_bytes(struct kg_writer *w, struct kg_bytes v)
{
	if (unlikely(v.len > (u32)S32_MAX)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	kg_compact_write_varint(w, v.len, 5);
	if (!v.len)
		return;
	if (likely(kg_w_fits(w, v.len)))
		memcpy(kg_w_take(w, v.len), v.data, v.len);
}

static __always_inline void kg_compact_write_uuid(struct kg_writer *w, const u8 v[16])
{
	kg_binary_write_uuid(w, v);
}

/* A field header and its value in one reservation when they fit. */
static __always_inline void kg_compact_write_field_bool(struct kg_writer *w, s16 id, bool v,
							s16 *last)
{
	u8 ct = v ? KG_CT_TRUE : KG_CT_FALSE;
	u8 *p;

	if (likely(kg_compact_field_fits(w, ct, id, last, 0, &p)))
		kg_compact_used(w, p);
	else
		kg_compact_write_field_slow(w, ct, id, last);
}

static __always_inline void kg_compact_write_field_byte(struct kg_writer *w, s16 id, s8 v,
							s16 *last)
{
	u8 *p;

	if (likely(kg_compact_field_fits(w, KG_CT_BYTE, id, last, 1, &p))) {
		*p = (u8)v;
		kg_compact_used(w, p + 1);
		return;
	}
	kg_compact_write_field_slow(w, KG_CT_BYTE, id, last);
	kg_compact_write_byte(w, v);
}

static __always_inline void kg_compact_write_field_varint(struct kg_writer *w, u8 ct, s16 id,
							  u64 v, size_t max, s16 *last)
{
	u8 *p;

	if (likely(kg_compact_field_fits(w, ct, id, last, max, &p)))
		kg_compact_used(w, kg_compact_put_varint(p, v));
	else
		kg_compact_write_field_varint_slow(w, ct, id, v, last);
}

static __always_inline void kg_compact_write_field_i16(struct kg_writer *w, s16 id, s16 v,
						       s16 *last)
{
	kg_compact_write_field_varint(w, KG_CT_I16, id, kg_compact_zigzag32(v), 3, last);
}

static __always_inline void kg_compact_write_field_i32(struct kg_writer *w, s16 id, s32 v,
						       s16 *last)
{
	kg_compact_write_field_varint(w, KG_CT_I32, id, kg_compact_zigzag32(v), 5, last);
}

static __always_inline void kg_compact_write_field_i64(struct kg_writer *w, s16 id, s64 v,
						       s16 *last)
{
	kg_compact_write_field_varint(w, KG_CT_I64, id, kg_compact_zigzag64(v), 10, last);
}

static __always_inline void kg_compact_write_field_double(struct kg_writer *w, s16 id, u64 bits,
							  s16 *last)
{
	u8 *p;

	if (likely(kg_compact_field_fits(w, KG_CT_DOUBLE, id, last, 8, &p))) {
		kg_compact_put_le64(p, bits);
		kg_compact_used(w, p + 8);
		return;
	}
	kg_compact_write_field_slow(w, KG_CT_DOUBLE, id, last);
	kg_compact_write_double(w, bits);
}

static __always_inline void kg_compact_write_field_bytes(struct kg_writer *w, s16 id,
							 struct kg_bytes v, s16 *last)
{
	u8 *p;

	if (likely(v.len <= (u32)S32_MAX &&
		   kg_compact_field_fits(w, KG_CT_BINARY, id, last, 5 + (size_t)v.len, &p))) {
		p = kg_compact_put_varint(p, v.len);
		if (v.len)
			memcpy(p, v.data, v.len);
		kg_compact_used(w, p + v.len);
		return;
	}
	kg_compact_write_field_bytes_slow(w, id, v, last);
}

/* ---- compact: reading ---- */

static __always_inline s32 kg_compact_unzigzag32(u32 n)
{
	return (s32)(n >> 1) ^ -(s32)(n & 1);
}

static __always_inline int kg_compact_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id,
						       s16 *last)
{
	/* Compact type id -> TType; 0xff: not a field type (STOP is handled first). */
	static const u8 ttypes[16] = {
		0xff, KG_T_BOOL, KG_T_BOOL, KG_T_BYTE, KG_T_I16, KG_T_I32, KG_T_I64, KG_T_DOUBLE,
		KG_T_STRING, KG_T_LIST, KG_T_SET, KG_T_MAP, KG_T_STRUCT, KG_T_UUID, 0xff, 0xff,
	};
	u8 b, ct, t;

	if (unlikely(!kg_r_has(r, 1)))
		return kg_reader_short(r, 1);
	b = *r->pos;
	ct = b & 0x0f;
	r->bool_pending = 0;
	if (ct == KG_CT_STOP) {
		r->pos++;
		*ttype = KG_T_STOP;
		*id = 0;
		return 0;
	}
	/* Long form (or a delta past S16_MAX): out of line. */
	if (unlikely(!(b >> 4) || *last > S16_MAX - 15))
		return kg_compact_read_field_slow(r, ttype, id, last);
	t = ttypes[ct];
	if (unlikely(t == 0xff))
		return -EBADMSG;
	r->pos++;
	*last += b >> 4;
	if (t == KG_T_BOOL) {
		r->bool_pending = 1;
		r->bool_value = ct == KG_CT_TRUE;
	}
	*ttype = t;
	*id = *last;
	return 0;
}

/* As kg_binary_take_field(): @header is the short form's byte (never a bool's). */
static __always_inline bool kg_compact_take_field(struct kg_reader *r, u8 header)
{
	if (likely(kg_r_has(r, 1) && *r->pos == header)) {
		r->pos++;
		r->bool_pending = 0;
		return true;
	}
	return false;
}

static __always_inline bool kg_compact_take_stop(struct kg_reader *r)
{
	if (likely(kg_r_has(r, 1) && *r->pos == KG_CT_STOP)) {
		r->pos++;
		r->bool_pending = 0;
		return true;
	}
	return false;
}

static __always_inline int kg_compact_read_bool(struct kg_reader *r, bool *v)
{
	if (r->bool_pending) {
		r->bool_pending = 0;
		*v = r->bool_value;
		return 0;
	}
	if (unlikely(!kg_r_has(r, 1)))
		return kg_reader_short(r, 1);
	*v = *r->pos++ == KG_CT_TRUE;	/* as Apache: anything else is false */
	return 0;
}

static __always_inline int kg_compact_read_byte(struct kg_reader *r, s8 *v)
{
	return kg_binary_read_byte(r, v);
}

/* One-byte varints inline; longer ones (and every error) out of line. */
static __always_inline int kg_compact_read_i16(struct kg_reader *r, s16 *v)
{
	if (likely(kg_r_has(r, 1) && !(r->pos[0] & 0x80))) {
		*v = (s16)kg_compact_unzigzag32(*r->pos++);
		return 0;
	}
	return kg_cpt_read_i16(r, v);
}

static __always_inline int kg_compact_read_i32(struct kg_reader *r, s32 *v)
{
	if (likely(kg_r_has(r, 1) && !(r->pos[0] & 0x80))) {
		*v = kg_compact_unzigzag32(*r->pos++);
		return 0;
	}
	return kg_cpt_read_i32(r, v);
}

static __always_inline int kg_compact_read_i64(struct kg_reader *r, s64 *v)
{
	if (likely(kg_r_has(r, 1) && !(r->pos[0] & 0x80))) {
		*v = kg_compact_unzigzag32(*r->pos++);
		return 0;
	}
	return kg_cpt_read_i64(r, v);
}

static __always_inline int kg_compact_read_double(struct kg_reader *r, u64 *bits)
{
	u64 x = 0;
	int i;

	if (unlikely(!kg_r_has(r, 8)))
		return kg_reader_short(r, 8);
	for (i = 7; i >= 0; i--)
		x = x << 8 | r->pos[i];
	r->pos += 8;
	*bits = x;
	return 0;
}

static __always_inline int kg_compact_read_binary(struct kg_reader *r, struct kg_bytes *v)
{
	u32 len;

	if (unlikely(!kg_r_has(r, 1) || (r->pos[0] & 0x80)))
		return kg_cpt_read_binary(r, v);
	len = r->pos[0];
	if (unlikely(len > r->limits->max_string))
		return -EMSGSIZE;
	r->pos++;
	if (unlikely(!kg_r_has(r, len)))
		return kg_reader_short(r, len);
	v->data = r->pos;
	v->len = len;
	r->pos += len;
	return 0;
}

static __always_inline u32 kg_compact_min_size(u8 ttype)
{
	return ttype == KG_T_DOUBLE ? 8 : ttype == KG_T_UUID ? 16 : 1;
}

/* As kg_binary_read_seq_of(): short headers (fewer than 15 elements) inline. */
static __always_inline int kg_compact_read_seq_of(struct kg_reader *r, u8 want, u8 *elem,
						  u32 *count)
{
	const u8 *p = r->pos;
	u32 n;

	if (unlikely(!kg_r_has(r, 1) || (p[0] & 0x0f) != kg_compact_type(want) ||
		     (p[0] >> 4) == 15 || !kg_reader_may_enter(r)))
		return kg_compact_read_seq_begin(r, elem, count);
	n = p[0] >> 4;
	if (unlikely(!kg_reader_count_ok(r, n, kg_compact_min_size(want), 1)))
		return kg_compact_read_seq_begin(r, elem, count);
	r->depth++;
	r->pos = p + 1;
	*elem = want;
	*count = n;
	return 0;
}

/* As kg_binary_read_map_of(): a one-byte count (1 to 127 pairs) inline. */
static __always_inline int kg_compact_read_map_of(struct kg_reader *r, u8 kwant, u8 vwant,
						  u8 *ktype, u8 *vtype, u32 *count)
{
	const u8 *p = r->pos;
	u32 n;

	if (unlikely(!kg_r_has(r, 2) || !p[0] || (p[0] & 0x80) ||
		     p[1] != (kg_compact_type(kwant) << 4 | kg_compact_type(vwant)) ||
		     !kg_reader_may_enter(r)))
		return kg_compact_read_map_begin(r, ktype, vtype, count);
	n = p[0];
	if (unlikely(!kg_reader_count_ok(r, n, kg_compact_min_size(kwant) +
					 kg_compact_min_size(vwant), 2)))
		return kg_compact_read_map_begin(r, ktype, vtype, count);
	r->depth++;
	r->pos = p + 2;
	*ktype = kwant;
	*vtype = vwant;
	*count = n;
	return 0;
}

static __always_inline int kg_compact_read_string(struct kg_reader *r, struct kg_bytes *v)
{
	return kg_compact_read_binary(r, v);
}

static __always_inline int kg_compact_read_uuid(struct kg_reader *r, u8 v[16])
{
	return kg_binary_read_uuid(r, v);
}

#endif /* _KGEN_PROTO_INLINE_H */
