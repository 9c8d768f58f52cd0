/* actions.c - a rule's OnSuccess / OnFailure actions after a batch: query
 * (with Dest and Append), copy and drop through the warehouse's cursor;
 * delete and move of files inside the gateway; call, notify and push over
 * HTTP (http.c). Each runs its own OnSuccess or OnFailure; a failure stops
 * its list and is reported; nothing here touches the loaded rows unless the
 * rule's SQL says so. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ax {
    const struct sl_rules_actx *cx;
    const struct sl_rules_dest *d;
    const struct sl_rule *r;
    struct sl_buf vars;     /* the file's, the batch's, then $Error and
                               $Response */
    size_t base_len;        /* vars without $Error and $Response */
    const char *error;      /* $Error: the batch's, or the failed action's
                               for its OnFailure (borrowed) */
    struct sl_buf response; /* $Response: the last call's answer */
    json_t *data;           /* $Data: the same, parsed as JSON */
    struct sl_rules_report *rep;
    struct sl_error first;
    char msg[512]; /* what the running action did */
};

/* ---- variables
 * ------------------------------------------------------------------ */

static int base_vars(struct ax *x)
{
    const struct sl_rules_batch *b = x->cx->batch;
    const struct sl_rules_plan *p = x->cx->plan;
    struct sl_buf urls;
    sl__buf_init(&urls);
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < b->n_uris; i++) {
        rc = sl__buf_printf(&urls, "%s%s", i > 0 ? "," : "", b->uris[i]);
    }
    const char *u = urls.data != NULL ? urls.data : "";
    const struct {
        const char *name, *value;
    } v[] = {{"BatchID", b->id},
             {"EventID", b->id},
             {"JobID", b->id},
             {"LoadURIs", u},
             {"URLs", u},
             {"SourceURI", b->n_uris > 0 ? b->uris[0] : ""},
             {"RuleURL", x->r->file},
             {"DestTable", p != NULL && p->dest_sql ? p->dest_sql : ""},
             {"TempTable", p != NULL && p->temp_sql ? p->temp_sql : ""}};
    rc = rc ? rc
            : sl__buf_append(&x->vars, x->d->vars ? x->d->vars : "",
                             x->d->vars_size);
    for (size_t i = 0; rc == SL_OK && i < SL_ARRAY_LEN(v); i++) {
        rc = sl__rules_var_put(&x->vars, v[i].name, v[i].value,
                               strlen(v[i].value));
    }
    x->base_len = x->vars.len;
    x->error = b->error != NULL ? b->error : "";
    sl__buf_release(&urls);
    return rc;
}

/* $Error and $Response as they are now, after the base. */
static int last_vars(struct ax *x)
{
    x->vars.len = x->base_len;
    int rc = sl__rules_var_put(&x->vars, "Error", x->error, strlen(x->error));
    return rc ? rc
              : sl__rules_var_put(&x->vars, "Response",
                                  x->response.data ? x->response.data : "",
                                  x->response.len);
}

/* A template into out; -1 with x->msg saying why, -SL_ENOMEM. */
static int expand(struct ax *x, const char *tmpl, enum sl_vctx cx,
                  struct sl_buf *out)
{
    static const char *const sql_names[] = {"DestTable", "TempTable"};
    struct sl_vars vs = {x->vars.data, x->vars.len,
                         sql_names,    SL_ARRAY_LEN(sql_names),
                         x->d->path,   x->data};
    char why[300];
    int rc = sl__rules_expand(&vs, tmpl, cx, out, why, sizeof(why));
    if (rc == -SL_EINVAL) {
        snprintf(x->msg, sizeof(x->msg), "%s", why);
        return -SL_EINVAL;
    }
    return rc;
}

static int say(struct ax *x, int rc, const char *fmt, ...) SL_PRINTF(3, 4);
static int say(struct ax *x, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- SQL
 * ------------------------------------------------------------------------ */

/* Run one statement, reading its result through; *out_count is the first
 * row's first value when it is a number (INSERT's and DELETE's Count). */
static int run_sql(struct ax *x, const char *sql, int64_t *out_count)
{
    const struct sl_wh_ops *ops = x->cx->ops;
    struct sl_cursor *c = NULL;
    struct sl_error e = {0};
    int rc = ops->query(x->cx->wh, sql, &c, &e);
    bool first = true;
    while (rc == SL_OK) {
        const struct sl_val *row = NULL;
        rc = ops->cursor_next(c, &row, &e);
        if (rc != SL_OK || row == NULL) {
            break;
        }
        size_t n = 0;
        (void)ops->cursor_columns(c, &n);
        if (first && out_count != NULL && n > 0 && row[0].kind == SL_V_I64) {
            *out_count = row[0].u.i;
        }
        first = false;
    }
    ops->cursor_close(c);
    return rc == SL_OK ? SL_OK : say(x, rc, "%s", e.msg);
}

/* A table template into dataset and table (checked); -SL_EINVAL. */
static int table_ref(struct ax *x, const char *tmpl, char *ds, char *tb,
                     size_t size)
{
    struct sl_buf b;
    sl__buf_init(&b);
    int rc = expand(x, tmpl, SL_VX_NAME, &b);
    char why[300];
    if (rc == SL_OK &&
        !sl__rules_table_ref(b.data, ds, size, tb, size, why, sizeof(why))) {
        rc = say(x, -SL_EINVAL, "%s", why);
    }
    sl__buf_release(&b);
    return rc;
}

static int ref_sql(struct ax *x, const char *ds, const char *tb,
                   struct sl_buf *b)
{
    return sl_wh_table_ref(x->cx->ops, x->cx->wh, b, ds, tb);
}

static int table_exists(struct ax *x, const char *ds, const char *tb, bool *out)
{
    struct sl_buf q;
    sl__buf_init(&q);
    const struct sl_wh_ops *ops = x->cx->ops;
    int rc = sl__buf_printf(&q, "SELECT count(*) FROM information_schema."
                                "tables WHERE lower(table_schema) = lower(");
    rc = rc ? rc : sl_wh_quote_literal(ops, &q, ds);
    rc = rc ? rc : sl__buf_printf(&q, ") AND lower(table_name) = lower(");
    rc = rc ? rc : sl_wh_quote_literal(ops, &q, tb);
    rc = rc ? rc : sl__buf_printf(&q, ")");
    int64_t n = 0;
    rc = rc ? rc : run_sql(x, q.data, &n);
    sl__buf_release(&q);
    *out = n > 0;
    return rc;
}

/* The columns sql's result has, as a quoted list. */
static int result_columns(struct ax *x, const char *sql, struct sl_buf *cols)
{
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = sl__buf_printf(&q, "SELECT * FROM (%s) AS ", sql);
    rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, &q, "_sluice_q");
    rc = rc ? rc : sl__buf_printf(&q, " LIMIT 0");
    struct sl_cursor *c = NULL;
    struct sl_error e = {0};
    if (rc == SL_OK) {
        rc = x->cx->ops->query(x->cx->wh, q.data, &c, &e);
        if (rc != SL_OK) {
            rc = say(x, rc, "%s", e.msg);
        }
    }
    size_t n = 0;
    const struct sl_qcol *qc =
        c != NULL ? x->cx->ops->cursor_columns(c, &n) : NULL;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = sl__buf_printf(cols, "%s", i > 0 ? ", " : "");
        rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, cols, qc[i].name);
    }
    x->cx->ops->cursor_close(c);
    sl__buf_release(&q);
    return rc;
}

static int table_rows(struct ax *x, const char *ds, const char *tb,
                      int64_t *out)
{
    struct sl_buf q;
    sl__buf_init(&q);
    int rc = sl__buf_printf(&q, "SELECT count(*) FROM ");
    rc = rc ? rc : ref_sql(x, ds, tb, &q);
    rc = rc ? rc : run_sql(x, q.data, out);
    sl__buf_release(&q);
    return rc;
}

/* sql's rows into ds.tb: created from the registry's definition or from
 * the result when missing; emptied first unless append; in a transaction. */
static int into_table(struct ax *x, const char *sql, const char *ds,
                      const char *tb, bool append)
{
    char name[2300];
    snprintf(name, sizeof(name), "%s.%s", ds, tb);
    const struct sl_registry *reg = x->cx->rules->reg;
    const struct sl_table *def =
        reg != NULL ? sl_registry_find(reg, name) : NULL;
    struct sl_error e = {0};
    bool created = false, exists = false;
    struct sl_table *v = NULL;
    int rc = SL_OK;
    if (def != NULL && (rc = sl_table_view(def, ds, tb, &v)) == SL_OK) {
        rc = x->cx->ops->ensure_table(x->cx->wh, v, &created, &e);
        sl_table_view_destroy(v);
        if (rc != SL_OK) {
            return say(x, rc, "%s", e.msg);
        }
    }
    rc = rc ? rc : table_exists(x, ds, tb, &exists);
    struct sl_buf q, cols;
    sl__buf_init(&q);
    sl__buf_init(&cols);
    int64_t rows = 0;
    if (rc == SL_OK && !exists) {
        rc = sl__buf_printf(&q, "CREATE TABLE ");
        rc = rc ? rc : ref_sql(x, ds, tb, &q);
        rc = rc ? rc : sl__buf_printf(&q, " AS %s", sql);
        rc = rc ? rc : run_sql(x, q.data, NULL);
        rc = rc ? rc : table_rows(x, ds, tb, &rows);
    } else if (rc == SL_OK) {
        rc = result_columns(x, sql, &cols);
        rc = rc ? rc : run_sql(x, "BEGIN TRANSACTION", NULL);
        if (rc == SL_OK && !append) {
            /* The query may read the table it replaces (BigQuery's
             * WRITE_TRUNCATE reads the table as it was, e.g. a dedupe of
             * $DestTable into itself): its rows first, then the DELETE. */
            rc = sl__buf_printf(&q, "CREATE TEMP TABLE ");
            rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, &q, "_sluice_replace");
            rc = rc ? rc
                    : sl__buf_printf(&q, " AS SELECT %s FROM (%s) AS ",
                                     cols.data, sql);
            rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, &q, "_sluice_q");
            rc = rc ? rc : run_sql(x, q.data, NULL);
            sl__buf_reset(&q);
            rc = rc ? rc : sl__buf_printf(&q, "DELETE FROM ");
            rc = rc ? rc : ref_sql(x, ds, tb, &q);
            rc = rc ? rc : run_sql(x, q.data, NULL);
            sl__buf_reset(&q);
        }
        rc = rc ? rc : sl__buf_printf(&q, "INSERT INTO ");
        rc = rc ? rc : ref_sql(x, ds, tb, &q);
        rc = rc ? rc
                : sl__buf_printf(&q, " (%s) SELECT %s FROM ", cols.data,
                                 cols.data);
        if (append) {
            rc = rc ? rc : sl__buf_printf(&q, "(%s) AS ", sql);
            rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, &q, "_sluice_q");
        } else {
            rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, &q, "_sluice_replace");
        }
        rc = rc ? rc : run_sql(x, q.data, &rows);
        if (rc == SL_OK && !append) {
            sl__buf_reset(&q);
            rc = sl__buf_printf(&q, "DROP TABLE ");
            rc = rc ? rc : sl_wh_quote_ident(x->cx->ops, &q, "_sluice_replace");
            rc = rc ? rc : run_sql(x, q.data, NULL);
        }
        rc = rc ? rc : run_sql(x, "COMMIT", NULL);
        if (rc != SL_OK) {
            char keep[512];
            memcpy(keep, x->msg, sizeof(keep));
            (void)run_sql(x, "ROLLBACK", NULL);
            memcpy(x->msg, keep, sizeof(keep));
        }
    }
    sl__buf_release(&q);
    sl__buf_release(&cols);
    if (rc == -SL_ENOMEM) {
        return say(x, rc, "out of memory");
    }
    return rc != SL_OK ? rc
                       : say(x, SL_OK, "%s %lld rows into %s%s",
                             exists && !append ? "replaced with" : "wrote",
                             (long long)rows, name, exists ? "" : " (created)");
}

static int act_query(struct ax *x, const struct sl_rule_action *a)
{
    struct sl_buf sql;
    sl__buf_init(&sql);
    int rc = expand(x, a->sql, SL_VX_SQL, &sql);
    char ds[1100], tb[1100];
    if (rc == SL_OK && a->dest != NULL) {
        rc = table_ref(x, a->dest, ds, tb, sizeof(ds));
        rc = rc ? rc : into_table(x, sql.data, ds, tb, a->append);
    } else if (rc == SL_OK) {
        char **st = NULL;
        size_t n = 0;
        struct sl_error e = {0};
        rc = x->cx->ops->split_statements(x->cx->wh, sql.data, &st, &n, &e);
        if (rc != SL_OK) {
            rc = say(x, rc, "%s", e.msg);
        }
        for (size_t i = 0; rc == SL_OK && i < n; i++) {
            rc = run_sql(x, st[i], NULL);
        }
        x->cx->ops->free_statements(st, n);
        if (rc == SL_OK) {
            rc = say(x, SL_OK, "ran %zu statement%s", n, n == 1 ? "" : "s");
        }
    }
    sl__buf_release(&sql);
    return rc;
}

static int act_copy(struct ax *x, const struct sl_rule_action *a)
{
    char ds[1100], tb[1100], sds[1100], stb[1100];
    int rc = table_ref(x, a->source, sds, stb, sizeof(sds));
    rc = rc ? rc : table_ref(x, a->dest, ds, tb, sizeof(ds));
    struct sl_buf q;
    sl__buf_init(&q);
    rc = rc ? rc : sl__buf_printf(&q, "SELECT * FROM ");
    rc = rc ? rc : ref_sql(x, sds, stb, &q);
    rc = rc ? rc : into_table(x, q.data, ds, tb, a->append);
    sl__buf_release(&q);
    return rc;
}

static int act_drop(struct ax *x, const struct sl_rule_action *a)
{
    char ds[1100], tb[1100];
    int rc = table_ref(x, a->table, ds, tb, sizeof(ds));
    struct sl_buf q;
    sl__buf_init(&q);
    rc = rc ? rc : sl__buf_printf(&q, "DROP TABLE IF EXISTS ");
    rc = rc ? rc : ref_sql(x, ds, tb, &q);
    rc = rc ? rc : run_sql(x, q.data, NULL);
    sl__buf_release(&q);
    return rc ? rc : say(x, SL_OK, "dropped %s.%s", ds, tb);
}

/* ---- files
 * ------------------------------------------------------------------------ */

/* Folders of the gateway the service owns: no action reads or writes in
 * them (raw/ is also refused as a destination: it would load again). */
static bool gw_path_ok(struct ax *x, const char *rel, bool dest)
{
    static const char *const owned[] = {".sluice", "schemas", "rules",
                                        "transformed", "cloud_ready"};
    if (rel[0] == '\0' || rel[0] == '/') {
        return say(x, -SL_EINVAL, "\"%.200s\" is not a path inside the gateway",
                   rel) == SL_OK;
    }
    for (const char *s = rel; *s != '\0';) {
        size_t n = strcspn(s, "/");
        if (n == 2 && strncmp(s, "..", 2) == 0) {
            return say(x, -SL_EINVAL, "\"%.200s\" leaves the gateway", rel) ==
                   SL_OK;
        }
        s += n + (s[n] == '/');
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(owned) + (dest ? 1 : 0); i++) {
        const char *o = i < SL_ARRAY_LEN(owned) ? owned[i] : "raw";
        size_t n = strlen(o);
        if (strncmp(rel, o, n) == 0 && (rel[n] == '/' || rel[n] == '\0')) {
            return say(x, -SL_EINVAL,
                       "%s/ is the service's: an action does not %s there", o,
                       dest ? "write" : "touch") == SL_OK;
        }
    }
    return true;
}

/* The paths a delete or move acts on: its URLs, $LoadURIs by default. */
static int each_path(struct ax *x, const struct sl_rule_action *a,
                     int (*fn)(struct ax *x, const char *rel, void *ud),
                     void *ud, size_t *out_n)
{
    const struct sl_rules_batch *b = x->cx->batch;
    static char *const load[] = {"$LoadURIs"};
    char *const *urls = a->n_urls > 0 ? a->urls : load;
    size_t n = a->n_urls > 0 ? a->n_urls : 1;
    int rc = SL_OK;
    *out_n = 0;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        if (strcmp(urls[i], "$LoadURIs") == 0 ||
            strcmp(urls[i], "$URLs") == 0) {
            for (size_t k = 0; rc == SL_OK && k < b->n_uris; k++) {
                rc = fn(x, b->uris[k], ud);
                *out_n += rc == SL_OK;
            }
            continue;
        }
        struct sl_buf p;
        sl__buf_init(&p);
        rc = expand(x, urls[i], SL_VX_TEXT, &p);
        rc = rc ? rc : fn(x, p.data, ud);
        *out_n += rc == SL_OK;
        sl__buf_release(&p);
    }
    return rc;
}

static int delete_one(struct ax *x, const char *rel, void *ud)
{
    (void)ud;
    if (!gw_path_ok(x, rel, false)) {
        return -SL_EINVAL;
    }
    char full[PATH_MAX];
    snprintf(full, sizeof(full), "%s/%s", x->cx->gateway_dir, rel);
    if (unlink(full) != 0 && errno != ENOENT) {
        return say(x, -SL_EIO, "cannot delete %s: %s", rel, strerror(errno));
    }
    if (x->cx->file_done != NULL) {
        x->cx->file_done(x->cx->file_ud, rel, NULL);
    }
    return SL_OK;
}

static int mkdirs(const char *path)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            return -1;
        }
        *s = '/';
    }
    return 0;
}

struct move_to {
    const char *dest; /* a folder, or the file's new path when absolute */
    bool absolute;
};

static int move_one(struct ax *x, const char *rel, void *ud)
{
    const struct move_to *m = ud;
    if (!gw_path_ok(x, rel, false) || !gw_path_ok(x, m->dest, true)) {
        return -SL_EINVAL;
    }
    const char *base = strrchr(rel, '/');
    base = base != NULL ? base + 1 : rel;
    char from[PATH_MAX], to[PATH_MAX + 256];
    snprintf(from, sizeof(from), "%s/%s", x->cx->gateway_dir, rel);
    size_t gl = strlen(x->cx->gateway_dir) + 1;
    snprintf(to, sizeof(to), "%s/%s%s%s", x->cx->gateway_dir, m->dest,
             m->absolute ? "" : "/", m->absolute ? "" : base);
    struct stat st;
    if (mkdirs(to) != 0 || rename(from, to) != 0) {
        int e = errno;
        /* gone from here and there: a move made before (a run again after
           a crash) */
        if (e != ENOENT || stat(to, &st) != 0) {
            return say(x, e == ENOENT ? -SL_ENOTFOUND : -SL_EIO,
                       "cannot move %s to %s: %s", rel, m->dest, strerror(e));
        }
    }
    if (x->cx->file_done != NULL) {
        x->cx->file_done(x->cx->file_ud, rel, to + gl);
    }
    return SL_OK;
}

static int act_delete(struct ax *x, const struct sl_rule_action *a)
{
    size_t n = 0;
    int rc = each_path(x, a, delete_one, NULL, &n);
    return rc ? rc : say(x, SL_OK, "deleted %zu file%s", n, n == 1 ? "" : "s");
}

static int act_move(struct ax *x, const struct sl_rule_action *a)
{
    struct sl_buf d;
    sl__buf_init(&d);
    int rc = expand(x, a->dest_url, SL_VX_TEXT, &d);
    size_t n = 0;
    if (rc == SL_OK) {
        while (d.len > 1 && d.data[d.len - 1] == '/') {
            d.data[--d.len] = '\0';
        }
        struct move_to m = {d.data, a->dest_absolute};
        rc = each_path(x, a, move_one, &m, &n);
    }
    if (rc == SL_OK) {
        rc = say(x, SL_OK, "moved %zu file%s to %s", n, n == 1 ? "" : "s",
                 d.data);
    }
    sl__buf_release(&d);
    return rc;
}

/* ---- HTTP
 * --------------------------------------------------------------------- */

static int set_response(struct ax *x, const struct sl_buf *body)
{
    const char *text = body->data != NULL ? body->data : "";
    sl__buf_reset(&x->response);
    int rc = sl__buf_append(&x->response, text, strlen(text));
    json_decref(x->data);
    x->data = json_loadb(text, body->len, 0, NULL);
    return rc;
}

static int post(struct ax *x, const char *method, const char *url,
                const char *body, bool keep)
{
    bool js = body != NULL && (body[0] == '{' || body[0] == '[');
    struct sl_rules_http_req q = {method, url, body,
                                  js ? "application/json" : NULL,
                                  x->cx->http_timeout_ms};
    struct sl_rules_http_resp r;
    struct sl_error e = {0};
    int rc = sl__rules_http(&q, &r, &e);
    if (keep && (r.status != 0 || rc == SL_OK) &&
        set_response(x, &r.body) != SL_OK) {
        rc = -SL_ENOMEM;
    }
    sl__buf_release(&r.body);
    return rc != SL_OK
               ? say(x, rc, "%s", e.msg)
               : say(x, SL_OK, "%s %s: HTTP %ld", method, url, r.status);
}

static int act_call(struct ax *x, const struct sl_rule_action *a)
{
    struct sl_buf url, body;
    sl__buf_init(&url);
    sl__buf_init(&body);
    int rc = expand(x, a->url, SL_VX_TEXT, &url);
    if (rc == SL_OK && a->body != NULL) {
        rc = expand(x, a->body, SL_VX_TEXT, &body);
    }
    const char *method = a->method != NULL ? a->method
                         : a->body != NULL ? "POST"
                                           : "GET";
    rc = rc ? rc
            : post(x, method, url.data, a->body != NULL ? body.data : NULL,
                   true);
    sl__buf_release(&url);
    sl__buf_release(&body);
    return rc;
}

/* Set key to a template's expansion (a string) in obj. */
static int put_text(struct ax *x, json_t *obj, const char *key,
                    const char *tmpl)
{
    if (tmpl == NULL) {
        return SL_OK;
    }
    struct sl_buf b;
    sl__buf_init(&b);
    int rc = expand(x, tmpl, SL_VX_TEXT, &b);
    if (rc == SL_OK &&
        json_object_set_new(obj, key, json_string(b.data ? b.data : "")) != 0) {
        rc = say(x, -SL_EINVAL, "%s is not UTF-8 text", key);
    }
    sl__buf_release(&b);
    return rc;
}

/* notify and push: a JSON message to the action's URL or the webhook. */
static int act_webhook(struct ax *x, const struct sl_rule_action *a)
{
    const char *to = a->url != NULL ? a->url : x->cx->rules->webhook_url;
    if (to == NULL) {
        return say(x, -SL_EUSAGE, "%s has no URL and the gateway no webhook",
                   a->name);
    }
    json_t *m = json_object();
    struct sl_buf url, text;
    sl__buf_init(&url);
    sl__buf_init(&text);
    int rc = m != NULL ? expand(x, to, SL_VX_TEXT, &url) : -SL_ENOMEM;
    if (a->kind == SL_ACT_NOTIFY) {
        char line[1024];
        snprintf(line, sizeof(line), "%s%s%s", a->title ? a->title : "",
                 a->title && a->message ? ": " : "",
                 a->message ? a->message : "");
        rc = rc ? rc : put_text(x, m, "text", line);
        rc = rc ? rc : put_text(x, m, "title", a->title);
        rc = rc ? rc : put_text(x, m, "message", a->message);
        rc = rc ? rc : put_text(x, m, "from", a->from);
        rc = rc ? rc : put_text(x, m, "body", a->body);
        if (rc == SL_OK && a->channels != NULL) {
            json_object_set_new(m, "channels",
                                json_loads(a->channels, 0, NULL));
        }
    } else {
        rc = rc ? rc : put_text(x, m, "topic", a->topic);
        rc = rc ? rc : put_text(x, m, "message", a->message);
        rc = rc ? rc : put_text(x, m, "data", a->body);
        if (rc == SL_OK && a->attributes != NULL) {
            json_object_set_new(m, "attributes",
                                json_loads(a->attributes, 0, NULL));
        }
    }
    rc = rc ? rc : put_text(x, m, "rule", x->r->name);
    rc = rc ? rc : put_text(x, m, "batch", x->cx->batch->id);
    rc = rc ? rc : put_text(x, m, "table", x->d->table);
    char *body = rc == SL_OK ? json_dumps(m, JSON_COMPACT) : NULL;
    if (rc == SL_OK && body == NULL) {
        rc = -SL_ENOMEM;
    }
    rc = rc ? rc : post(x, "POST", url.data, body, false);
    free(body);
    json_decref(m);
    sl__buf_release(&url);
    sl__buf_release(&text);
    return rc;
}

/* ---- running
 * -------------------------------------------------------------------- */

static int run_one(struct ax *x, const struct sl_rule_action *a, bool *skip)
{
    *skip = false;
    if (a->exists != NULL) {
        char ds[1100], tb[1100];
        bool yes = false;
        int rc = table_ref(x, a->exists, ds, tb, sizeof(ds));
        rc = rc ? rc : table_exists(x, ds, tb, &yes);
        if (rc != SL_OK || !yes) {
            *skip = rc == SL_OK;
            return rc ? rc
                      : say(x, SL_OK, "skipped: %s.%s does not exist", ds, tb);
        }
    }
    switch (a->kind) {
    case SL_ACT_QUERY:
        return act_query(x, a);
    case SL_ACT_COPY:
        return act_copy(x, a);
    case SL_ACT_DROP:
        return act_drop(x, a);
    case SL_ACT_DELETE:
        return act_delete(x, a);
    case SL_ACT_MOVE:
        return act_move(x, a);
    case SL_ACT_CALL:
        return act_call(x, a);
    case SL_ACT_NOTIFY:
    case SL_ACT_PUSH:
        return act_webhook(x, a);
    default:
        *skip = true;
        return say(x, SL_OK, "skipped: %s has no local meaning", a->name);
    }
}

static int record(struct ax *x, const char *where, const char *name, int rc)
{
    struct sl_rules_report *rep = x->rep;
    struct sl_rules_action_result *v =
        sl__realloc(rep->items, (rep->n + 1) * sizeof(*v));
    if (v == NULL) {
        return -SL_ENOMEM;
    }
    rep->items = v;
    struct sl_rules_action_result *it = &v[rep->n++];
    memset(it, 0, sizeof(*it));
    snprintf(it->where, sizeof(it->where), "%s", where);
    snprintf(it->action, sizeof(it->action), "%s", name);
    snprintf(it->msg, sizeof(it->msg), "%s", x->msg);
    it->rc = rc;
    if (rc != SL_OK) {
        rep->n_failed++;
        if (x->first.code == 0) {
            SL_ERR(&x->first, rc, "%s %s: %s", where, name, x->msg);
        }
    }
    return SL_OK;
}

static int run_list(struct ax *x, const struct sl_rule_action *a, size_t n,
                    const char *where) /* where: at most 127 bytes */
{
    for (size_t i = 0; i < n; i++) {
        char at[96];
        if (snprintf(at, sizeof(at), "%s[%zu]", where, i) >= (int)sizeof(at)) {
            snprintf(at, sizeof(at), "(nested too deeply)");
        }
        bool skip = false;
        x->msg[0] = '\0';
        int rc = last_vars(x);
        rc = rc ? rc : run_one(x, &a[i], &skip);
        if (rc == -SL_ENOMEM || record(x, at, a[i].name, rc) != SL_OK) {
            return -SL_ENOMEM;
        }
        char sub[128], failed[sizeof(x->msg)];
        snprintf(sub, sizeof(sub), "%s.%s", at,
                 rc == SL_OK ? "OnSuccess" : "OnFailure");
        const char *outer = x->error;
        if (rc != SL_OK) { /* $Error for its OnFailure: this failure */
            memcpy(failed, x->msg, sizeof(failed));
            x->error = failed;
        }
        int crc = skip ? SL_OK
                  : rc == SL_OK
                      ? run_list(x, a[i].on_success, a[i].n_on_success, sub)
                      : run_list(x, a[i].on_failure, a[i].n_on_failure, sub);
        x->error = outer;
        if (crc == -SL_ENOMEM) {
            return crc;
        }
        if (rc != SL_OK) {
            return rc; /* a failure ends its list */
        }
    }
    return SL_OK;
}

void sl_rules_report_release(struct sl_rules_report *r)
{
    if (r != NULL) {
        sl__free(r->items);
        memset(r, 0, sizeof(*r));
    }
}

int sl_rules_run_actions(const struct sl_rules_dest *d, bool success,
                         const struct sl_rules_actx *cx,
                         struct sl_rules_report *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    struct ax x = {.cx = cx, .d = d, .r = d->rule, .rep = out};
    sl__buf_init(&x.vars);
    sl__buf_init(&x.response);
    int rc = base_vars(&x);
    if (rc == SL_OK) {
        const struct sl_rule *r = d->rule;
        rc = success
                 ? run_list(&x, r->on_success, r->n_on_success, "OnSuccess")
                 : run_list(&x, r->on_failure, r->n_on_failure, "OnFailure");
    }
    sl__buf_release(&x.vars);
    sl__buf_release(&x.response);
    json_decref(x.data);
    if (rc == -SL_ENOMEM) {
        return SL_ERR(err, rc, "out of memory running %s's actions",
                      d->rule->name);
    }
    if (x.first.code != 0) {
        *err = x.first;
        return x.first.code;
    }
    return SL_OK;
}

/* ---- describing
 * ------------------------------------------------------------------ */

static int describe(const struct sl_rule_action *a, size_t n, const char *where,
                    struct sl_buf *out)
{
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        char at[128];
        sl__rules_pathf(at, sizeof(at), "%s[%zu]", where, i);
        const struct sl_rule_action *x = &a[i];
        const char *what =
            x->kind == SL_ACT_QUERY || x->kind == SL_ACT_COPY ? x->dest
            : x->kind == SL_ACT_DROP                          ? x->table
            : x->kind == SL_ACT_MOVE                          ? x->dest_url
            : x->kind == SL_ACT_CALL                          ? x->url
            : x->kind == SL_ACT_SKIP ? "skipped: no local meaning"
                                     : NULL;
        rc = sl__buf_printf(
            out, "%s %s%s%s%s%s%s\n", at, x->name, what ? " -> " : "",
            what ? what : "", x->append ? " (append)" : "",
            x->exists ? " when this exists: " : "", x->exists ? x->exists : "");
        char sub[160];
        sl__rules_pathf(sub, sizeof(sub), "%s.OnSuccess", at);
        rc = rc ? rc : describe(x->on_success, x->n_on_success, sub, out);
        sl__rules_pathf(sub, sizeof(sub), "%s.OnFailure", at);
        rc = rc ? rc : describe(x->on_failure, x->n_on_failure, sub, out);
    }
    return rc;
}

int sl_rules_describe_actions(const struct sl_rule *r, struct sl_buf *out)
{
    int rc = describe(r->on_success, r->n_on_success, "OnSuccess", out);
    return rc ? rc : describe(r->on_failure, r->n_on_failure, "OnFailure", out);
}
