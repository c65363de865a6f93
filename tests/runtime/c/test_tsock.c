// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kg_tsock_next() (runtime/core/tsock.c) over a real
 * kg_bsock (runtime/core/bsock.c) whose socket is a stub: the "peer" hands
 * out a byte stream in pieces, and kg_bsock_fill() receives each piece as it
 * would from TCP (compacting and growing the buffer as it goes).
 *
 * What is checked: every message is found exactly once, byte-identical, as
 * soon as its last byte is in (frame.need never over-estimates, or a
 * connection would hang), and an unframed message arriving in many pieces is
 * not skip-parsed again before the need of its last parse is buffered
 * (ts.parse_attempts).
 */
#include <time.h>

#include "kgen/tsock.h"
#include "kt.h"
#include "msgs.h"

/* ---- the stub socket: a peer sending @data[0..ready) so far ---- */

struct kg_sock {
	const u8 *data;
	size_t sent;		/* bytes the receiver has taken */
	size_t ready;		/* bytes the peer has sent so far */
};

bool kg_sock_rx_empty(struct kg_sock *s)
{
	return false;
}

ssize_t kg_sock_recv(struct kg_sock *s, void *buf, size_t len)
{
	size_t n = min_t(size_t, len, s->ready - s->sent);

	if (!n)
		return -EAGAIN;
	memcpy(buf, s->data + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

/*
 * Borrowing (tests set borrow_seg): segments of 1..borrow_seg bytes, each
 * a malloc'ed copy freed by kg_rx_seg_put(), so ASan catches a view used
 * after its segment was let go. 0: -EOPNOTSUPP, the copy path.
 */
static size_t borrow_seg;
static size_t borrow_calls;
long kg_rx_borrow_test = 1;	/* kg_bsock_borrow_begin() takes the segments */

ssize_t kg_sock_recv_borrow(struct kg_sock *s, struct kg_rx_seg *seg, unsigned int max,
			    size_t len, unsigned int *nseg)
{
	size_t total = 0;
	unsigned int n = 0;

	*nseg = 0;
	if (!borrow_seg)
		return -EOPNOTSUPP;
	if (s->sent == s->ready)
		return -EAGAIN;
	borrow_calls++;
	while (n < max && total < len && s->sent < s->ready) {
		size_t want = 1 + (borrow_calls * 7919 + n * 104729) % borrow_seg;
		u8 *p;

		want = min_t(size_t, want, min_t(size_t, len - total, s->ready - s->sent));
		p = malloc(want);
		memcpy(p, s->data + s->sent, want);
		s->sent += want;
		seg[n].data = p;
		seg[n].page = NULL;
		seg[n].len = (u32)want;
		n++;
		total += want;
	}
	*nseg = n;
	return (ssize_t)total;
}

void kg_rx_seg_put(struct kg_rx_seg *seg)
{
	free((void *)seg->data);
}

ssize_t kg_sock_send(struct kg_sock *s, const void *buf, size_t len)
{
	return (ssize_t)len;
}

ssize_t kg_sock_send_pages(struct kg_sock *s, const void *buf, size_t len)
{
	return kg_sock_send(s, buf, len);
}

void kg_event_kick(struct kg_event *ev, unsigned int events)
{
}

void kg_event_want_write(struct kg_event *ev, bool on)
{
}

/* ---- streams of messages ---- */

#define MAX_MSGS	4

struct stream {
	u8 *buf;
	size_t len, cap;
	size_t ends[MAX_MSGS];	/* where each message (frame header included) ends */
	size_t nmsgs;
};

static void stream_init(struct stream *s, size_t cap)
{
	s->buf = malloc(cap);
	s->cap = cap;
	s->len = 0;
	s->nmsgs = 0;
}

/* Append the message @w wrote at s->buf + s->len + 4, framed as @transport. */
static void stream_commit(struct stream *s, u8 transport, struct kg_writer *w)
{
	u32 hdr = kg_frame_header_len(transport);

	if (w->err || s->nmsgs == MAX_MSGS) {
		KT_FAIL("encoding failed (%d)", w->err);
		return;
	}
	/* Written 4 bytes in; unframed, close the gap. */
	if (!hdr)
		memmove(s->buf + s->len, s->buf + s->len + 4, w->len);
	else
		kg_frame_write_header(transport, s->buf + s->len, (u32)w->len);
	s->len += hdr + w->len;
	s->ends[s->nmsgs++] = s->len;
}

static struct kg_writer *stream_writer(struct stream *s, u8 proto)
{
	static struct kg_writer w;

	kg_writer_init(&w, s->buf + s->len + 4, s->cap - s->len - 4, proto);
	return &w;
}

static void add_rich(struct stream *s, u8 transport, u8 proto, int seed)
{
	struct kg_writer *w = stream_writer(s, proto);

	kt_write_rich_message(w, seed);
	stream_commit(s, transport, w);
}

/*
 * A rich message in old binary (no version: name length, name, type byte,
 * seqid), as a non-strict TBinaryProtocol writes it.
 */
static void add_rich_old(struct stream *s, u8 transport, int seed)
{
	struct kg_writer *w = stream_writer(s, KG_PROTO_BINARY);
	u8 *m = w->buf, type;
	u32 name_len;

	kt_write_rich_message(w, seed);
	if (w->err) {
		stream_commit(s, transport, w);	/* reports it */
		return;
	}
	/* Strict: 0x8001000T, name length, name, seqid: 1 byte shorter old. */
	type = m[3];
	name_len = kg_get_be32(m + 4);
	memmove(m, m + 4, 4 + name_len);
	memmove(m + 4 + name_len + 1, m + 4 + name_len + 4, w->len - 8 - name_len);
	m[4 + name_len] = type;
	w->len -= 3;
	stream_commit(s, transport, w);
}

/* A "put" whose only argument is a @n-byte string. */
static void add_big_string(struct stream *s, u8 transport, u8 proto, size_t n)
{
	struct kg_writer *w = stream_writer(s, proto);
	u8 *body = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		body[i] = (u8)(i * 7 + i / 251);
	kg_write_message_begin(w, "put", 3, KG_MSG_CALL, 7);
	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_STRING, 1);
	kg_write_binary(w, body, (u32)n);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	kg_write_message_end(w);
	free(body);
	stream_commit(s, transport, w);
}

/* A "put" whose argument struct has @n double fields (fixed size each). */
static void add_many_fields(struct stream *s, u8 transport, u8 proto, int n)
{
	struct kg_writer *w = stream_writer(s, proto);
	int i;

	kg_write_message_begin(w, "put", 3, KG_MSG_CALL, 8);
	kg_write_struct_begin(w);
	for (i = 0; i < n; i++) {
		kg_write_field_begin(w, KG_T_DOUBLE, (s16)(i % 30000 + 1));
		kg_write_double(w, 0x3ff0000000000000ULL + (u64)i);
	}
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	kg_write_message_end(w);
	stream_commit(s, transport, w);
}

/* ---- the receiver ---- */

struct result {
	size_t found;		/* messages kg_tsock_next() returned */
	size_t arrivals;	/* pieces received */
	u64 attempts;		/* kg_frame_next() calls */
	u8 transport, proto;	/* the tsock's at the end (detected, if it was auto) */
};

/*
 * Send @s in pieces of @piece bytes (or, with @split, two: [0, split) and
 * the rest) and serve as the server's run does after each arrival: fill,
 * then next() until it returns 0 (discarding each message), until a fill
 * brings nothing. Checks every message is
 * found, once, byte-identical, when (and only when) all of it is in, and
 * that a pending need never exceeds what the message takes.
 */
static void drive_as(const struct stream *s, u8 transport, u8 proto, u8 ts_transport,
		     u8 ts_proto, size_t piece, size_t split, struct result *res)
{
	struct kg_sock sock = { .data = s->buf };
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;
	size_t start = 0, hdr = kg_frame_header_len(transport);
	ssize_t n;
	int ret;

	memset(res, 0, sizeof(*res));
	if (kg_bsock_init(&bs, &sock, NULL, 4u << 20, 1u << 16)) {
		KT_FAIL("kg_bsock_init");
		return;
	}
	kg_tsock_init(&ts, &bs, ts_transport, ts_proto, NULL);
	while (sock.ready < s->len) {
		if (split)
			sock.ready = sock.ready < split ? split : s->len;
		else
			sock.ready = min_t(size_t, sock.ready + piece, s->len);
		res->arrivals++;
		/*
		 * A fill stops once the buffer is full (the bytes are served
		 * first) and grows it only when nothing was taken: as the
		 * server's run, fill and serve until a fill brings nothing.
		 */
		do {
			n = kg_bsock_fill(&bs, SIZE_MAX);
			for (;;) {
				ret = kg_tsock_next(&ts, &msg);
				if (ret == 0)
					break;
				if (ret != 1) {
					KT_FAIL("next() = %d at %zu", ret, sock.ready);
					goto out;
				}
				if (res->found == s->nmsgs) {
					KT_FAIL("a message too many at %zu", sock.ready);
					goto out;
				}
				CHECK_EQ_AT(msg.raw.len, s->ends[res->found] - start, sock.ready);
				CHECK_EQ_AT(msg.payload.len, msg.raw.len - hdr, sock.ready);
				CHECK_EQ_AT(msg.payload.data - msg.raw.data, hdr, sock.ready);
				CHECK_EQ_AT(memcmp(msg.raw.data, s->buf + start, msg.raw.len), 0,
					    sock.ready);
				start += msg.raw.len;
				res->found++;
				kg_tsock_discard(&ts);
			}
		} while (n > 0 && sock.sent != sock.ready);
		if (sock.sent != sock.ready) {
			KT_FAIL("fill left bytes behind at %zu", sock.ready);
			break;
		}
		/* Whatever is wholly in has been found: nothing waits for too much. */
		CHECK_EQ_AT(res->found < s->nmsgs && s->ends[res->found] <= sock.ready, 0,
			    sock.ready);
		/* And the need kept is a lower bound on the message's length. */
		if (res->found < s->nmsgs)
			CHECK_EQ_AT(ts.need <= s->ends[res->found] - start, 1, sock.ready);
	}
	CHECK_EQ(res->found, s->nmsgs);
	CHECK_EQ(sock.sent, s->len);
out:
	res->attempts = ts.parse_attempts;
	res->transport = ts.transport;
	res->proto = ts.proto;
	kg_bsock_destroy(&bs);
}

/* A tsock set to the stream's own transport and protocol. */
static void drive(const struct stream *s, u8 transport, u8 proto, size_t piece, size_t split,
		  struct result *res)
{
	drive_as(s, transport, proto, transport, proto, piece, split, res);
}

static const u8 transports[] = { KG_TRANSPORT_FRAMED, KG_TRANSPORT_BUFFERED };
static const u8 protos[] = { KG_PROTO_BINARY, KG_PROTO_COMPACT };

static const char *tname(u8 t)
{
	return t == KG_TRANSPORT_FRAMED ? "framed" : "unframed";
}

static const char *pname(u8 p)
{
	return p == KG_PROTO_BINARY ? "binary" : "compact";
}

#define MIB	(1u << 20)

KT_TEST(big_string_in_mss_pieces)
{
	struct result res;
	struct stream s;
	size_t ti, pi;

	for (ti = 0; ti < 2; ti++) {
		for (pi = 0; pi < 2; pi++) {
			stream_init(&s, MIB + 256);
			add_big_string(&s, transports[ti], protos[pi], MIB);
			drive(&s, transports[ti], protos[pi], 1460, 0, &res);
			printf("1 MiB string, %s %s, %zu-byte pieces: %zu arrivals, %" PRIu64
			       " parse attempts\n", tname(transports[ti]), pname(protos[pi]),
			       (size_t)1460, res.arrivals, res.attempts);
			CHECK_EQ(res.found, 1);
			CHECK(res.arrivals > 700);
			/* The first piece holds the string's length: then wait for it. */
			CHECK(res.attempts <= 3);
			free(s.buf);
		}
	}
}

KT_TEST(big_string_in_byte_pieces)
{
	struct result res;
	struct stream s;
	size_t pi;

	for (pi = 0; pi < 2; pi++) {
		stream_init(&s, MIB + 256);
		add_big_string(&s, KG_TRANSPORT_BUFFERED, protos[pi], MIB);
		drive(&s, KG_TRANSPORT_BUFFERED, protos[pi], 1, 0, &res);
		printf("1 MiB string, unframed %s, 1-byte pieces: %zu arrivals, %" PRIu64
		       " parse attempts\n", pname(protos[pi]), res.arrivals, res.attempts);
		CHECK_EQ(res.found, 1);
		CHECK_EQ(res.arrivals, s.len);
		/* About one per header byte, then one for the string, one for STOP. */
		CHECK(res.attempts <= 32);
		free(s.buf);
	}
}

KT_TEST(many_fields_in_byte_pieces)
{
	struct result res;
	struct stream s;
	size_t pi;

	for (pi = 0; pi < 2; pi++) {
		stream_init(&s, 64 * 1024);
		add_many_fields(&s, KG_TRANSPORT_BUFFERED, protos[pi], 3000);
		drive(&s, KG_TRANSPORT_BUFFERED, protos[pi], 1, 0, &res);
		printf("3000 double fields (%zu bytes), unframed %s, 1-byte pieces: %zu arrivals, %"
		       PRIu64 " parse attempts\n", s.len, pname(protos[pi]), res.arrivals,
		       res.attempts);
		CHECK_EQ(res.found, 1);
		/*
		 * Each parse stops at a field header or value whose size is
		 * known (binary 1 + 2 + 8, compact 1 + 8 bytes): at most 3
		 * attempts per field, not one per byte.
		 */
		CHECK(res.attempts <= 3 * 3000 + 32);
		CHECK(res.attempts * 3 < res.arrivals);
		free(s.buf);
	}
}

KT_TEST(many_fields_in_mss_pieces)
{
	struct result res;
	struct stream s;
	size_t pi, cap, grown;

	for (pi = 0; pi < 2; pi++) {
		stream_init(&s, 1u << 19);
		add_many_fields(&s, KG_TRANSPORT_BUFFERED, protos[pi], 40000);
		drive(&s, KG_TRANSPORT_BUFFERED, protos[pi], 1460, 0, &res);
		printf("40000 double fields (%zu bytes), unframed %s, 1460-byte pieces: %zu "
		       "arrivals, %" PRIu64 " parse attempts\n", s.len, pname(protos[pi]),
		       res.arrivals, res.attempts);
		CHECK_EQ(res.found, 1);
		/*
		 * No length to wait for: each piece ends inside a field, so each
		 * reaches need and is parsed (at most once per arrival), plus one
		 * per doubling of the receive buffer (a fill stops at a full
		 * buffer; the parse that finds it short lets the next fill grow it).
		 */
		for (grown = 0, cap = KG_BSOCK_INITIAL; cap < s.len; cap *= 2)
			grown++;
		CHECK(res.attempts <= res.arrivals + grown);
		free(s.buf);
	}
}

/* A small stream (three messages back to back) at every split point. */
KT_TEST(every_split_point)
{
	struct result res;
	struct stream s;
	size_t ti, pi, split;

	for (ti = 0; ti < 2; ti++) {
		for (pi = 0; pi < 2; pi++) {
			stream_init(&s, 8192);
			add_rich(&s, transports[ti], protos[pi], 3);
			add_big_string(&s, transports[ti], protos[pi], 300);
			add_rich(&s, transports[ti], protos[pi], 22);
			/* One byte at a time. */
			drive(&s, transports[ti], protos[pi], 1, 0, &res);
			CHECK_EQ(res.found, 3);
			CHECK(res.attempts < res.arrivals);
			/* Two pieces, split anywhere. */
			for (split = 1; split < s.len; split++) {
				drive(&s, transports[ti], protos[pi], 0, split, &res);
				CHECK_EQ_AT(res.found, 3, split);
				CHECK_EQ_AT(res.arrivals, 2, split);
			}
			free(s.buf);
		}
	}
}

/*
 * kg_frame_next() reads nothing past the bytes it is given: every prefix of
 * a message, in a buffer of exactly that size (ASan would see an overread),
 * and need is a lower bound on the message's length.
 */
KT_TEST(prefixes_read_in_bounds)
{
	struct stream s;
	struct kg_frame f;
	size_t ti, pi, len;
	u8 *copy;
	int ret;

	for (ti = 0; ti < 2; ti++) {
		for (pi = 0; pi < 2; pi++) {
			stream_init(&s, 8192);
			add_rich(&s, transports[ti], protos[pi], 5);
			for (len = 0; len <= s.len; len++) {
				copy = malloc(len ? len : 1);
				memcpy(copy, s.buf, len);
				ret = kg_frame_next(transports[ti], protos[pi], NULL, copy, len,
						    &f);
				free(copy);
				if (len < s.len) {
					CHECK_EQ_AT(ret, -EAGAIN, len);
					CHECK_EQ_AT(f.need > len && f.need <= s.len, 1, len);
				} else {
					CHECK_EQ_AT(ret, 0, len);
					CHECK_EQ_AT(f.total_len, s.len, len);
				}
			}
			free(s.buf);
		}
	}
}

/* need belongs to one message: dropped on discard, or when the front moves. */
KT_TEST(need_is_per_message)
{
	struct kg_sock sock;
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;
	struct stream s;
	size_t a;

	stream_init(&s, 8192);
	add_rich(&s, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, 9);
	add_big_string(&s, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, 1000);
	a = s.ends[0];
	sock = (struct kg_sock){ .data = s.buf };
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 1u << 16, 1u << 16), 0);
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL);

	/* The first message and 30 bytes of the second. */
	sock.ready = a + 30;
	CHECK_EQ(kg_bsock_fill(&bs, SIZE_MAX), a + 30);
	CHECK_EQ(kg_tsock_next(&ts, &msg), 1);
	CHECK_EQ(msg.raw.len, a);
	CHECK_EQ(ts.need, 0);
	kg_tsock_discard(&ts);
	CHECK_EQ(kg_tsock_next(&ts, &msg), 0);
	CHECK(ts.need > 30 && ts.need <= s.len - a);
	CHECK_EQ(ts.parse_attempts, 2);
	/* Nothing new: no parse. */
	CHECK_EQ(kg_tsock_next(&ts, &msg), 0);
	CHECK_EQ(ts.parse_attempts, 2);

	/*
	 * Raw byte access drops the partial message behind the tsock's back
	 * and a fresh small message starts: the old need must not hold it.
	 */
	kg_bsock_discard(&bs, 30);
	CHECK_EQ(kg_tsock_next(&ts, &msg), 0);	/* empty */
	free(s.buf);
	stream_init(&s, 8192);
	add_rich(&s, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, 1);
	CHECK(s.len < ts.need);	/* the stale need would hang it */
	sock = (struct kg_sock){ .data = s.buf, .ready = s.len };
	CHECK_EQ(kg_bsock_fill(&bs, SIZE_MAX), s.len);
	CHECK_EQ(kg_tsock_next(&ts, &msg), 1);
	CHECK_EQ(msg.raw.len, s.len);
	CHECK_EQ(memcmp(msg.raw.data, s.buf, s.len), 0);
	kg_tsock_discard(&ts);
	kg_bsock_destroy(&bs);
	free(s.buf);
}

/* Garbage is still refused, at the latest once need bytes are in. */
KT_TEST(garbage_refused)
{
	struct kg_sock sock;
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;
	struct kg_writer w;
	static u8 buf[256];

	/* A list<struct> of 100 whose first element has a bad field type. */
	kg_writer_init(&w, buf, sizeof(buf), KG_PROTO_BINARY);
	kg_write_message_begin(&w, "put", 3, KG_MSG_CALL, 1);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_LIST, 1);
	kg_write_list_begin(&w, KG_T_STRUCT, 100);
	buf[w.len] = 0x7f;	/* not a type id */
	sock = (struct kg_sock){ .data = buf, .ready = w.len + 1 };
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 1u << 16, 1u << 16), 0);
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL);
	CHECK_EQ(kg_bsock_fill(&bs, SIZE_MAX), w.len + 1);
	/* 100 elements take 100 bytes at least: waits for them, then refuses. */
	CHECK_EQ(kg_tsock_next(&ts, &msg), 0);
	CHECK_EQ(ts.need, w.len + 100);
	sock.ready = w.len + 100;
	CHECK_EQ(kg_bsock_fill(&bs, SIZE_MAX), 99);
	CHECK_EQ(kg_tsock_next(&ts, &msg), -EBADMSG);
	kg_bsock_destroy(&bs);
}

/* ---- big unframed messages: parse work stays linear (ts.parse_bytes) ---- */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

struct big_result {
	int ret;		/* the last kg_tsock_next() */
	u32 len;		/* the message's, when found */
	size_t arrivals;
	u64 attempts, bytes;	/* ts.parse_attempts, ts.parse_bytes */
	double ms;
};

/*
 * Send @data[0..n) in @piece-byte pieces through a real kg_bsock (which
 * compacts and grows its buffer, moving the message) and a kg_tsock with
 * @lim, calling next() after each piece as the server does.
 */
static void drive_big(const u8 *data, size_t n, u8 proto, size_t piece,
		      const struct kg_limits *lim, struct big_result *res)
{
	struct kg_sock sock = { .data = data };
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;
	double t0;

	memset(res, 0, sizeof(*res));
	if (kg_bsock_init(&bs, &sock, NULL, lim->max_frame + 64, 1u << 16)) {
		KT_FAIL("kg_bsock_init");
		return;
	}
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_BUFFERED, proto, lim);
	t0 = now_ms();
	res->ret = 0;
	while (sock.ready < n && res->ret == 0) {
		sock.ready = min_t(size_t, sock.ready + piece, n);
		res->arrivals++;
		kg_bsock_fill(&bs, SIZE_MAX);
		res->ret = kg_tsock_next(&ts, &msg);
	}
	res->ms = now_ms() - t0;
	if (res->ret == 1) {
		res->len = msg.raw.len;
		CHECK_EQ(memcmp(msg.raw.data, data, msg.raw.len), 0);
		/* Asked again before the discard: the same message, no parse. */
		res->bytes = ts.parse_bytes;
		CHECK_EQ(kg_tsock_next(&ts, &msg), 1);
		CHECK_EQ(msg.raw.len, res->len);
		CHECK_EQ(ts.parse_bytes, res->bytes);
		kg_tsock_discard(&ts);
	}
	res->attempts = ts.parse_attempts;
	res->bytes = ts.parse_bytes;
	kg_bsock_destroy(&bs);
}

static void print_big(const char *what, size_t n, size_t piece, const struct big_result *res)
{
	printf("%s, %zu bytes in %zu-byte pieces: %zu arrivals, %" PRIu64 " parses, %" PRIu64
	       " bytes examined (%.3f per byte), %.1f ms\n", what, n, piece, res->arrivals,
	       res->attempts, res->bytes, (double)res->bytes / n, res->ms);
}

/* 1 MiB of many small fields, one byte per arrival. */
KT_TEST(mib_fields_in_byte_pieces)
{
	struct big_result res;
	struct stream s;
	size_t pi;

	for (pi = 0; pi < 2; pi++) {
		stream_init(&s, MIB + 4096);
		/* 110000 doubles: 11 (binary) or 9 (compact) bytes each, ~1 MiB */
		add_many_fields(&s, KG_TRANSPORT_BUFFERED, protos[pi],
				protos[pi] == KG_PROTO_BINARY ? 95000 : 116000);
		CHECK(s.len > 1000000);
		drive_big(s.buf, s.len, protos[pi], 1, &kg_default_limits, &res);
		print_big(pname(protos[pi]), s.len, 1, &res);
		CHECK_EQ(res.ret, 1);
		CHECK_EQ(res.len, s.len);
		/* Each byte about once: at most 16 more per parse that stopped short. */
		CHECK(res.bytes >= s.len);
		CHECK(res.bytes <= s.len + 16 * res.attempts);
		CHECK(res.bytes < 2 * s.len);
		free(s.buf);
	}
}

/*
 * The never-ending struct of issue 9 through the socket: 2 MB of 4-byte
 * fields, then one field per arrival: each arrival examines its own bytes.
 */
KT_TEST(never_ending_struct)
{
	const size_t mb2 = 2u << 20, more = 50000;
	size_t n = 0, cap = mb2 + 4 * more + 64;
	u8 *data = malloc(cap);
	struct kg_sock sock = { .data = data };
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;
	u64 before;
	double t0, ms;
	size_t i;

	memcpy(data, "\x80\x01\x00\x01\x00\x00\x00\x07testI32\x00\x00\x00\x01", 19);
	n = 19;
	while (n + 4 <= cap)
		memcpy(data + n, "\x03\x00\x32\x01", 4), n += 4;
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 16u << 20, 1u << 16), 0);
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL);
	/* The first 2 MB in MSS pieces. */
	while (sock.ready < mb2) {
		sock.ready = min_t(size_t, sock.ready + 1460, mb2);
		kg_bsock_fill(&bs, SIZE_MAX);
		CHECK_EQ(kg_tsock_next(&ts, &msg), 0);
	}
	before = ts.parse_bytes;
	CHECK(before >= mb2 - 19 && before <= mb2 + 16 * ts.parse_attempts);
	t0 = now_ms();
	for (i = 0; i < more; i++) {
		sock.ready += 4;
		kg_bsock_fill(&bs, SIZE_MAX);
		CHECK_EQ_AT(kg_tsock_next(&ts, &msg), 0, i);
	}
	ms = now_ms() - t0;
	printf("never-ending struct: 2 MB, then %zu 4-byte arrivals: %" PRIu64
	       " bytes examined by them (%.1f each), %.4f ms each\n", more,
	       ts.parse_bytes - before, (double)(ts.parse_bytes - before) / more, ms / more);
	CHECK(ts.parse_bytes - before <= (4 + 16) * (u64)more);
	kg_bsock_destroy(&bs);
	free(data);
}

/* A 4 MB compact list<i32> in 1460-byte pieces (issue 9: 2,196 parses, 5.3 GB). */
KT_TEST(compact_list_4mb_in_mss_pieces)
{
	struct kg_limits lim = kg_default_limits;
	struct big_result res;
	struct kg_writer w;
	u32 count = 1u << 20, i;
	size_t cap = 6u << 20;
	u8 *data = malloc(cap);

	kg_writer_init(&w, data, cap, KG_PROTO_COMPACT);
	kg_write_message_begin(&w, "testList", 8, KG_MSG_CALL, 1);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_LIST, 1);
	kg_write_list_begin(&w, KG_T_I32, count);
	for (i = 0; i < count; i++)
		kg_write_i32(&w, (s32)(i * 2654435761u) >> 4);	/* 4-byte varints */
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	CHECK_EQ(w.err, 0);
	lim.max_container = count;
	drive_big(data, w.len, KG_PROTO_COMPACT, 1460, &lim, &res);
	print_big("compact list<i32> of 2^20", w.len, 1460, &res);
	CHECK_EQ(res.ret, 1);
	CHECK_EQ(res.len, w.len);
	CHECK(res.bytes <= w.len + 16 * res.attempts);
	CHECK(res.attempts <= res.arrivals);
	free(data);
}

/* A 15 MB binary map<string,string>, unframed (issue 9: 34 s; framed 5 ms). */
KT_TEST(binary_map_15mb_in_mss_pieces)
{
	struct kg_limits lim = kg_default_limits;
	struct big_result res;
	struct kg_writer w;
	u32 count = 300000, i;
	size_t cap = 17u << 20;
	u8 *data = malloc(cap);
	char k[32], v[32];

	memset(v, 'v', sizeof(v));
	kg_writer_init(&w, data, cap, KG_PROTO_BINARY);
	kg_write_message_begin(&w, "testStringMap", 13, KG_MSG_CALL, 1);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_MAP, 1);
	kg_write_map_begin(&w, KG_T_STRING, KG_T_STRING, count);
	for (i = 0; i < count; i++) {
		snprintf(k, sizeof(k), "key%026u", i);
		kg_write_string(&w, k, 29);
		kg_write_string(&w, v, 13);
	}
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	CHECK_EQ(w.err, 0);
	CHECK(w.len > 15000000);
	lim.max_frame = 16u << 20;
	lim.max_string = lim.max_frame;
	drive_big(data, w.len, KG_PROTO_BINARY, 1460, &lim, &res);
	print_big("binary map<string,string> of 300000", w.len, 1460, &res);
	CHECK_EQ(res.ret, 1);
	CHECK_EQ(res.len, w.len);
	CHECK(res.bytes <= w.len + 16 * res.attempts);
	free(data);
}

/*
 * protocol=auto and transport=auto: a tsock that does not know its peer's
 * transport or protocol (or either) finds every message of a stream in
 * strict binary, old binary or compact, framed or not, however it arrives,
 * and ends up set to the stream's own.
 */
KT_TEST(auto_detects_at_every_split_point)
{
	static const char *const enc_name[] = { "strict", "old", "compact" };
	struct result res;
	struct stream s;
	size_t ti, ei, ai, split;
	u8 t, p, as_t[3], as_p[3];

	for (ti = 0; ti < 2; ti++) {
		for (ei = 0; ei < 3; ei++) {
			t = transports[ti];
			p = ei == 2 ? KG_PROTO_COMPACT : KG_PROTO_BINARY;
			stream_init(&s, 8192);
			if (ei == 1) {
				add_rich_old(&s, t, 3);
				add_rich_old(&s, t, 4);
			} else {
				add_rich(&s, t, p, 3);
				add_rich(&s, t, p, 4);
			}
			add_big_string(&s, t, p, 300);
			as_t[0] = KG_TRANSPORT_AUTO, as_p[0] = KG_PROTO_AUTO;
			as_t[1] = t, as_p[1] = KG_PROTO_AUTO;
			as_t[2] = KG_TRANSPORT_AUTO, as_p[2] = p;
			for (ai = 0; ai < 3; ai++) {
				drive_as(&s, t, p, as_t[ai], as_p[ai], 1, 0, &res);
				if (res.found != 3 || res.transport != t || res.proto != p)
					KT_FAIL("%s %s as %u/%u: %zu found, %u/%u", tname(t),
						enc_name[ei], as_t[ai], as_p[ai], res.found,
						res.transport, res.proto);
				for (split = 1; split < s.len; split++) {
					drive_as(&s, t, p, as_t[ai], as_p[ai], 0, split, &res);
					CHECK_EQ_AT(res.found, 3, split);
					CHECK_EQ_AT(res.transport, t, split);
					CHECK_EQ_AT(res.proto, p, split);
				}
			}
			free(s.buf);
		}
	}
}

/* First bytes no protocol starts with: refused as soon as they are in. */
KT_TEST(auto_refuses_unknown_first_bytes)
{
	static const u8 unframed[] = { 0x81, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0 };
	static const u8 framed[] = { 0, 0, 0, 6, 0x90, 0x21, 0, 0, 0, 0 };
	struct kg_sock sock = { .data = unframed, .ready = 1 };
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;

	if (kg_bsock_init(&bs, &sock, NULL, 1u << 16, 1u << 16)) {
		KT_FAIL("kg_bsock_init");
		return;
	}
	/* Unframed: the first byte decides. */
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_AUTO, KG_PROTO_AUTO, NULL);
	kg_bsock_fill(&bs, SIZE_MAX);
	CHECK_EQ(kg_tsock_next(&ts, &msg), -EBADMSG);
	kg_bsock_destroy(&bs);

	/* Framed: once the frame is in (it says how long it is). */
	memset(&sock, 0, sizeof(sock));
	sock.data = framed;
	if (kg_bsock_init(&bs, &sock, NULL, 1u << 16, 1u << 16)) {
		KT_FAIL("kg_bsock_init");
		return;
	}
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_FRAMED, KG_PROTO_AUTO, NULL);
	for (sock.ready = 1; sock.ready < sizeof(framed); sock.ready++) {
		kg_bsock_fill(&bs, SIZE_MAX);
		CHECK_EQ_AT(kg_tsock_next(&ts, &msg), 0, sock.ready);
	}
	sock.ready = sizeof(framed);
	kg_bsock_fill(&bs, SIZE_MAX);
	CHECK_EQ(kg_tsock_next(&ts, &msg), -EBADMSG);
	CHECK_EQ(ts.proto, KG_PROTO_AUTO);
	kg_bsock_destroy(&bs);
}

/* ---- kg_tsock_write_encoded(): one pass into the send buffer ---- */

static int encode_calls;

/* A REPLY whose result is one string of *@arg bytes. */
static int encode_reply_of(struct kg_writer *w, const void *arg)
{
	static u8 payload[1u << 18];
	u32 len = *(const u32 *)arg;

	encode_calls++;
	memset(payload, 'x', len);
	kg_write_message_begin(w, "m", 1, KG_MSG_REPLY, 7);
	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_STRING, 0);
	kg_write_binary(w, payload, len);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	return w->err;
}

KT_TEST(write_encoded_is_one_pass)
{
	static const u32 lens[] = { 0, 10, 200, 3000, 16000, 40000, 200000 };
	struct kg_sock sock = { 0 };
	struct kg_writer w;
	struct kg_bsock bs;
	struct kg_tsock ts;
	u8 *want = malloc(1u << 19);
	size_t i, n, queued;
	u32 len;

	CHECK(want != NULL);
	CHECK_EQ(kg_bsock_init(&bs, &sock, NULL, 1u << 16, 1u << 18), 0);
	kg_tsock_init(&ts, &bs, KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		len = lens[i];
		kg_writer_init(&w, want, 1u << 19, KG_PROTO_BINARY);
		encode_reply_of(&w, &len);
		n = w.len;
		encode_calls = 0;
		CHECK_EQ_AT(kg_tsock_write_encoded(&ts, encode_reply_of, &len), 0, len);
		/* Once when it fits the free room (16 KiB at first), twice when larger. */
		CHECK_EQ_AT(encode_calls, 4 + n <= KG_BSOCK_INITIAL ? 1 : 2, len);
		queued = bs.stail - bs.shead;
		CHECK_EQ_AT(queued, 4 + n, len);
		CHECK_EQ_AT(kg_get_be32(bs.sbuf + bs.shead), n, len);
		CHECK_EQ_AT(memcmp(bs.sbuf + bs.shead + 4, want, n), 0, len);
		CHECK_EQ(kg_bsock_flush(&bs), 0);
	}
	/* Over max_msg: refused, nothing queued; counted in the first pass only. */
	len = 1u << 18;
	encode_calls = 0;
	CHECK_EQ(kg_tsock_write_encoded(&ts, encode_reply_of, &len), -EMSGSIZE);
	CHECK_EQ(encode_calls, 1);
	CHECK_EQ(bs.stail - bs.shead, 0);
	kg_bsock_destroy(&bs);
	free(want);
}

/*
 * The borrowed receive (kernel: the socket's pages; here malloc'ed pieces
 * of 1..@seg bytes, freed when let go), served as kg_conn_serve_rx() does:
 * messages from the segments, a message that goes on past one pulled into
 * the buffer with ts.need, and every @stop_every-th message stops the run
 * (a handler's -EAGAIN, the budget): the rest is copied to the buffer. Every
 * message found once, byte-identical (ASan: no view of a freed segment),
 * never more borrowed than the buffer holds. Adds the bytes served in place
 * to *@inplace.
 */
static void drive_borrowed(const struct stream *s, u8 transport, u8 proto, size_t seg,
			   size_t piece, size_t stop_every, u64 *inplace)
{
	struct kg_rx_seg segs[KG_RX_SEGS];
	struct kg_sock sock = { .data = s->buf };
	size_t start = 0, found = 0, hdr = kg_frame_header_len(transport);
	struct kg_tsock ts;
	struct kg_bsock bs;
	struct kg_tmsg msg;
	bool stopped;
	ssize_t n;
	int ret;

	if (kg_bsock_init(&bs, &sock, NULL, 4u << 20, 1u << 16)) {
		KT_FAIL("kg_bsock_init");
		return;
	}
	borrow_seg = seg;
	kg_tsock_init(&ts, &bs, transport, proto, NULL);
	while (sock.ready < s->len) {
		sock.ready = min_t(size_t, sock.ready + piece, s->len);
		kg_bsock_borrow_begin(&bs, segs);
		do {
			stopped = false;
			n = kg_bsock_fill(&bs, SIZE_MAX);
			CHECK_EQ_AT(n >= 0, 1, sock.ready);
			CHECK_EQ_AT(bs.rtail - bs.rhead + bs.rx_left <= bs.rcap, 1, sock.ready);
			for (;;) {
				ret = kg_tsock_next(&ts, &msg);
				if (ret == 0) {
					if (!kg_bsock_borrowing(&bs))
						break;
					kg_bsock_pull(&bs, ts.need);
					continue;
				}
				if (ret != 1 || found == s->nmsgs) {
					KT_FAIL("next() = %d, %zu found, at %zu", ret, found, sock.ready);
					goto out;
				}
				CHECK_EQ_AT(msg.raw.len, s->ends[found] - start, sock.ready);
				CHECK_EQ_AT(msg.payload.data - msg.raw.data, hdr, sock.ready);
				CHECK_EQ_AT(memcmp(msg.raw.data, s->buf + start, msg.raw.len), 0,
					    sock.ready);
				start += msg.raw.len;
				found++;
				kg_tsock_discard(&ts);
				if (stop_every && found % stop_every == 0) {
					/* The next run serves the rest from the buffer. */
					kg_bsock_unborrow(&bs);
					stopped = true;
					break;
				}
			}
		} while ((n > 0 && sock.sent != sock.ready) || stopped);
		kg_bsock_borrow_end(&bs);
		/* As if every byte had been copied: */
		if (bs.bytes_in != sock.sent || bs.rx_left) {
			KT_FAIL("after the run: bytes_in %" PRIu64 ", %zu sent, %u borrowed",
				bs.bytes_in, sock.sent, bs.rx_left);
			goto out;
		}
	}
	if (found != s->nmsgs || sock.sent != s->len)
		KT_FAIL("%zu of %zu messages found, %zu of %zu bytes taken", found, s->nmsgs,
			sock.sent, s->len);
out:
	kg_bsock_borrow_end(&bs);
	*inplace += bs.bytes_inplace;
	kg_bsock_destroy(&bs);
	borrow_seg = 0;
}

KT_TEST(borrowed_segments_every_size)
{
	size_t ti, pi, seg, piece, stop;
	u64 inplace = 0, total = 0, one;
	struct stream s;
	int i;

	for (ti = 0; ti < 2; ti++) {
		for (pi = 0; pi < 2; pi++) {
			stream_init(&s, 64 * 1024);
			for (i = 0; i < MAX_MSGS - 1; i++)
				add_rich(&s, transports[ti], protos[pi], i + 1);
			add_big_string(&s, transports[ti], protos[pi], 3000);
			for (seg = 1; seg <= 4096; seg = seg < 8 ? seg + 1 : seg * 2 + 1) {
				for (piece = 1; piece <= s.len; piece = piece * 3 + 2) {
					for (stop = 0; stop < 3; stop++) {
						drive_borrowed(&s, transports[ti], protos[pi],
							       seg, piece, stop, &inplace);
						total += s.len;
					}
				}
			}
			one = 0;
			drive_borrowed(&s, transports[ti], protos[pi], 100000, s.len, 0, &one);
			/* One segment, whole messages: all but none copied. */
			CHECK_EQ(one, s.len);
			inplace += one;
			total += s.len;
			free(s.buf);
		}
	}
	printf("borrowed: %" PRIu64 " of %" PRIu64 " bytes served in place\n", inplace, total);
	CHECK(inplace > 0);
	CHECK(inplace < total);
}

KT_MAIN(KT_CASE(big_string_in_mss_pieces),
	KT_CASE(big_string_in_byte_pieces),
	KT_CASE(many_fields_in_byte_pieces),
	KT_CASE(many_fields_in_mss_pieces),
	KT_CASE(every_split_point),
	KT_CASE(auto_detects_at_every_split_point),
	KT_CASE(auto_refuses_unknown_first_bytes),
	KT_CASE(prefixes_read_in_bounds),
	KT_CASE(need_is_per_message),
	KT_CASE(garbage_refused),
	KT_CASE(mib_fields_in_byte_pieces),
	KT_CASE(never_ending_struct),
	KT_CASE(compact_list_4mb_in_mss_pieces),
	KT_CASE(binary_map_15mb_in_mss_pieces),
	KT_CASE(write_encoded_is_one_pass),
	KT_CASE(borrowed_segments_every_size))
