/* difftest.h - what the differential tests (test_fastpath_*.c) share: the
 * valgrind/SL_TEST_QUICK iteration divisor, a clock, a seeded xorshift64 (fixed
 * seeds, so a failure reproduces), a growable byte string with an escaping
 * renderer, exact-size heap copies (plain malloc, so ASan catches a read past
 * their end) and the first differing line of two renderings. Header-only: one
 * test program includes it once. tests. */
#ifndef SL_TESTS_DIFFTEST_H
#define SL_TESTS_DIFFTEST_H

#include "core/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>

#include <cmocka.h>

/* every helper: a program uses only some of them */
#define DT_FN static __attribute__((unused))

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef ON_VALGRIND
#define ON_VALGRIND() 0
#endif

/* Iteration divisor: 10 for slow runs (valgrind, SL_TEST_QUICK), else 1. */
DT_FN unsigned slow_div(void)
{
    return getenv("SL_TEST_QUICK") != NULL || ON_VALGRIND() ? 10 : 1;
}

DT_FN double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- random numbers: xorshift64 ------------------------------------------ */

static uint64_t rng;

DT_FN uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Uniform enough in [0, n); 0 when n == 0. */
DT_FN size_t rn(size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd() % n);
}

DT_FN bool chance(unsigned pct)
{
    return rn(100) < pct;
}

/* ---- a growable byte string ---------------------------------------------- */

struct sb {
    char *s;
    size_t len, cap;
};

DT_FN void sb_add(struct sb *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        b->s = realloc(b->s, cap);
        assert_non_null(b->s);
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->s + b->len, p, n);
    }
    b->len += n;
    b->s[b->len] = '\0';
}

DT_FN void sb_addc(struct sb *b, char c)
{
    sb_add(b, &c, 1);
}

DT_FN void sb_adds(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

SL_PRINTF(2, 3) DT_FN void sb_addf(struct sb *b, const char *fmt, ...)
{
    char t[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof(t), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(t));
    sb_add(b, t, (size_t)n);
}

/* Bytes made printable: \n \r \t \0 \\ and \xHH for other control and high
 * bytes. */
DT_FN void sb_esc(struct sb *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t run = 0; /* printable bytes go in one copy */
        while (i + run < n && (unsigned char)p[i + run] >= 0x20 &&
               (unsigned char)p[i + run] < 0x7f && p[i + run] != '\\') {
            run++;
        }
        if (run > 0) {
            sb_add(b, p + i, run);
            i += run - 1;
            continue;
        }
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\n':
            sb_adds(b, "\\n");
            break;
        case '\r':
            sb_adds(b, "\\r");
            break;
        case '\t':
            sb_adds(b, "\\t");
            break;
        case '\0':
            sb_adds(b, "\\0");
            break;
        case '\\':
            sb_adds(b, "\\\\");
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                sb_addf(b, "\\x%02x", c);
            } else {
                sb_addc(b, (char)c);
            }
        }
    }
}

DT_FN void sb_reset(struct sb *b)
{
    b->len = 0;
    if (b->s != NULL) {
        b->s[0] = '\0';
    }
}

DT_FN void sb_free(struct sb *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

DT_FN char *dup_exact(const char *s, size_t n)
{
    char *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n > 0) {
        memcpy(d, s, n);
    }
    return d;
}

/* The first line (records are rendered one per line) where a and b differ. */
DT_FN size_t first_diff_line(const struct sb *a, const struct sb *b, size_t *out_off_a,
                             size_t *out_off_b)
{
    size_t i = 0, line = 0, la = 0;
    while (i < a->len && i < b->len && a->s[i] == b->s[i]) {
        if (a->s[i] == '\n') {
            line++;
            la = i + 1;
        }
        i++;
    }
    *out_off_a = la;
    *out_off_b = la;
    return line;
}

DT_FN void print_line(const char *tag, const struct sb *b, size_t off)
{
    const char *e = off < b->len ? memchr(b->s + off, '\n', b->len - off) : NULL;
    size_t n = off < b->len ? (e != NULL ? (size_t)(e - (b->s + off)) : b->len - off) : 0;
    fprintf(stderr, "  %s: %.*s%s\n", tag, (int)(n > 1500 ? 1500 : n), b->s + off,
            n > 1500 ? " (cut)" : "");
}

/* ---- timestamp text: valid spellings and near misses -------------------- */

DT_FN void put_num(struct sb *b, unsigned v, unsigned width)
{
    char t[16];
    snprintf(t, sizeof(t), "%0*u", (int)width, v);
    sb_adds(b, t);
}

/* A 2-digit (sometimes 1-digit) number: mostly in [lo, hi], sometimes any. */
DT_FN void put_part(struct sb *b, unsigned lo, unsigned hi)
{
    unsigned v = chance(90) ? lo + (unsigned)rn(hi - lo + 1) : (unsigned)rn(100);
    put_num(b, v, chance(8) && v < 10 ? 1 : 2);
}

/* Timestamp-like text from the templates YYYY{-|/}MM{-|/}DD[{T|t| }HH:MM[:SS
 * [.F{0..8}]]][zone], parts often out of range. valid_bias makes the parts and
 * the zone mostly well-formed (then most strings take the fast path). */
DT_FN void gen_ts(struct sb *b, bool valid_bias)
{
    static const unsigned years[] = {0,    1,    2,    1900, 1969, 1970, 1999,
                                     2000, 2023, 2024, 2100, 9998, 9999};
    unsigned y = chance(40) ? years[rn(SL_ARRAY_LEN(years))] : (unsigned)rn(10000);
    if (valid_bias && y == 0) {
        y = 2001;
    }
    put_num(b, y, 4);
    char sep = chance(60) ? '-' : '/';
    sb_addc(b, sep);
    unsigned m = 1 + (unsigned)rn(12);
    if (!valid_bias && chance(8)) {
        m = chance(50) ? 0 : 13;
    }
    put_num(b, m, chance(8) && m < 10 ? 1 : 2);
    sb_addc(b, chance(valid_bias ? 1 : 4) ? (sep == '-' ? '/' : '-') : sep);
    if (m == 2 && chance(40)) {
        sb_adds(b, chance(70) ? "29" : "28");
    } else if (valid_bias) {
        put_part(b, 1, 28);
    } else {
        put_part(b, 0, 32);
    }
    if (chance(valid_bias ? 3 : 8)) {
        return; /* a date alone */
    }
    static const char dts[] = {'T', ' ', 't', 'T', 'x', '_'};
    sb_addc(b, dts[rn(valid_bias ? 3 : SL_ARRAY_LEN(dts))]);
    if (valid_bias) {
        put_part(b, 0, 23);
        sb_addc(b, ':');
        put_part(b, 0, 59);
    } else {
        put_part(b, 0, 25);
        sb_addc(b, ':');
        put_part(b, 0, 61);
    }
    if (chance(85)) {
        sb_addc(b, ':');
        if (valid_bias) {
            put_part(b, 0, chance(2) ? 60 : 59);
        } else {
            put_part(b, 0, 61);
        }
        if (chance(40)) {
            sb_addc(b, '.');
            size_t fd = valid_bias ? 1 + rn(6) : rn(9);
            for (size_t i = 0; i < fd; i++) {
                sb_addc(b, (char)('0' + rn(10)));
            }
        }
    }
    static const char *const zones[] = {
        "",        "Z",       "z",      " UTC",   "+00:00", "-00:00", "+05:30", "-08:00",
        " +01:00", " -14:00", "+14:00", "+14:01", "-15:00", "+05:60", "+0530",  "+5",
        "+05",     "+5:3",    " utc",   "UTC",    " UTC ",  "Z ",     "ZZ",     " Z",
        "+",       "-",       "+05:",   "+05:3x", "+123",   "+12345", " ",      "  +01:00",
    };
    const char *z = zones[rn(valid_bias ? 10 : SL_ARRAY_LEN(zones))];
    if (*z == '+' || *z == '-' || (z[0] == ' ' && (z[1] == '+' || z[1] == '-'))) {
        if (chance(50) && strlen(z) >= 6 && z[strlen(z) - 3] == ':') {
            /* a random HH:MM offset instead */
            sb_add(b, z, strlen(z) - 5);
            put_part(b, 0, valid_bias ? 14 : 16);
            sb_addc(b, ':');
            put_part(b, 0, valid_bias ? 0 : 61);
            return;
        }
    }
    sb_adds(b, z);
}

DT_FN void mutate(struct sb *b)
{
    static const char set[] = "0123456789-/:.TtZz +UC\xff";
    size_t at = rn(b->len + 1);
    char c = chance(90) ? set[rn(sizeof(set) - 1)] : (char)rn(256);
    switch (rn(3)) {
    case 0:
        if (at < b->len) {
            b->s[at] = c;
        }
        break;
    case 1:
        if (at < b->len) {
            memmove(b->s + at, b->s + at + 1, b->len - at - 1);
            b->len--;
        }
        break;
    default:
        sb_addc(b, 'x');
        memmove(b->s + at + 1, b->s + at, b->len - at - 1);
        b->s[at] = c;
        break;
    }
}

#endif
