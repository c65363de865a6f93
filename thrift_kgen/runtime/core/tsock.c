// SPDX-License-Identifier: GPL-2.0
/*
 * Thrift sockets: see tsock.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": tsock: " fmt

#include "kgen/tsock.h"

/**
 * kg_tsock_init() - set up a Thrift socket over a buffered socket
 * @ts: the Thrift socket
 * @bs: the buffered socket it reads and writes
 * @transport: KG_TRANSPORT_FRAMED, KG_TRANSPORT_BUFFERED or (a server's
 *	connection) KG_TRANSPORT_AUTO
 * @proto: KG_PROTO_BINARY, KG_PROTO_COMPACT or (a server's connection)
 *	KG_PROTO_AUTO: found from the first message, see kg_tsock_next()
 * @limits: bounds on one message (max_frame and, unframed, the skip-parse)
 */
void kg_tsock_init(struct kg_tsock *ts, struct kg_bsock *bs, u8 transport, u8 proto,
		   const struct kg_limits *limits)
{
	ts->bs = bs;
	ts->transport = transport;
	ts->proto = proto;
	ts->limits = limits ? limits : &kg_default_limits;
	ts->current_len = 0;
	ts->need = 0;
	ts->msg_from = 0;
	ts->parse_attempts = 0;
	ts->parse_bytes = 0;
	kg_frame_state_reset(&ts->parse);
}

/*
 * kg_tsock_next() past its fast path: detection, the skip-parse, and
 * whatever the framed fast path would refuse or wait for. Out of line, so
 * the fast path has no frame on its stack (no canary, nothing to clear).
 */
static noinline int kg_tsock_next_general(struct kg_tsock *ts, struct kg_tmsg *msg,
					  const u8 *data, size_t avail)
{
	struct kg_frame frame;
	int ret;

	if (unlikely(ts->transport == KG_TRANSPORT_AUTO)) {
		ret = kg_frame_detect_transport(data, avail, &ts->transport, &ts->need);
		if (ret == -EAGAIN)
			return 0;
		ts->need = 0;
	}
	if (unlikely(ts->proto == KG_PROTO_AUTO) && ts->transport == KG_TRANSPORT_BUFFERED) {
		ret = kg_frame_detect_proto(data, avail, &ts->proto);
		if (ret)
			return ret;	/* avail >= 1: -EBADMSG */
	}
	ts->parse_attempts++;
	ret = kg_frame_resume(&ts->parse, ts->transport, ts->proto, ts->limits, data, avail,
			      &frame);
	ts->parse_bytes += frame.examined;
	if (ret == -EAGAIN) {
		/* frame.need > avail >= 1, so need != 0 means "wait". */
		ts->need = frame.need;
		return 0;
	}
	ts->need = 0;
	if (ret)
		return ret;
	if (unlikely(ts->proto == KG_PROTO_AUTO)) {
		/* Framed: a frame holds at least one byte. */
		ret = kg_frame_detect_proto(data + frame.header_len, frame.payload_len, &ts->proto);
		if (ret)
			return -EBADMSG;
	}
	msg->raw.data = data;
	msg->raw.len = frame.total_len;
	msg->payload.data = data + frame.header_len;
	msg->payload.len = frame.payload_len;
	ts->current_len = frame.total_len;
	return 1;
}

/**
 * kg_tsock_next() - peek at the first whole message
 * @ts: the Thrift socket
 * @msg: set to the message (valid until it is discarded or more is received)
 *
 * Unframed, the skip-parse that finds the message's end goes on from where
 * it stopped on the last call (kg_frame_resume(), state in @ts->parse), so
 * each received byte is parsed once however the message arrives. And after
 * an incomplete parse it is not called again before the buffer holds the
 * frame.need bytes it asked for (a lower bound, see frame.h, so waiting
 * cannot miss a message). Calling again before the message is discarded
 * returns it again without parsing.
 *
 * Detection: with @ts->transport KG_TRANSPORT_AUTO, the first call that has
 * enough bytes (at most 8) fixes it; with @ts->proto KG_PROTO_AUTO, the
 * first message's first byte fixes it (unframed: before its end is looked
 * for, since the skip-parse is the protocol's; framed: once the frame is
 * in). Both stay for the connection's life: replies are written in them.
 *
 * Return: 1 with @msg set; 0 when more bytes are needed; -EBADMSG or
 * -EMSGSIZE when the stream can never yield a valid message (close it).
 */
int kg_tsock_next(struct kg_tsock *ts, struct kg_tmsg *msg)
{
	const u8 *data;
	ssize_t avail;
	u64 from;

	ts->current_len = 0;
	avail = kg_bsock_peek(ts->bs, &data);
	if (!avail)
		return 0;
	/* Stream offset of the first buffered byte: moves only on discard. */
	from = ts->bs->bytes_in - (u64)avail;
	if (from != ts->msg_from) {
		/* Discarded behind our back: a new message. */
		kg_frame_state_reset(&ts->parse);
		ts->need = 0;
		ts->msg_from = from;
	}
	if ((size_t)avail < ts->need)
		return 0;
	/*
	 * Framed with the protocol known, the usual case: the length is all
	 * there is to parse, checked as kg_frame_framed() does. Anything it
	 * would refuse, or wait for, takes the general path.
	 */
	if (likely(ts->transport == KG_TRANSPORT_FRAMED && ts->proto != KG_PROTO_AUTO &&
		   avail >= KG_FRAME_HEADER_LEN)) {
		u32 n = kg_get_be32(data);

		if (likely((s32)n > 0 && n <= ts->limits->max_frame)) {
			u32 total = KG_FRAME_HEADER_LEN + n;

			ts->parse_attempts++;
			ts->parse_bytes += KG_FRAME_HEADER_LEN;
			if ((size_t)avail < total) {
				ts->need = total;
				return 0;
			}
			ts->need = 0;
			msg->raw.data = data;
			msg->raw.len = total;
			msg->payload.data = data + KG_FRAME_HEADER_LEN;
			msg->payload.len = n;
			ts->current_len = total;
			return 1;
		}
	}
	return kg_tsock_next_general(ts, msg, data, avail);
}

/**
 * kg_tsock_write_payload() - queue one whole message, framed as @ts is
 * @ts: the Thrift socket to write to
 * @payload: the message without frame header (the header is redone)
 * @len: its length
 *
 * Return: 0, -ENOBUFS when it does not fit now, -EPIPE if @ts is closing,
 * -EMSGSIZE if it can never fit (over the send side's max_msg), -ENOMEM
 * when the memory budget cannot pay for it now.
 */
int kg_tsock_write_payload(struct kg_tsock *ts, const u8 *payload, u32 len)
{
	u32 hdr = kg_frame_header_len(ts->transport);
	size_t total = (size_t)hdr + len;
	struct kg_bsock *bs = ts->bs;
	u8 *dst;
	int err;

	if (total > bs->max_msg)
		return -EMSGSIZE;
	err = kg_bsock_make_room(bs, total);
	if (err)
		return err;
	dst = kg_bsock_room_start(bs);
	kg_frame_write_header(ts->transport, dst, len);
	kg_copy(dst + hdr, payload, len);	/* small: word moves, see kg_copy() */
	kg_bsock_commit(bs, total);
	return 0;
}

/**
 * kg_tsock_forward() - queue @from's current message on @to, as is
 * @from: the Thrift socket whose kg_tsock_next() message is forwarded
 * @to: the destination
 *
 * The message stays in @from until kg_tsock_discard(): on -ENOBUFS it can
 * be forwarded again once @to has drained.
 *
 * Return: as kg_tsock_write(); -ENOENT if @from has no current message.
 */
int kg_tsock_forward(struct kg_tsock *from, struct kg_tsock *to)
{
	struct kg_tmsg msg;

	if (!from->current_len)
		return -ENOENT;
	if (kg_tsock_next(from, &msg) != 1)
		return -ENOENT;
	return kg_tsock_write(to, &msg);
}

/* Room asked for before the size is known: most replies are smaller. */
#define KG_TSOCK_FIRST_ROOM	256

/**
 * kg_tsock_write_encoded() - encode a message in place in the send buffer
 * @ts: the Thrift socket to write to
 * @encode: writes the whole message; called once, twice for a large one
 * @arg: passed to @encode
 *
 * One pass: the message is encoded straight into the send buffer's free
 * room, after room for the frame header, which is filled in afterwards. A
 * message larger than that room (the writer counts on past its end) is
 * encoded once more into room of its exact size, reserved as before: up to
 * the send side's max_msg (see bsock.h), paid for by the memory budget. No
 * intermediate copy, no allocation but the send buffer's own.
 *
 * Return: 0, an error from @encode, -ENOBUFS (not now), -EPIPE, -EMSGSIZE
 * (over max_msg: never), -ENOMEM (the memory budget cannot pay for it).
 */
int kg_tsock_write_encoded(struct kg_tsock *ts, kg_tsock_encode_fn encode, const void *arg)
{
	u32 hdr = kg_frame_header_len(ts->transport);
	struct kg_bsock *bs = ts->bs;
	struct kg_writer w __kg_noinit;
	size_t len, room;
	u8 *dst;
	int err;

	dst = kg_bsock_reserve(bs, min_t(size_t, hdr + KG_TSOCK_FIRST_ROOM, bs->max_msg), &err);
	if (dst) {
		room = min_t(size_t, kg_bsock_reserved_room(bs), bs->max_msg) - hdr;
		kg_writer_init(&w, dst + hdr, room, ts->proto);
		err = encode(&w, arg);
		if (!err && !w.err)
			goto done;
		kg_bsock_commit(bs, 0);
		if (w.err != -EMSGSIZE || w.len <= room)
			return err ? err : w.err;
		/* Larger than the room: w.len is its size. */
	} else if (err == -ENOBUFS) {
		/* Backpressure: a smaller message may still fit; count it as before. */
		kg_writer_init_count(&w, ts->proto);
		err = encode(&w, arg);
		if (err || w.err)
			return err ? err : w.err;
	} else {
		return err;
	}
	len = w.len;
	if (len > U32_MAX - hdr || hdr + len > bs->max_msg)
		return -EMSGSIZE;
	dst = kg_bsock_reserve(bs, hdr + len, &err);
	if (!dst)
		return err;
	kg_writer_init(&w, dst + hdr, len, ts->proto);
	err = encode(&w, arg);
	if (!err && w.err)
		err = w.err;
	if (!err && w.len != len)
		err = -EIO;	/* the encoder is not deterministic: a bug */
	if (err) {
		kg_bsock_commit(bs, 0);
		return err;
	}
done:
	kg_frame_write_header(ts->transport, dst, w.len);
	kg_bsock_commit(bs, hdr + w.len);
	return 0;
}
