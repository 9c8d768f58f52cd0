/* test_registry_apply.c - every real schema in ../shared/data applies to an
 * embedded warehouse: all 1,059 Mozilla tables and the 158 one-table public
 * dataset files; the two public files that hold several tables are refused
 * with that reason. The files are read in place, through a folder of
 * symbolic links that gives each public file a dataset.table of its own
 * (their own layout maps many files to the same name). Then a plan of the
 * same registry has nothing to do, and every definition survives the
 * canonical JSON a warehouse records. Skips (77) without ../shared. */
#include "core/common.h"

#include "core/buf.h"
#include "schema/plan.h"
#include "schema/schema.h"
#include "warehouse/driver.h"
#include "warehouse/evolve.h"

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
#include <unistd.h>

#ifndef SL_SHARED_DIR
#define SL_SHARED_DIR "../shared"
#endif
#define DATA SL_SHARED_DIR "/data"
#define PUB DATA "/schemas-public-datasets/datasets"

static char g_dir[64]; /* the registry of links */
static char g_db[128];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* DIR/pub/pub_<dataset>/<name>.json -> the public file: <dataset> is the
 * folder under datasets/, <name> the file's stem (its folder for a
 * schema.json), made a safe table name and unique within the dataset. */
static int link_public(const char *p, const struct stat *st, int flag,
                       struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(p);
    if (flag != FTW_F || n < 5 || strcmp(p + n - 5, ".json") != 0) {
        return 0;
    }
    const char *rel = p + strlen(PUB) + 1;
    char ds[256], stem[256], dir[512], link[1024];
    snprintf(ds, sizeof(ds), "pub_%.*s", (int)strcspn(rel, "/"), rel);
    const char *base = strrchr(p, '/') + 1;
    if (strcmp(base, "schema.json") == 0) {
        const char *e = base - 1, *b = e;
        while (b > p && b[-1] != '/') {
            b--;
        }
        snprintf(stem, sizeof(stem), "%.*s", (int)(e - b), b);
    } else {
        snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(base) - 5), base);
    }
    for (char *c = stem; *c != '\0'; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
        *c = ok ? *c : '_';
    }
    snprintf(dir, sizeof(dir), "%s/pub/%s", g_dir, ds);
    mkdir(dir, 0700);
    for (int k = 1;; k++) {
        if (k == 1) {
            snprintf(link, sizeof(link), "%s/%s.json", dir, stem);
        } else {
            snprintf(link, sizeof(link), "%s/%s_%d.json", dir, stem, k);
        }
        if (symlink(p, link) == 0) {
            return 0;
        }
        assert_int_equal(access(link, F_OK), 0); /* taken: try the next */
    }
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* Which corpus a table's file comes from (links resolved). */
static int corpus(const struct sl_table *t)
{
    char real[4096];
    if (realpath(t->file, real) == NULL) {
        return -1;
    }
    return strstr(real, "/schemas-mozilla/") != NULL          ? 0
           : strstr(real, "/schemas-public-datasets/") != NULL ? 1
                                                                : -1;
}

static void test_all_real_schemas_apply(void **state)
{
    (void)state;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/pub", g_dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/mozilla", g_dir);
    assert_int_equal(symlink(DATA "/schemas-mozilla", sub), 0);
    assert_int_equal(nftw(PUB, link_public, 32, FTW_PHYS), 0);

    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    struct sl_buf pb;
    sl__buf_init(&pb);
    double t0 = now_s();
    assert_int_equal(sl_registry_load(g_dir, &pb, &reg, &err), SL_OK);
    double t_reg = now_s() - t0;
    /* refused: exactly the two files holding several tables, for that */
    size_t lines = 0;
    for (const char *l = pb.data; l != NULL && *l != '\0'; lines++) {
        const char *nl = strchr(l, '\n');
        assert_non_null(nl);
        const char *why = strstr(l, "the file holds ");
        if (why == NULL || why > nl) {
            fprintf(stderr, "unexpected refusal: %.*s\n", (int)(nl - l), l);
            fail();
        }
        l = nl + 1;
    }
    assert_int_equal(lines, 2);
    assert_non_null(strstr(pb.data, "pub_world_bank_wdi/"));
    assert_non_null(strstr(pb.data, "holds 5 tables"));
    assert_non_null(strstr(pb.data, "pub_noaa_passive_bioacoustic/"));
    assert_non_null(strstr(pb.data, "holds 4 tables"));
    size_t n[2] = {0, 0};
    for (size_t i = 0; i < reg->n_tables; i++) {
        int c = corpus(reg->tables[i]);
        assert_true(c >= 0);
        n[c]++;
    }
    assert_int_equal(n[0], 1059);
    assert_int_equal(n[1], 158);
    assert_int_equal(reg->n_tables, 1217);

    /* every definition survives the JSON a warehouse records */
    struct sl_buf a, b;
    sl__buf_init(&a);
    sl__buf_init(&b);
    for (size_t i = 0; i < reg->n_tables; i++) {
        const struct sl_table *t = reg->tables[i];
        struct sl_table *t2 = NULL;
        sl__buf_reset(&a);
        sl__buf_reset(&b);
        assert_int_equal(sl_table_write_json(t, &a), SL_OK);
        assert_int_equal(sl_table_parse(a.data, a.len, t->file, t->dataset,
                                        t->name, &t2, &err),
                         SL_OK);
        assert_int_equal(sl_table_write_json(t2, &b), SL_OK);
        assert_string_equal(a.data, b.data);
        sl_table_destroy(t2);
    }
    sl__buf_release(&a);
    sl__buf_release(&b);

    /* create all, then nothing to do */
    const struct sl_wh_ops *ops = &sl__duckdb_ops;
    struct sl_wh *wh = NULL;
    assert_int_equal(ops->open(g_db, NULL, &wh, &err), SL_OK);
    struct sl_evolve ev;
    t0 = now_s();
    assert_int_equal(sl_evolve_plan(ops, wh, reg, 0, &ev, &err), SL_OK);
    assert_int_equal(ev.n_create, 1217);
    size_t applied = 0;
    int rc = sl_evolve_apply(ops, wh, &ev, reg, &applied, &err);
    if (rc != SL_OK) {
        fprintf(stderr, "apply: %s\n", err.msg);
    }
    assert_int_equal(rc, SL_OK);
    assert_int_equal(applied, 1217);
    double t_create = now_s() - t0;
    sl_evolve_release(&ev);
    t0 = now_s();
    assert_int_equal(sl_evolve_plan(ops, wh, reg, 0, &ev, &err), SL_OK);
    double t_plan = now_s() - t0;
    assert_int_equal(ev.n_unchanged, 1217);
    assert_int_equal(ev.n_refused + ev.n_change + ev.n_create, 0);
    for (size_t i = 0; i < ev.n_tables; i++) {
        assert_true(ev.tables[i].st.same);
    }
    sl_evolve_release(&ev);
    ops->close(wh);
    printf("registry %.2f s, plan and create 1,217 tables %.2f s, plan "
           "again %.2f s\n",
           t_reg, t_create, t_plan);
    sl_registry_destroy(reg);
    sl__buf_release(&pb);
}

int main(void)
{
    struct stat st;
    if (stat(DATA "/schemas-mozilla", &st) != 0 || stat(PUB, &st) != 0) {
        printf("skipped: ../shared not found\n");
        return 77;
    }
    snprintf(g_dir, sizeof(g_dir), "/tmp/sl_regapply_XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        return 1;
    }
    snprintf(g_db, sizeof(g_db), "%s.duckdb", g_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_real_schemas_apply),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    remove(g_db);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s.wal", g_db);
    remove(wal);
    return rc;
}
