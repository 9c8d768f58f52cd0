/* test_coerce.c - table-driven unit tests for the BigQuery value coercions in
 * src/validate/coerce*.c but DATE, TIME, DATETIME and TIMESTAMP (test_coerce_time.c):
 * numbers, BOOL, BYTES (base64), UTF-8, the canonical text, very long inputs and
 * the contract. validate stage. Every input is copied into a buffer of exactly its
 * length (no NUL), so ASan catches any read past the span. */
#include "core/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "validate/coerce.h"

#include "../support/coercetest.h"

static const char *i128_str(__int128 v, char *buf)
{
    unsigned __int128 m = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    char tmp[48];
    size_t n = 0, o = 0;
    do {
        tmp[n++] = (char)('0' + (int)(m % 10u));
        m /= 10u;
    } while (m != 0);
    if (v < 0) {
        buf[o++] = '-';
    }
    while (n > 0) {
        buf[o++] = tmp[--n];
    }
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ INT64 */

struct i64_case {
    const char *in;
    int rc;
    int64_t want;
};

static const struct i64_case int64_cases[] = {
    {"0", OK, 0},
    {"-0", OK, 0},
    {"1", OK, 1},
    {"-1", OK, -1},
    {"123456789", OK, 123456789},
    {"9223372036854775807", OK, INT64_MAX},
    {"-9223372036854775808", OK, INT64_MIN},
    {"9223372036854775808", ELIM, 0},
    {"-9223372036854775809", ELIM, 0},
    {"9999999999999999999", ELIM, 0},
    {"18446744073709551616", ELIM, 0},
    {"99999999999999999999", ELIM, 0},
    {"1000000000000000000", OK, INT64_C(1000000000000000000)},
    /* fixtures: python-bigquery scalars*.jsonl, bigframes scalars.jsonl */
    {"-987654321", OK, -987654321},
    {"314159", OK, 314159},
    {"-234892", OK, -234892},
    {"55555", OK, 55555},
    {"101202303", OK, 101202303},
    {"-214748367", OK, -214748367},
    {"2", OK, 2},
    {"-2345", OK, -2345},
    {"31540000000000", OK, INT64_C(31540000000000)},
    {"432000000000", OK, INT64_C(432000000000)},
    {"-1000000", OK, -1000000},
    {"1735725600", OK, 1735725600},
    /* U2: exact-integer decimals and exponents */
    {"1.0", OK, 1},
    {"1e3", OK, 1000},
    {"1E3", OK, 1000},
    {"1e+3", OK, 1000},
    {"-2.50e1", OK, -25},
    {"100e-2", OK, 1},
    {"0.0", OK, 0},
    {"-0.0", OK, 0},
    {"0e5", OK, 0},
    {"0e999999999999999999999", OK, 0},
    {"0.5e1", OK, 5},
    {"123.000000000000000000000000000000", OK, 123},
    {"9.223372036854775807e18", OK, INT64_MAX},
    {"-9.223372036854775808e18", OK, INT64_MIN},
    {"92233720368547758070e-1", OK, INT64_MAX},
    {"9.223372036854775808e18", ELIM, 0},
    {"1e18", OK, INT64_C(1000000000000000000)},
    {"1e19", ELIM, 0},
    {"-1e19", ELIM, 0},
    {"1e999999999999999999999", ELIM, 0},
    {"12345678901234567890.5", ELIM, 0},
    {"1.5", EINV, 0},
    {"0.5", EINV, 0},
    {"-0.5", EINV, 0},
    {"1e-1", EINV, 0},
    {"1e-99999999999", EINV, 0},
    {"1.00000000000000000000000000001", EINV, 0},
    /* U2: rejected spellings */
    {"+5", EINV, 0},
    {"007", EINV, 0},
    {"00", EINV, 0},
    {"-01", EINV, 0},
    {"0x10", EINV, 0},
    {" 1", EINV, 0},
    {"1 ", EINV, 0},
    {"", EINV, 0},
    {"-", EINV, 0},
    {"--1", EINV, 0},
    {"1.", EINV, 0},
    {".5", EINV, 0},
    {"1e", EINV, 0},
    {"1e+", EINV, 0},
    {"1_000", EINV, 0},
    {"1,000", EINV, 0},
    {"NaN", EINV, 0},
    {"Infinity", EINV, 0},
    {"true", EINV, 0},
    {"\xd9\xa1", EINV, 0}, /* ARABIC-INDIC DIGIT ONE */
};

static void test_int64_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(int64_cases); i++) {
        const struct i64_case *c = &int64_cases[i];
        size_t n = strlen(c->in);
        char *p = exact(c->in, n);
        int64_t v = 0;
        const char *why = NULL;
        int rc = sl__coerce_int64(p, n, &v, &why);
        free(p);
        if (rc != c->rc) {
            MISMATCH(bad, i, c->in, "rc %d, want %d", rc, c->rc);
        } else if (rc == OK && v != c->want) {
            MISMATCH(bad, i, c->in, "value %lld, want %lld", (long long)v,
                     (long long)c->want);
        } else if (rc != OK && why == NULL) {
            MISMATCH(bad, i, c->in, "why not set (rc %d)", rc);
        }
    }
    assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------- FLOAT64 */

enum { F_NUM, F_NAN };

struct f64_case {
    const char *in;
    int rc;
    double want;
    int kind;
};

static const struct f64_case float64_cases[] = {
    {"1.25", OK, 1.25, F_NUM},
    {"2.51", OK, 2.51, F_NUM},
    {"2.5e10", OK, 2.5e10, F_NUM},
    {"555.555", OK, 555.555, F_NUM},
    {"-123.456", OK, -123.456, F_NUM},
    {"42.42", OK, 42.42, F_NUM},
    {"6.87", OK, 6.87, F_NUM},
    {"0", OK, 0.0, F_NUM},
    {"0.0", OK, 0.0, F_NUM},
    {"-0", OK, 0.0, F_NUM},
    {"-0.0", OK, 0.0, F_NUM},
    {"-0e10", OK, 0.0, F_NUM},
    {"1", OK, 1.0, F_NUM},
    {"-1", OK, -1.0, F_NUM},
    {"1.5E+3", OK, 1500.0, F_NUM},
    {"1.5e-3", OK, 0.0015, F_NUM},
    {"0.1", OK, 0.1, F_NUM},
    {"9007199254740993", OK, 9007199254740992.0, F_NUM},
    {"123456789012345678901234567890", OK, 123456789012345678901234567890.0,
     F_NUM},
    {"1e308", OK, 1e308, F_NUM},
    {"1.7976931348623157e308", OK, DBL_MAX, F_NUM},
    {"-1.7976931348623157e308", OK, -DBL_MAX, F_NUM},
    {"4.9e-324", OK, 4.9e-324, F_NUM},
    {"2.2250738585072014e-308", OK, DBL_MIN, F_NUM},
    {"1e-400", OK, 0.0, F_NUM},
    {"-1e-400", OK, 0.0, F_NUM},
    {"1e309", ELIM, 0, F_NUM},
    {"-1e309", ELIM, 0, F_NUM},
    {"1.7976931348623159e308", ELIM, 0, F_NUM},
    {"1e99999999999999999999999", ELIM, 0, F_NUM},
    {"1e-99999999999999999999999", OK, 0.0, F_NUM},
    /* U3: special values, case-insensitive */
    {"NaN", OK, 0, F_NAN},
    {"nan", OK, 0, F_NAN},
    {"NAN", OK, 0, F_NAN},
    {"Infinity", OK, INFINITY, F_NUM},
    {"-Infinity", OK, -INFINITY, F_NUM},
    {"+Infinity", OK, INFINITY, F_NUM},
    {"infinity", OK, INFINITY, F_NUM},
    {"inf", OK, INFINITY, F_NUM},
    {"INF", OK, INFINITY, F_NUM},
    {"+inf", OK, INFINITY, F_NUM},
    {"-inf", OK, -INFINITY, F_NUM},
    {"-Inf", OK, -INFINITY, F_NUM},
    /* rejected */
    {"+nan", EINV, 0, F_NUM},
    {"-nan", EINV, 0, F_NUM},
    {"nan(1)", EINV, 0, F_NUM},
    {"infinit", EINV, 0, F_NUM},
    {"in", EINV, 0, F_NUM},
    {"inf ", EINV, 0, F_NUM},
    {"++inf", EINV, 0, F_NUM},
    {"+1", EINV, 0, F_NUM},
    {"+1.5", EINV, 0, F_NUM},
    {"1.", EINV, 0, F_NUM},
    {".5", EINV, 0, F_NUM},
    {"01", EINV, 0, F_NUM},
    {"-01.5", EINV, 0, F_NUM},
    {"0x1p3", EINV, 0, F_NUM},
    {"0x10", EINV, 0, F_NUM},
    {"1,5", EINV, 0, F_NUM},
    {" 1", EINV, 0, F_NUM},
    {"1 ", EINV, 0, F_NUM},
    {"", EINV, 0, F_NUM},
    {"-", EINV, 0, F_NUM},
    {"e5", EINV, 0, F_NUM},
    {"1e", EINV, 0, F_NUM},
    {"1e5.5", EINV, 0, F_NUM},
    {"1d", EINV, 0, F_NUM},
    {"1f", EINV, 0, F_NUM},
    {"PrivacySuppressed", EINV, 0, F_NUM},
};

static void test_float64_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(float64_cases); i++) {
        const struct f64_case *c = &float64_cases[i];
        size_t n = strlen(c->in);
        char *p = exact(c->in, n);
        double v = 12345.0;
        const char *why = NULL;
        int rc = sl__coerce_float64(p, n, &v, &why);
        free(p);
        if (rc != c->rc) {
            MISMATCH(bad, i, c->in, "rc %d, want %d", rc, c->rc);
        } else if (rc == OK && c->kind == F_NAN && !isnan(v)) {
            MISMATCH(bad, i, c->in, "value %.17g, want NaN", v);
        } else if (rc == OK && c->kind == F_NUM &&
                   (v != c->want || signbit(v) != signbit(c->want))) {
            MISMATCH(bad, i, c->in, "value %.17g, want %.17g", v, c->want);
        } else if (rc != OK && why == NULL) {
            MISMATCH(bad, i, c->in, "why not set (rc %d)", rc);
        }
    }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------- BOOL */

struct bool_case {
    const char *in;
    int rc;
    bool want;
};

static const struct bool_case bool_cases[] = {
    {"true", OK, true},      {"TRUE", OK, true},     {"True", OK, true},
    {"tRuE", OK, true},      {"t", OK, true},        {"T", OK, true},
    {"yes", OK, true},       {"YES", OK, true},      {"Yes", OK, true},
    {"y", OK, true},         {"Y", OK, true},        {"1", OK, true},
    {"false", OK, false},    {"FALSE", OK, false},   {"False", OK, false},
    {"f", OK, false},        {"F", OK, false},       {"no", OK, false},
    {"NO", OK, false},       {"No", OK, false},      {"n", OK, false},
    {"N", OK, false},        {"0", OK, false},       {"", EINV, false},
    {"tru", EINV, false},    {"truee", EINV, false}, {"fals", EINV, false},
    {"falsee", EINV, false}, {"2", EINV, false},     {"-1", EINV, false},
    {"10", EINV, false},     {"01", EINV, false},    {"1.0", EINV, false},
    {"on", EINV, false},     {"off", EINV, false},   {" true", EINV, false},
    {"true ", EINV, false},  {"yess", EINV, false},  {"nope", EINV, false},
    {"null", EINV, false},
};

static void test_bool_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(bool_cases); i++) {
        const struct bool_case *c = &bool_cases[i];
        size_t n = strlen(c->in);
        char *p = exact(c->in, n);
        bool v = !c->want;
        const char *why = NULL;
        int rc = sl__coerce_bool(p, n, &v, &why);
        free(p);
        if (rc != c->rc) {
            MISMATCH(bad, i, c->in, "rc %d, want %d", rc, c->rc);
        } else if (rc == OK && v != c->want) {
            MISMATCH(bad, i, c->in, "value %d, want %d", (int)v, (int)c->want);
        } else if (rc != OK && why == NULL) {
            MISMATCH(bad, i, c->in, "why not set (rc %d)", rc);
        }
    }
    assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------- NUMERIC */

struct num_case {
    const char *in;
    int p, s;       /* 0,0 = default NUMERIC(38,9) */
    bool half_even; /* rounding mode */
    int rc;
    const char *want; /* value * 10^s as a decimal integer */
};

#define N38_9 "99999999999999999999999999999999999999"

static const struct num_case numeric_cases[] = {
    {"0", 0, 0, false, OK, "0"},
    {"0.0", 0, 0, false, OK, "0"},
    {"-0", 0, 0, false, OK, "0"},
    {"-0.000", 0, 0, false, OK, "0"},
    {"1", 0, 0, false, OK, "1000000000"},
    {"-1", 0, 0, false, OK, "-1000000000"},
    /* fixtures */
    {"1.23456789", 0, 0, false, OK, "1234567890"},
    {"101.1010101", 0, 0, false, OK, "101101010100"},
    {"5.555555", 0, 0, false, OK, "5555555000"},
    {"-10.090807", 0, 0, false, OK, "-10090807000"},
    {"11111111.1", 0, 0, false, OK, "11111111100000000"},
    {"0.000000001", 0, 0, false, OK, "1"},
    {"9.9999999999999999999999999999999999999E+28", 0, 0, false, OK, N38_9},
    {"-9.9999999999999999999999999999999999999E+28", 0, 0, false, OK,
     "-" N38_9},
    /* BIGQUERY.md 2.8 */
    {"12.30", 0, 0, false, OK, "12300000000"},
    {"1e29", 0, 0, false, ELIM, NULL},
    {"0.1234567891", 0, 0, false, OK, "123456789"},
    /* 2.3 note: 10^29 fails, 10^29 - 0.001 passes */
    {"100000000000000000000000000000", 0, 0, false, ELIM, NULL},
    {"99999999999999999999999999999.999", 0, 0, false, OK,
     "99999999999999999999999999999999000000"},
    {"99999999999999999999999999999.999999999", 0, 0, false, OK, N38_9},
    {"-99999999999999999999999999999.999999999", 0, 0, false, OK, "-" N38_9},
    {"99999999999999999999999999999.9999999994", 0, 0, false, OK, N38_9},
    {"99999999999999999999999999999.9999999995", 0, 0, false, ELIM, NULL},
    {"-99999999999999999999999999999.9999999995", 0, 0, false, ELIM, NULL},
    {"-1e29", 0, 0, false, ELIM, NULL},
    {"1e9999999999999999999", 0, 0, false, ELIM, NULL},
    /* U4: rounding half away from zero to scale 9 */
    {"0.1234567895", 0, 0, false, OK, "123456790"},
    {"-0.1234567895", 0, 0, false, OK, "-123456790"},
    {"0.12345678949999", 0, 0, false, OK, "123456789"},
    {"0.0000000005", 0, 0, false, OK, "1"},
    {"-0.0000000005", 0, 0, false, OK, "-1"},
    {"0.00000000049", 0, 0, false, OK, "0"},
    {"-0.00000000049", 0, 0, false, OK, "0"},
    {"0.9999999999", 0, 0, false, OK, "1000000000"},
    {"1E-10", 0, 0, false, OK, "0"},
    {"5E-10", 0, 0, false, OK, "1"},
    {"1e-9999999999999999999", 0, 0, false, OK, "0"},
    /* half even */
    {"0.0000000005", 0, 0, true, OK, "0"},
    {"0.0000000015", 0, 0, true, OK, "2"},
    {"0.0000000025", 0, 0, true, OK, "2"},
    {"0.00000000250", 0, 0, true, OK, "2"},
    {"0.000000002500001", 0, 0, true, OK, "3"},
    {"-0.0000000015", 0, 0, true, OK, "-2"},
    {"0.0000000014", 0, 0, true, OK, "1"},
    {"0.0000000016", 0, 0, true, OK, "2"},
    /* exponents */
    {"1.5e3", 0, 0, false, OK, "1500000000000"},
    {"1.5E+3", 0, 0, false, OK, "1500000000000"},
    {"-2.5e-3", 0, 0, false, OK, "-2500000"},
    {"12345e-4", 0, 0, false, OK, "1234500000"},
    /* lenient text grammar (docs/COERCIONS.md) */
    {"+1.5", 0, 0, false, OK, "1500000000"},
    {"007", 0, 0, false, OK, "7000000000"},
    {".5", 0, 0, false, OK, "500000000"},
    {"5.", 0, 0, false, OK, "5000000000"},
    {"-.5", 0, 0, false, OK, "-500000000"},
    /* malformed */
    {"", 0, 0, false, EINV, NULL},
    {".", 0, 0, false, EINV, NULL},
    {"-", 0, 0, false, EINV, NULL},
    {"+", 0, 0, false, EINV, NULL},
    {"e5", 0, 0, false, EINV, NULL},
    {".e5", 0, 0, false, EINV, NULL},
    {"1e", 0, 0, false, EINV, NULL},
    {"1e+", 0, 0, false, EINV, NULL},
    {"abc", 0, 0, false, EINV, NULL},
    {"NaN", 0, 0, false, EINV, NULL},
    {"Infinity", 0, 0, false, EINV, NULL},
    {"1,5", 0, 0, false, EINV, NULL},
    {" 1", 0, 0, false, EINV, NULL},
    {"1 ", 0, 0, false, EINV, NULL},
    {"--1", 0, 0, false, EINV, NULL},
    {"+-1", 0, 0, false, EINV, NULL},
    {"0x10", 0, 0, false, EINV, NULL},
    {"1.2.3", 0, 0, false, EINV, NULL},
    /* parameterised: BIGQUERY.md 1.7 */
    {"1.125", 5, 2, false, OK, "113"},
    {"1.025", 5, 2, true, OK, "102"},
    {"1.035", 5, 2, true, OK, "104"},
    {"1111", 5, 2, false, ELIM, NULL},
    {"999.99", 5, 2, false, OK, "99999"},
    {"-999.99", 5, 2, false, OK, "-99999"},
    {"999.994", 5, 2, false, OK, "99999"},
    {"999.995", 5, 2, false, ELIM, NULL},
    {"123.456", 5, 2, false, OK, "12346"},
    {"999", 3, 0, false, OK, "999"},
    {"1000", 3, 0, false, ELIM, NULL},
    {"0.5", 3, 0, false, OK, "1"},
    {"2.5", 3, 0, true, OK, "2"},
    {"0.9", 1, 1, false, OK, "9"},
    {"1", 1, 1, false, ELIM, NULL},
    {"99999999999999999999999999999", 29, 0, false, OK,
     "99999999999999999999999999999"},
    {"1e29", 29, 0, false, ELIM, NULL},
    {"0.123456789", 9, 9, false, OK, "123456789"},
    {"38", 38, 9, false, OK, "38000000000"},
    /* invalid parameters */
    {"1", 39, 9, false, EINV, NULL},
    {"1", 10, 10, false, EINV, NULL},
    {"1", 5, 6, false, EINV, NULL},
    {"1", -1, 0, false, EINV, NULL},
    {"1", 30, 0, false, EINV, NULL},
    {"1", 0, 2, false, EINV, NULL},
};

static void test_numeric_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(numeric_cases); i++) {
        const struct num_case *c = &numeric_cases[i];
        size_t n = strlen(c->in);
        char *p = exact(c->in, n);
        __int128 v = 0;
        char got[48];
        const char *why = NULL;
        int rc = sl__coerce_numeric(p, n, c->p, c->s, c->half_even, &v, &why);
        free(p);
        if (rc != c->rc) {
            MISMATCH(bad, i, c->in, "rc %d, want %d (P=%d S=%d)", rc, c->rc,
                     c->p, c->s);
        } else if (rc == OK && strcmp(i128_str(v, got), c->want) != 0) {
            MISMATCH(bad, i, c->in, "value %s, want %s", got, c->want);
        } else if (rc != OK && why == NULL) {
            MISMATCH(bad, i, c->in, "why not set (rc %d)", rc);
        }
    }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------- BIGNUMERIC */

struct bignum_case {
    const char *in;
    int p, s; /* 0,0 = default */
    bool half_even;
    int rc;
    const char *want; /* canonical text */
};

#define B9_38  "99999999999999999999999999999999999999"
#define BMAX_I "578960446186580977117854925043439539266"
#define BMAX_F "34992332820282019728792003956564819967"
#define BMIN_F "34992332820282019728792003956564819968"

static const struct bignum_case bignumeric_cases[] = {
    {"0", 0, 0, false, OK, "0"},
    {"0.0", 0, 0, false, OK, "0"},
    {"-0", 0, 0, false, OK, "0"},
    {"-0.00", 0, 0, false, OK, "0"},
    {"1.50", 0, 0, false, OK, "1.5"},
    {"100", 0, 0, false, OK, "100"},
    {"1e2", 0, 0, false, OK, "100"},
    {"1.5e-3", 0, 0, false, OK, "0.0015"},
    {"-1.5e-3", 0, 0, false, OK, "-0.0015"},
    {"+7.0", 0, 0, false, OK, "7"},
    {"007.50", 0, 0, false, OK, "7.5"},
    {".5", 0, 0, false, OK, "0.5"},
    /* fixtures */
    {"10.111213141516171819", 0, 0, false, OK, "10.111213141516171819"},
    {"9.999999999999999999999999999999999999999999999999999999999999999999999"
     "999999E+37",
     0, 0, false, OK, B9_38 "." B9_38},
    {"-9.999999999999999999999999999999999999999999999999999999999999999999999"
     "999999E+37",
     0, 0, false, OK, "-" B9_38 "." B9_38},
    {"-0.00000000000000000000000000000000000001", 0, 0, false, OK,
     "-0.00000000000000000000000000000000000001"},
    /* rounding at 38 fraction digits (U4) */
    {"0.000000000000000000000000000000000000005", 0, 0, false, OK,
     "0.00000000000000000000000000000000000001"},
    {"-0.000000000000000000000000000000000000005", 0, 0, false, OK,
     "-0.00000000000000000000000000000000000001"},
    {"0.000000000000000000000000000000000000005", 0, 0, true, OK, "0"},
    {"0.000000000000000000000000000000000000004", 0, 0, false, OK, "0"},
    {"-0.000000000000000000000000000000000000004", 0, 0, false, OK, "0"},
    {"0.999999999999999999999999999999999999995", 0, 0, false, OK, "1"},
    /* range: +-(2^255 - 1) / 10^38, and -2^255 / 10^38 */
    {BMAX_I "." BMAX_F, 0, 0, false, OK, BMAX_I "." BMAX_F},
    {"5.7896044618658097711785492504343953926634992332820282019728792003956564"
     "819967E+38",
     0, 0, false, OK, BMAX_I "." BMAX_F},
    {"-" BMAX_I "." BMIN_F, 0, 0, false, OK, "-" BMAX_I "." BMIN_F},
    {"-5.7896044618658097711785492504343953926634992332820282019728792003956564"
     "819968E+38",
     0, 0, false, OK, "-" BMAX_I "." BMIN_F},
    {BMAX_I "." BMIN_F, 0, 0, false, ELIM, NULL},
    {"-" BMAX_I ".34992332820282019728792003956564819969", 0, 0, false, ELIM,
     NULL},
    {BMAX_I "." BMAX_F "5", 0, 0, false, ELIM, NULL}, /* rounds up past max */
    {BMAX_I "." BMAX_F "4", 0, 0, false, OK, BMAX_I "." BMAX_F},
    {"578960446186580977117854925043439539267", 0, 0, false, ELIM, NULL},
    {"1e39", 0, 0, false, ELIM, NULL},
    {"1e38", 0, 0, false, OK, "100000000000000000000000000000000000000"},
    {"5.8e38", 0, 0, false, ELIM, NULL},
    {"-5.8e38", 0, 0, false, ELIM, NULL},
    {"9" B9_38 B9_38 ".5", 0, 0, false, ELIM, NULL},
    /* malformed */
    {"", 0, 0, false, EINV, NULL},
    {"abc", 0, 0, false, EINV, NULL},
    {"1e", 0, 0, false, EINV, NULL},
    {"NaN", 0, 0, false, EINV, NULL},
    {"Infinity", 0, 0, false, EINV, NULL},
    {" 1", 0, 0, false, EINV, NULL},
    /* parameterised */
    {"12345678.901", 10, 2, false, OK, "12345678.9"},
    {"123456789", 10, 2, false, ELIM, NULL},
    {"1.025", 5, 2, true, OK, "1.02"},
    {"1.025", 5, 2, false, OK, "1.03"},
    {"-1.025", 5, 2, false, OK, "-1.03"},
    {"1e38", 76, 38, false, ELIM, NULL},
    {B9_38 "." B9_38, 76, 38, false, OK, B9_38 "." B9_38},
    {B9_38, 38, 0, false, OK, B9_38},
    {"1e38", 38, 0, false, ELIM, NULL},
    {"0.5", 38, 0, false, OK, "1"},
    {"0.05", 1, 1, false, OK, "0.1"},
    /* invalid parameters */
    {"1", 77, 38, false, EINV, NULL},
    {"1", 39, 0, false, EINV, NULL},
    {"1", 40, 39, false, EINV, NULL},
    {"1", 5, 6, false, EINV, NULL},
    {"1", 0, 3, false, EINV, NULL},
};

static void test_bignumeric_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(bignumeric_cases); i++) {
        const struct bignum_case *c = &bignumeric_cases[i];
        size_t n = strlen(c->in);
        char *p = exact(c->in, n);
        char out[82];
        size_t len = 0;
        const char *why = NULL;
        int rc = sl__coerce_bignumeric(p, n, c->p, c->s, c->half_even, out,
                                       sizeof(out), &len, &why);
        free(p);
        if (rc != c->rc) {
            MISMATCH(bad, i, c->in, "rc %d, want %d (P=%d S=%d)", rc, c->rc,
                     c->p, c->s);
        } else if (rc == OK &&
                   (len != strlen(c->want) || memcmp(out, c->want, len) != 0)) {
            MISMATCH(bad, i, c->in, "value %.*s, want %s", (int)len, out,
                     c->want);
        } else if (rc != OK && why == NULL) {
            MISMATCH(bad, i, c->in, "why not set (rc %d)", rc);
        }
    }
    assert_int_equal(bad, 0);
}

static void test_bignumeric_small_buffer(void **state)
{
    char out[4];
    size_t len = 0;
    const char *why = NULL;
    (void)state;
    assert_int_equal(
        sl__coerce_bignumeric("-1.5", 4, 0, 0, false, out, 4, &len, &why), OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "-1.5", 4);
    assert_int_equal(
        sl__coerce_bignumeric("-12.5", 5, 0, 0, false, out, 4, &len, &why),
        ELIM);
    assert_non_null(why);
}

/* ----------------------------------------------------------------- BASE64 */

struct b64_case {
    const char *in;
    int rc;
    const char *want; /* decoded bytes */
    size_t want_len;
};

#define B(s) s, sizeof(s) - 1

static const struct b64_case base64_cases[] = {
    {"", OK, B("")},
    {"SGVsbG8sIFdvcmxkIQ==", OK, B("Hello, World!")},
    /* scalars_extreme.jsonl: base64.encodebytes() output, trailing LF */
    {"DQo=\n", OK, B("\r\n")},
    {"8J+Zgw==\n", OK, B("\xf0\x9f\x99\x83")},
    {"AA==\n", OK, "\0", 1},
    {"44GT44KT44Gr44Gh44Gv", OK,
     B("\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf")},
    {"wqFIb2xhIE11bmRvIQ==", OK, B("\xc2\xa1Hola Mundo!")},
    {"R8O8dGVuIFRhZw==", OK, B("G\xc3\xbcten Tag")},
    {"SGVsbG8JQmlnRnJhbWVzIQc=", OK, B("Hello\tBigFrames!\a")},
    {"Zm9v", OK, B("foo")},
    {"Zm8=", OK, B("fo")},
    {"Zg==", OK, B("f")},
    {"Zm9vYmFy", OK, B("foobar")},
    {"Zm9v\r\n", OK, B("foo")},
    {"Zm9v\nYmFy\n", OK, B("foobar")},
    {"Zm9v\r\nYmE=\r\n", OK, B("fooba")},
    {"+/+/", OK, B("\xfb\xff\xbf")},
    {"////", OK, B("\xff\xff\xff")},
    {"Zh==", OK, B("f")}, /* non-zero pad bits are ignored */
    /* U20: rejected */
    {"Zg", EINV, NULL, 0},
    {"Zg=", EINV, NULL, 0},
    {"Zm9", EINV, NULL, 0},
    {"Z", EINV, NULL, 0},
    {"Zm9v ", EINV, NULL, 0},
    {" Zm9v", EINV, NULL, 0},
    {"Zm 9v", EINV, NULL, 0},
    {"Zm9v\t", EINV, NULL, 0},
    {"-_-_", EINV, NULL, 0},
    {"Zm9v_w==", EINV, NULL, 0},
    {"Zg==Zg==", EINV, NULL, 0},
    {"Zg==\nZg==", EINV, NULL, 0},
    {"Z===", EINV, NULL, 0},
    {"====", EINV, NULL, 0},
    {"Zg=a", EINV, NULL, 0},
    {"Zm9v=", EINV, NULL, 0},
    {"Zm9v====", EINV, NULL, 0},
    {"Zg==\n=", EINV, NULL, 0},
    {"Zm9v\x80", EINV, NULL, 0},
};

static void test_base64_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(base64_cases); i++) {
        const struct b64_case *c = &base64_cases[i];
        size_t n = strlen(c->in);
        char *p = exact(c->in, n);
        size_t cap = n / 4 * 3;
        uint8_t *out = malloc(cap ? cap : 1);
        size_t len = 12345;
        const char *why = NULL;
        int rc;
        assert_non_null(out);
        rc = sl__coerce_base64(p, n, out, cap, &len, &why);
        free(p);
        if (rc != c->rc) {
            MISMATCH(bad, i, c->in, "rc %d, want %d", rc, c->rc);
        } else if (rc == OK &&
                   (len != c->want_len || memcmp(out, c->want, len) != 0)) {
            MISMATCH(bad, i, c->in, "len %zu, want %zu (or bytes differ)", len,
                     c->want_len);
        } else if (rc != OK && why == NULL) {
            MISMATCH(bad, i, c->in, "why not set (rc %d)", rc);
        }
        free(out);
    }
    assert_int_equal(bad, 0);
}

static void test_base64_small_buffer(void **state)
{
    uint8_t out[2];
    size_t len = 0;
    const char *why = NULL;
    (void)state;
    assert_int_equal(sl__coerce_base64("Zm8=", 4, out, 2, &len, &why), OK);
    assert_int_equal(len, 2);
    assert_int_equal(sl__coerce_base64("Zm9v", 4, out, 2, &len, &why), ELIM);
    assert_non_null(why);
}

/* ------------------------------------------------------------------ UTF-8 */

struct utf8_case {
    const char *in;
    size_t len;
    int64_t want;
};

static const struct utf8_case utf8_cases[] = {
    {B(""), 0},
    {B("abc"), 3},
    {B("Hello, World"), 12},
    {B("\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"), 5},
    {B(" \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85"), 5},
    {B("G\xc3\xbcten Tag!"), 10},
    {B("  \xc2\xa1Hola Mundo!  "), 16},
    {B("abcdefghijklmnop\xc3\xa9"), 17},
    {B("12345678\xc3\xa9"
       "12345678"),
     17},
    {B("a\0b"), 3},
    {B("\x7f"), 1},
    {B("\xc2\x80"), 1},                  /* U+0080 */
    {B("\xdf\xbf"), 1},                  /* U+07FF */
    {B("\xe0\xa0\x80"), 1},              /* U+0800 */
    {B("\xed\x9f\xbf"), 1},              /* U+D7FF */
    {B("\xee\x80\x80"), 1},              /* U+E000 */
    {B("\xef\xbf\xbf"), 1},              /* U+FFFF */
    {B("\xf0\x90\x80\x80"), 1},          /* U+10000 */
    {B("\xf0\x9f\x98\x80"), 1},          /* U+1F600 */
    {B("\xf4\x8f\xbf\xbf"), 1},          /* U+10FFFF */
    {B("\xf4\x90\x80\x80"), -1},         /* U+110000 */
    {B("\xc0\x80"), -1},                 /* overlong NUL */
    {B("\xc1\xbf"), -1},                 /* overlong */
    {B("\xe0\x80\x80"), -1},             /* overlong */
    {B("\xe0\x9f\xbf"), -1},             /* overlong U+07FF */
    {B("\xf0\x80\x80\x80"), -1},         /* overlong */
    {B("\xf0\x8f\xbf\xbf"), -1},         /* overlong U+FFFF */
    {B("\xed\xa0\x80"), -1},             /* U+D800 surrogate */
    {B("\xed\xbf\xbf"), -1},             /* U+DFFF surrogate */
    {B("\xed\xa0\xbd\xed\xb8\x80"), -1}, /* CESU-8 pair */
    {B("\xf5\x80\x80\x80"), -1},
    {B("\xf8\x88\x80\x80\x80"), -1},
    {B("\xfe"), -1},
    {B("\xff"), -1},
    {B("\x80"), -1}, /* lone continuation */
    {B("a\xbf"), -1},
    {B("\xc3"), -1}, /* truncated */
    {B("\xe3\x81"), -1},
    {B("\xf0\x9f\x98"), -1},
    {B("\xc3\x28"), -1}, /* bad continuation */
    {B("\xe3\x28\x81"), -1},
    {B("\xe3\x81\x28"), -1},
    {B("\xf0\x9f\x28\x80"), -1},
    {B("\xf0\x9f\x98\x28"), -1},
    {B("abcdefgh\xff"), -1},
    {B("abcdefgh\xc3"), -1},
};

static void test_utf8_table(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(utf8_cases); i++) {
        const struct utf8_case *c = &utf8_cases[i];
        char *p = exact(c->in, c->len);
        int64_t got = sl__utf8_count(p, c->len);
        free(p);
        if (got != c->want) {
            print_error("row %zu (len %zu): count %lld, want %lld\n", i, c->len,
                        (long long)got, (long long)c->want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Every byte split of a multi-byte text is invalid unless it falls between
 * characters, whatever the alignment of the 8-byte fast path. */
static void test_utf8_prefixes(void **state)
{
    static const char text[] = "ab\xc3\xa9xyz\xe2\x82\xac"
                               "0123456789"
                               "\xf0\x9f\x98\x80!";
    static const int64_t want[] = {0,  1,  2,  -1, 3,  4,  5,  6,  -1,
                                   -1, 7,  8,  9,  10, 11, 12, 13, 14,
                                   15, 16, 17, -1, -1, -1, 18, 19};
    size_t n = sizeof(text) - 1;
    (void)state;
    assert_int_equal(SL_ARRAY_LEN(want), n + 1);
    for (size_t k = 0; k <= n; k++) {
        char *p = exact(text, k);
        int64_t got = sl__utf8_count(p, k);
        free(p);
        if (got != want[k]) {
            print_error("prefix %zu: count %lld, want %lld\n", k,
                        (long long)got, (long long)want[k]);
        }
        assert_int_equal(got, want[k]);
    }
}

/* Every case of the table behind 0..40 ASCII bytes and before 0..20 more: the
 * same answer (plus the ASCII) wherever the 16- and 8-byte steps fall. */
static void test_utf8_offsets(void **state)
{
    (void)state;
    char buf[128];
    for (size_t i = 0; i < SL_ARRAY_LEN(utf8_cases); i++) {
        const struct utf8_case *c = &utf8_cases[i];
        for (size_t pre = 0; pre <= 40; pre++) {
            for (size_t suf = 0; suf <= 20; suf += 5) {
                memset(buf, 'a', pre);
                memcpy(buf + pre, c->in, c->len);
                memset(buf + pre + c->len, 'z', suf);
                size_t n = pre + c->len + suf;
                char *p = exact(buf, n);
                int64_t got = sl__utf8_count(p, n);
                free(p);
                int64_t want = c->want < 0 ? -1 : c->want + (int64_t)(pre + suf);
                if (got != want) {
                    print_error("row %zu after %zu and before %zu ASCII bytes: %lld, want %lld\n",
                                i, pre, suf, (long long)got, (long long)want);
                }
                assert_int_equal(got, want);
            }
        }
    }
}

/* ------------------------------------------------------------- formatting */

struct fmt_case {
    int64_t v;
    const char *want;
};

static const struct fmt_case fmt_date_cases[] = {
    {0, "1970-01-01"},       {-1, "1969-12-31"},     {-719162, "0001-01-01"},
    {2932896, "9999-12-31"}, {11016, "2000-02-29"},  {11017, "2000-03-01"},
    {19782, "2024-02-29"},   {-25567, "1900-01-01"}, {-135081, "1600-02-29"},
    {-718008, "0004-02-29"}, {18829, "2021-07-21"},  {20088, "2024-12-31"},
};

static const struct fmt_case fmt_time_cases[] = {
    {0, "00:00:00"},
    {1, "00:00:00.000001"},
    {INT64_C(86399999999), "23:59:59.999999"},
    {INT64_C(45000000000), "12:30:00"},
    {INT64_C(42103076160), "11:41:43.076160"},
    {INT64_C(3723500000), "01:02:03.500000"},
};

static const struct fmt_case fmt_datetime_cases[] = {
    {0, "1970-01-01T00:00:00"},
    {-1, "1969-12-31T23:59:59.999999"},
    {INT64_C(253402300799999999), "9999-12-31T23:59:59.999999"},
    {INT64_C(-62135596800000000), "0001-01-01T00:00:00"},
    {INT64_C(1626867585000000), "2021-07-21T11:39:45"},
    {INT64_C(1534680695220000), "2018-08-19T12:11:35.220000"},
};

static void test_fmt_tables(void **state)
{
    char out[64];
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(fmt_date_cases); i++) {
        const struct fmt_case *c = &fmt_date_cases[i];
        size_t n = sl__fmt_date((int32_t)c->v, out);
        if (n != strlen(c->want) || strcmp(out, c->want) != 0) {
            print_error("fmt_date(%lld) = \"%s\", want \"%s\"\n",
                        (long long)c->v, out, c->want);
            bad++;
        }
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(fmt_time_cases); i++) {
        const struct fmt_case *c = &fmt_time_cases[i];
        size_t n = sl__fmt_time(c->v, out);
        if (n != strlen(c->want) || strcmp(out, c->want) != 0) {
            print_error("fmt_time(%lld) = \"%s\", want \"%s\"\n",
                        (long long)c->v, out, c->want);
            bad++;
        }
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(fmt_datetime_cases); i++) {
        const struct fmt_case *c = &fmt_datetime_cases[i];
        char want[64];
        size_t n = sl__fmt_datetime(c->v, out);
        if (n != strlen(c->want) || strcmp(out, c->want) != 0) {
            print_error("fmt_datetime(%lld) = \"%s\", want \"%s\"\n",
                        (long long)c->v, out, c->want);
            bad++;
        }
        snprintf(want, sizeof(want), "%sZ", c->want);
        n = sl__fmt_timestamp(c->v, out);
        if (n != strlen(want) || strcmp(out, want) != 0) {
            print_error("fmt_timestamp(%lld) = \"%s\", want \"%s\"\n",
                        (long long)c->v, out, want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static __int128 i128_from_str(const char *s)
{
    bool neg = *s == '-';
    __int128 v = 0;
    for (s += neg; *s != '\0'; s++) {
        v = v * 10 + (*s - '0');
    }
    return neg ? -v : v;
}

struct fmt_num_case {
    const char *scaled; /* the scaled integer, decimal */
    int scale;
    const char *want;
};

static const struct fmt_num_case fmt_numeric_cases[] = {
    {"0", 9, "0"},
    {"1", 9, "0.000000001"},
    {"-1", 9, "-0.000000001"},
    {"1234567890", 9, "1.23456789"},
    {"-10090807000", 9, "-10.090807"},
    {N38_9, 9, "99999999999999999999999999999.999999999"},
    {"-" N38_9, 9, "-99999999999999999999999999999.999999999"},
    {"123", 0, "123"},
    {"100", 2, "1"},
    {"-5", 1, "-0.5"},
    {"12300000000", 9, "12.3"},
    {"1", 38, "0.00000000000000000000000000000000000001"},
};

static void test_fmt_numeric(void **state)
{
    char out[64];
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(fmt_numeric_cases); i++) {
        const struct fmt_num_case *c = &fmt_numeric_cases[i];
        __int128 v = i128_from_str(c->scaled);
        size_t n = sl__fmt_numeric(v, c->scale, out);
        if (n != strlen(c->want) || strcmp(out, c->want) != 0) {
            print_error("fmt_numeric(%s, %d) = \"%s\", want \"%s\"\n",
                        c->scaled, c->scale, out, c->want);
            bad++;
        }
    }
    {
        /* int128 extremes; the 42-byte bound in the header. */
        __int128 mx = (__int128)(((unsigned __int128)1 << 127) - 1);
        __int128 mn = -mx - 1;
        char big[42];
        assert_int_equal(sl__fmt_numeric(mn, 0, big), 40);
        assert_string_equal(big, "-170141183460469231731687303715884105728");
        assert_int_equal(sl__fmt_numeric(mn, 38, big), 41);
        assert_string_equal(big, "-1.70141183460469231731687303715884105728");
        assert_int_equal(sl__fmt_numeric(mx, 38, big), 40);
        assert_string_equal(big, "1.70141183460469231731687303715884105727");
    }
    assert_int_equal(bad, 0);
}

/* ----------------------------------------------- very long inputs, linear */

#define LONG_N 100000

static char *long_number(const char *head, char fill, size_t n_fill,
                         const char *tail, size_t *out_n)
{
    size_t hl = strlen(head), tl = strlen(tail);
    char *p = malloc(hl + n_fill + tl);
    assert_non_null(p);
    memcpy(p, head, hl);
    memset(p + hl, fill, n_fill);
    memcpy(p + hl + n_fill, tail, tl);
    *out_n = hl + n_fill + tl;
    return p;
}

static void test_long_inputs(void **state)
{
    size_t n;
    char *p;
    int64_t i = 0;
    double f = 0;
    __int128 d = 0;
    char out[82];
    size_t len = 0;
    (void)state;

    /* 100,000-digit integer: out of range for everything but FLOAT64 text
     * that is too large for double. */
    p = long_number("1", '0', LONG_N, "", &n);
    assert_int_equal(sl__coerce_int64(p, n, &i, NULL), ELIM);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), ELIM);
    assert_int_equal(sl__coerce_numeric(p, n, 0, 0, false, &d, NULL), ELIM);
    assert_int_equal(
        sl__coerce_bignumeric(p, n, 0, 0, false, out, sizeof(out), &len, NULL),
        ELIM);
    assert_int_equal(sl__coerce_epoch_seconds(p, n, &i, NULL), ELIM);
    free(p);

    /* 1.000...000 with 100,000 fraction zeros: exactly 1 everywhere. */
    p = long_number("1.", '0', LONG_N, "", &n);
    assert_int_equal(sl__coerce_int64(p, n, &i, NULL), OK);
    assert_int_equal(i, 1);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 1.0);
    assert_int_equal(sl__coerce_numeric(p, n, 0, 0, false, &d, NULL), OK);
    assert_true(d == 1000000000);
    assert_int_equal(
        sl__coerce_bignumeric(p, n, 0, 0, false, out, sizeof(out), &len, NULL),
        OK);
    assert_int_equal(len, 1);
    assert_int_equal(sl__coerce_epoch_seconds(p, n, &i, NULL), OK);
    assert_int_equal(i, 1000000);
    free(p);

    /* 1.000...0001: not an integer; rounds to 1 elsewhere. */
    p = long_number("1.", '0', LONG_N, "1", &n);
    assert_int_equal(sl__coerce_int64(p, n, &i, NULL), EINV);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 1.0);
    assert_int_equal(sl__coerce_numeric(p, n, 0, 0, false, &d, NULL), OK);
    assert_true(d == 1000000000);
    free(p);

    /* 0.000...0001: underflows to 0 for FLOAT64. */
    p = long_number("0.", '0', LONG_N, "1", &n);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 0.0);
    assert_int_equal(sl__coerce_numeric(p, n, 0, 0, false, &d, NULL), OK);
    assert_true(d == 0);
    free(p);

    /* 0.000...0001e100005 = 1e4: the exponent offsets the long fraction. */
    p = long_number("0.", '0', LONG_N, "1e100005", &n);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 1e4);
    assert_int_equal(sl__coerce_int64(p, n, &i, NULL), OK);
    assert_int_equal(i, 10000);
    free(p);

    /* 1 + 2^-53 is the exact midpoint between 1 and the next double and
     * rounds to even (1.0); a single 1 after 100,000 zeros tips it up. This
     * checks the condensed path keeps correct rounding. */
    p = long_number("1.00000000000000011102230246251565404236316680908203125",
                    '0', LONG_N, "", &n);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 1.0);
    free(p);
    p = long_number("1.00000000000000011102230246251565404236316680908203125",
                    '0', LONG_N, "1", &n);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 1.0 + DBL_EPSILON);
    free(p);

    /* 100,000 significant digits, value ~1.23e-1: condensed and rounded. */
    p = long_number("0.1234567890123456789", '9', LONG_N, "e1", &n);
    assert_int_equal(sl__coerce_float64(p, n, &f, NULL), OK);
    assert_true(f == 1.2345678901234568);
    free(p);

    /* long UTF-8 */
    p = long_number("", 'a', LONG_N, "\xc3\xa9", &n);
    assert_int_equal(sl__utf8_count(p, n), LONG_N + 1);
    free(p);
}

/* --------------------------------------------------------------- contract */

/* why may be NULL; outputs are untouched on failure. */
static void test_why_optional_and_outputs_untouched(void **state)
{
    int64_t i = 42;
    double f = 4.2;
    bool b = true;
    __int128 d = 42;
    int32_t day = 42;
    (void)state;
    assert_int_equal(sl__coerce_int64("x", 1, &i, NULL), EINV);
    assert_int_equal(i, 42);
    assert_int_equal(sl__coerce_float64("x", 1, &f, NULL), EINV);
    assert_true(f == 4.2);
    assert_int_equal(sl__coerce_bool("x", 1, &b, NULL), EINV);
    assert_true(b);
    assert_int_equal(sl__coerce_numeric("x", 1, 0, 0, false, &d, NULL), EINV);
    assert_true(d == 42);
    assert_int_equal(sl__coerce_date("x", 1, &day, NULL), EINV);
    assert_int_equal(day, 42);
    assert_int_equal(sl__coerce_time("x", 1, &i, NULL), EINV);
    assert_int_equal(sl__coerce_datetime("x", 1, &i, NULL), EINV);
    assert_int_equal(sl__coerce_timestamp("x", 1, &i, NULL), EINV);
    assert_int_equal(sl__coerce_epoch_seconds("x", 1, &i, NULL), EINV);
    assert_int_equal(i, 42);
}

/* A value followed by more bytes in the same buffer is parsed only up to n
 * (inputs are spans inside a larger line, never NUL-terminated). */
static void test_spans_inside_larger_buffer(void **state)
{
    static const char line[] = "123,1.5,2024-01-05,12:00:00Z";
    int64_t i = 0;
    double f = 0;
    int32_t day = 0;
    (void)state;
    assert_int_equal(sl__coerce_int64(line, 3, &i, NULL), OK);
    assert_int_equal(i, 123);
    assert_int_equal(sl__coerce_float64(line + 4, 3, &f, NULL), OK);
    assert_true(f == 1.5);
    assert_int_equal(sl__coerce_date(line + 8, 10, &day, NULL), OK);
    assert_int_equal(day, 19727);
    assert_int_equal(sl__coerce_time(line + 19, 8, &i, NULL), OK);
    assert_int_equal(i, INT64_C(43200000000));
    /* embedded NUL is just a bad byte */
    assert_int_equal(sl__coerce_int64("1\0", 2, &i, NULL), EINV);
}

/* FLOAT64 parsing must not follow the process locale. */
static void test_float_ignores_locale(void **state)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",
                                        "fr_FR.UTF-8", "fr_FR.utf8"};
    double f = 0;
    const char *set = NULL;
    (void)state;
    for (size_t k = 0; k < SL_ARRAY_LEN(names) && set == NULL; k++) {
        set = setlocale(LC_NUMERIC, names[k]);
    }
    if (set == NULL) {
        skip(); /* no comma-decimal locale installed */
    }
    assert_int_equal(sl__coerce_float64("1.5", 3, &f, NULL), OK);
    assert_true(f == 1.5);
    assert_int_equal(sl__coerce_float64("1,5", 3, &f, NULL), EINV);
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64_table),
        cmocka_unit_test(test_float64_table),
        cmocka_unit_test(test_bool_table),
        cmocka_unit_test(test_numeric_table),
        cmocka_unit_test(test_bignumeric_table),
        cmocka_unit_test(test_bignumeric_small_buffer),
        cmocka_unit_test(test_base64_table),
        cmocka_unit_test(test_base64_small_buffer),
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_utf8_prefixes),
        cmocka_unit_test(test_utf8_offsets),
        cmocka_unit_test(test_fmt_tables),
        cmocka_unit_test(test_fmt_numeric),
        cmocka_unit_test(test_long_inputs),
        cmocka_unit_test(test_why_optional_and_outputs_untouched),
        cmocka_unit_test(test_spans_inside_larger_buffer),
        cmocka_unit_test(test_float_ignores_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
