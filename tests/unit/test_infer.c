/* test_infer.c - unit tests of schema inference (validate/infer.h): widening,
 * text spellings checked against the validator, nested records and arrays,
 * case-colliding and all-null keys, REQUIRED detection, CSV headers and
 * names, what is refused, compressed files and sampling, allocation
 * failures. */
#include "core/common.h"

#include "../support/testutil.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "validate/infer.h"
#include "validate/infer_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* ---- helpers ------------------------------------------------------------- */

static struct sl_infer_opts csv_opts(void)
{
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    o.format = SL_FMT_CSV;
    return o;
}

/* Infer from one in-memory input; the schema text (caller frees) or NULL with
 * *out_rc and err set. */
static char *infer_text(const struct sl_infer_opts *o, const char *data,
                        int *out_rc, struct sl_error *err)
{
    struct sl_infer *inf = NULL;
    struct sl_buf out;
    sl__buf_init(&out);
    int rc = sl_infer_create(o, &inf, err);
    if (rc == SL_OK) {
        rc = sl_infer_buffer(inf, "in.data", data, strlen(data), err);
    }
    if (rc == SL_OK) {
        rc = sl_infer_schema_json(inf, &out, err);
    }
    sl_infer_destroy(inf);
    *out_rc = rc;
    char *text = rc == SL_OK ? strdup(out.data) : NULL;
    sl__buf_release(&out);
    return text;
}

/* A compact signature of a parsed field list: "a:INTEGER, r:RECORD{x:STRING}"
 * with "!" after REQUIRED and "*" after REPEATED types. */
static void sig_of(const struct sl_field *rec, char *out, size_t cap)
{
    size_t o = strlen(out);
    for (size_t i = 0; i < rec->n_fields && o < cap; i++) {
        const struct sl_field *f = &rec->fields[i];
        o += (size_t)snprintf(out + o, cap - o, "%s%s:%s%s", i ? ", " : "",
                              f->name, sl_type_name(f->type),
                              f->mode == SL_M_REQUIRED   ? "!"
                              : f->mode == SL_M_REPEATED ? "*"
                                                         : "");
        if (f->type == SL_T_RECORD && o + 1 < cap) {
            out[o++] = '{';
            out[o] = '\0';
            sig_of(f, out, cap);
            o = strlen(out);
            o += (size_t)snprintf(out + o, cap - o, "}");
        }
    }
}

/* The schema inferred from data parses back, and its signature is want. */
static void expect_sig(const struct sl_infer_opts *o, const char *data,
                       const char *want)
{
    struct sl_error err = {0};
    int rc;
    char *text = infer_text(o, data, &rc, &err);
    if (rc != SL_OK) {
        fail_msg("infer failed: %s (%s)\n%s", err.msg, err.column, data);
    }
    struct sl_table *t = tu_table(text);
    char sig[4096] = "";
    sig_of(&t->root, sig, sizeof(sig));
    if (strcmp(sig, want) != 0) {
        fail_msg("data:\n%sgot  %s\nwant %s\nschema:\n%s", data, sig, want,
                 text);
    }
    sl_table_destroy(t);
    free(text);
}

static void expect_ndjson(const char *data, const char *want)
{
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    expect_sig(&o, data, want);
}

/* Inference fails with code; the message holds needle, err->column is column
 * ("" for none) and err->line_no is line (0: not checked). */
static struct sl_error expect_fail(const struct sl_infer_opts *o,
                                   const char *data, int code,
                                   const char *needle, const char *column,
                                   uint64_t line)
{
    struct sl_error err = {0};
    int rc;
    char *text = infer_text(o, data, &rc, &err);
    if (rc != code || strstr(err.msg, needle) == NULL ||
        strcmp(err.column, column) != 0 || (line && err.line_no != line)) {
        fail_msg("data:\n%sgot rc %d column \"%s\" line %llu msg \"%s\"\n"
                 "want rc %d column \"%s\" line %llu msg with \"%s\"",
                 data, rc, err.column, (unsigned long long)err.line_no, err.msg,
                 code, column, (unsigned long long)line, needle);
    }
    free(text);
    return err;
}

static struct sl_error ndjson_fail(const char *data, int code,
                                   const char *needle, const char *column,
                                   uint64_t line)
{
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    return expect_fail(&o, data, code, needle, column, line);
}

/* Every row of data loads under the schema inferred from it: the validator
 * accepts each NDJSON line. */
static void expect_rows_load(const struct sl_infer_opts *o, const char *data)
{
    struct sl_error err = {0};
    int rc;
    char *text = infer_text(o, data, &rc, &err);
    assert_int_equal(rc, SL_OK);
    struct sl_table *t = tu_table(text);
    struct sl_vopts vo;
    sl_vopts_default(&vo);
    struct sl_validator *v = NULL;
    assert_int_equal(sl_validator_create(t, &vo, &v, &err), SL_OK);
    for (const char *p = data; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        struct sl_reject r;
        int vr = sl_validate_ndjson_row(v, p, n, NULL, &r);
        if (vr != 0) {
            fail_msg("row %.*s rejected by its own schema: %s\n%s", (int)n, p,
                     vr == 1 ? r.reason : "error", text);
        }
        p += n + (nl != NULL);
    }
    sl_validator_destroy(v);
    sl_table_destroy(t);
    free(text);
}

static char *tmp_path(const char *suffix)
{
    static unsigned seq;
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/sluice-test-infer.%d.%u%s", (int)getpid(), seq++,
             suffix);
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* ---- widening ------------------------------------------------------------ */

static void test_widening(void **state)
{
    (void)state;
    expect_ndjson("{\"a\":1}\n{\"a\":2.5}\n", "a:FLOAT");
    expect_ndjson("{\"a\":2.5}\n{\"a\":1}\n", "a:FLOAT");
    expect_ndjson("{\"a\":1}\n{\"a\":\"x\"}\n", "a:STRING");
    expect_ndjson("{\"a\":true}\n{\"a\":1}\n", "a:STRING");
    expect_ndjson("{\"a\":true}\n{\"a\":\"FALSE\"}\n", "a:BOOLEAN");
    expect_ndjson("{\"a\":\"12\"}\n{\"a\":\"34\"}\n", "a:INTEGER");
    expect_ndjson("{\"a\":\"12\"}\n{\"a\":\"1.5\"}\n", "a:FLOAT");
    expect_ndjson("{\"a\":12}\n{\"a\":\"1.5\"}\n", "a:FLOAT");
    expect_ndjson("{\"a\":\"2024-01-02\"}\n{\"a\":true}\n", "a:STRING");
    expect_ndjson("{\"a\":\"2024-01-02\"}\n{\"a\":\"2024-01-02 10:00\"}\n",
                  "a:STRING");
    expect_ndjson("{\"a\":\"10:00:00\"}\n{\"a\":\"2024-01-02\"}\n", "a:STRING");
    expect_ndjson("{\"a\":\"2024-01-02T10:00:00Z\"}\n"
                  "{\"a\":\"2024-01-02 10:00:00\"}\n",
                  "a:TIMESTAMP");
    /* integers beyond INT64 are FLOAT (quoted or not), beyond double STRING */
    expect_ndjson("{\"a\":9223372036854775807,\"b\":-9223372036854775808}\n",
                  "a:INTEGER, b:INTEGER");
    expect_ndjson("{\"a\":9223372036854775808}\n{\"a\":1}\n", "a:FLOAT");
    expect_ndjson("{\"a\":\"-9223372036854775809\"}\n", "a:FLOAT");
    expect_ndjson("{\"a\":1e400}\n", "a:STRING");
    expect_ndjson("{\"a\":1.0,\"b\":1e3,\"c\":-0}\n",
                  "a:FLOAT, b:FLOAT, c:INTEGER");
    /* texts that stay STRING */
    expect_ndjson("{\"a\":\"007\",\"b\":\"1e5\",\"c\":\"NaN\",\"d\":\"yes\","
                  "\"e\":\"+1\",\"f\":\".5\",\"g\":\"\",\"h\":\" 1\"}\n",
                  "a:STRING, b:STRING, c:STRING, d:STRING, e:STRING, "
                  "f:STRING, g:STRING, h:STRING");
    /* the mixes load: every scalar fits a STRING column */
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    expect_rows_load(&o, "{\"a\":1,\"b\":true,\"c\":\"2024-01-02\"}\n"
                         "{\"a\":\"x\",\"b\":2,\"c\":false}\n"
                         "{\"a\":1e400,\"b\":\"t\",\"c\":12.5}\n");
}

/* ---- every spelling, and the validator agrees ---------------------------- */

struct spelling {
    const char *text;
    enum ikind want;
};

static const struct spelling spellings[] = {
    {"2024-01-05", IK_DATE},
    {"2024-1-5", IK_DATE},
    {"0001-01-01", IK_DATE},
    {"9999-12-31", IK_DATE},
    {"2024-02-30", IK_STRING},
    {"2024/01/05", IK_STRING},
    {"10000-01-01", IK_STRING},
    {"10:00:00", IK_TIME},
    {"1:2:3", IK_TIME},
    {"23:59:59.999999", IK_TIME},
    {"11:41:43.07616", IK_TIME},
    {"23:59:59.9999999", IK_STRING},
    {"24:00:00", IK_STRING},
    {"10:00", IK_STRING},
    {"2018-08-19 12:11", IK_TIMESTAMP},
    {"2018-08-19 12:11:35", IK_TIMESTAMP},
    {"2018-08-19 12:11:35.22", IK_TIMESTAMP},
    {"2018/08/19 12:11", IK_TIMESTAMP},
    {"2018-08-19 07:11:35.220 -05:00", IK_TIMESTAMP},
    {"2018-08-19T12:11:35.220Z", IK_TIMESTAMP},
    {"2025-06-16T16:55:22Z", IK_TIMESTAMP},
    {"2018-07-05T12:54:00 UTC", IK_TIMESTAMP},
    {"2017-05-22T17:10:00-07:00", IK_TIMESTAMP},
    {"2016-09-07 00:00:00 UTC", IK_TIMESTAMP},
    {"2021-07-21 11:39:45", IK_TIMESTAMP}, /* DATETIME-looking: TIMESTAMP */
    {"9999-12-31 23:59:59.999999", IK_TIMESTAMP},
    {"2025-01-01T00:00:00.123456789012Z", IK_STRING},
    {"2018-08-19T25:00", IK_STRING},
    {"2018-08-19 12:11 America/Los_Angeles", IK_STRING},
    {"1534680695", IK_INT}, /* epochs stay numbers */
    {"1.534680695", IK_FLOAT},
    {"-12", IK_INT},
    {"0", IK_INT},
    {"TRUE", IK_BOOL},
    {"False", IK_BOOL},
    {"t", IK_STRING},
    {"1", IK_INT},
    {"P7Y11M9DT4H15M37.123456S", IK_STRING},
    {"", IK_STRING},
};

static void test_spellings(void **state)
{
    (void)state;
    static const char *types[] = {
        [IK_BOOL] = "BOOLEAN", [IK_INT] = "INTEGER",
        [IK_FLOAT] = "FLOAT",  [IK_DATE] = "DATE",
        [IK_TIME] = "TIME",    [IK_TIMESTAMP] = "TIMESTAMP",
        [IK_STRING] = "STRING"};
    for (size_t i = 0; i < SL_ARRAY_LEN(spellings); i++) {
        const struct spelling *s = &spellings[i];
        enum ikind got = sl__infer_text_kind(s->text, strlen(s->text));
        if (got != s->want) {
            fail_msg("\"%s\": got %s want %s", s->text,
                     sl__infer_kind_name(got), sl__infer_kind_name(s->want));
        }
        /* what infer calls a T, a T column of the validator accepts */
        char def[128], row[256];
        snprintf(def, sizeof(def), "[{\"name\":\"v\",\"type\":\"%s\"}]",
                 types[s->want]);
        snprintf(row, sizeof(row), "{\"v\":\"%s\"}", s->text);
        struct sl_table *t = tu_table(def);
        struct sl_vopts vo;
        sl_vopts_default(&vo);
        struct sl_validator *v = NULL;
        struct sl_error err = {0};
        assert_int_equal(sl_validator_create(t, &vo, &v, &err), SL_OK);
        struct sl_reject r;
        int vr = sl_validate_ndjson_row(v, row, strlen(row), NULL, &r);
        if (vr != 0) {
            fail_msg("\"%s\" as %s rejected: %s", s->text, types[s->want],
                     vr == 1 ? r.reason : "error");
        }
        sl_validator_destroy(v);
        sl_table_destroy(t);
    }
}

/* ---- records and arrays -------------------------------------------------- */

static void test_records_arrays(void **state)
{
    (void)state;
    /* fields merged across rows in first-seen order, at every level */
    expect_ndjson("{\"r\":{\"b\":1}}\n{\"z\":2,\"r\":{\"a\":\"x\",\"b\":2.5}}\n"
                  "{\"r\":null}\n",
                  "r:RECORD{b:FLOAT, a:STRING}, z:INTEGER");
    /* arrays: element types widened; [] alone is STRING */
    expect_ndjson("{\"a\":[1,2.5],\"b\":[],\"c\":[\"x\"],\"d\":null}\n"
                  "{\"a\":[3],\"b\":[],\"c\":[1]}\n",
                  "a:FLOAT*, b:STRING*, c:STRING*, d:STRING");
    expect_ndjson("{\"a\":[]}\n{\"a\":[\"2024-01-02\"]}\n{\"a\":null}\n",
                  "a:DATE*");
    /* arrays of objects: REPEATED RECORD, keys merged over the elements */
    expect_ndjson("{\"s\":[]}\n"
                  "{\"s\":[{\"n\":\"x\",\"p\":[{\"k\":1}]},{\"m\":true}]}\n"
                  "{\"s\":[{\"p\":[{\"k\":2.5,\"j\":\"10:00:00\"}]}]}\n",
                  "s:RECORD*{n:STRING, p:RECORD*{k:FLOAT, j:TIME}, "
                  "m:BOOLEAN}");
    /* an empty object among full ones: the sub-fields are NULL there */
    expect_ndjson("{\"r\":{}}\n{\"r\":{\"a\":1}}\n", "r:RECORD{a:INTEGER}");
    /* 15 levels of RECORD are allowed (the row object and 15 inside it) */
    char deep[512] = "", tail[64] = "";
    for (int i = 0; i < 16; i++) {
        strcat(deep, "{\"r\":");
        strcat(tail, "}");
    }
    strcat(deep, "1");
    strcat(deep, tail);
    strcat(deep, "\n");
    struct sl_error err = {0};
    int rc;
    char *text = infer_text(NULL, deep, &rc, &err);
    assert_int_equal(rc, SL_OK);
    sl_table_destroy(tu_table(text));
    free(text);
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    expect_rows_load(&o, "{\"s\":[{\"n\":\"x\"},{\"m\":[1,2]}],\"t\":{}}\n"
                         "{\"s\":null,\"t\":{\"u\":{\"v\":\"1.5\"}}}\n"
                         "{\"t\":null}\n");
}

/* ---- names --------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    /* names that differ only in case are one field, first spelling kept */
    expect_ndjson(
        "{\"Name\":1,\"r\":{\"X\":1}}\n{\"name\":2.5,\"R\":{\"x\":2}}\n",
        "Name:FLOAT, r:RECORD{X:INTEGER}");
    /* a key whose every value is null is a NULLABLE STRING */
    expect_ndjson("{\"a\":null,\"b\":1}\n{\"a\":null}\n{\"b\":null}\n",
                  "a:STRING, b:INTEGER");
    /* escaped keys are read unescaped; non-ASCII strings are fine values */
    expect_ndjson("{\"k\\u0065y\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\"}\n",
                  "key:STRING");
    /* reserved prefixes only matter at the top level */
    expect_ndjson("{\"r\":{\"_PARTITIONTIME\":1}}\n",
                  "r:RECORD{_PARTITIONTIME:INTEGER}");
}

/* ---- REQUIRED ------------------------------------------------------------ */

static void test_required(void **state)
{
    (void)state;
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    const char *data = "{\"a\":1,\"b\":1,\"c\":null,\"r\":{\"x\":1,\"y\":1},"
                       "\"s\":[{\"k\":1}],\"n\":{\"m\":1}}\n"
                       "{\"a\":2,\"b\":null,\"c\":null,\"r\":{\"x\":2},"
                       "\"s\":[{\"k\":2},{\"k\":3}],\"n\":null}\n"
                       "{\"a\":3,\"r\":{\"x\":3,\"y\":null},\"s\":[]}\n";
    /* default: NULLABLE everywhere (arrays REPEATED) */
    expect_sig(&o, data,
               "a:INTEGER, b:INTEGER, c:STRING, r:RECORD{x:INTEGER, "
               "y:INTEGER}, s:RECORD*{k:INTEGER}, n:RECORD{m:INTEGER}");
    o.required_if_always_present = true;
    /* present and non-null in every row (or every object of its RECORD) */
    expect_sig(&o, data,
               "a:INTEGER!, b:INTEGER, c:STRING, r:RECORD!{x:INTEGER!, "
               "y:INTEGER}, s:RECORD*{k:INTEGER!}, n:RECORD{m:INTEGER!}");
    /* and the rows still load: a REQUIRED sub-field of a NULL record is fine */
    expect_rows_load(&o, data);
    /* CSV: a value in every row */
    struct sl_infer_opts c = csv_opts();
    c.required_if_always_present = true;
    expect_sig(&c, "id,name,x\n1,a,\n2,,\n3,\"\",\n",
               "id:INTEGER!, name:STRING, x:STRING");
    expect_sig(&c, "1,a\n2,b,c\n",
               "string_field_0:INTEGER!, "
               "string_field_1:STRING!, string_field_2:STRING");
}

/* ---- CSV ----------------------------------------------------------------- */

static void test_csv_header(void **state)
{
    (void)state;
    struct sl_infer_opts o = csv_opts();
    /* detected: every cell of row 1 is text, a column below is not */
    expect_sig(&o, "name,age,when\nAl,31,2024-01-02\nBo,,2024-01-03\n",
               "name:STRING, age:INTEGER, when:DATE");
    /* not detected: all strings (row 1 is data), or a non-text cell in it */
    expect_sig(&o, "name,city\nAl,Paris\n",
               "string_field_0:STRING, string_field_1:STRING");
    expect_sig(&o, "name,2020\nAl,31\n",
               "string_field_0:STRING, string_field_1:INTEGER");
    expect_sig(&o, "a,,c\n1,2,3\n",
               "string_field_0:STRING, string_field_1:INTEGER, "
               "string_field_2:STRING");
    /* --header: named even when every column is text */
    o.header = SL_INFER_HEADER_YES;
    expect_sig(&o, "name,city\nAl,Paris\n", "name:STRING, city:STRING");
    /* names sanitised as autodetect does, made unique ignoring case */
    expect_sig(&o,
               " Fare Amount ,1st,_FILE_NAME,,a,A,\xc3\xa9t\xc3\xa9,"
               "x-y.z\n1,2,3,4,5,6,7,8\n",
               "Fare_Amount:INTEGER, _1st:INTEGER, __FILE_NAME:INTEGER, "
               "string_field_3:INTEGER, a:INTEGER, A_2:INTEGER, "
               "_t_:INTEGER, x_y_z:INTEGER");
    /* more header cells than values: the extra columns are STRING */
    expect_sig(&o, "a,b,c\n1\n2,3\n", "a:INTEGER, b:INTEGER, c:STRING");
    /* --skip-leading-rows N: row N is the header candidate */
    o.header = SL_INFER_HEADER_AUTO;
    o.skip_leading_rows = 2;
    expect_sig(&o, "junk line\nid,v\n1,2.5\n", "id:INTEGER, v:FLOAT");
    /* ... and skipped when it is no header */
    expect_sig(&o, "junk\n9,x\n1,y\n",
               "string_field_0:INTEGER, string_field_1:STRING");
    /* no header: N rows skipped, generic names */
    o.header = SL_INFER_HEADER_NO;
    o.skip_leading_rows = 1;
    expect_sig(&o, "id,v\nx,1\n",
               "string_field_0:STRING, string_field_1:INTEGER");
    o.skip_leading_rows = 0;
    expect_sig(&o, "id,v\n1,2\n",
               "string_field_0:STRING, string_field_1:STRING");
}

static void test_csv_values(void **state)
{
    (void)state;
    struct sl_infer_opts o = csv_opts();
    /* every column null in every row: STRING; quoted "" is NULL for typing */
    expect_sig(&o, "1,,x,true,10:00:00\n2,,\"\",FALSE,\n",
               "string_field_0:INTEGER, string_field_1:STRING, "
               "string_field_2:STRING, string_field_3:BOOLEAN, "
               "string_field_4:TIME");
    /* with a custom null marker an empty field is '' (STRING only) */
    o.null_marker = "\\N";
    expect_sig(&o, "1,\\N\n,2\n",
               "string_field_0:STRING, "
               "string_field_1:INTEGER");
    /* delimiter, quotes, quoted newlines, CRLF, blank lines, a BOM */
    o.null_marker = NULL;
    o.csv.delim = '|';
    o.csv.allow_quoted_newlines = true;
    expect_sig(&o, "\xEF\xBB\xBFk|v\r\n\r\n\"a|\nb\"|1\r\nc|\"3.5\"\r\n",
               "k:STRING, v:FLOAT");
    o.csv.latin1 = true;
    o.csv.delim = ',';
    expect_sig(&o, "caf\xe9,1\n",
               "string_field_0:STRING, "
               "string_field_1:INTEGER");
    /* stats: rows, header files, the skip a load needs, jagged rows */
    struct sl_infer_opts c = csv_opts();
    struct sl_infer *inf = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_infer_create(&c, &inf, &err), SL_OK);
    const char *a = "x,y,z\n1,2,3\n4,5\n", *b = "7,8\n";
    assert_int_equal(sl_infer_buffer(inf, "a.csv", a, strlen(a), &err), SL_OK);
    assert_int_equal(sl_infer_buffer(inf, "b.csv", b, strlen(b), &err), SL_OK);
    struct sl_infer_stats st;
    sl_infer_stats(inf, &st);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.rows, 3);
    assert_int_equal(st.header_files, 1);
    assert_int_equal(st.load_skip_rows, 1);
    assert_true(st.skip_varies);
    assert_int_equal(st.min_columns, 2);
    assert_int_equal(st.max_columns, 3);
    sl_infer_destroy(inf);
}

/* Every row of a CSV file loads with its inferred schema (the validator
 * skipping the rows the stats say). */
static void test_csv_loads(void **state)
{
    (void)state;
    const char *data = "id,price,day,ok,note\n"
                       "1,2.5,2024-01-02,true,\"a, b\"\n"
                       "2,3,2024-01-03,false,\n"
                       "3,,,,\"\"\n";
    struct sl_infer_opts o = csv_opts();
    o.required_if_always_present = true;
    struct sl_error err = {0};
    int rc;
    char *text = infer_text(&o, data, &rc, &err);
    assert_int_equal(rc, SL_OK);
    struct sl_table *t = tu_table(text);
    char *path = tmp_path(".csv");
    write_file(path, data, strlen(data));
    struct sl_vopts vo;
    sl_vopts_default(&vo);
    vo.format = SL_FMT_CSV;
    vo.skip_leading_rows = 1;
    struct sl_validator *v = NULL;
    assert_int_equal(sl_validator_create(t, &vo, &v, &err), SL_OK);
    struct sl_file_stats st;
    memset(&st, 0, sizeof(st));
    assert_int_equal(sl_validate_file(v, path, NULL, NULL, &st, &err), SL_OK);
    assert_int_equal(st.rows, 3);
    assert_int_equal(st.rejected, 0);
    sl_validator_destroy(v);
    sl_table_destroy(t);
    unlink(path);
    free(path);
    free(text);
}

/* ---- what is refused ----------------------------------------------------- */

static void test_refusals(void **state)
{
    (void)state;
    struct sl_error e;
    /* malformed JSON: file, line, offset of the row, column in it */
    e = ndjson_fail("{\"a\":1}\n\n{\"a\":2,}\n", -SL_ECORRUPT,
                    "malformed JSON at column 8 of the row", "", 3);
    assert_string_equal(e.path, "in.data");
    assert_int_equal(e.byte_off, 9);
    ndjson_fail("{\"a\":1} x\n", -SL_ECORRUPT, "unexpected data after", "", 1);
    ndjson_fail("{\"a\":\"x\n", -SL_ECORRUPT, "unterminated string", "", 1);
    ndjson_fail("{\"a\":01}\n", -SL_ECORRUPT, "expected ','", "", 1);
    ndjson_fail("{\"a\":tru}\n", -SL_ECORRUPT, "invalid literal", "", 1);
    ndjson_fail("{\"a\":\"\\ud800\"}\n", -SL_ECORRUPT, "lone surrogate", "", 1);
    ndjson_fail("{\"a\":\"\xff\"}\n", -SL_ECORRUPT, "invalid UTF-8", "", 1);
    ndjson_fail("{\"a\":\"\\x\"}\n", -SL_ECORRUPT, "invalid escape", "", 1);
    /* rows that are not objects */
    ndjson_fail("{\"a\":1}\n[1,2]\n", -SL_ECORRUPT,
                "the row is an array, not a JSON object", "", 2);
    ndjson_fail("\"x\"\n", -SL_ECORRUPT, "a string, not a JSON object", "", 1);
    ndjson_fail("12\n", -SL_ECORRUPT, "a number, not a JSON object", "", 1);
    /* shapes one schema cannot describe */
    e = ndjson_fail("{\"r\":{\"a\":{\"b\":1}}}\n{\"r\":{\"a\":\"x\"}}\n",
                    -SL_ESCHEMA,
                    "is an object at in.data:1 and a STRING "
                    "value at in.data:2",
                    "r.a", 2);
    ndjson_fail("{\"a\":[1]}\n{\"a\":2}\n", -SL_ESCHEMA,
                "is an array at in.data:1 and a single value at in.data:2", "a",
                2);
    ndjson_fail("{\"a\":[1,null]}\n", -SL_ESCHEMA, "a null inside an array",
                "a", 1);
    ndjson_fail("{\"a\":[[1]]}\n", -SL_ESCHEMA, "an array inside an array", "a",
                1);
    ndjson_fail("{\"a\":[1,{\"b\":1}]}\n", -SL_ESCHEMA, "is an object", "a", 1);
    ndjson_fail("{\"a\":1,\"A\":2}\n", -SL_ESCHEMA,
                "key \"A\" appears twice in one object (as \"a\" before", "a",
                1);
    ndjson_fail("{\"r\":{\"x\":1,\"x\":1}}\n", -SL_ESCHEMA, "appears twice",
                "r.x", 1);
    ndjson_fail("{\"my key\":1}\n", -SL_ESCHEMA,
                "key \"my key\": a column name", "", 1);
    ndjson_fail("{\"r\":{\"1a\":1}}\n", -SL_ESCHEMA, "key \"1a\"", "r", 1);
    ndjson_fail("{\"\":1}\n", -SL_ESCHEMA, "an empty key", "", 1);
    ndjson_fail("{\"_FILE_NAME\":1}\n", -SL_ESCHEMA, "reserves", "", 1);
    char deep[512] = "", tail[64] = "", path[64] = "r";
    for (int i = 0; i < 17; i++) {
        strcat(deep, "{\"r\":");
        strcat(tail, "}");
    }
    for (int i = 1; i < 16; i++) {
        strcat(path, ".r");
    }
    strcat(deep, "1");
    strcat(deep, tail);
    strcat(deep, "\n");
    ndjson_fail(deep, -SL_ESCHEMA, "nested 16 levels deep", path, 1);
    /* only empty objects: no RECORD can hold them; no field at all */
    ndjson_fail("{\"r\":{}}\n{\"r\":null}\n", -SL_ESCHEMA,
                "only ever held empty objects", "r", 0);
    ndjson_fail("\n  \n", -SL_ESCHEMA, "no field in 0 rows", "", 0);
    ndjson_fail("{}\n", -SL_ESCHEMA, "no field in 1 rows", "", 0);
    /* CSV */
    struct sl_infer_opts o = csv_opts();
    expect_fail(&o, "a,b\n\"x,1", -SL_ECORRUPT,
                "malformed CSV record: unterminated quoted field", "", 2);
    expect_fail(&o, "a,b\n\"x\n1\",2\n", -SL_ECORRUPT,
                "quoted newline not allowed", "", 2);
    expect_fail(&o, "a\n\"x\"y\n", -SL_ECORRUPT, "data between close quote", "",
                2);
    expect_fail(&o, "a\nb\xff\n", -SL_ECORRUPT, "invalid UTF-8 in column 1", "",
                2);
    o.csv.delim = '"';
    struct sl_infer *inf = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_infer_create(&o, &inf, &err), -SL_EUSAGE);
    assert_null(inf);
}

/* ---- the scanner agrees with the validator on JSONTestSuite ----------------
 * Each file of ../shared/data/json-test-suite without a raw newline is put in
 * a row {"j": FILE}: where the validator takes it into a JSON column (it is
 * JSON), infer must not call it malformed; where the validator finds a syntax
 * error, infer must not accept it (it may stop earlier on a shape it refuses,
 * as an array inside an array). */

static void test_json_suite(void **state)
{
    (void)state;
    const char *dir = tu_shared("data/json-test-suite/test_parsing");
    if (dir == NULL) {
        skip();
    }
    char dpath[4096];
    snprintf(dpath, sizeof(dpath), "%s", dir);
    struct sl_table *t = tu_table("[{\"name\":\"j\",\"type\":\"JSON\"}]");
    struct sl_vopts vo;
    sl_vopts_default(&vo);
    struct sl_validator *v = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_validator_create(t, &vo, &v, &err), SL_OK);
    DIR *d = opendir(dpath);
    assert_non_null(d);
    size_t checked = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[8192];
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/%s", dpath, e->d_name);
        char *body = e->d_name[0] == '.' ? NULL : tu_read(path, &n);
        if (body == NULL || memchr(body, '\n', n) != NULL) {
            free(body);
            continue;
        }
        char *row = malloc(n + 16);
        memcpy(row, "{\"j\": ", 6);
        memcpy(row + 6, body, n);
        memcpy(row + 6 + n, "}\n", 3);
        struct sl_reject r;
        int vr = sl_validate_ndjson_row(v, row, n + 7, NULL, &r);
        struct sl_infer *inf = NULL;
        err = (struct sl_error){0};
        assert_int_equal(sl_infer_create(NULL, &inf, &err), SL_OK);
        int ir = sl_infer_buffer(inf, e->d_name, row, n + 8, &err);
        sl_infer_destroy(inf);
        if ((vr == 0 && ir == -SL_ECORRUPT) || (vr == 1 && ir == SL_OK)) {
            fail_msg("%s: validator %s, infer %d (%s)", e->d_name,
                     vr == 0 ? "accepts" : r.reason, ir, err.msg);
        }
        checked++;
        free(row);
        free(body);
    }
    closedir(d);
    assert_true(checked > 300);
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

/* ---- files --------------------------------------------------------------- */

static void test_files(void **state)
{
    (void)state;
    const char *rows = "{\"a\":1,\"t\":\"2024-01-02T10:00:00Z\"}\n"
                       "{\"a\":2}\n{\"a\":\"x\"}\n";
    char *plain = tmp_path(".ndjson"), *gz = tmp_path(".data"),
         *zs = tmp_path(".data"), *more = tmp_path(".ndjson");
    write_file(plain, rows, strlen(rows));
    gzFile g = gzopen(gz, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, rows, (unsigned)strlen(rows)), strlen(rows));
    gzclose(g);
    char zbuf[1024];
    size_t zn = ZSTD_compress(zbuf, sizeof(zbuf), rows, strlen(rows), 3);
    assert_false(ZSTD_isError(zn));
    write_file(zs, zbuf, zn);
    write_file(more, "{\"b\":[true]}\n", 13);

    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    o.sample_rows = 2; /* the third row's "x" is not read */
    struct sl_infer *inf = NULL;
    struct sl_error err = {0};
    struct sl_buf out;
    sl__buf_init(&out);
    assert_int_equal(sl_infer_create(&o, &inf, &err), SL_OK);
    assert_int_equal(sl_infer_file(inf, plain, &err), SL_OK);
    assert_int_equal(sl_infer_file(inf, gz, &err), SL_OK);
    assert_int_equal(sl_infer_file(inf, zs, &err), SL_OK);
    assert_int_equal(sl_infer_file(inf, more, &err), SL_OK);
    assert_int_equal(sl_infer_schema_json(inf, &out, &err), SL_OK);
    assert_string_equal(
        out.data, "[\n"
                  "  {\"name\": \"a\", \"type\": \"INTEGER\", \"mode\": "
                  "\"NULLABLE\"},\n"
                  "  {\"name\": \"t\", \"type\": \"TIMESTAMP\", \"mode\": "
                  "\"NULLABLE\"},\n"
                  "  {\"name\": \"b\", \"type\": \"BOOLEAN\", \"mode\": "
                  "\"REPEATED\"}\n"
                  "]\n");
    struct sl_infer_stats st;
    sl_infer_stats(inf, &st);
    assert_int_equal(st.files, 4);
    assert_int_equal(st.rows, 7);
    sl_infer_destroy(inf);

    /* every row: the "x" widens a to STRING */
    o.sample_rows = 0;
    assert_int_equal(sl_infer_create(&o, &inf, &err), SL_OK);
    assert_int_equal(sl_infer_file(inf, gz, &err), SL_OK);
    sl__buf_reset(&out);
    assert_int_equal(sl_infer_schema_json(inf, &out, &err), SL_OK);
    assert_non_null(strstr(out.data, "\"a\", \"type\": \"STRING\""));
    /* an unreadable file, and an error naming the file of a row */
    err = (struct sl_error){0};
    assert_int_equal(sl_infer_file(inf, "/nonexistent/x.ndjson", &err),
                     -SL_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.ndjson"));
    write_file(more, "{\"a\":1}\n{\"a\":[1]}\n", 18);
    err = (struct sl_error){0};
    assert_int_equal(sl_infer_file(inf, more, &err), -SL_ESCHEMA);
    assert_string_equal(err.path, more);
    assert_int_equal(err.line_no, 2);
    assert_int_equal(err.byte_off, 8);
    sl_infer_destroy(inf);
    sl__buf_release(&out);
    const char *paths[] = {plain, gz, zs, more};
    for (size_t i = 0; i < 4; i++) {
        unlink(paths[i]);
        free((void *)paths[i]);
    }
}

/* ---- allocation failures ------------------------------------------------- */

static int infer_both(struct sl_error *err, struct sl_buf *out)
{
    const char *nd = "{\"a\":1,\"r\":{\"x\":[{\"k\":\"\\u00e9\"}],\"y\":2}}\n"
                     "{\"A\":2.5,\"b\":\"2024-01-02\",\"c\":null}\n";
    const char *csv = "id,v,w\n1,x,\n2,y,3.5\n";
    struct sl_infer_opts o;
    sl_infer_opts_default(&o);
    o.required_if_always_present = true;
    struct sl_infer *inf = NULL;
    int rc = sl_infer_create(&o, &inf, err);
    rc = rc ? rc : sl_infer_buffer(inf, "a", nd, strlen(nd), err);
    rc = rc ? rc : sl_infer_schema_json(inf, out, err);
    sl_infer_destroy(inf);
    inf = NULL;
    o = csv_opts();
    o.null_marker = "NULL";
    rc = rc ? rc : sl_infer_create(&o, &inf, err);
    rc = rc ? rc : sl_infer_buffer(inf, "b", csv, strlen(csv), err);
    rc = rc ? rc : sl_infer_schema_json(inf, out, err);
    sl_infer_destroy(inf);
    return rc;
}

static void test_oom_sweep(void **state)
{
    (void)state;
    int rc;
    uint64_t n = 1;
    do {
        struct sl_error err = {0};
        struct sl_buf out;
        sl__buf_init(&out);
        sl_alloc_fail_after(n);
        rc = infer_both(&err, &out);
        sl_alloc_fail_after(0);
        if (rc != SL_OK && rc != -SL_ENOMEM) {
            fail_msg("allocation %llu: got %d (%s), want SL_ENOMEM",
                     (unsigned long long)n, rc, err.msg);
        }
        sl__buf_release(&out);
        n++;
    } while (rc != SL_OK);
    assert_true(n > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widening),
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_records_arrays),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_csv_values),
        cmocka_unit_test(test_csv_loads),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_json_suite),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
