/* test_render.c - the query renderer (src/ops/render.c) on hand-built typed
 * rows, without a warehouse: exact bytes of the table, CSV and NDJSON formats
 * for every value kind, NULLs and nested values; the table's window (rows
 * after it keep the widths, a wider value overflows); DuckDB's text for dates
 * and times at the edges; write failures; and an allocation-failure sweep.
 * ops stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "ops/render.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- values -------------------------------------------------------------- */

static struct sl_val v_null(void)
{
    return (struct sl_val){.kind = SL_V_NULL};
}

static struct sl_val v_i64(int64_t i)
{
    return (struct sl_val){.kind = SL_V_I64, .u.i = i};
}

static struct sl_val v_kind_i(uint8_t kind, int64_t i)
{
    return (struct sl_val){.kind = kind, .u.i = i};
}

static struct sl_val v_f64(double f)
{
    return (struct sl_val){.kind = SL_V_F64, .u.f = f};
}

static struct sl_val v_text(uint8_t kind, const char *s, size_t n)
{
    return (struct sl_val){.kind = kind, .len = (uint32_t)n, .u.s = s};
}

static struct sl_val v_str(const char *s)
{
    return v_text(SL_V_STR, s, strlen(s));
}

static struct sl_val v_nested(uint8_t kind, struct sl_val *kids, uint32_t n)
{
    return (struct sl_val){.kind = kind, .len = n, .u.v = kids};
}

/* ---- rendering into a string --------------------------------------------- */

static char *render(const struct sl_qcol *cols, size_t n_cols,
                    const struct sl_val *rows, size_t n_rows,
                    enum sl_query_format fmt, size_t window)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct sl_error err = {0};
    struct sl_render_opts o = {.fmt = fmt, .window = window};
    struct sl_render *r = NULL;
    assert_int_equal(sl_render_create(cols, n_cols, &o, f, &r, &err), SL_OK);
    for (size_t i = 0; i < n_rows; i++) {
        assert_int_equal(sl_render_row(r, rows + i * n_cols, &err), SL_OK);
    }
    uint64_t n = 0;
    assert_int_equal(sl_render_finish(r, &n, &err), SL_OK);
    assert_int_equal(n, n_cols > 0 ? n_rows : 0);
    sl_render_destroy(r);
    fclose(f);
    return buf;
}

/* ---- every kind in one row ------------------------------------------------
 */

enum {
    K_B,
    K_I,
    K_N,
    K_F,
    K_G,
    K_D,
    K_S,
    K_J,
    K_T,
    K_Y,
    K_DT,
    K_TM,
    K_DTT,
    K_TS,
    K_ST,
    K_L,
    K_M,
    N_K
};

static struct sl_qcol st_kids[2] = {
    {.name = "a", .kind = SL_V_I64, .numeric = true},
    {.name = "b c", .kind = SL_V_STR},
};
static struct sl_qcol l_kids[1] = {{.kind = SL_V_STR}};
static struct sl_qcol ml_kids[1] = {{.kind = SL_V_I64, .numeric = true}};
static struct sl_qcol m_kids[2] = {
    {.kind = SL_V_STR},
    {.kind = SL_V_LIST, .kids = ml_kids, .n_kids = 1},
};

static const struct sl_qcol all_cols[N_K] = {
    [K_B] = {.name = "b", .kind = SL_V_BOOL},
    [K_I] = {.name = "i", .kind = SL_V_I64, .numeric = true},
    [K_N] = {.name = "n", .kind = SL_V_NUMTEXT, .numeric = true},
    [K_F] = {.name = "f", .kind = SL_V_F64, .numeric = true},
    [K_G] = {.name = "g", .kind = SL_V_F64, .numeric = true, .is_float = true},
    [K_D] = {.name = "d", .kind = SL_V_DEC, .scale = 2, .numeric = true},
    [K_S] = {.name = "s", .kind = SL_V_STR},
    [K_J] = {.name = "j", .kind = SL_V_JSONTEXT},
    [K_T] = {.name = "t", .kind = SL_V_TEXT},
    [K_Y] = {.name = "y", .kind = SL_V_BYTES},
    [K_DT] = {.name = "dt", .kind = SL_V_DATE},
    [K_TM] = {.name = "tm", .kind = SL_V_TIME},
    [K_DTT] = {.name = "dtt", .kind = SL_V_DATETIME},
    [K_TS] = {.name = "ts", .kind = SL_V_TS},
    [K_ST] = {.name = "st", .kind = SL_V_STRUCT, .kids = st_kids, .n_kids = 2},
    [K_L] = {.name = "l", .kind = SL_V_LIST, .kids = l_kids, .n_kids = 1},
    [K_M] = {.name = "m", .kind = SL_V_MAP, .kids = m_kids, .n_kids = 2},
};

/* Row 0: a value of every kind; row 1: every one NULL. */
static struct sl_val all_rows[2 * N_K];
static struct sl_val st_vals[2], l_vals[2], m_vals[4], ml_vals[2];

static void all_init(void)
{
    struct sl_val *r = all_rows;
    r[K_B] = (struct sl_val){.kind = SL_V_BOOL, .u.b = true};
    r[K_I] = v_i64(-42);
    r[K_N] =
        v_text(SL_V_NUMTEXT, "170141183460469231731687303715884105727", 39);
    r[K_F] = v_f64(0.1);
    r[K_G] = v_f64((double)0.1f);
    r[K_D] = (struct sl_val){.kind = SL_V_DEC, .u.d = -5};
    r[K_S] = v_str("q\"\n");
    r[K_J] = v_str("{\"k\":[1,2]}");
    r[K_J].kind = SL_V_JSONTEXT;
    r[K_T] = v_text(SL_V_TEXT, "01:30:00", 8);
    r[K_Y] = v_text(SL_V_BYTES, "\0ab'", 4);
    r[K_DT] = v_kind_i(SL_V_DATE, 19724);
    r[K_TM] = v_kind_i(SL_V_TIME, INT64_C(3723000001));
    r[K_DTT] = v_kind_i(SL_V_DATETIME, -1);
    r[K_TS] = v_kind_i(SL_V_TS, INT64_C(1704164645500000));
    st_vals[0] = v_i64(1);
    st_vals[1] = v_str("it's");
    r[K_ST] = v_nested(SL_V_STRUCT, st_vals, 2);
    l_vals[0] = v_str("x");
    l_vals[1] = v_null();
    r[K_L] = v_nested(SL_V_LIST, l_vals, 2);
    ml_vals[0] = v_i64(1);
    ml_vals[1] = v_null();
    m_vals[0] = v_str("k");
    m_vals[1] = v_nested(SL_V_LIST, ml_vals, 2);
    m_vals[2] = v_str("");
    m_vals[3] = v_nested(SL_V_LIST, NULL, 0);
    r[K_M] = v_nested(SL_V_MAP, m_vals, 2);
    for (size_t i = 0; i < N_K; i++) {
        all_rows[N_K + i] = v_null();
    }
}

static void test_all_kinds_json(void **state)
{
    (void)state;
    all_init();
    char *out = render(all_cols, N_K, all_rows, 2, SL_QF_JSON, 0);
    assert_string_equal(
        out, "{\"b\":true,\"i\":-42,"
             "\"n\":170141183460469231731687303715884105727,\"f\":0.1,"
             "\"g\":0.1,\"d\":-0.05,\"s\":\"q\\\"\\u000a\","
             "\"j\":{\"k\":[1,2]},\"t\":\"01:30:00\","
             "\"y\":\"\\\\x00ab\\\\x27\",\"dt\":\"2024-01-02\","
             "\"tm\":\"01:02:03.000001\","
             "\"dtt\":\"1969-12-31 23:59:59.999999\","
             "\"ts\":\"2024-01-02 03:04:05.5+00\","
             "\"st\":{\"a\":1,\"b c\":\"it's\"},\"l\":[\"x\",null],"
             "\"m\":{\"k\":[1,null],\"\":[]}}\n"
             "{\"b\":null,\"i\":null,\"n\":null,\"f\":null,\"g\":null,"
             "\"d\":null,\"s\":null,\"j\":null,\"t\":null,\"y\":null,"
             "\"dt\":null,\"tm\":null,\"dtt\":null,\"ts\":null,\"st\":null,"
             "\"l\":null,\"m\":null}\n");
    free(out);
}

static void test_all_kinds_csv(void **state)
{
    (void)state;
    all_init();
    char *out = render(all_cols, N_K, all_rows, 2, SL_QF_CSV, 0);
    assert_string_equal(
        out, "b,i,n,f,g,d,s,j,t,y,dt,tm,dtt,ts,st,l,m\n"
             "true,-42,170141183460469231731687303715884105727,0.1,0.1,-0.05,"
             "\"q\"\"\n\",\"{\"\"k\"\":[1,2]}\",01:30:00,\\x00ab\\x27,"
             "2024-01-02,01:02:03.000001,1969-12-31 23:59:59.999999,"
             "2024-01-02 03:04:05.5+00,\"{'a': 1, 'b c': 'it''s'}\","
             "\"['x', null]\",\"{'k'=[1, null], ''=[]}\"\n"
             ",,,,,,,,,,,,,,,,\n");
    free(out);
}

static void test_all_kinds_table(void **state)
{
    (void)state;
    all_init();
    /* a narrower slice: numbers right-aligned, NULL as NULL, the line break
       of s shown as \n */
    static const size_t pick[] = {K_B, K_I, K_D, K_S, K_DT, K_L};
    struct sl_qcol cols[6];
    struct sl_val rows[12];
    for (size_t i = 0; i < 6; i++) {
        cols[i] = all_cols[pick[i]];
        rows[i] = all_rows[pick[i]];
        rows[6 + i] = all_rows[N_K + pick[i]];
    }
    char *out = render(cols, 6, rows, 2, SL_QF_TABLE, 0);
    assert_string_equal(out, "b    | i    | d     | s    | dt         | l\n"
                             "-----+------+-------+------+------------+---"
                             "---------\n"
                             "true |  -42 | -0.05 | q\"\\n | 2024-01-02 | "
                             "['x', null]\n"
                             "NULL | NULL |  NULL | NULL | NULL       | "
                             "NULL\n"
                             "(2 rows)\n");
    free(out);
}

/* ---- the table's window ---------------------------------------------------
 */

static const struct sl_qcol win_cols[2] = {
    {.name = "id", .kind = SL_V_I64, .numeric = true},
    {.name = "name", .kind = SL_V_STR},
};

static void win_rows(struct sl_val *r)
{
    r[0] = v_i64(1);
    r[1] = v_str("a");
    r[2] = v_i64(22);
    r[3] = v_str("bb");
    r[4] = v_i64(333);
    r[5] = v_str("a much longer value");
    r[6] = v_null();
    r[7] = v_str("x\ty");
    r[8] = v_i64(5);
    r[9] = v_str("é");
}

static void test_table_window(void **state)
{
    (void)state;
    struct sl_val r[10];
    win_rows(r);
    /* every row in the window: all aligned */
    char *out = render(win_cols, 2, r, 5, SL_QF_TABLE, 0);
    assert_string_equal(out, "id   | name\n"
                             "-----+--------------------\n"
                             "   1 | a\n"
                             "  22 | bb\n"
                             " 333 | a much longer value\n"
                             "NULL | x\\ty\n"
                             "   5 | é\n"
                             "(5 rows)\n");
    free(out);
    /* a window of 2: later rows keep its widths, wider values overflow */
    out = render(win_cols, 2, r, 5, SL_QF_TABLE, 2);
    assert_string_equal(out, "id | name\n"
                             "---+-----\n"
                             " 1 | a\n"
                             "22 | bb\n"
                             "333 | a much longer value\n"
                             "NULL | x\\ty\n"
                             " 5 | é\n"
                             "(5 rows)\n");
    free(out);
    /* exactly the window's rows; then one row; then none */
    out = render(win_cols, 2, r, 2, SL_QF_TABLE, 2);
    assert_string_equal(out, "id | name\n---+-----\n 1 | a\n22 | bb\n"
                             "(2 rows)\n");
    free(out);
    out = render(win_cols, 2, r, 1, SL_QF_TABLE, 2);
    assert_string_equal(out, "id | name\n---+-----\n 1 | a\n(1 row)\n");
    free(out);
    out = render(win_cols, 2, r, 0, SL_QF_TABLE, 0);
    assert_string_equal(out, "id | name\n---+-----\n(0 rows)\n");
    free(out);
}

/* A result of no columns writes nothing in any format; CSV and JSON of no
 * rows write the header and nothing. */
static void test_no_columns_no_rows(void **state)
{
    (void)state;
    for (int fmt = SL_QF_TABLE; fmt <= SL_QF_JSON; fmt++) {
        char *out = render(NULL, 0, NULL, 3, (enum sl_query_format)fmt, 0);
        assert_string_equal(out, "");
        free(out);
    }
    char *out = render(win_cols, 2, NULL, 0, SL_QF_CSV, 0);
    assert_string_equal(out, "id,name\n");
    free(out);
    out = render(win_cols, 2, NULL, 0, SL_QF_JSON, 0);
    assert_string_equal(out, "");
    free(out);
}

/* ---- CSV quoting, JSON escapes, doubles -----------------------------------
 */

static void test_csv_quoting(void **state)
{
    (void)state;
    static const struct sl_qcol cols[2] = {{.name = "a,b", .kind = SL_V_STR},
                                           {.name = "", .kind = SL_V_STR}};
    struct sl_val r[8] = {
        v_str(""),
        v_null(),
        v_str("a\"b"),
        v_str("c\rd"),
        v_text(SL_V_STR, "n\0,", 3),
        v_str("plain"),
        v_str("é,"),
        v_str(" lead"),
    };
    char *out = render(cols, 2, r, 4, SL_QF_CSV, 0);
    /* an embedded NUL does not hide the comma after it */
    static const char want[] = "\"a,b\",\"\"\n"
                               "\"\",\n"
                               "\"a\"\"b\",\"c\rd\"\n"
                               "\"n\0,\",plain\n"
                               "\"é,\", lead\n";
    assert_memory_equal(out, want, sizeof(want) - 1);
    free(out);
}

static void test_doubles(void **state)
{
    (void)state;
    static const struct sl_qcol cols[2] = {
        {.name = "d", .kind = SL_V_F64, .numeric = true},
        {.name = "f", .kind = SL_V_F64, .numeric = true, .is_float = true}};
    struct sl_val r[12] = {
        v_f64(1e300),       v_f64((double)3.4e38f),
        v_f64(NAN),         v_f64(-INFINITY),
        v_f64(INFINITY),    v_f64(-0.0),
        v_f64(1.0 / 3),     v_f64((double)(1.0f / 3)),
        v_f64(5e-324),      v_f64((double)1e-45f),
        v_f64(123456789.0), v_f64((double)16777217.0f),
    };
    char *out = render(cols, 2, r, 6, SL_QF_JSON, 0);
    assert_string_equal(out, "{\"d\":1e+300,\"f\":3.4e+38}\n"
                             "{\"d\":\"nan\",\"f\":\"-inf\"}\n"
                             "{\"d\":\"inf\",\"f\":-0}\n"
                             "{\"d\":0.3333333333333333,\"f\":0.33333334}\n"
                             "{\"d\":4.94065645841247e-324,\"f\":1.4013e-45}\n"
                             "{\"d\":123456789,\"f\":16777216}\n");
    free(out);
    out = render(cols, 2, r, 2, SL_QF_CSV, 0);
    assert_string_equal(out, "d,f\n1e+300,3.4e+38\nnan,-inf\n");
    free(out);
}

/* DECIMAL of every scale and sign, and 38 digits. */
static void test_decimals(void **state)
{
    (void)state;
    struct sl_qcol cols[1] = {{.name = "x", .kind = SL_V_DEC, .numeric = true}};
    static const struct {
        __int128 v;
        uint8_t scale;
        const char *want;
    } cases[] = {
        {0, 0, "0"},
        {0, 2, "0.00"},
        {1250, 2, "12.50"},
        {-300, 2, "-3.00"},
        {-5, 2, "-0.05"},
        {7, 4, "0.0007"},
        {-15000, 4, "-1.5000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cols[0].scale = cases[i].scale;
        struct sl_val r = {.kind = SL_V_DEC, .u.d = cases[i].v};
        char *out = render(cols, 1, &r, 1, SL_QF_CSV, 0);
        char want[64];
        snprintf(want, sizeof(want), "x\n%s\n", cases[i].want);
        assert_string_equal(out, want);
        free(out);
    }
    /* the largest DECIMAL(38,10) */
    __int128 big = 0;
    for (int i = 0; i < 38; i++) {
        big = big * 10 + 9;
    }
    cols[0].scale = 10;
    struct sl_val r = {.kind = SL_V_DEC, .u.d = -big};
    char *out = render(cols, 1, &r, 1, SL_QF_JSON, 0);
    assert_string_equal(out,
                        "{\"x\":-9999999999999999999999999999.9999999999}\n");
    free(out);
}

/* ---- dates and times as DuckDB writes them --------------------------------
 */

static void test_temporal_text(void **state)
{
    (void)state;
    static const struct {
        uint8_t kind;
        int64_t v;
        const char *want;
    } cases[] = {
        {SL_V_DATE, 0, "1970-01-01"},
        {SL_V_DATE, -1, "1969-12-31"},
        {SL_V_DATE, 11016, "2000-02-29"},
        {SL_V_DATE, -719162, "0001-01-01"},
        {SL_V_DATE, -719163, "0001-12-31 (BC)"},
        {SL_V_DATE, -719528, "0001-01-01 (BC)"},
        {SL_V_DATE, 2932896, "9999-12-31"},
        {SL_V_DATE, 2932897, "10000-01-01"},
        {SL_V_DATE, INT32_MAX, "infinity"},
        {SL_V_DATE, -INT32_MAX, "-infinity"},
        {SL_V_TIME, 0, "00:00:00"},
        {SL_V_TIME, INT64_C(86400000000), "24:00:00"},
        {SL_V_TIME, INT64_C(45296120000), "12:34:56.12"},
        {SL_V_TIME, INT64_C(1), "00:00:00.000001"},
        {SL_V_DATETIME, 0, "1970-01-01 00:00:00"},
        {SL_V_DATETIME, INT64_C(-62135596800000000), "0001-01-01 00:00:00"},
        {SL_V_DATETIME, INT64_C(-62135596800000001),
         "0001-12-31 (BC) 23:59:59.999999"},
        {SL_V_DATETIME, INT64_MAX, "infinity"},
        {SL_V_DATETIME, -INT64_MAX, "-infinity"},
        {SL_V_TS, INT64_C(1704164645500000), "2024-01-02 03:04:05.5+00"},
        {SL_V_TS, INT64_MAX, "infinity"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_qcol col = {.name = "x", .kind = cases[i].kind};
        struct sl_val r = v_kind_i(cases[i].kind, cases[i].v);
        char *out = render(&col, 1, &r, 1, SL_QF_CSV, 0);
        char want[96];
        snprintf(want, sizeof(want), "x\n%s\n", cases[i].want);
        if (strcmp(out, want) != 0) {
            fail_msg("case %zu (%lld): got [%s] want [%s]", i,
                     (long long)cases[i].v, out, want);
        }
        free(out);
    }
}

/* ---- nested text ----------------------------------------------------------
 */

/* Inside nested values strings and bytes are quoted, the backend's text
 * (TEXT) and temporal values are not, NULL is null; map keys in JSON are
 * their top-level text. */
static void test_nested_text(void **state)
{
    (void)state;
    static struct sl_qcol kk[5] = {
        {.name = "s", .kind = SL_V_STR},
        {.name = "t", .kind = SL_V_TEXT},
        {.name = "y", .kind = SL_V_BYTES},
        {.name = "d", .kind = SL_V_DATE},
        {.name = "it's", .kind = SL_V_JSONTEXT},
    };
    static struct sl_qcol lk[1] = {
        {.kind = SL_V_STRUCT, .kids = kk, .n_kids = 5}};
    static struct sl_qcol mk[2] = {
        {.kind = SL_V_DATE}, {.kind = SL_V_LIST, .kids = lk, .n_kids = 1}};
    static const struct sl_qcol cols[1] = {
        {.name = "m", .kind = SL_V_MAP, .kids = mk, .n_kids = 2}};
    struct sl_val sv[5] = {v_str("o'k"), v_text(SL_V_TEXT, "1 day", 5),
                           v_text(SL_V_BYTES, "\xff", 1),
                           v_kind_i(SL_V_DATE, 0),
                           v_text(SL_V_JSONTEXT, "[1]", 3)};
    struct sl_val sv2[5] = {v_null(), v_null(), v_null(), v_null(),
                            v_text(SL_V_JSONTEXT, "", 0)};
    struct sl_val elems[3] = {v_nested(SL_V_STRUCT, sv, 5), v_null(),
                              v_nested(SL_V_STRUCT, sv2, 5)};
    struct sl_val kv[4] = {v_kind_i(SL_V_DATE, 1),
                           v_nested(SL_V_LIST, elems, 3), v_null(),
                           v_nested(SL_V_LIST, NULL, 0)};
    struct sl_val row = v_nested(SL_V_MAP, kv, 2);
    char *out = render(cols, 1, &row, 1, SL_QF_CSV, 0);
    assert_string_equal(
        out, "m\n\"{1970-01-02=[{'s': 'o''k', 't': 1 day, 'y': '\\xFF', "
             "'d': 1970-01-01, 'it''s': '[1]'}, null, {'s': null, 't': null, "
             "'y': null, 'd': null, 'it''s': ''}], null=[]}\"\n");
    free(out);
    out = render(cols, 1, &row, 1, SL_QF_JSON, 0);
    assert_string_equal(
        out, "{\"m\":{\"1970-01-02\":[{\"s\":\"o'k\",\"t\":\"1 day\","
             "\"y\":\"\\\\xFF\",\"d\":\"1970-01-01\",\"it's\":[1]},null,"
             "{\"s\":null,\"t\":null,\"y\":null,\"d\":null,\"it's\":\"\"}],"
             "\"\":[]}}\n");
    free(out);
}

/* ---- failures -------------------------------------------------------------
 */

/* A stream that cannot be written: -SL_EIO with the errno, at the latest
 * when the render finishes. */
static void test_write_failure(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (f == NULL) {
        skip();
    }
    struct sl_val r[2] = {v_i64(1), v_str("x")};
    struct sl_error err = {0};
    struct sl_render_opts o = {.fmt = SL_QF_CSV};
    struct sl_render *rd = NULL;
    int rc = sl_render_create(win_cols, 2, &o, f, &rd, &err);
    for (int i = 0; rc == SL_OK && i < 100000; i++) {
        rc = sl_render_row(rd, r, &err);
    }
    if (rc == SL_OK) {
        rc = sl_render_finish(rd, NULL, &err);
    }
    assert_int_equal(rc, -SL_EIO);
    assert_non_null(strstr(err.msg, "writing query output"));
    assert_true(err.sub != 0);
    sl_render_destroy(rd);
    fclose(f);
}

/* Fail allocation N = 1, 2, ... through a render of every kind in each
 * format (the table with a window of one row, so both of its paths run):
 * -SL_ENOMEM each time, nothing leaked (ASan, valgrind), until it passes. */
static void test_oom_sweep(void **state)
{
    (void)state;
    all_init();
    for (int fmt = SL_QF_TABLE; fmt <= SL_QF_JSON; fmt++) {
        uint64_t n;
        for (n = 1;; n++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            struct sl_error err = {0};
            struct sl_render_opts o = {.fmt = (enum sl_query_format)fmt,
                                       .window = 1};
            struct sl_render *r = NULL;
            sl_alloc_fail_after(n);
            int rc = sl_render_create(all_cols, N_K, &o, f, &r, &err);
            for (int i = 0; rc == SL_OK && i < 4; i++) {
                rc = sl_render_row(r, all_rows + (i % 2) * N_K, &err);
            }
            if (rc == SL_OK) {
                rc = sl_render_finish(r, NULL, &err);
            }
            sl_alloc_fail_after(0);
            sl_render_destroy(r);
            fclose(f);
            free(buf);
            if (rc == SL_OK) {
                break;
            }
            if (rc != -SL_ENOMEM) {
                fail_msg("format %d, allocation %llu: %d, want -SL_ENOMEM", fmt,
                         (unsigned long long)n, rc);
            }
            assert_int_equal(err.code, -SL_ENOMEM);
        }
        assert_true(n > 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_kinds_json),
        cmocka_unit_test(test_all_kinds_csv),
        cmocka_unit_test(test_all_kinds_table),
        cmocka_unit_test(test_table_window),
        cmocka_unit_test(test_no_columns_no_rows),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_temporal_text),
        cmocka_unit_test(test_nested_text),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
