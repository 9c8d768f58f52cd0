/* ndjson.c - the schema-directed NDJSON row scanner: no DOM, no per-field malloc.
 * It walks one line, looks every key up in the table's plan, and coerces each value
 * as it goes (BigQuery load semantics, ../shared/docs/BIGQUERY.md §2). validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "validate/coerce.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { OK = 0, REJ = 1 };

static inline void skip_ws(struct rowctx *c)
{
    if (SL_LIKELY(c->p < c->end && (unsigned char)*c->p > ' ')) {
        return; /* compact JSON: no whitespace at all */
    }
    const char *p = c->p;
    while (p < c->end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }
    c->p = p;
}

static int syntax(struct rowctx *c, const char *what)
{
    size_t col = (size_t)(c->p - c->line);
    size_t left = (size_t)(c->end - c->p);
    return sl__vfail(c, NULL, c->p, left < 40 ? left : 40,
                     "JSON parsing error at position %zu: %s", col, what);
}

/* Validate one UTF-8 sequence at p (first byte >= 0x80); returns its length or 0. */
static inline size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return (end - p >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) {
            return 0; /* overlong or surrogate */
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

static inline int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return 0;
}

/* True if any byte of w is '"', '\\', < 0x20 or >= 0x80. */
static inline bool special8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"');
    uint64_t b = w ^ (ones * '\\');
    uint64_t has_q = (q - ones) & ~q;
    uint64_t has_b = (b - ones) & ~b;
    uint64_t has_ctl = (w - ones * 0x20) & ~w;
    return ((has_q | has_b | has_ctl) & high) != 0 || (w & high) != 0;
}

/* Scan a string starting at the opening quote. On success sets *s,*n to the
 * content (unescaped into the arena when it had escapes) and *raw to the token
 * (quotes included) and advances past the closing quote. */
static int scan_string(struct rowctx *c, const char **s, size_t *n, const char **raw,
                       size_t *raw_len)
{
    const char *start = c->p + 1;
    const unsigned char *p = (const unsigned char *)start;
    const unsigned char *end = (const unsigned char *)c->end;
    bool esc = false;
    for (;;) {
#ifdef __SSE2__
        /* 16 bytes at a time: stop at '"', '\\', a control byte or a non-ASCII
         * byte (the signed compare < 0x20 catches both 0x00-0x1f and 0x80-0xff) */
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            int bits = _mm_movemask_epi8(m);
            if (bits != 0) {
                p += __builtin_ctz((unsigned)bits);
                goto special;
            }
            p += 16;
        }
#endif
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (special8(w)) {
                break;
            }
            p += 8;
        }
#ifdef __SSE2__
    special:
#endif
        if (p >= end) {
            c->p = (const char *)p;
            return syntax(c, "unterminated string");
        }
        unsigned ch = *p;
        if (ch == '"') {
            break;
        }
        if (ch == '\\') {
            esc = true;
            if (end - p < 2) {
                c->p = (const char *)p;
                return syntax(c, "unterminated string");
            }
            p += 2; /* validated below when unescaping */
            continue;
        }
        if (ch < 0x20) {
            c->p = (const char *)p;
            return syntax(c, "control character in string");
        }
        if (ch >= 0x80) {
            size_t l = utf8_len(p, end);
            if (l == 0) {
                c->p = (const char *)p;
                return sl__vfail(c, NULL, (const char *)p, 1,
                                 "invalid UTF-8 at position %zu",
                                 (size_t)((const char *)p - c->line));
            }
            p += l;
            continue;
        }
        p++;
    }
    *raw = c->p;
    *raw_len = (size_t)((const char *)p + 1 - c->p);
    size_t len = (size_t)((const char *)p - start);
    c->p = (const char *)p + 1;
    if (!esc) {
        *s = start;
        *n = len;
        return OK;
    }
    char *out = sl__arena_alloc(&c->v->arena, len + 1);
    if (out == NULL) {
        c->fatal = -SL_ENOMEM;
        return -SL_ENOMEM;
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char ch = start[i];
        if (ch != '\\') {
            out[o++] = ch;
            i++;
            continue;
        }
        char e = start[i + 1];
        i += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out[o++] = e;
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (i + 4 > len || hex4(start + i, &cp) != 0) {
                c->p = start + i - 2;
                return syntax(c, "bad \\u escape");
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (i + 6 > len || start[i] != '\\' || start[i + 1] != 'u' ||
                    hex4(start + i + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    c->p = start + i - 6;
                    return syntax(c, "lone surrogate in \\u escape (not valid UTF-8)");
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                c->p = start + i - 6;
                return syntax(c, "lone surrogate in \\u escape (not valid UTF-8)");
            }
            if (cp < 0x80) {
                out[o++] = (char)cp;
            } else if (cp < 0x800) {
                out[o++] = (char)(0xC0 | (cp >> 6));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[o++] = (char)(0xE0 | (cp >> 12));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[o++] = (char)(0xF0 | (cp >> 18));
                out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            c->p = start + i - 2;
            return syntax(c, "bad escape in string");
        }
    }
    out[o] = '\0';
    *s = out;
    *n = o;
    return OK;
}

/* The content length of the string token at c->p when its closing quote comes
 * within the next 32 bytes with no escape, control or non-ASCII byte before
 * it; -1 otherwise (scan_string then reads it). Most values are such strings. */
static inline ptrdiff_t quick_string(const struct rowctx *c)
{
#ifdef __SSE2__
    const char *q = c->p + 1;
    for (int k = 0; k < 2 && c->end - q >= 16; k++, q += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        unsigned quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
        unsigned other = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
        if ((quote | other) != 0) {
            unsigned at = (unsigned)__builtin_ctz(quote | other);
            return (quote >> at & 1) != 0 ? (q - c->p - 1) + (ptrdiff_t)at : -1;
        }
    }
#else
    (void)c;
#endif
    return -1;
}

/* Scan a JSON number token (strict grammar). */
static int scan_number(struct rowctx *c, const char **s, size_t *n)
{
    const char *p = c->p, *e = c->end;
    const char *start = p;
    if (p < e && *p != '-' && (unsigned)(*p - '0') > 9) {
        /* not the start of any JSON value: say so rather than "invalid number" */
        return syntax(c, "unexpected character, expected a JSON value");
    }
    if (p < e && *p == '-') {
        p++;
    }
    if (p >= e || (unsigned)(*p - '0') > 9) {
        c->p = p;
        return syntax(c, "invalid number");
    }
    if (*p == '0') {
        p++;
        if (p < e && (unsigned)(*p - '0') <= 9) {
            return syntax(c, "invalid number (leading zero)");
        }
    } else {
        while (p < e && (unsigned)(*p - '0') <= 9) {
            p++;
        }
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || (unsigned)(*p - '0') > 9) {
            c->p = p;
            return syntax(c, "invalid number (no digit after '.')");
        }
        while (p < e && (unsigned)(*p - '0') <= 9) {
            p++;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= e || (unsigned)(*p - '0') > 9) {
            c->p = p;
            return syntax(c, "invalid number (bad exponent)");
        }
        while (p < e && (unsigned)(*p - '0') <= 9) {
            p++;
        }
    }
    *s = start;
    *n = (size_t)(p - start);
    c->p = p;
    return OK;
}

static int expect_lit(struct rowctx *c, const char *lit, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) {
        return syntax(c, "invalid literal");
    }
    c->p += n;
    return OK;
}

/* Validate any JSON value; when out is non-NULL append it minified to out. */
/* Validate any JSON value nested at depth (limit = deepest level allowed). */
static int scan_any(struct rowctx *c, unsigned depth, unsigned limit, struct sl_buf *out)
{
    skip_ws(c);
    if (c->p >= c->end) {
        return syntax(c, "unexpected end of row");
    }
    const char *s;
    size_t n;
    int rc;
    switch (*c->p) {
    case '{':
    case '[': {
        /* levels count containers: an object or array at depth > limit is too deep */
        if (depth > limit) {
            return sl__vfail(c, NULL, c->p, 1,
                             "JSON nesting deeper than %u levels at position %zu", limit,
                             (size_t)(c->p - c->line));
        }
        char close = *c->p == '{' ? '}' : ']';
        bool obj = close == '}';
        if (out && sl__buf_putc(out, *c->p) != SL_OK) {
            return c->fatal = -SL_ENOMEM;
        }
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return out && sl__buf_putc(out, close) != SL_OK ? (c->fatal = -SL_ENOMEM) : OK;
        }
        for (;;) {
            skip_ws(c);
            if (obj) {
                if (c->p >= c->end || *c->p != '"') {
                    return syntax(c, "expected a string key");
                }
                const char *raw;
                size_t raw_len;
                if ((rc = scan_string(c, &s, &n, &raw, &raw_len)) != OK) {
                    return rc;
                }
                if (out && sl__buf_append(out, raw, raw_len) != SL_OK) {
                    return c->fatal = -SL_ENOMEM;
                }
                skip_ws(c);
                if (c->p >= c->end || *c->p != ':') {
                    return syntax(c, "expected ':'");
                }
                c->p++;
                if (out && sl__buf_putc(out, ':') != SL_OK) {
                    return c->fatal = -SL_ENOMEM;
                }
            }
            if ((rc = scan_any(c, depth + 1, limit, out)) != OK) {
                return rc;
            }
            skip_ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                if (out && sl__buf_putc(out, ',') != SL_OK) {
                    return c->fatal = -SL_ENOMEM;
                }
                continue;
            }
            if (c->p < c->end && *c->p == close) {
                c->p++;
                return out && sl__buf_putc(out, close) != SL_OK ? (c->fatal = -SL_ENOMEM)
                                                                : OK;
            }
            return syntax(c, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    case '"': {
        const char *raw;
        size_t raw_len;
        if ((rc = scan_string(c, &s, &n, &raw, &raw_len)) != OK) {
            return rc;
        }
        return out && sl__buf_append(out, raw, raw_len) != SL_OK ? (c->fatal = -SL_ENOMEM)
                                                                 : OK;
    }
    case 't':
        rc = expect_lit(c, "true", 4);
        s = "true", n = 4;
        break;
    case 'f':
        rc = expect_lit(c, "false", 5);
        s = "false", n = 5;
        break;
    case 'n':
        rc = expect_lit(c, "null", 4);
        s = "null", n = 4;
        break;
    default:
        rc = scan_number(c, &s, &n);
        break;
    }
    if (rc != OK) {
        return rc;
    }
    return out && sl__buf_append(out, s, n) != SL_OK ? (c->fatal = -SL_ENOMEM) : OK;
}

static const char *kind_name(char ch)
{
    switch (ch) {
    case '{':
        return "an object";
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return "a number";
    }
}

static int scan_record(struct rowctx *c, const struct vnode *rec, struct sl_val *vals,
                       unsigned depth);

/* Capture a JSON-typed value as minified text in the arena. */
static int scan_json_value(struct rowctx *c, struct sl_val *out)
{
    struct sl_buf *b = &c->v->scratch;
    sl__buf_reset(b);
    skip_ws(c);
    int rc = scan_any(c, 1, SL_JSON_MAX_DEPTH, b);
    if (rc != OK) {
        return rc;
    }
    char *copy = sl__arena_alloc(&c->v->arena, b->len + 1);
    if (copy == NULL) {
        return c->fatal = -SL_ENOMEM;
    }
    memcpy(copy, b->data, b->len);
    out->kind = SL_V_STR;
    out->u.s = copy;
    out->len = (uint32_t)b->len;
    return OK;
}

/* One non-null scalar or record element for node n (mode already handled). */
static int scan_elem(struct rowctx *c, const struct vnode *n, struct sl_val *out,
                     unsigned depth)
{
    const struct sl_field *f = n->f;
    const char *s, *raw;
    size_t len, raw_len;
    int rc;
    char ch = *c->p;
    if (f->type == SL_T_JSON) {
        const char *tok = c->p;
        if ((rc = scan_json_value(c, out)) != OK) {
            return rc;
        }
        sl__remember(c->v, n, tok, (size_t)(c->p - tok), out);
        return OK;
    }
    switch (ch) {
    case '"': {
        ptrdiff_t ql = quick_string(c);
        if (ql >= 0) {
            s = c->p + 1;
            len = (size_t)ql;
            raw = c->p;
            raw_len = len + 2;
            c->p += len + 2;
        } else if ((rc = scan_string(c, &s, &len, &raw, &raw_len)) != OK) {
            return rc;
        }
        if (SL_UNLIKELY(len > c->v->o.max_value_size)) {
            return sl__vfail(c, f, s, len < 64 ? len : 64,
                             "Value of %zu bytes exceeds the maximum value size of %zu bytes. Field: %s",
                             len, c->v->o.max_value_size, f->path);
        }
        if (f->type == SL_T_RECORD) {
            return sl__vfail(c, f, raw, raw_len,
                             "Cannot convert a string to a RECORD. Field: %s", f->path);
        }
        if (n->op != SL_OP_GEN && sl__op_value(c->v, n, s, len, out)) {
            return OK;
        }
        if (f->type == SL_T_STRING && f->max_length == 0) {
            return sl__string_value(c, n, s, len, out);
        }
        return sl__coerce_text(c, n, s, len, out);
    }
    case '{':
        if (f->type != SL_T_RECORD) {
            const char *tok = c->p;
            if ((rc = scan_any(c, depth, SL_JSON_MAX_DEPTH, NULL)) != OK) {
                return rc;
            }
            return sl__vfail(c, f, tok, (size_t)(c->p - tok),
                             "Cannot convert an object to %s. Field: %s",
                             sl_type_name(f->type), f->path);
        }
        out->kind = SL_V_STRUCT;
        out->len = n->n_kids;
        out->u.v = sl__record_vals(c->v, n);
        if (out->u.v == NULL) {
            return c->fatal = -SL_ENOMEM;
        }
        return scan_record(c, n, out->u.v, depth + 1);
    case '[':
        return sl__vfail(c, f, c->p, 1, "Array specified for non-repeated field: %s.",
                         f->path);
    case 't':
    case 'f': {
        bool b = ch == 't';
        if ((rc = expect_lit(c, b ? "true" : "false", b ? 4 : 5)) != OK) {
            return rc;
        }
        s = b ? "true" : "false";
        len = b ? 4 : 5;
        if (f->type == SL_T_BOOL) {
            out->kind = SL_V_BOOL;
            out->u.b = b;
            sl__remember(c->v, n, s, len, out);
            return sl__run_checks(c, n, s, len, out);
        }
        if (f->type == SL_T_STRING) { /* U1: stringify the token */
            return sl__coerce_text(c, n, s, len, out);
        }
        return sl__vfail(c, f, s, len, "Cannot convert a boolean to %s. Field: %s",
                         sl_type_name(f->type), f->path);
    }
    default:
        if ((rc = scan_number(c, &s, &len)) != OK) {
            return rc;
        }
        switch (f->type) {
        case SL_T_STRING: /* U1 */
        case SL_T_INT64:
        case SL_T_FLOAT64:
        case SL_T_NUMERIC:
        case SL_T_BIGNUMERIC:
        case SL_T_BOOL: /* 1 / 0 */
            if (n->op != SL_OP_GEN && sl__op_value(c->v, n, s, len, out)) {
                return OK;
            }
            return sl__coerce_text(c, n, s, len, out);
        case SL_T_TIMESTAMP: {
            const char *why = NULL;
            int64_t us;
            if (sl__coerce_epoch_seconds(s, len, &us, &why) != SL_OK) {
                return sl__vfail(c, f, s, len,
                                 "Couldn't convert value to timestamp: %s. Field: %s",
                                 why ? why : "invalid epoch seconds", f->path);
            }
            out->kind = SL_V_TS;
            out->u.i = us;
            sl__remember(c->v, n, s, len, out);
            return sl__run_checks(c, n, s, len, out);
        }
        default:
            return sl__vfail(c, f, s, len, "Cannot convert a number to %s. Field: %s",
                             sl_type_name(f->type), f->path);
        }
    }
}

/* The value of field n (any mode), at c->p (whitespace skipped). */
static int scan_value(struct rowctx *c, const struct vnode *n, struct sl_val *out,
                      unsigned depth)
{
    const struct sl_field *f = n->f;
    char ch = *c->p;
    int rc;
    if (ch == 'n') {
        if ((rc = expect_lit(c, "null", 4)) != OK) {
            return rc;
        }
        if (f->mode == SL_M_REPEATED) {
            out->kind = SL_V_LIST; /* null array = [] */
            out->len = 0;
            out->u.v = NULL;
            return OK;
        }
        out->kind = SL_V_NULL;
        if (f->mode == SL_M_REQUIRED || n->rule_required) {
            return sl__vfail(c, f, "null", 4,
                             "Only optional fields can be set to NULL. Field: %s", f->path);
        }
        return OK;
    }
    if (f->mode != SL_M_REPEATED) {
        return scan_elem(c, n, out, depth);
    }
    if (ch != '[') {
        const char *tok = c->p;
        if ((rc = scan_any(c, depth, SL_JSON_MAX_DEPTH, NULL)) != OK) {
            return rc;
        }
        return sl__vfail(c, f, tok, (size_t)(c->p - tok),
                         "Repeated field must be imported as a JSON array. Field: %s.",
                         f->path);
    }
    c->p++;
    uint32_t cap = 8, cnt = 0;
    struct sl_val *elems = sl__arena_alloc(&c->v->arena, cap * sizeof(*elems));
    if (elems == NULL) {
        return c->fatal = -SL_ENOMEM;
    }
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
    } else {
        for (;;) {
            skip_ws(c);
            if (c->p >= c->end) {
                return syntax(c, "unexpected end of row in array");
            }
            if (cnt == cap) {
                struct sl_val *ne = sl__arena_alloc(&c->v->arena, 2 * cap * sizeof(*ne));
                if (ne == NULL) {
                    return c->fatal = -SL_ENOMEM;
                }
                memcpy(ne, elems, cap * sizeof(*ne));
                elems = ne;
                cap *= 2;
            }
            struct sl_val *e = &elems[cnt];
            memset(e, 0, sizeof(*e));
            if (*c->p == 'n') {
                if ((rc = expect_lit(c, "null", 4)) != OK) {
                    return rc;
                }
                return sl__vfail(c, f, "null", 4,
                                 "Array field %s cannot contain a NULL element.", f->path);
            }
            if (*c->p == '[' && f->type != SL_T_JSON) {
                return sl__vfail(c, f, c->p, 1,
                                 "Nested arrays are not allowed. Field: %s.", f->path);
            }
            if ((rc = scan_elem(c, n, e, depth)) != OK) {
                return rc;
            }
            cnt++;
            skip_ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == ']') {
                c->p++;
                break;
            }
            return syntax(c, "expected ',' or ']'");
        }
    }
    out->kind = SL_V_LIST;
    out->len = cnt;
    out->u.v = elems;
    return OK;
}

static int unknown_key(struct rowctx *c, const struct vnode *rec, const char *key,
                       size_t klen, unsigned depth)
{
    if (c->v->o.ignore_unknown) {
        skip_ws(c);
        /* a dropped value still counts toward the row's nesting limit */
        return scan_any(c, depth + 1, SL_ROW_MAX_DEPTH, NULL);
    }
    int rc = OK;
    if (!c->failed) {
        const char *pp = rec != &c->v->plan->root ? rec->f->path : NULL;
        snprintf(c->err_path, sizeof(c->err_path), "%s%s%.*s", pp ? pp : "", pp ? "." : "",
                 (int)(klen > 200 ? 200 : klen), key);
        rc = sl__vfail(c, NULL, key, klen, "No such field: %s.", c->err_path);
    }
    return rc;
}

/* An object for RECORD node rec at c->p == '{'; fills vals[0..n_kids). */
static int scan_record(struct rowctx *c, const struct vnode *rec, struct sl_val *vals,
                       unsigned depth)
{
    uint64_t seen_small[4] = {0, 0, 0, 0};
    uint64_t *seen = seen_small;
    size_t words = (rec->n_kids + 63) / 64;
    if (words > 4) {
        seen = sl__arena_alloc(&c->v->arena, words * 8);
        if (seen == NULL) {
            return c->fatal = -SL_ENOMEM;
        }
        memset(seen, 0, words * 8);
    }
    int rc;
    uint32_t next = 0;
    c->p++; /* '{' */
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            skip_ws(c);
            if (c->p >= c->end || *c->p != '"') {
                return syntax(c, "expected a string key");
            }
            const char *key, *raw;
            size_t klen, raw_len;
            /* Keys mostly come in the schema's order: if the raw bytes are exactly
             * the next field's name and a closing quote, that is the key (a field
             * name holds no quote, backslash or invalid UTF-8), so the string scan
             * and the lookup are skipped. */
            const struct sl_field *f = NULL;
            bool colon = false;
            /* the next field, or one of the two after it (absent keys skipped) */
            for (uint32_t cand = next; f == NULL && cand < rec->n_kids && cand < next + 3;
                 cand++) {
                const struct vnode *kn = &rec->kids[cand];
                const struct sl_field *g = kn->f;
                size_t nl = g->name_len;
#ifdef __SSE2__
                /* `"name":` in one or two compares when the row has the bytes */
                if (kn->key_mask != 0 && c->end - c->p >= (kn->key_mask > 0xFFFF ? 32 : 16)) {
                    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)c->p);
                    __m128i k = _mm_loadu_si128((const __m128i *)(const void *)kn->key_pat);
                    uint32_t eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, k));
                    if (kn->key_mask > 0xFFFF) {
                        b = _mm_loadu_si128((const __m128i *)(const void *)(c->p + 16));
                        k = _mm_loadu_si128((const __m128i *)(const void *)(kn->key_pat + 16));
                        eq |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, k)) << 16;
                    }
                    if ((eq & kn->key_mask) == kn->key_mask) {
                        f = g;
                        colon = true;
                    }
                }
#endif
                if (f == NULL && (size_t)(c->end - c->p) > nl + 1 && c->p[nl + 1] == '"' &&
                    memcmp(c->p + 1, g->name, nl) == 0) {
                    f = g;
                }
                if (f != NULL) {
                    raw = c->p;
                    raw_len = nl + 2;
                    key = c->p + 1;
                    klen = nl;
                    c->p += nl + 2 + colon;
                }
            }
            if (f == NULL) {
                if ((rc = scan_string(c, &key, &klen, &raw, &raw_len)) != OK) {
                    return rc;
                }
            }
            if (!colon) {
                skip_ws(c);
                if (c->p >= c->end || *c->p != ':') {
                    return syntax(c, "expected ':' after key");
                }
                c->p++;
            }
            skip_ws(c);
            if (c->p >= c->end) {
                return syntax(c, "unexpected end of row");
            }
            if (f == NULL) {
                f = sl_field_find(rec->f, key, klen);
            }
            if (f == NULL) {
                if ((rc = unknown_key(c, rec, key, klen, depth)) != OK) {
                    return rc;
                }
            } else {
                uint32_t i = f->idx;
                uint64_t bit = 1ULL << (i & 63);
                if (seen[i >> 6] & bit) {
                    return sl__vfail(c, f, raw, raw_len,
                                     "Multiple definition of field: %s", f->path);
                }
                seen[i >> 6] |= bit;
                next = i + 1;
                const struct vnode *kn = &rec->kids[i];
                if ((rc = scan_value(c, kn, &vals[i], depth)) != OK) {
                    return rc;
                }
            }
            skip_ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == '}') {
                c->p++;
                break;
            }
            return syntax(c, "expected ',' or '}'");
        }
    }
    for (uint32_t k = 0; k < rec->n_must; k++) {
        uint32_t i = rec->must[k];
        if (vals[i].kind == SL_V_NULL) {
            const struct sl_field *f = rec->kids[i].f;
            return sl__vfail(c, f, NULL, 0,
                             "Only optional fields can be set to NULL. Field: %s; Value: NULL",
                             f->path);
        }
    }
    return OK;
}

int sl__ndjson_row(struct sl_validator *v, struct rowctx *c, const char *p, size_t n)
{
    int rc = sl__row_begin(v, c, p, n);
    if (rc != OK) {
        return rc;
    }
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{') {
        if (c->p < c->end) {
            const char *tok = c->p;
            if (scan_any(c, 1, SL_JSON_MAX_DEPTH, NULL) != OK) {
                return c->fatal ? c->fatal : REJ;
            }
            const char *tok_end = c->p;
            skip_ws(c);
            if (c->p != c->end) {
                /* "[1]]" or "1 2" is not JSON at all: a located syntax error */
                return syntax(c, "unexpected data after the JSON value");
            }
            return sl__vfail(c, NULL, tok, (size_t)(tok_end - tok),
                             "JSON parsing error: the row is %s, not a JSON object",
                             kind_name(*tok));
        }
        return syntax(c, "empty row");
    }
    rc = scan_record(c, &v->plan->root, v->row, 1);
    if (rc != OK) {
        return c->fatal ? c->fatal : rc;
    }
    skip_ws(c);
    if (c->p != c->end) {
        return syntax(c, "unexpected data after the JSON object");
    }
    return sl__row_finish(c);
}

int sl__json_minify(struct rowctx *c, struct sl_val *out)
{
    int rc = scan_json_value(c, out);
    if (rc != OK) {
        return c->fatal ? c->fatal : rc;
    }
    skip_ws(c);
    if (c->p != c->end) {
        return syntax(c, "unexpected data after the JSON value");
    }
    return OK;
}
