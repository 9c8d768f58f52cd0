/* test_cursor.c - the DuckDB driver's query cursor (src/warehouse/
 * duckdb_cursor.c) on an in-memory database: the kind of every DuckDB type
 * and its values (NULLs, nested STRUCT/LIST/ARRAY/MAP, DECIMAL of each
 * width, HUGEINT, JSON, BLOB, the types read as DuckDB's text), dates and
 * times rendered as DuckDB writes them (compared with its own casts), a
 * failure while streaming, statements without a result, one cursor at a time
 * and splitting scripts into statements. warehouse stage. */
#include "core/common.h"

#include "../support/querytest.h"
#include "core/alloc.h"
#include "ops/render.h"
#include "warehouse/driver.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct sl_wh_ops *D = &sl__duckdb_ops;

static int setup(void **state)
{
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    if (D->open("duckdb://:memory:", NULL, &wh, &err) != SL_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    *state = wh;
    return 0;
}

static int teardown(void **state)
{
    D->close(*state);
    return 0;
}

static void exec(struct sl_wh *wh, const char *sql)
{
    struct sl_error err = {0};
    FILE *f = fopen("/dev/null", "w");
    int rc = qt_print(D, wh, sql, SL_QF_CSV, 0, f, &err);
    fclose(f);
    if (rc != SL_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
}

static char *csv(struct sl_wh *wh, const char *sql)
{
    struct sl_error err = {0};
    int rc;
    char *out = qt_string(D, wh, sql, SL_QF_CSV, 0, &rc, &err);
    if (rc != SL_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    return out;
}

/* ---- value checks ---------------------------------------------------------
 */

static void want_text(const struct sl_val *v, uint8_t kind, const char *s)
{
    if (v->kind != kind || v->len != strlen(s) ||
        memcmp(v->u.s, s, v->len) != 0) {
        fail_msg("want kind %d [%s], got kind %d [%.*s]", kind, s, v->kind,
                 v->kind == kind ? (int)v->len : 0,
                 v->kind == kind ? v->u.s : "");
    }
}

static void want_i(const struct sl_val *v, uint8_t kind, int64_t i)
{
    assert_int_equal(v->kind, kind);
    assert_int_equal(v->u.i, i);
}

static void want_dec(const struct sl_val *v, __int128 d)
{
    assert_int_equal(v->kind, SL_V_DEC);
    assert_true(v->u.d == d);
}

static void want_col(const struct sl_qcol *q, const char *name, uint8_t kind,
                     bool numeric)
{
    if (name != NULL) {
        assert_string_equal(q->name, name);
    }
    if (q->kind != kind || q->numeric != numeric) {
        fail_msg("column %s: kind %d numeric %d, want %d %d",
                 q->name != NULL ? q->name : "(kid)", q->kind, q->numeric, kind,
                 numeric);
    }
}

/* ---- every type ---------------------------------------------------------- */

enum {
    C_B,
    C_I1,
    C_I2,
    C_I4,
    C_I8,
    C_U1,
    C_U2,
    C_U4,
    C_U8,
    C_H,
    C_UH,
    C_F,
    C_D,
    C_D4,
    C_D9,
    C_D18,
    C_D38,
    C_S,
    C_J,
    C_BL,
    C_DT,
    C_TM,
    C_TS,
    C_TZ,
    C_IV,
    C_UU,
    C_EN,
    C_TTZ,
    C_TNS,
    C_TMS,
    C_TSS,
    C_BT,
    C_BN,
    C_UN,
    C_ST,
    C_LI,
    C_AR,
    C_MP,
    C_NUL,
    N_C
};

static const char *const create_k =
    "CREATE TABLE k (b BOOLEAN, i1 TINYINT, i2 SMALLINT, i4 INTEGER, "
    "i8 BIGINT, u1 UTINYINT, u2 USMALLINT, u4 UINTEGER, u8 UBIGINT, "
    "h HUGEINT, uh UHUGEINT, f FLOAT, d DOUBLE, d4 DECIMAL(4,1), "
    "d9 DECIMAL(9,3), d18 DECIMAL(18,2), d38 DECIMAL(38,10), s VARCHAR, "
    "j JSON, bl BLOB, dt DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, "
    "iv INTERVAL, uu UUID, en ENUM('red', 'green'), ttz TIMETZ, "
    "tns TIMESTAMP_NS, tms TIMESTAMP_MS, tss TIMESTAMP_S, bt BIT, "
    "bn BIGNUM, un UNION(n INTEGER, s VARCHAR), "
    "st STRUCT(a INTEGER, \"b c\" VARCHAR), li INTEGER[], ar VARCHAR[2], "
    "mp MAP(VARCHAR, DOUBLE[]), nul INTEGER);"
    "INSERT INTO k VALUES (true, -128, -32768, -2147483648, "
    "-9223372036854775808, 255, 65535, 4294967295, 18446744073709551615, "
    "-170141183460469231731687303715884105728, "
    "340282366920938463463374607431768211455, 0.1, -2.5e-300, -123.4, "
    "123456.789, -1234567890123456.78, "
    "1234567890123456789012345678.0123456789, 'héllo', '{\"a\": [1, 2]}', "
    "'\\x00\\xFFab'::BLOB, DATE '2024-02-29', TIME '23:59:59.999999', "
    "TIMESTAMP '1969-12-31 23:59:59', TIMESTAMPTZ '2024-01-02 "
    "03:04:05.5+00', INTERVAL '1 year 2 months 3 days 04:05:06.7', "
    "'12345678-1234-5678-1234-567812345678', 'green', "
    "TIMETZ '01:02:03+05:30', TIMESTAMP_NS '2024-01-02 03:04:05.123456789', "
    "TIMESTAMP_MS '2024-01-02 03:04:05.123', TIMESTAMP_S '2024-01-02 "
    "03:04:05', '10110'::BIT, -12345678901234567890123::BIGNUM, "
    "union_value(s := 'x'), {'a': 1, 'b c': NULL}, [1, NULL, 3], "
    "['p', NULL], MAP {'k': [1.5, NULL]}, NULL);"
    "INSERT INTO k (b) VALUES (NULL)";

static void test_every_type(void **state)
{
    struct sl_wh *wh = *state;
    exec(wh, create_k);
    struct sl_error err = {0};
    struct sl_cursor *c = NULL;
    assert_int_equal(
        D->query(wh, "SELECT * FROM k ORDER BY b NULLS LAST", &c, &err), SL_OK);
    size_t n = 0;
    const struct sl_qcol *q = D->cursor_columns(c, &n);
    assert_int_equal(n, N_C);
    static const struct {
        const char *name;
        uint8_t kind;
        bool numeric;
    } want[N_C] = {
        {"b", SL_V_BOOL, false},      {"i1", SL_V_I64, true},
        {"i2", SL_V_I64, true},       {"i4", SL_V_I64, true},
        {"i8", SL_V_I64, true},       {"u1", SL_V_I64, true},
        {"u2", SL_V_I64, true},       {"u4", SL_V_I64, true},
        {"u8", SL_V_NUMTEXT, true},   {"h", SL_V_NUMTEXT, true},
        {"uh", SL_V_NUMTEXT, true},   {"f", SL_V_F64, true},
        {"d", SL_V_F64, true},        {"d4", SL_V_DEC, true},
        {"d9", SL_V_DEC, true},       {"d18", SL_V_DEC, true},
        {"d38", SL_V_DEC, true},      {"s", SL_V_STR, false},
        {"j", SL_V_JSONTEXT, false},  {"bl", SL_V_BYTES, false},
        {"dt", SL_V_DATE, false},     {"tm", SL_V_TIME, false},
        {"ts", SL_V_DATETIME, false}, {"tz", SL_V_TS, false},
        {"iv", SL_V_TEXT, false},     {"uu", SL_V_TEXT, false},
        {"en", SL_V_STR, false},      {"ttz", SL_V_TEXT, false},
        {"tns", SL_V_TEXT, false},    {"tms", SL_V_TEXT, false},
        {"tss", SL_V_TEXT, false},    {"bt", SL_V_TEXT, false},
        {"bn", SL_V_NUMTEXT, true},   {"un", SL_V_TEXT, false},
        {"st", SL_V_STRUCT, false},   {"li", SL_V_LIST, false},
        {"ar", SL_V_LIST, false},     {"mp", SL_V_MAP, false},
        {"nul", SL_V_I64, true},
    };
    for (size_t i = 0; i < N_C; i++) {
        want_col(&q[i], want[i].name, want[i].kind, want[i].numeric);
    }
    assert_true(q[C_F].is_float);
    assert_false(q[C_D].is_float);
    assert_int_equal(q[C_D4].scale, 1);
    assert_int_equal(q[C_D9].scale, 3);
    assert_int_equal(q[C_D18].scale, 2);
    assert_int_equal(q[C_D38].scale, 10);
    assert_int_equal(q[C_ST].n_kids, 2);
    want_col(&q[C_ST].kids[0], "a", SL_V_I64, true);
    want_col(&q[C_ST].kids[1], "b c", SL_V_STR, false);
    assert_int_equal(q[C_LI].n_kids, 1);
    want_col(&q[C_LI].kids[0], NULL, SL_V_I64, true);
    want_col(&q[C_AR].kids[0], NULL, SL_V_STR, false);
    assert_int_equal(q[C_MP].n_kids, 2);
    want_col(&q[C_MP].kids[0], NULL, SL_V_STR, false);
    want_col(&q[C_MP].kids[1], NULL, SL_V_LIST, false);
    want_col(&q[C_MP].kids[1].kids[0], NULL, SL_V_F64, true);

    const struct sl_val *r = NULL;
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    assert_non_null(r);
    assert_int_equal(r[C_B].kind, SL_V_BOOL);
    assert_true(r[C_B].u.b);
    want_i(&r[C_I1], SL_V_I64, -128);
    want_i(&r[C_I2], SL_V_I64, -32768);
    want_i(&r[C_I4], SL_V_I64, INT32_MIN);
    want_i(&r[C_I8], SL_V_I64, INT64_MIN);
    want_i(&r[C_U1], SL_V_I64, 255);
    want_i(&r[C_U2], SL_V_I64, 65535);
    want_i(&r[C_U4], SL_V_I64, INT64_C(4294967295));
    want_text(&r[C_U8], SL_V_NUMTEXT, "18446744073709551615");
    want_text(&r[C_H], SL_V_NUMTEXT,
              "-170141183460469231731687303715884105728");
    want_text(&r[C_UH], SL_V_NUMTEXT,
              "340282366920938463463374607431768211455");
    assert_int_equal(r[C_F].kind, SL_V_F64);
    assert_true(r[C_F].u.f == (double)0.1f);
    assert_int_equal(r[C_D].kind, SL_V_F64);
    assert_true(r[C_D].u.f == -2.5e-300);
    want_dec(&r[C_D4], -1234);
    want_dec(&r[C_D9], 123456789);
    want_dec(&r[C_D18], INT64_C(-123456789012345678));
    /* 1234567890123456789012345678.0123456789 * 10^10, in two halves */
    want_dec(&r[C_D38],
             (__int128)INT64_C(1234567890123456789) * 10000000000000000000ULL +
                 (__int128)INT64_C(123456780123456789));
    want_text(&r[C_S], SL_V_STR, "héllo");
    want_text(&r[C_J], SL_V_JSONTEXT, "{\"a\": [1, 2]}");
    assert_int_equal(r[C_BL].kind, SL_V_BYTES);
    assert_int_equal(r[C_BL].len, 4);
    assert_memory_equal(r[C_BL].u.s,
                        "\0\xff"
                        "ab",
                        4);
    want_i(&r[C_DT], SL_V_DATE, 19782);
    want_i(&r[C_TM], SL_V_TIME, INT64_C(86399999999));
    want_i(&r[C_TS], SL_V_DATETIME, -1000000);
    want_i(&r[C_TZ], SL_V_TS, INT64_C(1704164645500000));
    want_text(&r[C_IV], SL_V_TEXT, "1 year 2 months 3 days 04:05:06.7");
    want_text(&r[C_UU], SL_V_TEXT, "12345678-1234-5678-1234-567812345678");
    want_text(&r[C_EN], SL_V_STR, "green");
    want_text(&r[C_TTZ], SL_V_TEXT, "01:02:03+05:30");
    want_text(&r[C_TNS], SL_V_TEXT, "2024-01-02 03:04:05.123456789");
    want_text(&r[C_TMS], SL_V_TEXT, "2024-01-02 03:04:05.123");
    want_text(&r[C_TSS], SL_V_TEXT, "2024-01-02 03:04:05");
    want_text(&r[C_BT], SL_V_TEXT, "10110");
    want_text(&r[C_BN], SL_V_NUMTEXT, "-12345678901234567890123");
    want_text(&r[C_UN], SL_V_TEXT, "x");
    assert_int_equal(r[C_ST].kind, SL_V_STRUCT);
    assert_int_equal(r[C_ST].len, 2);
    want_i(&r[C_ST].u.v[0], SL_V_I64, 1);
    assert_int_equal(r[C_ST].u.v[1].kind, SL_V_NULL);
    assert_int_equal(r[C_LI].kind, SL_V_LIST);
    assert_int_equal(r[C_LI].len, 3);
    want_i(&r[C_LI].u.v[0], SL_V_I64, 1);
    assert_int_equal(r[C_LI].u.v[1].kind, SL_V_NULL);
    want_i(&r[C_LI].u.v[2], SL_V_I64, 3);
    assert_int_equal(r[C_AR].kind, SL_V_LIST);
    assert_int_equal(r[C_AR].len, 2);
    want_text(&r[C_AR].u.v[0], SL_V_STR, "p");
    assert_int_equal(r[C_AR].u.v[1].kind, SL_V_NULL);
    assert_int_equal(r[C_MP].kind, SL_V_MAP);
    assert_int_equal(r[C_MP].len, 1);
    want_text(&r[C_MP].u.v[0], SL_V_STR, "k");
    const struct sl_val *ml = &r[C_MP].u.v[1];
    assert_int_equal(ml->kind, SL_V_LIST);
    assert_int_equal(ml->len, 2);
    assert_int_equal(ml->u.v[0].kind, SL_V_F64);
    assert_true(ml->u.v[0].u.f == 1.5);
    assert_int_equal(ml->u.v[1].kind, SL_V_NULL);
    assert_int_equal(r[C_NUL].kind, SL_V_NULL);

    /* the second row: NULL in every column */
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    assert_non_null(r);
    for (size_t i = 0; i < N_C; i++) {
        if (r[i].kind != SL_V_NULL) {
            fail_msg("column %s: kind %d, want NULL", q[i].name, r[i].kind);
        }
    }
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    assert_null(r);
    /* and after the end, still the end */
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    assert_null(r);
    D->cursor_close(c);

    /* the same through the renderer: what `sluice query` prints */
    char *out = csv(wh, "SELECT u8, h, d38, bl, iv, en, bt, bn, un, st, ar, "
                        "mp, j FROM k ORDER BY b NULLS LAST");
    assert_string_equal(
        out, "u8,h,d38,bl,iv,en,bt,bn,un,st,ar,mp,j\n"
             "18446744073709551615,-170141183460469231731687303715884105728,"
             "1234567890123456789012345678.0123456789,\\x00\\xFFab,"
             "1 year 2 months 3 days 04:05:06.7,green,10110,"
             "-12345678901234567890123,x,\"{'a': 1, 'b c': null}\","
             "\"['p', null]\",\"{'k'=[1.5, null]}\","
             "\"{\"\"a\"\": [1, 2]}\"\n"
             ",,,,,,,,,,,,\n");
    free(out);
    struct sl_error e2 = {0};
    int rc;
    out = qt_string(D, wh, "SELECT j, mp, un, bn FROM k ORDER BY b NULLS LAST",
                    SL_QF_JSON, 0, &rc, &e2);
    assert_int_equal(rc, SL_OK);
    assert_string_equal(out, "{\"j\":{\"a\": [1, 2]},\"mp\":{\"k\":[1.5,null]},"
                             "\"un\":\"x\",\"bn\":-12345678901234567890123}\n"
                             "{\"j\":null,\"mp\":null,\"un\":null,"
                             "\"bn\":null}\n");
    free(out);
}

/* Nested values: a NULL STRUCT and a STRUCT of NULLs, empty and NULL lists,
 * LIST of STRUCT holding a MAP, an ARRAY of STRUCTs, a UNION of a nested
 * member, and BIGNUMs of both signs (their storage inverts negatives). */
static void test_nested(void **state)
{
    struct sl_wh *wh = *state;
    char *out =
        csv(wh, "SELECT * FROM (VALUES "
                "(1, NULL::STRUCT(a INT), [], NULL::INT[], "
                "[{'m': MAP {1: 'x'}, 'l': [[1], []]}], "
                "[{'a': 1}, NULL]::STRUCT(a INT)[2], "
                "union_value(l := [1, 2])::UNION(n INT, l INT[]), 0::BIGNUM),"
                "(2, {'a': NULL}, [NULL], [NULL, NULL]::INT[], "
                "[NULL, {'m': MAP {}, 'l': NULL}], "
                "NULL::STRUCT(a INT)[2], NULL::UNION(n INT, l INT[]), "
                "255::BIGNUM)) t(id, s, e, n, lm, ar, un, bn) ORDER BY id");
    assert_string_equal(
        out, "id,s,e,n,lm,ar,un,bn\n"
             "1,,[],,\"[{'m': {1='x'}, 'l': [[1], []]}]\",\"[{'a': 1}, null]\","
             "\"[1, 2]\",0\n"
             "2,{'a': null},[null],\"[null, null]\","
             "\"[null, {'m': {}, 'l': null}]\",,,255\n");
    free(out);
}

/* Dates, times and timestamps rendered by the renderer equal DuckDB's own
 * text for them, over a spread of values: BC years, years past 9999, leap
 * days, the edges of the day, fractions of every length. */
static void test_temporal_matches_duckdb(void **state)
{
    struct sl_wh *wh = *state;
    /* (a TIMESTAMPTZ cast follows the time zone when ICU is there) */
    FILE *devnull = fopen("/dev/null", "w");
    struct sl_error ignored = {0};
    (void)qt_print(D, wh, "SET TimeZone = 'UTC'", SL_QF_CSV, 0, devnull,
                   &ignored);
    fclose(devnull);
    char *out = csv(
        wh, "WITH v AS (SELECT (i * 7919 * 86400000003 % 580000000000000000) "
            "- 290000000000000000 + i * 13 AS us FROM range(4000) t(i) "
            "UNION ALL SELECT x FROM (VALUES (0), (-1), (86399999999), "
            "(-62135596800000000), (-62135596800000001), "
            "(253402300800000000), (-62167219200000000)) t(x)) "
            "SELECT make_timestamp(us) AS ts, make_timestamp(us)::VARCHAR, "
            "make_timestamp(us)::DATE AS d, make_timestamp(us)::DATE::VARCHAR, "
            "make_timestamp(us)::TIME AS t, make_timestamp(us)::TIME::VARCHAR, "
            "make_timestamp(us)::TIMESTAMPTZ AS tz, "
            "make_timestamp(us)::TIMESTAMPTZ::VARCHAR FROM v");
    size_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save), lines++) {
        if (lines == 0) {
            continue; /* the header */
        }
        char *f[8];
        size_t k = 0;
        char *s2 = NULL;
        for (char *p = strtok_r(line, ",", &s2); p != NULL && k < 8;
             p = strtok_r(NULL, ",", &s2)) {
            f[k++] = p;
        }
        assert_int_equal(k, 8);
        for (size_t i = 0; i < 8; i += 2) {
            if (strcmp(f[i], f[i + 1]) != 0) {
                fail_msg("line %zu, column %zu: rendered [%s], DuckDB [%s]",
                         lines, i, f[i], f[i + 1]);
            }
        }
    }
    assert_int_equal(lines, 4008);
    free(out);
    out = csv(wh, "SELECT 'infinity'::DATE AS a, '-infinity'::DATE AS b, "
                  "'infinity'::TIMESTAMP AS c, '-infinity'::TIMESTAMPTZ AS d, "
                  "TIME '24:00:00' AS e");
    assert_string_equal(out, "a,b,c,d,e\ninfinity,-infinity,infinity,"
                             "-infinity,24:00:00\n");
    free(out);
}

/* A failure while the result streams shows at cursor_next, after the rows
 * before it, classed and with DuckDB's message. */
static void test_error_while_streaming(void **state)
{
    struct sl_wh *wh = *state;
    struct sl_error err = {0};
    struct sl_cursor *c = NULL;
    assert_int_equal(
        D->query(wh,
                 "SELECT CASE WHEN i = 3000000 THEN error('boom') ELSE i "
                 "END AS x FROM range(4000000) t(i)",
                 &c, &err),
        SL_OK);
    const struct sl_val *r = NULL;
    int rc;
    uint64_t rows = 0;
    while ((rc = D->cursor_next(c, &r, &err)) == SL_OK && r != NULL) {
        assert_int_equal(r[0].kind, SL_V_I64); /* (in no set order) */
        rows++;
    }
    assert_int_equal(rc, -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "boom"));
    assert_true(rows > 0 && rows < 3000000);
    /* a failed cursor ends there */
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    assert_null(r);
    D->cursor_close(c);
    /* errors before any row: at query */
    memset(&err, 0, sizeof(err));
    assert_int_equal(D->query(wh, "SELECT * FROM nope", &c, &err),
                     -SL_EWAREHOUSE);
    assert_null(c);
    assert_non_null(strstr(err.msg, "Catalog Error"));
    assert_string_equal(sl_errclass(err.code), "fatal");
}

/* 100,000 rows arrive in order through many chunks. */
static void test_many_chunks(void **state)
{
    struct sl_wh *wh = *state;
    struct sl_error err = {0};
    struct sl_cursor *c = NULL;
    assert_int_equal(D->query(wh,
                              "SELECT i, 'v' || i AS s FROM range(100000) "
                              "t(i) ORDER BY i",
                              &c, &err),
                     SL_OK);
    const struct sl_val *r = NULL;
    int64_t i = 0;
    char want[32];
    while (D->cursor_next(c, &r, &err) == SL_OK && r != NULL) {
        want_i(&r[0], SL_V_I64, i);
        snprintf(want, sizeof(want), "v%lld", (long long)i);
        want_text(&r[1], SL_V_STR, want);
        i++;
    }
    assert_int_equal(i, 100000);
    D->cursor_close(c);
}

/* Statements without a result set give no columns; a change gives its
 * count; one cursor at a time per handle. */
static void test_statements_and_one_cursor(void **state)
{
    struct sl_wh *wh = *state;
    struct sl_error err = {0};
    struct sl_cursor *c = NULL;
    assert_int_equal(D->query(wh, "CREATE TABLE z (a INT)", &c, &err), SL_OK);
    size_t n = 99;
    (void)D->cursor_columns(c, &n);
    assert_int_equal(n, 0);
    const struct sl_val *r = NULL;
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    assert_null(r);
    D->cursor_close(c);
    assert_int_equal(D->query(wh, "INSERT INTO z VALUES (1), (2)", &c, &err),
                     SL_OK);
    const struct sl_qcol *q = D->cursor_columns(c, &n);
    assert_int_equal(n, 1);
    assert_string_equal(q[0].name, "Count");
    assert_int_equal(D->cursor_next(c, &r, &err), SL_OK);
    want_i(&r[0], SL_V_I64, 2);
    /* the first cursor is still open: a second query is refused */
    struct sl_cursor *c2 = NULL;
    assert_int_equal(D->query(wh, "SELECT 1", &c2, &err), -SL_EWAREHOUSE);
    assert_null(c2);
    assert_non_null(strstr(err.msg, "cursor is open"));
    D->cursor_close(c);
    memset(&err, 0, sizeof(err));
    assert_int_equal(D->query(wh, "SELECT 1", &c2, &err), SL_OK);
    D->cursor_close(c2);
    D->cursor_close(NULL);
}

/* ---- scripts ---------------------------------------------------------------
 */

static void test_split(void **state)
{
    struct sl_wh *wh = *state;
    struct sl_error err = {0};
    char **st = NULL;
    size_t n = 99;
    static const char *const empty[] = {"", "   \n\t", "-- only a comment",
                                        "/* a */ ; ;\n-- b\n;", ";"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        assert_int_equal(D->split_statements(wh, empty[i], &st, &n, &err),
                         SL_OK);
        assert_int_equal(n, 0);
        D->free_statements(st, n);
    }
    static const char script[] =
        "SELECT 1;\n"
        "  SELECT ';' AS \"a;b\" -- c; d\n;"
        "SELECT $$x;y$$, $t$ $$; $t$, 'it''s;', E'\\';', a$1 FROM "
        "(SELECT 1 AS a$1);"
        "/* one; /* nested; */ still; */ SELECT 2;;"
        "SELECT 3 -- last, no semicolon";
    static const char *const want[] = {
        "SELECT 1",
        "SELECT ';' AS \"a;b\" -- c; d\n",
        "SELECT $$x;y$$, $t$ $$; $t$, 'it''s;', E'\\';', a$1 FROM "
        "(SELECT 1 AS a$1)",
        "/* one; /* nested; */ still; */ SELECT 2",
        "SELECT 3 -- last, no semicolon",
    };
    assert_int_equal(D->split_statements(wh, script, &st, &n, &err), SL_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(st[i], want[i]);
    }
    D->free_statements(st, n);
    /* each piece runs */
    char *out = csv(wh, script);
    assert_string_equal(out, "1\n1\n"
                             "a;b\n;\n"
                             "'x;y',' $$; ','it''s;',''';',a$1\n"
                             "x;y, $$; ,it's;,';,1\n"
                             "2\n2\n"
                             "3\n3\n");
    free(out);
}

/* A script that does not parse runs nothing, and the statement at fault is
 * named. */
static void test_split_parse_error(void **state)
{
    struct sl_wh *wh = *state;
    struct sl_error err = {0};
    char **st = NULL;
    size_t n = 0;
    assert_int_equal(D->split_statements(wh,
                                         "CREATE TABLE made (a INT); "
                                         "SELECT 1; SELEC 2; SELECT 3",
                                         &st, &n, &err),
                     -SL_EWAREHOUSE);
    assert_null(st);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "statement 3 of 4: duckdb: query: "
                                    "Parser Error: syntax error"));
    /* once: DuckDB's context line is not repeated */
    const char *l1 = strstr(err.msg, "LINE 1");
    assert_non_null(l1);
    assert_null(strstr(l1 + 1, "LINE 1"));
    char *out = csv(wh, "SELECT count(*) AS n FROM duckdb_tables() WHERE "
                        "table_name = 'made'");
    assert_string_equal(out, "n\n0\n");
    free(out);
    /* an unterminated string: one statement, not split at its ; */
    memset(&err, 0, sizeof(err));
    assert_int_equal(D->split_statements(wh, "SELECT 'a; b", &st, &n, &err),
                     -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "unterminated"));
    assert_null(strstr(err.msg, "statement "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_temporal_matches_duckdb, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_while_streaming, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_and_one_cursor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_parse_error, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
