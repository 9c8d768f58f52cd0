/* test_validate.c - the NDJSON scanner and validator, table-driven from
 * ../shared/docs/BIGQUERY.md §2 (and docs/DECISIONS.md where the spec left a choice). */
#include "core/common.h"
#include "../support/testutil.h"
#include "validate/coerce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char *SCHEMA =
    "{\"fields\": ["
    "{\"name\": \"id\", \"type\": \"INTEGER\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"ts\", \"type\": \"TIMESTAMP\"},"
    "{\"name\": \"ok\", \"type\": \"BOOLEAN\"},"
    "{\"name\": \"tags\", \"type\": \"STRING\", \"mode\": \"REPEATED\"},"
    "{\"name\": \"addr\", \"type\": \"RECORD\", \"fields\": ["
    "  {\"name\": \"city\", \"type\": \"STRING\"},"
    "  {\"name\": \"zip\", \"type\": \"STRING\", \"mode\": \"REQUIRED\"}]},"
    "{\"name\": \"amount\", \"type\": \"NUMERIC\"},"
    "{\"name\": \"f\", \"type\": \"FLOAT64\"},"
    "{\"name\": \"b\", \"type\": \"BYTES\"},"
    "{\"name\": \"d\", \"type\": \"DATE\"},"
    "{\"name\": \"j\", \"type\": \"JSON\"},"
    "{\"name\": \"s\", \"type\": \"STRING\", \"maxLength\": \"5\"},"
    "{\"name\": \"pts\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", \"fields\": ["
    "  {\"name\": \"x\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"}]}"
    "],"
    "\"rules\": ["
    " {\"field\": \"id\", \"minimum\": 0, \"maximum\": 1000000},"
    " {\"field\": \"s\", \"enum\": [\"red\", \"green\", \"blue\"]},"
    " {\"field\": \"addr.city\", \"pattern\": \"^[A-Z]\"},"
    " {\"field\": \"tags\", \"minLength\": 1},"
    " {\"field\": \"addr.zip\", \"pattern\": \"^[0-9]{5}$\", \"when\": {\"field\": \"s\", \"equals\": \"red\"}}"
    "]}";

struct vcase {
    const char *row;
    int want;            /* 0 valid, 1 rejected */
    const char *reason;  /* substring of the reason when rejected */
    const char *field;   /* expected field path, NULL = don't care / none */
};

static const struct vcase cases[] = {
    /* BIGQUERY.md §2.8 worked example */
    {"{\"id\": 1, \"ts\": \"2025-01-01 10:00:00\", \"ok\": true, \"tags\": [\"a\",\"b\"], \"addr\": {\"city\":\"X\",\"zip\":\"1\"}, \"amount\": \"12.30\"}", 0, NULL, NULL},
    {"{\"id\": \"2\", \"ts\": 1735725600, \"ok\": \"Y\", \"tags\": null}", 0, NULL, NULL},
    {"{\"id\": 3, \"ts\": \"2025/01/01T10:00 UTC\", \"ok\": 0}", 0, NULL, NULL},
    {"{\"ts\": \"2025-01-01T10:00:00Z\"}", 1, "Only optional fields can be set to NULL", "id"},
    {"{\"id\": 4, \"extra\": null}", 1, "No such field: extra.", "extra"},
    {"{\"id\": 5, \"id\": 6}", 1, "Multiple definition of field: id", "id"},
    {"{\"id\": 5, \"ID\": 6}", 1, "Multiple definition of field: id", "id"},
    {"{\"id\": 7, \"tags\": \"a\"}", 1, "Repeated field must be imported as a JSON array", "tags"},
    {"{\"id\": 8, \"tags\": [\"a\", null]}", 1, "cannot contain a NULL element", "tags"},
    {"{\"id\": 9, \"addr\": {\"city\": \"X\"}}", 1, "Only optional fields can be set to NULL", "addr.zip"},
    {"{\"id\": 10, \"ts\": \"01/02/2025 10:00\"}", 1, "Couldn't convert value to timestamp", "ts"},
    {"{\"id\": 9223372036854775808}", 1, "INTEGER", "id"},
    {"{\"id\": 11, \"amount\": 1e29}", 1, "Invalid NUMERIC value", "amount"},
    {"{\"id\": 12, \"amount\": \"0.1234567891\"}", 0, NULL, NULL},
    /* nesting and unknown keys */
    {"{\"id\": 13, \"addr\": {\"zip\": \"1\", \"zz\": 1}}", 1, "No such field: addr.zz.", "addr.zz"},
    {"{\"id\": 14, \"addr\": null}", 0, NULL, NULL},
    {"{\"id\": 15, \"addr\": \"x\"}", 1, "Cannot convert a string to a RECORD", "addr"},
    {"{\"id\": 16, \"ok\": [true]}", 1, "Array specified for non-repeated field: ok.", "ok"},
    {"{\"id\": 17, \"pts\": [{\"x\": 1}, {\"x\": \"2\"}]}", 0, NULL, NULL},
    {"{\"id\": 18, \"pts\": [{\"x\": 1}, {}]}", 1, "Only optional fields", "pts.x"},
    {"{\"id\": 19, \"tags\": [[\"a\"]]}", 1, "Nested arrays", "tags"},
    /* types */
    {"{\"id\": 20, \"f\": \"NaN\"}", 0, NULL, NULL},
    {"{\"id\": 21, \"f\": \"abc\"}", 1, "FLOAT", "f"},
    {"{\"id\": 22, \"b\": \"aGVsbG8=\"}", 0, NULL, NULL},
    {"{\"id\": 23, \"b\": \"aGVsbG8\"}", 1, "BYTES", "b"},
    {"{\"id\": 24, \"d\": \"2024-02-29\"}", 0, NULL, NULL},
    {"{\"id\": 25, \"d\": \"2023-02-29\"}", 1, "DATE", "d"},
    {"{\"id\": 26, \"j\": {\"a\": [1, 2, {\"b\": null}]}}", 0, NULL, NULL},
    {"{\"id\": 27, \"j\": [1, }", 1, "JSON parsing error", NULL},
    {"{\"id\": 28, \"ok\": \"maybe\"}", 1, "BOOLEAN", "ok"},
    {"{\"id\": 29, \"d\": 20240101}", 1, "Cannot convert a number to DATE", "d"},
    {"{\"id\": 30, \"id2\": 1}", 1, "No such field: id2.", "id2"},
    {"{\"id\": 1.0}", 0, NULL, NULL},
    {"{\"id\": 1.5}", 1, "INTEGER", "id"},
    {"{\"id\": true}", 1, "Cannot convert a boolean to INTEGER", "id"},
    /* rules */
    {"{\"id\": -1}", 1, "Rule failed: minimum", "id"},
    {"{\"id\": 31, \"s\": \"green\"}", 0, NULL, NULL},
    {"{\"id\": 32, \"s\": \"pink\"}", 1, "Rule failed: enum", "s"},
    {"{\"id\": 33, \"s\": \"purple\"}", 1, "maxLength", "s"},
    {"{\"id\": 34, \"addr\": {\"city\": \"paris\", \"zip\": \"1\"}}", 1, "Rule failed: pattern", "addr.city"},
    {"{\"id\": 35, \"tags\": [\"a\", \"\"]}", 1, "Rule failed: minLength", "tags"},
    {"{\"id\": 36, \"s\": \"red\", \"addr\": {\"zip\": \"75001\"}}", 0, NULL, NULL},
    {"{\"id\": 37, \"s\": \"red\", \"addr\": {\"zip\": \"7500\"}}", 1, "Rule failed: pattern", "addr.zip"},
    {"{\"id\": 38, \"s\": \"blue\", \"addr\": {\"zip\": \"7500\"}}", 0, NULL, NULL},
    /* syntax, framing, encoding */
    {"[1, 2]", 1, "not a JSON object", NULL},
    {"\"x\"", 1, "not a JSON object", NULL},
    {"{\"id\": 1", 1, "JSON parsing error", NULL},
    {"{\"id\": 1} x", 1, "unexpected data after", NULL},
    {"{\"id\": 1,}", 1, "JSON parsing error", NULL},
    {"{\"id\": 01}", 1, "leading zero", NULL},
    {"{\"id\": 39, \"s\": \"\xff\"}", 1, "invalid UTF-8", NULL},
    {"{\"id\": 40, \"s\": \"\xed\xa0\x80\"}", 1, "invalid UTF-8", NULL},
    {"{\"id\": 41, \"s\": \"\\ud800\"}", 1, "lone surrogate", NULL},
    {"{\"id\": 42, \"s\": \"\\u0072ed\"}", 0, NULL, NULL},
    {"{\"id\": 43, \"s\": \"a\tb\"}", 1, "control character", NULL},
    {"{\"id\": 44}\r", 0, NULL, NULL},
    {" {\"id\": 45} ", 0, NULL, NULL},
};

/* A sink that keeps the last row's first values for checks. */
struct capture {
    int calls;
    struct sl_val id, ts, amount, tags, j;
    char tag0[32];
    char jtext[128];
};

static int capture_row(void *ud, const struct sl_val *cols, size_t n, struct sl_error *err)
{
    (void)err;
    struct capture *c = ud;
    assert_int_equal(n, 12);
    c->calls++;
    c->id = cols[0];
    c->ts = cols[1];
    c->amount = cols[5];
    c->tags = cols[3];
    c->j = cols[9];
    c->tag0[0] = '\0';
    if (cols[3].kind == SL_V_LIST && cols[3].len > 0) {
        snprintf(c->tag0, sizeof(c->tag0), "%.*s", (int)cols[3].u.v[0].len, cols[3].u.v[0].u.s);
    }
    c->jtext[0] = '\0';
    if (cols[9].kind == SL_V_STR) {
        snprintf(c->jtext, sizeof(c->jtext), "%.*s", (int)cols[9].len, cols[9].u.s);
    }
    return SL_OK;
}

static struct sl_validator *make(struct sl_table *t, bool ignore_unknown)
{
    struct sl_vopts o;
    sl_vopts_default(&o);
    o.ignore_unknown = ignore_unknown;
    struct sl_validator *v = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_validator_create(t, &o, &v, &err), SL_OK);
    return v;
}

static void test_cases(void **state)
{
    (void)state;
    struct sl_table *t = tu_table(SCHEMA);
    struct sl_validator *v = make(t, false);
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        const struct vcase *c = &cases[i];
        struct sl_reject r;
        int rc = sl_validate_ndjson_row(v, c->row, strlen(c->row), NULL, &r);
        if (rc != c->want) {
            fail_msg("case %zu %s: got %d want %d (%s)", i, c->row, rc, c->want,
                     rc == 1 ? r.reason : "accepted");
        }
        if (rc == 1 && c->reason && strstr(r.reason, c->reason) == NULL) {
            fail_msg("case %zu %s: reason '%s' lacks '%s'", i, c->row, r.reason, c->reason);
        }
        if (rc == 1 && c->field && (r.field == NULL || strcmp(r.field, c->field) != 0)) {
            fail_msg("case %zu %s: field '%s' want '%s'", i, c->row, r.field ? r.field : "(null)",
                     c->field);
        }
    }
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

static void test_values(void **state)
{
    (void)state;
    struct sl_table *t = tu_table(SCHEMA);
    struct sl_validator *v = make(t, false);
    struct capture cap = {0};
    struct sl_row_sink sink = {capture_row, &cap};
    struct sl_reject r;
    const char *row = "{\"id\": \"2\", \"ts\": 1735725600, \"ok\": \"Y\", \"tags\": [\"x\\\"y\"],"
                      " \"amount\": \"0.1234567891\", \"j\": { \"b\" : [1, 2.5, \"s\"] } }";
    assert_int_equal(sl_validate_ndjson_row(v, row, strlen(row), &sink, &r), 0);
    assert_int_equal(cap.calls, 1);
    assert_int_equal(cap.id.kind, SL_V_I64);
    assert_int_equal(cap.id.u.i, 2);
    assert_int_equal(cap.ts.kind, SL_V_TS);
    assert_int_equal(cap.ts.u.i, 1735725600LL * 1000000);
    assert_int_equal(cap.amount.kind, SL_V_DEC);
    assert_true(cap.amount.u.d == 123456789); /* rounded to scale 9 */
    assert_int_equal(cap.tags.len, 1);
    assert_string_equal(cap.tag0, "x\"y");
    assert_string_equal(cap.jtext, "{\"b\":[1,2.5,\"s\"]}");
    /* absent REPEATED -> empty list, absent NULLABLE -> NULL */
    const char *row2 = "{\"id\": 7}";
    assert_int_equal(sl_validate_ndjson_row(v, row2, strlen(row2), &sink, &r), 0);
    assert_int_equal(cap.tags.kind, SL_V_LIST);
    assert_int_equal(cap.tags.len, 0);
    assert_int_equal(cap.ts.kind, SL_V_NULL);
    assert_int_equal(cap.j.kind, SL_V_NULL);
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

static void test_ignore_unknown(void **state)
{
    (void)state;
    struct sl_table *t = tu_table(SCHEMA);
    struct sl_validator *v = make(t, true);
    struct sl_reject r;
    const char *rows[] = {
        "{\"id\": 4, \"extra\": null}",
        "{\"id\": 4, \"extra\": {\"deep\": [1, {\"x\": [true, false, null]}]}}",
        "{\"id\": 4, \"addr\": {\"zip\": \"1\", \"unknown\": [1,2]}}",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(rows); i++) {
        int rc = sl_validate_ndjson_row(v, rows[i], strlen(rows[i]), NULL, &r);
        if (rc != 0) {
            fail_msg("%s: %s", rows[i], r.reason);
        }
    }
    /* an unknown value must still be valid JSON */
    const char *bad = "{\"id\": 4, \"extra\": [1,}";
    assert_int_equal(sl_validate_ndjson_row(v, bad, strlen(bad), NULL, &r), 1);
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    struct sl_table *t = tu_table(SCHEMA);
    struct sl_validator *v = make(t, true);
    size_t n = 100000;
    char *row = malloc(n + 32);
    strcpy(row, "{\"id\": 1, \"zz\": ");
    size_t o = strlen(row);
    memset(row + o, '[', n);
    row[o + n] = '\0';
    struct sl_reject r;
    assert_int_equal(sl_validate_ndjson_row(v, row, strlen(row), NULL, &r), 1);
    assert_non_null(strstr(r.reason, "nesting deeper"));
    free(row);
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_ignore_unknown),
        cmocka_unit_test(test_deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
