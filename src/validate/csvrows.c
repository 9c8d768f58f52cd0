/* csvrows.c - CSV records into rows: null markers and BigQuery's empty-field
 * rules, header mapping, jagged and extra columns, the per-record ASCII check,
 * and the leading-rows prelude of the parallel path. The file loops that drive
 * it are in stream.c. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "validate/coerce.h"

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
    for (size_t i = 0; i < n; i++) {
        const struct sl_csv_field *fl = &v->csv.fields[i];
        size_t len = fl->len;
        const char *p = fl->p;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r')) {
            len--;
        }
        const struct sl_field *f = sl_field_find(&v->t->root, p, len);
        if (f == NULL) {
            if (!v->o.ignore_unknown) {
                SL_ERR(L->err, -SL_ECORRUPT,
                       "%s: header column %zu \"%.*s\" is not a field of %s.%s (use --ignore-unknown-values to drop it)",
                       L->file, i + 1, (int)(len > 100 ? 100 : len), p, v->t->dataset,
                       v->t->name);
                sl__error_path(L->err, L->file);
                L->err->line_no = L->line_no;
                return -SL_ECORRUPT;
            }
            map[i] = UINT32_MAX;
            continue;
        }
        for (size_t k = 0; k < i; k++) {
            if (map[k] == f->idx) {
                SL_ERR(L->err, -SL_ECORRUPT, "%s: header names column \"%s\" twice", L->file,
                       f->name);
                sl__error_path(L->err, L->file);
                return -SL_ECORRUPT;
            }
        }
        map[i] = f->idx;
    }
    keep_header(&v->hdr_key, &v->csv);
    v->csv_map = map;
    v->csv_map_len = n;
    return SL_OK;
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
            return sl__vfail(c, f, NULL, 0,
                             "Only optional fields can be set to NULL. Field: %s; Value: NULL",
                             f->path);
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
            if (v->fast_csv && L->skip_left == 0) {
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
            if (L->skip_left == 0 && L->header_pending && st == SL_CSV_RECORD) {
                L->header_pending = false;
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
            rc = r == 0 ? sl__loop_row(L) : sl__loop_reject(L, line_no, off, &L->ctx);
        }
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
        if (L.skip_left == 0 && L.header_pending && cs == SL_CSV_RECORD) {
            L.header_pending = false;
            if ((rc = csv_header(&L)) != SL_OK) {
                return rc;
            }
        }
    }
    *out_start = pos;
    *out_lines = L.line_no - 1;
    return SL_OK;
}
