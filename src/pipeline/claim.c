/* claim.c - raw/ to transformed/: find new files under raw/, claim each in
 * the ledger, stage it on a worker, and record the outcome before moving the
 * file (to transformed/, quarantine/ or failed/). pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/crash.h"
#include "pipeline/svc_int.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "quarantine/<table>/<id>-<base>" style names for f. */
void svc_name_in(const struct svc *s, const struct gfile *f, const char *folder,
                 const char *suffix, char *out, size_t size)
{
    (void)s;
    char base[SL_GW_PATH];
    sl_gw_staged_name(f->id, f->raw_name, f->rule != NULL, base, sizeof(base));
    if (f->table != NULL) {
        (void)sl_gw_pathf(out, size, "%s/%s/%s%s", folder, f->table, base,
                          suffix);
    } else {
        (void)sl_gw_pathf(out, size, "%s/%s%s", folder, base, suffix);
    }
}

static const char *table_of(const struct svc *s, const struct gfile *f)
{
    (void)s;
    return f->table != NULL ? f->table : "";
}

/* The options f is read with: its rule's, else its table's. */
static const struct sl_gw_load *load_of(const struct svc *s,
                                        const struct gfile *f)
{
    return f->load != NULL ? f->load : &s->tables[f->tix].load;
}

/* ---- failing a file ------------------------------------------------------ */

int svc_fail_file(struct svc *s, struct gfile *f, int code, const char *cls,
                  const char *msg, struct sl_error *err)
{
    char to[SL_GW_PATH];
    svc_name_in(s, f, "failed", "", to, sizeof(to));
    bool was_claimed = f->state == SL_F_CLAIMED;
    int rc = svc_set(&f->prev, f->path);
    rc = rc ? rc : svc_set(&f->path, to);
    rc = rc ? rc : svc_set(&f->err_msg, msg);
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "out of memory failing a file");
    }
    snprintf(f->err_class, sizeof(f->err_class), "%s", cls);
    f->state = SL_F_FAILED;
    f->done_us = sl_gw_now_us();
    if ((rc = svc_put_file(s, f, err)) != SL_OK) {
        return rc;
    }
    svc_event(s, f, f->batch[0] ? f->batch : NULL, "failed", msg);
    svc_log(s, SL_LOG_WARN, f, f->batch[0] ? f->batch : NULL, cls,
            "failed (%s): %s", sl_errname(code), msg);
    s->stats->failed++;
    if (was_claimed) {
        svc_forget_raw(s, f);
    }
    return SL_OK;
}

void svc_write_error(struct svc *s, const struct gfile *f, int code)
{
    struct sl_gw_failure fl = {f->raw_name,      table_of(s, f), f->err_class,
                               sl_errname(code), f->err_msg,     f->attempts,
                               f->first_seen_us, sl_gw_now_us()};
    struct sl_error e = {0};
    if (sl_gw_write_error(s->cfg->dir, f->path, &fl, &e) != SL_OK) {
        svc_log(s, SL_LOG_WARN, f, NULL, sl_errclass(e.code), "%s", e.msg);
    }
}

/* After the ledger says failed: the moves and the .error.json. */
/* A file sent back from its batch (staged again) has left its batch's
 * folder in cloud_ready/: the folder goes once it is empty. */
static void left_batch(const struct svc *s, const char *from)
{
    char p[SL_GW_PATH];
    if (from == NULL || strncmp(from, "cloud_ready/", 12) != 0) {
        return;
    }
    sl_gw_abs(s->cfg->dir, from, p, sizeof(p));
    char *slash = strrchr(p, '/');
    if (slash != NULL) {
        *slash = '\0';
        (void)rmdir(p); /* fails while other files are in it */
    }
}

static void fail_moves(struct svc *s, struct gfile *f, int code,
                       const char *rejects_tmp)
{
    svc_move(s, f, NULL, f->prev, f->path);
    left_batch(s, f->prev);
    if (rejects_tmp != NULL) {
        char to[SL_GW_PATH];
        if (sl_gw_pathf(to, sizeof(to), "%s.rejects.ndjson", f->path)) {
            svc_move(s, f, NULL, rejects_tmp, to);
        }
    }
    svc_write_error(s, f, code);
}

/* ---- claiming ------------------------------------------------------------ */

/* Tests: a producer deletes or replaces a file just after it was claimed
 * (SLUICE_FAIL_AT=claimed-delete / claimed-replace). */
static void claim_faults(struct svc *s, const char *rel)
{
    char p[SL_GW_PATH], tmp[SL_GW_PATH];
    sl_gw_abs(s->cfg->dir, rel, p, sizeof(p));
    if (sl__fault_point("claimed-delete")) {
        unlink(p);
    } else if (sl__fault_point("claimed-replace") &&
               sl_gw_pathf(tmp, sizeof(tmp), "%s.replacing", p)) {
        FILE *f = fopen(tmp, "w");
        if (f != NULL) {
            fputs("{}\n", f); /* another file, one empty object */
            fclose(f);
            rename(tmp, p);
        }
    }
}

/* Free the routes of a claim not yet in flight (after a failure). */
static void free_unadded(struct gfile *f)
{
    struct gfile *g = f->sib;
    while (g != NULL && g != f) {
        struct gfile *n = g->sib;
        gfile_free(g);
        g = n;
    }
    gfile_free(f);
}

/* Each route of the claim into the ledger and in flight. */
static int add_routes(struct svc *s, struct gfile *f, struct sl_error *err)
{
    struct gfile *g = f, *prev = NULL;
    int rc = SL_OK;
    do {
        struct gfile *next = g->sib;
        rc = svc_put_file(s, g, err);
        if (rc == SL_OK && (rc = svc_add_file(s, g)) != SL_OK) {
            rc = SL_ERR(err, rc, "out of memory claiming a file");
        }
        if (rc != SL_OK) {
            /* the routes not in flight yet go; those that are stay */
            if (prev == NULL) {
                free_unadded(f);
                return rc;
            }
            prev->sib = f;
            for (struct gfile *h = g; h != f;) {
                struct gfile *n = h->sib;
                gfile_free(h);
                h = n;
            }
            return rc;
        }
        s->stats->claimed++;
        prev = g;
        g = next;
    } while (g != f);
    return SL_OK;
}

static int claim_one(struct svc *s, const char *name, const struct stat *st,
                     struct gfile **out, struct sl_error *err)
{
    struct gfile *f = sl__calloc(1, sizeof(*f));
    char rel[SL_GW_PATH];
    sl_gw_pathf(rel, sizeof(rel), "raw/%s", name);
    *out = NULL;
    if (f == NULL || (f->raw_name = sl__strdup(name)) == NULL ||
        svc_set(&f->path, rel) != SL_OK) {
        gfile_free(f);
        return SL_ERR(err, -SL_ENOMEM, "out of memory claiming a file");
    }
    f->sib = f;
    f->size = st->st_size;
    f->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    f->dev = (int64_t)st->st_dev;
    f->ino = (int64_t)st->st_ino;
    f->state = SL_F_CLAIMED;
    f->first_seen_us = sl_gw_now_us();
    int rc = SL_OK;
    if (s->requests > 0) { /* replay --force asked for this name? */
        rc = sl_ledger_take_request(s->ledger, name, &f->force, err);
    }
    rc = rc ? rc : route_claim(s, f, err);
    if (rc != SL_OK) {
        free_unadded(f);
        return rc;
    }
    if ((rc = add_routes(s, f, err)) != SL_OK) {
        return rc;
    }
    if ((rc = svc_remember_raw(s, f)) != SL_OK) {
        return SL_ERR(err, rc, "out of memory claiming a file");
    }
    *out = f;
    sl__crash_point("claimed");
    claim_faults(s, rel);
    return SL_OK;
}

struct walk {
    struct svc *s;
    struct sl_error *err;
    struct gfile **unrouted; /* claimed with no table: failed after commit */
    size_t n_unrouted, cap_unrouted;
    size_t claimed;
    int rc;
};

static int unrouted_push(struct walk *w, struct gfile *f)
{
    if (w->n_unrouted == w->cap_unrouted) {
        size_t cap = w->cap_unrouted ? 2 * w->cap_unrouted : 16;
        struct gfile **g = sl__realloc(w->unrouted, cap * sizeof(*g));
        if (g == NULL) {
            return SL_ERR(w->err, -SL_ENOMEM, "out of memory");
        }
        w->unrouted = g;
        w->cap_unrouted = cap;
    }
    w->unrouted[w->n_unrouted++] = f;
    return SL_OK;
}

/* Stage each route of a claim; one with nowhere to go fails (after the
 * commit). */
static int queue_routes(struct walk *w, struct gfile *f)
{
    struct gfile *g = f;
    int rc = SL_OK;
    do {
        if (g->tix < 0) {
            rc = unrouted_push(w, g);
        } else {
            rc = claim_queue(w->s, g, w->err);
        }
        g = g->sib;
    } while (rc == SL_OK && g != f);
    return rc;
}

static void walk_dir(struct walk *w, const char *rel_dir)
{
    char path[SL_GW_PATH];
    sl_gw_pathf(path, sizeof(path), "%s/raw%s%s", w->s->cfg->dir,
                rel_dir[0] ? "/" : "", rel_dir);
    DIR *d = opendir(path);
    if (d == NULL) {
        return;
    }
    struct dirent *de;
    while (w->rc == SL_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue; /* ., .., and hidden names being written */
        }
        if (w->s->n_files >= w->s->cfg->max_in_flight) {
            w->s->scan_more = true; /* backpressure: the rest waits */
            break;
        }
        char name[SL_GW_PATH], full[SL_GW_PATH];
        sl_gw_pathf(name, sizeof(name), "%s%s%s", rel_dir,
                    rel_dir[0] ? "/" : "", de->d_name);
        sl_gw_pathf(full, sizeof(full), "%s/raw/%s", w->s->cfg->dir, name);
        struct stat st;
        if (lstat(full, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk_dir(w, name);
            continue;
        }
        if (!S_ISREG(st.st_mode) || sl_gw_name_hidden(name) ||
            svc_find_raw(w->s, name) != NULL) {
            continue;
        }
        if (sl_gw_open_for_writing(full)) {
            w->s->stats->still_written++; /* claimed once it is closed */
            continue;
        }
        struct gfile *f = NULL;
        w->rc = claim_one(w->s, name, &st, &f, w->err);
        if (w->rc == SL_OK) {
            w->claimed++;
            w->rc = queue_routes(w, f);
        }
    }
    closedir(d);
}

/* Files with nowhere to go: failed with the reason (route.c says it). */
static int fail_unrouted(struct svc *s, struct walk *w, struct sl_error *err)
{
    for (size_t i = 0; i < w->n_unrouted; i++) {
        struct gfile *f = w->unrouted[i];
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s",
                 f->err_msg != NULL ? f->err_msg
                                    : "its table is not in the registry");
        int rc = svc_fail_file(s, f, -SL_ESCHEMA, "schema", msg, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

int claim_scan(struct svc *s, struct sl_error *err)
{
    struct walk w = {.s = s, .err = err};
    s->scan_more = false;
    s->stats->still_written = 0;
    int rc = svc_tx_begin(s, err);
    rc = rc ? rc
            : sl_ledger_scalar(s->ledger, "SELECT count(*) FROM requests",
                               &s->requests, err);
    if (rc != SL_OK) {
        return rc;
    }
    walk_dir(&w, "");
    rc = w.rc;
    if (rc == SL_OK) {
        rc = fail_unrouted(s, &w, err);
    }
    if (rc == SL_OK) {
        rc = svc_tx_commit(s, err);
    }
    for (size_t i = 0; rc == SL_OK && i < w.n_unrouted; i++) {
        struct gfile *f = w.unrouted[i];
        fail_moves(s, f, -SL_ESCHEMA, NULL);
        route_left_raw(s, f);
        svc_drop_file(s, f);
    }
    sl__free(w.unrouted);
    return rc;
}

/* ---- staging ---------------------------------------------------------------
 */

static bool loaded_cb(void *ud, const char *fp);

/* Files from this size on load in one pass (SLUICE_ONE_PASS_MIN: tests) */
#define SL_ONE_PASS_MIN (64ll << 20)

static int64_t one_pass_min(void)
{
    const char *e = getenv("SLUICE_ONE_PASS_MIN");
    return e != NULL && *e != '\0' ? strtoll(e, NULL, 10) : SL_ONE_PASS_MIN;
}

/* Is f loaded in one pass (not read when staged: its batch's load
 * validates it, alone in its batch)? A large file in its table's folder (a
 * rule's window is one unit of its SQL: dedupe, transforms), not forced,
 * not sent back from a one-pass load, and no other file of the table has
 * its size (it cannot be a copy of content in flight or loaded). */
static int one_pass_ok(struct svc *s, const struct gfile *f, bool *out,
                       struct sl_error *err)
{
    *out = false;
    if (f->rule != NULL || f->force || f->no_one_pass || f->dup_hint ||
        f->orig != NULL || f->size < one_pass_min()) {
        return SL_OK;
    }
    bool taken = true;
    int rc =
        sl_ledger_size_taken(s->ledger, f->table, f->size, f->id, &taken, err);
    *out = rc == SL_OK && !taken;
    return rc;
}

/* Does f wait for a one-pass load of a file of its size in flight (a copy
 * of it maybe, its content unknown until that load)? Then it is staged a
 * second later (recorded, logged). */
static int one_pass_wait(struct svc *s, struct gfile *f, bool *out_wait,
                         struct sl_error *err)
{
    bool yes = false;
    /* (a copy of a one-pass file is as large as it) */
    int rc = f->force || f->size < one_pass_min()
                 ? SL_OK
                 : sl_ledger_one_pass_size(s->ledger, f->table, f->size, f->id,
                                           &yes, err);
    *out_wait = rc == SL_OK && yes;
    if (!*out_wait) {
        return rc;
    }
    f->next_try_us = sl_gw_now_us() + 1000000;
    svc_log(s, SL_LOG_INFO, f, NULL, NULL,
            "waits for a file of its size being loaded in one pass (it may "
            "be a copy)");
    return svc_put_file(s, f, err);
}

int claim_queue(struct svc *s, struct gfile *f, struct sl_error *err)
{
    struct gtable *t = &s->tables[f->tix];
    bool wait = false;
    int wrc = one_pass_wait(s, f, &wait, err);
    if (wrc != SL_OK || wait) {
        return wrc; /* claim_retry_due queues it when it is due */
    }
    struct job *j = sl__calloc(1, sizeof(*j));
    if (j == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory queueing a file");
    }
    j->kind = JOB_STAGE;
    j->f = f;
    char good[SL_GW_PATH], rejects[SL_GW_PATH];
    svc_name_in(s, f, "transformed", ".good.ndjson", good, sizeof(good));
    svc_name_in(s, f, "quarantine", ".rejects.ndjson", rejects,
                sizeof(rejects));
    if ((j->raw_rel = sl__strdup(f->path)) == NULL ||
        (j->good_rel = sl__strdup(good)) == NULL ||
        (j->rejects_rel = sl__strdup(rejects)) == NULL ||
        (j->table = sl__strdup(f->table)) == NULL) {
        job_free(j);
        return SL_ERR(err, -SL_ENOMEM, "out of memory queueing a file");
    }
    bool same_size = false, one_pass = false;
    int rc = f->force ? SL_OK
                      : sl_ledger_size_loaded(s->ledger, f->table, f->size,
                                              &same_size, err);
    rc = rc ? rc : one_pass_ok(s, f, &one_pass, err);
    if (rc != SL_OK) {
        job_free(j);
        return rc;
    }
    j->req = (struct sl_stage_req){
        .root = s->cfg->dir,
        .raw_rel = j->raw_rel,
        .raw_name = f->raw_name,
        .good_rel = j->good_rel,
        .rejects_rel = j->rejects_rel,
        .t = t->t,
        .plan = t->plan,
        .load = load_of(s, f),
        .dev = f->dev,
        .ino = f->ino,
        .hash_first = same_size,
        .fsync = s->cfg->fsync,
        .one_pass = one_pass,
        .loaded = loaded_cb,
        .loaded_ud = j,
    };
    f->busy = true;
    pool_push(s, j);
    return SL_OK;
}

/* On a worker: has the table loaded this content? Each worker keeps a
 * ledger connection of its own for this (closed when the thread ends). */
static pthread_key_t worker_ledger;
static pthread_once_t worker_ledger_once = PTHREAD_ONCE_INIT;

static void close_worker_ledger(void *p)
{
    sl_ledger_close(p);
}

static void make_worker_ledger_key(void)
{
    (void)pthread_key_create(&worker_ledger, close_worker_ledger);
}

struct sl_ledger *svc_worker_ledger(const char *root)
{
    (void)pthread_once(&worker_ledger_once, make_worker_ledger_key);
    struct sl_ledger *l = pthread_getspecific(worker_ledger);
    struct sl_error e = {0};
    if (l == NULL) {
        char path[SL_GW_PATH];
        if (!sl_gw_pathf(path, sizeof(path), "%s/.sluice/ledger.db", root) ||
            sl_ledger_open(path, SL_LEDGER_READ, &l, &e) != SL_OK) {
            return NULL;
        }
        (void)pthread_setspecific(worker_ledger, l);
    }
    return l;
}

static bool loaded_cb(void *ud, const char *fp)
{
    struct job *j = ud;
    struct sl_ledger *l = svc_worker_ledger(j->req.root);
    struct sl_error e = {0};
    bool yes = false;
    /* no ledger: then it is validated, and the warehouse decides */
    return l != NULL &&
           sl_ledger_fp_loaded(l, j->table, fp, &yes, &e) == SL_OK && yes;
}

/* Ledger first, then the moves, for a staged file. */
static int stage_ok(struct svc *s, struct gfile *f, struct job *j,
                    struct sl_error *err)
{
    const struct sl_stage_res *r = &j->res;
    char to[SL_GW_PATH], tmp[SL_GW_PATH];
    bool dirty = r->outcome == SL_STAGE_DIRTY;
    int rc = SL_OK;
    memcpy(f->fp, r->fingerprint, sizeof(f->fp));
    memcpy(f->data_fp, r->data_fp, sizeof(f->data_fp));
    f->format = r->format;
    f->rows = (int64_t)r->st.rows;
    f->valid = (int64_t)r->st.valid;
    f->rejected = (int64_t)r->st.rejected;
    f->dup_hint = r->outcome == SL_STAGE_DUPLICATE;
    if (r->size > 0 || r->mtime_ns > 0) {
        /* the file as staged (it may have grown since it was claimed) */
        f->size = r->size;
        f->mtime_ns = r->mtime_ns;
    }
    f->staged_us = sl_gw_now_us();
    f->state = SL_F_STAGED;
    if (dirty) {
        sl_gw_tmp_path(j->good_rel, tmp, sizeof(tmp));
        svc_name_in(s, f, "quarantine", "", to, sizeof(to));
        rc = svc_set(&f->orig_prev, f->path);
        rc = rc ? rc : svc_set(&f->orig, to);
        rc = rc ? rc : svc_set(&f->prev, tmp);
        rc = rc ? rc : svc_set(&f->path, j->good_rel);
    } else {
        svc_name_in(s, f, "transformed", "", to, sizeof(to));
        rc = svc_set(&f->prev, f->path);
        rc = rc ? rc : svc_set(&f->path, to);
    }
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "out of memory staging a file");
    }
    return svc_put_file(s, f, err);
}

static void stage_moves(struct svc *s, struct gfile *f, struct job *j)
{
    svc_move(s, f, NULL, f->prev, f->path);
    left_batch(s, f->prev);
    if (j->res.outcome == SL_STAGE_DIRTY) {
        char tmp[SL_GW_PATH], rj[SL_GW_PATH];
        sl_gw_tmp_path(j->rejects_rel, tmp, sizeof(tmp));
        /* the rejects sit beside the original in quarantine/ */
        if (sl_gw_pathf(rj, sizeof(rj), "%s.rejects.ndjson", f->orig)) {
            svc_move(s, f, NULL, tmp, rj);
        }
        svc_move(s, f, NULL, f->orig_prev, f->orig);
        left_batch(s, f->orig_prev);
    }
}

static int stage_retry(struct svc *s, struct gfile *f, struct job *j,
                       struct sl_error *err)
{
    f->attempts++;
    const struct sl_stage_res *r = &j->res;
    if ((uint32_t)f->attempts >= s->cfg->retry_attempts) {
        return svc_fail_file(s, f, r->code, r->err_class, r->message, err);
    }
    f->next_try_us = sl_gw_now_us() + svc_backoff_us(s, f->attempts);
    snprintf(f->err_class, sizeof(f->err_class), "%s", r->err_class);
    int rc = svc_set(&f->err_msg, r->message);
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "out of memory");
    }
    svc_log(s, SL_LOG_WARN, f, NULL, r->err_class,
            "will retry (attempt %d): %s", f->attempts, r->message);
    return svc_put_file(s, f, err);
}

/* What staging wrote under temporary names, dropped. */
static void drop_outputs(struct svc *s, const struct job *j)
{
    const char *rels[] = {j->good_rel, j->rejects_rel};
    for (size_t i = 0; i < SL_ARRAY_LEN(rels); i++) {
        char tmp[SL_GW_PATH], p[SL_GW_PATH];
        sl_gw_tmp_path(rels[i], tmp, sizeof(tmp));
        sl_gw_abs(s->cfg->dir, tmp, p, sizeof(p));
        unlink(p);
    }
}

/* As one_pass_wait, after staging (the one-pass file may have been
 * staged meanwhile): what this staging wrote is dropped, and the file is
 * found a copy when it is staged again. *out_wait: it waits. */
static int wait_one_pass(struct svc *s, struct gfile *f, struct job *j,
                         bool *out_wait, struct sl_error *err)
{
    int rc = one_pass_wait(s, f, out_wait, err);
    if (rc == SL_OK && *out_wait) {
        drop_outputs(s, j);
    }
    return rc;
}

/* A second copy of content another file of the table holds (staged, in a
 * batch or loaded): it goes on as a duplicate, as it came, and what its
 * validation wrote is dropped, so its bad records are not quarantined twice. */
static int as_copy(struct svc *s, struct gfile *f, struct job *j,
                   struct sl_error *err)
{
    struct sl_stage_res *r = &j->res;
    bool taken = false;
    int rc = f->force ? SL_OK
                      : sl_ledger_fp_taken(s->ledger, f->table, r->fingerprint,
                                           f->id, &taken, err);
    if (rc != SL_OK || !taken) {
        return rc;
    }
    drop_outputs(s, j);
    r->outcome = SL_STAGE_DUPLICATE;
    memcpy(r->data_fp, r->fingerprint, sizeof(r->data_fp));
    r->format = (int)sl_gw_format_for(load_of(s, f), f->raw_name);
    memset(&r->st, 0, sizeof(r->st));
    return SL_OK;
}

/* Phase one of a staging result, inside the caller's ledger transaction:
 * record the outcome; j->act says what claim_apply does once it commits. */
int claim_record(struct svc *s, struct job *j, struct sl_error *err)
{
    struct gfile *f = j->f;
    struct sl_stage_res *r = &j->res;
    f->busy = false;
    int rc = SL_OK;
    j->act = ACT_NONE;
    switch (r->outcome) {
    case SL_STAGE_CLEAN:
    case SL_STAGE_DIRTY: {
        bool wait = false;
        rc = wait_one_pass(s, f, j, &wait, err);
        if (rc != SL_OK || wait) {
            break; /* ACT_NONE: it stays claimed */
        }
        rc = as_copy(s, f, j, err);
        if (rc != SL_OK) {
            break;
        }
    }
        /* fall through */
    case SL_STAGE_DUPLICATE:
    case SL_STAGE_ONE_PASS:
        rc = stage_ok(s, f, j, err);
        j->act = ACT_STAGED;
        break;
    case SL_STAGE_FAILED:
        f->attempts++;
        memcpy(f->fp, r->fingerprint, sizeof(f->fp));
        f->rows = (int64_t)r->st.rows;
        f->rejected = (int64_t)r->st.rejected;
        rc = svc_fail_file(s, f, r->code, r->err_class, r->message, err);
        j->act = ACT_FAILED;
        break;
    case SL_STAGE_RETRY:
        rc = stage_retry(s, f, j, err);
        j->act = f->state == SL_F_FAILED ? ACT_FAILED : ACT_NONE;
        break;
    case SL_STAGE_VANISHED:
        f->state = SL_F_VANISHED;
        f->done_us = sl_gw_now_us();
        rc = svc_set(&f->err_msg, r->message);
        rc = rc ? SL_ERR(err, rc, "out of memory") : svc_put_file(s, f, err);
        if (rc == SL_OK) {
            svc_log(s, SL_LOG_WARN, f, NULL, NULL, "%s", r->message);
            s->stats->vanished++;
            svc_forget_raw(s, f);
        }
        j->act = ACT_DROP;
        break;
    case SL_STAGE_REPLACED: {
        char p[SL_GW_PATH];
        struct stat st;
        sl_gw_abs(s->cfg->dir, f->path, p, sizeof(p));
        if (stat(p, &st) == 0) {
            f->dev = (int64_t)st.st_dev;
            f->ino = (int64_t)st.st_ino;
            f->size = st.st_size;
        }
        rc = svc_put_file(s, f, err);
        j->act = ACT_REQUEUE;
        break;
    }
    }
    return rc;
}

/* Phase two, after the commit: the moves the ledger now describes. */
int claim_apply(struct svc *s, struct job *j, struct sl_error *err)
{
    struct gfile *f = j->f;
    struct sl_stage_res *r = &j->res;
    switch (j->act) {
    case ACT_STAGED:
        svc_forget_raw(s, f);
        stage_moves(s, f, j);
        route_left_raw(s, f);
        s->stats->staged++;
        svc_log(s, SL_LOG_DEBUG, f, NULL, NULL,
                "staged: %lld rows, %lld rejected", (long long)f->rows,
                (long long)f->rejected);
        if (r->cause[0] != '\0') {
            /* as `sluice validate` warns: likely a wrong option, not data */
            svc_log(s, SL_LOG_WARN, f, NULL, NULL,
                    "every row was rejected (%lld); likely cause: %s",
                    (long long)f->rows, r->cause);
        }
        return staged_push(s, f) == SL_OK
                   ? SL_OK
                   : SL_ERR(err, -SL_ENOMEM, "out of memory");
    case ACT_FAILED: {
        char tmp[SL_GW_PATH];
        sl_gw_tmp_path(j->rejects_rel, tmp, sizeof(tmp));
        fail_moves(s, f, r->code,
                   r->code == -SL_ETOOMANYBAD && sl_gw_exists(s->cfg->dir, tmp)
                       ? tmp
                       : NULL);
        route_left_raw(s, f);
        svc_drop_file(s, f);
        return SL_OK;
    }
    case ACT_DROP:
        route_left_raw(s, f);
        svc_drop_file(s, f);
        return SL_OK;
    case ACT_REQUEUE:
        return claim_queue(s, f, err);
    case ACT_NONE:
        return SL_OK;
    }
    return SL_OK;
}

int claim_retry_due(struct svc *s, int64_t now, int64_t *next_us,
                    struct sl_error *err)
{
    for (size_t i = 0; i < s->n_files; i++) {
        struct gfile *f = s->files[i];
        if (f->state != SL_F_CLAIMED || f->busy || f->tix < 0) {
            continue;
        }
        if (f->next_try_us > now) {
            if (*next_us == 0 || f->next_try_us < *next_us) {
                *next_us = f->next_try_us;
            }
            continue;
        }
        int rc = claim_queue(s, f, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}
