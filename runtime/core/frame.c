// SPDX-License-Identifier: GPL-2.0
/*
 * Message framing: see kgen/frame.h.
 */
#include "kgen/frame.h"

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

/**
 * kg_frame_write_header() - write the frame header of an outgoing message
 * @transport: enum kg_transport
 * @dst: room for kg_frame_header_len(@transport) bytes
 * @payload_len: the message's length
 *
 * Return: bytes written, 4 (framed) or 0 (unframed).
 */
u32 kg_frame_write_header(u8 transport, void *dst, u32 payload_len)
{
	if (transport != KG_TRANSPORT_FRAMED)
		return 0;
	kg_put_be32(dst, payload_len);
	return KG_FRAME_HEADER_LEN;
}
