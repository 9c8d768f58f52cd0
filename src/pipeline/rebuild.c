/* rebuild.c - a gateway whose ledger was lost: rebuild it from the folders
 * and the warehouse's own record before serving. Archived files (sent/) are
 * recorded as loaded; failed/ files as failed (their .error.json says why);
 * a batch folder in cloud_ready/ is loaded or not as the warehouse's
 * _sluice_loads says (by its id, the folder's name), and what was not
 * loaded is staged again, as is everything in transformed/. Ledger ids are
 * taken from the files' names, so later names never collide. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "parse/input.h"
#include "pipeline/svc_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rb {
    struct svc *s;
    struct sl_wh *wh; /* NULL: no warehouse yet (nothing was committed) */
    struct sl_error *err;
    size_t sent, failed, restaged, batches;
};

/* "<id>-<base>" (or "<id>r-<base>", a rule's: *ruled) -> id, base; false
 * for other names. */
static bool split_name_r(const char *name, int64_t *id, const char **base,
                         bool *ruled)
{
    char *end = NULL;
    long long v = strtoll(name, &end, 10);
    *ruled = end != name && *end == 'r';
    end += *ruled;
    if (end == name || *end != '-' || v <= 0) {
        return false;
    }
    *id = v;
    *base = end + 1;
    return true;
}

static bool split_name(const char *name, int64_t *id, const char **base)
{
    bool ruled;
    return split_name_r(name, id, base, &ruled);
}

static int hash_of(const char *root, const char *rel, char fp[65],
                   struct sl_error *err)
{
    char p[SL_GW_PATH];
    sl_gw_abs(root, rel, p, sizeof(p));
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fp[0] = '\0';
        return SL_OK;
    }
    int rc = sl_sha256_fd(fd, fp, err);
    close(fd);
    return rc;
}

/* Insert one rebuilt row. */
static int put(struct rb *r, int64_t id, const char *table, const char *base,
               enum sl_fstate st, const char *path, const char *fp,
               const char *cls, const char *msg)
{
    char raw[SL_GW_PATH];
    const char *dot = strchr(table, '.');
    (void)sl_gw_pathf(
        raw, sizeof(raw), "%s/%s",
        dot != NULL && strncmp(table, "main.", 5) == 0 ? dot + 1 : table, base);
    struct sl_lfile f = {.id = id,
                         .raw_name = raw,
                         .table = table,
                         .fingerprint = fp,
                         .state = st,
                         .path = path,
                         .err_class = cls,
                         .err_msg = msg,
                         .first_seen_us = sl_gw_now_us(),
                         .done_us = sl_gw_now_us()};
    return sl_ledger_put_file(r->s->ledger, &f, NULL, r->err);
}

/* Calls fn(r, rel, name) for each regular file directly in root/rel. */
static int each_file(struct rb *r, const char *rel,
                     int (*fn)(struct rb *, const char *, const char *))
{
    char p[SL_GW_PATH];
    sl_gw_abs(r->s->cfg->dir, rel, p, sizeof(p));
    DIR *d = opendir(p);
    int rc = SL_OK;
    struct dirent *de;
    while (rc == SL_OK && d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        rc = fn(r, rel, de->d_name);
    }
    if (d != NULL) {
        closedir(d);
    }
    return rc;
}

static int is_dir(struct rb *r, const char *rel)
{
    char p[SL_GW_PATH];
    struct stat sb;
    sl_gw_abs(r->s->cfg->dir, rel, p, sizeof(p));
    return lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* sent/<y>/<m>/<d>/<table>/<id>-<base>: loaded. */
static int on_sent(struct rb *r, const char *rel, const char *name)
{
    char sub[SL_GW_PATH];
    if (!sl_gw_pathf(sub, sizeof(sub), "%s/%s", rel, name)) {
        return SL_OK;
    }
    if (is_dir(r, sub)) {
        return each_file(r, sub, on_sent);
    }
    int64_t id;
    const char *base;
    const char *slash = strrchr(rel, '/');
    if (!split_name(name, &id, &base) || slash == NULL) {
        return SL_OK;
    }
    /* the fingerprint of the original (in quarantine/ when it had bad
     * records), so that it is still recognised when it comes again */
    char q[SL_GW_PATH], fp[65];
    const char *table = slash + 1;
    size_t bl = strlen(base);
    bool good = bl > 12 && strcmp(base + bl - 12, ".good.ndjson") == 0;
    if (good &&
        sl_gw_pathf(q, sizeof(q), "quarantine/%s/%.*s", table,
                    (int)(strlen(name) - 12), name) &&
        sl_gw_exists(r->s->cfg->dir, q)) {
        /* q: the original */
    } else {
        (void)sl_gw_pathf(q, sizeof(q), "%s", sub);
    }
    int rc = hash_of(r->s->cfg->dir, q, fp, r->err);
    r->sent++;
    return rc ? rc
              : put(r, id, table, good ? name : base, SL_F_LOADED, sub, fp,
                    NULL, NULL);
}

/* failed/[<table>/]<id>-<base> (+ .error.json): failed. */
static int on_failed(struct rb *r, const char *rel, const char *name)
{
    char sub[SL_GW_PATH];
    if (!sl_gw_pathf(sub, sizeof(sub), "%s/%s", rel, name)) {
        return SL_OK;
    }
    if (is_dir(r, sub)) {
        return each_file(r, sub, on_failed);
    }
    size_t nl = strlen(name);
    int64_t id;
    const char *base;
    if ((nl > 11 && strcmp(name + nl - 11, ".error.json") == 0) ||
        (nl > 15 && strcmp(name + nl - 15, ".rejects.ndjson") == 0) ||
        !split_name(name, &id, &base)) {
        return SL_OK;
    }
    char ej[SL_GW_PATH], p[SL_GW_PATH];
    char cls[16] = "fatal", msg[512] = "failed (ledger rebuilt)";
    if (sl_gw_pathf(ej, sizeof(ej), "%s.error.json", sub)) {
        sl_gw_abs(r->s->cfg->dir, ej, p, sizeof(p));
        json_t *o = json_load_file(p, 0, NULL);
        const char *c = json_string_value(json_object_get(o, "class"));
        const char *m = json_string_value(json_object_get(o, "message"));
        if (c != NULL) {
            snprintf(cls, sizeof(cls), "%s", c);
        }
        if (m != NULL) {
            snprintf(msg, sizeof(msg), "%s", m);
        }
        json_decref(o);
    }
    const char *slash = strrchr(rel, '/');
    r->failed++;
    return put(r, id, slash != NULL ? slash + 1 : "", base, SL_F_FAILED, sub,
               "", cls, msg);
}

/* A file to stage again (from where it is), under its old id. A file a rule
 * routed cannot be: which rule, and from which path, went with the ledger;
 * it fails where it is (`sluice retry` sends it through raw/ again). */
static int restage(struct rb *r, const char *table, const char *rel, int64_t id,
                   const char *base, bool ruled)
{
    if (ruled) {
        r->failed++;
        return put(r, id, table, base, SL_F_FAILED, rel, "", "fatal",
                   "the ledger was rebuilt while this file was in flight: "
                   "the rule that routed it is not known any more (sluice "
                   "retry sends it through raw/ again)");
    }
    char raw[SL_GW_PATH];
    const char *dot = strchr(table, '.');
    (void)sl_gw_pathf(
        raw, sizeof(raw), "%s/%s",
        dot != NULL && strncmp(table, "main.", 5) == 0 ? dot + 1 : table, base);
    char p[SL_GW_PATH];
    struct stat sb;
    sl_gw_abs(r->s->cfg->dir, rel, p, sizeof(p));
    if (stat(p, &sb) != 0) {
        return SL_OK;
    }
    struct sl_lfile f = {.id = id,
                         .raw_name = raw,
                         .table = table,
                         .size = sb.st_size,
                         .dev = (int64_t)sb.st_dev,
                         .ino = (int64_t)sb.st_ino,
                         .state = SL_F_CLAIMED,
                         .path = rel,
                         .first_seen_us = sl_gw_now_us()};
    r->restaged++;
    return sl_ledger_put_file(r->s->ledger, &f, NULL, r->err);
}

static int on_transformed(struct rb *r, const char *rel, const char *name)
{
    char sub[SL_GW_PATH];
    if (!sl_gw_pathf(sub, sizeof(sub), "%s/%s", rel, name)) {
        return SL_OK;
    }
    if (is_dir(r, sub)) {
        return each_file(r, sub, on_transformed);
    }
    int64_t id;
    const char *base;
    bool ruled;
    const char *slash = strrchr(rel, '/');
    if (!split_name_r(name, &id, &base, &ruled) || slash == NULL) {
        return SL_OK;
    }
    return restage(r, slash + 1, sub, id, base, ruled);
}

static bool is_rejects(const char *name)
{
    size_t n = strlen(name);
    return n > 15 && strcmp(name + n - 15, ".rejects.ndjson") == 0;
}

/* The rejects a one-pass load wrote beside its file in the batch's folder
 * (<id>-<base>.rejects.ndjson): with the batch committed, moved to
 * quarantine/ beside a link to the archived file (what the service does);
 * else dropped, as the load that wrote them was rolled back. */
static void one_pass_rejects(struct rb *r, const char *sub, const char *table,
                             bool done)
{
    const char *root = r->s->cfg->dir;
    char p[SL_GW_PATH];
    sl_gw_abs(root, sub, p, sizeof(p));
    DIR *d = opendir(p);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        char from[SL_GW_PATH], q[SL_GW_PATH], data[SL_GW_PATH],
            sent[SL_GW_PATH];
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || !is_rejects(de->d_name) ||
            !sl_gw_pathf(from, sizeof(from), "%s/%s", sub, de->d_name)) {
            continue;
        }
        struct sl_error e = {0};
        if (!done) {
            sl_gw_abs(root, from, p, sizeof(p));
            (void)unlink(p);
            continue;
        }
        (void)sl_gw_pathf(data, sizeof(data), "%.*s", (int)(n - 15),
                          de->d_name);
        sl_gw_sent_path(sl_gw_now_us(), table, data, sent, sizeof(sent));
        if (sl_gw_pathf(q, sizeof(q), "quarantine/%s/%s", table, data) &&
            (sl_gw_link(root, sent, q, &e) != SL_OK ||
             !sl_gw_pathf(q, sizeof(q), "quarantine/%s/%s", table,
                          de->d_name) ||
             sl_gw_move(root, from, q, &e) != SL_OK)) {
            svc_log(r->s, SL_LOG_WARN, NULL, NULL, NULL, "rebuild: %s", e.msg);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* cloud_ready/<table>/<batch>/<id>-<base>: loaded if the warehouse
 * committed <batch>, else staged again. */
static int on_batch_dir(struct rb *r, const char *rel, const char *batch)
{
    char sub[SL_GW_PATH];
    if (!sl_gw_pathf(sub, sizeof(sub), "%s/%s", rel, batch) ||
        !is_dir(r, sub)) {
        return SL_OK;
    }
    bool done = false;
    if (r->wh != NULL) {
        int rc = r->s->ops->batch_committed(r->wh, batch, &done, r->err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    r->batches++;
    const char *slash = strrchr(rel, '/');
    const char *table = slash != NULL ? slash + 1 : rel;
    char p[SL_GW_PATH];
    sl_gw_abs(r->s->cfg->dir, sub, p, sizeof(p));
    DIR *d = opendir(p);
    struct dirent *de;
    int rc = SL_OK;
    while (rc == SL_OK && d != NULL && (de = readdir(d)) != NULL) {
        int64_t id;
        const char *base;
        bool ruled;
        if (de->d_name[0] == '.' || is_rejects(de->d_name) ||
            !split_name_r(de->d_name, &id, &base, &ruled)) {
            continue; /* (a one-pass file's rejects: after its file) */
        }
        char from[SL_GW_PATH], to[SL_GW_PATH], fp[65];
        if (!sl_gw_pathf(from, sizeof(from), "%s/%s", sub, de->d_name)) {
            continue;
        }
        if (!done) {
            rc = restage(r, table, from, id, base, ruled);
            continue;
        }
        sl_gw_sent_path(sl_gw_now_us(), table, de->d_name, to, sizeof(to));
        rc = hash_of(r->s->cfg->dir, from, fp, r->err);
        rc = rc ? rc : put(r, id, table, base, SL_F_LOADED, to, fp, NULL, NULL);
        rc = rc ? rc : sl_gw_move(r->s->cfg->dir, from, to, r->err);
        r->sent++;
    }
    if (d != NULL) {
        closedir(d);
    }
    if (rc == SL_OK) {
        one_pass_rejects(r, sub, table, done);
    }
    if (done) {
        (void)rmdir(p);
    }
    return rc;
}

static int on_cloud_table(struct rb *r, const char *rel, const char *table)
{
    char sub[SL_GW_PATH];
    if (!sl_gw_pathf(sub, sizeof(sub), "%s/%s", rel, table) ||
        !is_dir(r, sub)) {
        return SL_OK;
    }
    return each_file(r, sub, on_batch_dir);
}

int rebuild_ledger(struct svc *s, struct sl_error *err)
{
    struct rb r = {.s = s, .err = err};
    struct sl_wh_open_opts oo = {
        .mode = SL_WH_WRITE, .threads = 1, .lock_timeout_ms = 60000};
    int rc = s->ops->open(s->cfg->warehouse, &oo, &r.wh, err);
    if (rc == -SL_ENOTFOUND) {
        sl__error_clear(err);
        rc = SL_OK; /* no warehouse: nothing was ever committed */
        r.wh = NULL;
    }
    if (rc != SL_OK) {
        sl__error_prefix(err, "rebuilding the ledger needs the warehouse: ");
        return rc;
    }
    rc = svc_tx_begin(s, err);
    rc = rc ? rc : each_file(&r, "sent", on_sent);
    rc = rc ? rc : each_file(&r, "failed", on_failed);
    rc = rc ? rc : each_file(&r, "transformed", on_transformed);
    rc = rc ? rc : each_file(&r, "cloud_ready", on_cloud_table);
    rc = rc ? rc
            : sl_ledger_event(s->ledger, 0, NULL, "ledger rebuilt", NULL, err);
    rc = rc ? rc : svc_tx_commit(s, err);
    s->ops->close(r.wh);
    if (rc == SL_OK) {
        svc_log(s, SL_LOG_WARN, NULL, NULL, NULL,
                "the ledger was missing: rebuilt from the folders and the "
                "warehouse (%zu archived, %zu failed, %zu to stage again, "
                "%zu batch folders)",
                r.sent, r.failed, r.restaged, r.batches);
    }
    return rc;
}
