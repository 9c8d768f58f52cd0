/* duckdb.c - the embedded DuckDB warehouse driver: opens a database file,
 * creates tables from definitions (docs/TYPES.md has the type mapping), loads
 * validated rows through the appender's data chunk API inside one transaction
 * per load, and runs queries as cursors of typed rows. warehouse stage.
 *
 * Thread-safety: a struct sl_wh (and any load on it) must be used by one thread
 * at a time; it owns one DuckDB connection, and a connection carries one
 * transaction. For parallel work open one sl_wh per thread: handles on the same
 * file share one DuckDB instance (a process-wide instance cache) and are
 * isolated from each other by DuckDB's transactions. Only one *process* may
 * open a file; a second one fails at open with the lock holder named.
 * At most one load is in progress per sl_wh, and ensure_table/query are refused
 * while it is (they would run inside the load's transaction); at most one
 * query cursor is open per sl_wh, and it is closed before the sl_wh.
 *
 * This file: open/close, the statement helpers, ensure_table,
 * loaded_before and the ops table; duckdb_plan.c, duckdb_load.c and
 * duckdb_cursor.c hold the rest (shared layouts in duckdb_int.h). */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/driver.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/warehouse_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors and statements ------------------------------------------------
 */

int sl__duckdb_fail(struct sl_error *err, int sub, const char *what,
                    const char *detail)
{
    int rc = SL_ERR(err, -SL_EWAREHOUSE, "duckdb: %s: %s", what,
                    detail != NULL ? detail : "unknown error");
    if (err != NULL && err->sub == 0) {
        err->sub = sub;
    }
    return rc;
}

int sl__duckdb_nomem(struct sl_error *err)
{
    return SL_ERR(err, -SL_ENOMEM, "duckdb driver: out of memory");
}

/* Run one statement whose result is not needed. */
int sl__duckdb_exec(struct sl_wh *wh, const char *sql, struct sl_error *err)
{
    duckdb_result res;
    int rc = SL_OK;
    if (duckdb_query(wh->con, sql, &res) == DuckDBError) {
        rc = sl__duckdb_fail_result(err, &res, sql);
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* Catalog changes (CREATE SCHEMA/TABLE, the audit tables) one at a time in
 * this process: two connections creating at once conflict in DuckDB's
 * catalog ("write-write conflict"), which would fail a batch for nothing.
 * Recursive: ensure_table prepares the audit tables inside its own turn. */
static pthread_mutex_t ddl_mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void sl__duckdb_ddl_lock(void)
{
    pthread_mutex_lock(&ddl_mu);
}

void sl__duckdb_ddl_unlock(void)
{
    pthread_mutex_unlock(&ddl_mu);
}

/* ROLLBACK after a failure; its own failure cannot add anything useful. */
void sl__duckdb_rollback(struct sl_wh *wh)
{
    duckdb_result res;
    (void)duckdb_query(wh->con, "ROLLBACK", &res);
    duckdb_destroy_result(&res);
}

int sl__duckdb_prepare(struct sl_wh *wh, const char *sql,
                       duckdb_prepared_statement *out, struct sl_error *err)
{
    if (duckdb_prepare(wh->con, sql, out) == DuckDBError) {
        int rc = sl__duckdb_fail(err, 0, sql, duckdb_prepare_error(*out));
        duckdb_destroy_prepare(out);
        return rc;
    }
    return SL_OK;
}

int sl__duckdb_run_prepared(duckdb_prepared_statement st, const char *what,
                            duckdb_result *res, struct sl_error *err)
{
    if (duckdb_execute_prepared(st, res) == DuckDBError) {
        int rc = sl__duckdb_fail(err, (int)duckdb_result_error_type(res), what,
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

/* The catalog name DuckDB gave the database (the file's base name, "memory"
 * for :memory:): tables are named with it (sl__duckdb_qualified). */
static int read_catalog(struct sl_wh *wh, struct sl_error *err)
{
    duckdb_result res;
    if (duckdb_query(wh->con, "SELECT current_database()", &res) ==
        DuckDBError) {
        return sl__duckdb_fail_result(err, &res, "current_database()");
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(res);
    int rc = SL_OK;
    size_t n = 0;
    const char *s = ch != NULL && duckdb_data_chunk_get_size(ch) > 0
                        ? cell_str(ch, 0, 0, &n)
                        : NULL;
    if (s != NULL && (wh->catalog = sl__strndup(s, n)) == NULL) {
        rc = sl__duckdb_nomem(err);
    }
    if (ch != NULL) {
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return rc;
}

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
        sl__duckdb_load_free(wh->active);
        sl__duckdb_rollback(wh);
    }
    if (wh->con != NULL) {
        duckdb_disconnect(&wh->con);
    }
    if (wh->db != NULL) {
        duckdb_close(&wh->db);
    }
    sl__free(wh->path);
    sl__free(wh->catalog);
    sl__free(wh);
}

/* Who holds a lock on path that conflicts with the access we want (F_GETLK:
 * DuckDB locks its file with fcntl): the holder's pid and program name in
 * out, false when nobody does. */
static bool lock_holder(const char *path, bool write, char *out, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    struct flock fl = {.l_type = write ? F_WRLCK : F_RDLCK,
                       .l_whence = SEEK_SET};
    bool held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    if (!held) {
        return false;
    }
    char comm[64] = "?", proc[64];
    snprintf(proc, sizeof(proc), "/proc/%ld/comm", (long)fl.l_pid);
    FILE *f = fopen(proc, "r");
    if (f != NULL) {
        if (fgets(comm, sizeof(comm), f) != NULL) {
            comm[strcspn(comm, "\n")] = '\0';
        }
        fclose(f);
    }
    snprintf(out, size, "pid %ld (%s)", (long)fl.l_pid, comm);
    return true;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One attempt at the instance; *out_busy when another process holds a
 * conflicting lock (holder named in who). */
static int open_instance(struct sl_wh *wh, const char *path,
                         const struct sl_wh_open_opts *o, bool *out_busy,
                         char *who, size_t who_size, struct sl_error *err)
{
    *out_busy = false;
    duckdb_config cfg = NULL;
    char *derr = NULL;
    int rc = SL_OK;
    if (duckdb_create_config(&cfg) == DuckDBError) {
        return sl__duckdb_fail(err, 0, path, "cannot create a configuration");
    }
    /* Never download extensions behind the user's back (JSON is probed
     * below; an auto-install would hit the network from a data loader). */
    (void)duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    /* New files in the current storage format: with the default (v0.10) an
     * empty column costs ~3 KB of metadata, so the 1,217 real tables made a
     * 110 MB file that took ~1 s to open; now 5 MB and ~0.1 s
     * (BENCHMARKS.md, "Registry"). Existing files keep their format. */
    (void)duckdb_set_config(cfg, "storage_compatibility_version", "latest");
    if (o->mode == SL_WH_READ && strcmp(path, ":memory:") != 0) {
        (void)duckdb_set_config(cfg, "access_mode", "READ_ONLY");
    } else {
        /* Set once for the instance, never per load (both settings are
         * global): the thread budget, and no insertion order to keep, so
         * INSERT ... SELECT runs on every thread. */
        char th[16];
        snprintf(th, sizeof(th), "%u", o->threads > 0 ? o->threads : 1);
        if (o->threads > 0) {
            (void)duckdb_set_config(cfg, "threads", th);
        }
        (void)duckdb_set_config(cfg, "preserve_insertion_order", "false");
    }
    /* Two DuckDB instances on one file in one process would both write it
     * (the file lock only stops other processes), so file databases go
     * through a process-wide instance cache: every sl_wh on the same file
     * shares one instance, each with its own connection. The cache lets an
     * instance go when its last handle closes (and the file lock with it). */
    duckdb_state st;
    if (strcmp(path, ":memory:") == 0) {
        st = duckdb_open_ext(path, &wh->db, cfg, &derr);
    } else {
        /* one opening at a time in this process: two threads creating the
         * same file's instance at once could both try to lock it */
        static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
        (void)pthread_once(&cache_once, cache_init);
        pthread_mutex_lock(&open_mu);
        st = instance_cache == NULL
                 ? duckdb_open_ext(path, &wh->db, cfg, &derr)
                 : duckdb_get_or_create_from_cache(instance_cache, path,
                                                   &wh->db, cfg, &derr);
        pthread_mutex_unlock(&open_mu);
    }
    if (st == DuckDBError) {
        wh->db = NULL;
        /* the lock may be gone by the time we look: DuckDB's own words then
         * say it was a lock (it gives no error code at open) */
        bool lock = derr != NULL && strstr(derr, "Could not set lock") != NULL;
        if (lock_holder(path, o->mode != SL_WH_READ, who, who_size) || lock) {
            if (who[0] == '\0') {
                snprintf(who, who_size, "another process");
            }
            *out_busy = true;
            rc =
                SL_ERR(err, -SL_EBUSY, "duckdb: %s is locked by %s", path, who);
        } else {
            rc = SL_ERR(err, -SL_EWAREHOUSE, "duckdb: cannot open %s: %s", path,
                        derr != NULL ? derr : "unknown error");
        }
        sl__error_path(err, path);
    }
    if (derr != NULL) {
        duckdb_free(derr);
    }
    duckdb_destroy_config(&cfg);
    return rc;
}

/* Open the instance, waiting up to o->lock_timeout_ms for another process's
 * lock to go (backing off from 10 ms to 500 ms). */
static int open_waiting(struct sl_wh *wh, const char *path,
                        const struct sl_wh_open_opts *o, struct sl_error *err)
{
    int64_t deadline = mono_ms() + o->lock_timeout_ms;
    uint32_t pause = 10;
    bool told = false;
    for (;;) {
        bool busy = false;
        char who[160] = "";
        struct sl_error e = {0};
        int rc = open_instance(wh, path, o, &busy, who, sizeof(who), &e);
        int64_t left = deadline - mono_ms();
        if (rc == SL_OK || !busy || left <= 0) {
            if (rc != SL_OK && err != NULL && err->code == 0) {
                *err = e;
                if (busy) {
                    err->retry_after_ms = 1000;
                }
            }
            return rc;
        }
        if (!told && o->waiting != NULL) {
            o->waiting(o->waiting_ud, who);
            told = true;
        }
        sleep_ms(pause < left ? pause : (uint32_t)left);
        pause = pause * 2 > 500 ? 500 : pause * 2;
    }
}

static int dd_open(const char *uri, const struct sl_wh_open_opts *o,
                   struct sl_wh **out, struct sl_error *err)
{
    *out = NULL;
    static const struct sl_wh_open_opts defaults = {.mode = SL_WH_CREATE};
    if (o == NULL) {
        o = &defaults;
    }
    const char *path = uri_path(uri);
    if (path[0] == '\0') {
        return SL_ERR(err, -SL_EUSAGE, "duckdb: no database file in \"%s\"",
                      uri);
    }
    struct stat st;
    if (o->mode != SL_WH_CREATE && strcmp(path, ":memory:") != 0 &&
        stat(path, &st) != 0) {
        int rc = SL_ERR(err, -SL_ENOTFOUND,
                        "no warehouse at %s (nothing was created; `sluice "
                        "schema apply`, `load` and `run` create one)",
                        path);
        sl__error_path(err, path);
        return rc;
    }
    int lrc = sl__duckdb_load(err);
    if (lrc != SL_OK) {
        return lrc;
    }
    struct sl_wh *wh = sl__calloc(1, sizeof(*wh));
    if (wh == NULL || (wh->path = sl__strdup(path)) == NULL) {
        sl__free(wh);
        return sl__duckdb_nomem(err);
    }
    wh->read_only = o->mode == SL_WH_READ;
    int rc = open_waiting(wh, path, o, err);
    if (rc != SL_OK) {
        goto out;
    }
    if (duckdb_connect(wh->db, &wh->con) == DuckDBError) {
        wh->con = NULL;
        rc = sl__duckdb_fail(err, 0, path, "cannot connect");
        goto out;
    }
    /* JSON is an extension type; statically linked in the usual builds but
     * not guaranteed. Without it JSON columns are VARCHAR (docs/TYPES.md). */
    duckdb_result res;
    wh->has_json =
        duckdb_query(wh->con, "SELECT '1'::JSON", &res) == DuckDBSuccess;
    duckdb_destroy_result(&res);
    if (!wh->read_only) {
        sl__duckdb_par_register(wh);
    }
    rc = read_catalog(wh, err);
out:
    if (rc != SL_OK) {
        dd_close(wh);
        return rc;
    }
    *out = wh;
    return SL_OK;
}

static void dd_local_files(const char *uri, struct sl_wh_files *out)
{
    static const char *const what[] = {"the warehouse", "the warehouse's WAL",
                                       "the warehouse's temporary folder"};
    static const char *const suffix[] = {"", ".wal", ".tmp"};
    const char *path = uri_path(uri);
    out->n = 0;
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0) {
        return;
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(what); i++) {
        int n = snprintf(out->path[out->n], sizeof(out->path[0]), "%s%s", path,
                         suffix[i]);
        if (n > 0 && (size_t)n < sizeof(out->path[0])) {
            out->what[out->n++] = what[i];
        }
    }
}

/* ---- ensure_table
 * ------------------------------------------------------------ */

int sl__duckdb_qualified(const struct sl_wh *wh, struct sl_buf *b,
                         const char *dataset, const char *name)
{
    int rc = SL_OK;
    if (wh != NULL && wh->catalog != NULL) {
        rc = sl__sql_quote_ident(b, wh->catalog);
        rc = rc ? rc : sl__buf_putc(b, '.');
    }
    rc = rc ? rc : sl__sql_quote_ident(b, dataset);
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

int sl__duckdb_query2(struct sl_wh *wh, const char *sql, const char *a,
                      const char *b, const char *what, duckdb_result *res,
                      struct sl_error *err)
{
    duckdb_prepared_statement st = NULL;
    int rc = sl__duckdb_prepare(wh, sql, &st, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (duckdb_bind_varchar(st, 1, a) == DuckDBError ||
        duckdb_bind_varchar(st, 2, b) == DuckDBError) {
        rc = sl__duckdb_fail(err, 0, "bind", duckdb_prepare_error(st));
    } else {
        rc = sl__duckdb_run_prepared(st, what, res, err);
    }
    duckdb_destroy_prepare(&st);
    return rc;
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
    duckdb_result res;
    int rc = sl__duckdb_query2(wh, sql, dataset, name, "reading the catalog",
                               &res, err);
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
                    rc = sl__duckdb_nomem(err);
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
                rc = sl__duckdb_nomem(err);
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
        rc = sl__duckdb_qualified(wh, &b, t->dataset, t->name);
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(&b, " LIMIT 0", 8);
    }
    if (rc != SL_OK) {
        rc = sl__duckdb_nomem(err);
        goto out;
    }
    if (duckdb_query(wh->con, b.data, &res) == DuckDBError) {
        rc = sl__duckdb_fail(err, (int)duckdb_result_error_type(&res), b.data,
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
        bool same = sl__duckdb_type_matches(c, lt);
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
    if (at < n && sl__duckdb_sql_type(&want, &cols[at]) != SL_OK) {
        rc = sl__duckdb_nomem(err);
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
int sl__duckdb_table_comment(struct sl_buf *b, const struct sl_table *t)
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

int sl__duckdb_create_sql(const struct sl_wh *wh, struct sl_buf *b,
                          const struct sl_table *t, const struct col *cols,
                          bool strict)
{
    int rc = strict ? sl__buf_append(b, "CREATE TABLE ", 13)
                    : sl__buf_append(b, "CREATE TABLE IF NOT EXISTS ", 27);
    if (rc == SL_OK) {
        rc = sl__duckdb_qualified(wh, b, t->dataset, t->name);
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
            rc = sl__duckdb_sql_type(b, &cols[i]);
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
    int rc = sl__duckdb_exec(wh, "BEGIN TRANSACTION", err);
    if (rc != SL_OK) {
        return rc;
    }
    bool oom =
        sl__buf_append(&b, "CREATE SCHEMA IF NOT EXISTS ", 28) != SL_OK ||
        (wh->catalog != NULL &&
         (sl__sql_quote_ident(&b, wh->catalog) != SL_OK ||
          sl__buf_putc(&b, '.') != SL_OK)) ||
        sl__sql_quote_ident(&b, t->dataset) != SL_OK;
    if (oom) {
        goto out;
    }
    if ((rc = sl__duckdb_exec(wh, b.data, err)) != SL_OK) {
        goto out;
    }
    sl__buf_reset(&b);
    if ((oom = sl__duckdb_create_sql(wh, &b, t, cols, false) != SL_OK)) {
        goto out;
    }
    if ((rc = sl__duckdb_exec(wh, b.data, err)) != SL_OK) {
        goto out;
    }
    if ((oom = sl__duckdb_table_comment(&note, t) != SL_OK)) {
        goto out;
    }
    if (note.len > 0) {
        sl__buf_reset(&b);
        oom = sl__buf_append(&b, "COMMENT ON TABLE ", 17) != SL_OK ||
              sl__duckdb_qualified(wh, &b, t->dataset, t->name) != SL_OK ||
              sl__buf_append(&b, " IS ", 4) != SL_OK ||
              sl__sql_quote_literal(&b, note.data) != SL_OK;
        if (oom || (rc = sl__duckdb_exec(wh, b.data, err)) != SL_OK) {
            goto out;
        }
    }
    /* Field descriptions are kept with the recorded definition (view
     * main._sluice_columns), not as column comments: COMMENT ON COLUMN costs
     * ~0.5 ms a statement (docs/EVOLUTION.md). The definition is recorded
     * for `sluice schema plan` (docs/EVOLUTION.md). */
    if ((rc = sl__duckdb_record(wh, t, NULL, err)) != SL_OK) {
        goto out;
    }
    rc = sl__duckdb_exec(wh, "COMMIT", err);
out:
    if (oom) {
        rc = sl__duckdb_nomem(err);
    }
    if (rc != SL_OK) {
        sl__duckdb_rollback(wh);
    }
    sl__buf_release(&b);
    sl__buf_release(&note);
    return rc;
}

static int ensure_table(struct sl_wh *wh, const struct sl_table *t,
                        bool *out_created, struct sl_error *err);

static int dd_ensure_table(struct sl_wh *wh, const struct sl_table *t,
                           bool *out_created, struct sl_error *err)
{
    sl__duckdb_ddl_lock();
    int rc = ensure_table(wh, t, out_created, err);
    sl__duckdb_ddl_unlock();
    return rc;
}

static int ensure_table(struct sl_wh *wh, const struct sl_table *t,
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
    int rc = sl__duckdb_plan_table(t, wh->has_json, &cols, err);
    if (rc == SL_OK) {
        rc = existing_columns(wh, t->dataset, t->name, &ex, &n_ex, err);
    }
    if (rc == SL_OK && n_ex > 0) {
        rc = compare_table(wh, t, cols, ex, n_ex, err);
    } else if (rc == SL_OK) {
        rc = create_table(wh, t, cols, err);
        *out_created = rc == SL_OK;
    }
    if (rc == SL_OK) {
        rc = sl__duckdb_audit_ready(wh, err);
    }
    excols_free(ex, n_ex);
    sl__duckdb_cols_free(cols, t->root.n_fields);
    return rc;
}

static int dd_table_ref(const struct sl_wh *wh, struct sl_buf *b,
                        const char *dataset, const char *name)
{
    return sl__duckdb_qualified(wh, b, dataset, name);
}

const struct sl_wh_ops sl__duckdb_ops = {
    .scheme = "duckdb",
    .open = dd_open,
    .close = dd_close,
    .local_files = dd_local_files,
    .ensure_table = dd_ensure_table,
    .load_batch = sl__duckdb_load_batch,
    .batch_committed = sl__duckdb_batch_committed,
    .file_history = sl__duckdb_file_history,
    .query = sl__duckdb_cursor_open,
    .cursor_columns = sl__duckdb_cursor_columns,
    .cursor_next = sl__duckdb_cursor_next,
    .cursor_close = sl__duckdb_cursor_close,
    .split_statements = sl__duckdb_split_statements,
    .free_statements = sl__duckdb_free_statements,
    .table_ref = dd_table_ref,
    .quote_ident = sl__sql_quote_ident,
    .quote_literal = sl__sql_quote_literal,
    .schema_read = sl__duckdb_schema_read,
    .schema_apply = sl__duckdb_schema_apply,
    .schema_update_in_tx = sl__duckdb_schema_update_in_tx,
};
