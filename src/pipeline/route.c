/* route.c - rules in the service: the live rule set (matching new files,
 * reloaded when rules/ changes), every rule file's text recorded in the
 * ledger and parsed into a set of its own on demand (so a file routed by a
 * rule is batched, planned and acted on by that rule as it was, whatever
 * rules/ says by then, also after a crash), and a claimed file's routes:
 * each destination a rule gives it (several with fan-out), else the folder
 * convention. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "pipeline/svc_int.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- rule file texts ------------------------------------------------------
 */

static void rsrc_free(struct rsrc *r)
{
    if (r != NULL) {
        sl__free(r->file);
        sl__free(r->text);
        sl__free(r->problems);
        sl_rules_destroy(r->rs);
        sl__free(r);
    }
}

static struct rsrc *src_find(struct svc *s, const char *hash)
{
    for (size_t i = 0; i < s->n_srcs; i++) {
        if (strcmp(s->srcs[i]->hash, hash) == 0) {
            return s->srcs[i];
        }
    }
    return NULL;
}

/* A text into the list (a copy), NULL when out of memory. */
static struct rsrc *src_new(struct svc *s, const char *hash, const char *file,
                            const char *text, size_t len)
{
    struct rsrc **v = sl__realloc(s->srcs, (s->n_srcs + 1) * sizeof(*v));
    struct rsrc *r = sl__calloc(1, sizeof(*r));
    if (v != NULL) {
        s->srcs = v;
    }
    if (v == NULL || r == NULL || (r->file = sl__strdup(file)) == NULL ||
        (r->text = sl__malloc(len + 1)) == NULL) {
        rsrc_free(r);
        return NULL;
    }
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    r->len = len;
    snprintf(r->hash, sizeof(r->hash), "%s", hash);
    s->srcs[s->n_srcs++] = r;
    return r;
}

static void sha256_hex(const char *text, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hx[] = "0123456789abcdef";
    out[0] = '\0';
    if (EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = '\0';
}

/* A rule's text recorded (in memory and in the ledger, before any file is
 * routed by it); its hash in out. */
static int record_text(struct svc *s, const struct sl_rule *r, char out[65],
                       struct sl_error *err)
{
    size_t len;
    const char *text = sl_rule_text(r, &len);
    sha256_hex(text, len, out);
    if (out[0] == '\0') {
        return SL_ERR(err, -SL_ENOMEM, "cannot hash %s", sl_rule_file(r));
    }
    if (src_find(s, out) != NULL) {
        return SL_OK;
    }
    if (src_new(s, out, sl_rule_file(r), text, len) == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory keeping %s",
                      sl_rule_file(r));
    }
    return sl_ledger_put_source(s->ledger, out, sl_rule_file(r), text, len,
                                err);
}

static void log_lines(struct svc *s, int level, const struct sl_buf *b,
                      const char *pre)
{
    for (const char *p = b->data; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        int n = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        svc_log(s, level, NULL, NULL, level == SL_LOG_WARN ? "schema" : NULL,
                "%s%.*s", pre, n, p);
        p += n + (nl != NULL);
    }
}

static struct sl_rules_opts set_opts(const struct svc *s, bool fan_out)
{
    struct sl_rules_opts o = {.fan_out = fan_out,
                              .webhook_url = s->cfg->webhook_url};
    return o;
}

int route_load_rules(struct svc *s, struct sl_error *err)
{
    struct sl_buf problems, notes;
    sl__buf_init(&problems);
    sl__buf_init(&notes);
    struct sl_rules_opts o = set_opts(s, s->cfg->rules_fan_out);
    struct sl_rules *rs = NULL;
    struct sl_error e = {0};
    int rc = sl_rules_load(s->cfg->dir, s->reg, &o, &problems, &notes, &rs, &e);
    if (rc == -SL_ENOMEM) {
        sl__buf_release(&problems);
        sl__buf_release(&notes);
        *err = e;
        return rc;
    }
    if (rc != SL_OK) {
        svc_log(s, SL_LOG_ERROR, NULL, NULL, sl_errclass(rc),
                "rules not (re)loaded, the running ones stay: %s", e.msg);
        sl__buf_release(&problems);
        sl__buf_release(&notes);
        return SL_OK;
    }
    /* a rule with a problem is left out; a field without local meaning is
     * reported as ignored, never dropped silently (docs/RULES.md 8) */
    log_lines(s, SL_LOG_WARN, &problems, "rule refused: ");
    log_lines(s, SL_LOG_INFO, &notes, "rule note: ");
    sl__buf_release(&problems);
    sl__buf_release(&notes);
    size_t n = sl_rules_count(rs);
    const char **live = sl__calloc(n ? n : 1, sizeof(*live));
    rc = live != NULL ? SL_OK : SL_ERR(err, -SL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        char h[65];
        rc = record_text(s, sl_rules_at(rs, i), h, err);
        live[i] = rc == SL_OK ? src_find(s, h)->hash : NULL;
    }
    if (rc != SL_OK) {
        sl__free(live);
        sl_rules_destroy(rs);
        return rc;
    }
    bool had = s->rules != NULL;
    sl_rules_destroy(s->rules);
    sl__free(s->live_src);
    s->rules = rs;
    s->live_src = live;
    if (had || n > 0) {
        svc_log(s, SL_LOG_INFO, NULL, NULL, NULL, "%zu rule%s %sloaded", n,
                n == 1 ? "" : "s", had ? "re" : "");
    }
    return SL_OK;
}

void route_drop_sets(struct svc *s)
{
    for (size_t i = 0; i < s->n_srcs; i++) {
        sl_rules_destroy(s->srcs[i]->rs);
        s->srcs[i]->rs = NULL;
        sl__free(s->srcs[i]->problems);
        s->srcs[i]->problems = NULL;
    }
}

void route_free(struct svc *s)
{
    for (size_t i = 0; i < s->n_srcs; i++) {
        rsrc_free(s->srcs[i]);
    }
    sl__free(s->srcs);
    s->srcs = NULL;
    s->n_srcs = 0;
    sl_rules_destroy(s->rules);
    s->rules = NULL;
    sl__free(s->live_src);
    s->live_src = NULL;
}

const struct sl_rules *route_set(struct svc *s, const char *src,
                                 struct sl_error *err)
{
    struct rsrc *r = src_find(s, src);
    if (r == NULL) {
        char *file = NULL, *text = NULL;
        size_t len = 0;
        if (sl_ledger_get_source(s->ledger, src, &file, &text, &len, err) !=
            SL_OK) {
            return NULL;
        }
        r = src_new(s, src, file, text, len);
        sl__free(file);
        sl__free(text);
        if (r == NULL) {
            SL_ERR(err, -SL_ENOMEM, "out of memory reading a rule file");
            return NULL;
        }
    }
    if (r->rs != NULL) {
        return r->rs;
    }
    /* every rule of the file, whatever else matches: fan-out on */
    struct sl_rules_opts o = set_opts(s, true);
    struct sl_buf problems;
    sl__buf_init(&problems);
    const char *name =
        strncmp(r->file, "rules/", 6) == 0 ? r->file + 6 : r->file;
    int rc = sl_rules_parse(name, r->text, r->len, s->cfg->dir, s->reg, &o,
                            &problems, NULL, &r->rs, err);
    if (rc == SL_OK && problems.len > 0) {
        r->problems = sl__strndup(problems.data, problems.len);
    }
    sl__buf_release(&problems);
    return rc == SL_OK ? r->rs : NULL;
}

/* ---- routes ---------------------------------------------------------------
 */

int route_dest(const struct sl_rules *rs, const char *rule, const char *table,
               const char *key, const char *raw_name, int64_t mtime_ns,
               struct sl_rules_match *m, const struct sl_rules_dest **out,
               struct sl_error *err)
{
    *out = NULL;
    int rc = sl_rules_match(rs, raw_name, mtime_ns / 1000, m, err);
    if (rc != SL_OK) {
        sl__error_prefix(err, "%s: by its rule as recorded: ", raw_name);
        return rc;
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct sl_rules_dest *d = &m->dests[i];
        if (strcmp(sl_rule_name(d->rule), rule) == 0 &&
            strcmp(d->table, table) == 0 &&
            (key == NULL || strcmp(d->batch_key, key) == 0)) {
            *out = d;
            return SL_OK;
        }
    }
    return SL_ERR(err, -SL_ESCHEMA,
                  "rule %s, as recorded when %s was claimed, no longer routes "
                  "it into %s (the registry changed since?)",
                  rule, raw_name, table);
}

static int table_of_def(const struct svc *s, const struct sl_table *t)
{
    for (size_t i = 0; t != NULL && i < s->n_tables; i++) {
        if (s->tables[i].t == t) {
            return (int)i;
        }
    }
    return -1;
}

/* The batching and validation of destination d (its rule's text src). */
static int fill_from_dest(struct svc *s, struct gfile *f,
                          const struct sl_rules_dest *d)
{
    f->tix = table_of_def(s, d->load_def);
    f->lim.window_ms = d->window_ms;
    /* all of a window's files are one batch, as in BqTail (issue 16: 25,000
     * files load as one); only the rule's own MaxFiles/MaxBytes cut it, not
     * sluice.json's batch limits, which are the folder convention's */
    f->lim.max_files = d->max_files;
    f->lim.max_bytes = d->max_bytes;
    f->lim.max_reload = d->max_reload;
    if (f->load == NULL &&
        (f->load = sl__calloc(1, sizeof(*f->load))) == NULL) {
        return -SL_ENOMEM;
    }
    sl_gw_load_release(f->load);
    return sl_rules_load_options(d, sl_gw_config_load_for(s->cfg, d->table),
                                 f->load);
}

static int fill_route(struct svc *s, struct gfile *f,
                      const struct sl_rules_dest *d, size_t n)
{
    const char *src = NULL;
    for (size_t i = 0; i < sl_rules_count(s->rules); i++) {
        if (sl_rules_at(s->rules, i) == d->rule) {
            src = s->live_src[i];
        }
    }
    snprintf(f->src, sizeof(f->src), "%s", src != NULL ? src : "");
    f->routes = (int)n;
    int rc = svc_set(&f->rule, sl_rule_name(d->rule));
    rc = rc ? rc : svc_set(&f->table, d->table);
    rc = rc ? rc : svc_set(&f->key, d->batch_key);
    return rc ? rc : fill_from_dest(s, f, d);
}

static void folder_limits(const struct svc *s, struct gfile *f)
{
    f->lim.window_ms = s->cfg->window_ms ? s->cfg->window_ms : 1;
    f->lim.max_files = s->cfg->max_files;
    f->lim.max_bytes = s->cfg->max_bytes;
    f->lim.max_reload = 0;
}

/* raw/<table>/...: its folder's table, else f->err_msg says why not. */
static int folder_route(struct svc *s, struct gfile *f)
{
    char dir[600], msg[900];
    bool in_dir = sl_gw_table_dir(f->raw_name, dir, sizeof(dir));
    f->tix = in_dir ? svc_table_index(s, dir) : -1;
    folder_limits(s, f);
    f->routes = 1;
    if (f->tix >= 0) {
        return svc_set(&f->table, s->tables[f->tix].name);
    }
    const char *rules = sl_rules_count(s->rules) > 0
                            ? "no enabled rule (rules/) matches it, and "
                            : "";
    if (in_dir) {
        sl_gw_pathf(msg, sizeof(msg),
                    "%sno table %s in the registry (schemas/): a file's table "
                    "is its folder under raw/",
                    rules, dir);
    } else {
        sl_gw_pathf(msg, sizeof(msg),
                    "%s%s is in no table's folder: put it under "
                    "raw/<table>/ or raw/<dataset>.<table>/",
                    rules, f->raw_name);
    }
    return svc_set(&f->err_msg, msg);
}

/* Another route of the claim of f: the same file, in the ring after f. */
static struct gfile *sibling(struct gfile *f)
{
    struct gfile *g = sl__calloc(1, sizeof(*g));
    if (g == NULL || (g->raw_name = sl__strdup(f->raw_name)) == NULL ||
        svc_set(&g->path, f->path) != SL_OK) {
        gfile_free(g);
        return NULL;
    }
    g->size = f->size;
    g->mtime_ns = f->mtime_ns;
    g->dev = f->dev;
    g->ino = f->ino;
    g->state = f->state;
    g->first_seen_us = f->first_seen_us;
    g->force = f->force;
    g->tix = -1;
    g->sib = f->sib;
    f->sib = g;
    return g;
}

int route_claim(struct svc *s, struct gfile *f, struct sl_error *err)
{
    struct sl_rules_match m;
    struct sl_error me = {0};
    f->sib = f;
    int rc = sl_rules_match(s->rules, f->raw_name, f->mtime_ns / 1000, &m, &me);
    if (rc == -SL_ENOMEM) {
        *err = me;
        return rc;
    }
    if (rc != SL_OK) { /* the rules cannot place it: it fails with why */
        f->tix = -1;
        rc = svc_set(&f->err_msg, me.msg);
    } else if (m.n == 0) {
        rc = folder_route(s, f);
    }
    struct gfile *at = f;
    for (size_t i = 0; rc == SL_OK && i < m.n; i++) {
        struct gfile *g = i == 0 ? f : sibling(at);
        rc = g != NULL ? fill_route(s, g, &m.dests[i], m.n) : -SL_ENOMEM;
        at = g != NULL ? g : at;
    }
    sl_rules_match_release(&m);
    return rc == SL_OK
               ? SL_OK
               : SL_ERR(err, rc, "out of memory routing %s", f->raw_name);
}

int route_resume(struct svc *s, struct gfile *f, char *why, size_t why_size)
{
    why[0] = '\0';
    if (f->rule == NULL) {
        f->tix = f->table != NULL ? svc_table_index(s, f->table) : -1;
        folder_limits(s, f);
        if (f->tix < 0) {
            snprintf(why, why_size, "its table is no longer in the registry");
        }
        return SL_OK;
    }
    struct sl_error e = {0};
    struct sl_rules_match m = {0};
    const struct sl_rules_dest *d = NULL;
    const struct sl_rules *rs = route_set(s, f->src, &e);
    int rc = rs != NULL ? route_dest(rs, f->rule, f->table, f->key, f->raw_name,
                                     f->mtime_ns, &m, &d, &e)
                        : e.code;
    if (rc == SL_OK) {
        rc = fill_from_dest(s, f, d);
    }
    sl_rules_match_release(&m);
    if (rc == -SL_ENOMEM) {
        return rc;
    }
    if (rc != SL_OK || f->tix < 0) {
        f->tix = -1;
        snprintf(why, why_size, "%s",
                 rc != SL_OK ? e.msg
                             : "its table is no longer in the registry");
    }
    return SL_OK;
}

/* ---- fan-out: one claim, several routes -----------------------------------
 */

bool route_links(const struct gfile *f, const char *from)
{
    return f->routes > 1 && from != NULL && strncmp(from, "raw/", 4) == 0;
}

void route_unring(struct gfile *f)
{
    if (f->sib == NULL || f->sib == f) {
        f->sib = f;
        return;
    }
    struct gfile *p = f->sib;
    while (p->sib != f) {
        p = p->sib;
    }
    p->sib = f->sib;
    f->sib = f;
}

void route_left_raw(struct svc *s, struct gfile *f)
{
    if (f->routes <= 1 || f->state == SL_F_CLAIMED) {
        return;
    }
    f->off_raw = true;
    /* a sibling staged in the same round (recorded, its link not yet
     * made) is not CLAIMED any more but still reads raw/ */
    for (struct gfile *g = f->sib; g != NULL && g != f; g = g->sib) {
        if (g->state == SL_F_CLAIMED || !g->off_raw) {
            return; /* another route still reads it */
        }
    }
    char p[SL_GW_PATH];
    struct stat st;
    if (sl_gw_pathf(p, sizeof(p), "%s/raw/%s", s->cfg->dir, f->raw_name) &&
        lstat(p, &st) == 0 && (int64_t)st.st_ino == f->ino &&
        (int64_t)st.st_dev == f->dev) {
        (void)unlink(p); /* every route has its own link now */
    }
}

/* ---- the plan recorded with a batch ---------------------------------------
 */

/* {"rule", "file", "source", "table", "key", "first": {"id", "raw",
 * "mtime_ns", "path"}, "vars": {name: value}, "transient", "flags"} */
static json_t *plan_json(const struct gbatch *b, const struct sl_rules_dest *d)
{
    const struct gfile *f = b->files[0];
    json_t *vars = json_object();
    for (size_t i = 0; vars != NULL && i < d->vars_size;) {
        const char *name = d->vars + i;
        const char *value = name + strlen(name) + 1;
        json_object_set_new(vars, name, json_string(value));
        i = (size_t)(value - d->vars) + strlen(value) + 1;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:s, s:I, s:s}, "
                     "s:o, s:b, s:i}",
                     "rule", f->rule, "file", sl_rule_file(d->rule), "source",
                     f->src, "table", f->table, "key", f->key, "first", "id",
                     (json_int_t)f->id, "raw", f->raw_name, "mtime_ns",
                     (json_int_t)f->mtime_ns, "path", d->path, "vars",
                     vars != NULL ? vars : json_object(), "transient",
                     d->transient, "flags", (int)d->batch_flags);
}

int route_plan_record(struct svc *s, struct gbatch *b, struct sl_error *err)
{
    const struct gfile *f = b->files[0];
    struct sl_rules_match m = {0};
    const struct sl_rules_dest *d = NULL;
    const struct sl_rules *rs = route_set(s, f->src, err);
    int rc = rs != NULL ? route_dest(rs, f->rule, f->table, f->key, f->raw_name,
                                     f->mtime_ns, &m, &d, err)
                        : err->code;
    if (rc == SL_OK) {
        json_t *o = plan_json(b, d);
        char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        b->plan = text != NULL ? sl__strdup(text) : NULL;
        free(text);
        json_decref(o);
        b->by_sql = d->transient || (d->batch_flags & SL_BATCH_TRUNCATE);
        if (b->plan == NULL) {
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory recording a plan");
        }
    }
    sl_rules_match_release(&m);
    return rc;
}

int route_plan_read(const char *text, struct precord *out)
{
    memset(out, 0, sizeof(*out));
    json_t *o = json_loads(text != NULL ? text : "", 0, NULL);
    json_t *first = json_object_get(o, "first");
    const char *v[] = {
        json_string_value(json_object_get(o, "rule")),
        json_string_value(json_object_get(o, "source")),
        json_string_value(json_object_get(o, "table")),
        json_string_value(json_object_get(o, "key")),
        json_string_value(json_object_get(first, "raw")),
    };
    char **dst[] = {&out->rule, &out->src, &out->table, &out->key, &out->raw};
    int rc = o != NULL ? SL_OK : -SL_ECORRUPT;
    for (size_t i = 0; rc == SL_OK && i < SL_ARRAY_LEN(v); i++) {
        rc = v[i] == NULL                           ? -SL_ECORRUPT
             : (*dst[i] = sl__strdup(v[i])) == NULL ? -SL_ENOMEM
                                                    : SL_OK;
    }
    out->first_id = json_integer_value(json_object_get(first, "id"));
    out->mtime_ns = json_integer_value(json_object_get(first, "mtime_ns"));
    json_decref(o);
    if (rc != SL_OK) {
        route_plan_release(out);
    }
    return rc;
}

void route_plan_release(struct precord *p)
{
    sl__free(p->rule);
    sl__free(p->src);
    sl__free(p->table);
    sl__free(p->key);
    sl__free(p->raw);
    memset(p, 0, sizeof(*p));
}
