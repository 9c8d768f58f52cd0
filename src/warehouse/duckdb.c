/* duckdb.c - the embedded DuckDB warehouse driver: opens a database file,
 * creates tables from definitions (docs/TYPES.md has the type mapping), loads
 * validated rows through the appender's data chunk API inside one transaction
 * per load, and prints query results as a table, CSV or NDJSON. warehouse
 * stage.
 *
 * Thread-safety: a struct sl_wh (and any load on it) must be used by one thread
 * at a time; it owns one DuckDB connection, and a connection carries one
 * transaction. For parallel work open one sl_wh per thread: handles on the same
 * file share one DuckDB instance (a process-wide instance cache) and are
 * isolated from each other by DuckDB's transactions. Only one *process* may
 * open a file; a second one fails at open with the lock holder named.
 * At most one load is in progress per sl_wh, and ensure_table/query are refused
 * while it is (they would run inside the load's transaction). */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/driver.h"
#include "warehouse/warehouse_int.h"

/* duckdb.h declares some functions with "()" (C++ style); keep our strict
 * warnings for our own code only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct sl_wh {
    duckdb_database db;    /* owned */
    duckdb_connection con; /* owned; the one connection all work goes through */
    char *path;            /* database file as given to DuckDB, owned */
    bool has_json;         /* the JSON type exists in this libduckdb */
    struct sl_load *active; /* the load in progress, NULL if none (borrowed) */
};

/* How one schema field is stored in DuckDB: the plan both CREATE TABLE and the
 * chunk writer follow. A REPEATED field is a LIST whose one kid is the element
 * (the same field, not repeated). */
enum store {
    ST_BOOL,      /* BOOLEAN: bool */
    ST_I64,       /* BIGINT: int64_t */
    ST_F64,       /* DOUBLE: double */
    ST_DEC,       /* DECIMAL(width,scale): int16/int32/int64/hugeint by width */
    ST_STR,       /* VARCHAR */
    ST_JSON,      /* JSON (a VARCHAR with the alias JSON) */
    ST_BLOB,      /* BLOB */
    ST_DATE,      /* DATE: int32 days */
    ST_TIME,      /* TIME: int64 microseconds since midnight */
    ST_TIMESTAMP, /* TIMESTAMP: int64 microseconds, no zone */
    ST_TIMESTAMPTZ, /* TIMESTAMPTZ: int64 microseconds since the epoch, UTC */
    ST_STRUCT,      /* STRUCT(...): one kid per sub-field */
    ST_LIST,        /* T[]: kids[0] is the element */
};

struct col {
    const struct sl_field *f; /* borrowed from the table */
    enum store st;
    uint8_t width, scale; /* ST_DEC */
    struct col *kids;     /* ST_STRUCT members or the ST_LIST element; owned */
    size_t n_kids;
};

struct sl_load {
    struct sl_wh *wh;         /* borrowed */
    const struct sl_table *t; /* borrowed; must outlive the load */
    struct col *cols;         /* plan per top-level column, owned */
    size_t n_cols;
    duckdb_appender app;     /* owned */
    duckdb_data_chunk chunk; /* owned; rows being filled */
    idx_t rows;              /* rows filled in chunk */
    idx_t cap;               /* duckdb_vector_size() */
    char *table;             /* "dataset.table" for _sluice_loads, owned */
    char *file;              /* owned, may be NULL */
    char *fingerprint;       /* owned, may be NULL */
    uint64_t size;           /* bytes read */
    int64_t started_us;      /* wall clock at the start of the load */
    bool broken;             /* an append failed: only abort is useful now */
};

/* ---- errors and statements ------------------------------------------------
 */

static int wh_fail(struct sl_error *err, int sub, const char *what,
                   const char *detail)
{
    int rc = SL_ERR(err, -SL_EWAREHOUSE, "duckdb: %s: %s", what,
                    detail != NULL ? detail : "unknown error");
    if (err != NULL && err->sub == 0) {
        err->sub = sub;
    }
    return rc;
}

static int nomem(struct sl_error *err)
{
    return SL_ERR(err, -SL_ENOMEM, "duckdb driver: out of memory");
}

/* Run one statement whose result is not needed. */
static int exec(struct sl_wh *wh, const char *sql, struct sl_error *err)
{
    duckdb_result res;
    int rc = SL_OK;
    if (duckdb_query(wh->con, sql, &res) == DuckDBError) {
        rc = wh_fail(err, (int)duckdb_result_error_type(&res), sql,
                     duckdb_result_error(&res));
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* ROLLBACK after a failure; its own failure cannot add anything useful. */
static void rollback(struct sl_wh *wh)
{
    duckdb_result res;
    (void)duckdb_query(wh->con, "ROLLBACK", &res);
    duckdb_destroy_result(&res);
}

static int prepare(struct sl_wh *wh, const char *sql,
                   duckdb_prepared_statement *out, struct sl_error *err)
{
    if (duckdb_prepare(wh->con, sql, out) == DuckDBError) {
        int rc = wh_fail(err, 0, sql, duckdb_prepare_error(*out));
        duckdb_destroy_prepare(out);
        return rc;
    }
    return SL_OK;
}

static int run_prepared(duckdb_prepared_statement st, const char *what,
                        duckdb_result *res, struct sl_error *err)
{
    if (duckdb_execute_prepared(st, res) == DuckDBError) {
        int rc = wh_fail(err, (int)duckdb_result_error_type(res), what,
                         duckdb_result_error(res));
        duckdb_destroy_result(res);
        return rc;
    }
    return SL_OK;
}

/* A VARCHAR cell of a result chunk (not NUL-terminated); NULL for SQL NULL. */
static const char *cell_str(duckdb_data_chunk ch, idx_t col, idx_t row,
                            size_t *out_len)
{
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, col);
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, row)) {
        *out_len = 0;
        return NULL;
    }
    duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
    *out_len = duckdb_string_t_length(*s);
    return duckdb_string_t_data(s);
}

/* ---- open / close -----------------------------------------------------------
 */

/* The file path in a URI: "duckdb://./w.duckdb" -> "./w.duckdb",
 * "duckdb:///abs/w.duckdb" -> "/abs/w.duckdb", "duckdb:w.duckdb" and a bare
 * path are taken as they are. */
static const char *uri_path(const char *uri)
{
    static const char scheme[] = "duckdb:";
    if (strncasecmp(uri, scheme, sizeof(scheme) - 1) == 0) {
        uri += sizeof(scheme) - 1;
        if (strncmp(uri, "//", 2) == 0) {
            uri += 2;
        }
    }
    return uri;
}

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static duckdb_instance_cache instance_cache; /* process lifetime, never freed */

static void cache_init(void)
{
    instance_cache = duckdb_create_instance_cache();
}

static void dd_close(struct sl_wh *wh)
{
    if (wh == NULL) {
        return;
    }
    if (wh->active != NULL) {
        sl__duckdb_ops.load_abort(wh->active);
    }
    if (wh->con != NULL) {
        duckdb_disconnect(&wh->con);
    }
    if (wh->db != NULL) {
        duckdb_close(&wh->db);
    }
    sl__free(wh->path);
    sl__free(wh);
}

static int dd_open(const char *uri, struct sl_wh **out, struct sl_error *err)
{
    *out = NULL;
    const char *path = uri_path(uri);
    if (path[0] == '\0') {
        return SL_ERR(err, -SL_EUSAGE, "duckdb: no database file in \"%s\"",
                      uri);
    }
    struct sl_wh *wh = sl__calloc(1, sizeof(*wh));
    if (wh == NULL || (wh->path = sl__strdup(path)) == NULL) {
        sl__free(wh);
        return nomem(err);
    }
    int rc = SL_OK;
    duckdb_config cfg = NULL;
    char *derr = NULL;
    if (duckdb_create_config(&cfg) == DuckDBError) {
        rc = wh_fail(err, 0, path, "cannot create a configuration");
        goto out;
    }
    /* Never download extensions behind the user's back (JSON is probed below;
     * an auto-install would hit the network from a data loader). */
    (void)duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    /* Two DuckDB instances on one file in one process would both write it
     * (the file lock only stops other processes), so file databases go
     * through a process-wide instance cache: every sl_wh on the same file
     * shares one instance, each with its own connection. */
    duckdb_state st;
    if (strcmp(path, ":memory:") == 0) {
        st = duckdb_open_ext(path, &wh->db, cfg, &derr);
    } else {
        (void)pthread_once(&cache_once, cache_init);
        st = instance_cache == NULL
                 ? duckdb_open_ext(path, &wh->db, cfg, &derr)
                 : duckdb_get_or_create_from_cache(instance_cache, path,
                                                   &wh->db, cfg, &derr);
    }
    if (st == DuckDBError) {
        rc = SL_ERR(err, -SL_EWAREHOUSE, "duckdb: cannot open %s: %s", path,
                    derr != NULL ? derr : "unknown error");
        sl__error_path(err, path);
        wh->db = NULL;
        goto out;
    }
    if (duckdb_connect(wh->db, &wh->con) == DuckDBError) {
        wh->con = NULL;
        rc = wh_fail(err, 0, path, "cannot connect");
        goto out;
    }
    /* JSON is an extension type; statically linked in the usual builds but
     * not guaranteed. Without it JSON columns are VARCHAR (docs/TYPES.md). */
    duckdb_result res;
    wh->has_json =
        duckdb_query(wh->con, "SELECT '1'::JSON", &res) == DuckDBSuccess;
    duckdb_destroy_result(&res);
out:
    if (derr != NULL) {
        duckdb_free(derr);
    }
    duckdb_destroy_config(&cfg);
    if (rc != SL_OK) {
        dd_close(wh);
        return rc;
    }
    *out = wh;
    return SL_OK;
}

/* ---- the storage plan --------------------------------------------------- */

static void col_release(struct col *c)
{
    for (size_t i = 0; i < c->n_kids; i++) {
        col_release(&c->kids[i]);
    }
    sl__free(c->kids);
    c->kids = NULL;
    c->n_kids = 0;
}

static void cols_free(struct col *cols, size_t n)
{
    if (cols == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        col_release(&cols[i]);
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
            return nomem(err);
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
            return nomem(err);
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

static int plan_table(const struct sl_table *t, bool has_json, struct col **out,
                      struct sl_error *err)
{
    *out = NULL;
    size_t n = t->root.n_fields;
    if (n == 0) {
        return SL_ERR(err, -SL_ESCHEMA, "table %s.%s has no columns",
                      t->dataset, t->name);
    }
    struct col *cols = sl__calloc(n, sizeof(*cols));
    if (cols == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = col_build(&cols[i], &t->root.fields[i], false, has_json, err);
        if (rc != SL_OK) {
            cols_free(cols, n);
            return rc;
        }
    }
    *out = cols;
    return SL_OK;
}

/* The DuckDB type of a planned column, as SQL text. */
static int sql_type(struct sl_buf *b, const struct col *c)
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
                rc = sql_type(b, &c->kids[i]);
            }
        }
        return rc == SL_OK ? sl__buf_putc(b, ')') : rc;
    case ST_LIST:
        rc = sql_type(b, &c->kids[0]);
        return rc == SL_OK ? sl__buf_append(b, "[]", 2) : rc;
    default:
        return sl__buf_append(b, names[c->st], strlen(names[c->st]));
    }
}

/* Does an existing column's DuckDB type equal the planned one? */
static bool type_matches(const struct col *c, duckdb_logical_type lt)
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
                 type_matches(&c->kids[i], kt);
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
        ok = type_matches(&c->kids[0], et);
        duckdb_destroy_logical_type(&et);
        return ok;
    }
    }
    return false;
}

/* ---- ensure_table
 * ------------------------------------------------------------ */

static const char LOADS_DDL[] =
    "CREATE TABLE IF NOT EXISTS main._sluice_loads (load_id VARCHAR, "
    "table_name VARCHAR, file_path VARCHAR, file_size BIGINT, fingerprint "
    "VARCHAR, "
    "rows_loaded BIGINT, rows_rejected BIGINT, started TIMESTAMPTZ, "
    "finished TIMESTAMPTZ)";

/* Append "dataset"."table". */
static int qualified(struct sl_buf *b, const char *dataset, const char *name)
{
    int rc = sl__sql_quote_ident(b, dataset);
    if (rc == SL_OK) {
        rc = sl__buf_putc(b, '.');
    }
    return rc == SL_OK ? sl__sql_quote_ident(b, name) : rc;
}

/* One existing column as the catalog describes it. */
struct excol {
    char *name; /* owned */
    char *type; /* DuckDB's text for the type, owned */
    bool nullable;
};

static void excols_free(struct excol *ex, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl__free(ex[i].name);
        sl__free(ex[i].type);
    }
    sl__free(ex);
}

/* The columns of dataset.name in catalog order; *out_n = 0 if there is no such
 * table. Names compare case-insensitively, as DuckDB's catalog does. */
static int existing_columns(struct sl_wh *wh, const char *dataset,
                            const char *name, struct excol **out, size_t *out_n,
                            struct sl_error *err)
{
    static const char sql[] =
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND lower(schema_name) = "
        "lower(?) "
        "AND lower(table_name) = lower(?) ORDER BY column_index";
    *out = NULL;
    *out_n = 0;
    duckdb_prepared_statement st = NULL;
    duckdb_result res;
    int rc = prepare(wh, sql, &st, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (duckdb_bind_varchar(st, 1, dataset) == DuckDBError ||
        duckdb_bind_varchar(st, 2, name) == DuckDBError) {
        rc = wh_fail(err, 0, "bind", duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        return rc;
    }
    rc = run_prepared(st, "reading the catalog", &res, err);
    duckdb_destroy_prepare(&st);
    if (rc != SL_OK) {
        return rc;
    }
    struct excol *ex = NULL;
    size_t n = 0, cap = 0;
    duckdb_data_chunk ch;
    while (rc == SL_OK && (ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t rows = duckdb_data_chunk_get_size(ch);
        bool *nul = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 2));
        for (idx_t r = 0; rc == SL_OK && r < rows; r++) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct excol *g = sl__realloc(ex, ncap * sizeof(*ex));
                if (g == NULL) {
                    rc = nomem(err);
                    break;
                }
                ex = g;
                cap = ncap;
            }
            size_t nl, tl;
            const char *cn = cell_str(ch, 0, r, &nl);
            const char *ct = cell_str(ch, 1, r, &tl);
            ex[n].name = sl__strndup(cn != NULL ? cn : "", nl);
            ex[n].type = sl__strndup(ct != NULL ? ct : "", tl);
            ex[n].nullable = nul[r];
            n++;
            if (ex[n - 1].name == NULL || ex[n - 1].type == NULL) {
                rc = nomem(err);
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    if (rc != SL_OK) {
        excols_free(ex, n);
        return rc;
    }
    *out = ex;
    *out_n = n;
    return SL_OK;
}

/* Compare an existing table with the plan; -SL_ESCHEMA naming the first
 * difference. Schema evolution (ALTER) is deliberately not done here. */
static int compare_table(struct sl_wh *wh, const struct sl_table *t,
                         const struct col *cols, const struct excol *ex,
                         size_t n_ex, struct sl_error *err)
{
    struct sl_buf b, want;
    sl__buf_init(&b);
    sl__buf_init(&want);
    duckdb_result res;
    bool have_res = false;
    int rc = sl__buf_append(&b, "SELECT * FROM ", 14);
    if (rc == SL_OK) {
        rc = qualified(&b, t->dataset, t->name);
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(&b, " LIMIT 0", 8);
    }
    if (rc != SL_OK) {
        rc = nomem(err);
        goto out;
    }
    if (duckdb_query(wh->con, b.data, &res) == DuckDBError) {
        rc = wh_fail(err, (int)duckdb_result_error_type(&res), b.data,
                     duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    have_res = true;
    size_t n = t->root.n_fields;
    const char *diff = NULL;
    size_t at = 0;
    idx_t ncol = duckdb_column_count(&res);
    for (at = 0; at < n && at < ncol && at < n_ex; at++) {
        const struct col *c = &cols[at];
        if (strcmp(duckdb_column_name(&res, at), c->f->name) != 0) {
            diff = "name";
            break;
        }
        duckdb_logical_type lt = duckdb_column_logical_type(&res, at);
        bool same = type_matches(c, lt);
        duckdb_destroy_logical_type(&lt);
        if (!same) {
            diff = "type";
            break;
        }
        if (ex[at].nullable != (c->f->mode != SL_M_REQUIRED)) {
            diff = "null";
            break;
        }
    }
    if (diff == NULL && (n != ncol || n != n_ex)) {
        diff = n < ncol ? "extra" : "missing";
    }
    if (diff == NULL) {
        goto out;
    }
    if (at < n && sql_type(&want, &cols[at]) != SL_OK) {
        rc = nomem(err);
        goto out;
    }
    if (strcmp(diff, "name") == 0) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s.%s exists with a different definition: "
                    "column %zu is %s, definition has %s",
                    t->dataset, t->name, at + 1, ex[at].name, cols[at].f->name);
    } else if (strcmp(diff, "type") == 0) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s.%s exists with a different definition: "
                    "column %s is %s, definition wants %s",
                    t->dataset, t->name, ex[at].name, ex[at].type, want.data);
    } else if (strcmp(diff, "null") == 0) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s.%s exists with a different definition: "
                    "column %s is %s, definition wants %s",
                    t->dataset, t->name, ex[at].name,
                    ex[at].nullable ? "nullable" : "NOT NULL",
                    ex[at].nullable ? "NOT NULL (REQUIRED)" : "nullable");
    } else if (strcmp(diff, "extra") == 0) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s.%s exists with a different definition: "
                    "column %s is not in the definition",
                    t->dataset, t->name, ex[at].name);
    } else {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s.%s exists with a different definition: "
                    "column %s %s is missing",
                    t->dataset, t->name, cols[at].f->name, want.data);
    }
    if (err != NULL && at < n && cols[at].f->name != NULL) {
        snprintf(err->column, sizeof(err->column), "%s", cols[at].f->name);
    }
out:
    if (have_res) {
        duckdb_destroy_result(&res);
    }
    sl__buf_release(&b);
    sl__buf_release(&want);
    return rc;
}

/* "description [sluice: partitioned by DAY(ts); clustered by a, b]": DuckDB
 * has neither partitions nor clustering, so they are recorded for people and
 * for later migrations (docs/TYPES.md). */
static int table_comment(struct sl_buf *b, const struct sl_table *t)
{
    int rc = SL_OK;
    bool extra = t->part_kind != SL_PART_NONE || t->n_cluster > 0;
    if (t->description != NULL) {
        rc = sl__buf_append(b, t->description, strlen(t->description));
    }
    if (rc != SL_OK || !extra) {
        return rc;
    }
    rc = sl__buf_printf(b, "%s[sluice: ", b->len > 0 ? " " : "");
    if (rc == SL_OK && t->part_kind == SL_PART_TIME) {
        rc = sl__buf_printf(
            b, "partitioned by %s(%s)", t->part_type ? t->part_type : "DAY",
            t->part_field ? t->part_field->name : "_PARTITIONTIME");
    } else if (rc == SL_OK && t->part_kind == SL_PART_RANGE) {
        rc = sl__buf_printf(b, "partitioned by RANGE(%s, %lld, %lld, %lld)",
                            t->part_field ? t->part_field->name : "?",
                            (long long)t->range_start, (long long)t->range_end,
                            (long long)t->range_interval);
    }
    for (size_t i = 0; rc == SL_OK && i < t->n_cluster; i++) {
        rc = sl__buf_printf(b, "%s%s",
                            i == 0 ? (t->part_kind != SL_PART_NONE
                                          ? "; clustered by "
                                          : "clustered by ")
                                   : ", ",
                            t->cluster[i]->name);
    }
    return rc == SL_OK ? sl__buf_putc(b, ']') : rc;
}

static int create_table_sql(struct sl_buf *b, const struct sl_table *t,
                            const struct col *cols)
{
    int rc = sl__buf_append(b, "CREATE TABLE IF NOT EXISTS ", 27);
    if (rc == SL_OK) {
        rc = qualified(b, t->dataset, t->name);
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(b, " (", 2);
    }
    for (size_t i = 0; rc == SL_OK && i < t->root.n_fields; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", 2);
        }
        if (rc == SL_OK) {
            rc = sl__sql_quote_ident(b, cols[i].f->name);
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, ' ');
        }
        if (rc == SL_OK) {
            rc = sql_type(b, &cols[i]);
        }
        /* Only top-level REQUIRED columns: DuckDB has no NOT NULL on struct
         * members; the validator enforces those. */
        if (rc == SL_OK && cols[i].f->mode == SL_M_REQUIRED) {
            rc = sl__buf_append(b, " NOT NULL", 9);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, ')') : rc;
}

static int create_table(struct sl_wh *wh, const struct sl_table *t,
                        const struct col *cols, struct sl_error *err)
{
    struct sl_buf b, note;
    sl__buf_init(&b);
    sl__buf_init(&note);
    int rc = exec(wh, "BEGIN TRANSACTION", err);
    if (rc != SL_OK) {
        return rc;
    }
    bool oom =
        sl__buf_append(&b, "CREATE SCHEMA IF NOT EXISTS ", 28) != SL_OK ||
        sl__sql_quote_ident(&b, t->dataset) != SL_OK;
    if (oom) {
        goto out;
    }
    if ((rc = exec(wh, b.data, err)) != SL_OK) {
        goto out;
    }
    sl__buf_reset(&b);
    if ((oom = create_table_sql(&b, t, cols) != SL_OK)) {
        goto out;
    }
    if ((rc = exec(wh, b.data, err)) != SL_OK) {
        goto out;
    }
    if ((oom = table_comment(&note, t) != SL_OK)) {
        goto out;
    }
    if (note.len > 0) {
        sl__buf_reset(&b);
        oom = sl__buf_append(&b, "COMMENT ON TABLE ", 17) != SL_OK ||
              qualified(&b, t->dataset, t->name) != SL_OK ||
              sl__buf_append(&b, " IS ", 4) != SL_OK ||
              sl__sql_quote_literal(&b, note.data) != SL_OK;
        if (oom || (rc = exec(wh, b.data, err)) != SL_OK) {
            goto out;
        }
    }
    for (size_t i = 0; i < t->root.n_fields; i++) {
        const struct sl_field *f = &t->root.fields[i];
        if (f->description == NULL || f->description[0] == '\0') {
            continue;
        }
        sl__buf_reset(&b);
        oom = sl__buf_append(&b, "COMMENT ON COLUMN ", 18) != SL_OK ||
              qualified(&b, t->dataset, t->name) != SL_OK ||
              sl__buf_putc(&b, '.') != SL_OK ||
              sl__sql_quote_ident(&b, f->name) != SL_OK ||
              sl__buf_append(&b, " IS ", 4) != SL_OK ||
              sl__sql_quote_literal(&b, f->description) != SL_OK;
        if (oom || (rc = exec(wh, b.data, err)) != SL_OK) {
            goto out;
        }
    }
    if ((rc = exec(wh, LOADS_DDL, err)) != SL_OK) {
        goto out;
    }
    rc = exec(wh, "COMMIT", err);
out:
    if (oom) {
        rc = nomem(err);
    }
    if (rc != SL_OK) {
        rollback(wh);
    }
    sl__buf_release(&b);
    sl__buf_release(&note);
    return rc;
}

static int dd_ensure_table(struct sl_wh *wh, const struct sl_table *t,
                           bool *out_created, struct sl_error *err)
{
    *out_created = false;
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: ensure_table during a load");
    }
    struct col *cols = NULL;
    struct excol *ex = NULL;
    size_t n_ex = 0;
    int rc = plan_table(t, wh->has_json, &cols, err);
    if (rc == SL_OK) {
        rc = existing_columns(wh, t->dataset, t->name, &ex, &n_ex, err);
    }
    if (rc == SL_OK && n_ex > 0) {
        rc = compare_table(wh, t, cols, ex, n_ex, err);
        if (rc == SL_OK) {
            rc = exec(wh, LOADS_DDL, err);
        }
    } else if (rc == SL_OK) {
        rc = create_table(wh, t, cols, err);
        *out_created = rc == SL_OK;
    }
    excols_free(ex, n_ex);
    cols_free(cols, t->root.n_fields);
    return rc;
}

/* ---- loaded_before
 * ------------------------------------------------------------ */

static int loads_table_exists(struct sl_wh *wh, bool *out_yes,
                              struct sl_error *err)
{
    duckdb_result res;
    *out_yes = false;
    if (duckdb_query(
            wh->con,
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = "
            "current_database() AND schema_name = 'main' AND table_name = "
            "'_sluice_loads'",
            &res) == DuckDBError) {
        int rc = wh_fail(err, (int)duckdb_result_error_type(&res),
                         "reading the catalog", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(res);
    if (ch != NULL) {
        int64_t *n =
            duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0));
        *out_yes = duckdb_data_chunk_get_size(ch) > 0 && n[0] > 0;
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return SL_OK;
}

static int dd_loaded_before(struct sl_wh *wh, const char *table,
                            const char *fingerprint, bool *out_yes,
                            struct sl_error *err)
{
    *out_yes = false;
    bool exists = false;
    int rc = loads_table_exists(wh, &exists, err);
    if (rc != SL_OK || !exists) {
        return rc;
    }
    duckdb_prepared_statement st = NULL;
    duckdb_result res;
    rc = prepare(
        wh,
        "SELECT count(*) FROM main._sluice_loads WHERE table_name = ? AND "
        "fingerprint = ?",
        &st, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (duckdb_bind_varchar(st, 1, table) == DuckDBError ||
        duckdb_bind_varchar(st, 2, fingerprint) == DuckDBError) {
        rc = wh_fail(err, 0, "bind", duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        return rc;
    }
    rc = run_prepared(st, "reading _sluice_loads", &res, err);
    duckdb_destroy_prepare(&st);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(res);
    if (ch != NULL) {
        int64_t *n =
            duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0));
        *out_yes = duckdb_data_chunk_get_size(ch) > 0 && n[0] > 0;
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return SL_OK;
}

/* ---- loading
 * ------------------------------------------------------------------ */

static int appender_fail(struct sl_load *ld, const char *what,
                         struct sl_error *err)
{
    duckdb_error_data ed = duckdb_appender_error_data(ld->app);
    int rc =
        wh_fail(err, ed != NULL ? (int)duckdb_error_data_error_type(ed) : 0,
                what, ed != NULL ? duckdb_error_data_message(ed) : NULL);
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
    cols_free(ld->cols, ld->n_cols);
    sl__free(ld->table);
    sl__free(ld->file);
    sl__free(ld->fingerprint);
    if (ld->wh != NULL && ld->wh->active == ld) {
        ld->wh->active = NULL;
    }
    sl__free(ld);
}

static void dd_load_abort(struct sl_load *ld)
{
    if (ld == NULL) {
        return;
    }
    struct sl_wh *wh = ld->wh;
    free_load(ld); /* the appender first: it must not outlive the transaction */
    rollback(wh);
}

static int dd_load_begin(struct sl_wh *wh, const struct sl_table *t,
                         const struct sl_load_info *info, struct sl_load **out,
                         struct sl_error *err)
{
    *out = NULL;
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: a load is already in progress");
    }
    struct sl_load *ld = sl__calloc(1, sizeof(*ld));
    if (ld == NULL) {
        return nomem(err);
    }
    ld->wh = wh;
    ld->t = t;
    ld->cap = duckdb_vector_size();
    ld->n_cols = t->root.n_fields;
    duckdb_logical_type *types = NULL;
    idx_t n = 0;
    int rc = plan_table(t, wh->has_json, &ld->cols, err);
    if (rc != SL_OK) {
        sl__free(ld);
        return rc;
    }
    if (info != NULL) {
        ld->size = info->size;
        ld->started_us = info->started_us;
        ld->file = info->file != NULL ? sl__strdup(info->file) : NULL;
        ld->fingerprint =
            info->fingerprint != NULL ? sl__strdup(info->fingerprint) : NULL;
        if ((info->file != NULL && ld->file == NULL) ||
            (info->fingerprint != NULL && ld->fingerprint == NULL)) {
            free_load(ld);
            return nomem(err);
        }
    }
    if (info != NULL && info->table != NULL) {
        ld->table = sl__strdup(info->table);
    } else {
        size_t size = strlen(t->dataset) + strlen(t->name) + 2;
        ld->table = sl__malloc(size);
        if (ld->table != NULL) {
            snprintf(ld->table, size, "%s.%s", t->dataset, t->name);
        }
    }
    if (ld->table == NULL) {
        free_load(ld);
        return nomem(err);
    }
    rc = exec(wh, "BEGIN TRANSACTION", err);
    if (rc != SL_OK) {
        free_load(ld);
        return rc;
    }
    wh->active = ld;
    if ((rc = exec(wh, LOADS_DDL, err)) != SL_OK) {
        goto fail;
    }
    /* Verified (tests/unit/test_duckdb.c, test_abort_leaves_no_rows): an
     * appender appends inside the connection's open transaction, so ROLLBACK
     * drops its rows and no staging table is needed. */
    if (duckdb_appender_create_ext(wh->con, NULL, t->dataset, t->name,
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
        rc = nomem(err);
        goto fail;
    }
    for (idx_t i = 0; i < n; i++) {
        types[i] = duckdb_appender_column_type(ld->app, i);
        if (!type_matches(&ld->cols[i], types[i])) {
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
        rc = wh_fail(err, 0, t->name, "cannot create a data chunk");
        goto fail;
    }
    for (idx_t i = 0; i < n; i++) {
        duckdb_destroy_logical_type(&types[i]);
    }
    sl__free(types);
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
    dd_load_abort(ld);
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
static int put(const struct col *c, duckdb_vector v, idx_t row,
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
            int rc = put(&c->kids[i], duckdb_struct_vector_get_child(v, i), row,
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
            return wh_fail(err, 0, c->f->name, "cannot grow a list vector");
        }
        duckdb_list_entry *e = (duckdb_list_entry *)data + row;
        e->offset = off;
        e->length = val->len;
        duckdb_vector child = duckdb_list_vector_get_child(v);
        for (uint32_t i = 0; i < val->len; i++) {
            int rc = put(&c->kids[0], child, off + i, &val->u.v[i], err);
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

static int dd_load_row(struct sl_load *ld, const struct sl_val *cols,
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
        int rc = put(&ld->cols[i], v, ld->rows, &cols[i], err);
        if (rc != SL_OK) {
            /* Values already written to this row are overwritten or never
             * appended: rows only count once all columns are in. */
            ld->broken = true;
            return rc;
        }
    }
    ld->rows++;
    return ld->rows == ld->cap ? flush_chunk(ld, err) : SL_OK;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int record_load(struct sl_load *ld, uint64_t rows_loaded,
                       uint64_t rows_rejected, struct sl_error *err)
{
    /* load_id comes from DuckDB's uuid(): the statement text holds no value. */
    static const char sql[] =
        "INSERT INTO main._sluice_loads (load_id, table_name, file_path, "
        "file_size, "
        "fingerprint, rows_loaded, rows_rejected, started, finished) "
        "VALUES (CAST(uuid() AS VARCHAR), ?, ?, ?, ?, ?, ?, ?, ?)";
    duckdb_prepared_statement st = NULL;
    int rc = prepare(ld->wh, sql, &st, err);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_timestamp started = {ld->started_us};
    duckdb_timestamp finished = {now_us()};
    bool bad =
        duckdb_bind_varchar(st, 1, ld->table) == DuckDBError ||
        (ld->file != NULL ? duckdb_bind_varchar(st, 2, ld->file)
                          : duckdb_bind_null(st, 2)) == DuckDBError ||
        duckdb_bind_int64(st, 3, (int64_t)ld->size) == DuckDBError ||
        (ld->fingerprint != NULL ? duckdb_bind_varchar(st, 4, ld->fingerprint)
                                 : duckdb_bind_null(st, 4)) == DuckDBError ||
        duckdb_bind_int64(st, 5, (int64_t)rows_loaded) == DuckDBError ||
        duckdb_bind_int64(st, 6, (int64_t)rows_rejected) == DuckDBError ||
        duckdb_bind_timestamp_tz(st, 7, started) == DuckDBError ||
        duckdb_bind_timestamp_tz(st, 8, finished) == DuckDBError;
    if (bad) {
        rc = wh_fail(err, 0, "bind", duckdb_prepare_error(st));
    } else {
        duckdb_result res;
        rc = run_prepared(st, "recording the load in _sluice_loads", &res, err);
        if (rc == SL_OK) {
            duckdb_destroy_result(&res);
        }
    }
    duckdb_destroy_prepare(&st);
    return rc;
}

static int dd_load_commit(struct sl_load *ld, const struct sl_load_info *final,
                          uint64_t rows_loaded, uint64_t rows_rejected,
                          struct sl_error *err)
{
    struct sl_wh *wh = ld->wh;
    int rc = SL_OK;
    if (final != NULL) {
        ld->size = final->size;
        if (final->fingerprint != NULL) {
            char *fp = sl__strdup(final->fingerprint);
            if (fp == NULL) {
                rc = nomem(err);
                goto fail;
            }
            sl__free(ld->fingerprint);
            ld->fingerprint = fp;
        }
    }
    if (ld->broken) {
        rc = SL_ERR(err, -SL_EWAREHOUSE, "duckdb: load into %s already failed",
                    ld->table);
        goto fail;
    }
    if ((rc = flush_chunk(ld, err)) != SL_OK) {
        goto fail;
    }
    /* Close reports constraint violations (NOT NULL) found while flushing. */
    if (duckdb_appender_close(ld->app) == DuckDBError) {
        rc = appender_fail(ld, ld->table, err);
        goto fail;
    }
    (void)duckdb_appender_destroy(&ld->app);
    if ((rc = record_load(ld, rows_loaded, rows_rejected, err)) != SL_OK) {
        goto fail;
    }
    if ((rc = exec(wh, "COMMIT", err)) != SL_OK) {
        goto fail;
    }
    free_load(ld);
    return SL_OK;
fail:
    dd_load_abort(ld);
    return rc;
}

/* ---- query output -----------------------------------------------------------
 */

enum rmode {
    R_TEXT,   /* a top-level cell in table/CSV output: strings as they are */
    R_NESTED, /* inside a LIST/STRUCT in text output: strings 'quoted' */
    R_JSON,   /* JSON value */
};

static int render(struct sl_buf *b, duckdb_vector v, duckdb_logical_type lt,
                  idx_t row, enum rmode m);

static int put_i128(struct sl_buf *b, __int128 v, unsigned scale)
{
    char tmp[64];
    size_t n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0 || n <= scale);
    int rc = neg ? sl__buf_putc(b, '-') : SL_OK;
    while (rc == SL_OK && n > 0) {
        if (n == scale && scale > 0) {
            rc = sl__buf_putc(b, '.');
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, tmp[--n]);
        }
    }
    return rc;
}

static int put_u128(struct sl_buf *b, unsigned __int128 u)
{
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    int rc = SL_OK;
    while (rc == SL_OK && n > 0) {
        rc = sl__buf_putc(b, tmp[--n]);
    }
    return rc;
}

/* Shortest text that reads back as the same double (or float). */
static int put_double(struct sl_buf *b, double d, bool is_float, enum rmode m)
{
    if (!isfinite(d)) {
        const char *s = isnan(d) ? "nan" : d > 0 ? "inf" : "-inf";
        return m == R_JSON ? sl__buf_printf(b, "\"%s\"", s)
                           : sl__buf_printf(b, "%s", s);
    }
    char tmp[40];
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (is_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d) {
            break;
        }
    }
    return sl__buf_append(b, tmp, strlen(tmp));
}

static int put_text(struct sl_buf *b, const char *s, size_t n, enum rmode m)
{
    if (m == R_JSON) {
        return sl__buf_json_str(b, s, n);
    }
    if (m == R_TEXT) {
        return sl__buf_append(b, s, n);
    }
    int rc = sl__buf_putc(b, '\'');
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = s[i] == '\'' ? sl__buf_append(b, "''", 2) : sl__buf_putc(b, s[i]);
    }
    return rc == SL_OK ? sl__buf_putc(b, '\'') : rc;
}

/* Render a value through DuckDB's own ToString (dates, times, intervals...);
 * takes ownership of val. */
static int put_value(struct sl_buf *b, duckdb_value val, enum rmode m)
{
    if (val == NULL) {
        return sl__buf_append(b, "null", m == R_JSON ? 4 : 0);
    }
    char *s = duckdb_get_varchar(val);
    int rc = put_text(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0,
                      m == R_NESTED ? R_TEXT : m);
    if (s != NULL) {
        duckdb_free(s);
    }
    duckdb_destroy_value(&val);
    return rc;
}

static int put_blob(struct sl_buf *b, const char *s, size_t n, enum rmode m)
{
    /* DuckDB's BLOB text: printable ASCII as is, other bytes as \xHH. */
    struct sl_buf t;
    sl__buf_init(&t);
    int rc = sl__buf_reserve(&t, n);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"') {
            rc = sl__buf_putc(&t, (char)c);
        } else {
            rc = sl__buf_printf(&t, "\\x%02X", c);
        }
    }
    if (rc == SL_OK) {
        rc = put_text(b, t.data != NULL ? t.data : "", t.len, m);
    }
    sl__buf_release(&t);
    return rc;
}

static int render_struct(struct sl_buf *b, duckdb_vector v,
                         duckdb_logical_type lt, idx_t row, enum rmode m)
{
    idx_t n = duckdb_struct_type_child_count(lt);
    int rc = sl__buf_putc(b, '{');
    for (idx_t i = 0; rc == SL_OK && i < n; i++) {
        char *name = duckdb_struct_type_child_name(lt, i);
        duckdb_logical_type kt = duckdb_struct_type_child_type(lt, i);
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == R_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = m == R_JSON ? sl__buf_json_str(b, name, strlen(name))
                             : put_text(b, name, strlen(name), R_NESTED);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, ": ", m == R_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = render(b, duckdb_struct_vector_get_child(v, i), kt, row,
                        m == R_JSON ? R_JSON : R_NESTED);
        }
        duckdb_free(name);
        duckdb_destroy_logical_type(&kt);
    }
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

static int render_elems(struct sl_buf *b, duckdb_vector child,
                        duckdb_logical_type et, idx_t off, idx_t len,
                        enum rmode m)
{
    int rc = sl__buf_putc(b, '[');
    for (idx_t i = 0; rc == SL_OK && i < len; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == R_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = render(b, child, et, off + i, m == R_JSON ? R_JSON : R_NESTED);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, ']') : rc;
}

/* MAP is a LIST of STRUCT(key, value): {k=v, ...} in text, an object in JSON
 * (keys as their text). */
static int render_map(struct sl_buf *b, duckdb_vector v, duckdb_logical_type lt,
                      idx_t row, enum rmode m)
{
    duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[row];
    duckdb_vector kv = duckdb_list_vector_get_child(v);
    duckdb_vector kvec = duckdb_struct_vector_get_child(kv, 0);
    duckdb_vector vvec = duckdb_struct_vector_get_child(kv, 1);
    duckdb_logical_type kt = duckdb_map_type_key_type(lt);
    duckdb_logical_type vt = duckdb_map_type_value_type(lt);
    struct sl_buf key;
    sl__buf_init(&key);
    int rc = sl__buf_putc(b, '{');
    for (idx_t i = 0; rc == SL_OK && i < e.length; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == R_JSON ? 1 : 2);
        }
        sl__buf_reset(&key);
        if (rc == SL_OK) {
            rc = render(&key, kvec, kt, e.offset + i,
                        m == R_JSON ? R_TEXT : R_NESTED);
        }
        if (rc == SL_OK) {
            rc = m == R_JSON
                     ? sl__buf_json_str(b, key.data ? key.data : "", key.len)
                     : sl__buf_append(b, key.data ? key.data : "", key.len);
        }
        if (rc == SL_OK) {
            rc = m == R_JSON ? sl__buf_putc(b, ':') : sl__buf_putc(b, '=');
        }
        if (rc == SL_OK) {
            rc = render(b, vvec, vt, e.offset + i,
                        m == R_JSON ? R_JSON : R_NESTED);
        }
    }
    sl__buf_release(&key);
    duckdb_destroy_logical_type(&kt);
    duckdb_destroy_logical_type(&vt);
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

static int render(struct sl_buf *b, duckdb_vector v, duckdb_logical_type lt,
                  idx_t row, enum rmode m)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, row)) {
        return m == R_TEXT ? SL_OK : sl__buf_append(b, "null", 4);
    }
    void *d = duckdb_vector_get_data(v);
    duckdb_type id = duckdb_get_type_id(lt);
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        return sl__buf_printf(b, "%s", ((bool *)d)[row] ? "true" : "false");
    case DUCKDB_TYPE_TINYINT:
        return sl__buf_printf(b, "%d", ((int8_t *)d)[row]);
    case DUCKDB_TYPE_SMALLINT:
        return sl__buf_printf(b, "%d", ((int16_t *)d)[row]);
    case DUCKDB_TYPE_INTEGER:
        return sl__buf_printf(b, "%d", ((int32_t *)d)[row]);
    case DUCKDB_TYPE_BIGINT:
        return sl__buf_printf(b, "%lld", (long long)((int64_t *)d)[row]);
    case DUCKDB_TYPE_UTINYINT:
        return sl__buf_printf(b, "%u", ((uint8_t *)d)[row]);
    case DUCKDB_TYPE_USMALLINT:
        return sl__buf_printf(b, "%u", ((uint16_t *)d)[row]);
    case DUCKDB_TYPE_UINTEGER:
        return sl__buf_printf(b, "%u", ((uint32_t *)d)[row]);
    case DUCKDB_TYPE_UBIGINT:
        return sl__buf_printf(b, "%llu",
                              (unsigned long long)((uint64_t *)d)[row]);
    case DUCKDB_TYPE_HUGEINT: {
        duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
        return put_i128(
            b,
            (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower),
            0);
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)d)[row];
        return put_u128(b, ((unsigned __int128)h.upper << 64) | h.lower);
    }
    case DUCKDB_TYPE_FLOAT:
        return put_double(b, ((float *)d)[row], true, m);
    case DUCKDB_TYPE_DOUBLE:
        return put_double(b, ((double *)d)[row], false, m);
    case DUCKDB_TYPE_DECIMAL: {
        unsigned scale = duckdb_decimal_scale(lt);
        __int128 x;
        switch (duckdb_decimal_internal_type(lt)) {
        case DUCKDB_TYPE_SMALLINT:
            x = ((int16_t *)d)[row];
            break;
        case DUCKDB_TYPE_INTEGER:
            x = ((int32_t *)d)[row];
            break;
        case DUCKDB_TYPE_BIGINT:
            x = ((int64_t *)d)[row];
            break;
        default: {
            duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
            x = (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) |
                           h.lower);
            break;
        }
        }
        return put_i128(b, x, scale);
    }
    case DUCKDB_TYPE_VARCHAR: {
        duckdb_string_t *s = (duckdb_string_t *)d + row;
        const char *p = duckdb_string_t_data(s);
        uint32_t n = duckdb_string_t_length(*s);
        if (m == R_JSON) {
            char *alias = duckdb_logical_type_get_alias(lt);
            bool is_json = alias != NULL && strcmp(alias, "JSON") == 0;
            if (alias != NULL) {
                duckdb_free(alias);
            }
            if (is_json && n > 0) {
                return sl__buf_append(b, p, n); /* already JSON text */
            }
        }
        return put_text(b, p, n, m);
    }
    case DUCKDB_TYPE_BLOB: {
        duckdb_string_t *s = (duckdb_string_t *)d + row;
        return put_blob(b, duckdb_string_t_data(s), duckdb_string_t_length(*s),
                        m);
    }
    case DUCKDB_TYPE_DATE:
        return put_value(b, duckdb_create_date(((duckdb_date *)d)[row]), m);
    case DUCKDB_TYPE_TIME:
        return put_value(b, duckdb_create_time(((duckdb_time *)d)[row]), m);
    case DUCKDB_TYPE_TIME_TZ:
        return put_value(
            b, duckdb_create_time_tz_value(((duckdb_time_tz *)d)[row]), m);
    case DUCKDB_TYPE_TIME_NS:
        return put_value(b, duckdb_create_time_ns(((duckdb_time_ns *)d)[row]),
                         m);
    case DUCKDB_TYPE_TIMESTAMP:
        return put_value(
            b, duckdb_create_timestamp(((duckdb_timestamp *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return put_value(
            b, duckdb_create_timestamp_tz(((duckdb_timestamp *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_S:
        return put_value(
            b, duckdb_create_timestamp_s(((duckdb_timestamp_s *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return put_value(
            b, duckdb_create_timestamp_ms(((duckdb_timestamp_ms *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return put_value(
            b, duckdb_create_timestamp_ns(((duckdb_timestamp_ns *)d)[row]), m);
    case DUCKDB_TYPE_INTERVAL:
        return put_value(b, duckdb_create_interval(((duckdb_interval *)d)[row]),
                         m);
    case DUCKDB_TYPE_UUID: {
        /* Stored as a hugeint with the top bit flipped (so it sorts). */
        duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
        duckdb_uhugeint u = {h.lower, (uint64_t)h.upper ^ (UINT64_C(1) << 63)};
        return put_value(b, duckdb_create_uuid(u), m);
    }
    case DUCKDB_TYPE_ENUM: {
        uint64_t idx;
        switch (duckdb_enum_internal_type(lt)) {
        case DUCKDB_TYPE_UTINYINT:
            idx = ((uint8_t *)d)[row];
            break;
        case DUCKDB_TYPE_USMALLINT:
            idx = ((uint16_t *)d)[row];
            break;
        default:
            idx = ((uint32_t *)d)[row];
            break;
        }
        char *s = duckdb_enum_dictionary_value(lt, idx);
        int rc = put_text(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, m);
        if (s != NULL) {
            duckdb_free(s);
        }
        return rc;
    }
    case DUCKDB_TYPE_STRUCT:
        return render_struct(b, v, lt, row, m);
    case DUCKDB_TYPE_LIST: {
        duckdb_list_entry e = ((duckdb_list_entry *)d)[row];
        duckdb_logical_type et = duckdb_list_type_child_type(lt);
        int rc = render_elems(b, duckdb_list_vector_get_child(v), et, e.offset,
                              e.length, m);
        duckdb_destroy_logical_type(&et);
        return rc;
    }
    case DUCKDB_TYPE_ARRAY: {
        idx_t n = duckdb_array_type_array_size(lt);
        duckdb_logical_type et = duckdb_array_type_child_type(lt);
        int rc = render_elems(b, duckdb_array_vector_get_child(v), et, row * n,
                              n, m);
        duckdb_destroy_logical_type(&et);
        return rc;
    }
    case DUCKDB_TYPE_MAP:
        return render_map(b, v, lt, row, m);
    case DUCKDB_TYPE_UNION: {
        /* A union is a struct of (tag, member...); show the active member. */
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(
            duckdb_struct_vector_get_child(v, 0)))[row];
        duckdb_logical_type mt = duckdb_union_type_member_type(lt, tag);
        int rc = render(b, duckdb_struct_vector_get_child(v, (idx_t)tag + 1),
                        mt, row, m);
        duckdb_destroy_logical_type(&mt);
        return rc;
    }
    case DUCKDB_TYPE_SQLNULL:
        return m == R_TEXT ? SL_OK : sl__buf_append(b, "null", 4);
    default: {
        /* BIT, BIGNUM and future types: say what it is rather than guess bytes.
         */
        char tmp[48];
        snprintf(tmp, sizeof(tmp), "<unsupported type %d>", (int)id);
        return put_text(b, tmp, strlen(tmp), m == R_NESTED ? R_TEXT : m);
    }
    }
}

static bool is_numeric_type(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
        return true;
    default:
        return false;
    }
}

/* Display width of UTF-8 text in code points (wide characters count 1). */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        w += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return w;
}

/* CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF, and
 * quotes doubled. An empty string is written as "" so it differs from NULL. */
static int csv_field(struct sl_buf *b, const char *s, size_t n, bool is_null)
{
    if (is_null) {
        return SL_OK;
    }
    bool q = n == 0 || strpbrk(s, ",\"\r\n") != NULL;
    if (!q) {
        return sl__buf_append(b, s, n);
    }
    int rc = sl__buf_putc(b, '"');
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = s[i] == '"' ? sl__buf_append(b, "\"\"", 2) : sl__buf_putc(b, s[i]);
    }
    return rc == SL_OK ? sl__buf_putc(b, '"') : rc;
}

/* Cells of the table format, kept until all widths are known. */
struct grid {
    struct sl_buf text; /* every cell's text, back to back */
    size_t *off;        /* cell i is text[off[i], off[i+1]) */
    size_t n, cap;      /* cells stored (n+1 offsets) */
};

static int grid_push(struct grid *g, size_t end)
{
    if (g->n + 2 > g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 256;
        size_t *o = sl__realloc(g->off, ncap * sizeof(*o));
        if (o == NULL) {
            return -SL_ENOMEM;
        }
        g->off = o;
        g->cap = ncap;
    }
    g->off[++g->n] = end;
    return SL_OK;
}

/* Table cells cannot hold line breaks or tabs without breaking the layout. */
static int table_cell(struct grid *g, const char *s, size_t n)
{
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        switch (s[i]) {
        case '\n':
            rc = sl__buf_append(&g->text, "\\n", 2);
            break;
        case '\r':
            rc = sl__buf_append(&g->text, "\\r", 2);
            break;
        case '\t':
            rc = sl__buf_append(&g->text, "\\t", 2);
            break;
        default:
            rc = sl__buf_putc(&g->text, s[i]);
        }
    }
    return rc == SL_OK ? grid_push(g, g->text.len) : rc;
}

static int pad(struct sl_buf *b, size_t n)
{
    int rc = SL_OK;
    while (rc == SL_OK && n-- > 0) {
        rc = sl__buf_putc(b, ' ');
    }
    return rc;
}

static int print_grid(struct sl_buf *b, struct grid *g, idx_t ncol,
                      const bool *right, size_t rows)
{
    size_t *w = sl__calloc(ncol, sizeof(*w));
    if (w == NULL) {
        return -SL_ENOMEM;
    }
    const char *t = g->text.data != NULL ? g->text.data : "";
    for (size_t i = 0; i < g->n; i++) {
        size_t cw = text_width(t + g->off[i], g->off[i + 1] - g->off[i]);
        if (cw > w[i % ncol]) {
            w[i % ncol] = cw;
        }
    }
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < g->n; i++) {
        idx_t c = i % ncol;
        size_t len = g->off[i + 1] - g->off[i];
        size_t gap = w[c] - text_width(t + g->off[i], len);
        bool r = right[c] && i >= ncol; /* headers stay left */
        if (c > 0) {
            rc = sl__buf_append(b, " | ", 3);
        }
        if (rc == SL_OK && r) {
            rc = pad(b, gap);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, t + g->off[i], len);
        }
        if (rc == SL_OK && !r && c + 1 < ncol) {
            rc = pad(b, gap);
        }
        if (rc == SL_OK && c + 1 == ncol) {
            rc = sl__buf_putc(b, '\n');
        }
        if (rc == SL_OK && i + 1 == ncol) { /* separator under the header */
            for (idx_t k = 0; rc == SL_OK && k < ncol; k++) {
                for (size_t j = 0;
                     rc == SL_OK && j < w[k] + (k > 0) + (k + 1 < ncol); j++) {
                    rc = sl__buf_putc(b, '-');
                }
                if (rc == SL_OK && k + 1 < ncol) {
                    rc = sl__buf_putc(b, '+');
                }
            }
            if (rc == SL_OK) {
                rc = sl__buf_putc(b, '\n');
            }
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_printf(b, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
    }
    sl__free(w);
    return rc;
}

static int write_out(FILE *out, struct sl_buf *b, struct sl_error *err)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len) {
        int e = errno;
        int rc = SL_ERR(err, -SL_EIO, "writing query output: %s", strerror(e));
        if (err != NULL) {
            err->sub = e;
        }
        return rc;
    }
    sl__buf_reset(b);
    return SL_OK;
}

static int dd_query(struct sl_wh *wh, const char *sql, enum sl_query_format fmt,
                    FILE *out, struct sl_error *err)
{
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE, "duckdb: query during a load");
    }
    duckdb_result res;
    if (duckdb_query(wh->con, sql, &res) == DuckDBError) {
        int rc = wh_fail(err, (int)duckdb_result_error_type(&res), "query",
                         duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    idx_t ncol = duckdb_column_count(&res);
    struct sl_buf b, cell;
    struct grid g = {0};
    sl__buf_init(&b);
    sl__buf_init(&cell);
    sl__buf_init(&g.text);
    duckdb_logical_type *types = sl__calloc(ncol ? ncol : 1, sizeof(*types));
    bool *right = sl__calloc(ncol ? ncol : 1, sizeof(*right));
    int rc = types != NULL && right != NULL ? SL_OK : -SL_ENOMEM;
    if (rc == SL_OK && fmt == SL_QF_TABLE) {
        g.cap = 256;
        g.off = sl__malloc(g.cap * sizeof(*g.off));
        rc = g.off != NULL ? SL_OK : -SL_ENOMEM;
        if (rc == SL_OK) {
            g.off[0] = 0; /* the start of cell 0 */
        }
    }
    for (idx_t c = 0; rc == SL_OK && c < ncol; c++) {
        types[c] = duckdb_column_logical_type(&res, c);
        right[c] = is_numeric_type(duckdb_get_type_id(types[c]));
        const char *name = duckdb_column_name(&res, c);
        if (fmt == SL_QF_TABLE) {
            rc = table_cell(&g, name, strlen(name));
        } else if (fmt == SL_QF_CSV) {
            rc = c > 0 ? sl__buf_putc(&b, ',') : SL_OK;
            if (rc == SL_OK) {
                rc = csv_field(&b, name, strlen(name), false);
            }
        }
    }
    if (rc == SL_OK && fmt == SL_QF_CSV && ncol > 0) {
        rc = sl__buf_append(&b, "\n", 1);
    }
    size_t rows = 0;
    duckdb_data_chunk ch = NULL;
    while (rc == SL_OK && ncol > 0 && (ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(ch);
        for (idx_t r = 0; rc == SL_OK && r < n; r++, rows++) {
            if (fmt == SL_QF_JSON) {
                rc = sl__buf_putc(&b, '{');
            }
            for (idx_t c = 0; rc == SL_OK && c < ncol; c++) {
                duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
                uint64_t *valid = duckdb_vector_get_validity(v);
                bool is_null =
                    valid != NULL && !duckdb_validity_row_is_valid(valid, r);
                if (fmt == SL_QF_JSON) {
                    const char *name = duckdb_column_name(&res, c);
                    rc = c > 0 ? sl__buf_putc(&b, ',') : SL_OK;
                    if (rc == SL_OK) {
                        rc = sl__buf_json_str(&b, name, strlen(name));
                    }
                    if (rc == SL_OK) {
                        rc = sl__buf_putc(&b, ':');
                    }
                    if (rc == SL_OK) {
                        rc = render(&b, v, types[c], r, R_JSON);
                    }
                    continue;
                }
                sl__buf_reset(&cell);
                rc = render(&cell, v, types[c], r, R_TEXT);
                const char *s = cell.data != NULL ? cell.data : "";
                if (rc != SL_OK) {
                    break;
                }
                if (fmt == SL_QF_TABLE) {
                    rc = is_null ? table_cell(&g, "NULL", 4)
                                 : table_cell(&g, s, cell.len);
                } else {
                    rc = c > 0 ? sl__buf_putc(&b, ',') : SL_OK;
                    if (rc == SL_OK) {
                        rc = csv_field(&b, s, cell.len, is_null);
                    }
                }
            }
            if (rc == SL_OK && fmt == SL_QF_JSON) {
                rc = sl__buf_append(&b, "}\n", 2);
            } else if (rc == SL_OK && fmt == SL_QF_CSV) {
                rc = sl__buf_append(&b, "\n", 1);
            }
        }
        duckdb_destroy_data_chunk(&ch);
        if (rc == SL_OK && fmt != SL_QF_TABLE) {
            rc = write_out(out, &b, err);
        }
    }
    if (rc == SL_OK && fmt == SL_QF_TABLE && ncol > 0) {
        rc = print_grid(&b, &g, ncol, right, rows);
    }
    if (rc == SL_OK) {
        rc = write_out(out, &b, err);
    }
    if (rc == -SL_ENOMEM) {
        rc = nomem(err);
    }
    for (idx_t c = 0; types != NULL && c < ncol; c++) {
        if (types[c] != NULL) {
            duckdb_destroy_logical_type(&types[c]);
        }
    }
    sl__free(types);
    sl__free(right);
    sl__free(g.off);
    sl__buf_release(&g.text);
    sl__buf_release(&b);
    sl__buf_release(&cell);
    duckdb_destroy_result(&res);
    return rc;
}

const struct sl_wh_ops sl__duckdb_ops = {
    .scheme = "duckdb",
    .open = dd_open,
    .close = dd_close,
    .ensure_table = dd_ensure_table,
    .loaded_before = dd_loaded_before,
    .load_begin = dd_load_begin,
    .load_row = dd_load_row,
    .load_commit = dd_load_commit,
    .load_abort = dd_load_abort,
    .query = dd_query,
};
