/* coerce_num.c - BigQuery load coercions for INT64, FLOAT64, BOOL, NUMERIC and
 * BIGNUMERIC, and canonical NUMERIC text. validate stage. */
#include "core/common.h"

#include "validate/coerce.h"
#include "validate/coerce_int.h"

#include "core/error.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int int64_finish(uint64_t mag, bool neg, int64_t *out, const char **why)
{
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1u) {
            return fail(why, -SL_ELIMIT, "integer out of INT64 range");
        }
        *out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX) {
            return fail(why, -SL_ELIMIT, "integer out of INT64 range");
        }
        *out = (int64_t)mag;
    }
    return SL_OK;
}

int sl__coerce_int64_general(const char *s, size_t n, int64_t *out, const char **why)
{
    struct dec d;
    char dig[MAX_DIGITS + 1];
    int len, rc;

    /* (plain numbers of up to 18 digits were taken inline, coerce.h) */
    if (!sl__coerce_scan_decimal(s, n, false, &d)) {
        return fail(why, -SL_EINVAL, "not a valid INT64 value");
    }
    rc = sl__coerce_dec_scale(&d, 0, 19, RND_EXACT, dig, &len);
    if (rc == -SL_ELIMIT) {
        return fail(why, rc, "integer out of INT64 range");
    }
    if (rc < 0) {
        return fail(why, rc, "INT64 value has a fractional part");
    }
    return int64_finish((uint64_t)digits_u128(dig, len), d.neg, out, why);
}

/* ------------------------------------------------------------------------ */

/* Case-insensitive match of s[0..n) against a lowercase literal. */
static bool ieq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c + ('a' - 'A'));
        }
        if (c != (unsigned char)lit[i]) {
            return false;
        }
    }
    return i == n && lit[i] == '\0';
}

/* The "C" locale for strtod_l, so a host's setlocale(LC_NUMERIC, "de_DE")
 * cannot change what '.' means. Created once; a racing loser frees its copy.
 * (glibc returns a static object for "C", so this does not allocate there.) */
static locale_t c_locale(void)
{
    static locale_t cached;
    locale_t l = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    locale_t expected = (locale_t)0;

    if (l != (locale_t)0) {
        return l;
    }
    l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (l == (locale_t)0) {
        return l;
    }
    if (!__atomic_compare_exchange_n(&cached, &expected, l, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        freelocale(l);
        return expected;
    }
    return l;
}

/* Inputs shorter than F64_RAW_MAX are copied verbatim; longer ones are
 * condensed to F64_SIG_KEEP significant digits (> 767, the most a double or a
 * midpoint between two doubles can have). */
#define F64_BUF      1024
#define F64_RAW_MAX  1000
#define F64_SIG_KEEP 800

/* Write a long decimal as <at most F64_SIG_KEEP digits>[1]e<exp> into buf.
 * Every double and every midpoint between two doubles has <= 767 significant
 * digits, so truncating to 800 digits and appending a non-zero "sticky" digit
 * when anything non-zero was cut keeps the correctly rounded result while
 * bounding strtod's work. */
static void f64_condense(const struct dec *d, char *buf)
{
    size_t total = d->il + d->fl, f = 0, keep, o = 0;
    bool sticky = false;
    int64_t e;
    char tmp[24];
    size_t tl = 0;
    uint64_t ue;

    if (d->neg) {
        buf[o++] = '-';
    }
    while (f < total && dec_digit(d, f) == 0) {
        f++;
    }
    if (f == total) {
        buf[o++] = '0';
        buf[o] = '\0';
        return;
    }
    keep = total - f < F64_SIG_KEEP ? total - f : F64_SIG_KEEP;
    for (size_t j = 0; j < keep; j++) {
        buf[o++] = (char)('0' + dec_digit(d, f + j));
    }
    for (size_t j = f + keep; j < total && !sticky; j++) {
        sticky = dec_digit(d, j) != 0;
    }
    if (sticky) {
        buf[o++] = '1';
    }
    e = d->exp - (int64_t)d->fl + (int64_t)(total - f - keep) -
        (sticky ? 1 : 0);
    if (e > 99999) {
        e = 99999;
    } else if (e < -99999) {
        e = -99999;
    }
    buf[o++] = 'e';
    if (e < 0) {
        buf[o++] = '-';
    }
    ue = (uint64_t)(e < 0 ? -e : e);
    do {
        tmp[tl++] = (char)('0' + (int)(ue % 10u));
        ue /= 10u;
    } while (ue != 0);
    while (tl > 0) {
        buf[o++] = tmp[--tl];
    }
    buf[o] = '\0';
}

/* Clinger's fast path for the common case: [-]digits[.digits], no exponent, at
 * most 15 significant digits (the integer mantissa is exact in a double) and at
 * most 22 fraction digits (10^k is exact): one IEEE division then rounds
 * correctly, so the result equals strtod's. Returns false to take the slow
 * path. */
static bool f64_fast(const char *s, size_t n, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    /* grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)? -- a strict subset of what the
     * slow path accepts, so taking it first changes no outcome. With at most
     * 19 digits the mantissa m fits in 64 bits; with m <= 2^53 and at most 22
     * fraction digits both m and 10^frac are exact doubles, so one division
     * is correctly rounded (Clinger's fast path), as strtod would round. */
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    i += neg;
    if (i >= n || (s[i] == '0' && i + 1 < n && is_digit(s[i + 1]))) {
        return false;
    }
    size_t start = i;
    uint64_t m = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)((unsigned char)s[i] - '0');
        if (d > 9) {
            break;
        }
        m = m * 10 + d;
    }
    size_t int_digits = i - start, frac = 0;
    if (int_digits == 0) {
        return false;
    }
    if (i < n) {
        if (s[i] != '.') {
            return false;
        }
        size_t f0 = ++i;
        for (; i < n; i++) {
            unsigned d = (unsigned)((unsigned char)s[i] - '0');
            if (d > 9) {
                return false;
            }
            m = m * 10 + d;
        }
        frac = i - f0;
        if (frac == 0) {
            return false; /* "5." */
        }
    }
    if (int_digits + frac > 19 || frac > 22 || m > ((uint64_t)1 << 53)) {
        return false;
    }
    double v = (double)m / p10[frac];
    *out = neg && m != 0 ? -v : v;
    return true;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SL_HAVE_F64_512 1
/* f64_fast for texts of at most 16 bytes, without a loop over them: the digit
 * and dot positions are masks; the digits, compressed together and aligned
 * right, are summed in pairs, fours and eights by multiply-adds. The same
 * grammar and limits, so the same answers. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi"))) static bool
f64_fast512(const char *s, size_t n, double *out)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    static const uint8_t iota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const __mmask16 k = (__mmask16)((1u << n) - 1); /* 1 <= n <= 16 */
    const __m128i x = _mm_maskz_loadu_epi8(k, s);
    const __m128i dv = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    const unsigned dig = _mm_mask_cmple_epu8_mask(k, dv, _mm_set1_epi8(9));
    const unsigned dot = _mm_mask_cmpeq_epi8_mask(k, x, _mm_set1_epi8('.'));
    const bool neg = s[0] == '-';
    const unsigned start = neg;
    if ((dig | dot) != (k & ~(unsigned)neg) || (dot & (dot - 1)) != 0) {
        return false; /* a byte neither digit nor the one dot */
    }
    const unsigned dpos = dot != 0 ? (unsigned)__builtin_ctz(dot) : (unsigned)n;
    const unsigned nd = (unsigned)__builtin_popcount(dig);
    if (dpos == start || (dot != 0 && dpos + 1 == n) ||
        (s[start] == '0' && dpos - start > 1)) {
        return false; /* no integer digit, "5.", a leading zero */
    }
    /* the digits at the top of sixteen bytes, most significant first */
    const __m128i packed = _mm_maskz_compress_epi8((__mmask16)dig, dv);
    const unsigned lead = 16 - nd;
    const __m128i idx = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)iota),
                                     _mm_set1_epi8((char)lead));
    const __m128i r = _mm_maskz_permutexvar_epi8((__mmask16)(0xFFFFu << lead), idx, packed);
    const __m128i t1 = _mm_maddubs_epi16(r, _mm_set1_epi16(0x010A));      /* 10a + b */
    const __m128i t2 = _mm_madd_epi16(t1, _mm_set1_epi32(0x00010064));   /* 100a + b */
    const __m128i t3 = _mm_packus_epi32(t2, t2);
    const __m128i t4 = _mm_madd_epi16(t3, _mm_set1_epi32(0x00012710)); /* 10000a + b */
    const uint64_t m = (uint64_t)(uint32_t)_mm_cvtsi128_si32(t4) * 100000000u +
                       (uint32_t)_mm_extract_epi32(t4, 1);
    if (m > ((uint64_t)1 << 53)) {
        return false;
    }
    const double v = (double)m / p10[dot != 0 ? n - 1 - dpos : 0];
    *out = neg && m != 0 ? -v : v;
    return true;
}

/* Whether f64_fast512 runs: -1 not chosen yet, 0 no, 1 yes. Set once (racing
 * first calls all store the same value). */
static int fisa = -1;
#endif

int sl__f64_isa(int want)
{
#ifdef SL_HAVE_F64_512
    __builtin_cpu_init();
    int have = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2");
    SL_ONCE_STORE(fisa, sl_isa_pick(want, have));
    return SL_ONCE_LOAD(fisa);
#else
    (void)want;
    return 0;
#endif
}

int sl__coerce_float64(const char *s, size_t n, double *out, const char **why)
{
    struct dec d;
    char buf[F64_BUF];
    double v;
    locale_t loc;

#ifdef SL_HAVE_F64_512
    if (SL_ONCE_LOAD(fisa) < 0) {
        sl__f64_isa(-1);
    }
    if (SL_ONCE_LOAD(fisa) == 1 && n - 1 < 16) {
        if (f64_fast512(s, n, out)) {
            return SL_OK;
        }
    } else
#endif
    if (f64_fast(s, n, out)) {
        return SL_OK;
    }
    if (n > 0 && !is_digit(s[n - 1])) {
        /* Only a special value can end in a non-digit. */
        size_t o = (s[0] == '+' || s[0] == '-') ? 1 : 0;
        if (ieq(s + o, n - o, "inf") || ieq(s + o, n - o, "infinity")) {
            *out = s[0] == '-' ? -INFINITY : INFINITY;
            return SL_OK;
        }
        if (o == 0 && ieq(s, n, "nan")) {
            *out = NAN;
            return SL_OK;
        }
        return fail(why, -SL_EINVAL, "not a valid FLOAT64 value");
    }
    if (!sl__coerce_scan_decimal(s, n, false, &d)) {
        return fail(why, -SL_EINVAL, "not a valid FLOAT64 value");
    }
    if (n < F64_RAW_MAX) {
        memcpy(buf, s, n);
        buf[n] = '\0';
    } else {
        f64_condense(&d, buf);
    }
    loc = c_locale();
    v = loc != (locale_t)0 ? strtod_l(buf, NULL, loc) : strtod(buf, NULL);
    if (isinf(v)) {
        return fail(why, -SL_ELIMIT, "FLOAT64 value out of range");
    }
    *out = v == 0.0 ? 0.0 : v; /* -0.0 cannot be stored: normalise */
    return SL_OK;
}

/* ------------------------------------------------------------------------ */

int sl__coerce_bool(const char *s, size_t n, bool *out, const char **why)
{
    static const char *const t[] = {"true", "t", "yes", "y", "1"};
    static const char *const f[] = {"false", "f", "no", "n", "0"};

    if (n >= 1 && n <= 5) {
        for (size_t i = 0; i < SL_ARRAY_LEN(t); i++) {
            if (ieq(s, n, t[i])) {
                *out = true;
                return SL_OK;
            }
            if (ieq(s, n, f[i])) {
                *out = false;
                return SL_OK;
            }
        }
    }
    return fail(why, -SL_EINVAL, "not a valid BOOL value");
}

/* ------------------------------------------------------------------------ */

int sl__coerce_numeric(const char *s, size_t n, int precision, int scale,
                       bool half_even, __int128 *out, const char **why)
{
    struct dec d;
    char dig[MAX_DIGITS + 1];
    int len, rc;
    unsigned __int128 mag;

    if (precision == 0 && scale == 0) {
        precision = 38;
        scale = 9;
    }
    if (scale < 0 || scale > 9 || precision < (scale > 1 ? scale : 1) ||
        precision > scale + 29) {
        return fail(why, -SL_EINVAL, "invalid NUMERIC precision/scale");
    }
    if (!sl__coerce_scan_decimal(s, n, true, &d)) {
        return fail(why, -SL_EINVAL, "not a valid NUMERIC value");
    }
    rc = sl__coerce_dec_scale(&d, scale, precision,
                              half_even ? RND_HALF_EVEN : RND_HALF_AWAY, dig,
                              &len);
    if (rc < 0) {
        return fail(why, -SL_ELIMIT, "NUMERIC value out of range");
    }
    mag = digits_u128(dig, len);
    *out = d.neg ? -(__int128)mag : (__int128)mag;
    return SL_OK;
}

/* 2^255 - 1: the largest default BIGNUMERIC magnitude times 10^38; the
 * negative bound is one more (two's complement 256-bit). */
static const char bignum_max[] = "578960446186580977117854925043439539266349923"
                                 "32820282019728792003956564819967";

int sl__coerce_bignumeric(const char *s, size_t n, int precision, int scale,
                          bool half_even, char *out, size_t cap,
                          size_t *out_len, const char **why)
{
    struct dec d;
    char dig[MAX_DIGITS + 1];
    int len, rc, maxd;
    bool dflt = precision == 0 && scale == 0;
    size_t o = 0, need, ilen, flen, lead0;

    if (dflt) {
        scale = 38;
        maxd = (int)sizeof(bignum_max) - 1;
    } else {
        if (scale < 0 || scale > 38 || precision < (scale > 1 ? scale : 1) ||
            precision > scale + 38) {
            return fail(why, -SL_EINVAL, "invalid BIGNUMERIC precision/scale");
        }
        maxd = precision;
    }
    if (!sl__coerce_scan_decimal(s, n, true, &d)) {
        return fail(why, -SL_EINVAL, "not a valid BIGNUMERIC value");
    }
    rc = sl__coerce_dec_scale(
        &d, scale, maxd, half_even ? RND_HALF_EVEN : RND_HALF_AWAY, dig, &len);
    if (rc == 0 && dflt && len == maxd) {
        /* Same length: digit strings compare like numbers. */
        size_t last = (size_t)len - 1;
        if (memcmp(dig, bignum_max, (size_t)len) > 0) {
            /* Only -2^255 (bound + 1; the bound ends in 7, so no carry). */
            bool min = d.neg && memcmp(dig, bignum_max, last) == 0 &&
                       dig[last] == bignum_max[last] + 1;
            if (!min) {
                rc = -SL_ELIMIT;
            }
        }
    }
    if (rc < 0) {
        return fail(why, -SL_ELIMIT, "BIGNUMERIC value out of range");
    }
    /* Trim trailing zeros of the fraction. */
    flen = (size_t)(len < scale ? len : scale);
    ilen = (size_t)len - flen;
    lead0 = (size_t)scale - flen; /* fraction zeros after the point */
    while (flen > 0 && dig[ilen + flen - 1] == '0') {
        flen--;
    }
    if (flen == 0) {
        lead0 = 0;
    }
    need = (d.neg && len > 0 ? 1u : 0u) + (ilen > 0 ? ilen : 1u) +
           (flen > 0 ? 1u + lead0 + flen : 0u);
    if (need > cap) {
        return fail(why, -SL_ELIMIT, "BIGNUMERIC output buffer too small");
    }
    if (d.neg && len > 0) {
        out[o++] = '-';
    }
    if (ilen > 0) {
        memcpy(out + o, dig, ilen);
        o += ilen;
    } else {
        out[o++] = '0';
    }
    if (flen > 0) {
        out[o++] = '.';
        memset(out + o, '0', lead0);
        o += lead0;
        memcpy(out + o, dig + ilen, flen);
        o += flen;
    }
    if (o < cap) {
        out[o] = '\0';
    }
    *out_len = o;
    return SL_OK;
}

size_t sl__fmt_numeric(__int128 v, int scale, char *out)
{
    unsigned __int128 mag =
        v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    char tmp[48];
    size_t tl = 0, o = 0, sc;
    size_t flen;

    if (scale < 0) {
        scale = 0;
    } else if (scale > 38) {
        scale = 38;
    }
    sc = (size_t)scale;
    do {
        tmp[tl++] = (char)('0' + (int)(mag % 10u));
        mag /= 10u;
    } while (mag != 0);
    while (tl <= sc) {
        tmp[tl++] = '0'; /* at least one integer digit */
    }
    /* tmp holds digits least significant first; trim fraction zeros. */
    flen = sc;
    while (flen > 0 && tmp[sc - flen] == '0') {
        flen--;
    }
    if (v < 0) {
        out[o++] = '-';
    }
    for (size_t k = tl; k > sc; k--) {
        out[o++] = tmp[k - 1];
    }
    if (flen > 0) {
        out[o++] = '.';
        for (size_t k = sc; k > sc - flen; k--) {
            out[o++] = tmp[k - 1];
        }
    }
    out[o] = '\0';
    return o;
}
