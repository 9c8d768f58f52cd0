/* coerce.c - BigQuery load coercions from field text to typed values. validate
 * stage. Pure, allocation-free and linear in the input length; inputs are
 * (ptr, len) spans, never NUL-terminated. Choices: docs/COERCIONS.md. */
#include "core/common.h"

#include "validate/coerce.h"

#include "core/error.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char **why, int code, const char *text)
{
    if (why) {
        *why = text;
    }
    return code;
}

static inline bool is_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}

static inline int dval(char c)
{
    return (int)((unsigned char)c - '0');
}

/* ---------------------------------------------------------------------------
 * Decimal scanning and exact scaling, shared by INT64, NUMERIC, BIGNUMERIC and
 * epoch seconds. A number is seen as the digit string D = int digits ++
 * fraction digits and the value D * 10^(exp - fl); nothing is converted to
 * binary floating point, so results are exact.
 */

/* Exponents are clamped here: any larger magnitude already puts every value
 * far out of range (or rounds it to 0), and the clamp keeps int64 arithmetic on
 * exponents and digit counts overflow-free. */
#define EXP_CLAMP INT64_C(1000000000000000)

struct dec {
    const char *ip; /* integer-part digits */
    const char *fp; /* fraction digits */
    size_t il;      /* count of integer-part digits */
    size_t fl;      /* count of fraction digits */
    int64_t exp;    /* explicit exponent (clamped near +-EXP_CLAMP) */
    bool neg;       /* leading '-' */
};

/* Strict = JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Lenient (NUMERIC/BIGNUMERIC text) also allows a leading '+', leading zeros,
 * and an empty integer or fraction part (".5", "5.") but not both. */
static bool scan_decimal(const char *s, size_t n, bool lenient, struct dec *d)
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

static inline int dec_digit(const struct dec *d, size_t k)
{
    return k < d->il ? dval(d->ip[k]) : dval(d->fp[k - d->il]);
}

enum rnd {
    RND_HALF_AWAY, /* 0.5 -> 1, -0.5 -> -1 (magnitude is rounded) */
    RND_HALF_EVEN, /* 0.5 -> 0, 1.5 -> 2 */
    RND_EXACT,     /* any non-zero dropped digit is an error */
};

#define MAX_DIGITS 80

/* Magnitude of round(value * 10^scale) as decimal digits in dig (no leading
 * zeros; length 0 means zero), at most maxd (<= MAX_DIGITS) digits.
 * Returns SL_OK, -SL_ELIMIT when more than maxd digits are needed, or
 * -SL_EINVAL in RND_EXACT mode when a non-zero digit would be dropped. */
static int dec_scale(const struct dec *d, int scale, int maxd, enum rnd mode,
                     char dig[MAX_DIGITS + 1], int *out_len)
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

static unsigned __int128 digits_u128(const char *dig, int len)
{
    unsigned __int128 v = 0;
    for (int i = 0; i < len; i++) {
        v = v * 10u + (unsigned)dval(dig[i]);
    }
    return v;
}

/* ------------------------------------------------------------------------ */

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

int sl__coerce_int64(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    struct dec d;
    char dig[MAX_DIGITS + 1];
    int len, rc;

    /* Fast path: plain [-]digits of at most 19 digits, which fit in uint64. */
    if (n > 0 && s[0] == '-') {
        i = 1;
    }
    if (n > i && n - i <= 19 && (s[i] != '0' || n - i == 1)) {
        uint64_t v = 0;
        size_t j = i;
        for (; j < n && is_digit(s[j]); j++) {
            v = v * 10u + (uint64_t)dval(s[j]);
        }
        if (j == n) {
            return int64_finish(v, i == 1, out, why);
        }
    }
    if (!scan_decimal(s, n, false, &d)) {
        return fail(why, -SL_EINVAL, "not a valid INT64 value");
    }
    rc = dec_scale(&d, 0, 19, RND_EXACT, dig, &len);
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
 * correctly, so the result equals strtod's. Returns false to take the slow path. */
static bool f64_fast(const char *s, size_t n, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    i += neg;
    uint64_t m = 0;
    unsigned digits = 0, frac = 0;
    bool dot = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!is_digit(ch)) {
            return false;
        }
        m = m * 10 + (uint64_t)(ch - '0');
        digits += (m != 0);
        frac += dot;
        if (digits > 15 || frac > 22) {
            return false;
        }
    }
    double v = (double)m / p10[frac];
    *out = neg && m != 0 ? -v : v;
    return true;
}

int sl__coerce_float64(const char *s, size_t n, double *out, const char **why)
{
    struct dec d;
    char buf[F64_BUF];
    double v;
    locale_t loc;

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
    if (!scan_decimal(s, n, false, &d)) {
        return fail(why, -SL_EINVAL, "not a valid FLOAT64 value");
    }
    if (f64_fast(s, n, out)) {
        return SL_OK;
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
    if (!scan_decimal(s, n, true, &d)) {
        return fail(why, -SL_EINVAL, "not a valid NUMERIC value");
    }
    rc = dec_scale(&d, scale, precision,
                   half_even ? RND_HALF_EVEN : RND_HALF_AWAY, dig, &len);
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
    if (!scan_decimal(s, n, true, &d)) {
        return fail(why, -SL_EINVAL, "not a valid BIGNUMERIC value");
    }
    rc = dec_scale(&d, scale, maxd, half_even ? RND_HALF_EVEN : RND_HALF_AWAY,
                   dig, &len);
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

/* ---------------------------------------------------------------------------
 * Calendar. Proleptic Gregorian, days counted from 1970-01-01.
 */

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)
#define DAYS_0001  INT64_C(-719162)            /* 0001-01-01 */
#define DAYS_9999  INT64_C(2932896)            /* 9999-12-31 */
#define TS_MIN_US  INT64_C(-62135596800000000) /* DAYS_0001 * US_PER_DAY */
#define TS_MAX_US  INT64_C(253402300799999999) /* 9999-12-31 23:59:59.999999 */
_Static_assert(TS_MIN_US == DAYS_0001 * US_PER_DAY, "TS_MIN_US");
_Static_assert(TS_MAX_US == (DAYS_9999 + 1) * US_PER_DAY - 1, "TS_MAX_US");
#define DAYS_400Y 146097
#define DAYS_100Y 36524
#define DAYS_4Y   1461

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Days before month m (1-based) in a non-leap year. */
static const int days_before_month[13] = {0,   0,   31,  59,  90,  120, 151,
                                          181, 212, 243, 273, 304, 334};

/* y >= 1. Counts whole years since 0001-01-01 with the leap-year rule, then the
 * months and days of year y. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t py = y - 1;
    int64_t days = py * 365 + py / 4 - py / 100 + py / 400;
    days += days_before_month[m] + (m > 2 && is_leap(y) ? 1 : 0) + d - 1;
    return days + DAYS_0001;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Inverse of days_from_civil for any int64 day count that fits the math:
 * peel off 400-, 100-, 4- and 1-year blocks counted from 0001-01-01. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days - DAYS_0001;
    int64_t n400 = floor_div(z, DAYS_400Y);
    int64_t r = z - n400 * DAYS_400Y;
    int64_t n100 = r / DAYS_100Y, n4, n1;
    int mo = 1;

    if (n100 == 4) {
        n100 = 3; /* last day of a 400-year block */
    }
    r -= n100 * DAYS_100Y;
    n4 = r / DAYS_4Y;
    r -= n4 * DAYS_4Y;
    n1 = r / 365;
    if (n1 == 4) {
        n1 = 3; /* last day of a leap 4-year block */
    }
    r -= n1 * 365;
    *y = 1 + 400 * n400 + 100 * n100 + 4 * n4 + n1;
    while (mo < 12 && r >= month_days(*y, mo)) {
        r -= month_days(*y, mo);
        mo++;
    }
    *m = mo;
    *d = (int)r + 1;
}

/* Between minw and maxw decimal digits at s[*i]. */
static bool take_digits(const char *s, size_t n, size_t *i, size_t minw,
                        size_t maxw, int *out)
{
    size_t j = *i;
    int v = 0;
    while (j < n && j - *i < maxw && is_digit(s[j])) {
        v = v * 10 + dval(s[j]);
        j++;
    }
    if (j - *i < minw) {
        return false;
    }
    *i = j;
    *out = v;
    return true;
}

/* YYYY{sep}[M]M{sep}[D]D, sep '-' (or '/' when allowed, the same both times).
 */
static int parse_date(const char *s, size_t n, size_t *i, bool allow_slash,
                      int64_t *days, const char **why)
{
    int y, m, d;
    char sep;

    if (!take_digits(s, n, i, 4, 4, &y) || *i >= n) {
        return fail(why, -SL_EINVAL, "date is not YYYY-MM-DD");
    }
    sep = s[*i];
    if (sep != '-' && !(allow_slash && sep == '/')) {
        return fail(why, -SL_EINVAL, "date is not YYYY-MM-DD");
    }
    (*i)++;
    if (!take_digits(s, n, i, 1, 2, &m) || *i >= n || s[*i] != sep) {
        return fail(why, -SL_EINVAL, "date is not YYYY-MM-DD");
    }
    (*i)++;
    if (!take_digits(s, n, i, 1, 2, &d)) {
        return fail(why, -SL_EINVAL, "date is not YYYY-MM-DD");
    }
    if (m < 1 || m > 12 || d < 1 || d > month_days(y, m)) {
        return fail(why, -SL_EINVAL, "no such calendar date");
    }
    if (y < 1) {
        return fail(why, -SL_ELIMIT, "year 0000 is out of range");
    }
    *days = days_from_civil(y, m, d);
    return SL_OK;
}

/* [H]H:[M]M[:[S]S[.F{1,6}]] -> microseconds; seconds 60 (leap) counts as 60,
 * i.e. :00 of the next minute. */
static int parse_tod(const char *s, size_t n, size_t *i, bool sec_required,
                     int64_t *tod, const char **why)
{
    int h, mi, sec = 0, frac = 0;
    size_t fd = 0;

    if (!take_digits(s, n, i, 1, 2, &h) || *i >= n || s[*i] != ':') {
        return fail(why, -SL_EINVAL, "time is not HH:MM:SS");
    }
    (*i)++;
    if (!take_digits(s, n, i, 1, 2, &mi)) {
        return fail(why, -SL_EINVAL, "time is not HH:MM:SS");
    }
    if (*i < n && s[*i] == ':') {
        (*i)++;
        if (!take_digits(s, n, i, 1, 2, &sec)) {
            return fail(why, -SL_EINVAL, "time is not HH:MM:SS");
        }
        if (*i < n && s[*i] == '.') {
            (*i)++;
            for (; *i < n && is_digit(s[*i]); (*i)++, fd++) {
                if (fd < 6) {
                    frac = frac * 10 + dval(s[*i]);
                }
            }
            if (fd == 0) {
                return fail(why, -SL_EINVAL, "time has '.' without digits");
            }
            if (fd > 6) {
                return fail(why, -SL_EINVAL,
                            "more than 6 fractional second digits");
            }
            for (size_t k = fd; k < 6; k++) {
                frac *= 10;
            }
        }
    } else if (sec_required) {
        return fail(why, -SL_EINVAL, "time is not HH:MM:SS");
    }
    if (h > 23 || mi > 59 || sec > 60) {
        return fail(why, -SL_EINVAL, "no such time of day");
    }
    *tod = ((int64_t)h * 3600 + (int64_t)mi * 60 + sec) * US_PER_SEC + frac;
    return SL_OK;
}

int sl__coerce_date(const char *s, size_t n, int32_t *out, const char **why)
{
    size_t i = 0;
    int64_t days;
    int rc = parse_date(s, n, &i, false, &days, why);

    if (rc < 0) {
        return rc;
    }
    if (i != n) {
        return fail(why, -SL_EINVAL, "trailing characters after DATE");
    }
    *out = (int32_t)days;
    return SL_OK;
}

int sl__coerce_time(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    int64_t tod;
    int rc = parse_tod(s, n, &i, true, &tod, why);

    if (rc < 0) {
        return rc;
    }
    if (i != n) {
        return fail(why, -SL_EINVAL, "trailing characters after TIME");
    }
    if (tod >= US_PER_DAY) {
        return fail(why, -SL_EINVAL, "leap second 23:59:60 overflows TIME");
    }
    *out = tod;
    return SL_OK;
}

static bool is_dt_sep(char c)
{
    return c == ' ' || c == 'T' || c == 't';
}

int sl__coerce_datetime(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    int64_t days, tod = 0, v;
    int rc = parse_date(s, n, &i, false, &days, why);

    if (rc < 0) {
        return rc;
    }
    if (i < n) {
        if (!is_dt_sep(s[i]) || i + 1 >= n) {
            return fail(why, -SL_EINVAL, "trailing characters after DATE");
        }
        i++;
        rc = parse_tod(s, n, &i, true, &tod, why);
        if (rc < 0) {
            return rc;
        }
        if (i != n) {
            return fail(why, -SL_EINVAL,
                        "DATETIME has a time zone or trailing characters");
        }
    }
    v = days * US_PER_DAY + tod;
    if (v > TS_MAX_US) {
        return fail(why, -SL_ELIMIT, "DATETIME out of range");
    }
    *out = v;
    return SL_OK;
}

/* {+|-}H[H][:M[M]] or {+|-}HHMM at s[*i], within +-14:00 -> minutes east. */
static int parse_offset(const char *s, size_t n, size_t *i, int64_t *out_min,
                        const char **why)
{
    int sign = s[*i] == '-' ? -1 : 1;
    size_t start;
    int h = 0, m = 0;

    (*i)++;
    start = *i;
    while (*i < n && is_digit(s[*i]) && *i - start < 5) {
        (*i)++;
    }
    if (*i - start == 4) {
        h = dval(s[start]) * 10 + dval(s[start + 1]);
        m = dval(s[start + 2]) * 10 + dval(s[start + 3]);
    } else if (*i - start == 1 || *i - start == 2) {
        for (size_t k = start; k < *i; k++) {
            h = h * 10 + dval(s[k]);
        }
        if (*i < n && s[*i] == ':') {
            (*i)++;
            if (!take_digits(s, n, i, 1, 2, &m)) {
                return fail(why, -SL_EINVAL, "malformed time zone offset");
            }
        }
    } else {
        return fail(why, -SL_EINVAL, "malformed time zone offset");
    }
    if (m > 59 || h * 60 + m > 14 * 60) {
        return fail(why, -SL_EINVAL, "time zone offset out of range");
    }
    *out_min = sign * (int64_t)(h * 60 + m);
    return SL_OK;
}

int sl__coerce_timestamp(const char *s, size_t n, int64_t *out,
                         const char **why)
{
    size_t i = 0;
    int64_t days, tod = 0, off_min = 0, v;
    int rc;

    if (n < 5 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) ||
        !is_digit(s[3]) || (s[4] != '-' && s[4] != '/')) {
        /* Not a date: a quoted epoch in seconds (U5). */
        rc = sl__coerce_epoch_seconds(s, n, out, why);
        if (rc == -SL_EINVAL) {
            return fail(why, rc, "not a valid TIMESTAMP value");
        }
        return rc;
    }
    rc = parse_date(s, n, &i, true, &days, why);
    if (rc < 0) {
        return rc;
    }
    if (i < n) {
        if (!is_dt_sep(s[i]) || i + 1 >= n) {
            return fail(why, -SL_EINVAL, "trailing characters after date");
        }
        i++;
        rc = parse_tod(s, n, &i, false, &tod, why);
        if (rc < 0) {
            return rc;
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n) {
            if (s[i] == ' ' && n - i == 4 && memcmp(s + i + 1, "UTC", 3) == 0) {
                i = n;
            } else {
                if (s[i] == ' ') {
                    i++;
                }
                if (i >= n || (s[i] != '+' && s[i] != '-')) {
                    return fail(why, -SL_EINVAL,
                                "unsupported time zone in TIMESTAMP");
                }
                rc = parse_offset(s, n, &i, &off_min, why);
                if (rc < 0) {
                    return rc;
                }
            }
        }
        if (i != n) {
            return fail(why, -SL_EINVAL, "trailing characters after TIMESTAMP");
        }
    }
    v = days * US_PER_DAY + tod - off_min * 60 * US_PER_SEC;
    if (v < TS_MIN_US || v > TS_MAX_US) {
        return fail(why, -SL_ELIMIT, "TIMESTAMP out of range");
    }
    *out = v;
    return SL_OK;
}

int sl__coerce_epoch_seconds(const char *s, size_t n, int64_t *out,
                             const char **why)
{
    struct dec d;
    char dig[MAX_DIGITS + 1];
    int len, rc;
    __int128 v;

    if (!scan_decimal(s, n, false, &d)) {
        return fail(why, -SL_EINVAL, "not a valid epoch seconds value");
    }
    /* 18 digits of microseconds cover +-10^12 s, beyond both range ends. */
    rc = dec_scale(&d, 6, 18, RND_HALF_AWAY, dig, &len);
    if (rc < 0) {
        return fail(why, -SL_ELIMIT, "TIMESTAMP out of range");
    }
    v = (__int128)digits_u128(dig, len);
    if (d.neg) {
        v = -v;
    }
    if (v < TS_MIN_US || v > TS_MAX_US) {
        return fail(why, -SL_ELIMIT, "TIMESTAMP out of range");
    }
    *out = (int64_t)v;
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
    size_t i = 0;
    int64_t count = 0;

    while (i < n) {
        unsigned c;
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & UINT64_C(0x8080808080808080)) == 0) {
                i += 8;
                count += 8;
                continue;
            }
        }
        c = p[i];
        if (c < 0x80) {
            i++;
        } else if (c < 0xC2) {
            return -1; /* stray continuation byte or overlong 2-byte form */
        } else if (c < 0xE0) {
            if (n - i < 2 || (p[i + 1] & 0xC0) != 0x80) {
                return -1;
            }
            i += 2;
        } else if (c < 0xF0) {
            /* E0: no overlongs (A0..BF); ED: no surrogates (80..9F). */
            unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
            unsigned hi = c == 0xED ? 0x9F : 0xBF;
            if (n - i < 3 || p[i + 1] < lo || p[i + 1] > hi ||
                (p[i + 2] & 0xC0) != 0x80) {
                return -1;
            }
            i += 3;
        } else if (c < 0xF5) {
            /* F0: no overlongs (90..BF); F4: not above U+10FFFF (80..8F). */
            unsigned lo = c == 0xF0 ? 0x90 : 0x80;
            unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
            if (n - i < 4 || p[i + 1] < lo || p[i + 1] > hi ||
                (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80) {
                return -1;
            }
            i += 4;
        } else {
            return -1;
        }
        count++;
    }
    return count;
}

/* ------------------------------------------------------------------------ */

/* Zero-padded decimal of v in at least width digits. */
static size_t put_uint(char *out, uint64_t v, int width)
{
    char tmp[24];
    size_t tl = 0, o = 0;
    do {
        tmp[tl++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    while ((int)tl < width) {
        tmp[tl++] = '0';
    }
    while (tl > 0) {
        out[o++] = tmp[--tl];
    }
    return o;
}

static size_t put_date(int64_t days, char *out)
{
    int64_t y;
    int m, d;
    size_t o = 0;

    civil_from_days(days, &y, &m, &d);
    if (y < 0) {
        out[o++] = '-';
        y = -y;
    }
    o += put_uint(out + o, (uint64_t)y, 4);
    out[o++] = '-';
    o += put_uint(out + o, (uint64_t)m, 2);
    out[o++] = '-';
    o += put_uint(out + o, (uint64_t)d, 2);
    return o;
}

static size_t put_tod(int64_t tod, char *out)
{
    int64_t secs = tod / US_PER_SEC, us = tod % US_PER_SEC;
    size_t o = 0;

    o += put_uint(out + o, (uint64_t)(secs / 3600), 2);
    out[o++] = ':';
    o += put_uint(out + o, (uint64_t)(secs / 60 % 60), 2);
    out[o++] = ':';
    o += put_uint(out + o, (uint64_t)(secs % 60), 2);
    if (us != 0) {
        out[o++] = '.';
        o += put_uint(out + o, (uint64_t)us, 6);
    }
    return o;
}

size_t sl__fmt_date(int32_t days, char *out)
{
    size_t o = put_date(days, out);
    out[o] = '\0';
    return o;
}

size_t sl__fmt_time(int64_t micros, char *out)
{
    /* Out-of-day values are wrapped into the day rather than printed raw. */
    size_t o =
        put_tod(micros - floor_div(micros, US_PER_DAY) * US_PER_DAY, out);
    out[o] = '\0';
    return o;
}

size_t sl__fmt_datetime(int64_t micros, char *out)
{
    int64_t days = floor_div(micros, US_PER_DAY);
    size_t o = put_date(days, out);
    out[o++] = 'T';
    o += put_tod(micros - days * US_PER_DAY, out + o);
    out[o] = '\0';
    return o;
}

size_t sl__fmt_timestamp(int64_t micros, char *out)
{
    size_t o = sl__fmt_datetime(micros, out);
    out[o++] = 'Z';
    out[o] = '\0';
    return o;
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
