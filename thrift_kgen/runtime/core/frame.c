// SPDX-License-Identifier: GPL-2.0
/*
 * Message framing: see kgen/frame.h.
 */
#include "kgen/frame.h"
#include "proto_internal.h"

static int kg_frame_framed(const struct kg_limits *limits, const u8 *p, size_t len,
			   struct kg_frame *frame)
{
	s32 n;

	if (len < KG_FRAME_HEADER_LEN) {
		frame->need = KG_FRAME_HEADER_LEN;
		return -EAGAIN;
	}
	n = (s32)kg_get_be32(p);
	/* An empty frame cannot hold a message header; negative is garbage. */
	if (n <= 0)
		return -EBADMSG;
	if ((u32)n > limits->max_frame)
		return -EMSGSIZE;
	frame->examined = KG_FRAME_HEADER_LEN;
	frame->header_len = KG_FRAME_HEADER_LEN;
	frame->payload_len = (u32)n;
	frame->total_len = KG_FRAME_HEADER_LEN + (u32)n;
	if (len < frame->total_len) {
		frame->need = frame->total_len;
		return -EAGAIN;
	}
	return 0;
}

static int kg_frame_unframed(u8 proto, const struct kg_limits *limits, const u8 *p,
			     size_t len, struct kg_frame *frame)
{
	struct kg_reader r;
	struct kg_bytes name;
	size_t avail = min_t(size_t, len, limits->max_frame);
	u8 type;
	s32 seqid;
	int err;

	/* No arena: skipping never allocates. */
	kg_reader_init(&r, p, avail, proto, NULL, limits);
	err = kg_read_message_begin(&r, &name, &type, &seqid);
	if (!err)
		err = kg_skip(&r, KG_T_STRUCT);
	if (!err)
		err = kg_read_message_end(&r);
	frame->examined = (u32)kg_reader_offset(&r);
	if (err == -ENODATA) {
		/*
		 * Not all here: wait, unless the message is known to be (or,
		 * with max_frame bytes in, has proved to be) over max_frame.
		 * r.need is a lower bound on its length, so waiting for it
		 * spares re-parsing the prefix on every arrival.
		 */
		if (len >= limits->max_frame || r.need > limits->max_frame)
			return -EMSGSIZE;
		frame->need = (u32)max_t(u64, r.need, len + 1);
		return -EAGAIN;
	}
	if (err)
		return err;
	frame->header_len = 0;
	frame->payload_len = (u32)kg_reader_offset(&r);
	frame->total_len = frame->payload_len;
	return 0;
}

/**
 * kg_frame_next() - find the first whole message in a receive buffer
 * @transport: enum kg_transport
 * @proto: enum kg_protocol (used by the unframed skip-parse)
 * @limits: bounds; NULL for kg_default_limits
 * @buf: the bytes received so far
 * @len: how many
 * @frame: set to where the message is
 *
 * Return: 0 when a whole message is there; -EAGAIN when more bytes are
 * needed (@frame->need is a lower bound on the buffer length that can make
 * progress: calling again with less is wasted work); -EBADMSG or -EMSGSIZE
 * when the stream can never yield a valid message; -EPROTONOSUPPORT for an
 * unknown transport or protocol.
 */
int kg_frame_next(u8 transport, u8 proto, const struct kg_limits *limits,
		  const void *buf, size_t len, struct kg_frame *frame)
{
	if (!limits)
		limits = &kg_default_limits;
	memset(frame, 0, sizeof(*frame));
	switch (transport) {
	case KG_TRANSPORT_FRAMED:
		return kg_frame_framed(limits, buf, len, frame);
	case KG_TRANSPORT_BUFFERED:
		return kg_frame_unframed(proto, limits, buf, len, frame);
	default:
		return -EPROTONOSUPPORT;
	}
}

/*
 * The resumable skip-parse. A step is one call of a kg_read_*() function
 * (the same ones kg_skip() calls, so the same checks): it either succeeds
 * and its effect is kept, or stops short (-ENODATA) and is retried from its
 * start once the bytes it asked for are in (st->wait: at most 16 bytes of a
 * value are read again, never a string's contents), or fails.
 */
enum kg_skip_phase {
	KG_SKIP_HEADER,		/* the message header */
	KG_SKIP_VALUE,		/* a value of type st->type */
	KG_SKIP_NEXT,		/* what follows in the innermost open level */
	KG_SKIP_DONE,		/* the message ends at st->pos */
	KG_SKIP_FAILED,		/* st->err, given once st->gate bytes are in */
};

/* Open a struct or container (kg_skip()'s order: depth, header, count). */
static int kg_skip_open(struct kg_frame_state *st, struct kg_reader *r, u8 kind)
{
	struct kg_skip_level *l;
	u64 least = 0, end;
	u32 count = 0;
	u8 t1 = 0, t2 = 0;
	int err = 0;

	if (st->top >= kg_max_depth(r))
		return -EMSGSIZE;
	if (kind == KG_T_MAP) {
		err = kg_read_map_header(r, &t1, &t2, &count);
		if (!err)
			err = kg_container_check(r, count, t1, t2, true, &least);
	} else if (kind != KG_T_STRUCT) {
		err = kg_read_seq_header(r, &t1, &count);
		if (!err)
			err = kg_container_check(r, count, t1, 0, false, &least);
	}
	if (err)
		return err;
	/*
	 * kg_skip() refuses a count whose elements cannot fit max_frame, and
	 * goes no further until their least size is in: the gate.
	 */
	end = kg_reader_offset(r) + least;
	if (end > r->limits->max_frame)
		return -EMSGSIZE;
	st->gate = max_t(u32, st->gate, (u32)end);
	l = &st->stack[st->top++];
	l->kind = kind;
	l->t1 = t1;
	l->t2 = t2;
	l->key_done = 0;
	if (kind == KG_T_STRUCT)
		l->last_fid = 0;
	else
		l->left = count;
	r->depth = st->top;
	return 0;
}

/* Find the next value to skip in the innermost level, or close it. */
static int kg_skip_next(struct kg_frame_state *st, struct kg_reader *r)
{
	struct kg_skip_level *l;
	s16 id;
	u8 t;
	int err;

	if (!st->top) {
		st->phase = KG_SKIP_DONE;
		return kg_read_message_end(r);
	}
	l = &st->stack[st->top - 1];
	switch (l->kind) {
	case KG_T_STRUCT:
		r->last_fid[r->depth] = l->last_fid;
		err = kg_read_field_begin(r, &t, &id);
		if (err)
			return err;
		l->last_fid = r->last_fid[r->depth];
		if (t != KG_T_STOP) {
			st->type = t;
			st->phase = KG_SKIP_VALUE;
			return 0;
		}
		break;
	case KG_T_MAP:
		if (l->key_done) {
			l->key_done = 0;
			st->type = l->t2;
			st->phase = KG_SKIP_VALUE;
			return 0;
		}
		if (l->left) {
			l->left--;
			l->key_done = 1;
			st->type = l->t1;
			st->phase = KG_SKIP_VALUE;
			return 0;
		}
		break;
	default:
		if (l->left) {
			l->left--;
			st->type = l->t1;
			st->phase = KG_SKIP_VALUE;
			return 0;
		}
		break;
	}
	st->top--;
	r->depth = st->top;
	return 0;
}

static int kg_skip_step(struct kg_frame_state *st, struct kg_reader *r)
{
	struct kg_bytes name;
	s32 seqid;
	u8 type;
	int err;

	switch (st->phase) {
	case KG_SKIP_HEADER:
		err = kg_read_message_begin(r, &name, &type, &seqid);
		if (err)
			return err;
		st->type = KG_T_STRUCT;
		break;
	case KG_SKIP_VALUE:
		switch (st->type) {
		case KG_T_STRUCT:
		case KG_T_LIST:
		case KG_T_SET:
		case KG_T_MAP:
			err = kg_skip_open(st, r, st->type);
			break;
		default:
			err = kg_skip_scalar(r, st->type);
			break;
		}
		if (err)
			return err;
		st->phase = KG_SKIP_NEXT;
		return 0;
	default:
		return kg_skip_next(st, r);
	}
	st->phase = KG_SKIP_VALUE;
	return 0;
}

static int kg_frame_unframed_resume(struct kg_frame_state *st, u8 proto,
				    const struct kg_limits *limits, const u8 *p, size_t len,
				    struct kg_frame *frame)
{
	size_t avail = min_t(size_t, len, limits->max_frame);
	struct kg_reader r;
	const u8 *step;
	int err;

	/* Fewer bytes than last time breaks the contract: start again, safely. */
	if (unlikely(st->pos > avail))
		kg_frame_state_reset(st);
	if (st->phase == KG_SKIP_DONE)
		goto done;
	if (st->phase == KG_SKIP_FAILED)
		goto failed;
	if (avail < st->wait) {
		frame->need = max(st->wait, st->gate);
		return -EAGAIN;
	}
	/* No arena: skipping never allocates. */
	kg_reader_init(&r, p, avail, proto, NULL, limits);
	r.pos = p + st->pos;
	r.depth = st->top;
	r.bool_pending = st->bool_pending;
	do {
		step = r.pos;
		err = kg_skip_step(st, &r);
		if (err) {
			/*
			 * What it read before stopping, plus at most the rest
			 * of one value (16 bytes) it may have looked at.
			 */
			frame->examined += (u32)(r.pos - step) +
					   (u32)min_t(size_t, kg_reader_remaining(&r), 16);
			r.pos = step;
			break;
		}
		frame->examined += (u32)(r.pos - step);
	} while (st->phase != KG_SKIP_DONE);
	st->pos = (u32)kg_reader_offset(&r);
	st->bool_pending = r.bool_pending;
	if (!err)
		goto done;
	if (err == -ENODATA) {
		/* As kg_frame_next(): over max_frame, or a step to retry. */
		if (r.need <= limits->max_frame) {
			st->wait = (u32)r.need;
			frame->need = max(st->wait, st->gate);
			return -EAGAIN;
		}
		err = -EMSGSIZE;
	}
	st->phase = KG_SKIP_FAILED;
	st->err = err;
failed:
	if (st->gate > avail) {
		/* kg_frame_next() would still wait for a container's elements. */
		frame->need = st->gate;
		return -EAGAIN;
	}
	return st->err;
done:
	frame->header_len = 0;
	frame->payload_len = st->pos;
	frame->total_len = st->pos;
	return 0;
}

/**
 * kg_frame_resume() - kg_frame_next(), going on from where the last call stopped
 * @st: the parse state of the message at the front of @buf (see frame.h)
 * @transport: enum kg_transport
 * @proto: enum kg_protocol
 * @limits: bounds; NULL for kg_default_limits
 * @buf: the bytes received so far, from the message's first byte
 * @len: how many
 * @frame: set to where the message is
 *
 * Return: as kg_frame_next() for the same bytes.
 */
int kg_frame_resume(struct kg_frame_state *st, u8 transport, u8 proto,
		    const struct kg_limits *limits, const void *buf, size_t len,
		    struct kg_frame *frame)
{
	if (!limits)
		limits = &kg_default_limits;
	memset(frame, 0, sizeof(*frame));
	switch (transport) {
	case KG_TRANSPORT_FRAMED:
		return kg_frame_framed(limits, buf, len, frame);
	case KG_TRANSPORT_BUFFERED:
		return kg_frame_unframed_resume(st, proto, limits, buf, len, frame);
	default:
		return -EPROTONOSUPPORT;
	}
}

/* First bytes of the protocols (see frame.h): compact's id, strict binary's version. */
#define KG_DETECT_COMPACT_ID	0x82
#define KG_DETECT_STRICT_BINARY	0x80
/* Old binary in a frame: name length (4), name, type (1), seqid (4), a STOP (1) at least. */
#define KG_DETECT_OLD_FRAMED_MIN	10u
/* The bytes transport detection may wait for: no valid message is shorter. */
#define KG_DETECT_TRANSPORT_MAX	8u

/**
 * kg_frame_detect_proto() - the protocol a message is in, from its first byte
 * @msg: the message's first bytes (framed: after the frame header)
 * @len: how many
 * @proto: set to KG_PROTO_BINARY or KG_PROTO_COMPACT
 *
 * Return: 0; -EAGAIN when @len is 0; -EBADMSG when no protocol starts so.
 */
int kg_frame_detect_proto(const void *msg, size_t len, u8 *proto)
{
	u8 b;

	if (!len)
		return -EAGAIN;
	b = *(const u8 *)msg;
	if (b == KG_DETECT_COMPACT_ID)
		*proto = KG_PROTO_COMPACT;
	else if (b == KG_DETECT_STRICT_BINARY || b < 0x80)
		*proto = KG_PROTO_BINARY;	/* strict, or old: a name length */
	else
		return -EBADMSG;
	return 0;
}

/**
 * kg_frame_detect_transport() - framed or unframed, from a connection's first bytes
 * @buf: the bytes received so far
 * @len: how many
 * @transport: set to KG_TRANSPORT_FRAMED or KG_TRANSPORT_BUFFERED
 * @need: on -EAGAIN, the bytes the buffer must hold to decide (at most 8)
 *
 * Return: 0 or -EAGAIN (see frame.h).
 */
int kg_frame_detect_transport(const void *buf, size_t len, u8 *transport, u32 *need)
{
	const u8 *p = buf;
	u64 frame_len, name_len;

	if (len < 1) {
		*need = 1;
		return -EAGAIN;
	}
	/* A frame length is below 2 GiB: 0x80 and above begin a message. */
	if (p[0] >= 0x80) {
		*transport = KG_TRANSPORT_BUFFERED;
		return 0;
	}
	if (len < KG_FRAME_HEADER_LEN + 1) {
		*need = KG_FRAME_HEADER_LEN + 1;
		return -EAGAIN;
	}
	if (p[4] == KG_DETECT_STRICT_BINARY || p[4] == KG_DETECT_COMPACT_ID) {
		*transport = KG_TRANSPORT_FRAMED;
		return 0;
	}
	if (len < KG_DETECT_TRANSPORT_MAX) {
		*need = KG_DETECT_TRANSPORT_MAX;
		return -EAGAIN;
	}
	/* Old binary: a name length that fits the frame, or the name itself. */
	frame_len = kg_get_be32(p);
	name_len = kg_get_be32(p + 4);
	*transport = name_len + KG_DETECT_OLD_FRAMED_MIN <= frame_len ? KG_TRANSPORT_FRAMED :
									 KG_TRANSPORT_BUFFERED;
	return 0;
}
