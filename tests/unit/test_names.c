/* test_names.c - column names: BigQuery's flexible column names (the default),
 * the classic rule, reserved prefixes, the 300-character limit, names that
 * differ only in case, hostile names; and that NDJSON keys and CSV headers
 * with flexible names reach their columns. tests. */
#include "core/common.h"

#include "core/buf.h"
#include "schema/schema.h"
#include "validate/validator.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parse a definition holding the given field objects (JSON text). */
static int parse(const char *fields_json, const struct sl_schema_opts *o,
                 struct sl_table **out, struct sl_error *err)
{
    struct sl_buf b;
    sl__buf_init(&b);
    assert_int_equal(sl__buf_printf(&b, "[%s]", fields_json), SL_OK);
    memset(err, 0, sizeof(*err));
    int rc =
        sl_table_parse_ex(b.data, b.len, "n.json", "d", "t", o, NULL, out, err);
    sl__buf_release(&b);
    return rc;
}

/* One STRING column named by the JSON string literal body `name`. */
static int one(const char *name, const struct sl_schema_opts *o,
               struct sl_error *err)
{
    struct sl_buf b;
    sl__buf_init(&b);
    assert_int_equal(
        sl__buf_printf(&b, "{\"name\": \"%s\", \"type\": \"STRING\"}", name),
        SL_OK);
    struct sl_table *t = NULL;
    int rc = parse(b.data, o, &t, err);
    sl__buf_release(&b);
    sl_table_destroy(t);
    return rc;
}

static void expect_bad(const char *name, const char *needle)
{
    struct sl_error err;
    int rc = one(name, NULL, &err);
    if (rc != -SL_ESCHEMA || strstr(err.msg, needle) == NULL) {
        fprintf(stderr, "name [%s]: rc %d, msg [%s], wanted [%s]\n", name, rc,
                err.msg, needle);
    }
    assert_int_equal(rc, -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, needle));
}

static void expect_ok(const char *name)
{
    struct sl_error err;
    int rc = one(name, NULL, &err);
    if (rc != SL_OK) {
        fprintf(stderr, "name [%s]: %s\n", name, err.msg);
    }
    assert_int_equal(rc, SL_OK);
}

static void test_flexible_accepted(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "Is Hidden",
        "# Joins",
        "Query Count",
        "2nd",
        "a-b",
        "a&b%c=d+e",
        "k:v",
        "it's",
        "<a>",
        "x|y",
        "_",
        "Stra\\u00dfe",
        "\\u540d\\u524d",
        "caf\\u00e9",
        "e\\u0301",       /* e + combining acute: a mark */
        "a\\u00a0b",      /* no-break space: \p{Zs} */
        "\\u0661\\u0662", /* Arabic-Indic digits */
        "a\\u2014b",      /* em dash: \p{Pd} */
        "a\\u203fb",      /* undertie: \p{Pc} */
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(ok); i++) {
        expect_ok(ok[i]);
    }
}

/* Quotes, backslashes, NUL and other control bytes, dots and the rest of the
 * characters BigQuery leaves out never reach SQL: they are refused. */
static void test_hostile_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a\\\"b",
        "a\\\\b",
        "\\\"; DROP TABLE t; --",
        "a.b",
        "a/b",
        "a!b",
        "a$b",
        "a(b",
        "a)b",
        "a*b",
        "a,b",
        "a;b",
        "a?b",
        "a@b",
        "a[b",
        "a]b",
        "a^b",
        "a`b",
        "a{b",
        "a}b",
        "a~b",
        "a\\tb",
        "a\\nb",
        "a\\rb",
        "a\\u007fb",
        "a\\u0001b",
        "\\u2028",
        "a\\ud83d\\ude00", /* emoji: So */
        "",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        expect_bad(bad[i], "invalid field name");
    }
    /* NUL: JSON text with \u0000 is refused by the parser itself */
    struct sl_error err;
    assert_int_equal(one("a\\u0000b", NULL, &err), -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    /* and raw bytes that are not UTF-8 */
    assert_int_equal(one("a\xff"
                         "b",
                         NULL, &err),
                     -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "invalid JSON"));
}

static void test_classic_rule(void **state)
{
    (void)state;
    struct sl_schema_opts o = {.classic_names = true};
    struct sl_error err;
    assert_int_equal(one("snake_Case9", &o, &err), SL_OK);
    assert_int_equal(one("_x", &o, &err), SL_OK);
    static const char *const bad[] = {"Is Hidden", "# Joins", "2nd", "a-b",
                                      "caf\\u00e9"};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        assert_int_equal(one(bad[i], &o, &err), -SL_ESCHEMA);
        assert_non_null(strstr(err.msg, "classic names"));
    }
}

static void test_reserved_prefixes(void **state)
{
    (void)state;
    static const char *const prefixes[] = {
        "_TABLE_",        "_FILE_",
        "_PARTITION",     "_ROW_TIMESTAMP",
        "__ROOT__",       "_COLON_",
        "_COLIDENTIFIER", "_CHANGE_SEQUENCE_NUMBER",
        "_CHANGE_TYPE",   "_CHANGE_TIMESTAMP",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(prefixes); i++) {
        char name[64], lower[64];
        snprintf(name, sizeof(name), "%sx", prefixes[i]);
        for (size_t k = 0; name[k] != '\0'; k++) {
            lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32
                                                               : name[k]);
            lower[k + 1] = '\0';
        }
        expect_bad(name, "reserved prefix");
        expect_bad(lower, "reserved prefix");
        expect_bad(prefixes[i], "reserved prefix");
    }
    /* only as a prefix: inside a name they are ordinary */
    expect_ok("x_TABLE_");
    expect_ok("a_PARTITION");
    expect_ok("_TABLE"); /* not the whole prefix */
}

/* Up to 300 characters (code points, not bytes). */
static void test_length(void **state)
{
    (void)state;
    struct sl_buf b;
    sl__buf_init(&b);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(sl__buf_putc(&b, 'a'), SL_OK);
    }
    expect_ok(b.data);
    assert_int_equal(sl__buf_putc(&b, 'a'), SL_OK);
    expect_bad(b.data, "301 characters long (at most 300)");
    sl__buf_release(&b);
    /* 300 two-byte letters: 600 bytes, still 300 characters */
    sl__buf_init(&b);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(sl__buf_printf(&b, "\xc3\xa9"), SL_OK);
    }
    expect_ok(b.data);
    assert_int_equal(sl__buf_printf(&b, "\xc3\xa9"), SL_OK);
    expect_bad(b.data, "301 characters long");
    sl__buf_release(&b);
    /* very long: refused quickly, the message stays one bounded line */
    sl__buf_init(&b);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(sl__buf_putc(&b, (char)('a' + i % 26)), SL_OK);
    }
    struct sl_error err;
    assert_int_equal(one(b.data, NULL, &err), -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "100000 characters long"));
    assert_null(strchr(err.msg, '\n'));
    sl__buf_release(&b);
}

static void expect_dup(const char *fields, const char *needle)
{
    struct sl_table *t = NULL;
    struct sl_error err;
    int rc = parse(fields, NULL, &t, &err);
    if (rc != -SL_ESCHEMA || strstr(err.msg, needle) == NULL) {
        fprintf(stderr, "%s: rc %d [%s]\n", fields, rc, err.msg);
    }
    assert_int_equal(rc, -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "duplicate field name"));
    assert_non_null(strstr(err.msg, needle));
}

static void test_case_collisions(void **state)
{
    (void)state;
    expect_dup("{\"name\": \"Is Hidden\", \"type\": \"BOOL\"},"
               "{\"name\": \"is hidden\", \"type\": \"BOOL\"}",
               "\"is hidden\" (same as \"Is Hidden\"");
    expect_dup("{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": ["
               "{\"name\": \"# Joins\", \"type\": \"INT64\"},"
               "{\"name\": \"# JOINS\", \"type\": \"INT64\"}]}",
               "# JOINS");
    /* non-ASCII letters fold too: É/é, Greek, Cyrillic, KELVIN SIGN/k,
     * LONG S/s, CAPITAL SHARP S/sharp s */
    expect_dup("{\"name\": \"\\u00c9t\\u00e9\", \"type\": \"STRING\"},"
               "{\"name\": \"\\u00e9t\\u00e9\", \"type\": \"STRING\"}",
               "same as");
    expect_dup("{\"name\": \"\\u0391\\u03b2\", \"type\": \"STRING\"},"
               "{\"name\": \"\\u03b1\\u0392\", \"type\": \"STRING\"}",
               "same as");
    expect_dup("{\"name\": \"\\u0414a\", \"type\": \"STRING\"},"
               "{\"name\": \"\\u0434A\", \"type\": \"STRING\"}",
               "same as");
    expect_dup("{\"name\": \"k1\", \"type\": \"STRING\"},"
               "{\"name\": \"\\u212a1\", \"type\": \"STRING\"}",
               "same as \"k1\"");
    expect_dup("{\"name\": \"\\u017fum\", \"type\": \"STRING\"},"
               "{\"name\": \"SUM\", \"type\": \"STRING\"}",
               "same as");
    expect_dup("{\"name\": \"r\", \"type\": \"RECORD\", \"fields\": ["
               "{\"name\": \"\\u00df\", \"type\": \"STRING\"},"
               "{\"name\": \"\\u1e9e\", \"type\": \"STRING\"}]}",
               "same as");
    /* but different letters stay different */
    struct sl_table *t = NULL;
    struct sl_error err;
    assert_int_equal(parse("{\"name\": \"\\u00e9\", \"type\": \"STRING\"},"
                           "{\"name\": \"e\", \"type\": \"STRING\"},"
                           "{\"name\": \"\\u00df\", \"type\": \"STRING\"},"
                           "{\"name\": \"ss\", \"type\": \"STRING\"},"
                           "{\"name\": \"Is Hidden\", \"type\": \"STRING\"},"
                           "{\"name\": \"IsHidden\", \"type\": \"STRING\"},"
                           "{\"name\": \"Is_Hidden\", \"type\": \"STRING\"}",
                           NULL, &t, &err),
                     SL_OK);
    sl_table_destroy(t);
}

/* NDJSON keys and CSV headers with flexible names find their columns, case
 * insensitively as BigQuery matches them. */
static const char *const flex_def =
    "[{\"name\": \"Is Hidden\", \"type\": \"BOOL\"},"
    " {\"name\": \"# Joins\", \"type\": \"INT64\"},"
    " {\"name\": \"caf\\u00e9 o'clock\", \"type\": \"STRING\"}]";

static int count_row(void *ud, const struct sl_val *cols, size_t n,
                     struct sl_error *err)
{
    (void)cols;
    (void)err;
    assert_int_equal(n, 3);
    (*(int *)ud)++;
    return SL_OK;
}

static void test_flexible_keys_and_headers(void **state)
{
    (void)state;
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_table_parse(flex_def, strlen(flex_def), "f.json", "d",
                                    "t", &t, &err),
                     SL_OK);
    struct sl_vopts o;
    sl_vopts_default(&o);
    struct sl_validator *v = NULL;
    assert_int_equal(sl_validator_create(t, &o, &v, &err), SL_OK);
    struct sl_reject r;
    const char *row = "{\"Is Hidden\": true, \"# joins\": 3, "
                      "\"caf\xc3\xa9 o'clock\": \"x\"}";
    assert_int_equal(sl_validate_ndjson_row(v, row, strlen(row), NULL, &r), 0);
    const char *esc = "{\"is hidden\": false, \"caf\\u00e9 o'clock\": \"y\"}";
    assert_int_equal(sl_validate_ndjson_row(v, esc, strlen(esc), NULL, &r), 0);
    /* É finds é: names are case-insensitive beyond ASCII too */
    const char *upper = "{\"CAF\xc3\x89 O'CLOCK\": \"z\"}";
    assert_int_equal(sl_validate_ndjson_row(v, upper, strlen(upper), NULL, &r),
                     0);
    const char *unknown = "{\"Is  Hidden\": true}";
    assert_int_equal(
        sl_validate_ndjson_row(v, unknown, strlen(unknown), NULL, &r), 1);
    assert_non_null(strstr(r.reason, "No such field"));
    sl_validator_destroy(v);

    /* CSV with a header row naming the columns in another order and case */
    char path[] = "/tmp/sluice-names-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *csv = "# Joins,CAF\xc3\x89 O'CLOCK,is hidden\n"
                      "7,abc,true\n"
                      "8,\"d,e\",false\n";
    assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
    close(fd);
    sl_vopts_default(&o);
    o.format = SL_FMT_CSV;
    o.header = true;
    assert_int_equal(sl_validator_create(t, &o, &v, &err), SL_OK);
    int rows = 0;
    struct sl_row_sink sink = {.row = count_row, .ud = &rows};
    struct sl_file_stats st;
    int rc = sl_validate_file(v, path, &sink, NULL, &st, &err);
    unlink(path);
    if (rc != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
    }
    assert_int_equal(rc, SL_OK);
    assert_int_equal(rows, 2);
    assert_int_equal(st.rejected, 0);
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flexible_accepted),
        cmocka_unit_test(test_hostile_refused),
        cmocka_unit_test(test_classic_rule),
        cmocka_unit_test(test_reserved_prefixes),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_case_collisions),
        cmocka_unit_test(test_flexible_keys_and_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
