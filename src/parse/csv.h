/* csv.h - RFC 4180 CSV reader with BigQuery's options: splits a byte stream
 * into records of field spans. It knows nothing of schemas or warehouses.
 * parse stage.
 *
 * The reader is push-driven over a contiguous buffer holding whole records: the
 * caller (validate) hands it the bytes it has; it returns one record at a time,
 * or asks for more input when a record is not complete in the buffer. */
#ifndef SL_PARSE_CSV_H
#define SL_PARSE_CSV_H

#include "core/common.h"

#include "core/buf.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct sl_csv_opts {
    char delim;                 /* field delimiter byte (','), not NUL/CR/LF */
    int quote;                  /* quote byte as unsigned char 1..255 ('"'), not
                                   CR/LF/delim; -1 = no quoting */
    bool allow_quoted_newlines; /* a quoted field may contain CR/LF */
    bool latin1;                /* ISO-8859-1 input: fields become UTF-8 */
};
/* Fill o with BigQuery's defaults: ',', '"', no quoted newlines, UTF-8. */
void sl_csv_opts_default(struct sl_csv_opts *o);

struct sl_csv_field {
    const char *p; /* field text after unquoting/unescaping/decoding, not
                      NUL-terminated. Borrowed: points into the caller's
                      buffer (valid while it is) or into c->scratch (valid
                      until the next sl_csv_next or sl_csv_release) */
    size_t len;    /* bytes at p */
    bool quoted;   /* the field was quoted (so "" is an empty string) */
};

enum sl_csv_status {
    SL_CSV_RECORD = 0,    /* a record was returned */
    SL_CSV_NEED_MORE = 1, /* the buffer ends inside a record: supply more */
    SL_CSV_END = 2,       /* eof and nothing left */
    SL_CSV_BAD = 3,       /* a malformed record was consumed; see bad_reason */
};

struct sl_csv {
    struct sl_csv_opts opts;     /* copied at init */
    struct sl_buf scratch;       /* unescaped/decoded text of this record */
    struct sl_csv_field *fields; /* fields of the current record, owned; grows
                                    only when a wider record appears */
    size_t n_fields;             /* fields in the current record */
    size_t fields_cap;           /* capacity of fields */
    const char *bad_reason;      /* static text for SL_CSV_BAD, else NULL */
    size_t bad_field_idx;        /* 0-based field the error was found in */
    unsigned char cls_uq[256];   /* private: byte classes outside quotes */
    unsigned char cls_q[256];    /* private: byte classes inside quotes */
    uint32_t *ix;                /* private: record index (csvindex.c), owned */
    size_t ix_len;               /* entries of ix holding complete records */
    size_t ix_pos;               /* next entry to hand out */
    size_t ix_rec;               /* offset of the next indexed record's start */
};

/* Prepare c with a copy of o (NULL = defaults). Allocates nothing. Returns
 * -SL_EINVAL for an unusable option (see struct sl_csv_opts); c can then
 * still be released. A reader is used by one thread at a time. */
SL_NODISCARD int sl_csv_init(struct sl_csv *c, const struct sl_csv_opts *o);
/* Free what c owns; NULL is a no-op, and releasing twice is harmless. */
void sl_csv_release(struct sl_csv *c);

/* Parse one record starting at buf[0] (len bytes available; eof = no more bytes
 * will follow). Record terminators: LF, CR, CRLF (the terminator is consumed).
 * On SL_CSV_RECORD / SL_CSV_BAD sets *out_used to the bytes consumed (record
 * and terminator) and *out_lines to the number of line breaks consumed, CRLF
 * counting as one and breaks inside quoted fields included (so callers can keep
 * line numbers; a last record without terminator has 0), and the fields are in
 * c->fields[0..n_fields). For SL_CSV_BAD the fields are best effort.
 *
 * SL_CSV_NEED_MORE: the record does not end within len bytes and eof is false
 * (this includes a buffer ending in CR, which may be half of a CRLF, and one
 * ending in a quote inside a quoted field, which may be half of ""). Nothing is
 * consumed; call again with more bytes starting at the same record start.
 * SL_CSV_END: len == 0 and eof. The fields are unset for both.
 *
 * Fields: a field is quoted only if its first byte is the quote; then "" inside
 * is one quote, and delimiters and (when allowed) CR/LF are text. A quote later
 * in an unquoted field is literal text (a"b is a"b, BigQuery-like leniency).
 * No whitespace is trimmed. An empty line is a record of one empty unquoted
 * field; skipping blank lines is the caller's decision.
 *
 * Bad records (the first problem found is reported; *out_used covers them):
 * - a newline inside quotes without allow_quoted_newlines ends the record as
 *   SL_CSV_BAD ("quoted newline not allowed"), consuming through that newline;
 * - text between a closing quote and the delimiter is SL_CSV_BAD ("data between
 *   close quote character and field separator"), consuming the rest of the
 *   record (split as usual: later quoted fields still hide delimiters);
 * - an unterminated quote at eof is SL_CSV_BAD ("unterminated quoted field"),
 *   consuming everything;
 * - a NUL byte anywhere is SL_CSV_BAD ("NUL byte in data"; BigQuery refuses NUL
 *   unless preserveAsciiControlCharacters), consuming the record.
 *
 * Returns SL_CSV_* (>= 0), or -SL_ENOMEM on allocation failure (then nothing is
 * consumed; the call may be repeated). Performs no allocation once the fields
 * array and scratch have grown to the widest/largest record seen (a scratch
 * grown beyond 4 MiB by one huge field is given back at the next call). */
SL_NODISCARD int sl_csv_next(struct sl_csv *c, const char *buf, size_t len,
                             bool eof, size_t *out_used, uint64_t *out_lines);

/* ---- the record index (csvindex.c) --------------------------------------
 * A faster way through the common records: sl_csv_index finds, 64 bytes at a
 * time with bit masks, every field end of the simple records at the start of
 * buf (fields unquoted, or quoted around the whole field with "" escapes; no
 * NUL, lone CR or line break inside quotes; with ISO-8859-1 no high byte;
 * ending in LF or CRLF), at most SL_CSV_INDEX_WINDOW bytes of them.
 * sl_csv_index_next then hands them out one at a time, exactly as sl_csv_next
 * would have returned them. A record outside that subset is never indexed:
 * the caller takes it with sl_csv_next and indexes again after it. */
#define SL_CSV_INDEX_WINDOW ((size_t)16 << 10)

/* Index the records at buf[0..len) (buf at a record start). Returns the bytes
 * of the complete records indexed, 0 when the first record is not simple (or
 * the options rule the index out, or its array cannot be allocated). Forgets
 * any earlier index. */
size_t sl_csv_index(struct sl_csv *c, const char *buf, size_t len);

/* The next indexed record of the buf given to sl_csv_index, into c->fields as
 * sl_csv_next fills them (one line consumed). Returns SL_CSV_RECORD with
 * *out_used (record and terminator), SL_CSV_END when the index is used up, or
 * -SL_ENOMEM (nothing consumed). */
SL_NODISCARD int sl_csv_index_next(struct sl_csv *c, const char *buf, size_t *out_used);

/* An index entry: the offset in the indexed buf of a field end << 3, and
 * flags. The byte there is the delimiter, or the LF ending the record (a CR
 * before that LF is CRLF's). */
#define SL_CSV_IX_QUOTED 1u /* the field is quoted (its first and last bytes, CR aside) */
#define SL_CSV_IX_ESC 2u    /* the field holds a "" escape */
#define SL_CSV_IX_HIGH 4u   /* (on a record's LF) the record holds a byte >= 0x80 */

/* Reading the index directly (the validator's fast path): the entries from the
 * next record on (*out_left of them, through the last indexed record) and the
 * offset of that record's first byte. Borrowed until the next sl_csv_index. */
static inline const uint32_t *sl_csv_index_peek(const struct sl_csv *c, size_t *out_left,
                                                size_t *out_start)
{
    *out_left = c->ix_len - c->ix_pos;
    *out_start = c->ix_rec;
    return c->ix + c->ix_pos;
}
/* Take the peeked record: its n_ent entries, the last one its LF. */
static inline void sl_csv_index_skip(struct sl_csv *c, size_t n_ent)
{
    c->ix_rec = (c->ix[c->ix_pos + n_ent - 1] >> 3) + 1;
    c->ix_pos += n_ent;
}

/* The text of a quoted field's inside [p, p+len) whose quotes all come in pairs
 * ("" escapes), each pair kept as one quote qb, into out, which must have room
 * for len + 16 bytes (16 are stored at a time). Returns the bytes written. With
 * SSE2: a 16-byte step per pair and per 16 bytes without a quote, the last
 * partial step from a padded copy (no byte after p+len is read). */
static inline size_t sl_csv_unescape(char *out, const char *p, size_t len, char qb)
{
    char *o = out;
#ifdef __SSE2__
    const __m128i vq = _mm_set1_epi8(qb);
    char tail[16];
    size_t j = 0;
    while (j < len) {
        size_t avail = len - j;
        const char *src = p + j;
        if (avail < 16) {
            memset(tail, qb ^ 1, sizeof(tail));
            memcpy(tail, src, avail);
            src = tail;
        }
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)src);
        _mm_storeu_si128((__m128i *)(void *)o, x);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq));
        if (m == 0) {
            size_t n = avail < 16 ? avail : 16;
            o += n;
            j += n;
        } else {
            unsigned i = (unsigned)__builtin_ctz(m); /* a pair's first quote, kept */
            o += i + 1;
            j += i + 2;
        }
    }
    /* (a lone quote at the end is kept, as the loop below keeps it) */
#else
    unsigned second = 0; /* the last byte was the first quote of a pair */
    for (size_t j = 0; j < len; j++) {
        unsigned q = p[j] == qb;
        *o = p[j];
        o += 1 - (q & second);
        second = q & (second ^ 1);
    }
#endif
    return (size_t)(o - out);
}

/* sl_csv_unescape for the inside of a quoted field the index read (its quotes
 * come in pairs, save perhaps one at the end), with the index's mask builder
 * (csvindex.c): with AVX-512, 64 bytes a step. out must have room for len + 64
 * bytes. */
#if defined(__x86_64__) && defined(__GNUC__)
size_t sl__csv_unescape512(char *out, const char *p, size_t len, char qb);
#endif
extern int sl__csv_isa; /* csvindex.c: the mask builder in use (-1 not chosen yet) */
static inline size_t sl__csv_unescape_ix(char *out, const char *p, size_t len, char qb)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (SL_ONCE_LOAD(sl__csv_isa) == 2) {
        return sl__csv_unescape512(out, p, len, qb);
    }
#endif
    return sl_csv_unescape(out, p, len, qb);
}

/* Forget the index (a caller about to move or refill its buffer). */
static inline void sl_csv_index_reset(struct sl_csv *c)
{
    c->ix_len = c->ix_pos = c->ix_rec = 0;
}

#endif
