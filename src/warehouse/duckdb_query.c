/* duckdb_query.c - running SQL on DuckDB and printing the result as a table,
 * CSV or NDJSON. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/duckdb_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum rmode {
    R_TEXT,   /* a top-level cell in table/CSV output: strings as they are */
    R_NESTED, /* inside a LIST/STRUCT in text output: strings 'quoted' */
    R_JSON,   /* JSON value */
};

static int render(struct sl_buf *b, duckdb_vector v, duckdb_logical_type lt,
                  idx_t row, enum rmode m);

static int put_i128(struct sl_buf *b, __int128 v, unsigned scale)
{
    char tmp[64];
    size_t n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0 || n <= scale);
    int rc = neg ? sl__buf_putc(b, '-') : SL_OK;
    while (rc == SL_OK && n > 0) {
        if (n == scale && scale > 0) {
            rc = sl__buf_putc(b, '.');
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, tmp[--n]);
        }
    }
    return rc;
}

static int put_u128(struct sl_buf *b, unsigned __int128 u)
{
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    int rc = SL_OK;
    while (rc == SL_OK && n > 0) {
        rc = sl__buf_putc(b, tmp[--n]);
    }
    return rc;
}

/* Shortest text that reads back as the same double (or float). */
static int put_double(struct sl_buf *b, double d, bool is_float, enum rmode m)
{
    if (!isfinite(d)) {
        const char *s = isnan(d) ? "nan" : d > 0 ? "inf" : "-inf";
        return m == R_JSON ? sl__buf_printf(b, "\"%s\"", s)
                           : sl__buf_printf(b, "%s", s);
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

static int put_text(struct sl_buf *b, const char *s, size_t n, enum rmode m)
{
    if (m == R_JSON) {
        return sl__buf_json_str(b, s, n);
    }
    if (m == R_TEXT) {
        return sl__buf_append(b, s, n);
    }
    int rc = sl__buf_putc(b, '\'');
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = s[i] == '\'' ? sl__buf_append(b, "''", 2) : sl__buf_putc(b, s[i]);
    }
    return rc == SL_OK ? sl__buf_putc(b, '\'') : rc;
}

/* Render a value through DuckDB's own ToString (dates, times, intervals...);
 * takes ownership of val. */
static int put_value(struct sl_buf *b, duckdb_value val, enum rmode m)
{
    if (val == NULL) {
        return sl__buf_append(b, "null", m == R_JSON ? 4 : 0);
    }
    char *s = duckdb_get_varchar(val);
    int rc = put_text(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0,
                      m == R_NESTED ? R_TEXT : m);
    if (s != NULL) {
        duckdb_free(s);
    }
    duckdb_destroy_value(&val);
    return rc;
}

static int put_blob(struct sl_buf *b, const char *s, size_t n, enum rmode m)
{
    /* DuckDB's BLOB text: printable ASCII as is, other bytes as \xHH. */
    struct sl_buf t;
    sl__buf_init(&t);
    int rc = sl__buf_reserve(&t, n);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"') {
            rc = sl__buf_putc(&t, (char)c);
        } else {
            rc = sl__buf_printf(&t, "\\x%02X", c);
        }
    }
    if (rc == SL_OK) {
        rc = put_text(b, t.data != NULL ? t.data : "", t.len, m);
    }
    sl__buf_release(&t);
    return rc;
}

static int render_struct(struct sl_buf *b, duckdb_vector v,
                         duckdb_logical_type lt, idx_t row, enum rmode m)
{
    idx_t n = duckdb_struct_type_child_count(lt);
    int rc = sl__buf_putc(b, '{');
    for (idx_t i = 0; rc == SL_OK && i < n; i++) {
        char *name = duckdb_struct_type_child_name(lt, i);
        duckdb_logical_type kt = duckdb_struct_type_child_type(lt, i);
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == R_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = m == R_JSON ? sl__buf_json_str(b, name, strlen(name))
                             : put_text(b, name, strlen(name), R_NESTED);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, ": ", m == R_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = render(b, duckdb_struct_vector_get_child(v, i), kt, row,
                        m == R_JSON ? R_JSON : R_NESTED);
        }
        duckdb_free(name);
        duckdb_destroy_logical_type(&kt);
    }
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

static int render_elems(struct sl_buf *b, duckdb_vector child,
                        duckdb_logical_type et, idx_t off, idx_t len,
                        enum rmode m)
{
    int rc = sl__buf_putc(b, '[');
    for (idx_t i = 0; rc == SL_OK && i < len; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == R_JSON ? 1 : 2);
        }
        if (rc == SL_OK) {
            rc = render(b, child, et, off + i, m == R_JSON ? R_JSON : R_NESTED);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, ']') : rc;
}

/* MAP is a LIST of STRUCT(key, value): {k=v, ...} in text, an object in JSON
 * (keys as their text). */
static int render_map(struct sl_buf *b, duckdb_vector v, duckdb_logical_type lt,
                      idx_t row, enum rmode m)
{
    duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[row];
    duckdb_vector kv = duckdb_list_vector_get_child(v);
    duckdb_vector kvec = duckdb_struct_vector_get_child(kv, 0);
    duckdb_vector vvec = duckdb_struct_vector_get_child(kv, 1);
    duckdb_logical_type kt = duckdb_map_type_key_type(lt);
    duckdb_logical_type vt = duckdb_map_type_value_type(lt);
    struct sl_buf key;
    sl__buf_init(&key);
    int rc = sl__buf_putc(b, '{');
    for (idx_t i = 0; rc == SL_OK && i < e.length; i++) {
        if (i > 0) {
            rc = sl__buf_append(b, ", ", m == R_JSON ? 1 : 2);
        }
        sl__buf_reset(&key);
        if (rc == SL_OK) {
            rc = render(&key, kvec, kt, e.offset + i,
                        m == R_JSON ? R_TEXT : R_NESTED);
        }
        if (rc == SL_OK) {
            rc = m == R_JSON
                     ? sl__buf_json_str(b, key.data ? key.data : "", key.len)
                     : sl__buf_append(b, key.data ? key.data : "", key.len);
        }
        if (rc == SL_OK) {
            rc = m == R_JSON ? sl__buf_putc(b, ':') : sl__buf_putc(b, '=');
        }
        if (rc == SL_OK) {
            rc = render(b, vvec, vt, e.offset + i,
                        m == R_JSON ? R_JSON : R_NESTED);
        }
    }
    sl__buf_release(&key);
    duckdb_destroy_logical_type(&kt);
    duckdb_destroy_logical_type(&vt);
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

static int render(struct sl_buf *b, duckdb_vector v, duckdb_logical_type lt,
                  idx_t row, enum rmode m)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, row)) {
        return m == R_TEXT ? SL_OK : sl__buf_append(b, "null", 4);
    }
    void *d = duckdb_vector_get_data(v);
    duckdb_type id = duckdb_get_type_id(lt);
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        return sl__buf_printf(b, "%s", ((bool *)d)[row] ? "true" : "false");
    case DUCKDB_TYPE_TINYINT:
        return sl__buf_printf(b, "%d", ((int8_t *)d)[row]);
    case DUCKDB_TYPE_SMALLINT:
        return sl__buf_printf(b, "%d", ((int16_t *)d)[row]);
    case DUCKDB_TYPE_INTEGER:
        return sl__buf_printf(b, "%d", ((int32_t *)d)[row]);
    case DUCKDB_TYPE_BIGINT:
        return sl__buf_printf(b, "%lld", (long long)((int64_t *)d)[row]);
    case DUCKDB_TYPE_UTINYINT:
        return sl__buf_printf(b, "%u", ((uint8_t *)d)[row]);
    case DUCKDB_TYPE_USMALLINT:
        return sl__buf_printf(b, "%u", ((uint16_t *)d)[row]);
    case DUCKDB_TYPE_UINTEGER:
        return sl__buf_printf(b, "%u", ((uint32_t *)d)[row]);
    case DUCKDB_TYPE_UBIGINT:
        return sl__buf_printf(b, "%llu",
                              (unsigned long long)((uint64_t *)d)[row]);
    case DUCKDB_TYPE_HUGEINT: {
        duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
        return put_i128(
            b,
            (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower),
            0);
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)d)[row];
        return put_u128(b, ((unsigned __int128)h.upper << 64) | h.lower);
    }
    case DUCKDB_TYPE_FLOAT:
        return put_double(b, ((float *)d)[row], true, m);
    case DUCKDB_TYPE_DOUBLE:
        return put_double(b, ((double *)d)[row], false, m);
    case DUCKDB_TYPE_DECIMAL: {
        unsigned scale = duckdb_decimal_scale(lt);
        __int128 x;
        switch (duckdb_decimal_internal_type(lt)) {
        case DUCKDB_TYPE_SMALLINT:
            x = ((int16_t *)d)[row];
            break;
        case DUCKDB_TYPE_INTEGER:
            x = ((int32_t *)d)[row];
            break;
        case DUCKDB_TYPE_BIGINT:
            x = ((int64_t *)d)[row];
            break;
        default: {
            duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
            x = (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) |
                           h.lower);
            break;
        }
        }
        return put_i128(b, x, scale);
    }
    case DUCKDB_TYPE_VARCHAR: {
        duckdb_string_t *s = (duckdb_string_t *)d + row;
        const char *p = duckdb_string_t_data(s);
        uint32_t n = duckdb_string_t_length(*s);
        if (m == R_JSON) {
            char *alias = duckdb_logical_type_get_alias(lt);
            bool is_json = alias != NULL && strcmp(alias, "JSON") == 0;
            if (alias != NULL) {
                duckdb_free(alias);
            }
            if (is_json && n > 0) {
                return sl__buf_append(b, p, n); /* already JSON text */
            }
        }
        return put_text(b, p, n, m);
    }
    case DUCKDB_TYPE_BLOB: {
        duckdb_string_t *s = (duckdb_string_t *)d + row;
        return put_blob(b, duckdb_string_t_data(s), duckdb_string_t_length(*s),
                        m);
    }
    case DUCKDB_TYPE_DATE:
        return put_value(b, duckdb_create_date(((duckdb_date *)d)[row]), m);
    case DUCKDB_TYPE_TIME:
        return put_value(b, duckdb_create_time(((duckdb_time *)d)[row]), m);
    case DUCKDB_TYPE_TIME_TZ:
        return put_value(
            b, duckdb_create_time_tz_value(((duckdb_time_tz *)d)[row]), m);
    case DUCKDB_TYPE_TIME_NS:
        return put_value(b, duckdb_create_time_ns(((duckdb_time_ns *)d)[row]),
                         m);
    case DUCKDB_TYPE_TIMESTAMP:
        return put_value(
            b, duckdb_create_timestamp(((duckdb_timestamp *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return put_value(
            b, duckdb_create_timestamp_tz(((duckdb_timestamp *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_S:
        return put_value(
            b, duckdb_create_timestamp_s(((duckdb_timestamp_s *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return put_value(
            b, duckdb_create_timestamp_ms(((duckdb_timestamp_ms *)d)[row]), m);
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return put_value(
            b, duckdb_create_timestamp_ns(((duckdb_timestamp_ns *)d)[row]), m);
    case DUCKDB_TYPE_INTERVAL:
        return put_value(b, duckdb_create_interval(((duckdb_interval *)d)[row]),
                         m);
    case DUCKDB_TYPE_UUID: {
        /* Stored as a hugeint with the top bit flipped (so it sorts). */
        duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
        duckdb_uhugeint u = {h.lower, (uint64_t)h.upper ^ (UINT64_C(1) << 63)};
        return put_value(b, duckdb_create_uuid(u), m);
    }
    case DUCKDB_TYPE_ENUM: {
        uint64_t idx;
        switch (duckdb_enum_internal_type(lt)) {
        case DUCKDB_TYPE_UTINYINT:
            idx = ((uint8_t *)d)[row];
            break;
        case DUCKDB_TYPE_USMALLINT:
            idx = ((uint16_t *)d)[row];
            break;
        default:
            idx = ((uint32_t *)d)[row];
            break;
        }
        char *s = duckdb_enum_dictionary_value(lt, idx);
        int rc = put_text(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, m);
        if (s != NULL) {
            duckdb_free(s);
        }
        return rc;
    }
    case DUCKDB_TYPE_STRUCT:
        return render_struct(b, v, lt, row, m);
    case DUCKDB_TYPE_LIST: {
        duckdb_list_entry e = ((duckdb_list_entry *)d)[row];
        duckdb_logical_type et = duckdb_list_type_child_type(lt);
        int rc = render_elems(b, duckdb_list_vector_get_child(v), et, e.offset,
                              e.length, m);
        duckdb_destroy_logical_type(&et);
        return rc;
    }
    case DUCKDB_TYPE_ARRAY: {
        idx_t n = duckdb_array_type_array_size(lt);
        duckdb_logical_type et = duckdb_array_type_child_type(lt);
        int rc = render_elems(b, duckdb_array_vector_get_child(v), et, row * n,
                              n, m);
        duckdb_destroy_logical_type(&et);
        return rc;
    }
    case DUCKDB_TYPE_MAP:
        return render_map(b, v, lt, row, m);
    case DUCKDB_TYPE_UNION: {
        /* A union is a struct of (tag, member...); show the active member. */
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(
            duckdb_struct_vector_get_child(v, 0)))[row];
        duckdb_logical_type mt = duckdb_union_type_member_type(lt, tag);
        int rc = render(b, duckdb_struct_vector_get_child(v, (idx_t)tag + 1),
                        mt, row, m);
        duckdb_destroy_logical_type(&mt);
        return rc;
    }
    case DUCKDB_TYPE_SQLNULL:
        return m == R_TEXT ? SL_OK : sl__buf_append(b, "null", 4);
    default: {
        /* BIT, BIGNUM and future types: say what it is rather than guess bytes.
         */
        char tmp[48];
        snprintf(tmp, sizeof(tmp), "<unsupported type %d>", (int)id);
        return put_text(b, tmp, strlen(tmp), m == R_NESTED ? R_TEXT : m);
    }
    }
}

static bool is_numeric_type(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
        return true;
    default:
        return false;
    }
}

/* Display width of UTF-8 text in code points (wide characters count 1). */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        w += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return w;
}

/* CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF, and
 * quotes doubled. An empty string is written as "" so it differs from NULL. */
static int csv_field(struct sl_buf *b, const char *s, size_t n, bool is_null)
{
    if (is_null) {
        return SL_OK;
    }
    bool q = n == 0 || strpbrk(s, ",\"\r\n") != NULL;
    if (!q) {
        return sl__buf_append(b, s, n);
    }
    int rc = sl__buf_putc(b, '"');
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = s[i] == '"' ? sl__buf_append(b, "\"\"", 2) : sl__buf_putc(b, s[i]);
    }
    return rc == SL_OK ? sl__buf_putc(b, '"') : rc;
}

/* Cells of the table format, kept until all widths are known. */
struct grid {
    struct sl_buf text; /* every cell's text, back to back */
    size_t *off;        /* cell i is text[off[i], off[i+1]) */
    size_t n, cap;      /* cells stored (n+1 offsets) */
};

static int grid_push(struct grid *g, size_t end)
{
    if (g->n + 2 > g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 256;
        size_t *o = sl__realloc(g->off, ncap * sizeof(*o));
        if (o == NULL) {
            return -SL_ENOMEM;
        }
        g->off = o;
        g->cap = ncap;
    }
    g->off[++g->n] = end;
    return SL_OK;
}

/* Table cells cannot hold line breaks or tabs without breaking the layout. */
static int table_cell(struct grid *g, const char *s, size_t n)
{
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        switch (s[i]) {
        case '\n':
            rc = sl__buf_append(&g->text, "\\n", 2);
            break;
        case '\r':
            rc = sl__buf_append(&g->text, "\\r", 2);
            break;
        case '\t':
            rc = sl__buf_append(&g->text, "\\t", 2);
            break;
        default:
            rc = sl__buf_putc(&g->text, s[i]);
        }
    }
    return rc == SL_OK ? grid_push(g, g->text.len) : rc;
}

static int pad(struct sl_buf *b, size_t n)
{
    int rc = SL_OK;
    while (rc == SL_OK && n-- > 0) {
        rc = sl__buf_putc(b, ' ');
    }
    return rc;
}

static int print_grid(struct sl_buf *b, struct grid *g, idx_t ncol,
                      const bool *right, size_t rows)
{
    size_t *w = sl__calloc(ncol, sizeof(*w));
    if (w == NULL) {
        return -SL_ENOMEM;
    }
    const char *t = g->text.data != NULL ? g->text.data : "";
    for (size_t i = 0; i < g->n; i++) {
        size_t cw = text_width(t + g->off[i], g->off[i + 1] - g->off[i]);
        if (cw > w[i % ncol]) {
            w[i % ncol] = cw;
        }
    }
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < g->n; i++) {
        idx_t c = i % ncol;
        size_t len = g->off[i + 1] - g->off[i];
        size_t gap = w[c] - text_width(t + g->off[i], len);
        bool r = right[c] && i >= ncol; /* headers stay left */
        if (c > 0) {
            rc = sl__buf_append(b, " | ", 3);
        }
        if (rc == SL_OK && r) {
            rc = pad(b, gap);
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(b, t + g->off[i], len);
        }
        if (rc == SL_OK && !r && c + 1 < ncol) {
            rc = pad(b, gap);
        }
        if (rc == SL_OK && c + 1 == ncol) {
            rc = sl__buf_putc(b, '\n');
        }
        if (rc == SL_OK && i + 1 == ncol) { /* separator under the header */
            for (idx_t k = 0; rc == SL_OK && k < ncol; k++) {
                for (size_t j = 0;
                     rc == SL_OK && j < w[k] + (k > 0) + (k + 1 < ncol); j++) {
                    rc = sl__buf_putc(b, '-');
                }
                if (rc == SL_OK && k + 1 < ncol) {
                    rc = sl__buf_putc(b, '+');
                }
            }
            if (rc == SL_OK) {
                rc = sl__buf_putc(b, '\n');
            }
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_printf(b, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
    }
    sl__free(w);
    return rc;
}

static int write_out(FILE *out, struct sl_buf *b, struct sl_error *err)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len) {
        int e = errno;
        int rc = SL_ERR(err, -SL_EIO, "writing query output: %s", strerror(e));
        if (err != NULL) {
            err->sub = e;
        }
        return rc;
    }
    sl__buf_reset(b);
    return SL_OK;
}

int sl__duckdb_query(struct sl_wh *wh, const char *sql,
                     enum sl_query_format fmt, FILE *out, struct sl_error *err)
{
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE, "duckdb: query during a load");
    }
    duckdb_result res;
    if (duckdb_query(wh->con, sql, &res) == DuckDBError) {
        int rc = sl__duckdb_fail(err, (int)duckdb_result_error_type(&res),
                                 "query", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    idx_t ncol = duckdb_column_count(&res);
    struct sl_buf b, cell;
    struct grid g = {0};
    sl__buf_init(&b);
    sl__buf_init(&cell);
    sl__buf_init(&g.text);
    duckdb_logical_type *types = sl__calloc(ncol ? ncol : 1, sizeof(*types));
    bool *right = sl__calloc(ncol ? ncol : 1, sizeof(*right));
    int rc = types != NULL && right != NULL ? SL_OK : -SL_ENOMEM;
    if (rc == SL_OK && fmt == SL_QF_TABLE) {
        g.cap = 256;
        g.off = sl__malloc(g.cap * sizeof(*g.off));
        rc = g.off != NULL ? SL_OK : -SL_ENOMEM;
        if (rc == SL_OK) {
            g.off[0] = 0; /* the start of cell 0 */
        }
    }
    for (idx_t c = 0; rc == SL_OK && c < ncol; c++) {
        types[c] = duckdb_column_logical_type(&res, c);
        right[c] = is_numeric_type(duckdb_get_type_id(types[c]));
        const char *name = duckdb_column_name(&res, c);
        if (fmt == SL_QF_TABLE) {
            rc = table_cell(&g, name, strlen(name));
        } else if (fmt == SL_QF_CSV) {
            rc = c > 0 ? sl__buf_putc(&b, ',') : SL_OK;
            if (rc == SL_OK) {
                rc = csv_field(&b, name, strlen(name), false);
            }
        }
    }
    if (rc == SL_OK && fmt == SL_QF_CSV && ncol > 0) {
        rc = sl__buf_append(&b, "\n", 1);
    }
    size_t rows = 0;
    duckdb_data_chunk ch = NULL;
    while (rc == SL_OK && ncol > 0 && (ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(ch);
        for (idx_t r = 0; rc == SL_OK && r < n; r++, rows++) {
            if (fmt == SL_QF_JSON) {
                rc = sl__buf_putc(&b, '{');
            }
            for (idx_t c = 0; rc == SL_OK && c < ncol; c++) {
                duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
                uint64_t *valid = duckdb_vector_get_validity(v);
                bool is_null =
                    valid != NULL && !duckdb_validity_row_is_valid(valid, r);
                if (fmt == SL_QF_JSON) {
                    const char *name = duckdb_column_name(&res, c);
                    rc = c > 0 ? sl__buf_putc(&b, ',') : SL_OK;
                    if (rc == SL_OK) {
                        rc = sl__buf_json_str(&b, name, strlen(name));
                    }
                    if (rc == SL_OK) {
                        rc = sl__buf_putc(&b, ':');
                    }
                    if (rc == SL_OK) {
                        rc = render(&b, v, types[c], r, R_JSON);
                    }
                    continue;
                }
                sl__buf_reset(&cell);
                rc = render(&cell, v, types[c], r, R_TEXT);
                const char *s = cell.data != NULL ? cell.data : "";
                if (rc != SL_OK) {
                    break;
                }
                if (fmt == SL_QF_TABLE) {
                    rc = is_null ? table_cell(&g, "NULL", 4)
                                 : table_cell(&g, s, cell.len);
                } else {
                    rc = c > 0 ? sl__buf_putc(&b, ',') : SL_OK;
                    if (rc == SL_OK) {
                        rc = csv_field(&b, s, cell.len, is_null);
                    }
                }
            }
            if (rc == SL_OK && fmt == SL_QF_JSON) {
                rc = sl__buf_append(&b, "}\n", 2);
            } else if (rc == SL_OK && fmt == SL_QF_CSV) {
                rc = sl__buf_append(&b, "\n", 1);
            }
        }
        duckdb_destroy_data_chunk(&ch);
        if (rc == SL_OK && fmt != SL_QF_TABLE) {
            rc = write_out(out, &b, err);
        }
    }
    if (rc == SL_OK && fmt == SL_QF_TABLE && ncol > 0) {
        rc = print_grid(&b, &g, ncol, right, rows);
    }
    if (rc == SL_OK) {
        rc = write_out(out, &b, err);
    }
    if (rc == -SL_ENOMEM) {
        rc = sl__duckdb_nomem(err);
    }
    for (idx_t c = 0; types != NULL && c < ncol; c++) {
        if (types[c] != NULL) {
            duckdb_destroy_logical_type(&types[c]);
        }
    }
    sl__free(types);
    sl__free(right);
    sl__free(g.off);
    sl__buf_release(&g.text);
    sl__buf_release(&b);
    sl__buf_release(&cell);
    duckdb_destroy_result(&res);
    return rc;
}
