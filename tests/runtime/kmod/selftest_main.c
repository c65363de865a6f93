// SPDX-License-Identifier: GPL-2.0
/*
 * kgcore_selftest: the runtime core (arena, binary and compact protocols,
 * framing, resumable unframed framing) run
 * inside the kernel. Module init encodes and decodes a few messages and
 * fails with -EINVAL (the module does not load) if anything is off; the
 * result is also logged, for the VM test to check.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include "kgen/proto.h"
#include "kgen/frame.h"
#include "msgs.h"

static int checks, failures;

#define KCHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		pr_err("check failed at line %d: %s\n", __LINE__, #cond); \
	} \
} while (0)

static int skip_message(const u8 *p, size_t n, u8 proto)
{
	struct kg_reader r;
	struct kg_bytes name;
	u8 type;
	s32 seqid;
	int err;

	kg_reader_init(&r, p, n, proto, NULL, NULL);
	err = kg_read_message_begin(&r, &name, &type, &seqid);
	if (!err)
		err = kg_skip(&r, KG_T_STRUCT);
	if (!err && kg_reader_remaining(&r))
		err = -EMSGSIZE;
	return err;
}

/*
 * kg_frame_resume() gives kg_frame_next()'s verdict on every prefix, fed a
 * byte at a time, and on every split in two; the state is on the heap, as
 * in a connection.
 */
static void test_resume(const u8 *p, size_t n, u8 proto)
{
	struct kg_frame_state *st = kmalloc(sizeof(*st), GFP_KERNEL);
	struct kg_frame f, g;
	size_t len, split;
	int a = -EAGAIN, b;

	KCHECK(st);
	if (!st)
		return;
	kg_frame_state_reset(st);
	for (len = 0; len <= n; len++) {
		a = kg_frame_resume(st, KG_TRANSPORT_BUFFERED, proto, NULL, p, len, &f);
		b = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, NULL, p, len, &g);
		if (a != b || (a == -EAGAIN && len == n) || (a != -EAGAIN && len < n)) {
			KCHECK(len == n + 1);	/* report the first bad prefix */
			break;
		}
	}
	KCHECK(a == 0 && f.total_len == n);
	for (split = 1; split < n; split++) {
		kg_frame_state_reset(st);
		a = kg_frame_resume(st, KG_TRANSPORT_BUFFERED, proto, NULL, p, split, &f);
		b = kg_frame_resume(st, KG_TRANSPORT_BUFFERED, proto, NULL, p, n, &g);
		if (a != -EAGAIN || b || g.total_len != n) {
			KCHECK(split == n);
			break;
		}
	}
	kfree(st);
}

static void test_roundtrip(u8 *buf, u8 *buf2, size_t cap, u8 proto)
{
	struct kg_writer w;
	struct kg_frame f;
	size_t n, len;

	kg_writer_init_count(&w, proto);
	kt_write_rich_message(&w, 3);
	n = w.len;
	KCHECK(w.err == 0 && n > 50 && n + 4 <= cap);
	kg_writer_init(&w, buf + 4, cap - 4, proto);
	kt_write_rich_message(&w, 3);
	KCHECK(w.err == 0 && w.len == n);
	KCHECK(kg_frame_write_header(KG_TRANSPORT_FRAMED, buf, (u32)n) == 4);

	KCHECK(kg_frame_next(KG_TRANSPORT_FRAMED, proto, NULL, buf, n + 4, &f) == 0);
	KCHECK(f.payload_len == n && f.total_len == n + 4);
	KCHECK(kg_frame_next(KG_TRANSPORT_BUFFERED, proto, NULL, buf + 4, n, &f) == 0);
	KCHECK(f.total_len == n);
	KCHECK(skip_message(buf + 4, n, proto) == 0);
	for (len = 0; len < n; len++) {
		if (skip_message(buf + 4, len, proto) != -ENODATA ||
		    kg_frame_next(KG_TRANSPORT_BUFFERED, proto, NULL, buf + 4, len,
				  &f) != -EAGAIN) {
			KCHECK(len == n);	/* report the first bad prefix */
			break;
		}
	}
	test_resume(buf + 4, n, proto);
	/* Too small a buffer: sticky error, nothing written past it. */
	buf2[10] = 0x5a;
	kg_writer_init(&w, buf2, 10, proto);
	kt_write_rich_message(&w, 3);
	KCHECK(w.err == -EMSGSIZE && w.len == n && buf2[10] == 0x5a);
}

static void test_values(u8 *buf, size_t cap, struct kg_arena *a)
{
	struct kg_writer w;
	struct kg_reader r;
	struct kg_bytes s;
	s64 i64;
	s32 i32;
	u32 count;
	u8 et;
	u64 *elems;

	kg_writer_init(&w, buf, cap, KG_PROTO_BINARY);
	kg_write_i64(&w, S64_MIN);
	kg_write_string(&w, "kernel", 6);
	kg_write_list_begin(&w, KG_T_I32, 2);
	kg_write_i32(&w, -7);
	kg_write_i32(&w, 7);
	kg_write_list_end(&w);
	KCHECK(w.err == 0);

	kg_arena_reset(a);
	kg_reader_init(&r, buf, w.len, KG_PROTO_BINARY, a, NULL);
	KCHECK(kg_read_i64(&r, &i64) == 0 && i64 == S64_MIN);
	KCHECK(kg_read_string(&r, &s) == 0 && s.len == 6 && !memcmp(s.data, "kernel", 6));
	KCHECK(s.data == buf + 12);	/* zero copy */
	KCHECK(kg_read_list_begin(&r, &et, &count) == 0 && et == KG_T_I32 && count == 2);
	elems = kg_read_alloc(&r, count, sizeof(*elems));
	KCHECK(elems && elems[0] == 0 && elems[1] == 0);
	KCHECK(kg_read_i32(&r, &i32) == 0 && i32 == -7);
	KCHECK(kg_read_i32(&r, &i32) == 0 && i32 == 7);
	KCHECK(kg_read_list_end(&r) == 0 && r.depth == 0);
	KCHECK(!kg_read_alloc(&r, U32_MAX, SIZE_MAX / 2));
	KCHECK(!kg_read_alloc(&r, 1, a->size + 1));
}

static void test_malformed(u8 *buf, size_t cap)
{
	static const u8 bad_version[] = { 0x80, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const u8 http[] = "GET / HTTP/1.1\r\n\r\n";
	struct kg_frame f;
	size_t n;

	KCHECK(skip_message(bad_version, sizeof(bad_version), KG_PROTO_BINARY) == -EBADMSG);
	KCHECK(kg_frame_next(KG_TRANSPORT_BUFFERED, KG_PROTO_BINARY, NULL, http,
			     sizeof(http) - 1, &f) == -EMSGSIZE);
	n = kt_nested(buf, cap, KG_MAX_DEPTH, KG_T_STRUCT);
	KCHECK(n && skip_message(buf, n, KG_PROTO_BINARY) == 0);
	n = kt_nested(buf, cap, KG_MAX_DEPTH + 1, KG_T_STRUCT);
	KCHECK(n && skip_message(buf, n, KG_PROTO_BINARY) == -EMSGSIZE);
	n = kt_nested(buf, cap, 200, KG_T_LIST);
	KCHECK(n && skip_message(buf, n, KG_PROTO_BINARY) == -EMSGSIZE);
	kg_put_be32(buf, 0);
	KCHECK(kg_frame_next(KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, buf, 4, &f) == -EBADMSG);
	kg_put_be32(buf, KG_DEFAULT_MAX_FRAME + 1);
	KCHECK(kg_frame_next(KG_TRANSPORT_FRAMED, KG_PROTO_BINARY, NULL, buf, 4, &f) == -EMSGSIZE);
}

static void test_app_exception(u8 *buf, size_t cap)
{
	struct kg_bytes method = { (const u8 *)"m", 1 }, name, msg;
	struct kg_writer w;
	struct kg_reader r;
	u8 type;
	s32 seqid;
	u32 extype;

	kg_writer_init(&w, buf, cap, KG_PROTO_BINARY);
	kg_write_app_exception(&w, method, 9, KG_APPEX_PROTOCOL_ERROR, "bad");
	KCHECK(w.err == 0);
	kg_reader_init(&r, buf, w.len, KG_PROTO_BINARY, NULL, NULL);
	KCHECK(kg_read_message_begin(&r, &name, &type, &seqid) == 0);
	KCHECK(type == KG_MSG_EXCEPTION && seqid == 9);
	KCHECK(kg_read_app_exception(&r, &extype, &msg) == 0);
	KCHECK(extype == KG_APPEX_PROTOCOL_ERROR && msg.len == 3 && !memcmp(msg.data, "bad", 3));
}

static int __init kgcore_selftest_init(void)
{
	const size_t cap = 4096;
	struct kg_arena arena;
	u8 *buf, *buf2, *mem;

	buf = kvmalloc(cap, GFP_KERNEL);
	buf2 = kvmalloc(cap, GFP_KERNEL);
	mem = kvmalloc(cap, GFP_KERNEL);
	if (!buf || !buf2 || !mem) {
		kvfree(buf);
		kvfree(buf2);
		kvfree(mem);
		return -ENOMEM;
	}
	kg_arena_init(&arena, mem, cap);
	test_roundtrip(buf, buf2, cap, KG_PROTO_BINARY);
	test_roundtrip(buf, buf2, cap, KG_PROTO_COMPACT);
	test_values(buf, cap, &arena);
	test_malformed(buf, cap);
	test_app_exception(buf, cap);
	kvfree(buf);
	kvfree(buf2);
	kvfree(mem);
	if (failures) {
		pr_err("%d of %d checks failed\n", failures, checks);
		return -EINVAL;
	}
	pr_info("all %d checks passed\n", checks);
	return 0;
}

static void __exit kgcore_selftest_exit(void)
{
}

module_init(kgcore_selftest_init);
module_exit(kgcore_selftest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("thrift-kgen runtime core self-test");
