/* clickhouse_native.c - query results in ClickHouse's Native format
 * (https://clickhouse.com/docs/en/interfaces/formats#native): blocks of
 * columns, each "name, type, values of every row" in the type's binary
 * layout, parsed in place and handed out row by row as struct sl_val
 * (docs/TYPES.md "Query output"). Also the type-name parser both the reader
 * and ensure_table use. No I/O here: the cursor (clickhouse_cursor.c) feeds
 * it the bytes. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/clickhouse_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NT_INT,      /* Int8..Int64, UInt8..UInt32: I64 */
    NT_UINT64,   /* UInt64: NUMTEXT (it may exceed INT64_MAX) */
    NT_FLOAT,    /* Float32/64: F64 */
    NT_DEC,      /* Decimal: DEC */
    NT_STRING,   /* String: STR */
    NT_FIXED,    /* FixedString(N): STR */
    NT_DATE,     /* Date (UInt16 days): DATE */
    NT_DATE32,   /* Date32 (Int32 days): DATE */
    NT_DATETIME, /* DateTime (UInt32 seconds): TS */
    NT_DT64,     /* DateTime64(P) (Int64 ticks of 10^-P s): TS */
    NT_ENUM,     /* Enum8/16: STR, its name */
    NT_UUID,     /* UUID: TEXT */
    NT_BOOL,     /* Bool: BOOL */
    NT_IPV4,     /* IPv4: TEXT */
    NT_IPV6,     /* IPv6: TEXT */
    NT_NOTHING,  /* Nothing: always NULL */
    NT_NULLABLE, /* kids[0], values may be NULL */
    NT_ARRAY,    /* kids[0] elements: LIST */
    NT_TUPLE,    /* kids: STRUCT */
};

void sl__ch_ntype_free(struct ch_ntype *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n_kids; i++) {
        sl__ch_ntype_free(&t->kids[i]);
    }
    sl__free(t->kids);
    for (size_t i = 0; i < t->n_enum; i++) {
        sl__free(t->enum_names[i]);
    }
    sl__free(t->enum_names);
    sl__free(t->enum_vals);
    memset(t, 0, sizeof(*t));
}

/* ---- type names ------------------------------------------------------------
 */

struct tparse {
    const char *p, *end;
    struct sl_error *err;
    const char *whole;
    size_t whole_len;
    int depth;
};

static void skip_ws(struct tparse *tp)
{
    while (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t')) {
        tp->p++;
    }
}

static bool eat(struct tparse *tp, char c)
{
    skip_ws(tp);
    if (tp->p < tp->end && *tp->p == c) {
        tp->p++;
        return true;
    }
    return false;
}

static int cannot(struct tparse *tp)
{
    return SL_ERR(tp->err, -SL_EWAREHOUSE,
                  "clickhouse: cannot read values of type %.*s (CAST the "
                  "column to String)",
                  (int)(tp->whole_len < 200 ? tp->whole_len : 200), tp->whole);
}

static bool number(struct tparse *tp, long *out)
{
    skip_ws(tp);
    char *e;
    char tmp[24];
    size_t n = (size_t)(tp->end - tp->p) < sizeof(tmp) - 1
                   ? (size_t)(tp->end - tp->p)
                   : sizeof(tmp) - 1;
    memcpy(tmp, tp->p, n);
    tmp[n] = '\0';
    *out = strtol(tmp, &e, 10);
    if (e == tmp) {
        return false;
    }
    tp->p += e - tmp;
    return true;
}

/* Skip to the ')' closing the parameters we do not need ('...' aware). */
static void skip_params(struct tparse *tp)
{
    int depth = 1;
    while (tp->p < tp->end && depth > 0) {
        char c = *tp->p++;
        if (c == '\'') {
            while (tp->p < tp->end && *tp->p != '\'') {
                tp->p += *tp->p == '\\' ? 2 : 1;
            }
            tp->p++;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
    }
}

/* Enum8('a' = 1, 'b' = -2): names and values. */
static int enum_params(struct tparse *tp, struct ch_ntype *t)
{
    size_t cap = 0;
    while (!eat(tp, ')')) {
        if (t->n_enum > 0 && !eat(tp, ',')) {
            return cannot(tp);
        }
        skip_ws(tp);
        if (tp->p >= tp->end || *tp->p != '\'') {
            return cannot(tp);
        }
        struct sl_buf name;
        sl__buf_init(&name);
        int rc = SL_OK;
        for (tp->p++; rc == SL_OK && tp->p < tp->end && *tp->p != '\'';) {
            char c = *tp->p++;
            if (c == '\\' && tp->p < tp->end) {
                c = *tp->p++;
            }
            rc = sl__buf_putc(&name, c);
        }
        tp->p++;
        long v;
        if (rc == SL_OK && (!eat(tp, '=') || !number(tp, &v))) {
            sl__buf_release(&name);
            return cannot(tp);
        }
        if (rc == SL_OK && t->n_enum == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **g = sl__realloc(t->enum_names, ncap * sizeof(*g));
            if (g != NULL) {
                t->enum_names = g;
            }
            int *gv = g != NULL ? sl__realloc(t->enum_vals, ncap * sizeof(*gv))
                                : NULL;
            if (gv == NULL) {
                rc = -SL_ENOMEM;
            } else {
                t->enum_vals = gv;
                cap = ncap;
            }
        }
        if (rc == SL_OK && name.data == NULL) {
            rc = sl__buf_reserve(&name, 1);
        }
        if (rc != SL_OK) {
            sl__buf_release(&name);
            return SL_ERR(tp->err, -SL_ENOMEM, "out of memory reading a type");
        }
        t->enum_names[t->n_enum] = name.data;
        t->enum_vals[t->n_enum++] = (int)v;
    }
    return SL_OK;
}

static int parse_type(struct tparse *tp, struct ch_ntype *t);

static int kids(struct tparse *tp, struct ch_ntype *t, bool named_ok)
{
    size_t cap = 0;
    while (!eat(tp, ')')) {
        if (t->n_kids > 0 && !eat(tp, ',')) {
            return cannot(tp);
        }
        if (t->n_kids == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct ch_ntype *g = sl__realloc(t->kids, ncap * sizeof(*g));
            if (g == NULL) {
                return SL_ERR(tp->err, -SL_ENOMEM, "out of memory");
            }
            t->kids = g;
            cap = ncap;
        }
        memset(&t->kids[t->n_kids], 0, sizeof(t->kids[0]));
        skip_ws(tp);
        if (named_ok) {
            /* Tuple(a UInt8, b String) in later versions: skip "name " */
            const char *q = tp->p;
            while (q < tp->end &&
                   (*q == '_' || (*q >= 'a' && *q <= 'z') ||
                    (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) {
                q++;
            }
            if (q < tp->end && *q == ' ' && q > tp->p) {
                const char *r = q;
                while (r < tp->end && *r == ' ') {
                    r++;
                }
                if (r < tp->end && *r != ',' && *r != ')') {
                    tp->p = r;
                }
            }
        }
        t->n_kids++;
        int rc = parse_type(tp, &t->kids[t->n_kids - 1]);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return t->n_kids > 0 ? SL_OK : cannot(tp);
}

static int parse_type(struct tparse *tp, struct ch_ntype *t)
{
    static const struct {
        const char *name;
        uint8_t id, width;
        bool is_signed;
    } simple[] = {
        {"Int8", NT_INT, 1, true},         {"Int16", NT_INT, 2, true},
        {"Int32", NT_INT, 4, true},        {"Int64", NT_INT, 8, true},
        {"UInt8", NT_INT, 1, false},       {"UInt16", NT_INT, 2, false},
        {"UInt32", NT_INT, 4, false},      {"UInt64", NT_UINT64, 8, false},
        {"Float32", NT_FLOAT, 4, true},    {"Float64", NT_FLOAT, 8, true},
        {"String", NT_STRING, 0, false},   {"Date", NT_DATE, 2, false},
        {"Date32", NT_DATE32, 4, true},    {"DateTime", NT_DATETIME, 4, false},
        {"UUID", NT_UUID, 16, false},      {"Bool", NT_BOOL, 1, false},
        {"IPv4", NT_IPV4, 4, false},       {"IPv6", NT_IPV6, 16, false},
        {"Nothing", NT_NOTHING, 1, false},
    };
    if (++tp->depth > 64) {
        return cannot(tp);
    }
    skip_ws(tp);
    const char *s = tp->p;
    while (tp->p < tp->end && *tp->p != '(' && *tp->p != ',' && *tp->p != ')' &&
           *tp->p != ' ') {
        tp->p++;
    }
    size_t n = (size_t)(tp->p - s);
    bool params = tp->p < tp->end && *tp->p == '(';
    if (params) {
        tp->p++;
    }
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)
    int rc = SL_OK;
    if (IS("Nullable") && params) {
        t->id = NT_NULLABLE;
        rc = kids(tp, t, false);
        rc = rc ? rc : (t->n_kids == 1 ? SL_OK : cannot(tp));
    } else if (IS("Array") && params) {
        t->id = NT_ARRAY;
        rc = kids(tp, t, false);
        rc = rc ? rc : (t->n_kids == 1 ? SL_OK : cannot(tp));
    } else if (IS("Tuple") && params) {
        t->id = NT_TUPLE;
        rc = kids(tp, t, true);
    } else if ((IS("Decimal") || IS("Decimal32") || IS("Decimal64") ||
                IS("Decimal128")) &&
               params) {
        long a = 0, b = 0;
        bool two = IS("Decimal");
        if (!number(tp, &a) || (two && (!eat(tp, ',') || !number(tp, &b))) ||
            !eat(tp, ')')) {
            return cannot(tp);
        }
        long prec = two ? a : IS("Decimal32") ? 9 : IS("Decimal64") ? 18 : 38;
        long scale = two ? b : a;
        if (prec < 1 || prec > 38 || scale < 0 || scale > prec) {
            return cannot(tp);
        }
        t->id = NT_DEC;
        t->width = prec <= 9 ? 4 : prec <= 18 ? 8 : 16;
        t->scale = (uint8_t)scale;
        t->is_signed = true;
    } else if (IS("FixedString") && params) {
        long w = 0;
        if (!number(tp, &w) || w < 1 || w > 255 || !eat(tp, ')')) {
            return cannot(tp);
        }
        t->id = NT_FIXED;
        t->width = (uint8_t)w;
    } else if ((IS("Enum8") || IS("Enum16")) && params) {
        t->id = NT_ENUM;
        t->width = IS("Enum8") ? 1 : 2;
        t->is_signed = true;
        rc = enum_params(tp, t);
    } else if (IS("DateTime64") && params) {
        long p = 0;
        if (!number(tp, &p) || p < 0 || p > 9) {
            return cannot(tp);
        }
        skip_params(tp);
        t->id = NT_DT64;
        t->width = 8;
        t->scale = (uint8_t)p;
    } else if (IS("DateTime") && params) {
        skip_params(tp); /* DateTime('zone'): an instant all the same */
        t->id = NT_DATETIME;
        t->width = 4;
    } else {
        bool found = false;
        for (size_t i = 0; !params && i < SL_ARRAY_LEN(simple); i++) {
            if (strlen(simple[i].name) == n &&
                memcmp(simple[i].name, s, n) == 0) {
                t->id = simple[i].id;
                t->width = simple[i].width;
                t->is_signed = simple[i].is_signed;
                found = true;
            }
        }
        if (!found) {
            return cannot(tp);
        }
    }
#undef IS
    tp->depth--;
    return rc;
}

int sl__ch_ntype_parse(const char *s, size_t n, struct ch_ntype *t,
                       struct sl_error *err)
{
    memset(t, 0, sizeof(*t));
    struct tparse tp = {s, s + n, err, s, n, 0};
    int rc = parse_type(&tp, t);
    skip_ws(&tp);
    if (rc == SL_OK && tp.p != tp.end) {
        rc = cannot(&tp);
    }
    if (rc != SL_OK) {
        sl__ch_ntype_free(t);
    }
    return rc;
}

/* ---- query columns -------------------------------------------------------
 */

void sl__ch_qcol_release(struct sl_qcol *q)
{
    if (q == NULL) {
        return;
    }
    for (size_t i = 0; i < q->n_kids; i++) {
        sl__ch_qcol_release(&q->kids[i]);
    }
    sl__free(q->kids);
    sl__free(q->name);
    memset(q, 0, sizeof(*q));
}

static int qcol_of(const struct ch_ntype *t, struct sl_qcol *q)
{
    switch (t->id) {
    case NT_NULLABLE:
        return qcol_of(&t->kids[0], q);
    case NT_INT:
        q->kind = SL_V_I64;
        q->numeric = true;
        return SL_OK;
    case NT_UINT64:
        q->kind = SL_V_NUMTEXT;
        q->numeric = true;
        return SL_OK;
    case NT_FLOAT:
        q->kind = SL_V_F64;
        q->numeric = true;
        q->is_float = t->width == 4;
        return SL_OK;
    case NT_DEC:
        q->kind = SL_V_DEC;
        q->scale = t->scale;
        q->numeric = true;
        return SL_OK;
    case NT_STRING:
    case NT_FIXED:
    case NT_ENUM:
        q->kind = SL_V_STR;
        return SL_OK;
    case NT_DATE:
    case NT_DATE32:
        q->kind = SL_V_DATE;
        return SL_OK;
    case NT_DATETIME:
    case NT_DT64:
        q->kind = SL_V_TS;
        return SL_OK;
    case NT_BOOL:
        q->kind = SL_V_BOOL;
        return SL_OK;
    case NT_UUID:
    case NT_IPV4:
    case NT_IPV6:
    case NT_NOTHING:
        q->kind = SL_V_TEXT;
        return SL_OK;
    case NT_ARRAY:
    case NT_TUPLE: {
        q->kind = t->id == NT_ARRAY ? SL_V_LIST : SL_V_STRUCT;
        q->kids = sl__calloc(t->n_kids, sizeof(*q->kids));
        if (q->kids == NULL) {
            return -SL_ENOMEM;
        }
        q->n_kids = t->n_kids;
        for (size_t i = 0; i < t->n_kids; i++) {
            if (t->id == NT_TUPLE) {
                char num[24];
                snprintf(num, sizeof(num), "%zu", i + 1);
                if ((q->kids[i].name = sl__strdup(num)) == NULL) {
                    return -SL_ENOMEM;
                }
            }
            int rc = qcol_of(&t->kids[i], &q->kids[i]);
            if (rc != SL_OK) {
                return rc;
            }
        }
        return SL_OK;
    }
    }
    return -SL_EWAREHOUSE;
}

int sl__ch_qcol(const char *name, const char *type, struct sl_qcol *out,
                struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    struct ch_ntype t;
    int rc = sl__ch_ntype_parse(type, strlen(type), &t, err);
    if (rc != SL_OK) {
        return rc;
    }
    rc = qcol_of(&t, out);
    if (rc == SL_OK && (out->name = sl__strdup(name)) == NULL) {
        rc = -SL_ENOMEM;
    }
    sl__ch_ntype_free(&t);
    if (rc != SL_OK) {
        sl__ch_qcol_release(out);
        return SL_ERR(err, rc, "out of memory describing a result");
    }
    return SL_OK;
}

/* ---- blocks --------------------------------------------------------------
 */

/* A column's values in a block, parsed in place. */
struct ncol {
    const struct ch_ntype *t; /* borrowed from the block's types */
    size_t rows;
    const char *data;  /* fixed-size values, null map, offsets */
    uint32_t *str_off; /* String: rows+1 offsets of each value's bytes
                          from data (after its length), owned */
    uint32_t *str_len; /* String: each value's length, owned */
    struct ncol *kids; /* Nullable, Array: 1; Tuple: n; owned */
};

struct ch_block {
    size_t n_cols, rows;
    char **names;           /* owned */
    char **type_names;      /* owned */
    struct ch_ntype *types; /* owned */
    struct ncol *cols;      /* owned */
};

struct reader {
    const char *p, *start, *end;
    size_t need; /* bytes short, when the data ran out */
};

static bool varint(struct reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->need = 1;
            return false;
        }
        unsigned char c = (unsigned char)*r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    r->need = 0; /* malformed */
    return false;
}

static bool take(struct reader *r, size_t n, const char **out)
{
    if ((size_t)(r->end - r->p) < n) {
        r->need = n - (size_t)(r->end - r->p);
        return false;
    }
    *out = r->p;
    r->p += n;
    return true;
}

static void ncol_free(struct ncol *c, const struct ch_ntype *t)
{
    if (c == NULL) {
        return;
    }
    sl__free(c->str_off);
    sl__free(c->str_len);
    if (c->kids != NULL) {
        for (size_t i = 0; i < t->n_kids; i++) {
            ncol_free(&c->kids[i], &t->kids[i]);
        }
        sl__free(c->kids);
    }
}

/* 1: parsed; 0: more bytes needed (r->need) or malformed (need 0); <0 an
 * error code. */
static int ncol_parse(struct reader *r, const struct ch_ntype *t, size_t rows,
                      struct ncol *c)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->rows = rows;
    switch (t->id) {
    case NT_STRING: {
        if (rows > UINT32_MAX) {
            return 0;
        }
        /* each value takes a byte at least: ask for those before
           allocating for them (a bogus row count costs nothing) */
        if (rows > (size_t)(r->end - r->p)) {
            r->need = rows - (size_t)(r->end - r->p);
            return 0;
        }
        c->str_off = sl__malloc((rows ? rows : 1) * sizeof(*c->str_off));
        c->str_len = sl__malloc((rows ? rows : 1) * sizeof(*c->str_len));
        if (c->str_off == NULL || c->str_len == NULL) {
            return -SL_ENOMEM;
        }
        c->data = r->p;
        for (size_t i = 0; i < rows; i++) {
            uint64_t len;
            const char *s;
            if (!varint(r, &len)) {
                return 0;
            }
            if (len > UINT32_MAX || !take(r, (size_t)len, &s)) {
                return 0;
            }
            if ((size_t)(s - c->data) > UINT32_MAX) {
                return 0;
            }
            c->str_off[i] = (uint32_t)(s - c->data);
            c->str_len[i] = (uint32_t)len;
        }
        return 1;
    }
    case NT_NULLABLE:
    case NT_ARRAY:
    case NT_TUPLE: {
        size_t kid_rows = rows;
        if (t->id != NT_TUPLE) {
            size_t w = t->id == NT_ARRAY ? 8 : 1;
            if (rows > SIZE_MAX / w || !take(r, rows * w, &c->data)) {
                return 0;
            }
            if (t->id == NT_ARRAY) {
                uint64_t last = 0;
                if (rows > 0) {
                    memcpy(&last, c->data + (rows - 1) * 8, 8);
                }
                if (last > (uint64_t)1 << 40) {
                    r->need = 0;
                    return 0;
                }
                kid_rows = (size_t)last;
            }
        }
        c->kids = sl__calloc(t->n_kids, sizeof(*c->kids));
        if (c->kids == NULL) {
            return -SL_ENOMEM;
        }
        for (size_t i = 0; i < t->n_kids; i++) {
            int rc = ncol_parse(r, &t->kids[i], kid_rows, &c->kids[i]);
            if (rc <= 0) {
                return rc;
            }
        }
        return 1;
    }
    case NT_FIXED:
    default: {
        size_t w = t->width;
        if (w == 0 || rows > SIZE_MAX / w) {
            r->need = 0;
            return 0;
        }
        return take(r, rows * w, &c->data) ? 1 : 0;
    }
    }
}

void sl__ch_block_free(struct ch_block *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->n_cols; i++) {
        if (b->cols != NULL) {
            ncol_free(&b->cols[i], &b->types[i]);
        }
        if (b->types != NULL) {
            sl__ch_ntype_free(&b->types[i]);
        }
        if (b->names != NULL) {
            sl__free(b->names[i]);
        }
        if (b->type_names != NULL) {
            sl__free(b->type_names[i]);
        }
    }
    sl__free(b->names);
    sl__free(b->type_names);
    sl__free(b->types);
    sl__free(b->cols);
    sl__free(b);
}

int sl__ch_block_parse(const char *p, size_t n, struct ch_block **out,
                       size_t *out_used, size_t *out_need, struct sl_error *err)
{
    *out = NULL;
    *out_used = 0;
    *out_need = 0;
    struct reader r = {p, p, p + n, 0};
    uint64_t nc, nr;
    if (!varint(&r, &nc) || !varint(&r, &nr)) {
        *out_need = r.need ? r.need : 1;
        return r.need || n == 0 ? SL_OK
                                : SL_ERR(err, -SL_EWAREHOUSE,
                                         "clickhouse: malformed Native block");
    }
    if (nc > 100000 || nr > ((uint64_t)1 << 32)) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: malformed Native block (%llu columns, %llu "
                      "rows)",
                      (unsigned long long)nc, (unsigned long long)nr);
    }
    struct ch_block *b = sl__calloc(1, sizeof(*b));
    int rc = SL_OK;
    if (b != NULL) {
        b->n_cols = (size_t)nc;
        b->rows = (size_t)nr;
        b->names = sl__calloc(nc ? nc : 1, sizeof(*b->names));
        b->type_names = sl__calloc(nc ? nc : 1, sizeof(*b->type_names));
        b->types = sl__calloc(nc ? nc : 1, sizeof(*b->types));
        b->cols = sl__calloc(nc ? nc : 1, sizeof(*b->cols));
    }
    if (b == NULL || b->names == NULL || b->type_names == NULL ||
        b->types == NULL || b->cols == NULL) {
        sl__ch_block_free(b);
        return SL_ERR(err, -SL_ENOMEM, "out of memory reading a result");
    }
    bool more = false;
    for (size_t i = 0; rc == SL_OK && !more && i < b->n_cols; i++) {
        uint64_t nl, tl;
        const char *name, *type;
        if (!varint(&r, &nl) || !take(&r, (size_t)nl, &name) ||
            !varint(&r, &tl) || !take(&r, (size_t)tl, &type)) {
            more = true;
            break;
        }
        b->names[i] = sl__strndup(name, (size_t)nl);
        b->type_names[i] = sl__strndup(type, (size_t)tl);
        if (b->names[i] == NULL || b->type_names[i] == NULL) {
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory reading a result");
            break;
        }
        rc = sl__ch_ntype_parse(type, (size_t)tl, &b->types[i], err);
        if (rc != SL_OK) {
            break;
        }
        int pr = ncol_parse(&r, &b->types[i], b->rows, &b->cols[i]);
        if (pr < 0) {
            rc = SL_ERR(err, pr, "out of memory reading a result");
        } else if (pr == 0) {
            more = true;
        }
    }
    if (rc == SL_OK && more && r.need == 0) {
        rc = SL_ERR(err, -SL_EWAREHOUSE, "clickhouse: malformed Native block");
    }
    if (rc != SL_OK || more) {
        *out_need = more ? r.need : 0;
        sl__ch_block_free(b);
        return rc;
    }
    *out = b;
    *out_used = (size_t)(r.p - r.start);
    return SL_OK;
}

size_t sl__ch_block_rows(const struct ch_block *b)
{
    return b->rows;
}

size_t sl__ch_block_cols(const struct ch_block *b)
{
    return b->n_cols;
}

const char *sl__ch_block_name(const struct ch_block *b, size_t col)
{
    return b->names[col];
}

const char *sl__ch_block_type(const struct ch_block *b, size_t col)
{
    return b->type_names[col];
}

/* ---- values ----------------------------------------------------------------
 */

static int64_t read_int(const char *p, unsigned width, bool is_signed)
{
    switch (width) {
    case 1:
        return is_signed ? (int64_t)(int8_t)p[0] : (int64_t)(uint8_t)p[0];
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return is_signed ? (int64_t)(int16_t)v : (int64_t)v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return is_signed ? (int64_t)(int32_t)v : (int64_t)v;
    }
    default: {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static char *arena_text(struct sl_arena *a, size_t cap)
{
    return sl__arena_alloc(a, cap);
}

static int set_text(struct sl_val *out, struct sl_arena *a, const char *s,
                    uint8_t kind)
{
    size_t n = strlen(s);
    char *d = arena_text(a, n + 1);
    if (d == NULL) {
        return -SL_ENOMEM;
    }
    memcpy(d, s, n + 1);
    out->kind = kind;
    out->u.s = d;
    out->len = (uint32_t)n;
    return SL_OK;
}

static int value(const struct ncol *c, size_t r, struct sl_arena *a,
                 struct sl_val *out)
{
    const struct ch_ntype *t = c->t;
    memset(out, 0, sizeof(*out));
    switch (t->id) {
    case NT_NULLABLE:
        if (c->data[r] != 0) {
            out->kind = SL_V_NULL;
            return SL_OK;
        }
        return value(&c->kids[0], r, a, out);
    case NT_NOTHING:
        out->kind = SL_V_NULL;
        return SL_OK;
    case NT_INT:
        out->kind = SL_V_I64;
        out->u.i = read_int(c->data + r * t->width, t->width, t->is_signed);
        return SL_OK;
    case NT_BOOL:
        out->kind = SL_V_BOOL;
        out->u.b = c->data[r] != 0;
        return SL_OK;
    case NT_UINT64: {
        char num[24];
        uint64_t v;
        memcpy(&v, c->data + r * 8, 8);
        snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
        return set_text(out, a, num, SL_V_NUMTEXT);
    }
    case NT_FLOAT:
        out->kind = SL_V_F64;
        if (t->width == 4) {
            float f;
            memcpy(&f, c->data + r * 4, 4);
            out->u.f = f;
        } else {
            memcpy(&out->u.f, c->data + r * 8, 8);
        }
        return SL_OK;
    case NT_DEC:
        out->kind = SL_V_DEC;
        if (t->width == 16) {
            memcpy(&out->u.d, c->data + r * 16, 16);
        } else {
            out->u.d = read_int(c->data + r * t->width, t->width, true);
        }
        return SL_OK;
    case NT_STRING:
        out->kind = SL_V_STR;
        out->u.s = c->data + c->str_off[r];
        out->len = c->str_len[r];
        return SL_OK;
    case NT_FIXED:
        out->kind = SL_V_STR;
        out->u.s = c->data + r * t->width;
        out->len = t->width;
        return SL_OK;
    case NT_DATE:
    case NT_DATE32:
        out->kind = SL_V_DATE;
        out->u.i = read_int(c->data + r * t->width, t->width, t->is_signed);
        return SL_OK;
    case NT_DATETIME:
        out->kind = SL_V_TS;
        out->u.i = read_int(c->data + r * 4, 4, false) * 1000000;
        return SL_OK;
    case NT_DT64: {
        /* ticks of 10^-scale s to microseconds, rounded down; beyond what
           64 bits of microseconds hold, clamped (no such DateTime64 exists:
           its range ends in 2299) */
        __int128 v = read_int(c->data + r * 8, 8, true);
        for (int s = t->scale; s < 6; s++) {
            v *= 10;
        }
        for (int s = t->scale; s > 6; s--) {
            v = v >= 0 ? v / 10 : -((-v + 9) / 10);
        }
        out->kind = SL_V_TS;
        out->u.i = v > INT64_MAX   ? INT64_MAX
                   : v < INT64_MIN ? INT64_MIN
                                   : (int64_t)v;
        return SL_OK;
    }
    case NT_ENUM: {
        int v = (int)read_int(c->data + r * t->width, t->width, true);
        for (size_t i = 0; i < t->n_enum; i++) {
            if (t->enum_vals[i] == v) {
                out->kind = SL_V_STR;
                out->u.s = t->enum_names[i];
                out->len = (uint32_t)strlen(t->enum_names[i]);
                return SL_OK;
            }
        }
        char num[16];
        snprintf(num, sizeof(num), "%d", v);
        return set_text(out, a, num, SL_V_STR);
    }
    case NT_UUID: {
        /* two little-endian 64-bit halves, the high one first */
        const unsigned char *u = (const unsigned char *)c->data + r * 16;
        unsigned char be[16];
        for (int i = 0; i < 8; i++) {
            be[i] = u[7 - i];
            be[8 + i] = u[15 - i];
        }
        char s[40];
        snprintf(s, sizeof(s),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%"
                 "02x%02x%02x",
                 be[0], be[1], be[2], be[3], be[4], be[5], be[6], be[7], be[8],
                 be[9], be[10], be[11], be[12], be[13], be[14], be[15]);
        return set_text(out, a, s, SL_V_TEXT);
    }
    case NT_IPV4: {
        uint32_t v;
        memcpy(&v, c->data + r * 4, 4);
        char s[20];
        snprintf(s, sizeof(s), "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
                 (v >> 8) & 255, v & 255);
        return set_text(out, a, s, SL_V_TEXT);
    }
    case NT_IPV6: {
        char s[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, c->data + r * 16, s, sizeof(s)) == NULL) {
            s[0] = '\0';
        }
        return set_text(out, a, s, SL_V_TEXT);
    }
    case NT_ARRAY: {
        uint64_t from = 0, to;
        if (r > 0) {
            memcpy(&from, c->data + (r - 1) * 8, 8);
        }
        memcpy(&to, c->data + r * 8, 8);
        if (to < from || to > c->kids[0].rows) {
            return -SL_EWAREHOUSE;
        }
        size_t n = (size_t)(to - from);
        struct sl_val *v = sl__arena_alloc(a, (n ? n : 1) * sizeof(*v));
        if (v == NULL) {
            return -SL_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            int rc = value(&c->kids[0], (size_t)from + i, a, &v[i]);
            if (rc != SL_OK) {
                return rc;
            }
        }
        out->kind = SL_V_LIST;
        out->len = (uint32_t)n;
        out->u.v = v;
        return SL_OK;
    }
    case NT_TUPLE: {
        struct sl_val *v = sl__arena_alloc(a, t->n_kids * sizeof(*v));
        if (v == NULL) {
            return -SL_ENOMEM;
        }
        for (size_t i = 0; i < t->n_kids; i++) {
            int rc = value(&c->kids[i], r, a, &v[i]);
            if (rc != SL_OK) {
                return rc;
            }
        }
        out->kind = SL_V_STRUCT;
        out->len = (uint32_t)t->n_kids;
        out->u.v = v;
        return SL_OK;
    }
    }
    return -SL_EWAREHOUSE;
}

int sl__ch_block_value(const struct ch_block *b, size_t col, size_t r,
                       struct sl_arena *a, struct sl_val *out,
                       struct sl_error *err)
{
    int rc = value(&b->cols[col], r, a, out);
    if (rc == -SL_ENOMEM) {
        return SL_ERR(err, rc, "out of memory reading a result");
    }
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "clickhouse: malformed Native block (column %s)",
                      b->names[col]);
    }
    return SL_OK;
}
