/* clickhouse_rowbin.c - validated rows as ClickHouse RowBinary
 * (https://clickhouse.com/docs/en/interfaces/formats#rowbinary): each leaf
 * column of the plan in turn, little-endian fixed-width numbers, LEB128
 * lengths before strings and arrays, a NULL flag byte before a Nullable
 * value; and which shard a row goes to. The hot path of a ClickHouse load:
 * no allocation but the buffer's growth. warehouse stage. */
#include "core/common.h"

#include "warehouse/clickhouse_int.h"

#include <openssl/evp.h>
#include <string.h>

/* n bytes of room at the end of b. */
static inline char *room(struct sl_buf *b, size_t n)
{
    if (b->cap - b->len < n + 1 && sl__buf_reserve(b, n + 1) != SL_OK) {
        return NULL;
    }
    return b->data + b->len;
}

static inline int put(struct sl_buf *b, const void *p, size_t n)
{
    char *d = room(b, n);
    if (d == NULL) {
        return -SL_ENOMEM;
    }
    memcpy(d, p, n);
    b->len += n;
    return SL_OK;
}

static inline int put_varint(struct sl_buf *b, uint64_t v)
{
    char *d = room(b, 10);
    if (d == NULL) {
        return -SL_ENOMEM;
    }
    size_t k = 0;
    while (v >= 0x80) {
        d[k++] = (char)(v | 0x80);
        v >>= 7;
    }
    d[k++] = (char)v;
    b->len += k;
    return SL_OK;
}

static inline int put_u8(struct sl_buf *b, uint8_t v)
{
    return put(b, &v, 1);
}

/* Little-endian on the machines we build for (x86-64, arm64). */
static inline int put_i64(struct sl_buf *b, int64_t v)
{
    return put(b, &v, 8);
}

static int bad_value(const struct ch_col *c, const struct sl_val *v,
                     const char *why, struct sl_error *err)
{
    int rc =
        SL_ERR(err, -SL_EINVAL, "clickhouse: column %s: %s (value kind %u)",
               c->name, why, (unsigned)v->kind);
    if (err != NULL) {
        snprintf(err->column, sizeof(err->column), "%s", c->name);
    }
    return rc;
}

static const __int128 pow10_38 =
    (__int128)10000000000000000000ULL * (__int128)10000000000000000000ULL;

bool sl__ch_dectext(const char *s, size_t n, unsigned scale, __int128 *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    __int128 v = 0;
    unsigned digits = 0, frac = 0;
    bool dot = false, any = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.' && !dot) {
            dot = true;
            continue;
        }
        if (c < '0' || c > '9') {
            return false;
        }
        any = true;
        if (dot && ++frac > scale) {
            if (c != '0') {
                return false;
            }
            continue;
        }
        if (v == 0 && c == '0' && !dot) {
            continue;
        }
        if (++digits > 38) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    if (!any) {
        return false;
    }
    for (; frac < scale; frac++) {
        if (++digits > 38) {
            return false;
        }
        v *= 10;
    }
    *out = neg ? -v : v;
    return true;
}

/* A Decimal of the column's precision: 4, 8 or 16 bytes. */
static int put_decimal(struct sl_buf *b, const struct ch_col *c, __int128 d,
                       const struct sl_val *v, struct sl_error *err)
{
    __int128 lim = 1;
    for (unsigned i = 0; i < c->precision && i < 38; i++) {
        lim *= 10;
    }
    if (c->precision >= 38) {
        lim = pow10_38;
    }
    if (d <= -lim || d >= lim) {
        return bad_value(c, v, "value exceeds its Decimal precision", err);
    }
    if (c->precision <= 9) {
        int32_t x = (int32_t)d;
        return put(b, &x, 4);
    }
    if (c->precision <= 18) {
        return put_i64(b, (int64_t)d);
    }
    return put(b, &d, 16);
}

static int put_scalar(struct sl_buf *b, const struct ch_col *c,
                      const struct sl_val *v, struct sl_error *err)
{
    if (c->nullable) {
        int rc = put_u8(b, v->kind == SL_V_NULL);
        if (rc != SL_OK || v->kind == SL_V_NULL) {
            return rc;
        }
    } else if (v->kind == SL_V_NULL) {
        return bad_value(c, v, "NULL for a column that takes none", err);
    }
    switch (c->st) {
    case CH_BOOL:
        if (v->kind != SL_V_BOOL) {
            break;
        }
        return put_u8(b, v->u.b ? 1 : 0);
    case CH_I64:
        if (v->kind != SL_V_I64) {
            break;
        }
        return put_i64(b, v->u.i);
    case CH_F64: {
        double d;
        if (v->kind == SL_V_F64) {
            d = v->u.f;
        } else if (v->kind == SL_V_I64) {
            d = (double)v->u.i;
        } else {
            break;
        }
        return put(b, &d, 8);
    }
    case CH_DEC:
        if (v->kind != SL_V_DEC) {
            break;
        }
        return put_decimal(b, c, v->u.d, v, err);
    case CH_DECTEXT: {
        __int128 d;
        if (v->kind != SL_V_STR && v->kind != SL_V_NUMTEXT) {
            break;
        }
        if (!sl__ch_dectext(v->u.s, v->len, c->scale, &d)) {
            return bad_value(c, v, "decimal text does not fit its Decimal",
                             err);
        }
        return put_decimal(b, c, d, v, err);
    }
    case CH_STR:
    case CH_BYTES: {
        bool ok = c->st == CH_BYTES
                      ? v->kind == SL_V_BYTES
                      : (v->kind == SL_V_STR || v->kind == SL_V_JSONTEXT ||
                         v->kind == SL_V_TEXT || v->kind == SL_V_NUMTEXT);
        if (!ok) {
            break;
        }
        int rc = put_varint(b, v->len);
        return rc ? rc : put(b, v->len > 0 ? v->u.s : "", v->len);
    }
    case CH_DATE: {
        if (v->kind != SL_V_DATE || v->u.i < INT32_MIN || v->u.i > INT32_MAX) {
            break;
        }
        int32_t x = (int32_t)v->u.i;
        return put(b, &x, 4);
    }
    case CH_MICROS:
        if (v->kind != SL_V_TS && v->kind != SL_V_DATETIME &&
            v->kind != SL_V_TIME) {
            break;
        }
        return put_i64(b, v->u.i);
    }
    return bad_value(c, v, "a value of another type", err);
}

/* Below a NULL RECORD: NULL for the leaf, empty arrays on the way. */
static int put_absent(struct sl_buf *b, const struct ch_col *c, unsigned lvl,
                      struct sl_error *err)
{
    for (; lvl < c->depth; lvl++) {
        if (c->chain[lvl]->mode == SL_M_REPEATED) {
            return put_varint(b, 0);
        }
    }
    static const struct sl_val null = {.kind = SL_V_NULL};
    return put_scalar(b, c, &null, err);
}

static int put_level(struct sl_buf *b, const struct ch_col *c, unsigned lvl,
                     const struct sl_val *v, struct sl_error *err);

/* One element (not an array) of the field at lvl. */
static int put_elem(struct sl_buf *b, const struct ch_col *c, unsigned lvl,
                    const struct sl_val *v, struct sl_error *err)
{
    if (lvl + 1 == c->depth) {
        return put_scalar(b, c, v, err);
    }
    if (v->kind == SL_V_NULL) {
        return put_absent(b, c, lvl + 1, err);
    }
    if (v->kind != SL_V_STRUCT) {
        return bad_value(c, v, "not a RECORD value", err);
    }
    return put_level(b, c, lvl + 1, &v->u.v[c->chain[lvl + 1]->idx], err);
}

/* The value of the field at lvl (an array when it is REPEATED). */
static int put_level(struct sl_buf *b, const struct ch_col *c, unsigned lvl,
                     const struct sl_val *v, struct sl_error *err)
{
    if (c->chain[lvl]->mode != SL_M_REPEATED) {
        return put_elem(b, c, lvl, v, err);
    }
    if (v->kind == SL_V_NULL) {
        return put_varint(b, 0);
    }
    if (v->kind != SL_V_LIST) {
        return bad_value(c, v, "not a REPEATED value", err);
    }
    int rc = put_varint(b, v->len);
    for (uint32_t i = 0; rc == SL_OK && i < v->len; i++) {
        rc = put_elem(b, c, lvl, &v->u.v[i], err);
    }
    return rc;
}

int sl__ch_rowbin(struct sl_buf *b, const struct ch_plan *p,
                  const struct sl_val *row, size_t n, uint64_t marker,
                  struct sl_error *err)
{
    size_t start = b->len;
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < p->n_cols; i++) {
        const struct ch_col *c = &p->cols[i];
        size_t top = c->chain[0]->idx;
        if (top >= n) {
            rc = SL_ERR(err, -SL_EINVAL,
                        "clickhouse: a row of %zu values for column %s", n,
                        c->name);
            break;
        }
        rc = put_level(b, c, 0, &row[top], err);
    }
    rc = rc ? rc : put(b, &marker, 8);
    if (rc != SL_OK) {
        b->len = start; /* no half row stays in the buffer */
        if (rc == -SL_ENOMEM) {
            SL_ERR(err, rc, "out of memory encoding a row");
        }
    }
    return rc;
}

/* ---- routing -------------------------------------------------------------
 */

int sl__ch_dec_str(struct sl_buf *b, __int128 v, unsigned scale)
{
    char tmp[48];
    size_t k = sizeof(tmp);
    bool neg = v < 0;
    unsigned __int128 u =
        neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    unsigned digits = 0;
    do {
        tmp[--k] = (char)('0' + (int)(u % 10));
        u /= 10;
        digits++;
        if (digits == scale && scale > 0) {
            tmp[--k] = '.';
        }
    } while (u > 0 || digits <= scale);
    if (neg) {
        tmp[--k] = '-';
    }
    return sl__buf_append(b, tmp + k, sizeof(tmp) - k);
}

/* The text ClickHouse's toString gives column c's value (NULL: ""). */
static int key_text(struct sl_buf *b, const struct ch_col *c,
                    const struct sl_val *v)
{
    switch (v->kind) {
    case SL_V_NULL:
        return SL_OK;
    case SL_V_BOOL:
        return sl__buf_putc(b, v->u.b ? '1' : '0');
    case SL_V_I64:
    case SL_V_DATE:
    case SL_V_TS:
    case SL_V_DATETIME:
    case SL_V_TIME:
        return sl__buf_printf(b, "%lld", (long long)v->u.i);
    case SL_V_DEC:
        return sl__ch_dec_str(b, v->u.d, c->scale);
    case SL_V_STR:
    case SL_V_BYTES:
    case SL_V_NUMTEXT:
    case SL_V_JSONTEXT:
    case SL_V_TEXT: {
        __int128 d;
        if (c->st == CH_DECTEXT &&
            sl__ch_dectext(v->u.s, v->len, c->scale, &d)) {
            return sl__ch_dec_str(b, d, c->scale);
        }
        return sl__buf_append(b, v->len > 0 ? v->u.s : "", v->len);
    }
    default:
        return SL_OK;
    }
}

int sl__ch_route(const struct ch_plan *p, const struct sl_val *row, size_t n,
                 size_t n_shards, struct sl_buf *scratch, size_t *out)
{
    *out = 0;
    if (n_shards <= 1) {
        return SL_OK;
    }
    if (p->n_shard_cols == 0) {
        *out = (size_t)(sl_row_hash(row, n) % n_shards);
        return SL_OK;
    }
    sl__buf_reset(scratch);
    int rc = SL_OK;
    for (size_t i = 0; i < p->n_shard_cols; i++) {
        size_t top = p->shard_cols[i];
        const struct ch_col *c = NULL;
        for (size_t k = 0; k < p->n_cols && c == NULL; k++) {
            if (p->cols[k].depth == 1 && p->cols[k].chain[0]->idx == top) {
                c = &p->cols[k];
            }
        }
        if (c == NULL || top >= n) {
            continue;
        }
        /* a retry must route every row as the first attempt did: out of
           memory fails the load rather than guess */
        rc = i > 0 ? sl__buf_putc(scratch, '|') : SL_OK;
        rc = rc ? rc : key_text(scratch, c, &row[top]);
        if (rc != SL_OK) {
            return rc;
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    uint64_t h = 0;
    if (EVP_Digest(scratch->data != NULL ? scratch->data : "", scratch->len, md,
                   &md_len, EVP_md5(), NULL) == 1) {
        for (int i = 0; i < 8; i++) {
            h = h << 8 | md[i]; /* halfMD5: the first 8 bytes, big-endian */
        }
    }
    *out = (size_t)(h % n_shards);
    return SL_OK;
}
