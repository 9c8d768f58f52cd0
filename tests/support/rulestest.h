/* rulestest.h - a gateway folder in /tmp for the rules tests, and a small
 * stand-in for the service's batch loop as src/rules/rules.h describes it:
 * match each file, group files by batch_key, and per batch plan it, ensure
 * its tables, load its files (validated against the destination's load_def)
 * with the plan's steps in the load's transaction, run the actions, clean
 * up. tests. */
#ifndef SL_TESTS_RULESTEST_H
#define SL_TESTS_RULESTEST_H

#include "core/common.h"

#include "core/buf.h"
#include "pipeline/load.h"
#include "rules/rules.h"
#include "validate/validator.h"
#include "warehouse/driver.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rt_gw {
    char dir[64];
};

/* mkdir -p of path's parent folders. */
static inline void rt_mkdirs(const char *path)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        (void)mkdir(p, 0777);
        *s = '/';
    }
}

/* Write text to dir/rel (folders made). */
static inline void rt_write(const char *dir, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    rt_mkdirs(path);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "rt_write: cannot write %s\n", path);
        abort();
    }
    fputs(text, f);
    fclose(f);
}

static inline void rt_gw_make(struct rt_gw *g)
{
    snprintf(g->dir, sizeof(g->dir), "/tmp/sl_rules_XXXXXX");
    if (mkdtemp(g->dir) == NULL) {
        abort();
    }
}

static inline int rt_rm_one(const char *p, const struct stat *st, int flag,
                            struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static inline void rt_gw_remove(struct rt_gw *g)
{
    nftw(g->dir, rt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The registry of dir/schemas, or abort. */
static inline struct sl_registry *rt_registry(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/schemas", dir);
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    if (sl_registry_load(path, NULL, &reg, &err) != SL_OK) {
        fprintf(stderr, "registry: %s\n", err.msg);
        abort();
    }
    return reg;
}

/* ---- the batch loop --------------------------------------------------------
 */

struct rt_file {
    const char *raw;  /* name under raw/ */
    int64_t mtime_us; /* $Date, $Hour */
};

struct rt_result {
    size_t batches;
    uint64_t rows_loaded;
    int load_rc;    /* the first failing load, or SL_OK */
    int actions_rc; /* the first failing action, or SL_OK */
    char load_err[512];
    char actions_err[512];
    struct sl_rules_report report; /* the last batch's actions */
};

struct rt_feed {
    const char *dir;
    const char *const *paths; /* raw names */
    const struct sl_rules_dest *d;
};

static inline int rt_feed_file(void *ud, size_t i,
                               const struct sl_row_sink *rows,
                               struct sl_error *err)
{
    const struct rt_feed *f = ud;
    struct sl_gw_load load;
    if (sl_rules_load_options(f->d, NULL, &load) != SL_OK) {
        return SL_ERR(err, -SL_ENOMEM, "load options");
    }
    struct sl_vopts vo = load.v;
    vo.format = sl_gw_format_for(&load, f->paths[i]);
    struct sl_validator *v = NULL;
    int rc = sl_validator_create(f->d->load_def, &vo, &v, err);
    char path[4096];
    snprintf(path, sizeof(path), "%s/raw/%s", f->dir, f->paths[i]);
    struct sl_file_stats st;
    if (rc == SL_OK) {
        rc = sl_validate_file(v, path, rows, NULL, &st, err);
    }
    sl_validator_destroy(v);
    sl_gw_load_release(&load);
    return rc;
}

/* Load one batch of n files (raw names) for destination d under id. */
static inline void rt_batch(const struct sl_wh_ops *ops, struct sl_wh *wh,
                            const struct sl_rules *rs, const char *dir,
                            const struct sl_rules_dest *d,
                            const char *const *raw, size_t n, const char *id,
                            struct rt_result *res)
{
    char **uris = calloc(n, sizeof(*uris));
    struct sl_batch_file *files = calloc(n, sizeof(*files));
    char(*fps)[65] = calloc(n, sizeof(*fps));
    char(*abs)[4096] = calloc(n, sizeof(*abs));
    for (size_t i = 0; i < n; i++) {
        uris[i] = malloc(strlen(raw[i]) + 8);
        sprintf(uris[i], "raw/%s", raw[i]);
        snprintf(abs[i], sizeof(abs[i]), "%s/raw/%s", dir, raw[i]);
        struct sl_error e = {0};
        if (sl_file_sha256(abs[i], fps[i], &e) != SL_OK) {
            fprintf(stderr, "sha256: %s\n", e.msg);
            abort();
        }
        files[i].path = abs[i];
        files[i].fingerprint = fps[i];
    }
    struct sl_rules_batch b = {d, id, (const char *const *)uris, n, NULL};
    struct sl_rules_plan p;
    struct sl_error err = {0};
    int rc = sl_rules_plan(rs, &b, ops, wh, &p, &err);
    for (size_t i = 0; rc == SL_OK && i < p.n_ensure; i++) {
        bool created;
        rc = ops->ensure_table(wh, p.ensure[i], &created, &err);
    }
    if (rc == SL_OK) {
        struct rt_feed f = {dir, raw, d};
        struct sl_batch lb = {.id = NULL,
                              .t = p.load_into,
                              .files = files,
                              .n_files = n,
                              .flags = d->batch_flags |
                                       (d->transient ? SL_BATCH_TRUNCATE : 0),
                              .origin = "rules-test",
                              .salt = id,
                              .src = {.feed = rt_feed_file, .ud = &f},
                              .post_sql = (const char *const *)p.steps,
                              .n_post_sql = p.n_steps,
                              .audit_table = p.audit_table};
        rc = ops->load_batch(wh, &lb, &err);
        res->rows_loaded += lb.rows_loaded;
    }
    if (rc != SL_OK && res->load_rc == SL_OK) {
        res->load_rc = rc;
        snprintf(res->load_err, sizeof(res->load_err), "%s", err.msg);
    }
    if (rc == SL_OK || p.load_into != NULL) {
        struct sl_rules_actx cx = {.rules = rs,
                                   .ops = ops,
                                   .wh = wh,
                                   .gateway_dir = dir,
                                   .batch = &b,
                                   .plan = rc == SL_OK ? &p : NULL,
                                   .http_timeout_ms = 5000};
        b.error = rc == SL_OK ? NULL : res->load_err;
        struct sl_error ae = {0};
        sl_rules_report_release(&res->report);
        int arc = sl_rules_run_actions(d, rc == SL_OK, &cx, &res->report, &ae);
        if (arc != SL_OK && res->actions_rc == SL_OK) {
            res->actions_rc = arc;
            snprintf(res->actions_err, sizeof(res->actions_err), "%s", ae.msg);
        }
        if (rc == SL_OK && p.cleanup != NULL) {
            struct sl_cursor *c = NULL;
            if (ops->query(wh, p.cleanup, &c, &err) == SL_OK) {
                const struct sl_val *row;
                (void)ops->cursor_next(c, &row, &err);
            }
            ops->cursor_close(c);
        }
    }
    if (rc == SL_OK || p.load_into != NULL) {
        sl_rules_plan_release(&p);
    }
    res->batches++;
    for (size_t i = 0; i < n; i++) {
        free(uris[i]);
    }
    free(uris);
    free(files);
    free(fps);
    free(abs);
}

/* The service's loop over files: match each (an unmatched or unplaceable
 * file aborts the test), group by batch_key in first-seen order, load each
 * group as a batch whose id is its number (hex) plus salt. */
static inline struct rt_result
rt_run(const struct sl_wh_ops *ops, struct sl_wh *wh, const struct sl_rules *rs,
       const char *dir, const struct rt_file *files, size_t n, unsigned salt)
{
    struct rt_result res = {0};
    struct sl_rules_match *m = calloc(n, sizeof(*m));
    size_t n_dest = 0;
    for (size_t i = 0; i < n; i++) {
        struct sl_error err = {0};
        if (sl_rules_match(rs, files[i].raw, files[i].mtime_us, &m[i], &err) !=
            SL_OK) {
            fprintf(stderr, "match %s: %s\n", files[i].raw, err.msg);
            abort();
        }
        n_dest += m[i].n;
    }
    /* (file, dest) pairs in order; each batch_key's files go together */
    const struct sl_rules_dest **dv = calloc(n_dest ? n_dest : 1, sizeof(*dv));
    const char **rv = calloc(n_dest ? n_dest : 1, sizeof(*rv));
    bool *done = calloc(n_dest ? n_dest : 1, sizeof(*done));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < m[i].n; j++, k++) {
            dv[k] = &m[i].dests[j];
            rv[k] = files[i].raw;
        }
    }
    const char **group = calloc(n_dest ? n_dest : 1, sizeof(*group));
    for (size_t a = 0; a < n_dest; a++) {
        if (done[a]) {
            continue;
        }
        size_t g = 0;
        for (size_t b = a; b < n_dest; b++) {
            if (!done[b] && strcmp(dv[a]->batch_key, dv[b]->batch_key) == 0) {
                group[g++] = rv[b];
                done[b] = true;
            }
        }
        char id[65];
        snprintf(id, sizeof(id), "%08x%024zx%032x", salt, res.batches, 0u);
        rt_batch(ops, wh, rs, dir, dv[a], group, g, id, &res);
    }
    free(group);
    free(done);
    free(rv);
    free(dv);
    for (size_t i = 0; i < n; i++) {
        sl_rules_match_release(&m[i]);
    }
    free(m);
    return res;
}

#endif
