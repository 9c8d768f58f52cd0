/* test_schema.c - unit tests of the schema stage: type names, definition
 * parsing and BigQuery checks, rules, the registry layout and lookups,
 * allocation failures. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "schema/schema.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ftw.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

/* ------------------------------------------------------------------ helpers */

static struct sl_table *parse_ok(const char *json)
{
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    int rc = sl_table_parse(json, strlen(json), "t.json", "ds", "tb", &t, &err);
    if (rc != SL_OK) {
        fprintf(stderr, "unexpected failure: %s: %s: %s\n", err.path,
                err.column, err.msg);
    }
    assert_int_equal(rc, SL_OK);
    assert_non_null(t);
    return t;
}

/* The definition must be refused; the first problem is at column and its
 * message contains `needle`. */
static void parse_bad(const char *json, const char *column, const char *needle)
{
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    char want[sizeof(err.column)];
    snprintf(want, sizeof(want), "%s",
             column); /* err.column truncates long paths */
    column = want;
    int rc =
        sl_table_parse(json, strlen(json), "bad.json", "ds", "tb", &t, &err);
    if (rc != -SL_ESCHEMA || strcmp(err.column, column) != 0 ||
        strstr(err.msg, needle) == NULL) {
        fprintf(stderr,
                "definition: %s\n  rc=%d column=\"%s\" msg=\"%s\"\n  want "
                "column=\"%s\" "
                "msg containing \"%s\"\n",
                json, rc, err.column, err.msg, column, needle);
    }
    assert_int_equal(rc, -SL_ESCHEMA);
    assert_null(t);
    assert_string_equal(err.path, "bad.json");
    assert_string_equal(err.column, column);
    assert_non_null(strstr(err.msg, needle));
}

static const struct sl_field *find(const struct sl_field *rec, const char *name)
{
    return sl_field_find(rec, name, strlen(name));
}

static const struct sl_check *check_of(const struct sl_field *f,
                                       enum sl_check_kind k, size_t nth)
{
    for (size_t i = 0; i < f->n_checks; i++) {
        if (f->checks[i].kind == k && nth-- == 0) {
            return &f->checks[i];
        }
    }
    return NULL;
}

static bool re_match(const struct sl_check *ck, const char *s)
{
    pcre2_code *re = (pcre2_code *)ck->re;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[1024], tmp[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    /* create the folders on the way */
    for (char *p = strchr(path + strlen(dir) + 1, '/'); p != NULL;
         p = strchr(p + 1, '/')) {
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(p - path), path);
        mkdir(tmp, 0700);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *make_tmpdir(void)
{
    char *d = strdup("/tmp/sl_test_schema_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

/* ------------------------------------------------------------------ types */

static void test_type_names(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum sl_type t;
    } ok[] = {
        {"STRING", SL_T_STRING},
        {"string", SL_T_STRING},
        {"FLOAt", SL_T_FLOAT64},
        {"INT64", SL_T_INT64},
        {"integer", SL_T_INT64},
        {"FLOAT64", SL_T_FLOAT64},
        {"BOOL", SL_T_BOOL},
        {"Boolean", SL_T_BOOL},
        {"STRUCT", SL_T_RECORD},
        {"record", SL_T_RECORD},
        {"BIGNUMERIC", SL_T_BIGNUMERIC},
        {"json", SL_T_JSON},
        {"RANGE", SL_T_RANGE},
        {"INTERVAL", SL_T_INTERVAL},
        {"geography", SL_T_GEOGRAPHY},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(ok); i++) {
        enum sl_type t;
        assert_true(sl_type_parse(ok[i].in, &t));
        assert_int_equal(t, ok[i].t);
    }
    static const char *const bad[] = {"BIGINT",  "DECIMAL", "INT",   "",
                                      "STRINGS", "VARCHAR", "ARRAY", "STRING "};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        enum sl_type t;
        assert_false(sl_type_parse(bad[i], &t));
    }
    assert_string_equal(sl_type_name(SL_T_INT64), "INTEGER");
    assert_string_equal(sl_type_name(SL_T_RECORD), "RECORD");
    assert_string_equal(sl_type_name(SL_T_BOOL), "BOOLEAN");
    assert_string_equal(sl_type_name(SL_T_FLOAT64), "FLOAT");
    enum sl_mode m;
    assert_true(sl_mode_parse("nullable", &m));
    assert_int_equal(m, SL_M_NULLABLE);
    assert_true(sl_mode_parse("Repeated", &m));
    assert_int_equal(m, SL_M_REPEATED);
    assert_false(sl_mode_parse("OPTIONAL", &m));
    assert_string_equal(sl_mode_name(SL_M_REQUIRED), "REQUIRED");
}

/* ------------------------------------------------------------------ parsing */

static void test_parse_array_form(void **state)
{
    (void)state;
    struct sl_table *t = parse_ok(
        "[{\"name\": \"id\", \"type\": \"string\", \"mode\": \"required\", "
        "\"maxLength\": \"64\"},"
        " {\"name\": \"amount\", \"type\": \"NUMERIC\", \"precision\": \"12\", "
        "\"scale\": 2,"
        "  \"roundingMode\": \"ROUND_HALF_EVEN\"},"
        " {\"name\": \"Tags\", \"type\": \"STRING\", \"mode\": \"REPEATED\"},"
        " {\"name\": \"ts\", \"type\": \"TIMESTAMP\", "
        "\"defaultValueExpression\": "
        "   \"CURRENT_TIMESTAMP()\", \"descrption\": \"misspelled keys are "
        "ignored\"},"
        " {\"name\": \"validity\", \"type\": \"RANGE\", \"rangeElementType\": "
        "{\"type\": \"DATE\"}},"
        " {\"name\": \"addr\", \"type\": \"RECORD\", \"fields\": ["
        "   {\"name\": \"city\", \"type\": \"STRING\", \"description\": "
        "\"town\"},"
        "   {\"name\": \"geo\", \"type\": \"STRUCT\", \"mode\": \"REPEATED\", "
        "\"fields\": ["
        "     {\"name\": \"lat\", \"type\": \"FLOAT64\"}]}]}]");
    assert_string_equal(t->dataset, "ds");
    assert_string_equal(t->name, "tb");
    assert_string_equal(t->file, "t.json");
    assert_int_equal(t->root.n_fields, 6);
    assert_int_equal(sl_table_count_fields(t), 9);
    assert_int_equal(t->part_kind, SL_PART_NONE);
    assert_true(t->has_required_checks);

    const struct sl_field *id = find(&t->root, "ID");
    assert_non_null(id);
    assert_ptr_equal(id, &t->root.fields[0]);
    assert_string_equal(id->name, "id");
    assert_int_equal(id->type, SL_T_STRING);
    assert_int_equal(id->mode, SL_M_REQUIRED);
    assert_int_equal(id->max_length, 64);
    assert_null(id->parent);

    const struct sl_field *amount = find(&t->root, "amount");
    assert_int_equal(amount->precision, 12);
    assert_int_equal(amount->scale, 2);
    assert_true(amount->has_precision);
    assert_true(amount->round_half_even);

    assert_non_null(find(&t->root, "tags"));
    assert_null(find(&t->root, "tag"));
    assert_null(sl_field_find(&t->root, "tagsx", 4 + 1));
    assert_non_null(sl_field_find(&t->root, "tagsx", 4));

    const struct sl_field *ts = find(&t->root, "ts");
    assert_string_equal(ts->default_expr, "CURRENT_TIMESTAMP()");
    assert_int_equal(ts->ts_precision, 6);
    assert_null(ts->description);
    assert_int_equal(find(&t->root, "validity")->range_elem, SL_T_DATE);

    const struct sl_field *addr = find(&t->root, "addr");
    assert_int_equal(addr->type, SL_T_RECORD);
    assert_int_equal(addr->idx, 5);
    const struct sl_field *geo = find(addr, "GEO");
    assert_non_null(geo);
    assert_ptr_equal(geo->parent, addr);
    assert_int_equal(geo->idx, 1);
    assert_string_equal(geo->path, "addr.geo");
    const struct sl_field *lat = find(geo, "lat");
    assert_string_equal(lat->path, "addr.geo.lat");
    assert_ptr_equal(lat->parent, geo);
    assert_string_equal(find(addr, "city")->description, "town");
    assert_null(find(lat, "x")); /* a leaf has no sub-fields */
    sl_table_destroy(t);
    sl_table_destroy(NULL);
}

static void test_parse_object_form(void **state)
{
    (void)state;
    struct sl_table *t = parse_ok(
        "{\"description\": \"orders\", \"note\": \"free text\","
        " \"fields\": [{\"name\": \"order_ts\", \"type\": \"TIMESTAMP\", "
        "\"mode\": \"REQUIRED\"},"
        "  {\"name\": \"customer_id\", \"type\": \"INT64\"},"
        "  {\"name\": \"region\", \"type\": \"STRING\"}],"
        " \"partitioning\": {\"type\": \"hour\", \"field\": \"ORDER_TS\"},"
        " \"clustering\": {\"fields\": [\"region\", \"customer_id\"]}}");
    assert_string_equal(t->description, "orders");
    assert_int_equal(t->part_kind, SL_PART_TIME);
    assert_string_equal(t->part_type, "HOUR");
    assert_ptr_equal(t->part_field, find(&t->root, "order_ts"));
    assert_int_equal(t->n_cluster, 2);
    assert_ptr_equal(t->cluster[0], find(&t->root, "region"));
    assert_ptr_equal(t->cluster[1], find(&t->root, "customer_id"));
    assert_int_equal(t->n_checks, 0);
    sl_table_destroy(t);

    /* REST names, ingestion-time partitioning */
    t = parse_ok("{\"fields\": [{\"name\": \"a\", \"type\": \"DATE\"}],"
                 " \"timePartitioning\": {\"type\": \"DAY\", \"expirationMs\": "
                 "\"86400000\"}}");
    assert_int_equal(t->part_kind, SL_PART_TIME);
    assert_null(t->part_field);
    sl_table_destroy(t);

    static const char *const ranges[] = {
        "\"partitioning\": {\"field\": \"cid\", \"range\": {\"start\": 0, "
        "\"end\": 100, "
        "\"interval\": 10}}",
        "\"partitioning\": {\"range\": {\"field\": \"cid\", \"start\": \"0\", "
        "\"end\": \"100\", "
        "\"interval\": \"10\"}}",
        "\"rangePartitioning\": {\"field\": \"cid\", \"range\": {\"start\": "
        "\"0\", \"end\": "
        "\"100\", \"interval\": \"10\"}}",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(ranges); i++) {
        char buf[512];
        snprintf(
            buf, sizeof(buf),
            "{\"fields\": [{\"name\": \"cid\", \"type\": \"INTEGER\"}], %s}",
            ranges[i]);
        t = parse_ok(buf);
        assert_int_equal(t->part_kind, SL_PART_RANGE);
        assert_ptr_equal(t->part_field, &t->root.fields[0]);
        assert_int_equal(t->range_start, 0);
        assert_int_equal(t->range_end, 100);
        assert_int_equal(t->range_interval, 10);
        sl_table_destroy(t);
    }
}

/* Every check of BIGQUERY.md §1.9 and §4.7-4.9, with the column it names. */
static void test_parse_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json, *column, *needle;
    } cases[] = {
        {"", "", "invalid JSON"},
        {"[{\"name\": \"a\", \"type\": \"STRING\"},]", "", "invalid JSON"},
        {"{\"fields\": [{\"name\": \"a\", \"type\": \"STRING\", \"name\": "
         "\"b\"}]}",
         "", "duplicate"},
        {"42", "", "'[' or '{' expected"},
        {"[]", "", "non-empty"},
        {"{\"fields\": []}", "", "non-empty"},
        {"{\"feilds\": [{\"name\": \"a\", \"type\": \"STRING\"}]}", "",
         "unknown key \"feilds\""},
        {"{\"a\": [{\"name\": \"a\", \"type\": \"STRING\"}], \"b\": []}", "",
         "unknown key"},
        {"[\"a\"]", "[0]", "JSON object"},
        {"[{\"type\": \"STRING\"}]", "[0]", "no \"name\""},
        {"[{\"name\": \"a\"}]", "a", "no \"type\""},
        {"[{\"name\": \"a\", \"type\": \"BIGINT\"}]", "a",
         "SQL-only alias; use INTEGER"},
        {"[{\"name\": \"a\", \"type\": \"DECIMAL\"}]", "a", "use NUMERIC"},
        {"[{\"name\": \"a\", \"type\": \"TEXT\"}]", "a", "use STRING"},
        {"[{\"name\": \"a\", \"type\": \"STRNG\"}]", "a",
         "unknown type \"STRNG\""},
        {"[{\"name\": \"a\", \"type\": \"STRING\", \"mode\": \"OPTIONAL\"}]",
         "a", "mode must"},
        {"[{\"name\": \"a;b\", \"type\": \"STRING\"}]", "a;b",
         "invalid field name"},
        {"[{\"name\": \"a(b)\", \"type\": \"STRING\"}]", "a(b)",
         "invalid field name"},
        {"[{\"name\": \"a.b\", \"type\": \"STRING\"}]", "a.b",
         "invalid field name"},
        {"[{\"name\": \"\", \"type\": \"STRING\"}]", "", "invalid field name"},
        {"[{\"name\": \"_PARTITIONTIME\", \"type\": \"STRING\"}]",
         "_PARTITIONTIME", "reserved prefix _PARTITION"},
        {"[{\"name\": \"_table_x\", \"type\": \"STRING\"}]", "_table_x",
         "reserved prefix"},
        {"[{\"name\": \"a\", \"type\": \"STRING\"}, {\"name\": \"A\", "
         "\"type\": \"INT64\"}]",
         "A", "duplicate field name"},
        {"[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [{\"name\": "
         "\"x\", \"type\": "
         "\"STRING\"}, {\"name\": \"X\", \"type\": \"STRING\"}]}]",
         "r.X", "duplicate field name"},
        {"[{\"name\": \"r\", \"type\": \"RECORD\"}]", "r", "has no schema"},
        {"[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": []}]", "r",
         "has no schema"},
        {"[{\"name\": \"s\", \"type\": \"STRING\", \"fields\": [{\"name\": "
         "\"x\", \"type\": "
         "\"STRING\"}]}]",
         "s", "only allowed on RECORD"},
        {"[{\"name\": \"a\", \"type\": \"INT64\", \"maxLength\": 5}]", "a",
         "maxLength is only"},
        {"[{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": 0}]", "a",
         "positive"},
        {"[{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": \"ten\"}]",
         "a", "positive"},
        {"[{\"name\": \"a\", \"type\": \"FLOAT\", \"precision\": 5}]", "a",
         "only allowed on NUMERIC"},
        {"[{\"name\": \"a\", \"type\": \"NUMERIC\", \"scale\": 2}]", "a",
         "scale needs a precision"},
        {"[{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 30}]", "a",
         "out of range 1..29"},
        {"[{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 40, "
         "\"scale\": 10}]",
         "a", "scale 10 is out of range 0..9"},
        {"[{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 3, "
         "\"scale\": 5}]",
         "a", "precision 3 is out of range 5..34"},
        {"[{\"name\": \"a\", \"type\": \"BIGNUMERIC\", \"precision\": 39}]",
         "a", "1..38"},
        {"[{\"name\": \"a\", \"type\": \"STRING\", \"roundingMode\": "
         "\"ROUND_HALF_EVEN\"}]",
         "a", "roundingMode is only"},
        {"[{\"name\": \"a\", \"type\": \"NUMERIC\", \"roundingMode\": \"UP\"}]",
         "a", "roundingMode must"},
        {"[{\"name\": \"a\", \"type\": \"RANGE\"}]", "a",
         "needs rangeElementType"},
        {"[{\"name\": \"a\", \"type\": \"RANGE\", \"rangeElementType\": "
         "{\"type\": \"INT64\"}}]",
         "a", "rangeElementType must"},
        {"[{\"name\": \"a\", \"type\": \"DATE\", \"rangeElementType\": "
         "{\"type\": \"DATE\"}}]",
         "a", "only allowed on RANGE"},
        {"[{\"name\": \"a\", \"type\": \"INT64\", \"collation\": \"und:ci\"}]",
         "a", "collation is only"},
        {"[{\"name\": \"a\", \"type\": \"TIMESTAMP\", \"timestampPrecision\": "
         "9}]",
         "a", "6 or 12"},
        {"[{\"name\": \"a\", \"type\": \"STRING\", \"description\": 5}]", "a",
         "must be a string"},
        /* partitioning */
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\"}], "
         "\"partitioning\": {\"type\": "
         "\"HOUR\", \"field\": \"d\"}}",
         "d", "cannot be partitioned by HOUR"},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"STRING\"}], "
         "\"partitioning\": {\"type\": "
         "\"DAY\", \"field\": \"d\"}}",
         "d", "needs DATE, TIMESTAMP or DATETIME"},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\"}], "
         "\"partitioning\": {\"type\": "
         "\"WEEK\", \"field\": \"d\"}}",
         "", "DAY, HOUR, MONTH or YEAR"},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\"}], "
         "\"partitioning\": {\"type\": "
         "\"DAY\", \"field\": \"e\"}}",
         "e", "no top-level column"},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\", \"mode\": "
         "\"REPEATED\"}], "
         "\"partitioning\": {\"type\": \"DAY\", \"field\": \"d\"}}",
         "d", "REPEATED"},
        {"{\"fields\": [{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": "
         "[{\"name\": \"d\", "
         "\"type\": \"DATE\"}]}], \"partitioning\": {\"type\": \"DAY\", "
         "\"field\": \"r.d\"}}",
         "r.d", "no top-level column"},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\"}], "
         "\"partitioning\": {\"type\": "
         "\"DAY\", \"field\": \"d\", \"expire\": 1}}",
         "", "unknown key \"expire\""},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\"}], "
         "\"partitioning\": {\"type\": "
         "\"DAY\"}, \"timePartitioning\": {\"type\": \"DAY\"}}",
         "", "use one"},
        {"{\"fields\": [{\"name\": \"d\", \"type\": \"DATE\"}], "
         "\"timePartitioning\": {\"type\": "
         "\"DAY\", \"expirationMs\": 0}}",
         "", "expirationMs"},
        {"{\"fields\": [{\"name\": \"c\", \"type\": \"FLOAT\"}], "
         "\"partitioning\": {\"field\": "
         "\"c\", \"range\": {\"start\": 0, \"end\": 10, \"interval\": 1}}}",
         "c", "needs INTEGER"},
        {"{\"fields\": [{\"name\": \"c\", \"type\": \"INT64\"}], "
         "\"partitioning\": {\"field\": "
         "\"c\", \"range\": {\"start\": 10, \"end\": 10, \"interval\": 1}}}",
         "", "start < end"},
        {"{\"fields\": [{\"name\": \"c\", \"type\": \"INT64\"}], "
         "\"partitioning\": {\"field\": "
         "\"c\", \"range\": {\"start\": 0, \"end\": 100001, \"interval\": "
         "10}}}",
         "", "10001 ranges"},
        {"{\"fields\": [{\"name\": \"c\", \"type\": \"INT64\"}], "
         "\"partitioning\": {\"field\": "
         "\"c\", \"range\": {\"start\": 0, \"end\": 10}}}",
         "", "integer start, end and interval"},
        {"{\"fields\": [{\"name\": \"c\", \"type\": \"INT64\"}], "
         "\"partitioning\": {\"range\": "
         "{\"start\": 0, \"end\": 10, \"interval\": 1}}}",
         "", "field once"},
        /* clustering */
        {"{\"fields\": [{\"name\": \"f\", \"type\": \"FLOAT\"}], "
         "\"clustering\": {\"fields\": "
         "[\"f\"]}}",
         "f", "cannot be clustered"},
        {"{\"fields\": [{\"name\": \"j\", \"type\": \"JSON\"}], "
         "\"clustering\": {\"fields\": "
         "[\"j\"]}}",
         "j", "cannot be clustered"},
        {"{\"fields\": [{\"name\": \"a\", \"type\": \"STRING\"}], "
         "\"clustering\": {\"fields\": "
         "[\"a\", \"a\", \"a\", \"a\", \"a\"]}}",
         "", "1 to 4"},
        {"{\"fields\": [{\"name\": \"a\", \"type\": \"STRING\"}], "
         "\"clustering\": {\"fields\": "
         "[\"a\", \"A\"]}}",
         "a", "listed twice"},
        {"{\"fields\": [{\"name\": \"a\", \"type\": \"STRING\", \"mode\": "
         "\"REPEATED\"}], "
         "\"clustering\": {\"fields\": [\"a\"]}}",
         "a", "REPEATED"},
        {"{\"fields\": [{\"name\": \"a\", \"type\": \"STRING\"}], "
         "\"clustering\": [\"a\"]}",
         "", "clustering must be an object"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        parse_bad(cases[i].json, cases[i].column, cases[i].needle);
    }
}

static void test_parse_limits(void **state)
{
    (void)state;
    struct sl_buf b;
    struct sl_table *t;
    struct sl_error err = {0};
    sl__buf_init(&b);
    /* nesting: 15 RECORD levels load, 16 do not (a top-level RECORD is level 1)
     */
    for (int levels = 15; levels <= 16; levels++) {
        sl__buf_reset(&b);
        for (int i = 0; i < levels; i++) {
            assert_int_equal(
                sl__buf_printf(&b,
                               "[{\"name\": \"r%d\", \"type\": \"RECORD\", "
                               "\"fields\": ",
                               i),
                SL_OK);
        }
        assert_int_equal(
            sl__buf_printf(&b, "[{\"name\": \"leaf\", \"type\": \"STRING\"}]"),
            SL_OK);
        for (int i = 0; i < levels; i++) {
            assert_int_equal(sl__buf_printf(&b, "}]"), SL_OK);
        }
        memset(&err, 0, sizeof(err));
        int rc = sl_table_parse(b.data, b.len, "deep.json", "d", "t", &t, &err);
        if (levels == 15) {
            assert_int_equal(rc, SL_OK);
            assert_int_equal(sl_table_count_fields(t), 16);
            const struct sl_field *f = &t->root;
            for (int i = 0; i < 15; i++) {
                f = &f->fields[0];
            }
            assert_string_equal(
                f->fields[0].path,
                "r0.r1.r2.r3.r4.r5.r6.r7.r8.r9.r10.r11.r12.r13.r14.leaf");
            sl_table_destroy(t);
        } else {
            assert_int_equal(rc, -SL_ESCHEMA);
            assert_non_null(strstr(err.msg, "16 levels"));
            assert_string_equal(
                err.column,
                "r0.r1.r2.r3.r4.r5.r6.r7.r8.r9.r10.r11.r12.r13.r14.r15");
        }
    }
    /* 10,000 field nodes load (RECORD nodes count too), 10,001 do not */
    for (int n = 10000; n <= 10001; n++) {
        sl__buf_reset(&b);
        assert_int_equal(
            sl__buf_printf(
                &b, "[{\"name\": \"rec\", \"type\": \"RECORD\", "
                    "\"fields\": [{\"name\": \"x\", \"type\": \"INT64\"}]}"),
            SL_OK);
        for (int i = 2; i < n; i++) {
            assert_int_equal(
                sl__buf_printf(&b, ",{\"name\": \"c%d\", \"type\": \"STRING\"}",
                               i),
                SL_OK);
        }
        assert_int_equal(sl__buf_printf(&b, "]"), SL_OK);
        memset(&err, 0, sizeof(err));
        int rc = sl_table_parse(b.data, b.len, "wide.json", "d", "t", &t, &err);
        if (n == 10000) {
            assert_int_equal(rc, SL_OK);
            assert_int_equal(sl_table_count_fields(t), 10000);
            assert_non_null(find(&t->root, "c9999"));
            assert_non_null(find(&t->root, "C5000"));
            assert_null(find(&t->root, "c10000"));
            sl_table_destroy(t);
        } else {
            assert_int_equal(rc, -SL_ESCHEMA);
            assert_non_null(strstr(err.msg, "at most 10000"));
        }
    }
    /* names: 300 characters load, 301 do not; descriptions 1,024 characters */
    char name[302];
    memset(name, 'n', sizeof(name));
    name[300] = '\0';
    sl__buf_reset(&b);
    assert_int_equal(
        sl__buf_printf(&b, "[{\"name\": \"%s\", \"type\": \"STRING\"}]", name),
        SL_OK);
    t = parse_ok(b.data);
    sl_table_destroy(t);
    name[300] = 'n';
    name[301] = '\0';
    sl__buf_reset(&b);
    assert_int_equal(
        sl__buf_printf(&b, "[{\"name\": \"%s\", \"type\": \"STRING\"}]", name),
        SL_OK);
    parse_bad(b.data, name, "301 characters");
    sl__buf_reset(&b);
    assert_int_equal(sl__buf_printf(&b,
                                    "[{\"name\": \"a\", \"type\": \"STRING\", "
                                    "\"description\": \""),
                     SL_OK);
    for (int i = 0; i < 1024; i++) {
        assert_int_equal(sl__buf_printf(&b, "\xc3\xa9"),
                         SL_OK); /* 2 bytes, 1 character */
    }
    assert_int_equal(sl__buf_printf(&b, "\"}]"), SL_OK);
    t = parse_ok(b.data);
    sl_table_destroy(t);
    b.len -= 3;
    assert_int_equal(sl__buf_printf(&b, "x\"}]"), SL_OK);
    parse_bad(b.data, "a", "1025 characters");
    sl__buf_release(&b);
}

static void test_flexible_names(void **state)
{
    (void)state;
    const char *json = "[{\"name\": \"# Joins\", \"type\": \"INT64\"},"
                       " {\"name\": \"Stra\xc3\x9f"
                       "e-Nr\", \"type\": \"STRING\"},"
                       " {\"name\": \"2nd\", \"type\": \"STRING\"}]";
    /* flexible names are the default; classic_names refuses them */
    struct sl_table *t = parse_ok(json);
    assert_non_null(find(&t->root, "# joins"));
    sl_table_destroy(t);
    struct sl_schema_opts o = {.classic_names = true};
    struct sl_error err = {0};
    assert_int_equal(sl_table_parse_ex(json, strlen(json), "f.json", "d", "t",
                                       &o, NULL, &t, &err),
                     -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "classic names"));
    static const char *const bad[] = {"a.b", "a/b", "a(b)", "a\\\"b", "a;b"};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "[{\"name\": \"%s\", \"type\": \"STRING\"}]",
                 bad[i]);
        memset(&err, 0, sizeof(err));
        assert_int_equal(sl_table_parse_ex(buf, strlen(buf), "f.json", "d", "t",
                                           NULL, NULL, &t, &err),
                         -SL_ESCHEMA);
        assert_non_null(strstr(err.msg, "flexible names allow"));
    }
}

/* problems mode reports every problem of a file, each with its path */
static void test_parse_all_problems(void **state)
{
    (void)state;
    const char *json =
        "{\"fields\": [{\"name\": \"1;a\", \"type\": \"STRING\"},"
        " {\"name\": \"b\", \"type\": \"BIGINT\"},"
        " {\"name\": \"r\", \"type\": \"RECORD\", \"fields\": "
        "[{\"name\": \"x\", \"type\": "
        "\"INT64\", \"maxLength\": 3}]}],"
        " \"rules\": [{\"field\": \"nope\", \"minimum\": 1}]}";
    struct sl_buf pb;
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    sl__buf_init(&pb);
    assert_int_equal(sl_table_parse_ex(json, strlen(json), "p.json", "d", "t",
                                       NULL, &pb, &t, &err),
                     -SL_ESCHEMA);
    assert_null(t);
    assert_string_equal(err.column, "1;a");
    assert_non_null(strstr(pb.data, "p.json: 1;a: invalid field name"));
    assert_non_null(strstr(pb.data, "p.json: b: unknown type \"BIGINT\""));
    assert_non_null(strstr(pb.data, "p.json: r.x: maxLength is only allowed"));
    assert_non_null(strstr(pb.data, "p.json: nope: rules[0]: no field nope"));
    sl__buf_release(&pb);
}

/* ------------------------------------------------------------------ rules */

static const char *const rules_def =
    "{\"fields\": ["
    " {\"name\": \"primary_id_type\", \"type\": \"STRING\", \"mode\": "
    "\"REQUIRED\"},"
    " {\"name\": \"primary_id_value\", \"type\": \"STRING\", \"mode\": "
    "\"REQUIRED\"},"
    " {\"name\": \"manufacturer\", \"type\": \"STRING\"},"
    " {\"name\": \"year\", \"type\": \"INTEGER\"},"
    " {\"name\": \"level\", \"type\": \"INT64\"},"
    " {\"name\": \"active\", \"type\": \"BOOL\"},"
    " {\"name\": \"specs\", \"type\": \"RECORD\", \"fields\": ["
    "   {\"name\": \"power_kw\", \"type\": \"FLOAT\"}]},"
    " {\"name\": \"parts\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
    "\"fields\": ["
    "   {\"name\": \"sku\", \"type\": \"STRING\"}, {\"name\": \"qty\", "
    "\"type\": \"INT64\"}]},"
    " {\"name\": \"tags\", \"type\": \"STRING\", \"mode\": \"REPEATED\"}],"
    " \"rules\": ["
    "  {\"field\": \"year\", \"min\": 1900, \"maximum\": 2100},"
    "  {\"field\": \"primary_id_type\", \"enum\": [\"VIN\", \"HIN\", "
    "\"Serial\", \"IMEI\", \"ESN\","
    "   \"Registration\", \"AssetTag\", \"MAC\", \"UUID\"]},"
    "  {\"field\": \"manufacturer\", \"required\": true, \"minLength\": 1, "
    "\"maxLength\": 80},"
    "  {\"field\": \"SPECS.power_kw\", \"minimum\": 0.5},"
    "  {\"field\": \"primary_id_value\", \"pattern\": "
    "\"^[A-HJ-NPR-Z0-9]{17}$\","
    "   \"when\": {\"field\": \"primary_id_type\", \"equals\": \"VIN\"}},"
    "  {\"field\": \"primary_id_value\", \"pattern\": \"^[0-9]{15}$\","
    "   \"when\": {\"field\": \"primary_id_type\", \"in\": [\"IMEI\", "
    "\"ESN\"]}},"
    "  {\"field\": \"manufacturer\", \"minLength\": 2, \"when\": {\"field\": "
    "\"active\", "
    "   \"equals\": true}},"
    "  {\"field\": \"level\", \"enum\": [1, \"2\", -3]},"
    "  {\"field\": \"parts.qty\", \"minimum\": 1, \"description\": \"each "
    "element\"},"
    "  {\"field\": \"tags\", \"maxLength\": 20}"
    " ]}";

static void test_rules_compile(void **state)
{
    (void)state;
    struct sl_table *t = parse_ok(rules_def);
    assert_int_equal(t->n_checks, 13);
    assert_int_equal(t->n_cond_slots, 2);
    assert_true(t->has_required_checks);

    const struct sl_field *year = find(&t->root, "year");
    assert_int_equal(year->n_checks, 2);
    assert_int_equal(year->checks[0].kind, SL_CK_MINIMUM);
    assert_true(year->checks[0].num == 1900.0);
    assert_string_equal(year->checks[0].name, "minimum 1900");
    assert_string_equal(year->checks[1].name, "maximum 2100");
    assert_string_equal(year->checks[0].path, "year");
    assert_null(year->checks[0].when);

    const struct sl_field *pit = find(&t->root, "primary_id_type");
    assert_true(pit->in_condition);
    assert_int_equal(pit->cond_slot, 0);
    const struct sl_check *en = check_of(pit, SL_CK_ENUM, 0);
    assert_non_null(en);
    assert_int_equal(en->enum_len, 9);
    assert_string_equal(en->enum_vals[2], "Serial");
    assert_string_equal(
        en->name, "enum [VIN, HIN, Serial, IMEI, ESN, Registration, AssetTag, "
                  "MAC, ...]");

    const struct sl_field *man = find(&t->root, "manufacturer");
    assert_int_equal(man->n_checks, 4);
    assert_non_null(check_of(man, SL_CK_REQUIRED, 0));
    assert_string_equal(check_of(man, SL_CK_REQUIRED, 0)->name, "required");
    assert_int_equal(check_of(man, SL_CK_MIN_LENGTH, 0)->len, 1);
    assert_int_equal(check_of(man, SL_CK_MAX_LENGTH, 0)->len, 80);
    assert_string_equal(check_of(man, SL_CK_MAX_LENGTH, 0)->name,
                        "maxLength 80");
    const struct sl_check *cond_len = check_of(man, SL_CK_MIN_LENGTH, 1);
    assert_non_null(cond_len->when);
    assert_string_equal(cond_len->when->equals, "true");
    assert_string_equal(cond_len->name, "minLength 2 (when active = true)");
    const struct sl_field *active = find(&t->root, "active");
    assert_ptr_equal(cond_len->when->field, active);
    assert_true(active->in_condition);
    assert_int_equal(active->cond_slot, 1);

    const struct sl_field *kw = find(find(&t->root, "specs"), "power_kw");
    assert_int_equal(kw->n_checks, 1);
    assert_string_equal(kw->checks[0].name, "minimum 0.5");
    assert_string_equal(kw->checks[0].path, "specs.power_kw");

    const struct sl_field *piv = find(&t->root, "primary_id_value");
    assert_int_equal(piv->n_checks, 2);
    const struct sl_check *vin = &piv->checks[0];
    assert_int_equal(vin->kind, SL_CK_PATTERN);
    assert_string_equal(vin->pattern, "^[A-HJ-NPR-Z0-9]{17}$");
    assert_string_equal(
        vin->name, "pattern \"^[A-HJ-NPR-Z0-9]{17}$\" (when primary_id_type = "
                   "\"VIN\")");
    assert_ptr_equal(vin->when->field, pit);
    assert_string_equal(vin->when->path, "primary_id_type");
    assert_string_equal(vin->when->equals, "VIN");
    assert_true(re_match(vin, "1FAFP4041WF123456"));
    assert_false(re_match(vin, "1FAFP4041WF12345"));
    assert_false(re_match(vin, "1FAFP4041WF1234O6"));
    assert_false(re_match(vin, "1FAFP4041WF123456\n")); /* $ is the very end */
    const struct sl_check *imei = &piv->checks[1];
    assert_null(imei->when->equals);
    assert_int_equal(imei->when->in_len, 2);
    assert_string_equal(imei->when->in_vals[1], "ESN");
    assert_string_equal(
        imei->name,
        "pattern \"^[0-9]{15}$\" (when primary_id_type in [\"IMEI\", "
        "\"ESN\"])");

    const struct sl_check *lv =
        check_of(find(&t->root, "level"), SL_CK_ENUM, 0);
    assert_int_equal(lv->enum_len, 3);
    assert_string_equal(lv->enum_vals[1], "2");
    assert_string_equal(lv->enum_vals[2], "-3");

    const struct sl_field *qty = find(find(&t->root, "parts"), "qty");
    assert_int_equal(qty->n_checks, 1);
    assert_int_equal(find(&t->root, "tags")->checks[0].kind, SL_CK_MAX_LENGTH);
    sl_table_destroy(t);
}

static void test_rules_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *rules, *column, *needle;
    } cases[] = {
        {"{}", "", "rules must be an array"},
        {"[5]", "", "rules[0]: a rule must be an object"},
        {"[{\"minimum\": 1}]", "", "needs a \"field\""},
        {"[{\"field\": \"nope\", \"minimum\": 1}]", "nope", "no field nope"},
        {"[{\"field\": \"s.x\", \"minimum\": 1}]", "s.x", "no field"},
        {"[{\"field\": \"rec.nope\", \"minimum\": 1}]", "rec.nope", "no field"},
        {"[{\"field\": \"n\"}]", "", "no check"},
        {"[{\"field\": \"n\", \"minimun\": 1}]", "",
         "unknown rule key \"minimun\""},
        {"[{\"field\": \"n\", \"min\": 1, \"minimum\": 2}]", "",
         "minimum given twice"},
        {"[{\"field\": \"n\", \"minimum\": \"1\"}]", "n", "must be a number"},
        {"[{\"field\": \"n\", \"minimum\": 5, \"maximum\": 1}]", "n",
         "greater than maximum"},
        {"[{\"field\": \"s\", \"minimum\": 1}]", "s", "needs a numeric field"},
        {"[{\"field\": \"rec\", \"minimum\": 1}]", "rec",
         "needs a numeric field"},
        {"[{\"field\": \"n\", \"maxLength\": 3}]", "n",
         "needs a STRING or BYTES"},
        {"[{\"field\": \"s\", \"maxLength\": -1}]", "s",
         "non-negative integer"},
        {"[{\"field\": \"s\", \"minLength\": 3, \"maxLength\": 2}]", "s",
         "greater than maxLength"},
        {"[{\"field\": \"s\", \"enum\": []}]", "s", "non-empty array"},
        {"[{\"field\": \"s\", \"enum\": [\"a\", 1]}]", "s", "must be strings"},
        {"[{\"field\": \"s\", \"enum\": [\"a\", \"a\"]}]", "s", "twice"},
        {"[{\"field\": \"n\", \"enum\": [1.5]}]", "n", "must be integers"},
        {"[{\"field\": \"f\", \"enum\": [1]}]", "f",
         "enum needs a STRING or INTEGER"},
        {"[{\"field\": \"n\", \"pattern\": \"^[0-9]+$\"}]", "n",
         "pattern needs a STRING"},
        {"[{\"field\": \"s\", \"pattern\": \"([a-z\"}]", "s",
         "pattern error at offset"},
        {"[{\"field\": \"s\", \"required\": \"yes\"}]", "s", "true or false"},
        {"[{\"field\": \"tags\", \"required\": true}]", "tags", "REPEATED"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": "
         "\"nope\", \"equals\": "
         "\"a\"}}]",
         "nope", "when: no field"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": "
         "\"tags\", \"equals\": "
         "\"a\"}}]",
         "tags", "REPEATED"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": "
         "\"items.sku\", \"equals\": "
         "\"a\"}}]",
         "items.sku", "REPEATED"},
        {"[{\"field\": \"items.sku\", \"pattern\": \"x\", \"when\": "
         "{\"field\": \"s\", \"equals\": "
         "\"a\"}}]",
         "items.sku", "conditional rule cannot check"},
        {"[{\"field\": \"tags\", \"maxLength\": 3, \"when\": {\"field\": "
         "\"s\", \"equals\": "
         "\"a\"}}]",
         "tags", "conditional rule cannot check"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": \"f\", "
         "\"equals\": 1}}]",
         "f", "conditions compare STRING, INTEGER or BOOLEAN"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": "
         "\"rec\", \"equals\": 1}}]",
         "rec", "conditions compare"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": "
         "\"s\"}}]",
         "s", "exactly one of"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": \"s\", "
         "\"equals\": \"a\", "
         "\"in\": [\"b\"]}}]",
         "s", "exactly one of"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": \"s\", "
         "\"in\": []}}]",
         "s", "non-empty array"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": \"n\", "
         "\"equals\": "
         "\"one\"}}]",
         "n", "must be integers"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": \"b\", "
         "\"equals\": 1}}]",
         "b", "true or false"},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": {\"field\": \"s\", "
         "\"eq\": \"a\"}}]",
         "", "when: unknown key \"eq\""},
        {"[{\"field\": \"s\", \"pattern\": \"x\", \"when\": \"s = a\"}]", "",
         "when must be an "
         "object"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        char buf[1024];
        snprintf(buf, sizeof(buf),
                 "{\"fields\": [{\"name\": \"s\", \"type\": \"STRING\"},"
                 " {\"name\": \"n\", \"type\": \"INT64\"}, {\"name\": \"f\", "
                 "\"type\": \"FLOAT\"},"
                 " {\"name\": \"b\", \"type\": \"BOOL\"},"
                 " {\"name\": \"tags\", \"type\": \"STRING\", \"mode\": "
                 "\"REPEATED\"},"
                 " {\"name\": \"rec\", \"type\": \"RECORD\", \"fields\": "
                 "[{\"name\": \"x\", "
                 "\"type\": \"INT64\"}]},"
                 " {\"name\": \"items\", \"type\": \"RECORD\", \"mode\": "
                 "\"REPEATED\", "
                 "\"fields\": [{\"name\": \"sku\", \"type\": \"STRING\"}]}],"
                 " \"rules\": %s}",
                 cases[i].rules);
        parse_bad(buf, cases[i].column, cases[i].needle);
    }
}

/* ------------------------------------------------------------------ registry
 */

static const char *const small_def =
    "[{\"name\": \"a\", \"type\": \"STRING\"}]";

static void test_registry_layout(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    write_file(dir, "top.json", small_def);
    write_file(dir, "sales/orders.json", small_def);
    write_file(dir, "proj-a/web/events/schema.json",
               small_def); /* bigquery-etl layout */
    write_file(dir, "proj-a/web/visits-v2.json", small_def);
    write_file(dir, "sales/README.md", "not a definition");
    write_file(dir, "sales/orders.json.bak", "not a definition");
    write_file(dir, ".git/config.json", "{ not even json");
    write_file(dir, "sales/.orders.json.swp", "{ editor file");
    write_file(dir, "other/orders.json", small_def);
    write_file(dir, "solo/schema.json",
               small_def); /* DIR/<table>/schema.json */

    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    char slashed[512];
    snprintf(slashed, sizeof(slashed), "%s/", dir);
    assert_int_equal(sl_registry_load(slashed, NULL, &reg, &err), SL_OK);
    assert_int_equal(reg->n_tables, 6);
    static const char *const sorted[][2] = {
        {"main", "solo"},    {"main", "top"},   {"other", "orders"},
        {"sales", "orders"}, {"web", "events"}, {"web", "visits-v2"}};
    for (size_t i = 0; i < SL_ARRAY_LEN(sorted); i++) {
        assert_string_equal(reg->tables[i]->dataset, sorted[i][0]);
        assert_string_equal(reg->tables[i]->name, sorted[i][1]);
    }
    const struct sl_table *t = sl_registry_find(reg, "web.events");
    assert_non_null(t);
    assert_non_null(strstr(t->file, "/proj-a/web/events/schema.json"));
    assert_ptr_equal(sl_registry_find(reg, "WEB.Events"), t);
    assert_ptr_equal(sl_registry_find(reg, "events"), t); /* the only one */
    assert_ptr_equal(sl_registry_find(reg, "top"),
                     reg->tables[1]);             /* dataset main */
    assert_null(sl_registry_find(reg, "orders")); /* ambiguous */
    assert_non_null(sl_registry_find(reg, "sales.orders"));
    assert_null(sl_registry_find(reg, "sales.nope"));
    assert_null(sl_registry_find(reg, "x.sales.orders"));
    assert_null(sl_registry_find(reg, ".orders"));
    assert_null(sl_registry_find(reg, "nope"));
    assert_null(sl_registry_find(NULL, "top"));
    sl_registry_destroy(reg);
    sl_registry_destroy(NULL);

    /* an empty folder is an empty registry; a missing one is an error */
    rm_tree(dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    assert_int_equal(reg->n_tables, 0);
    assert_null(sl_registry_find(reg, "a"));
    sl_registry_destroy(reg);
    rm_tree(dir);
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), -SL_ENOTFOUND);
    assert_null(reg);
    free(dir);
}

static void test_registry_refusals(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    write_file(dir, "good/ok.json", small_def);
    write_file(dir, "a/dup.json", small_def);
    write_file(dir, "b/a/DUP/schema.json",
               small_def); /* a.DUP: same table, other case */
    write_file(dir, "x\"; DROP TABLE y; --.json", small_def);
    write_file(dir, "bad ds/t.json", small_def);
    write_file(dir, "good/-lead.json", small_def);
    write_file(dir, "good/broken.json",
               "[{\"name\": \"a\", \"type\": \"STRING\"},\n {\"name\": 1}]");
    write_file(dir, "good/notjson.json", "{\n  \"fields\": [\n");

    /* strict mode: the first problem is an error */
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), -SL_ESCHEMA);
    assert_null(reg);
    assert_true(err.path[0] != '\0');

    /* problems mode: every bad file is reported and left out */
    struct sl_buf pb;
    sl__buf_init(&pb);
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_registry_load(dir, &pb, &reg, &err), SL_OK);
    assert_int_equal(err.code, 0);
    assert_int_equal(reg->n_tables, 1);
    assert_string_equal(reg->tables[0]->name, "ok");
    const char *p = pb.data;
    assert_non_null(p);
    assert_non_null(
        strstr(p, "/a/dup.json: duplicate table a.dup: also defined by "));
    assert_non_null(strstr(
        p, "/b/a/DUP/schema.json: duplicate table a.DUP: also defined by "));
    assert_non_null(strstr(
        p, "table name \"x\"; DROP TABLE y; --\" (from the file name) is not "
           "a safe identifier"));
    assert_non_null(
        strstr(p, "dataset name \"bad ds\" (from the folder name)"));
    assert_non_null(strstr(p, "table name \"-lead\""));
    assert_non_null(
        strstr(p, "/good/broken.json: [1]: field has no \"name\" string"));
    assert_non_null(strstr(p, "/good/notjson.json: invalid JSON at line 3"));
    size_t lines = 0;
    for (const char *q = p; *q != '\0'; q++) {
        lines += *q == '\n';
    }
    assert_int_equal(lines, 7);
    sl__buf_release(&pb);
    sl_registry_destroy(reg);
    rm_tree(dir);
    free(dir);

    assert_true(sl_dataset_name_ok("crypto_ethereum"));
    assert_true(sl_dataset_name_ok("_images"));
    assert_false(sl_dataset_name_ok("a-b"));
    assert_false(sl_dataset_name_ok(""));
    assert_false(sl_dataset_name_ok(NULL));
    assert_false(sl_dataset_name_ok("a.b"));
    assert_true(sl_table_name_ok("visits-v2"));
    assert_false(sl_table_name_ok("-x"));
    assert_false(sl_table_name_ok("a b"));
    assert_false(sl_table_name_ok("a/b"));
    assert_false(sl_table_name_ok("caf\xc3\xa9"));
    char longname[1026];
    memset(longname, 'a', sizeof(longname));
    longname[1024] = '\0';
    assert_true(sl_table_name_ok(longname));
    longname[1024] = 'a';
    longname[1025] = '\0';
    assert_false(sl_table_name_ok(longname));
}

/* The sample registry shipped in samples/schemas. */
static void test_sample_registry(void **state)
{
    (void)state;
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    struct sl_buf pb;
    sl__buf_init(&pb);
    int rc =
        sl_registry_load(SL_SOURCE_DIR "/samples/schemas", &pb, &reg, &err);
    if (pb.len > 0) {
        fprintf(stderr, "%s", pb.data);
    }
    assert_int_equal(rc, SL_OK);
    assert_int_equal(pb.len, 0);
    assert_int_equal(reg->n_tables, 4);

    const struct sl_table *ds =
        sl_registry_find(reg, "main.diagnostic_sessions");
    assert_non_null(ds);
    assert_int_equal(ds->part_kind, SL_PART_TIME);
    assert_string_equal(ds->part_type, "DAY");
    assert_string_equal(ds->part_field->name, "session_start");
    assert_int_equal(ds->n_cluster, 3);
    assert_string_equal(ds->cluster[0]->name, "user_id");
    assert_string_equal(ds->cluster[1]->name, "equipment_id");
    assert_string_equal(ds->cluster[2]->name, "diagnostic_code");

    const struct sl_table *eq =
        sl_registry_find(reg, "universal_equipment_registry");
    assert_non_null(eq);
    const struct sl_field *piv = find(&eq->root, "primary_id_value");
    assert_int_equal(piv->n_checks, 9);
    assert_int_equal(eq->n_cond_slots, 1);
    assert_string_equal(piv->checks[0].name,
                        "pattern \"^[A-HJ-NPR-Z0-9]{17}$\" (when "
                        "primary_id_type = \"VIN\")");
    const struct sl_field *year = find(&eq->root, "year");
    assert_string_equal(year->checks[0].name, "minimum 1900");
    assert_string_equal(year->checks[1].name, "maximum 2100");

    const struct sl_table *flat = sl_registry_find(reg, "equipment_flat");
    assert_non_null(flat);
    assert_int_equal(find(&flat->root, "specs_power_kw")->checks[0].kind,
                     SL_CK_MINIMUM);
    assert_int_equal(find(&flat->root, "primary_id_value")->n_checks, 9);

    const struct sl_table *yt = sl_registry_find(reg, "youtube_repair_videos");
    assert_non_null(yt);
    assert_int_equal(
        check_of(find(&yt->root, "channel_category"), SL_CK_ENUM, 0)->enum_len,
        10);
    sl_registry_destroy(reg);
    sl__buf_release(&pb);
}

/* ------------------------------------------------------------------ faults */

/* Fail the Nth allocation for N = 1, 2, ... until parsing succeeds: each
 * failure must be -SL_ENOMEM with nothing leaked (ASan checks) and no table. */
static void test_oom_sweep(void **state)
{
    (void)state;
    const char *json = rules_def;
    int rc;
    uint64_t n = 1;
    do {
        struct sl_table *t = NULL;
        struct sl_error err = {0};
        struct sl_buf pb;
        sl__buf_init(&pb);
        sl_alloc_fail_after(n);
        rc = sl_table_parse_ex(json, strlen(json), "oom.json", "d", "t", NULL,
                               &pb, &t, &err);
        sl_alloc_fail_after(0);
        if (rc != SL_OK) {
            assert_int_equal(rc, -SL_ENOMEM);
            assert_int_equal(err.code, -SL_ENOMEM);
            assert_null(t);
        }
        sl_table_destroy(t);
        sl__buf_release(&pb);
        n++;
    } while (rc != SL_OK);
    assert_true(n > 20);

    char *dir = make_tmpdir();
    write_file(dir, "a/one.json", rules_def);
    write_file(dir, "b/two/schema.json", small_def);
    write_file(dir, "bad.json", "[{\"name\": \"a\", \"type\": \"BIGINT\"}]");
    n = 1;
    do {
        struct sl_registry *reg = NULL;
        struct sl_error err = {0};
        struct sl_buf pb;
        sl__buf_init(&pb);
        sl_alloc_fail_after(n);
        rc = sl_registry_load(dir, &pb, &reg, &err);
        sl_alloc_fail_after(0);
        if (rc != SL_OK) {
            assert_int_equal(rc, -SL_ENOMEM);
            assert_null(reg);
        } else {
            assert_int_equal(reg->n_tables, 2);
        }
        sl_registry_destroy(reg);
        sl__buf_release(&pb);
        n++;
    } while (rc != SL_OK);
    rm_tree(dir);
    free(dir);
}

/* A view: the same fields and partitioning under another name, freed alone
 * (the table it shows is untouched). */
static void test_table_view(void **state)
{
    (void)state;
    const char *def = "{\"fields\": [{\"name\": \"id\", \"type\": "
                      "\"INTEGER\"}, {\"name\": \"ts\", \"type\": "
                      "\"TIMESTAMP\"}], \"timePartitioning\": {\"type\": "
                      "\"DAY\", \"field\": \"ts\"}}";
    struct sl_table *t = NULL, *v = NULL;
    struct sl_error err = {0};
    assert_int_equal(
        sl_table_parse(def, strlen(def), "t.json", "ds", "tmpl", &t, &err),
        SL_OK);
    assert_int_equal(sl_table_view(t, "temp", "events_20240102", &v), SL_OK);
    assert_string_equal(v->dataset, "temp");
    assert_string_equal(v->name, "events_20240102");
    assert_string_equal(t->name, "tmpl");
    assert_ptr_equal(v->root.fields, t->root.fields);
    assert_ptr_equal(v->part_field, t->part_field);
    assert_ptr_equal(sl_field_find(&v->root, "TS", 2), &t->root.fields[1]);
    sl_table_view_destroy(v);
    sl_table_view_destroy(NULL);
    for (uint64_t n = 1; n <= 3; n++) {
        sl_alloc_fail_after(n);
        assert_int_equal(sl_table_view(t, "a", "b", &v), -SL_ENOMEM);
        sl_alloc_fail_after(0);
        assert_null(v);
    }
    sl_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_parse_array_form),
        cmocka_unit_test(test_parse_object_form),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_flexible_names),
        cmocka_unit_test(test_parse_all_problems),
        cmocka_unit_test(test_rules_compile),
        cmocka_unit_test(test_rules_refusals),
        cmocka_unit_test(test_registry_layout),
        cmocka_unit_test(test_registry_refusals),
        cmocka_unit_test(test_sample_registry),
        cmocka_unit_test(test_table_view),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
