/* duckdb_audit.c - the audit trail in a DuckDB warehouse: _sluice_loads (one
 * row per committed batch, batch id unique) and _sluice_files (one row per
 * file of it), written in the batch's own transaction; "was this batch
 * committed?", "was this content loaded?" and "what was loaded from this path
 * before?". Migrates the one-table layout of earlier versions. warehouse
 * stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/duckdb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char loads_ddl[] =
    "CREATE TABLE IF NOT EXISTS main._sluice_loads ("
    "batch_id VARCHAR PRIMARY KEY, table_name VARCHAR NOT NULL, "
    "origin VARCHAR, n_files BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, "
    "bytes BIGINT, checksum UBIGINT, first_seen TIMESTAMPTZ, "
    "loaded_at TIMESTAMPTZ)";

static const char files_ddl[] =
    "CREATE TABLE IF NOT EXISTS main._sluice_files ("
    "batch_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL, "
    "file_path VARCHAR, fingerprint VARCHAR NOT NULL, file_size BIGINT, "
    "rows_loaded BIGINT, rows_rejected BIGINT, outcome VARCHAR NOT NULL, "
    "first_seen TIMESTAMPTZ, loaded_at TIMESTAMPTZ)";

/* Earlier versions kept one row per loaded file in _sluice_loads (load_id,
 * table_name, file_path, file_size, fingerprint, rows_loaded, rows_rejected,
 * started, finished): each becomes a batch of one file. */
static const char *const migrate_v1[] = {
    "ALTER TABLE main._sluice_loads RENAME TO _sluice_loads_v1",
    loads_ddl,
    files_ddl,
    "INSERT INTO main._sluice_loads SELECT load_id, table_name, 'load', 1, "
    "rows_loaded, rows_rejected, file_size, NULL, started, finished "
    "FROM main._sluice_loads_v1",
    "INSERT INTO main._sluice_files SELECT load_id, table_name, file_path, "
    "coalesce(fingerprint, ''), file_size, rows_loaded, rows_rejected, "
    "'loaded', started, finished FROM main._sluice_loads_v1",
    "DROP TABLE main._sluice_loads_v1",
};

int sl__duckdb_fail_result(struct sl_error *err, duckdb_result *res,
                           const char *what)
{
    duckdb_error_type t = duckdb_result_error_type(res);
    const char *msg = duckdb_result_error(res);
    if (msg == NULL) {
        msg = "unknown error";
    }
    int code = -SL_EWAREHOUSE;
    if (t == DUCKDB_ERROR_TRANSACTION) {
        code = -SL_EBUSY; /* a write-write conflict: retrying is right */
    } else if (t == DUCKDB_ERROR_OUT_OF_MEMORY) {
        code = -SL_ENOMEM;
    } else if (t == DUCKDB_ERROR_IO && strstr(msg, "No space left") != NULL) {
        /* DuckDB reports no errno: its I/O message is all there is */
        code = -SL_ENOSPC;
    }
    int rc = SL_ERR(err, code, "duckdb: %s: %s", what, msg);
    if (err != NULL && err->sub == 0) {
        err->sub = (int)t;
    }
    return rc;
}

/* One value of a one-row, one-column BIGINT result; destroys it. */
static int64_t first_count(duckdb_result *res)
{
    int64_t n = 0;
    duckdb_data_chunk ch = duckdb_fetch_chunk(*res);
    if (ch != NULL) {
        if (duckdb_data_chunk_get_size(ch) > 0) {
            n = ((int64_t *)duckdb_vector_get_data(
                duckdb_data_chunk_get_vector(ch, 0)))[0];
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(res);
    return n;
}

static int count_sql(struct sl_wh *wh, const char *sql, int64_t *out,
                     struct sl_error *err)
{
    duckdb_result res;
    if (duckdb_query(wh->con, sql, &res) == DuckDBError) {
        int rc = sl__duckdb_fail_result(err, &res, "reading the catalog");
        duckdb_destroy_result(&res);
        return rc;
    }
    *out = first_count(&res);
    return SL_OK;
}

static int audit_ready(struct sl_wh *wh, struct sl_error *err);

int sl__duckdb_audit_ready(struct sl_wh *wh, struct sl_error *err)
{
    if (wh->audit_ready || wh->read_only) {
        return SL_OK;
    }
    sl__duckdb_ddl_lock();
    int rc = audit_ready(wh, err);
    sl__duckdb_ddl_unlock();
    return rc;
}

static int audit_ready(struct sl_wh *wh, struct sl_error *err)
{
    int64_t v1 = 0;
    int rc = count_sql(wh,
                       "SELECT count(*) FROM duckdb_columns() WHERE "
                       "database_name = current_database() AND schema_name = "
                       "'main' AND table_name = '_sluice_loads' AND "
                       "column_name = 'load_id'",
                       &v1, err);
    if (rc != SL_OK) {
        return rc;
    }
    if ((rc = sl__duckdb_exec(wh, "BEGIN TRANSACTION", err)) != SL_OK) {
        return rc;
    }
    if (v1 > 0) {
        for (size_t i = 0; rc == SL_OK && i < SL_ARRAY_LEN(migrate_v1); i++) {
            rc = sl__duckdb_exec(wh, migrate_v1[i], err);
        }
    } else {
        rc = sl__duckdb_exec(wh, loads_ddl, err);
        if (rc == SL_OK) {
            rc = sl__duckdb_exec(wh, files_ddl, err);
        }
    }
    if (rc == SL_OK) {
        rc = sl__duckdb_exec(wh, "COMMIT", err);
    }
    if (rc != SL_OK) {
        sl__duckdb_rollback(wh);
        return rc;
    }
    wh->audit_ready = true;
    return SL_OK;
}

/* Does table `name` exist in schema main? */
static int main_table_exists(struct sl_wh *wh, const char *name, bool *out,
                             struct sl_error *err)
{
    duckdb_result res;
    int rc = sl__duckdb_query2(
        wh,
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ?",
        "main", name, "reading the catalog", &res, err);
    if (rc == SL_OK) {
        *out = first_count(&res) > 0;
    }
    return rc;
}

int sl__duckdb_batch_recorded(struct sl_wh *wh, const char *id, bool *out_yes,
                              struct sl_error *err)
{
    *out_yes = false;
    bool exists = true;
    int rc = SL_OK;
    if (wh->read_only || !wh->audit_ready) {
        rc = main_table_exists(wh, "_sluice_loads", &exists, err);
    }
    if (rc != SL_OK || !exists) {
        return rc;
    }
    duckdb_result res;
    rc = sl__duckdb_query2(wh,
                           "SELECT count(*) FROM main._sluice_loads WHERE "
                           "batch_id = ? AND ? IS NOT NULL",
                           id, id, "reading _sluice_loads", &res, err);
    if (rc == SL_OK) {
        *out_yes = first_count(&res) > 0;
    }
    return rc;
}

int sl__duckdb_batch_committed(struct sl_wh *wh, const char *id, bool *out_yes,
                               struct sl_error *err)
{
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: batch_committed during a load");
    }
    return sl__duckdb_batch_recorded(wh, id, out_yes, err);
}

int sl__duckdb_fp_loaded(struct sl_wh *wh, const char *table,
                         const char *fingerprint, bool *out_yes,
                         struct sl_error *err)
{
    duckdb_result res;
    int rc = sl__duckdb_query2(wh,
                               "SELECT count(*) FROM main._sluice_files WHERE "
                               "table_name = ? AND fingerprint = ? AND "
                               "outcome = 'loaded'",
                               table, fingerprint, "reading _sluice_files",
                               &res, err);
    if (rc == SL_OK) {
        *out_yes = first_count(&res) > 0;
    }
    return rc;
}

static void cell_copy(duckdb_data_chunk ch, idx_t col, idx_t row, char *out,
                      size_t size);

/* ---- list parameters: a batch's files bound in one statement ------------ */

struct vlist {
    duckdb_value *v; /* n values, owned */
    size_t n;
    bool oom;
};

static void vl_push(struct vlist *l, duckdb_value v)
{
    if (v == NULL) {
        l->oom = true;
        return;
    }
    l->v[l->n++] = v;
}

static void vl_free(struct vlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        duckdb_destroy_value(&l->v[i]);
    }
    sl__free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Bind the list of l's values (element type t) as parameter i; frees l. */
static bool bind_list(duckdb_prepared_statement st, idx_t i, struct vlist *l,
                      duckdb_type t)
{
    bool ok = !l->oom;
    if (ok) {
        duckdb_logical_type lt = duckdb_create_logical_type(t);
        duckdb_value list = duckdb_create_list_value(lt, l->v, l->n);
        ok = list != NULL && duckdb_bind_value(st, i, list) == DuckDBSuccess;
        if (list != NULL) {
            duckdb_destroy_value(&list);
        }
        duckdb_destroy_logical_type(&lt);
    }
    vl_free(l);
    return ok;
}

static bool vl_init(struct vlist *l, size_t n)
{
    l->n = 0;
    l->oom = false;
    l->v = sl__calloc(n ? n : 1, sizeof(*l->v));
    return l->v != NULL;
}

int sl__duckdb_fps_loaded(struct sl_wh *wh, const char *table,
                          const char *const *fps, size_t n, bool *out_yes,
                          struct sl_error *err)
{
    static const char sql[] =
        "SELECT DISTINCT fingerprint FROM main._sluice_files WHERE "
        "table_name = ? AND outcome = 'loaded' AND fingerprint IN (SELECT "
        "unnest(?::VARCHAR[]))";
    memset(out_yes, 0, n * sizeof(*out_yes));
    struct vlist l;
    if (!vl_init(&l, n)) {
        return sl__duckdb_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        vl_push(&l, duckdb_create_varchar(fps[i] ? fps[i] : ""));
    }
    duckdb_prepared_statement st = NULL;
    int rc = sl__duckdb_prepare(wh, sql, &st, err);
    if (rc != SL_OK) {
        vl_free(&l);
        return rc;
    }
    duckdb_result res;
    if (duckdb_bind_varchar(st, 1, table) == DuckDBError ||
        !bind_list(st, 2, &l, DUCKDB_TYPE_VARCHAR)) {
        rc = sl__duckdb_fail(err, 0, "bind", duckdb_prepare_error(st));
    } else {
        rc = sl__duckdb_run_prepared(st, "reading _sluice_files", &res, err);
    }
    duckdb_destroy_prepare(&st);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_data_chunk ch;
    while ((ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t rows = duckdb_data_chunk_get_size(ch);
        for (idx_t r = 0; r < rows; r++) {
            char fp[80];
            cell_copy(ch, 0, r, fp, sizeof(fp));
            for (size_t i = 0; i < n; i++) {
                out_yes[i] |= fps[i] != NULL && strcmp(fps[i], fp) == 0;
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return SL_OK;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int run_bound(duckdb_prepared_statement st, bool bad, const char *what,
                     struct sl_error *err)
{
    if (bad) {
        return sl__duckdb_fail(err, 0, "bind", duckdb_prepare_error(st));
    }
    duckdb_result res;
    int rc = sl__duckdb_run_prepared(st, what, &res, err);
    if (rc == SL_OK) {
        duckdb_destroy_result(&res);
    }
    return rc;
}

static bool bind_ts(duckdb_prepared_statement st, idx_t i, int64_t us)
{
    duckdb_timestamp ts = {us};
    return us == 0 ? duckdb_bind_null(st, i) == DuckDBError
                   : duckdb_bind_timestamp_tz(st, i, ts) == DuckDBError;
}

/* One statement for all of a batch's files: each column a bound list,
 * unnested side by side. */
static int record_files(struct sl_wh *wh, const struct sl_batch *b,
                        const char *table, int64_t now, struct sl_error *err)
{
    static const char sql[] =
        "INSERT INTO main._sluice_files SELECT ?, ?, unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[]), unnest(?::BIGINT[]), unnest(?::BIGINT[]), "
        "unnest(?::BIGINT[]), unnest(?::VARCHAR[]), "
        "unnest(?::TIMESTAMPTZ[]), ?";
    size_t n = b->n_files;
    struct vlist l[6];
    bool ok = true;
    for (int k = 0; k < 6; k++) {
        ok &= vl_init(&l[k], n);
    }
    for (size_t i = 0; ok && i < n; i++) {
        const struct sl_batch_file *f = &b->files[i];
        vl_push(&l[0], duckdb_create_varchar(f->path ? f->path : ""));
        vl_push(&l[1],
                duckdb_create_varchar(f->fingerprint ? f->fingerprint : ""));
        vl_push(&l[2], duckdb_create_int64((int64_t)f->size));
        vl_push(&l[3], duckdb_create_int64((int64_t)f->rows_loaded));
        vl_push(&l[4], duckdb_create_int64((int64_t)f->rows_rejected));
        vl_push(&l[5], duckdb_create_varchar(f->outcome == SL_FILE_DUPLICATE
                                                 ? "duplicate"
                                                 : "loaded"));
    }
    /* first_seen: a list of TIMESTAMPTZ values */
    struct vlist seen;
    ok &= vl_init(&seen, n);
    for (size_t i = 0; ok && i < n; i++) {
        duckdb_timestamp ts = {b->files[i].first_seen_us};
        vl_push(&seen, duckdb_create_timestamp_tz(ts));
    }
    duckdb_prepared_statement st = NULL;
    int rc = ok ? sl__duckdb_prepare(wh, sql, &st, err) : sl__duckdb_nomem(err);
    if (rc == SL_OK) {
        static const duckdb_type types[6] = {
            DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_BIGINT,
            DUCKDB_TYPE_BIGINT,  DUCKDB_TYPE_BIGINT,  DUCKDB_TYPE_VARCHAR};
        bool bad = duckdb_bind_varchar(st, 1, b->id_out) == DuckDBError ||
                   duckdb_bind_varchar(st, 2, table) == DuckDBError;
        for (int k = 0; k < 6; k++) {
            bad |= !bind_list(st, (idx_t)k + 3, &l[k], types[k]);
        }
        bad |= !bind_list(st, 9, &seen, DUCKDB_TYPE_TIMESTAMP_TZ);
        bad |= bind_ts(st, 10, now);
        rc = run_bound(st, bad, "recording files in _sluice_files", err);
    }
    for (int k = 0; k < 6; k++) {
        vl_free(&l[k]);
    }
    vl_free(&seen);
    duckdb_destroy_prepare(&st);
    return rc;
}

int sl__duckdb_record_batch(struct sl_wh *wh, const struct sl_batch *b,
                            const char *table, struct sl_error *err)
{
    int64_t now = wall_us();
    uint64_t rejected = 0, bytes = 0;
    for (size_t i = 0; i < b->n_files; i++) {
        rejected += b->files[i].rows_rejected;
        bytes += b->files[i].size;
    }
    int rc = record_files(wh, b, table, now, err);
    if (rc != SL_OK) {
        return rc;
    }
    static const char sql[] = "INSERT INTO main._sluice_loads VALUES (?, ?, ?, "
                              "?, ?, ?, ?, ?, ?, ?)";
    duckdb_prepared_statement st = NULL;
    rc = sl__duckdb_prepare(wh, sql, &st, err);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_value sum = duckdb_create_uint64(b->checksum);
    bool bad =
        sum == NULL || duckdb_bind_varchar(st, 1, b->id_out) == DuckDBError ||
        duckdb_bind_varchar(st, 2, table) == DuckDBError ||
        duckdb_bind_varchar(st, 3, b->origin ? b->origin : "load") ==
            DuckDBError ||
        duckdb_bind_int64(st, 4, (int64_t)b->n_files) == DuckDBError ||
        duckdb_bind_int64(st, 5, (int64_t)b->rows_loaded) == DuckDBError ||
        duckdb_bind_int64(st, 6, (int64_t)rejected) == DuckDBError ||
        duckdb_bind_int64(st, 7, (int64_t)bytes) == DuckDBError ||
        duckdb_bind_value(st, 8, sum) == DuckDBError ||
        bind_ts(st, 9, b->first_seen_us) || bind_ts(st, 10, now);
    if (sum != NULL) {
        duckdb_destroy_value(&sum);
    }
    rc = run_bound(st, bad, "recording the batch in _sluice_loads", err);
    duckdb_destroy_prepare(&st);
    return rc;
}

/* A VARCHAR cell into out (truncated to size), "" for NULL. */
static void cell_copy(duckdb_data_chunk ch, idx_t col, idx_t row, char *out,
                      size_t size)
{
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, col);
    uint64_t *valid = duckdb_vector_get_validity(v);
    out[0] = '\0';
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, row)) {
        return;
    }
    duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
    size_t n = duckdb_string_t_length(*s);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, duckdb_string_t_data(s), n);
    out[n] = '\0';
}

static int64_t cell_i64(duckdb_data_chunk ch, idx_t col, idx_t row)
{
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, col);
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, row)) {
        return 0;
    }
    return ((int64_t *)duckdb_vector_get_data(v))[row];
}

int sl__duckdb_file_history(struct sl_wh *wh, const char *table,
                            const char *path, uint64_t size,
                            struct sl_prior_load *out, size_t max,
                            size_t *out_n, struct sl_error *err)
{
    *out_n = 0;
    bool exists = false;
    int rc = main_table_exists(wh, "_sluice_files", &exists, err);
    if (rc != SL_OK || !exists || max == 0) {
        return rc;
    }
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT file_path, fingerprint, batch_id, file_size, "
             "rows_loaded, rows_rejected, epoch_us(loaded_at), "
             "(outcome = 'duplicate')::BIGINT FROM main._sluice_files "
             "WHERE table_name = ? AND (file_path = ? OR file_size = %llu) "
             "ORDER BY loaded_at DESC LIMIT %zu",
             (unsigned long long)size, max);
    duckdb_result res;
    rc = sl__duckdb_query2(wh, sql, table, path, "reading _sluice_files", &res,
                           err);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_data_chunk ch;
    while ((ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t rows = duckdb_data_chunk_get_size(ch);
        for (idx_t r = 0; r < rows && *out_n < max; r++) {
            struct sl_prior_load *p = &out[(*out_n)++];
            cell_copy(ch, 0, r, p->path, sizeof(p->path));
            cell_copy(ch, 1, r, p->fingerprint, sizeof(p->fingerprint));
            cell_copy(ch, 2, r, p->batch, sizeof(p->batch));
            p->size = (uint64_t)cell_i64(ch, 3, r);
            p->rows_loaded = (uint64_t)cell_i64(ch, 4, r);
            p->rows_rejected = (uint64_t)cell_i64(ch, 5, r);
            p->loaded_us = cell_i64(ch, 6, r);
            p->duplicate = cell_i64(ch, 7, r) != 0;
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return SL_OK;
}

/* For a batch recorded before: what was recorded (rows, checksum, each
 * file's outcome and rows, matched by fingerprint in order). */
int sl__duckdb_batch_info(struct sl_wh *wh, struct sl_batch *b,
                          struct sl_error *err)
{
    duckdb_result res;
    int rc = sl__duckdb_query2(
        wh,
        "SELECT rows_loaded, checksum::VARCHAR FROM main._sluice_loads WHERE "
        "batch_id = ? AND ? IS NOT NULL",
        b->id_out, b->id_out, "reading _sluice_loads", &res, err);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(res);
    if (ch != NULL && duckdb_data_chunk_get_size(ch) > 0) {
        char sum[32];
        b->rows_loaded = (uint64_t)cell_i64(ch, 0, 0);
        cell_copy(ch, 1, 0, sum, sizeof(sum));
        b->checksum = strtoull(sum, NULL, 10);
    }
    if (ch != NULL) {
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    rc = sl__duckdb_query2(
        wh,
        "SELECT fingerprint, (outcome = 'duplicate')::BIGINT, "
        "rows_loaded FROM main._sluice_files WHERE "
        "batch_id = ? AND ? IS NOT NULL",
        b->id_out, b->id_out, "reading _sluice_files", &res, err);
    if (rc != SL_OK) {
        return rc;
    }
    bool *seen = sl__calloc(b->n_files ? b->n_files : 1, sizeof(*seen));
    while (seen != NULL && (ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t rows = duckdb_data_chunk_get_size(ch);
        for (idx_t r = 0; r < rows; r++) {
            char fp[80];
            cell_copy(ch, 0, r, fp, sizeof(fp));
            for (size_t i = 0; i < b->n_files; i++) {
                struct sl_batch_file *f = &b->files[i];
                if (!seen[i] && f->fingerprint != NULL &&
                    strcmp(f->fingerprint, fp) == 0) {
                    seen[i] = true;
                    f->outcome =
                        cell_i64(ch, 1, r) ? SL_FILE_DUPLICATE : SL_FILE_LOADED;
                    f->rows_loaded = (uint64_t)cell_i64(ch, 2, r);
                    break;
                }
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    if (seen == NULL) {
        return sl__duckdb_nomem(err);
    }
    sl__free(seen);
    return SL_OK;
}
