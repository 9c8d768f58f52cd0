/* duckdb_plan.c - the DuckDB storage plan: how each schema field is stored
 * (docs/TYPES.md), its SQL type text, and whether an existing column matches;
 * shared by ensure_table and the chunk writer. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/warehouse_int.h"

#include <string.h>

void sl__duckdb_col_release(struct col *c)
{
    for (size_t i = 0; i < c->n_kids; i++) {
        sl__duckdb_col_release(&c->kids[i]);
    }
    sl__free(c->kids);
    c->kids = NULL;
    c->n_kids = 0;
}

void sl__duckdb_cols_free(struct col *cols, size_t n)
{
    if (cols == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sl__duckdb_col_release(&cols[i]);
    }
    sl__free(cols);
}

/* Plan field f; as_elem: f is REPEATED and this is its element. */
static int col_build(struct col *c, const struct sl_field *f, bool as_elem,
                     bool has_json, struct sl_error *err)
{
    memset(c, 0, sizeof(*c));
    c->f = f;
    if (f->mode == SL_M_REPEATED && !as_elem) {
        c->st = ST_LIST;
        c->kids = sl__calloc(1, sizeof(*c->kids));
        if (c->kids == NULL) {
            return sl__duckdb_nomem(err);
        }
        c->n_kids = 1;
        return col_build(&c->kids[0], f, true, has_json, err);
    }
    switch (f->type) {
    case SL_T_STRING:
    case SL_T_BIGNUMERIC: /* exact text: DECIMAL stops at 38 digits */
    case SL_T_GEOGRAPHY:  /* WKT/GeoJSON as given: no spatial extension assumed
                           */
    case SL_T_RANGE:      /* canonical "[a, b)" text */
    case SL_T_INTERVAL:   /* duration text as the validator hands it over */
        c->st = ST_STR;
        return SL_OK;
    case SL_T_JSON:
        c->st = has_json ? ST_JSON : ST_STR;
        return SL_OK;
    case SL_T_BYTES:
        c->st = ST_BLOB;
        return SL_OK;
    case SL_T_INT64:
        c->st = ST_I64;
        return SL_OK;
    case SL_T_FLOAT64:
        c->st = ST_F64;
        return SL_OK;
    case SL_T_NUMERIC:
        /* The validator scales values by the field's scale when a precision is
         * given, else by 9 (NUMERIC = NUMERIC(38,9)); the column must agree. */
        c->st = ST_DEC;
        if (f->has_precision && f->precision >= 1 && f->precision <= 38 &&
            f->scale >= 0 && f->scale <= f->precision) {
            c->width = (uint8_t)f->precision;
            c->scale = (uint8_t)f->scale;
        } else if (!f->has_precision) {
            c->width = 38;
            c->scale = 9;
        } else {
            return SL_ERR(
                err, -SL_ESCHEMA, "%s: NUMERIC(%d,%d) has no DuckDB DECIMAL",
                f->path != NULL ? f->path : f->name, f->precision, f->scale);
        }
        return SL_OK;
    case SL_T_BOOL:
        c->st = ST_BOOL;
        return SL_OK;
    case SL_T_DATE:
        c->st = ST_DATE;
        return SL_OK;
    case SL_T_DATETIME:
        c->st = ST_TIMESTAMP;
        return SL_OK;
    case SL_T_TIME:
        c->st = ST_TIME;
        return SL_OK;
    case SL_T_TIMESTAMP:
        c->st = ST_TIMESTAMPTZ;
        return SL_OK;
    case SL_T_RECORD:
        if (f->n_fields == 0) {
            return SL_ERR(err, -SL_ESCHEMA, "%s: RECORD without fields",
                          f->path != NULL ? f->path : f->name);
        }
        c->st = ST_STRUCT;
        c->kids = sl__calloc(f->n_fields, sizeof(*c->kids));
        if (c->kids == NULL) {
            return sl__duckdb_nomem(err);
        }
        c->n_kids = f->n_fields;
        for (size_t i = 0; i < f->n_fields; i++) {
            int rc =
                col_build(&c->kids[i], &f->fields[i], false, has_json, err);
            if (rc != SL_OK) {
                return rc;
            }
        }
        return SL_OK;
    }
    return SL_ERR(err, -SL_ESCHEMA, "%s: unknown type %d", f->name,
                  (int)f->type);
}

int sl__duckdb_plan_field(const struct sl_field *f, bool has_json,
                          struct col *out, struct sl_error *err)
{
    int rc = col_build(out, f, false, has_json, err);
    if (rc != SL_OK) {
        sl__duckdb_col_release(out);
    }
    return rc;
}

int sl__duckdb_plan_table(const struct sl_table *t, bool has_json,
                          struct col **out, struct sl_error *err)
{
    *out = NULL;
    size_t n = t->root.n_fields;
    if (n == 0) {
        return SL_ERR(err, -SL_ESCHEMA, "table %s.%s has no columns",
                      t->dataset, t->name);
    }
    struct col *cols = sl__calloc(n, sizeof(*cols));
    if (cols == NULL) {
        return sl__duckdb_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = col_build(&cols[i], &t->root.fields[i], false, has_json, err);
        if (rc != SL_OK) {
            sl__duckdb_cols_free(cols, n);
            return rc;
        }
    }
    *out = cols;
    return SL_OK;
}

/* The DuckDB type of a planned column, as SQL text. */
int sl__duckdb_sql_type(struct sl_buf *b, const struct col *c)
{
    static const char *const names[] = {
        [ST_BOOL] = "BOOLEAN",        [ST_I64] = "BIGINT",
        [ST_F64] = "DOUBLE",          [ST_STR] = "VARCHAR",
        [ST_JSON] = "JSON",           [ST_BLOB] = "BLOB",
        [ST_DATE] = "DATE",           [ST_TIME] = "TIME",
        [ST_TIMESTAMP] = "TIMESTAMP", [ST_TIMESTAMPTZ] = "TIMESTAMPTZ",
    };
    int rc = SL_OK;
    switch (c->st) {
    case ST_DEC:
        return sl__buf_printf(b, "DECIMAL(%u,%u)", c->width, c->scale);
    case ST_STRUCT:
        rc = sl__buf_append(b, "STRUCT(", 7);
        for (size_t i = 0; rc == SL_OK && i < c->n_kids; i++) {
            if (i > 0) {
                rc = sl__buf_append(b, ", ", 2);
            }
            if (rc == SL_OK) {
                rc = sl__sql_quote_ident(b, c->kids[i].f->name);
            }
            if (rc == SL_OK) {
                rc = sl__buf_putc(b, ' ');
            }
            if (rc == SL_OK) {
                rc = sl__duckdb_sql_type(b, &c->kids[i]);
            }
        }
        return rc == SL_OK ? sl__buf_putc(b, ')') : rc;
    case ST_LIST:
        rc = sl__duckdb_sql_type(b, &c->kids[0]);
        return rc == SL_OK ? sl__buf_append(b, "[]", 2) : rc;
    default:
        return sl__buf_append(b, names[c->st], strlen(names[c->st]));
    }
}

/* Does an existing column's DuckDB type equal the planned one? */
bool sl__duckdb_type_matches(const struct col *c, duckdb_logical_type lt)
{
    duckdb_type id = duckdb_get_type_id(lt);
    bool ok = false;
    switch (c->st) {
    case ST_BOOL:
        return id == DUCKDB_TYPE_BOOLEAN;
    case ST_I64:
        return id == DUCKDB_TYPE_BIGINT;
    case ST_F64:
        return id == DUCKDB_TYPE_DOUBLE;
    case ST_DEC:
        return id == DUCKDB_TYPE_DECIMAL &&
               duckdb_decimal_width(lt) == c->width &&
               duckdb_decimal_scale(lt) == c->scale;
    case ST_STR:
    case ST_JSON: {
        if (id != DUCKDB_TYPE_VARCHAR) {
            return false;
        }
        char *alias = duckdb_logical_type_get_alias(lt);
        bool is_json = alias != NULL && strcmp(alias, "JSON") == 0;
        if (alias != NULL) {
            duckdb_free(alias);
        }
        return is_json == (c->st == ST_JSON);
    }
    case ST_BLOB:
        return id == DUCKDB_TYPE_BLOB;
    case ST_DATE:
        return id == DUCKDB_TYPE_DATE;
    case ST_TIME:
        return id == DUCKDB_TYPE_TIME;
    case ST_TIMESTAMP:
        return id == DUCKDB_TYPE_TIMESTAMP;
    case ST_TIMESTAMPTZ:
        return id == DUCKDB_TYPE_TIMESTAMP_TZ;
    case ST_STRUCT:
        if (id != DUCKDB_TYPE_STRUCT ||
            duckdb_struct_type_child_count(lt) != c->n_kids) {
            return false;
        }
        ok = true;
        for (size_t i = 0; ok && i < c->n_kids; i++) {
            char *name = duckdb_struct_type_child_name(lt, i);
            duckdb_logical_type kt = duckdb_struct_type_child_type(lt, i);
            ok = name != NULL && strcmp(name, c->kids[i].f->name) == 0 &&
                 sl__duckdb_type_matches(&c->kids[i], kt);
            if (name != NULL) {
                duckdb_free(name);
            }
            duckdb_destroy_logical_type(&kt);
        }
        return ok;
    case ST_LIST: {
        if (id != DUCKDB_TYPE_LIST) {
            return false;
        }
        duckdb_logical_type et = duckdb_list_type_child_type(lt);
        ok = sl__duckdb_type_matches(&c->kids[0], et);
        duckdb_destroy_logical_type(&et);
        return ok;
    }
    }
    return false;
}
