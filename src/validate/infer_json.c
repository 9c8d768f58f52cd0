/* infer_json.c - schema inference from one NDJSON row: a small JSON scanner
 * that merges every key into the field tree as it reads (objects to RECORD,
 * arrays to REPEATED, strings typed by their text). validate stage. */
#include "core/common.h"

#include "validate/coerce.h"
#include "validate/infer_int.h"

#include <string.h>

struct jrow {
    struct sl_infer *inf;
    const char *row; /* first byte of the row */
    const char *p;   /* read position */
    const char *end; /* one past the last byte */
    struct sl_error *err;
};

static int bad(struct jrow *j, const char *what)
{
    return sl__infer_fail(j->inf, NULL, j->err, -SL_ECORRUPT,
                          "malformed JSON at column %zu of the row: %s",
                          (size_t)(j->p - j->row) + 1, what);
}

static void skip_ws(struct jrow *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) {
        j->p++;
    }
}

static int expect_lit(struct jrow *j, const char *lit, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) {
        return bad(j, "invalid literal");
    }
    j->p += n;
    return SL_OK;
}

static int hex4(struct jrow *j, const char *q, unsigned *out)
{
    unsigned v = 0;
    if (j->end - q < 4) {
        return bad(j, "truncated \\u escape");
    }
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)q[i], d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if ((c | 0x20u) >= 'a' && (c | 0x20u) <= 'f') {
            d = (c | 0x20u) - 'a' + 10;
        } else {
            return bad(j, "invalid \\u escape");
        }
        v = v << 4 | d;
    }
    *out = v;
    return SL_OK;
}

static int put_utf8(struct sl_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sl__buf_append(b, u, n);
}

/* One escape at *q (after the backslash) into b; moves *q past it. */
static int unescape(struct jrow *j, const char **q, struct sl_buf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = *q;
    const char *hit = e < j->end && *e != '\0' ? strchr(from, *e) : NULL;
    if (hit != NULL) {
        *q = e + 1;
        return sl__buf_putc(b, to[hit - from]);
    }
    unsigned cp, lo;
    if (e >= j->end || *e != 'u') {
        return bad(j, "invalid escape");
    }
    int rc = hex4(j, e + 1, &cp);
    if (rc != SL_OK) {
        return rc;
    }
    e += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return bad(j, "a lone surrogate escape (not valid UTF-8)");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (j->end - e < 6 || e[0] != '\\' || e[1] != 'u' ||
            hex4(j, e + 2, &lo) != SL_OK || lo < 0xDC00 || lo > 0xDFFF) {
            return bad(j, "a lone surrogate escape (not valid UTF-8)");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        e += 6;
    }
    *q = e;
    return put_utf8(b, cp);
}

/* The string at j->p (a quote): its text, unescaped when it has escapes
 * (then in the inference's scratch buffer, valid until the next string). */
static int scan_string(struct jrow *j, const char **out, size_t *out_len)
{
    const char *p = j->p + 1, *q = p;
    while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) {
        q++;
    }
    if (q < j->end && *q == '"') {
        if (!sl__utf8_valid(p, (size_t)(q - p))) {
            return bad(j, "invalid UTF-8 in a string");
        }
        *out = p;
        *out_len = (size_t)(q - p);
        j->p = q + 1;
        return SL_OK;
    }
    struct sl_buf *b = &j->inf->scratch;
    sl__buf_reset(b);
    int rc = sl__buf_append(b, p, (size_t)(q - p));
    while (rc == SL_OK) {
        if (q >= j->end) {
            return bad(j, "unterminated string");
        }
        if (*q == '"') {
            break;
        }
        if ((unsigned char)*q < 0x20) {
            j->p = q;
            return bad(j, "a control character inside a string");
        }
        if (*q == '\\') {
            q++;
            rc = unescape(j, &q, b);
            continue;
        }
        const char *r = q;
        while (r < j->end && *r != '"' && *r != '\\' &&
               (unsigned char)*r >= 0x20) {
            r++;
        }
        rc = sl__buf_append(b, q, (size_t)(r - q));
        q = r;
    }
    if (rc != SL_OK) {
        return rc == -SL_ENOMEM ? SL_ERR(j->err, rc, "out of memory") : rc;
    }
    if (!sl__utf8_valid(b->data, b->len)) {
        return bad(j, "invalid UTF-8 in a string");
    }
    *out = b->len > 0 ? b->data : "";
    *out_len = b->len;
    j->p = q + 1;
    return SL_OK;
}

static bool dig(char c)
{
    return c >= '0' && c <= '9';
}

static int scan_number(struct jrow *j, enum ikind *out)
{
    const char *s = j->p, *p = s, *end = j->end;
    bool is_int = true;
    p += p < end && *p == '-';
    if (p >= end || !dig(*p)) {
        return bad(j, "invalid value");
    }
    if (*p == '0') {
        p++;
    } else {
        while (p < end && dig(*p)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        is_int = false;
        if (++p >= end || !dig(*p)) {
            j->p = p;
            return bad(j, "a digit must follow '.'");
        }
        while (p < end && dig(*p)) {
            p++;
        }
    }
    if (p < end && (*p | 0x20) == 'e') {
        is_int = false;
        p++;
        p += p < end && (*p == '+' || *p == '-');
        if (p >= end || !dig(*p)) {
            j->p = p;
            return bad(j, "a digit must follow the exponent");
        }
        while (p < end && dig(*p)) {
            p++;
        }
    }
    j->p = p;
    *out = sl__infer_number_kind(s, (size_t)(p - s), is_int);
    return SL_OK;
}

static int scan_object(struct jrow *j, struct inode *rec);

static int scan_value(struct jrow *j, struct inode *n, bool elem);

static int scan_array(struct jrow *j, struct inode *n)
{
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return SL_OK;
    }
    for (;;) {
        int rc = scan_value(j, n, true);
        if (rc != SL_OK) {
            return rc;
        }
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
        } else if (j->p < j->end && *j->p == ']') {
            j->p++;
            return SL_OK;
        } else {
            return bad(j, "expected ',' or ']' in an array");
        }
    }
}

/* The value of field n (elem: an element of an array of n). */
static int scan_value(struct jrow *j, struct inode *n, bool elem)
{
    struct sl_infer *inf = j->inf;
    skip_ws(j);
    if (j->p >= j->end) {
        return bad(j, "unexpected end of the row");
    }
    char ch = *j->p;
    if (ch == 'n') {
        int rc = expect_lit(j, "null", 4);
        if (rc == SL_OK && elem) {
            return sl__infer_fail(inf, n, j->err, -SL_ESCHEMA,
                                  "field %s: a null inside an array: BigQuery "
                                  "refuses NULL array elements",
                                  n->name);
        }
        return rc;
    }
    int rc = elem ? SL_OK : sl__infer_shape(inf, n, ch == '[', j->err);
    enum ikind k = IK_STRING;
    const char *s;
    size_t len;
    if (rc != SL_OK) {
        return rc;
    }
    switch (ch) {
    case '{':
        rc = sl__infer_note(inf, n, IK_RECORD, j->err);
        return rc != SL_OK ? rc : scan_object(j, n);
    case '[':
        if (elem) {
            return sl__infer_fail(inf, n, j->err, -SL_ESCHEMA,
                                  "field %s: an array inside an array: "
                                  "BigQuery has no arrays of arrays",
                                  n->name);
        }
        return scan_array(j, n);
    case '"':
        rc = scan_string(j, &s, &len);
        k = rc == SL_OK ? sl__infer_text_kind(s, len) : k;
        break;
    case 't':
    case 'f':
        rc = ch == 't' ? expect_lit(j, "true", 4) : expect_lit(j, "false", 5);
        k = IK_BOOL;
        break;
    default:
        rc = scan_number(j, &k);
        break;
    }
    return rc != SL_OK ? rc : sl__infer_note(inf, n, k, j->err);
}

/* The sub-field of rec a key names, added when new. */
static int key_field(struct jrow *j, struct inode *rec, size_t *hint,
                     uint64_t gen, struct inode **out)
{
    const char *key, *why = NULL;
    size_t len;
    int rc = scan_string(j, &key, &len);
    if (rc != SL_OK) {
        return rc;
    }
    struct inode *k = sl__infer_find(rec, key, len, hint);
    if (k == NULL) {
        if (!sl__infer_name_ok(key, len, rec->parent == NULL, &why)) {
            return sl__infer_fail(j->inf, rec, j->err, -SL_ESCHEMA,
                                  "key \"%.*s\": %s",
                                  (int)(len > 100 ? 100 : len), key, why);
        }
        if ((k = sl__infer_add(rec, key, len)) == NULL) {
            return SL_ERR(j->err, -SL_ENOMEM, "out of memory");
        }
    } else if (k->mark == gen) {
        return sl__infer_fail(j->inf, k, j->err, -SL_ESCHEMA,
                              "key \"%.*s\" appears twice in one object (as "
                              "\"%s\" before; names ignore case): BigQuery "
                              "refuses the row (Multiple definition of field)",
                              (int)(len > 100 ? 100 : len), key, k->name);
    }
    k->mark = gen;
    *out = k;
    return SL_OK;
}

static int scan_object(struct jrow *j, struct inode *rec)
{
    uint64_t gen = ++j->inf->gen;
    size_t hint = 0;
    rec->objects++;
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return SL_OK;
    }
    for (;;) {
        struct inode *k = NULL;
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') {
            return bad(j, "expected a key (a string)");
        }
        int rc = key_field(j, rec, &hint, gen, &k);
        if (rc != SL_OK) {
            return rc;
        }
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            return bad(j, "expected ':' after a key");
        }
        j->p++;
        if ((rc = scan_value(j, k, false)) != SL_OK) {
            return rc;
        }
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
        } else if (j->p < j->end && *j->p == '}') {
            j->p++;
            return SL_OK;
        } else {
            return bad(j, "expected ',' or '}' in an object");
        }
    }
}

static const char *token_name(char ch)
{
    switch (ch) {
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
        return ch == '-' || dig(ch) ? "a number" : "not JSON";
    }
}

int sl__infer_json_row(struct sl_infer *inf, const char *p, size_t n,
                       struct sl_error *err)
{
    struct jrow j = {inf, p, p, p + n, err};
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{') {
        return sl__infer_fail(inf, NULL, err, -SL_ECORRUPT,
                              "the row is %s, not a JSON object",
                              j.p < j.end ? token_name(*j.p) : "empty");
    }
    int rc = scan_object(&j, &inf->root);
    if (rc != SL_OK) {
        return rc;
    }
    skip_ws(&j);
    return j.p < j.end ? bad(&j, "unexpected data after the JSON object")
                       : SL_OK;
}
