// SPDX-License-Identifier: GPL-2.0
/*
 * bench/codec, thrift-kgen's side: the generated C codecs of codec.thrift
 * (user-space build of the runtime), timed per value
 * and protocol. Writes each encoding to OUTDIR/kgen-<proto>-<value>.bin,
 * then prints one JSON line per (value, protocol, operation):
 *   encode        one pass into a buffer big enough
 *   encode_sized  the size pass (<struct>_encoded_size()), then the encode: the
 *                 server's reply path before it became one pass
 *   encode_reply  the reply path now: one pass into the room after a 4-byte
 *                 frame header, the length filled in after
 *   decode        into the struct, strings as views, containers in an arena
 *   roundtrip     encode then decode
 * plus memcpy of the encoded bytes, the floor for any encoder.
 *
 *   kgen-codec OUTDIR [check]     (check: write the encodings, time nothing)
 */
#include "codec_types.h"
#include "values.h"

#define BUF_SIZE	(BLOB_SIZE + 4096)
#define ARENA_SIZE	(64 << 10)

static u8 *buf, *copy;
static u8 arena_mem[ARENA_SIZE];

static struct kg_map_i32_i64_entry user_map[] = { { 5, 5 }, { 8, 8 } };
static struct codec_xtruct insanity_xtructs[2];
static struct codec_msg msg;
static struct codec_blob blob;
static struct codec_xtruct xtruct;
static struct codec_insanity insanity;

static struct kg_bytes str(const char *s)
{
	return (struct kg_bytes){ .data = (const u8 *)s, .len = strlen(s) };
}

static void fill_xtruct(struct codec_xtruct *x, const char *s, s8 b, s32 i, s64 l)
{
	memset(x, 0, sizeof(*x));
	x->string_thing = str(s);
	x->byte_thing = b;
	x->i32_thing = i;
	x->i64_thing = l;
	x->isset.string_thing = x->isset.byte_thing = x->isset.i32_thing = x->isset.i64_thing = true;
}

static void make_values(void)
{
	static u8 *blob_data;
	size_t i;

	msg.key = MSG_KEY;
	msg.payload = str(MSG_PAYLOAD);
	msg.isset.key = msg.isset.payload = true;
	fill_xtruct(&xtruct, "Zero", 1, -3, -5);
	fill_xtruct(&insanity_xtructs[0], "Goodbye4", 4, 4, 4);
	fill_xtruct(&insanity_xtructs[1], "Hello2", 2, 2, 2);
	insanity.user_map.count = 2;
	insanity.user_map.entries = user_map;
	insanity.xtructs.count = 2;
	insanity.xtructs.elems = insanity_xtructs;
	insanity.isset.user_map = insanity.isset.xtructs = true;
	blob_data = malloc(BLOB_SIZE);
	if (!blob_data)
		exit(1);
	for (i = 0; i < BLOB_SIZE; i++)
		blob_data[i] = blob_byte(i);
	blob.data = (struct kg_bytes){ .data = blob_data, .len = BLOB_SIZE };
	blob.isset.data = true;
}

#define BARRIER() __asm__ volatile("" ::: "memory")

/* One value: encode it once (checked, written out), then time each operation. */
#define BENCH_VALUE(NAME, TYPE, FN, VALUE)						\
	do {										\
		struct kg_writer w;							\
		struct kg_reader r;							\
		struct kg_arena a;							\
		TYPE out;								\
		size_t len;								\
		char file[64];								\
		kg_writer_init(&w, buf, BUF_SIZE, proto);				\
		if (FN##_encode(&w, &VALUE) || w.err) {					\
			fprintf(stderr, "%s: encode failed\n", NAME);			\
			exit(1);							\
		}									\
		len = w.len;								\
		if (FN##_encoded_size(&VALUE, proto) != len) {				\
			fprintf(stderr, "%s: size pass disagrees\n", NAME);		\
			exit(1);							\
		}									\
		snprintf(file, sizeof(file), "kgen-%s-%s.bin", pname, NAME);		\
		write_file(dir, file, buf, len);					\
		memcpy(copy, buf, len);							\
		kg_arena_init(&a, arena_mem, sizeof(arena_mem));			\
		kg_reader_init(&r, copy, len, proto, &a, &limits);			\
		if (FN##_decode(&r, &out) || kg_reader_remaining(&r)) {			\
			fprintf(stderr, "%s: decode failed\n", NAME);			\
			exit(1);							\
		}									\
		TIME_OP("kgen", pname, NAME, "encode",					\
			kg_writer_init(&w, buf, BUF_SIZE, proto);			\
			FN##_encode(&w, &VALUE); BARRIER());				\
		TIME_OP("kgen", pname, NAME, "encode_sized",				\
			size_t need = FN##_encoded_size(&VALUE, proto);			\
			kg_writer_init(&w, buf, need, proto);				\
			FN##_encode(&w, &VALUE); BARRIER());				\
		TIME_OP("kgen", pname, NAME, "encode_reply",				\
			kg_writer_init(&w, buf + 4, BUF_SIZE - 4, proto);		\
			FN##_encode(&w, &VALUE);					\
			kg_put_be32(buf, (u32)w.len); BARRIER());			\
		TIME_OP("kgen", pname, NAME, "decode",					\
			kg_arena_init(&a, arena_mem, sizeof(arena_mem));		\
			kg_reader_init(&r, copy, len, proto, &a, &limits);		\
			FN##_decode(&r, &out); BARRIER());				\
		TIME_OP("kgen", pname, NAME, "roundtrip",				\
			kg_writer_init(&w, buf, BUF_SIZE, proto);			\
			FN##_encode(&w, &VALUE);					\
			kg_arena_init(&a, arena_mem, sizeof(arena_mem));		\
			kg_reader_init(&r, buf, w.len, proto, &a, &limits);		\
			FN##_decode(&r, &out); BARRIER());				\
		TIME_OP("memcpy", pname, NAME, "encode",				\
			memcpy(buf, copy, len); BARRIER());				\
	} while (0)

int main(int argc, char **argv)
{
	struct kg_limits limits = kg_default_limits;
	const char *dir;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR [check]\n", argv[0]);
		return 2;
	}
	codec_timing = !(argc > 2 && !strcmp(argv[2], "check"));
	dir = argv[1];
	buf = malloc(BUF_SIZE);
	copy = malloc(BUF_SIZE);
	if (!buf || !copy)
		return 1;
	limits.max_string = BLOB_SIZE;
	make_values();
	for (i = 0; i < 2; i++) {
		u8 proto = i ? KG_PROTO_COMPACT : KG_PROTO_BINARY;
		const char *pname = i ? "compact" : "binary";

		BENCH_VALUE("msg", struct codec_msg, codec_msg, msg);
		BENCH_VALUE("xtruct", struct codec_xtruct, codec_xtruct, xtruct);
		BENCH_VALUE("insanity", struct codec_insanity, codec_insanity, insanity);
		BENCH_VALUE("blob", struct codec_blob, codec_blob, blob);
	}
	return 0;
}
