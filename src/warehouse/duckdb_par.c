/* duckdb_par.c - parallel loads into DuckDB: a table function,
 * sluice_rows(token), whose scan validates a file on DuckDB's own worker
 * threads (one cursor of a sl_psource per thread, rows written straight into
 * the output chunks), run as INSERT INTO table SELECT * FROM sluice_rows(token)
 * inside the load's open transaction. DuckDB then builds and compresses row
 * groups on every thread, as its own read_json does, and the commit stays one
 * atomic step. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "validate/psource.h"
#include "warehouse/duckdb_int.h"

#include <stdio.h>
#include <string.h>

/* Loads running in parallel, found by token: the function is callable from any
 * SQL on the database, so a token is checked against this list, never cast. */
static pthread_mutex_t active_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_load *active[16];
static uint64_t next_token = 1;

static bool enlist(struct sl_load *ld)
{
    bool ok = false;
    pthread_mutex_lock(&active_mu);
    for (size_t i = 0; i < SL_ARRAY_LEN(active) && !ok; i++) {
        if (active[i] == NULL) {
            active[i] = ld;
            ld->token = next_token++;
            ok = true;
        }
    }
    pthread_mutex_unlock(&active_mu);
    return ok;
}

static void delist(struct sl_load *ld)
{
    pthread_mutex_lock(&active_mu);
    for (size_t i = 0; i < SL_ARRAY_LEN(active); i++) {
        if (active[i] == ld) {
            active[i] = NULL;
        }
    }
    pthread_mutex_unlock(&active_mu);
}

static struct sl_load *lookup(uint64_t token)
{
    struct sl_load *ld = NULL;
    pthread_mutex_lock(&active_mu);
    for (size_t i = 0; i < SL_ARRAY_LEN(active) && ld == NULL; i++) {
        if (active[i] != NULL && active[i]->token == token) {
            ld = active[i];
        }
    }
    pthread_mutex_unlock(&active_mu);
    return ld;
}

/* Keep the first worker error; later ones are consequences. */
static void note_error(struct sl_load *ld, int rc, const struct sl_error *err)
{
    pthread_mutex_lock(&ld->par_mu);
    if (ld->par_rc == SL_OK) {
        ld->par_rc = rc;
        ld->par_err = *err;
    }
    pthread_mutex_unlock(&ld->par_mu);
}

/* ---- the table function
 * ------------------------------------------------------ */

struct worker {
    struct sl_load *ld;
    struct sl_pcursor *cur;
    duckdb_vector *vecs; /* the output chunk's column vectors, this call */
    idx_t rows, cap;
    uint64_t sum; /* sl_row_hash of this call's rows */
    bool done;
};

static void tf_bind(duckdb_bind_info info)
{
    duckdb_value v = duckdb_bind_get_parameter(info, 0);
    int64_t token = v != NULL ? duckdb_get_int64(v) : 0;
    duckdb_destroy_value(&v);
    struct sl_load *ld = lookup((uint64_t)token);
    if (ld == NULL) {
        duckdb_bind_set_error(info, "sluice_rows: no such load in progress");
        return;
    }
    for (size_t i = 0; i < ld->n_cols; i++) {
        duckdb_bind_add_result_column(info, ld->cols[i].f->name, ld->types[i]);
    }
    duckdb_bind_set_bind_data(info, ld, NULL);
}

static void tf_init(duckdb_init_info info)
{
    struct sl_load *ld = duckdb_init_get_bind_data(info);
    duckdb_init_set_max_threads(info, ld->par_threads);
}

static void worker_free(void *p)
{
    struct worker *w = p;
    sl_pcursor_close(w->cur);
    sl__free(w->vecs);
    sl__free(w);
}

static void tf_local_init(duckdb_init_info info)
{
    struct sl_load *ld = duckdb_init_get_bind_data(info);
    struct sl_error err = {0};
    struct worker *w = sl__calloc(1, sizeof(*w));
    if (w != NULL) {
        w->vecs = sl__calloc(ld->n_cols ? ld->n_cols : 1, sizeof(*w->vecs));
    }
    int rc = w != NULL && w->vecs != NULL
                 ? sl_pcursor_open(ld->src, &w->cur, &err)
                 : SL_ERR(&err, -SL_ENOMEM, "out of memory");
    if (rc != SL_OK) {
        note_error(ld, rc, &err);
        if (w != NULL) {
            sl__free(w->vecs);
        }
        sl__free(w);
        duckdb_init_set_error(info, err.msg);
        return;
    }
    w->ld = ld;
    w->cap = duckdb_vector_size();
    duckdb_init_set_init_data(info, w, worker_free);
}

/* The row sink: one validated row into the output chunk; pause when it is full.
 */
static int put_row(void *ud, const struct sl_val *cols, size_t n,
                   struct sl_error *err)
{
    struct worker *w = ud;
    for (size_t i = 0; i < n; i++) {
        int rc =
            sl__duckdb_put(&w->ld->cols[i], w->vecs[i], w->rows, &cols[i], err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    w->sum += sl_row_hash(cols, n);
    return ++w->rows == w->cap ? SL_ROW_PAUSE : SL_OK;
}

static void tf_scan(duckdb_function_info info, duckdb_data_chunk output)
{
    struct worker *w = duckdb_function_get_local_init_data(info);
    for (size_t i = 0; i < w->ld->n_cols; i++) {
        w->vecs[i] = duckdb_data_chunk_get_vector(output, i);
    }
    w->rows = 0;
    w->sum = 0;
    if (!w->done) {
        struct sl_error err = {0};
        struct sl_row_sink sink = {put_row, w};
        int rc = sl_pcursor_next(w->cur, &sink, &w->done, &err);
        if (rc != SL_OK) {
            note_error(w->ld, rc, &err);
            w->done = true;
            duckdb_function_set_error(info, err.msg);
            return;
        }
    }
    __atomic_fetch_add(&w->ld->par_rows, (uint64_t)w->rows, __ATOMIC_RELAXED);
    __atomic_fetch_add(&w->ld->par_sum, w->sum, __ATOMIC_RELAXED);
    duckdb_data_chunk_set_size(output, w->rows);
}

void sl__duckdb_par_register(struct sl_wh *wh)
{
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_logical_type big = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    duckdb_table_function_set_name(tf, "sluice_rows");
    duckdb_table_function_add_parameter(tf, big);
    duckdb_table_function_set_bind(tf, tf_bind);
    duckdb_table_function_set_init(tf, tf_init);
    duckdb_table_function_set_local_init(tf, tf_local_init);
    duckdb_table_function_set_function(tf, tf_scan);
    /* With a shared database instance it may exist already: that one serves. */
    (void)duckdb_register_table_function(wh->con, tf);
    duckdb_destroy_logical_type(&big);
    duckdb_destroy_table_function(&tf);
}

/* ---- the load
 * ------------------------------------------------------------------- */

int sl__duckdb_load_parallel(struct sl_load *ld, struct sl_psource *src,
                             struct sl_error *err)
{
    struct sl_wh *wh = ld->wh;
    if (ld->broken) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: load into %s already failed", ld->table);
    }
    /* The thread count and preserve_insertion_order = false (without which
     * DuckDB would insert on one thread) were set when the instance was
     * opened: both are global, never changed per load. Rows the appender may
     * hold go in at its close, as always. */
    struct sl_buf sql;
    sl__buf_init(&sql);
    if (!enlist(ld)) {
        ld->broken = true;
        return SL_ERR(err, -SL_EWAREHOUSE, "duckdb: too many parallel loads");
    }
    pthread_mutex_init(&ld->par_mu, NULL);
    ld->src = src;
    ld->par_threads = 64; /* DuckDB caps it at its own thread count */
    ld->par_rc = SL_OK;
    int rc = sl__buf_printf(&sql, "INSERT INTO ");
    if (rc == SL_OK) {
        rc = sl__duckdb_qualified(ld->wh, &sql, ld->t->dataset, ld->t->name);
    }
    if (rc == SL_OK) {
        rc = sl__buf_printf(&sql, " SELECT * FROM sluice_rows(%llu)",
                            (unsigned long long)ld->token);
    }
    if (rc == SL_OK) {
        duckdb_result res;
        if (duckdb_query(wh->con, sql.data, &res) == DuckDBError) {
            /* a worker's own error says more than DuckDB's copy of its text */
            pthread_mutex_lock(&ld->par_mu);
            if (ld->par_rc != SL_OK) {
                rc = ld->par_rc;
                *err = ld->par_err;
            } else {
                rc = sl__duckdb_fail(err, (int)duckdb_result_error_type(&res),
                                     ld->table, duckdb_result_error(&res));
            }
            pthread_mutex_unlock(&ld->par_mu);
        }
        duckdb_destroy_result(&res);
    } else {
        rc = sl__duckdb_nomem(err);
    }
    delist(ld);
    ld->src = NULL;
    pthread_mutex_destroy(&ld->par_mu);
    sl__buf_release(&sql);
    if (rc != SL_OK) {
        ld->broken = true;
    }
    return rc;
}
