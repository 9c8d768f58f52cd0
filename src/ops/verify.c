/* verify.c - proof of delivery (verify.h): ledger, folders and warehouse
 * reconciled file by file, batch by batch and table by table. ops stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "gateway/config.h"
#include "gateway/layout.h"
#include "gateway/resend.h"
#include "ledger/ledger.h"
#include "ops/verify.h"
#include "warehouse/driver.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct vctx {
    const struct sl_verify_opts *o;
    struct sl_gw_config *cfg;
    struct sl_ledger *ledger;
    const struct sl_wh_ops *ops;
    struct sl_wh *wh;
    FILE *out;
    struct sl_verify_result *res;
    /* sorted copies for lookups */
    char **sent_paths; /* ledger paths of loaded/duplicate files */
    size_t n_sent, cap_sent;
    /* tables a rule's SQL fills (or Override replaces): their rows are not
     * the sum of their batches, so only each batch is checked */
    char **sql_tables;
    size_t n_sql, cap_sql;
    struct sl_error *err;
};

static void problem(struct vctx *c, const char *fmt, ...) SL_PRINTF(2, 3);
static void problem(struct vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("discrepancy: ", c->out);
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
    c->res->discrepancies++;
}

static bool table_wanted(const struct vctx *c, const char *table)
{
    const char *t = c->o->table;
    if (t == NULL) {
        return true;
    }
    const char *dot = strchr(table, '.');
    return strcmp(table, t) == 0 ||
           (strchr(t, '.') == NULL && dot != NULL && strcmp(dot + 1, t) == 0);
}

/* Lines of a file (the records of a rejects file); -1 if unreadable. */
static int64_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    int64_t n = 0;
    int ch;
    while ((ch = getc(f)) != EOF) {
        n += ch == '\n';
    }
    fclose(f);
    return n;
}

/* ---- the ledger against the folders
 * ------------------------------------------ */

/* A loaded file's bytes as claimed (its original: the file itself, or the
 * one kept beside its quarantined records) must still be there unchanged in
 * size: a producer that kept writing after the claim, or an edit of the
 * archive, shows here. */
static void check_size(struct vctx *c, const struct sl_lfile *f)
{
    if ((f->state != SL_F_LOADED && f->state != SL_F_DUPLICATE) ||
        f->size <= 0) {
        return; /* size 0: unknown (a ledger rebuilt from the folders) */
    }
    const char *orig = f->orig_path[0] != '\0' ? f->orig_path : f->path;
    char p[SL_GW_PATH];
    struct stat sb;
    if (orig[0] == '\0' || !sl_gw_exists(c->cfg->dir, orig)) {
        return; /* moved or deleted by a rule's action, or reported above */
    }
    sl_gw_abs(c->cfg->dir, orig, p, sizeof(p));
    if (stat(p, &sb) == 0 && (int64_t)sb.st_size != f->size) {
        problem(c,
                "%s: %s holds %lld bytes, %lld when it was claimed (changed "
                "after it was claimed: what was loaded is not what is kept)",
                f->raw_name, orig, (long long)sb.st_size, (long long)f->size);
    }
}

static int on_file(void *ud, const struct sl_lfile *f)
{
    struct vctx *c = ud;
    if (!table_wanted(c, f->table)) {
        return 0;
    }
    c->res->files++;
    const char *root = c->cfg->dir;
    if (!sl_gw_exists(root, f->path)) {
        if (f->prev_path[0] && sl_gw_exists(root, f->prev_path) &&
            c->o->repair) {
            struct sl_error e = {0};
            if (sl_gw_move(root, f->prev_path, f->path, &e) == SL_OK) {
                fprintf(c->out, "repaired: %s moved to %s\n", f->prev_path,
                        f->path);
                c->res->repaired++;
            }
        } else {
            problem(c, "%s (%s): the ledger has it in %s, which does not exist",
                    f->raw_name, sl_fstate_name(f->state), f->path);
        }
    }
    check_size(c, f);
    if (f->rows != f->rows_valid + f->rows_rejected) {
        problem(c, "%s: %lld rows read but %lld loaded + %lld quarantined",
                f->raw_name, (long long)f->rows, (long long)f->rows_valid,
                (long long)f->rows_rejected);
    }
    if (f->rows_rejected > 0 && f->orig_path[0] != '\0') {
        char rj[SL_GW_PATH], rj2[SL_GW_PATH];
        const char *slash = strrchr(f->orig_path, '/');
        int64_t n = -1;
        if (sl_gw_pathf(rj, sizeof(rj), "%s/%s.rejects.ndjson", root,
                        f->orig_path)) {
            n = count_lines(rj);
        }
        if (n < 0 && slash != NULL &&
            sl_gw_pathf(rj2, sizeof(rj2), "%s/%.*s/retried%s.rejects.ndjson",
                        root, (int)(slash - f->orig_path), f->orig_path,
                        slash)) {
            n = count_lines(rj2); /* sent again by retry --quarantine */
        }
        if (n != f->rows_rejected) {
            problem(c, "%s: %lld records quarantined, %lld in its rejects file",
                    f->raw_name, (long long)f->rows_rejected, (long long)n);
        }
    }
    if (c->n_sent == c->cap_sent) {
        size_t cap = c->cap_sent ? 2 * c->cap_sent : 256;
        char **g = sl__realloc(c->sent_paths, cap * sizeof(*g));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        c->sent_paths = g;
        c->cap_sent = cap;
    }
    c->sent_paths[c->n_sent] = sl__strdup(f->path);
    return c->sent_paths[c->n_sent++] != NULL ? 0 : -SL_ENOMEM;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file under sent/ must be one the ledger put there. */
static void walk_sent(struct vctx *c, const char *rel)
{
    char p[SL_GW_PATH];
    sl_gw_abs(c->cfg->dir, rel, p, sizeof(p));
    DIR *d = opendir(p);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char r2[SL_GW_PATH], full[SL_GW_PATH];
        struct stat sb;
        if (!sl_gw_pathf(r2, sizeof(r2), "%s/%s", rel, de->d_name)) {
            continue;
        }
        sl_gw_abs(c->cfg->dir, r2, full, sizeof(full));
        if (lstat(full, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            walk_sent(c, r2);
            continue;
        }
        const char *key = r2;
        if (c->o->table == NULL &&
            (c->n_sent == 0 || bsearch(&key, c->sent_paths, c->n_sent,
                                       sizeof(char *), cmp_str) == NULL)) {
            problem(c, "%s is in sent/ but in no ledger row", r2);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* ---- the warehouse
 * -------------------------------------------------------------- */

/* The first column of a one-row result as text / as an integer. */
static int scalar(struct vctx *c, const char *sql, const struct sl_val **out,
                  struct sl_cursor **cur)
{
    int rc = c->ops->query(c->wh, sql, cur, c->err);
    if (rc == SL_OK) {
        rc = c->ops->cursor_next(*cur, out, c->err);
    }
    return rc;
}

static int64_t as_int(const struct sl_val *v)
{
    if (v == NULL || v->kind == SL_V_NULL) {
        return 0;
    }
    if (v->kind == SL_V_I64) {
        return v->u.i;
    }
    if (v->kind == SL_V_DEC) {
        return (int64_t)v->u.d;
    }
    if (v->kind == SL_V_STR || v->kind == SL_V_NUMTEXT) {
        char t[64];
        snprintf(t, sizeof(t), "%.*s", (int)v->len, v->u.s);
        return (int64_t)strtoull(t, NULL, 10);
    }
    return 0;
}

/* A batch the ledger has as committed: in _sluice_loads, same rows and
 * checksum. */
static bool by_sql_table(const struct vctx *c, const char *table)
{
    for (size_t i = 0; i < c->n_sql; i++) {
        if (strcmp(c->sql_tables[i], table) == 0) {
            return true;
        }
    }
    return false;
}

/* "<head><the warehouse's _sluice_loads> WHERE <col> = '<value>'", in the
 * warehouse's own quoting. */
static int loads_sql(struct vctx *c, struct sl_buf *q, const char *head,
                     const char *col, const char *value)
{
    sl__buf_reset(q);
    int rc = sl__buf_append(q, head, strlen(head));
    rc = rc ? rc : sl_wh_table_ref(c->ops, c->wh, q, "main", "_sluice_loads");
    rc = rc ? rc : sl__buf_append(q, " WHERE ", 7);
    rc = rc ? rc : sl__buf_append(q, col, strlen(col));
    rc = rc ? rc : sl__buf_append(q, " = ", 3);
    rc = rc ? rc : sl_wh_quote_literal(c->ops, q, value);
    return rc == SL_OK ? SL_OK : SL_ERR(c->err, rc, "verify: out of memory");
}

static int on_batch(void *ud, const struct sl_lbatch *b)
{
    struct vctx *c = ud;
    if (!table_wanted(c, b->table)) {
        return 0;
    }
    c->res->batches++;
    if (b->by_sql && !by_sql_table(c, b->table)) {
        if (c->n_sql == c->cap_sql) {
            size_t cap = c->cap_sql ? c->cap_sql * 2 : 8;
            char **t = sl__realloc(c->sql_tables, cap * sizeof(*t));
            if (t == NULL) {
                return SL_ERR(c->err, -SL_ENOMEM, "verify: out of memory");
            }
            c->sql_tables = t;
            c->cap_sql = cap;
        }
        if ((c->sql_tables[c->n_sql] = sl__strdup(b->table)) == NULL) {
            return SL_ERR(c->err, -SL_ENOMEM, "verify: out of memory");
        }
        c->n_sql++;
    }
    if (strspn(b->id, "0123456789abcdef") != strlen(b->id)) {
        problem(c, "batch %s: not a batch id", b->id);
        return 0;
    }
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = loads_sql(c, &q, "SELECT rows_loaded, checksum, n_files FROM ",
                       "batch_id", b->id);
    struct sl_cursor *cur = NULL;
    const struct sl_val *row = NULL;
    rc = rc ? rc : scalar(c, q.data, &row, &cur);
    sl__buf_release(&q);
    if (rc != SL_OK) {
        c->ops->cursor_close(cur);
        return rc;
    }
    if (row == NULL) {
        problem(c,
                "batch %.12s (%s): committed in the ledger, not in the "
                "warehouse's _sluice_loads",
                b->id, b->table);
    } else if (as_int(&row[0]) != b->rows ||
               (uint64_t)as_int(&row[1]) != b->checksum ||
               as_int(&row[2]) != b->n_files) {
        problem(c,
                "batch %.12s (%s): ledger %lld rows, %lld files; warehouse "
                "%lld rows, %lld files (or another checksum)",
                b->id, b->table, (long long)b->rows, (long long)b->n_files,
                (long long)as_int(&row[0]), (long long)as_int(&row[2]));
    }
    c->ops->cursor_close(cur);
    return 0;
}

/* SQL text: head, then table as a string literal (or, with ref, as the
 * warehouse names the table dataset.name), then tail. */
static int table_sql(struct vctx *c, struct sl_buf *q, const char *head,
                     const char *table, bool ref, const char *tail)
{
    sl__buf_reset(q);
    int rc = sl__buf_append(q, head, strlen(head));
    if (rc == SL_OK && ref) {
        const char *dot = strchr(table, '.');
        char ds[512];
        if (dot == NULL || (size_t)(dot - table) >= sizeof(ds)) {
            return SL_ERR(c->err, -SL_EINVAL, "verify: table %s: no dataset",
                          table);
        }
        snprintf(ds, sizeof(ds), "%.*s", (int)(dot - table), table);
        rc = sl_wh_table_ref(c->ops, c->wh, q, ds, dot + 1);
    } else if (rc == SL_OK) {
        rc = sl_wh_quote_literal(c->ops, q, table);
    }
    rc = rc ? rc : sl__buf_append(q, tail, strlen(tail));
    return rc == SL_OK ? SL_OK : SL_ERR(c->err, rc, "verify: out of memory");
}

/* A table: the rows it holds against the batches recorded, by count and by
 * the sum of the rows' hashes. */
static int check_table(struct vctx *c, const char *table)
{
    struct sl_buf q;
    sl__buf_init(&q);
    /* the table's recorded loads, each batch once (a warehouse without
     * transactions may hold a record twice until it merges them); a batch
     * recorded without a checksum (an older version) makes the sum
     * unprovable: then only the count is compared */
    int64_t want_rows = 0;
    uint64_t want_sum = 0;
    bool sums = true;
    struct sl_cursor *cur = NULL;
    const struct sl_val *row = NULL;
    int rc = loads_sql(c, &q,
                       "SELECT DISTINCT batch_id, rows_loaded, checksum FROM ",
                       "table_name", table);
    rc = rc ? rc : c->ops->query(c->wh, q.data, &cur, c->err);
    while (rc == SL_OK &&
           (rc = c->ops->cursor_next(cur, &row, c->err)) == SL_OK &&
           row != NULL) {
        want_rows += as_int(&row[1]);
        want_sum += (uint64_t)as_int(&row[2]);
        sums = sums && row[2].kind != SL_V_NULL;
    }
    c->ops->cursor_close(cur);
    cur = NULL;
    /* rows read back from DuckDB hash as they were loaded; another
     * warehouse's types (ClickHouse's flattened records, its timestamps)
     * do not: there the count is compared */
    bool native = strcmp(c->ops->scheme, "duckdb") == 0;
    sums = sums && native;
    /* a column added since (schema_update_options, schema apply) changes
     * the hash of every row loaded before: only the count is comparable */
    rc = rc || !native
             ? rc
             : table_sql(c, &q,
                         "SELECT count(*) FROM main._sluice_schema_history "
                         "WHERE change <> 'create' AND table_name = ",
                         table, false, "");
    if (rc == SL_OK && native) {
        struct sl_error e = {0};
        struct sl_error *keep = c->err;
        c->err = &e; /* no history table: nothing evolved */
        if (scalar(c, q.data, &row, &cur) == SL_OK && row != NULL &&
            as_int(&row[0]) > 0) {
            sums = false;
        }
        c->err = keep;
        c->ops->cursor_close(cur);
        cur = NULL;
    }
    rc = rc ? rc
            : table_sql(c, &q,
                        native ? "SELECT * FROM " : "SELECT count(*) FROM ",
                        table, true, "");
    rc = rc ? rc : c->ops->query(c->wh, q.data, &cur, c->err);
    sl__buf_release(&q);
    int64_t n = 0;
    uint64_t sum = 0;
    size_t ncols = 0;
    if (rc == SL_OK && !native) {
        rc = c->ops->cursor_next(cur, &row, c->err);
        n = rc == SL_OK && row != NULL ? as_int(&row[0]) : 0;
    } else if (rc == SL_OK) {
        (void)c->ops->cursor_columns(cur, &ncols);
    }
    while (rc == SL_OK && native) {
        rc = c->ops->cursor_next(cur, &row, c->err);
        if (rc != SL_OK || row == NULL) {
            break;
        }
        n++;
        sum += sl_row_hash(row, ncols);
    }
    c->ops->cursor_close(cur);
    if (rc != SL_OK) {
        return rc;
    }
    c->res->rows += (uint64_t)n;
    if (n != want_rows) {
        problem(c, "%s holds %lld rows; its recorded loads add up to %lld",
                table, (long long)n, (long long)want_rows);
    } else if (sums && sum != want_sum) {
        problem(c,
                "%s: the rows' checksum is not the sum of its batches' (a row "
                "changed, lost or doubled)",
                table);
    }
    return SL_OK;
}

static int list_tables(void *ud, int n, const char *const *cols)
{
    struct vctx *c = ud;
    if (n < 1 || cols[0] == NULL || !table_wanted(c, cols[0]) ||
        by_sql_table(c, cols[0])) {
        return 0;
    }
    return check_table(c, cols[0]);
}

int sl_verify(const struct sl_verify_opts *o, FILE *out,
              struct sl_verify_result *res, struct sl_error *err)
{
    memset(res, 0, sizeof(*res));
    struct vctx c = {.o = o, .out = out, .res = res, .err = err};
    int rc = sl_gw_config_load(o->dir, NULL, &c.cfg, err);
    char p[SL_GW_PATH];
    if (rc == SL_OK &&
        sl_gw_pathf(p, sizeof(p), "%s/.sluice/ledger.db", c.cfg->dir)) {
        rc = sl_ledger_open(p, o->repair ? SL_LEDGER_WRITE : SL_LEDGER_READ,
                            &c.ledger, err);
    }
    bool known = true;
    if (rc == SL_OK && o->table != NULL) {
        rc = sl_gw_table_known(c.cfg->dir, c.ledger, o->table, &known, err);
    }
    if (rc == SL_OK && !known) {
        rc = SL_ERR(err, -SL_ENOTFOUND,
                    "no table %s in the registry (schemas/) or the ledger",
                    o->table);
    }
    char check[256] = "";
    rc = rc ? rc : sl_ledger_check(c.ledger, check, sizeof(check), err);
    if (rc == SL_OK && strcmp(check, "ok") != 0) {
        problem(&c, "the ledger is damaged: %s", check);
    }
    rc =
        rc ? rc
           : sl_ledger_each_file(c.ledger, "state IN (3, 4)", on_file, &c, err);
    if (rc == SL_OK) {
        if (c.n_sent > 1) { /* NULL when none: not for qsort */
            qsort(c.sent_paths, c.n_sent, sizeof(char *), cmp_str);
        }
        walk_sent(&c, "sent");
    }
    if (rc == SL_OK && (c.ops = sl_wh_driver_for(c.cfg->warehouse)) == NULL) {
        char shown[1024]; /* never a password */
        sl_wh_uri_shown(c.cfg->warehouse, shown, sizeof(shown));
        rc = SL_ERR(err, -SL_EUSAGE, "unknown warehouse %s", shown);
    }
    struct sl_wh_open_opts oo = {.mode = SL_WH_READ, .lock_timeout_ms = 60000};
    rc = rc ? rc : c.ops->open(c.cfg->warehouse, &oo, &c.wh, err);
    rc = rc ? rc
            : sl_ledger_each_batch(c.ledger, "state IN (1, 2)", on_batch, &c,
                                   err);
    rc = rc ? rc
            : sl_ledger_rows(c.ledger,
                             "SELECT DISTINCT table_name FROM batches WHERE "
                             "state IN (1, 2) ORDER BY 1",
                             list_tables, &c, err);
    if (c.ops != NULL) {
        c.ops->close(c.wh);
    }
    for (size_t i = 0; i < c.n_sent; i++) {
        sl__free(c.sent_paths[i]);
    }
    sl__free(c.sent_paths);
    for (size_t i = 0; i < c.n_sql; i++) {
        sl__free(c.sql_tables[i]);
    }
    sl__free(c.sql_tables);
    sl_ledger_close(c.ledger);
    sl_gw_config_destroy(c.cfg);
    return rc;
}
