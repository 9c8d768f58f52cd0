/* rowjson.c - a validated row written back as one canonical NDJSON object:
 * the value each field was coerced to, spelled so that validating the line
 * again gives the same row (the NDJSON fuzz harness checks that round trip on
 * every input it finds). The gateway stages the good rows of a file with bad
 * records this way. validate stage. */
#include "core/common.h"

#include "validate/coerce.h"
#include "validate/rowjson.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int put_base64(struct sl_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = sl__buf_reserve(b, (n + 2) / 3 * 4 + 2);
    rc = rc ? rc : sl__buf_putc(b, '"');
    for (size_t i = 0; rc == SL_OK && i < n; i += 3) {
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
        rc = sl__buf_append(b, o, 4);
    }
    return rc ? rc : sl__buf_putc(b, '"');
}

static int put_quoted(struct sl_buf *b, const char *s, size_t n)
{
    int rc = sl__buf_putc(b, '"');
    rc = rc ? rc : sl__buf_append(b, s, n);
    return rc ? rc : sl__buf_putc(b, '"');
}

static int put_f64(struct sl_buf *b, double d)
{
    if (isnan(d)) {
        return sl__buf_append(b, "\"NaN\"", 5);
    }
    if (isinf(d)) {
        return d > 0 ? sl__buf_append(b, "\"Infinity\"", 10)
                     : sl__buf_append(b, "\"-Infinity\"", 11);
    }
    return sl__buf_printf(b, "%.17g", d);
}

/* The scale a NUMERIC field's values carry (as the validator plans it). */
static int numeric_scale(const struct sl_field *f)
{
    return f->has_precision ? f->scale : 9;
}

static int put_scalar(struct sl_buf *b, const struct sl_field *f,
                      const struct sl_val *v)
{
    char tmp[64];
    switch (v->kind) {
    case SL_V_NULL:
        return sl__buf_append(b, "null", 4);
    case SL_V_BOOL:
        return v->u.b ? sl__buf_append(b, "true", 4)
                      : sl__buf_append(b, "false", 5);
    case SL_V_I64:
        return sl__buf_printf(b, "%lld", (long long)v->u.i);
    case SL_V_F64:
        return put_f64(b, v->u.f);
    case SL_V_DEC:
        return put_quoted(b, tmp,
                          sl__fmt_numeric(v->u.d, numeric_scale(f), tmp));
    case SL_V_STR:
        /* a JSON column holds canonical JSON text: embedded as it is */
        return f->type == SL_T_JSON ? sl__buf_append(b, v->u.s, v->len)
                                    : sl__buf_json_str(b, v->u.s, v->len);
    case SL_V_BYTES:
        return put_base64(b, (const unsigned char *)v->u.s, v->len);
    case SL_V_DATE:
        return put_quoted(b, tmp, sl__fmt_date((int32_t)v->u.i, tmp));
    case SL_V_TIME:
        return put_quoted(b, tmp, sl__fmt_time(v->u.i, tmp));
    case SL_V_DATETIME:
        return put_quoted(b, tmp, sl__fmt_datetime(v->u.i, tmp));
    case SL_V_TS:
        return put_quoted(b, tmp, sl__fmt_timestamp(v->u.i, tmp));
    default:
        return -SL_EINVAL;
    }
}

static int put_value(struct sl_buf *b, const struct sl_field *f,
                     const struct sl_val *v, bool elem);

static int put_record(struct sl_buf *b, const struct sl_field *rec,
                      const struct sl_val *vals)
{
    int rc = sl__buf_putc(b, '{');
    for (size_t i = 0; rc == SL_OK && i < rec->n_fields; i++) {
        const struct sl_field *f = &rec->fields[i];
        if (i > 0) {
            rc = sl__buf_putc(b, ',');
        }
        rc = rc ? rc : sl__buf_json_str(b, f->name, f->name_len);
        rc = rc ? rc : sl__buf_putc(b, ':');
        rc = rc ? rc : put_value(b, f, &vals[i], false);
    }
    return rc ? rc : sl__buf_putc(b, '}');
}

/* elem: v is one element of a REPEATED field. */
static int put_value(struct sl_buf *b, const struct sl_field *f,
                     const struct sl_val *v, bool elem)
{
    if (f->mode == SL_M_REPEATED && !elem) {
        if (v->kind != SL_V_LIST) {
            return -SL_EINVAL;
        }
        int rc = sl__buf_putc(b, '[');
        for (uint32_t i = 0; rc == SL_OK && i < v->len; i++) {
            if (i > 0) {
                rc = sl__buf_putc(b, ',');
            }
            rc = rc ? rc : put_value(b, f, &v->u.v[i], true);
        }
        return rc ? rc : sl__buf_putc(b, ']');
    }
    if (f->type == SL_T_RECORD && v->kind == SL_V_STRUCT) {
        return put_record(b, f, v->u.v);
    }
    return put_scalar(b, f, v);
}

int sl_row_json(struct sl_buf *b, const struct sl_table *t,
                const struct sl_val *cols, size_t n)
{
    if (n != t->root.n_fields) {
        return -SL_EINVAL;
    }
    return put_record(b, &t->root, cols);
}

int sl_reject_json(struct sl_buf *b, const struct sl_reject *r,
                   const char *file)
{
    if (file == NULL) {
        file = r->file;
    }
    int rc = sl__buf_append(b, "{\"file\":", 8);
    rc = rc ? rc : sl__buf_json_str(b, file, strlen(file));
    rc = rc ? rc
            : sl__buf_printf(b, ",\"line\":%llu",
                             (unsigned long long)r->line_no);
    if (r->record_no) {
        rc = rc ? rc
                : sl__buf_printf(b, ",\"record\":%llu",
                                 (unsigned long long)r->record_no);
    }
    rc = rc ? rc
            : sl__buf_printf(b, ",\"offset\":%llu,\"field\":",
                             (unsigned long long)r->byte_off);
    rc = rc ? rc
            : (r->field ? sl__buf_json_str(b, r->field, strlen(r->field))
                        : sl__buf_append(b, "null", 4));
    rc = rc ? rc : sl__buf_append(b, ",\"reason\":", 10);
    rc = rc ? rc : sl__buf_json_str(b, r->reason, strlen(r->reason));
    rc = rc ? rc : sl__buf_append(b, ",\"value\":", 9);
    rc = rc ? rc
            : (r->value ? sl__buf_json_str(b, r->value, r->value_len)
                        : sl__buf_append(b, "null", 4));
    return rc ? rc : sl__buf_append(b, "}\n", 2);
}
