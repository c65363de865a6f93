/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One environment for the portable runtime core.
 *
 * The same C (protocol, arena, framing, and the generated encoders/decoders)
 * is compiled into a kernel module and into the user-space server. In the
 * kernel this header pulls in the usual kernel headers; in user space it
 * provides the small subset of kernel API the core relies on, with the same
 * names and meaning, so no #ifdef is needed anywhere else in core code.
 *
 * The user-space backend is single-threaded (one epoll loop), so mutexes and
 * spinlocks are no-op shims there.
 *
 * checkpatch flags the user-space half (typedefs, raw attributes, volatile):
 * it defines the kernel's own names, so that is expected there.
 */
#ifndef _KGEN_COMPAT_H
#define _KGEN_COMPAT_H

#ifdef __KERNEL__

#ifndef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#endif

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mm.h>		/* kvmalloc()/kvfree() live here on 6.1 */
#include <linux/printk.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/overflow.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#else /* !__KERNEL__ */

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <limits.h>
#include <sys/types.h>		/* ssize_t */

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define U8_MAX		((u8)~0U)
#define S8_MAX		((s8)(U8_MAX >> 1))
#define S8_MIN		((s8)(-S8_MAX - 1))
#define U16_MAX		((u16)~0U)
#define S16_MAX		((s16)(U16_MAX >> 1))
#define S16_MIN		((s16)(-S16_MAX - 1))
#define U32_MAX		((u32)~0U)
#define S32_MAX		((s32)(U32_MAX >> 1))
#define S32_MIN		((s32)(-S32_MAX - 1))
#define U64_MAX		((u64)~0ULL)
#define S64_MAX		((s64)(U64_MAX >> 1))
#define S64_MIN		((s64)(-S64_MAX - 1))

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#define __user
#define __force
#define __iomem
#define __must_check	__attribute__((__warn_unused_result__))
#define __maybe_unused	__attribute__((__unused__))
#define __always_unused	__attribute__((__unused__))
#define __packed	__attribute__((__packed__))
#define __aligned(x)	__attribute__((__aligned__(x)))
#define __printf(a, b)	__attribute__((__format__(printf, a, b)))
#define noinline	__attribute__((__noinline__))
#ifndef __always_inline
#define __always_inline	inline __attribute__((__always_inline__))
#endif
#if defined(__has_attribute)
#if __has_attribute(__fallthrough__)
#define fallthrough	__attribute__((__fallthrough__))
#endif
#endif
#ifndef fallthrough
#define fallthrough	do {} while (0)
#endif

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BUILD_BUG_ON(cond)	((void)sizeof(char[1 - 2 * !!(cond)]))
#define WARN_ON(cond) ({ \
	bool __w = !!(cond); \
	\
	if (__w) \
		fprintf(stderr, "WARNING at %s:%d\n", __FILE__, __LINE__); \
	__w; \
})
#define WARN_ON_ONCE(cond)	WARN_ON(cond)

#define min(a, b)	({ __typeof__(a) __a = (a); __typeof__(b) __b = (b); \
			   __a < __b ? __a : __b; })
#define max(a, b)	({ __typeof__(a) __a = (a); __typeof__(b) __b = (b); \
			   __a > __b ? __a : __b; })
#define min_t(t, a, b)	min((t)(a), (t)(b))
#define max_t(t, a, b)	max((t)(a), (t)(b))
#define clamp(v, lo, hi)	min(max(v, lo), hi)

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

/* Allocation: gfp flags are accepted and ignored. */
typedef unsigned int gfp_t;
#define GFP_KERNEL	0u
#define GFP_ATOMIC	0u
#define GFP_NOWAIT	0u
#define __GFP_ZERO	0x1u
#define __GFP_NOWARN	0u
#define __GFP_NORETRY	0u

static inline void *kmalloc(size_t size, gfp_t gfp)
{
	return (gfp & __GFP_ZERO) ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	return calloc(1, size ? size : 1);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	return calloc(n ? n : 1, size ? size : 1);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (check_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc(bytes, gfp);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

#define kvmalloc(size, gfp)	kmalloc(size, gfp)
#define kvzalloc(size, gfp)	kzalloc(size, gfp)
#define kvcalloc(n, size, gfp)	kcalloc(n, size, gfp)
#define kvmalloc_array(n, size, gfp)	kmalloc_array(n, size, gfp)
#define kvfree(p)		kfree(p)

/* Logging: always to stderr, prefixed like the kernel's pr_fmt. */
#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "kgen"
#endif
#ifndef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#endif
#define pr_err(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#ifdef KGEN_DEBUG
#define pr_debug(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#else
#define pr_debug(fmt, ...)	\
	do { if (0) fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__); } while (0)
#endif
#define pr_err_ratelimited	pr_err
#define pr_warn_ratelimited	pr_warn
#define pr_info_ratelimited	pr_info

/*
 * Locks: the user-space backend runs one thread, so a lock only records
 * that it is held: taking it twice (a deadlock in the kernel) or asserting
 * it while free aborts, so the tests check the locking rules too.
 */
struct mutex {
	int held;
};

typedef struct {
	int held;
} spinlock_t;

static inline void kg_user_lock(int *held)
{
	if (*held) {
		fprintf(stderr, "BUG: lock taken twice\n");
		abort();
	}
	*held = 1;
}

static inline void kg_user_assert_held(const int *held)
{
	if (!*held) {
		fprintf(stderr, "BUG: lock not held\n");
		abort();
	}
}

#define DEFINE_MUTEX(name)	struct mutex name = { 0 }
#define mutex_init(m)		((m)->held = 0)
#define mutex_destroy(m)	((void)(m))
#define mutex_lock(m)		kg_user_lock(&(m)->held)
#define mutex_unlock(m)		((m)->held = 0)
#define DEFINE_SPINLOCK(name)	spinlock_t name = { 0 }
#define spin_lock_init(l)	((l)->held = 0)
#define spin_lock(l)		kg_user_lock(&(l)->held)
#define spin_unlock(l)		((l)->held = 0)
#define spin_lock_bh(l)		spin_lock(l)
#define spin_unlock_bh(l)	spin_unlock(l)
#define spin_lock_irqsave(l, f)		((void)(f), spin_lock(l))
#define spin_unlock_irqrestore(l, f)	((void)(f), spin_unlock(l))
#define lockdep_assert_held(l)	kg_user_assert_held(&(l)->held)

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)

#endif /* __KERNEL__ */

/*
 * A local that is written before it is read, exempt from the kernel's
 * CONFIG_INIT_STACK_ALL_ZERO (-ftrivial-auto-var-init=zero, Debian's
 * default), which clears every local on every call: for the per-message
 * readers, writers and calls (struct kg_reader alone is 190 bytes, and
 * under -icount a `rep stos` counts once per word).
 */
#if defined(__has_attribute)
#if __has_attribute(__uninitialized__)
#define __kg_noinit	__attribute__((__uninitialized__))
#endif
#endif
#ifndef __kg_noinit
#define __kg_noinit
#endif

/*
 * Big-endian loads and stores by byte shifts: alignment-free, endian-free,
 * and no dependence on <asm/unaligned.h> (moved to <linux/unaligned.h>
 * between 6.1 and 6.12). Compilers turn these into a load + bswap.
 */
static inline u16 kg_get_be16(const u8 *p)
{
	return (u16)((u16)p[0] << 8 | p[1]);
}

static inline u32 kg_get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline u64 kg_get_be64(const u8 *p)
{
	return (u64)kg_get_be32(p) << 32 | kg_get_be32(p + 4);
}

/* Masks, not casts: sparse warns about casts that truncate constants. */
static inline void kg_put_be16(u8 *p, u16 v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static inline void kg_put_be32(u8 *p, u32 v)
{
	p[0] = (v >> 24) & 0xff;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static inline void kg_put_be64(u8 *p, u64 v)
{
	kg_put_be32(p, v >> 32);
	kg_put_be32(p + 4, v & 0xffffffffu);
}

/*
 * Copies of a few dozen bytes (a forwarded small message into the send
 * buffer): inline word moves. In the kernel, memcpy() of a length known only
 * at run time is a call to `rep movsb`, whose start-up costs tens of cycles
 * on CPUs without FSRM (and which -icount counts once per byte); what small
 * copies want on real hardware too is a few 8-byte loads and stores, as
 * user space's memcpy() does with vector moves (so there kg_copy() is
 * memcpy()). Above KG_COPY_SMALL_MAX memcpy() is kept: for big copies
 * `rep movsb` is what the hardware is best at.
 */
#define KG_COPY_SMALL_MAX	256

static __always_inline void kg_copy8(u8 *dst, const u8 *src)
{
	u64 v;

	__builtin_memcpy(&v, src, sizeof(v));	/* one unaligned load, one store */
	__builtin_memcpy(dst, &v, sizeof(v));
}

static __always_inline void kg_copy4(u8 *dst, const u8 *src)
{
	u32 v;

	__builtin_memcpy(&v, src, sizeof(v));
	__builtin_memcpy(dst, &v, sizeof(v));
}

static __always_inline void kg_copy32(u8 *dst, const u8 *src)
{
	u64 a, b, c, d;

	/* All loads first: the compiler need not assume dst and src may alias. */
	__builtin_memcpy(&a, src, 8);
	__builtin_memcpy(&b, src + 8, 8);
	__builtin_memcpy(&c, src + 16, 8);
	__builtin_memcpy(&d, src + 24, 8);
	__builtin_memcpy(dst, &a, 8);
	__builtin_memcpy(dst + 8, &b, 8);
	__builtin_memcpy(dst + 16, &c, 8);
	__builtin_memcpy(dst + 24, &d, 8);
}

/*
 * memcpy() of @len bytes, any length, non-overlapping: word moves. Each size
 * class copies its head and its tail, which overlap (bytes written twice, the
 * same value): no loop over the remainder, so a 62-byte frame is 4 + 4 loads
 * and stores of 8 bytes, and a loop turn, rather than a word loop.
 */
static __always_inline void kg_copy_small(u8 *d, const u8 *s, size_t len)
{
	size_t i;

	if (len > 32) {
		for (i = 0; i + 32 < len; i += 32)
			kg_copy32(d + i, s + i);
		kg_copy32(d + len - 32, s + len - 32);
		return;
	}
	if (len >= 16) {
		u64 a, b, y, z;

		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + 8, 8);
		__builtin_memcpy(&y, s + len - 16, 8);
		__builtin_memcpy(&z, s + len - 8, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + 8, &b, 8);
		__builtin_memcpy(d + len - 16, &y, 8);
		__builtin_memcpy(d + len - 8, &z, 8);
		return;
	}
	if (len >= 8) {
		kg_copy8(d, s);
		kg_copy8(d + len - 8, s + len - 8);
		return;
	}
	if (len >= 4) {
		kg_copy4(d, s);
		kg_copy4(d + len - 4, s + len - 4);
		return;
	}
	for (i = 0; i < len; i++)
		d[i] = s[i];
}

/* memcpy(@dst, @src, @len) for buffers that do not overlap. */
static __always_inline void kg_copy(void *dst, const void *src, size_t len)
{
#ifdef __KERNEL__
	if (len <= KG_COPY_SMALL_MAX) {
		kg_copy_small(dst, src, len);
		return;
	}
#endif
	memcpy(dst, src, len);
}

#endif /* _KGEN_COMPAT_H */
