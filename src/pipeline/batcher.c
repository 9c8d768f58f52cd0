/* batcher.c - transformed/ to sent/: group a table's staged files into a
 * batch when its window closes (or a size limit is reached), seal it in the
 * ledger, move its files to cloud_ready/<table>/<batch>/, load it on a worker
 * through the warehouse's idempotent load_batch, and archive its files once
 * the warehouse committed it. One batch per table at a time; tables load
 * concurrently. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/crash.h"
#include "pipeline/svc_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- forming and sealing ----------------------------------------------------
 */

int staged_push(struct svc *s, struct gfile *f)
{
    struct gtable *t = &s->tables[f->tix];
    if (t->n_staged == t->cap_staged) {
        size_t cap = t->cap_staged ? 2 * t->cap_staged : 64;
        struct gfile **g = sl__realloc(t->staged, cap * sizeof(*g));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        t->staged = g;
        t->cap_staged = cap;
    }
    t->staged[t->n_staged++] = f;
    t->staged_bytes += (uint64_t)f->size;
    return SL_OK;
}

/* The end of the clock-aligned window f's staging fell in. */
static int64_t window_end(const struct svc *s, const struct gfile *f)
{
    int64_t w = (int64_t)(s->cfg->window_ms ? s->cfg->window_ms : 1) * 1000;
    return (f->staged_us / w + 1) * w;
}

/* How many of t's first staged files make the next batch (same force flag,
 * within max_files and max_bytes, at least one). */
static size_t take_count(const struct svc *s, const struct gtable *t)
{
    size_t n = 0;
    uint64_t bytes = 0;
    bool force = t->staged[0]->force;
    while (n < t->n_staged && t->staged[n]->force == force) {
        uint64_t b = (uint64_t)t->staged[n]->size;
        if (n > 0 && ((s->cfg->max_files && n >= s->cfg->max_files) ||
                      (s->cfg->max_bytes && bytes + b > s->cfg->max_bytes))) {
            break;
        }
        bytes += b;
        n++;
    }
    return n;
}

static int seal(struct svc *s, int tix, size_t n, struct sl_error *err)
{
    struct gtable *t = &s->tables[tix];
    struct gbatch *b = sl__calloc(1, sizeof(*b));
    const char **fps = sl__calloc(n, sizeof(*fps));
    if (b == NULL || fps == NULL ||
        (b->files = sl__calloc(n, sizeof(*b->files))) == NULL) {
        sl__free(fps);
        sl__free(b);
        return SL_ERR(err, -SL_ENOMEM, "out of memory forming a batch");
    }
    memcpy(b->files, t->staged, n * sizeof(*b->files));
    b->n = n;
    b->tix = tix;
    b->seq = ++s->seq;
    b->force = b->files[0]->force;
    b->created_us = sl_gw_now_us();
    for (size_t i = 0; i < n; i++) {
        fps[i] = b->files[i]->fp;
        b->bytes += (uint64_t)b->files[i]->size;
    }
    char salt[96];
    sl_gw_pathf(salt, sizeof(salt), "gateway %s batch %lld", s->gw_id,
                (long long)b->seq);
    sl_batch_id(t->name, fps, n, salt, b->id);
    sl__free(fps);
    memmove(t->staged, t->staged + n, (t->n_staged - n) * sizeof(*t->staged));
    t->n_staged -= n;
    t->staged_bytes -= b->bytes;
    t->batch = b;
    /* the ledger first: the batch, the sequence, each file's new place */
    char seqtxt[32];
    sl_gw_pathf(seqtxt, sizeof(seqtxt), "%lld", (long long)b->seq);
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = t->name,
                           .state = SL_B_SEALED,
                           .n_files = (int64_t)n,
                           .bytes = (int64_t)b->bytes,
                           .created_us = b->created_us,
                           .force = b->force};
    int rc = svc_tx_begin(s, err);
    rc = rc ? rc : sl_ledger_put_batch(s->ledger, &lb, err);
    rc = rc ? rc : sl_ledger_meta_set(s->ledger, "batch_seq", seqtxt, err);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        struct gfile *f = b->files[i];
        char to[SL_GW_PATH];
        const char *base = strrchr(f->path, '/');
        sl_gw_pathf(to, sizeof(to), "cloud_ready/%s/%s/%s", t->name, b->id,
                    base != NULL ? base + 1 : f->path);
        rc = svc_set(&f->prev, f->path);
        rc = rc ? rc : svc_set(&f->path, to);
        if (rc != SL_OK) {
            rc = SL_ERR(err, rc, "out of memory sealing a batch");
            break;
        }
        f->state = SL_F_BATCHED;
        memcpy(f->batch, b->id, sizeof(f->batch));
        rc = svc_put_file(s, f, err);
    }
    rc = rc ? rc : svc_tx_commit(s, err);
    if (rc != SL_OK) {
        return rc;
    }
    sl__crash_point("batch-sealed");
    for (size_t i = 0; i < n; i++) {
        struct gfile *f = b->files[i];
        svc_move(s, f, b->id, f->prev, f->path);
        sl__crash_point("batch-file-moved");
    }
    svc_log(s, SL_LOG_DEBUG, NULL, b->id, NULL, "batch of %zu files for %s", n,
            t->name);
    return batch_queue_load(s, b);
}

int batch_queue_load(struct svc *s, struct gbatch *b)
{
    struct job *j = sl__calloc(1, sizeof(*j));
    if (j == NULL) {
        return -SL_ENOMEM;
    }
    j->kind = JOB_LOAD;
    j->b = b;
    j->bad_index = -1;
    b->busy = true;
    pool_push(s, j);
    return SL_OK;
}

int batch_form_due(struct svc *s, int64_t now, bool drain, int64_t *next_us,
                   struct sl_error *err)
{
    for (size_t i = 0; i < s->n_tables; i++) {
        struct gtable *t = &s->tables[i];
        if (t->batch != NULL) {
            struct gbatch *b = t->batch;
            if (!b->busy && b->next_try_us <= now) {
                int rc = batch_queue_load(s, b);
                if (rc != SL_OK) {
                    return SL_ERR(err, rc, "out of memory");
                }
            } else if (!b->busy &&
                       (*next_us == 0 || b->next_try_us < *next_us)) {
                *next_us = b->next_try_us;
            }
            continue;
        }
        if (t->n_staged == 0) {
            continue;
        }
        size_t n = take_count(s, t);
        int64_t due = window_end(s, t->staged[0]);
        bool full = n < t->n_staged; /* a limit cut the batch short */
        if (!drain && !full && now < due) {
            if (*next_us == 0 || due < *next_us) {
                *next_us = due;
            }
            continue;
        }
        int rc = seal(s, (int)i, n, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* ---- loading (on a worker) -------------------------------------------------
 */

struct feedctx {
    struct svc *s;
    struct job *j;
    struct gtable *t;
    struct sl_validator *v[3]; /* one per way of reading (as staged:
                                  NDJSON, CSV; canonical good rows), made
                                  on first use and kept for the batch */
};

static int no_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    (void)ud;
    return SL_ERR(err, -SL_ECHANGED,
                  "the staged file no longer validates (line %llu: %s)",
                  (unsigned long long)r->line_no, r->reason);
}

/* The options a staged file is read with: the table's for a file staged as
 * it came; plain NDJSON (the table's size limits) for good rows staging wrote.
 */
static struct sl_vopts read_opts(const struct gtable *t, const struct gfile *f)
{
    struct sl_vopts o = t->load.v;
    if (f->orig != NULL) {
        struct sl_vopts d;
        sl_vopts_default(&d);
        d.max_row_size = o.max_row_size;
        d.max_value_size = o.max_value_size;
        o = d;
    }
    o.format = (enum sl_format)f->format;
    o.fingerprint = true;
    o.max_bad = 0;
    return o;
}

/* The staged file's facts must be what staging saw. */
static int check_file(struct feedctx *c, size_t i, const struct gfile *f,
                      const struct sl_file_stats *st, struct sl_error *err)
{
    if ((int64_t)st->valid != f->valid ||
        strcmp(st->fingerprint, f->data_fp) != 0) {
        c->j->bad_index = (long)i;
        return SL_ERR(err, -SL_ECHANGED,
                      "%s changed after it was staged (%llu rows now, %lld "
                      "then)",
                      f->path, (unsigned long long)st->valid,
                      (long long)f->valid);
    }
    return SL_OK;
}

struct counting {
    const struct sl_row_sink *inner;
    uint64_t n;
};

static int counting_row(void *ud, const struct sl_val *cols, size_t n,
                        struct sl_error *err)
{
    struct counting *k = ud;
    k->n++;
    return k->inner->row(k->inner->ud, cols, n, err);
}

static int feed(void *ud, size_t i, const struct sl_row_sink *rows,
                struct sl_error *err)
{
    struct feedctx *c = ud;
    const struct gfile *f = c->j->b->files[i];
    if (f->dup_hint) {
        /* the ledger holds this content as loaded, the warehouse does not:
         * it must be validated again before it can load */
        c->j->bad_index = (long)i;
        return SL_ERR(err, -SL_ECHANGED,
                      "%s: the ledger has its content as loaded but the "
                      "warehouse does not",
                      f->raw_name);
    }
    char path[SL_GW_PATH];
    sl_gw_abs(c->s->cfg->dir, f->path, path, sizeof(path));
    struct sl_vopts o = read_opts(c->t, f);
    struct sl_validator **v =
        &c->v[f->orig != NULL ? 2 : f->format == SL_FMT_CSV];
    struct sl_file_stats st;
    int rc = *v != NULL ? SL_OK
                        : sl_validator_create_from_plan(c->t->plan, &o, v, err);
    if (rc == SL_OK) {
        struct counting k = {rows, 0};
        struct sl_row_sink cr = {counting_row, &k};
        struct sl_reject_sink rj = {no_reject, NULL};
        rc = sl_validate_file(*v, path, &cr, &rj, &st, err);
    }
    if (rc == -SL_ECHANGED || rc == -SL_ECORRUPT || rc == -SL_ENOTFOUND) {
        c->j->bad_index = (long)i;
    }
    return rc == SL_OK ? check_file(c, i, f, &st, err) : rc;
}

static int parallel(void *ud, size_t i, struct sl_psource **out,
                    struct sl_error *err)
{
    struct feedctx *c = ud;
    const struct gfile *f = c->j->b->files[i];
    *out = NULL;
    if (c->s->threads < 2 || f->dup_hint || f->size < (16 << 20)) {
        return SL_OK;
    }
    char path[SL_GW_PATH];
    sl_gw_abs(c->s->cfg->dir, f->path, path, sizeof(path));
    struct sl_vopts o = read_opts(c->t, f);
    return sl_psource_open(c->t->t, &o, path, out, err);
}

static int finish(void *ud, size_t i, struct sl_psource *src,
                  struct sl_error *err)
{
    struct feedctx *c = ud;
    struct sl_file_stats st;
    struct sl_reject_sink rj = {no_reject, NULL};
    int rc = sl_psource_finish(src, &rj, &st, err);
    sl_psource_close(src);
    if (rc != SL_OK) {
        c->j->bad_index = (long)i;
        return rc;
    }
    return check_file(c, i, c->j->b->files[i], &st, err);
}

void batch_run_job(struct svc *s, struct job *j)
{
    struct gbatch *b = j->b;
    struct gtable *t = &s->tables[b->tix];
    struct sl_batch_file *files = sl__calloc(b->n, sizeof(*files));
    char(*names)[SL_GW_PATH + 8] = sl__calloc(b->n, sizeof(*names));
    j->outcomes = sl__calloc(b->n, sizeof(*j->outcomes));
    j->bad_index = -1;
    if (files == NULL || names == NULL || j->outcomes == NULL) {
        j->rc = SL_ERR(&j->err, -SL_ENOMEM, "out of memory loading a batch");
        sl__free(files);
        sl__free(names);
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct gfile *f = b->files[i];
        snprintf(names[i], sizeof(names[i]), "raw/%s", f->raw_name);
        files[i] =
            (struct sl_batch_file){.path = names[i],
                                   .fingerprint = f->fp,
                                   .size = (uint64_t)f->size,
                                   .rows_rejected = (uint64_t)f->rejected,
                                   .first_seen_us = f->first_seen_us};
    }
    struct feedctx c = {s, j, t, {NULL, NULL, NULL}};
    struct sl_batch bt = {.id = b->id,
                          .t = t->t,
                          .files = files,
                          .n_files = b->n,
                          .flags = b->force ? SL_BATCH_FORCE : 0,
                          .origin = "gateway",
                          .first_seen_us = b->files[0]->first_seen_us,
                          .src = {feed, parallel, finish, &c}};
    struct sl_wh_open_opts oo = {
        .mode = SL_WH_CREATE, .threads = s->threads, .lock_timeout_ms = 2000};
    struct sl_wh *wh = NULL;
    bool created = false;
    int rc = s->ops->open(s->cfg->warehouse, &oo, &wh, &j->err);
    rc = rc ? rc : s->ops->ensure_table(wh, t->t, &created, &j->err);
    sl__crash_point("before-load");
    rc = rc ? rc : s->ops->load_batch(wh, &bt, &j->err);
    s->ops->close(wh);
    for (size_t i = 0; i < SL_ARRAY_LEN(c.v); i++) {
        sl_validator_destroy(c.v[i]);
    }
    sl__crash_point("after-load");
    j->rc = rc;
    if (rc == SL_OK) {
        j->already = bt.already;
        j->rows_loaded = bt.rows_loaded;
        j->checksum = bt.checksum;
        for (size_t i = 0; i < b->n; i++) {
            j->outcomes[i] = files[i].outcome;
        }
    }
    sl__free(files);
    sl__free(names);
}

/* ---- results
 * ------------------------------------------------------------------ */

int batch_finish_committed(struct svc *s, struct gbatch *b, bool already,
                           const enum sl_file_outcome *out, uint64_t rows,
                           uint64_t checksum, struct sl_error *err)
{
    struct gtable *t = &s->tables[b->tix];
    int64_t now = sl_gw_now_us();
    uint64_t rejected = 0;
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = t->name,
                           .state = SL_B_COMMITTED,
                           .n_files = (int64_t)b->n,
                           .rows = (int64_t)rows,
                           .bytes = (int64_t)b->bytes,
                           .created_us = b->created_us,
                           .committed_us = now,
                           .attempts = b->attempts,
                           .checksum = checksum,
                           .force = b->force};
    int rc = svc_tx_begin(s, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        struct gfile *f = b->files[i];
        bool dup = out != NULL ? out[i] == SL_FILE_DUPLICATE
                               : (already && f->dup_hint);
        char to[SL_GW_PATH], name[SL_GW_PATH];
        const char *base = strrchr(f->path, '/');
        sl_gw_pathf(name, sizeof(name), "%s",
                    base != NULL ? base + 1 : f->path);
        sl_gw_sent_path(b->created_us, t->name, name, to, sizeof(to));
        rc = svc_set(&f->prev, f->path);
        rc = rc ? rc : svc_set(&f->path, to);
        if (rc != SL_OK) {
            rc = SL_ERR(err, rc, "out of memory archiving a batch");
            break;
        }
        f->state = dup ? SL_F_DUPLICATE : SL_F_LOADED;
        f->done_us = now;
        rejected += (uint64_t)f->rejected;
        rc = svc_put_file(s, f, err);
    }
    lb.rejected = (int64_t)rejected;
    rc = rc ? rc : sl_ledger_put_batch(s->ledger, &lb, err);
    rc = rc ? rc : svc_tx_commit(s, err);
    if (rc != SL_OK) {
        return rc;
    }
    sl__crash_point("batch-recorded");
    for (size_t i = 0; i < b->n; i++) {
        struct gfile *f = b->files[i];
        svc_move(s, f, b->id, f->prev, f->path);
        if (f->state == SL_F_DUPLICATE) {
            s->stats->duplicates++;
        } else {
            s->stats->loaded++;
        }
        s->stats->rows_rejected += (uint64_t)f->rejected;
    }
    char dir[SL_GW_PATH];
    sl_gw_pathf(dir, sizeof(dir), "%s/cloud_ready/%s/%s", s->cfg->dir, t->name,
                b->id);
    (void)rmdir(dir);
    lb.state = SL_B_ARCHIVED;
    struct sl_error e2 = {0};
    if (sl_ledger_put_batch(s->ledger, &lb, &e2) != SL_OK) {
        svc_log(s, SL_LOG_WARN, NULL, b->id, NULL, "%s", e2.msg);
    }
    s->stats->batches++;
    s->stats->rows_loaded += rows;
    svc_log(s, SL_LOG_INFO, NULL, b->id, NULL,
            "%s: %zu files, %llu rows loaded%s", t->name, b->n,
            (unsigned long long)rows,
            already ? " (committed before: recovered)" : "");
    for (size_t i = 0; i < b->n; i++) {
        svc_drop_file(s, b->files[i]);
    }
    t->batch = NULL;
    sl__free(b->files);
    sl__free(b);
    return SL_OK;
}

/* A batch comes apart without file `bad`: the others go back to staged
 * (ledger, then moves back to transformed/), the batch is abandoned. */
static int abandon(struct svc *s, struct gbatch *b, long bad,
                   struct sl_error *err)
{
    struct gtable *t = &s->tables[b->tix];
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = t->name,
                           .state = SL_B_ABANDONED,
                           .n_files = (int64_t)b->n,
                           .created_us = b->created_us,
                           .attempts = b->attempts};
    int rc = svc_tx_begin(s, err);
    rc = rc ? rc : sl_ledger_put_batch(s->ledger, &lb, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        struct gfile *f = b->files[i];
        if ((long)i == bad) {
            continue;
        }
        char to[SL_GW_PATH];
        const char *base = strrchr(f->path, '/');
        sl_gw_pathf(to, sizeof(to), "transformed/%s/%s", t->name,
                    base != NULL ? base + 1 : f->path);
        rc = svc_set(&f->prev, f->path);
        rc = rc ? rc : svc_set(&f->path, to);
        f->state = SL_F_STAGED;
        f->batch[0] = '\0';
        rc = rc ? rc : svc_put_file(s, f, err);
    }
    return rc ? rc : svc_tx_commit(s, err);
}

static int batch_changed(struct svc *s, struct gbatch *b, struct job *j,
                         struct sl_error *err)
{
    long bad = j->bad_index;
    struct gfile *f = b->files[bad];
    int rc = abandon(s, b, bad, err);
    if (rc != SL_OK) {
        return rc;
    }
    struct gtable *t = &s->tables[b->tix];
    for (size_t i = 0; i < b->n; i++) {
        struct gfile *g = b->files[i];
        if ((long)i == bad) {
            continue;
        }
        svc_move(s, g, b->id, g->prev, g->path);
        if ((rc = staged_push(s, g)) != SL_OK) {
            return SL_ERR(err, rc, "out of memory");
        }
    }
    t->batch = NULL;
    if (f->dup_hint) {
        /* validate it again from where it is */
        f->dup_hint = false;
        f->state = SL_F_CLAIMED;
        f->batch[0] = '\0';
        rc = svc_put_file(s, f, err);
        rc = rc ? rc : claim_queue(s, f, err);
    } else {
        rc = svc_fail_file(s, f, j->rc, "corrupt", j->err.msg, err);
        if (rc == SL_OK) {
            svc_move(s, f, b->id, f->prev, f->path);
            svc_write_error(s, f, j->rc);
            svc_drop_file(s, f);
        }
    }
    char dir[SL_GW_PATH];
    sl_gw_pathf(dir, sizeof(dir), "%s/cloud_ready/%s/%s", s->cfg->dir, t->name,
                b->id);
    (void)rmdir(dir);
    sl__free(b->files);
    sl__free(b);
    return rc;
}

/* The warehouse refused the batch for good: every file fails with why. */
static int batch_failed(struct svc *s, struct gbatch *b, struct job *j,
                        struct sl_error *err)
{
    struct gtable *t = &s->tables[b->tix];
    const char *cls = sl_errclass(j->rc);
    svc_log(s, SL_LOG_ERROR, NULL, b->id, cls, "%s: batch failed: %s", t->name,
            j->err.msg);
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = t->name,
                           .state = SL_B_FAILED,
                           .n_files = (int64_t)b->n,
                           .created_us = b->created_us,
                           .attempts = b->attempts,
                           .err_class = cls,
                           .err_msg = j->err.msg};
    int rc = svc_tx_begin(s, err);
    rc = rc ? rc : sl_ledger_put_batch(s->ledger, &lb, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        b->files[i]->attempts = b->attempts;
        rc = svc_fail_file(s, b->files[i], j->rc, cls, j->err.msg, err);
    }
    rc = rc ? rc : svc_tx_commit(s, err);
    if (rc != SL_OK) {
        return rc;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct gfile *f = b->files[i];
        svc_move(s, f, b->id, f->prev, f->path);
        svc_write_error(s, f, j->rc);
        svc_drop_file(s, f);
    }
    t->batch = NULL;
    sl__free(b->files);
    sl__free(b);
    return SL_OK;
}

int batch_done(struct svc *s, struct job *j, struct sl_error *err)
{
    struct gbatch *b = j->b;
    b->busy = false;
    if (j->rc == SL_OK) {
        return batch_finish_committed(s, b, j->already, j->outcomes,
                                      j->rows_loaded, j->checksum, err);
    }
    if (j->bad_index >= 0 && (size_t)j->bad_index < b->n) {
        svc_log(s, SL_LOG_WARN, b->files[j->bad_index], b->id,
                sl_errclass(j->rc), "left out of its batch: %s", j->err.msg);
        return batch_changed(s, b, j, err);
    }
    b->attempts++;
    bool transient =
        strcmp(sl_errclass(j->rc), "transient") == 0 || j->rc == -SL_ENOMEM;
    if (transient && (uint32_t)b->attempts < s->cfg->retry_attempts) {
        int64_t wait = svc_backoff_us(s, b->attempts);
        if (j->err.retry_after_ms > 0 &&
            (int64_t)j->err.retry_after_ms * 1000 > wait) {
            wait = (int64_t)j->err.retry_after_ms * 1000;
        }
        b->next_try_us = sl_gw_now_us() + wait;
        svc_log(s, SL_LOG_WARN, NULL, b->id, sl_errclass(j->rc),
                "%s: will retry the batch (attempt %d) in %lld ms: %s",
                s->tables[b->tix].name, b->attempts, (long long)(wait / 1000),
                j->err.msg);
        return SL_OK;
    }
    return batch_failed(s, b, j, err);
}
