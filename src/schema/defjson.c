/* defjson.c - a parsed definition written back as canonical JSON: what a
 * warehouse records of each applied definition, and what the schema diff
 * compares first (equal texts, equal tables). schema stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "schema/plan.h"
#include "schema/schema.h"

#include <stdio.h>
#include <string.h>

/* A JSON string: plain ASCII (nearly every name and type) in one copy,
 * anything else through the general escaper. A registry writes ~30,000
 * fields a plan, so this is on the way of every `sluice schema plan`. */
static int json_str(struct sl_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
            return sl__buf_json_str(b, s, n);
        }
    }
    int rc = sl__buf_reserve(b, n + 2);
    if (rc == SL_OK) {
        b->data[b->len++] = '"';
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len++] = '"';
        b->data[b->len] = '\0';
    }
    return rc;
}

/* ,"key":"value" with value escaped as JSON. */
static int put_str(struct sl_buf *b, const char *key, const char *v)
{
    size_t kn = strlen(key);
    int rc = sl__buf_reserve(b, kn + 4);
    if (rc == SL_OK) {
        b->data[b->len++] = ',';
        b->data[b->len++] = '"';
        memcpy(b->data + b->len, key, kn);
        b->len += kn;
        b->data[b->len++] = '"';
        b->data[b->len++] = ':';
    }
    return rc == SL_OK ? json_str(b, v, strlen(v)) : rc;
}

/* int64 properties as strings, as Google's JSON mapping writes them. */
static int put_int(struct sl_buf *b, const char *key, long long v)
{
    return sl__buf_printf(b, ",\"%s\":\"%lld\"", key, v);
}

static int write_fields(struct sl_buf *b, const struct sl_field *rec);

int sl_field_write_json(const struct sl_field *f, struct sl_buf *b)
{
    int rc = sl__buf_append(b, "{\"name\":", 8);
    if (rc == SL_OK) {
        rc = json_str(b, f->name, f->name_len);
    }
    if (rc == SL_OK) {
        rc = put_str(b, "type", sl_type_name(f->type));
    }
    if (rc == SL_OK) {
        rc = put_str(b, "mode", sl_mode_name(f->mode));
    }
    if (rc == SL_OK && f->description != NULL) {
        rc = put_str(b, "description", f->description);
    }
    if (rc == SL_OK && f->max_length > 0) {
        rc = put_int(b, "maxLength", (long long)f->max_length);
    }
    if (rc == SL_OK && f->has_precision) {
        rc = put_int(b, "precision", f->precision);
        if (rc == SL_OK) {
            rc = put_int(b, "scale", f->scale);
        }
    }
    if (rc == SL_OK && f->round_half_even) {
        rc = put_str(b, "roundingMode", "ROUND_HALF_EVEN");
    }
    if (rc == SL_OK && f->type == SL_T_RANGE) {
        rc = sl__buf_printf(b, ",\"rangeElementType\":{\"type\":\"%s\"}",
                            sl_type_name(f->range_elem));
    }
    if (rc == SL_OK && f->type == SL_T_TIMESTAMP && f->ts_precision == 12) {
        rc = put_int(b, "timestampPrecision", 12);
    }
    if (rc == SL_OK && f->default_expr != NULL) {
        rc = put_str(b, "defaultValueExpression", f->default_expr);
    }
    if (rc == SL_OK && f->type == SL_T_RECORD) {
        rc = sl__buf_append(b, ",\"fields\":", 10);
        if (rc == SL_OK) {
            rc = write_fields(b, f);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
}

static int write_fields(struct sl_buf *b, const struct sl_field *rec)
{
    int rc = sl__buf_putc(b, '[');
    for (size_t i = 0; rc == SL_OK && i < rec->n_fields; i++) {
        if (i > 0) {
            rc = sl__buf_putc(b, ',');
        }
        if (rc == SL_OK) {
            rc = sl_field_write_json(&rec->fields[i], b);
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, ']') : rc;
}

static int write_partitioning(struct sl_buf *b, const struct sl_table *t)
{
    int rc = SL_OK;
    if (t->part_kind == SL_PART_TIME) {
        rc = sl__buf_printf(b, ",\"partitioning\":{\"type\":\"%s\"",
                            t->part_type != NULL ? t->part_type : "DAY");
        if (rc == SL_OK && t->part_field != NULL) {
            rc = put_str(b, "field", t->part_field->name);
        }
        return rc == SL_OK ? sl__buf_putc(b, '}') : rc;
    }
    if (t->part_kind == SL_PART_RANGE && t->part_field != NULL) {
        rc = sl__buf_append(b, ",\"partitioning\":{\"field\":", 25);
        if (rc == SL_OK) {
            rc = json_str(b, t->part_field->name, t->part_field->name_len);
        }
        if (rc == SL_OK) {
            rc = sl__buf_printf(
                b,
                ",\"range\":{\"start\":\"%lld\",\"end\":\"%lld\","
                "\"interval\":\"%lld\"}}",
                (long long)t->range_start, (long long)t->range_end,
                (long long)t->range_interval);
        }
    }
    return rc;
}

int sl_table_write_json(const struct sl_table *t, struct sl_buf *out)
{
    int rc = sl__buf_putc(out, '{');
    if (rc == SL_OK && t->description != NULL) {
        rc = sl__buf_append(out, "\"description\":", 14);
        if (rc == SL_OK) {
            rc = json_str(out, t->description, strlen(t->description));
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(out, ',');
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_append(out, "\"fields\":", 9);
    }
    if (rc == SL_OK) {
        rc = write_fields(out, &t->root);
    }
    if (rc == SL_OK) {
        rc = write_partitioning(out, t);
    }
    if (rc == SL_OK && t->n_cluster > 0) {
        rc = sl__buf_append(out, ",\"clustering\":{\"fields\":[", 25);
        for (size_t i = 0; rc == SL_OK && i < t->n_cluster; i++) {
            if (i > 0) {
                rc = sl__buf_putc(out, ',');
            }
            if (rc == SL_OK) {
                rc =
                    json_str(out, t->cluster[i]->name, t->cluster[i]->name_len);
            }
        }
        if (rc == SL_OK) {
            rc = sl__buf_append(out, "]}", 2);
        }
    }
    return rc == SL_OK ? sl__buf_putc(out, '}') : rc;
}

void sl_def_hash(const char *json, size_t len, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)sl__hash_bytes(json, len));
}

int sl_table_copy_layout(struct sl_table *dst, const struct sl_table *src)
{
    const struct sl_field *pf =
        src->part_field == NULL
            ? NULL
            : sl_field_find(&dst->root, src->part_field->name,
                            src->part_field->name_len);
    if (src->part_kind != SL_PART_NONE &&
        (src->part_field == NULL || pf != NULL)) {
        char *ty = src->part_type != NULL ? sl__strdup(src->part_type) : NULL;
        if (src->part_type != NULL && ty == NULL) {
            return -SL_ENOMEM;
        }
        sl__free(dst->part_type);
        dst->part_type = ty;
        dst->part_kind = src->part_kind;
        dst->part_field = pf;
        dst->range_start = src->range_start;
        dst->range_end = src->range_end;
        dst->range_interval = src->range_interval;
    }
    if (src->n_cluster == 0) {
        return SL_OK;
    }
    const struct sl_field **cl = sl__calloc(src->n_cluster, sizeof(*cl));
    if (cl == NULL) {
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < src->n_cluster; i++) {
        cl[i] = sl_field_find(&dst->root, src->cluster[i]->name,
                              src->cluster[i]->name_len);
        if (cl[i] == NULL) {
            sl__free((void *)cl);
            return SL_OK; /* a clustering column is gone: keep none */
        }
    }
    sl__free((void *)dst->cluster);
    dst->cluster = cl;
    dst->n_cluster = src->n_cluster;
    return SL_OK;
}
