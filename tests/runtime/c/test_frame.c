// SPDX-License-Identifier: GPL-2.0
/* Unit tests of message framing (runtime/core/frame.c). */
#include "kgen/frame.h"
#include "kt.h"
#include "msgs.h"

static u8 msg[4096], stream[8192];

KT_TEST(framed_every_split_point)
{
	struct kg_frame f;
	size_t n = kt_rich(msg, sizeof(msg), 3), len, total;

	CHECK_EQ(kg_frame_write_header(KG_TRANSPORT_FRAMED, stream, (u32)n), 4);
	memcpy(stream + 4, msg, n);
	total = n + 4;
	for (len = 0; len < total; len++) {
		CHECK_EQ_AT(kg_frame_next(KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, stream,
					  len, &f), -EAGAIN, len);
		/* Exact once the length is in. */
		CHECK_EQ_AT(f.need, len < 4 ? 4 : total, len);
	}
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, stream, total, &f), 0);
	CHECK_EQ(f.header_len, 4);
	CHECK_EQ(f.payload_len, n);
	CHECK_EQ(f.total_len, total);
	/* Trailing bytes of a next frame do not matter. */
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, stream, total + 3, &f),
		 0);
	CHECK_EQ(f.total_len, total);
}

KT_TEST(framed_bad_sizes)
{
	struct kg_limits l = kg_default_limits;
	struct kg_frame f;
	u8 h[4];

	kg_put_be32(h, 0);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, NULL, h, 4, &f), -EBADMSG);
	kg_put_be32(h, 0xffffffff);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, NULL, h, 4, &f), -EBADMSG);
	kg_put_be32(h, 0x80010001);	/* an unframed client talking to us */
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, NULL, h, 4, &f), -EBADMSG);
	kg_put_be32(h, KG_DEFAULT_MAX_FRAME + 1);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, NULL, h, 4, &f), -EMSGSIZE);
	kg_put_be32(h, KG_DEFAULT_MAX_FRAME);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, NULL, h, 4, &f), -EAGAIN);
	CHECK_EQ(f.need, KG_DEFAULT_MAX_FRAME + 4);
	l.max_frame = 100;
	kg_put_be32(h, 101);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, &l, h, 4, &f), -EMSGSIZE);
	kg_put_be32(h, 100);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, &l, h, 4, &f), -EAGAIN);
	kg_put_be32(h, 0x7fffffff);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_FRAMED, 0, &l, h, 4, &f), -EMSGSIZE);
}

KT_TEST(unframed_every_split_point)
{
	struct kg_frame f;
	size_t n = kt_rich(msg, sizeof(msg), 4), len;

	for (len = 0; len < n; len++) {
		CHECK_EQ_AT(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, len,
					  &f), -EAGAIN, len);
		/* A lower bound on the message's length, and progress. */
		CHECK_EQ_AT(f.need > len && f.need <= n, 1, len);
	}
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n, &f), 0);
	CHECK_EQ(f.header_len, 0);
	CHECK_EQ(f.payload_len, n);
	CHECK_EQ(f.total_len, n);
}

KT_TEST(unframed_back_to_back)
{
	struct kg_frame f;
	size_t a = kt_rich(stream, sizeof(stream), 1);
	size_t b = kt_rich(stream + a, sizeof(stream) - a, 22);
	size_t off = 0, len;

	/* Every split of the concatenation: first message, then the second. */
	for (len = 0; len <= a + b; len++) {
		int err = kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, stream,
					len, &f);

		CHECK_EQ_AT(err, len < a ? -EAGAIN : 0, len);
		if (!err)
			CHECK_EQ_AT(f.total_len, a, len);
	}
	off = a;
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, stream + off, b, &f),
		 0);
	CHECK_EQ(f.total_len, b);
}

KT_TEST(unframed_garbage_refused_early)
{
	struct kg_frame f;
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	u8 bad[] = { 0x80, 0x02, 0x00, 0x01 };
	u8 deep[2048];
	size_t n;

	/* "GET " as a name length is far over max_string. */
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, http,
			       sizeof(http) - 1, &f), -EMSGSIZE);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, bad, 4, &f),
		 -EBADMSG);
	/* Too deep: refused as soon as the depth is seen, complete or not. */
	n = kt_nested(deep, sizeof(deep), 100, KG_T_STRUCT);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, deep, n, &f),
		 -EMSGSIZE);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, deep, n - 90, &f),
		 -EMSGSIZE);
	/* An invalid field type in the arguments. */
	n = kt_rich(msg, sizeof(msg), 1);
	msg[16] = 9;	/* version, name length, "echo", seqid: then the first field type */
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, msg, n, &f),
		 -EBADMSG);
}

KT_TEST(unframed_over_max_frame)
{
	struct kg_limits l = kg_default_limits;
	struct kg_frame f;
	size_t n = kt_rich(msg, sizeof(msg), 2), len;

	l.max_frame = (u32)n - 1;
	for (len = 0; len < n - 1; len++)
		CHECK_EQ_AT(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, msg, len,
					  &f), -EAGAIN, len);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, msg, n - 1, &f),
		 -EMSGSIZE);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, msg, n, &f),
		 -EMSGSIZE);
	l.max_frame = (u32)n;
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, msg, n, &f), 0);
	/*
	 * A container count the frame could never hold is refused as soon as
	 * its header is in; one that fits is waited for.
	 */
	{
		u8 m[64] = { 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'f', 0, 0, 0, 1,
			     KG_T_LIST, 0, 1, KG_T_I64, 0, 0, 0x10, 0 };

		l.max_frame = 64;
		CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, m, 20, &f),
			 -EAGAIN);
		CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, m, 21, &f),
			 -EMSGSIZE);
		m[19] = 0;
		m[20] = 5;	/* 5 * 8 bytes: 21 + 40 + the STOP = 62 */
		CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, m, 40, &f),
			 -EAGAIN);
		CHECK_EQ(f.need, 61);
		CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, m, 62, &f), 0);
		CHECK_EQ(f.total_len, 62);
	}
}

KT_TEST(unframed_need_hint)
{
	struct kg_limits l = kg_default_limits;
	struct kg_writer w;
	struct kg_frame f;
	static u8 big[3000];
	size_t n, len, calls = 0;

	/* One 2000-byte string: once its length is in, wait for all of it. */
	memset(big, 'q', sizeof(big));
	kg_writer_init(&w, stream, sizeof(stream), KG_PROTO_BINARY);
	kg_write_message_begin(&w, "put", 3, KG_MSG_ONEWAY, 1);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_STRING, 1);
	kg_write_binary(&w, big, 2000);
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	n = w.len;
	CHECK_EQ(n, 4 + 4 + 3 + 4 + 3 + 4 + 2000 + 1);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, stream, 30, &f),
		 -EAGAIN);
	CHECK_EQ(f.need, n - 1);
	/* A receiver that honours need calls a handful of times, not n. */
	for (len = 1; len <= n; len++) {
		calls++;
		if (!kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, stream, len, &f))
			break;
		CHECK_EQ_AT(f.need > len && f.need <= n, 1, len);
		len = f.need - 1;
	}
	CHECK_EQ(len, n);
	CHECK_EQ(f.total_len, n);
	CHECK(calls < 12);

	/* list<i64> whose least size is over max_frame: refused at once. */
	kg_writer_init(&w, stream, sizeof(stream), KG_PROTO_BINARY);
	kg_write_message_begin(&w, "put", 3, KG_MSG_CALL, 1);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_LIST, 1);
	kg_write_list_begin(&w, KG_T_I64, 1000);
	l.max_frame = 8000;
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, stream, w.len, &f),
		 -EMSGSIZE);
	l.max_frame = 8100;
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, &l, stream, w.len, &f),
		 -EAGAIN);
	CHECK_EQ(f.need, w.len + 8000);
}

KT_TEST(write_header_and_unknowns)
{
	struct kg_frame f;
	u8 h[4] = { 9, 9, 9, 9 };

	CHECK_EQ(kg_frame_header_len(KG_TRANSPORT_FRAMED), 4);
	CHECK_EQ(kg_frame_header_len(KG_TRANSPORT_BUFFERED), 0);
	CHECK_EQ(kg_frame_write_header(KG_TRANSPORT_FRAMED, h, 0x01020304), 4);
	CHECK(h[0] == 1 && h[1] == 2 && h[2] == 3 && h[3] == 4);
	CHECK_EQ(kg_frame_write_header(KG_TRANSPORT_BUFFERED, h, 7), 0);
	CHECK(h[0] == 1);
	CHECK_EQ(kg_frame_next(5, KG_PROTO_BINARY, NULL, h, 4, &f), -EPROTONOSUPPORT);
	CHECK_EQ(kg_frame_next(KG_TRANSPORT_BUFFERED, 9, NULL, h, 4, &f), -EPROTONOSUPPORT);
}

/* protocol=auto: one byte decides (frame.h). */
KT_TEST(detect_proto_first_byte)
{
	u8 b = 0, proto;
	int b_int;

	CHECK_EQ(kg_frame_detect_proto(&b, 0, &proto), -EAGAIN);
	for (b_int = 0; b_int < 256; b_int++) {
		int ret;

		b = (u8)b_int;
		proto = 0xee;
		ret = kg_frame_detect_proto(&b, 1, &proto);
		if (b < 0x80 || b == 0x80) {
			CHECK_EQ_AT(ret, 0, b_int);
			CHECK_EQ_AT(proto, KG_PROTO_BINARY, b_int);
		} else if (b == 0x82) {
			CHECK_EQ_AT(ret, 0, b_int);
			CHECK_EQ_AT(proto, KG_PROTO_COMPACT, b_int);
		} else {
			CHECK_EQ_AT(ret, -EBADMSG, b_int);
			CHECK_EQ_AT(proto, 0xee, b_int);
		}
	}
}

/* transport=auto: what each first 8 bytes mean, and how many it waits for. */
KT_TEST(detect_transport_cases)
{
	static const struct {
		u8 bytes[8];
		u32 len;
		int ret;
		u32 need;	/* on -EAGAIN */
		u8 transport;	/* on 0 */
	} cases[] = {
		{ { 0 }, 0, -EAGAIN, 1, 0 },
		{ { 0x80, 0x01 }, 1, 0, 0, KG_TRANSPORT_BUFFERED },		/* strict */
		{ { 0x82, 0x21 }, 1, 0, 0, KG_TRANSPORT_BUFFERED },		/* compact */
		{ { 0x90 }, 1, 0, 0, KG_TRANSPORT_BUFFERED },	/* refused as a protocol later */
		{ { 0, 0, 0, 20 }, 4, -EAGAIN, 5, 0 },
		{ { 0, 0, 0, 20, 0x80 }, 5, 0, 0, KG_TRANSPORT_FRAMED },
		{ { 0, 0, 0, 20, 0x82 }, 5, 0, 0, KG_TRANSPORT_FRAMED },
		{ { 0, 0, 0, 20, 0 }, 5, -EAGAIN, 8, 0 },
		/* Old binary in a frame of 20: name length 10 leaves 10 for the rest. */
		{ { 0, 0, 0, 20, 0, 0, 0, 10 }, 8, 0, 0, KG_TRANSPORT_FRAMED },
		{ { 0, 0, 0, 20, 0, 0, 0, 11 }, 8, 0, 0, KG_TRANSPORT_BUFFERED },
		/* Old binary unframed: "ping" after its length 4 is no name length. */
		{ { 0, 0, 0, 4, 'p', 'i', 'n', 'g' }, 8, 0, 0, KG_TRANSPORT_BUFFERED },
		/* Empty name: the type byte follows. */
		{ { 0, 0, 0, 0, 1, 0, 0, 0 }, 8, 0, 0, KG_TRANSPORT_BUFFERED },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u8 transport = 0xee;
		u32 need = 0;
		int ret = kg_frame_detect_transport(cases[i].bytes, cases[i].len, &transport,
						    &need);

		CHECK_EQ_AT(ret, cases[i].ret, i);
		if (ret == -EAGAIN)
			CHECK_EQ_AT(need, cases[i].need, i);
		else
			CHECK_EQ_AT(transport, cases[i].transport, i);
	}
}

/*
 * kg_copy_small() (compat.h), the kernel's copy of forwarded frames: every
 * length up to past KG_COPY_SMALL_MAX, at every source/destination offset
 * mod 8, between heap blocks of exactly that size (ASan sees any byte read
 * or written out of bounds), and nothing around the destination touched.
 */
KT_TEST(copy_small_every_length)
{
	size_t len, so, dof, i;

	for (len = 0; len <= KG_COPY_SMALL_MAX + 8; len++) {
		for (so = 0; so < 8; so++) {
			for (dof = 0; dof < 8; dof++) {
				u8 *src = malloc(so + len + 1), *dst = malloc(dof + len + 1);

				CHECK(src && dst);
				for (i = 0; i < so + len + 1; i++)
					src[i] = (u8)(i * 131 + len);
				memset(dst, 0xa5, dof + len + 1);
				kg_copy_small(dst + dof, src + so, len);
				CHECK_EQ_AT(memcmp(dst + dof, src + so, len), 0, len);
				for (i = 0; i < dof; i++)
					CHECK_EQ_AT(dst[i], 0xa5, len);
				CHECK_EQ_AT(dst[dof + len], 0xa5, len);
				/* kg_copy() picks it or memcpy(): the same bytes. */
				memset(dst, 0x5a, dof + len + 1);
				kg_copy(dst + dof, src + so, len);
				CHECK_EQ_AT(memcmp(dst + dof, src + so, len), 0, len);
				CHECK_EQ_AT(dst[dof + len], 0x5a, len);
				free(src);
				free(dst);
			}
		}
	}
}

KT_MAIN(KT_CASE(framed_every_split_point),
	KT_CASE(framed_bad_sizes),
	KT_CASE(unframed_every_split_point),
	KT_CASE(unframed_back_to_back),
	KT_CASE(unframed_garbage_refused_early),
	KT_CASE(unframed_over_max_frame),
	KT_CASE(unframed_need_hint),
	KT_CASE(write_header_and_unknowns),
	KT_CASE(detect_proto_first_byte),
	KT_CASE(detect_transport_cases),
	KT_CASE(copy_small_every_length))
