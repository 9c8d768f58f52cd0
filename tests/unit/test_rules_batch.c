/* test_rules_batch.c - BqTail's documented use cases, with rule files as a
 * BqTail user writes them, against a real DuckDB file: each batch planned by
 * src/rules/ and loaded the way rules.h tells the service to (the plan's
 * SQL in the load's transaction, then the actions, then the cleanup;
 * tests/support/rulestest.h). A batch of two files loads once; MultiPath;
 * dedupe within the batch and against the destination; Transform with CASE;
 * a side-input join; table and columns from the path; Override of one
 * partition; Split; a summary query action; a failing post-action; 2,000
 * files into $Mod(2) tables. tests. */
#include "core/common.h"

#include "../support/querytest.h"
#include "../support/rulestest.h"
#include "core/alloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct sl_wh_ops *D = &sl__duckdb_ops;

#define DAY_US 86400000000LL
#define T_0102 1704200400000000LL /* 2024-01-02T13:00:00Z */

struct fx {
    struct rt_gw g;
    struct sl_registry *reg;
    struct sl_rules *rs;
    struct sl_wh *wh;
};

static const char dummy[] =
    "{\"fields\": ["
    "{\"name\": \"id\", \"type\": \"INTEGER\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"type_id\", \"type\": \"INTEGER\"},"
    "{\"name\": \"name\", \"type\": \"STRING\"},"
    "{\"name\": \"payment\", \"type\": \"FLOAT\"},"
    "{\"name\": \"fee_id\", \"type\": \"INTEGER\"},"
    "{\"name\": \"charge\", \"type\": \"FLOAT\"},"
    "{\"name\": \"date\", \"type\": \"DATE\"},"
    "{\"name\": \"use_case\", \"type\": \"STRING\"}],"
    " \"timePartitioning\": {\"type\": \"DAY\", \"field\": \"date\"}}";

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    rt_gw_make(&x->g);
    rt_write(x->g.dir, "schemas/bqtail/dummy.json", dummy);
    rt_write(x->g.dir, "schemas/bqtail/fees.json",
             "[{\"name\": \"id\", \"type\": \"INTEGER\"},"
             " {\"name\": \"value\", \"type\": \"FLOAT\"}]");
    x->reg = rt_registry(x->g.dir);
    char uri[200];
    snprintf(uri, sizeof(uri), "duckdb://%s/wh.duckdb", x->g.dir);
    struct sl_error err = {0};
    if (D->open(uri, NULL, &x->wh, &err) != SL_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    D->close(x->wh);
    sl_rules_destroy(x->rs);
    sl_registry_destroy(x->reg);
    rt_gw_remove(&x->g);
    free(x);
    return 0;
}

/* Write rules/<name> and load the set (no problem allowed). */
static void rules(struct fx *x, const char *name, const char *text)
{
    char rel[200];
    snprintf(rel, sizeof(rel), "rules/%s", name);
    rt_write(x->g.dir, rel, text);
    sl_rules_destroy(x->rs);
    x->rs = NULL;
    struct sl_buf p;
    sl__buf_init(&p);
    struct sl_error err = {0};
    if (sl_rules_load(x->g.dir, x->reg, NULL, &p, NULL, &x->rs, &err) !=
            SL_OK ||
        p.data != NULL) {
        fail_msg("rules: %s %s", err.msg, p.data ? p.data : "");
    }
    sl__buf_release(&p);
}

static void data(struct fx *x, const char *raw, const char *rows)
{
    char rel[300];
    snprintf(rel, sizeof(rel), "raw/%s", raw);
    rt_write(x->g.dir, rel, rows);
}

static char *q(struct fx *x, const char *sql)
{
    struct sl_error err = {0};
    int rc;
    char *out = qt_string(D, x->wh, sql, SL_QF_CSV, 0, &rc, &err);
    if (rc != SL_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    return out;
}

static void expect(struct fx *x, const char *sql, const char *want)
{
    char *got = q(x, sql);
    if (strcmp(got, want) != 0) {
        fail_msg("%s:\nwant\n%s\ngot\n%s", sql, want, got);
    }
    free(got);
}

static struct rt_result run(struct fx *x, const struct rt_file *f, size_t n,
                            unsigned salt)
{
    struct rt_result r = rt_run(D, x->wh, x->rs, x->g.dir, f, n, salt);
    if (r.load_rc != SL_OK) {
        fail_msg("load: %s", r.load_err);
    }
    return r;
}

/* ---- the use cases
 * ------------------------------------------------------------------ */

/* usage/dedupe and the basic async batch: two files in one window are one
 * batch, loaded once even when the same batch comes again. */
static void test_two_files_one_batch(void **state)
{
    struct fx *x = *state;
    rules(x, "batch.yaml",
          "When: {Prefix: /data/, Suffix: .json}\n"
          "Async: true\n"
          "Dest:\n"
          "  Table: bqtail.dummy\n"
          "  Transient: {Dataset: temp}\n"
          "Batch: {Window: {DurationInSec: 60}}\n");
    data(x, "data/a.json", "{\"id\": 1}\n{\"id\": 2}\n");
    data(x, "data/b.json", "{\"id\": 3}\n");
    struct rt_file f[] = {{"data/a.json", T_0102}, {"data/b.json", T_0102}};
    struct rt_result r = run(x, f, 2, 1);
    assert_int_equal(r.batches, 1);
    expect(x, "SELECT count(*) AS n FROM bqtail.dummy", "n\n3\n");
    /* the same batch again (a crash before the ledger knew): nothing */
    r = run(x, f, 2, 1);
    assert_int_equal(r.rows_loaded, 0);
    expect(x, "SELECT count(*) AS n FROM bqtail.dummy", "n\n3\n");
    expect(x,
           "SELECT count(*) AS n FROM information_schema.tables WHERE "
           "table_schema = 'temp'",
           "n\n0\n"); /* transient tables dropped */
    expect(x,
           "SELECT table_name, count(*) AS files FROM _sluice_files GROUP BY "
           "1",
           "table_name,files\nbqtail.dummy,2\n"); /* audited as the dest */
    sl_rules_report_release(&r.report);
}

static void test_multipath(void **state)
{
    struct fx *x = *state;
    const char *plain = "When: {Prefix: /m/}\n"
                        "Dest: {Table: bqtail.dummy}\n"
                        "Batch: {Window: {DurationInSec: 60}}\n";
    const char *multi = "When: {Prefix: /m/}\n"
                        "Dest: {Table: bqtail.dummy}\n"
                        "Batch: {Window: {DurationInSec: 60}, MultiPath: "
                        "true}\n";
    rules(x, "m.yaml", plain);
    data(x, "m/x/1.json", "{\"id\": 1}\n");
    data(x, "m/y/2.json", "{\"id\": 2}\n");
    struct rt_file f[] = {{"m/x/1.json", T_0102}, {"m/y/2.json", T_0102}};
    struct rt_result r = run(x, f, 2, 1);
    assert_int_equal(r.batches, 2); /* one per folder */
    sl_rules_report_release(&r.report);
    rules(x, "m.yaml", multi);
    r = run(x, f, 2, 2);
    assert_int_equal(r.batches, 1);
    assert_int_equal(r.rows_loaded, 0); /* both files were loaded already */
    data(x, "m/y/2.json", "{\"id\": 22}\n");
    data(x, "m/x/1.json", "{\"id\": 11}\n");
    r = run(x, f, 2, 3);
    assert_int_equal(r.batches, 1);
    assert_int_equal(r.rows_loaded, 2);
    expect(x,
           "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) AS ids FROM "
           "bqtail.dummy",
           "ids\n\"1,2,11,22\"\n");
    sl_rules_report_release(&r.report);
}

static void test_dedupe(void **state)
{
    struct fx *x = *state;
    rules(x, "d.yaml",
          "When: {Prefix: /d/}\n"
          "Dest:\n"
          "  Table: bqtail.dummy\n"
          "  Transient: {Dataset: temp}\n"
          "  UniqueColumns: [id]\n"
          "Batch: {Window: {DurationInSec: 60}}\n");
    data(x, "d/1.json",
         "{\"id\": 1, \"name\": \"b\"}\n{\"id\": 1, \"name\": \"a\"}\n"
         "{\"id\": 2, \"name\": \"c\"}\n");
    data(x, "d/2.json", "{\"id\": 2, \"name\": \"c\"}\n");
    struct rt_file f[] = {{"d/1.json", T_0102}, {"d/2.json", T_0102}};
    struct rt_result r = run(x, f, 2, 1);
    sl_rules_report_release(&r.report);
    /* within the batch, and always the same survivor (ordered by the row) */
    expect(x, "SELECT id, name FROM bqtail.dummy ORDER BY id",
           "id,name\n1,a\n2,c\n");
    /* BqTail's dedupe is batch-local: id 2 comes again next batch */
    data(x, "d/3.json", "{\"id\": 2, \"name\": \"c\"}\n{\"id\": 3}\n");
    struct rt_file g[] = {{"d/3.json", T_0102}};
    r = run(x, g, 1, 2);
    sl_rules_report_release(&r.report);
    expect(x, "SELECT count(*) AS n FROM bqtail.dummy", "n\n4\n");
    /* ours: Against destination drops keys the table holds */
    rules(x, "d.yaml",
          "When: {Prefix: /d/}\n"
          "Dest:\n"
          "  Table: bqtail.dummy\n"
          "  Transient: {Dataset: temp}\n"
          "  UniqueColumns: {Columns: [id], Against: destination}\n"
          "Batch: {Window: {DurationInSec: 60}}\n");
    data(x, "d/4.json", "{\"id\": 3}\n{\"id\": 4}\n{\"id\": 4}\n");
    struct rt_file h[] = {{"d/4.json", T_0102}};
    r = run(x, h, 1, 3);
    sl_rules_report_release(&r.report);
    expect(x,
           "SELECT id, count(*) AS n FROM bqtail.dummy GROUP BY id ORDER "
           "BY id",
           "id,n\n1,1\n2,2\n3,1\n4,1\n");
}

static void test_transform_case_and_side_input(void **state)
{
    struct fx *x = *state;
    bool created;
    struct sl_error err = {0};
    struct sl_table *fees = NULL;
    assert_int_equal(sl_table_view(sl_registry_find(x->reg, "bqtail.fees"),
                                   "bqtail", "fees", &fees),
                     SL_OK);
    assert_int_equal(D->ensure_table(x->wh, fees, &created, &err), SL_OK);
    sl_table_view_destroy(fees);
    free(q(x, "INSERT INTO bqtail.fees VALUES (1, 0.5), (2, 10)"));
    rules(x, "tx.yaml",
          "When: {Prefix: /tx/}\n"
          "Dest:\n"
          "  Table: bqtail.dummy\n"
          "  Transient: {Dataset: temp, Alias: t}\n"
          "  Transform:\n"
          "    charge: \"(CASE WHEN type_id = 1 THEN t.payment + f.value "
          "WHEN type_id = 2 THEN t.payment * (1 + f.value / 100) ELSE "
          "t.payment END)\"\n"
          "    name: \"CASE WHEN t.name IS NULL THEN 'none' ELSE upper(t.name) "
          "END\"\n"
          "  SideInputs:\n"
          "    - {Table: bqtail.fees, Alias: f, On: t.fee_id = f.id}\n"
          "Batch: {Window: {DurationInSec: 60}}\n");
    data(x, "tx/a.json",
         "{\"id\": 1, \"type_id\": 1, \"payment\": 10, \"fee_id\": 1, "
         "\"name\": \"x\"}\n"
         "{\"id\": 2, \"type_id\": 2, \"payment\": 10, \"fee_id\": 2}\n"
         "{\"id\": 3, \"type_id\": 3, \"payment\": 10, \"fee_id\": 9}\n");
    struct rt_file f[] = {{"tx/a.json", T_0102}};
    struct rt_result r = run(x, f, 1, 1);
    sl_rules_report_release(&r.report);
    expect(x, "SELECT id, name, charge FROM bqtail.dummy ORDER BY id",
           "id,name,charge\n1,X,10.5\n2,none,11\n3,none,10\n");
}

/* e2e 031: the table name and two columns from the path's date and case. */
static void test_table_and_columns_from_path(void **state)
{
    struct fx *x = *state;
    rules(x, "e031.yaml",
          "When: {Prefix: /data/, Suffix: .json}\n"
          "Dest:\n"
          "  Pattern: /data/case(\\d+)/(\\d{4})/(\\d{2})/(\\d{2})/\n"
          "  Table: bqtail.dummy_$Suffix\n"
          "  Parameters:\n"
          "    - {Name: Suffix, Expression: $2$3$4}\n"
          "    - {Name: Day, Expression: $2-$3-$4}\n"
          "    - {Name: CaseNo, Expression: $1}\n"
          "  Transient: {Dataset: temp}\n"
          "  Schema: {Template: bqtail.dummy}\n"
          "  Transform: {date: \"CAST('$Day' AS DATE)\", use_case: "
          "\"'$CaseNo'\"}\n"
          "Batch: {Window: {DurationInSec: 15}}\n");
    data(x, "data/case031/2024/01/03/a.json", "{\"id\": 1}\n{\"id\": 2}\n");
    data(x, "data/case032/2024/01/04/b.json", "{\"id\": 3}\n");
    struct rt_file f[] = {{"data/case031/2024/01/03/a.json", T_0102},
                          {"data/case032/2024/01/04/b.json", T_0102}};
    struct rt_result r = run(x, f, 2, 1);
    sl_rules_report_release(&r.report);
    assert_int_equal(r.batches, 2);
    expect(x,
           "SELECT id, date, use_case FROM bqtail.dummy_20240103 ORDER BY "
           "id",
           "id,date,use_case\n1,2024-01-03,031\n2,2024-01-03,031\n");
    expect(x, "SELECT id, date, use_case FROM bqtail.dummy_20240104",
           "id,date,use_case\n3,2024-01-04,032\n");
}

/* usage/override: Partition $Date with Override replaces that day only. */
static void test_override_partition(void **state)
{
    struct fx *x = *state;
    rules(x, "ov.json",
          "{\"When\": {\"Prefix\": \"/ov/\", \"Suffix\": \".csv\"},"
          " \"Dest\": {\"Table\": \"proj:bqtail.dummy\", \"Override\": true,"
          "  \"Partition\": \"$Date\", \"Transient\": {\"Dataset\": "
          "\"temp\"}, \"SkipLeadingRows\": 1, \"MaxBadRecords\": 3},"
          " \"Batch\": {\"Window\": {\"DurationInSec\": 60}}}");
    const char *hdr = "id,type_id,name,payment,fee_id,charge,date,use_case\n";
    char text[400];
    snprintf(text, sizeof(text), "%s1,,a,,,,2024-01-01,\n2,,b,,,,2024-01-02,\n",
             hdr);
    data(x, "ov/1.csv", text);
    struct rt_file f1[] = {{"ov/1.csv", T_0102}};
    struct rt_result r = run(x, f1, 1, 1);
    sl_rules_report_release(&r.report);
    snprintf(text, sizeof(text), "%s3,,c,,,,2024-01-02,\n", hdr);
    data(x, "ov/2.csv", text);
    struct rt_file f2[] = {{"ov/2.csv", T_0102}};
    r = run(x, f2, 1, 2);
    sl_rules_report_release(&r.report);
    expect(x, "SELECT id, date FROM bqtail.dummy ORDER BY id",
           "id,date\n1,2024-01-01\n3,2024-01-02\n");
}

static void test_split_even_odd(void **state)
{
    struct fx *x = *state;
    rules(x, "split.yaml",
          "When: {Prefix: /split/}\n"
          "Dest:\n"
          "  Table: bqtail.events\n"
          "  Transient: {Dataset: temp}\n"
          "  Schema:\n"
          "    Template: bqtail.dummy\n"
          "    Split:\n"
          "      ClusterColumns: [id]\n"
          "      Mapping:\n"
          "        - {When: \"id % 2 = 0\", Then: bqtail.even}\n"
          "        - {When: \"id % 2 = 1\", Then: bqtail.odd}\n"
          "Batch: {Window: {DurationInSec: 60}}\n");
    data(x, "split/a.json",
         "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3}\n{\"id\": 4}\n{\"id\": 5}\n");
    struct rt_file f[] = {{"split/a.json", T_0102}};
    struct rt_result r = run(x, f, 1, 1);
    sl_rules_report_release(&r.report);
    expect(x,
           "SELECT (SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM "
           "bqtail.even) AS even, (SELECT string_agg(id::VARCHAR, ',' ORDER "
           "BY id) FROM bqtail.odd) AS odd",
           "even,odd\n\"2,4\",\"1,3,5\"\n");
}

/* usage/dedupe's summary: a query action writes $BatchID and the count. */
static void test_summary_query_action(void **state)
{
    struct fx *x = *state;
    rules(x, "sum.yaml",
          "When: {Prefix: /s/}\n"
          "Dest: {Table: bqtail.dummy, Transient: {Dataset: temp}}\n"
          "Batch: {Window: {DurationInSec: 60}}\n"
          "OnSuccess:\n"
          "  - Action: query\n"
          "    Request:\n"
          "      SQL: SELECT '$BatchID' AS batch_id, COUNT(1) AS row_count "
          "FROM $TempTable\n"
          "      Dest: bqtail.summary\n"
          "      Append: true\n"
          "  - {Action: delete}\n");
    data(x, "s/1.json", "{\"id\": 1}\n{\"id\": 2}\n");
    data(x, "s/2.json", "{\"id\": 3}\n");
    struct rt_file f[] = {{"s/1.json", T_0102}, {"s/2.json", T_0102}};
    struct rt_result r = run(x, f, 2, 0xabc);
    assert_int_equal(r.actions_rc, SL_OK);
    assert_int_equal(r.report.n, 2);
    assert_string_equal(r.report.items[0].msg,
                        "wrote 1 rows into bqtail.summary (created)");
    assert_string_equal(r.report.items[1].msg, "deleted 2 files");
    sl_rules_report_release(&r.report);
    data(x, "s/3.json", "{\"id\": 4}\n");
    struct rt_file g[] = {{"s/3.json", T_0102}};
    r = run(x, g, 1, 0xdef);
    assert_string_equal(r.report.items[0].msg,
                        "wrote 1 rows into bqtail.summary");
    sl_rules_report_release(&r.report);
    expect(x, "SELECT batch_id, row_count FROM bqtail.summary ORDER BY 2",
           "batch_id,row_count\n"
           "00000def00000000000000000000000000000000000000000000000000000000,"
           "1\n"
           "00000abc00000000000000000000000000000000000000000000000000000000,"
           "3\n");
    char path[200];
    snprintf(path, sizeof(path), "%s/raw/s/1.json", x->g.dir);
    assert_int_equal(access(path, F_OK), -1); /* deleted by the action */
}

/* e2e 026: a failing post-query leaves the destination intact and says
 * why; its OnFailure runs with $Error. */
static void test_failing_post_action(void **state)
{
    struct fx *x = *state;
    rules(x, "bad.yaml",
          "When: {Prefix: /b/}\n"
          "Dest: {Table: bqtail.dummy, Transient: {Dataset: temp}}\n"
          "Batch: {Window: {DurationInSec: 60}}\n"
          "OnSuccess:\n"
          "  - Action: query\n"
          "    Request: {SQL: SELECT no_such_column FROM $DestTable}\n"
          "    OnFailure:\n"
          "      - Action: query\n"
          "        Request: {SQL: \"CREATE TABLE bqtail.errs AS SELECT "
          "'$Error' AS e\"}\n"
          "  - {Action: delete}\n");
    data(x, "b/1.json", "{\"id\": 1}\n{\"id\": 2}\n");
    struct rt_file f[] = {{"b/1.json", T_0102}};
    struct rt_result r = run(x, f, 1, 1);
    assert_int_equal(r.actions_rc, -SL_EWAREHOUSE);
    assert_non_null(strstr(r.actions_err, "OnSuccess[0] query: "));
    assert_non_null(strstr(r.actions_err, "no_such_column"));
    assert_int_equal(r.report.n, 2); /* the query, its OnFailure; no delete */
    assert_int_equal(r.report.n_failed, 1);
    assert_string_equal(r.report.items[1].where, "OnSuccess[0].OnFailure[0]");
    sl_rules_report_release(&r.report);
    expect(x, "SELECT count(*) AS n FROM bqtail.dummy", "n\n2\n");
    expect(x, "SELECT e LIKE '%no_such_column%' AS ok FROM bqtail.errs",
           "ok\ntrue\n");
    char path[200];
    snprintf(path, sizeof(path), "%s/raw/b/1.json", x->g.dir);
    assert_int_equal(access(path, F_OK), 0); /* the list stopped */
}

/* 2,000 single-row files into $Mod(2) tables: all rows, each in the table
 * its path hashes to. */
static void test_mod_shards(void **state)
{
    struct fx *x = *state;
    rules(x, "mod.yaml",
          "When: {Prefix: /mod/, Suffix: .json}\n"
          "Dest: {Table: bqtail.shard_$Mod(2), Schema: {Template: "
          "bqtail.dummy}}\n"
          "Batch: {Window: {DurationInSec: 60}}\n");
    enum { N = 2000 };
    static struct rt_file f[N];
    static char names[N][32];
    int64_t sum1 = 0, n1 = 0;
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "mod/f%04d.json", i);
        char row[40], path[40];
        snprintf(row, sizeof(row), "{\"id\": %d}\n", i);
        data(x, names[i], row);
        f[i] = (struct rt_file){names[i], T_0102};
        snprintf(path, sizeof(path), "/%s", names[i]);
        if (sl_rules_path_hash(path, strlen(path)) % 2 == 1) {
            sum1 += i;
            n1++;
        }
    }
    struct rt_result r = run(x, f, N, 1);
    sl_rules_report_release(&r.report);
    assert_int_equal(r.batches, 2);
    assert_int_equal(r.rows_loaded, N);
    char want[200];
    snprintf(want, sizeof(want), "n0,n1,s1\n%lld,%lld,%lld\n",
             (long long)(N - n1), (long long)n1, (long long)sum1);
    expect(x,
           "SELECT (SELECT count(*) FROM bqtail.shard_0) AS n0, (SELECT "
           "count(*) FROM bqtail.shard_1) AS n1, (SELECT sum(id) FROM "
           "bqtail.shard_1) AS s1",
           want);
    assert_int_equal(n1, 1001);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_two_files_one_batch),
        T(test_multipath),
        T(test_dedupe),
        T(test_transform_case_and_side_input),
        T(test_table_and_columns_from_path),
        T(test_override_partition),
        T(test_split_even_odd),
        T(test_summary_query_action),
        T(test_failing_post_action),
        T(test_mod_shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
