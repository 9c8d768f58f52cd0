/* csv.c - RFC 4180 CSV reader (https://www.rfc-editor.org/rfc/rfc4180) with
 * BigQuery's load options (docs/BIGQUERY.md section 3): splits one record per
 * call into field spans. parse stage.
 *
 * Scanning uses two 256-entry byte-class tables built once by sl_csv_init, one
 * for unquoted and one for quoted text, so the inner loops test a single table
 * load per byte. Fields point into the caller's buffer (zero copy) unless they
 * need rewriting ("" unescaping, ISO-8859-1 decoding); only then is their text
 * built in c->scratch. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/error.h"
#include "parse/csv.h"
#include "parse/csv_int.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Byte classes. C_PLAIN must be 0: scan loops stop at any non-zero class. */
enum {
    C_PLAIN = 0, /* ordinary field byte */
    C_DELIM,     /* field delimiter (unquoted table only) */
    C_QUOTE,     /* quote byte (quoted table only) */
    C_CR,        /* '\r' */
    C_LF,        /* '\n' */
    C_NUL,       /* 0x00, always refused */
    C_HIGH,      /* byte >= 0x80 when decoding ISO-8859-1 */
};

/* Outcome of scanning one field. */
enum {
    STEP_FIELD = 0, /* done; cursor at delimiter, terminator or buffer end */
    STEP_MORE,      /* the buffer ends before the field does */
    STEP_STOP,      /* record ends here as bad; cursor past consumed bytes */
};

/* A scratch buffer grown beyond this by one huge field is dropped at the next
 * record, so one 100 MB value does not pin 100 MB for the reader's life. */
#define SCRATCH_KEEP_MAX ((size_t)4 << 20)

/* The first fields array; it then doubles when a wider record appears. */
#define FIELDS_MIN_CAP 16

static const char R_JUNK[] =
    "data between close quote character and field separator";
static const char R_NEWLINE[] = "quoted newline not allowed";
static const char R_UNTERM[] = "unterminated quoted field";
static const char R_NUL[] = "NUL byte in data";

void sl_csv_opts_default(struct sl_csv_opts *o)
{
    o->delim = ',';
    o->quote = '"';
    o->allow_quoted_newlines = false;
    o->latin1 = false;
}

static bool opts_valid(const struct sl_csv_opts *o)
{
    unsigned char d = (unsigned char)o->delim;
    if (d == '\0' || d == '\r' || d == '\n') {
        return false;
    }
    if (o->quote == -1) {
        return true;
    }
    if (o->quote <= 0 || o->quote > 255 || o->quote == '\r' ||
        o->quote == '\n' || o->quote == d) {
        return false;
    }
    return true;
}

static void build_tables(struct sl_csv *c)
{
    /* Set the ISO-8859-1 class first so that a high delimiter or quote byte
     * (e.g. 0xFE) still splits: BigQuery splits raw bytes, then decodes. */
    memset(c->cls_uq, C_PLAIN, sizeof(c->cls_uq));
    if (c->opts.latin1) {
        memset(c->cls_uq + 0x80, C_HIGH, 0x80);
    }
    memcpy(c->cls_q, c->cls_uq, sizeof(c->cls_q));
    c->cls_uq['\0'] = C_NUL;
    c->cls_uq['\r'] = C_CR;
    c->cls_uq['\n'] = C_LF;
    c->cls_uq[(unsigned char)c->opts.delim] = C_DELIM;
    c->cls_q['\0'] = C_NUL;
    c->cls_q['\r'] = C_CR;
    c->cls_q['\n'] = C_LF;
    if (c->opts.quote != -1) {
        c->cls_q[(unsigned char)c->opts.quote] = C_QUOTE;
    }
}

int sl_csv_init(struct sl_csv *c, const struct sl_csv_opts *o)
{
    memset(c, 0, sizeof(*c));
    sl__buf_init(&c->scratch);
    if (o != NULL) {
        c->opts = *o;
    } else {
        sl_csv_opts_default(&c->opts);
    }
    if (!opts_valid(&c->opts)) {
        return -SL_EINVAL;
    }
    build_tables(c);
    return SL_OK;
}

void sl_csv_release(struct sl_csv *c)
{
    if (c == NULL) {
        return;
    }
    sl__buf_release(&c->scratch);
    sl__free(c->fields);
    c->fields = NULL;
    sl__free(c->ix);
    c->ix = NULL;
    sl_csv_index_reset(c);
    c->n_fields = 0;
    c->fields_cap = 0;
}

int sl__csv_grow_fields(struct sl_csv *c)
{
    size_t cap = c->fields_cap ? c->fields_cap * 2 : FIELDS_MIN_CAP;
    if (cap < c->fields_cap || cap > SIZE_MAX / sizeof(*c->fields)) {
        return -SL_ENOMEM;
    }
    struct sl_csv_field *f = sl__realloc(c->fields, cap * sizeof(*f));
    if (f == NULL) {
        return -SL_ENOMEM;
    }
    c->fields = f;
    c->fields_cap = cap;
    return SL_OK;
}

/* First problem in a record wins; the record is still read to its end. */
static void mark_bad(struct sl_csv *c, const char *why)
{
    if (c->bad_reason == NULL) {
        c->bad_reason = why;
        c->bad_field_idx = c->n_fields - 1;
    }
}

static int put_span(struct sl_csv *c, const unsigned char *from,
                    const unsigned char *to)
{
    return sl__buf_append(&c->scratch, from, (size_t)(to - from));
}

/* ISO-8859-1 maps byte b to code point U+00b; for b >= 0x80 that is the
 * two-byte UTF-8 sequence 110000xx 10xxxxxx. */
static int put_latin1(struct sl_csv *c, unsigned char b)
{
    char two[2] = {(char)(0xC0 | (b >> 6)), (char)(0x80 | (b & 0x3F))};
    return sl__buf_append(&c->scratch, two, 2);
}

/* A field being built in scratch. Its text cannot be pointed to yet (scratch
 * may move while later fields grow it), so p stays NULL and finish_record
 * assigns it: scratch fields are appended back to back in field order. */
struct build {
    bool copy;     /* text goes to scratch */
    size_t sstart; /* scratch.len when copying began */
};

static int begin_copy(struct sl_csv *c, struct build *b,
                      const unsigned char *from, const unsigned char *to)
{
    b->copy = true;
    b->sstart = c->scratch.len;
    return put_span(c, from, to);
}

/* Close a field: zero copy [start, stop), or the scratch text plus the pending
 * run [run, stop). */
static int end_field(struct sl_csv *c, struct sl_csv_field *f,
                     const struct build *b, const unsigned char *start,
                     const unsigned char *run, const unsigned char *stop)
{
    if (!b->copy) {
        f->p = (const char *)start;
        f->len = (size_t)(stop - start);
        return SL_OK;
    }
    int rc = put_span(c, run, stop);
    if (rc != SL_OK) {
        return rc;
    }
    f->p = NULL;
    f->len = c->scratch.len - b->sstart;
    return SL_OK;
}

/* Unquoted field from *pp up to a delimiter, CR, LF or the buffer end. The
 * quote byte is ordinary here: like BigQuery we accept a"b as the literal
 * text a"b instead of rejecting it (RFC 4180 forbids it; real files have it,
 * e.g. 37'37.8"N). Only a quote as the field's first byte opens quoting. */
/* The first byte at or after p whose class in cls is not C_PLAIN, or end. a is
 * the other special byte of that table (the delimiter outside quotes, the quote
 * inside): the rest are NUL, CR, LF and, with ISO-8859-1, every high byte. */
static inline const unsigned char *skip_plain(const struct sl_csv *c,
                                              const unsigned char *cls,
                                              unsigned char a,
                                              const unsigned char *p,
                                              const unsigned char *end)
{
#ifdef __SSE2__
    const __m128i va = _mm_set1_epi8((char)a), vlf = _mm_set1_epi8('\n');
    const __m128i vcr = _mm_set1_epi8('\r'), vz = _mm_setzero_si128();
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vlf)),
                                  _mm_or_si128(_mm_cmpeq_epi8(x, vcr), _mm_cmpeq_epi8(x, vz)));
        unsigned m = (unsigned)_mm_movemask_epi8(sp);
        if (c->opts.latin1) {
            m |= (unsigned)_mm_movemask_epi8(x);
        }
        if (m != 0) {
            return p + __builtin_ctz(m);
        }
        p += 16;
    }
#else
    (void)c;
    (void)a;
#endif
    while (p < end && cls[*p] == C_PLAIN) {
        p++;
    }
    return p;
}

static int scan_unquoted(struct sl_csv *c, struct sl_csv_field *f,
                         const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *cls = c->cls_uq;
    const unsigned char *start = *pp, *p = start, *run = start;
    struct build b = {false, 0};
    int rc;
    for (;;) {
        p = skip_plain(c, cls, (unsigned char)c->opts.delim, p, end);
        if (p == end) {
            break;
        }
        unsigned char k = cls[*p];
        if (k == C_NUL) {
            mark_bad(c, R_NUL);
            p++;
            continue;
        }
        if (k != C_HIGH) {
            break; /* delimiter, CR or LF */
        }
        rc = b.copy ? put_span(c, run, p) : begin_copy(c, &b, run, p);
        if (rc == SL_OK) {
            rc = put_latin1(c, *p);
        }
        if (rc != SL_OK) {
            return rc;
        }
        run = ++p;
    }
    *pp = p;
    return end_field(c, f, &b, start, run, p);
}

/* Skip text after a closing quote up to the next delimiter, CR, LF or buffer
 * end, so the rest of the record is still split like a good record would be. */
static const unsigned char *skip_junk(const struct sl_csv *c,
                                      const unsigned char *p,
                                      const unsigned char *end)
{
    while (p < end) {
        unsigned char k = c->cls_uq[*p];
        if (k == C_DELIM || k == C_CR || k == C_LF) {
            break;
        }
        p++;
    }
    return p;
}

/* Quoted field; *pp is at the opening quote. Returns a STEP_* value or a
 * negative error code. Line breaks inside the quotes are counted in *lines. */
static int scan_quoted(struct sl_csv *c, struct sl_csv_field *f,
                       const unsigned char **pp, const unsigned char *end,
                       bool eof, uint64_t *lines)
{
    const unsigned char *cls = c->cls_q;
    const unsigned char qb = (unsigned char)c->opts.quote;
    const unsigned char *start = *pp + 1, *p = start, *run = start;
    struct build b = {false, 0};
    int rc;
    f->quoted = true;
    for (;;) {
        p = skip_plain(c, cls, qb, p, end);
        if (p == end) {
            if (!eof) {
                return STEP_MORE;
            }
            mark_bad(c, R_UNTERM);
            rc = end_field(c, f, &b, start, run, p);
            *pp = p;
            return rc != SL_OK ? rc : STEP_STOP;
        }
        switch (cls[*p]) {
        case C_QUOTE:
            if (p + 1 == end && !eof) {
                return STEP_MORE; /* closing quote or first of a pair? */
            }
            if (p + 1 < end && p[1] == qb) {
                /* "" inside quotes is one quote: keep the first, skip the
                 * second. A high quote byte (e.g. 0xFE) is text like any
                 * other here, so with ISO-8859-1 it is decoded too. */
                bool dec = c->opts.latin1 && qb >= 0x80;
                const unsigned char *keep = dec ? p : p + 1;
                rc = b.copy ? put_span(c, run, keep)
                            : begin_copy(c, &b, run, keep);
                if (rc == SL_OK && dec) {
                    rc = put_latin1(c, qb);
                }
                if (rc != SL_OK) {
                    return rc;
                }
                p += 2;
                run = p;
                break;
            }
            rc = end_field(c, f, &b, start, run, p);
            if (rc != SL_OK) {
                return rc;
            }
            p++;
            if (p < end) {
                unsigned char k = c->cls_uq[*p];
                if (k != C_DELIM && k != C_CR && k != C_LF) {
                    mark_bad(c, R_JUNK);
                    p = skip_junk(c, p, end);
                }
            }
            *pp = p;
            return STEP_FIELD;
        case C_CR:
        case C_LF:
            if (!c->opts.allow_quoted_newlines) {
                /* BigQuery ends the record at the newline: consume through
                 * it (CRLF as one) and report the record as bad. */
                const unsigned char *nl = p;
                if (*p == '\r' && p + 1 == end && !eof) {
                    return STEP_MORE;
                }
                p += (*p == '\r' && p + 1 < end && p[1] == '\n') ? 2 : 1;
                (*lines)++;
                mark_bad(c, R_NEWLINE);
                rc = end_field(c, f, &b, start, run, nl);
                *pp = p;
                return rc != SL_OK ? rc : STEP_STOP;
            }
            /* Kept verbatim in the value (CRLF stays CRLF). */
            p += (*p == '\r' && p + 1 < end && p[1] == '\n') ? 2 : 1;
            (*lines)++;
            break;
        case C_NUL:
            mark_bad(c, R_NUL);
            p++;
            break;
        case C_HIGH:
            rc = b.copy ? put_span(c, run, p) : begin_copy(c, &b, run, p);
            if (rc == SL_OK) {
                rc = put_latin1(c, *p);
            }
            if (rc != SL_OK) {
                return rc;
            }
            run = ++p;
            break;
        default:
            SL_UNREACHABLE();
        }
    }
}

/* Point the scratch-built fields (p == NULL) at their text, now that scratch
 * no longer moves. They were appended in field order without gaps. */
void sl__csv_finish_record(struct sl_csv *c)
{
    if (c->scratch.len == 0) {
        return;
    }
    size_t off = 0;
    for (size_t i = 0; i < c->n_fields; i++) {
        struct sl_csv_field *f = &c->fields[i];
        if (f->p == NULL) {
            f->p = c->scratch.data + off;
            off += f->len;
        }
    }
}

/* The text of the quoted field [open + 1, close) with each doubled quote kept
 * once, into scratch (its p is assigned by finish_record). */
bool sl__csv_put_unescaped(struct sl_csv *c, struct sl_csv_field *f, const unsigned char *from,
                          const unsigned char *to, unsigned char qb)
{
    size_t n = (size_t)(to - from);
    if (sl__buf_reserve(&c->scratch, n + 16) != SL_OK) { /* sl_csv_unescape's room */
        return false;
    }
    f->p = NULL;
    f->len = sl_csv_unescape(c->scratch.data + c->scratch.len, (const char *)from, n, (char)qb);
    c->scratch.len += f->len;
    c->scratch.data[c->scratch.len] = '\0';
    return true;
}

#ifdef __SSE2__
/* The common record: no NUL, lone CR, line break inside quotes or (ISO-8859-1)
 * high byte, quotes only around whole fields, ending in LF or CRLF within the
 * buffer. Its fields come straight from where the delimiters and quotes are,
 * found 16 bytes at a time. Returns true with the record in c->fields; false
 * (nothing kept) sends the record down the general path, which also handles
 * everything this one does not. */
static bool fast_record(struct sl_csv *c, const unsigned char *base,
                        const unsigned char *end, size_t *out_used)
{
    const bool quoting = c->opts.quote != -1;
    const unsigned char qb = (unsigned char)(quoting ? c->opts.quote : c->opts.delim);
    const __m128i vd = _mm_set1_epi8((char)c->opts.delim);
    const __m128i vq = _mm_set1_epi8((char)qb);
    const __m128i vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
    const __m128i vz = _mm_setzero_si128();
    const bool high = c->opts.latin1;
    if (high && quoting && qb >= 0x80) {
        return false; /* a high quote byte is decoded text inside quotes */
    }
    const unsigned char *p = base, *fstart = base;
    const unsigned char *open = NULL;     /* opening quote of the current field */
    const unsigned char *close = NULL;    /* its closing quote, once seen */
    const unsigned char *skip = base;     /* specials before this are the second of a "" */
    bool in_q = false, esc = false;
    size_t nf = 0;
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        unsigned md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vd));
        unsigned mq = quoting ? (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) : 0;
        __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(x, vlf),
                                  _mm_or_si128(_mm_cmpeq_epi8(x, vcr), _mm_cmpeq_epi8(x, vz)));
        unsigned ms = (unsigned)_mm_movemask_epi8(sp);
        if (high) {
            ms |= (unsigned)_mm_movemask_epi8(x);
        }
        for (unsigned m = md | mq | ms; m != 0; m &= m - 1) {
            unsigned i = (unsigned)__builtin_ctz(m);
            const unsigned char *q = p + i;
            if (q < skip) {
                continue;
            }
            if (in_q) {
                if (((mq >> i) & 1u) == 0) {
                    if (((md >> i) & 1u) != 0 && ((ms >> i) & 1u) == 0) {
                        continue; /* a delimiter inside quotes is text */
                    }
                    goto general; /* line break, NUL or high byte inside quotes */
                }
                if (q + 1 >= end) {
                    goto general;
                }
                if (q[1] == qb) {
                    esc = true;
                    skip = q + 2;
                    continue;
                }
                in_q = false;
                close = q;
                continue;
            }
            if (((mq >> i) & 1u) != 0) {
                if (q != fstart) {
                    goto general; /* a"b, or text after a closing quote */
                }
                in_q = true;
                open = q;
                continue;
            }
            if (close != NULL && q != close + 1) {
                goto general; /* text between a closing quote and the separator */
            }
            bool is_delim = (md >> i) & 1u;
            size_t used = 0;
            if (!is_delim) {
                if (*q == '\n') {
                    used = (size_t)(q + 1 - base);
                } else if (*q == '\r' && q + 1 < end && q[1] == '\n') {
                    used = (size_t)(q + 2 - base);
                } else {
                    goto general; /* NUL, lone CR, high byte */
                }
            }
            if (nf == c->fields_cap && sl__csv_grow_fields(c) != SL_OK) {
                goto general; /* the general path reports it */
            }
            struct sl_csv_field *f = &c->fields[nf++];
            c->n_fields = nf;
            if (open != NULL) {
                f->quoted = true;
                if (esc) {
                    if (!sl__csv_put_unescaped(c, f, open + 1, close, qb)) {
                        goto general;
                    }
                } else {
                    f->p = (const char *)open + 1;
                    f->len = (size_t)(close - open - 1);
                }
            } else {
                f->p = (const char *)fstart;
                f->len = (size_t)(q - fstart);
                f->quoted = false;
            }
            if (!is_delim) {
                sl__csv_finish_record(c);
                *out_used = used;
                return true;
            }
            fstart = q + 1;
            open = close = NULL;
            esc = false;
        }
        p += 16;
    }
general:
    /* the record runs into the last 15 bytes, or needs the general path */
    c->n_fields = 0;
    sl__buf_reset(&c->scratch);
    return false;
}
#endif

int sl_csv_next(struct sl_csv *c, const char *buf, size_t len, bool eof,
                size_t *out_used, uint64_t *out_lines)
{
    *out_used = 0;
    *out_lines = 0;
    c->n_fields = 0;
    c->bad_reason = NULL;
    c->bad_field_idx = 0;
    if (c->scratch.cap > SCRATCH_KEEP_MAX) {
        sl__buf_release(&c->scratch);
    } else {
        sl__buf_reset(&c->scratch);
    }
    if (len == 0) {
        return eof ? SL_CSV_END : SL_CSV_NEED_MORE;
    }
#ifdef __SSE2__
    if (fast_record(c, (const unsigned char *)buf, (const unsigned char *)buf + len,
                    out_used)) {
        *out_lines = 1;
        return SL_CSV_RECORD;
    }
#endif

    const unsigned char *const base = (const unsigned char *)buf;
    const unsigned char *p = base, *end = base + len;
    const bool quoting = c->opts.quote != -1;
    const unsigned char qb = (unsigned char)c->opts.quote;
    const unsigned char delim = (unsigned char)c->opts.delim;
    uint64_t lines = 0;
    for (;;) {
        if (c->n_fields == c->fields_cap) {
            int rc = sl__csv_grow_fields(c);
            if (rc != SL_OK) {
                return rc;
            }
        }
        struct sl_csv_field *f = &c->fields[c->n_fields++];
        f->quoted = false;
        int st;
        if (quoting && p < end && *p == qb) {
            st = scan_quoted(c, f, &p, end, eof, &lines);
        } else {
            st = scan_unquoted(c, f, &p, end);
        }
        if (st < 0) {
            return st;
        }
        if (st == STEP_MORE) {
            return SL_CSV_NEED_MORE;
        }
        if (st == STEP_STOP) {
            break;
        }
        if (p == end) {
            if (!eof) {
                return SL_CSV_NEED_MORE; /* the record may go on */
            }
            break; /* last record without a terminator */
        }
        if (*p == delim) {
            p++;
            continue;
        }
        /* CR, LF or CRLF ends the record. A CR as the last byte needs the next
         * byte to tell CR from CRLF. */
        if (*p == '\r') {
            if (p + 1 == end && !eof) {
                return SL_CSV_NEED_MORE;
            }
            p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
        } else {
            p++;
        }
        lines++;
        break;
    }
    sl__csv_finish_record(c);
    *out_used = (size_t)(p - base);
    *out_lines = lines;
    return c->bad_reason != NULL ? SL_CSV_BAD : SL_CSV_RECORD;
}
