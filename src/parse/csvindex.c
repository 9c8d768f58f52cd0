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

#ifndef SL_IX_PREFETCH
#define SL_IX_PREFETCH 1024
#endif
enum { IX_QUOTED = SL_CSV_IX_QUOTED, IX_ESC = SL_CSV_IX_ESC, IX_HIGH = SL_CSV_IX_HIGH };

/* Bit masks of one 64-byte block. cr and nul are only filled in when rare is
 * set (some CR or NUL in the block, or, with high_too, a byte >= 0x80). */
struct blk {
    uint64_t q, d, lf;
    bool rare;
    uint64_t cr, nul, high;
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

static inline uint64_t hi64(const __m128i x[4])
{
    return (uint64_t)(uint16_t)_mm_movemask_epi8(x[0]) |
           (uint64_t)(uint16_t)_mm_movemask_epi8(x[1]) << 16 |
           (uint64_t)(uint16_t)_mm_movemask_epi8(x[2]) << 32 |
           (uint64_t)(uint16_t)_mm_movemask_epi8(x[3]) << 48;
}
#endif

static inline void block_masks(const unsigned char *p, unsigned char qb, bool quoting,
                               unsigned char delim, bool high_too, struct blk *m)
{
#ifdef __SSE2__
    __m128i x[4];
    for (int i = 0; i < 4; i++) {
        x[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
    }
    m->q = quoting ? m64(x, _mm_set1_epi8((char)qb)) : 0;
    m->d = m64(x, _mm_set1_epi8((char)delim));
    m->lf = m64(x, _mm_set1_epi8('\n'));
    /* CR, NUL and high bytes in one test: usually there are none */
    const __m128i vcr = _mm_set1_epi8('\r'), vz = _mm_setzero_si128();
    __m128i r = vz;
    for (int i = 0; i < 4; i++) {
        r = _mm_or_si128(r, _mm_or_si128(_mm_cmpeq_epi8(x[i], vcr), _mm_cmpeq_epi8(x[i], vz)));
        if (high_too) {
            r = _mm_or_si128(r, x[i]);
        }
    }
    m->rare = _mm_movemask_epi8(r) != 0;
    m->high = hi64(x);
    if (m->rare) {
        m->cr = m64(x, vcr);
        m->nul = m64(x, vz);
    }
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
    m->rare = (m->cr | m->nul | (high_too ? m->high : 0)) != 0;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SL_HAVE_AVX2_PATH 1
__attribute__((target("avx2"))) static inline uint64_t m64x2(__m256i a, __m256i b, __m256i v)
{
    uint64_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, v));
    uint64_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, v));
    return lo | hi << 32;
}

__attribute__((target("avx2"))) static inline void block_masks_avx2(const unsigned char *p,
                                                                     unsigned char qb,
                                                                     bool quoting,
                                                                     unsigned char delim,
                                                                     bool high_too,
                                                                     struct blk *m)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    m->q = quoting ? m64x2(a, b, _mm256_set1_epi8((char)qb)) : 0;
    m->d = m64x2(a, b, _mm256_set1_epi8((char)delim));
    m->lf = m64x2(a, b, _mm256_set1_epi8('\n'));
    const __m256i vcr = _mm256_set1_epi8('\r'), vz = _mm256_setzero_si256();
    __m256i r = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(a, vcr), _mm256_cmpeq_epi8(a, vz)),
                                _mm256_or_si256(_mm256_cmpeq_epi8(b, vcr), _mm256_cmpeq_epi8(b, vz)));
    if (high_too) {
        r = _mm256_or_si256(r, _mm256_or_si256(a, b));
    }
    m->rare = _mm256_movemask_epi8(r) != 0;
    m->high = (uint64_t)(uint32_t)_mm256_movemask_epi8(a) |
              (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
    if (m->rare) {
        m->cr = m64x2(a, b, vcr);
        m->nul = m64x2(a, b, vz);
    }
}

/* AVX-512 (BW, VBMI2) with BMI2 and PCLMUL: a compare gives its 64-bit mask at
 * once, and the field ends are turned into entries by a byte compress instead
 * of a bit at a time. */
#define SL_T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,pclmul")))
SL_T512 static inline void block_masks_avx512(const unsigned char *p, unsigned char qb,
                                               bool quoting, unsigned char delim, bool high_too,
                                               struct blk *m)
{
    __m512i x = _mm512_loadu_si512((const void *)p);
    m->q = quoting ? _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8((char)qb)) : 0;
    m->d = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8((char)delim));
    m->lf = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\n'));
    m->cr = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\r'));
    m->nul = _mm512_testn_epi8_mask(x, x);
    m->high = _mm512_movepi8_mask(x);
    m->rare = (m->cr | m->nul | (high_too ? m->high : 0)) != 0;
}

/* Bit i = XOR of bits 0..i, by a carry-less multiply with all ones. */
SL_T512 static inline uint64_t prefix_xor_clmul(uint64_t x)
{
    __m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8(-1), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}

/* sl__csv_unescape_ix 64 bytes a step: the second quote of each pair is the
 * one whose running count of quotes is even; a byte compress drops them. Stores
 * 64 bytes a step: out has room for len + 64. */
SL_T512 size_t sl__csv_unescape512(char *out, const char *p, size_t len, char qb)
{
    const __m512i vq = _mm512_set1_epi8(qb);
    char *o = out;
    uint64_t odd = 0; /* all ones after an odd number of quotes */
    for (size_t j = 0; j < len; j += 64) {
        size_t avail = len - j;
        uint64_t k = avail >= 64 ? ~0ULL : (1ULL << avail) - 1;
        __m512i x = _mm512_maskz_loadu_epi8(k, p + j);
        uint64_t q = _mm512_cmpeq_epi8_mask(x, vq) & k;
        uint64_t par = prefix_xor_clmul(q) ^ odd;
        odd = (uint64_t)((int64_t)par >> 63);
        uint64_t keep = k & ~(q & ~par);
        unsigned cnt = (unsigned)__builtin_popcountll(keep);
        /* all 64 bytes (the room is there): a load of the text just after
         * can take them from the store, which it cannot from a masked one */
        _mm512_storeu_si512((void *)o, _mm512_maskz_compress_epi8(keep, x));
        o += cnt;
    }
    return (size_t)(o - out);
}

/* Bit j: the j-th bit of s has a bit of t between it and the bit of s before
 * it (for the first: before it, or carry). Among the bits of s | t in order, an
 * s bit whose predecessor is a t bit. */
SL_T512 static inline uint64_t after_tag(uint64_t s, uint64_t t, bool carry)
{
    uint64_t x = s | t;
    uint64_t tx = _pext_u64(t, x), sx = _pext_u64(s, x);
    return _pext_u64(_pdep_u64((tx << 1 | (uint64_t)carry) & sx, x), s);
}

/* put_ends with flags: IX_QUOTED on the ends in quoted, and IX_ESC and
 * IX_HIGH on the j-th end for bit j of esc and high; sixteen entries a step
 * (the first step whatever their number: up to fifteen entries past the last,
 * within the array's 64 spare ones). */
SL_T512 static inline void put_ends512(uint32_t *w, uint32_t off, uint64_t seps,
                                       uint64_t quoted, uint64_t esc, uint64_t high)
{
    static const unsigned char iota[64] = {
        0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
        32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
        48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
    __m512i pos = _mm512_maskz_compress_epi8(seps, _mm512_loadu_si512((const void *)iota));
    uint64_t qf = _pext_u64(quoted, seps); /* bit j: the j-th end is quoted */
    const __m512i vo = _mm512_set1_epi32((int)off), vq = _mm512_set1_epi32((int)IX_QUOTED);
    const __m512i ve = _mm512_set1_epi32((int)IX_ESC), vh = _mm512_set1_epi32((int)IX_HIGH);
    __m128i p0 = _mm512_castsi512_si128(pos);
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtepu8_epi32(p0), vo), 3);
    e = _mm512_mask_or_epi32(e, (__mmask16)esc, e, ve);
    e = _mm512_mask_or_epi32(e, (__mmask16)high, e, vh);
    _mm512_storeu_si512((void *)w, _mm512_mask_or_epi32(e, (__mmask16)qf, e, vq));
    unsigned cnt = (unsigned)__builtin_popcountll(seps);
    if (SL_UNLIKELY(cnt > 16)) {
        unsigned char b[64];
        _mm512_storeu_si512((void *)b, pos);
        for (unsigned j = 16; j < cnt; j += 16) {
            __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(b + j));
            e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtepu8_epi32(c), vo), 3);
            e = _mm512_mask_or_epi32(e, (__mmask16)(esc >> j), e, ve);
            e = _mm512_mask_or_epi32(e, (__mmask16)(high >> j), e, vh);
            _mm512_storeu_si512((void *)(w + j),
                                _mm512_mask_or_epi32(e, (__mmask16)(qf >> j), e, vq));
        }
    }
}
#endif

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

/* The entries of the bits of seps (block offset off) at w, eight at a time
 * whatever their number: no branch on it below nine (a block of CSV usually
 * ends a handful of fields). Writes up to seven entries past the last, which
 * the array has room for (an entry per byte, and 64 more). */
static inline __attribute__((always_inline)) void put_ends(uint32_t *w, uint32_t off,
                                                           uint64_t seps)
{
    const uint64_t stop = (uint64_t)1 << 63; /* ctz of 0 is undefined: 63 instead */
    unsigned cnt = (unsigned)__builtin_popcountll(seps);
    uint64_t k = seps;
    for (unsigned j = 0; j < 8; j++) {
        w[j] = (off + (unsigned)__builtin_ctzll(k | stop)) << 3;
        k &= k - 1;
    }
    for (unsigned j = 8; j < cnt; j += 8) {
        for (unsigned i = 0; i < 8; i++) {
            w[j + i] = (off + (unsigned)__builtin_ctzll(k | stop)) << 3;
            k &= k - 1;
        }
    }
}

#ifdef SL_HAVE_AVX2_PATH
/* A block's entries with all their flags (see index_loop): escq the second
 * quotes of "" pairs, ends the LFs, high the bytes >= 0x80; *esc_pend and
 * *high_pend carried from block to block. */
SL_T512 static inline void put_block512(uint32_t *w, uint32_t off, uint64_t seps,
                                        uint64_t quoted, uint64_t escq, uint64_t ends,
                                        uint64_t high, bool *esc_pend, bool *high_pend)
{
    uint64_t esc = after_tag(seps, escq, *esc_pend);
    uint64_t hpos = _pdep_u64(after_tag(ends, high, *high_pend), ends);
    put_ends512(w, off, seps, quoted, esc, _pext_u64(hpos, seps));
    *esc_pend = seps != 0 ? (escq & ~((2ULL << (63 - __builtin_clzll(seps))) - 1)) != 0
                          : *esc_pend || escq != 0;
    *high_pend = ends != 0 ? (high & ~((2ULL << (63 - __builtin_clzll(ends))) - 1)) != 0
                           : *high_pend || high != 0;
}
#endif

/* The index loop; isa picks the mask builder (0 SSE2 or plain C, 1 AVX2, 2
 * AVX-512; a constant in each caller, so each gets its own copy of the loop). */
static inline __attribute__((always_inline)) size_t
index_loop(struct sl_csv *c, const unsigned char *u, size_t len, unsigned char qb, bool quoting,
           unsigned char delim, unsigned char fill, int isa)
{
    const bool latin1 = c->opts.latin1;
    uint32_t *ix = c->ix;
    size_t n = 0, n_done = 0, bytes = 0;
    uint64_t in_q = 0;        /* all ones when the block starts inside quotes */
    uint64_t fs_carry = 1;    /* bit 0: the block starts a field */
    uint64_t close_carry = 0; /* bit 0: the byte before closed a quote */
    uint64_t crq_carry = 0;   /* bit 0: the bytes before were a closing quote and CR */
    bool esc_pend = false;    /* a "" after the last field end so far */
    bool high_pend = false;   /* a byte >= 0x80 after the last record end so far */
    for (size_t off = 0; off < len; off += 64) {
        const unsigned char *p = u + off;
        unsigned char pad[64];
        unsigned char next; /* the byte after the block: a CR there needs an LF */
        if (len - off > 64) {
            /* (an address past the buffer's end is fine to prefetch, not to form
             * as a pointer) */
            __builtin_prefetch((const void *)((uintptr_t)p + SL_IX_PREFETCH));
            next = p[64];
        } else {
            memset(pad, fill, sizeof(pad));
            memcpy(pad, p, len - off);
            p = pad;
            next = fill;
        }
        struct blk m;
        uint64_t px;
#ifdef SL_HAVE_AVX2_PATH
        if (isa == 2) {
            block_masks_avx512(p, qb, quoting, delim, latin1, &m);
            px = prefix_xor_clmul(m.q);
        } else if (isa == 1) {
            block_masks_avx2(p, qb, quoting, delim, latin1, &m);
            px = prefix_xor(m.q);
        } else
#endif
        {
            block_masks(p, qb, quoting, delim, latin1, &m);
            px = prefix_xor(m.q);
        }
        uint64_t inside = px ^ in_q; /* an opening quote is inside */
        in_q = (uint64_t)((int64_t)inside >> 63);
        uint64_t opens = m.q & inside, closes = m.q & ~inside;
        uint64_t seps = (m.d | m.lf) & ~inside;
        uint64_t starts = seps << 1 | fs_carry;
        uint64_t after_close = closes << 1 | close_carry;
        uint64_t bad = (m.lf & inside) | (opens & ~(starts | after_close)); /* a"b, "a"b" */
        /* the field ends right after a closing quote (or after one and a CR):
         * quoted, as quotes come only around whole fields here */
        uint64_t qends = after_close | crq_carry;
        crq_carry = 0;
        if (SL_UNLIKELY(m.rare)) {
            uint64_t crlf = m.lf >> 1 | (uint64_t)(next == '\n') << 63;
            bad |= m.nul | (m.cr & (inside | ~crlf)) | (latin1 ? m.high : 0) |
                   (after_close & ~(m.d | m.lf | m.cr | opens)); /* "a"b */
            qends |= (after_close & m.cr) << 1;
            crq_carry = (after_close & m.cr) >> 63;
        } else {
            bad |= after_close & ~(m.d | m.lf | opens);
        }
        fs_carry = seps >> 63;
        close_carry = closes >> 63;
        if (bad != 0) {
            seps &= (bad & (0 - bad)) - 1; /* the field ends before the first bad byte */
        }
        size_t n0 = n;
        uint64_t ends = m.lf & seps;
        /* the bytes >= 0x80 before the first bad one */
        uint64_t high = m.high & (bad != 0 ? (bad & (0 - bad)) - 1 : ~(uint64_t)0);
#ifdef SL_HAVE_AVX2_PATH
        if (isa == 2) {
            /* IX_ESC on the end of each field holding a "" (whose second quote
             * is an "open" not at a field start), IX_HIGH on the LF of each
             * record holding a byte >= 0x80: the ends with such a byte
             * since the end before */
            put_block512(ix + n, (uint32_t)off, seps, qends & seps, opens & ~starts, ends, high,
                         &esc_pend, &high_pend);
        } else
#endif
        {
            put_ends(ix + n, (uint32_t)off, seps);
            /* IX_QUOTED on the end of each quoted field (a dozen fields a
             * record, usually one or two quoted) */
            for (uint64_t k = qends & seps; k != 0; k &= k - 1) {
                ix[n0 + (size_t)__builtin_popcountll(seps & ((k & (0 - k)) - 1))] |= IX_QUOTED;
            }
            /* IX_ESC goes on the end of each field holding a "" (whose
             * second quote is an "open" not at a field start), found per ""
             * (rare) */
            if (esc_pend && seps != 0) {
                ix[n0] |= IX_ESC; /* a field from the block before ends here */
                esc_pend = false;
            }
            for (uint64_t esc = opens & ~starts; esc != 0;) {
                uint64_t after = seps & (0 - (esc & (0 - esc))); /* at or above it */
                if (after == 0) {
                    esc_pend = true; /* the field goes on into the next block */
                    break;
                }
                uint64_t at = after & (0 - after);
                ix[n0 + (size_t)__builtin_popcountll(seps & (at - 1))] |= IX_ESC;
                esc &= ~((at << 1) - 1);
            }
            /* IX_HIGH on the LF of each record holding a byte >= 0x80 */
            if (SL_UNLIKELY((high != 0) | high_pend)) {
                for (uint64_t k = ends; k != 0; k &= k - 1) {
                    uint64_t upto = ((k & (0 - k)) << 1) - 1; /* bits through this LF */
                    if (high_pend || (high & upto) != 0) {
                        ix[n0 + (size_t)__builtin_popcountll(seps & upto) - 1] |= IX_HIGH;
                    }
                    high &= ~upto;
                    high_pend = false;
                }
                high_pend = high_pend || high != 0; /* kept when no LF took it */
            }
        }
        n += (size_t)__builtin_popcountll(seps);
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

#ifdef SL_HAVE_AVX2_PATH
__attribute__((target("avx2"))) static size_t index_avx2(struct sl_csv *c, const unsigned char *u,
                                                        size_t len, unsigned char qb,
                                                        bool quoting, unsigned char delim,
                                                        unsigned char fill)
{
    return index_loop(c, u, len, qb, quoting, delim, fill, 1);
}

SL_T512 static size_t index_avx512(struct sl_csv *c, const unsigned char *u, size_t len,
                                   unsigned char qb, bool quoting, unsigned char delim,
                                   unsigned char fill)
{
    return index_loop(c, u, len, qb, quoting, delim, fill, 2);
}
#endif

static size_t index_base(struct sl_csv *c, const unsigned char *u, size_t len, unsigned char qb,
                         bool quoting, unsigned char delim, unsigned char fill)
{
    return index_loop(c, u, len, qb, quoting, delim, fill, 0);
}

/* The mask builder in use: -1 not chosen yet, 0 SSE2 (or plain C), 1 AVX2, 2
 * AVX-512. Set once (racing first calls all store the same value). */
int sl__csv_isa = -1;

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
#ifdef SL_HAVE_AVX2_PATH
    if (SL_ONCE_LOAD(sl__csv_isa) < 0) {
        sl__csv_index_isa(-1);
    }
    if (SL_ONCE_LOAD(sl__csv_isa) == 2) {
        return index_avx512(c, u, len, qb, quoting, delim, fill);
    }
    if (SL_ONCE_LOAD(sl__csv_isa) == 1) {
        return index_avx2(c, u, len, qb, quoting, delim, fill);
    }
#endif
    return index_base(c, u, len, qb, quoting, delim, fill);
}

int sl__csv_index_isa(int want)
{
    int have = 0;
#ifdef SL_HAVE_AVX2_PATH
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (have && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("pclmul")) {
        have = 2;
    }
#endif
    SL_ONCE_STORE(sl__csv_isa, sl_isa_pick(want, have));
    return SL_ONCE_LOAD(sl__csv_isa);
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
    const unsigned char qb = (unsigned char)c->opts.quote;
    const unsigned char *u = (const unsigned char *)buf;
    size_t start = c->ix_rec, fstart = start, pos = c->ix_pos, nf = 0;
    bool scratch = false;
    for (;;) {
        uint32_t e = c->ix[pos++];
        size_t end = e >> 3, fend = end;
        bool last = u[end] == '\n';
        if (last && fend > fstart && u[fend - 1] == '\r') {
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
        if (e & IX_QUOTED) {
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
        if (last) {
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
