/* loadjob.c - a batch's load, on a worker: each staged file validated
 * again into the warehouse's row sink (its rows and hash must be what
 * staging saw), and for a rule's batch its plan (the tables to ensure, the
 * transient table the rows go to, the SQL that moves them, in the load's
 * transaction) made from the rule's recorded text. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/crash.h"
#include "pipeline/load.h"
#include "pipeline/svc_int.h"
#include "warehouse/evolve.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The batch's files for the warehouse's records, and their paths as the
 * actions will find them (sent/, a rule's $LoadURIs). */
struct files {
    struct sl_batch_file *v;
    char (*names)[SL_GW_PATH + 8];
    char (*uris)[SL_GW_PATH];
    const char **uri_ptrs;
};

struct feedctx {
    struct svc *s;
    struct job *j;
    struct gtable *t;
    struct files *x;
    struct opw op; /* the batch's one-pass file (then its only one) */
    bool op_on;
    struct sl_validator *v[3]; /* one per way of reading (as staged:
                                  NDJSON, CSV; canonical good rows), made
                                  on first use and kept for the batch */
};

/* Worth retrying as it is (the batch), not a fault of the file. */
static bool transient(int rc)
{
    return rc == -SL_ENOMEM || (rc != SL_OK && rc != -SL_ECHANGED &&
                                strcmp(sl_errclass(rc), "transient") == 0);
}

static int no_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    (void)ud;
    return SL_ERR(err, -SL_ECHANGED,
                  "the staged file no longer validates (line %llu: %s)",
                  (unsigned long long)r->line_no, r->reason);
}

/* The options a staged file is read with: its rule's or its table's for a
 * file staged as it came; plain NDJSON (their size limits) for good rows
 * staging wrote. */
static struct sl_vopts read_opts(const struct gtable *t, const struct gfile *f)
{
    struct sl_vopts o = f->load != NULL ? f->load->v : t->load.v;
    if (f->orig != NULL) {
        struct sl_vopts d;
        sl_vopts_default(&d);
        d.max_row_size = o.max_row_size;
        d.max_value_size = o.max_value_size;
        o = d;
    }
    o.format = (enum sl_format)f->format;
    o.fingerprint = true;
    if (!svc_one_pass(f)) {
        o.max_bad = 0; /* staged: it holds no bad record */
    }
    o.stop_at_reject = o.max_bad == 0;
    return o;
}

/* The staged file's facts must be what staging saw. */
static int check_file(struct feedctx *c, size_t i, const struct gfile *f,
                      const struct sl_file_stats *st, struct sl_error *err)
{
    if (svc_one_pass(f)) {
        return op_settle(&c->op, st, &c->x->v[i], err);
    }
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
        if (svc_one_pass(f)) {
            rj = (struct sl_reject_sink){op_reject, &c->op};
        }
        rc = sl_validate_file(*v, path, &cr, &rj, &st, err);
    }
    if (rc == -SL_ECHANGED || rc == -SL_ECORRUPT || rc == -SL_ENOTFOUND ||
        (rc != SL_OK && !transient(rc) && svc_one_pass(f))) {
        /* left out (a one-pass file: staged in full, which says why) */
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
    int rc = sl_psource_open(c->t->t, &o, path, out, err);
    if (rc == SL_OK && *out != NULL && svc_one_pass(f)) {
        /* whatever stops its read sends it to be staged in full (until
           settle_one_pass finds it clean) */
        c->j->bad_index = (long)i;
    }
    return rc;
}

static int finish(void *ud, size_t i, struct sl_psource *src,
                  struct sl_error *err)
{
    struct feedctx *c = ud;
    if (svc_one_pass(c->j->b->files[i]) && sl_psource_failed(src)) {
        /* its read stopped (err holds why): staged in full, unless what
           stopped it is transient (the batch is then retried) */
        sl_psource_close(src);
        c->j->bad_index = transient(err->code) ? -1 : (long)i;
        return err->code != SL_OK ? err->code : -SL_ECHANGED;
    }
    struct sl_file_stats st;
    struct sl_reject_sink rj = {no_reject, NULL};
    if (svc_one_pass(c->j->b->files[i])) {
        rj = (struct sl_reject_sink){op_reject, &c->op};
    }
    int rc = sl_psource_finish(src, &rj, &st, err);
    sl_psource_close(src);
    if (rc != SL_OK) {
        c->j->bad_index = transient(rc) ? -1 : (long)i;
        return rc;
    }
    return check_file(c, i, c->j->b->files[i], &st, err);
}

static void files_release(struct files *x)
{
    sl__free(x->v);
    sl__free(x->names);
    sl__free(x->uris);
    sl__free(x->uri_ptrs);
}

static int files_make(const struct gbatch *b, struct files *x)
{
    memset(x, 0, sizeof(*x));
    x->v = sl__calloc(b->n, sizeof(*x->v));
    x->names = sl__calloc(b->n, sizeof(*x->names));
    x->uris = sl__calloc(b->n, sizeof(*x->uris));
    x->uri_ptrs = sl__calloc(b->n, sizeof(*x->uri_ptrs));
    if (x->v == NULL || x->names == NULL || x->uris == NULL ||
        x->uri_ptrs == NULL) {
        files_release(x);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct gfile *f = b->files[i];
        const char *base = strrchr(f->path, '/');
        snprintf(x->names[i], sizeof(x->names[i]), "raw/%s", f->raw_name);
        sl_gw_sent_path(b->created_us, b->g->table,
                        base != NULL ? base + 1 : f->path, x->uris[i],
                        sizeof(x->uris[i]));
        x->uri_ptrs[i] = x->uris[i];
        x->v[i] = (struct sl_batch_file){.path = x->names[i],
                                         .fingerprint =
                                             svc_one_pass(f) ? NULL : f->fp,
                                         .size = (uint64_t)f->size,
                                         .rows_rejected = (uint64_t)f->rejected,
                                         .first_seen_us = f->first_seen_us};
    }
    return SL_OK;
}

/* Run one statement of no interest (the cleanup). */
int svc_run_sql(struct svc *s, struct sl_wh *wh, const char *sql,
                struct sl_error *err)
{
    struct sl_cursor *c = NULL;
    int rc = s->ops->query(wh, sql, &c, err);
    const struct sl_val *row = NULL;
    while (rc == SL_OK && (rc = s->ops->cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
    }
    s->ops->cursor_close(c);
    return rc;
}

/* Create t when missing. A table whose definition gained what the schema
 * update options allow is left to the batch, which applies the change in
 * its own transaction; without them the error says what to do. */
static int ensure(struct svc *s, struct sl_wh *wh, const struct sl_table *t,
                  unsigned schema_update, struct sl_error *err)
{
    bool created = false;
    int rc = s->ops->ensure_table(wh, t, &created, err);
    if (rc == -SL_ESCHEMA && schema_update != 0) {
        sl__error_clear(err);
        return SL_OK;
    }
    if (rc == -SL_ESCHEMA && strstr(err->msg, "different definition")) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        snprintf(err->msg, sizeof(err->msg),
                 "%.110s: `sluice schema apply` the new definition (or set "
                 "load.schema_update_options [\"ALLOW_FIELD_ADDITION\"] in "
                 "sluice.json), then `sluice retry`",
                 msg);
    }
    return rc;
}

/* A rule's batch: its destination and plan, its tables ensured, and the
 * load's target, steps and audit table set in bt. */
struct ruled {
    struct sl_rules_match m;
    const struct sl_rules_dest *d;
    struct sl_rules_plan p;
    bool planned;
};

static int plan_rule(struct svc *s, struct job *j, struct sl_wh *wh,
                     const struct files *x, struct ruled *r,
                     struct sl_batch *bt)
{
    const struct gbatch *b = j->b;
    const struct gfile *f = b->files[0];
    if (j->rs == NULL) {
        return SL_ERR(&j->err, -SL_ESCHEMA, "rule %s: %s", f->rule,
                      j->rs_error != NULL ? j->rs_error : "not loadable");
    }
    int rc = route_dest(j->rs, f->rule, f->table, f->key, f->raw_name,
                        f->mtime_ns, &r->m, &r->d, &j->err);
    struct sl_rules_batch rb = {r->d, b->id, x->uri_ptrs, b->n, NULL};
    rc = rc ? rc : sl_rules_plan(j->rs, &rb, s->ops, wh, &r->p, &j->err);
    r->planned = rc == SL_OK;
    /* sluice.json's schema_update_options for the destination, and the
     * rule's AllowFieldAddition */
    unsigned su = f->load != NULL ? f->load->schema_update : 0;
    if (rc == SL_OK && r->d->allow_field_addition) {
        su |= SL_WH_ALLOW_FIELD_ADDITION;
    }
    for (size_t i = 0; rc == SL_OK && i < r->p.n_ensure; i++) {
        rc = ensure(s, wh, r->p.ensure[i], su, &j->err);
    }
    if (rc != SL_OK) {
        return rc;
    }
    const struct sl_rules_dest *d = r->d;
    bt->t = r->p.load_into;
    bt->flags |= d->batch_flags | (d->transient ? SL_BATCH_TRUNCATE : 0);
    bt->post_sql = (const char *const *)r->p.steps;
    bt->n_post_sql = r->p.n_steps;
    bt->audit_table = r->p.audit_table;
    bt->schema_update = su;
    if (su != 0) {
        /* the destination evolves, also when the rows pass a transient */
        for (size_t i = 0; i < r->p.n_ensure; i++) {
            char name[1200];
            snprintf(name, sizeof(name), "%s.%s", r->p.ensure[i]->dataset,
                     r->p.ensure[i]->name);
            if (strcmp(name, d->table) == 0) {
                bt->schema_table = r->p.ensure[i];
            }
        }
    }
    return SL_OK;
}

static void ruled_release(struct ruled *r)
{
    if (r->planned) {
        sl_rules_plan_release(&r->p);
    }
    sl_rules_match_release(&r->m);
}

void batch_run_job(struct svc *s, struct job *j)
{
    struct gbatch *b = j->b;
    struct gtable *t = &s->tables[b->g->tix];
    struct files x;
    j->outcomes = sl__calloc(b->n, sizeof(*j->outcomes));
    j->fps = sl__calloc(b->n, sizeof(*j->fps));
    j->valid = sl__calloc(b->n, sizeof(*j->valid));
    j->rejected = sl__calloc(b->n, sizeof(*j->rejected));
    j->bad_index = -1;
    if (j->outcomes == NULL || j->fps == NULL || j->valid == NULL ||
        j->rejected == NULL || files_make(b, &x) != SL_OK) {
        j->rc = SL_ERR(&j->err, -SL_ENOMEM, "out of memory loading a batch");
        return;
    }
    struct feedctx c = {.s = s, .j = j, .t = t, .x = &x};
    if (b->n == 1 && svc_one_pass(b->files[0])) {
        struct sl_vopts o = read_opts(t, b->files[0]);
        op_begin(&c.op, s, j, 0, &o);
        c.op_on = true;
    }
    struct sl_batch bt = {.id = b->id,
                          .t = t->t,
                          .files = x.v,
                          .n_files = b->n,
                          .flags = b->force ? SL_BATCH_FORCE : 0,
                          .origin = "gateway",
                          .first_seen_us = b->files[0]->first_seen_us,
                          .src = {feed, parallel, finish, &c}};
    struct sl_wh_open_opts oo = {
        .mode = SL_WH_CREATE, .threads = s->threads, .lock_timeout_ms = 2000};
    struct sl_wh *wh = NULL;
    struct ruled r = {0};
    int rc = s->ops->open(s->cfg->warehouse, &oo, &wh, &j->err);
    if (rc == SL_OK && b->g->rule != NULL) {
        rc = plan_rule(s, j, wh, &x, &r, &bt);
    } else if (rc == SL_OK) {
        bt.schema_update = t->load.schema_update;
        rc = ensure(s, wh, t->t, bt.schema_update, &j->err);
    }
    sl__crash_point("before-load");
    rc = rc ? rc : s->ops->load_batch(wh, &bt, &j->err);
    if (rc == SL_OK && c.op_on && bt.already && j->fps[0][0] == '\0') {
        rc = op_recorded(&c.op, &x.v[0], bt.rows_loaded, &j->err);
    }
    if (rc != SL_OK && j->bad_index >= 0 && r.planned && r.p.cleanup) {
        /* formed again without the bad file, under another id: this one's
         * transient table goes now */
        struct sl_error e = {0};
        (void)svc_run_sql(s, wh, r.p.cleanup, &e);
    }
    s->ops->close(wh);
    ruled_release(&r);
    for (size_t i = 0; i < SL_ARRAY_LEN(c.v); i++) {
        sl_validator_destroy(c.v[i]);
    }
    if (c.op_on) {
        /* rejects kept only beside rows that loaded */
        bool keep = rc == SL_OK && x.v[0].outcome == SL_FILE_LOADED &&
                    j->rejected[0] > 0;
        if (keep) {
            op_end(&c.op);
        } else {
            op_discard(&c.op);
            j->rejected[0] = 0;
        }
    }
    sl__crash_point("after-load");
    j->rc = rc;
    if (rc == SL_OK) {
        j->already = bt.already;
        j->rows_loaded = bt.rows_loaded;
        j->checksum = bt.checksum;
        for (size_t i = 0; i < b->n; i++) {
            j->outcomes[i] = x.v[i].outcome;
            j->valid[i] = (int64_t)x.v[i].rows_loaded;
        }
    }
    files_release(&x);
}
