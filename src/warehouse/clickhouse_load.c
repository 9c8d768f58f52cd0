/* clickhouse_load.c - one batch into ClickHouse exactly once, without
 * transactions (docs/CLICKHOUSE.md has the design and every recovery case):
 *
 *   1. rows are routed to their shard and streamed as Native blocks into a
 *      private staging table per shard (_sluice_tmp_<token>), every row
 *      carrying the attempt's random token in the column _sluice_batch;
 *   2. once every file was fed, each filled staging table is renamed to
 *      _sluice_stage_<batch id> - the rename is atomic and refuses an
 *      existing name, so a batch has at most one complete stage per shard;
 *   3. the stage moves into the table one partition at a time with ALTER
 *      TABLE ... ATTACH PARTITION ID ... FROM (hard links: no data is
 *      rewritten); a resumed move counts each partition's rows that carry
 *      the stage's token in the table first, so a partition is never
 *      attached twice;
 *   4. the shard's part is recorded in its _sluice_parts, the stage dropped;
 *   5. the files, then the batch, are recorded on the first server
 *      (_sluice_files, then _sluice_loads: the commit point).
 *
 * Any attempt after a crash at any step finds where the last one stopped by
 * the batch id (the stage's name, the part records, the batch record) and
 * the token (the rows), and finishes it. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/crash.h"
#include "warehouse/clickhouse_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* await_earlier: polls 50 ms apart, 30 s in all */
#define CH_AWAIT_POLLS 600

struct run {
    struct sl_wh *wh;
    struct sl_batch *b;
    struct ch_plan plan;
    char table[600];     /* "dataset.table", as the audit names it */
    struct sl_buf local; /* `db`.`table` or `db`.`table_local` */
    const char *db;      /* the URI's database (staging, audit) */
    char tmp[64];        /* _sluice_tmp_<token> */
    struct ch_feed feed; /* the rows' way to the staging tables */
};

static int nomem(struct sl_error *err)
{
    return SL_ERR(err, -SL_ENOMEM, "clickhouse driver: out of memory");
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t random_token(void)
{
    uint64_t t = 0;
    if (getrandom(&t, sizeof(t), 0) != (ssize_t)sizeof(t)) {
        t = (uint64_t)wall_us() ^ ((uint64_t)getpid() << 40);
    }
    return t | 1; /* never 0: the table's own rows have marker 0 */
}

static int execf(struct run *r, size_t s, struct sl_error *err, const char *fmt,
                 ...) SL_PRINTF(4, 5);

static int execf(struct run *r, size_t s, struct sl_error *err, const char *fmt,
                 ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(sql)) {
        return SL_ERR(err, -SL_EWAREHOUSE, "clickhouse: statement too long");
    }
    return sl__ch_exec(r->wh, s, sql, NULL, err);
}

/* tmp tables an attempt left more than an hour ago (it crashed while
 * feeding: nothing of them was ever moved). */
static void sweep_stale(struct run *r)
{
    for (size_t s = 0; s < r->wh->n_shards; s++) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT name FROM system.tables WHERE database = '%s' AND "
                 "startsWith(name, '_sluice_tmp_') AND "
                 "metadata_modification_time < now() - 3600",
                 r->db);
        struct sl_cursor *c = NULL;
        struct sl_error e = {0};
        char names[16][64];
        size_t n = 0;
        const struct sl_val *row;
        if (sl__ch_cursor_open_on(r->wh, s, sql, &c, &e) == SL_OK) {
            while (n < 16 && sl__ch_cursor_next(c, &row, &e) == SL_OK &&
                   row != NULL && row[0].kind == SL_V_STR &&
                   row[0].len < sizeof(names[0])) {
                memcpy(names[n], row[0].u.s, row[0].len);
                names[n++][row[0].len] = '\0';
            }
        }
        sl__ch_cursor_close(c);
        for (size_t i = 0; i < n; i++) {
            (void)execf(r, s, &e, "DROP TABLE IF EXISTS `%s`.`%s`", r->db,
                        names[i]);
        }
    }
}

/* ---- duplicates, dispositions, records ----------------------------------- */

static int mark_duplicates(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    for (size_t i = 0; i < b->n_files; i++) {
        b->files[i].outcome = SL_FILE_LOADED;
        b->files[i].rows_loaded = 0;
    }
    if ((b->flags & SL_BATCH_FORCE) || b->n_files == 0) {
        return SL_OK;
    }
    const char **fps = sl__calloc(b->n_files, sizeof(*fps));
    bool *yes = sl__calloc(b->n_files, sizeof(*yes));
    int rc = fps != NULL && yes != NULL ? SL_OK : nomem(err);
    for (size_t i = 0; rc == SL_OK && i < b->n_files; i++) {
        fps[i] = b->files[i].fingerprint;
    }
    rc =
        rc ? rc : sl__ch_fps_loaded(r->wh, r->table, fps, b->n_files, yes, err);
    for (size_t i = 0; rc == SL_OK && i < b->n_files; i++) {
        const char *fp = b->files[i].fingerprint;
        bool again = false;
        for (size_t k = 0; fp != NULL && k < i && !again; k++) {
            again = b->files[k].fingerprint != NULL &&
                    strcmp(b->files[k].fingerprint, fp) == 0;
        }
        if (fp != NULL && (yes[i] || again)) {
            b->files[i].outcome = SL_FILE_DUPLICATE;
        }
    }
    sl__free(fps);
    sl__free(yes);
    return rc;
}

/* WRITE_EMPTY: the table must hold no rows. */
static int check_empty(struct run *r, struct sl_error *err)
{
    if (!(r->b->flags & SL_BATCH_EMPTY)) {
        return SL_OK;
    }
    for (size_t s = 0; s < r->wh->n_shards; s++) {
        char sql[2048];
        snprintf(sql, sizeof(sql),
                 "SELECT count() FROM (SELECT 1 FROM %s "
                 "LIMIT 1)",
                 r->local.data);
        int64_t n = 0;
        int rc = sl__ch_count(r->wh, s, sql, &n, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (n > 0) {
            return SL_ERR(err, -SL_ESCHEMA,
                          "table %s is not empty (--write_disposition "
                          "WRITE_EMPTY loads only into an empty table)",
                          r->table);
        }
    }
    return SL_OK;
}

/* Which shards recorded their part of batch id before (an earlier attempt
 * that stopped later on). */
static int parts_done(struct run *r, const char *id, struct sl_error *err)
{
    for (size_t s = 0; s < r->wh->n_shards; s++) {
        struct sl_buf q;
        sl__buf_init(&q);
        int64_t n = 0;
        int rc = sl__buf_printf(&q,
                                "SELECT count() FROM `%s`.`_sluice_parts` "
                                "WHERE batch_id = '%s' AND shard = %zu AND "
                                "table_name = ",
                                r->db, id, s);
        rc = rc ? rc : sl__ch_literal(&q, r->table, strlen(r->table));
        rc = rc ? nomem(err) : sl__ch_count(r->wh, s, q.data, &n, err);
        sl__buf_release(&q);
        if (rc != SL_OK) {
            return rc;
        }
        r->feed.done[s] = n > 0;
    }
    return SL_OK;
}

static int put_str(struct sl_buf *b, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    uint8_t v[10];
    size_t k = 0;
    uint64_t x = n;
    while (x >= 0x80) {
        v[k++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    v[k++] = (uint8_t)x;
    int rc = sl__buf_append(b, v, k);
    return rc ? rc : sl__buf_append(b, s != NULL ? s : "", n);
}

static int put_nullable_i64(struct sl_buf *b, bool null, int64_t v)
{
    int rc = sl__buf_putc(b, null ? 1 : 0);
    return rc || null ? rc : sl__buf_append(b, &v, 8);
}

/* An INSERT of RowBinary rows (built in body after its statement line). */
static int insert_rows(struct run *r, size_t s, const struct sl_buf *body,
                       struct sl_error *err)
{
    struct sl_buf path;
    sl__buf_init(&path);
    if (sl__ch_path(r->wh, &path, NULL) != SL_OK) {
        sl__buf_release(&path);
        return nomem(err);
    }
    struct sl_http_req rq = {
        .path_query = path.data, .body = body->data, .body_len = body->len};
    struct sl_http_resp resp;
    int rc = sl__http_do(r->wh->shard[s].http, &rq, &resp, err);
    if (rc == SL_OK) {
        rc = sl__ch_judge(r->wh->shard[s].name, r->wh->uri.user, &resp, err);
    }
    sl__buf_release(&resp.body);
    sl__buf_release(&path);
    return rc;
}

static int record_part(struct run *r, size_t s, int64_t rows, uint64_t marker,
                       struct sl_error *err)
{
    struct sl_buf b;
    sl__buf_init(&b);
    uint32_t shard = (uint32_t)s;
    int64_t now = wall_us();
    uint64_t sum = r->feed.ssum[s];
    int rc = sl__buf_printf(&b,
                            "INSERT INTO `%s`.`_sluice_parts` FORMAT "
                            "RowBinary\n",
                            r->db);
    rc = rc ? rc : put_str(&b, r->b->id_out);
    rc = rc ? rc : put_str(&b, r->table);
    rc = rc ? rc : sl__buf_append(&b, &shard, 4);
    rc = rc ? rc : sl__buf_append(&b, &rows, 8);
    rc = rc ? rc : sl__buf_append(&b, &sum, 8);
    rc = rc ? rc : sl__buf_append(&b, &marker, 8);
    rc = rc ? rc : sl__buf_append(&b, &now, 8);
    rc = rc ? nomem(err) : insert_rows(r, s, &b, err);
    sl__buf_release(&b);
    return rc;
}

/* _sluice_files, then _sluice_loads (the commit), on the first server. */
static int record_batch(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    int64_t now = wall_us();
    uint64_t rejected = 0, bytes = 0;
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = sl__buf_printf(&q,
                            "INSERT INTO `%s`.`_sluice_files` FORMAT "
                            "RowBinary\n",
                            r->db);
    for (size_t i = 0; rc == SL_OK && i < b->n_files; i++) {
        const struct sl_batch_file *f = &b->files[i];
        rejected += f->rows_rejected;
        bytes += f->size;
        rc = put_str(&q, b->id_out);
        rc = rc ? rc : put_str(&q, r->table);
        rc = rc ? rc : put_str(&q, f->path);
        rc = rc ? rc : put_str(&q, f->fingerprint);
        rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)f->size);
        rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)f->rows_loaded);
        rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)f->rows_rejected);
        rc = rc ? rc
                : put_str(&q, f->outcome == SL_FILE_DUPLICATE ? "duplicate"
                                                              : "loaded");
        rc = rc ? rc
                : put_nullable_i64(&q, f->first_seen_us == 0, f->first_seen_us);
        rc = rc ? rc : put_nullable_i64(&q, false, now);
    }
    if (rc != SL_OK) {
        sl__buf_release(&q);
        return nomem(err);
    }
    if (b->n_files > 0 && (rc = insert_rows(r, 0, &q, err)) != SL_OK) {
        sl__buf_release(&q);
        return rc;
    }
    sl__crash_point("ch-files-recorded");
    sl__buf_reset(&q);
    rc = sl__buf_printf(&q,
                        "INSERT INTO `%s`.`_sluice_loads` FORMAT "
                        "RowBinary\n",
                        r->db);
    rc = rc ? rc : put_str(&q, b->id_out);
    rc = rc ? rc : put_str(&q, r->table);
    rc = rc ? rc : sl__buf_putc(&q, 0);
    rc = rc ? rc : put_str(&q, b->origin != NULL ? b->origin : "load");
    rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)b->n_files);
    rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)b->rows_loaded);
    rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)rejected);
    rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)bytes);
    rc = rc ? rc : put_nullable_i64(&q, false, (int64_t)b->checksum);
    rc =
        rc ? rc : put_nullable_i64(&q, b->first_seen_us == 0, b->first_seen_us);
    rc = rc ? rc : put_nullable_i64(&q, false, now);
    rc = rc ? nomem(err) : insert_rows(r, 0, &q, err);
    sl__buf_release(&q);
    if (rc == SL_OK) {
        sl__crash_point("ch-committed");
    }
    return rc;
}

/* ---- the move -------------------------------------------------------------
 */

struct part {
    char id[128];  /* partition_id */
    int64_t rows;  /* in the stage */
    int64_t moved; /* rows with the stage's token in the table */
};

/* The stage's partitions (and their rows) on shard s. */
static int stage_parts(struct run *r, size_t s, const char *stage,
                       struct part **out, size_t *out_n, struct sl_error *err)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT partition_id, sum(rows) FROM system.parts WHERE "
             "database = '%s' AND table = '%s' AND active GROUP BY "
             "partition_id ORDER BY partition_id",
             r->db, stage);
    struct sl_cursor *c = NULL;
    int rc = sl__ch_cursor_open_on(r->wh, s, sql, &c, err);
    struct part *v = NULL;
    size_t n = 0, cap = 0;
    const struct sl_val *row;
    while (rc == SL_OK && (rc = sl__ch_cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct part *g = sl__realloc(v, cap * sizeof(*g));
            if (g == NULL) {
                rc = nomem(err);
                break;
            }
            v = g;
        }
        memset(&v[n], 0, sizeof(v[n]));
        size_t l = row[0].kind == SL_V_STR ? row[0].len : 0;
        if (l >= sizeof(v[n].id)) {
            rc = SL_ERR(err, -SL_EWAREHOUSE,
                        "clickhouse: partition id too long");
            break;
        }
        memcpy(v[n].id, row[0].u.s, l);
        v[n].rows = row[1].kind == SL_V_NUMTEXT ? strtoll(row[1].u.s, NULL, 10)
                                                : row[1].u.i;
        n++;
    }
    sl__ch_cursor_close(c);
    if (rc != SL_OK) {
        sl__free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return SL_OK;
}

/* Rows of the table that carry marker, per partition. */
static int moved_rows(struct run *r, size_t s, uint64_t marker, struct part *v,
                      size_t n, struct sl_error *err)
{
    struct sl_buf q;
    sl__buf_init(&q);
    int rc =
        sl__buf_printf(&q,
                       "SELECT _partition_id, count() FROM %s WHERE "
                       "_sluice_batch = %" PRIu64 " GROUP BY _partition_id",
                       r->local.data, marker);
    struct sl_cursor *c = NULL;
    rc = rc ? nomem(err) : sl__ch_cursor_open_on(r->wh, s, q.data, &c, err);
    const struct sl_val *row;
    while (rc == SL_OK && (rc = sl__ch_cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (row[0].kind == SL_V_STR && strlen(v[i].id) == row[0].len &&
                memcmp(v[i].id, row[0].u.s, row[0].len) == 0) {
                v[i].moved = row[1].kind == SL_V_NUMTEXT
                                 ? strtoll(row[1].u.s, NULL, 10)
                                 : row[1].u.i;
            }
        }
    }
    sl__ch_cursor_close(c);
    sl__buf_release(&q);
    return rc;
}

/* Delete the rows carrying marker (a partition half attached: only a
 * server that died inside ATTACH leaves one) and wait for the mutation. */
static int undo_marker(struct run *r, size_t s, uint64_t marker,
                       struct sl_error *err)
{
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "ALTER TABLE %s DELETE WHERE _sluice_batch = %" PRIu64,
             r->local.data, marker);
    int rc = sl__ch_exec(r->wh, s, sql, NULL, err);
    for (int i = 0; rc == SL_OK && i < 600; i++) {
        int64_t n = 0;
        snprintf(sql, sizeof(sql),
                 "SELECT count() FROM %s WHERE _sluice_batch = %" PRIu64,
                 r->local.data, marker);
        rc = sl__ch_count(r->wh, s, sql, &n, err);
        if (rc != SL_OK || n == 0) {
            return rc;
        }
        usleep(100 * 1000);
    }
    return rc ? rc
              : SL_ERR(err, -SL_EBUSY,
                       "clickhouse %s: undoing a half-moved batch takes "
                       "longer than a minute",
                       r->wh->shard[s].name);
}

/* Move shard s's stage into the table, partition by partition; resumed:
 * the stage may be partly moved already. */
static int move_stage(struct run *r, size_t s, const char *stage,
                      uint64_t marker, bool resumed, int64_t *out_rows,
                      struct sl_error *err)
{
    struct part *v = NULL;
    size_t n = 0;
    int rc = stage_parts(r, s, stage, &v, &n, err);
    bool truncate = (r->b->flags & SL_BATCH_TRUNCATE) != 0;
    if (rc == SL_OK && truncate) {
        rc = execf(r, s, err, "TRUNCATE TABLE %s", r->local.data);
    } else if (rc == SL_OK && resumed) {
        rc = moved_rows(r, s, marker, v, n, err);
        bool partial = false;
        for (size_t i = 0; i < n; i++) {
            partial |= v[i].moved != 0 && v[i].moved != v[i].rows;
        }
        if (rc == SL_OK && partial) {
            rc = undo_marker(r, s, marker, err);
            for (size_t i = 0; i < n; i++) {
                v[i].moved = 0;
            }
        }
    }
    *out_rows = 0;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        *out_rows += v[i].rows;
        if (v[i].moved == v[i].rows) {
            continue; /* attached before the last attempt stopped */
        }
        struct sl_buf q;
        sl__buf_init(&q);
        rc = sl__buf_printf(&q, "ALTER TABLE %s ATTACH PARTITION ID ",
                            r->local.data);
        rc = rc ? rc : sl__ch_literal(&q, v[i].id, strlen(v[i].id));
        rc = rc ? rc : sl__buf_printf(&q, " FROM `%s`.`%s`", r->db, stage);
        rc = rc ? nomem(err) : sl__ch_exec(r->wh, s, q.data, NULL, err);
        sl__buf_release(&q);
        if (rc == SL_OK) {
            sl__crash_point("ch-attached");
        }
    }
    sl__free(v);
    return rc;
}

/* Rename shard s's tmp table to the batch's stage; an existing stage (an
 * earlier attempt's, complete) wins and ours is dropped. */
static int claim_stage(struct run *r, size_t s, const char *stage,
                       uint64_t *out_marker, bool *out_resumed,
                       struct sl_error *err)
{
    struct sl_error e = {0};
    int rc = execf(r, s, &e, "RENAME TABLE `%s`.`%s` TO `%s`.`%s`", r->db,
                   r->tmp, r->db, stage);
    *out_marker = r->feed.marker;
    *out_resumed = false;
    if (rc == SL_OK) {
        r->feed.tmp_made[s] = false;
        return SL_OK;
    }
    /* refused: does the stage exist? (Code 57, TABLE_ALREADY_EXISTS) */
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count() FROM system.tables WHERE database = '%s' AND "
             "name = '%s'",
             r->db, stage);
    int64_t n = 0;
    int rc2 = sl__ch_count(r->wh, s, sql, &n, err);
    if (rc2 != SL_OK) {
        return rc2;
    }
    if (n == 0) {
        if (err != NULL && err->code == 0) {
            *err = e;
        }
        return rc;
    }
    (void)execf(r, s, &e, "DROP TABLE IF EXISTS `%s`.`%s`", r->db, r->tmp);
    r->feed.tmp_made[s] = false;
    snprintf(sql, sizeof(sql), "SELECT any(_sluice_batch) FROM `%s`.`%s`",
             r->db, stage);
    int64_t m = 0;
    rc = sl__ch_count(r->wh, s, sql, &m, err);
    *out_marker = (uint64_t)m;
    *out_resumed = true;
    return rc;
}

/* Steps 2 to 4 for every shard that has not recorded its part. */
static int move_all(struct run *r, struct sl_error *err)
{
    char stage[96];
    snprintf(stage, sizeof(stage), "_sluice_stage_%.64s", r->b->id_out);
    sl__crash_point("ch-staged");
    for (size_t s = 0; s < r->wh->n_shards; s++) {
        if (r->feed.done[s]) {
            /* a stage a crash left after the part was recorded */
            int rc = execf(r, s, err, "DROP TABLE IF EXISTS `%s`.`%s`", r->db,
                           stage);
            if (rc != SL_OK) {
                return rc;
            }
            continue;
        }
        uint64_t marker;
        bool resumed;
        int rc = claim_stage(r, s, stage, &marker, &resumed, err);
        if (rc != SL_OK) {
            return rc;
        }
        sl__crash_point("ch-renamed");
        int64_t rows = 0;
        rc = move_stage(r, s, stage, marker, resumed, &rows, err);
        if (rc == SL_OK && (uint64_t)rows != r->feed.srows[s]) {
            rc = SL_ERR(err, -SL_EWAREHOUSE,
                        "clickhouse %s: the stage of batch %.12s holds %lld "
                        "rows, the batch routes %llu there",
                        r->wh->shard[s].name, r->b->id_out, (long long)rows,
                        (unsigned long long)r->feed.srows[s]);
        }
        rc = rc ? rc : record_part(r, s, rows, marker, err);
        if (rc == SL_OK) {
            sl__crash_point("ch-part-recorded");
        }
        rc = rc ? rc
                : execf(r, s, err, "DROP TABLE IF EXISTS `%s`.`%s`", r->db,
                        stage);
        if (rc != SL_OK) {
            return rc;
        }
        sl__crash_point("ch-stage-dropped");
    }
    return SL_OK;
}

/* ---- the batch -----------------------------------------------------------
 */

static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return n > 0 && n <= SL_BATCH_ID_LEN;
}

/* Feed every file not marked duplicate; rc 1: a stdin file turned out to be
 * content the table holds (nothing to commit). */
static int feed_files(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    for (size_t i = 0; i < b->n_files; i++) {
        struct sl_batch_file *f = &b->files[i];
        if (f->outcome == SL_FILE_DUPLICATE) {
            continue;
        }
        bool known = f->fingerprint != NULL;
        int rc = sl__ch_feed_file(&r->feed, b, i, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (!known && f->fingerprint != NULL && !(b->flags & SL_BATCH_FORCE)) {
            bool dup = false;
            const char *fp = f->fingerprint;
            rc = sl__ch_fps_loaded(r->wh, r->table, &fp, 1, &dup, err);
            if (rc != SL_OK) {
                return rc;
            }
            if (dup) {
                f->outcome = SL_FILE_DUPLICATE;
                f->rows_loaded = 0;
                return 1;
            }
        }
    }
    return SL_OK;
}

/* A batch recorded before: what was recorded - its rows and checksum, and
 * each file's outcome and rows (matched by fingerprint, in order), as the
 * gateway needs them to archive a batch a crash left committed. Returns 1
 * (nothing to do) or the error. */
static int batch_info(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = sl__buf_printf(&q,
                            "SELECT rows_loaded, checksum FROM "
                            "`%s`.`_sluice_loads` FINAL WHERE batch_id = ",
                            r->db);
    rc = rc ? rc : sl__ch_literal(&q, b->id_out, strlen(b->id_out));
    struct sl_cursor *c = NULL;
    const struct sl_val *row = NULL;
    rc = rc ? nomem(err) : sl__ch_cursor_open_on(r->wh, 0, q.data, &c, err);
    rc = rc ? rc : sl__ch_cursor_next(c, &row, err);
    if (rc == SL_OK && row != NULL) {
        b->rows_loaded = row[0].kind == SL_V_I64 ? (uint64_t)row[0].u.i : 0;
        b->checksum =
            row[1].kind == SL_V_NUMTEXT ? strtoull(row[1].u.s, NULL, 10) : 0;
    }
    sl__ch_cursor_close(c);
    c = NULL;
    sl__buf_reset(&q);
    rc = rc ? rc
            : sl__buf_printf(&q,
                             "SELECT fingerprint, outcome = 'duplicate', "
                             "rows_loaded FROM `%s`.`_sluice_files` FINAL "
                             "WHERE batch_id = ",
                             r->db);
    rc = rc ? rc : sl__ch_literal(&q, b->id_out, strlen(b->id_out));
    bool *seen = sl__calloc(b->n_files ? b->n_files : 1, sizeof(*seen));
    if (rc == SL_OK && seen == NULL) {
        rc = nomem(err);
    }
    rc = rc ? rc : sl__ch_cursor_open_on(r->wh, 0, q.data, &c, err);
    while (rc == SL_OK && (rc = sl__ch_cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
        for (size_t i = 0; i < b->n_files && row[0].kind == SL_V_STR; i++) {
            struct sl_batch_file *f = &b->files[i];
            if (!seen[i] && f->fingerprint != NULL &&
                strlen(f->fingerprint) == row[0].len &&
                memcmp(f->fingerprint, row[0].u.s, row[0].len) == 0) {
                seen[i] = true;
                f->outcome = row[1].kind == SL_V_I64 && row[1].u.i != 0
                                 ? SL_FILE_DUPLICATE
                                 : SL_FILE_LOADED;
                f->rows_loaded =
                    row[2].kind == SL_V_I64 ? (uint64_t)row[2].u.i : 0;
                break;
            }
        }
    }
    sl__ch_cursor_close(c);
    sl__free(seen);
    sl__buf_release(&q);
    return rc != SL_OK ? rc : 1;
}

/* An attempt killed while a statement of batch id was on its way (an
 * INSERT of a record, an ATTACH) leaves the server finishing it: wait until
 * no query of the batch runs on any shard before asking what is recorded,
 * then tag this attempt's own queries. */
static int await_earlier(struct run *r, const char *id, struct sl_error *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count() FROM system.processes WHERE "
             "startsWith(query_id, 'sluice-%.64s-')",
             id);
    for (size_t s = 0; s < r->wh->n_shards; s++) {
        int64_t n = 1;
        for (int k = 0; n > 0; k++) {
            int rc = sl__ch_count(r->wh, s, sql, &n, err);
            if (rc != SL_OK) {
                return rc;
            }
            if (n > 0 && k == CH_AWAIT_POLLS) {
                return SL_ERR(err, -SL_EBUSY,
                              "clickhouse %s: statements of an earlier "
                              "attempt at batch %.12s still run (query_id "
                              "sluice-%.12s-*)",
                              r->wh->shard[s].name, id, id);
            }
            if (n > 0) {
                usleep(50 * 1000);
            }
        }
    }
    snprintf(r->wh->qid, sizeof(r->wh->qid), "sluice-%.64s-%016" PRIx64, id,
             random_token());
    return SL_OK;
}

static int run_batch(struct run *r, struct sl_error *err)
{
    struct sl_batch *b = r->b;
    bool yes = false;
    int rc;
    if (b->id != NULL) {
        if (!id_ok(b->id)) {
            return SL_ERR(err, -SL_EUSAGE, "clickhouse: bad batch id");
        }
        snprintf(b->id_out, sizeof(b->id_out), "%s", b->id);
        rc = await_earlier(r, b->id, err);
        rc = rc ? rc : sl__ch_batch_recorded(r->wh, b->id, &yes, err);
        if (rc != SL_OK || yes) {
            b->already = yes;
            return rc != SL_OK ? rc : batch_info(r, err);
        }
        rc = parts_done(r, b->id, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if ((rc = check_empty(r, err)) != SL_OK ||
        (rc = mark_duplicates(r, err)) != SL_OK) {
        return rc;
    }
    sweep_stale(r);
    if ((rc = sl__ch_feed_start(&r->feed, err)) != SL_OK) {
        return rc;
    }
    rc = feed_files(r, err);
    if (rc != SL_OK) {
        sl__ch_feed_abort(&r->feed);
        return rc;
    }
    if ((rc = sl__ch_feed_finish(&r->feed, err)) != SL_OK) {
        return rc;
    }
    b->rows_loaded = r->feed.rows;
    b->checksum = r->feed.sum;
    if (sl_batch_derive_id(b, r->table) != SL_OK) {
        return nomem(err);
    }
    if (b->id == NULL) {
        rc = await_earlier(r, b->id_out, err);
        rc = rc ? rc : sl__ch_batch_recorded(r->wh, b->id_out, &yes, err);
        if (rc != SL_OK || yes) {
            b->already = yes;
            return rc != SL_OK ? rc : batch_info(r, err);
        }
        rc = parts_done(r, b->id_out, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if ((rc = move_all(r, err)) != SL_OK) {
        return rc;
    }
    return record_batch(r, err);
}

int sl__ch_load_batch(struct sl_wh *wh, struct sl_batch *b,
                      struct sl_error *err)
{
    b->already = false;
    b->rows_loaded = 0;
    b->checksum = 0;
    b->id_out[0] = '\0';
    if (wh->read_only) {
        return SL_ERR(err, -SL_EUSAGE, "clickhouse: %s is open read-only",
                      wh->uri.shown);
    }
    if (wh->cursor != NULL || wh->loading) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: a load or a query is in progress");
    }
    if (b->n_post_sql > 0) {
        /* a rule's transient-to-destination SQL must run in the batch's
         * transaction, so that a failure takes the rows back out and a
         * crash cannot run it twice: ClickHouse has none */
        return SL_ERR(err, -SL_EUSAGE,
                      "clickhouse: a batch with SQL to run after its rows "
                      "(a rule's transient table: %zu statement%s) needs a "
                      "transaction, which ClickHouse does not have; load "
                      "the destination table directly (no Transient in the "
                      "rule)",
                      b->n_post_sql, b->n_post_sql == 1 ? "" : "s");
    }
    if (b->schema_update != 0) {
        /* schema update options: the table must already be the definition
         * (Sluice does not ALTER ClickHouse tables; docs/CLICKHOUSE.md) */
        bool exists = false;
        int rc = sl__ch_table_state(wh, b->t, &exists, err);
        if (rc != SL_OK) {
            if (rc == -SL_ESCHEMA) {
                sl__error_prefix(err, "--schema_update_option: Sluice does "
                                      "not change ClickHouse tables in a "
                                      "load: ");
            }
            return rc;
        }
    }
    struct run *r = sl__calloc(1, sizeof(*r));
    if (r == NULL) {
        return nomem(err);
    }
    r->wh = wh;
    r->b = b;
    r->db = wh->uri.database;
    r->feed.wh = wh;
    r->feed.plan = &r->plan;
    r->feed.db = r->db;
    r->feed.tmp = r->tmp;
    r->feed.marker = random_token();
    snprintf(r->tmp, sizeof(r->tmp), "_sluice_tmp_%016" PRIx64, r->feed.marker);
    if (b->audit_table != NULL) {
        /* a rule's transient load: the trail names its destination */
        snprintf(r->table, sizeof(r->table), "%s", b->audit_table);
    } else {
        snprintf(r->table, sizeof(r->table), "%s.%s", b->t->dataset,
                 b->t->name);
    }
    sl__buf_init(&r->local);
    wh->loading = true;
    int rc = sl__ch_plan_table(b->t, &r->plan, NULL, err);
    if (rc == SL_OK && sl__ch_local_table(wh, b->t, &r->local) != SL_OK) {
        rc = nomem(err);
    }
    rc = rc ? rc : sl__ch_audit_ready(wh, err);
    rc = rc ? rc : run_batch(r, err);
    sl__ch_feed_release(&r->feed);
    sl__ch_feed_drop(&r->feed);
    if (rc == 1) {
        if (!b->already) {
            b->rows_loaded = 0; /* stdin content the table holds */
        }
        rc = SL_OK;
    } else if (rc != SL_OK) {
        b->rows_loaded = 0;
    }
    sl__buf_release(&r->local);
    sl__ch_plan_free(&r->plan);
    sl__free(r);
    wh->qid[0] = '\0';
    wh->loading = false;
    return rc;
}
