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
