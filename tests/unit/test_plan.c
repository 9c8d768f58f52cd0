/* test_plan.c - the backend-neutral schema diff (src/schema/plan.c): each kind
 * of change, safe or unsafe, with its text, reason and advice; and the
 * canonical JSON a warehouse records (src/schema/defjson.c). tests. */
#include "core/common.h"

#include "core/buf.h"
#include "schema/plan.h"
#include "schema/schema.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sl_table *def(const char *json)
{
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    int rc = sl_table_parse(json, strlen(json), "t.json", "d", "t", &t, &err);
    if (rc != SL_OK) {
        fprintf(stderr, "%s: %s\n%s\n", err.column, err.msg, json);
    }
    assert_int_equal(rc, SL_OK);
    return t;
}

/* Diff two definitions given as field lists (the array form). */
static void diff(const char *have, const char *want, struct sl_plan *p,
                 struct sl_table **th, struct sl_table **tw)
{
    *th = have != NULL ? def(have) : NULL;
    *tw = def(want);
    struct sl_error err = {0};
    assert_int_equal(sl_plan_diff(*th, *tw, p, &err), SL_OK);
}

static void done(struct sl_plan *p, struct sl_table *th, struct sl_table *tw)
{
    sl_plan_release(p);
    sl_table_destroy(th);
    sl_table_destroy(tw);
}

static void dump(const struct sl_plan *p)
{
    for (size_t i = 0; i < p->n_changes; i++) {
        const struct sl_change *c = &p->changes[i];
        fprintf(stderr, "  %s %s [%s] %s%s\n", sl_change_kind_name(c->kind),
                c->safe ? "safe" : "UNSAFE", c->path, c->what,
                c->blocked ? " (blocked)" : "");
    }
}

/* Exactly one change, of this kind and safety, whose text holds `what`. */
static const struct sl_change *one(const struct sl_plan *p,
                                   enum sl_change_kind kind, bool safe,
                                   const char *what)
{
    if (p->n_changes != 1 || p->changes[0].kind != kind ||
        p->changes[0].safe != safe ||
        strstr(p->changes[0].what, what) == NULL) {
        fprintf(stderr, "wanted one %s [%s]; got %zu:\n",
                sl_change_kind_name(kind), what, p->n_changes);
        dump(p);
    }
    assert_int_equal(p->n_changes, 1);
    const struct sl_change *c = &p->changes[0];
    assert_int_equal(c->kind, kind);
    assert_int_equal(c->safe, safe);
    assert_non_null(strstr(c->what, what));
    assert_int_equal(p->n_unsafe, safe ? 0 : 1);
    if (safe) {
        assert_null(c->reason);
        assert_null(c->advice);
    } else {
        assert_non_null(c->reason);
        assert_non_null(c->advice);
        assert_true(strlen(c->reason) > 20);
        assert_true(strlen(c->advice) > 20);
    }
    return c;
}

/* have -> want gives one change: kind, safety and text. */
static void expect(const char *have, const char *want, enum sl_change_kind kind,
                   bool safe, const char *what)
{
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff(have, want, &p, &th, &tw);
    one(&p, kind, safe, what);
    done(&p, th, tw);
}

#define F(name, type) "{\"name\": \"" name "\", \"type\": \"" type "\"}"
#define FM(name, type, mode)                                                   \
    "{\"name\": \"" name "\", \"type\": \"" type "\", \"mode\": \"" mode "\"}"

static void test_same_is_empty(void **state)
{
    (void)state;
    const char *d = "{\"description\": \"x\", \"fields\": [" F(
        "a",
        "INT64") ","
                 " {\"name\": \"r\", \"type\": \"RECORD\", \"fields\": "
                 "[" F("b", "STRING") "]}, " F(
                     "ts",
                     "TIMESTAMP") "],"
                                  " \"partitioning\": {\"type\": \"DAY\", "
                                  "\"field\": \"ts\"},"
                                  " \"clustering\": {\"fields\": [\"a\"]}}";
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff(d, d, &p, &th, &tw);
    assert_int_equal(p.n_changes, 0);
    done(&p, th, tw);
    /* aliases and case of type names do not matter */
    diff("[" F("a", "INT64") "," F("b", "FLOAT64") "]",
         "[" F("a", "integer") "," F("b", "FLOAT") "]", &p, &th, &tw);
    assert_int_equal(p.n_changes, 0);
    done(&p, th, tw);
}

static void test_create(void **state)
{
    (void)state;
    expect(NULL, "[" F("a", "INT64") "," F("b", "STRING") "]", SL_CH_CREATE,
           true, "create table d.t (2 columns)");
}

static void test_add(void **state)
{
    (void)state;
    expect("[" F("a", "INT64") "]",
           "[" F("a", "INT64") "," F("note", "STRING") "]", SL_CH_ADD, true,
           "add column note STRING");
    expect("[" F("a", "INT64") "]",
           "[" F("a", "INT64") "," FM("tags", "STRING", "REPEATED") "]",
           SL_CH_ADD, true, "add column tags STRING REPEATED");
    /* a field inside a RECORD, and a whole new RECORD with a REQUIRED member */
    expect("[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "INT64") "]}]",
           "[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "INT64") "," F("y", "DATE") "]}]",
           SL_CH_ADD, true, "add field r.y DATE");
    expect(
        "[" F("a", "INT64") "]",
        "[" F("a", "INT64") ", {\"name\": \"r\", \"type\": \"RECORD\", "
                            "\"fields\": [" FM("k", "STRING", "REQUIRED") "]}]",
        SL_CH_ADD, true, "add column r RECORD<k STRING REQUIRED>");
    /* inside a REPEATED RECORD */
    expect("[{\"name\": \"l\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
           "\"fields\": [" F("x", "INT64") "]}]",
           "[{\"name\": \"l\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
           "\"fields\": [" F("x", "INT64") "," F("q", "BOOL") "]}]",
           SL_CH_ADD, true, "add field l.q BOOLEAN");
}

static void test_add_unsafe(void **state)
{
    (void)state;
    const struct sl_change *c;
    struct sl_plan p;
    struct sl_table *th, *tw;
    expect("[" F("a", "INT64") "]",
           "[" F("a", "INT64") "," FM("b", "STRING", "REQUIRED") "]",
           SL_CH_ADD_REQUIRED, false, "add column b STRING REQUIRED");
    /* a new column before an existing one: appended at the end, refused */
    diff("[" F("a", "INT64") "," F("c", "INT64") "]",
         "[" F("a", "INT64") "," F("b", "INT64") "," F("c", "INT64") "]", &p,
         &th, &tw);
    c = one(&p, SL_CH_REORDER, false, "new column b is not at the end");
    assert_true(c->blocked);
    assert_int_equal(p.n_blocked, 1);
    assert_non_null(strstr(c->advice, "move the new field"));
    done(&p, th, tw);
    /* existing columns swapped */
    diff("[" F("a", "INT64") "," F("c", "STRING") "]",
         "[" F("c", "STRING") "," F("a", "INT64") "]", &p, &th, &tw);
    c = one(&p, SL_CH_REORDER, false, "fields of the table change order");
    assert_true(c->blocked);
    done(&p, th, tw);
}

static void test_relax_require(void **state)
{
    (void)state;
    expect("[" FM("a", "INT64", "REQUIRED") "]", "[" F("a", "INT64") "]",
           SL_CH_RELAX, true, "relax column a: REQUIRED -> NULLABLE");
    expect("[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" FM(
               "x", "INT64", "REQUIRED") "]}]",
           "[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" FM(
               "x", "INT64", "NULLABLE") "]}]",
           SL_CH_RELAX, true, "relax field r.x");
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff("[" F("a", "INT64") "]", "[" FM("a", "INT64", "REQUIRED") "]", &p, &th,
         &tw);
    const struct sl_change *c =
        one(&p, SL_CH_REQUIRE, false, "require column a: NULLABLE -> REQUIRED");
    assert_false(c->blocked);
    assert_non_null(strstr(c->reason, "may hold NULL"));
    assert_non_null(strstr(c->advice, "--allow-unsafe"));
    done(&p, th, tw);
}

static void test_widen(void **state)
{
    (void)state;
    expect("[" F("a", "INT64") "]", "[" F("a", "NUMERIC") "]", SL_CH_WIDEN,
           true, "widen column a: INTEGER -> NUMERIC");
    expect("[" F("a", "INT64") "]", "[" F("a", "BIGNUMERIC") "]", SL_CH_WIDEN,
           true, "INTEGER -> BIGNUMERIC");
    expect("[" F("a", "INT64") "]", "[" F("a", "FLOAT64") "]", SL_CH_WIDEN,
           true, "INTEGER -> FLOAT");
    expect("[" F("a", "NUMERIC") "]", "[" F("a", "BIGNUMERIC") "]", SL_CH_WIDEN,
           true, "NUMERIC -> BIGNUMERIC");
    expect("[" F("a", "NUMERIC") "]", "[" F("a", "FLOAT") "]", SL_CH_WIDEN,
           true, "NUMERIC -> FLOAT");
    expect("[" F("a", "BIGNUMERIC") "]", "[" F("a", "FLOAT") "]", SL_CH_WIDEN,
           true, "BIGNUMERIC -> FLOAT");
    expect("[{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 10, "
           "\"scale\": 2}]",
           "[{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 12, "
           "\"scale\": 3}]",
           SL_CH_WIDEN, true, "NUMERIC(10,2) -> NUMERIC(12,3)");
    expect("[{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 10, "
           "\"scale\": 2}]",
           "[" F("a", "NUMERIC") "]", SL_CH_WIDEN, true,
           "NUMERIC(10,2) -> NUMERIC");
    expect("[{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": 10}]",
           "[{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": 20}]",
           SL_CH_WIDEN, true, "STRING(10) -> STRING(20)");
    expect("[{\"name\": \"a\", \"type\": \"BYTES\", \"maxLength\": 10}]",
           "[" F("a", "BYTES") "]", SL_CH_WIDEN, true, "BYTES(10) -> BYTES");
    /* inside a RECORD */
    expect("[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "INT64") "]}]",
           "[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "NUMERIC") "]}]",
           SL_CH_WIDEN, true, "widen field r.x: INTEGER -> NUMERIC");
}

static void test_type_unsafe(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *what;
    } cases[] = {
        {F("a", "FLOAT64"), F("a", "INT64"), "FLOAT -> INTEGER"},
        {F("a", "NUMERIC"), F("a", "INT64"), "NUMERIC -> INTEGER"},
        {F("a", "BIGNUMERIC"), F("a", "NUMERIC"), "BIGNUMERIC -> NUMERIC"},
        {F("a", "STRING"), F("a", "INT64"), "STRING -> INTEGER"},
        {F("a", "INT64"), F("a", "STRING"), "INTEGER -> STRING"},
        {F("a", "DATE"), F("a", "TIMESTAMP"), "DATE -> TIMESTAMP"},
        {"{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 10, "
         "\"scale\": 2}",
         "{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 10, "
         "\"scale\": 3}",
         "NUMERIC(10,2) -> NUMERIC(10,3)"},
        {F("a", "INT64"),
         "{\"name\": \"a\", \"type\": \"NUMERIC\", \"precision\": 10}",
         "INTEGER -> NUMERIC(10,0)"},
        {"{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": 20}",
         "{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": 10}",
         "STRING(20) -> STRING(10)"},
        {F("a", "STRING"),
         "{\"name\": \"a\", \"type\": \"STRING\", \"maxLength\": 10}",
         "STRING -> STRING(10)"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        char h[256], w[256];
        snprintf(h, sizeof(h), "[%s]", cases[i].from);
        snprintf(w, sizeof(w), "[%s]", cases[i].to);
        struct sl_plan p;
        struct sl_table *th, *tw;
        diff(h, w, &p, &th, &tw);
        const struct sl_change *c = one(&p, SL_CH_TYPE, false, cases[i].what);
        assert_false(c->blocked);
        assert_non_null(strstr(c->advice, "convert in place"));
        done(&p, th, tw);
    }
    /* a RECORD and a scalar never convert */
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff("[" F("a", "STRING") "]",
         "[{\"name\": \"a\", \"type\": \"RECORD\", \"fields\": [" F(
             "x", "INT64") "]}]",
         &p, &th, &tw);
    const struct sl_change *c =
        one(&p, SL_CH_TYPE, false, "STRING -> RECORD<x INTEGER>");
    assert_true(c->blocked);
    done(&p, th, tw);
}

static void test_repeated(void **state)
{
    (void)state;
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff("[" F("a", "STRING") "]", "[" FM("a", "STRING", "REPEATED") "]", &p,
         &th, &tw);
    const struct sl_change *c =
        one(&p, SL_CH_REPEATED, false, "column a: STRING -> STRING REPEATED");
    assert_false(c->blocked);
    done(&p, th, tw);
    diff("[" FM("a", "STRING", "REPEATED") "]", "[" F("a", "STRING") "]", &p,
         &th, &tw);
    c = one(&p, SL_CH_REPEATED, false, "STRING REPEATED -> STRING");
    assert_true(c->blocked);
    assert_non_null(strstr(c->advice, "a list cannot become a value"));
    done(&p, th, tw);
}

static void test_drop_rename(void **state)
{
    (void)state;
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff("[" F("a", "INT64") "," F("b", "STRING") "]", "[" F("a", "INT64") "]",
         &p, &th, &tw);
    const struct sl_change *c = one(&p, SL_CH_DROP, false, "drop column b");
    assert_non_null(strstr(c->reason, "loses its values"));
    assert_non_null(strstr(c->advice, "--allow-unsafe"));
    assert_null(c->to);
    assert_string_equal(c->from->name, "b");
    done(&p, th, tw);
    expect("[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "INT64") "," F("y", "INT64") "]}]",
           "[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "INT64") "]}]",
           SL_CH_DROP, false, "drop field r.y");
    /* same position, same type, another name: a rename */
    diff("[" F("a", "INT64") "," F("b", "STRING") "]",
         "[" F("a", "INT64") "," F("bee", "STRING") "]", &p, &th, &tw);
    c = one(&p, SL_CH_RENAME, false, "rename column b to bee");
    assert_string_equal(c->from->name, "b");
    assert_string_equal(c->to->name, "bee");
    done(&p, th, tw);
    /* another type: a drop, and an add (at the end, so safe) */
    diff("[" F("a", "INT64") "," F("b", "STRING") "]",
         "[" F("a", "INT64") "," F("bee", "DATE") "]", &p, &th, &tw);
    assert_int_equal(p.n_changes, 2);
    assert_int_equal(p.changes[0].kind, SL_CH_DROP);
    assert_int_equal(p.changes[1].kind, SL_CH_ADD);
    assert_int_equal(p.n_unsafe, 1);
    done(&p, th, tw);
    /* only the case: names are case-insensitive, so a safe rename */
    expect("[" F("Amount", "INT64") "]", "[" F("amount", "INT64") "]",
           SL_CH_RENAME_CASE, true, "rename column Amount to amount");
}

static void test_metadata(void **state)
{
    (void)state;
    expect("[" F("a", "INT64") "]",
           "{\"description\": \"new\", \"fields\": [" F("a", "INT64") "]}",
           SL_CH_DESCRIPTION, true, "description of the table");
    expect("[" F("a", "INT64") "]",
           "[{\"name\": \"a\", \"type\": \"INT64\", \"description\": \"d\"}]",
           SL_CH_DESCRIPTION, true, "description of column a");
    expect("[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [" F(
               "x", "INT64") "]}]",
           "[{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": [{\"name\": "
           "\"x\", \"type\": \"INT64\", \"description\": \"d\"}]}]",
           SL_CH_DESCRIPTION, true, "description of field r.x");
    expect("{\"fields\": [" F("ts", "TIMESTAMP") "]}",
           "{\"fields\": [" F(
               "ts", "TIMESTAMP") "], \"partitioning\": "
                                  "{\"type\": \"DAY\", \"field\": \"ts\"}}",
           SL_CH_PARTITIONING, true, "partitioning: none -> DAY(ts)");
    expect("{\"fields\": [" F(
               "ts", "TIMESTAMP") "], \"partitioning\": "
                                  "{\"type\": \"DAY\", \"field\": \"ts\"}}",
           "{\"fields\": [" F(
               "ts", "TIMESTAMP") "], \"partitioning\": "
                                  "{\"type\": \"HOUR\", \"field\": \"ts\"}}",
           SL_CH_PARTITIONING, true, "DAY(ts) -> HOUR(ts)");
    expect("{\"fields\": [" F("a", "STRING") "," F("b", "INT64") "]}",
           "{\"fields\": [" F("a", "STRING") "," F(
               "b", "INT64") "], "
                             "\"clustering\": {\"fields\": [\"b\", \"a\"]}}",
           SL_CH_CLUSTERING, true, "clustering: none -> b, a");
    expect("[" F("a", "INT64") "]",
           "[{\"name\": \"a\", \"type\": \"INT64\", "
           "\"defaultValueExpression\": \"0\"}]",
           SL_CH_OPTION, true, "defaultValueExpression of a: (none) -> 0");
    /* rules do not shape the table */
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff("[" F("a", "INT64") "]",
         "{\"fields\": [" F("a", "INT64") "], \"rules\": [{\"field\": \"a\", "
                                          "\"minimum\": 0}]}",
         &p, &th, &tw);
    assert_int_equal(p.n_changes, 0);
    done(&p, th, tw);
}

/* Several changes at once come in a stable order; drift goes first. */
static void test_many_and_drift(void **state)
{
    (void)state;
    struct sl_plan p;
    struct sl_table *th, *tw;
    diff("[" FM("a", "INT64",
                "REQUIRED") "," F("b", "STRING") "," F("c", "INT64") "]",
         "[" F("a", "NUMERIC") "," F("c", "INT64") "," F("d", "DATE") "]", &p,
         &th, &tw);
    /* b dropped; d added; a relaxed and widened */
    assert_int_equal(p.n_changes, 4);
    assert_int_equal(p.changes[0].kind, SL_CH_DROP);
    assert_int_equal(p.changes[1].kind, SL_CH_ADD);
    assert_int_equal(p.changes[2].kind, SL_CH_RELAX);
    assert_int_equal(p.changes[3].kind, SL_CH_WIDEN);
    assert_int_equal(p.n_unsafe, 1);
    assert_int_equal(sl_plan_add_drift(&p, "column c is VARCHAR"), SL_OK);
    assert_int_equal(p.n_changes, 5);
    assert_int_equal(p.changes[0].kind, SL_CH_DRIFT);
    assert_false(p.changes[0].safe);
    assert_non_null(strstr(p.changes[0].what, "column c is VARCHAR"));
    assert_non_null(strstr(p.changes[0].advice, "--allow-unsafe"));
    assert_int_equal(p.n_unsafe, 2);
    assert_int_equal(p.changes[1].kind, SL_CH_DROP);
    done(&p, th, tw);
    assert_string_equal(sl_change_kind_name(SL_CH_ADD_REQUIRED),
                        "add_required");
}

/* ------------------------------------------------------------------ JSON */

static void roundtrip(const char *json)
{
    struct sl_table *t = def(json);
    struct sl_buf a, b;
    sl__buf_init(&a);
    sl__buf_init(&b);
    assert_int_equal(sl_table_write_json(t, &a), SL_OK);
    struct sl_table *t2 = def(a.data);
    assert_int_equal(sl_table_write_json(t2, &b), SL_OK);
    assert_string_equal(a.data, b.data);
    struct sl_plan p;
    struct sl_error err = {0};
    assert_int_equal(sl_plan_diff(t, t2, &p, &err), SL_OK);
    if (p.n_changes != 0) {
        dump(&p);
    }
    assert_int_equal(p.n_changes, 0);
    char h1[17], h2[17];
    sl_def_hash(a.data, a.len, h1);
    sl_def_hash(b.data, b.len, h2);
    assert_string_equal(h1, h2);
    assert_int_equal(strlen(h1), 16);
    sl_plan_release(&p);
    sl_table_destroy(t);
    sl_table_destroy(t2);
    sl__buf_release(&a);
    sl__buf_release(&b);
}

static void test_canonical_json(void **state)
{
    (void)state;
    roundtrip("[" F("a", "int64") "]");
    roundtrip(
        "{\"description\": \"it's \\\"quoted\\\"\\n\", \"fields\": ["
        "{\"name\": \"Is Hidden\", \"type\": \"BOOL\", \"mode\": \"REQUIRED\","
        " \"description\": \"caf\\u00e9\"},"
        "{\"name\": \"n\", \"type\": \"NUMERIC\", \"precision\": \"12\", "
        "\"scale\": 2, \"roundingMode\": \"ROUND_HALF_EVEN\"},"
        "{\"name\": \"s\", \"type\": \"STRING\", \"maxLength\": 64, "
        "\"defaultValueExpression\": \"'x'\"},"
        "{\"name\": \"rg\", \"type\": \"RANGE\", \"rangeElementType\": "
        "{\"type\": \"DATE\"}},"
        "{\"name\": \"ts\", \"type\": \"TIMESTAMP\", \"timestampPrecision\": "
        "12},"
        "{\"name\": \"id\", \"type\": \"INT64\"},"
        "{\"name\": \"r\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
        "\"fields\": [{\"name\": \"x\", \"type\": \"STRUCT\", \"fields\": [" F(
            "y",
            "JSON") "]}]}],"
                    " \"partitioning\": {\"field\": \"id\", \"range\": "
                    "{\"start\": 0, "
                    "\"end\": 100, \"interval\": 10}},"
                    " \"clustering\": {\"fields\": [\"Is Hidden\", \"id\"]}}");
    roundtrip("{\"fields\": [" F(
        "d", "DATE") "], \"timePartitioning\": "
                     "{\"type\": \"month\", \"field\": \"d\"}}");
    roundtrip("{\"fields\": [" F("d", "DATE") "], \"partitioning\": "
                                              "{\"type\": \"DAY\"}}");
    /* different definitions, different texts */
    struct sl_table *t1 = def("[" F("a", "INT64") "]");
    struct sl_table *t2 = def("[" F("a", "NUMERIC") "]");
    struct sl_buf a, b;
    sl__buf_init(&a);
    sl__buf_init(&b);
    assert_int_equal(sl_table_write_json(t1, &a), SL_OK);
    assert_int_equal(sl_table_write_json(t2, &b), SL_OK);
    assert_string_not_equal(a.data, b.data);
    assert_string_equal(a.data, "{\"fields\":[{\"name\":\"a\",\"type\":"
                                "\"INTEGER\",\"mode\":\"NULLABLE\"}]}");
    sl__buf_release(&a);
    sl__buf_release(&b);
    sl_table_destroy(t1);
    sl_table_destroy(t2);
}

/* ------------------------------------------------------------------ files */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool changed(const struct sl_registry *reg)
{
    bool yes = true;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_changed(reg, &yes, &err), SL_OK);
    return yes;
}

/* An edit, a new file or a removed one is seen; nothing else is. */
static void test_registry_changed(void **state)
{
    (void)state;
    char dir[] = "/tmp/sluice-plan-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[160], b[160], sub[64];
    snprintf(sub, sizeof(sub), "%s/ds", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(a, sizeof(a), "%s/a.json", sub);
    snprintf(b, sizeof(b), "%s/b.json", sub);
    write_file(a, "[" F("x", "INT64") "]");
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    assert_string_equal(reg->dir, dir);
    assert_false(changed(reg));
    assert_false(changed(reg));
    write_file(a, "[" F("x", "INT64") "," F("y", "INT64") "]");
    assert_true(changed(reg));
    sl_registry_destroy(reg);
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    assert_false(changed(reg));
    write_file(b, "[" F("z", "INT64") "]");
    assert_true(changed(reg));
    unlink(b);
    assert_false(changed(reg));
    unlink(a);
    assert_true(changed(reg));
    sl_registry_destroy(reg);
    rmdir(sub);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_is_empty),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_add_unsafe),
        cmocka_unit_test(test_relax_require),
        cmocka_unit_test(test_widen),
        cmocka_unit_test(test_type_unsafe),
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_drop_rename),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_many_and_drift),
        cmocka_unit_test(test_canonical_json),
        cmocka_unit_test(test_registry_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
