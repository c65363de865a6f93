/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt: a tiny unit-test harness for the runtime's C tests.
 *
 * A test file defines cases with KT_TEST(name) { ... } and lists them in
 * KT_MAIN(name, ...). "./prog" runs them all, "./prog NAME" one, "./prog
 * --list" prints the names (pytest parametrizes over them). A failed check
 * prints file:line and the values, and makes the case fail (exit status 1);
 * the case goes on, so one run shows every failing check.
 */
#ifndef KT_H
#define KT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

static int kt_failed;

#define KT_TEST(name) static void kt_case_##name(void)

#define KT_FAIL(fmt, ...) do { \
	fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__); \
	kt_failed++; \
} while (0)

#define CHECK(cond) do { \
	if (!(cond)) \
		KT_FAIL("CHECK(%s) failed", #cond); \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long __a = (long long)(a), __b = (long long)(b); \
	if (__a != __b) \
		KT_FAIL("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, __a, __b); \
} while (0)

#define CHECK_MEM(a, b, n) do { \
	if (memcmp((a), (b), (n)) != 0) \
		KT_FAIL("CHECK_MEM(%s, %s, %s): bytes differ", #a, #b, #n); \
} while (0)

/* Inside loops: stop after the first failure so output stays readable. */
#define CHECK_EQ_AT(a, b, i) do { \
	long long __a = (long long)(a), __b = (long long)(b); \
	if (__a != __b) { \
		KT_FAIL("CHECK_EQ(%s, %s) at %s=%lld: %lld != %lld", #a, #b, #i, \
			(long long)(i), __a, __b); \
		return; \
	} \
} while (0)

struct kt_case {
	const char *name;
	void (*fn)(void);
};

#define KT_CASE(name) { #name, kt_case_##name }

static inline int kt_main(int argc, char **argv, const struct kt_case *cases, size_t n)
{
	int bad = 0;
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name))
			continue;
		kt_failed = 0;
		cases[i].fn();
		printf("%s %s\n", kt_failed ? "FAIL" : "ok", cases[i].name);
		bad += kt_failed != 0;
		if (argc > 1)
			return bad ? 1 : 0;
	}
	if (argc > 1) {
		fprintf(stderr, "no test named %s\n", argv[1]);
		return 2;
	}
	return bad ? 1 : 0;
}

#define KT_MAIN(...) \
	int main(int argc, char **argv) \
	{ \
		static const struct kt_case kt_cases[] = { __VA_ARGS__ }; \
		return kt_main(argc, argv, kt_cases, sizeof(kt_cases) / sizeof(kt_cases[0])); \
	}

#endif /* KT_H */
