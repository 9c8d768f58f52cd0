/* recover.c - start-up recovery: reconcile the ledger with the folders (finish
 * every move a crash interrupted, as the ledger describes it), take back the
 * files in flight (claimed ones are staged again, staged ones wait for a
 * batch, sealed batches are loaded again under their id: the warehouse says
 * "already committed" for those that were), and remove what half-written
 * temporary files a crash left. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "pipeline/svc_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A raw file whose routes (fan-out) may all have left raw/. */
struct rawleft {
    char *name;
    int64_t dev, ino;
};

struct rec {
    struct svc *s;
    struct sl_error *err;
    size_t moved, vanished;
    struct rawleft *left; /* fan-out raw files to look at once done */
    size_t n_left;
};

/* Finish a move from prev to path if the crash came between the ledger and
 * the rename (a link for a route of a fan-out leaving raw/). false when
 * neither exists. */
static bool settle_as(struct rec *r, const char *prev, const char *path,
                      bool link)
{
    const char *root = r->s->cfg->dir;
    if (path == NULL || path[0] == '\0' || sl_gw_exists(root, path)) {
        return true;
    }
    if (prev == NULL || prev[0] == '\0' || !sl_gw_exists(root, prev)) {
        return false;
    }
    struct sl_error e = {0};
    int rc = link ? sl_gw_link(root, prev, path, &e)
                  : sl_gw_move(root, prev, path, &e);
    if (rc != SL_OK) { /* logged, not fatal */
        svc_log(r->s, SL_LOG_ERROR, NULL, NULL, "fatal", "recovery: %s", e.msg);
        return false;
    }
    r->moved++;
    return true;
}

static bool settle(struct rec *r, const char *prev, const char *path)
{
    return settle_as(r, prev, path, false);
}

static bool from_raw(const struct sl_lfile *l, const char *prev)
{
    return l->routes > 1 && strncmp(prev, "raw/", 4) == 0;
}

/* Remember a fan-out route that left raw/: its raw file may be due to go. */
static int note_left(struct rec *r, const struct sl_lfile *l)
{
    if (l->routes <= 1 || l->state == SL_F_CLAIMED) {
        return SL_OK;
    }
    struct rawleft *v =
        sl__realloc(r->left, (r->n_left + 1) * sizeof(*r->left));
    if (v == NULL || (v[r->n_left].name = sl__strdup(l->raw_name)) == NULL) {
        if (v != NULL) {
            r->left = v;
        }
        return SL_ERR(r->err, -SL_ENOMEM, "out of memory in recovery");
    }
    r->left = v;
    v[r->n_left].dev = l->dev;
    v[r->n_left++].ino = l->ino;
    return SL_OK;
}

/* Raw files every route of which has left raw/ (by its link): they go. */
static void sweep_left(struct rec *r)
{
    for (size_t i = 0; i < r->n_left; i++) {
        struct rawleft *x = &r->left[i];
        char p[SL_GW_PATH];
        struct stat st;
        if (svc_find_raw(r->s, x->name) == NULL &&
            sl_gw_pathf(p, sizeof(p), "%s/raw/%s", r->s->cfg->dir, x->name) &&
            lstat(p, &st) == 0 && (int64_t)st.st_ino == x->ino &&
            (int64_t)st.st_dev == x->dev) {
            (void)unlink(p);
        }
        sl__free(x->name);
    }
    sl__free(r->left);
    r->left = NULL;
    r->n_left = 0;
}

static const char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* A ledger row back into memory. */
static struct gfile *from_row(struct svc *s, const struct sl_lfile *l)
{
    struct gfile *f = sl__calloc(1, sizeof(*f));
    if (f == NULL || (f->raw_name = sl__strdup(l->raw_name)) == NULL ||
        svc_set(&f->path, dup_or_null(l->path)) != SL_OK ||
        svc_set(&f->prev, dup_or_null(l->prev_path)) != SL_OK ||
        svc_set(&f->orig, dup_or_null(l->orig_path)) != SL_OK ||
        svc_set(&f->orig_prev, dup_or_null(l->orig_prev)) != SL_OK ||
        svc_set(&f->err_msg, dup_or_null(l->err_msg)) != SL_OK) {
        gfile_free(f);
        return NULL;
    }
    if (svc_set(&f->table, dup_or_null(l->table)) != SL_OK ||
        svc_set(&f->rule, dup_or_null(l->rule)) != SL_OK ||
        svc_set(&f->key, dup_or_null(l->route_key)) != SL_OK) {
        gfile_free(f);
        return NULL;
    }
    (void)s;
    snprintf(f->src, sizeof(f->src), "%s", l->rule_src);
    f->routes = l->routes > 1 ? l->routes : 1;
    f->off_raw = l->state != SL_F_CLAIMED; /* recovery settles its moves */
    f->sib = f;
    f->tix = -1;
    f->id = l->id;
    f->size = l->size;
    f->mtime_ns = l->mtime_ns;
    f->dev = l->dev;
    f->ino = l->ino;
    snprintf(f->fp, sizeof(f->fp), "%s", l->fingerprint);
    snprintf(f->data_fp, sizeof(f->data_fp), "%s", l->data_fp);
    f->state = l->state;
    f->format = l->format;
    f->rows = l->rows;
    f->valid = l->rows_valid;
    f->rejected = l->rows_rejected;
    snprintf(f->batch, sizeof(f->batch), "%s", l->batch);
    f->attempts = l->attempts;
    f->next_try_us = l->next_try_us;
    snprintf(f->err_class, sizeof(f->err_class), "%s", l->err_class);
    f->first_seen_us = l->first_seen_us;
    f->staged_us = l->staged_us;
    f->done_us = l->done_us;
    f->force = l->force;
    f->dup_hint = l->dup;
    return f;
}

/* A file with bad records: its original and its rejects, wherever the crash
 * left them. */
static void settle_dirty(struct rec *r, const struct sl_lfile *l)
{
    if (l->orig_path[0] == '\0') {
        return;
    }
    /* a one-pass file's original is a link to its archived self, its
       rejects were written beside it in its batch's folder */
    bool one_pass = strncmp(l->orig_prev, "sent/", 5) == 0;
    (void)settle_as(r, l->orig_prev, l->orig_path,
                    one_pass || from_raw(l, l->orig_prev));
    char rj[SL_GW_PATH], tmp[SL_GW_PATH];
    sl_gw_pathf(rj, sizeof(rj), "%s.rejects.ndjson", l->orig_path);
    if (one_pass) {
        sl_gw_pathf(tmp, sizeof(tmp), "%s.rejects.ndjson", l->prev_path);
    } else {
        sl_gw_tmp_path(rj, tmp, sizeof(tmp));
    }
    (void)settle(r, tmp, rj);
}

/* A recovered claimed route of a fan-out joins its claim's other claimed
 * routes (one name in by_raw for all). */
static int claimed_back(struct svc *s, struct gfile *f)
{
    struct gfile *g = f->routes > 1 ? svc_find_raw(s, f->raw_name) : NULL;
    if (g != NULL && g->ino == f->ino && g->dev == f->dev) {
        f->sib = g->sib;
        g->sib = f;
        return SL_OK;
    }
    return svc_remember_raw(s, f);
}

static int on_active(void *ud, const struct sl_lfile *l)
{
    struct rec *r = ud;
    struct svc *s = r->s;
    bool here = settle_as(r, l->prev_path, l->path, from_raw(l, l->prev_path));
    if (l->state == SL_F_STAGED || l->state == SL_F_BATCHED) {
        settle_dirty(r, l);
    }
    struct gfile *f = from_row(s, l);
    char why_route[600] = "";
    if (f == NULL ||
        route_resume(s, f, why_route, sizeof(why_route)) != SL_OK) {
        gfile_free(f);
        return SL_ERR(r->err, -SL_ENOMEM, "out of memory in recovery");
    }
    int nrc = note_left(r, l);
    if (nrc != SL_OK) {
        gfile_free(f);
        return nrc;
    }
    if (!here || f->tix < 0) {
        /* deleted by someone else, or its table left the registry (or its
           rule no longer places it) */
        f->state = here ? SL_F_FAILED : SL_F_VANISHED;
        f->done_us = sl_gw_now_us();
        const char *why = here ? why_route : "the file was gone at recovery";
        int rc = svc_set(&f->err_msg, why);
        snprintf(f->err_class, sizeof(f->err_class), "%s",
                 here ? "schema" : "");
        rc = rc ? SL_ERR(r->err, rc, "out of memory")
                : svc_put_file(s, f, r->err);
        svc_log(s, SL_LOG_WARN, f, NULL, NULL, "recovery: %s", why);
        r->vanished++;
        gfile_free(f);
        return rc;
    }
    int rc = svc_add_file(s, f);
    if (rc != SL_OK) {
        gfile_free(f);
        return SL_ERR(r->err, rc, "out of memory in recovery");
    }
    if (f->state == SL_F_CLAIMED) {
        rc = claimed_back(s, f);
    } else if (f->state == SL_F_STAGED) {
        rc = staged_push(s, f);
    }
    return rc == SL_OK ? SL_OK : SL_ERR(r->err, rc, "out of memory");
}

/* Terminal rows whose last move may not have happened (written after the
 * last transaction known to have finished its moves). */
static int on_recent(void *ud, const struct sl_lfile *l)
{
    struct rec *r = ud;
    bool here = settle_as(r, l->prev_path, l->path, from_raw(l, l->prev_path));
    int rc = note_left(r, l);
    if (rc != SL_OK) {
        return rc;
    }
    if (l->state == SL_F_FAILED && here && l->path[0] != '\0') {
        char ej[SL_GW_PATH];
        sl_gw_pathf(ej, sizeof(ej), "%s.error.json", l->path);
        if (!sl_gw_exists(r->s->cfg->dir, ej)) {
            struct sl_gw_failure fl = {
                l->raw_name, l->table,    l->err_class,     "",
                l->err_msg,  l->attempts, l->first_seen_us, l->done_us};
            struct sl_error e = {0};
            if (sl_gw_write_error(r->s->cfg->dir, l->path, &fl, &e) != SL_OK) {
                svc_log(r->s, SL_LOG_WARN, NULL, NULL, NULL, "%s", e.msg);
            }
        }
        /* too many bad records: the rejects written aside in quarantine/
         * go beside the failed file */
        char rj[SL_GW_PATH], q[SL_GW_PATH], base[SL_GW_PATH], tmp[SL_GW_PATH];
        sl_gw_pathf(rj, sizeof(rj), "%s.rejects.ndjson", l->path);
        sl_gw_staged_name(l->id, l->raw_name, l->rule[0] != '\0', base,
                          sizeof(base));
        sl_gw_pathf(q, sizeof(q), "quarantine/%s/%s.rejects.ndjson", l->table,
                    base);
        sl_gw_tmp_path(q, tmp, sizeof(tmp));
        (void)settle(r, tmp, rj);
    }
    if (l->state == SL_F_LOADED || l->state == SL_F_DUPLICATE) {
        settle_dirty(r, l);
    }
    return SL_OK;
}

/* The files of batch b (in flight, batched), the one its plan names first
 * (its rule's variables come from it) at the head. */
static int batch_files(struct svc *s, struct gbatch *b, int64_t first_id)
{
    for (size_t i = 0; i < s->n_files; i++) {
        struct gfile *f = s->files[i];
        if (f->state != SL_F_BATCHED || strcmp(f->batch, b->id) != 0) {
            continue;
        }
        struct gfile **g =
            sl__realloc(b->files, (b->n + 1) * sizeof(*b->files));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        b->files = g;
        b->files[b->n++] = f;
        b->bytes += (uint64_t)f->size;
        if (f->id == first_id) {
            struct gfile *x = b->files[0];
            b->files[0] = f;
            b->files[b->n - 1] = x;
        }
    }
    return SL_OK;
}

static void gbatch_free(struct gbatch *b)
{
    sl__free(b->files);
    sl__free(b->plan);
    sl__free(b);
}

/* Sealed batches come back and are loaded again under their own id (by
 * their rule as recorded); committed ones are done. */
static int on_batch(void *ud, const struct sl_lbatch *lb)
{
    struct rec *r = ud;
    struct svc *s = r->s;
    if (lb->state == SL_B_COMMITTED) {
        struct sl_lbatch done = *lb;
        done.state = SL_B_ARCHIVED;
        char dir[SL_GW_PATH];
        sl_gw_pathf(dir, sizeof(dir), "%s/cloud_ready/%s/%s", s->cfg->dir,
                    lb->table, lb->id);
        (void)rmdir(dir);
        return sl_ledger_put_batch(s->ledger, &done, r->err);
    }
    struct precord pr = {0};
    if (lb->plan[0] != '\0' && route_plan_read(lb->plan, &pr) != SL_OK) {
        pr.first_id = 0; /* then any file of it heads the batch */
    }
    int64_t first_id = pr.first_id;
    route_plan_release(&pr);
    struct gbatch *b = sl__calloc(1, sizeof(*b));
    if (b == NULL ||
        (lb->plan[0] != '\0' && (b->plan = sl__strdup(lb->plan)) == NULL)) {
        sl__free(b);
        return SL_ERR(r->err, -SL_ENOMEM, "out of memory in recovery");
    }
    snprintf(b->id, sizeof(b->id), "%s", lb->id);
    b->seq = lb->seq;
    b->force = lb->force;
    b->created_us = lb->created_us;
    b->attempts = lb->attempts;
    b->by_sql = lb->by_sql;
    if (batch_files(s, b, first_id) != SL_OK) {
        gbatch_free(b);
        return SL_ERR(r->err, -SL_ENOMEM, "out of memory");
    }
    /* none: its files were failed in on_active (table or rule gone) */
    b->g = b->n > 0 ? group_of(s, b->files[0]) : NULL;
    if (b->n > 0 && b->g == NULL) {
        gbatch_free(b);
        return SL_ERR(r->err, -SL_ENOMEM, "out of memory");
    }
    if (b->n == 0 || b->g->batch != NULL) {
        gbatch_free(b);
        return SL_OK;
    }
    b->g->batch = b;
    svc_log(s, SL_LOG_INFO, NULL, b->id, NULL,
            "recovery: batch of %zu files for %s will be loaded again (once)",
            b->n, lb->table);
    return SL_OK;
}

static int on_post(void *ud, const struct sl_lbatch *lb)
{
    struct rec *r = ud;
    return post_recover(r->s, lb, r->err);
}

/* Remove half-written temporary files under root/folder. */
static void sweep_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        char p[SL_GW_PATH];
        sl_gw_pathf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            continue;
        }
        size_t n = strlen(de->d_name);
        if (S_ISDIR(st.st_mode)) {
            sweep_tmp(p);
        } else if (n > 11 && strcmp(de->d_name + n - 11, ".sluice-tmp") == 0) {
            unlink(p);
        }
    }
    closedir(d);
}

static int by_staged(const void *a, const void *b)
{
    const struct gfile *x = *(struct gfile *const *)a;
    const struct gfile *y = *(struct gfile *const *)b;
    return x->staged_us < y->staged_us ? -1 : x->staged_us > y->staged_us;
}

static int gateway_id(struct svc *s, struct sl_error *err)
{
    int rc = sl_ledger_meta_get(s->ledger, "gateway_id", s->gw_id,
                                sizeof(s->gw_id), err);
    if (rc != SL_OK || s->gw_id[0] != '\0') {
        return rc;
    }
    unsigned char r[12] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
        int64_t t = sl_gw_now_us();
        memcpy(r, &t, sizeof(t));
    }
    if (fd >= 0) {
        close(fd);
    }
    for (size_t i = 0; i < sizeof(r); i++) {
        snprintf(s->gw_id + 2 * i, 3, "%02x", r[i]);
    }
    return sl_ledger_meta_set(s->ledger, "gateway_id", s->gw_id, err);
}

int recover(struct svc *s, struct sl_error *err)
{
    struct rec r = {.s = s, .err = err};
    char seq[32], before[32];
    int rc = gateway_id(s, err);
    rc = rc ? rc
            : sl_ledger_meta_get(s->ledger, "batch_seq", seq, sizeof(seq), err);
    rc = rc ? rc
            : sl_ledger_meta_get(s->ledger, "moves_done_before", before,
                                 sizeof(before), err);
    if (rc != SL_OK) {
        return rc;
    }
    s->seq = atoll(seq);
    char where[96];
    sl_gw_pathf(where, sizeof(where), "state >= 3 AND done_us >= %lld",
                before[0] ? atoll(before) : 0LL);
    rc = svc_tx_begin(s, err);
    rc = rc ? rc
            : sl_ledger_each_file(s->ledger, "state IN (0, 1, 2)", on_active,
                                  &r, err);
    rc = rc ? rc : sl_ledger_each_file(s->ledger, where, on_recent, &r, err);
    rc = rc ? rc
            : sl_ledger_each_batch(s->ledger, "state IN (0, 1)", on_batch, &r,
                                   err);
    rc = rc ? rc
            : sl_ledger_each_batch(s->ledger, "post > 0 AND state IN (1, 2, 4)",
                                   on_post, &r, err);
    rc = rc ? rc : svc_tx_commit(s, err);
    if (rc != SL_OK) {
        sweep_left(&r);
        return rc;
    }
    sweep_left(&r);
    for (size_t i = 0; i < s->n_groups; i++) {
        struct ggroup *t = s->groups[i];
        if (t->n_staged > 1) {
            qsort(t->staged, t->n_staged, sizeof(*t->staged), by_staged);
        }
    }
    static const char *const dirs[] = {"transformed", "quarantine", "failed",
                                       "cloud_ready"};
    for (size_t i = 0; i < SL_ARRAY_LEN(dirs); i++) {
        char p[SL_GW_PATH];
        sl_gw_abs(s->cfg->dir, dirs[i], p, sizeof(p));
        sweep_tmp(p);
    }
    if (r.moved > 0 || r.vanished > 0 || s->n_files > 0) {
        svc_log(s, SL_LOG_INFO, NULL, NULL, NULL,
                "recovery: %zu files in flight taken back, %zu interrupted "
                "moves finished, %zu files gone",
                s->n_files, r.moved, r.vanished);
    }
    return SL_OK;
}
