/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thrift wire protocol: the one interface generated code uses to read and write.
 *
 * The kg_read_* / kg_write_* functions below speak the wire format chosen by
 * reader->proto / writer->proto at run time (binary or compact). Generated
 * code has one body per format instead, over the inline primitives of
 * kgen/proto_inline.h (same bytes, same checks), chosen once per value.
 *
 * Readers work over one contiguous, complete message and never allocate:
 * strings and binaries are returned as views into the message (zero copy);
 * containers are allocated from the per-message arena. Every read is
 * bounds-checked and returns 0 or a negative errno:
 *   -ENODATA   the input ended early (transport code turns this into "need
 *              more bytes"; for a complete message it means malformed)
 *   -EBADMSG   malformed input (bad type id, negative size, bad version...)
 *   -EMSGSIZE  a limit in struct kg_limits was exceeded
 *   -ENOMEM    the arena is full
 *   -EPROTONOSUPPORT  reader->proto is not a protocol this build speaks
 * A container count that the remaining input cannot hold, even at the
 * smallest encoding of its element type, is -ENODATA (the input may be a
 * prefix: unframed transport), found before anything is allocated for it.
 * Nesting deeper than limits->max_depth is -EMSGSIZE.
 * On error the reader's position is unspecified: callers stop decoding.
 *
 * Writers have a sticky error: every kg_write_* is void; the first failure
 * (-EMSGSIZE when the buffer is too small) is kept in writer->err and later
 * writes only count bytes (so after -EMSGSIZE, writer->len is the size the
 * whole value needs: a caller may grow its buffer and encode once more). A
 * writer with buf == NULL just counts (<struct>_encoded_size()).
 *
 * Generated code does not call these per field: it has one body per wire
 * format over the inline primitives of kgen/proto_inline.h.
 *
 * Doubles travel as their IEEE-754 bit pattern in a u64: kernel code may
 * not use the FPU, and nothing here needs the value.
 */
#ifndef _KGEN_PROTO_H
#define _KGEN_PROTO_H

#include "compat.h"
#include "arena.h"

/* Thrift type ids on the wire (TType). */
enum kg_ttype {
	KG_T_STOP = 0,
	KG_T_VOID = 1,
	KG_T_BOOL = 2,
	KG_T_BYTE = 3,		/* also i8 */
	KG_T_DOUBLE = 4,
	KG_T_I16 = 6,
	KG_T_I32 = 8,
	KG_T_I64 = 10,
	KG_T_STRING = 11,	/* also binary */
	KG_T_STRUCT = 12,
	KG_T_MAP = 13,
	KG_T_SET = 14,
	KG_T_LIST = 15,
	KG_T_UUID = 16,
};

enum kg_msg_type {
	KG_MSG_CALL = 1,
	KG_MSG_REPLY = 2,
	KG_MSG_EXCEPTION = 3,
	KG_MSG_ONEWAY = 4,
};

enum kg_protocol {
	KG_PROTO_BINARY = 0,
	KG_PROTO_COMPACT = 1,
	/*
	 * Servers only: each connection's protocol is found from its first
	 * message (kg_frame_detect_proto()); readers and writers never see it.
	 */
	KG_PROTO_AUTO = 2,
};

/* A view of bytes inside a received message (not NUL-terminated). */
struct kg_bytes {
	const u8 *data;
	u32 len;
};

/* Limits that bound what one message may make us do. */
struct kg_limits {
	u32 max_frame;		/* bytes in one message (framed: the frame) */
	u32 max_string;		/* bytes in one string or binary */
	u32 max_container;	/* elements in one list, set or map */
	u32 max_depth;		/* nesting of structs and containers, <= KG_MAX_DEPTH */
	u32 arena_size;		/* bytes of decoded data per message */
};

#define KG_MAX_DEPTH		64
#define KG_DEFAULT_MAX_FRAME	16384000	/* Apache's default */

extern const struct kg_limits kg_default_limits;

struct kg_reader {
	const u8 *start;
	const u8 *pos;
	const u8 *end;
	struct kg_arena *arena;
	const struct kg_limits *limits;
	u8 proto;		/* enum kg_protocol */
	u8 depth;
	/* compact protocol state */
	u8 bool_pending;	/* a bool value carried in the field header */
	u8 bool_value;
	s16 last_fid[KG_MAX_DEPTH + 1];
	/*
	 * After -ENODATA: a lower bound on the length of input that could get
	 * further (offset of the value being read + its size, or + the least
	 * its container's elements take). Lets unframed framing wait for that
	 * many bytes instead of re-parsing on every arrival.
	 */
	u64 need;
};

struct kg_writer {
	u8 *buf;		/* NULL: count only */
	size_t cap;
	size_t len;		/* bytes written, or that would have been */
	int err;		/* sticky: 0 or the first negative errno */
	u8 proto;
	u8 depth;
	/* compact protocol state */
	u8 bool_pending;
	s16 bool_fid;
	s16 last_fid[KG_MAX_DEPTH + 1];
};

/**
 * kg_reader_init() - start reading one complete message
 * @r: the reader
 * @data: the message bytes (frame header excluded)
 * @len: their length
 * @proto: enum kg_protocol
 * @arena: where containers are allocated (may be NULL when nothing is)
 * @limits: bounds on what the message may make us do; NULL for defaults
 *
 * Inline: a server sets one up per message.
 */
static inline void kg_reader_init(struct kg_reader *r, const void *data, size_t len, u8 proto,
				  struct kg_arena *arena, const struct kg_limits *limits)
{
	/* Not a memset of last_fid[]: each level's entry is reset as it is entered. */
	r->start = data;
	r->pos = data;
	r->end = r->start + len;
	r->arena = arena;
	r->limits = limits ? limits : &kg_default_limits;
	r->proto = proto;
	r->depth = 0;
	r->bool_pending = 0;
	r->bool_value = 0;
	r->last_fid[0] = 0;
	r->need = 0;
}

void kg_writer_init(struct kg_writer *w, void *buf, size_t cap, u8 proto);
static inline void kg_writer_init_count(struct kg_writer *w, u8 proto)
{
	kg_writer_init(w, NULL, 0, proto);
}

/* ---- reading ---- */
int kg_read_message_begin(struct kg_reader *r, struct kg_bytes *name, u8 *type, s32 *seqid);
int kg_read_message_end(struct kg_reader *r);
int kg_read_struct_begin(struct kg_reader *r);
int kg_read_struct_end(struct kg_reader *r);
/* *ttype == KG_T_STOP at the end of the struct (then *id is 0). */
int kg_read_field_begin(struct kg_reader *r, u8 *ttype, s16 *id);
int kg_read_field_end(struct kg_reader *r);
/* Counts are checked against limits->max_container and the bytes left. */
int kg_read_list_begin(struct kg_reader *r, u8 *elem, u32 *count);
int kg_read_list_end(struct kg_reader *r);
int kg_read_set_begin(struct kg_reader *r, u8 *elem, u32 *count);
int kg_read_set_end(struct kg_reader *r);
int kg_read_map_begin(struct kg_reader *r, u8 *ktype, u8 *vtype, u32 *count);
int kg_read_map_end(struct kg_reader *r);
int kg_read_bool(struct kg_reader *r, bool *v);
int kg_read_byte(struct kg_reader *r, s8 *v);
int kg_read_i16(struct kg_reader *r, s16 *v);
int kg_read_i32(struct kg_reader *r, s32 *v);
int kg_read_i64(struct kg_reader *r, s64 *v);
int kg_read_double(struct kg_reader *r, u64 *bits);
/* Zero-copy; length checked against limits->max_string. */
int kg_read_binary(struct kg_reader *r, struct kg_bytes *v);
int kg_read_string(struct kg_reader *r, struct kg_bytes *v);
int kg_read_uuid(struct kg_reader *r, u8 v[16]);
/* Skip one value of type ttype; refuses invalid type ids and deep nesting. */
int kg_skip(struct kg_reader *r, u8 ttype);

/* Allocate count elements of size from the reader's arena (zeroed). */
void *kg_read_alloc(struct kg_reader *r, u32 count, size_t size);

/* Bytes consumed so far / still unread. */
static inline size_t kg_reader_offset(const struct kg_reader *r)
{
	return (size_t)(r->pos - r->start);
}

static inline size_t kg_reader_remaining(const struct kg_reader *r)
{
	return (size_t)(r->end - r->pos);
}

/* ---- writing ---- */
void kg_write_message_begin(struct kg_writer *w, const char *name, u32 name_len, u8 type,
			    s32 seqid);
void kg_write_message_end(struct kg_writer *w);
void kg_write_struct_begin(struct kg_writer *w);
void kg_write_struct_end(struct kg_writer *w);
void kg_write_field_begin(struct kg_writer *w, u8 ttype, s16 id);
void kg_write_field_end(struct kg_writer *w);
void kg_write_field_stop(struct kg_writer *w);
void kg_write_list_begin(struct kg_writer *w, u8 elem, u32 count);
void kg_write_list_end(struct kg_writer *w);
void kg_write_set_begin(struct kg_writer *w, u8 elem, u32 count);
void kg_write_set_end(struct kg_writer *w);
void kg_write_map_begin(struct kg_writer *w, u8 ktype, u8 vtype, u32 count);
void kg_write_map_end(struct kg_writer *w);
void kg_write_bool(struct kg_writer *w, bool v);
void kg_write_byte(struct kg_writer *w, s8 v);
void kg_write_i16(struct kg_writer *w, s16 v);
void kg_write_i32(struct kg_writer *w, s32 v);
void kg_write_i64(struct kg_writer *w, s64 v);
void kg_write_double(struct kg_writer *w, u64 bits);
void kg_write_binary(struct kg_writer *w, const void *data, u32 len);
static inline void kg_write_bytes(struct kg_writer *w, struct kg_bytes v)
{
	kg_write_binary(w, v.data, v.len);
}
void kg_write_string(struct kg_writer *w, const char *s, u32 len);
void kg_write_uuid(struct kg_writer *w, const u8 v[16]);

/* ---- TApplicationException ---- */
enum kg_app_exception_type {
	KG_APPEX_UNKNOWN = 0,
	KG_APPEX_UNKNOWN_METHOD = 1,
	KG_APPEX_INVALID_MESSAGE_TYPE = 2,
	KG_APPEX_WRONG_METHOD_NAME = 3,
	KG_APPEX_BAD_SEQUENCE_ID = 4,
	KG_APPEX_MISSING_RESULT = 5,
	KG_APPEX_INTERNAL_ERROR = 6,
	KG_APPEX_PROTOCOL_ERROR = 7,
	KG_APPEX_INVALID_TRANSFORM = 8,
	KG_APPEX_INVALID_PROTOCOL = 9,
	KG_APPEX_UNSUPPORTED_CLIENT_TYPE = 10,
};

/* A whole EXCEPTION message: header, {1: message, 2: type}, end. */
void kg_write_app_exception(struct kg_writer *w, struct kg_bytes method, s32 seqid,
			    u32 type, const char *message);
/*
 * Client side: after kg_read_message_begin() returned KG_MSG_EXCEPTION, read
 * the exception struct. Missing fields read as KG_APPEX_UNKNOWN / empty.
 */
int kg_read_app_exception(struct kg_reader *r, u32 *type, struct kg_bytes *msg);

/* Bit n set: n is a type id that may appear in a field or container header. */
#define KG_VALID_TTYPES	((1u << KG_T_BOOL) | (1u << KG_T_BYTE) | (1u << KG_T_DOUBLE) | \
			 (1u << KG_T_I16) | (1u << KG_T_I32) | (1u << KG_T_I64) | \
			 (1u << KG_T_STRING) | (1u << KG_T_STRUCT) | (1u << KG_T_MAP) | \
			 (1u << KG_T_SET) | (1u << KG_T_LIST) | (1u << KG_T_UUID))

#include "proto_inline.h"

#endif /* _KGEN_PROTO_H */
