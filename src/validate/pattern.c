/* pattern.c - a matcher for the simple patterns rules mostly use: a sequence
 * of ASCII characters and classes, each repeated a fixed number of times, with
 * at most one repeated a variable number of times (^[A-HJ-NPR-Z0-9]{17}$,
 * ^AT-[0-9]{7}$, ^([0-9A-F]{2}:){5}[0-9A-F]{2}$, ^\[.*\]$, ^[A-Z]). On ASCII
 * text such a pattern fixes each character's class from the text's length, so
 * one pass over the bytes decides. Non-ASCII characters are decided here too
 * when they all fall in the variable item and it takes every non-ASCII
 * character (., [^...]): the fixed positions are then still the first and last
 * bytes, and the item's bounds are counted in characters. Anything else (other
 * syntax, other non-ASCII text) is left to PCRE2, whose answer this must always
 * equal. validate stage. */
#include "core/common.h"
#include "validate/validate_int.h"
#include "core/alloc.h"
#include "validate/coerce.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SL_SPAT_Z 1 /* the AVX-512 matcher (match_z) is built */
#endif

#define MAX_POS 1024      /* fixed positions in a compiled pattern */
#define MAX_CLS 64        /* distinct classes */
#define MAX_ITEMS 256     /* items while parsing */
#define MAX_REP 65535     /* PCRE2's largest repeat count */
#define UNBOUNDED UINT32_MAX

struct cls {
    uint64_t w[2];        /* bit b set: ASCII byte b belongs */
    bool high;            /* every non-ASCII character belongs (., [^...]) */
};

struct item {
    struct cls c;
    uint32_t min, max;    /* max UNBOUNDED for * and + */
};

struct sl_spat {
    uint32_t n_pre, n_suf;   /* fixed positions before and after the variable item */
    bool has_var;            /* a variable item between them */
    bool var_any;            /* it accepts every ASCII byte */
    bool var_high;           /* and every non-ASCII character */
    uint32_t vmin, vmax;     /* its repeat bounds (vmax UNBOUNDED) */
    struct cls var;
    uint8_t n_out;           /* ASCII bytes outside var, when at most 2 (. is all but LF) */
    uint8_t out[2];
    uint8_t *pos;            /* n_pre + n_suf class indexes into cls, owned */
    struct cls *cls;         /* owned */
    uint32_t n_cls;
    uint8_t *mem;            /* n_cls x 128 bytes: 1 where an ASCII byte is in the class, owned */
    uint8_t vmem[256];       /* the same for var, and var_high for the bytes >= 0x80 */
    struct chunk *chunks;    /* a fixed pattern of 16 or more positions, 16 at a time, owned */
    uint32_t n_chunks;
    struct zplan *z;         /* at most 64 fixed positions, for match_z, owned, or NULL */
};

/* A class as ranges of bytes, for 16 bytes at a time: byte x is in range k
 * when (x - lo[k]) mod 256 <= span[k]. */
#define MAX_RANGES 6
struct ranges {
    uint8_t n;
    uint8_t lo[MAX_RANGES], span[MAX_RANGES];
};

/* Positions [off, off + 16): the classes there, each with the bits of its
 * positions (a last chunk may overlap the one before). */
struct chunk {
    uint32_t off;
    uint8_t n;
    uint8_t cls[16];
    uint16_t mask[16];
    struct ranges r[16];
};

/* A pattern of at most 64 fixed positions and at most 8 classes (the variable
 * item's among them), for texts of at most 64 bytes in one 64-byte register
 * (match_z): tab gives each ASCII byte a bit per class holding it, and each
 * position wants its class's bit: pre[i] for a position i < n_pre, var_bit in
 * the variable item, suf[k] at the suffix's position k. */
struct zplan {
    uint8_t tab[128];
    uint8_t pre[64], suf[64];
    uint8_t var_bit;
};

static void set_bit(struct cls *c, unsigned b)
{
    c->w[b >> 6] |= 1ULL << (b & 63);
}

static void set_range(struct cls *c, unsigned lo, unsigned hi)
{
    for (unsigned b = lo; b <= hi; b++) {
        set_bit(c, b);
    }
}

static bool is_alnum(unsigned ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* An escape at p[0] == '\\' naming a class (\d \w), a line break or tab
 * (\n \r \t) or an escaped ASCII punctuation character. Returns bytes used (2) or 0 when outside the subset;
 * *lit is the literal, or -1 when c holds a class. */
static size_t escape(const char *p, const char *e, struct cls *c, int *lit)
{
    if (e - p < 2) {
        return 0;
    }
    unsigned ch = (unsigned char)p[1];
    *lit = -1;
    if (ch == 'd') {
        set_range(c, '0', '9');
    } else if (ch == 'w') {
        set_range(c, '0', '9');
        set_range(c, 'A', 'Z');
        set_range(c, 'a', 'z');
        set_bit(c, '_');
    } else if (ch == 'n' || ch == 't' || ch == 'r') {
        *lit = ch == 'n' ? '\n' : ch == 't' ? '\t' : '\r';
    } else if (ch > 0x20 && ch < 0x7f && !is_alnum(ch)) {
        *lit = (int)ch;
    } else {
        return 0;
    }
    return 2;
}

/* A bracket class at p[0] == '['; bytes used or 0. */
static size_t bracket(const char *p, const char *e, struct cls *out)
{
    const char *q = p + 1;
    bool neg = false;
    struct cls c = {{0, 0}, false};
    if (q < e && *q == '^') {
        neg = true;
        q++;
    }
    if (q < e && *q == ']') {
        return 0; /* a leading ']' is a literal to PCRE2: leave it */
    }
    bool first = true;
    while (q < e && *q != ']') {
        int lo;
        unsigned ch = (unsigned char)*q;
        if (ch == '\\') {
            size_t k = escape(q, e, &c, &lo);
            if (k == 0) {
                return 0;
            }
            q += k;
            if (lo < 0) {
                first = false;
                continue;
            }
        } else if (ch == '[' || ch < 0x20 || ch >= 0x7f) {
            return 0; /* POSIX classes, controls, non-ASCII */
        } else if (ch == '-' && !first && q + 1 < e && q[1] != ']') {
            return 0; /* a range with a class or escape at its start */
        } else {
            lo = (int)ch;
            q++;
        }
        first = false;
        if (q + 1 < e && *q == '-' && q[1] != ']') {
            unsigned hi = (unsigned char)q[1];
            size_t used = 2;
            if (hi == '\\') {
                int h;
                struct cls dummy = {{0, 0}, false};
                if (escape(q + 1, e, &dummy, &h) == 0 || h < 0) {
                    return 0;
                }
                hi = (unsigned)h;
                used = 3;
            } else if (hi == '[' || hi < 0x20 || hi >= 0x7f) {
                return 0;
            }
            if (hi < (unsigned)lo) {
                return 0;
            }
            set_range(&c, (unsigned)lo, hi);
            q += used;
        } else {
            set_bit(&c, (unsigned)lo);
        }
    }
    if (q >= e) {
        return 0;
    }
    if (neg) {
        c.high = true;
        c.w[0] = ~c.w[0];
        c.w[1] = ~c.w[1];
    }
    *out = c;
    return (size_t)(q + 1 - p);
}

/* A quantifier at p (maybe none); bytes used, 0 for none, SIZE_MAX outside
 * the subset (lazy, possessive, a '{' PCRE2 would read as a literal). */
static size_t quantifier(const char *p, const char *e, uint32_t *min, uint32_t *max)
{
    size_t used = 0;
    *min = *max = 1;
    if (p >= e) {
        return 0;
    }
    if (*p == '*' || *p == '+' || *p == '?') {
        *min = *p == '+' ? 1 : 0;
        *max = *p == '?' ? 1 : UNBOUNDED;
        used = 1;
    } else if (*p == '{') {
        const char *q = p + 1;
        uint32_t a = 0, b;
        if (q >= e || (unsigned)(*q - '0') > 9) {
            return SIZE_MAX;
        }
        while (q < e && (unsigned)(*q - '0') <= 9) {
            a = a * 10 + (uint32_t)(*q++ - '0');
            if (a > MAX_REP) {
                return SIZE_MAX;
            }
        }
        b = a;
        if (q < e && *q == ',') {
            q++;
            if (q < e && *q == '}') {
                b = UNBOUNDED;
            } else {
                if (q >= e || (unsigned)(*q - '0') > 9) {
                    return SIZE_MAX;
                }
                b = 0;
                while (q < e && (unsigned)(*q - '0') <= 9) {
                    b = b * 10 + (uint32_t)(*q++ - '0');
                    if (b > MAX_REP) {
                        return SIZE_MAX;
                    }
                }
                if (b < a) {
                    return SIZE_MAX;
                }
            }
        }
        if (q >= e || *q != '}') {
            return SIZE_MAX;
        }
        *min = a;
        *max = b;
        used = (size_t)(q + 1 - p);
    } else {
        return 0;
    }
    if (p + used < e && (p[used] == '?' || p[used] == '+')) {
        return SIZE_MAX;
    }
    return used;
}

/* Parse a sequence of items up to ')' (in a group) or the end; bytes used or 0. */
static size_t sequence(const char *p, const char *e, bool in_group, struct item *it,
                       size_t *n, bool *dollar)
{
    const char *q = p;
    *dollar = false;
    while (q < e) {
        unsigned ch = (unsigned char)*q;
        struct item a = {{{0, 0}, false}, 1, 1};
        if (ch == ')') {
            return in_group ? (size_t)(q - p) : 0;
        }
        if (ch == '$') {
            if (in_group || q + 1 != e) {
                return 0;
            }
            *dollar = true;
            return (size_t)(q + 1 - p);
        }
        if (ch == '(') {
            /* a group of fixed items, repeated a fixed number of times */
            const char *g = q + 1;
            if (e - g >= 2 && g[0] == '?' && g[1] == ':') {
                g += 2;
            } else if (g < e && *g == '?') {
                return 0;
            }
            size_t start = *n;
            bool d;
            size_t k = sequence(g, e, true, it, n, &d);
            if ((k == 0 && (g >= e || *g != ')')) || g + k >= e || g[k] != ')') {
                return 0;
            }
            for (size_t i = start; i < *n; i++) {
                if (it[i].min != it[i].max) {
                    return 0;
                }
            }
            q = g + k + 1;
            uint32_t rmin, rmax;
            size_t qu = quantifier(q, e, &rmin, &rmax);
            if (qu == SIZE_MAX || rmin != rmax) {
                return 0;
            }
            q += qu;
            size_t len = *n - start;
            if (rmin == 0) {
                *n = start;
            }
            for (uint32_t r = 1; r < rmin; r++) {
                if (*n + len > MAX_ITEMS) {
                    return 0;
                }
                memmove(&it[*n], &it[start], len * sizeof(*it));
                *n += len;
            }
            continue;
        }
        if (ch == '[') {
            size_t k = bracket(q, e, &a.c);
            if (k == 0) {
                return 0;
            }
            q += k;
        } else if (ch == '\\') {
            int lit;
            size_t k = escape(q, e, &a.c, &lit);
            if (k == 0) {
                return 0;
            }
            if (lit >= 0) {
                set_bit(&a.c, (unsigned)lit);
            }
            q += k;
        } else if (ch == '.') {
            a.c.w[0] = ~(1ULL << '\n');
            a.c.high = true;
            a.c.w[1] = ~0ULL;
            q++;
        } else if (ch < 0x20 || ch >= 0x7f || strchr("^|*+?{}]", (int)ch) != NULL) {
            return 0;
        } else {
            set_bit(&a.c, ch);
            q++;
        }
        size_t qu = quantifier(q, e, &a.min, &a.max);
        if (qu == SIZE_MAX || *n == MAX_ITEMS) {
            return 0;
        }
        q += qu;
        it[(*n)++] = a;
    }
    return in_group ? 0 : (size_t)(q - p);
}

static int class_index(struct sl_spat *sp, const struct cls *c)
{
    for (uint32_t i = 0; i < sp->n_cls; i++) {
        if (sp->cls[i].w[0] == c->w[0] && sp->cls[i].w[1] == c->w[1] &&
            sp->cls[i].high == c->high) {
            return (int)i;
        }
    }
    if (sp->n_cls == MAX_CLS) {
        return -1;
    }
    sp->cls[sp->n_cls] = *c;
    return (int)sp->n_cls++;
}

/* The ranges of class c; false when it has more than MAX_RANGES. */
static bool to_ranges(const struct cls *c, struct ranges *r)
{
    r->n = 0;
    for (unsigned b = 0; b < 128;) {
        if (!(c->w[b >> 6] >> (b & 63) & 1)) {
            b++;
            continue;
        }
        unsigned lo = b;
        while (b < 128 && (c->w[b >> 6] >> (b & 63) & 1)) {
            b++;
        }
        if (r->n == MAX_RANGES) {
            return false;
        }
        r->lo[r->n] = (uint8_t)lo;
        r->span[r->n] = (uint8_t)(b - 1 - lo);
        r->n++;
    }
    return true;
}

/* Chunks for a pattern of only fixed positions, 16 or more of them (an
 * unsuitable pattern keeps none: 0). 0 or -SL_ENOMEM. */
static int plan_chunks(struct sl_spat *sp)
{
    uint32_t np = sp->n_pre;
    if (sp->has_var || sp->n_suf != 0 || np < 16) {
        return SL_OK;
    }
    uint32_t nc = (np + 15) / 16;
    struct chunk *ch = sl__calloc(nc, sizeof(*ch));
    if (ch == NULL) {
        return -SL_ENOMEM;
    }
    for (uint32_t k = 0; k < nc; k++) {
        struct chunk *c = &ch[k];
        c->off = k + 1 < nc ? 16 * k : np - 16;
        for (unsigned j = 0; j < 16; j++) {
            uint8_t cl = sp->pos[c->off + j];
            unsigned e = 0;
            while (e < c->n && c->cls[e] != cl) {
                e++;
            }
            if (e == c->n) {
                c->cls[c->n] = cl;
                if (!to_ranges(&sp->cls[cl], &c->r[c->n])) {
                    sl__free(ch);
                    return SL_OK; /* byte by byte, then */
                }
                c->n++;
            }
            c->mask[e] |= (uint16_t)(1u << j);
        }
    }
    sp->chunks = ch;
    sp->n_chunks = nc;
    return SL_OK;
}

#ifdef SL_SPAT_Z
/* The zplan of a pattern it suits (else sp->z stays NULL). 0 or -SL_ENOMEM. */
static int plan_z(struct sl_spat *sp)
{
    if (sp->n_pre + sp->n_suf > 64 || sp->n_cls + sp->has_var > 8) {
        return SL_OK;
    }
    struct zplan *z = sl__calloc(1, sizeof(*z));
    if (z == NULL) {
        return -SL_ENOMEM;
    }
    for (unsigned b = 0; b < 128; b++) {
        for (uint32_t k = 0; k < sp->n_cls; k++) {
            z->tab[b] |= (uint8_t)((sp->cls[k].w[b >> 6] >> (b & 63) & 1) << k);
        }
        if (sp->has_var) {
            z->tab[b] |= (uint8_t)((sp->var.w[b >> 6] >> (b & 63) & 1) << sp->n_cls);
        }
    }
    for (uint32_t i = 0; i < sp->n_pre + sp->n_suf; i++) {
        uint8_t bit = (uint8_t)(1u << sp->pos[i]);
        if (i < sp->n_pre) {
            z->pre[i] = bit;
        } else {
            z->suf[i - sp->n_pre] = bit;
        }
    }
    z->var_bit = sp->has_var ? (uint8_t)(1u << sp->n_cls) : 0;
    sp->z = z;
    return SL_OK;
}
#else
static int plan_z(struct sl_spat *sp)
{
    (void)sp;
    return SL_OK; /* no match_z to use it */
}
#endif

#ifdef SL_SPAT_Z
#define SL_TZ __attribute__((target("avx512f,avx512bw,avx512vbmi")))
/* The n <= 64 byte text at u, of nv bytes in the variable item, against sp->z:
 * 1, 0, or -1 for a byte >= 0x80 (the caller decides). Bytes past the text are
 * read only within u's page, and never looked at. No loop: the bytes' class
 * bits by one table permute, the wanted bits by two blends. */
SL_TZ __attribute__((no_sanitize("address"))) static int
match_z(const struct sl_spat *sp, const unsigned char *u, size_t n, size_t nv)
{
    static const uint8_t iota[64] = {
        0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
        32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
        48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
    const struct zplan *z = sp->z;
    const uint64_t all = n >= 64 ? ~0ULL : (1ULL << n) - 1;
    /* a plain load where the 64 bytes stay in u's page (so cannot fault; the
     * bytes past the text are masked off): a text just stored, unescaped, comes
     * from the store at once, which a masked load would wait for */
    __m512i x;
    if (n != 0 && ((uintptr_t)u & 4095) <= 4096 - 64) { /* (an empty text's u: anywhere) */
        x = _mm512_loadu_si512((const void *)u);
        __asm__("" : "+v"(x)); /* kept a plain load, not folded into a masked one */
        x = _mm512_maskz_mov_epi8(all, x);
    } else {
        x = _mm512_maskz_loadu_epi8(all, u);
    }
    if (_mm512_movepi8_mask(x) != 0) {
        return -1;
    }
    /* each byte's class bits: tab[x] (x < 128) */
    const __m512i cls = _mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)z->tab), x,
                                                 _mm512_loadu_si512((const void *)(z->tab + 64)));
    /* each position's wanted bit */
    const size_t sh = sp->n_pre + nv; /* the suffix's first position, <= 64 */
    const uint64_t vmask = nv == 0 ? 0 : (nv >= 64 ? ~0ULL : (1ULL << nv) - 1) << sp->n_pre;
    __m512i want = _mm512_loadu_si512((const void *)z->pre);
    want = _mm512_mask_mov_epi8(want, vmask, _mm512_set1_epi8((char)z->var_bit));
    if (sp->n_suf != 0) {
        const uint64_t smask = (sp->n_suf >= 64 ? ~0ULL : (1ULL << sp->n_suf) - 1) << sh;
        const __m512i idx = _mm512_sub_epi8(_mm512_loadu_si512((const void *)iota),
                                            _mm512_set1_epi8((char)sh));
        want = _mm512_mask_permutexvar_epi8(want, smask, idx,
                                            _mm512_loadu_si512((const void *)z->suf));
    }
    return (_mm512_test_epi8_mask(cls, want) & all) == all;
}

/* Whether match_z runs: -1 not chosen yet, 0 no, 1 yes. Set once (racing first
 * calls all store the same value). */
static int zisa = -1;
#endif

int sl__spat_isa(int want)
{
    int have = 0;
#ifdef SL_SPAT_Z
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
    SL_ONCE_STORE(zisa, sl_isa_pick(want, have));
    return SL_ONCE_LOAD(zisa);
#else
    (void)want;
    return have;
#endif
}

#ifdef __SSE2__
/* Every byte of the n >= 16 byte text at u in its position's class: 1, 0, or -1
 * for a byte >= 0x80 (PCRE2 decides). */
static int match_chunks(const struct sl_spat *sp, const unsigned char *u)
{
    for (uint32_t k = 0; k < sp->n_chunks; k++) {
        const struct chunk *c = &sp->chunks[k];
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + c->off));
        if (_mm_movemask_epi8(x) != 0) {
            return -1;
        }
        unsigned ok = 0;
        for (unsigned e = 0; e < c->n; e++) {
            const struct ranges *r = &c->r[e];
            __m128i in = _mm_setzero_si128();
            for (unsigned q = 0; q < r->n; q++) {
                __m128i t = _mm_sub_epi8(x, _mm_set1_epi8((char)r->lo[q]));
                in = _mm_or_si128(in, _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((char)r->span[q])), t));
            }
            ok |= (unsigned)_mm_movemask_epi8(in) & c->mask[e];
        }
        if (ok != 0xFFFF) {
            return 0;
        }
    }
    return 1;
}
#endif

int sl__spat_compile(const char *pat, size_t len, struct sl_spat **out)
{
    *out = NULL;
    struct item *it = sl__malloc(MAX_ITEMS * sizeof(*it));
    struct sl_spat *sp = sl__calloc(1, sizeof(*sp));
    if (sp != NULL) {
        sp->cls = sl__malloc(MAX_CLS * sizeof(*sp->cls));
        sp->pos = sl__malloc(MAX_POS);
    }
    if (it == NULL || sp == NULL || sp->cls == NULL || sp->pos == NULL) {
        sl__free(it);
        sl__spat_free(sp);
        return -SL_ENOMEM;
    }
    const char *p = pat, *e = pat + len;
    bool caret = p < e && *p == '^', dollar = false;
    size_t n = 0;
    size_t used = sequence(p + caret, e, false, it, &n, &dollar);
    bool ok = used == len - caret;
    /* at most one variable item: a repeat with min != max, or an unanchored
     * end or start, which takes anything */
    size_t var = SIZE_MAX, n_var = !caret + !dollar;
    for (size_t i = 0; ok && i < n; i++) {
        if (it[i].min != it[i].max) {
            var = i;
            n_var++;
        }
    }
    ok = ok && n_var <= 1;
    /* items before split are prefix positions, the rest suffix positions */
    size_t split = n;
    if (ok && n_var == 1) {
        sp->has_var = true;
        if (var != SIZE_MAX) {
            split = var;
            sp->var = it[var].c;
            sp->vmin = it[var].min;
            sp->vmax = it[var].max;
        } else {
            split = caret ? n : 0;
            sp->var.w[0] = sp->var.w[1] = ~0ULL;
            sp->var.high = true;
            sp->vmin = 0;
            sp->vmax = UNBOUNDED;
        }
        sp->var_any = sp->var.w[0] == ~0ULL && sp->var.w[1] == ~0ULL;
        sp->var_high = sp->var.high;
        unsigned n_out = 0;
        for (unsigned b = 0; b < 128; b++) {
            if (!(sp->var.w[b >> 6] >> (b & 63) & 1)) {
                if (n_out < sizeof(sp->out)) {
                    sp->out[n_out] = (uint8_t)b;
                }
                n_out++;
            }
        }
        sp->n_out = n_out <= sizeof(sp->out) ? (uint8_t)n_out : UINT8_MAX;
    }
    for (size_t i = 0; ok && i < n; i++) {
        if (i == var) {
            continue;
        }
        int ci = class_index(sp, &it[i].c);
        if (ci < 0 || sp->n_pre + sp->n_suf + it[i].min > MAX_POS) {
            ok = false;
            break;
        }
        for (uint32_t r = 0; r < it[i].min; r++) {
            sp->pos[sp->n_pre + sp->n_suf] = (uint8_t)ci;
            if (i < split) {
                sp->n_pre++;
            } else {
                sp->n_suf++;
            }
        }
    }
    sl__free(it);
    if (!ok) {
        sl__spat_free(sp);
        return SL_OK;
    }
    sp->mem = sl__malloc((size_t)(sp->n_cls ? sp->n_cls : 1) * 128);
    if (sp->mem == NULL) {
        sl__spat_free(sp);
        return -SL_ENOMEM;
    }
    for (unsigned b = 0; b < 128; b++) {
        for (uint32_t k = 0; k < sp->n_cls; k++) {
            sp->mem[k * 128 + b] = (uint8_t)(sp->cls[k].w[b >> 6] >> (b & 63) & 1);
        }
        sp->vmem[b] = (uint8_t)(sp->var.w[b >> 6] >> (b & 63) & 1);
        sp->vmem[b + 128] = sp->var_high;
    }
    if (plan_chunks(sp) != SL_OK || plan_z(sp) != SL_OK) {
        sl__spat_free(sp);
        return -SL_ENOMEM;
    }
    *out = sp;
    return SL_OK;
}

void sl__spat_free(struct sl_spat *sp)
{
    if (sp == NULL) {
        return;
    }
    sl__free(sp->pos);
    sl__free(sp->cls);
    sl__free(sp->mem);
    sl__free(sp->chunks);
    sl__free(sp->z);
    sl__free(sp);
}

int sl__spat_match(const struct sl_spat *sp, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    /* one byte, one character: only ASCII text is decided here, and non-ASCII
     * characters the variable item takes (else PCRE2 decides). A match needs
     * every byte looked at; the rare "no" first makes sure the text is ASCII. */
    size_t fixed = (size_t)sp->n_pre + sp->n_suf;
    if (n < fixed) {
        goto no;
    }
    size_t nv = n - fixed;
    if (sp->has_var ? (nv < sp->vmin || (sp->vmax != UNBOUNDED && nv > sp->vmax)) : nv != 0) {
        goto no;
    }
#ifdef SL_SPAT_Z
    if (SL_ONCE_LOAD(zisa) < 0) {
        sl__spat_isa(-1);
    }
    if (SL_ONCE_LOAD(zisa) == 1 && sp->z != NULL && n <= 64) {
        int m = match_z(sp, u, n, nv);
        if (m >= 0) {
            return m;
        }
        /* non-ASCII: as below */
    }
#endif
#ifdef __SSE2__
    if (sp->chunks != NULL) {
        int m = match_chunks(sp, u); /* nv == 0 here: n == n_pre >= 16 */
        if (m != 0) {
            return m;
        }
        goto no;
    }
#endif
    unsigned miss = 0, hi = 0, vhi = 0; /* vhi: a byte >= 0x80 in the variable part */
    size_t i;
    for (i = 0; i < sp->n_pre; i++) {
        unsigned b = u[i];
        hi |= b;
        miss |= sp->mem[sp->pos[i] * 128u + (b & 127)] ^ 1u;
    }
    if (sp->var_any) {
        if (nv > 0 && !sl__all_ascii(s + i, nv)) {
            if (!sp->var_high) {
                return -1;
            }
            vhi = 0x80;
        }
    } else {
        size_t stop = sp->n_pre + nv;
#ifdef __SSE2__
        if (sp->n_out <= sizeof(sp->out)) {
            /* a class of all but one or two bytes: look for those */
            const __m128i o0 = _mm_set1_epi8((char)sp->out[0]);
            const __m128i o1 = _mm_set1_epi8((char)sp->out[sp->n_out > 1]);
            for (size_t j = i; stop - i >= 16; j += 16) {
                /* the last step overlaps the one before */
                j = j + 16 > stop ? stop - 16 : j;
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + j));
                if (_mm_movemask_epi8(x) != 0) {
                    if (!sp->var_high) {
                        return -1;
                    }
                    vhi = 0x80;
                }
                if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, o0),
                                                   _mm_cmpeq_epi8(x, o1))) != 0) {
                    goto no; /* an excluded byte at a var position */
                }
                if (j + 16 == stop) {
                    i = stop;
                    break;
                }
            }
        }
#endif
        for (; i < stop; i++) {
            unsigned b = u[i];
            vhi |= b;
            miss |= sp->vmem[b] ^ 1u;
        }
    }
    const uint8_t *suf = sp->pos + sp->n_pre;
    const unsigned char *t = u + sp->n_pre + nv;
    for (size_t k = 0; k < sp->n_suf; k++) {
        unsigned b = t[k];
        hi |= b;
        miss |= sp->mem[suf[k] * 128u + (b & 127)] ^ 1u;
    }
    if (hi & 0x80) {
        return -1;
    }
    if (miss != 0) {
        goto no;
    }
    if (vhi & 0x80) {
        /* the variable item's bounds in characters (its bytes are valid UTF-8,
         * else PCRE2 decides) */
        int64_t chars = sl__utf8_count(s + sp->n_pre, nv);
        if (chars < 0) {
            return -1;
        }
        return (uint64_t)chars >= sp->vmin &&
               (sp->vmax == UNBOUNDED || (uint64_t)chars <= sp->vmax);
    }
    return 1;
no:
    return sl__all_ascii(s, n) ? 0 : -1;
}
