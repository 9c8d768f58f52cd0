/* coerce_int.h - private to the coercions (coerce.c, coerce_num.c,
 * coerce_time.c): error helper, digit helpers and the exact decimal scanner;
 * included only from inside src/validate/. validate stage. */
#ifndef SL_VALIDATE_COERCE_INT_H
#define SL_VALIDATE_COERCE_INT_H

#include "core/common.h"

#include "core/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set *why (if why is non-NULL) to text and return code. */
static inline int fail(const char **why, int code, const char *text)
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
 * and an empty integer or fraction part (".5", "5.") but not both. Returns
 * false when s[0..n) does not match; *d borrows from s. */
bool sl__coerce_scan_decimal(const char *s, size_t n, bool lenient,
                             struct dec *d);

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
SL_NODISCARD int sl__coerce_dec_scale(const struct dec *d, int scale, int maxd,
                                      enum rnd mode, char dig[MAX_DIGITS + 1],
                                      int *out_len);

/* dig[0..len) (decimal digits) as an unsigned 128-bit integer. */
static inline unsigned __int128 digits_u128(const char *dig, int len)
{
    unsigned __int128 v = 0;
    for (int i = 0; i < len; i++) {
        v = v * 10u + (unsigned)dval(dig[i]);
    }
    return v;
}

#endif
