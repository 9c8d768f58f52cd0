/* plan.c - the difference between the definition a table has and the one the
 * registry wants: typed changes, each safe (applied by `sluice schema apply`)
 * or unsafe (refused, with the reason and what to do), following what
 * BigQuery allows on a table that holds data (../shared/docs/BIGQUERY.md §4.5;
 * docs/EVOLUTION.md). Backend-neutral: every driver applies the same plan.
 * schema stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "schema/plan.h"
#include "schema/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct pctx {
    struct sl_plan *p;
    struct sl_error *err;
    int rc; /* -SL_ENOMEM once an allocation failed */
};

static const char *const kind_names[] = {
    [SL_CH_CREATE] = "create",
    [SL_CH_ADD] = "add",
    [SL_CH_RELAX] = "relax",
    [SL_CH_WIDEN] = "widen",
    [SL_CH_RENAME_CASE] = "rename_case",
    [SL_CH_DESCRIPTION] = "description",
    [SL_CH_PARTITIONING] = "partitioning",
    [SL_CH_CLUSTERING] = "clustering",
    [SL_CH_OPTION] = "option",
    [SL_CH_DROP] = "drop",
    [SL_CH_RENAME] = "rename",
    [SL_CH_TYPE] = "type",
    [SL_CH_REQUIRE] = "require",
    [SL_CH_REPEATED] = "repeated",
    [SL_CH_ADD_REQUIRED] = "add_required",
    [SL_CH_REORDER] = "reorder",
    [SL_CH_DRIFT] = "drift",
};

const char *sl_change_kind_name(enum sl_change_kind k)
{
    return (size_t)k < SL_ARRAY_LEN(kind_names) ? kind_names[k] : "?";
}

/* Why each unsafe kind is refused, and what the user can do. */
static const struct {
    const char *reason;
    const char *advice;
} unsafe_text[] = {
    [SL_CH_DROP] = {"dropping a column loses its values, and BigQuery never "
                    "drops one on load",
                    "keep the field in the definition (a NULLABLE column may "
                    "stay empty), or run `sluice schema apply --allow-unsafe` "
                    "to drop it with its values"},
    [SL_CH_RENAME] = {"to a load a rename is a dropped column and a new one",
                      "keep the old name in the definition, or run `sluice "
                      "schema apply --allow-unsafe` to rename the column in "
                      "place (values kept)"},
    [SL_CH_TYPE] = {"only widenings (INTEGER to NUMERIC to BIGNUMERIC, to "
                    "FLOAT; more precision or length) keep every value",
                    "add a column of the new type and copy the values with "
                    "SQL, or run `sluice schema apply --allow-unsafe` to "
                    "convert in place (if one value does not convert, nothing "
                    "changes)"},
    [SL_CH_REQUIRE] = {"rows already loaded may hold NULL, and BigQuery never "
                       "tightens a mode",
                       "check for NULLs (SELECT count(*) ... WHERE col IS "
                       "NULL); then `sluice schema apply --allow-unsafe` "
                       "adds NOT NULL where the warehouse can enforce it"},
    [SL_CH_REPEATED] = {"a value cannot become a list (or a list a value) in "
                        "place in BigQuery",
                        "add a new field instead; `sluice schema apply "
                        "--allow-unsafe` turns a value into a one-element list "
                        "(a list cannot become a value)"},
    [SL_CH_ADD_REQUIRED] = {"rows already loaded have no value for it; "
                            "BigQuery adds only NULLABLE or REPEATED fields",
                            "add it as NULLABLE (mode NULLABLE or no mode), "
                            "or run `sluice schema apply --allow-unsafe`, "
                            "which succeeds only while the table is empty"},
    [SL_CH_REORDER] = {"new fields are appended after the existing ones and "
                       "existing fields cannot move (loads write columns by "
                       "position)",
                       "keep the existing fields in their order and put new "
                       "ones at the end of their RECORD"},
    [SL_CH_DRIFT] = {"the table was changed outside Sluice since its "
                     "definition was last applied",
                     "find out who changed it; `sluice schema apply "
                     "--allow-unsafe` takes the table as it is now and applies "
                     "the definition to it (the changes listed are against "
                     "its current shape)"},
};

/* ------------------------------------------------------------------ output */

static int fail_oom(struct pctx *c)
{
    if (c->rc == SL_OK) {
        c->rc = SL_ERR(c->err, -SL_ENOMEM, "out of memory while planning");
    }
    return c->rc;
}

static void change_release(struct sl_change *ch)
{
    sl__free(ch->path);
    sl__free(ch->what);
    sl__free(ch->reason);
    sl__free(ch->advice);
}

void sl_plan_release(struct sl_plan *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_changes; i++) {
        change_release(&p->changes[i]);
    }
    sl__free(p->changes);
    p->changes = NULL;
    p->n_changes = p->n_unsafe = p->n_blocked = 0;
}

/* Append a change; what is printf-formatted. */
static struct sl_change *add(struct pctx *c, enum sl_change_kind kind,
                             const char *path, const struct sl_field *from,
                             const struct sl_field *to, const char *fmt, ...)
    SL_PRINTF(6, 7);
static struct sl_change *add(struct pctx *c, enum sl_change_kind kind,
                             const char *path, const struct sl_field *from,
                             const struct sl_field *to, const char *fmt, ...)
{
    struct sl_plan *p = c->p;
    if (c->rc != SL_OK) {
        return NULL;
    }
    struct sl_change *g =
        sl__realloc(p->changes, (p->n_changes + 1) * sizeof(*g));
    if (g == NULL) {
        fail_oom(c);
        return NULL;
    }
    p->changes = g;
    struct sl_change *ch = &g[p->n_changes];
    memset(ch, 0, sizeof(*ch));
    struct sl_buf b;
    sl__buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    ch->kind = kind;
    ch->safe = kind < SL_CH_DROP;
    ch->from = from;
    ch->to = to;
    ch->path = sl__strdup(path != NULL ? path : "");
    ch->what = sl__strdup(tmp);
    if (!ch->safe) {
        ch->reason = sl__strdup(unsafe_text[kind].reason);
        ch->advice = sl__strdup(unsafe_text[kind].advice);
    }
    p->n_changes++;
    if (ch->path == NULL || ch->what == NULL ||
        (!ch->safe && (ch->reason == NULL || ch->advice == NULL))) {
        fail_oom(c);
        return NULL;
    }
    p->n_unsafe += !ch->safe;
    return ch;
}

/* Mark a change impossible in place: not even --allow-unsafe applies it. */
static void block(struct pctx *c, struct sl_change *ch, const char *advice)
{
    if (ch == NULL) {
        return;
    }
    char *a = sl__strdup(advice);
    if (a == NULL) {
        fail_oom(c);
        return;
    }
    sl__free(ch->advice);
    ch->advice = a;
    ch->blocked = true;
    c->p->n_blocked++;
}

/* ------------------------------------------------------------------ types */

static int put_type(struct sl_buf *b, const struct sl_field *f, int depth)
{
    int rc;
    switch (f->type) {
    case SL_T_NUMERIC:
    case SL_T_BIGNUMERIC:
        rc = f->has_precision
                 ? sl__buf_printf(b, "%s(%d,%d)", sl_type_name(f->type),
                                  f->precision, f->scale)
                 : sl__buf_printf(b, "%s", sl_type_name(f->type));
        break;
    case SL_T_STRING:
    case SL_T_BYTES:
        rc = f->max_length > 0
                 ? sl__buf_printf(b, "%s(%lld)", sl_type_name(f->type),
                                  (long long)f->max_length)
                 : sl__buf_printf(b, "%s", sl_type_name(f->type));
        break;
    case SL_T_RANGE:
        rc = sl__buf_printf(b, "RANGE<%s>", sl_type_name(f->range_elem));
        break;
    case SL_T_RECORD:
        rc = sl__buf_printf(b, "RECORD<");
        for (size_t i = 0; rc == SL_OK && i < f->n_fields; i++) {
            if (i == 3 || depth > 1) {
                rc = sl__buf_printf(b, "%s...", i > 0 ? ", " : "");
                break;
            }
            rc = sl__buf_printf(b, "%s%.64s ", i > 0 ? ", " : "",
                                f->fields[i].name);
            if (rc == SL_OK) {
                rc = put_type(b, &f->fields[i], depth + 1);
            }
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, '>');
        }
        break;
    default:
        rc = sl__buf_printf(b, "%s", sl_type_name(f->type));
        break;
    }
    if (rc == SL_OK && f->mode != SL_M_NULLABLE) {
        rc = sl__buf_printf(b, " %s", sl_mode_name(f->mode));
    }
    return rc;
}

int sl_field_type_text(const struct sl_field *f, struct sl_buf *out)
{
    return put_type(out, f, 0);
}

/* The field's type as text in buf (reset first); "?" when out of memory. */
static const char *type_str(struct sl_buf *buf, const struct sl_field *f)
{
    sl__buf_reset(buf);
    if (put_type(buf, f, 0) != SL_OK || buf->data == NULL) {
        return "?";
    }
    return buf->data;
}

/* Integer and fraction digits a decimal type holds. */
static void decimal_digits(const struct sl_field *f, int *out_int,
                           int *out_frac)
{
    if (f->has_precision) {
        *out_int = f->precision - f->scale;
        *out_frac = f->scale;
    } else if (f->type == SL_T_NUMERIC) {
        *out_int = 29; /* NUMERIC = NUMERIC(38,9) */
        *out_frac = 9;
    } else {
        *out_int = 38; /* BIGNUMERIC: 76.76 digits, scale 38 */
        *out_frac = 38;
    }
}

enum tclass { T_SAME, T_WIDEN, T_OTHER };

/* Does every value of decimal type a fit in decimal type b? */
static bool decimal_fits(const struct sl_field *a, const struct sl_field *b)
{
    int ai, af, bi, bf;
    decimal_digits(a, &ai, &af);
    decimal_digits(b, &bi, &bf);
    return bi >= ai && bf >= af;
}

/* Classify a scalar type change from h to w. BigQuery's in-place changes
 * (ALTER COLUMN SET DATA TYPE; loads with ALLOW_FIELD_ADDITION never change
 * a type): INT64 to NUMERIC, BIGNUMERIC or FLOAT64; NUMERIC to BIGNUMERIC or
 * FLOAT64; BIGNUMERIC to FLOAT64; decimal precision and scale up (no fewer
 * integer or fraction digits); a STRING/BYTES maxLength raised or removed. A
 * decimal that cannot hold every INT64 (fewer than 19 integer digits) is no
 * widening of INT64. The FLOAT64 targets are approximate for large values, as
 * in BigQuery. */
static enum tclass classify(const struct sl_field *h, const struct sl_field *w)
{
    static const struct sl_field int64_as_dec = {
        .type = SL_T_NUMERIC, .has_precision = true, .precision = 19};
    bool hdec = h->type == SL_T_NUMERIC || h->type == SL_T_BIGNUMERIC;
    bool wdec = w->type == SL_T_NUMERIC || w->type == SL_T_BIGNUMERIC;
    if (h->type == w->type) {
        switch (h->type) {
        case SL_T_NUMERIC:
        case SL_T_BIGNUMERIC:
            if (h->has_precision == w->has_precision &&
                h->precision == w->precision && h->scale == w->scale) {
                return T_SAME;
            }
            return decimal_fits(h, w) ? T_WIDEN : T_OTHER;
        case SL_T_STRING:
        case SL_T_BYTES:
            if (h->max_length == w->max_length) {
                return T_SAME;
            }
            return (w->max_length == 0 ||
                    (h->max_length > 0 && w->max_length > h->max_length))
                       ? T_WIDEN
                       : T_OTHER;
        case SL_T_RANGE:
            return h->range_elem == w->range_elem ? T_SAME : T_OTHER;
        case SL_T_TIMESTAMP:
            if (h->ts_precision == w->ts_precision) {
                return T_SAME;
            }
            return w->ts_precision > h->ts_precision ? T_WIDEN : T_OTHER;
        default:
            return T_SAME;
        }
    }
    if (w->type == SL_T_FLOAT64 && (h->type == SL_T_INT64 || hdec)) {
        return T_WIDEN;
    }
    if (h->type == SL_T_INT64 && wdec) {
        return decimal_fits(&int64_as_dec, w) ? T_WIDEN : T_OTHER;
    }
    if (h->type == SL_T_NUMERIC && w->type == SL_T_BIGNUMERIC) {
        return decimal_fits(h, w) ? T_WIDEN : T_OTHER;
    }
    return T_OTHER;
}

/* ------------------------------------------------------------------ fields */

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL || a[0] == '\0') ? (b == NULL || b[0] == '\0')
                                       : (b != NULL && strcmp(a, b) == 0);
}

/* Same type, parameters and mode, RECORD members alike (for renames). */
static bool same_shape(const struct sl_field *a, const struct sl_field *b)
{
    if (a->mode != b->mode || a->type != b->type ||
        a->n_fields != b->n_fields || classify(a, b) != T_SAME) {
        return false;
    }
    for (size_t i = 0; i < a->n_fields; i++) {
        if (!sl__eq_ci(a->fields[i].name, a->fields[i].name_len,
                       b->fields[i].name, b->fields[i].name_len) ||
            !same_shape(&a->fields[i], &b->fields[i])) {
            return false;
        }
    }
    return true;
}

/* "column" at the top level, "field" inside a RECORD. */
static const char *noun(const struct sl_field *f)
{
    return f->parent == NULL ? "column" : "field";
}

static void diff_fields(struct pctx *c, const struct sl_field *h,
                        const struct sl_field *w);

static void diff_options(struct pctx *c, const struct sl_field *h,
                         const struct sl_field *w)
{
    if (!str_eq(h->description, w->description)) {
        add(c, SL_CH_DESCRIPTION, w->path, h, w, "description of %s %s",
            noun(w), w->path);
    }
    if (!str_eq(h->default_expr, w->default_expr)) {
        add(c, SL_CH_OPTION, w->path, h, w,
            "defaultValueExpression of %s: %s -> %s", w->path,
            h->default_expr != NULL ? h->default_expr : "(none)",
            w->default_expr != NULL ? w->default_expr : "(none)");
    }
    if (h->round_half_even != w->round_half_even && h->type == w->type) {
        add(c, SL_CH_OPTION, w->path, h, w, "roundingMode of %s: %s", w->path,
            w->round_half_even ? "ROUND_HALF_EVEN"
                               : "ROUND_HALF_AWAY_FROM_ZERO");
    }
}

/* One field in both definitions. */
static void diff_field(struct pctx *c, const struct sl_field *h,
                       const struct sl_field *w)
{
    struct sl_buf a, b;
    sl__buf_init(&a);
    sl__buf_init(&b);
    if (strcmp(h->name, w->name) != 0) {
        add(c, SL_CH_RENAME_CASE, w->path, h, w,
            "rename %s %s to %s (only the case changes)", noun(w), h->path,
            w->name);
    }
    bool hrep = h->mode == SL_M_REPEATED, wrep = w->mode == SL_M_REPEATED;
    if (hrep != wrep) {
        struct sl_change *ch =
            add(c, SL_CH_REPEATED, w->path, h, w, "%s %s: %s -> %s", noun(w),
                w->path, type_str(&a, h), type_str(&b, w));
        if (hrep) {
            block(c, ch,
                  "add a new field for single values; a list cannot become a "
                  "value in place");
        }
    } else if (h->mode == SL_M_REQUIRED && w->mode == SL_M_NULLABLE) {
        add(c, SL_CH_RELAX, w->path, h, w, "relax %s %s: REQUIRED -> NULLABLE",
            noun(w), w->path);
    } else if (h->mode == SL_M_NULLABLE && w->mode == SL_M_REQUIRED) {
        add(c, SL_CH_REQUIRE, w->path, h, w,
            "require %s %s: NULLABLE -> REQUIRED", noun(w), w->path);
    }
    if (h->type == SL_T_RECORD && w->type == SL_T_RECORD) {
        diff_fields(c, h, w);
    } else if (h->type == SL_T_RECORD || w->type == SL_T_RECORD) {
        struct sl_change *ch =
            add(c, SL_CH_TYPE, w->path, h, w, "change type of %s %s: %s -> %s",
                noun(w), w->path, type_str(&a, h), type_str(&b, w));
        block(c, ch,
              "a RECORD and a scalar do not convert into each other: add a "
              "new field under another name");
    } else {
        enum tclass k = classify(h, w);
        if (k != T_SAME) {
            /* modes are reported above: compare the types alone */
            struct sl_field hh = *h, ww = *w;
            hh.mode = ww.mode = SL_M_NULLABLE;
            add(c, k == T_WIDEN ? SL_CH_WIDEN : SL_CH_TYPE, w->path, h, w,
                "%s %s %s: %s -> %s", k == T_WIDEN ? "widen" : "change type of",
                noun(w), w->path, type_str(&a, &hh), type_str(&b, &ww));
        }
    }
    diff_options(c, h, w);
    sl__buf_release(&a);
    sl__buf_release(&b);
}

/* How the fields of two RECORDs pair up. */
struct match {
    long *hm;  /* per have field: index of its want field, -1 if none */
    long *wm;  /* per want field: index of its have field, -1 if none */
    bool *ren; /* per have field: paired by position as a rename */
};

/* Pair fields by name (case-insensitively), then a dropped field with a new
 * one of the same shape at the same position as a rename; the rest of the
 * have side is dropped. */
static void pair_fields(struct pctx *c, const struct sl_field *h,
                        const struct sl_field *w, struct match *m)
{
    for (size_t j = 0; j < w->n_fields; j++) {
        m->wm[j] = -1;
    }
    for (size_t i = 0; i < h->n_fields; i++) {
        const struct sl_field *f =
            sl_field_find(w, h->fields[i].name, h->fields[i].name_len);
        m->hm[i] = f != NULL ? (long)f->idx : -1;
        m->ren[i] = false;
        if (f != NULL) {
            m->wm[f->idx] = (long)i;
        }
    }
    for (size_t i = 0; i < h->n_fields && c->rc == SL_OK; i++) {
        const struct sl_field *hf = &h->fields[i];
        if (m->hm[i] >= 0) {
            continue;
        }
        if (i < w->n_fields && m->wm[i] < 0 && same_shape(hf, &w->fields[i])) {
            const struct sl_field *wf = &w->fields[i];
            m->hm[i] = m->wm[i] = (long)i;
            m->ren[i] = true;
            add(c, SL_CH_RENAME, wf->path, hf, wf, "rename %s %s to %s",
                noun(wf), hf->path, wf->name);
            continue;
        }
        add(c, SL_CH_DROP, hf->path, hf, NULL, "drop %s %s", noun(hf),
            hf->path);
    }
}

/* Paired fields must keep their relative order; returns the want index of
 * the last paired field (new fields must come after it). */
static long check_order(struct pctx *c, const struct sl_field *h,
                        const struct sl_field *w, const struct match *m)
{
    long last_h = -1, last_w = -1;
    bool moved = false;
    for (size_t j = 0; j < w->n_fields; j++) {
        if (m->wm[j] >= 0) {
            moved = moved || m->wm[j] < last_h;
            last_h = m->wm[j] > last_h ? m->wm[j] : last_h;
            last_w = (long)j;
        }
    }
    if (moved) {
        struct sl_change *ch = add(
            c, SL_CH_REORDER, w->path, h, w, "fields of %s change order",
            w->parent == NULL && w->path[0] == '\0' ? "the table" : w->path);
        block(c, ch,
              "keep the existing fields in the order the table has them; a "
              "new order needs a new table");
    }
    return last_w;
}

static void report_adds(struct pctx *c, const struct sl_field *w,
                        const struct match *m, long last_w)
{
    struct sl_buf tb;
    sl__buf_init(&tb);
    for (size_t j = 0; j < w->n_fields && c->rc == SL_OK; j++) {
        const struct sl_field *wf = &w->fields[j];
        if (m->wm[j] >= 0) {
            continue;
        }
        if ((long)j < last_w) {
            struct sl_change *ch =
                add(c, SL_CH_REORDER, wf->path, NULL, wf,
                    "new %s %s is not at the end", noun(wf), wf->path);
            block(c, ch,
                  "move the new field after the existing ones: fields are "
                  "appended at the end of their RECORD");
        } else {
            add(c, wf->mode == SL_M_REQUIRED ? SL_CH_ADD_REQUIRED : SL_CH_ADD,
                wf->path, NULL, wf, "add %s %s %s", noun(wf), wf->path,
                type_str(&tb, wf));
        }
    }
    sl__buf_release(&tb);
}

/* Diff the fields of RECORDs h and w (the table roots at the top): pair
 * them, check the order (new fields last, old ones in their order), list
 * additions, then compare each pair. */
static void diff_fields(struct pctx *c, const struct sl_field *h,
                        const struct sl_field *w)
{
    struct match m = {
        .hm = sl__malloc((h->n_fields + 1) * sizeof(long)),
        .wm = sl__malloc((w->n_fields + 1) * sizeof(long)),
        .ren = sl__malloc(h->n_fields + 1),
    };
    if (m.hm == NULL || m.wm == NULL || m.ren == NULL) {
        fail_oom(c);
    } else {
        pair_fields(c, h, w, &m);
        report_adds(c, w, &m, check_order(c, h, w, &m));
    }
    for (size_t i = 0;
         m.hm != NULL && m.ren != NULL && i < h->n_fields && c->rc == SL_OK;
         i++) {
        if (m.hm[i] < 0) {
            continue;
        }
        const struct sl_field *hf = &h->fields[i], *wf = &w->fields[m.hm[i]];
        if (m.ren[i]) {
            diff_options(c, hf, wf); /* a rename: the shapes are equal */
        } else {
            diff_field(c, hf, wf);
        }
    }
    sl__free(m.hm);
    sl__free(m.wm);
    sl__free(m.ren);
}

/* ------------------------------------------------------------------ tables */

static bool same_partitioning(const struct sl_table *a,
                              const struct sl_table *b)
{
    if (a->part_kind != b->part_kind) {
        return false;
    }
    if ((a->part_field == NULL) != (b->part_field == NULL) ||
        (a->part_field != NULL &&
         !sl__eq_ci(a->part_field->name, a->part_field->name_len,
                    b->part_field->name, b->part_field->name_len))) {
        return false;
    }
    if (a->part_kind == SL_PART_TIME) {
        return str_eq(a->part_type, b->part_type);
    }
    return a->part_kind != SL_PART_RANGE ||
           (a->range_start == b->range_start && a->range_end == b->range_end &&
            a->range_interval == b->range_interval);
}

static void describe_partitioning(char *out, size_t cap,
                                  const struct sl_table *t)
{
    const char *f =
        t->part_field != NULL ? t->part_field->name : "_PARTITIONTIME";
    if (t->part_kind == SL_PART_TIME) {
        snprintf(out, cap, "%s(%.64s)", t->part_type, f);
    } else if (t->part_kind == SL_PART_RANGE) {
        snprintf(out, cap, "RANGE(%.64s, %lld, %lld, %lld)", f,
                 (long long)t->range_start, (long long)t->range_end,
                 (long long)t->range_interval);
    } else {
        snprintf(out, cap, "none");
    }
}

static void describe_clustering(char *out, size_t cap, const struct sl_table *t)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->n_cluster && n + 1 < cap; i++) {
        int k = snprintf(out + n, cap - n, "%s%.64s", i > 0 ? ", " : "",
                         t->cluster[i]->name);
        n += k > 0 ? (size_t)k : 0;
    }
    if (t->n_cluster == 0) {
        snprintf(out, cap, "none");
    }
}

static bool same_clustering(const struct sl_table *a, const struct sl_table *b)
{
    if (a->n_cluster != b->n_cluster) {
        return false;
    }
    for (size_t i = 0; i < a->n_cluster; i++) {
        if (!sl__eq_ci(a->cluster[i]->name, a->cluster[i]->name_len,
                       b->cluster[i]->name, b->cluster[i]->name_len)) {
            return false;
        }
    }
    return true;
}

int sl_plan_diff(const struct sl_table *have, const struct sl_table *want,
                 struct sl_plan *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    out->have = have;
    out->want = want;
    struct pctx c = {.p = out, .err = err};
    if (have == NULL) {
        add(&c, SL_CH_CREATE, "", NULL, NULL,
            "create table %s.%s (%zu columns)", want->dataset, want->name,
            want->root.n_fields);
        return c.rc;
    }
    if (!str_eq(have->description, want->description)) {
        add(&c, SL_CH_DESCRIPTION, "", NULL, NULL, "description of the table");
    }
    if (!same_partitioning(have, want)) {
        char a[160], b[160];
        describe_partitioning(a, sizeof(a), have);
        describe_partitioning(b, sizeof(b), want);
        add(&c, SL_CH_PARTITIONING, "", NULL, NULL, "partitioning: %s -> %s", a,
            b);
    }
    if (!same_clustering(have, want)) {
        char a[300], b[300];
        describe_clustering(a, sizeof(a), have);
        describe_clustering(b, sizeof(b), want);
        add(&c, SL_CH_CLUSTERING, "", NULL, NULL, "clustering: %s -> %s", a, b);
    }
    diff_fields(&c, &have->root, &want->root);
    return c.rc;
}

int sl_plan_add_drift(struct sl_plan *p, const char *detail)
{
    struct pctx c = {.p = p};
    struct sl_change *ch = add(&c, SL_CH_DRIFT, "", NULL, NULL,
                               "changed outside Sluice: %s", detail);
    if (ch == NULL) {
        return -SL_ENOMEM;
    }
    /* first in the list: it explains the rest */
    struct sl_change tmp = *ch;
    memmove(p->changes + 1, p->changes,
            (p->n_changes - 1) * sizeof(*p->changes));
    p->changes[0] = tmp;
    return SL_OK;
}
