/* duckdb_batch.c - one batch into DuckDB, idempotently: in one transaction,
 * skip it if its id is recorded, skip files whose content the table holds,
 * append every other file's rows (on DuckDB's threads when the source can be
 * split), record the batch and its files, commit. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/duckdb_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct run {
    struct sl_wh *wh;
    struct sl_batch *b;
    struct sl_load *ld;
    char table[600]; /* "dataset.table" */
};

static int sink_row(void *ud, const struct sl_val *cols, size_t n,
                    struct sl_error *err)
{
    return sl__duckdb_load_row(ud, cols, n, err);
}

/* WRITE_EMPTY: refuse a table that holds rows; WRITE_TRUNCATE: delete them
 * (inside the batch's transaction, so a failed load keeps them). */
static int dispositions(struct run *r, struct sl_error *err)
{
    const struct sl_table *t = r->b->t;
    if (!(r->b->flags & (SL_BATCH_EMPTY | SL_BATCH_TRUNCATE))) {
        return SL_OK;
    }
    struct sl_buf sql;
    sl__buf_init(&sql);
    bool empty = r->b->flags & SL_BATCH_EMPTY;
    int rc = sl__buf_printf(&sql, empty ? "SELECT count(*) FROM (SELECT 1 FROM "
                                        : "DELETE FROM ");
    rc = rc ? rc : sl__duckdb_qualified(r->wh, &sql, t->dataset, t->name);
    rc = rc ? rc : sl__buf_printf(&sql, empty ? " LIMIT 1)" : "");
    if (rc != SL_OK) {
        sl__buf_release(&sql);
        return sl__duckdb_nomem(err);
    }
    duckdb_result res;
    if (duckdb_query(r->wh->con, sql.data, &res) == DuckDBError) {
        rc = sl__duckdb_fail_result(err, &res, r->table);
    } else if (empty) {
        duckdb_data_chunk ch = duckdb_fetch_chunk(res);
        int64_t n = 0;
        if (ch != NULL) {
            n = ((int64_t *)duckdb_vector_get_data(
                duckdb_data_chunk_get_vector(ch, 0)))[0];
            duckdb_destroy_data_chunk(&ch);
        }
        if (n > 0) {
            rc = SL_ERR(err, -SL_ESCHEMA,
                        "table %s is not empty (--write_disposition "
                        "WRITE_EMPTY loads only into an empty table)",
                        r->table);
        }
    }
    duckdb_destroy_result(&res);
    sl__buf_release(&sql);
    return rc;
}

static const struct sl_batch_file *sort_base;

static int by_fp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    int c = strcmp(sort_base[i].fingerprint, sort_base[k].fingerprint);
    return c != 0 ? c : (i > k) - (i < k);
}

/* Mark files whose content the table already holds (unless forced), and
 * the later copies of content that appears twice in the batch: one query,
 * and a sort instead of comparing every pair. */
static int mark_duplicates(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    size_t n = b->n_files, k = 0;
    for (size_t i = 0; i < n; i++) {
        b->files[i].outcome = SL_FILE_LOADED;
        b->files[i].rows_loaded = 0;
    }
    if ((b->flags & SL_BATCH_FORCE) || n == 0) {
        return SL_OK;
    }
    size_t *ix = sl__calloc(n, sizeof(*ix));
    const char **fps = sl__calloc(n, sizeof(*fps));
    bool *yes = sl__calloc(n, sizeof(*yes));
    int rc = ix && fps && yes ? SL_OK : sl__duckdb_nomem(err);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        if (b->files[i].fingerprint != NULL) {
            ix[k] = i;
            fps[k++] = b->files[i].fingerprint;
        }
    }
    if (rc == SL_OK && k > 0) {
        rc = sl__duckdb_fps_loaded(r->wh, r->table, fps, k, yes, err);
    }
    for (size_t j = 0; rc == SL_OK && j < k; j++) {
        if (yes[j]) {
            b->files[ix[j]].outcome = SL_FILE_DUPLICATE;
        }
    }
    if (rc == SL_OK && k > 1) {
        /* files are not reentrant-sorted elsewhere: the comparator reads the
           batch through sort_base, set on this thread just before */
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&mu);
        sort_base = b->files;
        qsort(ix, k, sizeof(*ix), by_fp);
        pthread_mutex_unlock(&mu);
        for (size_t j = 1; j < k; j++) {
            if (strcmp(b->files[ix[j]].fingerprint,
                       b->files[ix[j - 1]].fingerprint) == 0) {
                b->files[ix[j]].outcome = SL_FILE_DUPLICATE;
            }
        }
    }
    sl__free(ix);
    sl__free(fps);
    sl__free(yes);
    return rc;
}

/* File i through DuckDB's threads when the source offers a split; *out_done
 * false when it did not (the caller feeds it on this thread). */
static int feed_parallel(struct run *r, size_t i, bool *out_done,
                         struct sl_error *err)
{
    const struct sl_batch_source *s = &r->b->src;
    *out_done = false;
    if (s->parallel == NULL) {
        return SL_OK;
    }
    struct sl_psource *ps = NULL;
    int rc = s->parallel(s->ud, i, &ps, err);
    if (rc != SL_OK || ps == NULL) {
        return rc;
    }
    *out_done = true;
    uint64_t rows0 = r->ld->par_rows;
    rc = sl__duckdb_load_parallel(r->ld, ps, err);
    int frc = s->finish(s->ud, i, ps, err);
    r->b->files[i].rows_loaded = r->ld->par_rows - rows0;
    return rc != SL_OK ? rc : frc;
}

static int feed_files(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    struct sl_row_sink rows = {sink_row, r->ld};
    for (size_t i = 0; i < b->n_files; i++) {
        struct sl_batch_file *f = &b->files[i];
        if (f->outcome == SL_FILE_DUPLICATE) {
            continue;
        }
        bool known = f->fingerprint != NULL, done = false;
        uint64_t rows0 = r->ld->n_rows;
        int rc = feed_parallel(r, i, &done, err);
        if (rc == SL_OK && !done) {
            rc = b->src.feed(b->src.ud, i, &rows, err);
            f->rows_loaded = r->ld->n_rows - rows0;
        }
        if (rc != SL_OK) {
            return rc;
        }
        if (!known && f->fingerprint != NULL && !(b->flags & SL_BATCH_FORCE)) {
            /* Only feeding told its content (stdin): if the table holds it,
             * this batch must not commit (its rows are in the appender). */
            bool dup = false;
            rc = sl__duckdb_fp_loaded(r->wh, r->table, f->fingerprint, &dup,
                                      err);
            if (rc != SL_OK) {
                return rc;
            }
            if (dup) {
                f->outcome = SL_FILE_DUPLICATE;
                f->rows_loaded = 0;
                return 1; /* roll back: nothing new to commit */
            }
        }
    }
    return SL_OK;
}

/* The batch's own statements after its rows (struct sl_batch.post_sql). */
static int post_sql(struct run *r, struct sl_error *err)
{
    for (size_t i = 0; i < r->b->n_post_sql; i++) {
        int rc = sl__duckdb_exec(r->wh, r->b->post_sql[i], err);
        if (rc != SL_OK) {
            sl__error_prefix(err, "batch step %zu of %zu: ", i + 1,
                             r->b->n_post_sql);
            return rc;
        }
    }
    return SL_OK;
}

/* The transaction's body; rc 1 = roll back quietly (nothing to commit). */
static int run_batch(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    bool yes = false;
    int rc = b->id != NULL ? sl__duckdb_batch_recorded(r->wh, b->id, &yes, err)
                           : SL_OK;
    if (rc == SL_OK && yes) {
        /* committed before (a retry after a crash): say what it holds */
        snprintf(b->id_out, sizeof(b->id_out), "%s", b->id);
        b->already = true;
        rc = sl__duckdb_batch_info(r->wh, b, err);
        return rc != SL_OK ? rc : 1;
    }
    if (rc != SL_OK) {
        return rc;
    }
    if (b->schema_update != 0) {
        size_t applied = 0;
        rc = sl__duckdb_schema_update_in_tx(
            r->wh, b->schema_table != NULL ? b->schema_table : b->t,
            b->schema_update, &applied, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if ((rc = dispositions(r, err)) != SL_OK) {
        return rc;
    }
    if ((rc = mark_duplicates(r, err)) != SL_OK) {
        return rc;
    }
    if ((rc = sl__duckdb_load_open(r->wh, b->t, &r->ld, err)) != SL_OK) {
        return rc;
    }
    if ((rc = feed_files(r, err)) != SL_OK) {
        return rc;
    }
    if ((rc = sl__duckdb_load_close(r->ld, err)) != SL_OK) {
        return rc;
    }
    if ((rc = post_sql(r, err)) != SL_OK) {
        return rc;
    }
    b->rows_loaded = r->ld->n_rows + r->ld->par_rows;
    b->checksum = r->ld->checksum + r->ld->par_sum;
    if (sl_batch_derive_id(b, r->table) != SL_OK) {
        return sl__duckdb_nomem(err);
    }
    if (b->id == NULL) {
        rc = sl__duckdb_batch_recorded(r->wh, b->id_out, &yes, err);
        if (rc != SL_OK || yes) {
            b->already = yes;
            return rc != SL_OK ? rc : 1;
        }
    }
    return sl__duckdb_record_batch(r->wh, b, r->table, err);
}

int sl__duckdb_load_batch(struct sl_wh *wh, struct sl_batch *b,
                          struct sl_error *err)
{
    b->already = false;
    b->rows_loaded = 0;
    b->checksum = 0;
    b->id_out[0] = '\0';
    if (wh->read_only) {
        return SL_ERR(err, -SL_EUSAGE, "duckdb: %s is open read-only",
                      wh->path);
    }
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: a load is already in progress");
    }
    struct run r = {.wh = wh, .b = b};
    if (b->audit_table != NULL) {
        snprintf(r.table, sizeof(r.table), "%s", b->audit_table);
    } else {
        snprintf(r.table, sizeof(r.table), "%s.%s", b->t->dataset, b->t->name);
    }
    int rc = sl__duckdb_audit_ready(wh, err);
    if (rc == SL_OK) {
        rc = sl__duckdb_exec(wh, "BEGIN TRANSACTION", err);
        if (rc != SL_OK) {
            return rc;
        }
        rc = run_batch(&r, err);
    } else {
        return rc;
    }
    sl__duckdb_load_free(r.ld); /* the appender goes before the commit */
    if (rc == SL_OK) {
        duckdb_result res;
        if (duckdb_query(wh->con, "COMMIT", &res) == DuckDBError) {
            rc = sl__duckdb_fail_result(err, &res, "COMMIT");
        }
        duckdb_destroy_result(&res);
        if (rc == SL_OK) {
            return SL_OK;
        }
        /* A commit that failed on the batch id: another handle committed it
         * first. That is the idempotence the id exists for. */
        sl__duckdb_rollback(wh);
        bool yes = false;
        struct sl_error e2 = {0};
        if (sl__duckdb_batch_recorded(wh, b->id_out, &yes, &e2) == SL_OK &&
            yes) {
            sl__error_clear(err);
            b->already = true;
            b->rows_loaded = 0;
            return SL_OK;
        }
        return rc;
    }
    sl__duckdb_rollback(wh);
    if (rc == 1) {
        if (!b->already) {
            b->rows_loaded = 0;
        }
        return SL_OK;
    }
    return rc;
}
