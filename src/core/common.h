/* common.h - included first by every .c: feature macros and attributes. core stage. */
#ifndef SL_CORE_COMMON_H
#define SL_CORE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_NODISCARD  __attribute__((warn_unused_result))
#define SL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SL_UNREACHABLE() __builtin_unreachable()
#define SL_LIKELY(x)   __builtin_expect(!!(x), 1)
/* An implementation choice made once, by whichever thread asks first, that
 * racing threads all make the same way (what the CPU supports): relaxed
 * atomics, so that it is no data race (plain moves on x86). */
#define SL_ONCE_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define SL_ONCE_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/* The implementation a test asks for (want; -1: the best), among those the CPU
 * has (0 .. have), else the plain one (0). */
static inline int sl_isa_pick(int want, int have)
{
    return want < 0 ? have : want <= have ? want : 0;
}
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
