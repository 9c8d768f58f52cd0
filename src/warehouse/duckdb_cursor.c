/* duckdb_cursor.c - queries on DuckDB as cursors of typed rows: one statement
 * prepared and run as a streaming result, read one data chunk at a time and
 * handed out row by row as struct sl_val arrays (rendering is above the
 * drivers, src/ops/render.c); and scripts split into statements. warehouse
 * stage.
 *
 * Memory: the cursor holds one data chunk of the result (DuckDB's vector
 * size, 2,048 rows) and a per-row arena for nested values and texts; nothing
 * grows with the size of the result. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "warehouse/duckdb_int.h"

#include <stdlib.h>
#include <string.h>

/* How one result column, or a nested part of one, is read from its vector. */
struct rtype {
    duckdb_type id;
    duckdb_logical_type lt; /* owned: enum dictionaries, values for text */
    duckdb_type store;      /* DECIMAL and ENUM: the physical type */
    uint8_t width, scale;   /* DECIMAL */
    idx_t array_size;       /* ARRAY */
    bool json;              /* a VARCHAR with the alias JSON */
    struct rtype *kids;     /* STRUCT members, LIST/ARRAY element, MAP key
                               and value, UNION members; owned */
    size_t n_kids;
};

struct sl_cursor {
    struct sl_wh *wh;              /* borrowed; wh->cursor points back */
    duckdb_prepared_statement st;  /* owned */
    duckdb_pending_result pending; /* owned */
    duckdb_result res;             /* owned when has_res */
    bool has_res;
    bool done;               /* the last row was handed out (or no rows) */
    struct sl_qcol *cols;    /* what the caller sees; owned */
    struct rtype *types;     /* how to read each column; owned */
    size_t n_cols;           /* 0: the statement returns no result set */
    duckdb_data_chunk chunk; /* the chunk being read, owned */
    idx_t chunk_len, pos;    /* its rows, the next one to hand out */
    duckdb_vector *vecs;     /* each column's vector in chunk */
    struct sl_val *row;      /* n_cols values handed out by cursor_next */
    struct sl_arena arena;   /* the current row's nested values and texts */
};

/* ---- the result's shape ------------------------------------------------- */

static void rtype_release(struct rtype *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n_kids; i++) {
        rtype_release(&t->kids[i]);
    }
    sl__free(t->kids);
    if (t->lt != NULL) {
        duckdb_destroy_logical_type(&t->lt);
    }
}

static void qcol_release(struct sl_qcol *q)
{
    if (q == NULL) {
        return;
    }
    for (size_t i = 0; i < q->n_kids; i++) {
        qcol_release(&q->kids[i]);
    }
    sl__free(q->kids);
    sl__free(q->name);
}

/* Kinds of the value model for each DuckDB type (docs/TYPES.md "Query
 * output"); 0xff: read through DuckDB's own text form (SL_V_TEXT). */
static uint8_t kind_of(duckdb_type id, bool json)
{
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        return SL_V_BOOL;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
        return SL_V_I64;
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_BIGNUM:
        return SL_V_NUMTEXT;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
        return SL_V_F64;
    case DUCKDB_TYPE_DECIMAL:
        return SL_V_DEC;
    case DUCKDB_TYPE_VARCHAR:
        return json ? SL_V_JSONTEXT : SL_V_STR;
    case DUCKDB_TYPE_ENUM:
        /* a string from a fixed set: quoted inside nested values like any
           string (as DuckDB shows it) */
        return SL_V_STR;
    case DUCKDB_TYPE_BLOB:
        return SL_V_BYTES;
    case DUCKDB_TYPE_DATE:
        return SL_V_DATE;
    case DUCKDB_TYPE_TIME:
        return SL_V_TIME;
    case DUCKDB_TYPE_TIMESTAMP:
        return SL_V_DATETIME;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return SL_V_TS;
    case DUCKDB_TYPE_STRUCT:
        return SL_V_STRUCT;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
        return SL_V_LIST;
    case DUCKDB_TYPE_MAP:
        return SL_V_MAP;
    default:
        return SL_V_TEXT;
    }
}

static bool numeric_type(duckdb_type id)
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
    case DUCKDB_TYPE_BIGNUM:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
        return true;
    default:
        return false;
    }
}

static int plan(duckdb_logical_type lt, struct rtype *t, struct sl_qcol *q);

/* n kids of t (and of q unless NULL), each planned from kid(i). */
static int plan_kids(struct rtype *t, struct sl_qcol *q, size_t n)
{
    t->kids = sl__calloc(n > 0 ? n : 1, sizeof(*t->kids));
    if (t->kids == NULL) {
        return -SL_ENOMEM;
    }
    t->n_kids = n;
    if (q != NULL) {
        q->kids = sl__calloc(n > 0 ? n : 1, sizeof(*q->kids));
        if (q->kids == NULL) {
            return -SL_ENOMEM;
        }
        q->n_kids = n;
    }
    for (size_t i = 0; i < n; i++) {
        duckdb_logical_type kt = NULL;
        struct sl_qcol *kq = q != NULL ? &q->kids[i] : NULL;
        switch (t->id) {
        case DUCKDB_TYPE_STRUCT:
            kt = duckdb_struct_type_child_type(t->lt, i);
            if (kq != NULL) {
                char *name = duckdb_struct_type_child_name(t->lt, i);
                kq->name = sl__strdup(name != NULL ? name : "");
                duckdb_free(name);
                if (kq->name == NULL) {
                    duckdb_destroy_logical_type(&kt);
                    return -SL_ENOMEM;
                }
            }
            break;
        case DUCKDB_TYPE_LIST:
            kt = duckdb_list_type_child_type(t->lt);
            break;
        case DUCKDB_TYPE_ARRAY:
            kt = duckdb_array_type_child_type(t->lt);
            break;
        case DUCKDB_TYPE_MAP:
            kt = i == 0 ? duckdb_map_type_key_type(t->lt)
                        : duckdb_map_type_value_type(t->lt);
            break;
        default: /* UNION */
            kt = duckdb_union_type_member_type(t->lt, i);
            break;
        }
        int rc = plan(kt, &t->kids[i], kq);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* Plan how to read values of type lt (takes ownership of lt) into t, and
 * describe them in q (NULL inside a value read as text). On failure the
 * caller releases t and q. */
static int plan(duckdb_logical_type lt, struct rtype *t, struct sl_qcol *q)
{
    t->lt = lt;
    t->id = duckdb_get_type_id(lt);
    if (t->id == DUCKDB_TYPE_VARCHAR) {
        char *alias = duckdb_logical_type_get_alias(lt);
        t->json = alias != NULL && strcmp(alias, "JSON") == 0;
        duckdb_free(alias);
    } else if (t->id == DUCKDB_TYPE_DECIMAL) {
        t->width = duckdb_decimal_width(lt);
        t->scale = duckdb_decimal_scale(lt);
        t->store = duckdb_decimal_internal_type(lt);
    } else if (t->id == DUCKDB_TYPE_ENUM) {
        t->store = duckdb_enum_internal_type(lt);
    } else if (t->id == DUCKDB_TYPE_ARRAY) {
        t->array_size = duckdb_array_type_array_size(lt);
    }
    uint8_t kind = kind_of(t->id, t->json);
    if (q != NULL) {
        q->kind = kind;
        q->scale = t->scale;
        q->numeric = numeric_type(t->id);
        q->is_float = t->id == DUCKDB_TYPE_FLOAT;
    }
    switch (t->id) {
    case DUCKDB_TYPE_STRUCT:
        return plan_kids(t, q, duckdb_struct_type_child_count(lt));
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
        return plan_kids(t, q, 1);
    case DUCKDB_TYPE_MAP:
        return plan_kids(t, q, 2);
    case DUCKDB_TYPE_UNION:
        /* read as text: members planned for the values made from them */
        return plan_kids(t, NULL, duckdb_union_type_member_count(lt));
    default:
        return SL_OK;
    }
}

/* ---- values as DuckDB values (for the text of the other types) ---------- */

static bool is_valid(duckdb_vector v, idx_t row)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    return valid == NULL || duckdb_validity_row_is_valid(valid, row);
}

static __int128 hugeint_of(duckdb_hugeint h)
{
    return (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower);
}

static duckdb_value value_of(const struct rtype *t, duckdb_vector v, idx_t row);

/* A nested value from n kid values at kids (each destroyed here). */
static duckdb_value nested_value(const struct rtype *t, duckdb_vector child,
                                 idx_t off, idx_t n)
{
    duckdb_value *vals = sl__calloc(n > 0 ? n : 1, sizeof(*vals));
    if (vals == NULL) {
        return NULL;
    }
    bool ok = true;
    for (idx_t i = 0; ok && i < n; i++) {
        vals[i] = value_of(&t->kids[0], child, off + i);
        ok = vals[i] != NULL;
    }
    duckdb_value out = NULL;
    if (ok && t->id == DUCKDB_TYPE_LIST) {
        out = duckdb_create_list_value(t->kids[0].lt, vals, n);
    } else if (ok) {
        out = duckdb_create_array_value(t->kids[0].lt, vals, n);
    }
    for (idx_t i = 0; i < n; i++) {
        if (vals[i] != NULL) {
            duckdb_destroy_value(&vals[i]);
        }
    }
    sl__free(vals);
    return out;
}

static duckdb_value struct_value(const struct rtype *t, duckdb_vector v,
                                 idx_t row)
{
    duckdb_value *vals =
        sl__calloc(t->n_kids > 0 ? t->n_kids : 1, sizeof(*vals));
    if (vals == NULL) {
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < t->n_kids; i++) {
        vals[i] =
            value_of(&t->kids[i], duckdb_struct_vector_get_child(v, i), row);
        ok = vals[i] != NULL;
    }
    duckdb_value out = ok ? duckdb_create_struct_value(t->lt, vals) : NULL;
    for (size_t i = 0; i < t->n_kids; i++) {
        if (vals[i] != NULL) {
            duckdb_destroy_value(&vals[i]);
        }
    }
    sl__free(vals);
    return out;
}

static duckdb_value map_value(const struct rtype *t, duckdb_vector v, idx_t row)
{
    duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[row];
    duckdb_vector kv = duckdb_list_vector_get_child(v);
    duckdb_vector kvec = duckdb_struct_vector_get_child(kv, 0);
    duckdb_vector vvec = duckdb_struct_vector_get_child(kv, 1);
    size_t n = (size_t)e.length;
    duckdb_value *vals = sl__calloc(n > 0 ? 2 * n : 1, sizeof(*vals));
    if (vals == NULL) {
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        vals[i] = value_of(&t->kids[0], kvec, e.offset + i);
        vals[n + i] = value_of(&t->kids[1], vvec, e.offset + i);
        ok = vals[i] != NULL && vals[n + i] != NULL;
    }
    duckdb_value out =
        ok ? duckdb_create_map_value(t->lt, vals, vals + n, n) : NULL;
    for (size_t i = 0; i < 2 * n; i++) {
        if (vals[i] != NULL) {
            duckdb_destroy_value(&vals[i]);
        }
    }
    sl__free(vals);
    return out;
}

/* BIGNUM's storage: a 3-byte header (top bit set: positive) and the
 * magnitude big-endian, every byte inverted when negative. duckdb_bignum
 * takes the magnitude big-endian too, whatever duckdb.h says (its comment
 * says little-endian; test_cursor checks which). */
static duckdb_value bignum_value(const char *p, size_t n)
{
    if (n < 3) {
        return NULL;
    }
    bool neg = ((unsigned char)p[0] & 0x80) == 0;
    size_t m = n - 3;
    uint8_t *mag = sl__malloc(m > 0 ? m : 1);
    if (mag == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < m; i++) {
        uint8_t b = (uint8_t)p[3 + i];
        mag[i] = neg ? (uint8_t)~b : b;
    }
    duckdb_bignum bn = {.data = mag, .size = m, .is_negative = neg};
    duckdb_value out = duckdb_create_bignum(bn);
    sl__free(mag);
    return out;
}

/* The value at row of vector v as a DuckDB value (caller destroys it), NULL
 * when it cannot be made (out of memory, or a type with no constructor). */
static duckdb_value value_of(const struct rtype *t, duckdb_vector v, idx_t row)
{
    if (!is_valid(v, row)) {
        return duckdb_create_null_value();
    }
    void *d = duckdb_vector_get_data(v);
    switch (t->id) {
    case DUCKDB_TYPE_BOOLEAN:
        return duckdb_create_bool(((bool *)d)[row]);
    case DUCKDB_TYPE_TINYINT:
        return duckdb_create_int8(((int8_t *)d)[row]);
    case DUCKDB_TYPE_SMALLINT:
        return duckdb_create_int16(((int16_t *)d)[row]);
    case DUCKDB_TYPE_INTEGER:
        return duckdb_create_int32(((int32_t *)d)[row]);
    case DUCKDB_TYPE_BIGINT:
        return duckdb_create_int64(((int64_t *)d)[row]);
    case DUCKDB_TYPE_UTINYINT:
        return duckdb_create_uint8(((uint8_t *)d)[row]);
    case DUCKDB_TYPE_USMALLINT:
        return duckdb_create_uint16(((uint16_t *)d)[row]);
    case DUCKDB_TYPE_UINTEGER:
        return duckdb_create_uint32(((uint32_t *)d)[row]);
    case DUCKDB_TYPE_UBIGINT:
        return duckdb_create_uint64(((uint64_t *)d)[row]);
    case DUCKDB_TYPE_HUGEINT:
        return duckdb_create_hugeint(((duckdb_hugeint *)d)[row]);
    case DUCKDB_TYPE_UHUGEINT:
        return duckdb_create_uhugeint(((duckdb_uhugeint *)d)[row]);
    case DUCKDB_TYPE_FLOAT:
        return duckdb_create_float(((float *)d)[row]);
    case DUCKDB_TYPE_DOUBLE:
        return duckdb_create_double(((double *)d)[row]);
    case DUCKDB_TYPE_DECIMAL: {
        duckdb_decimal dec = {.width = t->width, .scale = t->scale};
        __int128 x;
        if (t->store == DUCKDB_TYPE_SMALLINT) {
            x = ((int16_t *)d)[row];
        } else if (t->store == DUCKDB_TYPE_INTEGER) {
            x = ((int32_t *)d)[row];
        } else if (t->store == DUCKDB_TYPE_BIGINT) {
            x = ((int64_t *)d)[row];
        } else {
            x = hugeint_of(((duckdb_hugeint *)d)[row]);
        }
        dec.value.lower = (uint64_t)x;
        dec.value.upper = (int64_t)(x >> 64);
        return duckdb_create_decimal(dec);
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
    case DUCKDB_TYPE_BIGNUM: {
        duckdb_string_t *s = (duckdb_string_t *)d + row;
        const char *p = duckdb_string_t_data(s);
        uint32_t n = duckdb_string_t_length(*s);
        if (t->id == DUCKDB_TYPE_VARCHAR) {
            return duckdb_create_varchar_length(p, n);
        }
        if (t->id == DUCKDB_TYPE_BLOB) {
            return duckdb_create_blob((const uint8_t *)p, n);
        }
        if (t->id == DUCKDB_TYPE_BIT) {
            duckdb_bit bit = {.data = (uint8_t *)(uintptr_t)p, .size = n};
            return duckdb_create_bit(bit);
        }
        return bignum_value(p, n);
    }
    case DUCKDB_TYPE_DATE:
        return duckdb_create_date(((duckdb_date *)d)[row]);
    case DUCKDB_TYPE_TIME:
        return duckdb_create_time(((duckdb_time *)d)[row]);
    case DUCKDB_TYPE_TIME_TZ:
        return duckdb_create_time_tz_value(((duckdb_time_tz *)d)[row]);
    case DUCKDB_TYPE_TIME_NS:
        return duckdb_create_time_ns(((duckdb_time_ns *)d)[row]);
    case DUCKDB_TYPE_TIMESTAMP:
        return duckdb_create_timestamp(((duckdb_timestamp *)d)[row]);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return duckdb_create_timestamp_tz(((duckdb_timestamp *)d)[row]);
    case DUCKDB_TYPE_TIMESTAMP_S:
        return duckdb_create_timestamp_s(((duckdb_timestamp_s *)d)[row]);
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return duckdb_create_timestamp_ms(((duckdb_timestamp_ms *)d)[row]);
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return duckdb_create_timestamp_ns(((duckdb_timestamp_ns *)d)[row]);
    case DUCKDB_TYPE_INTERVAL:
        return duckdb_create_interval(((duckdb_interval *)d)[row]);
    case DUCKDB_TYPE_UUID: {
        /* stored as a hugeint with the top bit flipped (so it sorts) */
        duckdb_hugeint h = ((duckdb_hugeint *)d)[row];
        duckdb_uhugeint u = {h.lower, (uint64_t)h.upper ^ (UINT64_C(1) << 63)};
        return duckdb_create_uuid(u);
    }
    case DUCKDB_TYPE_ENUM: {
        uint64_t idx;
        if (t->store == DUCKDB_TYPE_UTINYINT) {
            idx = ((uint8_t *)d)[row];
        } else if (t->store == DUCKDB_TYPE_USMALLINT) {
            idx = ((uint16_t *)d)[row];
        } else {
            idx = ((uint32_t *)d)[row];
        }
        return duckdb_create_enum_value(t->lt, idx);
    }
    case DUCKDB_TYPE_STRUCT:
        return struct_value(t, v, row);
    case DUCKDB_TYPE_LIST: {
        duckdb_list_entry e = ((duckdb_list_entry *)d)[row];
        return nested_value(t, duckdb_list_vector_get_child(v), e.offset,
                            e.length);
    }
    case DUCKDB_TYPE_ARRAY:
        return nested_value(t, duckdb_array_vector_get_child(v),
                            row * t->array_size, t->array_size);
    case DUCKDB_TYPE_MAP:
        return map_value(t, v, row);
    case DUCKDB_TYPE_UNION: {
        /* a STRUCT of (tag, member...): the active member */
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(
            duckdb_struct_vector_get_child(v, 0)))[row];
        if (tag >= t->n_kids) {
            return NULL;
        }
        duckdb_value m =
            value_of(&t->kids[tag],
                     duckdb_struct_vector_get_child(v, (idx_t)tag + 1), row);
        if (m == NULL) {
            return NULL;
        }
        duckdb_value out = duckdb_create_union_value(t->lt, tag, m);
        duckdb_destroy_value(&m);
        return out;
    }
    case DUCKDB_TYPE_SQLNULL:
        return duckdb_create_null_value();
    default:
        return NULL;
    }
}

/* ---- rows ----------------------------------------------------------------
 */

static char *arena_copy(struct sl_arena *a, const char *s, size_t n)
{
    char *p = sl__arena_alloc(a, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Decimal text of an unsigned 128-bit number into the arena. */
static int put_u128(struct sl_arena *a, unsigned __int128 u, bool neg,
                    struct sl_val *out)
{
    char tmp[48];
    size_t n = sizeof(tmp);
    do {
        tmp[--n] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (neg) {
        tmp[--n] = '-';
    }
    char *p = arena_copy(a, tmp + n, sizeof(tmp) - n);
    if (p == NULL) {
        return -SL_ENOMEM;
    }
    out->kind = SL_V_NUMTEXT;
    out->u.s = p;
    out->len = (uint32_t)(sizeof(tmp) - n);
    return SL_OK;
}

static int text_value(struct sl_cursor *c, const struct rtype *t,
                      duckdb_vector v, idx_t row, uint8_t kind,
                      struct sl_val *out, struct sl_error *err)
{
    duckdb_value val = value_of(t, v, row);
    if (val == NULL) {
        /* a type this driver has no constructor for: say what it is rather
           than guess its bytes */
        char tmp[48];
        int n = snprintf(tmp, sizeof(tmp), "<unsupported type %d>", (int)t->id);
        out->u.s = arena_copy(&c->arena, tmp, (size_t)n);
        out->len = (uint32_t)n;
    } else {
        char *s = duckdb_get_varchar(val);
        duckdb_destroy_value(&val);
        size_t n = s != NULL ? strlen(s) : 0;
        out->u.s = arena_copy(&c->arena, s != NULL ? s : "", n);
        out->len = (uint32_t)n;
        duckdb_free(s);
    }
    if (out->u.s == NULL) {
        return sl__duckdb_nomem(err);
    }
    out->kind = kind;
    return SL_OK;
}

static int read_val(struct sl_cursor *c, const struct rtype *t, duckdb_vector v,
                    idx_t row, struct sl_val *out, struct sl_error *err);

/* n values of kid type kt at child rows off.. into an arena array. */
static int read_elems(struct sl_cursor *c, const struct rtype *kt,
                      duckdb_vector child, idx_t off, idx_t n,
                      struct sl_val *out, struct sl_error *err)
{
    struct sl_val *vals =
        sl__arena_alloc(&c->arena, (n > 0 ? n : 1) * sizeof(*vals));
    if (vals == NULL) {
        return sl__duckdb_nomem(err);
    }
    for (idx_t i = 0; i < n; i++) {
        int rc = read_val(c, kt, child, off + i, &vals[i], err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    out->kind = SL_V_LIST;
    out->len = (uint32_t)n;
    out->u.v = vals;
    return SL_OK;
}

static int read_struct(struct sl_cursor *c, const struct rtype *t,
                       duckdb_vector v, idx_t row, struct sl_val *out,
                       struct sl_error *err)
{
    struct sl_val *vals = sl__arena_alloc(
        &c->arena, (t->n_kids > 0 ? t->n_kids : 1) * sizeof(*vals));
    if (vals == NULL) {
        return sl__duckdb_nomem(err);
    }
    for (size_t i = 0; i < t->n_kids; i++) {
        int rc = read_val(c, &t->kids[i], duckdb_struct_vector_get_child(v, i),
                          row, &vals[i], err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    out->kind = SL_V_STRUCT;
    out->len = (uint32_t)t->n_kids;
    out->u.v = vals;
    return SL_OK;
}

static int read_map(struct sl_cursor *c, const struct rtype *t, duckdb_vector v,
                    idx_t row, struct sl_val *out, struct sl_error *err)
{
    duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[row];
    duckdb_vector kv = duckdb_list_vector_get_child(v);
    duckdb_vector kvec = duckdb_struct_vector_get_child(kv, 0);
    duckdb_vector vvec = duckdb_struct_vector_get_child(kv, 1);
    struct sl_val *vals = sl__arena_alloc(
        &c->arena, (e.length > 0 ? 2 * e.length : 1) * sizeof(*vals));
    if (vals == NULL) {
        return sl__duckdb_nomem(err);
    }
    for (idx_t i = 0; i < e.length; i++) {
        int rc =
            read_val(c, &t->kids[0], kvec, e.offset + i, &vals[2 * i], err);
        if (rc == SL_OK) {
            rc = read_val(c, &t->kids[1], vvec, e.offset + i, &vals[2 * i + 1],
                          err);
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    out->kind = SL_V_MAP;
    out->len = (uint32_t)e.length;
    out->u.v = vals;
    return SL_OK;
}

/* The value at row of v as t says, into out (arena memory, or the chunk's
 * strings: both valid until the next row). */
static int read_val(struct sl_cursor *c, const struct rtype *t, duckdb_vector v,
                    idx_t row, struct sl_val *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!is_valid(v, row)) {
        out->kind = SL_V_NULL;
        return SL_OK;
    }
    void *d = duckdb_vector_get_data(v);
    out->kind = SL_V_I64;
    switch (t->id) {
    case DUCKDB_TYPE_BOOLEAN:
        out->kind = SL_V_BOOL;
        out->u.b = ((bool *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_TINYINT:
        out->u.i = ((int8_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_SMALLINT:
        out->u.i = ((int16_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_INTEGER:
        out->u.i = ((int32_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_BIGINT:
        out->u.i = ((int64_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_UTINYINT:
        out->u.i = ((uint8_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_USMALLINT:
        out->u.i = ((uint16_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_UINTEGER:
        out->u.i = ((uint32_t *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_UBIGINT:
        if (put_u128(&c->arena, ((uint64_t *)d)[row], false, out) != SL_OK) {
            return sl__duckdb_nomem(err);
        }
        return SL_OK;
    case DUCKDB_TYPE_HUGEINT: {
        __int128 x = hugeint_of(((duckdb_hugeint *)d)[row]);
        unsigned __int128 u =
            x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
        if (put_u128(&c->arena, u, x < 0, out) != SL_OK) {
            return sl__duckdb_nomem(err);
        }
        return SL_OK;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)d)[row];
        if (put_u128(&c->arena, ((unsigned __int128)h.upper << 64) | h.lower,
                     false, out) != SL_OK) {
            return sl__duckdb_nomem(err);
        }
        return SL_OK;
    }
    case DUCKDB_TYPE_FLOAT:
        out->kind = SL_V_F64;
        out->u.f = ((float *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_DOUBLE:
        out->kind = SL_V_F64;
        out->u.f = ((double *)d)[row];
        return SL_OK;
    case DUCKDB_TYPE_DECIMAL:
        out->kind = SL_V_DEC;
        if (t->store == DUCKDB_TYPE_SMALLINT) {
            out->u.d = ((int16_t *)d)[row];
        } else if (t->store == DUCKDB_TYPE_INTEGER) {
            out->u.d = ((int32_t *)d)[row];
        } else if (t->store == DUCKDB_TYPE_BIGINT) {
            out->u.d = ((int64_t *)d)[row];
        } else {
            out->u.d = hugeint_of(((duckdb_hugeint *)d)[row]);
        }
        return SL_OK;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
        duckdb_string_t *s = (duckdb_string_t *)d + row;
        out->kind = t->id == DUCKDB_TYPE_BLOB ? SL_V_BYTES
                    : t->json                 ? SL_V_JSONTEXT
                                              : SL_V_STR;
        out->u.s = duckdb_string_t_data(s);
        out->len = duckdb_string_t_length(*s);
        return SL_OK;
    }
    case DUCKDB_TYPE_ENUM: {
        uint64_t idx;
        if (t->store == DUCKDB_TYPE_UTINYINT) {
            idx = ((uint8_t *)d)[row];
        } else if (t->store == DUCKDB_TYPE_USMALLINT) {
            idx = ((uint16_t *)d)[row];
        } else {
            idx = ((uint32_t *)d)[row];
        }
        char *s = duckdb_enum_dictionary_value(t->lt, idx);
        size_t n = s != NULL ? strlen(s) : 0;
        out->kind = SL_V_STR;
        out->u.s = arena_copy(&c->arena, s != NULL ? s : "", n);
        out->len = (uint32_t)n;
        duckdb_free(s);
        return out->u.s != NULL ? SL_OK : sl__duckdb_nomem(err);
    }
    case DUCKDB_TYPE_DATE:
        out->kind = SL_V_DATE;
        out->u.i = ((duckdb_date *)d)[row].days;
        return SL_OK;
    case DUCKDB_TYPE_TIME:
        out->kind = SL_V_TIME;
        out->u.i = ((duckdb_time *)d)[row].micros;
        return SL_OK;
    case DUCKDB_TYPE_TIMESTAMP:
        out->kind = SL_V_DATETIME;
        out->u.i = ((duckdb_timestamp *)d)[row].micros;
        return SL_OK;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        out->kind = SL_V_TS;
        out->u.i = ((duckdb_timestamp *)d)[row].micros;
        return SL_OK;
    case DUCKDB_TYPE_STRUCT:
        return read_struct(c, t, v, row, out, err);
    case DUCKDB_TYPE_LIST: {
        duckdb_list_entry e = ((duckdb_list_entry *)d)[row];
        return read_elems(c, &t->kids[0], duckdb_list_vector_get_child(v),
                          e.offset, e.length, out, err);
    }
    case DUCKDB_TYPE_ARRAY:
        return read_elems(c, &t->kids[0], duckdb_array_vector_get_child(v),
                          row * t->array_size, t->array_size, out, err);
    case DUCKDB_TYPE_MAP:
        return read_map(c, t, v, row, out, err);
    case DUCKDB_TYPE_BIGNUM:
        return text_value(c, t, v, row, SL_V_NUMTEXT, out, err);
    default:
        return text_value(c, t, v, row, SL_V_TEXT, out, err);
    }
}

/* ---- the ops ------------------------------------------------------------- */

void sl__duckdb_cursor_close(struct sl_cursor *c)
{
    if (c == NULL) {
        return;
    }
    if (c->chunk != NULL) {
        duckdb_destroy_data_chunk(&c->chunk);
    }
    if (c->has_res) {
        duckdb_destroy_result(&c->res);
    }
    if (c->pending != NULL) {
        duckdb_destroy_pending(&c->pending);
    }
    if (c->st != NULL) {
        duckdb_destroy_prepare(&c->st);
    }
    for (size_t i = 0; c->types != NULL && i < c->n_cols; i++) {
        rtype_release(&c->types[i]);
    }
    for (size_t i = 0; c->cols != NULL && i < c->n_cols; i++) {
        qcol_release(&c->cols[i]);
    }
    sl__free(c->types);
    sl__free(c->cols);
    sl__free(c->vecs);
    sl__free(c->row);
    sl__arena_release(&c->arena);
    if (c->wh != NULL && c->wh->cursor == c) {
        c->wh->cursor = NULL;
    }
    sl__free(c);
}

/* The result's columns, planned; a statement without a result set (CREATE,
 * SET, ...) has none. */
static int describe(struct sl_cursor *c, struct sl_error *err)
{
    if (duckdb_result_return_type(c->res) == DUCKDB_RESULT_TYPE_NOTHING) {
        c->done = true;
        return SL_OK;
    }
    size_t n = (size_t)duckdb_column_count(&c->res);
    c->cols = sl__calloc(n > 0 ? n : 1, sizeof(*c->cols));
    c->types = sl__calloc(n > 0 ? n : 1, sizeof(*c->types));
    c->vecs = sl__calloc(n > 0 ? n : 1, sizeof(*c->vecs));
    c->row = sl__calloc(n > 0 ? n : 1, sizeof(*c->row));
    if (c->cols == NULL || c->types == NULL || c->vecs == NULL ||
        c->row == NULL) {
        return sl__duckdb_nomem(err);
    }
    c->n_cols = n;
    for (size_t i = 0; i < n; i++) {
        const char *name = duckdb_column_name(&c->res, i);
        c->cols[i].name = sl__strdup(name != NULL ? name : "");
        if (c->cols[i].name == NULL) {
            return sl__duckdb_nomem(err);
        }
        int rc = plan(duckdb_column_logical_type(&c->res, i), &c->types[i],
                      &c->cols[i]);
        if (rc != SL_OK) {
            return sl__duckdb_nomem(err);
        }
    }
    c->done = n == 0;
    return SL_OK;
}

int sl__duckdb_cursor_open(struct sl_wh *wh, const char *sql,
                           struct sl_cursor **out, struct sl_error *err)
{
    *out = NULL;
    if (wh->active != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE, "duckdb: query during a load");
    }
    if (wh->cursor != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: query while another query's cursor is open");
    }
    struct sl_cursor *c = sl__calloc(1, sizeof(*c));
    if (c == NULL) {
        return sl__duckdb_nomem(err);
    }
    c->wh = wh;
    sl__arena_init(&c->arena, 16384);
    int rc = SL_OK;
    if (duckdb_prepare(wh->con, sql, &c->st) == DuckDBError) {
        rc = sl__duckdb_fail(err, 0, "query", duckdb_prepare_error(c->st));
        goto out;
    }
    /* a streaming result: DuckDB produces chunks as they are fetched, so a
       result of any size is held one chunk at a time */
    if (duckdb_pending_prepared_streaming(c->st, &c->pending) == DuckDBError) {
        rc = sl__duckdb_fail(err, 0, "query", duckdb_pending_error(c->pending));
        goto out;
    }
    c->has_res = true;
    if (duckdb_execute_pending(c->pending, &c->res) == DuckDBError) {
        rc = sl__duckdb_fail_result(err, &c->res, "query");
        goto out;
    }
    rc = describe(c, err);
out:
    if (rc != SL_OK) {
        sl__duckdb_cursor_close(c);
        return rc;
    }
    wh->cursor = c;
    *out = c;
    return SL_OK;
}

const struct sl_qcol *sl__duckdb_cursor_columns(struct sl_cursor *c,
                                                size_t *out_n)
{
    *out_n = c->n_cols;
    return c->cols;
}

int sl__duckdb_cursor_next(struct sl_cursor *c, const struct sl_val **out_row,
                           struct sl_error *err)
{
    *out_row = NULL;
    if (c->done) {
        return SL_OK;
    }
    sl__arena_reset(&c->arena);
    while (c->chunk == NULL || c->pos >= c->chunk_len) {
        if (c->chunk != NULL) {
            duckdb_destroy_data_chunk(&c->chunk);
        }
        c->chunk = duckdb_fetch_chunk(c->res);
        if (c->chunk == NULL) {
            c->done = true;
            /* NULL is also how a failure while streaming shows */
            if (duckdb_result_error(&c->res) != NULL) {
                return sl__duckdb_fail_result(err, &c->res, "query");
            }
            return SL_OK;
        }
        c->chunk_len = duckdb_data_chunk_get_size(c->chunk);
        c->pos = 0;
        for (size_t i = 0; i < c->n_cols; i++) {
            c->vecs[i] = duckdb_data_chunk_get_vector(c->chunk, i);
        }
    }
    for (size_t i = 0; i < c->n_cols; i++) {
        int rc = read_val(c, &c->types[i], c->vecs[i], c->pos, &c->row[i], err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    c->pos++;
    *out_row = c->row;
    return SL_OK;
}

/* ---- scripts ------------------------------------------------------------- */

static bool ident_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' || ch >= 0x80;
}

/* Length of a dollar-quote tag ("$tag$" or "$$") at s, 0 if there is none. */
static size_t dollar_tag(const char *s, size_t n)
{
    size_t i = 1;
    if (i < n && (unsigned char)s[i] >= '0' && (unsigned char)s[i] <= '9') {
        return 0; /* $1: a parameter */
    }
    while (i < n && s[i] != '$' && ident_char((unsigned char)s[i])) {
        i++;
    }
    return i < n && s[i] == '$' ? i + 1 : 0;
}

/* The statement starting at s: its length up to the ';' that ends it (or the
 * end), and whether it holds anything but blanks and comments. The lexer of
 * PostgreSQL-family SQL, as DuckDB's parser reads it: '' strings (backslash
 * escapes after E), "" identifiers, -- and nested block comments, dollar
 * quotes. An unterminated one runs to the end (the parser reports it). */
static size_t stmt_len(const char *s, size_t n, bool *out_code)
{
    size_t i = 0;
    bool code = false;
    while (i < n && s[i] != ';') {
        unsigned char ch = (unsigned char)s[i];
        bool prev_ident = i > 0 && ident_char((unsigned char)s[i - 1]);
        if (ch == '\'' || ch == '"') {
            bool esc = ch == '\'' && i > 0 &&
                       (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                       !(i > 1 && ident_char((unsigned char)s[i - 2]));
            code = true;
            for (i++; i < n; i++) {
                if (esc && s[i] == '\\') {
                    i++;
                } else if ((unsigned char)s[i] == ch) {
                    if (i + 1 < n && (unsigned char)s[i + 1] == ch) {
                        i++; /* doubled: the character itself */
                    } else {
                        break;
                    }
                }
            }
            i++;
        } else if (ch == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') {
                i++;
            }
        } else if (ch == '/' && i + 1 < n && s[i + 1] == '*') {
            int depth = 0;
            while (i < n) {
                if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
                    i += 2;
                    if (--depth == 0) {
                        break;
                    }
                } else {
                    i++;
                }
            }
        } else if (ch == '$' && !prev_ident && dollar_tag(s + i, n - i) > 0) {
            size_t tl = dollar_tag(s + i, n - i);
            const char *tag = s + i;
            code = true;
            for (i += tl; i < n; i++) {
                if (s[i] == '$' && n - i >= tl && memcmp(s + i, tag, tl) == 0) {
                    i += tl;
                    break;
                }
            }
        } else {
            code |= ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' &&
                    ch != '\f' && ch != '\v';
            i++;
        }
    }
    *out_code = code;
    return i < n ? i : n;
}

void sl__duckdb_free_statements(char **stmts, size_t n)
{
    for (size_t i = 0; stmts != NULL && i < n; i++) {
        sl__free(stmts[i]);
    }
    sl__free(stmts);
}

/* How many statements DuckDB's parser finds in sql; -1 with *out_msg (a copy
 * the caller frees with sl__free, NULL on ENOMEM) when it fails. */
static long parse_count(struct sl_wh *wh, const char *sql, char **out_msg)
{
    duckdb_extracted_statements ex = NULL;
    idx_t n = duckdb_extract_statements(wh->con, sql, &ex);
    const char *msg = n == 0 ? duckdb_extract_statements_error(ex) : NULL;
    long rc = (long)n;
    *out_msg = NULL;
    if (msg != NULL) {
        *out_msg = sl__strdup(msg);
        rc = -1;
    }
    duckdb_destroy_extracted(&ex);
    return rc;
}

int sl__duckdb_split_statements(struct sl_wh *wh, const char *sql, char ***out,
                                size_t *out_n, struct sl_error *err)
{
    *out = NULL;
    *out_n = 0;
    /* the pieces between top-level semicolons that hold code */
    size_t len = strlen(sql), cap = 0, n = 0;
    char **st = NULL;
    int rc = SL_OK;
    for (size_t i = 0; i <= len;) {
        while (i < len && strchr(" \t\n\r\f\v", sql[i]) != NULL) {
            i++; /* a statement's text starts at its first non-blank */
        }
        bool code;
        size_t l = stmt_len(sql + i, len - i, &code);
        if (code) {
            if (n == cap) {
                size_t ncap = cap > 0 ? cap * 2 : 8;
                char **p = sl__realloc(st, ncap * sizeof(*p));
                if (p == NULL) {
                    rc = sl__duckdb_nomem(err);
                    goto out;
                }
                st = p;
                cap = ncap;
            }
            if ((st[n] = sl__strndup(sql + i, l)) == NULL) {
                rc = sl__duckdb_nomem(err);
                goto out;
            }
            n++;
        }
        i += l + 1;
    }
    /* DuckDB's parser has the last word: the script must parse, and into as
       many statements as the pieces, each of which parses alone */
    char *msg = NULL;
    long count = parse_count(wh, sql, &msg);
    if (count < 0) {
        size_t bad = 0;
        for (size_t k = 0; msg != NULL && k < n && bad == 0; k++) {
            char *m2 = NULL;
            if (parse_count(wh, st[k], &m2) < 0) {
                bad = k + 1;
            }
            sl__free(m2);
        }
        rc = msg != NULL ? sl__duckdb_fail(err, 0, "query", msg)
                         : sl__duckdb_nomem(err);
        if (msg != NULL && n > 1 && bad > 0) {
            sl__error_prefix(err, "statement %zu of %zu: ", bad, n);
        }
        sl__free(msg);
        goto out;
    }
    for (size_t k = 0; count == (long)n && k < n; k++) {
        char *m2 = NULL;
        long c1 = parse_count(wh, st[k], &m2);
        sl__free(m2);
        if (c1 != 1) {
            count = -1;
        }
    }
    if (count != (long)n) {
        rc = SL_ERR(err, -SL_EWAREHOUSE,
                    "duckdb: cannot split the script into statements (the "
                    "parser finds %ld, the splitter %zu)",
                    count, n);
        goto out;
    }
out:
    if (rc != SL_OK) {
        sl__duckdb_free_statements(st, n);
        return rc;
    }
    *out = st;
    *out_n = n;
    return SL_OK;
}
