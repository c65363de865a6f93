/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The values every implementation of bench/codec encodes, and the timing
 * loop they share (C and C++): one definition, so that they cannot drift.
 * ThriftTest's Xtruct and Insanity are those of Apache's cross-test client
 * (testStruct, testInsanity).
 */
#ifndef CODEC_VALUES_H
#define CODEC_VALUES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_KEY		42
#define MSG_PAYLOAD	"abcdefghijklmnopqrstuvwxyz012345"	/* 32 bytes */
#define BLOB_SIZE	(1u << 20)

static inline unsigned char blob_byte(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

static inline double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define CODEC_ROUNDS	15

/* 0 (argument "check"): only write the encodings, time nothing. */
static int codec_timing = 1;
#define CODEC_ROUND_NS	4e6	/* thread CPU per round */

/*
 * TIME_OP(impl, proto, value, op, body): run body in rounds of n iterations
 * (n calibrated so that a round takes about CODEC_ROUND_NS), print the
 * median ns per iteration as one JSON line.
 */
#define TIME_OP(impl, proto, value, op, body)					\
	do {									\
		if (!codec_timing)						\
			break;							\
		double per_[CODEC_ROUNDS], t0_;					\
		long n_ = 1, i_;							\
		int r_;								\
		for (;;) {							\
			t0_ = thread_ns();					\
			for (i_ = 0; i_ < n_; i_++) { body; }			\
			if (thread_ns() - t0_ > CODEC_ROUND_NS / 4 || n_ > (1L << 26))	\
				break;						\
			n_ *= 2;							\
		}								\
		n_ = (long)(n_ * CODEC_ROUND_NS / (thread_ns() - t0_ + 1)) + 1;	\
		for (r_ = 0; r_ < CODEC_ROUNDS; r_++) {				\
			t0_ = thread_ns();					\
			for (i_ = 0; i_ < n_; i_++) { body; }			\
			per_[r_] = (thread_ns() - t0_) / n_;			\
		}								\
		qsort(per_, CODEC_ROUNDS, sizeof(double), cmp_dbl);		\
		printf("{\"impl\": \"%s\", \"proto\": \"%s\", \"value\": \"%s\","	\
		       " \"op\": \"%s\", \"ns\": %.2f, \"iters\": %ld}\n",		\
		       impl, proto, value, op, per_[CODEC_ROUNDS / 2], n_);		\
		fflush(stdout);							\
	} while (0)

static inline void write_file(const char *dir, const char *name, const void *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

#endif
