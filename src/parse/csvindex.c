/* csvindex.c - the CSV reader's record index: the field ends of many simple
 * records found 64 bytes at a time with bit masks, in the manner of simdjson's
 * stage 1 (Langdale and Lemire, https://arxiv.org/abs/1902.08318), then handed
 * out record by record. parse stage.
 *
 * Per 64-byte block: one bit per byte for the quote, delimiter, LF, CR, NUL and
 * high bytes. The running XOR of the quote bits (carried across blocks) marks
 * the bytes inside quotes; delimiters and LFs outside them end fields. The same
 * masks check that the block holds only what sl_csv_next's simplest reading
 * would give (see csv.h); the first byte that breaks it stops the index before
 * the record holding it, which then takes the general path. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/error.h"
#include "parse/csv.h"
#include "parse/csv_int.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { IX_END = SL_CSV_IX_END, IX_ESC = SL_CSV_IX_ESC };

/* Bit masks of one 64-byte block. */
struct blk {
    uint64_t q, d, lf, cr, nul, high;
};

#ifdef __SSE2__
static inline uint64_t m64(const __m128i x[4], __m128i v)
{
    uint64_t a = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x[0], v));
    uint64_t b = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x[1], v));
    uint64_t c = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x[2], v));
    uint64_t d = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x[3], v));
    return a | b << 16 | c << 32 | d << 48;
}
#endif

static inline void block_masks(const unsigned char *p, unsigned char qb, bool quoting,
                               unsigned char delim, struct blk *m)
{
#ifdef __SSE2__
    __m128i x[4];
    for (int i = 0; i < 4; i++) {
        x[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
    }
    m->q = quoting ? m64(x, _mm_set1_epi8((char)qb)) : 0;
    m->d = m64(x, _mm_set1_epi8((char)delim));
    m->lf = m64(x, _mm_set1_epi8('\n'));
    m->cr = m64(x, _mm_set1_epi8('\r'));
    m->nul = m64(x, _mm_setzero_si128());
    m->high = (uint64_t)(uint16_t)_mm_movemask_epi8(x[0]) |
              (uint64_t)(uint16_t)_mm_movemask_epi8(x[1]) << 16 |
              (uint64_t)(uint16_t)_mm_movemask_epi8(x[2]) << 32 |
              (uint64_t)(uint16_t)_mm_movemask_epi8(x[3]) << 48;
#else
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < 64; i++) {
        uint64_t bit = (uint64_t)1 << i;
        unsigned char b = p[i];
        m->q |= quoting && b == qb ? bit : 0;
        m->d |= b == delim ? bit : 0;
        m->lf |= b == '\n' ? bit : 0;
        m->cr |= b == '\r' ? bit : 0;
        m->nul |= b == 0 ? bit : 0;
        m->high |= b >= 0x80 ? bit : 0;
    }
#endif
}

/* Bit i = XOR of bits 0..i. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

size_t sl_csv_index(struct sl_csv *c, const char *buf, size_t len)
{
    sl_csv_index_reset(c);
    const bool quoting = c->opts.quote != -1;
    const unsigned char qb = (unsigned char)(quoting ? c->opts.quote : 0);
    const unsigned char delim = (unsigned char)c->opts.delim;
    if (delim >= 0x80 || qb >= 0x80) {
        return 0; /* a high delimiter or quote is decoded text (ISO-8859-1) */
    }
    if (len > SL_CSV_INDEX_WINDOW) {
        len = SL_CSV_INDEX_WINDOW;
    }
    if (c->ix == NULL) {
        /* at most one entry per byte */
        c->ix = sl__malloc((SL_CSV_INDEX_WINDOW + 64) * sizeof(*c->ix));
        if (c->ix == NULL) {
            return 0;
        }
    }
    /* the padding of the last block: a byte that is nothing special */
    unsigned char fill = 'a';
    while (fill == delim || fill == qb) {
        fill++;
    }
    const unsigned char *u = (const unsigned char *)buf;
    uint32_t *ix = c->ix;
    size_t n = 0, n_done = 0, bytes = 0;
    uint64_t in_q = 0;        /* all ones when the block starts inside quotes */
    uint64_t fs_carry = 1;    /* bit 0: the block starts a field */
    uint64_t close_carry = 0; /* bit 0: the byte before closed a quote */
    bool esc_pend = false;    /* a "" after the last field end so far */
    for (size_t off = 0; off < len; off += 64) {
        const unsigned char *p = u + off;
        unsigned char pad[64];
        unsigned char next; /* the byte after the block: a CR there needs an LF */
        if (len - off > 64) {
            next = p[64];
        } else {
            memset(pad, fill, sizeof(pad));
            memcpy(pad, p, len - off);
            p = pad;
            next = fill;
        }
        struct blk m;
        block_masks(p, qb, quoting, delim, &m);
        uint64_t inside = prefix_xor(m.q) ^ in_q; /* an opening quote is inside */
        in_q = (uint64_t)((int64_t)inside >> 63);
        uint64_t opens = m.q & inside, closes = m.q & ~inside;
        uint64_t seps = (m.d | m.lf) & ~inside;
        uint64_t starts = seps << 1 | fs_carry;
        uint64_t after_close = closes << 1 | close_carry;
        uint64_t crlf = m.lf >> 1 | (uint64_t)(next == '\n') << 63;
        uint64_t bad = m.nul | (m.lf & inside) | (m.cr & (inside | ~crlf)) |
                       (opens & ~(starts | after_close)) |     /* a"b, or "a"b" */
                       (after_close & ~(m.d | m.lf | m.cr | opens)); /* "a"b */
        if (c->opts.latin1) {
            bad |= m.high;
        }
        fs_carry = seps >> 63;
        close_carry = closes >> 63;
        if (bad != 0) {
            seps &= (bad & (0 - bad)) - 1; /* the field ends before the first bad byte */
        }
        /* IX_ESC goes on the end of each field holding a "" (whose second
         * quote is an "open" not at a field start), found per "" (rare) */
        uint64_t esc_at = 0;
        if (esc_pend && seps != 0) {
            esc_at = seps & (0 - seps); /* a field from the block before ends here */
            esc_pend = false;
        }
        for (uint64_t esc = opens & ~starts; esc != 0;) {
            uint64_t after = seps & (0 - (esc & (0 - esc))); /* at or above it */
            if (after == 0) {
                esc_pend = true; /* the field goes on into the next block */
                break;
            }
            uint64_t at = after & (0 - after);
            esc_at |= at;
            esc &= ~((at << 1) - 1);
        }
        uint64_t ends = m.lf & seps;
        size_t n0 = n;
        for (uint64_t k = seps; k != 0; k &= k - 1) {
            unsigned i = (unsigned)__builtin_ctzll(k);
            ix[n++] = (uint32_t)(off + i) << 3 | (uint32_t)((ends >> i) & 1) |
                      (uint32_t)((esc_at >> i) & 1) << 1;
        }
        if (ends != 0) {
            unsigned last = 63u - (unsigned)__builtin_clzll(ends);
            n_done = n0 + (size_t)__builtin_popcountll(seps & (((uint64_t)2 << last) - 1));
            bytes = off + last + 1;
        }
        if (bad != 0) {
            break;
        }
    }
    c->ix_len = n_done;
    return bytes;
}

int sl_csv_index_next(struct sl_csv *c, const char *buf, size_t *out_used)
{
    if (c->ix_pos >= c->ix_len) {
        return SL_CSV_END;
    }
    c->n_fields = 0;
    c->bad_reason = NULL;
    c->bad_field_idx = 0;
    sl__buf_reset(&c->scratch);
    const bool quoting = c->opts.quote != -1;
    const unsigned char qb = (unsigned char)c->opts.quote;
    const unsigned char *u = (const unsigned char *)buf;
    size_t start = c->ix_rec, fstart = start, pos = c->ix_pos, nf = 0;
    bool scratch = false;
    for (;;) {
        uint32_t e = c->ix[pos++];
        size_t end = e >> 3, fend = end;
        if ((e & IX_END) && fend > fstart && u[fend - 1] == '\r') {
            fend--; /* CRLF */
        }
        if (nf == c->fields_cap) {
            int rc = sl__csv_grow_fields(c);
            if (rc != SL_OK) {
                c->n_fields = 0;
                return rc;
            }
        }
        struct sl_csv_field *f = &c->fields[nf++];
        if (quoting && fend > fstart && u[fstart] == qb) {
            /* the index saw the closing quote just before the field end */
            f->quoted = true;
            if (e & IX_ESC) {
                if (!sl__csv_put_unescaped(c, f, u + fstart + 1, u + fend - 1, qb)) {
                    c->n_fields = 0;
                    return -SL_ENOMEM;
                }
                scratch = true;
            } else {
                f->p = (const char *)u + fstart + 1;
                f->len = fend - fstart - 2;
            }
        } else {
            f->quoted = false;
            f->p = (const char *)u + fstart;
            f->len = fend - fstart;
        }
        if (e & IX_END) {
            c->n_fields = nf;
            if (scratch) {
                sl__csv_finish_record(c);
            }
            *out_used = end + 1 - start;
            c->ix_pos = pos;
            c->ix_rec = end + 1;
            return SL_CSV_RECORD;
        }
        fstart = end + 1;
    }
}
