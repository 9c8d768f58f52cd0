/* rowjson.c - writes a validated row (struct sl_val per top-level field, see
 * src/validate/row.h) back out as one canonical NDJSON object, for the
 * round-trip invariant of the NDJSON harness: a row that validated must
 * serialise to JSON that validates to the same values. Also checks the value
 * invariants row.h promises (valid UTF-8 text, values within their type's
 * range). tests; included by harness_ndjson.c. */
#include "core/common.h"

#include "fuzz_common.h"
#include "schema/schema.h"
#include "validate/coerce.h"
#include "validate/row.h"

#include <math.h>

struct rj_buf {
    char *p;
    size_t len, cap;
};

static void rj_put(struct rj_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        b->p = realloc(b->p, cap);
        FZ_CHECK(b->p != NULL, "out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void rj_puts(struct rj_buf *b, const char *s)
{
    rj_put(b, s, strlen(s));
}

/* A JSON string literal for n bytes of (valid UTF-8) text. */
static void rj_string(struct rj_buf *b, const char *s, size_t n)
{
    rj_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rj_put(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rj_put(b, esc, 6);
        } else {
            rj_put(b, (const char *)&c, 1);
        }
    }
    rj_put(b, "\"", 1);
}

static void rj_base64(struct rj_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    rj_put(b, "\"", 1);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n) {
            v |= (unsigned)s[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= s[i + 2];
        }
        char o[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                     i + 1 < n ? tab[(v >> 6) & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        rj_put(b, o, 4);
    }
    rj_put(b, "\"", 1);
}

/* The scale a NUMERIC field's values carry (as the validator's plan has it). */
static int rj_numeric_scale(const struct sl_field *f)
{
    return f->has_precision ? f->scale : 9;
}
static int rj_numeric_precision(const struct sl_field *f)
{
    return f->has_precision ? f->precision : 38;
}

#define RJ_MIN_DAYS (-719162) /* 0001-01-01 */
#define RJ_MAX_DAYS 2932896   /* 9999-12-31 */
#define RJ_DAY_US   86400000000LL

static void rj_value(struct rj_buf *b, const struct sl_field *f,
                     const struct sl_val *v, bool elem);

static void rj_scalar(struct rj_buf *b, const struct sl_field *f,
                      const struct sl_val *v)
{
    char tmp[128];
    size_t n;
    switch (v->kind) {
    case SL_V_NULL:
        FZ_CHECK(f->mode != SL_M_REQUIRED, "NULL in REQUIRED field %s",
                 f->path);
        rj_puts(b, "null");
        return;
    case SL_V_BOOL:
        FZ_CHECK(f->type == SL_T_BOOL, "BOOL value in %s", f->path);
        rj_puts(b, v->u.b ? "true" : "false");
        return;
    case SL_V_I64:
        FZ_CHECK(f->type == SL_T_INT64, "I64 value in %s", f->path);
        snprintf(tmp, sizeof(tmp), "%lld", (long long)v->u.i);
        rj_puts(b, tmp);
        return;
    case SL_V_F64:
        FZ_CHECK(f->type == SL_T_FLOAT64, "F64 value in %s", f->path);
        if (isnan(v->u.f)) {
            rj_puts(b, "\"NaN\"");
        } else if (isinf(v->u.f)) {
            rj_puts(b, v->u.f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else {
            FZ_CHECK(!(v->u.f == 0 && signbit(v->u.f)), "-0.0 stored in %s",
                     f->path);
            snprintf(tmp, sizeof(tmp), "%.17g", v->u.f);
            rj_puts(b, tmp);
        }
        return;
    case SL_V_DEC: {
        FZ_CHECK(f->type == SL_T_NUMERIC, "DEC value in %s", f->path);
        __int128 lim = 1;
        for (int i = 0; i < rj_numeric_precision(f); i++) {
            lim *= 10;
        }
        FZ_CHECK(v->u.d < lim && v->u.d > -lim,
                 "NUMERIC out of precision in %s", f->path);
        n = sl__fmt_numeric(v->u.d, rj_numeric_scale(f), tmp);
        rj_string(b, tmp, n);
        return;
    }
    case SL_V_STR:
        FZ_CHECK(sl__utf8_count(v->u.s, v->len) >= 0, "invalid UTF-8 in %s",
                 f->path);
        if (f->type == SL_T_JSON) {
            rj_put(b, v->u.s, v->len); /* canonical JSON text */
        } else {
            FZ_CHECK(f->type == SL_T_STRING || f->type == SL_T_BIGNUMERIC ||
                         f->type == SL_T_GEOGRAPHY || f->type == SL_T_RANGE ||
                         f->type == SL_T_INTERVAL,
                     "STR value in %s", f->path);
            if (f->type == SL_T_STRING && f->max_length > 0) {
                FZ_CHECK(sl__utf8_count(v->u.s, v->len) <= f->max_length,
                         "maxLength exceeded in %s", f->path);
            }
            rj_string(b, v->u.s, v->len);
        }
        return;
    case SL_V_BYTES:
        FZ_CHECK(f->type == SL_T_BYTES, "BYTES value in %s", f->path);
        rj_base64(b, (const unsigned char *)v->u.s, v->len);
        return;
    case SL_V_DATE:
        FZ_CHECK(f->type == SL_T_DATE, "DATE value in %s", f->path);
        FZ_CHECK(v->u.i >= RJ_MIN_DAYS && v->u.i <= RJ_MAX_DAYS,
                 "DATE %lld out of range", (long long)v->u.i);
        n = sl__fmt_date((int32_t)v->u.i, tmp);
        rj_string(b, tmp, n);
        return;
    case SL_V_TIME:
        FZ_CHECK(f->type == SL_T_TIME, "TIME value in %s", f->path);
        FZ_CHECK(v->u.i >= 0 && v->u.i < RJ_DAY_US, "TIME %lld out of range",
                 (long long)v->u.i);
        n = sl__fmt_time(v->u.i, tmp);
        rj_string(b, tmp, n);
        return;
    case SL_V_DATETIME:
    case SL_V_TS:
        FZ_CHECK(f->type ==
                     (v->kind == SL_V_TS ? SL_T_TIMESTAMP : SL_T_DATETIME),
                 "DATETIME/TIMESTAMP value in %s", f->path);
        FZ_CHECK(v->u.i >= RJ_MIN_DAYS * RJ_DAY_US &&
                     v->u.i < (RJ_MAX_DAYS + 1) * RJ_DAY_US,
                 "%s %lld out of range", f->path, (long long)v->u.i);
        n = v->kind == SL_V_TS ? sl__fmt_timestamp(v->u.i, tmp)
                               : sl__fmt_datetime(v->u.i, tmp);
        rj_string(b, tmp, n);
        return;
    default:
        FZ_CHECK(false, "kind %d in scalar field %s", v->kind, f->path);
    }
}

static void rj_record(struct rj_buf *b, const struct sl_field *rec,
                      const struct sl_val *vals)
{
    rj_put(b, "{", 1);
    for (size_t i = 0; i < rec->n_fields; i++) {
        const struct sl_field *f = &rec->fields[i];
        if (i > 0) {
            rj_put(b, ",", 1);
        }
        rj_string(b, f->name, f->name_len);
        rj_put(b, ":", 1);
        rj_value(b, f, &vals[i], false);
    }
    rj_put(b, "}", 1);
}

/* elem: v is one element of a REPEATED field. */
static void rj_value(struct rj_buf *b, const struct sl_field *f,
                     const struct sl_val *v, bool elem)
{
    if (f->mode == SL_M_REPEATED && !elem) {
        FZ_CHECK(v->kind == SL_V_LIST, "REPEATED %s holds kind %d", f->path,
                 v->kind);
        rj_put(b, "[", 1);
        for (uint32_t i = 0; i < v->len; i++) {
            if (i > 0) {
                rj_put(b, ",", 1);
            }
            FZ_CHECK(v->u.v[i].kind != SL_V_NULL, "NULL element in %s",
                     f->path);
            rj_value(b, f, &v->u.v[i], true);
        }
        rj_put(b, "]", 1);
        return;
    }
    if (f->type == SL_T_RECORD && v->kind != SL_V_NULL) {
        FZ_CHECK(v->kind == SL_V_STRUCT, "RECORD %s holds kind %d", f->path,
                 v->kind);
        rj_record(b, f, v->u.v);
        return;
    }
    rj_scalar(b, f, v);
}

/* Append the row cols[0..n) of table t to b as one JSON object (no newline). */
static void rj_row(struct rj_buf *b, const struct sl_table *t,
                   const struct sl_val *cols, size_t n)
{
    FZ_CHECK(n == t->root.n_fields, "row has %zu columns, table %zu", n,
             t->root.n_fields);
    rj_record(b, &t->root, cols);
}
