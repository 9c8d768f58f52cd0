/* infer_csv.c - schema inference from CSV: every field typed from its text
 * with BigQuery's null rules, the header row detected (or given) and its names
 * sanitised, string_field_N otherwise; one file's columns are merged into the
 * schema at the end of the file. validate stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "validate/coerce.h"
#include "validate/infer_int.h"

#include <stdio.h>
#include <string.h>

int sl__infer_csv_begin(struct sl_infer *inf, struct ifile *f,
                        struct sl_error *err)
{
    uint64_t n = inf->o.skip_leading_rows;
    sl__buf_init(&f->cand);
    f->min_cols = SIZE_MAX;
    if (sl_csv_init(&f->csv, &inf->o.csv) != SL_OK) {
        sl_csv_release(&f->csv);
        return SL_ERR(err, -SL_EUSAGE, "unusable CSV options");
    }
    f->csv_ready = true;
    /* AUTO and YES: skip N-1 rows, row N (row 1 for N = 0) is the candidate;
     * NO: skip N rows */
    f->want_candidate = inf->o.header != SL_INFER_HEADER_NO;
    f->skip_left = f->want_candidate && n > 0 ? n - 1 : n;
    return SL_OK;
}

void sl__infer_csv_release(struct ifile *f)
{
    if (f->csv_ready) {
        sl_csv_release(&f->csv);
        f->csv_ready = false;
    }
    sl__buf_release(&f->cand);
    sl__free(f->cand_end);
    sl__free(f->cand_quoted);
    sl__free(f->cols);
    f->cand_end = NULL;
    f->cand_quoted = NULL;
    f->cols = NULL;
}

/* BigQuery's null rules (DECISIONS.md, CSV): with the default marker an empty
 * field is NULL (a quoted "" is '' for a STRING, NULL for every other type:
 * counted as NULL); with a custom marker the marker is NULL and an empty
 * field is '' that only a STRING takes. */
static enum ikind cell_kind(const struct sl_infer *inf, const char *p,
                            size_t len)
{
    const char *m = inf->o.null_marker;
    if (m != NULL) {
        if (strlen(m) == len && memcmp(m, p, len) == 0) {
            return IK_NONE;
        }
        if (len == 0) {
            return IK_STRING;
        }
    } else if (len == 0) {
        return IK_NONE;
    }
    return sl__infer_text_kind(p, len);
}

static bool grow_cols(struct ifile *f, size_t n)
{
    if (n > f->cap_cols) {
        size_t cap = f->cap_cols != 0 ? f->cap_cols : 16;
        while (cap < n) {
            cap *= 2;
        }
        struct icol *c = sl__realloc(f->cols, cap * sizeof(*c));
        if (c == NULL) {
            return false;
        }
        f->cols = c;
        f->cap_cols = cap;
    }
    while (f->n_cols < n) {
        f->cols[f->n_cols].kind = IK_NONE;
        f->cols[f->n_cols++].nonnull = 0;
    }
    return true;
}

static int data_row(struct sl_infer *inf, struct ifile *f,
                    const struct sl_csv_field *fs, size_t n,
                    struct sl_error *err)
{
    if (!grow_cols(f, n)) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (!inf->o.csv.latin1 && !sl__utf8_valid(fs[i].p, fs[i].len)) {
            return sl__infer_fail(inf, NULL, err, -SL_ECORRUPT,
                                  "invalid UTF-8 in column %zu (use "
                                  "--encoding ISO-8859-1 for Latin-1 data)",
                                  i + 1);
        }
        enum ikind k = cell_kind(inf, fs[i].p, fs[i].len);
        bool conflict = false;
        if (k != IK_NONE) {
            f->cols[i].kind = sl__infer_join(f->cols[i].kind, k, &conflict);
            f->cols[i].nonnull++;
        }
    }
    f->min_cols = n < f->min_cols ? n : f->min_cols;
    f->rows++;
    inf->st.rows++;
    f->done = inf->o.sample_rows != 0 && f->rows >= inf->o.sample_rows;
    return SL_OK;
}

/* Keep the header candidate's cells (the reader's fields are borrowed). */
static int keep_candidate(struct ifile *f, const struct sl_csv_field *fs,
                          size_t n, struct sl_error *err)
{
    f->cand_end = sl__calloc(n, sizeof(*f->cand_end));
    f->cand_quoted = sl__calloc(n, sizeof(*f->cand_quoted));
    if (f->cand_end == NULL || f->cand_quoted == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (sl__buf_append(&f->cand, fs[i].p, fs[i].len) != SL_OK) {
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        f->cand_end[i] = f->cand.len;
        f->cand_quoted[i] = fs[i].quoted;
    }
    f->n_cand = n;
    f->have_candidate = true;
    f->cand_line = f->line_no;
    return SL_OK;
}

static int record(struct sl_infer *inf, struct ifile *f, struct sl_error *err)
{
    if (f->skip_left > 0) {
        f->skip_left--;
        return SL_OK;
    }
    if (f->want_candidate) {
        f->want_candidate = false;
        return keep_candidate(f, f->csv.fields, f->csv.n_fields, err);
    }
    return data_row(inf, f, f->csv.fields, f->csv.n_fields, err);
}

int sl__infer_csv_feed(struct sl_infer *inf, struct ifile *f, const char *buf,
                       size_t len, bool eof, size_t *out_used,
                       struct sl_error *err)
{
    size_t pos = 0;
    int rc = SL_OK;
    while (!f->done && rc == SL_OK) {
        size_t u = 0;
        uint64_t lines = 0;
        int st = sl_csv_next(&f->csv, buf + pos, len - pos, eof, &u, &lines);
        if (st < 0) {
            rc = SL_ERR(err, st, "out of memory");
            break;
        }
        if (st == SL_CSV_NEED_MORE || st == SL_CSV_END) {
            break;
        }
        if (st == SL_CSV_BAD) {
            rc = sl__infer_fail(inf, NULL, err, -SL_ECORRUPT,
                                "malformed CSV record: %s (column %zu)",
                                f->csv.bad_reason ? f->csv.bad_reason : "?",
                                f->csv.bad_field_idx + 1);
            break;
        }
        const struct sl_csv_field *fs = f->csv.fields;
        bool is_blank = f->csv.n_fields == 1 && fs[0].len == 0 && !fs[0].quoted;
        if (!is_blank) {
            rc = record(inf, f, err);
        }
        pos += u;
        f->off += u;
        f->line_no += lines != 0 ? lines : 1;
    }
    *out_used = pos;
    return rc;
}

/* ---- the end of a file: header and names --------------------------------- */

static void cand_cell(const struct ifile *f, size_t i, const char **p,
                      size_t *len)
{
    size_t start = i > 0 ? f->cand_end[i - 1] : 0;
    *p = f->cand.data != NULL ? f->cand.data + start : "";
    *len = f->cand_end[i] - start;
    while (*len > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t' ||
                        (*p)[*len - 1] == '\r')) {
        (*len)--;
    }
}

/* BigQuery's rule (BIGQUERY.md §3.3): the first row is a header when every
 * cell of it is a (non-empty) string and some column below is not. */
static bool looks_like_header(const struct ifile *f)
{
    if (f->n_cand == 0) {
        return false;
    }
    for (size_t i = 0; i < f->n_cand; i++) {
        const char *p;
        size_t len;
        cand_cell(f, i, &p, &len);
        if (len == 0 || sl__infer_text_kind(p, len) != IK_STRING) {
            return false;
        }
    }
    for (size_t i = 0; i < f->n_cand && i < f->n_cols; i++) {
        if (f->cols[i].kind != IK_NONE && f->cols[i].kind != IK_STRING) {
            return true;
        }
    }
    return false;
}

/* The candidate as a data row (it was no header and nothing was skipped). */
static int candidate_as_data(struct sl_infer *inf, struct ifile *f,
                             struct sl_error *err)
{
    struct sl_csv_field *fs = sl__calloc(f->n_cand, sizeof(*fs));
    if (fs == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < f->n_cand; i++) {
        size_t start = i > 0 ? f->cand_end[i - 1] : 0;
        fs[i].p = f->cand.data != NULL ? f->cand.data + start : "";
        fs[i].len = f->cand_end[i] - start;
        fs[i].quoted = f->cand_quoted[i];
    }
    uint64_t line = f->line_no;
    f->line_no = f->cand_line;
    int rc = data_row(inf, f, fs, f->n_cand, err);
    f->line_no = line;
    sl__free(fs);
    return rc;
}

/* A header cell as a column name, as autodetect sanitises them: each
 * character outside [A-Za-z0-9_] becomes '_', a leading digit gets '_' before
 * it, no reserved prefix ('_' before it), cut to leave room for a suffix
 * within 300 characters; an empty cell is string_field_N. */
static void sanitise(const char *p, size_t len, size_t idx, char *out,
                     size_t cap)
{
    size_t o = 0;
    if (len > 0 && p[0] >= '0' && p[0] <= '9') {
        out[o++] = '_';
    }
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        unsigned ch = (unsigned char)p[i];
        bool alpha = (ch | 0x20u) >= 'a' && (ch | 0x20u) <= 'z';
        if ((ch & 0xC0) == 0x80) {
            continue; /* one '_' per UTF-8 character */
        }
        out[o++] =
            alpha || ch == '_' || (ch >= '0' && ch <= '9') ? (char)ch : '_';
    }
    if (o == 0) {
        o = (size_t)snprintf(out, cap, "string_field_%zu", idx);
    }
    o = o < SL_INFER_MAX_NAME - 16 ? o : SL_INFER_MAX_NAME - 16;
    out[o] = '\0';
    const char *why;
    while (!sl__infer_name_ok(out, o, true, &why) && o + 2 < cap) {
        memmove(out + 1, out, o + 1); /* a reserved prefix */
        out[0] = '_';
        o++;
    }
}

/* Column idx of the root, named from the header cell (or string_field_N),
 * made unique ignoring case by a _2, _3, ... suffix. */
static int add_column(struct sl_infer *inf, struct ifile *f, bool header,
                      size_t idx, struct sl_error *err)
{
    char base[SL_INFER_MAX_NAME + 8], name[SL_INFER_MAX_NAME + 32];
    const char *p = "";
    size_t len = 0;
    if (header && idx < f->n_cand) {
        cand_cell(f, idx, &p, &len);
    }
    sanitise(p, len, idx, base, sizeof(base));
    snprintf(name, sizeof(name), "%s", base);
    size_t hint = 0;
    for (unsigned k = 2; sl__infer_find(&inf->root, name, strlen(name), &hint);
         k++) {
        snprintf(name, sizeof(name), "%s_%u", base, k);
        hint = 0;
    }
    if (sl__infer_add(&inf->root, name, strlen(name)) == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    return SL_OK;
}

static void note_skip(struct sl_infer *inf, bool header)
{
    uint64_t n = inf->o.skip_leading_rows, skip = n;
    if (inf->o.header == SL_INFER_HEADER_YES) {
        skip = n > 0 ? n : 1;
    } else if (inf->o.header == SL_INFER_HEADER_AUTO && n == 0) {
        skip = header ? 1 : 0;
    }
    if (inf->skip_known && skip != inf->st.load_skip_rows) {
        inf->st.skip_varies = true;
    }
    if (!inf->skip_known || skip > inf->st.load_skip_rows) {
        inf->st.load_skip_rows = skip;
    }
    inf->skip_known = true;
    inf->st.header_files += header;
}

int sl__infer_csv_end(struct sl_infer *inf, struct ifile *f,
                      struct sl_error *err)
{
    bool header = false;
    int rc = SL_OK;
    if (f->have_candidate) {
        header = inf->o.header == SL_INFER_HEADER_YES || looks_like_header(f);
        if (!header && inf->o.skip_leading_rows == 0 &&
            (rc = candidate_as_data(inf, f, err)) != SL_OK) {
            return rc;
        }
    }
    note_skip(inf, header);
    if (f->rows > 0) {
        if (f->min_cols < inf->st.min_columns) {
            inf->st.min_columns = f->min_cols;
        }
        if (f->n_cols > inf->st.max_columns) {
            inf->st.max_columns = f->n_cols;
        }
    }
    size_t n = f->n_cols;
    if (header && f->n_cand > n) {
        n = f->n_cand; /* named columns with no value below: STRING */
    }
    for (size_t i = inf->root.n_kids; i < n && rc == SL_OK; i++) {
        rc = add_column(inf, f, header, i, err);
    }
    for (size_t i = 0; i < f->n_cols && rc == SL_OK; i++) {
        struct inode *c = inf->root.kids[i];
        bool conflict = false;
        c->kind = sl__infer_join(c->kind, f->cols[i].kind, &conflict);
        c->nonnull += f->cols[i].nonnull;
    }
    inf->root.objects += f->rows;
    return rc;
}
