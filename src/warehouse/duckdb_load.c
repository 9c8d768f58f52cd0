/* duckdb_load.c - rows into DuckDB: an appender on the table inside the
 * batch's open transaction, validated rows written straight into its data
 * chunks (duckdb_batch.c runs the transaction). warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/warehouse_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int appender_fail(struct sl_load *ld, const char *what,
                         struct sl_error *err)
{
    duckdb_error_data ed = duckdb_appender_error_data(ld->app);
    int rc = sl__duckdb_fail(
        err, ed != NULL ? (int)duckdb_error_data_error_type(ed) : 0, what,
        ed != NULL ? duckdb_error_data_message(ed) : NULL);
    if (ed != NULL) {
        duckdb_destroy_error_data(&ed);
    }
    ld->broken = true;
    return rc;
}

static void free_load(struct sl_load *ld)
{
    if (ld->chunk != NULL) {
        duckdb_destroy_data_chunk(&ld->chunk);
    }
    if (ld->app != NULL) {
        /* Destroying flushes what is buffered; harmless, the caller rolls back.
         */
        (void)duckdb_appender_destroy(&ld->app);
    }
    if (ld->types != NULL) {
        for (size_t i = 0; i < ld->n_cols; i++) {
            if (ld->types[i] != NULL) {
                duckdb_destroy_logical_type(&ld->types[i]);
            }
        }
        sl__free(ld->types);
    }
    sl__duckdb_cols_free(ld->cols, ld->n_cols);
    sl__free(ld->table);
    if (ld->wh != NULL && ld->wh->active == ld) {
        ld->wh->active = NULL;
    }
    sl__free(ld);
}

void sl__duckdb_load_free(struct sl_load *ld)
{
    if (ld != NULL) {
        free_load(ld); /* the appender must not outlive the transaction */
    }
}

int sl__duckdb_load_open(struct sl_wh *wh, const struct sl_table *t,
                         struct sl_load **out, struct sl_error *err)
{
    *out = NULL;
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: a load is already in progress");
    }
    struct sl_load *ld = sl__calloc(1, sizeof(*ld));
    if (ld == NULL) {
        return sl__duckdb_nomem(err);
    }
    ld->wh = wh;
    ld->t = t;
    ld->cap = duckdb_vector_size();
    ld->n_cols = t->root.n_fields;
    duckdb_logical_type *types = NULL;
    idx_t n = 0;
    int rc = sl__duckdb_plan_table(t, wh->has_json, &ld->cols, err);
    if (rc != SL_OK) {
        sl__free(ld);
        return rc;
    }
    size_t size = strlen(t->dataset) + strlen(t->name) + 2;
    ld->table = sl__malloc(size);
    if (ld->table == NULL) {
        free_load(ld);
        return sl__duckdb_nomem(err);
    }
    snprintf(ld->table, size, "%s.%s", t->dataset, t->name);
    wh->active = ld;
    /* Verified (tests/unit/test_duckdb.c, test_abort_leaves_no_rows): an
     * appender appends inside the connection's open transaction, so ROLLBACK
     * drops its rows and no staging table is needed. */
    if (duckdb_appender_create_ext(wh->con, wh->catalog, t->dataset, t->name,
                                   &ld->app) == DuckDBError) {
        rc = appender_fail(ld, t->name, err);
        goto fail;
    }
    n = duckdb_appender_column_count(ld->app);
    if (n != ld->n_cols) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "duckdb: table %s.%s has %llu columns, definition %zu",
                    t->dataset, t->name, (unsigned long long)n, ld->n_cols);
        goto fail;
    }
    types = sl__calloc(n, sizeof(*types));
    if (types == NULL) {
        rc = sl__duckdb_nomem(err);
        goto fail;
    }
    for (idx_t i = 0; i < n; i++) {
        types[i] = duckdb_appender_column_type(ld->app, i);
        if (!sl__duckdb_type_matches(&ld->cols[i], types[i])) {
            rc = SL_ERR(err, -SL_ESCHEMA,
                        "duckdb: table %s.%s column %s changed type since "
                        "ensure_table",
                        t->dataset, t->name, ld->cols[i].f->name);
            goto fail;
        }
    }
    /* Chunks use the table's own logical types, so the appender never casts. */
    ld->chunk = duckdb_create_data_chunk(types, n);
    if (ld->chunk == NULL) {
        rc = sl__duckdb_fail(err, 0, t->name, "cannot create a data chunk");
        goto fail;
    }
    ld->types = types; /* kept for a parallel load's table function */
    *out = ld;
    return SL_OK;
fail:
    if (types != NULL) {
        for (idx_t i = 0; i < n; i++) {
            if (types[i] != NULL) {
                duckdb_destroy_logical_type(&types[i]);
            }
        }
        sl__free(types);
    }
    free_load(ld);
    return rc;
}

static void set_null(const struct col *c, duckdb_vector v, idx_t row)
{
    duckdb_vector_ensure_validity_writable(v);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
    if (c->st == ST_STRUCT) {
        /* Members of a NULL struct are NULL too, as DuckDB itself keeps them.
         */
        for (size_t i = 0; i < c->n_kids; i++) {
            set_null(&c->kids[i], duckdb_struct_vector_get_child(v, i), row);
        }
    } else if (c->st == ST_LIST) {
        duckdb_list_entry *e = duckdb_vector_get_data(v);
        e[row].offset = duckdb_list_vector_get_size(v);
        e[row].length = 0;
    }
}

static const char *kind_name(uint8_t k)
{
    static const char *const names[] = {
        "NULL", "BOOL", "INT64",    "FLOAT64",   "NUMERIC", "STRING",  "BYTES",
        "DATE", "TIME", "DATETIME", "TIMESTAMP", "RECORD",  "REPEATED"};
    return k < SL_ARRAY_LEN(names) ? names[k] : "?";
}

static const char *store_name(enum store st)
{
    static const char *const names[] = {
        [ST_BOOL] = "BOOLEAN",
        [ST_I64] = "BIGINT",
        [ST_F64] = "DOUBLE",
        [ST_DEC] = "DECIMAL",
        [ST_STR] = "VARCHAR",
        [ST_JSON] = "JSON",
        [ST_BLOB] = "BLOB",
        [ST_DATE] = "DATE",
        [ST_TIME] = "TIME",
        [ST_TIMESTAMP] = "TIMESTAMP",
        [ST_TIMESTAMPTZ] = "TIMESTAMPTZ",
        [ST_STRUCT] = "STRUCT",
        [ST_LIST] = "LIST",
    };
    return names[st];
}

static int bad_kind(const struct col *c, const struct sl_val *v,
                    struct sl_error *err)
{
    const char *path = c->f->path != NULL ? c->f->path : c->f->name;
    int rc =
        SL_ERR(err, -SL_EINVAL, "duckdb: column %s: a %s value for a %s column",
               path, kind_name(v->kind), store_name(c->st));
    if (err != NULL) {
        snprintf(err->column, sizeof(err->column), "%s", path);
    }
    return rc;
}

/* Write one value into row `row` of vector v (a column, struct member or list
 * child). Data and validity pointers are fetched on every call because a list
 * reserve may move a child's buffers. */
int sl__duckdb_put(const struct col *c, duckdb_vector v, idx_t row,
                   const struct sl_val *val, struct sl_error *err)
{
    if (val->kind == SL_V_NULL) {
        set_null(c, v, row);
        return SL_OK;
    }
    void *data = duckdb_vector_get_data(v);
    switch (c->st) {
    case ST_BOOL:
        if (val->kind != SL_V_BOOL) {
            return bad_kind(c, val, err);
        }
        ((bool *)data)[row] = val->u.b;
        return SL_OK;
    case ST_I64:
        if (val->kind != SL_V_I64) {
            return bad_kind(c, val, err);
        }
        ((int64_t *)data)[row] = val->u.i;
        return SL_OK;
    case ST_F64:
        if (val->kind == SL_V_F64) {
            ((double *)data)[row] = val->u.f;
        } else if (val->kind == SL_V_I64) {
            ((double *)data)[row] = (double)val->u.i;
        } else {
            return bad_kind(c, val, err);
        }
        return SL_OK;
    case ST_DEC: {
        if (val->kind != SL_V_DEC) {
            return bad_kind(c, val, err);
        }
        /* DuckDB stores DECIMAL(w,s) in the narrowest integer holding w digits.
         */
        __int128 d = val->u.d;
        if (c->width <= 4) {
            if (d < -9999 || d > 9999) {
                goto range;
            }
            ((int16_t *)data)[row] = (int16_t)d;
        } else if (c->width <= 9) {
            if (d < -999999999 || d > 999999999) {
                goto range;
            }
            ((int32_t *)data)[row] = (int32_t)d;
        } else if (c->width <= 18) {
            if (d < -999999999999999999LL || d > 999999999999999999LL) {
                goto range;
            }
            ((int64_t *)data)[row] = (int64_t)d;
        } else {
            duckdb_hugeint *h = (duckdb_hugeint *)data + row;
            h->lower = (uint64_t)d;
            h->upper = (int64_t)(d >> 64);
        }
        return SL_OK;
    range:
        return SL_ERR(
            err, -SL_EINVAL, "duckdb: column %s: value exceeds DECIMAL(%u,%u)",
            c->f->path != NULL ? c->f->path : c->f->name, c->width, c->scale);
    }
    case ST_STR:
    case ST_JSON:
    case ST_BLOB:
        if (val->kind != (c->st == ST_BLOB ? SL_V_BYTES : SL_V_STR)) {
            return bad_kind(c, val, err);
        }
        duckdb_vector_assign_string_element_len(
            v, row, val->len > 0 ? val->u.s : "", val->len);
        return SL_OK;
    case ST_DATE:
        if (val->kind != SL_V_DATE) {
            return bad_kind(c, val, err);
        }
        if (val->u.i < INT32_MIN || val->u.i > INT32_MAX) {
            return SL_ERR(err, -SL_EINVAL,
                          "duckdb: column %s: date out of range", c->f->name);
        }
        ((int32_t *)data)[row] = (int32_t)val->u.i;
        return SL_OK;
    case ST_TIME:
    case ST_TIMESTAMP:
    case ST_TIMESTAMPTZ: {
        uint8_t want = c->st == ST_TIME        ? SL_V_TIME
                       : c->st == ST_TIMESTAMP ? SL_V_DATETIME
                                               : SL_V_TS;
        if (val->kind != want) {
            return bad_kind(c, val, err);
        }
        ((int64_t *)data)[row] = val->u.i;
        return SL_OK;
    }
    case ST_STRUCT:
        if (val->kind != SL_V_STRUCT) {
            return bad_kind(c, val, err);
        }
        for (size_t i = 0; i < c->n_kids; i++) {
            int rc = sl__duckdb_put(&c->kids[i],
                                    duckdb_struct_vector_get_child(v, i), row,
                                    &val->u.v[i], err);
            if (rc != SL_OK) {
                return rc;
            }
        }
        return SL_OK;
    case ST_LIST: {
        if (val->kind != SL_V_LIST) {
            return bad_kind(c, val, err);
        }
        idx_t off = duckdb_list_vector_get_size(v);
        if (duckdb_list_vector_reserve(v, off + val->len) == DuckDBError ||
            duckdb_list_vector_set_size(v, off + val->len) == DuckDBError) {
            return sl__duckdb_fail(err, 0, c->f->name,
                                   "cannot grow a list vector");
        }
        duckdb_list_entry *e = (duckdb_list_entry *)data + row;
        e->offset = off;
        e->length = val->len;
        duckdb_vector child = duckdb_list_vector_get_child(v);
        for (uint32_t i = 0; i < val->len; i++) {
            int rc =
                sl__duckdb_put(&c->kids[0], child, off + i, &val->u.v[i], err);
            if (rc != SL_OK) {
                return rc;
            }
        }
        return SL_OK;
    }
    }
    return bad_kind(c, val, err);
}

static int flush_chunk(struct sl_load *ld, struct sl_error *err)
{
    if (ld->rows == 0) {
        return SL_OK;
    }
    duckdb_data_chunk_set_size(ld->chunk, ld->rows);
    if (duckdb_append_data_chunk(ld->app, ld->chunk) == DuckDBError) {
        return appender_fail(ld, ld->table, err);
    }
    duckdb_data_chunk_reset(ld->chunk);
    ld->rows = 0;
    return SL_OK;
}

int sl__duckdb_load_row(struct sl_load *ld, const struct sl_val *cols,
                        size_t n_cols, struct sl_error *err)
{
    if (ld->broken) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: load into %s already failed", ld->table);
    }
    if (n_cols != ld->n_cols) {
        return SL_ERR(err, -SL_EINVAL,
                      "duckdb: %s: row has %zu values, table %zu columns",
                      ld->table, n_cols, ld->n_cols);
    }
    for (size_t i = 0; i < n_cols; i++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(ld->chunk, i);
        int rc = sl__duckdb_put(&ld->cols[i], v, ld->rows, &cols[i], err);
        if (rc != SL_OK) {
            /* Values already written to this row are overwritten or never
             * appended: rows only count once all columns are in. */
            ld->broken = true;
            return rc;
        }
    }
    ld->rows++;
    ld->n_rows++;
    ld->checksum += sl_row_hash(cols, n_cols);
    return ld->rows == ld->cap ? flush_chunk(ld, err) : SL_OK;
}

int sl__duckdb_load_close(struct sl_load *ld, struct sl_error *err)
{
    if (ld->broken) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: load into %s already failed", ld->table);
    }
    int rc = flush_chunk(ld, err);
    if (rc != SL_OK) {
        return rc;
    }
    /* Close reports constraint violations (NOT NULL) found while flushing. */
    if (duckdb_appender_close(ld->app) == DuckDBError) {
        return appender_fail(ld, ld->table, err);
    }
    (void)duckdb_appender_destroy(&ld->app);
    return SL_OK;
}
