/* post.c - a rule batch's after-work: once its files are archived (or
 * failed), its rule's OnSuccess (OnFailure) actions run on a worker with the
 * warehouse open, then the cleanup drops its transient table. Each action's
 * outcome is a ledger event; files the actions moved or deleted are
 * recorded where they went. At least once: the batch row says the work is
 * pending (post) until its results are recorded, so a crash runs it again
 * (file actions are idempotent; a query action should be too, e.g. keyed by
 * $BatchID). pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/crash.h"
#include "pipeline/svc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* post column values */
#define POST_ALL   1 /* the actions, then the cleanup */
#define POST_CLEAN 2 /* the actions ran: the cleanup only */

static void post_free(struct gpost *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        sl__free(p->uris[i]);
    }
    sl__free(p->uris);
    sl__free(p->ids);
    sl__free(p->table);
    sl__free(p->rule);
    sl__free(p->key);
    sl__free(p->first_raw);
    sl__free(p->error);
    sl__free(p);
}

void posts_free(struct svc *s)
{
    while (s->posts != NULL) {
        struct gpost *p = s->posts;
        s->posts = p->next;
        post_free(p);
    }
}

static void post_append(struct svc *s, struct gpost *p)
{
    struct gpost **at = &s->posts;
    while (*at != NULL) {
        at = &(*at)->next;
    }
    *at = p;
}

/* A new pending post with room for n files. */
static struct gpost *post_new(const char *id, size_t n)
{
    struct gpost *p = sl__calloc(1, sizeof(*p));
    if (p == NULL ||
        (p->uris = sl__calloc(n ? n : 1, sizeof(char *))) == NULL ||
        (p->ids = sl__calloc(n ? n : 1, sizeof(int64_t))) == NULL) {
        post_free(p);
        return NULL;
    }
    snprintf(p->id, sizeof(p->id), "%s", id);
    return p;
}

static int post_file(struct gpost *p, int64_t id, const char *path)
{
    if ((p->uris[p->n] = sl__strdup(path)) == NULL) {
        return -SL_ENOMEM;
    }
    p->ids[p->n++] = id;
    return SL_OK;
}

int post_add(struct svc *s, const struct gbatch *b, bool success,
             const char *error, struct sl_error *err)
{
    if (b->g->rule == NULL) {
        return SL_OK;
    }
    const struct gfile *f = b->files[0];
    struct gpost *p = post_new(b->id, b->n);
    int rc = p != NULL ? SL_OK : -SL_ENOMEM;
    rc = rc ? rc : svc_set(&p->table, b->g->table);
    rc = rc ? rc : svc_set(&p->rule, f->rule);
    rc = rc ? rc : svc_set(&p->key, f->key);
    rc = rc ? rc : svc_set(&p->first_raw, f->raw_name);
    rc = rc ? rc : svc_set(&p->error, error);
    for (size_t i = 0; rc == SL_OK && i < b->n; i++) {
        rc = post_file(p, b->files[i]->id, b->files[i]->path);
    }
    if (rc != SL_OK) {
        post_free(p);
        return SL_ERR(err, rc, "out of memory");
    }
    snprintf(p->src, sizeof(p->src), "%s", f->src);
    p->first_mtime_ns = f->mtime_ns;
    p->created_us = b->created_us;
    p->success = success;
    post_append(s, p);
    return SL_OK;
}

static int collect_file(void *ud, const struct sl_lfile *f)
{
    struct gpost *p = ud;
    if (f->path[0] == '\0') {
        return SL_OK; /* deleted by an action before */
    }
    char **u = sl__realloc(p->uris, (p->n + 1) * sizeof(*u));
    if (u == NULL) {
        return -SL_ENOMEM;
    }
    p->uris = u;
    int64_t *ids = sl__realloc(p->ids, (p->n + 1) * sizeof(*ids));
    if (ids == NULL) {
        return -SL_ENOMEM;
    }
    p->ids = ids;
    return post_file(p, f->id, f->path);
}

int post_recover(struct svc *s, const struct sl_lbatch *lb,
                 struct sl_error *err)
{
    struct precord pr;
    if (strspn(lb->id, "0123456789abcdef") != strlen(lb->id) ||
        route_plan_read(lb->plan, &pr) != SL_OK) {
        svc_log(s, SL_LOG_ERROR, NULL, lb->id, "fatal",
                "recovery: the batch's recorded plan cannot be read: its "
                "actions are not run");
        return sl_ledger_batch_post(s->ledger, lb->id, 0, err);
    }
    struct gpost *p = post_new(lb->id, 0);
    int rc = p != NULL ? SL_OK : -SL_ENOMEM;
    if (rc == SL_OK) {
        p->table = pr.table;
        p->rule = pr.rule;
        p->key = pr.key;
        p->first_raw = pr.raw;
        pr.table = pr.rule = pr.key = pr.raw = NULL;
        snprintf(p->src, sizeof(p->src), "%s", pr.src);
        p->first_mtime_ns = pr.mtime_ns;
        p->created_us = lb->created_us;
        p->success = lb->state != SL_B_FAILED;
        p->acted = lb->post == POST_CLEAN;
        rc = svc_set(&p->error, lb->state == SL_B_FAILED ? lb->err_msg : NULL);
    }
    route_plan_release(&pr);
    char where[128];
    snprintf(where, sizeof(where), "batch = '%s'", lb->id);
    rc = rc ? rc : sl_ledger_each_file(s->ledger, where, collect_file, p, err);
    if (rc != SL_OK) {
        post_free(p);
        return rc == -SL_ENOMEM ? SL_ERR(err, rc, "out of memory") : rc;
    }
    post_append(s, p);
    svc_log(s, SL_LOG_INFO, NULL, lb->id, NULL,
            "recovery: the %s actions of rule %s for %s run again",
            p->success ? "OnSuccess" : "OnFailure", p->rule, p->table);
    return SL_OK;
}

int post_due(struct svc *s, int64_t now, int64_t *next_us, struct sl_error *err)
{
    for (struct gpost *p = s->posts; p != NULL; p = p->next) {
        if (p->busy) {
            continue;
        }
        if (p->next_try_us > now) {
            if (*next_us == 0 || p->next_try_us < *next_us) {
                *next_us = p->next_try_us;
            }
            continue;
        }
        struct job *j = sl__calloc(1, sizeof(*j));
        if (j == NULL) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        j->kind = JOB_POST;
        j->p = p;
        struct sl_error e = {0};
        j->rs = route_set(s, p->src, &e);
        if (j->rs == NULL && (j->rs_error = sl__strdup(e.msg)) == NULL) {
            job_free(j);
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        p->busy = true;
        pool_push(s, j);
    }
    return SL_OK;
}

/* ---- on a worker ----------------------------------------------------------
 */

static void file_done(void *ud, const char *from, const char *to)
{
    struct job *j = ud;
    struct gmoved *v = sl__realloc(j->moved, (j->n_moved + 1) * sizeof(*v));
    if (v == NULL) {
        return; /* then the ledger keeps the old place: verify says so */
    }
    j->moved = v;
    v[j->n_moved].from = sl__strdup(from);
    v[j->n_moved].to = to != NULL ? sl__strdup(to) : NULL;
    if (v[j->n_moved].from != NULL && (to == NULL || v[j->n_moved].to)) {
        j->n_moved++;
    } else {
        sl__free(v[j->n_moved].from);
        sl__free(v[j->n_moved].to);
    }
}

/* The plan again (for $TempTable, $DestTable and the cleanup), the actions
 * unless they ran, the cleanup. */
static void act(struct svc *s, struct job *j, struct sl_wh *wh)
{
    struct gpost *p = j->p;
    struct sl_rules_match m = {0};
    const struct sl_rules_dest *d = NULL;
    struct sl_rules_plan plan;
    int rc = route_dest(j->rs, p->rule, p->table, p->key, p->first_raw,
                        p->first_mtime_ns, &m, &d, &j->err);
    struct sl_rules_batch rb = {d, p->id, (const char *const *)p->uris, p->n,
                                p->success ? NULL : p->error};
    rc = rc ? rc : sl_rules_plan(j->rs, &rb, s->ops, wh, &plan, &j->err);
    if (rc != SL_OK) {
        j->rc = rc;
        sl_rules_match_release(&m);
        return;
    }
    if (!p->acted) {
        struct sl_rules_actx cx = {.rules = j->rs,
                                   .ops = s->ops,
                                   .wh = wh,
                                   .gateway_dir = s->cfg->dir,
                                   .batch = &rb,
                                   .plan = &plan,
                                   .file_done = file_done,
                                   .file_ud = j};
        struct sl_error ae = {0};
        /* each action's outcome is in the report (a failure is recorded,
           never retried: the rows are loaded) */
        if (sl_rules_run_actions(d, p->success, &cx, &j->rep, &ae) ==
            -SL_ENOMEM) {
            j->rc = ae.code;
            j->err = ae;
        }
        sl__crash_point("actions-ran");
    }
    if (plan.cleanup != NULL) {
        j->clean_rc = svc_run_sql(s, wh, plan.cleanup, &j->clean_err);
    }
    sl_rules_plan_release(&plan);
    sl_rules_match_release(&m);
}

void post_run_job(struct svc *s, struct job *j)
{
    if (j->rs == NULL) {
        j->rc = SL_ERR(&j->err, -SL_ESCHEMA, "rule %s: %s", j->p->rule,
                       j->rs_error != NULL ? j->rs_error : "not loadable");
        return;
    }
    struct sl_wh_open_opts oo = {
        .mode = SL_WH_CREATE, .threads = s->threads, .lock_timeout_ms = 2000};
    struct sl_wh *wh = NULL;
    j->rc = s->ops->open(s->cfg->warehouse, &oo, &wh, &j->err);
    if (j->rc == SL_OK) {
        act(s, j, wh);
    } else {
        j->post_retry = strcmp(sl_errclass(j->rc), "transient") == 0;
    }
    s->ops->close(wh);
}

/* ---- results --------------------------------------------------------------
 */

static void record_actions(struct svc *s, struct job *j)
{
    const struct gpost *p = j->p;
    for (size_t i = 0; i < j->rep.n; i++) {
        const struct sl_rules_action_result *a = &j->rep.items[i];
        char detail[700];
        snprintf(detail, sizeof(detail), "%s %s: %s", a->where, a->action,
                 a->msg);
        svc_event(s, NULL, p->id, a->rc != SL_OK ? "action failed" : "action",
                  detail);
        if (a->rc != SL_OK) {
            svc_log(s, SL_LOG_WARN, NULL, p->id, sl_errclass(a->rc),
                    "%s: rule %s: %s (the loaded rows stay)", p->table, p->rule,
                    detail);
        } else {
            /* info: an action that ran is part of the batch's lifecycle */
            svc_log(s, SL_LOG_INFO, NULL, p->id, NULL, "%s: rule %s: %s",
                    p->table, p->rule, detail);
        }
    }
}

/* Files the actions moved or deleted: their rows say where they are now. */
static int record_moves(struct svc *s, struct job *j, struct sl_error *err)
{
    struct gpost *p = j->p;
    int rc = SL_OK;
    for (size_t k = 0; rc == SL_OK && k < j->n_moved; k++) {
        const struct gmoved *mv = &j->moved[k];
        for (size_t i = 0; i < p->n; i++) {
            if (p->uris[i] != NULL && strcmp(p->uris[i], mv->from) == 0) {
                rc = sl_ledger_file_moved(s->ledger, p->ids[i],
                                          mv->to != NULL ? mv->to : "",
                                          mv->from, err);
                break;
            }
        }
    }
    return rc;
}

static void post_unlink(struct svc *s, struct gpost *p)
{
    for (struct gpost **at = &s->posts; *at != NULL; at = &(*at)->next) {
        if (*at == p) {
            *at = p->next;
            break;
        }
    }
    post_free(p);
}

/* Again later (the warehouse could not be had, or the cleanup failed for a
 * transient reason)? */
static bool again(struct svc *s, struct job *j)
{
    struct gpost *p = j->p;
    bool transient = (j->rc != SL_OK && j->post_retry) ||
                     (j->rc == SL_OK && j->clean_rc != SL_OK &&
                      strcmp(sl_errclass(j->clean_rc), "transient") == 0);
    if (!transient || (uint32_t)p->attempts + 1 >= s->cfg->retry_attempts) {
        return false;
    }
    p->attempts++;
    p->next_try_us = sl_gw_now_us() + svc_backoff_us(s, p->attempts);
    return true;
}

int post_done(struct svc *s, struct job *j, struct sl_error *err)
{
    struct gpost *p = j->p;
    p->busy = false;
    bool acted = p->acted || j->rep.n > 0;
    bool retry = again(s, j);
    int rc = svc_tx_begin(s, err);
    if (rc != SL_OK) {
        return rc;
    }
    record_actions(s, j);
    rc = record_moves(s, j, err);
    if (j->rc != SL_OK && !retry) {
        svc_event(s, NULL, p->id, "actions not run", j->err.msg);
        svc_log(s, SL_LOG_ERROR, NULL, p->id, sl_errclass(j->rc),
                "%s: rule %s: actions not run: %s", p->table, p->rule,
                j->err.msg);
    } else if (j->rc == SL_OK && j->clean_rc != SL_OK && !retry) {
        svc_event(s, NULL, p->id, "cleanup failed", j->clean_err.msg);
        svc_log(s, SL_LOG_WARN, NULL, p->id, sl_errclass(j->clean_rc),
                "%s: the transient table stays: %s", p->table,
                j->clean_err.msg);
    }
    int post = !retry ? 0 : acted ? POST_CLEAN : POST_ALL;
    rc = rc ? rc : sl_ledger_batch_post(s->ledger, p->id, post, err);
    rc = rc ? rc : svc_tx_commit(s, err);
    if (rc != SL_OK) {
        return rc;
    }
    p->acted = acted;
    if (!retry) {
        post_unlink(s, p);
    }
    return SL_OK;
}
