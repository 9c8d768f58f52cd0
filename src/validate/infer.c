/* infer.c - schema inference: the field tree, widening, text kinds confirmed
 * by the load coercions, the file loop and the schema JSON. NDJSON rows are
 * read in infer_json.c, CSV records and headers in infer_csv.c. validate
 * stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "parse/input.h"
#include "schema/schema.h"
#include "validate/coerce.h"
#include "validate/infer_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define READ_BLOCK ((size_t)1 << 20)

void sl_infer_opts_default(struct sl_infer_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->format = SL_FMT_NDJSON;
    o->header = SL_INFER_HEADER_AUTO;
    sl_csv_opts_default(&o->csv);
}

int sl_infer_create(const struct sl_infer_opts *o, struct sl_infer **out,
                    struct sl_error *err)
{
    struct sl_infer_opts def;
    *out = NULL;
    if (o == NULL) {
        sl_infer_opts_default(&def);
        o = &def;
    }
    if (o->format == SL_FMT_CSV) {
        struct sl_csv probe;
        int rc = sl_csv_init(&probe, &o->csv);
        sl_csv_release(&probe);
        if (rc != SL_OK) {
            return SL_ERR(err, -SL_EUSAGE,
                          "unusable CSV options: the delimiter and the quote "
                          "must differ and be neither NUL, CR nor LF");
        }
    }
    struct sl_infer *inf = sl__calloc(1, sizeof(*inf));
    if (inf == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    inf->o = *o;
    if (o->null_marker != NULL) {
        inf->marker = sl__strdup(o->null_marker);
        if (inf->marker == NULL) {
            sl__free(inf);
            return SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
        inf->o.null_marker = inf->marker;
    }
    inf->root.kind = IK_RECORD;
    sl__buf_init(&inf->scratch);
    inf->st.min_columns = SIZE_MAX;
    *out = inf;
    return SL_OK;
}

static void node_release(struct inode *n)
{
    for (size_t i = 0; i < n->n_kids; i++) {
        node_release(n->kids[i]);
        sl__free(n->kids[i]);
    }
    sl__free(n->kids);
    sl__free(n->lookup);
    sl__free(n->name);
}

void sl_infer_destroy(struct sl_infer *inf)
{
    if (inf == NULL) {
        return;
    }
    node_release(&inf->root);
    for (size_t i = 0; i < inf->n_files; i++) {
        sl__free(inf->files[i]);
    }
    sl__free(inf->files);
    sl__free(inf->marker);
    sl__buf_release(&inf->scratch);
    sl__free(inf);
}

void sl_infer_stats(const struct sl_infer *inf, struct sl_infer_stats *out)
{
    *out = inf->st;
    if (out->min_columns == SIZE_MAX) {
        out->min_columns = 0;
    }
}

/* ---- fields --------------------------------------------------------------
 * Sub-fields are kept in first-seen order with an open-addressing table of
 * their ASCII case-folded names (BigQuery names are case-insensitive, so
 * "Name" and "name" are one field, spelled as first seen). */

static void lookup_put(struct inode *rec, uint32_t idx)
{
    const struct inode *k = rec->kids[idx];
    uint32_t mask = rec->lookup_cap - 1;
    uint32_t i = (uint32_t)sl__hash_ci(k->name, k->name_len) & mask;
    while (rec->lookup[i] != 0) {
        i = (i + 1) & mask;
    }
    rec->lookup[i] = idx + 1;
}

static bool lookup_grow(struct inode *rec)
{
    uint32_t cap = rec->lookup_cap != 0 ? 2 * rec->lookup_cap : 8;
    uint32_t *t = sl__calloc(cap, sizeof(*t));
    if (t == NULL) {
        return false;
    }
    sl__free(rec->lookup);
    rec->lookup = t;
    rec->lookup_cap = cap;
    for (size_t i = 0; i < rec->n_kids; i++) {
        lookup_put(rec, (uint32_t)i);
    }
    return true;
}

struct inode *sl__infer_find(struct inode *rec, const char *name, size_t len,
                             size_t *hint)
{
    size_t h = *hint;
    if (h < rec->n_kids &&
        sl__eq_ci(rec->kids[h]->name, rec->kids[h]->name_len, name, len)) {
        *hint = h + 1;
        return rec->kids[h];
    }
    if (rec->lookup == NULL) {
        return NULL;
    }
    uint32_t mask = rec->lookup_cap - 1;
    uint32_t i = (uint32_t)sl__hash_ci(name, len) & mask;
    for (uint32_t e; (e = rec->lookup[i]) != 0; i = (i + 1) & mask) {
        struct inode *k = rec->kids[e - 1];
        if (sl__eq_ci(k->name, k->name_len, name, len)) {
            *hint = e;
            return k;
        }
    }
    return NULL;
}

struct inode *sl__infer_add(struct inode *rec, const char *name, size_t len)
{
    struct inode *k = sl__calloc(1, sizeof(*k));
    char *nm = sl__strndup(name, len);
    if (k == NULL || nm == NULL) {
        goto oom;
    }
    if (rec->n_kids == rec->cap_kids) {
        size_t cap = rec->cap_kids != 0 ? 2 * rec->cap_kids : 8;
        struct inode **ks = sl__realloc(rec->kids, cap * sizeof(*ks));
        if (ks == NULL) {
            goto oom;
        }
        rec->kids = ks;
        rec->cap_kids = cap;
    }
    if (2 * (rec->n_kids + 1) > rec->lookup_cap && !lookup_grow(rec)) {
        goto oom;
    }
    k->name = nm;
    k->name_len = len;
    k->parent = rec;
    k->level = rec->level + 1;
    rec->kids[rec->n_kids] = k;
    lookup_put(rec, (uint32_t)rec->n_kids);
    rec->n_kids++;
    return k;
oom:
    sl__free(nm);
    sl__free(k);
    return NULL;
}

/* Column names BigQuery reserves (case-insensitive prefixes, BIGQUERY.md
 * §1.5), the list schema/fields.c refuses in definitions. */
static const char *const reserved_prefixes[] = {
    "_TABLE_",
    "_FILE_",
    "_PARTITION",
    "_ROW_TIMESTAMP",
    "__ROOT__",
    "_COLIDENTIFIER",
    "_CHANGE_SEQUENCE_NUMBER",
    "_CHANGE_TYPE",
    "_CHANGE_TIMESTAMP",
};

bool sl__infer_name_ok(const char *s, size_t n, bool top, const char **why)
{
    if (n == 0) {
        *why = "an empty key is no column name";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned ch = (unsigned char)s[i];
        bool alpha = (ch | 0x20u) >= 'a' && (ch | 0x20u) <= 'z';
        bool digit = ch >= '0' && ch <= '9';
        if (!(alpha || ch == '_' || (digit && i > 0))) {
            *why = "a column name is letters, digits and underscores, not "
                   "starting with a digit (BigQuery's autodetect keeps JSON "
                   "keys as they are: rename the key)";
            return false;
        }
    }
    if (n > SL_INFER_MAX_NAME) {
        *why = "a column name has at most 300 characters";
        return false;
    }
    for (size_t i = 0; top && i < SL_ARRAY_LEN(reserved_prefixes); i++) {
        size_t pl = strlen(reserved_prefixes[i]);
        if (n >= pl && sl__eq_ci(s, pl, reserved_prefixes[i], pl)) {
            *why = "the name starts with a prefix BigQuery reserves";
            return false;
        }
    }
    return true;
}

/* ---- kinds --------------------------------------------------------------- */

static bool dig(char c)
{
    return c >= '0' && c <= '9';
}

static size_t digits_from(const char *s, size_t i, size_t n)
{
    while (i < n && dig(s[i])) {
        i++;
    }
    return i;
}

/* End of a leading -?(0|[1-9][0-9]*), or 0 when there is none. */
static size_t int_end(const char *s, size_t n)
{
    size_t i = n > 0 && s[0] == '-';
    if (i >= n || !dig(s[i])) {
        return 0;
    }
    return s[i] == '0' ? i + 1 : digits_from(s, i, n);
}

/* YYYY-[M]M-[D]D */
static bool date_shape(const char *s, size_t n)
{
    if (n < 8 || digits_from(s, 0, n) != 4 || s[4] != '-') {
        return false;
    }
    size_t m = digits_from(s, 5, n);
    if (m - 5 < 1 || m - 5 > 2 || m >= n || s[m] != '-') {
        return false;
    }
    size_t d = digits_from(s, m + 1, n);
    return d == n && d - (m + 1) >= 1 && d - (m + 1) <= 2;
}

enum ikind sl__infer_number_kind(const char *s, size_t n, bool is_int)
{
    const char *why = NULL;
    int64_t i;
    double d;
    if (is_int && sl__coerce_int64(s, n, &i, &why) == SL_OK) {
        return IK_INT;
    }
    /* integers beyond INT64 are FLOAT, as BigQuery's autodetect makes them;
     * a number beyond double's range only fits a STRING */
    return sl__coerce_float64(s, n, &d, &why) == SL_OK ? IK_FLOAT : IK_STRING;
}

/* The text spellings BigQuery's autodetect turns into types (BIGQUERY.md
 * §4.6): integers and plain decimals (no exponent, no leading zeros), true and
 * false in any case, DATE YYYY-MM-DD, TIME HH:MM:SS[.ffffff], TIMESTAMP a date
 * with '-' or '/', ' ' or 'T', a time and an optional zone. Zone-less
 * date-times are TIMESTAMP too: autodetect never infers DATETIME. */
enum ikind sl__infer_text_kind(const char *s, size_t n)
{
    const char *why = NULL;
    int32_t day;
    int64_t us;
    size_t e = int_end(s, n);
    if (e == n && n > 0) {
        return sl__infer_number_kind(s, n, true);
    }
    if (e > 0 && s[e] == '.' && digits_from(s, e + 1, n) == n && n > e + 1) {
        return sl__infer_number_kind(s, n, false);
    }
    if ((n == 4 && sl__eq_ci(s, n, "true", 4)) ||
        (n == 5 && sl__eq_ci(s, n, "false", 5))) {
        return IK_BOOL;
    }
    if (n < 5 || !dig(s[0])) {
        return IK_STRING;
    }
    if (date_shape(s, n)) {
        return sl__coerce_date(s, n, &day, &why) == SL_OK ? IK_DATE : IK_STRING;
    }
    if ((s[1] == ':' || s[2] == ':') &&
        sl__coerce_time(s, n, &us, &why) == SL_OK) {
        return IK_TIME;
    }
    if (n >= 12 && digits_from(s, 0, n) == 4 && (s[4] == '-' || s[4] == '/') &&
        memchr(s, ':', n) != NULL &&
        sl__coerce_timestamp(s, n, &us, &why) == SL_OK) {
        return IK_TIMESTAMP;
    }
    return IK_STRING;
}

enum ikind sl__infer_join(enum ikind a, enum ikind b, bool *conflict)
{
    if (a == b || b == IK_NONE) {
        return a;
    }
    if (a == IK_NONE) {
        return b;
    }
    if (a == IK_RECORD || b == IK_RECORD) {
        *conflict = true;
        return IK_RECORD;
    }
    if ((a == IK_INT && b == IK_FLOAT) || (a == IK_FLOAT && b == IK_INT)) {
        return IK_FLOAT;
    }
    return IK_STRING;
}

static enum sl_type kind_type(enum ikind k)
{
    static const enum sl_type types[] = {
        [IK_NONE] = SL_T_STRING,         [IK_BOOL] = SL_T_BOOL,
        [IK_INT] = SL_T_INT64,           [IK_FLOAT] = SL_T_FLOAT64,
        [IK_DATE] = SL_T_DATE,           [IK_TIME] = SL_T_TIME,
        [IK_TIMESTAMP] = SL_T_TIMESTAMP, [IK_STRING] = SL_T_STRING,
        [IK_RECORD] = SL_T_RECORD,
    };
    return types[k];
}

const char *sl__infer_kind_name(enum ikind k)
{
    return k == IK_NONE ? "null" : sl_type_name(kind_type(k));
}

/* ---- errors and merging -------------------------------------------------- */

static void path_of(const struct inode *n, char *out, size_t cap, size_t *len)
{
    if (n->parent != NULL && n->parent->parent != NULL) {
        path_of(n->parent, out, cap, len);
        if (*len + 1 < cap) {
            out[(*len)++] = '.';
        }
    }
    size_t k = n->name_len < cap - 1 - *len ? n->name_len : cap - 1 - *len;
    memcpy(out + *len, n->name, k);
    *len += k;
    out[*len] = '\0';
}

int sl__infer_fail(struct sl_infer *inf, const struct inode *n,
                   struct sl_error *err, int code, const char *fmt, ...)
{
    if (err == NULL || err->code != 0) {
        return code;
    }
    char msg[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const struct ifile *f = inf->cur;
    if (f != NULL) {
        SL_ERR(err, code, "%s: line %llu: %s", f->name,
               (unsigned long long)f->line_no, msg);
        sl__error_path(err, f->name);
        err->line_no = f->line_no;
        err->byte_off = f->off;
    } else {
        SL_ERR(err, code, "%s", msg);
    }
    if (n != NULL && n->parent != NULL) {
        size_t len = 0;
        path_of(n, err->column, sizeof(err->column), &len);
    }
    return code;
}

void sl__infer_where(const struct sl_infer *inf, struct iloc at, char *out,
                     size_t cap)
{
    snprintf(out, cap, "%s:%llu", inf->files[at.file],
             (unsigned long long)at.line);
}

static struct iloc here(const struct sl_infer *inf)
{
    struct iloc at = {inf->cur->idx, inf->cur->line_no};
    return at;
}

int sl__infer_note(struct sl_infer *inf, struct inode *n, enum ikind k,
                   struct sl_error *err)
{
    if (k == IK_RECORD) {
        if (n->record_at.line == 0) {
            n->record_at = here(inf);
        }
        if (n->level > SL_INFER_MAX_DEPTH) {
            return sl__infer_fail(inf, n, err, -SL_ESCHEMA,
                                  "objects nested %u levels deep: BigQuery "
                                  "allows 15 levels of RECORD",
                                  n->level);
        }
    } else if (n->scalar_at.line == 0) {
        n->scalar_at = here(inf);
        n->scalar_first = k;
    }
    bool conflict = false;
    enum ikind j = sl__infer_join(n->kind, k, &conflict);
    if (conflict) {
        char a[300], b[300];
        sl__infer_where(inf, n->record_at, a, sizeof(a));
        sl__infer_where(inf, n->scalar_at, b, sizeof(b));
        return sl__infer_fail(inf, n, err, -SL_ESCHEMA,
                              "field %s is an object at %s and a %s value at "
                              "%s: no BigQuery type but JSON holds both, and "
                              "autodetect never infers JSON",
                              n->name, a, sl__infer_kind_name(n->scalar_first),
                              b);
    }
    n->kind = j;
    return SL_OK;
}

int sl__infer_shape(struct sl_infer *inf, struct inode *n, bool array,
                    struct sl_error *err)
{
    if (array && !n->seen_array) {
        n->seen_array = true;
        n->array_at = here(inf);
    } else if (!array && !n->seen_single) {
        n->seen_single = true;
        n->single_at = here(inf);
    }
    n->nonnull++;
    if (n->seen_array && n->seen_single) {
        char a[300], b[300];
        sl__infer_where(inf, n->array_at, a, sizeof(a));
        sl__infer_where(inf, n->single_at, b, sizeof(b));
        return sl__infer_fail(inf, n, err, -SL_ESCHEMA,
                              "field %s is an array at %s and a single value "
                              "at %s: a BigQuery field is REPEATED in every "
                              "row or in none",
                              n->name, a, b);
    }
    return SL_OK;
}

/* ---- reading files ------------------------------------------------------- */

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

/* NDJSON: the complete lines of buf (and the last one at eof). */
static int json_feed(struct sl_infer *inf, struct ifile *f, const char *buf,
                     size_t len, bool eof, size_t *out_used,
                     struct sl_error *err)
{
    size_t pos = 0;
    int rc = SL_OK;
    while (pos < len && !f->done) {
        const char *p = buf + pos;
        const char *nl = memchr(p, '\n', len - pos);
        if (nl == NULL && !eof) {
            break;
        }
        size_t n = nl != NULL ? (size_t)(nl - p) : len - pos;
        if (n > SL_INFER_MAX_ROW) {
            rc = sl__infer_fail(inf, NULL, err, -SL_ECORRUPT,
                                "a row longer than 100 MB (BigQuery's limit)");
            break;
        }
        if (!blank(p, n)) {
            if ((rc = sl__infer_json_row(inf, p, n, err)) != SL_OK) {
                break;
            }
            f->rows++;
            inf->st.rows++;
            f->done = inf->o.sample_rows != 0 && f->rows >= inf->o.sample_rows;
        }
        size_t step = n + (nl != NULL);
        pos += step;
        f->off += step;
        f->line_no++;
    }
    *out_used = pos;
    return rc;
}

static int feed(struct sl_infer *inf, struct ifile *f, const char *buf,
                size_t len, bool eof, size_t *out_used, struct sl_error *err)
{
    if (inf->o.format == SL_FMT_CSV) {
        return sl__infer_csv_feed(inf, f, buf, len, eof, out_used, err);
    }
    return json_feed(inf, f, buf, len, eof, out_used, err);
}

static int file_begin(struct sl_infer *inf, struct ifile *f, const char *name,
                      struct sl_error *err)
{
    memset(f, 0, sizeof(*f));
    f->name = name;
    f->line_no = 1;
    char **fs = sl__realloc(inf->files, (inf->n_files + 1) * sizeof(*fs));
    if (fs == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    inf->files = fs;
    if ((fs[inf->n_files] = sl__strdup(name)) == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    f->idx = (uint32_t)inf->n_files++;
    inf->st.files++;
    inf->cur = f;
    if (inf->o.format == SL_FMT_CSV) {
        return sl__infer_csv_begin(inf, f, err);
    }
    return SL_OK;
}

static int file_end(struct sl_infer *inf, struct ifile *f, struct sl_error *err)
{
    if (inf->o.format == SL_FMT_CSV) {
        return sl__infer_csv_end(inf, f, err);
    }
    return SL_OK;
}

static void file_release(struct sl_infer *inf, struct ifile *f)
{
    sl__infer_csv_release(f);
    inf->cur = NULL;
}

/* Read in blocks, feeding whole rows; a row longer than the buffer grows it
 * (up to BigQuery's 100 MB row limit). */
static int read_loop(struct sl_infer *inf, struct ifile *f, struct sl_input *in,
                     struct sl_error *err)
{
    size_t cap = READ_BLOCK, len = 0;
    char *buf = sl__malloc(cap);
    if (buf == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory");
    }
    int rc = SL_OK;
    bool eof = false, first = true;
    while (!f->done) {
        if (!eof) {
            size_t got = 0;
            if ((rc = sl_input_read(in, buf + len, cap - len, &got, err)) !=
                SL_OK) {
                break;
            }
            eof = got == 0;
            len += got;
            if (first && sl_input_had_bom(in)) {
                f->off = 3; /* offsets count the BOM, as BigQuery's do */
            }
            first = false;
        }
        size_t used = 0;
        if ((rc = feed(inf, f, buf, len, eof, &used, err)) != SL_OK) {
            break;
        }
        memmove(buf, buf + used, len - used);
        len -= used;
        if (eof && (len == 0 || used == 0)) {
            break;
        }
        if (used == 0 && len == cap) {
            char *nb =
                cap <= SL_INFER_MAX_ROW ? sl__realloc(buf, 2 * cap) : NULL;
            if (nb == NULL) {
                rc = cap <= SL_INFER_MAX_ROW
                         ? SL_ERR(err, -SL_ENOMEM, "out of memory")
                         : sl__infer_fail(inf, NULL, err, -SL_ECORRUPT,
                                          "a row longer than 100 MB "
                                          "(BigQuery's limit)");
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    sl__free(buf);
    return rc;
}

int sl_infer_file(struct sl_infer *inf, const char *path, struct sl_error *err)
{
    struct sl_input *in = NULL;
    int rc = sl_input_open(path, false, &in, err);
    if (rc != SL_OK) {
        return rc;
    }
    struct ifile f;
    rc = file_begin(inf, &f, path, err);
    if (rc == SL_OK) {
        rc = read_loop(inf, &f, in, err);
    }
    if (rc == SL_OK) {
        rc = file_end(inf, &f, err);
    }
    file_release(inf, &f);
    sl_input_close(in);
    return rc;
}

int sl_infer_buffer(struct sl_infer *inf, const char *name, const char *data,
                    size_t len, struct sl_error *err)
{
    struct ifile f;
    int rc = file_begin(inf, &f, name, err);
    if (rc == SL_OK && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
        f.off = 3;
    }
    size_t used = 0;
    if (rc == SL_OK) {
        rc = feed(inf, &f, data, len, true, &used, err);
    }
    if (rc == SL_OK) {
        rc = file_end(inf, &f, err);
    }
    file_release(inf, &f);
    return rc;
}

/* ---- the schema ---------------------------------------------------------- */

static const char *mode_of(const struct sl_infer *inf, const struct inode *n)
{
    if (n->seen_array) {
        return "REPEATED";
    }
    if (inf->o.required_if_always_present && n->kind != IK_NONE &&
        n->nonnull == n->parent->objects && n->nonnull > 0) {
        return "REQUIRED";
    }
    return "NULLABLE";
}

static int write_fields(const struct sl_infer *inf, const struct inode *rec,
                        unsigned indent, struct sl_buf *out,
                        struct sl_error *err)
{
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < rec->n_kids; i++) {
        const struct inode *k = rec->kids[i];
        rc = sl__buf_printf(out, "%*s{\"name\": ", (int)indent, "");
        rc = rc ? rc : sl__buf_json_str(out, k->name, k->name_len);
        rc = rc ? rc
                : sl__buf_printf(out, ", \"type\": \"%s\", \"mode\": \"%s\"",
                                 sl_type_name(kind_type(k->kind)),
                                 mode_of(inf, k));
        if (rc == SL_OK && k->kind == IK_RECORD) {
            if (k->n_kids == 0) {
                char at[300];
                sl__infer_where(inf, k->record_at, at, sizeof(at));
                rc = SL_ERR(err, -SL_ESCHEMA,
                            "field %s only ever held empty objects (first at "
                            "%s): a RECORD needs a sub-field, so BigQuery has "
                            "no type for it",
                            k->name, at);
                size_t len = 0;
                path_of(k, err->column, sizeof(err->column), &len);
                return rc;
            }
            rc = sl__buf_printf(out, ", \"fields\": [\n");
            rc = rc ? rc : write_fields(inf, k, indent + 2, out, err);
            rc = rc ? rc : sl__buf_printf(out, "%*s]", (int)indent, "");
        }
        rc = rc ? rc
                : sl__buf_printf(out, "}%s\n", i + 1 < rec->n_kids ? "," : "");
    }
    if (rc == -SL_ENOMEM) {
        return SL_ERR(err, rc, "out of memory");
    }
    return rc;
}

int sl_infer_schema_json(const struct sl_infer *inf, struct sl_buf *out,
                         struct sl_error *err)
{
    if (inf->root.n_kids == 0) {
        return SL_ERR(err, -SL_ESCHEMA,
                      "no field in %llu rows of %llu files: a table needs at "
                      "least one column",
                      (unsigned long long)inf->st.rows,
                      (unsigned long long)inf->st.files);
    }
    int rc = sl__buf_printf(out, "[\n");
    rc = rc ? rc : write_fields(inf, &inf->root, 2, out, err);
    rc = rc ? rc : sl__buf_printf(out, "]\n");
    if (rc == -SL_ENOMEM) {
        return SL_ERR(err, rc, "out of memory");
    }
    return rc;
}
