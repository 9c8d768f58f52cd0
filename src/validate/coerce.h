/* coerce.h - BigQuery load coercions from text to typed values: pure functions,
 * no allocation, shared by the NDJSON and CSV paths. validate stage.
 * Each returns SL_OK or a negative code (-SL_EINVAL for a malformed value,
 * -SL_ELIMIT for a value out of the type's range); `why` (if non-NULL) is set to a
 * static human-readable reason. Input is the exact token/field text (for JSON
 * strings: the unescaped content) as a (ptr, len) span: it is never read past
 * len and need not be NUL-terminated; no whitespace is trimmed. On failure
 * scalar outputs and out_len are left unchanged (output buffers may hold
 * partial data). All functions are reentrant and thread-safe, run in
 * time linear in len, and do not depend on the process locale.
 * See ../shared/docs/BIGQUERY.md §2.3-2.4 and docs/COERCIONS.md for the choices
 * where the spec is unconfirmed. */
#ifndef SL_VALIDATE_COERCE_H
#define SL_VALIDATE_COERCE_H

#include "core/common.h"
#include "core/error.h"

/* INTEGER: optional '-', decimal digits without leading zeros ("0" itself ok);
 * exact-integer decimals and exponents such as "1.0", "1e3", "-2.50e1" are
 * accepted when the value is an integer in int64 (U2); the grammar is the JSON
 * number grammar. Rejects '+', hex, leading zeros, fractions, empty, spaces.
 * Out of range (-SL_ELIMIT) is checked before a non-zero fraction (-SL_EINVAL):
 * "1e19" and "12345678901234567890.5" are -SL_ELIMIT, "1.5" is -SL_EINVAL. */
SL_NODISCARD int sl__coerce_int64_general(const char *s, size_t n, int64_t *out,
                                          const char **why);
static inline int sl__coerce_int64(const char *s, size_t n, int64_t *out, const char **why)
{
    /* inline for the scanners: [-]digits without a leading zero, at most 18 of
     * them (no overflow); everything else takes the general path */
    size_t i = n > 0 && s[0] == '-';
    size_t nd = n - i;
    if (nd >= 1 && nd <= 18 && (s[i] != '0' || nd == 1)) {
        uint64_t x = 0;
        for (; i < n; i++) {
            unsigned d = (unsigned)((unsigned char)s[i] - '0');
            if (d > 9) {
                break;
            }
            x = x * 10 + d;
        }
        if (i == n) {
            *out = s[0] == '-' ? -(int64_t)x : (int64_t)x;
            return SL_OK;
        }
    }
    return sl__coerce_int64_general(s, n, out, why);
}

/* FLOAT: JSON-number grammar, plus "NaN", "Infinity", "-Infinity", "inf",
 * "+inf", "-inf" case-insensitively (U3). -0.0 is stored as 0.0. Decimal text
 * that overflows double is -SL_ELIMIT; text that underflows becomes 0.0 or a
 * subnormal (accepted). Leading '+' accepted only on inf; "+nan"/"-nan" are
 * rejected. Correctly rounded for any length (long inputs are condensed to
 * 800 significant digits plus a sticky digit before strtod_l in the C locale). */
SL_NODISCARD int sl__coerce_float64(const char *s, size_t n, double *out, const char **why);
/* Which fast path sl__coerce_float64 takes first for texts of 1..16 bytes, for
 * tests: -1 the best the CPU has (the default), 0 the byte loop, 1 AVX-512 (BW,
 * VL, VBMI, VBMI2) if the CPU has it (else 0). Returns the one now in use. Not
 * thread-safe: set it before converting. */
int sl__f64_isa(int want);

/* BOOLEAN: true/false, t/f, yes/no, y/n, 1/0, case-insensitive. */
SL_NODISCARD int sl__coerce_bool(const char *s, size_t n, bool *out, const char **why);

/* NUMERIC with precision P and scale S (P=38,S=9 for the default column;
 * 0,0 also means the default): decimal text with optional sign ('+' or '-'),
 * optional fraction, optional exponent; leading zeros, ".5" and "5." are
 * accepted (SQL numeric-literal leniency; exact, so harmless). Excess fraction
 * digits are rounded half away from zero (or half even) (U4). Result is
 * value * 10^S as a 128-bit integer. More than P-S integer digits after
 * rounding -> -SL_ELIMIT. P,S outside 0<=S<=9, max(1,S)<=P<=S+29 -> -SL_EINVAL. */
SL_NODISCARD int sl__coerce_numeric(const char *s, size_t n, int precision, int scale,
                                    bool half_even, __int128 *out, const char **why);

/* BIGNUMERIC (default P=76.76 i.e. 38 integer digits + 38 fraction digits, the
 * range ±5.7896044618658097711785492504343953926634992332820282019728792003956564819967E+38
 * with 38 fraction digits; the negative end is ...968E+38, i.e. [-2^255, 2^255-1]
 * scaled by 10^-38): same text grammar and rounding as NUMERIC; writes the
 * canonical decimal text (no exponent, no trailing fraction zeros, "-0" -> "0")
 * to out (cap >= 82 bytes; at most 79 are written, plus a NUL when it fits) and
 * its length to out_len. precision/scale 0,0 = type default; otherwise
 * 0<=S<=38, max(1,S)<=P<=S+38 (else -SL_EINVAL) and |value| <= 10^(P-S)-10^-S.
 * A too-small cap is -SL_ELIMIT. */
SL_NODISCARD int sl__coerce_bignumeric(const char *s, size_t n, int precision, int scale,
                                       bool half_even, char *out, size_t cap,
                                       size_t *out_len, const char **why);

/* DATE "YYYY-[M]M-[D]D" (U8) in 0001-01-01..9999-12-31 -> days since 1970-01-01.
 * Impossible dates (2023-02-29, 2024-04-31) -> -SL_EINVAL; year 0000 ->
 * -SL_ELIMIT. '/' is not accepted (only TIMESTAMP allows it). */
SL_NODISCARD int sl__coerce_date(const char *s, size_t n, int32_t *out, const char **why);

/* TIME "[H]H:[M]M:[S]S[.F{1,6}]" -> microseconds since midnight. Seconds 60 is a
 * leap second read as :00 of the next minute; 24:00:00 and 23:59:60 (which
 * would be 24:00:00) are rejected, as are more than 6 fraction digits (U6). */
SL_NODISCARD int sl__coerce_time(const char *s, size_t n, int64_t *out, const char **why);

/* DATETIME "DATE( |T|t)TIME" without zone (U7: offsets and Z rejected) ->
 * microseconds since 1970-01-01T00:00:00 (no zone). Date alone is accepted too
 * (midnight), as in BigQuery's canonical DATETIME literal. Seconds are
 * required; a leap second past 9999-12-31 23:59:59 is -SL_ELIMIT. */
SL_NODISCARD int sl__coerce_datetime(const char *s, size_t n, int64_t *out, const char **why);

/* TIMESTAMP text: date "YYYY-MM-DD" or "YYYY/MM/DD" (one separator, used
 * twice; 1-digit month/day accepted), separator ' ' or 'T'/'t',
 * time "[H]H:[M]M[:[S]S[.F{1,6}]]", optional zone: "Z"/"z" (no space),
 * " UTC" (one space, upper case), or a numeric offset {+|-}H[H][:M[M]] or
 * {+|-}HHMM, at most 14:00, with or without one space before it. IANA names
 * are rejected (U6). Text that does not start with "YYYY-" or "YYYY/" is read
 * as a quoted epoch (decimal seconds, U5, see sl__coerce_epoch_seconds).
 * Date alone = midnight UTC. -> microseconds since the Unix epoch, UTC, which
 * must lie within 0001-01-01..9999-12-31 23:59:59.999999 after applying the
 * offset (else -SL_ELIMIT). */
SL_NODISCARD int sl__coerce_timestamp(const char *s, size_t n, int64_t *out, const char **why);
/* The same without the fixed-position fast path for the common spelling (tests
 * compare the two). */
SL_NODISCARD int sl__coerce_timestamp_general(const char *s, size_t n, int64_t *out,
                                              const char **why);

/* TIMESTAMP from a JSON number: epoch seconds with fraction (to microseconds,
 * rounded half away from zero at the 7th digit), exponent allowed; JSON number
 * grammar, exact decimal arithmetic. Seconds only (U5): results outside
 * 0001-01-01..9999-12-31 23:59:59.999999 (e.g. 1.534680695e12) -> -SL_ELIMIT. */
SL_NODISCARD int sl__coerce_epoch_seconds(const char *s, size_t n, int64_t *out, const char **why);

/* BYTES: standard base64 (RFC 4648 §4) with padding (U20). CR and LF are
 * skipped wherever they occur (MIME line breaks: Google's own fixtures load
 * "DQo=\n", base64.encodebytes() output); any other whitespace, the URL-safe
 * alphabet, missing padding and data after padding are -SL_EINVAL. Non-zero
 * pad bits ("Zh==") are ignored, as common decoders do. Decodes into out
 * (cap >= n/4*3 always suffices; less -> -SL_ELIMIT when exceeded) and sets
 * out_len. */
SL_NODISCARD int sl__coerce_base64(const char *s, size_t n, uint8_t *out, size_t cap,
                                   size_t *out_len, const char **why);

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? Returns the
 * number of code points, or -1 if invalid. NUL bytes count as valid code
 * points (callers that forbid NUL check it themselves). ASCII runs are checked
 * 8 bytes at a time. */
int64_t sl__utf8_count(const char *s, size_t n);
/* sl__utf8_count(s, n) >= 0, 64 bytes a step where the CPU has AVX-512 (BW,
 * VBMI). */
bool sl__utf8_valid(const char *s, size_t n);
/* Which sl__utf8_valid runs, for tests: -1 the best the CPU has (the default),
 * 0 sl__utf8_count, 1 AVX-512 if the CPU has it (else 0). Returns the one now in
 * use. Not thread-safe: set it before validating. */
int sl__utf8_isa(int want);

/* Formatting helpers for output and round trips. Return bytes written
 * (excluding NUL, which is written too); out must have room for 40 bytes.
 * Fractions print as 6 digits when non-zero. Values outside the supported
 * range are still printed (proleptic Gregorian, TIME wrapped into one day). */
size_t sl__fmt_date(int32_t days, char *out);          /* YYYY-MM-DD */
size_t sl__fmt_time(int64_t micros, char *out);        /* HH:MM:SS[.ffffff] */
size_t sl__fmt_datetime(int64_t micros, char *out);    /* YYYY-MM-DDTHH:MM:SS[.ffffff] */
size_t sl__fmt_timestamp(int64_t micros, char *out);   /* YYYY-MM-DDTHH:MM:SS[.ffffff]Z */
size_t sl__fmt_numeric(__int128 v, int scale, char *out); /* canonical decimal, needs 42 bytes;
                                                            scale clamped to 0..38 */

#endif
