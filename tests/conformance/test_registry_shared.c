/* test_registry_shared.c - conformance of the schema loader with the real
 * BigQuery schemas in ../shared/data (read in place, never copied): every
 * schema loads, or is listed below with the reason BigQuery refuses it too.
 * An unexpected refusal, or an expected refusal that loads, fails the test. */
#include "core/common.h"

#include "core/buf.h"
#include "schema/schema.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SL_SHARED_DIR
#define SL_SHARED_DIR "../shared"
#endif
#define DATA SL_SHARED_DIR "/data"

/* A definition the loader refuses, matched by path suffix; `needle` must
 * appear in the reported problem. */
struct refusal {
    const char *suffix;
    const char *needle;
    const char *why; /* the reason BigQuery refuses it as well */
};

/* schemas-mozilla: 1,059 bigquery-etl schemas, all load. Three use
 * BigQuery's flexible column names (the default); under the classic rule
 * (classic_names) they are refused, which the test checks too. */
static const struct refusal mozilla_classic_refusals[] = {
    {"/monitoring_derived/looker_usage_explores_v1/schema.json",
     "invalid field name \"Is Hidden\"",
     "column names with spaces and '#' (\"Is Hidden\", \"# Joins\"): valid "
     "flexible column names, not valid under the classic rule"},
    {"/monitoring_derived/looker_usage_models_v1/schema.json",
     "invalid field name \"# Explores\"",
     "same: flexible column names (\"# Explores\", \"Query Count\")"},
    {"/monitoring_derived/looker_usage_unused_explores_v1/schema.json",
     "invalid field name \"Unused Joins\"",
     "same: flexible column names (\"Unused Joins\")"},
};

/* schemas-public-datasets: 160 files (158 schemas), each parsed on its own
 * (several pipelines keep a schema.json in a folder of the same name, so as one
 * registry they map to the same table: see test_public_datasets_registry). */
static const struct refusal public_refusals[] = {
    {"/world_bank_wdi/pipelines/_images/run_csv_transform_kub/schema.json",
     "the file holds 5 tables (country_series_definitions, country_summary, "
     "footnotes, series_summary, ...)",
     "an object mapping five table names to their schemas, not one schema: bq "
     "load --schema "
     "and the REST TableSchema both refuse it"},
    {"/noaa_passive_bioacoustic/pipelines/_images/run_csv_transform_kub/"
     "schema.json",
     "the file holds 4 tables",
     "same: a map of four tables' schemas in one file"},
};

/* bigquery-fixtures: every .json is parsed; three are data, not schemas. */
static const struct refusal fixture_refusals[] = {
    {"/python-bigquery/tests/data/characters.json",
     "field has no \"name\" string",
     "data rows (objects without name/type), not a schema"},
    {"/python-bigquery/samples/snippets/user_sessions_data.json",
     "invalid JSON at line 2", "newline-delimited JSON data, not a schema"},
    {"/sqlalchemy-bigquery/packages/sqlalchemy-bigquery/scripts/"
     "sample_one_row.json",
     "no \"fields\" array", "one data row (an object of values), not a schema"},
};

/* ------------------------------------------------------------------ helpers */

static char **g_files;
static size_t g_n_files, g_cap_files;

static int collect(const char *p, const struct stat *st, int flag,
                   struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(p);
    if (flag == FTW_F && n > 5 && strcmp(p + n - 5, ".json") == 0) {
        if (g_n_files == g_cap_files) {
            g_cap_files = g_cap_files ? 2 * g_cap_files : 256;
            g_files = realloc(g_files, g_cap_files * sizeof(char *));
            assert_non_null(g_files);
        }
        g_files[g_n_files] = strdup(p);
        assert_non_null(g_files[g_n_files]);
        g_n_files++;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All .json files under dir, sorted; freed with free_files. */
static void list_files(const char *dir)
{
    g_n_files = 0;
    assert_int_equal(nftw(dir, collect, 32, FTW_PHYS), 0);
    qsort(g_files, g_n_files, sizeof(char *), cmp_str);
}

static void free_files(void)
{
    for (size_t i = 0; i < g_n_files; i++) {
        free(g_files[i]);
    }
    free(g_files);
    g_files = NULL;
    g_n_files = g_cap_files = 0;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static char *read_all(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *out_len = (size_t)n;
    return buf;
}

static int max_depth(const struct sl_field *rec, int depth)
{
    int m = depth;
    for (size_t i = 0; i < rec->n_fields; i++) {
        if (rec->fields[i].type == SL_T_RECORD) {
            int d = max_depth(&rec->fields[i], depth + 1);
            m = d > m ? d : m;
        }
    }
    return m;
}

static const struct refusal *expected(const struct refusal *r, size_t n,
                                      const char *file)
{
    for (size_t i = 0; i < n; i++) {
        if (ends_with(file, r[i].suffix)) {
            return &r[i];
        }
    }
    return NULL;
}

/* Check a problem list ("FILE: PATH: reason" lines) against the expected
 * refusals: each problem belongs to an expected file and carries its needle,
 * and each expected file was refused. */
static void check_problems(const char *problems, const struct refusal *r,
                           size_t n)
{
    bool *seen = calloc(n + 1, sizeof(bool));
    int unexpected = 0;
    assert_non_null(seen);
    for (const char *line = problems; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++) {
            const char *at = strstr(line, r[i].suffix);
            if (at != NULL && at < line + len &&
                at[strlen(r[i].suffix)] == ':') {
                ok = true;
                seen[i] = true;
            }
        }
        if (!ok) {
            fprintf(stderr, "unexpected refusal: %.*s\n", (int)len, line);
            unexpected++;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!seen[i]) {
            fprintf(stderr, "expected refusal did not happen: %s (%s)\n",
                    r[i].suffix, r[i].why);
        } else if (strstr(problems, r[i].needle) == NULL) {
            fprintf(stderr, "refused for another reason than \"%s\": %s\n",
                    r[i].needle, r[i].suffix);
            seen[i] = false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        assert_true(seen[i]);
    }
    free(seen);
    assert_int_equal(unexpected, 0);
}

/* Parse every .json under dir on its own (names from the file stem). */
static void parse_each(const char *dir, const struct refusal *r, size_t n,
                       size_t *out_loaded, size_t *out_max_columns,
                       int *out_max_depth)
{
    struct sl_buf pb;
    sl__buf_init(&pb);
    list_files(dir);
    *out_loaded = 0;
    *out_max_columns = 0;
    *out_max_depth = 0;
    for (size_t i = 0; i < g_n_files; i++) {
        size_t len;
        char *text = read_all(g_files[i], &len);
        struct sl_table *t = NULL;
        struct sl_error err = {0};
        int rc = sl_table_parse_ex(text, len, g_files[i], "shared", "t", NULL,
                                   &pb, &t, &err);
        free(text);
        if (rc == SL_OK) {
            size_t cols = sl_table_count_fields(t);
            int d = max_depth(&t->root, 0);
            *out_max_columns =
                cols > *out_max_columns ? cols : *out_max_columns;
            *out_max_depth = d > *out_max_depth ? d : *out_max_depth;
            (*out_loaded)++;
        } else {
            assert_int_equal(rc, -SL_ESCHEMA);
            if (expected(r, n, g_files[i]) == NULL) {
                fprintf(stderr, "unexpected refusal: %s: %s: %s\n", g_files[i],
                        err.column, err.msg);
                fail();
            }
        }
        sl_table_destroy(t);
    }
    check_problems(pb.data, r, n);
    free_files();
    sl__buf_release(&pb);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ tests */

static void test_mozilla_registry(void **state)
{
    (void)state;
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    struct sl_buf pb;
    sl__buf_init(&pb);
    double t0 = now_ms();
    assert_int_equal(sl_registry_load(DATA "/schemas-mozilla", &pb, &reg, &err),
                     SL_OK);
    double ms = now_ms() - t0;
    printf("schemas-mozilla: %zu tables in %.0f ms\n", reg->n_tables, ms);
    if (pb.len > 0) {
        fprintf(stderr, "%s", pb.data);
    }
    assert_int_equal(pb.len, 0);
    assert_int_equal(reg->n_tables, 1059);

    int depth = 0;
    size_t nodes = 0;
    for (size_t i = 0; i < reg->n_tables; i++) {
        const struct sl_table *t = reg->tables[i];
        int d = max_depth(&t->root, 0);
        depth = d > depth ? d : depth;
        nodes += sl_table_count_fields(t);
        char full[2100];
        snprintf(full, sizeof(full), "%s.%s", t->dataset, t->name);
        assert_ptr_equal(sl_registry_find(reg, full), t);
    }
    /* the deepest RECORD is at level 7, so its leaves are at level 8 */
    printf("schemas-mozilla: %zu field nodes, deepest RECORD at level %d\n",
           nodes, depth);
    assert_int_equal(depth, 7);
    /* dataset = folder above the table folder; the project folder is ignored */
    const struct sl_table *t = sl_registry_find(reg, "iprospect.adspend_v1");
    assert_non_null(t);
    assert_non_null(
        strstr(t->file, "/moz-fx-data-marketing-prod/iprospect/adspend_v1/"));
    sl_registry_destroy(reg);
    sl__buf_release(&pb);

    /* under the classic rule exactly the three looker tables are refused */
    struct sl_schema_opts o = {.classic_names = true};
    sl__buf_init(&pb);
    assert_int_equal(
        sl_registry_load_ex(DATA "/schemas-mozilla", &o, &pb, &reg, &err),
        SL_OK);
    check_problems(pb.data, mozilla_classic_refusals,
                   SL_ARRAY_LEN(mozilla_classic_refusals));
    assert_int_equal(reg->n_tables,
                     1059 - SL_ARRAY_LEN(mozilla_classic_refusals));
    sl_registry_destroy(reg);
    sl__buf_release(&pb);
}

static void test_public_datasets(void **state)
{
    (void)state;
    size_t loaded, cols;
    int depth;
    parse_each(DATA "/schemas-public-datasets", public_refusals,
               SL_ARRAY_LEN(public_refusals), &loaded, &cols, &depth);
    printf("schemas-public-datasets: %zu loaded, widest %zu columns\n", loaded,
           cols);
    assert_int_equal(loaded, 158); /* 160 files, 2 of them not schemas */
    assert_int_equal(cols, 7825);
    assert_int_equal(depth, 0); /* all flat */
}

/* As one registry the public-datasets tree refuses only its duplicate
 * dataset.table mappings (pipelines/_images/<step>/schema.json and copies of
 * the same pipeline): a layout problem, reported with both files. */
static void test_public_datasets_registry(void **state)
{
    (void)state;
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    struct sl_buf pb;
    sl__buf_init(&pb);
    assert_int_equal(
        sl_registry_load(DATA "/schemas-public-datasets", &pb, &reg, &err),
        SL_OK);
    size_t lines = 0;
    for (const char *line = pb.data; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        const char *dup = strstr(line, ": duplicate table ");
        assert_true(dup != NULL && dup < nl);
        assert_true(strstr(dup, "also defined by ") < nl);
        lines++;
        line = nl + 1;
    }
    assert_int_equal(reg->n_tables + lines, 160);
    sl_registry_destroy(reg);
    sl__buf_release(&pb);
}

static void test_ethereum(void **state)
{
    (void)state;
    /* raw/ and enrich/ each hold a schemas/ folder with the same table names,
     * so they are two registries (dataset "schemas" in each) */
    static const char *const dirs[] = {DATA "/ethereum/schemas/raw",
                                       DATA "/ethereum/schemas/enrich"};
    for (size_t i = 0; i < SL_ARRAY_LEN(dirs); i++) {
        struct sl_registry *reg = NULL;
        struct sl_error err = {0};
        struct sl_buf pb;
        sl__buf_init(&pb);
        assert_int_equal(sl_registry_load(dirs[i], &pb, &reg, &err), SL_OK);
        if (pb.len > 0) {
            fprintf(stderr, "%s", pb.data);
        }
        assert_int_equal(pb.len, 0);
        assert_int_equal(reg->n_tables, 8);
        const struct sl_table *tx =
            sl_registry_find(reg, "schemas.transactions");
        assert_non_null(tx);
        const struct sl_table *traces = sl_registry_find(reg, "traces");
        assert_non_null(traces);
        const struct sl_field *hash = sl_field_find(&tx->root, "hash", 4);
        assert_non_null(hash);
        assert_int_equal(hash->type, SL_T_STRING);
        sl_registry_destroy(reg);
        sl__buf_release(&pb);
    }
    /* as one tree, the shared names collide and are reported, naming both files
     */
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    struct sl_buf pb;
    sl__buf_init(&pb);
    assert_int_equal(
        sl_registry_load(DATA "/ethereum/schemas", &pb, &reg, &err), SL_OK);
    assert_non_null(strstr(
        pb.data, "/raw/schemas/blocks.json: duplicate table schemas.blocks: "
                 "also defined by "));
    assert_int_equal(reg->n_tables,
                     2); /* balances (enrich) and receipts (raw) */
    sl_registry_destroy(reg);
    sl__buf_release(&pb);
    /* strict mode stops at the first problem */
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        sl_registry_load(DATA "/ethereum/schemas", NULL, &reg, &err),
        -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "duplicate table"));
}

static void test_bigquery_fixtures(void **state)
{
    (void)state;
    size_t loaded, cols;
    int depth;
    parse_each(DATA "/bigquery-fixtures", fixture_refusals,
               SL_ARRAY_LEN(fixture_refusals), &loaded, &cols, &depth);
    printf("bigquery-fixtures: %zu schemas loaded, deepest nesting %d\n",
           loaded, depth);
    assert_int_equal(loaded, 22 - SL_ARRAY_LEN(fixture_refusals));
    assert_true(depth >= 2);
}

int main(void)
{
    struct stat st;
    if (stat(DATA "/schemas-mozilla", &st) != 0) {
        printf("skipped: ../shared not found\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mozilla_registry),
        cmocka_unit_test(test_public_datasets),
        cmocka_unit_test(test_public_datasets_registry),
        cmocka_unit_test(test_ethereum),
        cmocka_unit_test(test_bigquery_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
