/* coerce.c - BigQuery load coercions from field text to typed values: the
 * shared exact decimal scanner, BYTES (base64) and UTF-8 checking. validate
 * stage. Pure, allocation-free and linear in the input length; inputs are
 * (ptr, len) spans, never NUL-terminated. Choices: docs/COERCIONS.md.
 * INT64/FLOAT64/NUMERIC/BIGNUMERIC/BOOL live in coerce_num.c, dates and times
 * in coerce_time.c. */
#include "core/common.h"

#include "validate/coerce.h"
#include "validate/coerce_int.h"

#include "core/error.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- decimal scanning and exact scaling (model in coerce_int.h) ---------- */

/* Strict = JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Lenient (NUMERIC/BIGNUMERIC text) also allows a leading '+', leading zeros,
 * and an empty integer or fraction part (".5", "5.") but not both. */
bool sl__coerce_scan_decimal(const char *s, size_t n, bool lenient,
                             struct dec *d)
{
    size_t i = 0;

    d->neg = false;
    d->exp = 0;
    if (i < n && (s[i] == '-' || (lenient && s[i] == '+'))) {
        d->neg = s[i] == '-';
        i++;
    }
    d->ip = s + i;
    while (i < n && is_digit(s[i])) {
        i++;
    }
    d->il = (size_t)(s + i - d->ip);
    if (!lenient && (d->il == 0 || (d->il > 1 && d->ip[0] == '0'))) {
        return false;
    }
    d->fp = s + i;
    d->fl = 0;
    if (i < n && s[i] == '.') {
        i++;
        d->fp = s + i;
        while (i < n && is_digit(s[i])) {
            i++;
        }
        d->fl = (size_t)(s + i - d->fp);
        if (d->fl == 0 && !lenient) {
            return false;
        }
    }
    if (d->il + d->fl == 0) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false;
        int64_t e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= n || !is_digit(s[i])) {
            return false;
        }
        for (; i < n && is_digit(s[i]); i++) {
            if (e < EXP_CLAMP) {
                e = e * 10 + dval(s[i]);
            }
        }
        d->exp = eneg ? -e : e;
    }
    return i == n;
}

/* Magnitude of round(value * 10^scale) as decimal digits in dig (no leading
 * zeros; length 0 means zero), at most maxd (<= MAX_DIGITS) digits.
 * Returns SL_OK, -SL_ELIMIT when more than maxd digits are needed, or
 * -SL_EINVAL in RND_EXACT mode when a non-zero digit would be dropped. */
int sl__coerce_dec_scale(const struct dec *d, int scale, int maxd,
                         enum rnd mode, char dig[MAX_DIGITS + 1], int *out_len)
{
    size_t total = d->il + d->fl;
    size_t f = 0;
    int64_t m, k, c;
    int len = 0, r = 0;
    bool sticky = false, up;
    size_t from;

    *out_len = 0;
    while (f < total && dec_digit(d, f) == 0) {
        f++;
    }
    if (f == total) {
        return SL_OK;
    }
    m = (int64_t)(total - f);
    k = d->exp - (int64_t)d->fl + scale;
    if (m + k > maxd) {
        return -SL_ELIMIT;
    }
    if (k >= 0) {
        for (size_t j = f; j < total; j++) {
            dig[len++] = (char)('0' + dec_digit(d, j));
        }
        for (int64_t j = 0; j < k; j++) {
            dig[len++] = '0';
        }
        *out_len = len;
        return SL_OK;
    }
    c = m + k; /* digits kept; <= 0 when the value is below one unit */
    for (int64_t j = 0; j < c; j++) {
        dig[len++] = (char)('0' + dec_digit(d, f + (size_t)j));
    }
    if (c >= 0) {
        r = dec_digit(d, f + (size_t)c);
        from = f + (size_t)c + 1;
    } else {
        from = f; /* first dropped digit is an implicit 0 */
    }
    for (size_t j = from; j < total && !sticky; j++) {
        sticky = dec_digit(d, j) != 0;
    }
    switch (mode) {
    case RND_EXACT:
        if (r != 0 || sticky) {
            return -SL_EINVAL;
        }
        up = false;
        break;
    case RND_HALF_AWAY:
        up = r >= 5;
        break;
    case RND_HALF_EVEN:
    default:
        up = r > 5 ||
             (r == 5 && (sticky || (len > 0 && (dval(dig[len - 1]) & 1))));
        break;
    }
    if (up) {
        int j = len - 1;
        while (j >= 0 && dig[j] == '9') {
            dig[j--] = '0';
        }
        if (j >= 0) {
            dig[j]++;
        } else {
            memmove(dig + 1, dig, (size_t)len);
            dig[0] = '1';
            len++;
            if (len > maxd) {
                return -SL_ELIMIT;
            }
        }
    }
    *out_len = len;
    return SL_OK;
}

/* ------------------------------------------------------------------------ */

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

int sl__coerce_base64(const char *s, size_t n, uint8_t *out, size_t cap,
                      size_t *out_len, const char **why)
{
    int q = 0, npad = 0;
    uint32_t acc = 0;
    size_t o = 0;
    bool done = false;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;

        if (c == '\n' || c == '\r') {
            continue; /* MIME line breaks, e.g. Python's encodebytes() */
        }
        if (done) {
            return fail(why, -SL_EINVAL, "base64 data after padding");
        }
        if (c == '=') {
            if (q < 2) {
                return fail(why, -SL_EINVAL, "misplaced base64 padding");
            }
            npad++;
            v = 0;
        } else {
            v = b64_val(c);
            if (v < 0) {
                return fail(why, -SL_EINVAL, "invalid base64 character");
            }
            if (npad > 0) {
                return fail(why, -SL_EINVAL, "misplaced base64 padding");
            }
        }
        acc = acc << 6 | (uint32_t)v;
        if (++q == 4) {
            size_t nb = 3u - (size_t)npad;
            if (o + nb > cap) {
                return fail(why, -SL_ELIMIT, "base64 output buffer too small");
            }
            out[o++] = (uint8_t)(acc >> 16);
            if (nb > 1) {
                out[o++] = (uint8_t)(acc >> 8);
            }
            if (nb > 2) {
                out[o++] = (uint8_t)acc;
            }
            done = npad > 0;
            q = 0;
            acc = 0;
        }
    }
    if (q != 0) {
        return fail(why, -SL_EINVAL, "base64 length is not a multiple of 4");
    }
    *out_len = o;
    return SL_OK;
}

/* ------------------------------------------------------------------------ */

int64_t sl__utf8_count(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, extra = 0; /* extra: continuation bytes (code points = n - extra) */

    while (i < n) {
        /* skip to the next byte >= 0x80: 16 bytes a step, then 8 */
#ifdef __SSE2__
        if (n - i >= 16) {
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + i)));
            if (m == 0) {
                i += 16;
                continue;
            }
            i += (unsigned)__builtin_ctz(m);
        } else
#endif
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            w &= UINT64_C(0x8080808080808080);
            if (w == 0) {
                i += 8;
                continue;
            }
            i += (unsigned)__builtin_ctzll(w) / 8; /* little-endian: the first such byte */
        }
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
        } else if (c < 0xC2) {
            return -1; /* stray continuation byte or overlong 2-byte form */
        } else if (c < 0xE0) {
            if (n - i < 2 || (p[i + 1] & 0xC0) != 0x80) {
                return -1;
            }
            i += 2;
            extra += 1;
        } else if (c < 0xF0) {
            /* E0: no overlongs (A0..BF); ED: no surrogates (80..9F). */
            unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
            unsigned hi = c == 0xED ? 0x9F : 0xBF;
            if (n - i < 3 || p[i + 1] < lo || p[i + 1] > hi ||
                (p[i + 2] & 0xC0) != 0x80) {
                return -1;
            }
            i += 3;
            extra += 2;
        } else if (c < 0xF5) {
            /* F0: no overlongs (90..BF); F4: not above U+10FFFF (80..8F). */
            unsigned lo = c == 0xF0 ? 0x90 : 0x80;
            unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
            if (n - i < 4 || p[i + 1] < lo || p[i + 1] > hi ||
                (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80) {
                return -1;
            }
            i += 4;
            extra += 3;
        } else {
            return -1;
        }
    }
    return (int64_t)(n - extra);
}

/* ---- UTF-8 validity, 64 bytes a step (AVX-512 BW and VBMI) ----------------
 * The lookup method of Keiser and Lemire, "Validating UTF-8 in less than one
 * instruction per byte" (2021, https://arxiv.org/abs/2010.03090): each byte
 * and the one before it, looked up by their nibbles in three 16-entry tables
 * whose entries are bit sets of the errors a pair can show; a pair is in error
 * when all three lookups share a bit. The third and fourth bytes of a long
 * sequence (two or three bytes after a lead of 3 or 4) must be continuations,
 * which the tables alone cannot see: that is the 0x80 bit, flipped where it is
 * required. A text cut inside a sequence shows as the lead before the zero
 * bytes after it (one step past the text is always taken). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SL_HAVE_UTF8_512 1
#define SL_TU __attribute__((target("avx512f,avx512bw,avx512vbmi")))
enum {
    U_SHORT = 1 << 0,     /* a lead, then no continuation */
    U_LONG = 1 << 1,      /* ASCII, then a continuation */
    U_OVER3 = 1 << 2,     /* E0 80..9F */
    U_LARGE = 1 << 3,     /* F4 90..BF, F5..FF then 90..BF */
    U_SURR = 1 << 4,      /* ED A0..BF */
    U_OVER2 = 1 << 5,     /* C0, C1 */
    U_LARGE1000 = 1 << 6, /* F5..FF then 80..8F */
    U_OVER4 = 1 << 6,     /* F0 80..8F */
    U_TWO = 1 << 7,       /* a continuation, then a continuation */
    U_CARRY = U_SHORT | U_LONG | U_TWO
};

SL_TU static inline __m512i u_table(const uint8_t t[16])
{
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)t));
}

SL_TU static bool utf8_valid512(const unsigned char *p, size_t n)
{
    static const uint8_t hi1[16] = {
        U_LONG, U_LONG, U_LONG, U_LONG, U_LONG, U_LONG, U_LONG, U_LONG, U_TWO, U_TWO, U_TWO,
        U_TWO, U_SHORT | U_OVER2, U_SHORT, U_SHORT | U_OVER3 | U_SURR,
        U_SHORT | U_LARGE | U_LARGE1000 | U_OVER4};
    static const uint8_t lo1[16] = {
        U_CARRY | U_OVER3 | U_OVER2 | U_OVER4, U_CARRY | U_OVER2, U_CARRY, U_CARRY,
        U_CARRY | U_LARGE, U_CARRY | U_LARGE | U_LARGE1000, U_CARRY | U_LARGE | U_LARGE1000,
        U_CARRY | U_LARGE | U_LARGE1000, U_CARRY | U_LARGE | U_LARGE1000,
        U_CARRY | U_LARGE | U_LARGE1000, U_CARRY | U_LARGE | U_LARGE1000,
        U_CARRY | U_LARGE | U_LARGE1000, U_CARRY | U_LARGE | U_LARGE1000,
        U_CARRY | U_LARGE | U_LARGE1000 | U_SURR, U_CARRY | U_LARGE | U_LARGE1000,
        U_CARRY | U_LARGE | U_LARGE1000};
    static const uint8_t hi2[16] = {
        U_SHORT, U_SHORT, U_SHORT, U_SHORT, U_SHORT, U_SHORT, U_SHORT, U_SHORT,
        U_LONG | U_OVER2 | U_TWO | U_OVER3 | U_LARGE1000 | U_OVER4,
        U_LONG | U_OVER2 | U_TWO | U_OVER3 | U_LARGE,
        U_LONG | U_OVER2 | U_TWO | U_SURR | U_LARGE,
        U_LONG | U_OVER2 | U_TWO | U_SURR | U_LARGE, U_SHORT, U_SHORT, U_SHORT, U_SHORT};
    static const uint8_t back[3][64] = {
#define R(k)                                                                                    \
    {k + 0,  k + 1,  k + 2,  k + 3,  k + 4,  k + 5,  k + 6,  k + 7,  k + 8,  k + 9,  k + 10,     \
     k + 11, k + 12, k + 13, k + 14, k + 15, k + 16, k + 17, k + 18, k + 19, k + 20, k + 21,    \
     k + 22, k + 23, k + 24, k + 25, k + 26, k + 27, k + 28, k + 29, k + 30, k + 31, k + 32,    \
     k + 33, k + 34, k + 35, k + 36, k + 37, k + 38, k + 39, k + 40, k + 41, k + 42, k + 43,    \
     k + 44, k + 45, k + 46, k + 47, k + 48, k + 49, k + 50, k + 51, k + 52, k + 53, k + 54,    \
     k + 55, k + 56, k + 57, k + 58, k + 59, k + 60, k + 61, k + 62, k + 63}
        R(63), R(62), R(61)
#undef R
    };
    const __m512i t_hi1 = u_table(hi1), t_lo1 = u_table(lo1), t_hi2 = u_table(hi2);
    const __m512i nib = _mm512_set1_epi8(0x0F);
    /* byte i of permutex2var(prev, back[k], x) is the byte k + 1 before x's byte i */
    const __m512i b1 = _mm512_loadu_si512((const void *)back[0]);
    const __m512i b2 = _mm512_loadu_si512((const void *)back[1]);
    const __m512i b3 = _mm512_loadu_si512((const void *)back[2]);
    __m512i prev = _mm512_setzero_si512(), err = _mm512_setzero_si512();
    for (size_t j = 0; j <= n; j += 64) {
        size_t avail = n - j;
        uint64_t k = avail >= 64 ? ~0ULL : (1ULL << avail) - 1;
        __m512i x = _mm512_maskz_loadu_epi8(k, p + j);
        if (_mm512_movepi8_mask(_mm512_or_si512(x, prev)) == 0) {
            prev = x; /* ASCII here and in the step before */
            continue;
        }
        __m512i p1 = _mm512_permutex2var_epi8(prev, b1, x);
        __m512i p2 = _mm512_permutex2var_epi8(prev, b2, x);
        __m512i p3 = _mm512_permutex2var_epi8(prev, b3, x);
        __m512i sc = _mm512_and_si512(
            _mm512_and_si512(
                _mm512_shuffle_epi8(t_hi1, _mm512_and_si512(_mm512_srli_epi16(p1, 4), nib)),
                _mm512_shuffle_epi8(t_lo1, _mm512_and_si512(p1, nib))),
            _mm512_shuffle_epi8(t_hi2, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib)));
        /* >= 0x80 where the byte two before is E0..FF or three before F0..FF */
        __m512i m23 = _mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8((char)(0xE0 - 0x80))),
                                      _mm512_subs_epu8(p3, _mm512_set1_epi8((char)(0xF0 - 0x80))));
        err = _mm512_or_si512(
            err, _mm512_xor_si512(sc, _mm512_and_si512(m23, _mm512_set1_epi8((char)0x80))));
        prev = x;
    }
    return _mm512_test_epi8_mask(err, err) == 0;
}

/* Whether utf8_valid512 runs: -1 not chosen yet, 0 no, 1 yes. Set once
 * (racing first calls all store the same value). */
static int uisa = -1;
#endif

int sl__utf8_isa(int want)
{
#ifdef SL_HAVE_UTF8_512
    __builtin_cpu_init();
    int have = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
    SL_ONCE_STORE(uisa, sl_isa_pick(want, have));
    return SL_ONCE_LOAD(uisa);
#else
    (void)want;
    return 0;
#endif
}

bool sl__utf8_valid(const char *s, size_t n)
{
#ifdef SL_HAVE_UTF8_512
    if (SL_ONCE_LOAD(uisa) < 0) {
        sl__utf8_isa(-1);
    }
    if (SL_ONCE_LOAD(uisa) == 1) {
        return utf8_valid512((const unsigned char *)s, n);
    }
#endif
    return sl__utf8_count(s, n) >= 0;
}
