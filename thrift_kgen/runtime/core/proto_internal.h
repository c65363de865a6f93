/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the protocol implementation: what proto.c (dispatch, depth,
 * skip) shares with each wire format (proto_binary.c, and later
 * proto_compact.c, which adds a kg_cpt_* set with the same shapes and a
 * "case KG_PROTO_COMPACT" in every switch of proto.c).
 */
#ifndef _KGEN_PROTO_INTERNAL_H
#define _KGEN_PROTO_INTERNAL_H

#include "kgen/proto.h"

static inline bool kg_ttype_valid(u8 t)
{
	return t < 32 && (KG_VALID_TTYPES >> t) & 1;
}

static inline size_t kg_r_left(const struct kg_reader *r)
{
	return (size_t)(r->end - r->pos);
}

/* Record that @n more bytes than are left are needed at the current position. */
static inline int kg_r_short(struct kg_reader *r, u64 n)
{
	r->need = (u64)(r->pos - r->start) + n;
	return -ENODATA;
}

/*
 * Reserve @n output bytes: returns where to store them, or NULL when only
 * counting (no buffer, or after an error). Sets the sticky -EMSGSIZE when the
 * buffer is too small; @len keeps counting either way.
 */
static inline u8 *kg_w_reserve(struct kg_writer *w, size_t n)
{
	size_t at = w->len;

	w->len += n;
	if (!w->buf || w->err)
		return NULL;
	/* Invariant while err == 0: at <= cap. */
	if (unlikely(n > w->cap - at)) {
		kg_w_error(w, -EMSGSIZE);
		return NULL;
	}
	return w->buf + at;
}

/* ---- binary protocol (proto_binary.c) ---- */
u32 kg_bin_min_size(u8 ttype);
int kg_bin_read_message_begin(struct kg_reader *r, struct kg_bytes *name, u8 *type, s32 *seqid);
int kg_bin_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id);
int kg_bin_read_list_begin(struct kg_reader *r, u8 *elem, u32 *count);
int kg_bin_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count);
int kg_bin_read_bool(struct kg_reader *r, bool *v);
int kg_bin_read_byte(struct kg_reader *r, s8 *v);
int kg_bin_read_i16(struct kg_reader *r, s16 *v);
int kg_bin_read_i32(struct kg_reader *r, s32 *v);
int kg_bin_read_i64(struct kg_reader *r, s64 *v);
int kg_bin_read_double(struct kg_reader *r, u64 *bits);
int kg_bin_read_binary(struct kg_reader *r, struct kg_bytes *v);
int kg_bin_read_uuid(struct kg_reader *r, u8 v[16]);

void kg_bin_write_message_begin(struct kg_writer *w, const char *name, u32 name_len,
				u8 type, s32 seqid);
void kg_bin_write_field_begin(struct kg_writer *w, u8 ttype, s16 id);
void kg_bin_write_field_stop(struct kg_writer *w);
void kg_bin_write_list_begin(struct kg_writer *w, u8 elem, u32 count);
void kg_bin_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count);
void kg_bin_write_bool(struct kg_writer *w, bool v);
void kg_bin_write_byte(struct kg_writer *w, s8 v);
void kg_bin_write_i16(struct kg_writer *w, s16 v);
void kg_bin_write_i32(struct kg_writer *w, s32 v);
void kg_bin_write_i64(struct kg_writer *w, s64 v);
void kg_bin_write_double(struct kg_writer *w, u64 bits);
void kg_bin_write_binary(struct kg_writer *w, const void *data, u32 len);
void kg_bin_write_uuid(struct kg_writer *w, const u8 v[16]);

/* ---- compact protocol (proto_compact.c) ---- */
u32 kg_cpt_min_size(u8 ttype);
int kg_cpt_read_message_begin(struct kg_reader *r, struct kg_bytes *name, u8 *type, s32 *seqid);
int kg_cpt_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id);
int kg_cpt_read_list_begin(struct kg_reader *r, u8 *elem, u32 *count);
int kg_cpt_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count);
int kg_cpt_read_bool(struct kg_reader *r, bool *v);
int kg_cpt_read_byte(struct kg_reader *r, s8 *v);
int kg_cpt_read_i16(struct kg_reader *r, s16 *v);
int kg_cpt_read_i32(struct kg_reader *r, s32 *v);
int kg_cpt_read_i64(struct kg_reader *r, s64 *v);
int kg_cpt_read_double(struct kg_reader *r, u64 *bits);
int kg_cpt_read_binary(struct kg_reader *r, struct kg_bytes *v);
int kg_cpt_read_uuid(struct kg_reader *r, u8 v[16]);

void kg_cpt_write_message_begin(struct kg_writer *w, const char *name, u32 name_len,
				u8 type, s32 seqid);
void kg_cpt_write_field_begin(struct kg_writer *w, u8 ttype, s16 id);
void kg_cpt_write_field_stop(struct kg_writer *w);
void kg_cpt_write_list_begin(struct kg_writer *w, u8 elem, u32 count);
void kg_cpt_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count);
void kg_cpt_write_bool(struct kg_writer *w, bool v);
void kg_cpt_write_byte(struct kg_writer *w, s8 v);
void kg_cpt_write_i16(struct kg_writer *w, s16 v);
void kg_cpt_write_i32(struct kg_writer *w, s32 v);
void kg_cpt_write_i64(struct kg_writer *w, s64 v);
void kg_cpt_write_double(struct kg_writer *w, u64 bits);
void kg_cpt_write_binary(struct kg_writer *w, const void *data, u32 len);
void kg_cpt_write_uuid(struct kg_writer *w, const u8 v[16]);

/* ---- shared by proto.c's kg_skip() and frame.c's resumable skip ---- */
int kg_read_seq_header(struct kg_reader *r, u8 *elem, u32 *count);
int kg_read_map_header(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count);
int kg_skip_scalar(struct kg_reader *r, u8 ttype);

static inline u32 kg_max_depth(const struct kg_reader *r)
{
	return min_t(u32, r->limits->max_depth, KG_MAX_DEPTH);
}

static inline u32 kg_min_size(const struct kg_reader *r, u8 ttype)
{
	switch (r->proto) {
	case KG_PROTO_BINARY:
		return kg_bin_min_size(ttype);
	case KG_PROTO_COMPACT:
		return kg_cpt_min_size(ttype);
	default:
		return 1;
	}
}

/*
 * What a container header's count must pass whatever the input: valid
 * element types (when there are elements) and max_container. *@least is the
 * fewest bytes that many elements take: how much input must follow.
 */
static inline int kg_container_check(const struct kg_reader *r, u32 count, u8 t1, u8 t2,
				     bool pair, u64 *least)
{
	u64 each;

	if (count && (!kg_ttype_valid(t1) || (pair && !kg_ttype_valid(t2))))
		return -EBADMSG;
	if (count > r->limits->max_container)
		return -EMSGSIZE;
	each = kg_min_size(r, t1);
	if (pair)
		each += kg_min_size(r, t2);
	*least = (u64)count * each;
	return 0;
}

#endif /* _KGEN_PROTO_INTERNAL_H */
