/* duckdb_evolve.c - schema changes on DuckDB: the plans of a whole registry
 * in one transaction (CREATE TABLE, ADD/DROP/RENAME COLUMN down to struct
 * members, ALTER TYPE with a conversion expression, NOT NULL, comments), the
 * records of applied definitions (_sluice_tables) and their history
 * (_sluice_schema_history); and the load path's additions and relaxations
 * inside a load's own transaction. The schema_apply and schema_update_in_tx
 * ops. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "schema/plan.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/evolve.h"
#include "warehouse/warehouse_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The test hook (docs/EVOLUTION.md): SLUICE_FAULT_APPLY_STEP=N makes the
 * N-th statement of an apply fail as a warehouse error would, "commit" the
 * commit; deterministic, for the all-or-nothing tests. */
static void fault_init(struct ddl *a)
{
    const char *f = getenv("SLUICE_FAULT_APPLY_STEP");
    if (f != NULL && strcmp(f, "commit") == 0) {
        a->fail_commit = true;
    } else if (f != NULL) {
        a->fail_at = strtol(f, NULL, 10);
    }
}

/* Count a step; the injected fault when it is the one to fail. */
static int step(struct ddl *a, const char *what)
{
    if (++a->step == a->fail_at) {
        return SL_ERR(a->err, -SL_EWAREHOUSE,
                      "duckdb: injected fault at step %ld (%.200s)", a->step,
                      what);
    }
    return SL_OK;
}

int sl__duckdb_ddl_exec(struct ddl *a, const char *sql)
{
    const char *s = sql != NULL ? sql : a->sql.data;
    int rc = step(a, s);
    return rc == SL_OK ? sl__duckdb_exec(a->wh, s, a->err) : rc;
}

static int ax(struct ddl *a, const char *sql)
{
    return sl__duckdb_ddl_exec(a, sql);
}

static int oom(struct ddl *a)
{
    return sl__duckdb_nomem(a->err);
}

/* ---- records ------------------------------------------------------------- */

static const char tables_ddl[] =
    "CREATE TABLE IF NOT EXISTS main._sluice_tables (table_name VARCHAR, "
    "definition VARCHAR, hash VARCHAR, applied_at TIMESTAMPTZ)";
static const char history_ddl[] =
    "CREATE TABLE IF NOT EXISTS main._sluice_schema_history (applied_at "
    "TIMESTAMPTZ, table_name VARCHAR, change VARCHAR, path VARCHAR, detail "
    "VARCHAR, old_definition VARCHAR, new_definition VARCHAR)";
/* Every field of every recorded definition with its description: DuckDB
 * column comments cost ~0.5 ms a statement, so descriptions live in the
 * records (nested ones too) and this view shows them (docs/TYPES.md). */
static const char columns_view[] =
    "CREATE VIEW IF NOT EXISTS main._sluice_columns AS WITH RECURSIVE "
    "f(table_name, column_path, field) AS (SELECT table_name, NULL::VARCHAR, "
    "unnest(json_extract(definition, '$.fields[*]')) FROM "
    "main._sluice_tables UNION ALL SELECT table_name, coalesce(column_path "
    "|| '.', '') || (field->>'name'), unnest(json_extract(field, "
    "'$.fields[*]')) FROM f WHERE json_exists(field, '$.fields')) SELECT "
    "split_part(table_name, '.', 1) AS schema_name, split_part(table_name, "
    "'.', 2) AS table_name, coalesce(column_path || '.', '') || "
    "(field->>'name') AS column_path, field->>'type' AS type, field->>'mode' "
    "AS mode, field->>'description' AS description FROM f";

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* s in ASCII lower case (caller frees); NULL on ENOMEM. */
static char *lower_dup(const char *s)
{
    char *d = sl__strdup(s);
    for (char *p = d; p != NULL && *p != '\0'; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    return d;
}

static void recorder_release(struct ddl *a)
{
    for (size_t i = 0; i < a->n_recs; i++) {
        sl__free(a->recs[i].name);
        sl__free(a->recs[i].json);
        sl__free(a->recs[i].old);
    }
    sl__free(a->recs);
    for (size_t i = 0; i < a->n_recorded; i++) {
        sl__free(a->recorded[i]);
    }
    sl__free(a->recorded);
    for (size_t i = 0; i < a->n_schemas; i++) {
        sl__free(a->schemas[i]);
    }
    sl__free(a->schemas);
    sl__buf_release(&a->sql);
    a->recs = NULL;
    a->recorded = a->schemas = NULL;
    a->n_recs = a->n_recorded = a->n_schemas = 0;
}

/* The lower-cased names that have a record, sorted, into a->recorded. */
static int read_recorded(struct ddl *a)
{
    duckdb_result res;
    if (duckdb_query(a->wh->con,
                     "SELECT lower(table_name) FROM main._sluice_tables",
                     &res) == DuckDBError) {
        int rc = sl__duckdb_fail(a->err, 0, "reading _sluice_tables",
                                 duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    int rc = SL_OK;
    size_t cap = 0;
    duckdb_data_chunk ch;
    while (rc == SL_OK && (ch = duckdb_fetch_chunk(res)) != NULL) {
        duckdb_string_t *s =
            duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0));
        idx_t rows = duckdb_data_chunk_get_size(ch);
        for (idx_t r = 0; rc == SL_OK && r < rows; r++) {
            if (a->n_recorded == cap) {
                cap = cap ? 2 * cap : 64;
                char **g = sl__realloc(a->recorded, cap * sizeof(*g));
                if (g == NULL) {
                    rc = oom(a);
                    break;
                }
                a->recorded = g;
            }
            char *d = sl__strndup(duckdb_string_t_data(&s[r]),
                                  duckdb_string_t_length(s[r]));
            if (d == NULL) {
                rc = oom(a);
                break;
            }
            a->recorded[a->n_recorded++] = d;
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    if (rc == SL_OK && a->n_recorded > 1) {
        qsort(a->recorded, a->n_recorded, sizeof(char *), cmp_str);
    }
    return rc;
}

/* Create the record tables (and the view) if absent and learn which tables
 * already have a record. */
static int recorder_init(struct ddl *a)
{
    int rc = ax(a, tables_ddl);
    rc = rc == SL_OK ? ax(a, history_ddl) : rc;
    if (rc == SL_OK && a->wh->has_json) {
        rc = ax(a, columns_view);
    }
    return rc == SL_OK ? read_recorded(a) : rc;
}

/* Record t as applied by plan p (NULL: created by ensure_table): kept in
 * a->recs and written by write_records. */
static int record(struct ddl *a, const struct sl_table *t,
                  const struct sl_plan *p)
{
    struct sl_buf nj, oj;
    sl__buf_init(&nj);
    sl__buf_init(&oj);
    int rc = sl_table_write_json(t, &nj);
    if (rc == SL_OK && p != NULL && p->have != NULL) {
        rc = sl_table_write_json(p->have, &oj);
    }
    struct pending *g =
        rc == SL_OK ? sl__realloc(a->recs, (a->n_recs + 1) * sizeof(*g)) : NULL;
    if (g == NULL) {
        sl__buf_release(&nj);
        sl__buf_release(&oj);
        return oom(a);
    }
    a->recs = g;
    struct pending *r = &g[a->n_recs++];
    memset(r, 0, sizeof(*r));
    sl_def_hash(nj.data, nj.len, r->hash);
    r->json = nj.data; /* the buffers' texts are sl__malloc strings */
    r->old = oj.data;
    r->plan = p;
    size_t n = strlen(t->dataset) + strlen(t->name) + 2;
    if ((r->name = sl__malloc(n)) == NULL) {
        return oom(a);
    }
    snprintf(r->name, n, "%s.%s", t->dataset, t->name);
    return SL_OK;
}

/* Rows for one table through the appender: a chunk of VARCHAR columns and
 * one TIMESTAMPTZ (at ts_col), filled row by row. */
struct rowbuf {
    duckdb_appender app;
    duckdb_data_chunk ch;
    idx_t n, cap;
    size_t ncols;
    size_t ts_col;
};

static int rows_open(struct ddl *a, struct rowbuf *rb, const char *table,
                     size_t ts_col)
{
    memset(rb, 0, sizeof(*rb));
    rb->ts_col = ts_col;
    if (duckdb_appender_create_ext(a->wh->con, NULL, "main", table, &rb->app) ==
        DuckDBError) {
        return sl__duckdb_fail(a->err, 0, table, "cannot append");
    }
    rb->ncols = (size_t)duckdb_appender_column_count(rb->app);
    duckdb_logical_type types[8];
    for (size_t i = 0; i < rb->ncols && i < 8; i++) {
        types[i] = duckdb_appender_column_type(rb->app, i);
    }
    rb->ch = duckdb_create_data_chunk(types, rb->ncols);
    for (size_t i = 0; i < rb->ncols && i < 8; i++) {
        duckdb_destroy_logical_type(&types[i]);
    }
    rb->cap = duckdb_vector_size();
    if (rb->ch == NULL) {
        duckdb_appender_destroy(&rb->app);
        return oom(a);
    }
    return SL_OK;
}

static int rows_flush(struct ddl *a, struct rowbuf *rb)
{
    if (rb->n == 0) {
        return SL_OK;
    }
    duckdb_data_chunk_set_size(rb->ch, rb->n);
    int rc = step(a, "recording definitions");
    if (rc == SL_OK &&
        duckdb_append_data_chunk(rb->app, rb->ch) == DuckDBError) {
        duckdb_error_data e = duckdb_appender_error_data(rb->app);
        rc = sl__duckdb_fail(a->err, 0, "recording definitions",
                             duckdb_error_data_message(e));
        duckdb_destroy_error_data(&e);
    }
    duckdb_data_chunk_reset(rb->ch);
    rb->n = 0;
    return rc;
}

/* Append one row: vals[] for the VARCHAR columns in order (NULL = SQL NULL),
 * ts (microseconds since the epoch) for the timestamp column. */
static int rows_add(struct ddl *a, struct rowbuf *rb, const char *const *vals,
                    int64_t ts)
{
    for (size_t c = 0, k = 0; c < rb->ncols; c++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(rb->ch, c);
        if (c == rb->ts_col) {
            ((int64_t *)duckdb_vector_get_data(v))[rb->n] = ts;
            continue;
        }
        const char *s = vals[k++];
        if (s == NULL) {
            duckdb_vector_ensure_validity_writable(v);
            duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v),
                                            rb->n);
        } else {
            duckdb_vector_assign_string_element_len(v, rb->n, s, strlen(s));
        }
    }
    return ++rb->n == rb->cap ? rows_flush(a, rb) : SL_OK;
}

static int rows_close(struct ddl *a, struct rowbuf *rb, int rc)
{
    if (rc == SL_OK) {
        rc = rows_flush(a, rb);
    }
    if (rb->app != NULL) {
        if (rc == SL_OK && duckdb_appender_close(rb->app) == DuckDBError) {
            duckdb_error_data e = duckdb_appender_error_data(rb->app);
            rc = sl__duckdb_fail(a->err, 0, "recording definitions",
                                 duckdb_error_data_message(e));
            duckdb_destroy_error_data(&e);
        }
        duckdb_appender_destroy(&rb->app);
    }
    if (rb->ch != NULL) {
        duckdb_destroy_data_chunk(&rb->ch);
    }
    return rc;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Drop the records being replaced, then append the new ones and their
 * history: two appenders, whatever the number of tables. */
static int write_records(struct ddl *a)
{
    int rc = SL_OK;
    duckdb_prepared_statement del = NULL;
    for (size_t i = 0; rc == SL_OK && i < a->n_recs; i++) {
        char *key = lower_dup(a->recs[i].name);
        if (key == NULL) {
            rc = oom(a);
            break;
        }
        bool had =
            a->n_recorded > 0 && bsearch(&key, a->recorded, a->n_recorded,
                                         sizeof(char *), cmp_str) != NULL;
        sl__free(key);
        if (!had) {
            continue;
        }
        if (del == NULL) {
            rc = sl__duckdb_prepare(a->wh,
                                    "DELETE FROM main._sluice_tables WHERE "
                                    "lower(table_name) = lower(?)",
                                    &del, a->err);
        }
        duckdb_result res;
        if (rc == SL_OK &&
            (rc = step(a, "DELETE FROM _sluice_tables")) == SL_OK) {
            if (duckdb_bind_varchar(del, 1, a->recs[i].name) == DuckDBError) {
                rc = sl__duckdb_fail(a->err, 0, "bind",
                                     duckdb_prepare_error(del));
            } else if ((rc = sl__duckdb_run_prepared(del, "replacing a record",
                                                     &res, a->err)) == SL_OK) {
                duckdb_destroy_result(&res);
            }
        }
    }
    if (del != NULL) {
        duckdb_destroy_prepare(&del);
    }
    int64_t ts = now_us();
    struct rowbuf rb;
    if (rc == SL_OK && (rc = rows_open(a, &rb, "_sluice_tables", 3)) == SL_OK) {
        for (size_t i = 0; rc == SL_OK && i < a->n_recs; i++) {
            const struct pending *r = &a->recs[i];
            const char *v[] = {r->name, r->json, r->hash};
            rc = rows_add(a, &rb, v, ts);
        }
        rc = rows_close(a, &rb, rc);
    }
    if (rc == SL_OK &&
        (rc = rows_open(a, &rb, "_sluice_schema_history", 0)) == SL_OK) {
        for (size_t i = 0; rc == SL_OK && i < a->n_recs; i++) {
            const struct pending *r = &a->recs[i];
            const struct sl_plan *p = r->plan;
            if (p == NULL) {
                const char *v[] = {r->name, "create",
                                   "",      "create table (by a load)",
                                   NULL,    r->json};
                rc = rows_add(a, &rb, v, ts);
            }
            for (size_t k = 0; rc == SL_OK && p != NULL && k < p->n_changes;
                 k++) {
                const struct sl_change *c = &p->changes[k];
                const char *v[] = {r->name, sl_change_kind_name(c->kind),
                                   c->path, c->what,
                                   r->old,  r->json};
                rc = rows_add(a, &rb, v, ts);
            }
        }
        rc = rows_close(a, &rb, rc);
    }
    return rc;
}

int sl__duckdb_record(struct sl_wh *wh, const struct sl_table *t,
                      const struct sl_plan *p, struct sl_error *err)
{
    struct ddl a = {.wh = wh, .err = err};
    sl__buf_init(&a.sql);
    int rc = recorder_init(&a);
    rc = rc == SL_OK ? record(&a, t, p) : rc;
    rc = rc == SL_OK ? write_records(&a) : rc;
    recorder_release(&a);
    return rc;
}

/* ---- the ops
 * ------------------------------------------------------------------- */

/* Refuse, before anything runs, a plan holding what opts do not allow. */
static int check_plan(const struct sl_plan *p, unsigned flags,
                      struct sl_error *err)
{
    for (size_t i = 0; i < p->n_changes; i++) {
        const struct sl_change *c = &p->changes[i];
        if (c->blocked || (!c->safe && !(flags & SL_WH_ALLOW_UNSAFE))) {
            int rc = SL_ERR(err, -SL_ESCHEMA, "%s.%s: %s: %s; %s",
                            p->want->dataset, p->want->name, c->what,
                            c->reason != NULL ? c->reason : "unsafe",
                            c->advice != NULL ? c->advice : "");
            if (err != NULL) {
                snprintf(err->column, sizeof(err->column), "%s", c->path);
            }
            return rc;
        }
    }
    return SL_OK;
}

static int apply_one(struct ddl *a, const struct sl_plan *p)
{
    int rc = SL_OK;
    if (p->have == NULL) {
        rc = sl__duckdb_ddl_create(a, p->want);
    } else if (p->n_changes > 0) {
        rc = sl__duckdb_ddl_change(a, p);
    }
    rc = rc == SL_OK ? record(a, p->want, p) : rc;
    if (rc != SL_OK) {
        sl__error_prefix(a->err, "%s.%s: ", p->want->dataset, p->want->name);
    }
    return rc;
}

int sl__duckdb_schema_apply(struct sl_wh *wh,
                            const struct sl_plan *const *plans, size_t n,
                            const struct sl_wh_apply_opts *opts,
                            struct sl_error *err)
{
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: schema_apply during a load");
    }
    /* the audit tables too, so that a later load that refuses its input
     * changes nothing in the file */
    int arc = sl__duckdb_audit_ready(wh, err);
    if (arc != SL_OK) {
        return arc;
    }
    unsigned flags = opts != NULL ? opts->flags : 0;
    for (size_t i = 0; i < n; i++) {
        int rc = check_plan(plans[i], flags, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    struct ddl a = {.wh = wh, .err = err};
    sl__buf_init(&a.sql);
    fault_init(&a);
    int rc = sl__duckdb_exec(wh, "BEGIN TRANSACTION", err);
    if (rc != SL_OK) {
        recorder_release(&a);
        return rc;
    }
    rc = recorder_init(&a);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = apply_one(&a, plans[i]);
    }
    rc = rc == SL_OK ? write_records(&a) : rc;
    if (rc == SL_OK && opts != NULL && opts->before_commit != NULL) {
        rc = opts->before_commit(opts->ud, err);
    }
    if (rc == SL_OK && a.fail_commit) {
        rc = SL_ERR(err, -SL_EWAREHOUSE, "duckdb: injected fault at commit");
    }
    recorder_release(&a);
    if (rc == SL_OK) {
        rc = sl__duckdb_exec(wh, "COMMIT", err);
    }
    if (rc != SL_OK) {
        sl__duckdb_rollback(wh);
    }
    return rc;
}

/* May the load path make change c with these schema update options? */
static bool load_allows(const struct sl_change *c, unsigned allow)
{
    switch (c->kind) {
    case SL_CH_ADD:
        return (allow & SL_WH_ALLOW_FIELD_ADDITION) != 0;
    case SL_CH_RELAX:
        return (allow & SL_WH_ALLOW_FIELD_RELAXATION) != 0;
    case SL_CH_DESCRIPTION:
    case SL_CH_OPTION:
        return c->path[0] != '\0' || c->from != NULL; /* field metadata */
    default:
        return false;
    }
}

int sl__duckdb_schema_update_in_tx(struct sl_wh *wh, const struct sl_table *t,
                                   unsigned allow, size_t *out_applied,
                                   struct sl_error *err)
{
    struct catalog cat;
    struct sl_wh_table_state st = {0};
    struct sl_plan p = {0};
    struct ddl a = {.wh = wh, .err = err};
    sl__buf_init(&a.sql);
    fault_init(&a);
    *out_applied = 0;
    int rc = sl__duckdb_catalog_read(wh, t->dataset, t->name, &cat, err);
    rc = rc == SL_OK ? sl__duckdb_describe(wh, &cat, t, &st, err) : rc;
    if (rc == SL_OK && (!st.exists || st.drift != NULL || st.foreign != NULL)) {
        rc = SL_ERR(err, -SL_ESCHEMA, "%s.%s: %s", t->dataset, t->name,
                    !st.exists         ? "no such table"
                    : st.drift != NULL ? st.drift
                                       : st.foreign);
    }
    if (rc == SL_OK) {
        rc = sl_plan_diff(st.same ? t : st.have, t, &p, err);
    }
    for (size_t i = 0; rc == SL_OK && i < p.n_changes; i++) {
        const struct sl_change *c = &p.changes[i];
        if (!load_allows(c, allow)) {
            rc = SL_ERR(err, -SL_ESCHEMA,
                        "%s.%s: %s is not allowed by the schema update "
                        "options%s",
                        t->dataset, t->name, c->what,
                        c->kind == SL_CH_ADD ? " (needs ALLOW_FIELD_ADDITION)"
                        : c->kind == SL_CH_RELAX
                            ? " (needs ALLOW_FIELD_RELAXATION)"
                            : ": run `sluice schema apply`");
        }
    }
    if (rc == SL_OK && (p.n_changes > 0 || !st.recorded)) {
        rc = recorder_init(&a);
        rc =
            rc == SL_OK && p.n_changes > 0 ? sl__duckdb_ddl_change(&a, &p) : rc;
        rc = rc == SL_OK ? record(&a, t, &p) : rc;
        rc = rc == SL_OK ? write_records(&a) : rc;
    }
    if (rc == SL_OK) {
        *out_applied = p.n_changes;
    }
    recorder_release(&a);
    sl_plan_release(&p);
    sl_wh_table_state_release(&st);
    sl__duckdb_catalog_release(&cat);
    return rc;
}
