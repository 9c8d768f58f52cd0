/* test_duckdb.c - the DuckDB warehouse driver against real database files in a
 * temporary directory: table creation for every type, chunked loading with
 * nested values and NULLs, transactions (commit, abort, failure), the load
 * ledger table, identifier quoting, query output and file locking. tests. */
#include "core/common.h"

#include "../support/querytest.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/driver.h"
#include "warehouse/warehouse_int.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const struct sl_wh_ops *D = &sl__duckdb_ops;

/* ---- a temporary directory per test ---------------------------------------
 */

struct fx {
    char dir[64];
    char db[128];
    char uri[160];
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/sl_duckdb_XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(fx->db, sizeof(fx->db), "%s/wh.duckdb", fx->dir);
    snprintf(fx->uri, sizeof(fx->uri), "duckdb://%s", fx->db);
    *state = fx;
    return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* ---- a table built by hand (no dependency on the schema loader) ------------
 */

static void fld(struct sl_field *f, const char *name, enum sl_type t,
                enum sl_mode m)
{
    memset(f, 0, sizeof(*f));
    f->name = (char *)name;
    f->name_len = strlen(name);
    f->type = t;
    f->mode = m;
    f->path = (char *)name;
}

static void rec(struct sl_field *f, struct sl_field *kids, size_t n)
{
    f->fields = kids;
    f->n_fields = n;
    for (size_t i = 0; i < n; i++) {
        kids[i].parent = f;
        kids[i].idx = (uint32_t)i;
    }
}

static void dec(struct sl_field *f, int p, int s)
{
    f->precision = p;
    f->scale = s;
    f->has_precision = true;
}

enum {
    C_S,
    C_B,
    C_I,
    C_F,
    C_N,
    C_N2,
    C_N3,
    C_N4,
    C_BN,
    C_OK,
    C_D,
    C_DT,
    C_TM,
    C_TS,
    C_G,
    C_J,
    C_R,
    C_REC,
    C_ITEMS,
    C_QUOTE,
    C_NUMS,
    C_IV,
    N_COLS
};

struct all_table {
    struct sl_table t;
    struct sl_field top[N_COLS];
    struct sl_field rec[3];   /* name, tags[], inner */
    struct sl_field inner[2]; /* x, ys[] */
    struct sl_field item[2];  /* sku, qty */
};

static void all_table_init(struct all_table *a, const char *dataset,
                           const char *name)
{
    memset(a, 0, sizeof(*a));
    struct sl_field *f = a->top;
    fld(&f[C_S], "s", SL_T_STRING, SL_M_NULLABLE);
    fld(&f[C_B], "b", SL_T_BYTES, SL_M_NULLABLE);
    fld(&f[C_I], "i", SL_T_INT64, SL_M_REQUIRED);
    fld(&f[C_F], "f", SL_T_FLOAT64, SL_M_NULLABLE);
    fld(&f[C_N], "n", SL_T_NUMERIC, SL_M_NULLABLE);
    fld(&f[C_N2], "n2", SL_T_NUMERIC, SL_M_NULLABLE);
    dec(&f[C_N2], 10, 2);
    fld(&f[C_N3], "n3", SL_T_NUMERIC, SL_M_NULLABLE);
    dec(&f[C_N3], 4, 1);
    fld(&f[C_N4], "n4", SL_T_NUMERIC, SL_M_NULLABLE);
    dec(&f[C_N4], 20, 3);
    fld(&f[C_BN], "bn", SL_T_BIGNUMERIC, SL_M_NULLABLE);
    fld(&f[C_OK], "ok", SL_T_BOOL, SL_M_NULLABLE);
    fld(&f[C_D], "d", SL_T_DATE, SL_M_NULLABLE);
    fld(&f[C_DT], "dt", SL_T_DATETIME, SL_M_NULLABLE);
    fld(&f[C_TM], "tm", SL_T_TIME, SL_M_NULLABLE);
    fld(&f[C_TS], "ts", SL_T_TIMESTAMP, SL_M_NULLABLE);
    fld(&f[C_G], "g", SL_T_GEOGRAPHY, SL_M_NULLABLE);
    fld(&f[C_J], "j", SL_T_JSON, SL_M_NULLABLE);
    fld(&f[C_R], "r", SL_T_RANGE, SL_M_NULLABLE);
    fld(&f[C_REC], "rec", SL_T_RECORD, SL_M_NULLABLE);
    fld(&a->rec[0], "name", SL_T_STRING, SL_M_NULLABLE);
    fld(&a->rec[1], "tags", SL_T_STRING, SL_M_REPEATED);
    fld(&a->rec[2], "inner", SL_T_RECORD, SL_M_NULLABLE);
    fld(&a->inner[0], "x", SL_T_INT64, SL_M_REQUIRED);
    fld(&a->inner[1], "ys", SL_T_FLOAT64, SL_M_REPEATED);
    rec(&a->rec[2], a->inner, 2);
    rec(&f[C_REC], a->rec, 3);
    fld(&f[C_ITEMS], "items", SL_T_RECORD, SL_M_REPEATED);
    fld(&a->item[0], "sku", SL_T_STRING, SL_M_NULLABLE);
    fld(&a->item[1], "qty", SL_T_INT64, SL_M_NULLABLE);
    rec(&f[C_ITEMS], a->item, 2);
    fld(&f[C_QUOTE], "a\"b", SL_T_STRING, SL_M_NULLABLE);
    fld(&f[C_NUMS], "nums", SL_T_INT64, SL_M_REPEATED);
    fld(&f[C_IV], "iv", SL_T_INTERVAL, SL_M_NULLABLE);
    a->t.dataset = (char *)dataset;
    a->t.name = (char *)name;
    a->t.file = (char *)"inline";
    a->t.description = (char *)"every type; it's here";
    fld(&a->t.root, "", SL_T_RECORD, SL_M_NULLABLE);
    rec(&a->t.root, a->top, N_COLS);
    a->t.part_kind = SL_PART_TIME;
    a->t.part_type = (char *)"DAY";
    a->t.part_field = &f[C_TS];
}

/* ---- rows ------------------------------------------------------------------
 */

/* Storage for one row's values; rebuilt for every row (like the validator's
 * per-row arena). */
struct rowbuf {
    struct sl_val cols[N_COLS];
    struct sl_val recv[3], innerv[2], tags[3], ys[2], items[4], itemv[4][2],
        nums[3];
    char s[64], name[32], tagtxt[3][16], skus[4][32], quote[32], bn[96], j[32];
    unsigned char b[4];
};

static struct sl_val vnull(void)
{
    struct sl_val v = {.kind = SL_V_NULL};
    return v;
}

static struct sl_val vi(uint8_t kind, int64_t i)
{
    struct sl_val v = {.kind = kind};
    v.u.i = i;
    return v;
}

static struct sl_val vstr(const char *s)
{
    struct sl_val v = {.kind = SL_V_STR, .len = (uint32_t)strlen(s)};
    v.u.s = s;
    return v;
}

static struct sl_val vlist(struct sl_val *elems, uint32_t n)
{
    struct sl_val v = {.kind = SL_V_LIST, .len = n};
    v.u.v = elems;
    return v;
}

static const int64_t POW10_9 = 1000000000;

static void make_row(struct rowbuf *r, int i)
{
    struct sl_val *c = r->cols;
    memset(r, 0, sizeof(*r));
    if (i == 3) {
        snprintf(r->s, sizeof(r->s), "it's \"q\" \xc3\xa9,\nx");
    } else {
        snprintf(r->s, sizeof(r->s), "str-%d", i);
    }
    c[C_S] = i % 7 == 0 ? vnull() : vstr(r->s);
    r->b[0] = 0, r->b[1] = 1, r->b[2] = 0xff, r->b[3] = (unsigned char)i;
    c[C_B] = (struct sl_val){
        .kind = SL_V_BYTES, .len = 4, .u.s = (const char *)r->b};
    if (i % 7 == 1) {
        c[C_B] = vnull();
    }
    c[C_I] = vi(SL_V_I64, i);
    c[C_F] = (struct sl_val){.kind = SL_V_F64, .u.f = i * 0.5};
    if (i % 7 == 2) {
        c[C_F] = vnull();
    }
    c[C_N] = (struct sl_val){.kind = SL_V_DEC,
                             .u.d = (__int128)i * POW10_9 + 123456789};
    if (i % 7 == 3) {
        c[C_N] = vnull();
    }
    c[C_N2] = (struct sl_val){.kind = SL_V_DEC, .u.d = (__int128)i * 100 + 5};
    c[C_N3] = (struct sl_val){.kind = SL_V_DEC,
                              .u.d = -((__int128)(i % 1000) * 10 + 1)};
    __int128 n4 = (__int128)i * 1000000000000000LL + 1;
    c[C_N4] = (struct sl_val){.kind = SL_V_DEC, .u.d = i % 2 ? -n4 : n4};
    snprintf(r->bn, sizeof(r->bn),
             "12345678901234567890123456789012345678.%038d", i);
    c[C_BN] = vstr(r->bn);
    c[C_OK] = (struct sl_val){.kind = SL_V_BOOL, .u.b = i % 2 == 0};
    c[C_D] = vi(SL_V_DATE, 19000 + i);
    c[C_DT] = vi(SL_V_DATETIME, 1700000000000000LL + (int64_t)i * 1000001);
    c[C_TM] = vi(SL_V_TIME, (int64_t)(i % 86400) * 1000000 + 123);
    c[C_TS] = vi(SL_V_TS, 1600000000000000LL + i);
    c[C_G] = vstr("POINT(1 2)");
    snprintf(r->j, sizeof(r->j), "{\"k\":%d}", i);
    c[C_J] = vstr(r->j);
    c[C_R] = vstr("[2024-01-01, 2024-02-01)");
    if (i % 11 == 0) {
        c[C_REC] = vnull();
    } else {
        snprintf(r->name, sizeof(r->name), "n%d", i);
        r->recv[0] = vstr(r->name);
        for (int k = 0; k < i % 3 + 1; k++) {
            snprintf(r->tagtxt[k], sizeof(r->tagtxt[k]), "t%d", k);
            r->tags[k] = vstr(r->tagtxt[k]);
        }
        r->recv[1] = vlist(r->tags, (uint32_t)(i % 3 + 1));
        if (i % 5 == 0) {
            r->recv[2] = vnull();
        } else {
            r->innerv[0] = vi(SL_V_I64, i);
            r->ys[0] = (struct sl_val){.kind = SL_V_F64, .u.f = i * 1.5};
            r->ys[1] = (struct sl_val){.kind = SL_V_F64, .u.f = -1.0};
            r->innerv[1] = vlist(r->ys, (uint32_t)(i % 2 + 1));
            r->recv[2] = (struct sl_val){
                .kind = SL_V_STRUCT, .len = 2, .u.v = r->innerv};
        }
        c[C_REC] =
            (struct sl_val){.kind = SL_V_STRUCT, .len = 3, .u.v = r->recv};
    }
    for (int k = 0; k < i % 4; k++) {
        snprintf(r->skus[k], sizeof(r->skus[k]), "sku-%d-%d", i, k);
        r->itemv[k][0] = vstr(r->skus[k]);
        r->itemv[k][1] = k == 2 ? vnull() : vi(SL_V_I64, k + 1);
        r->items[k] =
            (struct sl_val){.kind = SL_V_STRUCT, .len = 2, .u.v = r->itemv[k]};
    }
    c[C_ITEMS] = vlist(r->items, (uint32_t)(i % 4));
    snprintf(r->quote, sizeof(r->quote), "q%d", i);
    c[C_QUOTE] = vstr(r->quote);
    for (int k = 0; k < i % 3; k++) {
        r->nums[k] = vi(SL_V_I64, i + k);
    }
    c[C_NUMS] = vlist(r->nums, (uint32_t)(i % 3));
    c[C_IV] = i % 2 ? vstr("P1Y2M3DT4H5M6S") : vnull();
}

/* ---- direct DuckDB access for checking ------------------------------------
 */

struct raw {
    duckdb_database db;
    duckdb_connection con;
};

static void raw_open(struct raw *r, const char *path)
{
    assert_int_equal(duckdb_open(path, &r->db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(r->db, &r->con), DuckDBSuccess);
}

static void raw_close(struct raw *r)
{
    duckdb_disconnect(&r->con);
    duckdb_close(&r->db);
}

/* The first cell of a query, cast to text by DuckDB ("NULL" for NULL).
 * Returned in a static buffer. */
static const char *q1(struct raw *r, const char *fmt, ...)
{
    static char out[4096];
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    char wrapped[4200];
    snprintf(wrapped, sizeof(wrapped), "SELECT CAST((%s) AS VARCHAR)", sql);
    duckdb_result res;
    if (duckdb_query(r->con, wrapped, &res) == DuckDBError) {
        fail_msg("%s: %s", sql, duckdb_result_error(&res));
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(res);
    assert_non_null(ch);
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, 0);
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, 0)) {
        snprintf(out, sizeof(out), "NULL");
    } else {
        duckdb_string_t *s = duckdb_vector_get_data(v);
        snprintf(out, sizeof(out), "%.*s", (int)duckdb_string_t_length(s[0]),
                 duckdb_string_t_data(&s[0]));
    }
    duckdb_destroy_data_chunk(&ch);
    duckdb_destroy_result(&res);
    return out;
}

/* Two queries give the same text (computed expectations). */
static void same(struct raw *r, const char *got_sql, const char *want_sql)
{
    char got[4096];
    snprintf(got, sizeof(got), "%s", q1(r, "%s", got_sql));
    const char *want = q1(r, "%s", want_sql);
    if (strcmp(got, want) != 0) {
        fail_msg("%s: %s, want %s", got_sql, got, want);
    }
}

#define T_ALL "\"my data set\".\"all types\""

/* ---- tests
 * ------------------------------------------------------------------- */

static void test_quote_ident(void **state)
{
    (void)state;
    struct sl_buf b;
    sl__buf_init(&b);
    assert_int_equal(sl__sql_quote_ident(&b, "a\"b"), SL_OK);
    assert_int_equal(sl__sql_quote_ident(&b, ""), SL_OK);
    assert_int_equal(sl__sql_quote_ident(&b, "\"\""), SL_OK);
    assert_int_equal(sl__sql_quote_literal(&b, "it's"), SL_OK);
    assert_string_equal(b.data, "\"a\"\"b\"\"\"\"\"\"\"\"\"'it''s'");
    sl__buf_release(&b);
}

static void test_driver_for(void **state)
{
    (void)state;
    assert_ptr_equal(sl_wh_driver_for("duckdb://./w.duckdb"), D);
    assert_ptr_equal(sl_wh_driver_for("DuckDB:///abs/w.duckdb"), D);
    assert_ptr_equal(sl_wh_driver_for("./w.duckdb"), D);
    assert_ptr_equal(sl_wh_driver_for("w.duckdb"), D);
    assert_ptr_equal(sl_wh_driver_for("./odd://name.duckdb"), D);
    assert_ptr_equal(sl_wh_driver_for("clickhouse://localhost:8123/db"),
                     &sl__clickhouse_ops);
    assert_null(sl_wh_driver_for("bigquery://project/dataset"));
    assert_null(sl_wh_driver_for(NULL));
}

static void test_open_uri_forms(void **state)
{
    struct fx *fx = *state;
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    char uri[256], path[200];
    /* duckdb:///abs -> /abs */
    snprintf(path, sizeof(path), "%s/abs.duckdb", fx->dir);
    snprintf(uri, sizeof(uri), "duckdb://%s", path);
    assert_int_equal(uri[9], '/');
    assert_int_equal(D->open(uri, NULL, &wh, &err), SL_OK);
    D->close(wh);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    /* a bare path */
    snprintf(path, sizeof(path), "%s/bare.duckdb", fx->dir);
    assert_int_equal(D->open(path, NULL, &wh, &err), SL_OK);
    D->close(wh);
    assert_int_equal(stat(path, &st), 0);
    /* a relative duckdb://./x */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(fx->dir), 0);
    assert_int_equal(D->open("duckdb://./rel.duckdb", NULL, &wh, &err), SL_OK);
    D->close(wh);
    assert_int_equal(stat("rel.duckdb", &st), 0);
    assert_int_equal(chdir(cwd), 0);
    D->close(NULL);
}

static void test_open_missing_dir(void **state)
{
    struct fx *fx = *state;
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    char uri[256];
    snprintf(uri, sizeof(uri), "duckdb://%s/no/such/dir/w.duckdb", fx->dir);
    assert_int_equal(D->open(uri, NULL, &wh, &err), -SL_EWAREHOUSE);
    assert_null(wh);
    assert_non_null(strstr(err.msg, "/no/such/dir/w.duckdb"));
    assert_non_null(strstr(err.msg, "No such file"));
}

/* The child half of test_open_locked: open the file, say so, sleep. */
static int hold_lock(const char *path, int ready_fd)
{
    duckdb_database db;
    if (duckdb_open(path, &db) == DuckDBError) {
        return 1;
    }
    if (write(ready_fd, "1", 1) != 1) {
        return 1;
    }
    sleep(60);
    duckdb_close(&db);
    return 0;
}

static char self_exe[4096];

static void test_open_locked_by_other_process(void **state)
{
    struct fx *fx = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* exec ourselves: a forked copy of a process that may run DuckDB
         * threads must not go on using it */
        char fd[16];
        snprintf(fd, sizeof(fd), "%d", p[1]);
        close(p[0]);
        execl(self_exe, self_exe, "--hold-lock", fx->db, fd, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char c = 0;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    int rc = D->open(fx->uri, NULL, &wh, &err);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    assert_int_equal(rc, -SL_EBUSY); /* transient: worth a retry */
    assert_string_equal(sl_errclass(rc), "transient");
    assert_null(wh);
    assert_non_null(strstr(err.msg, fx->db));
    assert_non_null(strstr(err.msg, "locked by pid"));
    assert_string_equal(err.path, fx->db);
}

/* A batch source of generated rows: every file yields n rows (make_row); at
 * row bad_at the hook spoils the row, at row fail_at the feed fails, and after
 * row mid_at the mid hook runs (a query on another handle). */
struct gen {
    int n;
    int bad_at;
    void (*bad)(struct rowbuf *r);
    int fail_at;
    int mid_at;
    void (*mid)(void *ud);
    void *mid_ud;
};

static int gen_feed(void *ud, size_t i, const struct sl_row_sink *rows,
                    struct sl_error *err)
{
    (void)i;
    const struct gen *g = ud;
    static struct rowbuf r;
    for (int k = 0; k < g->n; k++) {
        if (k == g->fail_at) {
            return SL_ERR(err, -SL_EIO, "generated failure at row %d", k);
        }
        make_row(&r, k);
        if (k == g->bad_at && g->bad != NULL) {
            g->bad(&r);
        }
        int rc = rows->row(rows->ud, r.cols, N_COLS, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (k == g->mid_at && g->mid != NULL) {
            g->mid(g->mid_ud);
        }
    }
    return SL_OK;
}

/* Load one file of g's rows with fingerprint fp (batch id derived). */
static int load_gen(struct sl_wh *wh, const struct sl_table *t,
                    const struct gen *g, const char *fp, struct sl_batch *b,
                    struct sl_batch_file *f, struct sl_error *err)
{
    memset(f, 0, sizeof(*f));
    f->path = "/in/all.ndjson";
    f->fingerprint = fp;
    f->size = 12345;
    f->rows_rejected = 7;
    f->first_seen_us = 1700000000000000LL;
    memset(b, 0, sizeof(*b));
    b->t = t;
    b->files = f;
    b->n_files = 1;
    b->origin = "test";
    b->first_seen_us = f->first_seen_us;
    b->src.feed = gen_feed;
    b->src.ud = (void *)g;
    return D->load_batch(wh, b, err);
}

static void load_all(struct sl_wh *wh, const struct sl_table *t, int n,
                     const char *fp)
{
    struct sl_error err = {0};
    struct gen g = {.n = n, .bad_at = -1, .fail_at = -1, .mid_at = -1};
    struct sl_batch b;
    struct sl_batch_file f;
    int rc = load_gen(wh, t, &g, fp, &b, &f, &err);
    if (rc != SL_OK) {
        fail_msg("load: %s", err.msg);
    }
    assert_false(b.already);
    assert_int_equal(b.rows_loaded, (uint64_t)n);
    assert_int_equal(f.rows_loaded, (uint64_t)n);
}

/* Is content fp recorded as loaded into table? (through file_history) */
static bool fp_loaded(struct sl_wh *wh, const char *table, const char *fp)
{
    struct sl_error err = {0};
    struct sl_prior_load p[8];
    size_t n = 0;
    assert_int_equal(D->file_history(wh, table, "/in/all.ndjson", 12345, p, 8,
                                     &n, &err),
                     SL_OK);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].fingerprint, fp) == 0 && !p[i].duplicate) {
            return true;
        }
    }
    return false;
}

/* Is content fp recorded as loaded into table from path? */
static bool fp_loaded_path(struct sl_wh *wh, const char *table,
                           const char *path, const char *fp)
{
    struct sl_error err = {0};
    struct sl_prior_load p[8];
    size_t n = 0;
    assert_int_equal(D->file_history(wh, table, path, 0, p, 8, &n, &err),
                     SL_OK);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].fingerprint, fp) == 0 && !p[i].duplicate) {
            return true;
        }
    }
    return false;
}

static void test_all_types_roundtrip(void **state)
{
    struct fx *fx = *state;
    static struct all_table a;
    all_table_init(&a, "my data set", "all types");
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    assert_int_equal(D->open(fx->uri, NULL, &wh, &err), SL_OK);

    bool created = false;
    assert_false(fp_loaded(wh, "my data set.all types", "fp1"));
    int rc = D->ensure_table(wh, &a.t, &created, &err);
    if (rc != SL_OK) {
        fail_msg("ensure: %s", err.msg);
    }
    assert_true(created);
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), SL_OK);
    assert_false(created);

    load_all(wh, &a.t, 5000, "fp1");
    assert_true(fp_loaded(wh, "my data set.all types", "fp1"));
    assert_false(fp_loaded(wh, "my data set.all types", "fp2"));
    assert_false(fp_loaded(wh, "other.t", "fp1"));
    /* the same content in another batch (another salt): a duplicate, no
     * rows, its own batch record */
    struct gen g = {.n = 5000, .bad_at = -1, .fail_at = -1, .mid_at = -1};
    struct sl_batch b;
    struct sl_batch_file f;
    assert_int_equal(load_gen(wh, &a.t, &g, "fp1", &b, &f, &err), SL_OK);
    assert_true(b.already); /* same table, same content: the same batch */
    b.salt = "gateway batch 2";
    b.id = NULL;
    assert_int_equal(D->load_batch(wh, &b, &err), SL_OK);
    assert_false(b.already);
    assert_int_equal(f.outcome, SL_FILE_DUPLICATE);
    assert_int_equal(b.rows_loaded, 0);
    /* and that batch once more: its id is recorded, nothing is done */
    char id[65];
    memcpy(id, b.id_out, sizeof(id));
    bool yes = false;
    assert_int_equal(D->batch_committed(wh, id, &yes, &err), SL_OK);
    assert_true(yes);
    b.id = id;
    assert_int_equal(D->load_batch(wh, &b, &err), SL_OK);
    assert_true(b.already);
    assert_int_equal(D->batch_committed(wh, "nope", &yes, &err), SL_OK);
    assert_false(yes);
    D->close(wh);

    struct raw r;
    raw_open(&r, fx->db);
    assert_string_equal(q1(&r, "SELECT count(*) FROM " T_ALL), "5000");
    assert_string_equal(q1(&r, "SELECT sum(i) FROM " T_ALL), "12497500");
    /* types */
    static const char *const want_types[][2] = {
        {"s", "VARCHAR"},
        {"b", "BLOB"},
        {"i", "BIGINT"},
        {"f", "DOUBLE"},
        {"n", "DECIMAL(38,9)"},
        {"n2", "DECIMAL(10,2)"},
        {"n3", "DECIMAL(4,1)"},
        {"n4", "DECIMAL(20,3)"},
        {"bn", "VARCHAR"},
        {"ok", "BOOLEAN"},
        {"d", "DATE"},
        {"dt", "TIMESTAMP"},
        {"tm", "TIME"},
        {"ts", "TIMESTAMP WITH TIME ZONE"},
        {"g", "VARCHAR"},
        {"j", "JSON"},
        {"r", "VARCHAR"},
        {"rec", "STRUCT(\"name\" VARCHAR, tags VARCHAR[], \"inner\" STRUCT(x "
                "BIGINT, ys "
                "DOUBLE[]))"},
        {"items", "STRUCT(sku VARCHAR, qty BIGINT)[]"},
        {"a\"\"b", "VARCHAR"},
        {"nums", "BIGINT[]"},
        {"iv", "VARCHAR"},
    };
    for (size_t k = 0; k < SL_ARRAY_LEN(want_types); k++) {
        const char *got = q1(&r, "SELECT typeof(\"%s\") FROM " T_ALL " LIMIT 1",
                             want_types[k][0]);
        if (strcmp(got, want_types[k][1]) != 0) {
            fail_msg("column %s: %s, want %s", want_types[k][0], got,
                     want_types[k][1]);
        }
    }
    /* NOT NULL only on the REQUIRED top-level column */
    assert_string_equal(
        q1(&r, "SELECT string_agg(column_name, ',') FROM duckdb_columns() "
               "WHERE table_name = 'all types' AND NOT is_nullable"),
        "i");
    /* the comment records description and partitioning */
    assert_string_equal(
        q1(&r, "SELECT comment FROM duckdb_tables() WHERE table_name = "
               "'all types'"),
        "every type; it's here [sluice: partitioned by DAY(ts)]");
    /* NULL counts: 5000 rows, i % 7 == k for k < 5000 % 7 = 2 has 715, else 714
     */
    assert_string_equal(
        q1(&r, "SELECT count(*) FROM " T_ALL " WHERE s IS NULL"), "715");
    assert_string_equal(
        q1(&r, "SELECT count(*) FROM " T_ALL " WHERE b IS NULL"), "715");
    assert_string_equal(
        q1(&r, "SELECT count(*) FROM " T_ALL " WHERE f IS NULL"), "714");
    assert_string_equal(
        q1(&r, "SELECT count(*) FROM " T_ALL " WHERE n IS NULL"), "714");
    assert_string_equal(
        q1(&r, "SELECT count(*) FROM " T_ALL " WHERE rec IS NULL"), "455");
    same(&r, "SELECT count(*) FROM " T_ALL " WHERE rec.\"inner\" IS NULL",
         "SELECT 455 + count(*) FROM range(5000) t(i) WHERE i % 5 = 0 AND i % "
         "11 <> 0");
    /* values of one row (2nd chunk) */
#define ROW " FROM " T_ALL " WHERE i = 3001"
    assert_string_equal(q1(&r, "SELECT s" ROW), "str-3001");
    assert_string_equal(q1(&r, "SELECT b" ROW), "\\x00\\x01\\xFF\\xB9");
    assert_string_equal(q1(&r, "SELECT f" ROW), "1500.5");
    assert_string_equal(q1(&r, "SELECT n" ROW), "3001.123456789");
    assert_string_equal(q1(&r, "SELECT n2" ROW), "3001.05");
    assert_string_equal(q1(&r, "SELECT n3" ROW), "-1.1");
    assert_string_equal(q1(&r, "SELECT n4" ROW), "-3001000000000000.001");
    assert_string_equal(q1(&r, "SELECT n4 FROM " T_ALL " WHERE i = 4998"),
                        "4998000000000000.001");
    assert_string_equal(q1(&r, "SELECT bn" ROW),
                        "12345678901234567890123456789012345678."
                        "00000000000000000000000000000000003001");
    assert_string_equal(q1(&r, "SELECT ok" ROW), "false");
    assert_string_equal(q1(&r, "SELECT d" ROW), "2030-03-28");
    assert_string_equal(q1(&r, "SELECT epoch_us(dt)" ROW), "1700003001003001");
    assert_string_equal(q1(&r, "SELECT tm" ROW), "00:50:01.000123");
    assert_string_equal(q1(&r, "SELECT epoch_us(ts)" ROW), "1600000000003001");
    assert_string_equal(q1(&r, "SELECT g" ROW), "POINT(1 2)");
    assert_string_equal(q1(&r, "SELECT j->>'k'" ROW), "3001");
    assert_string_equal(q1(&r, "SELECT r" ROW), "[2024-01-01, 2024-02-01)");
    assert_string_equal(q1(&r, "SELECT rec.name" ROW), "n3001");
    assert_string_equal(q1(&r, "SELECT rec.tags" ROW), "[t0, t1]");
    assert_string_equal(q1(&r, "SELECT rec.\"inner\".x" ROW), "3001");
    assert_string_equal(q1(&r, "SELECT rec.\"inner\".ys" ROW),
                        "[4501.5, -1.0]");
    assert_string_equal(q1(&r, "SELECT len(items)" ROW), "1");
    assert_string_equal(q1(&r, "SELECT items[1].sku" ROW), "sku-3001-0");
    assert_string_equal(q1(&r, "SELECT \"a\"\"b\"" ROW), "q3001");
    assert_string_equal(q1(&r, "SELECT nums" ROW), "[3001]");
    assert_string_equal(q1(&r, "SELECT iv" ROW), "P1Y2M3DT4H5M6S");
    /* row 3: special characters survive */
    assert_string_equal(q1(&r, "SELECT s FROM " T_ALL " WHERE i = 3"),
                        "it's \"q\" \xc3\xa9,\nx");
    /* aggregates over every row check all chunks' nested data */
    assert_string_equal(q1(&r, "SELECT sum(len(items)) FROM " T_ALL), "7500");
    assert_string_equal(
        q1(&r, "SELECT sum(list_sum([x.qty FOR x IN items])) FROM " T_ALL),
        "8750"); /* 1250 rows each of i%4 = 1,2,3: 1, 1+2, 1+2+NULL */
    assert_string_equal(q1(&r, "SELECT count(*) FROM " T_ALL
                               ", unnest(items) u(it) WHERE "
                               "it.qty IS NULL"),
                        "1250");
    same(
        &r, "SELECT sum(list_sum(nums)) FROM " T_ALL,
        "SELECT sum(CASE i % 3 WHEN 1 THEN i WHEN 2 THEN 2 * i + 1 ELSE 0 END) "
        "FROM range(5000) t(i)");
    same(&r, "SELECT sum(len(rec.tags)) FROM " T_ALL,
         "SELECT sum(i % 3 + 1) FROM range(5000) t(i) WHERE i % 11 <> 0");
    same(&r, "SELECT sum(len(rec.\"inner\".ys)) FROM " T_ALL,
         "SELECT sum(i % 2 + 1) FROM range(5000) t(i) WHERE i % 11 <> 0 AND i "
         "% 5 <> 0");
    assert_string_equal(
        q1(&r, "SELECT count(*) FROM " T_ALL " WHERE n = i + 0.123456789"),
        "4286");
    /* the audit records: the batch, then its duplicate */
    assert_string_equal(
        q1(&r, "SELECT string_agg(table_name || '|' || origin || '|' || "
               "n_files || '|' || rows_loaded || '|' || rows_rejected || '|' "
               "|| bytes || '|' || epoch_us(first_seen) || '|' || "
               "(loaded_at > first_seen) || '|' || length(batch_id), ';' "
               "ORDER BY loaded_at) FROM _sluice_loads"),
        "my data set.all types|test|1|5000|7|12345|1700000000000000|true|64;"
        "my data set.all types|test|1|0|7|12345|1700000000000000|true|64");
    assert_string_equal(
        q1(&r, "SELECT string_agg(file_path || '|' || fingerprint || '|' || "
               "file_size || '|' || rows_loaded || '|' || outcome, ';' ORDER "
               "BY loaded_at) FROM _sluice_files"),
        "/in/all.ndjson|fp1|12345|5000|loaded;"
        "/in/all.ndjson|fp1|12345|0|duplicate");
    /* the checksum is the sum of the rows' hashes (the duplicate's is 0) */
    uint64_t want = 0;
    static struct rowbuf rb;
    for (int k = 0; k < 5000; k++) {
        make_row(&rb, k);
        want += sl_row_hash(rb.cols, N_COLS);
    }
    char wants[64];
    snprintf(wants, sizeof(wants), "%llu,0", (unsigned long long)want);
    assert_string_equal(q1(&r, "SELECT string_agg(checksum::VARCHAR, ',' "
                               "ORDER BY loaded_at) FROM _sluice_loads"),
                        wants);
    raw_close(&r);
}

static void test_abort_leaves_no_rows(void **state)
{
    struct fx *fx = *state;
    static struct all_table a;
    all_table_init(&a, "main", "t");
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    bool created;
    assert_int_equal(D->open(fx->uri, NULL, &wh, &err), SL_OK);
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), SL_OK);
    /* two chunks appended, one pending, then the source fails */
    struct gen g = {.n = 5000, .bad_at = -1, .fail_at = 4500, .mid_at = -1};
    struct sl_batch b;
    struct sl_batch_file f;
    assert_int_equal(load_gen(wh, &a.t, &g, "fpA", &b, &f, &err), -SL_EIO);
    assert_non_null(strstr(err.msg, "generated failure"));
    assert_false(fp_loaded(wh, "main.t", "fpA"));
    /* the connection is usable again after the rollback */
    load_all(wh, &a.t, 10, "fpB");
    D->close(wh);
    struct raw raw;
    raw_open(&raw, fx->db);
    assert_string_equal(q1(&raw, "SELECT count(*) FROM t"), "10");
    assert_string_equal(q1(&raw, "SELECT count(*) FROM _sluice_loads"), "1");
    assert_string_equal(q1(&raw, "SELECT count(*) FROM _sluice_files"), "1");
    raw_close(&raw);
}

static void null_required(struct rowbuf *r)
{
    r->cols[C_I] = vnull();
}

static void date_as_string(struct rowbuf *r)
{
    r->cols[C_D] = vstr("2024-01-01");
}

static void test_failure_leaves_no_rows(void **state)
{
    struct fx *fx = *state;
    static struct all_table a;
    all_table_init(&a, "main", "t");
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    bool created;
    assert_int_equal(D->open(fx->uri, NULL, &wh, &err), SL_OK);
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), SL_OK);
    struct sl_batch b;
    struct sl_batch_file f;

    /* 1. a NULL in the REQUIRED column after a full chunk: DuckDB refuses it
     * (when the chunk is appended or at the appender's close), nothing stays */
    struct gen g = {.n = 3000,
                    .bad_at = 2500,
                    .bad = null_required,
                    .fail_at = -1,
                    .mid_at = -1};
    assert_int_equal(load_gen(wh, &a.t, &g, "fp1", &b, &f, &err),
                     -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "NOT NULL"));

    /* 2. a value of the wrong kind mid-load: the row fails, all rolls back */
    memset(&err, 0, sizeof(err));
    g.n = 2200;
    g.bad_at = 2100;
    g.bad = date_as_string;
    assert_int_equal(load_gen(wh, &a.t, &g, "fp2", &b, &f, &err),
                     -SL_EINVAL);
    assert_string_equal(err.column, "d");

    /* 3. loading into a table that does not exist */
    memset(&err, 0, sizeof(err));
    static struct all_table missing;
    all_table_init(&missing, "main", "missing");
    g.bad_at = -1;
    assert_int_equal(load_gen(wh, &missing.t, &g, "fp3", &b, &f, &err),
                     -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "missing"));

    /* 4. WRITE_EMPTY into a table with rows fails and changes nothing;
     * WRITE_TRUNCATE replaces the rows in the same transaction */
    memset(&err, 0, sizeof(err));
    g.n = 5;
    assert_int_equal(load_gen(wh, &a.t, &g, "fp4", &b, &f, &err), SL_OK);
    b.flags = SL_BATCH_EMPTY;
    b.id = NULL;
    f.fingerprint = "fp5";
    assert_int_equal(D->load_batch(wh, &b, &err), -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "WRITE_EMPTY"));
    memset(&err, 0, sizeof(err));
    b.flags = SL_BATCH_TRUNCATE;
    g.n = 3;
    assert_int_equal(D->load_batch(wh, &b, &err), SL_OK);
    assert_int_equal(b.rows_loaded, 3);
    D->close(wh);

    struct raw raw;
    raw_open(&raw, fx->db);
    assert_string_equal(q1(&raw, "SELECT count(*) FROM t"), "3");
    assert_string_equal(q1(&raw, "SELECT count(*) FROM _sluice_loads"), "2");
    raw_close(&raw);
}

static void test_ensure_different_definition(void **state)
{
    struct fx *fx = *state;
    static struct all_table a;
    all_table_init(&a, "ds", "t");
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    bool created;
    assert_int_equal(D->open(fx->uri, NULL, &wh, &err), SL_OK);
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), SL_OK);
    assert_true(created);

    a.top[C_F].type = SL_T_INT64; /* f was DOUBLE */
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), -SL_ESCHEMA);
    assert_string_equal(
        err.msg, "table ds.t exists with a different definition: column f "
                 "is DOUBLE, definition wants BIGINT");
    a.top[C_F].type = SL_T_FLOAT64;

    memset(&err, 0, sizeof(err));
    a.inner[1].type = SL_T_STRING; /* nested change */
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "column rec is STRUCT("));
    a.inner[1].type = SL_T_FLOAT64;

    memset(&err, 0, sizeof(err));
    a.top[C_S].mode = SL_M_REQUIRED;
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "column s is nullable"));
    a.top[C_S].mode = SL_M_NULLABLE;

    memset(&err, 0, sizeof(err));
    a.t.root.n_fields = N_COLS - 1;
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "column iv is not in the definition"));
    a.t.root.n_fields = N_COLS;

    memset(&err, 0, sizeof(err));
    assert_int_equal(D->ensure_table(wh, &a.t, &created, &err), SL_OK);
    assert_false(created);
    D->close(wh);
}

static char *run_query(struct sl_wh *wh, const char *sql,
                       enum sl_query_format fmt)
{
    struct sl_error err = {0};
    int rc;
    char *out = qt_string(D, wh, sql, fmt, 0, &rc, &err);
    if (rc != SL_OK) {
        fail_msg("query %s: %s", sql, err.msg);
    }
    return out;
}

/* A dataset named like a DuckDB catalog (temp, system) is not ambiguous:
 * tables are named catalog.dataset.table. A batch's post_sql runs in its
 * transaction (a failure rolls the rows back), and audit_table names the
 * table its records and duplicate checks are about. */
static void test_post_sql_and_temp_dataset(void **state)
{
    struct fx *fx = *state;
    static struct all_table tmp, dst;
    all_table_init(&tmp, "temp", "t_batch");
    all_table_init(&dst, "system", "dest");
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    bool created;
    assert_int_equal(D->open(fx->uri, NULL, &wh, &err), SL_OK);
    int rc = D->ensure_table(wh, &tmp.t, &created, &err);
    if (rc != SL_OK) {
        fail_msg("ensure temp.t_batch: %s", err.msg);
    }
    assert_int_equal(D->ensure_table(wh, &dst.t, &created, &err), SL_OK);
    struct sl_buf ref;
    sl__buf_init(&ref);
    assert_int_equal(sl_wh_table_ref(D, wh, &ref, "temp", "t_batch"), SL_OK);
    assert_string_equal(ref.data, "\"wh\".\"temp\".\"t_batch\"");
    sl__buf_reset(&ref);
    assert_int_equal(sl_wh_table_ref(D, NULL, &ref, "temp", "t"), SL_OK);
    assert_string_equal(ref.data, "\"temp\".\"t\"");
    sl__buf_release(&ref);

    const char *bad[] = {"INSERT INTO \"wh\".\"system\".\"dest\" SELECT * "
                         "FROM \"wh\".\"temp\".\"t_batch\"",
                         "SELECT no_such_column"};
    struct gen g = {.n = 10, .bad_at = -1, .fail_at = -1, .mid_at = -1};
    struct sl_batch b;
    struct sl_batch_file f;
    memset(&b, 0, sizeof(b));
    b.post_sql = bad;
    b.n_post_sql = 2;
    b.audit_table = "system.dest";
    memset(&f, 0, sizeof(f));
    f.path = "/in/a.ndjson";
    f.fingerprint = "fpA";
    b.t = &tmp.t;
    b.files = &f;
    b.n_files = 1;
    b.origin = "test";
    b.src.feed = gen_feed;
    b.src.ud = &g;
    assert_int_equal(D->load_batch(wh, &b, &err), -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "batch step 2 of 2: "));
    char *out = run_query(wh,
                          "SELECT (SELECT count(*) FROM wh.temp.t_batch) AS a, "
                          "(SELECT count(*) FROM wh.system.dest) AS b",
                          SL_QF_CSV);
    assert_string_equal(out, "a,b\n0,0\n");
    free(out);

    memset(&err, 0, sizeof(err));
    b.n_post_sql = 1;
    assert_int_equal(D->load_batch(wh, &b, &err), SL_OK);
    assert_int_equal(b.rows_loaded, 10);
    out = run_query(wh, "SELECT count(*) FROM wh.system.dest", SL_QF_CSV);
    assert_string_equal(out, "count_star()\n10\n");
    free(out);
    assert_true(fp_loaded_path(wh, "system.dest", "/in/a.ndjson", "fpA"));
    /* the same content again, audited against the destination: a duplicate */
    b.id = NULL;
    b.salt = "again";
    assert_int_equal(D->load_batch(wh, &b, &err), SL_OK);
    assert_int_equal(f.outcome, SL_FILE_DUPLICATE);
    D->close(wh);
}

static void test_query_formats(void **state)
{
    struct fx *fx = *state;
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    assert_int_equal(D->open(fx->uri, NULL, &wh, &err), SL_OK);
    static const char *const setup_sql =
        "CREATE TABLE q (id BIGINT, name VARCHAR, amt DECIMAL(10,2), f DOUBLE, "
        "ok BOOLEAN, "
        "d DATE, ts TIMESTAMPTZ, tags VARCHAR[], r STRUCT(a BIGINT, \"b c\" "
        "VARCHAR), "
        "j JSON, bl BLOB);"
        "INSERT INTO q VALUES (1, 'plain', 12.50, 0.1, true, DATE "
        "'2024-01-02', "
        "TIMESTAMPTZ '2024-01-02 03:04:05.5+00', ['x', 'y''z'], {'a': 1, 'b "
        "c': 'q\"'}, "
        "'{\"k\":[1,2]}', '\\x00ab'::BLOB),"
        "(22, 'a,\"b\"\nc', -3.00, 1e300, false, NULL, NULL, [], NULL, NULL, "
        "NULL),"
        "(NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, {'a': NULL, 'b c': "
        "NULL}, 'null', "
        "''::BLOB)";
    char *out = run_query(wh, setup_sql, SL_QF_CSV);
    free(out);

    out = run_query(
        wh,
        "SELECT id, name, amt, f, ok, d, ts, tags, r, j, bl FROM q ORDER BY "
        "id NULLS LAST",
        SL_QF_JSON);
    assert_string_equal(
        out,
        "{\"id\":1,\"name\":\"plain\",\"amt\":12.50,\"f\":0.1,\"ok\":true,"
        "\"d\":\"2024-01-02\",\"ts\":\"2024-01-02 "
        "03:04:05.5+00\",\"tags\":[\"x\","
        "\"y'z\"],\"r\":{\"a\":1,\"b c\":\"q\\\"\"},\"j\":{\"k\":[1,2]},\"bl\":"
        "\"\\\\x00ab\"}\n"
        "{\"id\":22,\"name\":\"a,\\\"b\\\"\\u000ac\",\"amt\":-3.00,\"f\":1e+"
        "300,\"ok\":false,"
        "\"d\":null,\"ts\":null,\"tags\":[],\"r\":null,\"j\":null,\"bl\":null}"
        "\n"
        "{\"id\":null,\"name\":\"\",\"amt\":null,\"f\":null,\"ok\":null,\"d\":"
        "null,"
        "\"ts\":null,\"tags\":null,\"r\":{\"a\":null,\"b "
        "c\":null},\"j\":null,\"bl\":\"\"}"
        "\n");
    free(out);

    out = run_query(
        wh, "SELECT id, name, amt, tags, r FROM q ORDER BY id NULLS LAST",
        SL_QF_CSV);
    assert_string_equal(
        out, "id,name,amt,tags,r\n"
             "1,plain,12.50,\"['x', 'y''z']\",\"{'a': 1, 'b c': 'q\"\"'}\"\n"
             "22,\"a,\"\"b\"\"\nc\",-3.00,[],\n"
             ",\"\",,,\"{'a': null, 'b c': null}\"\n");
    free(out);

    out = run_query(
        wh,
        "SELECT id, name AS \"the name\", amt FROM q WHERE id IS NOT NULL "
        "ORDER BY id",
        SL_QF_TABLE);
    assert_string_equal(out, "id | the name | amt\n"
                             "---+----------+------\n"
                             " 1 | plain    | 12.50\n"
                             "22 | a,\"b\"\\nc | -3.00\n"
                             "(2 rows)\n");
    free(out);
    out = run_query(wh, "SELECT NULL AS x, 'é' AS y", SL_QF_TABLE);
    assert_string_equal(out, "x    | y\n-----+--\nNULL | é\n(1 row)\n");
    free(out);
    /* numbers of every width, non-finite doubles, nested JSON, intervals */
    out = run_query(
        wh,
        "SELECT 1::TINYINT AS a, "
        "170141183460469231731687303715884105727::HUGEINT "
        "AS b, -1.5::DECIMAL(30,4) AS c, 'inf'::DOUBLE AS d, 0.1::FLOAT AS e, "
        "INTERVAL 90 MINUTE AS f, MAP {'k': [1]} AS g, "
        "'00000000-0000-0000-0000-000000000001'::UUID AS h, "
        "[[1, NULL], []] AS i, TIME '01:02:03' AS j",
        SL_QF_JSON);
    assert_string_equal(
        out, "{\"a\":1,\"b\":170141183460469231731687303715884105727,"
             "\"c\":-1.5000,\"d\":\"inf\",\"e\":0.1,\"f\":\"01:30:00\","
             "\"g\":{\"k\":[1]},\"h\":\"00000000-0000-0000-0000-000000000001\","
             "\"i\":[[1,null],[]],\"j\":\"01:02:03\"}\n");
    free(out);
    /* statements without a result set print nothing */
    out = run_query(wh, "CREATE TABLE empty_one (x INT)", SL_QF_TABLE);
    free(out);

    /* errors carry DuckDB's text */
    FILE *f = fopen("/dev/null", "w");
    assert_int_equal(qt_print(D, wh, "SELEC 1", SL_QF_TABLE, 0, f, &err),
                     -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "syntax error"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        qt_print(D, wh, "SELECT * FROM nope", SL_QF_CSV, 0, f, &err),
        -SL_EWAREHOUSE);
    assert_non_null(strstr(err.msg, "nope"));
    fclose(f);
    D->close(wh);
}

static char *seen_mid;

static void count_on_other(void *ud)
{
    seen_mid = run_query(ud, "SELECT count(*) AS n FROM t", SL_QF_CSV);
}

/* Two handles on one file in one process share a DuckDB instance (the
 * instance cache), each with its own connection: uncommitted rows of one are
 * invisible to the other, committed rows are visible. */
static void test_two_handles_one_file(void **state)
{
    struct fx *fx = *state;
    static struct all_table a;
    all_table_init(&a, "main", "t");
    struct sl_error err = {0};
    struct sl_wh *w1 = NULL, *w2 = NULL;
    bool created;
    assert_int_equal(D->open(fx->uri, NULL, &w1, &err), SL_OK);
    assert_int_equal(D->open(fx->db, NULL, &w2, &err), SL_OK);
    assert_int_equal(D->ensure_table(w1, &a.t, &created, &err), SL_OK);
    assert_true(created);
    assert_int_equal(D->ensure_table(w2, &a.t, &created, &err), SL_OK);
    assert_false(created);
    /* mid-load (after 2,500 rows: one chunk appended), w2 sees nothing */
    struct gen g = {.n = 3000,
                    .bad_at = -1,
                    .fail_at = -1,
                    .mid_at = 2500,
                    .mid = count_on_other,
                    .mid_ud = w2};
    struct sl_batch b;
    struct sl_batch_file f;
    seen_mid = NULL;
    assert_int_equal(load_gen(w1, &a.t, &g, "fp", &b, &f, &err), SL_OK);
    assert_non_null(seen_mid);
    assert_string_equal(seen_mid, "n\n0\n");
    free(seen_mid);
    char *out = run_query(w2, "SELECT count(*) AS n FROM t", SL_QF_CSV);
    assert_string_equal(out, "n\n3000\n");
    free(out);
    /* the same batch id from the other handle: already there, nothing done */
    char id[65];
    memcpy(id, b.id_out, sizeof(id));
    b.id = id;
    assert_int_equal(D->load_batch(w2, &b, &err), SL_OK);
    assert_true(b.already);
    out = run_query(w2, "SELECT count(*) AS n FROM t", SL_QF_CSV);
    assert_string_equal(out, "n\n3000\n");
    free(out);
    D->close(w1);
    D->close(w2);
}

/* One full use of the driver; stops at the first failure, which must be
 * -SL_ENOMEM while allocations are being failed. */
static int oom_sequence(const char *uri, const struct sl_table *t)
{
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    bool created, yes;
    int rc = D->open(uri, NULL, &wh, &err);
    if (rc != SL_OK) {
        return rc;
    }
    rc = D->ensure_table(wh, t, &created, &err);
    struct gen g = {.n = 3, .bad_at = -1, .fail_at = -1, .mid_at = -1};
    struct sl_batch b;
    struct sl_batch_file f;
    if (rc == SL_OK) {
        rc = load_gen(wh, t, &g, "fp", &b, &f, &err);
    }
    if (rc == SL_OK) {
        rc = D->batch_committed(wh, b.id_out, &yes, &err);
    }
    struct sl_prior_load p[2];
    size_t n;
    if (rc == SL_OK) {
        rc = D->file_history(wh, "main.t", "/in/all.ndjson", 1, p, 2, &n, &err);
    }
    for (int fmt = SL_QF_TABLE; rc == SL_OK && fmt <= SL_QF_JSON; fmt++) {
        FILE *fo = fopen("/dev/null", "w");
        rc = qt_print(D, wh, "SELECT * FROM t", (enum sl_query_format)fmt, 0,
                      fo, &err);
        fclose(fo);
    }
    D->close(wh);
    return rc;
}

static void test_oom_sweep(void **state)
{
    struct fx *fx = *state;
    static struct all_table a;
    all_table_init(&a, "main", "t");
    for (uint64_t n = 1;; n++) {
        char uri[256];
        snprintf(uri, sizeof(uri), "%s/oom%llu.duckdb", fx->dir,
                 (unsigned long long)n);
        sl_alloc_fail_after(n);
        int rc = oom_sequence(uri, &a.t);
        sl_alloc_fail_after(0);
        if (rc == SL_OK) {
            assert_true(n > 10);
            break;
        }
        if (rc != -SL_ENOMEM) {
            fail_msg("allocation %llu failed: %d, want -SL_ENOMEM",
                     (unsigned long long)n, rc);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--hold-lock") == 0) {
        return hold_lock(argv[2], atoi(argv[3]));
    }
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (n <= 0) {
        return 1;
    }
    self_exe[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_ident),
        cmocka_unit_test(test_driver_for),
        cmocka_unit_test_setup_teardown(test_open_uri_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_locked_by_other_process,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_types_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_no_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failure_leaves_no_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ensure_different_definition, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_post_sql_and_temp_dataset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles_one_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oom_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
