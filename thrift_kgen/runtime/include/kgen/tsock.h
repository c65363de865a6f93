/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thrift sockets (Slick's ThriftSocket): whole messages over a buffered
 * socket.
 *
 * kg_tsock_next() peeks at the first whole message (framed or unframed, see
 * frame.h) without copying it; it stays in the receive buffer until
 * kg_tsock_discard(), so a handler may leave it queued (backpressure) and see
 * it again. Writes and forwards are whole messages: all of it is queued in
 * the destination's send buffer, or nothing. Forwarding copies the bytes as
 * they came, re-framed only if the two sides use different transports.
 */
#ifndef _KGEN_TSOCK_H
#define _KGEN_TSOCK_H

#include "compat.h"
#include "proto.h"
#include "frame.h"
#include "bsock.h"

/* One whole message in the receive buffer. */
struct kg_tmsg {
	struct kg_bytes raw;		/* as received, frame header included */
	struct kg_bytes payload;	/* the message without frame header */
};

struct kg_tsock {
	struct kg_bsock *bs;
	const struct kg_limits *limits;
	u8 transport;			/* enum kg_transport; AUTO until detected */
	u8 proto;			/* enum kg_protocol; AUTO until detected */
	u32 current_len;		/* bytes of the message next() returned, 0 if none */
	/*
	 * kg_frame_resume() said -EAGAIN with this frame.need: no whole
	 * message ends before need bytes (a lower bound, see frame.h), so
	 * next() does not call it again until that many are buffered (the
	 * same for transport detection's need). 0: call at once.
	 */
	u32 need;
	/*
	 * bs->bytes_in minus the bytes then buffered: the stream offset of the
	 * first byte of the message @parse and @need belong to. If the front
	 * moved (a discard not through kg_tsock_discard()), both are dropped.
	 */
	u64 msg_from;
	u64 parse_attempts;		/* kg_frame_resume() calls (tests, statistics) */
	u64 parse_bytes;		/* bytes they examined: about the bytes received */
	struct kg_frame_state parse;	/* unframed: where the skip-parse stopped */
};

/* Writes a whole message (kg_write_message_begin() ... end) with @w. */
typedef int (*kg_tsock_encode_fn)(struct kg_writer *w, const void *arg);

void kg_tsock_init(struct kg_tsock *ts, struct kg_bsock *bs, u8 transport, u8 proto,
		   const struct kg_limits *limits);
int __must_check kg_tsock_next(struct kg_tsock *ts, struct kg_tmsg *msg);
int __must_check kg_tsock_write_payload(struct kg_tsock *ts, const u8 *payload, u32 len);
int __must_check kg_tsock_forward(struct kg_tsock *from, struct kg_tsock *to);
int __must_check kg_tsock_write_encoded(struct kg_tsock *ts, kg_tsock_encode_fn encode,
					const void *arg);

/**
 * kg_tsock_write() - queue one whole message, framed as @ts is
 * @ts: the Thrift socket to write to
 * @msg: the message (its payload is what is sent; the frame header is redone)
 *
 * Return: as kg_tsock_write_payload().
 */
static inline int __must_check kg_tsock_write(struct kg_tsock *ts, const struct kg_tmsg *msg)
{
	return kg_tsock_write_payload(ts, msg->payload.data, msg->payload.len);
}

/**
 * kg_tsock_discard() - drop the message kg_tsock_next() returned
 * @ts: the Thrift socket
 */
static inline void kg_tsock_discard(struct kg_tsock *ts)
{
	kg_bsock_discard(ts->bs, ts->current_len);
	ts->current_len = 0;
	/* Whatever follows is a new message. */
	ts->need = 0;
	kg_frame_state_reset(&ts->parse);
}

#endif /* _KGEN_TSOCK_H */
