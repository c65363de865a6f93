// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol-independent half of kgen/proto.h: limits, nesting depth,
 * container checks, skipping, arena allocation, TApplicationException, and a
 * switch on r->proto / w->proto in front of each wire-format function.
 *
 * A switch rather than a table of function pointers: it is a predictable
 * branch and there are no indirect calls (retpolines) on the hot path.
 * Binary is in proto_binary.c, compact in proto_compact.c; a further wire
 * format adds its functions to proto_internal.h and a case to each switch.
 */
#include "proto_internal.h"

/*
 * Defaults: max_frame as Apache; a string may fill a whole frame; a million
 * elements per container (the element-size check below usually bites
 * first); 64 levels; 1 MiB of decoded data (containers and nested structs
 * only: strings are zero-copy) per message.
 */
const struct kg_limits kg_default_limits = {
	.max_frame = KG_DEFAULT_MAX_FRAME,
	.max_string = KG_DEFAULT_MAX_FRAME,
	.max_container = 1u << 20,
	.max_depth = KG_MAX_DEPTH,
	.arena_size = 1u << 20,
};

/**
 * kg_writer_init() - start writing into a buffer, or counting
 * @w: the writer
 * @buf: where to write; NULL to only count bytes
 * @cap: bytes available at @buf
 * @proto: enum kg_protocol
 */
void kg_writer_init(struct kg_writer *w, void *buf, size_t cap, u8 proto)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->err = 0;
	w->proto = proto;
	w->depth = 0;
	w->bool_pending = 0;
	w->bool_fid = 0;
	w->last_fid[0] = 0;
}

/**
 * kg_reader_short() - the input ends before @n more bytes: -ENODATA
 * @r: the reader
 * @n: bytes needed at the current position
 *
 * Return: -ENODATA, with r->need set (see struct kg_reader).
 */
int kg_reader_short(struct kg_reader *r, u64 n)
{
	return kg_r_short(r, n);
}

/**
 * kg_writer_overflow() - @n bytes do not fit: count them, store nothing more
 * @w: the writer
 * @n: the bytes that did not fit
 *
 * Sets the sticky -EMSGSIZE unless only counting; w->len goes on counting
 * so that it ends as the size the whole value needs.
 */
void kg_writer_overflow(struct kg_writer *w, size_t n)
{
	w->len += n;
	if (w->buf)
		kg_w_error(w, -EMSGSIZE);
}

/* Enter a struct or container: the depth limit guards stacks and last_fid[]. */
static inline int kg_enter(struct kg_reader *r)
{
	if (unlikely(r->depth >= kg_max_depth(r)))
		return -EMSGSIZE;
	r->depth++;
	r->last_fid[r->depth] = 0;
	return 0;
}

static inline void kg_leave(struct kg_reader *r)
{
	if (likely(r->depth))
		r->depth--;
}

/*
 * A container count is refused when over the limit, or when even the
 * smallest encoding of that many elements does not fit the remaining input.
 * The latter is -ENODATA, not -EBADMSG: the input may be a prefix of a
 * longer message (unframed transport), so it means "not here (yet)", and
 * kg_frame_next() turns it into -EAGAIN or, at max_frame, -EMSGSIZE. Either
 * way nothing is allocated for a count the input cannot back.
 */
static int kg_check_count(struct kg_reader *r, u32 count, u8 t1, u8 t2, bool pair)
{
	u64 least;
	int err;

	err = kg_container_check(r, count, t1, t2, pair, &least);
	if (err)
		return err;
	if (least > kg_r_left(r))
		return kg_r_short(r, least);
	return 0;
}

/**
 * kg_read_message_begin() - read a message header
 * @r: the reader
 * @name: set to the method name (a view into the message)
 * @type: set to the message type (enum kg_msg_type, validated)
 * @seqid: set to the sequence id
 *
 * Binary: strict (versioned) and old-style headers are both accepted.
 *
 * Return: 0, -ENODATA, -EBADMSG (bad version or type), -EMSGSIZE (name over
 * max_string) or -EPROTONOSUPPORT.
 */
int kg_read_message_begin(struct kg_reader *r, struct kg_bytes *name, u8 *type, s32 *seqid)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_message_begin(r, name, type, seqid);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_message_begin(r, name, type, seqid);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_message_end() - finish reading a message
 * @r: the reader
 *
 * Return: 0.
 */
int kg_read_message_end(struct kg_reader *r)
{
	return 0;
}

/**
 * kg_read_struct_begin() - enter a struct
 * @r: the reader
 *
 * Return: 0, or -EMSGSIZE when nesting would exceed limits->max_depth.
 */
int kg_read_struct_begin(struct kg_reader *r)
{
	return kg_enter(r);
}

/**
 * kg_read_struct_end() - leave a struct (after its STOP was read)
 * @r: the reader
 *
 * Return: 0.
 */
int kg_read_struct_end(struct kg_reader *r)
{
	kg_leave(r);
	return 0;
}

/**
 * kg_read_field_begin() - read a field header, or the STOP ending a struct
 * @r: the reader
 * @ttype: set to the field's type id, KG_T_STOP at the end
 * @id: set to the field id, 0 at the end
 *
 * Return: 0, -ENODATA, -EBADMSG (invalid type id) or -EPROTONOSUPPORT.
 */
int kg_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_field_begin(r, ttype, id);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_field_begin(r, ttype, id);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_field_end() - finish reading a field
 * @r: the reader
 *
 * Return: 0.
 */
int kg_read_field_end(struct kg_reader *r)
{
	return 0;
}

/**
 * kg_read_seq_header() - read a list or set header, nothing more
 * @r: the reader
 * @elem: set to the element type id (not checked)
 * @count: set to the element count (not checked against limits)
 *
 * Return: 0, -ENODATA, -EBADMSG or -EPROTONOSUPPORT.
 */
int kg_read_seq_header(struct kg_reader *r, u8 *elem, u32 *count)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_list_begin(r, elem, count);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_list_begin(r, elem, count);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_map_header() - read a map header, nothing more
 * @r: the reader
 * @ktype: set to the key type id (not checked)
 * @vtype: set to the value type id (not checked)
 * @count: set to the number of pairs (not checked against limits)
 *
 * Return: 0, -ENODATA, -EBADMSG or -EPROTONOSUPPORT.
 */
int kg_read_map_header(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_map_begin(r, ktype, vtype, count);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_map_begin(r, ktype, vtype, count);
	default:
		return -EPROTONOSUPPORT;
	}
}

static int kg_read_seq_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	int err;

	err = kg_enter(r);
	if (err)
		return err;
	err = kg_read_seq_header(r, elem, count);
	if (!err)
		err = kg_check_count(r, *count, *elem, 0, false);
	return err;
}

/**
 * kg_binary_read_seq_begin() - kg_read_list_begin() / kg_read_set_begin(), binary
 * @r: the reader (r->proto is KG_PROTO_BINARY)
 * @elem: set to the element type id
 * @count: set to the element count
 *
 * Return: as kg_read_list_begin().
 */
int kg_binary_read_seq_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	int err;

	err = kg_enter(r);
	if (!err)
		err = kg_bin_read_list_begin(r, elem, count);
	if (!err)
		err = kg_check_count(r, *count, *elem, 0, false);
	return err;
}

/**
 * kg_compact_read_seq_begin() - kg_read_list_begin() / kg_read_set_begin(), compact
 * @r: the reader (r->proto is KG_PROTO_COMPACT)
 * @elem: set to the element type id
 * @count: set to the element count
 *
 * Return: as kg_read_list_begin().
 */
int kg_compact_read_seq_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	int err;

	err = kg_enter(r);
	if (!err)
		err = kg_cpt_read_list_begin(r, elem, count);
	if (!err)
		err = kg_check_count(r, *count, *elem, 0, false);
	return err;
}

/**
 * kg_binary_read_map_begin() - kg_read_map_begin(), binary
 * @r: the reader (r->proto is KG_PROTO_BINARY)
 * @ktype: set to the key type id
 * @vtype: set to the value type id
 * @count: set to the number of pairs
 *
 * Return: as kg_read_map_begin().
 */
int kg_binary_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count)
{
	int err;

	err = kg_enter(r);
	if (!err)
		err = kg_bin_read_map_begin(r, ktype, vtype, count);
	if (!err)
		err = kg_check_count(r, *count, *ktype, *vtype, true);
	return err;
}

/**
 * kg_compact_read_map_begin() - kg_read_map_begin(), compact
 * @r: the reader (r->proto is KG_PROTO_COMPACT)
 * @ktype: set to the key type id
 * @vtype: set to the value type id
 * @count: set to the number of pairs
 *
 * Return: as kg_read_map_begin().
 */
int kg_compact_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count)
{
	int err;

	err = kg_enter(r);
	if (!err)
		err = kg_cpt_read_map_begin(r, ktype, vtype, count);
	if (!err)
		err = kg_check_count(r, *count, *ktype, *vtype, true);
	return err;
}

/**
 * kg_read_list_begin() - read a list header and enter the list
 * @r: the reader
 * @elem: set to the element type id
 * @count: set to the element count
 *
 * Return: 0, -ENODATA (input too short for @count elements), -EBADMSG
 * (negative count, invalid element type) or -EMSGSIZE (count over
 * max_container, or nesting over max_depth).
 */
int kg_read_list_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	return kg_read_seq_begin(r, elem, count);
}

/**
 * kg_read_list_end() - leave a list
 * @r: the reader
 *
 * Return: 0.
 */
int kg_read_list_end(struct kg_reader *r)
{
	kg_leave(r);
	return 0;
}

/**
 * kg_read_set_begin() - read a set header and enter the set
 * @r: the reader
 * @elem: set to the element type id
 * @count: set to the element count
 *
 * Return: as kg_read_list_begin().
 */
int kg_read_set_begin(struct kg_reader *r, u8 *elem, u32 *count)
{
	return kg_read_seq_begin(r, elem, count);
}

/**
 * kg_read_set_end() - leave a set
 * @r: the reader
 *
 * Return: 0.
 */
int kg_read_set_end(struct kg_reader *r)
{
	kg_leave(r);
	return 0;
}

/**
 * kg_read_map_begin() - read a map header and enter the map
 * @r: the reader
 * @ktype: set to the key type id
 * @vtype: set to the value type id
 * @count: set to the number of pairs
 *
 * Return: as kg_read_list_begin().
 */
int kg_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count)
{
	int err;

	err = kg_enter(r);
	if (err)
		return err;
	err = kg_read_map_header(r, ktype, vtype, count);
	if (!err)
		err = kg_check_count(r, *count, *ktype, *vtype, true);
	return err;
}

/**
 * kg_read_map_end() - leave a map
 * @r: the reader
 *
 * Return: 0.
 */
int kg_read_map_end(struct kg_reader *r)
{
	kg_leave(r);
	return 0;
}

/**
 * kg_read_bool() - read a bool
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_bool(struct kg_reader *r, bool *v)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_bool(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_bool(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_byte() - read an i8
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_byte(struct kg_reader *r, s8 *v)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_byte(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_byte(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_i16() - read an i16
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_i16(struct kg_reader *r, s16 *v)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_i16(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_i16(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_i32() - read an i32
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_i32(struct kg_reader *r, s32 *v)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_i32(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_i32(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_i64() - read an i64
 * @r: the reader
 * @v: set to the value
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_i64(struct kg_reader *r, s64 *v)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_i64(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_i64(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_double() - read a double as its IEEE-754 bit pattern
 * @r: the reader
 * @bits: set to the bits
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_double(struct kg_reader *r, u64 *bits)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_double(r, bits);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_double(r, bits);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_binary() - read a binary as a view into the message
 * @r: the reader
 * @v: set to the bytes (valid as long as the message is)
 *
 * Return: 0, -ENODATA, -EBADMSG (negative length), -EMSGSIZE (over
 * limits->max_string) or -EPROTONOSUPPORT.
 */
int kg_read_binary(struct kg_reader *r, struct kg_bytes *v)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_binary(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_binary(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/**
 * kg_read_string() - read a string as a view into the message
 * @r: the reader
 * @v: set to the bytes (not NUL-terminated; UTF-8 is not checked)
 *
 * Return: as kg_read_binary().
 */
int kg_read_string(struct kg_reader *r, struct kg_bytes *v)
{
	return kg_read_binary(r, v);
}

/**
 * kg_read_uuid() - read a UUID
 * @r: the reader
 * @v: set to its 16 bytes
 *
 * Return: 0, -ENODATA or -EPROTONOSUPPORT.
 */
int kg_read_uuid(struct kg_reader *r, u8 v[16])
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_read_uuid(r, v);
	case KG_PROTO_COMPACT:
		return kg_cpt_read_uuid(r, v);
	default:
		return -EPROTONOSUPPORT;
	}
}

/* One open struct or container during kg_skip(). */
struct kg_skip_frame {
	u8 kind;		/* KG_T_STRUCT, _LIST, _SET or _MAP */
	u8 t1;			/* element or key type */
	u8 t2;			/* value type */
	u8 key_done;		/* map: the current pair's key was skipped */
	u32 left;		/* elements or pairs not yet started */
};

/**
 * kg_skip_scalar() - skip one value that is not a struct or container
 * @r: the reader
 * @ttype: its type id
 *
 * Return: 0, -ENODATA, -EBADMSG (not a scalar type id), -EMSGSIZE or
 * -EPROTONOSUPPORT.
 */
int kg_skip_scalar(struct kg_reader *r, u8 ttype)
{
	union {
		bool b;
		s8 i8;
		s16 i16;
		s32 i32;
		s64 i64;
		u64 bits;
		struct kg_bytes bytes;
		u8 uuid[16];
	} v;

	switch (ttype) {
	case KG_T_BOOL:
		return kg_read_bool(r, &v.b);
	case KG_T_BYTE:
		return kg_read_byte(r, &v.i8);
	case KG_T_I16:
		return kg_read_i16(r, &v.i16);
	case KG_T_I32:
		return kg_read_i32(r, &v.i32);
	case KG_T_I64:
		return kg_read_i64(r, &v.i64);
	case KG_T_DOUBLE:
		return kg_read_double(r, &v.bits);
	case KG_T_STRING:
		return kg_read_binary(r, &v.bytes);
	case KG_T_UUID:
		return kg_read_uuid(r, v.uuid);
	default:
		return -EBADMSG;
	}
}

/**
 * kg_skip() - skip one value of any type
 * @r: the reader
 * @ttype: its type id
 *
 * Iterative, with an explicit stack bounded by KG_MAX_DEPTH (about 512
 * bytes), so hostile nesting costs no kernel stack; nesting beyond
 * limits->max_depth is refused, like everything kg_read_*() refuses.
 *
 * Return: 0, -ENODATA, -EBADMSG (invalid type id...), -EMSGSIZE or
 * -EPROTONOSUPPORT.
 */
int kg_skip(struct kg_reader *r, u8 ttype)
{
	struct kg_skip_frame stack[KG_MAX_DEPTH];
	struct kg_skip_frame *f;
	int top = -1;
	u8 t = ttype;
	s16 id;
	int err;

	for (;;) {
		/* Start the value of type t. */
		switch (t) {
		case KG_T_STRUCT:
		case KG_T_LIST:
		case KG_T_SET:
		case KG_T_MAP:
			if (unlikely(top + 1 >= KG_MAX_DEPTH))
				return -EMSGSIZE;
			f = &stack[++top];
			f->kind = t;
			f->key_done = 0;
			f->t2 = 0;
			if (t == KG_T_STRUCT)
				err = kg_read_struct_begin(r);
			else if (t == KG_T_MAP)
				err = kg_read_map_begin(r, &f->t1, &f->t2, &f->left);
			else if (t == KG_T_SET)
				err = kg_read_set_begin(r, &f->t1, &f->left);
			else
				err = kg_read_list_begin(r, &f->t1, &f->left);
			break;
		default:
			err = kg_skip_scalar(r, t);
			break;
		}
		if (err)
			return err;

		/* Find the next value to start, closing what is finished. */
		for (;;) {
			if (top < 0)
				return 0;
			f = &stack[top];
			if (f->kind == KG_T_STRUCT) {
				err = kg_read_field_begin(r, &t, &id);
				if (err)
					return err;
				if (t != KG_T_STOP)
					break;
				kg_read_struct_end(r);
			} else if (f->kind == KG_T_MAP) {
				if (f->key_done) {
					f->key_done = 0;
					t = f->t2;
					break;
				}
				if (f->left) {
					f->left--;
					f->key_done = 1;
					t = f->t1;
					break;
				}
				kg_read_map_end(r);
			} else {
				if (f->left) {
					f->left--;
					t = f->t1;
					break;
				}
				if (f->kind == KG_T_SET)
					kg_read_set_end(r);
				else
					kg_read_list_end(r);
			}
			top--;
		}
	}
}

/**
 * kg_read_alloc() - allocate decoded elements from the reader's arena
 * @r: the reader
 * @count: number of elements
 * @size: bytes per element
 *
 * Return: zeroed memory aligned to KG_ARENA_ALIGN, or NULL (no arena, the
 * arena is full, or @count * @size overflows): callers return -ENOMEM.
 */
void *kg_read_alloc(struct kg_reader *r, u32 count, size_t size)
{
	size_t bytes;

	if (unlikely(!r->arena))
		return NULL;
	if (unlikely(check_mul_overflow((size_t)count, size, &bytes)))
		return NULL;
	return kg_arena_alloc(r->arena, bytes, KG_ARENA_ALIGN);
}

/* ---- writing ---- */

/**
 * kg_write_message_begin() - write a message header (strict, for binary)
 * @w: the writer
 * @name: the method name
 * @name_len: its length
 * @type: enum kg_msg_type
 * @seqid: the sequence id
 */
void kg_write_message_begin(struct kg_writer *w, const char *name, u32 name_len, u8 type,
			    s32 seqid)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_message_begin(w, name, name_len, type, seqid);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_message_begin(w, name, name_len, type, seqid);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_message_end() - finish writing a message
 * @w: the writer
 */
void kg_write_message_end(struct kg_writer *w)
{
}

/**
 * kg_write_struct_begin() - enter a struct
 * @w: the writer
 *
 * Nesting deeper than KG_MAX_DEPTH sets the sticky error -EMSGSIZE.
 */
void kg_write_struct_begin(struct kg_writer *w)
{
	if (unlikely(w->depth >= KG_MAX_DEPTH)) {
		kg_w_error(w, -EMSGSIZE);
		return;
	}
	w->depth++;
	w->last_fid[w->depth] = 0;
}

/**
 * kg_write_struct_end() - leave a struct (after its STOP was written)
 * @w: the writer
 */
void kg_write_struct_end(struct kg_writer *w)
{
	if (likely(w->depth))
		w->depth--;
}

/**
 * kg_write_field_begin() - write a field header
 * @w: the writer
 * @ttype: the field's type id
 * @id: the field id
 */
void kg_write_field_begin(struct kg_writer *w, u8 ttype, s16 id)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_field_begin(w, ttype, id);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_field_begin(w, ttype, id);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_field_end() - finish writing a field
 * @w: the writer
 */
void kg_write_field_end(struct kg_writer *w)
{
}

/**
 * kg_write_field_stop() - write the STOP that ends a struct
 * @w: the writer
 */
void kg_write_field_stop(struct kg_writer *w)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_field_stop(w);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_field_stop(w);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

static void kg_write_seq_begin(struct kg_writer *w, u8 elem, u32 count)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_list_begin(w, elem, count);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_list_begin(w, elem, count);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_list_begin() - write a list header
 * @w: the writer
 * @elem: the element type id
 * @count: the element count
 */
void kg_write_list_begin(struct kg_writer *w, u8 elem, u32 count)
{
	kg_write_seq_begin(w, elem, count);
}

/**
 * kg_write_list_end() - finish writing a list
 * @w: the writer
 */
void kg_write_list_end(struct kg_writer *w)
{
}

/**
 * kg_write_set_begin() - write a set header
 * @w: the writer
 * @elem: the element type id
 * @count: the element count
 */
void kg_write_set_begin(struct kg_writer *w, u8 elem, u32 count)
{
	kg_write_seq_begin(w, elem, count);
}

/**
 * kg_write_set_end() - finish writing a set
 * @w: the writer
 */
void kg_write_set_end(struct kg_writer *w)
{
}

/**
 * kg_write_map_begin() - write a map header
 * @w: the writer
 * @ktype: the key type id
 * @vtype: the value type id
 * @count: the number of pairs
 */
void kg_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_map_begin(w, ktype, vtype, count);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_map_begin(w, ktype, vtype, count);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_map_end() - finish writing a map
 * @w: the writer
 */
void kg_write_map_end(struct kg_writer *w)
{
}

/**
 * kg_write_bool() - write a bool
 * @w: the writer
 * @v: the value
 */
void kg_write_bool(struct kg_writer *w, bool v)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_bool(w, v);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_bool(w, v);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_byte() - write an i8
 * @w: the writer
 * @v: the value
 */
void kg_write_byte(struct kg_writer *w, s8 v)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_byte(w, v);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_byte(w, v);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_i16() - write an i16
 * @w: the writer
 * @v: the value
 */
void kg_write_i16(struct kg_writer *w, s16 v)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_i16(w, v);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_i16(w, v);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_i32() - write an i32
 * @w: the writer
 * @v: the value
 */
void kg_write_i32(struct kg_writer *w, s32 v)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_i32(w, v);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_i32(w, v);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_i64() - write an i64
 * @w: the writer
 * @v: the value
 */
void kg_write_i64(struct kg_writer *w, s64 v)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_i64(w, v);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_i64(w, v);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_double() - write a double given as its IEEE-754 bit pattern
 * @w: the writer
 * @bits: the bits
 */
void kg_write_double(struct kg_writer *w, u64 bits)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_double(w, bits);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_double(w, bits);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_binary() - write a binary
 * @w: the writer
 * @data: the bytes (may be NULL when @len is 0)
 * @len: how many
 */
void kg_write_binary(struct kg_writer *w, const void *data, u32 len)
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_binary(w, data, len);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_binary(w, data, len);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/**
 * kg_write_string() - write a string
 * @w: the writer
 * @s: the bytes (need not be NUL-terminated)
 * @len: how many
 */
void kg_write_string(struct kg_writer *w, const char *s, u32 len)
{
	kg_write_binary(w, s, len);
}

/**
 * kg_write_uuid() - write a UUID
 * @w: the writer
 * @v: its 16 bytes
 */
void kg_write_uuid(struct kg_writer *w, const u8 v[16])
{
	switch (w->proto) {
	case KG_PROTO_BINARY:
		kg_bin_write_uuid(w, v);
		break;
	case KG_PROTO_COMPACT:
		kg_cpt_write_uuid(w, v);
		break;
	default:
		kg_w_error(w, -EPROTONOSUPPORT);
		break;
	}
}

/* ---- TApplicationException ---- */

#define KG_APPEX_FIELD_MESSAGE	1
#define KG_APPEX_FIELD_TYPE	2

/**
 * kg_write_app_exception() - write a whole TApplicationException message
 * @w: the writer
 * @method: the method name of the call being answered
 * @seqid: the call's sequence id
 * @type: enum kg_app_exception_type
 * @message: NUL-terminated text; NULL leaves the message field out
 */
void kg_write_app_exception(struct kg_writer *w, struct kg_bytes method, s32 seqid,
			    u32 type, const char *message)
{
	kg_write_message_begin(w, (const char *)method.data, method.len, KG_MSG_EXCEPTION,
			       seqid);
	kg_write_struct_begin(w);
	if (message) {
		kg_write_field_begin(w, KG_T_STRING, KG_APPEX_FIELD_MESSAGE);
		kg_write_string(w, message, (u32)strlen(message));
		kg_write_field_end(w);
	}
	kg_write_field_begin(w, KG_T_I32, KG_APPEX_FIELD_TYPE);
	kg_write_i32(w, (s32)type);
	kg_write_field_end(w);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	kg_write_message_end(w);
}

/**
 * kg_read_app_exception() - read a TApplicationException struct
 * @r: the reader, positioned after an EXCEPTION message header
 * @type: set to the exception type (KG_APPEX_UNKNOWN if absent)
 * @msg: set to the message text, a view into the input (empty if absent)
 *
 * Unknown fields are skipped, as Apache does; the message end is not read.
 *
 * Return: 0 or a negative errno as the kg_read_*() functions.
 */
int kg_read_app_exception(struct kg_reader *r, u32 *type, struct kg_bytes *msg)
{
	u8 ttype;
	s16 id;
	s32 t;
	int err;

	*type = KG_APPEX_UNKNOWN;
	msg->data = NULL;
	msg->len = 0;
	err = kg_read_struct_begin(r);
	if (err)
		return err;
	for (;;) {
		err = kg_read_field_begin(r, &ttype, &id);
		if (err)
			return err;
		if (ttype == KG_T_STOP)
			break;
		if (id == KG_APPEX_FIELD_MESSAGE && ttype == KG_T_STRING) {
			err = kg_read_string(r, msg);
		} else if (id == KG_APPEX_FIELD_TYPE && ttype == KG_T_I32) {
			err = kg_read_i32(r, &t);
			*type = (u32)t;
		} else {
			err = kg_skip(r, ttype);
		}
		if (err)
			return err;
		kg_read_field_end(r);
	}
	return kg_read_struct_end(r);
}
