/* test_evolve.c - schema evolution on real DuckDB files: each kind of change
 * with the data before and after (new columns NULL for old rows, widened
 * values exact, relaxed columns taking NULL, nested fields added with the
 * members' values kept), applying twice, unsafe changes refused then
 * allowed, drift, tables created before records, the all-or-nothing apply
 * under a fault at every step, definitions edited during an apply, and the
 * load path's in-transaction update. tests. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "schema/plan.h"
#include "schema/schema.h"
#include "warehouse/driver.h"
#include "../support/querytest.h"
#include "warehouse/evolve.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static const struct sl_wh_ops *D = &sl__duckdb_ops;

struct fx {
    char dir[64]; /* registry folder */
    char db[128]; /* warehouse file */
    struct sl_wh *wh;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/sl_evolve_XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(fx->db, sizeof(fx->db), "%s.duckdb", fx->dir);
    struct sl_error err = {0};
    if (D->open(fx->db, NULL, &fx->wh, &err) != SL_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
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
    D->close(fx->wh);
    nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s.wal", fx->db);
    remove(fx->db);
    remove(wal);
    free(fx);
    return 0;
}

/* Write DIR/rel (folders made as needed). */
static void put(struct fx *fx, const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
    for (char *s = strchr(path + strlen(fx->dir) + 1, '/'); s != NULL;
         s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Run SQL through the driver; the CSV output (header and rows). Caller
 * frees. */
static char *sql(struct fx *fx, const char *q)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    struct sl_error err = {0};
    int rc = qt_print(D, fx->wh, q, SL_QF_CSV, 0, f, &err);
    fclose(f);
    if (rc != SL_OK) {
        fprintf(stderr, "%s: %s\n", q, err.msg);
    }
    assert_int_equal(rc, SL_OK);
    return out;
}

/* The first value of the first row as text ("" for NULL). */
static const char *one(struct fx *fx, const char *q)
{
    static char buf[4096];
    char *out = sql(fx, q);
    const char *row = strchr(out, '\n');
    row = row != NULL ? row + 1 : "";
    size_t k = 0;
    if (row[0] == '"') { /* a quoted CSV field: "" is one quote */
        for (const char *p = row + 1; *p != '\0' && k + 1 < sizeof(buf); p++) {
            if (*p == '"' && p[1] != '"') {
                break;
            }
            p += *p == '"';
            buf[k++] = *p;
        }
    } else {
        for (; row[k] != '\0' && row[k] != '\n' && k + 1 < sizeof(buf); k++) {
            buf[k] = row[k];
        }
    }
    buf[k] = '\0';
    free(out);
    return buf;
}

static void exec_ok(struct fx *fx, const char *q)
{
    free(sql(fx, q));
}

static int exec_rc(struct fx *fx, const char *q)
{
    FILE *f = fopen("/dev/null", "w");
    struct sl_error err = {0};
    int rc = qt_print(D, fx->wh, q, SL_QF_CSV, 0, f, &err);
    fclose(f);
    return rc;
}

/* Load the registry, plan, apply; the plan's counts in *out (optional). */
static int apply(struct fx *fx, unsigned flags, struct sl_evolve *out,
                 struct sl_error *err)
{
    struct sl_registry *reg = NULL;
    struct sl_buf pb;
    sl__buf_init(&pb);
    assert_int_equal(sl_registry_load(fx->dir, &pb, &reg, err), SL_OK);
    if (pb.len > 0) {
        fprintf(stderr, "%s", pb.data);
    }
    assert_int_equal(pb.len, 0);
    struct sl_evolve ev;
    int rc = sl_evolve_plan(D, fx->wh, reg, flags, &ev, err);
    size_t applied = 0;
    if (rc == SL_OK) {
        rc = sl_evolve_apply(D, fx->wh, &ev, reg, &applied, err);
    }
    if (out != NULL) {
        *out = ev;
        out->tables = NULL; /* counts only */
        out->n_tables = 0;
    }
    sl_evolve_release(&ev);
    sl_registry_destroy(reg);
    sl__buf_release(&pb);
    return rc;
}

static void apply_ok(struct fx *fx, unsigned flags, struct sl_evolve *out)
{
    struct sl_error err = {0};
    int rc = apply(fx, flags, out, &err);
    if (rc != SL_OK) {
        fprintf(stderr, "apply: %s\n", err.msg);
    }
    assert_int_equal(rc, SL_OK);
}

/* ---- additions ------------------------------------------------------------
 */

static const char v1[] =
    "[{\"name\": \"id\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"},"
    " {\"name\": \"name\", \"type\": \"STRING\"},"
    " {\"name\": \"r\", \"type\": \"RECORD\", \"fields\": ["
    "   {\"name\": \"x\", \"type\": \"INT64\"}]},"
    " {\"name\": \"l\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
    "  \"fields\": [{\"name\": \"p\", \"type\": \"INT64\"}]}]";

static void test_add_keeps_rows(void **state)
{
    struct fx *fx = *state;
    struct sl_evolve ev;
    put(fx, "sales/orders.json", v1);
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_create, 1);
    exec_ok(fx, "INSERT INTO sales.orders VALUES (1, 'a', {'x': 10}, "
                "[{'p': 5}, {'p': 6}]), (2, NULL, NULL, [])");
    put(fx, "sales/orders.json",
        "[{\"name\": \"id\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"},"
        " {\"name\": \"name\", \"type\": \"STRING\"},"
        " {\"name\": \"r\", \"type\": \"RECORD\", \"fields\": ["
        "   {\"name\": \"x\", \"type\": \"INT64\"},"
        "   {\"name\": \"y\", \"type\": \"DATE\"},"
        "   {\"name\": \"deep\", \"type\": \"RECORD\", \"fields\": ["
        "     {\"name\": \"k\", \"type\": \"STRING\", \"mode\": "
        "\"REQUIRED\"}]}]},"
        " {\"name\": \"l\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
        "  \"fields\": [{\"name\": \"p\", \"type\": \"INT64\"},"
        "               {\"name\": \"q\", \"type\": \"BOOL\"}]},"
        " {\"name\": \"note\", \"type\": \"STRING\", \"description\": "
        "\"it's new\"},"
        " {\"name\": \"tags\", \"type\": \"STRING\", \"mode\": \"REPEATED\"},"
        " {\"name\": \"it's # Caf\\u00e9\", \"type\": \"NUMERIC\"}]");
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_change, 1);
    assert_int_equal(ev.n_refused, 0);
    /* old rows: values kept, new columns and members NULL */
    assert_string_equal(one(fx, "SELECT count(*) FROM sales.orders"), "2");
    assert_string_equal(one(fx, "SELECT r.x FROM sales.orders WHERE id = 1"),
                        "10");
    assert_string_equal(
        one(fx, "SELECT r.y IS NULL AND r.deep IS NULL FROM sales.orders "
                "WHERE id = 1"),
        "true");
    assert_string_equal(
        one(fx, "SELECT l[2].p || '/' || (l[2].q IS NULL) FROM sales.orders "
                "WHERE id = 1"),
        "6/true");
    assert_string_equal(
        one(fx, "SELECT count(*) FROM sales.orders WHERE note IS NULL AND "
                "tags IS NULL AND \"it's # Café\" IS NULL"),
        "2");
    /* new rows use them */
    exec_ok(fx, "INSERT INTO sales.orders VALUES (3, 'c', {'x': 1, 'y': "
                "DATE '2024-01-02', 'deep': {'k': 'z'}}, [{'p': 1, 'q': "
                "true}], 'n', ['t'], 1.5)");
    assert_string_equal(
        one(fx, "SELECT r.deep.k || l[1].q || note || tags[1] || \"it's # "
                "Café\" FROM sales.orders WHERE id = 3"),
        "ztruent1.500000000");
    /* the description is recorded (view _sluice_columns) */
    assert_string_equal(
        one(fx, "SELECT description FROM main._sluice_columns WHERE "
                "column_path = 'note'"),
        "it's new");
    assert_string_equal(one(fx,
                            "SELECT count(*) FROM main._sluice_columns WHERE "
                            "column_path = 'r.deep.k'"),
                        "1");
    /* twice: nothing to do, no history written */
    const char *h = one(fx, "SELECT count(*) FROM main._sluice_schema_history");
    char hist[32];
    snprintf(hist, sizeof(hist), "%s", h);
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_change + ev.n_create, 0);
    assert_int_equal(ev.n_unchanged, 1);
    assert_string_equal(
        one(fx, "SELECT count(*) FROM main._sluice_schema_history"), hist);
    assert_string_equal(
        one(fx, "SELECT string_agg(change, ',' ORDER BY change) FROM "
                "main._sluice_schema_history WHERE change <> 'create'"),
        "add,add,add,add,add,add");
}

static void test_relax(void **state)
{
    struct fx *fx = *state;
    put(fx, "t.json",
        "[{\"name\": \"a\", \"type\": \"INT64\", \"mode\": "
        "\"REQUIRED\"}, {\"name\": \"r\", \"type\": \"RECORD\", "
        "\"fields\": [{\"name\": \"x\", \"type\": \"STRING\", "
        "\"mode\": \"REQUIRED\"}]}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO t VALUES (1, {'x': 'k'})");
    assert_int_not_equal(exec_rc(fx, "INSERT INTO t VALUES (NULL, NULL)"),
                         SL_OK);
    put(fx, "t.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"r\", \"type\": \"RECORD\", \"fields\": [{\"name\": "
        "\"x\", \"type\": \"STRING\"}]}]");
    struct sl_evolve ev;
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_change, 1);
    exec_ok(fx, "INSERT INTO t VALUES (NULL, NULL)");
    assert_string_equal(one(fx, "SELECT count(*) || '/' || sum(a) FROM t"),
                        "2/1");
    assert_string_equal(
        one(fx, "SELECT string_agg(path, ',' ORDER BY path) FROM "
                "main._sluice_schema_history WHERE change = 'relax'"),
        "a,r.x");
}

/* ---- widening -------------------------------------------------------------
 */

static void test_widen_exact(void **state)
{
    struct fx *fx = *state;
    put(fx, "w.json",
        "[{\"name\": \"i2n\", \"type\": \"INT64\"},"
        " {\"name\": \"i2b\", \"type\": \"INT64\"},"
        " {\"name\": \"n2b\", \"type\": \"NUMERIC\"},"
        " {\"name\": \"i2f\", \"type\": \"INT64\"},"
        " {\"name\": \"p\", \"type\": \"NUMERIC\", \"precision\": 10, "
        "\"scale\": 2},"
        " {\"name\": \"l\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
        "\"fields\": [{\"name\": \"v\", \"type\": \"INT64\"}, "
        "{\"name\": \"w\", \"type\": \"NUMERIC\"}]},"
        " {\"name\": \"s\", \"type\": \"STRING\", \"maxLength\": 5}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO w VALUES (9223372036854775807, "
                "-9223372036854775808, 100.5, 9007199254740992, 12345678.91, "
                "[{'v': 7, 'w': 10}, {'v': NULL, 'w': 0.125}], 'abc'), "
                "(NULL, NULL, 0, NULL, NULL, NULL, NULL), "
                "(1, 2, -0.000000001, -3, -0.05, [], '')");
    put(fx, "w.json",
        "[{\"name\": \"i2n\", \"type\": \"NUMERIC\"},"
        " {\"name\": \"i2b\", \"type\": \"BIGNUMERIC\"},"
        " {\"name\": \"n2b\", \"type\": \"BIGNUMERIC\"},"
        " {\"name\": \"i2f\", \"type\": \"FLOAT64\"},"
        " {\"name\": \"p\", \"type\": \"NUMERIC\", \"precision\": 14, "
        "\"scale\": 4},"
        " {\"name\": \"l\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
        "\"fields\": [{\"name\": \"v\", \"type\": \"NUMERIC\"}, "
        "{\"name\": \"w\", \"type\": \"BIGNUMERIC\"}]},"
        " {\"name\": \"s\", \"type\": \"STRING\"}]");
    struct sl_evolve ev;
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_change, 1);
    assert_string_equal(one(fx, "SELECT typeof(i2n) || typeof(i2b) || "
                                "typeof(p) || typeof(l) FROM w LIMIT 1"),
                        "DECIMAL(38,9)VARCHARDECIMAL(14,4)STRUCT(v "
                        "DECIMAL(38,9), w VARCHAR)[]");
    assert_string_equal(
        one(fx, "SELECT i2n || '|' || i2b || '|' || n2b || '|' || "
                "i2f::BIGINT || '|' || p FROM w WHERE i2n > 5"),
        "9223372036854775807.000000000|-9223372036854775808|100.5|"
        "9007199254740992|12345678.9100");
    assert_string_equal(one(fx, "SELECT n2b FROM w WHERE i2n IS NULL"), "0");
    assert_string_equal(one(fx, "SELECT n2b || '|' || p FROM w WHERE i2n = 1"),
                        "-0.000000001|-0.0500");
    assert_string_equal(
        one(fx, "SELECT l[1].v || '|' || l[1].w || '|' || (l[2].v IS NULL) "
                "|| '|' || l[2].w FROM w WHERE i2n > 5"),
        "7.000000000|10|true|0.125");
    assert_string_equal(one(fx, "SELECT count(*) FROM w WHERE l IS NULL"), "1");
    assert_string_equal(one(fx, "SELECT len(l) FROM w WHERE i2n = 1"), "0");
    /* BIGNUMERIC values as the validator writes them, and the change again
     * is a no-op */
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_unchanged, 1);
    assert_int_equal(ev.n_change, 0);
}

/* ---- unsafe -----------------------------------------------------------------
 */

static void test_unsafe_refused_then_allowed(void **state)
{
    struct fx *fx = *state;
    put(fx, "u.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"f\", \"type\": \"FLOAT\"}, {\"name\": \"gone\", "
        "\"type\": \"STRING\"}, {\"name\": \"s\", \"type\": "
        "\"STRING\", \"mode\": \"REPEATED\"}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO u VALUES (1, 2.0, 'x', ['p']), "
                "(2, 3.0, NULL, [])");
    put(fx, "u.json",
        "[{\"name\": \"a\", \"type\": \"INT64\", \"mode\": "
        "\"REQUIRED\"}, {\"name\": \"f\", \"type\": "
        "\"INT64\"}, {\"name\": \"s\", \"type\": \"STRING\", "
        "\"mode\": \"REPEATED\"}, {\"name\": \"n\", \"type\": "
        "\"DATE\"}]");
    struct sl_evolve ev;
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_refused, 1);
    assert_int_equal(ev.n_change, 0);
    /* refused: the table is as it was */
    assert_string_equal(one(fx, "SELECT string_agg(column_name, ',') FROM "
                                "duckdb_columns() WHERE table_name = 'u'"),
                        "a,f,gone,s");
    apply_ok(fx, SL_WH_ALLOW_UNSAFE, &ev);
    assert_int_equal(ev.n_change, 1);
    assert_string_equal(one(fx, "SELECT string_agg(column_name || ':' || "
                                "data_type || ':' || is_nullable, ',') FROM "
                                "duckdb_columns() WHERE table_name = 'u'"),
                        "a:BIGINT:false,f:BIGINT:true,s:VARCHAR[]:true,"
                        "n:DATE:true");
    assert_string_equal(one(fx, "SELECT sum(f) FROM u"), "5");
    assert_int_not_equal(exec_rc(fx, "INSERT INTO u VALUES (NULL, 1, [], "
                                     "NULL)"),
                         SL_OK);
    /* a value into a list; a list into a value is blocked */
    put(fx, "u.json",
        "[{\"name\": \"a\", \"type\": \"INT64\", \"mode\": "
        "\"REPEATED\"}, {\"name\": \"f\", \"type\": "
        "\"INT64\"}, {\"name\": \"s\", \"type\": \"STRING\", "
        "\"mode\": \"REPEATED\"}, {\"name\": \"n\", \"type\": "
        "\"DATE\"}]");
    apply_ok(fx, SL_WH_ALLOW_UNSAFE, &ev);
    assert_int_equal(ev.n_change, 1);
    assert_string_equal(one(fx, "SELECT string_agg(a[1]::VARCHAR || len(a), "
                                "',' ORDER BY f) FROM u"),
                        "11,21");
    put(fx, "u.json",
        "[{\"name\": \"a\", \"type\": \"INT64\", \"mode\": "
        "\"REPEATED\"}, {\"name\": \"f\", \"type\": "
        "\"INT64\"}, {\"name\": \"s\", \"type\": \"STRING\"}, "
        "{\"name\": \"n\", \"type\": \"DATE\"}]");
    apply_ok(fx, SL_WH_ALLOW_UNSAFE, &ev);
    assert_int_equal(ev.n_refused, 1);
}

/* Renames keep the values: a case-only one is safe, others need
 * --allow-unsafe; members are renamed in place inside lists too. */
static void test_renames_keep_values(void **state)
{
    struct fx *fx = *state;
    put(fx, "rn.json",
        "[{\"name\": \"Amount\", \"type\": \"INT64\"}, "
        "{\"name\": \"old\", \"type\": \"STRING\"}, "
        "{\"name\": \"l\", \"type\": \"RECORD\", \"mode\": "
        "\"REPEATED\", \"fields\": [{\"name\": \"p\", "
        "\"type\": \"INT64\"}, {\"name\": \"q\", \"type\": "
        "\"DATE\"}]}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO rn VALUES (7, 'v', [{'p': 1, 'q': DATE "
                "'2024-02-03'}])");
    put(fx, "rn.json",
        "[{\"name\": \"amount\", \"type\": \"INT64\"}, "
        "{\"name\": \"new\", \"type\": \"STRING\"}, "
        "{\"name\": \"l\", \"type\": \"RECORD\", \"mode\": "
        "\"REPEATED\", \"fields\": [{\"name\": \"p\", "
        "\"type\": \"INT64\"}, {\"name\": \"day\", \"type\": "
        "\"DATE\"}]}]");
    struct sl_evolve ev;
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_refused, 1); /* two renames are unsafe */
    apply_ok(fx, SL_WH_ALLOW_UNSAFE, &ev);
    assert_int_equal(ev.n_change, 1);
    assert_string_equal(
        one(fx, "SELECT amount || new || l[1].p || l[1].day FROM rn"),
        "7v12024-02-03");
    assert_string_equal(one(fx, "SELECT string_agg(column_name, '|' ORDER "
                                "BY column_index) FROM duckdb_columns() "
                                "WHERE table_name = 'rn'"),
                        "amount|new|l");
    /* the case alone: safe */
    put(fx, "rn.json",
        "[{\"name\": \"AMOUNT\", \"type\": \"INT64\"}, "
        "{\"name\": \"new\", \"type\": \"STRING\"}, "
        "{\"name\": \"l\", \"type\": \"RECORD\", \"mode\": "
        "\"REPEATED\", \"fields\": [{\"name\": \"p\", "
        "\"type\": \"INT64\"}, {\"name\": \"Day\", \"type\": "
        "\"DATE\"}]}]");
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_change, 1);
    assert_string_equal(one(fx, "SELECT \"AMOUNT\" || l[1].\"Day\" FROM rn"),
                        "72024-02-03");
    assert_string_equal(one(fx, "SELECT data_type FROM duckdb_columns() "
                                "WHERE column_name = 'l'"),
                        "STRUCT(p BIGINT, \"Day\" DATE)[]");
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_unchanged, 1);
}

/* ---- all or nothing
 * ------------------------------------------------------------ */

/* Everything observable about the warehouse, as one text: the catalog, the
 * records, the history, and the rows of main.TABLE (column a). */
static char *snapshot_of(struct fx *fx, const char *table)
{
    char q[1024];
    snprintf(q, sizeof(q),
             "SELECT (SELECT string_agg(schema_name || '.' || table_name || "
             "'.' || column_name || ' ' || data_type || ' ' || is_nullable, "
             "'; ' ORDER BY schema_name, table_name, column_index) FROM "
             "duckdb_columns() WHERE database_name = current_database()), "
             "(SELECT string_agg(table_name || hash, ',' ORDER BY "
             "table_name) FROM main._sluice_tables), (SELECT count(*) FROM "
             "main._sluice_schema_history), (SELECT string_agg(a::VARCHAR, "
             "',' ORDER BY a) FROM main.%s)",
             table);
    return sql(fx, q);
}

static char *snapshot(struct fx *fx)
{
    return snapshot_of(fx, "t1");
}

static void test_fault_at_every_step(void **state)
{
    struct fx *fx = *state;
    put(fx, "t1.json", "[{\"name\": \"a\", \"type\": \"INT64\"}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO t1 VALUES (1), (2)");
    char *before = snapshot(fx);
    /* a plan of every kind: create (two datasets), add, nested add, widen,
     * relax, rename (unsafe, allowed), description */
    put(fx, "t1.json",
        "{\"description\": \"d\", \"fields\": [{\"name\": "
        "\"a\", \"type\": \"NUMERIC\"}, {\"name\": \"b\", "
        "\"type\": \"STRING\"}]}");
    put(fx, "x/t2.json",
        "[{\"name\": \"k\", \"type\": \"STRING\", "
        "\"mode\": \"REQUIRED\"}]");
    put(fx, "y/t3.json",
        "[{\"name\": \"r\", \"type\": \"RECORD\", "
        "\"fields\": [{\"name\": \"z\", \"type\": "
        "\"INT64\"}]}]");
    int ok_at = 0;
    for (int step = 1; step < 100 && ok_at == 0; step++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", step);
        setenv("SLUICE_FAULT_APPLY_STEP", v, 1);
        struct sl_error err = {0};
        int rc = apply(fx, 0, NULL, &err);
        unsetenv("SLUICE_FAULT_APPLY_STEP");
        if (rc == SL_OK) {
            ok_at = step;
            break;
        }
        assert_int_equal(rc, -SL_EWAREHOUSE);
        assert_non_null(strstr(err.msg, "injected fault"));
        char *now = snapshot(fx);
        assert_string_equal(now, before);
        free(now);
    }
    assert_true(ok_at > 8); /* the plan ran more statements than that */
    char *after = snapshot(fx);
    assert_string_not_equal(after, before);
    free(after);
    /* a failing commit too */
    put(fx, "t1.json",
        "{\"description\": \"d\", \"fields\": [{\"name\": "
        "\"a\", \"type\": \"NUMERIC\"}, {\"name\": \"b\", "
        "\"type\": \"STRING\"}, {\"name\": \"c\", \"type\": "
        "\"DATE\"}]}");
    char *mid = snapshot(fx);
    setenv("SLUICE_FAULT_APPLY_STEP", "commit", 1);
    struct sl_error err = {0};
    assert_int_equal(apply(fx, 0, NULL, &err), -SL_EWAREHOUSE);
    unsetenv("SLUICE_FAULT_APPLY_STEP");
    char *now = snapshot(fx);
    assert_string_equal(now, mid);
    free(now);
    free(mid);
    free(before);
    apply_ok(fx, 0, NULL);
    assert_string_equal(one(fx, "SELECT string_agg(a::VARCHAR, ',' ORDER BY "
                                "a) FROM t1"),
                        "1.000000000,2.000000000");
}

/* A definition edited while apply runs: everything is rolled back. */
static void test_edited_during_apply(void **state)
{
    struct fx *fx = *state;
    put(fx, "e.json", "[{\"name\": \"a\", \"type\": \"INT64\"}]");
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(fx->dir, NULL, &reg, &err), SL_OK);
    struct sl_evolve ev;
    assert_int_equal(sl_evolve_plan(D, fx->wh, reg, 0, &ev, &err), SL_OK);
    put(fx, "e.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"b\", \"type\": \"INT64\"}]");
    size_t n = 0;
    assert_int_equal(sl_evolve_apply(D, fx->wh, &ev, reg, &n, &err),
                     -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "changed while applying"));
    assert_string_equal(one(fx, "SELECT count(*) FROM duckdb_tables() WHERE "
                                "table_name = 'e'"),
                        "0");
    sl_evolve_release(&ev);
    sl_registry_destroy(reg);
}

/* ---- drift and tables without a record --------------------------------------
 */

static void test_drift(void **state)
{
    struct fx *fx = *state;
    put(fx, "d.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"b\", \"type\": \"STRING\"}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO d VALUES (1, 'x')");
    /* someone else changes the table between plan and apply */
    exec_ok(fx, "ALTER TABLE d ALTER b SET DATA TYPE BLOB");
    put(fx, "d.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"b\", \"type\": \"STRING\"}, {\"name\": \"c\", "
        "\"type\": \"INT64\"}]");
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(fx->dir, NULL, &reg, &err), SL_OK);
    struct sl_evolve ev;
    assert_int_equal(sl_evolve_plan(D, fx->wh, reg, 0, &ev, &err), SL_OK);
    assert_int_equal(ev.n_refused, 1);
    const struct sl_evolve_table *et = &ev.tables[0];
    assert_non_null(et->st.drift);
    assert_non_null(strstr(et->st.drift,
                           "column b is BLOB, the applied definition makes it "
                           "VARCHAR"));
    assert_int_equal(et->plan.changes[0].kind, SL_CH_DRIFT);
    /* against the table as it is: b is BYTES now, so STRING is a type
     * change; c is added */
    assert_int_equal(et->plan.n_changes, 3);
    size_t n = 0;
    assert_int_equal(sl_evolve_apply(D, fx->wh, &ev, reg, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    assert_string_equal(one(fx, "SELECT count(*) FROM duckdb_columns() WHERE "
                                "table_name = 'd'"),
                        "2");
    sl_evolve_release(&ev);
    sl_registry_destroy(reg);
    struct sl_evolve ev2;
    apply_ok(fx, SL_WH_ALLOW_UNSAFE, &ev2);
    assert_int_equal(ev2.n_change, 1);
    assert_string_equal(one(fx, "SELECT b || '|' || (c IS NULL) FROM d"),
                        "x|true");
    apply_ok(fx, 0, &ev2);
    assert_int_equal(ev2.n_unchanged, 1);
}

static void test_table_without_record(void **state)
{
    struct fx *fx = *state;
    /* as an older Sluice made it: no _sluice_tables */
    exec_ok(fx, "CREATE SCHEMA s; CREATE TABLE s.old (id BIGINT NOT NULL, "
                "amount DECIMAL(38,9), big VARCHAR, geo VARCHAR, r "
                "STRUCT(x BIGINT, y VARCHAR[])); INSERT INTO s.old VALUES (1, "
                "2.5, '12345678901234567890123456789012345678901', 'POINT(1 "
                "2)', {'x': 3, 'y': ['a']}); COMMENT ON COLUMN s.old.amount IS "
                "'EUR'");
    put(fx, "s/old.json",
        "[{\"name\": \"id\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"},"
        " {\"name\": \"amount\", \"type\": \"NUMERIC\", \"description\": "
        "\"EUR\"},"
        " {\"name\": \"big\", \"type\": \"BIGNUMERIC\"},"
        " {\"name\": \"geo\", \"type\": \"GEOGRAPHY\"},"
        " {\"name\": \"r\", \"type\": \"RECORD\", \"fields\": ["
        "   {\"name\": \"x\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"},"
        "   {\"name\": \"y\", \"type\": \"STRING\", \"mode\": "
        "\"REPEATED\"}]}]");
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(fx->dir, NULL, &reg, &err), SL_OK);
    struct sl_evolve ev;
    assert_int_equal(sl_evolve_plan(D, fx->wh, reg, 0, &ev, &err), SL_OK);
    assert_int_equal(ev.n_unchanged, 1);
    assert_false(ev.tables[0].st.recorded);
    assert_true(ev.tables[0].record_only);
    size_t n = 0;
    assert_int_equal(sl_evolve_apply(D, fx->wh, &ev, reg, &n, &err), SL_OK);
    sl_evolve_release(&ev);
    assert_int_equal(sl_evolve_plan(D, fx->wh, reg, 0, &ev, &err), SL_OK);
    assert_true(ev.tables[0].st.recorded);
    assert_true(ev.tables[0].st.same);
    sl_evolve_release(&ev);
    sl_registry_destroy(reg);
    assert_string_equal(one(fx, "SELECT count(*) FROM main._sluice_tables"),
                        "1");
    /* a column of a type no definition maps to: refused, with the reason */
    exec_ok(fx, "CREATE TABLE s.odd (id INTEGER)");
    put(fx, "s/odd.json", "[{\"name\": \"id\", \"type\": \"INT64\"}]");
    assert_int_equal(sl_registry_load(fx->dir, NULL, &reg, &err), SL_OK);
    assert_int_equal(sl_evolve_plan(D, fx->wh, reg, 0, &ev, &err), SL_OK);
    assert_int_equal(ev.n_refused, 1);
    const struct sl_evolve_table *et = &ev.tables[0];
    assert_string_equal(et->want->name, "odd");
    assert_non_null(strstr(et->st.foreign, "column id is DuckDB type INTEGER"));
    assert_true(et->plan.changes[0].blocked);
    sl_evolve_release(&ev);
    sl_registry_destroy(reg);
}

/* ---- the load path
 * ------------------------------------------------------------- */

static struct sl_table *def(const char *json)
{
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    assert_int_equal(
        sl_table_parse(json, strlen(json), "l.json", "main", "ld", &t, &err),
        SL_OK);
    return t;
}

static void test_update_in_tx(void **state)
{
    struct fx *fx = *state;
    put(fx, "ld.json",
        "[{\"name\": \"a\", \"type\": \"INT64\", \"mode\": "
        "\"REQUIRED\"}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO ld VALUES (1)");
    struct sl_table *t2 =
        def("[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": \"b\", "
            "\"type\": \"STRING\"}, {\"name\": \"r\", \"type\": \"RECORD\", "
            "\"fields\": [{\"name\": \"x\", \"type\": \"DATE\"}]}]");
    struct sl_error err = {0};
    size_t n = 99;
    /* additions alone are not enough: a is relaxed too */
    exec_ok(fx, "BEGIN TRANSACTION");
    assert_int_equal(D->schema_update_in_tx(
                         fx->wh, t2, SL_WH_ALLOW_FIELD_ADDITION, &n, &err),
                     -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "needs ALLOW_FIELD_RELAXATION"));
    exec_ok(fx, "ROLLBACK");
    /* both: applied inside the caller's transaction; a rollback undoes it */
    exec_ok(fx, "BEGIN TRANSACTION");
    memset(&err, 0, sizeof(err));
    assert_int_equal(D->schema_update_in_tx(fx->wh, t2,
                                            SL_WH_ALLOW_FIELD_ADDITION |
                                                SL_WH_ALLOW_FIELD_RELAXATION,
                                            &n, &err),
                     SL_OK);
    assert_int_equal(n, 3);
    exec_ok(fx, "INSERT INTO ld VALUES (NULL, 'b', {'x': DATE '2024-05-06'})");
    exec_ok(fx, "ROLLBACK");
    assert_string_equal(one(fx, "SELECT count(*) FROM duckdb_columns() WHERE "
                                "table_name = 'ld'"),
                        "1");
    exec_ok(fx, "BEGIN TRANSACTION");
    assert_int_equal(D->schema_update_in_tx(fx->wh, t2,
                                            SL_WH_ALLOW_FIELD_ADDITION |
                                                SL_WH_ALLOW_FIELD_RELAXATION,
                                            &n, &err),
                     SL_OK);
    exec_ok(fx, "INSERT INTO ld VALUES (NULL, 'b', {'x': DATE '2024-05-06'})");
    exec_ok(fx, "COMMIT");
    assert_string_equal(one(fx, "SELECT string_agg(coalesce(a::VARCHAR, '-') "
                                "|| coalesce(b, '-') || coalesce(r.x::VARCHAR, "
                                "'-'), ',' ORDER BY a) FROM ld"),
                        "1--,-b2024-05-06");
    /* recorded: a plan of the same definition has nothing to do */
    put(fx, "ld.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"b\", \"type\": \"STRING\"}, {\"name\": \"r\", "
        "\"type\": \"RECORD\", \"fields\": [{\"name\": \"x\", "
        "\"type\": \"DATE\"}]}]");
    struct sl_evolve ev;
    apply_ok(fx, 0, &ev);
    assert_int_equal(ev.n_unchanged, 1);
    /* equal already: nothing to do */
    exec_ok(fx, "BEGIN TRANSACTION");
    assert_int_equal(D->schema_update_in_tx(fx->wh, t2, 0, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    exec_ok(fx, "COMMIT");
    /* a type change is never a load's to make */
    struct sl_table *t3 =
        def("[{\"name\": \"a\", \"type\": \"NUMERIC\"}, {\"name\": \"b\", "
            "\"type\": \"STRING\"}, {\"name\": \"r\", \"type\": \"RECORD\", "
            "\"fields\": [{\"name\": \"x\", \"type\": \"DATE\"}]}]");
    exec_ok(fx, "BEGIN TRANSACTION");
    memset(&err, 0, sizeof(err));
    assert_int_equal(D->schema_update_in_tx(fx->wh, t3, 3, &n, &err),
                     -SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "widen column a"));
    exec_ok(fx, "ROLLBACK");
    sl_table_destroy(t2);
    sl_table_destroy(t3);
}

/* ---- out of memory ----------------------------------------------------------
 */

/* Fail the N-th allocation of a plan and apply, for N = 1, 2, ... until it
 * succeeds: each failure is -SL_ENOMEM with the warehouse as it was (leaks
 * are ASan's and valgrind's to find). */
static void test_oom_sweep(void **state)
{
    struct fx *fx = *state;
    put(fx, "o.json",
        "[{\"name\": \"a\", \"type\": \"INT64\"}, {\"name\": "
        "\"r\", \"type\": \"RECORD\", \"fields\": [{\"name\": "
        "\"x\", \"type\": \"INT64\"}]}]");
    apply_ok(fx, 0, NULL);
    exec_ok(fx, "INSERT INTO o VALUES (1, {'x': 2})");
    put(fx, "o.json",
        "{\"description\": \"d\", \"fields\": [{\"name\": "
        "\"a\", \"type\": \"NUMERIC\"}, {\"name\": \"r\", "
        "\"type\": \"RECORD\", \"fields\": [{\"name\": \"x\", "
        "\"type\": \"BIGNUMERIC\"}, {\"name\": \"y\", \"type\": "
        "\"DATE\"}]}, {\"name\": \"b\", \"type\": \"STRING\"}]}");
    put(fx, "n/new.json", "[{\"name\": \"k\", \"type\": \"STRING\"}]");
    char *before = snapshot_of(fx, "o");
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(fx->dir, NULL, &reg, &err), SL_OK);
    int rc = -SL_ENOMEM;
    uint64_t n;
    for (n = 1; n < 5000 && rc != SL_OK; n++) {
        struct sl_evolve ev;
        size_t applied = 0;
        memset(&err, 0, sizeof(err));
        sl_alloc_fail_after(n);
        rc = sl_evolve_plan(D, fx->wh, reg, 0, &ev, &err);
        if (rc == SL_OK) {
            rc = sl_evolve_apply(D, fx->wh, &ev, reg, &applied, &err);
        }
        sl_alloc_fail_after(0);
        sl_evolve_release(&ev);
        if (rc != SL_OK) {
            if (rc != -SL_ENOMEM) {
                fprintf(stderr, "allocation %llu: %d %s\n",
                        (unsigned long long)n, rc, err.msg);
            }
            assert_int_equal(rc, -SL_ENOMEM);
            char *now = snapshot_of(fx, "o");
            assert_string_equal(now, before);
            free(now);
        }
    }
    assert_int_equal(rc, SL_OK);
    printf("oom sweep: %llu allocation points\n", (unsigned long long)n);
    assert_true(n > 20);
    assert_string_equal(one(fx, "SELECT a || r.x || (r.y IS NULL) FROM o"),
                        "1.0000000002true");
    sl_registry_destroy(reg);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_keeps_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_widen_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_refused_then_allowed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_renames_keep_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_at_every_step, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_edited_during_apply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_without_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_in_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
