/* duckdb_schema.c - a DuckDB table as schema evolution sees it: the recorded
 * definition when the catalog agrees with it (else drift, described), or a
 * definition rebuilt from the catalog for a table created before records were
 * kept, taking from the wanted definition what the catalog cannot say. The
 * schema_read op. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "schema/plan.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/evolve.h"
#include "warehouse/warehouse_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- type text for messages ------------------------------------------------
 */

static int ct_text(struct sl_buf *b, const struct ctype *ct)
{
    static const char *const names[] = {
        [CT_BOOL] = "BOOLEAN",        [CT_I64] = "BIGINT",
        [CT_F64] = "DOUBLE",          [CT_STR] = "VARCHAR",
        [CT_JSON] = "JSON",           [CT_BLOB] = "BLOB",
        [CT_DATE] = "DATE",           [CT_TIME] = "TIME",
        [CT_TIMESTAMP] = "TIMESTAMP", [CT_TIMESTAMPTZ] = "TIMESTAMPTZ",
    };
    int rc = SL_OK;
    switch (ct->k) {
    case CT_DEC:
        return sl__buf_printf(b, "DECIMAL(%u,%u)", ct->width, ct->scale);
    case CT_OTHER:
        return sl__buf_printf(b, "%s", ct->text != NULL ? ct->text : "?");
    case CT_LIST:
        rc = ct_text(b, ct->kids);
        return rc == SL_OK ? sl__buf_append(b, "[]", 2) : rc;
    case CT_STRUCT:
        rc = sl__buf_append(b, "STRUCT(", 7);
        for (size_t i = 0; rc == SL_OK && i < ct->n_kids; i++) {
            rc = sl__buf_printf(b, "%s", i > 0 ? ", " : "");
            if (rc == SL_OK) {
                rc = sl__sql_quote_ident(b, ct->kids[i].name);
            }
            if (rc == SL_OK) {
                rc = sl__buf_putc(b, ' ');
            }
            if (rc == SL_OK) {
                rc = ct_text(b, &ct->kids[i]);
            }
        }
        return rc == SL_OK ? sl__buf_putc(b, ')') : rc;
    default:
        return sl__buf_printf(b, "%s", names[ct->k]);
    }
}

/* ---- drift: the catalog against a definition's storage plan ----------------
 */

/* printf into a fresh string (caller frees); NULL on ENOMEM. */
static char *fmt(const char *f, ...) SL_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(tmp, sizeof(tmp), f, ap);
    va_end(ap);
    return sl__strdup(tmp);
}

/* How ct's columns differ from t's plan (cols), or NULL when they agree. *oom
 * is set when the message cannot be made. */
static char *physical_diff(const struct ctab *ct, const struct sl_table *t,
                           const struct col *cols, bool *oom)
{
    size_t n = t->root.n_fields;
    struct sl_buf a, b;
    char *msg = NULL;
    sl__buf_init(&a);
    sl__buf_init(&b);
    for (size_t i = 0; i < n || i < ct->n_cols; i++) {
        const struct ccol *cc = i < ct->n_cols ? &ct->cols[i] : NULL;
        const struct col *pc = i < n ? &cols[i] : NULL;
        if (cc == NULL) {
            msg = fmt("column %.300s is missing", pc->f->name);
        } else if (pc == NULL) {
            msg = fmt("column %.300s was added", cc->name);
        } else if (strcmp(cc->name, pc->f->name) != 0) {
            msg = fmt("column %zu is %.300s, the applied definition has "
                      "%.300s there",
                      i + 1, cc->name, pc->f->name);
        } else if (!sl__duckdb_ctype_matches(&cc->type, pc)) {
            if (ct_text(&a, &cc->type) != SL_OK ||
                sl__duckdb_sql_type(&b, pc) != SL_OK) {
                *oom = true;
                break;
            }
            msg = fmt("column %.300s is %.200s, the applied definition makes "
                      "it %.200s",
                      cc->name, a.data, b.data);
        } else if (cc->nullable != (pc->f->mode != SL_M_REQUIRED)) {
            msg = fmt("column %.300s is %s, the applied definition makes it "
                      "%s",
                      cc->name, cc->nullable ? "nullable" : "NOT NULL",
                      cc->nullable ? "NOT NULL" : "nullable");
        } else {
            continue;
        }
        *oom = msg == NULL;
        break;
    }
    sl__buf_release(&a);
    sl__buf_release(&b);
    return msg;
}

/* ---- a definition rebuilt from the catalog ---------------------------------
 */

struct view {
    struct sl_buf json;
    struct sl_buf why; /* why the table cannot be described, when it cannot */
    bool has_json;
    int rc; /* -SL_ENOMEM, or -SL_ESCHEMA with why set */
};

static void view_fail(struct view *v, const char *path, const struct ctype *ct)
{
    if (v->rc != SL_OK) {
        return;
    }
    v->rc = -SL_ESCHEMA;
    if (sl__buf_printf(&v->why, "column %.300s is DuckDB type ", path) !=
            SL_OK ||
        ct_text(&v->why, ct) != SL_OK ||
        sl__buf_printf(&v->why, ", which no BigQuery type maps to") != SL_OK) {
        v->rc = -SL_ENOMEM;
    }
}

static void view_field(struct view *v, const char *path, const char *name,
                       const struct ctype *ct, int top_null,
                       const char *comment, const struct sl_field *hint);

/* The hint field stands for the column when its storage is exactly ct. */
static bool hint_fits(struct view *v, const struct ctype *ct,
                      const struct sl_field *hint)
{
    struct col c;
    struct sl_error e = {0};
    if (hint == NULL ||
        sl__duckdb_plan_field(hint, v->has_json, &c, &e) != SL_OK) {
        return false;
    }
    bool ok = sl__duckdb_ctype_matches(ct, &c);
    sl__duckdb_col_release(&c);
    return ok;
}

static const char *scalar_type(const struct ctype *ct, int *prec, int *scale)
{
    *prec = *scale = 0;
    switch (ct->k) {
    case CT_BOOL:
        return "BOOLEAN";
    case CT_I64:
        return "INTEGER";
    case CT_F64:
        return "FLOAT";
    case CT_STR:
        return "STRING";
    case CT_JSON:
        return "JSON";
    case CT_BLOB:
        return "BYTES";
    case CT_DATE:
        return "DATE";
    case CT_TIME:
        return "TIME";
    case CT_TIMESTAMP:
        return "DATETIME";
    case CT_TIMESTAMPTZ:
        return "TIMESTAMP";
    case CT_DEC:
        if (ct->width == 38 && ct->scale == 9) {
            return "NUMERIC";
        }
        if (ct->scale <= 9 && ct->width >= 1 && ct->width >= ct->scale &&
            ct->width - ct->scale <= 29) {
            *prec = ct->width;
            *scale = ct->scale;
            return "NUMERIC";
        }
        return NULL;
    default:
        return NULL;
    }
}

/* The column (or member) from its catalog type alone, members taking hints
 * by name. top_null: -1 for a member, else the column's nullability. */
static void view_reverse(struct view *v, const char *path, const char *name,
                         const struct ctype *ct, int top_null, const char *desc,
                         const struct sl_field *hint)
{
    bool rep = ct->k == CT_LIST;
    const struct ctype *e = rep ? ct->kids : ct;
    const char *mode = rep ? "REPEATED" : "NULLABLE";
    if (!rep && (top_null == 0 || (top_null < 0 && hint != NULL &&
                                   hint->mode == SL_M_REQUIRED))) {
        mode = "REQUIRED";
    }
    int prec = 0, scale = 0;
    const char *type =
        e->k == CT_STRUCT ? "RECORD" : scalar_type(e, &prec, &scale);
    if (type == NULL) {
        view_fail(v, path, ct);
        return;
    }
    struct sl_buf *b = &v->json;
    int rc = sl__buf_append(b, "{\"name\":", 8);
    rc = rc == SL_OK ? sl__buf_json_str(b, name, strlen(name)) : rc;
    rc = rc == SL_OK
             ? sl__buf_printf(b, ",\"type\":\"%s\",\"mode\":\"%s\"", type, mode)
             : rc;
    if (rc == SL_OK && desc != NULL) {
        rc = sl__buf_append(b, ",\"description\":", 15);
        rc = rc == SL_OK ? sl__buf_json_str(b, desc, strlen(desc)) : rc;
    }
    if (rc == SL_OK && prec > 0) {
        rc = sl__buf_printf(b, ",\"precision\":%d,\"scale\":%d", prec, scale);
    }
    if (rc == SL_OK && e->k == CT_STRUCT) {
        rc = sl__buf_append(b, ",\"fields\":[", 11);
        for (size_t i = 0; rc == SL_OK && v->rc == SL_OK && i < e->n_kids;
             i++) {
            const struct ctype *m = &e->kids[i];
            const struct sl_field *hm =
                hint != NULL && hint->type == SL_T_RECORD
                    ? sl_field_find(hint, m->name, strlen(m->name))
                    : NULL;
            char sub[700];
            snprintf(sub, sizeof(sub), "%.300s.%.300s", path, m->name);
            rc = i > 0 ? sl__buf_putc(b, ',') : SL_OK;
            view_field(v, sub, m->name, m, -1,
                       hm != NULL ? hm->description : NULL, hm);
        }
        rc = rc == SL_OK ? sl__buf_putc(b, ']') : rc;
    }
    rc = rc == SL_OK ? sl__buf_putc(b, '}') : rc;
    if (rc != SL_OK && v->rc == SL_OK) {
        v->rc = -SL_ENOMEM;
    }
}

static void view_field(struct view *v, const char *path, const char *name,
                       const struct ctype *ct, int top_null,
                       const char *comment, const struct sl_field *hint)
{
    if (v->rc != SL_OK) {
        return;
    }
    if (hint_fits(v, ct, hint)) {
        /* the definition's field, named as the catalog names it; at the
         * top level NOT NULL and the comment are the catalog's */
        struct sl_field f = *hint;
        f.name = (char *)name;
        f.name_len = strlen(name);
        if (top_null >= 0) {
            f.description = (char *)comment;
            if (f.mode != SL_M_REPEATED) {
                f.mode = top_null ? SL_M_NULLABLE : SL_M_REQUIRED;
            }
        }
        if (sl_field_write_json(&f, &v->json) != SL_OK) {
            v->rc = -SL_ENOMEM;
        }
        return;
    }
    view_reverse(v, path, name, ct, top_null, comment, hint);
}

/* The table comment without Sluice's "[sluice: ...]" note. */
static char *strip_note(const char *comment)
{
    const char *note = comment != NULL ? strstr(comment, "[sluice: ") : NULL;
    size_t n = comment == NULL ? 0
               : note != NULL  ? (size_t)(note - comment)
                               : strlen(comment);
    while (n > 0 && comment[n - 1] == ' ') {
        n--;
    }
    return n > 0 ? sl__strndup(comment, n) : NULL;
}

/* Build the definition of ct from the catalog into *out, hints from hint. */
static int view_table(const struct ctab *ct, const struct sl_table *hint,
                      bool has_json, struct sl_table **out, char **out_why)
{
    struct view v = {.has_json = has_json};
    struct sl_buf note;
    sl__buf_init(&v.json);
    sl__buf_init(&v.why);
    sl__buf_init(&note);
    *out = NULL;
    *out_why = NULL;
    int rc = sl__duckdb_table_comment(&note, hint);
    bool same_note = rc == SL_OK &&
                     (note.len == 0 ? ct->comment == NULL
                                    : ct->comment != NULL &&
                                          strcmp(ct->comment, note.data) == 0);
    char *desc = same_note ? NULL : strip_note(ct->comment);
    const char *d = same_note ? hint->description : desc;
    rc = rc == SL_OK ? sl__buf_putc(&v.json, '{') : rc;
    if (rc == SL_OK && d != NULL) {
        rc = sl__buf_append(&v.json, "\"description\":", 14);
        rc = rc == SL_OK ? sl__buf_json_str(&v.json, d, strlen(d)) : rc;
        rc = rc == SL_OK ? sl__buf_putc(&v.json, ',') : rc;
    }
    rc = rc == SL_OK ? sl__buf_append(&v.json, "\"fields\":[", 10) : rc;
    for (size_t i = 0; rc == SL_OK && v.rc == SL_OK && i < ct->n_cols; i++) {
        const struct ccol *c = &ct->cols[i];
        rc = i > 0 ? sl__buf_putc(&v.json, ',') : SL_OK;
        view_field(&v, c->name, c->name, &c->type, c->nullable, c->comment,
                   sl_field_find(&hint->root, c->name, strlen(c->name)));
    }
    rc = rc == SL_OK ? sl__buf_append(&v.json, "]}", 2) : rc;
    rc = rc != SL_OK ? -SL_ENOMEM : v.rc;
    if (rc == SL_OK) {
        struct sl_error e = {0};
        rc = sl_table_parse_ex(v.json.data, v.json.len, hint->file,
                               hint->dataset, hint->name, NULL, NULL, out, &e);
        if (rc == -SL_ESCHEMA &&
            sl__buf_printf(&v.why,
                           "the table cannot be read as a "
                           "definition: %s%s%s",
                           e.column, e.column[0] != '\0' ? ": " : "",
                           e.msg) != SL_OK) {
            rc = -SL_ENOMEM;
        }
    }
    if (rc == SL_OK && same_note) {
        /* DuckDB keeps partitioning and clustering only in the comment */
        rc = sl_table_copy_layout(*out, hint);
    }
    if (rc != SL_OK) {
        sl_table_destroy(*out);
        *out = NULL;
    }
    if (rc == -SL_ESCHEMA && (*out_why = sl__strdup(v.why.data)) == NULL) {
        rc = -SL_ENOMEM;
    }
    sl__free(desc);
    sl__buf_release(&v.json);
    sl__buf_release(&v.why);
    sl__buf_release(&note);
    return rc;
}

/* ---- schema_read ------------------------------------------------------------
 */

/* have := the table rebuilt from the catalog (or foreign := why not). */
static int from_catalog(struct sl_wh *wh, struct catalog *cat,
                        const struct ctab *ct, const struct sl_table *hint,
                        struct sl_wh_table_state *out, struct sl_error *err)
{
    int rc = sl__duckdb_catalog_comments(wh, cat, err);
    if (rc != SL_OK) {
        return rc;
    }
    rc = view_table(ct, hint, wh->has_json, &out->have, &out->foreign);
    if (rc == -SL_ENOMEM) {
        return sl__duckdb_nomem(err);
    }
    return SL_OK; /* -SL_ESCHEMA: foreign says why */
}

/* The recorded definition, parsed; NULL (and SL_OK) when it cannot be read,
 * so that the table is taken from the catalog instead. */
static int recorded_def(struct sl_wh *wh, const struct sl_table *want,
                        struct sl_table **out, struct sl_error *err)
{
    char *json = NULL;
    *out = NULL;
    int rc = sl__duckdb_record_read(wh, want->dataset, want->name, &json, err);
    if (rc == SL_OK && json != NULL) {
        struct sl_error e = {0};
        int prc =
            sl_table_parse_ex(json, strlen(json), want->file, want->dataset,
                              want->name, NULL, NULL, out, &e);
        if (prc == -SL_ENOMEM) {
            rc = sl__duckdb_nomem(err);
        }
    }
    sl__free(json);
    return rc;
}

int sl__duckdb_describe(struct sl_wh *wh, struct catalog *cat,
                        const struct sl_table *want,
                        struct sl_wh_table_state *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    const struct ctab *ct =
        sl__duckdb_catalog_find(cat, want->dataset, want->name);
    if (ct == NULL) {
        return SL_OK;
    }
    out->exists = true;
    out->recorded = ct->recorded;
    struct sl_buf js;
    struct col *cols = NULL;
    struct sl_table *rec = NULL;
    bool oom = false;
    char hash[17];
    const struct sl_table *base = want; /* what the catalog should agree with */
    sl__buf_init(&js);
    int rc = sl_table_write_json(want, &js);
    if (rc != SL_OK) {
        rc = sl__duckdb_nomem(err);
        goto out;
    }
    sl_def_hash(js.data, js.len, hash);
    if (ct->recorded &&
        (ct->rec_hash == NULL || strcmp(ct->rec_hash, hash) != 0)) {
        if ((rc = recorded_def(wh, want, &rec, err)) != SL_OK) {
            goto out;
        }
        out->recorded = rec != NULL;
        base = rec != NULL ? rec : want;
    }
    if (!out->recorded) {
        rc = from_catalog(wh, cat, ct, want, out, err);
        goto out;
    }
    if ((rc = sl__duckdb_plan_table(base, wh->has_json, &cols, err)) != SL_OK) {
        goto out;
    }
    out->drift = physical_diff(ct, base, cols, &oom);
    if (oom) {
        rc = sl__duckdb_nomem(err);
    } else if (out->drift != NULL) {
        rc = from_catalog(wh, cat, ct, base, out, err);
    } else if (base == want) {
        out->same = true;
    } else {
        out->have = rec;
        rec = NULL;
    }
out:
    sl__duckdb_cols_free(cols, cols != NULL ? base->root.n_fields : 0);
    sl_table_destroy(rec);
    sl__buf_release(&js);
    return rc;
}

int sl__duckdb_schema_read(struct sl_wh *wh, const struct sl_table *const *want,
                           size_t n, struct sl_wh_table_state *out,
                           struct sl_error *err)
{
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE, "duckdb: schema_read during a load");
    }
    struct catalog cat;
    int rc = sl__duckdb_catalog_read(wh, NULL, NULL, &cat, err);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = sl__duckdb_describe(wh, &cat, want[i], &out[i], err);
    }
    sl__duckdb_catalog_release(&cat);
    return rc;
}
