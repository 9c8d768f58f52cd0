/* ledger.c - the gateway's SQLite ledger (ledger.h; tables in
 * docs/LEDGER.md). ledger stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "ledger/ledger.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    ST_PUT_FILE,
    ST_NEW_FILE,
    ST_PUT_BATCH,
    ST_EVENT,
    ST_FP,
    ST_SIZE,
    ST_FP_ANY,
    ST_SIZE_ANY,
    ST_ONE_PASS,
    ST_N
};

struct sl_ledger {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N]; /* prepared once, owned */
    bool in_tx;
    int version; /* of the file (a read-only open of version 1 reads the
                    newer columns as their defaults) */
};

static const char *const fstate_names[] = {"claimed",  "staged",    "batched",
                                           "loaded",   "duplicate", "failed",
                                           "vanished", "retried"};

const char *sl_fstate_name(enum sl_fstate s)
{
    return (unsigned)s < SL_ARRAY_LEN(fstate_names) ? fstate_names[s] : "?";
}

const char *sl_bstate_name(enum sl_bstate s)
{
    static const char *const n[] = {"sealed", "committed", "archived",
                                    "abandoned", "failed"};
    return (unsigned)s < SL_ARRAY_LEN(n) ? n[s] : "?";
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS files ("
    " id INTEGER PRIMARY KEY, raw_name TEXT NOT NULL, table_name TEXT,"
    " size INTEGER, mtime_ns INTEGER, dev INTEGER, ino INTEGER,"
    " fingerprint TEXT, data_fp TEXT, state INTEGER NOT NULL, path TEXT,"
    " prev_path TEXT, orig_path TEXT, orig_prev TEXT, format INTEGER,"
    " rows INTEGER, rows_valid INTEGER, rows_rejected INTEGER, batch TEXT,"
    " attempts INTEGER, next_try_us INTEGER, err_class TEXT, err_msg TEXT,"
    " first_seen_us INTEGER, staged_us INTEGER, done_us INTEGER,"
    " force INTEGER, dup INTEGER, rule TEXT, rule_src TEXT, route_key TEXT,"
    " routes INTEGER);"
    "CREATE INDEX IF NOT EXISTS files_state ON files(state);"
    "DROP INDEX IF EXISTS files_fp;" /* by state too, since 2026-12 */
    "CREATE INDEX IF NOT EXISTS files_fps ON files(table_name, fingerprint,"
    " state);"
    "CREATE INDEX IF NOT EXISTS files_size ON files(table_name, size)"
    " WHERE state = 3;"
    "CREATE INDEX IF NOT EXISTS files_batch ON files(batch);"
    "CREATE TABLE IF NOT EXISTS batches ("
    " id TEXT PRIMARY KEY, seq INTEGER, table_name TEXT, state INTEGER,"
    " n_files INTEGER, rows INTEGER, bytes INTEGER, rejected INTEGER,"
    " created_us INTEGER, committed_us INTEGER, attempts INTEGER,"
    " next_try_us INTEGER, err_class TEXT, err_msg TEXT, checksum INTEGER,"
    " force INTEGER, rule TEXT, plan TEXT, post INTEGER, by_sql INTEGER);"
    "CREATE INDEX IF NOT EXISTS batches_state ON batches(state);"
    "CREATE TABLE IF NOT EXISTS events ("
    " id INTEGER PRIMARY KEY, ts_us INTEGER, file_id INTEGER, batch TEXT,"
    " what TEXT, detail TEXT);"
    "CREATE TABLE IF NOT EXISTS requests ("
    " raw_name TEXT PRIMARY KEY, force INTEGER, made_us INTEGER);"
    "CREATE TABLE IF NOT EXISTS rule_sources ("
    " hash TEXT PRIMARY KEY, file TEXT, text TEXT, first_us INTEGER);"
    "INSERT OR IGNORE INTO meta VALUES ('version', '2');";

/* Version 1 to 2 (rules in the service): routes on file rows, recorded plans
 * and pending actions on batch rows (rule_sources is made by schema). A
 * claimed file is unique per route, not per raw name: with fan-out one raw
 * file has a claimed row per rule. */
static const char migrate_1_2[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE files ADD COLUMN rule TEXT;"
    "ALTER TABLE files ADD COLUMN rule_src TEXT;"
    "ALTER TABLE files ADD COLUMN route_key TEXT;"
    "ALTER TABLE files ADD COLUMN routes INTEGER;"
    "ALTER TABLE batches ADD COLUMN rule TEXT;"
    "ALTER TABLE batches ADD COLUMN plan TEXT;"
    "ALTER TABLE batches ADD COLUMN post INTEGER;"
    "ALTER TABLE batches ADD COLUMN by_sql INTEGER;"
    "DROP INDEX IF EXISTS files_claimed;"
    "UPDATE meta SET value = '2' WHERE key = 'version';"
    "COMMIT;";

#define LEDGER_VERSION 2

static const char *const sqls[ST_N] = {
    [ST_PUT_FILE] =
        "INSERT OR REPLACE INTO files VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,"
        " ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)",
    [ST_NEW_FILE] =
        "INSERT INTO files VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,"
        " ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)",
    [ST_PUT_BATCH] =
        "INSERT OR REPLACE INTO batches VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
        " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    [ST_EVENT] = "INSERT INTO events (ts_us, file_id, batch, what, detail)"
                 " VALUES (?1, ?2, ?3, ?4, ?5)",
    /* EXISTS, not count(*): thousands of files of one size (or content) must
       not make each lookup a scan of them all */
    [ST_FP] = "SELECT EXISTS (SELECT 1 FROM files WHERE table_name = ?1 AND"
              " fingerprint = ?2 AND state = 3)",
    [ST_SIZE] = "SELECT EXISTS (SELECT 1 FROM files WHERE table_name = ?1 AND"
                " size = ?2 AND state = 3)",
    [ST_FP_ANY] = "SELECT EXISTS (SELECT 1 FROM files WHERE table_name = ?1"
                  " AND fingerprint = ?2 AND state IN (1, 2, 3) AND id <> ?3)",
    [ST_SIZE_ANY] = "SELECT EXISTS (SELECT 1 FROM files WHERE table_name = ?1"
                    " AND size = ?2 AND state IN (0, 1, 2) AND id <> ?3) OR"
                    " EXISTS (SELECT 1 FROM files WHERE table_name = ?1 AND"
                    " size = ?2 AND state = 3)",
    [ST_ONE_PASS] = "SELECT EXISTS (SELECT 1 FROM files WHERE table_name = ?1"
                    " AND size = ?2 AND state IN (1, 2) AND id <> ?3 AND"
                    " fingerprint = '' AND NOT dup)",
};

static int db_fail(struct sl_ledger *l, struct sl_error *err, const char *what)
{
    int code = sqlite3_errcode(l->db);
    int rc = code == SQLITE_BUSY || code == SQLITE_LOCKED      ? -SL_EBUSY
             : code == SQLITE_FULL                             ? -SL_ENOSPC
             : code == SQLITE_NOMEM                            ? -SL_ENOMEM
             : code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? -SL_ECORRUPT
                                                               : -SL_EIO;
    rc = SL_ERR(err, rc, "ledger: %s: %s", what, sqlite3_errmsg(l->db));
    if (err != NULL) {
        err->sub = code;
    }
    return rc;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int read_version(struct sl_ledger *l, struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT value FROM meta WHERE key = "
                           "'version'",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "reading the ledger's version");
    }
    l->version = 1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        l->version = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return SL_OK;
}

/* Bring an older ledger to this version, in one transaction; a newer one is
 * refused for writing (its rows may mean more than this version knows). */
static int migrate(struct sl_ledger *l, struct sl_error *err)
{
    int rc = read_version(l, err);
    if (rc == SL_OK && l->version > LEDGER_VERSION) {
        return SL_ERR(err, -SL_EUSAGE,
                      "the ledger is version %d, newer than this sluice "
                      "writes (%d): use a newer sluice",
                      l->version, LEDGER_VERSION);
    }
    if (rc == SL_OK && l->version < 2) {
        if (sqlite3_exec(l->db, migrate_1_2, NULL, NULL, NULL) != SQLITE_OK) {
            rc = db_fail(l, err, "upgrading the ledger to version 2");
            (void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        l->version = 2;
    }
    if (rc == SL_OK &&
        sqlite3_exec(l->db,
                     "CREATE INDEX IF NOT EXISTS batches_post ON batches(post)"
                     " WHERE post > 0;"
                     "CREATE UNIQUE INDEX IF NOT EXISTS files_routed ON"
                     " files(raw_name, table_name, rule) WHERE state = 0;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(l, err, "indexing the ledger");
    }
    return rc;
}

int sl_ledger_open(const char *path, enum sl_ledger_mode mode,
                   struct sl_ledger **out, struct sl_error *err)
{
    *out = NULL;
    bool create = mode == SL_LEDGER_CREATE;
    if (!create && access(path, F_OK) != 0) {
        int rc = SL_ERR(err, -SL_ENOTFOUND, "no ledger at %s", path);
        sl__error_path(err, path);
        return rc;
    }
    struct sl_ledger *l = sl__calloc(1, sizeof(*l));
    if (l == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory opening the ledger");
    }
    int flags = (mode == SL_LEDGER_READ ? SQLITE_OPEN_READONLY
                                        : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = SL_OK;
    if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
        rc = db_fail(l, err, path);
        goto out;
    }
    sqlite3_busy_timeout(l->db, 30000);
    /* a claim of thousands of files is one transaction: keep its pages and
     * statement journals in memory, not in temporary files */
    (void)sqlite3_exec(l->db,
                       "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
                       NULL, NULL, NULL);
    if (mode == SL_LEDGER_READ) {
        rc = read_version(l, err);
        goto prepare; /* WAL is a property of the file: nothing to set */
    }
    /* WAL: readers (status) never block the service; NORMAL: a commit
     * survives the process being killed (kill -9), and the fsync at each
     * checkpoint bounds what a power cut can take (docs/LEDGER.md). */
    if (sqlite3_exec(l->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=OFF;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(l->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(l, err, path);
        goto out;
    }
    rc = migrate(l, err);
prepare:
    for (int i = 0; rc == SL_OK && i < ST_N; i++) {
        if (mode == SL_LEDGER_READ && i != ST_FP && i != ST_SIZE &&
            i != ST_FP_ANY) {
            continue;
        }
        if (sqlite3_prepare_v3(l->db, sqls[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &l->st[i], NULL) != SQLITE_OK) {
            rc = db_fail(l, err, "preparing statements");
            goto out;
        }
    }
out:
    if (rc != SL_OK) {
        sl__error_path(err, path);
        sl_ledger_close(l);
        return rc;
    }
    *out = l;
    return SL_OK;
}

void sl_ledger_close(struct sl_ledger *l)
{
    if (l == NULL) {
        return;
    }
    for (int i = 0; i < ST_N; i++) {
        sqlite3_finalize(l->st[i]);
    }
    sqlite3_close(l->db);
    sl__free(l);
}

int sl_ledger_begin(struct sl_ledger *l, struct sl_error *err)
{
    if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return db_fail(l, err, "BEGIN");
    }
    l->in_tx = true;
    return SL_OK;
}

int sl_ledger_commit(struct sl_ledger *l, struct sl_error *err)
{
    if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_fail(l, err, "COMMIT");
        sl_ledger_rollback(l);
        return rc;
    }
    l->in_tx = false;
    return SL_OK;
}

void sl_ledger_rollback(struct sl_ledger *l)
{
    (void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    l->in_tx = false;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    }
}

/* Step a write statement to completion and reset it. */
static int step_done(struct sl_ledger *l, sqlite3_stmt *st, const char *what,
                     struct sl_error *err)
{
    int r = sqlite3_step(st);
    int rc = r == SQLITE_DONE ? SL_OK : db_fail(l, err, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int sl_ledger_put_file(struct sl_ledger *l, const struct sl_lfile *f,
                       int64_t *out_id, struct sl_error *err)
{
    sqlite3_stmt *st = l->st[f->id == 0 ? ST_NEW_FILE : ST_PUT_FILE];
    if (f->id != 0) {
        sqlite3_bind_int64(st, 1, f->id);
    }
    bind_text(st, 2, f->raw_name);
    bind_text(st, 3, f->table);
    sqlite3_bind_int64(st, 4, f->size);
    sqlite3_bind_int64(st, 5, f->mtime_ns);
    sqlite3_bind_int64(st, 6, f->dev);
    sqlite3_bind_int64(st, 7, f->ino);
    bind_text(st, 8, f->fingerprint);
    bind_text(st, 9, f->data_fp);
    sqlite3_bind_int(st, 10, (int)f->state);
    bind_text(st, 11, f->path);
    bind_text(st, 12, f->prev_path);
    bind_text(st, 13, f->orig_path);
    bind_text(st, 14, f->orig_prev);
    sqlite3_bind_int(st, 15, f->format);
    sqlite3_bind_int64(st, 16, f->rows);
    sqlite3_bind_int64(st, 17, f->rows_valid);
    sqlite3_bind_int64(st, 18, f->rows_rejected);
    bind_text(st, 19, f->batch);
    sqlite3_bind_int(st, 20, f->attempts);
    sqlite3_bind_int64(st, 21, f->next_try_us);
    bind_text(st, 22, f->err_class);
    bind_text(st, 23, f->err_msg);
    sqlite3_bind_int64(st, 24, f->first_seen_us);
    sqlite3_bind_int64(st, 25, f->staged_us);
    sqlite3_bind_int64(st, 26, f->done_us);
    sqlite3_bind_int(st, 27, f->force ? 1 : 0);
    sqlite3_bind_int(st, 28, f->dup ? 1 : 0);
    bind_text(st, 29, f->rule != NULL && f->rule[0] ? f->rule : NULL);
    bind_text(st, 30,
              f->rule_src != NULL && f->rule_src[0] ? f->rule_src : NULL);
    bind_text(st, 31,
              f->route_key != NULL && f->route_key[0] ? f->route_key : NULL);
    sqlite3_bind_int(st, 32, f->routes > 1 ? f->routes : 1);
    int rc = step_done(l, st, "writing a file row", err);
    if (rc == SL_OK && out_id != NULL) {
        *out_id = f->id != 0 ? f->id : sqlite3_last_insert_rowid(l->db);
    }
    return rc;
}

int sl_ledger_put_batch(struct sl_ledger *l, const struct sl_lbatch *b,
                        struct sl_error *err)
{
    sqlite3_stmt *st = l->st[ST_PUT_BATCH];
    bind_text(st, 1, b->id);
    sqlite3_bind_int64(st, 2, b->seq);
    bind_text(st, 3, b->table);
    sqlite3_bind_int(st, 4, (int)b->state);
    sqlite3_bind_int64(st, 5, b->n_files);
    sqlite3_bind_int64(st, 6, b->rows);
    sqlite3_bind_int64(st, 7, b->bytes);
    sqlite3_bind_int64(st, 8, b->rejected);
    sqlite3_bind_int64(st, 9, b->created_us);
    sqlite3_bind_int64(st, 10, b->committed_us);
    sqlite3_bind_int(st, 11, b->attempts);
    sqlite3_bind_int64(st, 12, b->next_try_us);
    bind_text(st, 13, b->err_class);
    bind_text(st, 14, b->err_msg);
    sqlite3_bind_int64(st, 15, (sqlite3_int64)b->checksum);
    sqlite3_bind_int(st, 16, b->force ? 1 : 0);
    bind_text(st, 17, b->rule != NULL && b->rule[0] ? b->rule : NULL);
    bind_text(st, 18, b->plan != NULL && b->plan[0] ? b->plan : NULL);
    sqlite3_bind_int(st, 19, b->post);
    sqlite3_bind_int(st, 20, b->by_sql ? 1 : 0);
    return step_done(l, st, "writing a batch row", err);
}

int sl_ledger_event(struct sl_ledger *l, int64_t file_id, const char *batch,
                    const char *what, const char *detail, struct sl_error *err)
{
    sqlite3_stmt *st = l->st[ST_EVENT];
    sqlite3_bind_int64(st, 1, now_us());
    if (file_id > 0) {
        sqlite3_bind_int64(st, 2, file_id);
    } else {
        sqlite3_bind_null(st, 2);
    }
    bind_text(st, 3, batch);
    bind_text(st, 4, what);
    bind_text(st, 5, detail);
    return step_done(l, st, "writing an event", err);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s != NULL ? (const char *)s : "";
}

static void read_file(sqlite3_stmt *st, struct sl_lfile *f)
{
    f->id = sqlite3_column_int64(st, 0);
    f->raw_name = col_text(st, 1);
    f->table = col_text(st, 2);
    f->size = sqlite3_column_int64(st, 3);
    f->mtime_ns = sqlite3_column_int64(st, 4);
    f->dev = sqlite3_column_int64(st, 5);
    f->ino = sqlite3_column_int64(st, 6);
    f->fingerprint = col_text(st, 7);
    f->data_fp = col_text(st, 8);
    f->state = (enum sl_fstate)sqlite3_column_int(st, 9);
    f->path = col_text(st, 10);
    f->prev_path = col_text(st, 11);
    f->orig_path = col_text(st, 12);
    f->orig_prev = col_text(st, 13);
    f->format = sqlite3_column_int(st, 14);
    f->rows = sqlite3_column_int64(st, 15);
    f->rows_valid = sqlite3_column_int64(st, 16);
    f->rows_rejected = sqlite3_column_int64(st, 17);
    f->batch = col_text(st, 18);
    f->attempts = sqlite3_column_int(st, 19);
    f->next_try_us = sqlite3_column_int64(st, 20);
    f->err_class = col_text(st, 21);
    f->err_msg = col_text(st, 22);
    f->first_seen_us = sqlite3_column_int64(st, 23);
    f->staged_us = sqlite3_column_int64(st, 24);
    f->done_us = sqlite3_column_int64(st, 25);
    f->force = sqlite3_column_int(st, 26) != 0;
    f->dup = sqlite3_column_int(st, 27) != 0;
    f->rule = col_text(st, 28);
    f->rule_src = col_text(st, 29);
    f->route_key = col_text(st, 30);
    f->routes = sqlite3_column_int(st, 31);
}

static void read_batch(sqlite3_stmt *st, struct sl_lbatch *b)
{
    b->id = col_text(st, 0);
    b->seq = sqlite3_column_int64(st, 1);
    b->table = col_text(st, 2);
    b->state = (enum sl_bstate)sqlite3_column_int(st, 3);
    b->n_files = sqlite3_column_int64(st, 4);
    b->rows = sqlite3_column_int64(st, 5);
    b->bytes = sqlite3_column_int64(st, 6);
    b->rejected = sqlite3_column_int64(st, 7);
    b->created_us = sqlite3_column_int64(st, 8);
    b->committed_us = sqlite3_column_int64(st, 9);
    b->attempts = sqlite3_column_int(st, 10);
    b->next_try_us = sqlite3_column_int64(st, 11);
    b->err_class = col_text(st, 12);
    b->err_msg = col_text(st, 13);
    b->checksum = (uint64_t)sqlite3_column_int64(st, 14);
    b->force = sqlite3_column_int(st, 15) != 0;
    b->rule = col_text(st, 16);
    b->plan = col_text(st, 17);
    b->post = sqlite3_column_int(st, 18);
    b->by_sql = sqlite3_column_int(st, 19) != 0;
}

/* Prepare "SELECT * FROM table WHERE where ORDER BY order" (a version 1
 * ledger's rows with version 2's columns at their defaults). */
static int select_where(struct sl_ledger *l, const char *table,
                        const char *where, const char *order,
                        sqlite3_stmt **out, struct sl_error *err)
{
    char sql[1024];
    bool files = strcmp(table, "files") == 0;
    const char *v1 = l->version >= 2 ? ""
                     : files         ? ", NULL, NULL, NULL, 1"
                                     : ", NULL, NULL, 0, 0";
    int n =
        snprintf(sql, sizeof(sql), "SELECT *%s FROM %s WHERE %s ORDER BY %s",
                 v1, table, where, order);
    if (n < 0 || (size_t)n >= sizeof(sql)) {
        return SL_ERR(err, -SL_EUSAGE, "ledger: condition too long");
    }
    if (sqlite3_prepare_v2(l->db, sql, -1, out, NULL) != SQLITE_OK) {
        return db_fail(l, err, sql);
    }
    return SL_OK;
}

int sl_ledger_each_file(struct sl_ledger *l, const char *where,
                        sl_ledger_file_cb cb, void *ud, struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = select_where(l, "files", where, "id", &st, err);
    int r;
    while (rc == SL_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        struct sl_lfile f;
        read_file(st, &f);
        rc = cb(ud, &f);
    }
    if (rc == SL_OK && r != SQLITE_DONE) {
        rc = db_fail(l, err, "reading files");
    }
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_each_batch(struct sl_ledger *l, const char *where,
                         sl_ledger_batch_cb cb, void *ud, struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = select_where(l, "batches", where, "seq", &st, err);
    int r;
    while (rc == SL_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        struct sl_lbatch b;
        read_batch(st, &b);
        rc = cb(ud, &b);
    }
    if (rc == SL_OK && r != SQLITE_DONE) {
        rc = db_fail(l, err, "reading batches");
    }
    sqlite3_finalize(st);
    return rc;
}

/* One of the EXISTS lookups: ?1 the table, ?2 text (or num when text is
 * NULL), ?3 self when the statement has it. */
static int exists(struct sl_ledger *l, int which, const char *table,
                  const char *text, int64_t num, int64_t self, const char *what,
                  bool *out_yes, struct sl_error *err)
{
    sqlite3_stmt *st = l->st[which];
    bind_text(st, 1, table);
    if (text != NULL) {
        bind_text(st, 2, text);
    } else {
        sqlite3_bind_int64(st, 2, num);
    }
    if (sqlite3_bind_parameter_count(st) >= 3) {
        sqlite3_bind_int64(st, 3, self);
    }
    int rc = SL_OK;
    *out_yes = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out_yes = sqlite3_column_int64(st, 0) > 0;
    } else {
        rc = db_fail(l, err, what);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int sl_ledger_fp_loaded(struct sl_ledger *l, const char *table, const char *fp,
                        bool *out_yes, struct sl_error *err)
{
    return exists(l, ST_FP, table, fp, 0, 0, "looking a fingerprint up",
                  out_yes, err);
}

int sl_ledger_size_loaded(struct sl_ledger *l, const char *table, int64_t size,
                          bool *out_yes, struct sl_error *err)
{
    return exists(l, ST_SIZE, table, NULL, size, 0, "looking a size up",
                  out_yes, err);
}

int sl_ledger_meta_get(struct sl_ledger *l, const char *key, char *out,
                       size_t size, struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, "SELECT value FROM meta WHERE key = ?1", -1,
                           &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "reading meta");
    }
    bind_text(st, 1, key);
    out[0] = '\0';
    int r = sqlite3_step(st), rc = SL_OK;
    if (r == SQLITE_ROW) {
        snprintf(out, size, "%s", col_text(st, 0));
    } else if (r != SQLITE_DONE) {
        rc = db_fail(l, err, "reading meta");
    }
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_meta_set(struct sl_ledger *l, const char *key, const char *value,
                       struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "writing meta");
    }
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    int rc = sqlite3_step(st) == SQLITE_DONE ? SL_OK
                                             : db_fail(l, err, "writing meta");
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_scalar(struct sl_ledger *l, const char *sql, int64_t *out,
                     struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, sql);
    }
    int r = sqlite3_step(st), rc = SL_OK;
    if (r == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
    } else if (r != SQLITE_DONE) {
        rc = db_fail(l, err, sql);
    }
    sqlite3_finalize(st);
    return rc;
}

static int rows_of(struct sl_ledger *l, sqlite3_stmt *st, const char *sql,
                   sl_ledger_row_cb cb, void *ud, struct sl_error *err)
{
    int n = sqlite3_column_count(st), r, rc = SL_OK;
    const char *cols[32];
    if (n > 32) {
        n = 32;
    }
    while (rc == SL_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            cols[i] = (const char *)sqlite3_column_text(st, i);
        }
        rc = cb(ud, n, cols);
    }
    if (rc == SL_OK && r != SQLITE_DONE) {
        rc = db_fail(l, err, sql);
    }
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_rows(struct sl_ledger *l, const char *sql, sl_ledger_row_cb cb,
                   void *ud, struct sl_error *err)
{
    return sl_ledger_rows1(l, sql, NULL, cb, ud, err);
}

int sl_ledger_rows1(struct sl_ledger *l, const char *sql, const char *arg,
                    sl_ledger_row_cb cb, void *ud, struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, sql);
    }
    if (arg != NULL) {
        bind_text(st, 1, arg);
    }
    return rows_of(l, st, sql, cb, ud, err);
}

static int first_text(void *ud, int n, const char *const *cols)
{
    char **out = ud;
    if (n > 0 && cols[0] != NULL && *out[0] == '\0') {
        snprintf(out[0], (size_t)(uintptr_t)out[1], "%s", cols[0]);
    }
    return 0;
}

int sl_ledger_check(struct sl_ledger *l, char *out, size_t size,
                    struct sl_error *err)
{
    out[0] = '\0';
    char *ud[2] = {out, (char *)(uintptr_t)size};
    return sl_ledger_rows(l, "PRAGMA quick_check", first_text, ud, err);
}

int sl_ledger_request_force(struct sl_ledger *l, const char *raw_name,
                            struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "INSERT OR REPLACE INTO requests VALUES (?1, 1, ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "writing a request");
    }
    bind_text(st, 1, raw_name);
    sqlite3_bind_int64(st, 2, now_us());
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? SL_OK
                 : db_fail(l, err, "writing a request");
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_take_request(struct sl_ledger *l, const char *raw_name,
                           bool *out_force, struct sl_error *err)
{
    *out_force = false;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "DELETE FROM requests WHERE raw_name = ?1 "
                           "RETURNING force",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "reading a request");
    }
    bind_text(st, 1, raw_name);
    int r, rc = SL_OK;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        *out_force = sqlite3_column_int(st, 0) != 0;
    }
    if (r != SQLITE_DONE) {
        rc = db_fail(l, err, "reading a request");
    }
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_fp_taken(struct sl_ledger *l, const char *table, const char *fp,
                       int64_t self, bool *out_yes, struct sl_error *err)
{
    return exists(l, ST_FP_ANY, table, fp, 0, self, "looking a fingerprint up",
                  out_yes, err);
}

int sl_ledger_size_taken(struct sl_ledger *l, const char *table, int64_t size,
                         int64_t self, bool *out_yes, struct sl_error *err)
{
    return exists(l, ST_SIZE_ANY, table, NULL, size, self, "looking a size up",
                  out_yes, err);
}

int sl_ledger_one_pass_size(struct sl_ledger *l, const char *table,
                            int64_t size, int64_t self, bool *out_yes,
                            struct sl_error *err)
{
    return exists(l, ST_ONE_PASS, table, NULL, size, self, "looking a size up",
                  out_yes, err);
}

int sl_ledger_file_moved(struct sl_ledger *l, int64_t id, const char *path,
                         const char *prev, struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "UPDATE files SET path = ?2, prev_path = ?3 "
                           "WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "writing a file's place");
    }
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, path);
    bind_text(st, 3, prev);
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? SL_OK
                 : db_fail(l, err, "writing a file's place");
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_batch_post(struct sl_ledger *l, const char *id, int post,
                         struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, "UPDATE batches SET post = ?2 WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "writing a batch's actions");
    }
    bind_text(st, 1, id);
    sqlite3_bind_int(st, 2, post);
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? SL_OK
                 : db_fail(l, err, "writing a batch's actions");
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_put_source(struct sl_ledger *l, const char *hash,
                         const char *file, const char *text, size_t len,
                         struct sl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "INSERT OR IGNORE INTO rule_sources VALUES "
                           "(?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "recording a rule file");
    }
    bind_text(st, 1, hash);
    bind_text(st, 2, file);
    sqlite3_bind_text(st, 3, text, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_us());
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? SL_OK
                 : db_fail(l, err, "recording a rule file");
    sqlite3_finalize(st);
    return rc;
}

int sl_ledger_get_source(struct sl_ledger *l, const char *hash, char **out_file,
                         char **out_text, size_t *out_len, struct sl_error *err)
{
    *out_file = *out_text = NULL;
    *out_len = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT file, text FROM rule_sources WHERE "
                           "hash = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(l, err, "reading a rule file");
    }
    bind_text(st, 1, hash);
    int r = sqlite3_step(st), rc = SL_OK;
    if (r == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        *out_file = sl__strdup(col_text(st, 0));
        *out_text = sl__malloc(n + 1);
        if (*out_file == NULL || *out_text == NULL) {
            sl__free(*out_file);
            sl__free(*out_text);
            *out_file = *out_text = NULL;
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory reading a rule file");
        } else {
            memcpy(*out_text, t != NULL ? t : "", n);
            (*out_text)[n] = '\0';
            *out_len = n;
        }
    } else if (r == SQLITE_DONE) {
        rc = SL_ERR(err, -SL_ENOTFOUND, "the ledger holds no rule file %.12s",
                    hash);
    } else {
        rc = db_fail(l, err, "reading a rule file");
    }
    sqlite3_finalize(st);
    return rc;
}
