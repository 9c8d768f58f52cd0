/* csvrows.c - CSV records into rows: null markers and BigQuery's empty-field
 * rules, header mapping, jagged and extra columns, the per-record ASCII check,
 * and the leading-rows prelude of the parallel path. The file loops that drive
 * it are in stream.c. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "validate/coerce.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- CSV ------------------------------------------------------------------ */

static bool is_marker(const struct sl_validator *v, const struct sl_csv_field *fl)
{
    const char *m = v->o.null_marker;
    return m != NULL && strlen(m) == fl->len && memcmp(m, fl->p, fl->len) == 0;
}

static int csv_json_field(struct rowctx *c, const struct vnode *n, const char *s, size_t len,
                          struct sl_val *out)
{
    /* validate and minify the JSON text with the NDJSON scanner's machinery */
    struct sl_validator *v = c->v;
    const char *save_line = c->line, *save_p = c->p, *save_end = c->end;
    c->line = s;
    c->p = s;
    c->end = s + len;
    int rc = sl__json_minify(c, out);
    c->line = save_line;
    c->p = save_p;
    c->end = save_end;
    if (rc == 0) {
        sl__remember(v, n, s, len, out);
        rc = n->n_checks ? sl__run_checks(c, n, s, len, out) : 0;
    }
    return rc;
}

static int csv_field(struct rowctx *c, const struct vnode *n, const struct sl_csv_field *fl,
                     struct sl_val *out, bool ascii)
{
    struct sl_validator *v = c->v;
    const struct sl_field *f = n->f;
    bool text_type = f->type == SL_T_STRING || f->type == SL_T_BYTES;
    bool is_null;
    if (v->o.null_marker != NULL) {
        is_null = is_marker(v, fl);
        if (!is_null && fl->len == 0 && !text_type) {
            return sl__vfail(c, f, "", 0,
                             "Empty value for %s with a custom null marker. Field: %s",
                             sl_type_name(f->type), f->path);
        }
    } else {
        is_null = fl->len == 0 && (!fl->quoted || !text_type);
    }
    if (is_null) {
        out->kind = SL_V_NULL;
        if (f->mode == SL_M_REQUIRED || n->rule_required) {
            return sl__vfail(c, f, NULL, 0,
                             "Only optional fields can be set to NULL. Field: %s; Value: NULL",
                             f->path);
        }
        return 0;
    }
    if (SL_UNLIKELY(fl->len > v->o.max_value_size)) {
        return sl__vfail(c, f, fl->p, fl->len < 64 ? fl->len : 64,
                         "Value of %zu bytes exceeds the maximum value size of %zu bytes. Field: %s",
                         fl->len, v->o.max_value_size, f->path);
    }
    if (!ascii && sl__utf8_count(fl->p, fl->len) < 0) {
        return sl__vfail(c, f, fl->p, fl->len, "Invalid UTF-8 in field. Field: %s", f->path);
    }
    if (f->type == SL_T_JSON) {
        return csv_json_field(c, n, fl->p, fl->len, out);
    }
    if (f->type == SL_T_STRING && f->max_length == 0) {
        return sl__string_value(c, n, fl->p, fl->len, out);
    }
    return sl__coerce_text(c, n, fl->p, fl->len, out);
}

/* The header's fields as hdr_key keeps them: the count, then each field's
 * length and bytes. */
static bool same_header(const struct sl_buf *key, const struct sl_csv *csv)
{
    const char *k = key->data, *e = key->data + key->len;
    size_t n;
    if (key->len < sizeof(n)) {
        return false;
    }
    memcpy(&n, k, sizeof(n));
    k += sizeof(n);
    if (n != csv->n_fields) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if ((size_t)(e - k) < sizeof(len)) {
            return false;
        }
        memcpy(&len, k, sizeof(len));
        k += sizeof(len);
        if (len != csv->fields[i].len || (size_t)(e - k) < len ||
            memcmp(k, csv->fields[i].p, len) != 0) {
            return false;
        }
        k += len;
    }
    return k == e;
}

static void keep_header(struct sl_buf *key, const struct sl_csv *csv)
{
    size_t n = csv->n_fields;
    sl__buf_reset(key);
    int rc = sl__buf_append(key, &n, sizeof(n));
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        size_t len = csv->fields[i].len;
        rc = sl__buf_append(key, &len, sizeof(len));
        if (rc == SL_OK) {
            rc = sl__buf_append(key, csv->fields[i].p, len);
        }
    }
    if (rc != SL_OK) {
        sl__buf_reset(key); /* no memory to remember it: the next header is mapped anew */
    }
}

/* Build the column map from a header record; the last header's map when the
 * fields are the same (files after the first one of a feed usually share it). */
/* A header cell without trailing spaces or CR. */
static size_t header_cell(const struct sl_csv_field *fl, const char **out_p)
{
    size_t len = fl->len;
    const char *p = fl->p;
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r')) {
        len--;
    }
    *out_p = p;
    return len;
}

/* Append ", item" (no comma first) to a list kept under max bytes; past it,
 * items are only counted (*dropped). */
static void list_add(struct sl_buf *b, size_t max, size_t *dropped, const char *fmt, ...)
    SL_PRINTF(4, 5);
static void list_add(struct sl_buf *b, size_t max, size_t *dropped, const char *fmt, ...)
{
    char item[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item, sizeof(item), fmt, ap);
    va_end(ap);
    size_t n = strlen(item);
    if (b->len + n + 2 > max) {
        (*dropped)++;
        return;
    }
    if ((b->len > 0 && sl__buf_append(b, ", ", 2) != SL_OK) ||
        sl__buf_append(b, item, n) != SL_OK) {
        (*dropped)++;
    }
}

static const char *list_text(struct sl_buf *b, size_t dropped, char *more, size_t more_size)
{
    more[0] = '\0';
    if (dropped) {
        snprintf(more, more_size, " and %zu more", dropped);
    }
    return b->len ? b->data : "";
}

/* Is top-level field idx filled by some header column? */
static bool header_fills(const struct sl_validator *v, uint32_t idx)
{
    for (size_t i = 0; i < v->csv_map_len; i++) {
        if (v->csv_map[i] == idx) {
            return true;
        }
    }
    return false;
}

/* Build the column map from a header record. Every column that names no field
 * is listed at once: an error for the file, or (--ignore-unknown-values) a
 * notice that they are dropped; fields no column fills are told in a notice
 * too (NULL in every row; a REQUIRED one rejects every row). */
static int csv_header(struct loop *L)
{
    struct sl_validator *v = L->v;
    size_t n = v->csv.n_fields;
    if (same_header(&v->hdr_key, &v->csv)) {
        v->csv_map = v->hdr_map;
        v->csv_map_len = n;
        return SL_OK;
    }
    sl__buf_reset(&v->hdr_key);
    if (v->hdr_map == NULL || v->hdr_map_cap < n) {
        size_t cap = n ? n : 1;
        uint32_t *m = sl__malloc(cap * sizeof(*m));
        if (m == NULL) {
            return SL_ERR(L->err, -SL_ENOMEM, "out of memory reading the CSV header");
        }
        sl__free(v->hdr_map);
        v->hdr_map = m;
        v->hdr_map_cap = cap;
    }
    uint32_t *map = v->hdr_map;
    v->csv_map = v->hdr_map;
    v->csv_map_len = n;
    size_t n_unknown = 0, first_unknown = 0, drop_u = 0, drop_f = 0, drop_r = 0;
    struct sl_buf unknown, unfilled, required;
    sl__buf_init(&unknown);
    sl__buf_init(&unfilled);
    sl__buf_init(&required);
    int rc = SL_OK;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t len = header_cell(&v->csv.fields[i], &p);
        const struct sl_field *f = sl_field_find(&v->t->root, p, len);
        if (f == NULL) {
            if (n_unknown++ == 0) {
                first_unknown = i;
            } else {
                list_add(&unknown, 200, &drop_u, "%zu \"%.*s\"", i + 1,
                         (int)(len > 40 ? 40 : len), p);
            }
            map[i] = UINT32_MAX;
            continue;
        }
        for (size_t k = 0; k < i; k++) {
            if (map[k] == f->idx) {
                SL_ERR(L->err, -SL_ECORRUPT, "%s: header names column \"%s\" twice", L->file,
                       f->name);
                sl__error_path(L->err, L->file);
                rc = -SL_ECORRUPT;
                goto out;
            }
        }
        map[i] = f->idx;
    }
    const struct vnode *root = &v->plan->root;
    for (uint32_t k = 0; k < root->n_kids; k++) {
        if (!header_fills(v, k)) {
            const struct sl_field *f = root->kids[k].f;
            bool must = f->mode == SL_M_REQUIRED || root->kids[k].rule_required;
            list_add(must ? &required : &unfilled, 200, must ? &drop_r : &drop_f, "%s",
                     f->name);
        }
    }
    char m1[32], m2[32];
    if (n_unknown > 0 && !v->o.ignore_unknown) {
        /* " (nor are columns 5 "a", 9 "b"); fields no column fills: x, y" */
        char nor[300] = "", unf[300] = "";
        if (n_unknown > 1) {
            snprintf(nor, sizeof(nor), " (nor are columns %s%s)",
                     list_text(&unknown, drop_u, m1, sizeof(m1)), m1);
        }
        if (required.len + unfilled.len > 0) {
            const char *r = list_text(&required, drop_r, m1, sizeof(m1));
            const char *f = list_text(&unfilled, drop_f, m2, sizeof(m2));
            snprintf(unf, sizeof(unf), "; fields no column fills: %s%s%s%s%s", r,
                     required.len ? m1 : "", required.len && unfilled.len ? ", " : "", f,
                     unfilled.len ? m2 : "");
        }
        const char *p;
        size_t len = header_cell(&v->csv.fields[first_unknown], &p);
        SL_ERR(L->err, -SL_ECORRUPT,
               "%s: header column %zu \"%.*s\" is not a field of %s.%s%s%s; use "
               "--ignore-unknown-values to drop such columns",
               L->file, first_unknown + 1, (int)(len > 100 ? 100 : len), p, v->t->dataset,
               v->t->name, nor, unf);
        sl__error_path(L->err, L->file);
        L->err->line_no = L->line_no;
        rc = -SL_ECORRUPT;
        goto out;
    }
    if (v->o.notice != NULL) {
        char msg[512];
        if (n_unknown > 0) {
            const char *p;
            size_t len = header_cell(&v->csv.fields[first_unknown], &p);
            snprintf(msg, sizeof(msg),
                     "header column%s %zu \"%.*s\"%s%s%s %s no field of %s.%s: dropped "
                     "(--ignore-unknown-values)",
                     n_unknown > 1 ? "s" : "", first_unknown + 1, (int)(len > 40 ? 40 : len),
                     p, n_unknown > 1 ? ", " : "", list_text(&unknown, drop_u, m1, sizeof(m1)),
                     n_unknown > 1 ? m1 : "", n_unknown > 1 ? "are" : "is", v->t->dataset,
                     v->t->name);
            v->o.notice(v->o.notice_ud, L->file, msg);
        }
        if (unfilled.len > 0) {
            snprintf(msg, sizeof(msg), "no header column for %s%s: NULL in every row",
                     list_text(&unfilled, drop_f, m1, sizeof(m1)), m1);
            v->o.notice(v->o.notice_ud, L->file, msg);
        }
        if (required.len > 0) {
            snprintf(msg, sizeof(msg),
                     "no header column for REQUIRED %s%s: every row will be rejected",
                     list_text(&required, drop_r, m1, sizeof(m1)), m1);
            v->o.notice(v->o.notice_ud, L->file, msg);
        }
    }
    keep_header(&v->hdr_key, &v->csv); /* only a header that mapped */
out:
    if (rc != SL_OK) {
        v->csv_map = NULL;
        v->csv_map_len = 0;
    }
    sl__buf_release(&unknown);
    sl__buf_release(&unfilled);
    sl__buf_release(&required);
    return rc;
}

/* The header row could not be read as a CSV record: an error for the file,
 * never a silent fall back to columns by position. */
static int header_unreadable(struct loop *L, uint64_t line_no)
{
    struct sl_validator *v = L->v;
    SL_ERR(L->err, -SL_ECORRUPT,
           "%s: line %llu: the header row cannot be read: %s (column %zu); nothing was read "
           "(columns are matched by header name with --header, never by position)",
           L->file, (unsigned long long)line_no,
           v->csv.bad_reason ? v->csv.bad_reason : "malformed record",
           v->csv.bad_field_idx + 1);
    sl__error_path(L->err, L->file);
    L->err->line_no = line_no;
    return -SL_ECORRUPT;
}

/* The first data record of a file read by position: when most of its values
 * are field names it is likely a header the options do not mention. Counts
 * in stats; a reject for it says so instead of its own reason (which might
 * suggest --allow-jagged-rows for what is a header). */
static void sniff_first_record(struct loop *L, const char *rec, size_t len, bool rejected)
{
    struct sl_validator *v = L->v;
    size_t n = v->csv.n_fields, named = 0, drop = 0;
    struct sl_buf names;
    sl__buf_init(&names);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t cl = header_cell(&v->csv.fields[i], &p);
        const struct sl_field *f = cl > 0 ? sl_field_find(&v->t->root, p, cl) : NULL;
        if (f != NULL) {
            named++;
            list_add(&names, 120, &drop, "%s", f->name);
        }
    }
    if (named == 0 || 2 * named <= n) {
        sl__buf_release(&names);
        return;
    }
    L->st->header_like = true;
    L->st->header_like_taken = !rejected;
    if (rejected) {
        struct rowctx *c = &L->ctx;
        char more[32];
        snprintf(c->reason, sizeof(c->reason),
                 "This row looks like a header: %zu of its %zu values are field names (%s%s); "
                 "use --header to match columns by name, or --skip-leading-rows %llu to skip "
                 "it",
                 named, n, list_text(&names, drop, more, sizeof(more)), more,
                 (unsigned long long)v->o.skip_leading_rows + 1);
        c->err_field = NULL;
        c->err_path[0] = '\0';
        while (len > 0 && (rec[len - 1] == '\n' || rec[len - 1] == '\r')) {
            len--;
        }
        c->err_val = rec;
        c->err_val_len = len > 60 ? 60 : len;
    }
    sl__buf_release(&names);
}

/* try_fast: the fast path may take the record (false when it already turned
 * it down). */
static int csv_record(struct loop *L, const char *start, size_t len, bool try_fast)
{
    struct sl_validator *v = L->v;
    const struct vnode *root = &v->plan->root;
    struct rowctx *c = &L->ctx;
    /* Latin-1 input is converted to UTF-8 by the reader; an all-ASCII record
     * (the raw bytes, so unescaped fields too) needs no per-field check */
    bool ascii = v->o.csv.latin1 || sl__all_ascii(start, len);
    if (try_fast && v->fast_csv &&
        sl__fast_csv_row(v, v->csv.fields, v->csv.n_fields, start, len, ascii) == 0) {
        return 0;
    }
    int rc = sl__row_begin(v, c, start, len);
    if (rc != 0) {
        return rc;
    }
    size_t nf = v->csv.n_fields;
    const struct sl_csv_field *fs = v->csv.fields;
    if (v->csv_map != NULL) {
        /* by header name */
        if (nf > v->csv_map_len && !v->o.ignore_unknown) {
            return sl__vfail(c, NULL, fs[v->csv_map_len].p, fs[v->csv_map_len].len,
                             "Too many values in row: %zu columns, the header has %zu", nf,
                             v->csv_map_len);
        }
        if (nf < v->csv_map_len && !v->o.allow_jagged) {
            return sl__vfail(c, NULL, NULL, 0,
                             "Too few values in row: %zu columns, the header has %zu (allow with --allow-jagged-rows)",
                             nf, v->csv_map_len);
        }
        for (size_t i = 0; i < nf && i < v->csv_map_len; i++) {
            uint32_t k = v->csv_map[i];
            if (k == UINT32_MAX) {
                continue;
            }
            if ((rc = csv_field(c, &root->kids[k], &fs[i], &v->row[k], ascii)) != 0) {
                return rc;
            }
        }
    } else {
        uint32_t ncol = root->n_kids;
        if (nf > ncol && !v->o.ignore_unknown) {
            return sl__vfail(c, NULL, fs[ncol].p, fs[ncol].len,
                             "Too many values in row: %zu columns, the table has %u", nf, ncol);
        }
        if (nf < ncol && !v->o.allow_jagged) {
            return sl__vfail(c, root->kids[nf].f, NULL, 0,
                             "Too few values in row: %zu columns, the table has %u (missing %s; allow with --allow-jagged-rows)",
                             nf, ncol, root->kids[nf].f->path);
        }
        for (uint32_t i = 0; i < ncol && i < nf; i++) {
            if ((rc = csv_field(c, &root->kids[i], &fs[i], &v->row[i], ascii)) != 0) {
                return rc;
            }
        }
    }
    /* missing (jagged or unmapped) REQUIRED columns */
    for (uint32_t k = 0; k < root->n_must; k++) {
        uint32_t i = root->must[k];
        if (v->row[i].kind == SL_V_NULL) {
            const struct sl_field *f = root->kids[i].f;
            bool unmapped = v->csv_map != NULL && !header_fills(v, i);
            return sl__vfail(c, f, NULL, 0,
                             "Only optional fields can be set to NULL. Field: %s; Value: NULL%s",
                             f->path, unmapped ? " (the header has no column for it)" : "");
        }
    }
    return sl__row_finish(c);
}

int sl__csv_block(struct loop *L, const char *buf, size_t len, bool eof, size_t *used)
{
    struct sl_validator *v = L->v;
    size_t pos = 0;
    int rc = SL_OK;
    /* records come from the reader's index (csvindex.c) while it has them,
     * else one at a time from sl_csv_next; after a record the index could not
     * take, it is tried again after ix_wait records (doubling while it keeps
     * failing, so input it never takes costs little) */
    size_t ix_base = 0, ix_end = 0;
    unsigned ix_wait = 0, ix_backoff = 1;
    sl_csv_index_reset(&v->csv);
    v->fast_csv = !L->header_pending && sl__fast_csv_ok(v);
    while (pos < len || eof) {
        size_t u = 0;
        uint64_t lines = 0;
        int st;
        bool try_fast = true;
        if (pos >= ix_end && ix_wait == 0 && len - pos > 0) {
            size_t b = sl_csv_index(&v->csv, buf + pos, len - pos);
            if (b > 0) {
                ix_base = pos;
                ix_end = pos + b;
                ix_backoff = 1;
            } else {
                ix_wait = ix_backoff;
                ix_backoff = ix_backoff < 64 ? 2 * ix_backoff : 64;
            }
        }
        if (pos < ix_end) {
            lines = 1;
            if (v->fast_csv && L->skip_left == 0 && !L->sniff_first) {
                /* the fast path straight from the index; a record it does not
                 * confirm is read into fields for the general path */
                int fr = sl__fast_csv_ix(v, buf + ix_base, &u);
                if (fr == 0) {
                    L->st->rows++;
                    L->record_no++;
                    pos += u;
                    L->off += u;
                    L->line_no++;
                    rc = sl__loop_row(L);
                    sl__loop_after_row(L);
                    if (rc != SL_OK) {
                        break;
                    }
                    continue;
                }
                if (fr < 0) {
                    rc = SL_ERR(L->err, fr, "%s: %s", L->file, sl_strerror(fr));
                    break;
                }
                try_fast = false;
            }
            st = sl_csv_index_next(&v->csv, buf + ix_base, &u);
        } else {
            st = sl_csv_next(&v->csv, buf + pos, len - pos, eof, &u, &lines);
            ix_wait -= ix_wait > 0;
        }
        if (st < 0) {
            rc = SL_ERR(L->err, st, "%s: %s", L->file, sl_strerror(st));
            break;
        }
        if (st == SL_CSV_NEED_MORE || st == SL_CSV_END) {
            break;
        }
        const char *rec = buf + pos;
        uint64_t line_no = L->line_no, off = L->off;
        bool is_blank = st == SL_CSV_RECORD && v->csv.n_fields == 1 &&
                        v->csv.fields[0].len == 0 && !v->csv.fields[0].quoted;
        pos += u;
        L->off += u;
        L->line_no += lines ? lines : 1;
        if (is_blank) {
            continue; /* blank line */
        }
        if (L->skip_left > 0) {
            L->skip_left--;
            if (L->skip_left == 0 && L->header_pending) {
                L->header_pending = false;
                if (st != SL_CSV_RECORD) {
                    rc = header_unreadable(L, line_no);
                    break;
                }
                if ((rc = csv_header(L)) != SL_OK) {
                    break;
                }
                v->fast_csv = sl__fast_csv_ok(v);
            }
            continue;
        }
        L->st->rows++;
        L->record_no++;
        /* a record longer than --max-row-size that still fit in the buffer */
        size_t rlen = u;
        while (rlen > 0 && (rec[rlen - 1] == '\n' || rec[rlen - 1] == '\r')) {
            rlen--;
        }
        if (SL_UNLIKELY(rlen > v->o.max_row_size)) {
            memset(&L->ctx, 0, sizeof(L->ctx));
            snprintf(L->ctx.reason, sizeof(L->ctx.reason),
                     "Row exceeds the maximum row size of %zu bytes", v->o.max_row_size);
            rc = sl__loop_reject(L, line_no, off, &L->ctx);
        } else if (st == SL_CSV_BAD) {
            sl__row_begin(v, &L->ctx, rec, u);
            sl__vfail(&L->ctx, NULL, rec, u > 60 ? 60 : u, "CSV parsing error: %s (column %zu)",
                      v->csv.bad_reason ? v->csv.bad_reason : "malformed record",
                      v->csv.bad_field_idx + 1);
            rc = sl__loop_reject(L, line_no, off, &L->ctx);
        } else {
            int r = csv_record(L, rec, u, try_fast);
            if (r < 0) {
                rc = SL_ERR(L->err, r, "%s: line %llu: %s", L->file,
                            (unsigned long long)line_no, sl_strerror(r));
                break;
            }
            if (SL_UNLIKELY(L->sniff_first)) {
                sniff_first_record(L, rec, u, r == 1);
            }
            rc = r == 0 ? sl__loop_row(L) : sl__loop_reject(L, line_no, off, &L->ctx);
        }
        L->sniff_first = false;
        sl__loop_after_row(L);
        if (rc != SL_OK) {
            break;
        }
    }
    *used = pos;
    return rc;
}

/* CSV: read the leading rows (--skip-leading-rows, the --header row) from the
 * mapped file on this thread, exactly as sl__csv_block would, so the parts start at
 * the first data record and share the header mapping. *out_pre keeps the map. */
int sl__csv_prelude(const struct sl_vplan *plan, const struct sl_vopts *o, const char *path,
                    const char *map, size_t len, size_t bom, struct sl_validator **out_pre,
                    size_t *out_start, uint64_t *out_lines, struct sl_error *err)
{
    struct sl_validator *v = NULL;
    int rc = sl_validator_create_from_plan(plan, o, &v, err);
    *out_pre = v;
    if (rc != SL_OK) {
        return rc;
    }
    struct sl_file_stats st;
    memset(&st, 0, sizeof(st));
    struct loop L;
    sl__loop_init(&L, v, path, NULL, NULL, &st, err);
    L.off = bom;
    size_t pos = 0;
    while (L.skip_left > 0 && pos < len) {
        size_t u = 0;
        uint64_t lines = 0;
        int cs = sl_csv_next(&v->csv, map + pos, len - pos, true, &u, &lines);
        if (cs < 0) {
            return SL_ERR(err, cs, "%s: %s", path, sl_strerror(cs));
        }
        if (cs == SL_CSV_END || cs == SL_CSV_NEED_MORE) {
            break;
        }
        pos += u;
        L.line_no += lines ? lines : 1;
        if (cs == SL_CSV_RECORD && v->csv.n_fields == 1 && v->csv.fields[0].len == 0 &&
            !v->csv.fields[0].quoted) {
            continue; /* blank line */
        }
        L.skip_left--;
        if (L.skip_left == 0 && L.header_pending) {
            L.header_pending = false;
            if (cs != SL_CSV_RECORD) {
                return header_unreadable(&L, L.line_no - (lines ? lines : 1));
            }
            if ((rc = csv_header(&L)) != SL_OK) {
                return rc;
            }
        }
    }
    *out_start = pos;
    *out_lines = L.line_no - 1;
    return SL_OK;
}
