/* coerce_time.c - BigQuery load coercions for DATE, TIME, DATETIME, TIMESTAMP
 * and epoch seconds, and their canonical text. validate stage. */
#include "core/common.h"

#include "validate/coerce.h"
#include "validate/coerce_int.h"

#include "core/error.h"

#include <string.h>

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
    /* bitwise, not short-circuit: a leap year is one in four, a branch on it
     * often mispredicted */
    return (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0));
}

static int month_days(int64_t y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + ((m == 2) & is_leap(y));
}

/* Days before month m (1-based) in a non-leap year. */
static const int days_before_month[13] = {0,   0,   31,  59,  90,  120, 151,
                                          181, 212, 243, 273, 304, 334};

/* y >= 1. Counts whole years since 0001-01-01 with the leap-year rule, then the
 * months and days of year y. */
static inline __attribute__((always_inline)) int64_t days_from_civil(int64_t y, int m, int d)
{
    uint64_t py = (uint64_t)y - 1; /* unsigned: the divisions need no sign fix-up */
    int64_t days = (int64_t)(py * 365 + py / 4 - py / 100 + py / 400);
    days += days_before_month[m] + ((m > 2) & is_leap(y)) + d - 1;
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

/* The common spellings, YYYY-MM-DD{T| }HH:MM[:SS[.F{1,6}]] then nothing, Z,
 * " UTC" or [ ]{+|-}HH:MM (or YYYY/MM/DD), read at fixed positions: true with
 * *out set, or false to let the general parser decide (it accepts all of these
 * too, with the same result: this only skips its steps). */
static bool ts_fast(const char *s, size_t n, int64_t *out)
{
    if (n < 16 || (s[4] != '-' && s[4] != '/') || s[7] != s[4] || !is_dt_sep(s[10]) ||
        s[13] != ':') {
        return false;
    }
    /* HH:MM:SS, or HH:MM without seconds (and then without a fraction) */
    const bool has_sec = n >= 19 && s[16] == ':';
#define D(k) ((unsigned)((unsigned char)s[k] - '0'))
    unsigned bad = (D(0) > 9) | (D(1) > 9) | (D(2) > 9) | (D(3) > 9) | (D(5) > 9) | (D(6) > 9) |
                   (D(8) > 9) | (D(9) > 9) | (D(11) > 9) | (D(12) > 9) | (D(14) > 9) |
                   (D(15) > 9);
    if (bad || (has_sec && ((D(17) > 9) | (D(18) > 9)))) {
        return false;
    }
    int y = (int)(D(0) * 1000 + D(1) * 100 + D(2) * 10 + D(3));
    int m = (int)(D(5) * 10 + D(6)), d = (int)(D(8) * 10 + D(9));
    int h = (int)(D(11) * 10 + D(12)), mi = (int)(D(14) * 10 + D(15));
    int sec = has_sec ? (int)(D(17) * 10 + D(18)) : 0;
#undef D
    size_t i = has_sec ? 19 : 16;
    int64_t frac = 0;
    if (!has_sec) {
        if (i < n && (s[i] == '.' || s[i] == ':')) {
            return false; /* the general parser tells */
        }
    } else if (n >= 24 && s[19] == '.' && !is_digit(s[23]) && is_digit(s[20]) &&
               is_digit(s[21]) && is_digit(s[22])) {
        /* milliseconds, the usual fraction */
        frac = (int64_t)(dval(s[20]) * 100 + dval(s[21]) * 10 + dval(s[22])) * 1000;
        i = 23;
    } else if (i < n && s[i] == '.') {
        size_t fd = 0;
        for (i++; i < n && is_digit(s[i]) && fd < 6; i++, fd++) {
            frac = frac * 10 + dval(s[i]);
        }
        if (fd == 0 || (i < n && is_digit(s[i]))) {
            return false;
        }
        for (; fd < 6; fd++) {
            frac *= 10;
        }
    }
    int64_t off_min = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (n - i == 4 && memcmp(s + i, " UTC", 4) == 0) {
        i = n;
    } else if (i < n) {
        /* [ ]{+|-}HH:MM */
        i += s[i] == ' ';
        if (n - i != 6 || (s[i] != '+' && s[i] != '-') || !is_digit(s[i + 1]) ||
            !is_digit(s[i + 2]) || s[i + 3] != ':' || !is_digit(s[i + 4]) ||
            !is_digit(s[i + 5])) {
            return false;
        }
        int oh = dval(s[i + 1]) * 10 + dval(s[i + 2]), om = dval(s[i + 4]) * 10 + dval(s[i + 5]);
        if (om > 59 || oh * 60 + om > 14 * 60) {
            return false;
        }
        off_min = (s[i] == '-' ? -1 : 1) * (int64_t)(oh * 60 + om);
        i = n;
    }
    if (i != n || y < 1 || m < 1 || m > 12 || d < 1 || d > month_days(y, m) || h > 23 ||
        mi > 59 || sec > 60) {
        return false;
    }
    int64_t v = days_from_civil(y, m, d) * US_PER_DAY +
                ((int64_t)h * 3600 + (int64_t)mi * 60 + sec) * US_PER_SEC + frac -
                off_min * 60 * US_PER_SEC;
    if (v < TS_MIN_US || v > TS_MAX_US) {
        return false;
    }
    *out = v;
    return true;
}

int sl__coerce_timestamp(const char *s, size_t n, int64_t *out,
                         const char **why)
{
    if (ts_fast(s, n, out)) {
        return SL_OK;
    }
    return sl__coerce_timestamp_general(s, n, out, why);
}

int sl__coerce_timestamp_general(const char *s, size_t n, int64_t *out, const char **why)
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

    if (!sl__coerce_scan_decimal(s, n, false, &d)) {
        return fail(why, -SL_EINVAL, "not a valid epoch seconds value");
    }
    /* 18 digits of microseconds cover +-10^12 s, beyond both range ends. */
    rc = sl__coerce_dec_scale(&d, 6, 18, RND_HALF_AWAY, dig, &len);
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
