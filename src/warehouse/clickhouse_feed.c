/* clickhouse_feed.c - a batch's rows on their way to the staging tables
 * (step 1 of clickhouse_load.c): each producer (the loading thread, or one
 * thread per cursor of a file split by sl_psource) routes every row to its
 * shard, encodes it into that shard's Native block, and hands full blocks to
 * the shard's INSERT streams (clickhouse_upload.c), two per shard so that
 * the server parses one while it writes the other's part. Rows are counted
 * and checksummed per shard, so a shard's staging table can be checked
 * against what was sent to it. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "validate/psource.h"
#include "warehouse/clickhouse_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A block is handed over when it holds this many bytes or rows (the server
   gathers blocks into parts of about a million rows itself). */
#define BLOCK_BYTES (1u << 20)
#define BLOCK_ROWS  65536

/* One thread's encoding state. */
struct ch_prod {
    struct ch_feed *f;                   /* borrowed */
    struct ch_bw *bw[SL_CH_MAX_SHARDS];  /* a block being filled per shard */
    struct sl_buf enc[SL_CH_MAX_SHARDS]; /* a block ready to send */
    size_t next[SL_CH_MAX_SHARDS];       /* the stream it goes to */
    size_t since_check;                  /* rows since the size was looked at */
    struct ch_route route;               /* routing's own state */
    uint64_t rows, sum;                  /* rows produced, their checksum */
    uint64_t srows[SL_CH_MAX_SHARDS], ssum[SL_CH_MAX_SHARDS];
};

static void prod_destroy(struct ch_prod *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t s = 0; s < SL_CH_MAX_SHARDS; s++) {
        sl__ch_bw_destroy(p->bw[s]);
        sl__buf_release(&p->enc[s]);
    }
    sl__ch_route_release(&p->route);
    sl__free(p);
}

static int prod_create(struct ch_feed *f, struct ch_prod **out,
                       struct sl_error *err)
{
    struct ch_prod *p = sl__calloc(1, sizeof(*p));
    if (p == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory encoding rows");
    }
    p->f = f;
    for (size_t s = 0; s < SL_CH_MAX_SHARDS; s++) {
        sl__buf_init(&p->enc[s]);
    }
    for (size_t s = 0; s < f->wh->n_shards; s++) {
        if (f->done[s]) {
            continue;
        }
        int rc = sl__ch_bw_create(f->plan, f->marker, &p->bw[s], err);
        if (rc != SL_OK) {
            prod_destroy(p);
            return rc;
        }
    }
    *out = p;
    return SL_OK;
}

/* Hand shard s's block to one of its streams (in turn). */
static int prod_flush(struct ch_prod *p, size_t s, struct sl_error *err)
{
    int rc = sl__ch_bw_flush(p->bw[s], &p->enc[s], err);
    if (rc != SL_OK || p->enc[s].len == 0) {
        return rc;
    }
    struct ch_upload *u = p->f->up[s][p->next[s]];
    p->next[s] = (p->next[s] + 1) % p->f->streams;
    return sl__ch_upload_push(u, &p->enc[s], err);
}

static int prod_flush_all(struct ch_prod *p, struct sl_error *err)
{
    for (size_t s = 0; s < p->f->wh->n_shards; s++) {
        if (p->bw[s] != NULL) {
            int rc = prod_flush(p, s, err);
            if (rc != SL_OK) {
                return rc;
            }
        }
    }
    return SL_OK;
}

static int sink_row(void *ud, const struct sl_val *cols, size_t n,
                    struct sl_error *err)
{
    struct ch_prod *p = ud;
    struct ch_feed *f = p->f;
    size_t s = 0;
    uint64_t h = sl_row_hash(cols, n);
    int rc = sl__ch_route(f->plan, cols, n, h, f->wh->n_shards, &p->route, &s);
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "out of memory routing a row");
    }
    p->rows++;
    p->sum += h;
    p->srows[s]++;
    p->ssum[s] += h;
    if (f->done[s]) {
        return SL_OK; /* this shard holds its part already */
    }
    rc = sl__ch_bw_row(p->bw[s], cols, n, err);
    if (rc != SL_OK) {
        return rc;
    }
    /* the size is a sum over the columns: looked at every 64 rows */
    if (++p->since_check >= 64 || sl__ch_bw_rows(p->bw[s]) >= BLOCK_ROWS) {
        p->since_check = 0;
        if (sl__ch_bw_rows(p->bw[s]) >= BLOCK_ROWS ||
            sl__ch_bw_size(p->bw[s]) >= BLOCK_BYTES) {
            rc = prod_flush(p, s, err);
        }
    }
    return rc;
}

/* A producer's counts into the feed's (and out of the producer). */
static void prod_merge(struct ch_feed *f, struct ch_prod *p)
{
    f->rows += p->rows;
    f->sum += p->sum;
    for (size_t s = 0; s < SL_CH_MAX_SHARDS; s++) {
        f->srows[s] += p->srows[s];
        f->ssum[s] += p->ssum[s];
        p->srows[s] = p->ssum[s] = 0;
    }
    p->rows = p->sum = 0;
}

/* ---- the streams ----------------------------------------------------------
 */

int sl__ch_feed_start(struct ch_feed *f, struct sl_error *err)
{
    struct sl_wh *wh = f->wh;
    struct sl_buf q, path, ins;
    sl__buf_init(&q);
    sl__buf_init(&path);
    sl__buf_init(&ins);
    f->streams = wh->uri.streams;
    int rc = sl__buf_printf(&q, "CREATE TABLE `%s`.`%s` ", f->db, f->tmp);
    rc = rc ? rc : sl__ch_columns_sql(&q, f->plan, "");
    rc = rc ? rc : sl__ch_engine_sql(&q, f->plan);
    /* blocks of 256 Ki rows at most: bounded server memory */
    /* the streams share one path, so no query_id: they fill this attempt's
     * own tmp table, which a later attempt never uses */
    rc =
        rc ? rc
           : sl__ch_path_tag(wh, &path, "&max_insert_block_size=262144", false);
    rc = rc ? rc
            : sl__buf_printf(&ins, "INSERT INTO `%s`.`%s` FORMAT Native", f->db,
                             f->tmp);
    if (rc != SL_OK) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory starting a load");
    }
    for (size_t s = 0; rc == SL_OK && s < wh->n_shards; s++) {
        if (f->done[s]) {
            continue;
        }
        rc = sl__ch_exec(wh, s, q.data, NULL, err);
        f->tmp_made[s] = rc == SL_OK;
        const struct sl_ch_host *h = &wh->uri.shard[s];
        struct sl_http_opts ho = {.host = h->host,
                                  .port = h->port,
                                  .user = wh->uri.user,
                                  .password = wh->uri.password,
                                  .connect_timeout_ms =
                                      wh->uri.connect_timeout_ms,
                                  .idle_timeout_ms = wh->uri.timeout_ms};
        struct ch_upload_opts uo = {.http = &ho,
                                    .path = path.data,
                                    .sql = ins.data,
                                    .gzip = wh->uri.compress};
        for (size_t k = 0; rc == SL_OK && k < f->streams; k++) {
            rc = sl__ch_upload_start(&uo, &f->up[s][k], err);
        }
    }
    rc = rc ? rc : prod_create(f, &f->main, err);
    sl__buf_release(&q);
    sl__buf_release(&path);
    sl__buf_release(&ins);
    return rc;
}

int sl__ch_feed_finish(struct ch_feed *f, struct sl_error *err)
{
    int rc = f->main != NULL ? prod_flush_all(f->main, err) : SL_OK;
    for (size_t s = 0; s < f->wh->n_shards; s++) {
        for (size_t k = 0; k < SL_CH_STREAMS; k++) {
            if (f->up[s][k] == NULL) {
                continue;
            }
            if (rc == SL_OK) {
                rc = sl__ch_upload_finish(f->up[s][k], NULL, err);
            } else {
                sl__ch_upload_abort(f->up[s][k]);
            }
            f->up[s][k] = NULL;
        }
    }
    return rc;
}

void sl__ch_feed_abort(struct ch_feed *f)
{
    for (size_t s = 0; s < SL_CH_MAX_SHARDS; s++) {
        for (size_t k = 0; k < SL_CH_STREAMS; k++) {
            sl__ch_upload_abort(f->up[s][k]);
            f->up[s][k] = NULL;
        }
    }
}

void sl__ch_feed_drop(struct ch_feed *f)
{
    for (size_t s = 0; s < f->wh->n_shards; s++) {
        if (f->tmp_made[s]) {
            char sql[256];
            struct sl_error e = {0};
            snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS `%s`.`%s`", f->db,
                     f->tmp);
            /* best effort: a failure leaves garbage the next load's sweep
               removes, never wrong rows */
            if (sl__ch_exec(f->wh, s, sql, NULL, &e) != SL_OK) {
                sl__error_clear(&e);
            }
            f->tmp_made[s] = false;
        }
    }
}

void sl__ch_feed_release(struct ch_feed *f)
{
    sl__ch_feed_abort(f);
    prod_destroy(f->main);
    f->main = NULL;
}

/* ---- files ------------------------------------------------------------------
 */

struct worker {
    struct ch_feed *f;
    struct sl_psource *src;
    struct ch_prod *p;
    pthread_t thr;
    int rc;
    struct sl_error err;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct sl_pcursor *c = NULL;
    int rc = sl_pcursor_open(w->src, &c, &w->err);
    struct sl_row_sink rows = {sink_row, w->p};
    bool done = false;
    while (rc == SL_OK && !done) {
        rc = sl_pcursor_next(c, &rows, &done, &w->err);
    }
    sl_pcursor_close(c);
    w->rc = rc ? rc : prod_flush_all(w->p, &w->err);
    return NULL;
}

/* Producers for a file split in parts: one thread each. */
static unsigned producers(const struct sl_wh *wh)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = wh->threads ? wh->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    return n < 8 ? n : 8;
}

static int feed_parallel(struct ch_feed *f, struct sl_batch *b, size_t i,
                         bool *out_done, struct sl_error *err)
{
    const struct sl_batch_source *bs = &b->src;
    *out_done = false;
    unsigned n = producers(f->wh);
    if (bs->parallel == NULL || n < 2) {
        return SL_OK;
    }
    struct sl_psource *src = NULL;
    int rc = bs->parallel(bs->ud, i, &src, err);
    if (rc != SL_OK || src == NULL) {
        return rc;
    }
    *out_done = true;
    struct worker *ws = sl__calloc(n, sizeof(*ws));
    unsigned started = 0;
    rc = ws != NULL ? SL_OK
                    : SL_ERR(err, -SL_ENOMEM, "out of memory loading a file");
    for (unsigned k = 0; rc == SL_OK && k < n; k++) {
        ws[k].f = f;
        ws[k].src = src;
        rc = prod_create(f, &ws[k].p, err);
        if (rc == SL_OK &&
            pthread_create(&ws[k].thr, NULL, work, &ws[k]) != 0) {
            rc = SL_ERR(err, -SL_EENV, "cannot start a load thread");
        }
        started += rc == SL_OK;
    }
    uint64_t rows0 = f->rows;
    for (unsigned k = 0; k < started; k++) {
        pthread_join(ws[k].thr, NULL);
        if (rc == SL_OK && ws[k].rc != SL_OK) {
            rc = ws[k].rc;
            if (err != NULL && err->code == 0) {
                *err = ws[k].err;
            }
        }
        prod_merge(f, ws[k].p);
    }
    for (unsigned k = 0; ws != NULL && k < n; k++) {
        prod_destroy(ws[k].p);
    }
    sl__free(ws);
    b->files[i].rows_loaded = f->rows - rows0;
    int frc = bs->finish(bs->ud, i, src, err);
    return rc != SL_OK ? rc : frc;
}

int sl__ch_feed_file(struct ch_feed *f, struct sl_batch *b, size_t i,
                     struct sl_error *err)
{
    bool done = false;
    int rc = feed_parallel(f, b, i, &done, err);
    if (rc != SL_OK || done) {
        return rc;
    }
    struct sl_row_sink rows = {sink_row, f->main};
    uint64_t rows0 = f->rows + f->main->rows;
    rc = b->src.feed(b->src.ud, i, &rows, err);
    prod_merge(f, f->main);
    b->files[i].rows_loaded = f->rows - rows0;
    return rc;
}
