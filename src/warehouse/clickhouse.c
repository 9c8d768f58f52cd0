/* clickhouse.c - the ClickHouse warehouse driver (docs/CLICKHOUSE.md): opens
 * one HTTP connection per server of the URI (one server, or the shards of a
 * cluster), creates tables from definitions (clickhouse_plan.c has the
 * mapping) or compares existing ones, keeps the audit trail, and answers
 * "was this batch committed?" and "what was loaded from this path?". Loads
 * are in clickhouse_load.c, queries in clickhouse_cursor.c. warehouse stage.
 *
 * Thread-safety: a struct sl_wh is used by one thread at a time (a load runs
 * its own upload threads on connections of their own); open one per thread
 * for parallel work: ClickHouse takes any number of connections. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/clickhouse_int.h"
#include "warehouse/evolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- statements ------------------------------------------------------------
 */

int sl__ch_path_tag(struct sl_wh *wh, struct sl_buf *b, const char *settings,
                    bool tag)
{
    /* the URI's database is the default one of every statement once open
       made sure it exists; reads only with readonly=2 (settings in the URL
       stay allowed, readonly=1 would refuse them) */
    /* max_query_size: a CREATE of a 10,000-column table is longer than
       the default 256 KB */
    int rc = sl__buf_printf(b, "/?database=%s%s&max_query_size=67108864",
                            wh->db_ready ? wh->uri.database : "system",
                            wh->read_only ? "&readonly=2" : "");
    if (rc == SL_OK && tag && wh->qid[0] != '\0') {
        unsigned n = __atomic_fetch_add(&wh->qseq, 1, __ATOMIC_RELAXED);
        rc = sl__buf_printf(b, "&query_id=%s-%u", wh->qid, n);
    }
    if (rc == SL_OK && settings != NULL) {
        rc = sl__buf_append(b, settings, strlen(settings));
    }
    return rc;
}

int sl__ch_path(struct sl_wh *wh, struct sl_buf *b, const char *settings)
{
    return sl__ch_path_tag(wh, b, settings, true);
}

int sl__ch_exec(struct sl_wh *wh, size_t s, const char *sql,
                const char *settings, struct sl_error *err)
{
    struct sl_buf path;
    sl__buf_init(&path);
    if (sl__ch_path(wh, &path, settings) != SL_OK) {
        sl__buf_release(&path);
        return SL_ERR(err, -SL_ENOMEM, "out of memory sending a statement");
    }
    struct sl_http_req rq = {
        .path_query = path.data, .body = sql, .body_len = strlen(sql)};
    struct sl_http_resp r;
    int rc = sl__http_do(wh->shard[s].http, &rq, &r, err);
    if (rc == SL_OK) {
        rc = sl__ch_judge(wh->shard[s].name, wh->uri.user, &r, err);
    } else {
        sl__error_prefix(err, "clickhouse ");
    }
    sl__buf_release(&r.body);
    sl__buf_release(&path);
    return rc;
}

static int nomem(struct sl_error *err)
{
    return SL_ERR(err, -SL_ENOMEM, "clickhouse driver: out of memory");
}

const char *sl__ch_dataset_db(const struct sl_wh *wh, const char *dataset)
{
    return strcmp(dataset, "main") == 0 ? wh->uri.database : dataset;
}

int sl__ch_local_table(struct sl_wh *wh, const struct sl_table *t,
                       struct sl_buf *b)
{
    int rc = sl__ch_ident(b, sl__ch_dataset_db(wh, t->dataset));
    rc = rc ? rc : sl__buf_putc(b, '.');
    if (rc == SL_OK && wh->n_shards > 1) {
        char name[1100];
        snprintf(name, sizeof(name), "%s_local", t->name);
        return sl__ch_ident(b, name);
    }
    return rc ? rc : sl__ch_ident(b, t->name);
}

/* ---- open / close ----------------------------------------------------------
 */

static void ch_close(struct sl_wh *wh)
{
    if (wh == NULL) {
        return;
    }
    for (size_t s = 0; s < wh->n_shards; s++) {
        sl__http_destroy(wh->shard[s].http);
    }
    explicit_bzero(wh->uri.password, sizeof(wh->uri.password));
    sl__free(wh);
}

/* Has shard s a database (1) or not (0)? */
static int db_exists(struct sl_wh *wh, size_t s, const char *db, bool *out,
                     struct sl_error *err)
{
    struct sl_buf q;
    sl__buf_init(&q);
    int64_t n = 0;
    int rc = CH_LIT(&q, "SELECT count() FROM system.databases WHERE "
                        "name = ");
    rc = rc ? rc : sl__ch_literal(&q, db, strlen(db));
    rc = rc ? nomem(err) : sl__ch_count(wh, s, q.data, &n, err);
    sl__buf_release(&q);
    *out = n > 0;
    return rc;
}

/* A cluster URI lists the shards of cluster NAME in its order: check that
 * the servers agree on how many there are. */
static int check_cluster(struct sl_wh *wh, struct sl_error *err)
{
    struct sl_buf q;
    sl__buf_init(&q);
    int64_t n = 0;
    int rc = CH_LIT(&q, "SELECT uniqExact(shard_num) FROM "
                        "system.clusters WHERE cluster = ");
    rc = rc ? rc : sl__ch_literal(&q, wh->uri.cluster, strlen(wh->uri.cluster));
    rc = rc ? nomem(err) : sl__ch_count(wh, 0, q.data, &n, err);
    sl__buf_release(&q);
    if (rc == SL_OK && (size_t)n != wh->n_shards) {
        rc = SL_ERR(err, -SL_EUSAGE,
                    "--warehouse %s: the servers' cluster %s has %lld "
                    "shard%s, the URI lists %zu servers (one per shard, in "
                    "the cluster's order)",
                    wh->uri.shown, wh->uri.cluster, (long long)n,
                    n == 1 ? "" : "s", wh->n_shards);
    }
    return rc;
}

static int ch_open(const char *uri, const struct sl_wh_open_opts *o,
                   struct sl_wh **out, struct sl_error *err)
{
    *out = NULL;
    struct sl_wh *wh = sl__calloc(1, sizeof(*wh));
    if (wh == NULL) {
        return nomem(err);
    }
    int rc = sl__ch_uri_parse(uri, &wh->uri, err);
    wh->read_only = o != NULL && o->mode == SL_WH_READ;
    wh->threads = o != NULL ? o->threads : 0;
    for (size_t s = 0; rc == SL_OK && s < wh->uri.n_shards; s++) {
        const struct sl_ch_host *h = &wh->uri.shard[s];
        struct sl_http_opts ho = {.host = h->host,
                                  .port = h->port,
                                  .user = wh->uri.user,
                                  .password = wh->uri.password,
                                  .connect_timeout_ms =
                                      wh->uri.connect_timeout_ms,
                                  .idle_timeout_ms = wh->uri.timeout_ms};
        rc = sl__http_create(&ho, &wh->shard[s].http, err);
        if (rc == SL_OK) {
            snprintf(wh->shard[s].name, sizeof(wh->shard[s].name), "%s",
                     sl__http_name(wh->shard[s].http));
            wh->n_shards = s + 1;
        }
    }
    /* every server answers, knows us, and has the database */
    for (size_t s = 0; rc == SL_OK && s < wh->n_shards; s++) {
        bool have = false;
        rc = db_exists(wh, s, wh->uri.database, &have, err);
        if (rc == SL_OK && !have) {
            if (o == NULL || o->mode != SL_WH_CREATE) {
                rc = SL_ERR(err, -SL_ENOTFOUND,
                            "%s: database %s does not exist on %s (sluice "
                            "schema apply, load and run create it)",
                            wh->uri.shown, wh->uri.database, wh->shard[s].name);
            } else {
                struct sl_buf q;
                sl__buf_init(&q);
                rc = CH_LIT(&q, "CREATE DATABASE IF NOT EXISTS ");
                rc = rc ? rc : sl__ch_ident(&q, wh->uri.database);
                rc = rc ? nomem(err) : sl__ch_exec(wh, s, q.data, NULL, err);
                sl__buf_release(&q);
            }
        }
    }
    if (rc == SL_OK && wh->n_shards > 1) {
        rc = check_cluster(wh, err);
    }
    if (rc != SL_OK) {
        ch_close(wh);
        return rc;
    }
    wh->db_ready = true;
    *out = wh;
    return SL_OK;
}

static void ch_local_files(const char *uri, struct sl_wh_files *out)
{
    (void)uri;
    out->n = 0; /* a server's files are not ours to guard */
}

/* ---- the audit trail ---------------------------------------------------- */

#define LOADS_DDL                                                              \
    "CREATE TABLE IF NOT EXISTS `%s`.`_sluice_loads` (batch_id String, "       \
    "table_name String, origin Nullable(String), n_files Nullable(Int64), "    \
    "rows_loaded Nullable(Int64), rows_rejected Nullable(Int64), bytes "       \
    "Nullable(Int64), checksum Nullable(UInt64), first_seen Nullable(Int64), " \
    "loaded_at Nullable(Int64)) ENGINE = ReplacingMergeTree ORDER BY "         \
    "batch_id"
#define FILES_DDL                                                              \
    "CREATE TABLE IF NOT EXISTS `%s`.`_sluice_files` (batch_id String, "       \
    "table_name String, file_path String, fingerprint String, file_size "      \
    "Nullable(Int64), rows_loaded Nullable(Int64), rows_rejected "             \
    "Nullable(Int64), outcome String, first_seen Nullable(Int64), loaded_at "  \
    "Nullable(Int64)) ENGINE = ReplacingMergeTree ORDER BY (table_name, "      \
    "fingerprint, batch_id, file_path)"
#define PARTS_DDL                                                              \
    "CREATE TABLE IF NOT EXISTS `%s`.`_sluice_parts` (batch_id String, "       \
    "table_name String, shard UInt32, rows Int64, checksum UInt64, marker "    \
    "UInt64, loaded_at Int64) ENGINE = ReplacingMergeTree ORDER BY "           \
    "(batch_id, table_name, shard)"

int sl__ch_audit_ready(struct sl_wh *wh, struct sl_error *err)
{
    if (wh->audit_ready || wh->read_only) {
        return SL_OK;
    }
    char sql[1024];
    snprintf(sql, sizeof(sql), LOADS_DDL, wh->uri.database);
    int rc = sl__ch_exec(wh, 0, sql, NULL, err);
    snprintf(sql, sizeof(sql), FILES_DDL, wh->uri.database);
    rc = rc ? rc : sl__ch_exec(wh, 0, sql, NULL, err);
    snprintf(sql, sizeof(sql), PARTS_DDL, wh->uri.database);
    for (size_t s = 0; rc == SL_OK && s < wh->n_shards; s++) {
        rc = sl__ch_exec(wh, s, sql, NULL, err);
    }
    if (rc != SL_OK) {
        return rc;
    }
    wh->audit_ready = true;
    return SL_OK;
}

static int home_table_exists(struct sl_wh *wh, const char *name, bool *out,
                             struct sl_error *err)
{
    if (wh->audit_ready) {
        *out = true;
        return SL_OK;
    }
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count() FROM system.tables WHERE database = '%s' AND "
             "name = '%s'",
             wh->uri.database, name);
    int64_t n = 0;
    int rc = sl__ch_count(wh, 0, sql, &n, err);
    *out = n > 0;
    return rc;
}

int sl__ch_batch_recorded(struct sl_wh *wh, const char *id, bool *out_yes,
                          struct sl_error *err)
{
    *out_yes = false;
    bool exists = false;
    int rc = home_table_exists(wh, "_sluice_loads", &exists, err);
    if (rc != SL_OK || !exists) {
        return rc;
    }
    struct sl_buf q;
    sl__buf_init(&q);
    rc = sl__buf_printf(&q,
                        "SELECT count() FROM `%s`.`_sluice_loads` WHERE "
                        "batch_id = ",
                        wh->uri.database);
    rc = rc ? rc : sl__ch_literal(&q, id, strlen(id));
    int64_t n = 0;
    rc = rc ? nomem(err) : sl__ch_count(wh, 0, q.data, &n, err);
    sl__buf_release(&q);
    *out_yes = n > 0;
    return rc;
}

static int ch_batch_committed(struct sl_wh *wh, const char *id, bool *out_yes,
                              struct sl_error *err)
{
    if (wh->cursor != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: batch_committed while a cursor is open");
    }
    return sl__ch_batch_recorded(wh, id, out_yes, err);
}

/* "WHERE table_name = 'T' AND batch_id IN (committed batches of T)": a file
 * record counts only once its batch's record exists (files are recorded
 * first; a crash in between leaves records of a batch that never was). */
static int committed_files_where(struct sl_wh *wh, struct sl_buf *q,
                                 const char *table)
{
    int rc = CH_LIT(q, " WHERE table_name = ");
    rc = rc ? rc : sl__ch_literal(q, table, strlen(table));
    rc = rc ? rc
            : sl__buf_printf(q,
                             " AND batch_id IN (SELECT batch_id FROM "
                             "`%s`.`_sluice_loads` WHERE table_name = ",
                             wh->uri.database);
    rc = rc ? rc : sl__ch_literal(q, table, strlen(table));
    return rc ? rc : sl__buf_putc(q, ')');
}

int sl__ch_fps_loaded(struct sl_wh *wh, const char *table,
                      const char *const *fps, size_t n, bool *out_yes,
                      struct sl_error *err)
{
    memset(out_yes, 0, n * sizeof(*out_yes));
    if (n == 0) {
        return SL_OK;
    }
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = sl__buf_printf(&q,
                            "SELECT DISTINCT fingerprint FROM "
                            "`%s`.`_sluice_files`",
                            wh->uri.database);
    rc = rc ? rc : committed_files_where(wh, &q, table);
    rc = rc ? rc
            : CH_LIT(&q, " AND outcome = 'loaded' AND "
                         "fingerprint IN (");
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = i > 0 ? sl__buf_putc(&q, ',') : SL_OK;
        const char *fp = fps[i] != NULL ? fps[i] : "";
        rc = rc ? rc : sl__ch_literal(&q, fp, strlen(fp));
    }
    rc = rc ? rc : sl__buf_putc(&q, ')');
    struct sl_cursor *c = NULL;
    rc = rc ? nomem(err) : sl__ch_cursor_open_on(wh, 0, q.data, &c, err);
    const struct sl_val *row;
    while (rc == SL_OK && (rc = sl__ch_cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
        for (size_t i = 0; i < n; i++) {
            out_yes[i] |= fps[i] != NULL && row[0].kind == SL_V_STR &&
                          strlen(fps[i]) == row[0].len &&
                          memcmp(fps[i], row[0].u.s, row[0].len) == 0;
        }
    }
    sl__ch_cursor_close(c);
    sl__buf_release(&q);
    return rc;
}

static void copy_str(char *out, size_t size, const struct sl_val *v)
{
    size_t n = v->kind == SL_V_STR ? v->len : 0;
    if (n >= size) {
        n = size - 1;
    }
    if (n > 0) {
        memcpy(out, v->u.s, n);
    }
    out[n] = '\0';
}

static int64_t val_i64(const struct sl_val *v)
{
    return v->kind == SL_V_I64 ? v->u.i : 0;
}

static int ch_file_history(struct sl_wh *wh, const char *table,
                           const char *path, uint64_t size,
                           struct sl_prior_load *out, size_t max, size_t *out_n,
                           struct sl_error *err)
{
    *out_n = 0;
    bool exists = false;
    int rc = home_table_exists(wh, "_sluice_files", &exists, err);
    if (rc != SL_OK || !exists || max == 0) {
        return rc;
    }
    struct sl_buf q;
    sl__buf_init(&q);
    rc = sl__buf_printf(&q,
                        "SELECT file_path, fingerprint, batch_id, "
                        "file_size, rows_loaded, rows_rejected, loaded_at, "
                        "outcome = 'duplicate' FROM `%s`.`_sluice_files` "
                        "FINAL",
                        wh->uri.database);
    rc = rc ? rc : committed_files_where(wh, &q, table);
    rc = rc ? rc : CH_LIT(&q, " AND (file_path = ");
    rc = rc ? rc : sl__ch_literal(&q, path, strlen(path));
    rc = rc ? rc
            : sl__buf_printf(&q,
                             " OR file_size = %llu) ORDER BY loaded_at "
                             "DESC LIMIT %zu",
                             (unsigned long long)size, max);
    struct sl_cursor *c = NULL;
    rc = rc ? nomem(err) : sl__ch_cursor_open_on(wh, 0, q.data, &c, err);
    const struct sl_val *row;
    while (rc == SL_OK && (rc = sl__ch_cursor_next(c, &row, err)) == SL_OK &&
           row != NULL && *out_n < max) {
        struct sl_prior_load *p = &out[(*out_n)++];
        memset(p, 0, sizeof(*p));
        copy_str(p->path, sizeof(p->path), &row[0]);
        copy_str(p->fingerprint, sizeof(p->fingerprint), &row[1]);
        copy_str(p->batch, sizeof(p->batch), &row[2]);
        p->size = (uint64_t)val_i64(&row[3]);
        p->rows_loaded = (uint64_t)val_i64(&row[4]);
        p->rows_rejected = (uint64_t)val_i64(&row[5]);
        p->loaded_us = val_i64(&row[6]);
        p->duplicate = val_i64(&row[7]) != 0;
    }
    sl__ch_cursor_close(c);
    sl__buf_release(&q);
    return rc;
}

/* ---- ensure_table ----------------------------------------------------------
 */

/* Keys as the catalog writes them, compared without blanks and quotes; the
 * catalog writes a tuple key "(a, b)" as "a, b". */
static bool same_expr(const char *a, const char *want)
{
    char w[2048];
    if (strcmp(want, "tuple()") == 0) {
        want = ""; /* no sorting key */
    }
    size_t n = strlen(want);
    if (n >= 2 && want[0] == '(' && want[n - 1] == ')' && a[0] != '(' &&
        n < sizeof(w)) {
        memcpy(w, want + 1, n - 2);
        w[n - 2] = '\0';
        want = w;
    }
    const char *b = want;
    for (;;) {
        while (*a == ' ' || *a == '`' || *a == '"') {
            a++;
        }
        while (*b == ' ' || *b == '`' || *b == '"') {
            b++;
        }
        if (*a != *b) {
            return false;
        }
        if (*a == '\0') {
            return true;
        }
        a++;
        b++;
    }
}

/* The table's state on shard s: *out_exists, and SL_OK if it matches the
 * plan (local: the MergeTree table with the marker; else the Distributed
 * one), -SL_ESCHEMA naming the first difference otherwise. */
static int compare_table(struct sl_wh *wh, size_t s, const char *db,
                         const char *name, const struct ch_plan *p, bool local,
                         const char *shown, bool *out_exists,
                         struct sl_error *err)
{
    struct sl_buf q;
    sl__buf_init(&q);
    *out_exists = false;
    int rc = CH_LIT(&q, "SELECT engine, partition_key, sorting_key "
                        "FROM system.tables WHERE database = ");
    rc = rc ? rc : sl__ch_literal(&q, db, strlen(db));
    rc = rc ? rc : CH_LIT(&q, " AND name = ");
    rc = rc ? rc : sl__ch_literal(&q, name, strlen(name));
    struct sl_cursor *c = NULL;
    const struct sl_val *row = NULL;
    rc = rc ? nomem(err) : sl__ch_cursor_open_on(wh, s, q.data, &c, err);
    rc = rc ? rc : sl__ch_cursor_next(c, &row, err);
    char engine[64] = "", part[1024] = "", order[1024] = "";
    if (rc == SL_OK && row != NULL) {
        *out_exists = true;
        copy_str(engine, sizeof(engine), &row[0]);
        copy_str(part, sizeof(part), &row[1]);
        copy_str(order, sizeof(order), &row[2]);
    }
    sl__ch_cursor_close(c);
    c = NULL;
    if (rc != SL_OK || !*out_exists) {
        sl__buf_release(&q);
        return rc;
    }
    const char *want_engine = local ? "MergeTree" : "Distributed";
    if (strcmp(engine, want_engine) != 0) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s exists with a different definition: its engine "
                    "is %s, Sluice makes %s",
                    shown, engine, want_engine);
    } else if (local && (!same_expr(part, p->partition ? p->partition : "") ||
                         !same_expr(order, p->order))) {
        bool pd = !same_expr(part, p->partition ? p->partition : "");
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s exists with a different definition: %s is %s, "
                    "the definition wants %s",
                    shown, pd ? "PARTITION BY" : "ORDER BY",
                    pd ? (part[0] ? part : "(none)") : order,
                    pd ? (p->partition ? p->partition : "(none)") : p->order);
    }
    sl__buf_reset(&q);
    int r2 = CH_LIT(&q, "SELECT name, type, default_kind FROM "
                        "system.columns WHERE database = ");
    r2 = r2 ? r2 : sl__ch_literal(&q, db, strlen(db));
    r2 = r2 ? r2 : CH_LIT(&q, " AND table = ");
    r2 = r2 ? r2 : sl__ch_literal(&q, name, strlen(name));
    if (rc == SL_OK) {
        rc = r2 ? nomem(err) : sl__ch_cursor_open_on(wh, s, q.data, &c, err);
    }
    size_t at = 0, want_n = p->n_cols + (local ? 1 : 0);
    while (rc == SL_OK && (rc = sl__ch_cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
        char cn[512], ct[512];
        copy_str(cn, sizeof(cn), &row[0]);
        copy_str(ct, sizeof(ct), &row[1]);
        const char *wn = at < p->n_cols ? p->cols[at].name : "_sluice_batch";
        const char *wt = at < p->n_cols ? p->cols[at].type : "UInt64";
        if (at >= want_n) {
            rc = SL_ERR(err, -SL_ESCHEMA,
                        "table %s exists with a different definition: column "
                        "%s is not in the definition",
                        shown, cn);
        } else if (strcmp(cn, wn) != 0) {
            rc = SL_ERR(err, -SL_ESCHEMA,
                        "table %s exists with a different definition: column "
                        "%zu is %s, definition has %s",
                        shown, at + 1, cn, wn);
        } else if (strcmp(ct, wt) != 0) {
            rc = SL_ERR(err, -SL_ESCHEMA,
                        "table %s exists with a different definition: column "
                        "%s is %s, definition wants %s",
                        shown, cn, ct, wt);
        }
        if (rc != SL_OK && err != NULL) {
            snprintf(err->column, sizeof(err->column), "%.*s",
                     (int)sizeof(err->column) - 1, cn);
        }
        at++;
    }
    if (rc == SL_OK && at < want_n) {
        const char *wn = at < p->n_cols ? p->cols[at].name : "_sluice_batch";
        const char *wt = at < p->n_cols ? p->cols[at].type : "UInt64";
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "table %s exists with a different definition: column %s "
                    "%s is missing",
                    shown, wn, wt);
    }
    sl__ch_cursor_close(c);
    sl__buf_release(&q);
    return rc;
}

static int create_local(struct sl_wh *wh, size_t s, const struct sl_table *t,
                        const struct ch_plan *p, struct sl_error *err)
{
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = CH_LIT(&q, "CREATE TABLE IF NOT EXISTS ");
    rc = rc ? rc : sl__ch_local_table(wh, t, &q);
    rc = rc ? rc : sl__buf_putc(&q, ' ');
    rc = rc ? rc : sl__ch_columns_sql(&q, p, " MATERIALIZED 0");
    rc = rc ? rc : sl__ch_engine_sql(&q, p);
    rc = rc ? nomem(err) : sl__ch_exec(wh, s, q.data, NULL, err);
    sl__buf_release(&q);
    return rc;
}

static int create_distributed(struct sl_wh *wh, size_t s,
                              const struct sl_table *t, const struct ch_plan *p,
                              struct sl_error *err)
{
    const char *db = sl__ch_dataset_db(wh, t->dataset);
    char local[1100];
    snprintf(local, sizeof(local), "%s_local", t->name);
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = CH_LIT(&q, "CREATE TABLE IF NOT EXISTS ");
    rc = rc ? rc : sl__ch_ident(&q, db);
    rc = rc ? rc : sl__buf_putc(&q, '.');
    rc = rc ? rc : sl__ch_ident(&q, t->name);
    rc = rc ? rc : sl__buf_putc(&q, ' ');
    rc = rc ? rc : sl__ch_columns_sql(&q, p, NULL);
    rc = rc ? rc : CH_LIT(&q, " ENGINE = Distributed(");
    rc = rc ? rc : sl__ch_literal(&q, wh->uri.cluster, strlen(wh->uri.cluster));
    rc = rc ? rc : CH_LIT(&q, ", ");
    rc = rc ? rc : sl__ch_literal(&q, db, strlen(db));
    rc = rc ? rc : CH_LIT(&q, ", ");
    rc = rc ? rc : sl__ch_literal(&q, local, strlen(local));
    rc = rc ? rc : sl__buf_printf(&q, ", %s)", p->shard_key);
    rc = rc ? nomem(err) : sl__ch_exec(wh, s, q.data, NULL, err);
    sl__buf_release(&q);
    return rc;
}

static int ch_ensure_table(struct sl_wh *wh, const struct sl_table *t,
                           bool *out_created, struct sl_error *err)
{
    *out_created = false;
    if (wh->cursor != NULL || wh->loading) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: ensure_table during a load or a query");
    }
    if (wh->read_only) {
        return SL_ERR(err, -SL_EUSAGE, "clickhouse: %s is open read-only",
                      wh->uri.shown);
    }
    const char *db = sl__ch_dataset_db(wh, t->dataset);
    if (strcmp(db, "system") == 0) {
        return SL_ERR(err, -SL_ESCHEMA,
                      "table %s.%s: dataset system is ClickHouse's own",
                      t->dataset, t->name);
    }
    struct ch_plan p;
    int rc = sl__ch_plan_table(t, &p, NULL, err);
    if (rc != SL_OK) {
        return rc;
    }
    char local[1100], shown[2600];
    snprintf(local, sizeof(local), "%s%s", t->name,
             wh->n_shards > 1 ? "_local" : "");
    for (size_t s = 0; rc == SL_OK && s < wh->n_shards; s++) {
        if (strcmp(db, wh->uri.database) != 0) {
            struct sl_buf q;
            sl__buf_init(&q);
            rc = CH_LIT(&q, "CREATE DATABASE IF NOT EXISTS ");
            rc = rc ? rc : sl__ch_ident(&q, db);
            rc = rc ? nomem(err) : sl__ch_exec(wh, s, q.data, NULL, err);
            sl__buf_release(&q);
        }
        bool exists = false;
        snprintf(shown, sizeof(shown), "%s.%s%s%s", db, local,
                 wh->n_shards > 1 ? " on " : "",
                 wh->n_shards > 1 ? wh->shard[s].name : "");
        rc =
            rc ? rc
               : compare_table(wh, s, db, local, &p, true, shown, &exists, err);
        if (rc == SL_OK && !exists) {
            rc = create_local(wh, s, t, &p, err);
            *out_created |= rc == SL_OK;
        }
        if (rc == SL_OK && wh->n_shards > 1) {
            snprintf(shown, sizeof(shown), "%s.%s on %s", db, t->name,
                     wh->shard[s].name);
            rc = compare_table(wh, s, db, t->name, &p, false, shown, &exists,
                               err);
            if (rc == SL_OK && !exists) {
                rc = create_distributed(wh, s, t, &p, err);
                *out_created |= rc == SL_OK;
            }
        }
    }
    sl__ch_plan_free(&p);
    return rc ? rc : sl__ch_audit_ready(wh, err);
}

/* ---- schema plan / apply (evolve.h) ---------------------------------------
 * Sluice creates ClickHouse tables and checks existing ones against their
 * definitions, but does not change them in place: ClickHouse has no
 * transactions to make a registry's ALTERs all or nothing, and its ALTERs of
 * Nested/Array columns differ by version. A table that differs is refused
 * with the difference named (docs/CLICKHOUSE.md). */

int sl__ch_table_state(struct sl_wh *wh, const struct sl_table *t,
                       bool *out_exists, struct sl_error *err)
{
    *out_exists = false;
    const char *db = sl__ch_dataset_db(wh, t->dataset);
    if (strcmp(db, "system") == 0) {
        return SL_ERR(err, -SL_ESCHEMA,
                      "table %s.%s: dataset system is ClickHouse's own",
                      t->dataset, t->name);
    }
    struct ch_plan p;
    int rc = sl__ch_plan_table(t, &p, NULL, err);
    if (rc != SL_OK) {
        return rc;
    }
    char local[1100], shown[2600];
    snprintf(local, sizeof(local), "%s%s", t->name,
             wh->n_shards > 1 ? "_local" : "");
    bool all = true;
    for (size_t s = 0; rc == SL_OK && s < wh->n_shards; s++) {
        bool exists = false;
        snprintf(shown, sizeof(shown), "%s.%s%s%s", db, local,
                 wh->n_shards > 1 ? " on " : "",
                 wh->n_shards > 1 ? wh->shard[s].name : "");
        rc = compare_table(wh, s, db, local, &p, true, shown, &exists, err);
        all &= exists;
        if (rc == SL_OK && wh->n_shards > 1) {
            snprintf(shown, sizeof(shown), "%s.%s on %s", db, t->name,
                     wh->shard[s].name);
            rc = compare_table(wh, s, db, t->name, &p, false, shown, &exists,
                               err);
            all &= exists;
        }
    }
    sl__ch_plan_free(&p);
    *out_exists = all;
    return rc;
}

static int ch_schema_read(struct sl_wh *wh, const struct sl_table *const *want,
                          size_t n, struct sl_wh_table_state *out,
                          struct sl_error *err)
{
    if (wh->cursor != NULL || wh->loading) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: schema_read during a load or a query");
    }
    for (size_t i = 0; i < n; i++) {
        struct sl_error e = {0};
        bool exists = false;
        int rc = sl__ch_table_state(wh, want[i], &exists, &e);
        out[i].exists = exists;
        out[i].recorded = true; /* nothing is recorded apart from the table */
        if (rc == SL_OK) {
            out[i].same = exists;
        } else if (rc == -SL_ESCHEMA) {
            /* cannot be held, or held otherwise: the plan refuses it */
            struct sl_buf f;
            sl__buf_init(&f);
            if (sl__buf_printf(&f, "%s%s", e.msg,
                               exists ? "; Sluice does not ALTER ClickHouse "
                                        "tables: ALTER it yourself to match "
                                        "the definition, or name another "
                                        "table"
                                      : "") != SL_OK) {
                sl__buf_release(&f);
                return nomem(err);
            }
            out[i].foreign = f.data; /* a sl__malloc string */
        } else {
            if (err != NULL) {
                *err = e;
            }
            return rc;
        }
    }
    return SL_OK;
}

static int ch_schema_apply(struct sl_wh *wh, const struct sl_plan *const *plans,
                           size_t n, const struct sl_wh_apply_opts *opts,
                           struct sl_error *err)
{
    if (wh->cursor != NULL || wh->loading) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: schema_apply during a load or a query");
    }
    if (wh->read_only) {
        return SL_ERR(err, -SL_EUSAGE, "clickhouse: %s is open read-only",
                      wh->uri.shown);
    }
    /* everything refused before anything runs */
    for (size_t i = 0; i < n; i++) {
        const struct sl_plan *p = plans[i];
        if (p->have != NULL && p->n_changes > 0) {
            return SL_ERR(err, -SL_ESCHEMA,
                          "table %s.%s: Sluice does not change ClickHouse "
                          "tables in place (%zu change%s planned); create "
                          "the table under another name, or ALTER it "
                          "yourself and match the definition to it",
                          p->want->dataset, p->want->name, p->n_changes,
                          p->n_changes == 1 ? "" : "s");
        }
    }
    /* no transaction: the hook runs before the first CREATE (each is
     * IF NOT EXISTS, so applying again finishes an interrupted apply) */
    if (opts != NULL && opts->before_commit != NULL) {
        int rc = opts->before_commit(opts->ud, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct sl_table *t = plans[i]->want;
        bool created = false;
        int rc = plans[i]->have == NULL
                     ? ch_ensure_table(wh, t, &created, err)
                     : SL_OK; /* unchanged: nothing to record */
        if (rc != SL_OK) {
            sl__error_prefix(err, "%s.%s: ", t->dataset, t->name);
            return rc;
        }
    }
    return SL_OK;
}

/* ---- SQL text for stage-independent code (sl_wh_table_ref and friends) --
 * Backquoted identifiers with \ escapes, and no catalog part: dataset main is
 * the URI's database, as everywhere in this driver. */
static int ch_table_ref(const struct sl_wh *wh, struct sl_buf *b,
                        const char *dataset, const char *name)
{
    int rc =
        sl__ch_ident(b, wh != NULL ? sl__ch_dataset_db(wh, dataset) : dataset);
    rc = rc ? rc : sl__buf_putc(b, '.');
    return rc ? rc : sl__ch_ident(b, name);
}

static int ch_quote_literal(struct sl_buf *b, const char *s)
{
    return sl__ch_literal(b, s, strlen(s));
}

const struct sl_wh_ops sl__clickhouse_ops = {
    .scheme = "clickhouse",
    .open = ch_open,
    .close = ch_close,
    .local_files = ch_local_files,
    .ensure_table = ch_ensure_table,
    .load_batch = sl__ch_load_batch,
    .batch_committed = ch_batch_committed,
    .file_history = ch_file_history,
    .query = sl__ch_query,
    .cursor_columns = sl__ch_cursor_columns,
    .cursor_next = sl__ch_cursor_next,
    .cursor_close = sl__ch_cursor_close,
    .split_statements = sl__ch_split_statements,
    .free_statements = sl__ch_free_statements,
    .table_ref = ch_table_ref,
    .quote_ident = sl__ch_ident,
    .quote_literal = ch_quote_literal,
    .schema_read = ch_schema_read,
    .schema_apply = ch_schema_apply,
};
