/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Message framing: where one Thrift message ends in a stream of bytes.
 *
 * Like Slick's ThriftSocket_next(): the receive buffer is peeked, and the
 * first whole message in it is found without copying or decoding it.
 *  - framed: a 4-byte big-endian length, then that many bytes of message;
 *  - buffered (unframed): there is no length, so the message's end is found
 *    by skip-parsing it: message header, then the argument struct, bounded
 *    by limits (depth, strings, containers, max_frame) and never reading
 *    past the bytes received. kg_frame_resume() keeps where that parse
 *    stopped (struct kg_frame_state) and goes on from there when more bytes
 *    arrive, so each byte is parsed once however the message is cut up;
 *    kg_frame_next() parses from the start (one shot: the specification
 *    kg_frame_resume() is tested against).
 */
#ifndef _KGEN_FRAME_H
#define _KGEN_FRAME_H

#include "compat.h"
#include "proto.h"

enum kg_transport {
	KG_TRANSPORT_FRAMED = 0,
	KG_TRANSPORT_BUFFERED = 1,	/* unframed: message end found by skip-parse */
	/* Servers only: framed or not, per connection (kg_frame_detect_transport()). */
	KG_TRANSPORT_AUTO = 2,
};

#define KG_FRAME_HEADER_LEN	4

/* Where the first message in a buffer is. */
struct kg_frame {
	u32 header_len;		/* bytes before the message: 4 framed, 0 unframed */
	u32 payload_len;	/* bytes of the message itself */
	u32 total_len;		/* header_len + payload_len: what to discard after */
	u32 need;		/* on -EAGAIN: the buffer must hold at least this many bytes */
	u32 examined;		/* bytes this call parsed (tests, statistics) */
};

/* One open struct or container of a resumable skip-parse (8 bytes). */
struct kg_skip_level {
	u8 kind;		/* KG_T_STRUCT, _LIST, _SET or _MAP */
	u8 t1;			/* element or key type */
	u8 t2;			/* map: value type */
	u8 key_done;		/* map: the current pair's key was skipped */
	union {
		u32 left;	/* container: elements or pairs not yet started */
		s16 last_fid;	/* struct: the last field id (compact deltas) */
	};
};

/*
 * Where the search for the end of an unframed message stopped: enough to go
 * on without looking at a byte before pos again. Offsets count from the
 * message's first byte, which is the buffer's first byte on every call, so
 * the buffer may move (compaction) between calls. 532 bytes, most of it the
 * stack (KG_MAX_DEPTH levels).
 */
struct kg_frame_state {
	u32 pos;		/* where the next step starts */
	u32 wait;		/* that step stopped short: it needs this many bytes */
	u32 gate;		/* the least length the open containers' counts imply */
	s32 err;		/* phase "failed": the verdict, once gate bytes are in */
	u8 phase;		/* enum kg_skip_phase (frame.c) */
	u8 type;		/* the type id of the value to skip next */
	u8 top;			/* open levels in stack[] */
	u8 bool_pending;	/* compact: a field header carried a bool's value */
	struct kg_skip_level stack[KG_MAX_DEPTH];
};

/*
 * Find the first whole message in buf[0..len). Returns 0 and fills @frame;
 * -EAGAIN when more bytes are needed, with frame->need set; -EBADMSG or
 * -EMSGSIZE when the bytes can never become a valid message (close the
 * connection).
 *
 * The invariant of frame->need on -EAGAIN: len < need <= max_frame (+ 4
 * framed), and no whole message that begins with buf[0..len) is shorter
 * than need bytes (frame header included). It is a lower bound, never an
 * over-estimate: a caller that waits for need bytes before calling again
 * (kg_tsock_next() does) cannot miss a message, which would hang the
 * connection. Framed: 4 until the length is in, then the whole frame.
 * Unframed: how far the skip-parse got plus the least the value it stopped
 * in still takes (the rest of a fixed-size field or varint, a string whose
 * length is in, a container's count times its elements' least size), or
 * len + 1. Bytes malformed before need may then be refused later than they
 * could have been; that is all waiting costs. Without it an unframed message
 * arriving in many pieces is re-parsed from its start on each (quadratic).
 */
int __must_check kg_frame_next(u8 transport, u8 proto, const struct kg_limits *limits,
			       const void *buf, size_t len, struct kg_frame *frame);

/*
 * kg_frame_next() for a message that arrives in pieces. @st belongs to the
 * message at the front of the buffer: every call passes the buffer from
 * that message's first byte, at least as many bytes as the call before (it
 * may have moved), and the same @transport, @proto and @limits. It returns
 * what kg_frame_next() would return for the same bytes (the same verdict,
 * the same total_len; need may differ, it is a lower bound too), while
 * parsing each byte once: a call goes on from where the last one stopped,
 * and a call with fewer bytes than the last need returns at once.
 *
 * Once it returned 0, further calls return the same message until @st is
 * reset; once it returned -EBADMSG/-EMSGSIZE, that verdict. Reset @st
 * (kg_frame_state_reset()) when the message is dropped from the buffer.
 *
 * Same verdicts means errors are sometimes reported late: kg_frame_next()
 * stops at a container whose count needs more bytes than are in, so a
 * malformed byte inside it is refused once that many are; kg_frame_resume()
 * sees it at once, keeps it (phase "failed") and says -EAGAIN until then.
 */
int __must_check kg_frame_resume(struct kg_frame_state *st, u8 transport, u8 proto,
				 const struct kg_limits *limits, const void *buf, size_t len,
				 struct kg_frame *frame);

/* Forget a partial parse: the next kg_frame_resume() starts a new message. */
static inline void kg_frame_state_reset(struct kg_frame_state *st)
{
	/* stack[] is written before it is read. */
	memset(st, 0, offsetof(struct kg_frame_state, stack));
}

/*
 * Protocol detection (protocol=auto): what a connection speaks, from the
 * first bytes of its first message. Each protocol's first byte differs:
 * compact's protocol id 0x82; strict binary's version 0x80 (then 0x01);
 * old binary's big-endian name length, below 0x80 for any name under 2 GiB.
 * One byte decides; the protocol's header reader then checks the rest
 * (versions, types) as it would for a fixed protocol.
 *
 * kg_frame_detect_proto(): @msg is a message's first bytes (framed: after
 * the length). Returns 0 with *@proto set, -EAGAIN for len 0, -EBADMSG for
 * a first byte no protocol starts with.
 */
int __must_check kg_frame_detect_proto(const void *msg, size_t len, u8 *proto);

/*
 * Transport detection (transport=auto): framed or not, from the first bytes
 * of a connection, at most 8 of them. An unframed message starts with 0x80
 * or 0x82 (strict binary, compact) or with an old binary name length; a
 * framed one with a length below 0x80000000, then 0x80, 0x82 or, old
 * binary, a name length that fits in the frame with the rest of a header.
 * Old binary is the one ambiguous case: framed is chosen when byte 4 is
 * 0x80 or 0x82, or bytes 4..7, read as a name length, fit in the frame the
 * first 4 bytes would announce; an unframed message does either only if
 * its method name starts with a 0x80, 0x82 or NUL byte, which no Thrift
 * identifier does. No valid message is shorter than 8 bytes, so waiting for them
 * cannot hang a client.
 *
 * Returns 0 with *@transport set, or -EAGAIN with *@need (the buffer must
 * hold that many bytes). Bytes that fit no protocol are refused afterwards,
 * by kg_frame_detect_proto() or the framing.
 */
int __must_check kg_frame_detect_transport(const void *buf, size_t len, u8 *transport, u32 *need);

/* Bytes kg_frame_write_header() writes for @transport (4 or 0). */
static inline u32 kg_frame_header_len(u8 transport)
{
	return transport == KG_TRANSPORT_FRAMED ? KG_FRAME_HEADER_LEN : 0;
}

/*
 * Write the frame header for a message of @payload_len bytes at @dst (which
 * has room for kg_frame_header_len(transport) bytes). Returns the bytes
 * written: 4 framed, 0 unframed.
 */
static inline u32 kg_frame_write_header(u8 transport, void *dst, u32 payload_len)
{
	if (transport != KG_TRANSPORT_FRAMED)
		return 0;
	kg_put_be32(dst, payload_len);
	return KG_FRAME_HEADER_LEN;
}

#endif /* _KGEN_FRAME_H */
