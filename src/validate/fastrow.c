/* fastrow.c - the row fast path: each plan node's value op (one test for the
 * usual type-and-rule pairs), and for flat tables the CSV records validated
 * straight from the reader's index without the general path's layers. It only ever confirms a
 * row: a row it cannot confirm as valid is validated again by the general path
 * (csvrows.c), which alone writes rejects, so both paths accept the same rows
 * with the same values. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "validate/coerce.h"
#include "core/buf.h"

#include <string.h>

struct sl_fastcol {
    const struct vnode *n;
    uint8_t op;         /* n->op, here to save a load */
    bool text_type;     /* STRING: an empty quoted field is "", not NULL */
    bool null_ok;       /* NULLABLE and no "required" rule */
    uint32_t slot;      /* the node's slot for conditional rules, or SL_NO_SLOT */
};

/* A column the fast path takes: a scalar whose coercion needs no arena (BYTES,
 * BIGNUMERIC, RANGE, JSON and RECORD make the table take the general path only). */
static bool fast_type(const struct sl_field *f)
{
    if (f->mode == SL_M_REPEATED) {
        return false;
    }
    switch (f->type) {
    case SL_T_STRING:
    case SL_T_INT64:
    case SL_T_FLOAT64:
    case SL_T_NUMERIC:
    case SL_T_BOOL:
    case SL_T_DATE:
    case SL_T_TIME:
    case SL_T_DATETIME:
    case SL_T_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

void sl__vnode_pick_op(struct vnode *k)
{
    const struct sl_field *f = k->f;
    bool none = k->n_checks == 0;
    /* the node's only rules are numeric bounds */
    bool only_num = k->lean && k->fast_num && !k->fast_len && k->lean_set == NULL &&
                    k->lean_sp == NULL;
    bool str_only = k->lean && !k->fast_num;
    k->op = SL_OP_GEN;
    k->op_num = only_num;
    switch (f->type) {
    case SL_T_STRING:
        if (f->max_length != 0) {
            return;
        }
        if (none) {
            k->op = SL_OP_STR;
        } else if (str_only && !k->fast_len && k->lean_set != NULL && k->lean_sp == NULL) {
            k->op = SL_OP_STR_SET;
        } else if (str_only && k->fast_len && k->lean_set == NULL && k->lean_sp == NULL) {
            k->op = SL_OP_STR_LEN;
        } else if (str_only && !k->fast_len && k->lean_set == NULL && k->lean_sp != NULL) {
            k->op = SL_OP_STR_PAT;
        }
        return;
    case SL_T_INT64:
        k->op = none || only_num ? SL_OP_I64 : SL_OP_GEN;
        return;
    case SL_T_FLOAT64:
        k->op = none || only_num ? SL_OP_F64 : SL_OP_GEN;
        return;
    case SL_T_TIMESTAMP:
        k->op = none && f->ts_precision != 12 ? SL_OP_TS : SL_OP_GEN;
        return;
    default:
        return;
    }
}

int sl__fast_prepare(struct sl_vplan *p)
{
    uint32_t n = p->root.n_kids;
    p->fast_cols = NULL;
    if (n == 0) {
        return SL_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!fast_type(p->root.kids[i].f)) {
            return SL_OK; /* the general path only */
        }
    }
    struct sl_fastcol *cols = sl__calloc(n, sizeof(*cols));
    if (cols == NULL) {
        return -SL_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct vnode *k = &p->root.kids[i];
        const struct sl_field *f = k->f;
        cols[i].n = k;
        cols[i].text_type = f->type == SL_T_STRING;
        cols[i].op = k->op;
        cols[i].null_ok = f->mode != SL_M_REQUIRED && !k->rule_required;
        cols[i].slot = k->slot;
    }
    p->fast_cols = cols;
    return SL_OK;
}

void sl__fast_release(struct sl_vplan *p)
{
    sl__free(p->fast_cols);
    p->fast_cols = NULL;
}

/* A value of a column without a specific op: the general coercion itself,
 * on a context of the fast path's own (a failure is described there and
 * dropped; the general path validates the row again). */
static bool gen_value(struct sl_validator *v, const struct vnode *n, const char *s, size_t len,
                      struct sl_val *out)
{
    struct rowctx *c = &v->fast_ctx;
    c->v = v;
    c->failed = false;
    c->fatal = 0;
    return sl__coerce_text(c, n, s, len, out) == 0;
}

/* The options a field looks at, read once per record (the row's stores could
 * otherwise make the compiler read them again for every field). */
struct fopts {
    const char *marker; /* --null-marker, or NULL */
    size_t marker_len;
    size_t max_value;   /* --max-value-size */
};

static inline void fopts_init(const struct sl_validator *v, struct fopts *fo)
{
    fo->marker = v->o.null_marker;
    fo->marker_len = fo->marker != NULL ? strlen(fo->marker) : 0;
    fo->max_value = v->o.max_value_size;
}

/* One field's value. plain (a constant in each caller): the caller knows there is
 * no --null-marker and no field over --max-value-size. */
static inline __attribute__((always_inline)) bool
fast_field(struct sl_validator *v, const struct fopts *fo, const struct sl_fastcol *c,
           const char *p, size_t len, bool quoted, struct sl_val *out, bool plain)
{
    bool is_null;
    if (!plain && SL_UNLIKELY(fo->marker != NULL)) {
        is_null = len == fo->marker_len && memcmp(fo->marker, p, len) == 0;
        if (!is_null && len == 0 && !c->text_type) {
            return false;
        }
    } else {
        is_null = len == 0 && (!quoted || !c->text_type);
    }
    if (is_null) {
        out->kind = SL_V_NULL;
        if (c->slot != SL_NO_SLOT) {
            v->slots[c->slot].present = false;
        }
        return c->null_ok;
    }
    if (!plain && len > fo->max_value) {
        return false;
    }
    if (c->op != SL_OP_GEN) {
        return sl__op_value(v, c->n, p, len, out);
    }
    return gen_value(v, c->n, p, len, out);
}

/* The record's bytes are valid UTF-8 (then so is each field: the delimiter and
 * quote are ASCII, and cutting or unescaping at ASCII bytes breaks no
 * sequence). ISO-8859-1 records reach here already decoded. */
static inline bool rec_utf8(const struct sl_validator *v, const char *rec, size_t len)
{
    return v->o.csv.latin1 || sl__all_ascii(rec, len) || sl__utf8_valid(rec, len);
}

/* The conditional rules of a row: 0 all hold, 1 not confirmed (ask
 * sl__row_finish_v, which tells). With the plan's quick (checks.c), inline. */
static inline int conds_quick(struct sl_validator *v)
{
    const struct sl_vplan *P = v->plan;
    if (P->quick != NULL) {
        const struct vslot *cs = &v->slots[P->groups[0].slot];
        if (!cs->present) {
            return 0; /* no condition reads an absent value */
        }
        if (cs->set_id >= 0) {
            const struct vquick *q = &P->quick[cs->set_id];
            if (q->kind == SL_Q_NONE) {
                return 0;
            }
            if (q->kind == SL_Q_PAT) {
                const struct vslot *ts = &v->slots[q->target_slot];
                return !ts->present || sl__spat_match(q->sp, ts->txt, ts->txt_len) == 1 ? 0 : 1;
            }
        }
    }
    return P->n_groups > 0 && sl__row_finish_v(v, NULL) != 0;
}

/* The end of the row: conditional rules, then the row is the fast row. */
static inline int fast_finish(struct sl_validator *v)
{
    if (conds_quick(v) != 0) {
        return 1;
    }
    v->row = v->fast_row;
    return 0;
}

int sl__fast_csv_row(struct sl_validator *v, const struct sl_csv_field *fs, size_t nf,
                     const char *rec, size_t rec_len, bool ascii)
{
    const struct sl_fastcol *cols = v->fast_cols;
    const uint32_t *map = v->csv_map;
    if (nf != (map != NULL ? v->csv_map_len : v->plan->root.n_kids)) {
        return 1; /* too many or too few values: the general path tells */
    }
    if (!ascii && !rec_utf8(v, rec, rec_len)) {
        return 1;
    }
    struct fopts fo;
    fopts_init(v, &fo);
    for (size_t i = 0; i < nf; i++) {
        uint32_t k = map != NULL ? map[i] : (uint32_t)i;
        if (!fast_field(v, &fo, &cols[k], fs[i].p, fs[i].len, fs[i].quoted, &v->fast_row[k],
                        false)) {
            return 1;
        }
    }
    return fast_finish(v);
}

/* One field of an indexed record: [fstart, end of entry e) of base, quoted and
 * escaped as e's flags tell (the CR of a CRLF already cut by the caller). */
static inline __attribute__((always_inline)) bool
ix_field(struct sl_validator *v, const struct fopts *fo, const struct sl_fastcol *c,
         const char *base, size_t fstart, size_t end, uint32_t e, char qb, struct sl_buf *sb,
         size_t rec_len, struct sl_val *out, bool plain, int *fail)
{
    const char *p = base + fstart;
    size_t len = end - fstart;
    bool quoted = (e & SL_CSV_IX_QUOTED) != 0;
    if (quoted) {
        /* the index saw the closing quote just before the field end */
        p++;
        len -= 2;
        if (e & SL_CSV_IX_ESC) {
            /* unescape into scratch, reserved for the whole record once so
             * that the fields already there do not move (and 64 bytes more:
             * sl__csv_unescape_ix's room) */
            if (sb->len == 0 && sl__buf_reserve(sb, rec_len + 64) != SL_OK) {
                *fail = -SL_ENOMEM;
                return false;
            }
            char *o = sb->data + sb->len;
            len = sl__csv_unescape_ix(o, p, len, qb);
            p = o;
            sb->len += len;
        }
    }
    return fast_field(v, fo, c, p, len, quoted, out, plain);
}

/* The record's fields in order; plain: no --null-marker, the columns in field
 * order, the record no longer than --max-value-size (one copy of the loop each
 * way). */
static inline __attribute__((always_inline)) int
ix_record(struct sl_validator *v, const struct fopts *fo, const uint32_t *ent, size_t nf,
          const char *base, size_t start, size_t rec_end, bool plain)
{
    const struct sl_fastcol *cols = v->fast_cols;
    const uint32_t *map = v->csv_map;
    const char qb = (char)v->csv.opts.quote;
    struct sl_buf *sb = &v->fast_scratch;
    sl__buf_reset(sb);
    struct sl_val *row = v->fast_row;
    size_t rec_len = rec_end - start, fstart = start;
    int fail = 1;
    for (size_t i = 0; i + 1 < nf; i++) {
        uint32_t e = ent[i];
        size_t end = e >> 3;
        if (base[end] == '\n') {
            return 1; /* too few values (or a blank line) */
        }
        size_t k = plain ? i : map != NULL ? map[i] : i;
        if (!ix_field(v, fo, &cols[k], base, fstart, end, e, qb, sb, rec_len, &row[k], plain,
                      &fail)) {
            return fail;
        }
        fstart = end + 1;
    }
    size_t end = rec_end;
    if (end > fstart && base[end - 1] == '\r') {
        end--; /* CRLF */
    }
    size_t k = plain ? nf - 1 : map != NULL ? map[nf - 1] : nf - 1;
    if (!ix_field(v, fo, &cols[k], base, fstart, end, ent[nf - 1], qb, sb, rec_len, &row[k],
                  plain, &fail)) {
        return fail;
    }
    return fast_finish(v);
}

int sl__fast_csv_ix(struct sl_validator *v, const char *base, size_t *out_used)
{
    struct sl_csv *csv = &v->csv;
    size_t left, start;
    const uint32_t *ent = sl_csv_index_peek(csv, &left, &start);
    size_t nf = v->csv_map != NULL ? v->csv_map_len : v->plan->root.n_kids;
    if (nf == 0 || left < nf) {
        return 1;
    }
    size_t rec_end = ent[nf - 1] >> 3; /* its LF, if the record has nf fields */
    if (nf == 1 && (rec_end == start || (rec_end == start + 1 && base[start] == '\r'))) {
        return 1; /* a blank line, not a row of one empty field: the general path skips it */
    }
    if (base[rec_end] != '\n' || rec_end - start > v->o.max_row_size ||
        ((ent[nf - 1] & SL_CSV_IX_HIGH) != 0 && !v->o.csv.latin1 &&
         !sl__utf8_valid(base + start, rec_end - start))) {
        return 1;
    }
    struct fopts fo;
    fopts_init(v, &fo);
    int rc = fo.marker == NULL && v->fast_in_order && rec_end - start <= fo.max_value
                 ? ix_record(v, &fo, ent, nf, base, start, rec_end, true)
                 : ix_record(v, &fo, ent, nf, base, start, rec_end, false);
    if (rc != 0) {
        return rc;
    }
    sl_csv_index_skip(csv, nf);
    *out_used = rec_end + 1 - start;
    return 0;
}

bool sl__fast_csv_ok(struct sl_validator *v)
{
    v->fast_in_order = v->csv_map == NULL;
    if (v->fast_cols == NULL) {
        return false;
    }
    if (v->csv_map == NULL) {
        return true;
    }
    uint32_t n_kids = v->plan->root.n_kids;
    bool in_order = v->csv_map_len == n_kids;
    for (size_t i = 0; in_order && i < v->csv_map_len; i++) {
        in_order = v->csv_map[i] == i;
    }
    v->fast_in_order = in_order;
    /* by header name: every column exactly once (the header holds no name
     * twice), so every field of the row is set */
    size_t mapped = 0;
    for (size_t i = 0; i < v->csv_map_len; i++) {
        mapped += v->csv_map[i] != UINT32_MAX;
    }
    return mapped == n_kids && mapped == v->csv_map_len;
}
