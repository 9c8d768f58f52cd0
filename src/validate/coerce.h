/* coerce.h - BigQuery load coercions from text to typed values: pure functions,
 * no allocation, shared by the NDJSON and CSV paths. validate stage.
 * Each returns SL_OK or a negative code (-SL_EINVAL for a malformed value,
 * -SL_ELIMIT for a value out of the type's range); `why` (if non-NULL) is set to a
 * static human-readable reason. Input is the exact token/field text (for JSON
 * strings: the unescaped content). See ../shared/docs/BIGQUERY.md §2.3-2.4 and
 * docs/DECISIONS.md for the choices where the spec is unconfirmed. */
#ifndef SL_VALIDATE_COERCE_H
#define SL_VALIDATE_COERCE_H

#include "core/common.h"

/* INTEGER: optional '-', decimal digits without leading zeros ("0" itself ok);
 * exact-integer decimals and exponents such as "1.0", "1e3", "-2.50e1" are
 * accepted when the value is an integer in int64 (U2). Rejects '+', hex,
 * leading zeros, fractions, empty, spaces. */
SL_NODISCARD int sl__coerce_int64(const char *s, size_t n, int64_t *out, const char **why);

/* FLOAT: JSON-number grammar, plus "NaN", "Infinity", "-Infinity", "inf",
 * "+inf", "-inf" case-insensitively (U3). -0.0 is stored as 0.0. Decimal text
 * that overflows double is -SL_ELIMIT. Leading '+' accepted only on inf. */
SL_NODISCARD int sl__coerce_float64(const char *s, size_t n, double *out, const char **why);

/* BOOLEAN: true/false, t/f, yes/no, y/n, 1/0, case-insensitive. */
SL_NODISCARD int sl__coerce_bool(const char *s, size_t n, bool *out, const char **why);

/* NUMERIC with precision P and scale S (P=38,S=9 for the default column):
 * decimal text with optional '-', optional fraction, optional exponent.
 * Excess fraction digits are rounded half away from zero (or half even).
 * Result is value * 10^S as a 128-bit integer. Integer part too large -> -SL_ELIMIT. */
SL_NODISCARD int sl__coerce_numeric(const char *s, size_t n, int precision, int scale,
                                    bool half_even, __int128 *out, const char **why);

/* BIGNUMERIC (default P=76.76 i.e. 38 integer digits + 38 fraction digits, the
 * range ±5.7896044618658097711785492504343953926634992332820282019728792003956564819967E+38
 * with 38 fraction digits): writes the canonical decimal text (no exponent,
 * no trailing fraction zeros, "-0" -> "0") to out (cap >= 82 bytes) and its
 * length to out_len. precision/scale 0,0 = type default. */
SL_NODISCARD int sl__coerce_bignumeric(const char *s, size_t n, int precision, int scale,
                                       bool half_even, char *out, size_t cap,
                                       size_t *out_len, const char **why);

/* DATE "YYYY-[M]M-[D]D" (U8) in 0001-01-01..9999-12-31 -> days since 1970-01-01. */
SL_NODISCARD int sl__coerce_date(const char *s, size_t n, int32_t *out, const char **why);

/* TIME "[H]H:[M]M:[S]S[.F{1,6}]" -> microseconds since midnight. Seconds 60 is a
 * leap second read as :00 of the next minute; 24:00:00 is rejected. */
SL_NODISCARD int sl__coerce_time(const char *s, size_t n, int64_t *out, const char **why);

/* DATETIME "DATE( |T|t)TIME" without zone (U7: offsets and Z rejected) ->
 * microseconds since 1970-01-01T00:00:00 (no zone). Date alone is accepted too
 * (midnight), as in BigQuery's canonical DATETIME literal. */
SL_NODISCARD int sl__coerce_datetime(const char *s, size_t n, int64_t *out, const char **why);

/* TIMESTAMP text: date "YYYY-MM-DD" or "YYYY/MM/DD", separator ' ' or 'T'/'t',
 * time "HH:MM[:SS[.F{1,6}]]", optional zone: "Z"/"z", " UTC", or a numeric
 * offset {+|-}H[H][:M[M]] with or without a space before it. A quoted epoch
 * (decimal seconds, U5) is accepted too. Date alone = midnight UTC.
 * -> microseconds since the Unix epoch, UTC, within 0001-01-01..9999-12-31. */
SL_NODISCARD int sl__coerce_timestamp(const char *s, size_t n, int64_t *out, const char **why);

/* TIMESTAMP from a JSON number: epoch seconds with fraction (to microseconds,
 * rounded half away from zero at the 7th digit), exponent allowed. */
SL_NODISCARD int sl__coerce_epoch_seconds(const char *s, size_t n, int64_t *out, const char **why);

/* BYTES: standard base64 (RFC 4648 §4) with padding, no whitespace (U20).
 * Decodes into out (cap >= n/4*3) and sets out_len. */
SL_NODISCARD int sl__coerce_base64(const char *s, size_t n, uint8_t *out, size_t cap,
                                   size_t *out_len, const char **why);

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? Returns the
 * number of code points, or -1 if invalid. */
int64_t sl__utf8_count(const char *s, size_t n);

/* Formatting helpers for output and round trips. Return bytes written
 * (excluding NUL); out must have room for 40 bytes. */
size_t sl__fmt_date(int32_t days, char *out);          /* YYYY-MM-DD */
size_t sl__fmt_time(int64_t micros, char *out);        /* HH:MM:SS[.ffffff] */
size_t sl__fmt_datetime(int64_t micros, char *out);    /* YYYY-MM-DDTHH:MM:SS[.ffffff] */
size_t sl__fmt_timestamp(int64_t micros, char *out);   /* YYYY-MM-DDTHH:MM:SS[.ffffff]Z */
size_t sl__fmt_numeric(__int128 v, int scale, char *out); /* canonical decimal, needs 42 bytes */

#endif
