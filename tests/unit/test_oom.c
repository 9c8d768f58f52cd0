/* test_oom.c - allocation failure: fail the Nth allocation, N = 1, 2, ..., through
 * a registry load, a validation plan's compile, a validator's creation from a
 * plan, a validator's first files, a full validate-and-load of a small file and
 * queries read through the cursor and rendered, and check each time: a clear
 * -SL_ENOMEM, no crash, no leak (ASan in CI, valgrind in memcheck), and nothing
 * changed (no half-loaded file; a validator that failed a file validates the
 * next one as if nothing had happened). */
#include "core/common.h"
#include "../support/testutil.h"
#include "../support/querytest.h"
#include "core/alloc.h"
#include "pipeline/load.h"
#include "validate/validator.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <unistd.h>

static char *scalar(const struct sl_wh_ops *ops, struct sl_wh *wh, const char *sql)
{
    struct sl_error err = {0};
    int rc;
    char *out = qt_string(ops, wh, sql, SL_QF_CSV, 0, &rc, &err);
    assert_int_equal(rc, SL_OK);
    /* second line of the CSV output */
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    char *v = strdup(nl + 1);
    char *e = strchr(v, '\n');
    if (e != NULL) {
        *e = '\0';
    }
    free(out);
    return v;
}

static void test_registry_oom(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/samples/schemas", SL_SOURCE_DIR);
    /* SL_OOM_STRIDE=k fails only every k-th allocation after the first 20
     * (tests/memcheck.sh sets it: under valgrind each point is a whole load;
     * the ASan run still sweeps every point) */
    const char *stride_env = getenv("SL_OOM_STRIDE");
    uint64_t stride = stride_env != NULL && atoi(stride_env) > 1 ? (uint64_t)atoi(stride_env) : 1;
    uint64_t n, tried = 0;
    for (n = 1;; n += n < 20 ? 1 : stride) {
        tried++;
        struct sl_registry *reg = NULL;
        struct sl_error err = {0};
        sl_alloc_fail_after(n);
        int rc = sl_registry_load(dir, NULL, &reg, &err);
        sl_alloc_fail_after(0);
        if (rc == SL_OK) {
            assert_non_null(reg);
            assert_int_equal(reg->n_tables, 4);
            sl_registry_destroy(reg);
            break;
        }
        if (rc != -SL_ENOMEM) {
            fail_msg("allocation %llu: got %s (%s), want SL_ENOMEM", (unsigned long long)n,
                     sl_errname(rc), err.msg);
        }
        assert_null(reg);
    }
    printf("registry: %llu allocation failure points, each a clean SL_ENOMEM\n",
           (unsigned long long)n - 1);
}

/* Fail each allocation in turn (and every one after it) through a whole load of
 * file on n_threads threads: each must end in SL_ENOMEM with the warehouse
 * unchanged, until the first run that needs no more allocations than allowed. */
static void load_sweep(const char *file, unsigned n_threads, const char *want_rows)
{
    char dir[4096], db[4096];
    snprintf(dir, sizeof(dir), "%s/samples/schemas", SL_SOURCE_DIR);
    char tmpl[] = "/tmp/sluice-oom.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    snprintf(db, sizeof(db), "duckdb://%s/wh.duckdb", tmpl);

    struct sl_error err = {0};
    struct sl_registry *reg = NULL;
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    const struct sl_table *t = sl_registry_find(reg, "diagnostic_sessions");
    assert_non_null(t);
    const struct sl_wh_ops *ops = sl_wh_driver_for(db);
    struct sl_wh *wh = NULL;
    assert_int_equal(ops->open(db, NULL, &wh, &err), SL_OK);
    bool created;
    assert_int_equal(ops->ensure_table(wh, t, &created, &err), SL_OK);

    struct sl_vopts vo;
    sl_vopts_default(&vo);
    vo.max_bad = 1000;
    /* SL_OOM_STRIDE=k fails only every k-th allocation after the first 20
     * (tests/memcheck.sh sets it: under valgrind each point is a whole load;
     * the ASan run still sweeps every point) */
    const char *stride_env = getenv("SL_OOM_STRIDE");
    uint64_t stride = stride_env != NULL && atoi(stride_env) > 1 ? (uint64_t)atoi(stride_env) : 1;
    uint64_t n, tried = 0;
    for (n = 1;; n += n < 20 ? 1 : stride) {
        tried++;
        struct sl_load_result res;
        memset(&err, 0, sizeof(err));
        sl_alloc_fail_after(n);
        struct sl_load_opts lo = {.n_threads = n_threads};
        int rc = sl_load_file(ops, wh, t, &vo, file, &lo, NULL, &res, &err);
        sl_alloc_fail_after(0);
        if (rc == SL_OK) {
            assert_int_equal(res.outcome, SL_LOADED);
            break;
        }
        if (rc != -SL_ENOMEM) {
            fail_msg("allocation %llu: got %s (%s), want SL_ENOMEM", (unsigned long long)n,
                     sl_errname(rc), err.msg);
        }
        assert_true(err.msg[0] != '\0');
        char *rows = scalar(ops, wh, "SELECT count(*) FROM diagnostic_sessions");
        char *loads = scalar(ops, wh, "SELECT count(*) FROM _sluice_loads");
        if (strcmp(rows, "0") != 0 || strcmp(loads, "0") != 0) {
            fail_msg("allocation %llu failed but the warehouse changed: %s rows, %s loads",
                     (unsigned long long)n, rows, loads);
        }
        free(rows);
        free(loads);
    }
    printf("load (%u thread%s): %llu allocation failure points tried (every %llu after the "
           "first 20), each a clean SL_ENOMEM with nothing loaded\n",
           n_threads, n_threads == 1 ? "" : "s", (unsigned long long)tried - 1,
           (unsigned long long)stride);
    assert_true(n > 5);
    char *rows = scalar(ops, wh, "SELECT count(*) FROM diagnostic_sessions");
    assert_string_equal(rows, want_rows);
    free(rows);
    ops->close(wh);
    sl_registry_destroy(reg);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
    assert_int_equal(system(cmd), 0);
}

static void test_load_oom(void **state)
{
    (void)state;
    char file[4096];
    snprintf(file, sizeof(file), "%s/samples/data/sessions.ndjson", SL_SOURCE_DIR);
    load_sweep(file, 1, "390");
}

/* The parallel path (a file over 1 MB is split): the sample ten times. */
static void test_load_oom_parallel(void **state)
{
    (void)state;
    char src[4096], cmd[8400];
    snprintf(src, sizeof(src), "%s/samples/data/sessions.ndjson", SL_SOURCE_DIR);
    char file[] = "/tmp/sluice-oom-big.XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "for i in 1 2 3 4 5 6 7 8 9 10; do cat '%s'; done > '%s'", src,
             file);
    assert_int_equal(system(cmd), 0);
    load_sweep(file, 2, "3900");
    unlink(file);
}

static struct sl_registry *samples(void)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/samples/schemas", SL_SOURCE_DIR);
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    return reg;
}

/* sl_vplan_create of each sample table: every failure a clean SL_ENOMEM with
 * no plan (and, under ASan and valgrind, nothing leaked). */
static void test_vplan_oom(void **state)
{
    (void)state;
    struct sl_registry *reg = samples();
    for (size_t i = 0; i < reg->n_tables; i++) {
        const struct sl_table *t = reg->tables[i];
        uint64_t n;
        for (n = 1;; n++) {
            struct sl_vplan *p = (struct sl_vplan *)(uintptr_t)1;
            struct sl_error err = {0};
            sl_alloc_fail_after(n);
            int rc = sl_vplan_create(t, &p, &err);
            sl_alloc_fail_after(0);
            if (rc == SL_OK) {
                sl_vplan_destroy(p);
                break;
            }
            if (rc != -SL_ENOMEM) {
                fail_msg("%s, allocation %llu: got %s (%s), want SL_ENOMEM", t->name,
                         (unsigned long long)n, sl_errname(rc), err.msg);
            }
            assert_null(p);
            assert_true(err.msg[0] != '\0');
        }
        printf("plan of %s: %llu allocation failure points, each a clean SL_ENOMEM\n", t->name,
               (unsigned long long)n - 1);
        assert_true(n > 5);
    }
    sl_registry_destroy(reg);
}

/* sl_validator_create_from_plan, NDJSON and CSV, the plan made beforehand. */
static void test_validator_from_plan_oom(void **state)
{
    (void)state;
    struct sl_registry *reg = samples();
    const char *tables[] = {"universal_equipment_registry", "equipment_flat"};
    for (size_t i = 0; i < SL_ARRAY_LEN(tables); i++) {
        const struct sl_table *t = sl_registry_find(reg, tables[i]);
        assert_non_null(t);
        struct sl_error err = {0};
        struct sl_vplan *plan = NULL;
        assert_int_equal(sl_vplan_create(t, &plan, &err), SL_OK);
        struct sl_vopts o;
        sl_vopts_default(&o);
        o.format = i == 0 ? SL_FMT_NDJSON : SL_FMT_CSV;
        o.header = i == 1;
        uint64_t n;
        for (n = 1;; n++) {
            struct sl_validator *v = (struct sl_validator *)(uintptr_t)1;
            memset(&err, 0, sizeof(err));
            sl_alloc_fail_after(n);
            int rc = sl_validator_create_from_plan(plan, &o, &v, &err);
            sl_alloc_fail_after(0);
            if (rc == SL_OK) {
                sl_validator_destroy(v);
                break;
            }
            if (rc != -SL_ENOMEM) {
                fail_msg("%s, allocation %llu: got %s (%s), want SL_ENOMEM", t->name,
                         (unsigned long long)n, sl_errname(rc), err.msg);
            }
            assert_null(v);
            assert_true(err.msg[0] != '\0');
        }
        printf("validator from the plan of %s: %llu allocation failure point(s)\n", t->name,
               (unsigned long long)n - 1);
        assert_true(n > 1);
        sl_vplan_destroy(plan);
    }
    sl_registry_destroy(reg);
}

/* A fresh validator's files (the first one allocates its buffers, the CSV
 * header's map, the row arena): each failure is SL_ENOMEM, and the same
 * validator then validates the file, and the next, as a fresh one does. */
static void test_validate_file_oom(void **state)
{
    (void)state;
    struct sl_registry *reg = samples();
    const struct {
        const char *table, *file;
        bool csv;
    } cases[] = {
        {"universal_equipment_registry", "equipment.ndjson", false},
        {"equipment_flat", "equipment_flat.csv", true},
        {"diagnostic_sessions", "sessions_clean.ndjson.gz", false},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        const struct sl_table *t = sl_registry_find(reg, cases[i].table);
        assert_non_null(t);
        char path[4096];
        snprintf(path, sizeof(path), "%s/samples/data/%s", SL_SOURCE_DIR, cases[i].file);
        struct sl_vopts o;
        sl_vopts_default(&o);
        o.max_bad = 1000;
        o.fingerprint = true;
        o.format = cases[i].csv ? SL_FMT_CSV : SL_FMT_NDJSON;
        o.header = cases[i].csv;
        struct sl_error err = {0};
        struct sl_vplan *plan = NULL;
        assert_int_equal(sl_vplan_create(t, &plan, &err), SL_OK);
        struct sl_file_stats want, st;
        struct sl_validator *v = NULL;
        assert_int_equal(sl_validator_create_from_plan(plan, &o, &v, &err), SL_OK);
        assert_int_equal(sl_validate_file(v, path, NULL, NULL, &want, &err), SL_OK);
        sl_validator_destroy(v);
        uint64_t n;
        for (n = 1;; n++) {
            assert_int_equal(sl_validator_create_from_plan(plan, &o, &v, &err), SL_OK);
            memset(&err, 0, sizeof(err));
            sl_alloc_fail_after(n);
            int rc = sl_validate_file(v, path, NULL, NULL, &st, &err);
            sl_alloc_fail_after(0);
            if (rc != SL_OK && rc != -SL_ENOMEM) {
                fail_msg("%s, allocation %llu: got %s (%s), want SL_ENOMEM", cases[i].file,
                         (unsigned long long)n, sl_errname(rc), err.msg);
            }
            if (rc != SL_OK) {
                assert_true(err.msg[0] != '\0');
                for (int again = 0; again < 2; again++) {
                    assert_int_equal(sl_validate_file(v, path, NULL, NULL, &st, &err), SL_OK);
                    assert_int_equal(st.rows, want.rows);
                    assert_int_equal(st.valid, want.valid);
                    assert_int_equal(st.rejected, want.rejected);
                    assert_string_equal(st.fingerprint, want.fingerprint);
                }
            }
            sl_validator_destroy(v);
            if (rc == SL_OK) {
                assert_int_equal(st.valid, want.valid);
                break;
            }
        }
        printf("first file %s on a fresh validator: %llu allocation failure points\n",
               cases[i].file, (unsigned long long)n - 1);
        assert_true(n > 2);
        sl_vplan_destroy(plan);
    }
    sl_registry_destroy(reg);
}

/* Fail each allocation in turn through queries read by the cursor and
 * rendered (every format; the table with a window of 2 rows, so rows are
 * also written after it), over nested values, texts and wide numbers: each
 * run ends in a clean SL_ENOMEM with nothing leaked and no cursor left open
 * (the next query works), until one needs no more allocations than allowed. */
static void test_query_oom(void **state)
{
    (void)state;
    const struct sl_wh_ops *ops = sl_wh_driver_for("duckdb://:memory:");
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    assert_int_equal(ops->open("duckdb://:memory:", NULL, &wh, &err), SL_OK);
    FILE *null_out = fopen("/dev/null", "w");
    assert_int_equal(qt_print(ops, wh,
                              "CREATE TABLE q AS SELECT i, 'row ' || i AS s, "
                              "i::HUGEINT * 1000000000000 AS h, i / 7 AS f, "
                              "{'a': i, 'l': [i, NULL], 'm': MAP {'k' || i: "
                              "INTERVAL (i) MINUTE}} AS n, i::UBIGINT AS u, "
                              "(i * 1.5)::DECIMAL(20,3) AS d FROM range(5) "
                              "t(i)",
                              SL_QF_CSV, 0, null_out, &err),
                     SL_OK);
    static const char *const script =
        "SELECT * FROM q ORDER BY i; SELECT 1 AS a; SET VARIABLE sl_oom = 1";
    uint64_t n, tried = 0;
    for (int fmt = SL_QF_TABLE; fmt <= SL_QF_JSON; fmt++) {
        for (n = 1;; n++, tried++) {
            FILE *f = fopen("/dev/null", "w");
            memset(&err, 0, sizeof(err));
            sl_alloc_fail_after(n);
            int rc = qt_print(ops, wh, script, (enum sl_query_format)fmt, 2, f,
                              &err);
            sl_alloc_fail_after(0);
            fclose(f);
            if (rc == SL_OK) {
                break;
            }
            if (rc != -SL_ENOMEM) {
                fail_msg("format %d, allocation %llu: got %s (%s), want "
                         "SL_ENOMEM",
                         fmt, (unsigned long long)n, sl_errname(rc), err.msg);
            }
            assert_true(err.msg[0] != '\0');
            char *v = scalar(ops, wh, "SELECT count(*) FROM q");
            assert_string_equal(v, "5");
            free(v);
        }
        assert_true(n > 10);
    }
    fclose(null_out);
    printf("query: %llu allocation failure points, each a clean SL_ENOMEM\n",
           (unsigned long long)tried);
    ops->close(wh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_oom),
        cmocka_unit_test(test_vplan_oom),
        cmocka_unit_test(test_validator_from_plan_oom),
        cmocka_unit_test(test_validate_file_oom),
        cmocka_unit_test(test_load_oom),
        cmocka_unit_test(test_load_oom_parallel),
        cmocka_unit_test(test_query_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
