/* render.c - query results as a table, CSV or NDJSON, from the typed rows of
 * any driver's cursor (docs/TYPES.md "Query output"). ops stage.
 *
 * Values are written as DuckDB writes them as text (dates, times, nested
 * values), so that the output does not change with the warehouse behind it.
 * Output gathers in a buffer written out every OUT_FLUSH bytes: a write per
 * line would be one system call per row on a line-buffered stdout. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "ops/render.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OUT_FLUSH 65536

enum mode {
    M_TEXT,   /* a top-level cell in table/CSV output: strings as they are */
    M_NESTED, /* inside a LIST/STRUCT/MAP in text output: strings 'quoted' */
    M_JSON,   /* a JSON value */
};

struct sl_render {
    const struct sl_qcol *cols; /* borrowed */
    size_t n_cols;
    enum sl_query_format fmt;
    FILE *out;
    size_t window;       /* table: rows measured before the first line */
    struct sl_buf buf;   /* output not written yet */
    struct sl_buf cell;  /* one value's text */
    struct sl_buf names; /* JSON: each column's "name": back to back */
    size_t *name_off;    /* JSON: column i's is names[name_off[i]..[i+1]) */
    uint64_t rows;       /* rows rendered */
    /* table */
    struct sl_buf grid;  /* the window's cells (header first), escaped */
    size_t *cell_off;    /* cell i is grid[cell_off[i], cell_off[i+1]) */
    size_t n_cells, cap; /* cells held (n_cells+1 offsets), offsets room */
    size_t *width;       /* each column's width, once the window is out */
    bool window_out;     /* the header and the window are printed */
};

/* ---- values as text ------------------------------------------------------ */

static int put_u64(struct sl_buf *b, uint64_t u, bool neg)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    do {
        tmp[--n] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (neg) {
        tmp[--n] = '-';
    }
    return sl__buf_append(b, tmp + n, sizeof(tmp) - n);
}

static int put_i64(struct sl_buf *b, int64_t v)
{
    return put_u64(b, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

/* v / 10^scale in decimal, with exactly scale digits after the point. */
static int put_dec(struct sl_buf *b, __int128 v, unsigned scale)
{
    char tmp[64];
    size_t n = sizeof(tmp);
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    unsigned k = 0;
    do {
        if (k == scale && scale > 0) {
            tmp[--n] = '.';
        }
        tmp[--n] = (char)('0' + (int)(u % 10));
        u /= 10;
        k++;
    } while (u != 0 || k <= scale);
    if (neg) {
        tmp[--n] = '-';
    }
    return sl__buf_append(b, tmp + n, sizeof(tmp) - n);
}

/* The shortest text that reads back as the same double (or float). */
static int put_double(struct sl_buf *b, double d, bool is_float, enum mode m)
{
    if (!isfinite(d)) {
        const char *s = isnan(d) ? "\"nan\"" : d > 0 ? "\"inf\"" : "\"-inf\"";
        size_t n = strlen(s);
        return m == M_JSON ? sl__buf_append(b, s, n)
                           : sl__buf_append(b, s + 1, n - 2);
    }
    char tmp[40];
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (is_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d) {
            break;
        }
    }
    return sl__buf_append(b, tmp, strlen(tmp));
}

static int put_text(struct sl_buf *b, const char *s, size_t n, enum mode m)
{
    if (m == M_JSON) {
        return sl__buf_json_str(b, s, n);
    }
    if (m == M_TEXT) {
        return sl__buf_append(b, s, n);
    }
    int rc = sl__buf_putc(b, '\'');
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = s[i] == '\'' ? sl__buf_append(b, "''", 2) : sl__buf_putc(b, s[i]);
    }
    return rc == SL_OK ? sl__buf_putc(b, '\'') : rc;
}

/* DuckDB's BLOB text: printable ASCII as it is, other bytes (and \ ' ") as
 * \xHH. */
static int put_blob(struct sl_buf *b, const char *s, size_t n, enum mode m)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sl_buf t;
    sl__buf_init(&t);
    int rc = sl__buf_reserve(&t, n + 1);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"') {
            rc = sl__buf_putc(&t, (char)c);
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            rc = sl__buf_append(&t, e, 4);
        }
    }
    if (rc == SL_OK) {
        rc = put_text(b, t.data != NULL ? t.data : "", t.len, m);
    }
    sl__buf_release(&t);
    return rc;
}

/* ---- dates and times in DuckDB's text form ------------------------------- */

#define US_PER_DAY INT64_C(86400000000)

static size_t put_digits(char *o, uint64_t v, int width)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    while ((int)n < width) {
        tmp[n++] = '0';
    }
    for (size_t i = 0; i < n; i++) {
        o[i] = tmp[n - 1 - i];
    }
    return n;
}

/* Proleptic Gregorian year/month/day of a day count from 1970-01-01 (H.
 * Hinnant, https://howardhinnant.github.io/date_algorithms.html). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* YYYY-MM-DD, the year widened past 9999, " (BC)" for years before 1 (year 0
 * is 1 BC); INT32_MAX and -INT32_MAX days are DuckDB's infinite dates. */
static size_t fmt_date(int64_t days, char *o)
{
    if (days == INT32_MAX || days == -INT32_MAX) {
        const char *s = days > 0 ? "infinity" : "-infinity";
        memcpy(o, s, strlen(s));
        return strlen(s);
    }
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    bool bc = y <= 0;
    if (bc) {
        y = -y + 1;
    }
    size_t n = put_digits(o, (uint64_t)y, 4);
    o[n++] = '-';
    n += put_digits(o + n, m, 2);
    o[n++] = '-';
    n += put_digits(o + n, d, 2);
    if (bc) {
        memcpy(o + n, " (BC)", 5);
        n += 5;
    }
    return n;
}

/* HH:MM:SS, then .ffffff without its trailing zeros when not whole. */
static size_t fmt_time(int64_t us, char *o)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    size_t n = put_digits(o, (uint64_t)(secs / 3600), 2);
    o[n++] = ':';
    n += put_digits(o + n, (uint64_t)(secs / 60 % 60), 2);
    o[n++] = ':';
    n += put_digits(o + n, (uint64_t)(secs % 60), 2);
    if (frac != 0) {
        o[n++] = '.';
        size_t f = put_digits(o + n, (uint64_t)frac, 6);
        while (f > 1 && o[n + f - 1] == '0') {
            f--;
        }
        n += f;
    }
    return n;
}

/* date, a space, time; INT64_MAX and -INT64_MAX are DuckDB's infinities. */
static size_t fmt_timestamp(int64_t us, char *o, bool tz)
{
    if (us == INT64_MAX || us == -INT64_MAX) {
        const char *s = us > 0 ? "infinity" : "-infinity";
        memcpy(o, s, strlen(s));
        return strlen(s);
    }
    int64_t days = us / US_PER_DAY, tod = us % US_PER_DAY;
    if (tod < 0) {
        days--;
        tod += US_PER_DAY;
    }
    size_t n = fmt_date(days, o);
    o[n++] = ' ';
    n += fmt_time(tod, o + n);
    if (tz) {
        memcpy(o + n, "+00", 3);
        n += 3;
    }
    return n;
}

static int put_temporal(struct sl_buf *b, const struct sl_val *v, enum mode m)
{
    char tmp[64];
    size_t n;
    switch (v->kind) {
    case SL_V_DATE:
        n = fmt_date(v->u.i, tmp);
        break;
    case SL_V_TIME:
        n = fmt_time(v->u.i, tmp);
        break;
    default:
        n = fmt_timestamp(v->u.i, tmp, v->kind == SL_V_TS);
        break;
    }
    return m == M_JSON ? sl__buf_json_str(b, tmp, n)
                       : sl__buf_append(b, tmp, n);
}

/* ---- any value ----------------------------------------------------------- */

static int put_val(struct sl_buf *b, const struct sl_qcol *q,
                   const struct sl_val *v, enum mode m);

static int put_struct(struct sl_buf *b, const struct sl_qcol *q,
                      const struct sl_val *v, enum mode m)
{
    const char *sep = m == M_JSON ? "," : ", ";
    const char *colon = m == M_JSON ? ":" : ": ";
    int rc = sl__buf_putc(b, '{');
    for (size_t i = 0; rc == SL_OK && i < q->n_kids && i < v->len; i++) {
        const char *name = q->kids[i].name != NULL ? q->kids[i].name : "";
        if (i > 0) {
            rc = sl__buf_append(b, sep, strlen(sep));
        }
        if (rc == SL_OK) {
            rc = put_text(b, name, strlen(name),
                          m == M_JSON ? M_JSON : M_NESTED);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, colon, strlen(colon));
        }
        if (rc == SL_OK) {
            rc = put_val(b, &q->kids[i], &v->u.v[i],
                         m == M_JSON ? M_JSON : M_NESTED);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

static int put_list(struct sl_buf *b, const struct sl_qcol *q,
                    const struct sl_val *v, enum mode m)
{
    int rc = sl__buf_putc(b, '[');
    for (uint32_t i = 0; rc == SL_OK && q->n_kids > 0 && i < v->len; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == M_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = put_val(b, &q->kids[0], &v->u.v[i],
                         m == M_JSON ? M_JSON : M_NESTED);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, ']') : rc;
}

/* {k=v, ...} in text, an object in JSON (each key as its top-level text). */
static int put_map(struct sl_buf *b, const struct sl_qcol *q,
                   const struct sl_val *v, enum mode m)
{
    if (q->n_kids < 2) {
        return sl__buf_append(b, "{}", 2);
    }
    struct sl_buf key;
    sl__buf_init(&key);
    int rc = sl__buf_putc(b, '{');
    for (size_t i = 0; rc == SL_OK && i < v->len; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == M_JSON ? 1 : 2);
        }
        if (rc == SL_OK && m == M_JSON) {
            sl__buf_reset(&key);
            rc = put_val(&key, &q->kids[0], &v->u.v[2 * i], M_TEXT);
            if (rc == SL_OK) {
                rc = sl__buf_json_str(b, key.data != NULL ? key.data : "",
                                      key.len);
            }
        } else if (rc == SL_OK) {
            rc = put_val(b, &q->kids[0], &v->u.v[2 * i], M_NESTED);
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, m == M_JSON ? ':' : '=');
        }
        if (rc == SL_OK) {
            rc = put_val(b, &q->kids[1], &v->u.v[2 * i + 1],
                         m == M_JSON ? M_JSON : M_NESTED);
        }
    }
    sl__buf_release(&key);
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

/* v as text in mode m. A top-level NULL (M_TEXT) writes nothing: the caller
 * writes the format's NULL. */
static int put_val(struct sl_buf *b, const struct sl_qcol *q,
                   const struct sl_val *v, enum mode m)
{
    if (v->kind == SL_V_NULL || v->kind != q->kind) {
        return m == M_TEXT ? SL_OK : sl__buf_append(b, "null", 4);
    }
    switch (v->kind) {
    case SL_V_BOOL:
        return v->u.b ? sl__buf_append(b, "true", 4)
                      : sl__buf_append(b, "false", 5);
    case SL_V_I64:
        return put_i64(b, v->u.i);
    case SL_V_NUMTEXT:
        return sl__buf_append(b, v->u.s, v->len);
    case SL_V_F64:
        return put_double(b, v->u.f, q->is_float, m);
    case SL_V_DEC:
        return put_dec(b, v->u.d, q->scale);
    case SL_V_JSONTEXT:
        if (m == M_JSON && v->len > 0) {
            return sl__buf_append(b, v->u.s, v->len); /* already JSON */
        }
        return put_text(b, v->u.s, v->len, m);
    case SL_V_STR:
        return put_text(b, v->u.s, v->len, m);
    case SL_V_TEXT:
        /* the backend's own text form: never quoted inside nested values */
        return put_text(b, v->u.s, v->len, m == M_JSON ? M_JSON : M_TEXT);
    case SL_V_BYTES:
        return put_blob(b, v->u.s, v->len, m);
    case SL_V_DATE:
    case SL_V_TIME:
    case SL_V_DATETIME:
    case SL_V_TS:
        return put_temporal(b, v, m);
    case SL_V_STRUCT:
        return put_struct(b, q, v, m);
    case SL_V_LIST:
        return put_list(b, q, v, m);
    case SL_V_MAP:
        return put_map(b, q, v, m);
    default:
        return m == M_TEXT ? SL_OK : sl__buf_append(b, "null", 4);
    }
}

/* ---- output -------------------------------------------------------------- */

static int write_out(struct sl_render *r, struct sl_error *err)
{
    if (r->buf.len > 0 &&
        fwrite(r->buf.data, 1, r->buf.len, r->out) != r->buf.len) {
        int e = errno;
        int rc = SL_ERR(err, -SL_EIO, "writing query output: %s", strerror(e));
        if (err != NULL) {
            err->sub = e;
        }
        return rc;
    }
    sl__buf_reset(&r->buf);
    return SL_OK;
}

static int nomem(struct sl_error *err)
{
    return SL_ERR(err, -SL_ENOMEM, "rendering the query result: out of memory");
}

/* CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF, with
 * quotes doubled. An empty string is written "" so it differs from NULL. */
static int csv_field(struct sl_buf *b, const char *s, size_t n, bool is_null)
{
    if (is_null) {
        return SL_OK;
    }
    bool q = n == 0;
    for (size_t i = 0; !q && i < n; i++) {
        q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    }
    if (!q) {
        return sl__buf_append(b, s, n);
    }
    int rc = sl__buf_putc(b, '"');
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = s[i] == '"' ? sl__buf_append(b, "\"\"", 2) : sl__buf_putc(b, s[i]);
    }
    return rc == SL_OK ? sl__buf_putc(b, '"') : rc;
}

/* ---- the table format ---------------------------------------------------- */

/* Display width of UTF-8 text in code points (wide characters count 1). */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        w += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return w;
}

/* Cell text with line breaks and tabs shown as \n, \r and \t (they would
 * break the layout). */
static int escape_cell(struct sl_buf *b, const char *s, size_t n)
{
    int rc = SL_OK;
    size_t start = 0;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        const char *e = s[i] == '\n'   ? "\\n"
                        : s[i] == '\r' ? "\\r"
                        : s[i] == '\t' ? "\\t"
                                       : NULL;
        if (e != NULL) {
            rc = sl__buf_append(b, s + start, i - start);
            if (rc == SL_OK) {
                rc = sl__buf_append(b, e, 2);
            }
            start = i + 1;
        }
    }
    return rc == SL_OK ? sl__buf_append(b, s + start, n - start) : rc;
}

/* Hold one more cell of the window. */
static int grid_push(struct sl_render *r, const char *s, size_t n)
{
    if (r->n_cells + 2 > r->cap) {
        size_t ncap = r->cap > 0 ? r->cap * 2 : 256;
        size_t *o = sl__realloc(r->cell_off, ncap * sizeof(*o));
        if (o == NULL) {
            return -SL_ENOMEM;
        }
        if (r->cap == 0) {
            o[0] = 0;
        }
        r->cell_off = o;
        r->cap = ncap;
    }
    int rc = escape_cell(&r->grid, s, n);
    if (rc == SL_OK) {
        r->cell_off[++r->n_cells] = r->grid.len;
    }
    return rc;
}

static int pad(struct sl_buf *b, size_t n)
{
    static const char sp[] = "                                ";
    int rc = SL_OK;
    while (rc == SL_OK && n > 0) {
        size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
        rc = sl__buf_append(b, sp, k);
        n -= k;
    }
    return rc;
}

/* One cell of a table line at its column's width: numbers right-aligned
 * (header cells never), no padding after the last column. */
static int table_cell(struct sl_render *r, size_t c, const char *s, size_t n,
                      bool header)
{
    size_t w = text_width(s, n);
    size_t gap = w < r->width[c] ? r->width[c] - w : 0;
    bool right = r->cols[c].numeric && !header;
    int rc = c > 0 ? sl__buf_append(&r->buf, " | ", 3) : SL_OK;
    if (rc == SL_OK && right) {
        rc = pad(&r->buf, gap);
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(&r->buf, s, n);
    }
    if (rc == SL_OK && !right && c + 1 < r->n_cols) {
        rc = pad(&r->buf, gap);
    }
    if (rc == SL_OK && c + 1 == r->n_cols) {
        rc = sl__buf_putc(&r->buf, '\n');
    }
    return rc;
}

/* The widths from the header and the window's rows; then the header, the
 * separator and those rows. */
static int window_out(struct sl_render *r, struct sl_error *err)
{
    r->width = sl__calloc(r->n_cols, sizeof(*r->width));
    if (r->width == NULL) {
        return nomem(err);
    }
    const char *t = r->grid.data != NULL ? r->grid.data : "";
    for (size_t i = 0; i < r->n_cells; i++) {
        size_t w =
            text_width(t + r->cell_off[i], r->cell_off[i + 1] - r->cell_off[i]);
        if (w > r->width[i % r->n_cols]) {
            r->width[i % r->n_cols] = w;
        }
    }
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < r->n_cells; i++) {
        size_t c = i % r->n_cols;
        rc = table_cell(r, c, t + r->cell_off[i],
                        r->cell_off[i + 1] - r->cell_off[i], i < r->n_cols);
        if (rc == SL_OK && i + 1 == r->n_cols) { /* under the header */
            for (size_t k = 0; rc == SL_OK && k < r->n_cols; k++) {
                for (size_t j = 0; rc == SL_OK && j < r->width[k] + (k > 0) +
                                                          (k + 1 < r->n_cols);
                     j++) {
                    rc = sl__buf_putc(&r->buf, '-');
                }
                if (rc == SL_OK && k + 1 < r->n_cols) {
                    rc = sl__buf_putc(&r->buf, '+');
                }
            }
            if (rc == SL_OK) {
                rc = sl__buf_putc(&r->buf, '\n');
            }
        }
        if (rc == SL_OK && r->buf.len >= OUT_FLUSH) {
            rc = write_out(r, err);
        }
    }
    if (rc == -SL_ENOMEM) {
        return nomem(err);
    }
    /* the window's memory goes: later rows are written as they come */
    sl__buf_release(&r->grid);
    sl__free(r->cell_off);
    r->cell_off = NULL;
    r->n_cells = r->cap = 0;
    r->window_out = true;
    return rc;
}

/* ---- the API ------------------------------------------------------------- */

void sl_render_destroy(struct sl_render *r)
{
    if (r == NULL) {
        return;
    }
    sl__buf_release(&r->buf);
    sl__buf_release(&r->cell);
    sl__buf_release(&r->names);
    sl__buf_release(&r->grid);
    sl__free(r->name_off);
    sl__free(r->cell_off);
    sl__free(r->width);
    sl__free(r);
}

static int begin(struct sl_render *r)
{
    int rc = SL_OK;
    if (r->fmt == SL_QF_JSON) {
        r->name_off = sl__calloc(r->n_cols + 1, sizeof(*r->name_off));
        if (r->name_off == NULL) {
            return -SL_ENOMEM;
        }
        for (size_t c = 0; rc == SL_OK && c < r->n_cols; c++) {
            const char *name = r->cols[c].name != NULL ? r->cols[c].name : "";
            rc = c > 0 ? sl__buf_putc(&r->names, ',') : SL_OK;
            if (rc == SL_OK) {
                rc = sl__buf_json_str(&r->names, name, strlen(name));
            }
            if (rc == SL_OK) {
                rc = sl__buf_putc(&r->names, ':');
            }
            r->name_off[c + 1] = r->names.len;
        }
        return rc;
    }
    for (size_t c = 0; rc == SL_OK && c < r->n_cols; c++) {
        const char *name = r->cols[c].name != NULL ? r->cols[c].name : "";
        if (r->fmt == SL_QF_TABLE) {
            rc = grid_push(r, name, strlen(name));
        } else {
            rc = c > 0 ? sl__buf_putc(&r->buf, ',') : SL_OK;
            if (rc == SL_OK) {
                rc = csv_field(&r->buf, name, strlen(name), false);
            }
        }
    }
    if (rc == SL_OK && r->fmt == SL_QF_CSV) {
        rc = sl__buf_putc(&r->buf, '\n');
    }
    return rc;
}

int sl_render_create(const struct sl_qcol *cols, size_t n_cols,
                     const struct sl_render_opts *o, FILE *out,
                     struct sl_render **out_r, struct sl_error *err)
{
    *out_r = NULL;
    struct sl_render *r = sl__calloc(1, sizeof(*r));
    if (r == NULL) {
        return nomem(err);
    }
    r->cols = cols;
    r->n_cols = n_cols;
    r->fmt = o->fmt;
    r->out = out;
    r->window = o->window > 0 ? o->window : SL_RENDER_WINDOW;
    sl__buf_init(&r->buf);
    sl__buf_init(&r->cell);
    sl__buf_init(&r->names);
    sl__buf_init(&r->grid);
    int rc = n_cols > 0 ? begin(r) : SL_OK;
    if (rc == -SL_ENOMEM) {
        rc = nomem(err);
    }
    if (rc == SL_OK && r->buf.len >= OUT_FLUSH) {
        rc = write_out(r, err);
    }
    if (rc != SL_OK) {
        sl_render_destroy(r);
        return rc;
    }
    *out_r = r;
    return SL_OK;
}

static int json_row(struct sl_render *r, const struct sl_val *row)
{
    const char *names = r->names.data != NULL ? r->names.data : "";
    int rc = sl__buf_putc(&r->buf, '{');
    for (size_t c = 0; rc == SL_OK && c < r->n_cols; c++) {
        rc = sl__buf_append(&r->buf, names + r->name_off[c],
                            r->name_off[c + 1] - r->name_off[c]);
        if (rc == SL_OK) {
            rc = put_val(&r->buf, &r->cols[c], &row[c], M_JSON);
        }
    }
    return rc == SL_OK ? sl__buf_append(&r->buf, "}\n", 2) : rc;
}

int sl_render_row(struct sl_render *r, const struct sl_val *row,
                  struct sl_error *err)
{
    if (r->n_cols == 0) {
        return SL_OK;
    }
    int rc = SL_OK;
    if (r->fmt == SL_QF_JSON) {
        rc = json_row(r, row);
    }
    for (size_t c = 0; r->fmt != SL_QF_JSON && rc == SL_OK && c < r->n_cols;
         c++) {
        bool is_null =
            row[c].kind == SL_V_NULL || row[c].kind != r->cols[c].kind;
        sl__buf_reset(&r->cell);
        rc = put_val(&r->cell, &r->cols[c], &row[c], M_TEXT);
        const char *s = r->cell.data != NULL ? r->cell.data : "";
        size_t n = r->cell.len;
        if (rc == SL_OK && r->fmt == SL_QF_CSV) {
            rc = c > 0 ? sl__buf_putc(&r->buf, ',') : SL_OK;
            if (rc == SL_OK) {
                rc = csv_field(&r->buf, s, n, is_null);
            }
            if (rc == SL_OK && c + 1 == r->n_cols) {
                rc = sl__buf_putc(&r->buf, '\n');
            }
        } else if (rc == SL_OK && is_null) {
            s = "NULL";
            n = 4;
        }
        if (rc == SL_OK && r->fmt == SL_QF_TABLE && !r->window_out) {
            rc = grid_push(r, s, n);
        } else if (rc == SL_OK && r->fmt == SL_QF_TABLE) {
            /* after the window: at its widths, as the row comes */
            struct sl_buf *esc = &r->grid;
            sl__buf_reset(esc);
            rc = escape_cell(esc, s, n);
            if (rc == SL_OK) {
                rc = table_cell(r, c, esc->data != NULL ? esc->data : "",
                                esc->len, false);
            }
        }
    }
    if (rc == -SL_ENOMEM) {
        return nomem(err);
    }
    if (rc != SL_OK) {
        return rc;
    }
    r->rows++;
    if (r->fmt == SL_QF_TABLE && !r->window_out && r->rows >= r->window) {
        rc = window_out(r, err);
    }
    if (rc == SL_OK && r->buf.len >= OUT_FLUSH) {
        rc = write_out(r, err);
    }
    return rc;
}

int sl_render_finish(struct sl_render *r, uint64_t *out_rows,
                     struct sl_error *err)
{
    int rc = SL_OK;
    if (r->n_cols > 0 && r->fmt == SL_QF_TABLE) {
        if (!r->window_out) {
            rc = window_out(r, err);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(&r->buf, "(", 1);
        }
        if (rc == SL_OK) {
            rc = put_u64(&r->buf, r->rows, false);
        }
        if (rc == SL_OK) {
            rc = r->rows == 1 ? sl__buf_append(&r->buf, " row)\n", 6)
                              : sl__buf_append(&r->buf, " rows)\n", 7);
        }
        if (rc == -SL_ENOMEM) {
            rc = nomem(err);
        }
    }
    if (rc == SL_OK) {
        rc = write_out(r, err);
    }
    if (rc == SL_OK && fflush(r->out) != 0) {
        int e = errno;
        rc = SL_ERR(err, -SL_EIO, "writing query output: %s", strerror(e));
        if (err != NULL) {
            err->sub = e;
        }
    }
    if (out_rows != NULL) {
        *out_rows = r->rows;
    }
    return rc;
}

int sl_render_cursor(const struct sl_wh_ops *ops, struct sl_cursor *c,
                     const struct sl_render_opts *o, FILE *out,
                     uint64_t *out_rows, struct sl_error *err)
{
    size_t n = 0;
    const struct sl_qcol *cols = ops->cursor_columns(c, &n);
    struct sl_render *r = NULL;
    int rc = sl_render_create(cols, n, o, out, &r, err);
    const struct sl_val *row = NULL;
    while (rc == SL_OK && (rc = ops->cursor_next(c, &row, err)) == SL_OK &&
           row != NULL) {
        rc = sl_render_row(r, row, err);
    }
    if (rc == SL_OK) {
        rc = sl_render_finish(r, out_rows, err);
    } else if (r != NULL) {
        /* the lines rendered before the failure still go out (not the
           table's window still held, nor its "(N rows)") */
        struct sl_error ignored = {0};
        (void)write_out(r, &ignored);
        (void)fflush(out);
        if (out_rows != NULL) {
            *out_rows = r->rows;
        }
    }
    sl_render_destroy(r);
    return rc;
}
