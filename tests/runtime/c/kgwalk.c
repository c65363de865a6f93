// SPDX-License-Identifier: GPL-2.0
/*
 * Driver for cross-checking the C protocol against thriftpy2 from pytest.
 *
 *   kgwalk walk           stdin: one message. Prints its canonical JSON dump
 *                         (walk.h) and, on a second line, the hex of the
 *                         message re-encoded by the C writer. Exit 3 and
 *                         "ERR <errno>" if the reader refuses it.
 *   kgwalk gen SEED       prints the hex of an S.echo CALL whose values are a
 *                         function of SEED (the same one test_cross.py uses).
 *   kgwalk appex TYPE SEQ [MSG]
 *                         prints the hex of a TApplicationException "echo".
 *   kgwalk readappex      stdin: an EXCEPTION message; prints
 *                         "<seqid> <type> <message hex>".
 *   kgwalk prefixes       stdin: one message. Checks that every proper prefix
 *                         reads as -ENODATA (typed walk and unframed framing)
 *                         and the whole as valid; prints "ok <n>" or "BAD ...".
 *   kgwalk frame framed|buffered
 *                         stdin: a stream; prints "<err> <total_len>".
 *   kgwalk resume SEED [MAX_FRAME MAX_STRING MAX_CONTAINER MAX_DEPTH]
 *                         stdin: bytes. Feeds them to kg_frame_resume() in
 *                         1-byte pieces, in every two pieces (up to 2 KiB),
 *                         and in 200 random cuttings from SEED, checking each
 *                         call against kg_frame_next() on the same prefix;
 *                         prints "ok <verdict> <total_len>" or "BAD ...".
 *
 * KGWALK_PROTO=compact in the environment selects the compact protocol.
 */
#include "kgen/frame.h"
#include "walk.h"

static u8 in[1 << 22], out[1 << 22];
static u64 arena_mem[1 << 18];

static size_t slurp(void)
{
	size_t n = 0, got;

	while ((got = fread(in + n, 1, sizeof(in) - n, stdin)) > 0)
		n += got;
	return n;
}

static void print_hex(const u8 *p, size_t n)
{
	kt_hex(stdout, p, n);
	printf("\n");
}

static void s(struct kg_writer *w, const char *str)
{
	kg_write_string(w, str, (u32)strlen(str));
}

static void inner(struct kg_writer *w, s32 a, const char *b)
{
	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_I32, 1);
	kg_write_i32(w, a);
	kg_write_field_begin(w, KG_T_STRING, 2);
	s(w, b);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
}

/* Mirrors expected_all() in tests/runtime/test_cross.py. */
static void gen(struct kg_writer *w, u32 seed)
{
	char tmp[32];
	double d = (double)seed + 0.5;
	u64 bits;
	u32 i, j;

	memcpy(&bits, &d, sizeof(bits));
	kg_write_message_begin(w, "echo", 4, KG_MSG_CALL, (s32)seed);
	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_STRUCT, 1);
	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_BOOL, 1);
	kg_write_bool(w, seed & 1);
	kg_write_field_begin(w, KG_T_BYTE, 2);
	kg_write_byte(w, (s8)(u8)(seed * 37));
	kg_write_field_begin(w, KG_T_I16, 3);
	kg_write_i16(w, (s16)(u16)(seed * 1000 + 12345));
	kg_write_field_begin(w, KG_T_I32, 4);
	kg_write_i32(w, (s32)(seed * 100003u + 0x80000000u));
	kg_write_field_begin(w, KG_T_I64, 5);
	kg_write_i64(w, (s64)((u64)seed * 1000000007ULL + 0x8000000000000000ULL));
	kg_write_field_begin(w, KG_T_DOUBLE, 6);
	kg_write_double(w, bits);
	kg_write_field_begin(w, KG_T_STRING, 7);
	snprintf(tmp, sizeof(tmp), "s%u", seed);
	s(w, tmp);
	kg_write_field_begin(w, KG_T_STRING, 8);
	for (i = 0; i < seed % 7; i++)
		tmp[i] = (char)(i * 51);
	kg_write_binary(w, tmp, seed % 7);
	kg_write_field_begin(w, KG_T_STRUCT, 9);
	inner(w, (s32)seed, "in");
	kg_write_field_begin(w, KG_T_LIST, 10);
	kg_write_list_begin(w, KG_T_I32, seed % 5);
	for (i = 0; i < seed % 5; i++)
		kg_write_i32(w, (s32)(i * seed));
	kg_write_list_end(w);
	kg_write_field_begin(w, KG_T_SET, 11);
	kg_write_set_begin(w, KG_T_STRING, 2);
	s(w, "x");
	s(w, "y");
	kg_write_set_end(w);
	kg_write_field_begin(w, KG_T_MAP, 12);
	kg_write_map_begin(w, KG_T_STRING, KG_T_STRUCT, seed % 3);
	for (i = 0; i < seed % 3; i++) {
		snprintf(tmp, sizeof(tmp), "k%u", i);
		s(w, tmp);
		inner(w, (s32)i, "v");
	}
	kg_write_map_end(w);
	kg_write_field_begin(w, KG_T_LIST, 13);
	kg_write_list_begin(w, KG_T_LIST, 2);
	for (i = 0; i < 2; i++) {
		kg_write_list_begin(w, KG_T_I64, 2);
		kg_write_i64(w, (s64)i);
		kg_write_i64(w, -(s64)i);
		kg_write_list_end(w);
	}
	kg_write_list_end(w);
	kg_write_field_begin(w, KG_T_MAP, 14);
	kg_write_map_begin(w, KG_T_I16, KG_T_LIST, seed % 3);
	for (i = 0; i < seed % 3; i++) {
		kg_write_i16(w, (s16)i);
		kg_write_list_begin(w, KG_T_BOOL, i);
		for (j = 0; j < i; j++)
			kg_write_bool(w, i % 2 == 0);
		kg_write_list_end(w);
	}
	kg_write_map_end(w);
	/* 15 (f_structs) left out: absent optional field */
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	kg_write_field_begin(w, KG_T_I32, 2);
	kg_write_i32(w, (s32)seed);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	kg_write_message_end(w);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Feed in[0..cuts[i]) to kg_frame_resume() (cuts NULL: 0, 1, ... upto) in a
 * fresh copy each time, and compare with kg_frame_next() on the prefix.
 */
static int resume_cuts(u8 proto, const struct kg_limits *lim, size_t n, const size_t *cuts,
		       size_t ncuts, size_t upto, int *last, u32 *total)
{
	struct kg_frame_state st;
	struct kg_frame f, g;
	size_t i, len;
	int a, b;
	u8 *copy;

	if (!cuts) {
		/* only the last prefix is new: the earlier ones ran before */
		static struct kg_frame_state one;

		if (!upto)
			kg_frame_state_reset(&one);
		copy = malloc(upto ? upto : 1);
		memcpy(copy, in, upto);
		a = kg_frame_resume(&one, KG_TRANSPORT_BUFFERED, proto, lim, copy, upto, &f);
		free(copy);
		b = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, lim, in, upto, &g);
		if (a != b || (!a && f.total_len != g.total_len) ||
		    (a == -EAGAIN && (f.need <= upto || f.need > lim->max_frame))) {
			printf("BAD 1-byte pieces at %zu of %zu: %d %d\n", upto, n, a, b);
			return 1;
		}
		*last = a;
		*total = a ? 0 : f.total_len;
		return 0;
	}
	kg_frame_state_reset(&st);
	for (i = 0; i < ncuts; i++) {
		len = cuts[i];
		copy = malloc(len ? len : 1);
		memcpy(copy, in, len);
		a = kg_frame_resume(&st, KG_TRANSPORT_BUFFERED, proto, lim, copy, len, &f);
		free(copy);
		b = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, lim, in, len, &g);
		if (a != b || (!a && f.total_len != g.total_len)) {
			printf("BAD at cut %zu (%zu of %zu): %d %d\n", i, len, n, a, b);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kg_reader r;
	struct kg_writer w;
	struct kg_arena arena;
	const char *mode = argc > 1 ? argv[1] : "walk";
	const char *penv = getenv("KGWALK_PROTO");
	u8 proto = penv && !strcmp(penv, "compact") ? KG_PROTO_COMPACT : KG_PROTO_BINARY;
	size_t n;
	int err;

	kg_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kg_writer_init(&w, out, sizeof(out), proto);
	if (!strcmp(mode, "walk")) {
		n = slurp();
		kg_reader_init(&r, in, n, proto, &arena, NULL);
		/* Dump to a buffer first: on error print only the error. */
		{
			char *dump = NULL;
			size_t dlen = 0;
			FILE *f = open_memstream(&dump, &dlen);

			err = kt_walk_message(&r, &w, f);
			fclose(f);
			if (!err && kg_reader_remaining(&r))
				err = -EMSGSIZE;	/* trailing bytes */
			if (err) {
				printf("ERR %d\n", -err);
				free(dump);
				return 3;
			}
			printf("%s\n", dump);
			free(dump);
		}
		if (w.err) {
			printf("ERR %d\n", -w.err);
			return 3;
		}
		print_hex(out, w.len);
		return 0;
	}
	if (!strcmp(mode, "gen") && argc > 2) {
		gen(&w, (u32)strtoul(argv[2], NULL, 0));
		print_hex(out, w.len);
		return w.err ? 3 : 0;
	}
	if (!strcmp(mode, "appex") && argc > 3) {
		struct kg_bytes method = { (const u8 *)"echo", 4 };

		kg_write_app_exception(&w, method, (s32)strtol(argv[3], NULL, 0),
				       (u32)strtoul(argv[2], NULL, 0), argc > 4 ? argv[4] : NULL);
		print_hex(out, w.len);
		return w.err ? 3 : 0;
	}
	if (!strcmp(mode, "readappex")) {
		struct kg_bytes name, msg;
		u8 type;
		s32 seqid;
		u32 extype;

		n = slurp();
		kg_reader_init(&r, in, n, proto, &arena, NULL);
		err = kg_read_message_begin(&r, &name, &type, &seqid);
		if (!err && type != KG_MSG_EXCEPTION)
			err = -EBADMSG;
		if (!err)
			err = kg_read_app_exception(&r, &extype, &msg);
		if (err) {
			printf("ERR %d\n", -err);
			return 3;
		}
		printf("%d %u ", seqid, extype);
		print_hex(msg.data, msg.len);
		return 0;
	}
	if (!strcmp(mode, "prefixes")) {
		struct kg_frame f;
		size_t len;
		int e2;

		n = slurp();
		for (len = 0; len <= n; len++) {
			kg_arena_reset(&arena);
			kg_reader_init(&r, in, len, proto, &arena, NULL);
			err = kt_walk_message(&r, NULL, NULL);
			e2 = kg_frame_next(KG_TRANSPORT_BUFFERED, proto, NULL, in, len, &f);
			if (len < n ? (err != -ENODATA || e2 != -EAGAIN) :
				      (err || e2 || f.total_len != n)) {
				printf("BAD at %zu of %zu: walk %d frame %d\n", len, n, err, e2);
				return 1;
			}
		}
		printf("ok %zu\n", n);
		return 0;
	}
	if (!strcmp(mode, "resume") && argc > 2) {
		struct kg_limits lim = kg_default_limits;
		u64 rng = strtoull(argv[2], NULL, 0) | 1;
		size_t cuts[64], k, i, split;
		int last = 0;
		u32 total = 0;

		if (argc > 6) {
			lim.max_frame = (u32)strtoul(argv[3], NULL, 0);
			lim.max_string = (u32)strtoul(argv[4], NULL, 0);
			lim.max_container = (u32)strtoul(argv[5], NULL, 0);
			lim.max_depth = (u32)strtoul(argv[6], NULL, 0);
		}
		n = slurp();
		for (i = 0; i <= n; i++)
			if (resume_cuts(proto, &lim, n, NULL, i + 1, i, &last, &total))
				return 1;
		for (split = 1; split < n && n <= 2048; split++) {
			cuts[0] = split;
			cuts[1] = n;
			if (resume_cuts(proto, &lim, n, cuts, 2, 0, &last, &total))
				return 1;
		}
		for (k = 0; k < 200; k++) {
			size_t m = 1 + (size_t)(rng % 40);

			for (i = 0; i < m; i++) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				cuts[i] = (size_t)(rng % (n + 1));
			}
			cuts[m] = n;
			qsort(cuts, m + 1, sizeof(cuts[0]), cmp_size);
			if (resume_cuts(proto, &lim, n, cuts, m + 1, 0, &last, &total))
				return 1;
		}
		printf("ok %d %u\n", last, total);
		return 0;
	}
	if (!strcmp(mode, "frame") && argc > 2) {
		struct kg_frame f;
		u8 t = !strcmp(argv[2], "framed") ? KG_TRANSPORT_FRAMED : KG_TRANSPORT_BUFFERED;

		n = slurp();
		err = kg_frame_next(t, proto, NULL, in, n, &f);
		printf("%d %u\n", err, f.total_len);
		return 0;
	}
	fprintf(stderr, "usage: kgwalk walk|gen SEED|appex TYPE SEQ [MSG]|readappex|frame T\n");
	return 2;
}
