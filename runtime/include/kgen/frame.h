/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Message framing: where one Thrift message ends in a stream of bytes.
 *
 * Like Slick's ThriftSocket_next(): the receive buffer is peeked, and the
 * first whole message in it is found without copying or decoding it.
 *  - framed: a 4-byte big-endian length, then that many bytes of message;
 *  - buffered (unframed): there is no length, so the message's end is found
 *    by skip-parsing the peeked bytes: message header, then the argument
 *    struct, bounded by limits (depth, strings, containers, max_frame) and
 *    never reading past the bytes received.
 */
#ifndef _KGEN_FRAME_H
#define _KGEN_FRAME_H

#include "compat.h"
#include "proto.h"

enum kg_transport {
	KG_TRANSPORT_FRAMED = 0,
	KG_TRANSPORT_BUFFERED = 1,	/* unframed: message end found by skip-parse */
};

#define KG_FRAME_HEADER_LEN	4

/* Where the first message in a buffer is. */
struct kg_frame {
	u32 header_len;		/* bytes before the message: 4 framed, 0 unframed */
	u32 payload_len;	/* bytes of the message itself */
	u32 total_len;		/* header_len + payload_len: what to discard after */
	u32 need;		/* on -EAGAIN: the buffer must hold at least this many bytes */
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
int kg_frame_next(u8 transport, u8 proto, const struct kg_limits *limits,
		  const void *buf, size_t len, struct kg_frame *frame);

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
u32 kg_frame_write_header(u8 transport, void *dst, u32 payload_len);

#endif /* _KGEN_FRAME_H */
