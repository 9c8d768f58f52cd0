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

/* When g's oldest staged file is due: the end of the clock-aligned window
 * its staging fell in (a file staged after its window closed is in the next
 * one: windows key on arrival), at once without a window. */
static int64_t due_at(const struct ggroup *g)
{
    int64_t t = g->staged[0]->staged_us;
    int64_t w = (int64_t)g->lim.window_ms * 1000;
    return w > 0 ? (t / w + 1) * w : t;
}

/* How many of g's first staged files make the next batch (same force flag,
 * within max_files and max_bytes, at least one). A file loaded in one pass
 * is a batch of its own: its bad records, found by the load, abort no other
 * file's. */
static size_t take_count(const struct ggroup *g)
{
    size_t n = 0;
    uint64_t bytes = 0;
    bool force = g->staged[0]->force;
    if (svc_one_pass(g->staged[0])) {
        return 1;
    }
    while (n < g->n_staged && g->staged[n]->force == force &&
           !svc_one_pass(g->staged[n])) {
        uint64_t b = (uint64_t)g->staged[n]->size;
        if (n > 0 && ((g->lim.max_files && n >= g->lim.max_files) ||
                      (g->lim.max_bytes && bytes + b > g->lim.max_bytes))) {
            break;
        }
        bytes += b;
        n++;
    }
    return n;
}

static void batch_free(struct gbatch *b)
{
    if (b != NULL) {
        sl__free(b->files);
        sl__free(b->plan);
        sl__free(b);
    }
}

/* The first n staged files of g as a batch (not yet recorded). */
static struct gbatch *take(struct svc *s, struct ggroup *g, size_t n)
{
    struct gbatch *b = sl__calloc(1, sizeof(*b));
    const char **fps = sl__calloc(n, sizeof(*fps));
    if (b == NULL || fps == NULL ||
        (b->files = sl__calloc(n, sizeof(*b->files))) == NULL) {
        sl__free(fps);
        batch_free(b);
        return NULL;
    }
    memcpy(b->files, g->staged, n * sizeof(*b->files));
    b->n = n;
    b->g = g;
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
    sl_batch_id(g->table, fps, n, salt, b->id);
    sl__free(fps);
    memmove(g->staged, g->staged + n, (g->n_staged - n) * sizeof(*g->staged));
    g->n_staged -= n;
    g->staged_bytes -= b->bytes;
    return b;
}

/* The rule of a batch cannot plan it any more (its recorded text against
 * today's registry): its files fail with why, in place of a load. */
static int unplannable(struct svc *s, struct gbatch *b,
                       const struct sl_error *e, struct sl_error *err)
{
    int rc = svc_tx_begin(s, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        rc = svc_fail_file(s, b->files[i], e->code, sl_errclass(e->code),
                           e->msg, err);
    }
    rc = rc ? rc : svc_tx_commit(s, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        struct gfile *f = b->files[i];
        svc_move(s, f, NULL, f->prev, f->path);
        svc_write_error(s, f, e->code);
        svc_drop_file(s, f);
    }
    batch_free(b);
    return rc;
}

/* The ledger first (the batch, its plan, the sequence, each file's new
 * place), then the moves to cloud_ready/<table>/<batch>/. */
static int seal(struct svc *s, struct ggroup *g, size_t n, struct sl_error *err)
{
    struct gbatch *b = take(s, g, n);
    if (b == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory forming a batch");
    }
    struct sl_error pe = {0};
    if (g->rule != NULL && route_plan_record(s, b, &pe) != SL_OK) {
        if (pe.code == -SL_ENOMEM) {
            batch_free(b);
            *err = pe;
            return -SL_ENOMEM;
        }
        return unplannable(s, b, &pe, err);
    }
    g->batch = b;
    char seqtxt[32];
    sl_gw_pathf(seqtxt, sizeof(seqtxt), "%lld", (long long)b->seq);
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = g->table,
                           .state = SL_B_SEALED,
                           .n_files = (int64_t)n,
                           .bytes = (int64_t)b->bytes,
                           .created_us = b->created_us,
                           .force = b->force,
                           .rule = g->rule,
                           .plan = b->plan,
                           .by_sql = b->by_sql};
    int rc = svc_tx_begin(s, err);
    rc = rc ? rc : sl_ledger_put_batch(s->ledger, &lb, err);
    rc = rc ? rc : sl_ledger_meta_set(s->ledger, "batch_seq", seqtxt, err);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        struct gfile *f = b->files[i];
        char to[SL_GW_PATH];
        const char *base = strrchr(f->path, '/');
        sl_gw_pathf(to, sizeof(to), "cloud_ready/%s/%s/%s", g->table, b->id,
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
    svc_log(s, SL_LOG_DEBUG, NULL, b->id, NULL, "batch of %zu files for %s%s%s",
            n, g->table, g->rule != NULL ? " by rule " : "",
            g->rule != NULL ? g->rule : "");
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
    if (b->g->rule != NULL) {
        /* the set of the rule's text, parsed here: workers only read it */
        struct sl_error e = {0};
        j->rs = route_set(s, b->files[0]->src, &e);
        if (j->rs == NULL && (j->rs_error = sl__strdup(e.msg)) == NULL) {
            job_free(j);
            return -SL_ENOMEM;
        }
    }
    b->busy = true;
    pool_push(s, j);
    return SL_OK;
}

/* g's batch in flight: queued again when its retry is due. */
static int batch_retry_due(struct svc *s, struct gbatch *b, int64_t now,
                           int64_t *next_us, struct sl_error *err)
{
    if (!b->busy && b->next_try_us <= now) {
        int rc = batch_queue_load(s, b);
        return rc == SL_OK ? SL_OK : SL_ERR(err, rc, "out of memory");
    }
    if (!b->busy && (*next_us == 0 || b->next_try_us < *next_us)) {
        *next_us = b->next_try_us;
    }
    return SL_OK;
}

int batch_form_due(struct svc *s, int64_t now, bool drain, int64_t *next_us,
                   struct sl_error *err)
{
    int rc = SL_OK;
    /* (seal may add no group: it only takes from g) */
    for (size_t i = 0; rc == SL_OK && i < s->n_groups; i++) {
        struct ggroup *g = s->groups[i];
        if (g->batch != NULL) {
            rc = batch_retry_due(s, g->batch, now, next_us, err);
            continue;
        }
        if (g->n_staged == 0) {
            continue;
        }
        size_t n = take_count(g);
        int64_t due = due_at(g);
        bool full = n < g->n_staged; /* a limit cut the batch short */
        if (!drain && !full && now < due) {
            if (*next_us == 0 || due < *next_us) {
                *next_us = due;
            }
            continue;
        }
        rc = seal(s, g, n, err);
    }
    groups_sweep(s);
    return rc;
}

/* ---- results
 * ------------------------------------------------------------------ */

/* A batch's row as it stands (state and counts given by the caller). */
static struct sl_lbatch batch_row(const struct gbatch *b, enum sl_bstate st)
{
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = b->g->table,
                           .state = st,
                           .n_files = (int64_t)b->n,
                           .bytes = (int64_t)b->bytes,
                           .created_us = b->created_us,
                           .attempts = b->attempts,
                           .force = b->force,
                           .rule = b->g->rule,
                           .plan = b->plan,
                           .by_sql = b->by_sql};
    return lb;
}

/* A one-pass file with bad records, once archived: its original linked
 * into quarantine/, its rejects moved beside it from beside it in
 * cloud_ready/ (recovery does the same after a crash: recover.c
 * settle_dirty). */
static void one_pass_quarantine(struct svc *s, struct gfile *f)
{
    char rj[SL_GW_PATH], from[SL_GW_PATH];
    struct sl_error e = {0};
    f->op_dirty = false;
    if (sl_gw_link(s->cfg->dir, f->path, f->orig, &e) != SL_OK) {
        svc_log(s, SL_LOG_ERROR, f, NULL, "fatal", "%s", e.msg);
    }
    if (sl_gw_pathf(rj, sizeof(rj), "%s.rejects.ndjson", f->orig) &&
        sl_gw_pathf(from, sizeof(from), "%s.rejects.ndjson", f->prev)) {
        svc_move(s, f, NULL, from, rj);
    }
}

int batch_finish_committed(struct svc *s, struct gbatch *b, bool already,
                           const enum sl_file_outcome *out, uint64_t rows,
                           uint64_t checksum, struct sl_error *err)
{
    struct ggroup *g = b->g;
    int64_t now = sl_gw_now_us();
    uint64_t rejected = 0;
    struct sl_lbatch lb = {.id = b->id,
                           .seq = b->seq,
                           .table = g->table,
                           .state = SL_B_COMMITTED,
                           .n_files = (int64_t)b->n,
                           .rows = (int64_t)rows,
                           .bytes = (int64_t)b->bytes,
                           .created_us = b->created_us,
                           .committed_us = now,
                           .attempts = b->attempts,
                           .checksum = checksum,
                           .force = b->force,
                           .rule = g->rule,
                           .plan = b->plan,
                           .post = g->rule != NULL,
                           .by_sql = b->by_sql};
    int rc = svc_tx_begin(s, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        struct gfile *f = b->files[i];
        bool dup = out != NULL ? out[i] == SL_FILE_DUPLICATE
                               : (already && f->dup_hint);
        char to[SL_GW_PATH], name[SL_GW_PATH];
        const char *base = strrchr(f->path, '/');
        sl_gw_pathf(name, sizeof(name), "%s",
                    base != NULL ? base + 1 : f->path);
        sl_gw_sent_path(b->created_us, g->table, name, to, sizeof(to));
        rc = svc_set(&f->prev, f->path);
        rc = rc ? rc : svc_set(&f->path, to);
        /* a one-pass file's original: linked from sent/ */
        rc = rc || !f->op_dirty ? rc : svc_set(&f->orig_prev, to);
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
        if (f->op_dirty) {
            one_pass_quarantine(s, f);
        }
        if (f->state == SL_F_DUPLICATE) {
            s->stats->duplicates++;
        } else {
            s->stats->loaded++;
        }
        s->stats->rows_rejected += (uint64_t)f->rejected;
    }
    char dir[SL_GW_PATH];
    sl_gw_pathf(dir, sizeof(dir), "%s/cloud_ready/%s/%s", s->cfg->dir, g->table,
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
            "%s: %zu files, %llu rows loaded%s", g->table, b->n,
            (unsigned long long)rows,
            already ? " (committed before: recovered)" : "");
    /* the rule's actions with the files where they are now (sent/) */
    int prc = post_add(s, b, true, NULL, err);
    for (size_t i = 0; i < b->n; i++) {
        svc_drop_file(s, b->files[i]);
    }
    g->batch = NULL;
    batch_free(b);
    return prc;
}

/* A batch comes apart without file `bad`: the others go back to staged
 * (ledger, then moves back to transformed/), the batch is abandoned. */
static int abandon(struct svc *s, struct gbatch *b, long bad,
                   struct sl_error *err)
{
    struct sl_lbatch lb = batch_row(b, SL_B_ABANDONED);
    int rc = svc_tx_begin(s, err);
    rc = rc ? rc : sl_ledger_put_batch(s->ledger, &lb, err);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        struct gfile *f = b->files[i];
        if ((long)i == bad) {
            continue;
        }
        char to[SL_GW_PATH];
        const char *base = strrchr(f->path, '/');
        sl_gw_pathf(to, sizeof(to), "transformed/%s/%s", b->g->table,
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
    /* the others back at the head of their group, in their order */
    struct ggroup *grp = b->g;
    for (size_t i = b->n; i-- > 0;) {
        struct gfile *g = b->files[i];
        if ((long)i == bad) {
            continue;
        }
        svc_move(s, g, b->id, g->prev, g->path);
        if ((rc = staged_push(s, g)) != SL_OK) {
            return SL_ERR(err, rc, "out of memory");
        }
        memmove(grp->staged + 1, grp->staged,
                (grp->n_staged - 1) * sizeof(*grp->staged));
        grp->staged[0] = g;
    }
    grp->batch = NULL;
    if (f->dup_hint || svc_one_pass(f)) {
        /* validate it again from where it is (a one-pass file in full) */
        f->no_one_pass = svc_one_pass(f);
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
    sl_gw_pathf(dir, sizeof(dir), "%s/cloud_ready/%s/%s", s->cfg->dir,
                grp->table, b->id);
    (void)rmdir(dir);
    batch_free(b);
    return rc;
}

/* The warehouse refused the batch for good: every file fails with why. */
static int batch_failed(struct svc *s, struct gbatch *b, struct job *j,
                        struct sl_error *err)
{
    struct ggroup *g = b->g;
    const char *cls = sl_errclass(j->rc);
    svc_log(s, SL_LOG_ERROR, NULL, b->id, cls, "%s: batch failed: %s", g->table,
            j->err.msg);
    struct sl_lbatch lb = batch_row(b, SL_B_FAILED);
    lb.err_class = cls;
    lb.err_msg = j->err.msg;
    lb.post = g->rule != NULL; /* OnFailure, then the cleanup */
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
    }
    rc = post_add(s, b, false, j->err.msg, err);
    for (size_t i = 0; i < b->n; i++) {
        svc_drop_file(s, b->files[i]);
    }
    g->batch = NULL;
    batch_free(b);
    return rc;
}

/* What a one-pass load learnt of its files (their content's fingerprint,
 * rows and bad records), now theirs, for the ledger. A file with bad records
 * keeps its original in quarantine/ beside them, as a file staged in full
 * does: there a hard link to the archived file (batch_finish_committed). */
static int one_pass_facts(struct svc *s, struct gbatch *b, const struct job *j)
{
    for (size_t i = 0; j->fps != NULL && i < b->n; i++) {
        struct gfile *f = b->files[i];
        if (!svc_one_pass(f) || j->fps[i][0] == '\0') {
            continue;
        }
        memcpy(f->fp, j->fps[i], sizeof(f->fp));
        memcpy(f->data_fp, j->fps[i], sizeof(f->data_fp));
        f->valid = j->valid[i];
        f->rejected = j->rejected[i];
        f->rows = f->valid + f->rejected;
        if (f->rejected > 0) {
            char q[SL_GW_PATH];
            svc_name_in(s, f, "quarantine", "", q, sizeof(q));
            if (svc_set(&f->orig, q) != SL_OK) {
                return -SL_ENOMEM;
            }
            f->op_dirty = true;
        }
    }
    return SL_OK;
}

int batch_done(struct svc *s, struct job *j, struct sl_error *err)
{
    struct gbatch *b = j->b;
    b->busy = false;
    if (j->rc == SL_OK) {
        if (one_pass_facts(s, b, j) != SL_OK) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        return batch_finish_committed(s, b, j->already, j->outcomes,
                                      j->rows_loaded, j->checksum, err);
    }
    if (j->bad_index >= 0 && (size_t)j->bad_index < b->n) {
        struct gfile *f = b->files[j->bad_index];
        bool again = svc_one_pass(f) && j->rc == -SL_ECHANGED;
        svc_log(s, again ? SL_LOG_INFO : SL_LOG_WARN, f, b->id,
                again ? NULL : sl_errclass(j->rc), "%s: %s",
                again ? "loaded in one pass, then staged in full"
                      : "left out of its batch",
                j->err.msg);
        return batch_changed(s, b, j, err);
    }
    b->attempts++;
    bool transient =
        strcmp(sl_errclass(j->rc), "transient") == 0 || j->rc == -SL_ENOMEM;
    /* a rule's MaxReload bounds its batches' attempts */
    uint32_t tries =
        b->g->lim.max_reload ? b->g->lim.max_reload : s->cfg->retry_attempts;
    if (transient && (uint32_t)b->attempts < tries) {
        int64_t wait = svc_backoff_us(s, b->attempts);
        if (j->err.retry_after_ms > 0 &&
            (int64_t)j->err.retry_after_ms * 1000 > wait) {
            wait = (int64_t)j->err.retry_after_ms * 1000;
        }
        b->next_try_us = sl_gw_now_us() + wait;
        svc_log(s, SL_LOG_WARN, NULL, b->id, sl_errclass(j->rc),
                "%s: will retry the batch (attempt %d) in %lld ms: %s",
                b->g->table, b->attempts, (long long)(wait / 1000), j->err.msg);
        return SL_OK;
    }
    return batch_failed(s, b, j, err);
}
