/* hash.h - small hashing helpers (FNV-1a, case-insensitive ASCII). core stage. */
#ifndef SL_CORE_HASH_H
#define SL_CORE_HASH_H

#include "core/common.h"

static inline uint64_t sl__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ s[i]) * 1099511628211ULL;
    }
    return h;
}

/* ASCII case folded: 'A'..'Z' hash like 'a'..'z'. */
static inline uint64_t sl__hash_ci(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        c |= (unsigned)((c - 'A') < 26u) << 5;
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

/* ASCII case-insensitive equality of two byte strings. */
static inline bool sl__eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) {
        return false;
    }
    for (size_t i = 0; i < an; i++) {
        unsigned x = (unsigned char)a[i], y = (unsigned char)b[i];
        x |= (unsigned)((x - 'A') < 26u) << 5;
        y |= (unsigned)((y - 'A') < 26u) << 5;
        if (x != y) {
            return false;
        }
    }
    return true;
}

#endif
