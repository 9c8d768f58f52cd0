/* duckdb_alter.c - the DDL of one table's plan on DuckDB: CREATE TABLE,
 * RENAME/DROP/ADD COLUMN down to struct members ("r"."element"."x"), one
 * ALTER ... SET DATA TYPE ... USING per column whose storage changes (the
 * conversion built from the old and new field trees), NOT NULL, the table
 * comment. Run inside schema_apply's transaction (duckdb_evolve.c).
 * warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "schema/plan.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/evolve.h"
#include "warehouse/warehouse_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int ax(struct ddl *a, const char *sql)
{
    return sl__duckdb_ddl_exec(a, sql);
}

static int oom(struct ddl *a)
{
    return sl__duckdb_nomem(a->err);
}

/* ---- statements ---------------------------------------------------------- */

/* The want-side field standing for have-side field h (renames followed). */
static const struct sl_field *want_of(const struct sl_plan *p,
                                      const struct sl_field *h)
{
    const struct sl_field *wp =
        h->parent == NULL ? &p->want->root : want_of(p, h->parent);
    const struct sl_field *f =
        wp != NULL ? sl_field_find(wp, h->name, h->name_len) : NULL;
    for (size_t i = 0; f == NULL && i < p->n_changes; i++) {
        if (p->changes[i].kind == SL_CH_RENAME && p->changes[i].from == h) {
            f = p->changes[i].to;
        }
    }
    return f;
}

/* The have-side field that w comes from, NULL for a new field. */
static const struct sl_field *have_of(const struct sl_plan *p,
                                      const struct sl_field *w)
{
    const struct sl_field *hp =
        w->parent == NULL ? &p->have->root : have_of(p, w->parent);
    const struct sl_field *f =
        hp != NULL ? sl_field_find(hp, w->name, w->name_len) : NULL;
    for (size_t i = 0; f == NULL && i < p->n_changes; i++) {
        if (p->changes[i].kind == SL_CH_RENAME && p->changes[i].to == w) {
            f = p->changes[i].from;
        }
    }
    return f;
}

/* "a"."element"."b": the DuckDB path of a struct member, as ALTER TABLE
 * names it; ancestors by their current (want-side) names, f by `last`. */
static int member_path(struct sl_buf *b, const struct sl_plan *p,
                       const struct sl_field *f, bool want_side,
                       const char *last)
{
    const struct sl_field *chain[32];
    size_t n = 0;
    for (const struct sl_field *x = f->parent; x != NULL && n < 32;
         x = x->parent) {
        chain[n++] = x;
    }
    int rc = SL_OK;
    while (rc == SL_OK && n-- > 0) {
        const struct sl_field *anc = chain[n];
        const struct sl_field *cur = want_side ? anc : want_of(p, anc);
        rc = sl__sql_quote_ident(b, cur != NULL ? cur->name : anc->name);
        if (rc == SL_OK && anc->mode == SL_M_REPEATED) {
            rc = sl__buf_append(b, ".\"element\"", 10);
        }
        rc = rc == SL_OK ? sl__buf_putc(b, '.') : rc;
    }
    return rc == SL_OK ? sl__sql_quote_ident(b, last) : rc;
}

/* Start a statement "ALTER TABLE "ds"."t" " in a->sql. */
static int alter(struct ddl *a, const struct sl_table *t)
{
    sl__buf_reset(&a->sql);
    int rc = sl__buf_append(&a->sql, "ALTER TABLE ", 12);
    rc = rc == SL_OK ? sl__duckdb_qualified(a->wh, &a->sql, t->dataset, t->name) : rc;
    return rc == SL_OK ? sl__buf_putc(&a->sql, ' ') : rc;
}

/* Append the DuckDB type of field f. */
static int field_type(struct ddl *a, struct sl_buf *b, const struct sl_field *f)
{
    struct col c;
    int rc = sl__duckdb_plan_field(f, a->wh->has_json, &c, a->err);
    if (rc != SL_OK) {
        return rc;
    }
    rc = sl__duckdb_sql_type(b, &c) != SL_OK ? oom(a) : SL_OK;
    sl__duckdb_col_release(&c);
    return rc;
}

static int comment_table(struct ddl *a, const struct sl_table *t)
{
    struct sl_buf note;
    sl__buf_init(&note);
    sl__buf_reset(&a->sql);
    bool fail = sl__duckdb_table_comment(&note, t) != SL_OK ||
                sl__buf_append(&a->sql, "COMMENT ON TABLE ", 17) != SL_OK ||
                sl__duckdb_qualified(a->wh, &a->sql, t->dataset, t->name) != SL_OK ||
                sl__buf_append(&a->sql, " IS ", 4) != SL_OK ||
                (note.len > 0 ? sl__sql_quote_literal(&a->sql, note.data)
                              : sl__buf_append(&a->sql, "NULL", 4)) != SL_OK;
    sl__buf_release(&note);
    return fail ? oom(a) : ax(a, NULL);
}

/* ---- create ----------------------------------------------------------------
 */

int sl__duckdb_ddl_create(struct ddl *a, const struct sl_table *t)
{
    bool known = false;
    for (size_t i = 0; i < a->n_schemas && !known; i++) {
        known = strcasecmp(a->schemas[i], t->dataset) == 0;
    }
    int rc = SL_OK;
    if (!known) {
        char **g = sl__realloc(a->schemas, (a->n_schemas + 1) * sizeof(*g));
        if (g == NULL || (g[a->n_schemas] = sl__strdup(t->dataset)) == NULL) {
            a->schemas = g != NULL ? g : a->schemas;
            return oom(a);
        }
        a->schemas = g;
        a->n_schemas++;
        sl__buf_reset(&a->sql);
        const char *cat = a->wh->catalog;
        if (sl__buf_append(&a->sql, "CREATE SCHEMA IF NOT EXISTS ", 28) !=
                SL_OK ||
            (cat != NULL && (sl__sql_quote_ident(&a->sql, cat) != SL_OK ||
                             sl__buf_putc(&a->sql, '.') != SL_OK)) ||
            sl__sql_quote_ident(&a->sql, t->dataset) != SL_OK) {
            return oom(a);
        }
        if ((rc = ax(a, NULL)) != SL_OK) {
            return rc;
        }
    }
    struct col *cols = NULL;
    if ((rc = sl__duckdb_plan_table(t, a->wh->has_json, &cols, a->err)) !=
        SL_OK) {
        return rc;
    }
    sl__buf_reset(&a->sql);
    rc = sl__duckdb_create_sql(a->wh, &a->sql, t, cols, true) != SL_OK ? oom(a)
                                                                : ax(a, NULL);
    sl__duckdb_cols_free(cols, t->root.n_fields);
    if (rc == SL_OK &&
        (t->description != NULL || t->part_kind != 0 || t->n_cluster > 0)) {
        rc = comment_table(a, t);
    }
    return rc;
}

/* ---- conversion expressions ---------------------------------------------- */

static int conv(struct ddl *a, struct sl_buf *b, const char *ref,
                const struct sl_plan *p, const struct sl_field *cur,
                const struct sl_field *w, int depth);

/* The same type in DuckDB (a maxLength change, for one, is not)? */
static int same_storage(struct ddl *a, const struct sl_field *x,
                        const struct sl_field *y, bool *out)
{
    struct sl_buf bx, by;
    sl__buf_init(&bx);
    sl__buf_init(&by);
    int rc = field_type(a, &bx, x);
    rc = rc == SL_OK ? field_type(a, &by, y) : rc;
    *out = rc == SL_OK && strcmp(bx.data, by.data) == 0;
    sl__buf_release(&bx);
    sl__buf_release(&by);
    return rc;
}

/* One value (not a list) of field cur converted to field w's element. */
static int conv_elem(struct ddl *a, struct sl_buf *b, const char *ref,
                     const struct sl_plan *p, const struct sl_field *cur,
                     const struct sl_field *w, int depth)
{
    int rc = SL_OK;
    if (w->type == SL_T_RECORD) {
        rc = sl__buf_printf(b,
                            "CASE WHEN %s IS NULL THEN NULL ELSE "
                            "struct_pack(",
                            ref);
        for (size_t i = 0; rc == SL_OK && i < w->n_fields; i++) {
            const struct sl_field *m = &w->fields[i];
            struct sl_buf mref;
            sl__buf_init(&mref);
            rc = sl__buf_printf(&mref, "struct_extract(%s, ", ref);
            rc = rc == SL_OK ? sl__sql_quote_literal(&mref, m->name) : rc;
            rc = rc == SL_OK ? sl__buf_putc(&mref, ')') : rc;
            rc = rc == SL_OK ? sl__buf_printf(b, "%s", i > 0 ? ", " : "") : rc;
            rc = rc == SL_OK ? sl__sql_quote_ident(b, m->name) : rc;
            rc = rc == SL_OK ? sl__buf_append(b, " := ", 4) : rc;
            if (rc == SL_OK) {
                rc = conv(a, b, mref.data, p, have_of(p, m), m, depth + 1);
            }
            sl__buf_release(&mref);
        }
        return rc == SL_OK ? sl__buf_append(b, ") END", 5) : rc;
    }
    struct sl_field we = *w;
    we.mode = SL_M_NULLABLE;
    if (w->type == SL_T_BIGNUMERIC &&
        (cur->type == SL_T_NUMERIC || cur->type == SL_T_BIGNUMERIC)) {
        /* DECIMAL text keeps trailing zeros; BIGNUMERIC text has none */
        return sl__buf_printf(
            b,
            "(CASE WHEN strpos(CAST(%s AS VARCHAR), '.') > 0 THEN "
            "rtrim(rtrim(CAST(%s AS VARCHAR), '0'), '.') ELSE CAST(%s AS "
            "VARCHAR) END)",
            ref, ref, ref);
    }
    rc = sl__buf_printf(b, "CAST(%s AS ", ref);
    rc = rc == SL_OK ? field_type(a, b, &we) : rc;
    return rc == SL_OK ? sl__buf_putc(b, ')') : rc;
}

/* Field cur's value at ref converted to field w: unchanged when stored
 * alike; lists element by element; a value into a one-element list. */
static int conv(struct ddl *a, struct sl_buf *b, const char *ref,
                const struct sl_plan *p, const struct sl_field *cur,
                const struct sl_field *w, int depth)
{
    bool same = false;
    int rc = cur != NULL ? same_storage(a, cur, w, &same) : SL_OK;
    if (rc != SL_OK) {
        return rc;
    }
    if (cur == NULL || same) {
        return sl__buf_printf(b, "%s", ref); /* new members are added typed */
    }
    if (w->mode == SL_M_REPEATED && cur->mode == SL_M_REPEATED) {
        char var[16];
        snprintf(var, sizeof(var), "x%d", depth);
        rc = sl__buf_printf(b, "list_transform(%s, lambda %s: ", ref, var);
        rc = rc == SL_OK ? conv_elem(a, b, var, p, cur, w, depth) : rc;
        return rc == SL_OK ? sl__buf_putc(b, ')') : rc;
    }
    if (w->mode == SL_M_REPEATED) {
        rc = sl__buf_printf(b, "CASE WHEN %s IS NULL THEN [] ELSE [", ref);
        rc = rc == SL_OK ? conv_elem(a, b, ref, p, cur, w, depth) : rc;
        return rc == SL_OK ? sl__buf_append(b, "] END", 5) : rc;
    }
    return conv_elem(a, b, ref, p, cur, w, depth);
}

/* ---- changes
 * ----------------------------------------------------------------- */

static size_t depth_of(const struct sl_field *f)
{
    size_t d = 0;
    for (; f != NULL; f = f->parent) {
        d++;
    }
    return d;
}

/* ALTER TABLE t RENAME COLUMN <path of field f, named `from`> TO `to`. */
static int rename_one(struct ddl *a, const struct sl_plan *p,
                      const struct sl_field *f, const char *from,
                      const char *to)
{
    int rc = alter(a, p->want);
    rc = rc == SL_OK ? sl__buf_append(&a->sql, "RENAME COLUMN ", 14) : rc;
    rc = rc == SL_OK ? member_path(&a->sql, p, f, false, from) : rc;
    rc = rc == SL_OK ? sl__buf_append(&a->sql, " TO ", 4) : rc;
    rc = rc == SL_OK ? sl__sql_quote_ident(&a->sql, to) : rc;
    return rc != SL_OK ? oom(a) : ax(a, NULL);
}

/* Renames, shallow first (a member's path names its renamed parents). A
 * struct member whose name changes only in case goes through a temporary
 * name: DuckDB refuses "day" -> "Day" as a clash with itself. */
static int renames(struct ddl *a, const struct sl_plan *p)
{
    static const char tmp[] = "_sluice_rename_tmp";
    int rc = SL_OK;
    for (size_t d = 1; rc == SL_OK && d <= 16; d++) {
        for (size_t i = 0; rc == SL_OK && i < p->n_changes; i++) {
            const struct sl_change *c = &p->changes[i];
            if ((c->kind != SL_CH_RENAME && c->kind != SL_CH_RENAME_CASE) ||
                depth_of(c->from) != d) {
                continue;
            }
            if (c->kind == SL_CH_RENAME_CASE && c->from->parent != NULL) {
                rc = rename_one(a, p, c->from, c->from->name, tmp);
                rc = rc == SL_OK ? rename_one(a, p, c->from, tmp, c->to->name)
                                 : rc;
            } else {
                rc = rename_one(a, p, c->from, c->from->name, c->to->name);
            }
        }
    }
    return rc;
}

static int drop_or_add(struct ddl *a, const struct sl_plan *p,
                       const struct sl_change *c)
{
    int rc = alter(a, p->want);
    if (c->kind == SL_CH_DROP) {
        rc = rc == SL_OK ? sl__buf_append(&a->sql, "DROP COLUMN ", 12) : rc;
        rc = rc == SL_OK
                 ? member_path(&a->sql, p, c->from, false, c->from->name)
                 : rc;
        return rc != SL_OK ? oom(a) : ax(a, NULL);
    }
    rc = rc == SL_OK ? sl__buf_append(&a->sql, "ADD COLUMN ", 11) : rc;
    rc = rc == SL_OK ? member_path(&a->sql, p, c->to, true, c->to->name) : rc;
    rc = rc == SL_OK ? sl__buf_putc(&a->sql, ' ') : rc;
    if (rc != SL_OK) {
        return oom(a);
    }
    if ((rc = field_type(a, &a->sql, c->to)) != SL_OK ||
        (rc = ax(a, NULL)) != SL_OK) {
        return rc;
    }
    if (c->to->parent == NULL && c->to->mode == SL_M_REQUIRED) {
        /* --allow-unsafe: holds only while the table is empty */
        if (alter(a, p->want) != SL_OK ||
            sl__buf_append(&a->sql, "ALTER COLUMN ", 13) != SL_OK ||
            sl__sql_quote_ident(&a->sql, c->to->name) != SL_OK ||
            sl__buf_append(&a->sql, " SET NOT NULL", 13) != SL_OK) {
            return oom(a);
        }
        rc = ax(a, NULL);
    }
    return rc;
}

/* Top-level column w gets its new type when a change below it alters how
 * it is stored: one ALTER ... SET DATA TYPE ... USING for the whole column. */
static int retype(struct ddl *a, const struct sl_plan *p,
                  const struct sl_field *w)
{
    const struct sl_field *cur = have_of(p, w);
    bool same = true;
    int rc = cur != NULL ? same_storage(a, cur, w, &same) : SL_OK;
    if (rc != SL_OK || cur == NULL || same) {
        return rc;
    }
    struct sl_buf ref;
    sl__buf_init(&ref);
    if (sl__sql_quote_ident(&ref, w->name) != SL_OK ||
        alter(a, p->want) != SL_OK ||
        sl__buf_append(&a->sql, "ALTER COLUMN ", 13) != SL_OK ||
        sl__buf_append(&a->sql, ref.data, ref.len) != SL_OK ||
        sl__buf_append(&a->sql, " SET DATA TYPE ", 15) != SL_OK) {
        sl__buf_release(&ref);
        return oom(a);
    }
    rc = field_type(a, &a->sql, w);
    if (rc == SL_OK && sl__buf_append(&a->sql, " USING ", 7) != SL_OK) {
        rc = oom(a);
    }
    rc = rc == SL_OK ? conv(a, &a->sql, ref.data, p, cur, w, 1) : rc;
    sl__buf_release(&ref);
    return rc == SL_OK ? ax(a, NULL) : rc;
}

static int null_rule(struct ddl *a, const struct sl_plan *p,
                     const struct sl_change *c)
{
    if (c->to->parent != NULL) {
        return SL_OK; /* DuckDB has no NOT NULL on members: record only */
    }
    if (alter(a, p->want) != SL_OK ||
        sl__buf_append(&a->sql, "ALTER COLUMN ", 13) != SL_OK ||
        sl__sql_quote_ident(&a->sql, c->to->name) != SL_OK ||
        sl__buf_printf(&a->sql, " %s NOT NULL",
                       c->kind == SL_CH_RELAX ? "DROP" : "SET") != SL_OK) {
        return oom(a);
    }
    return ax(a, NULL);
}

/* Top-level column i of want is touched by a change of one of these kinds. */
static bool touched(const struct sl_plan *p, const struct sl_field *col)
{
    for (size_t i = 0; i < p->n_changes; i++) {
        const struct sl_change *c = &p->changes[i];
        const struct sl_field *f = c->to;
        if (c->kind != SL_CH_WIDEN && c->kind != SL_CH_TYPE &&
            c->kind != SL_CH_REPEATED) {
            continue;
        }
        while (f != NULL && f->parent != NULL) {
            f = f->parent;
        }
        if (f == col) {
            return true;
        }
    }
    return false;
}

/* Take one existing table from p->have to p->want. */
int sl__duckdb_ddl_change(struct ddl *a, const struct sl_plan *p)
{
    int rc = renames(a, p);
    bool note = false;
    for (size_t i = 0; rc == SL_OK && i < p->n_changes; i++) {
        const struct sl_change *c = &p->changes[i];
        if (c->kind == SL_CH_DROP || c->kind == SL_CH_ADD ||
            c->kind == SL_CH_ADD_REQUIRED) {
            rc = drop_or_add(a, p, c);
        }
        note = note || (c->path[0] == '\0' && (c->kind == SL_CH_DESCRIPTION ||
                                               c->kind == SL_CH_PARTITIONING ||
                                               c->kind == SL_CH_CLUSTERING));
    }
    for (size_t i = 0; rc == SL_OK && i < p->want->root.n_fields; i++) {
        const struct sl_field *w = &p->want->root.fields[i];
        if (touched(p, w)) {
            rc = retype(a, p, w);
        }
    }
    for (size_t i = 0; rc == SL_OK && i < p->n_changes; i++) {
        const struct sl_change *c = &p->changes[i];
        if (c->kind == SL_CH_RELAX || c->kind == SL_CH_REQUIRE) {
            rc = null_rule(a, p, c); /* field descriptions: recorded only */
        }
    }
    return rc == SL_OK && note ? comment_table(a, p->want) : rc;
}
