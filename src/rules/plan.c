/* plan.c - a batch's tables and SQL (docs/RULES.md "The SQL"): the transient
 * table named by the batch, the destination (or each Split target) made
 * from its definition or template, and per target one INSERT ... SELECT
 * with the Transform expressions, SideInputs joins, Criteria, in-batch
 * dedupe (ROW_NUMBER over UniqueColumns) and, with Against: destination,
 * NOT EXISTS against the target; with Override a DELETE of the partition
 * (or the table) first. Every name goes through the warehouse's quoting;
 * user SQL (Transform, Criteria, On, When) is the rule author's, with
 * variables escaped for where they land. rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "rules/rules_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TEMP_DATASET "sluice_temp" /* Transient without a Dataset */

struct pctx {
    const struct sl_rules *rs;
    const struct sl_rules_batch *b;
    const struct sl_rules_dest *d;
    const struct sl_rule *r;
    const struct sl_wh_ops *ops;
    const struct sl_wh *wh;
    struct sl_rules_plan *p;
    struct sl_buf vars; /* the file's and the batch's, packed */
    struct sl_buf sql;  /* the statement being written */
    struct sl_error *err;
    bool oom;
};

static int fail(struct pctx *x, const char *field, const char *fmt, ...)
    SL_PRINTF(3, 4);
static int fail(struct pctx *x, const char *field, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int rc = SL_ERR(x->err, -SL_ESCHEMA, "rule %s (%s): %s: %s", x->r->name,
                    x->r->file, field, msg);
    snprintf(x->err->column, sizeof(x->err->column), "%s", field);
    return rc;
}

static int oom(struct pctx *x)
{
    return SL_ERR(x->err, -SL_ENOMEM, "out of memory planning a batch of %s",
                  x->d->table);
}

/* ---- writing
 * ----------------------------------------------------------------- */

static void put(struct pctx *x, const char *s)
{
    x->oom |= sl__buf_append(&x->sql, s, strlen(s)) != SL_OK;
}

static void ident(struct pctx *x, const char *name)
{
    x->oom |= sl_wh_quote_ident(x->ops, &x->sql, name) != SL_OK;
}

static void table(struct pctx *x, const struct sl_table *t)
{
    x->oom |=
        sl_wh_table_ref(x->ops, x->wh, &x->sql, t->dataset, t->name) != SL_OK;
}

static void literal(struct pctx *x, const char *s)
{
    x->oom |= sl_wh_quote_literal(x->ops, &x->sql, s) != SL_OK;
}

/* User SQL with the batch's variables; -1 after fail(). */
static int user_sql(struct pctx *x, const char *tmpl, const char *field)
{
    static const char *const sql_names[] = {"DestTable", "TempTable"};
    struct sl_vars vs = {x->vars.data, x->vars.len,
                         sql_names,    SL_ARRAY_LEN(sql_names),
                         x->d->path,   NULL};
    char why[300];
    int rc = sl__rules_expand(&vs, tmpl, SL_VX_SQL, &x->sql, why, sizeof(why));
    if (rc == -SL_EINVAL) {
        return fail(x, field, "%s", why);
    }
    return rc == SL_OK ? SL_OK : oom(x);
}

/* The statement written so far becomes a step. */
static int step(struct pctx *x)
{
    struct sl_rules_plan *p = x->p;
    char **s = sl__realloc(p->steps, (p->n_steps + 1) * sizeof(*s));
    if (x->oom || s == NULL || x->sql.data == NULL) {
        if (s != NULL) {
            p->steps = s;
        }
        return oom(x);
    }
    p->steps = s;
    p->steps[p->n_steps++] = x->sql.data;
    sl__buf_init(&x->sql);
    return SL_OK;
}

/* ---- tables
 * ------------------------------------------------------------------- */

static int add_ensure(struct pctx *x, struct sl_table *t)
{
    struct sl_rules_plan *p = x->p;
    struct sl_table **v =
        sl__realloc(p->ensure, (p->n_ensure + 1) * sizeof(*v));
    if (v == NULL) {
        sl_table_view_destroy(t);
        return oom(x);
    }
    p->ensure = v;
    p->ensure[p->n_ensure++] = t;
    return SL_OK;
}

/* A view of def named ref ("dataset.table"), owned by the plan. */
static int view(struct pctx *x, const struct sl_table *def, const char *ref,
                struct sl_table **out)
{
    const char *dot = strchr(ref, '.');
    char ds[1100];
    snprintf(ds, sizeof(ds), "%.*s", (int)(dot - ref), ref);
    if (sl_table_view(def, ds, dot + 1, out) != SL_OK) {
        return oom(x);
    }
    return add_ensure(x, *out);
}

/* A Split target: Then expanded with the file's variables. */
static int split_target(struct pctx *x, size_t i, struct sl_table **out)
{
    char field[80], why[300], ds[1100], tb[1100], name[2300];
    snprintf(field, sizeof(field), "Dest.Schema.Split.Mapping[%zu].Then", i);
    struct sl_vars vs = {x->d->vars, x->d->vars_size, NULL,
                         0,          x->d->path,      NULL};
    struct sl_buf b;
    sl__buf_init(&b);
    int rc = sl__rules_expand(&vs, x->r->split[i].value, SL_VX_NAME, &b, why,
                              sizeof(why));
    bool ok = rc == SL_OK && sl__rules_table_ref(b.data, ds, sizeof(ds), tb,
                                                 sizeof(tb), why, sizeof(why));
    sl__buf_release(&b);
    if (rc == -SL_ENOMEM) {
        return oom(x);
    }
    if (!ok) {
        return fail(x, field, "%s", why);
    }
    snprintf(name, sizeof(name), "%s.%s", ds, tb);
    const struct sl_table *def = sl_registry_find(x->rs->reg, name);
    if (def == NULL && x->r->schema_template != NULL &&
        sl__rules_table_ref(x->r->schema_template, ds, sizeof(ds), tb,
                            sizeof(tb), why, sizeof(why))) {
        char tname[2300];
        snprintf(tname, sizeof(tname), "%s.%s", ds, tb);
        def = sl_registry_find(x->rs->reg, tname);
    }
    if (def == NULL) {
        return fail(x, field,
                    "%s is not in the registry and the rule has no "
                    "Schema.Template",
                    name);
    }
    return view(x, def, name, out);
}

/* ---- the INSERT ... SELECT
 * ---------------------------------------------------- */

static const struct sl_rule_kv *transform_of(const struct sl_rule *r,
                                             const char *col)
{
    for (size_t i = 0; i < r->n_transform; i++) {
        if (strcasecmp(r->transform[i].key, col) == 0) {
            return &r->transform[i];
        }
    }
    return NULL;
}

static const struct sl_field *field_of(const struct sl_table *t,
                                       const char *name)
{
    return sl_field_find(&t->root, name, strlen(name));
}

/* The value of column f of the target: its Transform, or the transient
 * column of its name; false when neither (the column is left out). */
static int column_value(struct pctx *x, const struct sl_field *f,
                        const struct sl_table *src, bool *out_has)
{
    const struct sl_rule_kv *tr = transform_of(x->r, f->name);
    const struct sl_field *s = field_of(src, f->name);
    *out_has = tr != NULL || s != NULL;
    if (tr != NULL) {
        char field[200];
        snprintf(field, sizeof(field), "Dest.Transform.%s", tr->key);
        put(x, "(");
        int rc = user_sql(x, tr->value, field);
        put(x, ")");
        return rc;
    }
    if (s != NULL) {
        ident(x, x->r->alias);
        put(x, ".");
        ident(x, s->name);
    }
    return SL_OK;
}

/* The transient table, deduplicated on UniqueColumns when there are. */
static int source(struct pctx *x, const struct sl_table *src)
{
    const struct sl_rule *r = x->r;
    if (r->n_unique == 0) {
        table(x, src);
        return SL_OK;
    }
    put(x, "(SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ");
    for (size_t i = 0; i < r->n_unique; i++) {
        const struct sl_field *f = field_of(src, r->unique[i]);
        if (f == NULL) {
            return fail(x, "Dest.UniqueColumns", "%s.%s has no column %s",
                        src->dataset, src->name, r->unique[i]);
        }
        put(x, i > 0 ? ", " : "");
        ident(x, f->name);
    }
    put(x, " ORDER BY ");
    if (r->unique_order != NULL) {
        int rc = user_sql(x, r->unique_order, "Dest.UniqueColumns.OrderBy");
        if (rc != SL_OK) {
            return rc;
        }
    } else { /* every plain column: the same rows keep the same survivor */
        size_t n = 0;
        for (size_t i = 0; i < src->root.n_fields; i++) {
            const struct sl_field *f = &src->root.fields[i];
            if (f->type != SL_T_RECORD && f->mode != SL_M_REPEATED) {
                put(x, n++ > 0 ? ", " : "");
                ident(x, f->name);
            }
        }
        if (n == 0) {
            put(x, "1");
        }
    }
    put(x, ") AS ");
    ident(x, "_sluice_rn");
    put(x, " FROM ");
    table(x, src);
    put(x, ") AS ");
    ident(x, "_sluice_q");
    put(x, " WHERE ");
    ident(x, "_sluice_rn");
    put(x, " = 1)");
    return SL_OK;
}

static int joins(struct pctx *x)
{
    for (size_t i = 0; i < x->r->n_sides; i++) {
        const struct sl_rule_side *s = &x->r->sides[i];
        char field[80], why[300], ds[1100], tb[1100];
        snprintf(field, sizeof(field), "Dest.SideInputs[%zu]", i);
        put(x, s->inner ? " INNER JOIN " : " LEFT JOIN ");
        int rc = SL_OK;
        if (s->from != NULL) {
            put(x, "(");
            rc = user_sql(x, s->from, field);
            put(x, ")");
        } else {
            struct sl_buf b;
            sl__buf_init(&b);
            struct sl_vars vs = {x->vars.data, x->vars.len, NULL, 0,
                                 x->d->path,   NULL};
            rc = sl__rules_expand(&vs, s->table, SL_VX_NAME, &b, why,
                                  sizeof(why));
            if (rc == SL_OK &&
                !sl__rules_table_ref(b.data, ds, sizeof(ds), tb, sizeof(tb),
                                     why, sizeof(why))) {
                rc = -SL_EINVAL;
            }
            sl__buf_release(&b);
            if (rc == -SL_EINVAL) {
                return fail(x, field, "%s", why);
            }
            x->oom |= sl_wh_table_ref(x->ops, x->wh, &x->sql, ds, tb) != SL_OK;
        }
        put(x, " AS ");
        ident(x, s->alias);
        put(x, " ON (");
        rc = rc ? rc : user_sql(x, s->on, field);
        put(x, ")");
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* NOT EXISTS: the target holds no row with this key. */
static int not_in_target(struct pctx *x, const struct sl_table *t,
                         const struct sl_table *src)
{
    put(x, "NOT EXISTS (SELECT 1 FROM ");
    table(x, t);
    put(x, " AS ");
    ident(x, "_sluice_d");
    put(x, " WHERE ");
    for (size_t i = 0; i < x->r->n_unique; i++) {
        const struct sl_field *f = field_of(t, x->r->unique[i]);
        if (f == NULL) {
            return fail(x, "Dest.UniqueColumns.Against",
                        "%s.%s has no column %s to compare", t->dataset,
                        t->name, x->r->unique[i]);
        }
        put(x, i > 0 ? " AND " : "");
        ident(x, "_sluice_d");
        put(x, ".");
        ident(x, f->name);
        put(x, " = ");
        bool has;
        int rc = column_value(x, f, src, &has);
        if (rc != SL_OK) {
            return rc;
        }
    }
    put(x, ")");
    return SL_OK;
}

static int where(struct pctx *x, const struct sl_table *t,
                 const struct sl_table *src, const char *when, size_t split_i)
{
    const char *sep = " WHERE ";
    int rc = SL_OK;
    if (x->r->criteria != NULL) {
        put(x, sep);
        put(x, "(");
        rc = user_sql(x, x->r->criteria, "Dest.Transient.Criteria");
        put(x, ")");
        sep = " AND ";
    }
    if (rc == SL_OK && when != NULL) {
        char field[80];
        snprintf(field, sizeof(field), "Dest.Schema.Split.Mapping[%zu].When",
                 split_i);
        put(x, sep);
        put(x, "(");
        rc = user_sql(x, when, field);
        put(x, ")");
        sep = " AND ";
    }
    if (rc == SL_OK && x->r->against_dest) {
        put(x, sep);
        rc = not_in_target(x, t, src);
    }
    return rc;
}

static int insert(struct pctx *x, const struct sl_table *t,
                  const struct sl_table *src, const char *when, size_t split_i)
{
    for (size_t i = 0; i < x->r->n_transform; i++) {
        if (field_of(t, x->r->transform[i].key) == NULL) {
            char field[200];
            snprintf(field, sizeof(field), "Dest.Transform.%s",
                     x->r->transform[i].key);
            return fail(x, field, "%s.%s has no column %s", t->dataset, t->name,
                        x->r->transform[i].key);
        }
    }
    put(x, "INSERT INTO ");
    table(x, t);
    put(x, " (");
    size_t n = 0;
    for (size_t i = 0; i < t->root.n_fields; i++) {
        const struct sl_field *f = &t->root.fields[i];
        if (transform_of(x->r, f->name) != NULL || field_of(src, f->name)) {
            put(x, n++ > 0 ? ", " : "");
            ident(x, f->name);
        }
    }
    put(x, ") SELECT ");
    n = 0;
    for (size_t i = 0; i < t->root.n_fields; i++) {
        const struct sl_field *f = &t->root.fields[i];
        size_t mark = x->sql.len;
        put(x, n > 0 ? ", " : "");
        bool has;
        int rc = column_value(x, f, src, &has);
        if (rc != SL_OK) {
            return rc;
        }
        if (!has) {
            x->sql.len = mark;
            x->sql.data[mark] = '\0';
            continue;
        }
        put(x, " AS ");
        ident(x, f->name);
        n++;
    }
    if (n == 0) {
        return fail(x, "Dest", "%s.%s shares no column with %s.%s", t->dataset,
                    t->name, src->dataset, src->name);
    }
    put(x, " FROM ");
    int rc = source(x, src);
    put(x, " AS ");
    ident(x, x->r->alias);
    rc = rc ? rc : joins(x);
    rc = rc ? rc : where(x, t, src, when, split_i);
    return rc ? rc : step(x);
}

/* ---- Override
 * ------------------------------------------------------------------ */

/* "yyyy[mm[dd[hh]]]" -> the first instant of that partition and of the next,
 * as literals for the column's type. */
static int bounds(const char *v, enum sl_type type, char *lo, char *hi,
                  size_t size)
{
    size_t n = strlen(v);
    int y = 0, mo = 1, d = 1, h = 0;
    sscanf(v, "%4d", &y);
    if (n >= 6) {
        sscanf(v + 4, "%2d", &mo);
    }
    if (n >= 8) {
        sscanf(v + 6, "%2d", &d);
    }
    if (n >= 10) {
        sscanf(v + 8, "%2d", &h);
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        (type == SL_T_DATE && n == 10)) {
        return -1;
    }
    struct tm a = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
    struct tm b = a;
    if (n == 4) {
        b.tm_year++;
    } else if (n == 6) {
        b.tm_mon++;
    } else if (n == 8) {
        b.tm_mday++;
    } else {
        b.tm_hour++;
    }
    time_t ta = timegm(&a), tb = timegm(&b);
    gmtime_r(&ta, &a);
    gmtime_r(&tb, &b);
    if (a.tm_mday != d) {
        return -1; /* 20240231 */
    }
    const struct tm *t[2] = {&a, &b};
    char *out[2] = {lo, hi};
    for (int i = 0; i < 2; i++) {
        if (type == SL_T_DATE) {
            strftime(out[i], size, "%Y-%m-%d", t[i]);
        } else if (type == SL_T_TIMESTAMP) {
            strftime(out[i], size, "%Y-%m-%d %H:%M:%S+00", t[i]);
        } else {
            strftime(out[i], size, "%Y-%m-%d %H:%M:%S", t[i]);
        }
    }
    return 0;
}

static int override(struct pctx *x, const struct sl_table *t)
{
    put(x, "DELETE FROM ");
    table(x, t);
    const char *part = x->d->partition;
    if (part != NULL) {
        const struct sl_field *f = t->part_field;
        char lo[40], hi[40];
        if (t->part_kind != SL_PART_TIME || f == NULL) {
            return fail(x, "Dest.Partition",
                        "%s.%s is not partitioned by a DATE, DATETIME or "
                        "TIMESTAMP column, so partition %s has no rows to "
                        "replace",
                        t->dataset, t->name, part);
        }
        if (bounds(part, f->type, lo, hi, sizeof(lo)) != 0) {
            return fail(x, "Dest.Partition",
                        "%s is no partition of %s.%s (column %s is %s)", part,
                        t->dataset, t->name, f->name, sl_type_name(f->type));
        }
        put(x, " WHERE ");
        ident(x, f->name);
        put(x, " >= ");
        literal(x, lo);
        put(x, " AND ");
        ident(x, f->name);
        put(x, " < ");
        literal(x, hi);
    }
    return step(x);
}

/* ---- the plan
 * ------------------------------------------------------------------ */

static int sql_text(struct pctx *x, const char *ref, char **out)
{
    const char *dot = strchr(ref, '.');
    char ds[1100];
    snprintf(ds, sizeof(ds), "%.*s", (int)(dot - ref), ref);
    struct sl_buf b;
    sl__buf_init(&b);
    if (sl_wh_table_ref(x->ops, x->wh, &b, ds, dot + 1) != SL_OK) {
        sl__buf_release(&b);
        return oom(x);
    }
    *out = b.data;
    return SL_OK;
}

/* The batch's variables after the file's: $BatchID, $LoadURIs, ... */
static int batch_vars(struct pctx *x)
{
    const struct sl_rules_batch *b = x->b;
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
             {"DestTable", x->p->dest_sql},
             {"TempTable", x->p->temp_sql},
             {"Error", b->error != NULL ? b->error : ""}};
    rc = rc ? rc
            : sl__buf_append(&x->vars, x->d->vars != NULL ? x->d->vars : "",
                             x->d->vars_size);
    for (size_t i = 0; rc == SL_OK && i < SL_ARRAY_LEN(v); i++) {
        rc = sl__rules_var_put(&x->vars, v[i].name, v[i].value,
                               strlen(v[i].value));
    }
    sl__buf_release(&urls);
    return rc == SL_OK ? SL_OK : oom(x);
}

/* Transient columns the target lacks: BqTail drops them silently. */
static int dropped_columns(struct pctx *x, const struct sl_table *t,
                           const struct sl_table *src)
{
    for (size_t i = 0; i < src->root.n_fields; i++) {
        const struct sl_field *f = &src->root.fields[i];
        if (field_of(t, f->name) == NULL &&
            sl__buf_printf(&x->p->notes,
                           "column %s of %s.%s is not in %s.%s: not copied\n",
                           f->name, src->dataset, src->name, t->dataset,
                           t->name) != SL_OK) {
            return oom(x);
        }
    }
    return SL_OK;
}

static int targets(struct pctx *x, struct sl_table *dest,
                   const struct sl_table *src)
{
    size_t n = x->r->n_split > 0 ? x->r->n_split : 1;
    for (size_t i = 0; i < n; i++) {
        struct sl_table *t = dest;
        int rc = x->r->n_split > 0 ? split_target(x, i, &t) : SL_OK;
        if (rc == SL_OK && x->r->override) {
            rc = override(x, t);
        }
        rc = rc ? rc
                : insert(x, t, src,
                         x->r->n_split > 0 ? x->r->split[i].key : NULL, i);
        rc = rc ? rc : dropped_columns(x, t, src);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

static int transient(struct pctx *x, struct sl_table *dest)
{
    const struct sl_rules_dest *d = x->d;
    const char *ds = x->r->transient_dataset != NULL ? x->r->transient_dataset
                                                     : TEMP_DATASET;
    char name[1200];
    snprintf(name, sizeof(name), "%s.%s_%.16s", ds, strchr(d->table, '.') + 1,
             x->b->id);
    struct sl_table *tmp = NULL;
    int rc = view(x, d->load_def, name, &tmp);
    if (rc != SL_OK) {
        return rc;
    }
    if (!sl_table_name_ok(tmp->name)) {
        return fail(x, "Dest.Transient", "%s is not a safe table name", name);
    }
    x->p->load_into = tmp;
    rc = sql_text(x, name, &x->p->temp_sql);
    rc = rc ? rc : batch_vars(x);
    rc = rc ? rc : targets(x, dest, tmp);
    if (rc == SL_OK) {
        put(x, "DROP TABLE IF EXISTS ");
        table(x, tmp);
        if (x->oom) {
            return oom(x);
        }
        x->p->cleanup = x->sql.data;
        sl__buf_init(&x->sql);
    }
    return rc;
}

static int plan(struct pctx *x)
{
    const struct sl_rules_dest *d = x->d;
    struct sl_table *dest = NULL; /* NULL with Split: only targets exist */
    int rc = sql_text(x, d->table, &x->p->dest_sql);
    if (rc == SL_OK && x->r->n_split == 0) {
        rc = view(x, d->def, d->table, &dest);
    }
    if (rc == SL_OK && d->transient) {
        rc = transient(x, dest);
    } else if (rc == SL_OK) {
        x->p->load_into = dest;
        rc = (x->p->temp_sql = sl__strdup(x->p->dest_sql)) != NULL ? SL_OK
                                                                   : oom(x);
    }
    if (rc == SL_OK && (x->p->audit_table = sl__strdup(d->table)) == NULL) {
        rc = oom(x);
    }
    return rc;
}

void sl_rules_plan_release(struct sl_rules_plan *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_ensure; i++) {
        sl_table_view_destroy(p->ensure[i]);
    }
    sl__free(p->ensure);
    for (size_t i = 0; i < p->n_steps; i++) {
        sl__free(p->steps[i]);
    }
    sl__free(p->steps);
    sl__free(p->cleanup);
    sl__free(p->audit_table);
    sl__free(p->dest_sql);
    sl__free(p->temp_sql);
    sl__buf_release(&p->notes);
    memset(p, 0, sizeof(*p));
}

int sl_rules_plan(const struct sl_rules *rs, const struct sl_rules_batch *b,
                  const struct sl_wh_ops *ops, const struct sl_wh *wh,
                  struct sl_rules_plan *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    const struct sl_rules_dest *d = b->dest;
    if (rs->reg == NULL || d->def == NULL || d->load_def == NULL) {
        return SL_ERR(err, -SL_EUSAGE, "rules: a plan needs the registry");
    }
    if (b->id == NULL || strlen(b->id) < 16 ||
        strspn(b->id, "0123456789abcdef") != strlen(b->id)) {
        return SL_ERR(err, -SL_EUSAGE,
                      "rules: a batch id is lowercase hex, "
                      "16 digits or more");
    }
    struct pctx x = {.rs = rs,
                     .b = b,
                     .d = d,
                     .r = d->rule,
                     .ops = ops,
                     .wh = wh,
                     .p = out,
                     .err = err};
    sl__buf_init(&x.vars);
    sl__buf_init(&x.sql);
    int rc = plan(&x);
    sl__buf_release(&x.vars);
    sl__buf_release(&x.sql);
    if (rc != SL_OK) {
        sl_rules_plan_release(out);
    }
    return rc;
}
