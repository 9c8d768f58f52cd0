/* validator.c - compiles a table into a validation plan (shared, immutable),
 * creates validators over it (per-thread scratch), coerces values and applies
 * rules. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "parse/input.h"
#include "validate/coerce.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { OK = 0, REJ = 1 };

void sl_vopts_default(struct sl_vopts *o)
{
    memset(o, 0, sizeof(*o));
    o->format = SL_FMT_NDJSON;
    o->max_row_size = 100u * 1024 * 1024;
    o->max_value_size = 10u * 1024 * 1024;
    sl_csv_opts_default(&o->csv);
}

/* Reasons are one line of text (validator.h), but a key or value quoted in one
 * may hold control characters (a "\n" escape in an unknown key, a NUMERIC string,
 * a quoted CSV newline): write those as JSON-style escapes, truncating to fit. */
static void one_line(char *reason, size_t cap)
{
    char tmp[512];
    size_t o = 0;
    bool changed = false;
    if (cap > sizeof(tmp)) {
        cap = sizeof(tmp);
    }
    for (const char *s = reason; *s != '\0' && o + 7 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n' || ch == '\r') {
            tmp[o++] = '\\';
            tmp[o++] = ch == '\n' ? 'n' : 'r';
            changed = true;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(tmp + o, cap - o, "\\u%04x", ch);
            changed = true;
        } else {
            tmp[o++] = (char)ch;
        }
    }
    if (changed) {
        tmp[o] = '\0';
        memcpy(reason, tmp, o + 1);
    }
}

int sl__vfail(struct rowctx *ctx, const struct sl_field *f, const char *val, size_t val_len,
              const char *fmt, ...)
{
    if (ctx->failed) {
        return REJ;
    }
    ctx->failed = true;
    ctx->err_field = f;
    ctx->err_val = val;
    ctx->err_val_len = val_len;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->reason, sizeof(ctx->reason), fmt, ap);
    va_end(ap);
    one_line(ctx->reason, sizeof(ctx->reason));
    return REJ;
}

/* ---- plan ---------------------------------------------------------------- */

static void free_node(struct vnode *n)
{
    for (uint32_t i = 0; i < n->n_kids; i++) {
        free_node(&n->kids[i]);
    }
    sl__free(n->kids);
    for (uint32_t i = 0; i < n->n_checks; i++) {
        sl__vck_release(&n->checks[i]);
    }
    sl__free(n->checks);
    sl__free(n->must);
    sl__free(n->repeated);
}

static int build_node(struct sl_vplan *p, struct vnode *n, const struct sl_field *f)
{
    n->f = f;
    n->slot = SL_NO_SLOT;
    if (f->name != NULL && f->name_len + 3 <= sizeof(n->key_pat)) {
        n->key_pat[0] = '"';
        memcpy(n->key_pat + 1, f->name, f->name_len);
        n->key_pat[f->name_len + 1] = '"';
        n->key_pat[f->name_len + 2] = ':';
        n->key_mask = (uint32_t)((1ull << (f->name_len + 3)) - 1);
    }
    n->precision = f->precision;
    n->scale = f->scale;
    if (f->type == SL_T_NUMERIC && !f->has_precision) {
        n->precision = 38;
        n->scale = 9;
    }
    if (f->n_checks > 0) {
        n->checks = sl__calloc(f->n_checks, sizeof(*n->checks));
        if (n->checks == NULL) {
            return -SL_ENOMEM;
        }
    }
    for (size_t i = 0; i < f->n_checks; i++) {
        const struct sl_check *ck = &f->checks[i];
        p->has_pattern = p->has_pattern || ck->kind == SL_CK_PATTERN;
        if (ck->when != NULL) {
            p->n_conds++;
        } else if (ck->kind == SL_CK_REQUIRED) {
            n->rule_required = true;
        } else {
            int rc = sl__vck_init(&n->checks[n->n_checks++], ck);
            if (rc != SL_OK) {
                return rc;
            }
        }
    }
    sl__vnode_fold(n);
    sl__vnode_pick_op(n);
    if (f->type != SL_T_RECORD) {
        return SL_OK;
    }
    n->kids = sl__calloc(f->n_fields, sizeof(*n->kids));
    n->must = sl__calloc(f->n_fields, sizeof(*n->must));
    n->repeated = sl__calloc(f->n_fields, sizeof(*n->repeated));
    if (n->kids == NULL || n->must == NULL || n->repeated == NULL) {
        return -SL_ENOMEM; /* n_kids stays 0: free_node frees what was allocated */
    }
    n->n_kids = (uint32_t)f->n_fields;
    for (uint32_t i = 0; i < n->n_kids; i++) {
        int rc = build_node(p, &n->kids[i], &f->fields[i]);
        if (rc != SL_OK) {
            return rc;
        }
        if (f->fields[i].mode == SL_M_REQUIRED || n->kids[i].rule_required) {
            n->must[n->n_must++] = i;
        }
        if (f->fields[i].mode == SL_M_REPEATED) {
            n->repeated[n->n_repeated++] = i;
        }
    }
    return SL_OK;
}

/* The plan node of a schema field (walks up through parents). */
static struct vnode *node_of(struct sl_vplan *p, const struct sl_field *f)
{
    if (f == NULL || f == &p->t->root) {
        return &p->root;
    }
    struct vnode *up = node_of(p, f->parent);
    if (up == NULL || f->idx >= up->n_kids) {
        return NULL;
    }
    return &up->kids[f->idx];
}

static int collect_conds(struct sl_vplan *p, struct vnode *n)
{
    const struct sl_field *f = n->f;
    for (size_t i = 0; i < f->n_checks; i++) {
        const struct sl_check *ck = &f->checks[i];
        if (ck->when == NULL) {
            continue;
        }
        struct vnode *cn = node_of(p, ck->when->field);
        if (cn == NULL) {
            return -SL_ESCHEMA;
        }
        if (n->slot == SL_NO_SLOT) {
            n->slot = p->n_slots++;
        }
        if (cn->slot == SL_NO_SLOT) {
            cn->slot = p->n_slots++;
        }
        struct vcond *c = &p->conds[p->n_conds++];
        int rc = sl__vck_init(&c->ck, ck);
        if (rc != SL_OK) {
            return rc;
        }
        c->target = n;
        c->target_slot = n->slot;
        c->cond_slot = cn->slot;
    }
    for (uint32_t i = 0; i < n->n_kids; i++) {
        int rc = collect_conds(p, &n->kids[i]);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

int sl_vplan_create(const struct sl_table *t, struct sl_vplan **out, struct sl_error *err)
{
    *out = NULL;
    sl__strset_isa_once();
    struct sl_vplan *p = sl__calloc(1, sizeof(*p));
    if (p == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory creating a validator");
    }
    p->t = t;
    int rc = build_node(p, &p->root, &t->root);
    if (rc == SL_OK && p->n_conds > 0) {
        p->conds = sl__calloc(p->n_conds, sizeof(*p->conds));
        p->groups = sl__calloc(p->n_conds, sizeof(*p->groups));
        p->n_conds = 0;
        rc = p->conds == NULL || p->groups == NULL ? -SL_ENOMEM : collect_conds(p, &p->root);
        if (rc == SL_OK) {
            rc = sl__conds_prepare(p);
        }
        if (rc == SL_OK) {
            rc = sl__conds_link_enums(p);
        }
    }
    if (rc == SL_OK) {
        rc = sl__fast_prepare(p);
    }
    for (uint32_t i = 0; rc == SL_OK && i < p->root.n_kids && p->csv_bad == NULL; i++) {
        const struct sl_field *f = p->root.kids[i].f;
        if (f->type == SL_T_RECORD || f->mode == SL_M_REPEATED) {
            p->csv_bad = f;
        }
    }
    if (rc != SL_OK) {
        if (err != NULL && err->code == 0) {
            SL_ERR(err, rc, "cannot create a validator for %s.%s: %s", t->dataset, t->name,
                   sl_strerror(rc));
        }
        sl_vplan_destroy(p);
        return rc;
    }
    *out = p;
    return SL_OK;
}

void sl_vplan_destroy(struct sl_vplan *p)
{
    if (p == NULL) {
        return;
    }
    sl__fast_release(p);
    free_node(&p->root);
    for (uint32_t i = 0; p->conds != NULL && i < p->n_conds; i++) {
        sl__vck_release(&p->conds[i].ck);
    }
    for (uint32_t i = 0; p->groups != NULL && i < p->n_conds; i++) {
        sl__strset_release(&p->groups[i].vals);
        sl__free(p->groups[i].run_at);
        sl__free(p->groups[i].run);
        sl__free(p->groups[i].enum_map);
    }
    sl__free(p->quick);
    sl__free(p->conds);
    sl__free(p->groups);
    sl__free(p);
}

/* ---- validators ------------------------------------------------------------ */

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

int sl_validator_create_from_plan(const struct sl_vplan *plan, const struct sl_vopts *o,
                                  struct sl_validator **out, struct sl_error *err)
{
    *out = NULL;
    const struct sl_table *t = plan->t;
    if (o->format == SL_FMT_CSV && plan->csv_bad != NULL) {
        return SL_ERR(err, -SL_EUSAGE,
                      "table %s.%s: CSV cannot carry RECORD or REPEATED fields (field %s)",
                      t->dataset, t->name, plan->csv_bad->path);
    }
    const struct sl_fastcol *fast =
        o->format == SL_FMT_CSV && !o->general_only ? plan->fast_cols : NULL;
    /* one allocation: the validator, then its slots, the conditions' hit
     * bits and the fast path's row */
    size_t hits_len = plan->n_groups > 1 ? (plan->n_conds + 63) / 64 : 0;
    size_t at_slots = round16(sizeof(struct sl_validator));
    size_t at_hits = at_slots + round16(plan->n_slots * sizeof(struct vslot));
    size_t at_row = at_hits + round16(hits_len * sizeof(uint64_t));
    size_t size = at_row + (fast != NULL ? plan->root.n_kids * sizeof(struct sl_val) : 0);
    char *mem = sl__calloc(1, size);
    if (mem == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory creating a validator");
    }
    struct sl_validator *v = (struct sl_validator *)(void *)mem;
    v->plan = plan;
    v->t = t;
    v->o = *o;
    if (v->o.max_row_size == 0) {
        v->o.max_row_size = 100u * 1024 * 1024;
    }
    if (v->o.max_value_size == 0) {
        v->o.max_value_size = 10u * 1024 * 1024;
    }
    v->fast_cols = fast;
    v->slots = plan->n_slots > 0 ? (struct vslot *)(void *)(mem + at_slots) : NULL;
    v->cond_hits = hits_len > 0 ? (uint64_t *)(void *)(mem + at_hits) : NULL;
    v->fast_row = fast != NULL ? (struct sl_val *)(void *)(mem + at_row) : NULL;
    sl__arena_init(&v->arena, 64 * 1024);
    sl__buf_init(&v->scratch);
    sl__buf_init(&v->fast_scratch);
    sl__buf_init(&v->hdr_key);
    int rc = SL_OK;
    if (plan->has_pattern) {
        v->md = pcre2_match_data_create(1, NULL);
        rc = v->md == NULL ? -SL_ENOMEM : SL_OK;
    }
    if (rc == SL_OK && o->format == SL_FMT_CSV) {
        rc = sl_csv_init(&v->csv, &o->csv);
        v->csv_ready = rc == SL_OK;
        if (rc == -SL_EINVAL) {
            /* a usage error (exit 2), not a bad schema */
            rc = SL_ERR(err, -SL_EUSAGE,
                        "CSV options: the field delimiter and the quote must be single "
                        "bytes other than CR, LF and NUL, and differ from each other");
        }
    }
    if (rc != SL_OK) {
        if (err != NULL && err->code == 0) {
            SL_ERR(err, rc, "cannot create a validator for %s.%s: %s", t->dataset, t->name,
                   sl_strerror(rc));
        }
        sl_validator_destroy(v);
        return rc;
    }
    *out = v;
    return SL_OK;
}

int sl_validator_create(const struct sl_table *t, const struct sl_vopts *o,
                        struct sl_validator **out, struct sl_error *err)
{
    *out = NULL;
    struct sl_vplan *p = NULL;
    int rc = sl_vplan_create(t, &p, err);
    if (rc == SL_OK) {
        rc = sl_validator_create_from_plan(p, o, out, err);
    }
    if (rc != SL_OK) {
        sl_vplan_destroy(p);
        return rc;
    }
    (*out)->own_plan = p;
    return SL_OK;
}

void sl_validator_destroy(struct sl_validator *v)
{
    if (v == NULL) {
        return;
    }
    sl__free(v->hdr_map);
    sl__buf_release(&v->hdr_key);
    if (v->md != NULL) {
        pcre2_match_data_free(v->md);
    }
    if (v->csv_ready) {
        sl_csv_release(&v->csv);
    }
    sl__arena_release(&v->arena);
    sl__buf_release(&v->scratch);
    sl__buf_release(&v->fast_scratch);
    sl__free(v->file_buf);
    sl__free(v->block_buf);
    sl_vplan_destroy(v->own_plan);
    sl__free(v);
}

/* ---- rows, coercion, rules ---------------------------------------------- */

struct sl_val *sl__record_vals(struct sl_validator *v, const struct vnode *n)
{
    struct sl_val *vals = sl__arena_alloc(&v->arena, n->n_kids * sizeof(*vals));
    if (vals == NULL) {
        return NULL;
    }
    memset(vals, 0, n->n_kids * sizeof(*vals));
    for (uint32_t k = 0; k < n->n_repeated; k++) {
        vals[n->repeated[k]].kind = SL_V_LIST;
    }
    return vals;
}

int sl__row_begin(struct sl_validator *v, struct rowctx *ctx, const char *line, size_t n)
{
    sl__arena_reset(&v->arena);
    memset(ctx, 0, offsetof(struct rowctx, reason));
    ctx->reason[0] = '\0';
    ctx->err_val = NULL;
    ctx->err_val_len = 0;
    ctx->fatal = 0;
    ctx->v = v;
    ctx->line = line;
    ctx->p = line;
    ctx->end = line + n;
    for (uint32_t i = 0, n_slots = v->plan->n_slots; i < n_slots; i++) {
        v->slots[i].present = false;
    }
    v->row = sl__record_vals(v, &v->plan->root);
    if (v->row == NULL) {
        return ctx->fatal = -SL_ENOMEM;
    }
    return OK;
}

bool sl__all_ascii(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
#ifdef __SSE2__
    if (n >= 16) {
        /* 16 bytes a step, the last step overlapping the one before */
        for (;; i += 16) {
            i = i + 16 > n ? n - 16 : i;
            if (_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(u + i))) != 0) {
                return false;
            }
            if (i + 16 == n) {
                return true;
            }
        }
    }
#endif
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, u + i, 8);
        acc |= w;
    }
    for (; i < n; i++) {
        acc |= u[i];
    }
    return (acc & 0x8080808080808080ULL) == 0;
}

static int convert_fail(struct rowctx *ctx, const struct sl_field *f, const char *s,
                        size_t len, const char *why)
{
    switch (f->type) {
    case SL_T_NUMERIC:
    case SL_T_BIGNUMERIC:
        return sl__vfail(ctx, f, s, len, "Invalid %s value: %.*s (%s). Field: %s;",
                         sl_type_name(f->type), (int)(len > 100 ? 100 : len), s,
                         why ? why : "invalid", f->path);
    case SL_T_TIMESTAMP:
        return sl__vfail(ctx, f, s, len, "Couldn't convert value to timestamp: %s. Field: %s",
                         why ? why : "invalid", f->path);
    default:
        return sl__vfail(ctx, f, s, len, "Could not convert value to %s: %s. Field: %s",
                         sl_type_name(f->type), why ? why : "invalid", f->path);
    }
}

/* RANGE "[lower, upper)" with UNBOUNDED/NULL bounds -> canonical text. */
static int coerce_range(struct rowctx *ctx, const struct vnode *n, const char *s, size_t len,
                        struct sl_val *out)
{
    const struct sl_field *f = n->f;
    if (len < 4 || s[0] != '[' || s[len - 1] != ')') {
        return convert_fail(ctx, f, s, len, "expected [lower, upper)");
    }
    const char *comma = memchr(s, ',', len);
    if (comma == NULL) {
        return convert_fail(ctx, f, s, len, "expected [lower, upper)");
    }
    const char *parts[2] = {s + 1, comma + 1};
    size_t plen[2] = {(size_t)(comma - s - 1), (size_t)(s + len - 1 - comma - 1)};
    char *buf = sl__arena_alloc(&ctx->v->arena, 96);
    if (buf == NULL) {
        return ctx->fatal = -SL_ENOMEM;
    }
    size_t o = 0;
    buf[o++] = '[';
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i];
        size_t l = plen[i];
        while (l > 0 && *p == ' ') {
            p++, l--;
        }
        while (l > 0 && p[l - 1] == ' ') {
            l--;
        }
        char tmp[40];
        size_t tl;
        if ((l == 9 && strncasecmp(p, "UNBOUNDED", 9) == 0) ||
            (l == 4 && strncasecmp(p, "NULL", 4) == 0)) {
            memcpy(tmp, "UNBOUNDED", 9);
            tl = 9;
        } else {
            const char *why = NULL;
            int rc;
            int64_t us;
            int32_t days;
            if (f->range_elem == SL_T_DATE) {
                rc = sl__coerce_date(p, l, &days, &why);
                tl = rc == SL_OK ? sl__fmt_date(days, tmp) : 0;
            } else if (f->range_elem == SL_T_DATETIME) {
                rc = sl__coerce_datetime(p, l, &us, &why);
                tl = rc == SL_OK ? sl__fmt_datetime(us, tmp) : 0;
            } else {
                rc = sl__coerce_timestamp(p, l, &us, &why);
                tl = rc == SL_OK ? sl__fmt_timestamp(us, tmp) : 0;
            }
            if (rc != SL_OK) {
                return convert_fail(ctx, f, s, len, why);
            }
        }
        memcpy(buf + o, tmp, tl);
        o += tl;
        if (i == 0) {
            buf[o++] = ',';
            buf[o++] = ' ';
        }
    }
    buf[o++] = ')';
    out->kind = SL_V_STR;
    out->u.s = buf;
    out->len = (uint32_t)o;
    return OK;
}

static bool digits(const char **p, const char *e, bool sign)
{
    if (sign && *p < e && **p == '-') {
        (*p)++;
    }
    const char *s = *p;
    while (*p < e && (unsigned)(**p - '0') <= 9) {
        (*p)++;
    }
    return *p > s;
}

/* INTERVAL text: ISO 8601 duration (P1Y2M3DT4H5M6.5S, signed parts allowed, as
 * BigQuery emits) or the canonical "Y-M D H:M:S[.F]" form. Kept as text. */
static bool interval_ok(const char *s, size_t n)
{
    const char *p = s, *e = s + n;
    if (p < e && *p == 'P') {
        p++;
        bool any = false, in_time = false;
        while (p < e) {
            if (*p == 'T' && !in_time) {
                in_time = true;
                p++;
                continue;
            }
            if (!digits(&p, e, true)) {
                return false;
            }
            if (p < e && *p == '.' && in_time) {
                p++;
                if (!digits(&p, e, false) || p >= e || *p != 'S') {
                    return false;
                }
            }
            if (p >= e || memchr(in_time ? "HMS" : "YMWD", *p, in_time ? 3 : 4) == NULL) {
                return false;
            }
            p++;
            any = true;
        }
        return any;
    }
    /* Y-M D H:M:S[.F] */
    if (p < e && (*p == '-' || *p == '+')) {
        p++;
    }
    if (!digits(&p, e, false) || p >= e || *p++ != '-' || !digits(&p, e, false) ||
        p >= e || *p++ != ' ' || !digits(&p, e, true) || p >= e || *p++ != ' ') {
        return false;
    }
    if (p < e && (*p == '-' || *p == '+')) {
        p++;
    }
    if (!digits(&p, e, false) || p >= e || *p++ != ':' || !digits(&p, e, false) || p >= e ||
        *p++ != ':' || !digits(&p, e, false)) {
        return false;
    }
    if (p < e && *p == '.') {
        p++;
        if (!digits(&p, e, false)) {
            return false;
        }
    }
    return p == e;
}

/* TIMESTAMP columns with timestampPrecision 12 take up to 12 fraction digits;
 * DuckDB keeps microseconds, so digits 7..12 are dropped (truncated) first. */
static int coerce_ts_pico(const char *s, size_t len, int64_t *out, const char **why)
{
    char tmp[96];
    const char *dot = memchr(s, '.', len);
    if (dot == NULL || len >= sizeof(tmp)) {
        return sl__coerce_timestamp(s, len, out, why);
    }
    size_t head = (size_t)(dot - s) + 1, nd = 0;
    while (head + nd < len && (unsigned)(s[head + nd] - '0') <= 9) {
        nd++;
    }
    if (nd <= 6 || nd > 12) {
        return sl__coerce_timestamp(s, len, out, why);
    }
    memcpy(tmp, s, head + 6);
    memcpy(tmp + head + 6, s + head + nd, len - head - nd);
    return sl__coerce_timestamp(tmp, len - (nd - 6), out, why);
}

int sl__coerce_text(struct rowctx *ctx, const struct vnode *n, const char *s, size_t len,
                    struct sl_val *out)
{
    const struct sl_field *f = n->f;
    const char *why = NULL;
    int rc = SL_OK;
    switch (f->type) {
    case SL_T_STRING:
    case SL_T_GEOGRAPHY:
        if (f->max_length > 0 && len > (uint64_t)f->max_length &&
            sl__count_chars(s, len) > (uint64_t)f->max_length) {
            return sl__vfail(ctx, f, s, len,
                             "Value of %zu characters exceeds maxLength %lld. Field: %s",
                             sl__count_chars(s, len), (long long)f->max_length, f->path);
        }
        out->kind = SL_V_STR;
        out->u.s = s;
        out->len = (uint32_t)len;
        break;
    case SL_T_BYTES: {
        uint8_t *b = sl__arena_alloc(&ctx->v->arena, len / 4 * 3 + 4);
        size_t bl = 0;
        if (b == NULL) {
            return ctx->fatal = -SL_ENOMEM;
        }
        rc = sl__coerce_base64(s, len, b, len / 4 * 3 + 4, &bl, &why);
        if (rc == SL_OK && f->max_length > 0 && bl > (uint64_t)f->max_length) {
            return sl__vfail(ctx, f, s, len, "Value of %zu bytes exceeds maxLength %lld. Field: %s",
                             bl, (long long)f->max_length, f->path);
        }
        out->kind = SL_V_BYTES;
        out->u.s = (const char *)b;
        out->len = (uint32_t)bl;
        break;
    }
    case SL_T_INT64:
        out->kind = SL_V_I64;
        rc = sl__coerce_int64(s, len, &out->u.i, &why);
        break;
    case SL_T_FLOAT64:
        out->kind = SL_V_F64;
        rc = sl__coerce_float64(s, len, &out->u.f, &why);
        break;
    case SL_T_NUMERIC:
        out->kind = SL_V_DEC;
        rc = sl__coerce_numeric(s, len, n->precision, n->scale, f->round_half_even, &out->u.d,
                                &why);
        break;
    case SL_T_BIGNUMERIC: {
        char *b = sl__arena_alloc(&ctx->v->arena, 96);
        size_t bl = 0;
        if (b == NULL) {
            return ctx->fatal = -SL_ENOMEM;
        }
        rc = sl__coerce_bignumeric(s, len, n->precision, n->scale, f->round_half_even, b, 96,
                                   &bl, &why);
        out->kind = SL_V_STR;
        out->u.s = b;
        out->len = (uint32_t)bl;
        break;
    }
    case SL_T_BOOL:
        out->kind = SL_V_BOOL;
        rc = sl__coerce_bool(s, len, &out->u.b, &why);
        break;
    case SL_T_DATE: {
        int32_t d = 0;
        rc = sl__coerce_date(s, len, &d, &why);
        out->kind = SL_V_DATE;
        out->u.i = d;
        break;
    }
    case SL_T_TIME:
        out->kind = SL_V_TIME;
        rc = sl__coerce_time(s, len, &out->u.i, &why);
        break;
    case SL_T_DATETIME:
        out->kind = SL_V_DATETIME;
        rc = sl__coerce_datetime(s, len, &out->u.i, &why);
        break;
    case SL_T_TIMESTAMP:
        out->kind = SL_V_TS;
        rc = f->ts_precision == 12 ? coerce_ts_pico(s, len, &out->u.i, &why)
                                   : sl__coerce_timestamp(s, len, &out->u.i, &why);
        break;
    case SL_T_INTERVAL:
        if (!interval_ok(s, len)) {
            rc = -SL_EINVAL;
            why = "expected an ISO 8601 duration or Y-M D H:M:S";
        }
        out->kind = SL_V_STR;
        out->u.s = s;
        out->len = (uint32_t)len;
        break;
    case SL_T_RANGE:
        if ((rc = coerce_range(ctx, n, s, len, out)) != OK) {
            return rc;
        }
        break;
    case SL_T_JSON:
    case SL_T_RECORD:
        /* JSON text held in a CSV field: validated by the CSV path */
        return sl__vfail(ctx, f, s, len, "Cannot convert text to %s. Field: %s",
                         sl_type_name(f->type), f->path);
    }
    if (rc != SL_OK) {
        out->kind = SL_V_NULL;
        return convert_fail(ctx, f, s, len, why);
    }
    sl__remember(ctx->v, n, s, len, out);
    return n->n_checks ? sl__run_checks(ctx, n, s, len, out) : OK;
}
