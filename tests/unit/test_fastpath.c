/* test_fastpath.c - differential tests: each fast path against the general code
 * it shortcuts, over seeded random inputs (xorshift64 with fixed seeds, so a
 * failure reproduces), plus a few hand cases.
 *
 *  1. The CSV record index (csvindex.c: sl_csv_index, sl_csv_index_next) vs the
 *     general reader (sl_csv_next). Walking a buffer with "index when possible,
 *     else one record from sl_csv_next" must give exactly the records that
 *     sl_csv_next alone gives: status, bytes used, line breaks, field count,
 *     each field's bytes and quoted flag, the bad reason. Inputs are random
 *     bytes from an alphabet of the special bytes, and random well-formed
 *     records (some mutated, some clean and past the 16 KB index window),
 *     under the default options, no quoting, tab and ';' delimiters,
 *     ISO-8859-1, quoted newlines, a letter as delimiter and quote (the index
 *     pads its last block with a letter) and a combination. Also: the index
 *     never covers more than its window, and what it takes in hand cases.
 *  2. sl__coerce_timestamp (with its fixed-position fast path) vs
 *     sl__coerce_timestamp_general: the same return code, the same microseconds
 *     when SL_OK, the output untouched otherwise, for strings from timestamp
 *     templates with random (often out-of-range) parts and single-byte
 *     mutations of them. Plus hand cases with known epoch microseconds.
 *  3. The validator's row fast path (fastrow.c) vs the general path
 *     (sl_vopts.general_only): random CSV files (valid rows, and rows with one
 *     or two defects: bad enum, VIN, number, range, length, UTF-8, timestamp,
 *     missing/extra columns, CSV junk, ...) must give the same valid rows with
 *     the same values (via the row sink), the same rejects (line, record,
 *     offset, field, reason, value bytes) and the same counts. Tables: the
 *     equipment_flat sample, and an inline one with every column type and
 *     rule shape the fast path handles. Variants: header in table order or
 *     shuffled, jagged/unknown columns allowed, null markers, small
 *     max_row_size/max_value_size, skip_leading_rows, max_bad, other delimiter
 *     and quote, ISO-8859-1, quoted newlines; the fast path is also run without
 *     a row sink (the mapped loop) and on the parallel path (a file > 1 MB).
 *
 * A CSV mismatch is shrunk (chunks and bytes dropped while it still fails) and
 * printed escaped with both renderings. Inputs are exact-size heap copies (plain
 * malloc) so ASan catches a read past their end. The iteration counts drop
 * tenfold under valgrind or when SL_TEST_QUICK is set. */
#include "core/common.h"

#include "../support/testutil.h"
#include "parse/csv.h"
#include "parse/csv_int.h"
#include "validate/coerce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef ON_VALGRIND
#define ON_VALGRIND() 0
#endif

/* Iteration divisor: 10 for slow runs (valgrind, SL_TEST_QUICK), else 1. */
static unsigned slow_div(void)
{
    return getenv("SL_TEST_QUICK") != NULL || ON_VALGRIND() ? 10 : 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- random numbers: xorshift64 ------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Uniform enough in [0, n); 0 when n == 0. */
static size_t rn(size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd() % n);
}

static bool chance(unsigned pct)
{
    return rn(100) < pct;
}

/* ---- a growable byte string ---------------------------------------------- */

struct sb {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sb *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        b->s = realloc(b->s, cap);
        assert_non_null(b->s);
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->s + b->len, p, n);
    }
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_addc(struct sb *b, char c)
{
    sb_add(b, &c, 1);
}

static void sb_adds(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

SL_PRINTF(2, 3) static void sb_addf(struct sb *b, const char *fmt, ...)
{
    char t[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof(t), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(t));
    sb_add(b, t, (size_t)n);
}

/* Bytes made printable: \n \r \t \0 \\ and \xHH for other control and high bytes. */
static void sb_esc(struct sb *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t run = 0; /* printable bytes go in one copy */
        while (i + run < n && (unsigned char)p[i + run] >= 0x20 &&
               (unsigned char)p[i + run] < 0x7f && p[i + run] != '\\') {
            run++;
        }
        if (run > 0) {
            sb_add(b, p + i, run);
            i += run - 1;
            continue;
        }
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\n':
            sb_adds(b, "\\n");
            break;
        case '\r':
            sb_adds(b, "\\r");
            break;
        case '\t':
            sb_adds(b, "\\t");
            break;
        case '\0':
            sb_adds(b, "\\0");
            break;
        case '\\':
            sb_adds(b, "\\\\");
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                sb_addf(b, "\\x%02x", c);
            } else {
                sb_addc(b, (char)c);
            }
        }
    }
}

static void sb_reset(struct sb *b)
{
    b->len = 0;
    if (b->s != NULL) {
        b->s[0] = '\0';
    }
}

static void sb_free(struct sb *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

static char *dup_exact(const char *s, size_t n)
{
    char *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n > 0) {
        memcpy(d, s, n);
    }
    return d;
}

/* The first line (records are rendered one per line) where a and b differ. */
static size_t first_diff_line(const struct sb *a, const struct sb *b, size_t *out_off_a,
                              size_t *out_off_b)
{
    size_t i = 0, line = 0, la = 0;
    while (i < a->len && i < b->len && a->s[i] == b->s[i]) {
        if (a->s[i] == '\n') {
            line++;
            la = i + 1;
        }
        i++;
    }
    *out_off_a = la;
    *out_off_b = la;
    return line;
}

static void print_line(const char *tag, const struct sb *b, size_t off)
{
    const char *e = off < b->len ? memchr(b->s + off, '\n', b->len - off) : NULL;
    size_t n = off < b->len ? (e != NULL ? (size_t)(e - (b->s + off)) : b->len - off) : 0;
    fprintf(stderr, "  %s: %.*s%s\n", tag, (int)(n > 1500 ? 1500 : n), b->s + off,
            n > 1500 ? " (cut)" : "");
}

/* ==== 1. the CSV record index vs sl_csv_next ============================== */

struct copt {
    const char *name;
    struct sl_csv_opts o;
};

static size_t n_ix_records, n_next_records; /* records from each in the mixed walk */
static size_t n_full_windows;               /* indexes that ran into the window */

static bool g_readable; /* render_rec escapes field bytes (to print a mismatch) */

static void sb_num(struct sb *b, uint64_t v)
{
    char t[24];
    size_t k = sizeof(t);
    do {
        t[--k] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    sb_add(b, t + k, sizeof(t) - k);
}

/* One record per line: R or B:reason@field, then /used/lines #fields, then each
 * field as [unquoted] or {quoted}: its length and raw bytes, or (g_readable)
 * its bytes escaped. */
static void render_rec(struct sb *out, const struct sl_csv *c, int st, size_t used, uint64_t lines)
{
    if (st == SL_CSV_BAD) {
        sb_adds(out, "B:");
        sb_adds(out, c->bad_reason ? c->bad_reason : "(none)");
        sb_addc(out, '@');
        sb_num(out, c->bad_field_idx);
    } else {
        sb_adds(out, c->bad_reason == NULL ? "R" : "R!reason");
    }
    sb_addc(out, '/');
    sb_num(out, used);
    sb_addc(out, '/');
    sb_num(out, lines);
    sb_adds(out, " #");
    sb_num(out, c->n_fields);
    sb_addc(out, ' ');
    for (size_t i = 0; i < c->n_fields; i++) {
        const struct sl_csv_field *f = &c->fields[i];
        sb_addc(out, f->quoted ? '{' : '[');
        if (f->p == NULL && f->len > 0) {
            sb_adds(out, "!NULL");
        } else if (g_readable) {
            sb_esc(out, f->p, f->len);
        } else {
            /* raw bytes after their length: exact, and cheaper than escaping */
            sb_num(out, f->len);
            sb_addc(out, ':');
            sb_add(out, f->p, f->len);
        }
        sb_addc(out, f->quoted ? '}' : ']');
    }
    sb_addc(out, '\n');
}

/* sl_csv_next for one record at buf[pos..len), eof. False when the walk ends
 * (END, or a protocol violation rendered as a "!" line). */
static bool next_one(struct sl_csv *c, const char *buf, size_t len, size_t *pos, struct sb *out)
{
    size_t used = 0;
    uint64_t lines = 0;
    int st = sl_csv_next(c, buf + *pos, len - *pos, true, &used, &lines);
    if (st == SL_CSV_END && *pos == len && used == 0) {
        sb_addf(out, "E@%zu\n", *pos);
        return false;
    }
    if ((st != SL_CSV_RECORD && st != SL_CSV_BAD) || used == 0 || used > len - *pos) {
        sb_addf(out, "!next st=%d used=%zu at %zu\n", st, used, *pos);
        return false;
    }
    render_rec(out, c, st, used, lines);
    *pos += used;
    return true;
}

static void walk_general(const struct sl_csv_opts *o, const char *buf, size_t len, struct sb *out)
{
    struct sl_csv c;
    assert_int_equal(sl_csv_init(&c, o), SL_OK);
    size_t pos = 0;
    while (next_one(&c, buf, len, &pos, out)) {
    }
    sl_csv_release(&c);
}

/* Index at each position where no index is active; take its records, else one
 * from sl_csv_next, then index again. */
static void walk_mixed(const struct sl_csv_opts *o, const char *buf, size_t len, struct sb *out)
{
    struct sl_csv c;
    assert_int_equal(sl_csv_init(&c, o), SL_OK);
    size_t pos = 0, base = 0, ix_end = 0;
    bool ix = false;
    for (;;) {
        if (!ix && pos < len) {
            size_t b = sl_csv_index(&c, buf + pos, len - pos);
            if (b > len - pos || b > SL_CSV_INDEX_WINDOW || (b > 0 && buf[pos + b - 1] != '\n')) {
                sb_addf(out, "!index %zu at %zu\n", b, pos);
                break;
            }
            n_full_windows += b > SL_CSV_INDEX_WINDOW - 1024;
            if (b > 0) {
                ix = true;
                base = pos;
                ix_end = pos + b;
            }
        }
        if (ix) {
            size_t used = 0;
            int st = sl_csv_index_next(&c, buf + base, &used);
            if (st == SL_CSV_END) {
                if (pos != ix_end) {
                    sb_addf(out, "!index ended at %zu, not %zu\n", pos, ix_end);
                    break;
                }
                ix = false;
                continue;
            }
            if (st != SL_CSV_RECORD || used == 0 || used > ix_end - pos) {
                sb_addf(out, "!index_next st=%d used=%zu at %zu\n", st, used, pos);
                break;
            }
            render_rec(out, &c, st, used, 1);
            n_ix_records++;
            pos += used;
            continue;
        }
        if (!next_one(&c, buf, len, &pos, out)) {
            break;
        }
        n_next_records++;
    }
    sl_csv_release(&c);
}

/* Both walks over an exact-size copy; true when they agree. */
static bool csv_agree(const struct sl_csv_opts *o, const char *in, size_t len, struct sb *ga,
                      struct sb *mb)
{
    char *buf = dup_exact(in, len);
    sb_reset(ga);
    sb_reset(mb);
    walk_general(o, buf, len, ga);
    walk_mixed(o, buf, len, mb);
    free(buf);
    return ga->len == mb->len && memcmp(ga->s, mb->s, ga->len) == 0;
}

/* Drop chunks, then single bytes, then simplify bytes to 'a', while the walks
 * still disagree; in->s/len become the smaller input. */
static void csv_shrink(const struct sl_csv_opts *o, struct sb *in)
{
    struct sb ga = {0}, mb = {0}, t = {0};
    size_t budget = 20000;
    for (size_t chunk = in->len / 2; chunk >= 1 && budget > 0; chunk /= 2) {
        for (size_t at = 0; at + chunk <= in->len && budget > 0;) {
            sb_reset(&t);
            sb_add(&t, in->s, at);
            sb_add(&t, in->s + at + chunk, in->len - at - chunk);
            budget--;
            if (!csv_agree(o, t.s, t.len, &ga, &mb)) {
                sb_reset(in);
                sb_add(in, t.s, t.len);
            } else {
                at += chunk;
            }
        }
    }
    for (size_t i = 0; i < in->len && budget > 0; i++) {
        char keep = in->s[i];
        if (keep == 'a') {
            continue;
        }
        in->s[i] = 'a';
        budget--;
        if (csv_agree(o, in->s, in->len, &ga, &mb)) {
            in->s[i] = keep;
        }
    }
    sb_free(&ga);
    sb_free(&mb);
    sb_free(&t);
}

static size_t n_csv_fail;

static void csv_check(const struct copt *co, const char *in, size_t len, const char *kind)
{
    struct sb ga = {0}, mb = {0};
    if (!csv_agree(&co->o, in, len, &ga, &mb)) {
        n_csv_fail++;
        if (n_csv_fail <= 3) {
            struct sb small = {0}, esc = {0};
            sb_add(&small, in, len);
            csv_shrink(&co->o, &small);
            g_readable = true;
            csv_agree(&co->o, small.s, small.len, &ga, &mb);
            g_readable = false;
            sb_esc(&esc, small.s, small.len);
            int shown = (int)(esc.len > 1500 ? 1500 : esc.len);
            fprintf(stderr,
                    "CSV index mismatch [%s, %s input of %zu bytes], shrunk to %zu bytes:\n"
                    "  input: \"%.*s\"%s\n",
                    co->name, kind, len, small.len, shown, esc.s,
                    (size_t)shown < esc.len ? " (cut)" : "");
            size_t oa, ob;
            size_t line = first_diff_line(&ga, &mb, &oa, &ob);
            fprintf(stderr, "  first difference at record %zu:\n", line + 1);
            print_line("sl_csv_next only ", &ga, oa);
            print_line("index + csv_next ", &mb, ob);
            sb_free(&small);
            sb_free(&esc);
        }
    }
    sb_free(&ga);
    sb_free(&mb);
}

/* Random bytes, heavy in the special ones. */
static void gen_soup(struct sb *b, const struct sl_csv_opts *o)
{
    static const struct {
        char c;
        unsigned w;
    } alpha[] = {
        {'a', 20},   {'b', 10},   {',', 12},   {'"', 14}, {'\n', 10}, {'\r', 5}, {'\0', 1},
        {'\xc3', 3}, {'\xa9', 3}, {'\xff', 2}, {' ', 5},  {'\t', 4},  {';', 4},  {'\'', 2},
    };
    unsigned total = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(alpha); i++) {
        total += alpha[i].w;
    }
    size_t len = chance(50) ? rn(65) : rn(3001);
    for (size_t k = 0; k < len; k++) {
        unsigned r = (unsigned)rn(total);
        size_t i = 0;
        while (r >= alpha[i].w) {
            r -= alpha[i].w;
            i++;
        }
        char c = alpha[i].c;
        if (c == ',' && chance(70)) {
            c = o->delim; /* the delimiter in use, mostly */
        }
        sb_addc(b, c);
    }
}

static bool g_clean; /* gen_records writes only what the index takes */

static void gen_plain(struct sb *b, size_t n, const struct sl_csv_opts *o)
{
    static const char set[] = "abcxyzABC0123456789 -._:/";
    const bool high = !g_clean || !o->latin1;
    for (size_t i = 0; i < n; i++) {
        if (high && chance(4)) {
            sb_adds(b, "\xc3\xa9"); /* é */
        } else if (high && chance(1)) {
            sb_addc(b, '\xff');
        } else {
            char c = set[rn(sizeof(set) - 1)];
            if (c == o->delim || c == o->quote) {
                c = 'q';
            }
            sb_addc(b, c);
        }
    }
}

/* Well-formed records (1..40 fields; unquoted, quoted with escapes, empty;
 * LF or CRLF, a few blank lines and lone CRs), up to about target bytes, then
 * with some chance a few random byte mutations. With clean: none of what stops
 * the index (lone CRs, quoted newlines, mutations; high bytes in ISO-8859-1),
 * so that it runs up to its window. */
static void gen_records(struct sb *b, const struct sl_csv_opts *o, size_t target, bool clean)
{
    g_clean = clean;
    const char q = o->quote == -1 ? '"' : (char)o->quote;
    size_t width = 1 + rn(clean && chance(50) ? 6 : 40);
    while (b->len < target) {
        if (chance(3)) {
            sb_adds(b, chance(50) ? "\n" : "\r\n"); /* a blank line */
            continue;
        }
        size_t nf = chance(80) ? width : 1 + rn(40);
        for (size_t i = 0; i < nf; i++) {
            if (i > 0) {
                sb_addc(b, o->delim);
            }
            switch (rn(10)) {
            case 0:
                break; /* empty */
            case 1:
            case 2:
            case 3:
            case 4:
                gen_plain(b, 1 + rn(12), o);
                break;
            case 5:
            case 6:
            case 7: {
                sb_addc(b, q);
                size_t n = rn(16);
                for (size_t k = 0; k < n; k++) {
                    unsigned r = (unsigned)rn(20);
                    if (r == 0) {
                        sb_addc(b, q);
                        sb_addc(b, q);
                    } else if (r == 1) {
                        sb_addc(b, o->delim);
                    } else if (r == 2 && o->allow_quoted_newlines && !clean && chance(30)) {
                        sb_adds(b, chance(50) ? "\n" : "\r\n");
                    } else {
                        gen_plain(b, 1, o);
                    }
                }
                sb_addc(b, q);
                break;
            }
            case 8:
                if (chance(50)) {
                    gen_plain(b, 50 + rn(150), o); /* across 64-byte blocks */
                    break;
                }
                /* a long quoted field with escapes, across blocks */
                sb_addc(b, q);
                for (size_t k = 60 + rn(200); k > 0; k--) {
                    if (chance(8)) {
                        sb_addc(b, q);
                        sb_addc(b, q);
                    } else if (chance(5)) {
                        sb_addc(b, o->delim);
                    } else {
                        gen_plain(b, 1, o);
                    }
                }
                sb_addc(b, q);
                break;
            default:
                sb_addc(b, q);
                sb_addc(b, q);
                break;
            }
        }
        unsigned t = (unsigned)rn(100);
        sb_adds(b, t < 60 ? "\n" : t < 97 || clean ? "\r\n" : "\r");
    }
    g_clean = false;
    if (clean) {
        return;
    }
    if (chance(20) && b->len > 0) {
        b->len -= 1 + rn(b->len < 3 ? b->len : 3); /* no final terminator, or cut short */
    }
    if (chance(30)) {
        static const char mut[] = "ab,\"\n\r\0\xc3\xa9\xff \t;";
        size_t n = 1 + rn(3);
        for (size_t k = 0; k < n && b->len > 0; k++) {
            size_t at = rn(b->len);
            char c = mut[rn(sizeof(mut) - 1)];
            switch (rn(3)) {
            case 0:
                b->s[at] = c;
                break;
            case 1:
                memmove(b->s + at, b->s + at + 1, b->len - at - 1);
                b->len--;
                break;
            default:
                sb_addc(b, 'x'); /* room */
                memmove(b->s + at + 1, b->s + at, b->len - at - 1);
                b->s[at] = c;
                break;
            }
        }
    }
}

static void csv_options(struct copt *co, size_t *n)
{
    size_t k = 0;
    struct sl_csv_opts d;
    sl_csv_opts_default(&d);
    co[k].name = "default";
    co[k++].o = d;
    co[k].name = "quote=-1";
    co[k].o = d;
    co[k++].o.quote = -1;
    co[k].name = "delim=tab";
    co[k].o = d;
    co[k++].o.delim = '\t';
    co[k].name = "delim=;";
    co[k].o = d;
    co[k++].o.delim = ';';
    co[k].name = "latin1";
    co[k].o = d;
    co[k++].o.latin1 = true;
    co[k].name = "allow_quoted_newlines";
    co[k].o = d;
    co[k++].o.allow_quoted_newlines = true;
    co[k].name = "delim=a quote=b (the index's padding byte)";
    co[k].o = d;
    co[k].o.delim = 'a';
    co[k++].o.quote = 'b';
    co[k].name = "quote=' delim=tab latin1 allow_quoted_newlines";
    co[k].o = d;
    co[k].o.quote = '\'';
    co[k].o.delim = '\t';
    co[k].o.latin1 = true;
    co[k++].o.allow_quoted_newlines = true;
    *n = k;
}

static void csv_index_vs_next(void);

/* The comparison once for each mask builder the CPU can run (SSE2, AVX2). */
static void test_csv_index_vs_next(void **state)
{
    (void)state;
    for (int want = 0; want <= 1; want++) {
        int got = sl__csv_index_isa(want);
        if (got != want) {
            printf("csv index: no AVX2 on this CPU, the AVX2 builder is not tested\n");
            continue;
        }
        printf("csv index with the %s mask builder\n", got ? "AVX2" : "SSE2");
        csv_index_vs_next();
    }
    sl__csv_index_isa(-1);
}

static void csv_index_vs_next(void)
{
    struct copt co[10];
    size_t n_co;
    csv_options(co, &n_co);
    const unsigned div = slow_div();
    const size_t n_soup = 1300 / div, n_rec = 1300 / div, n_big = div > 1 ? 2 : 10;
    size_t cases = 0;
    double t0 = now_s();
    rng = 0x9e3779b97f4a7c15ull;
    n_csv_fail = 0;
    for (size_t k = 0; k < n_co; k++) {
        n_ix_records = n_next_records = n_full_windows = 0;
        struct sb in = {0};
        for (size_t i = 0; i < n_soup; i++, cases++) {
            sb_reset(&in);
            gen_soup(&in, &co[k].o);
            csv_check(&co[k], in.s, in.len, "soup");
        }
        for (size_t i = 0; i < n_rec; i++, cases++) {
            sb_reset(&in);
            gen_records(&in, &co[k].o, rn(3001), false);
            csv_check(&co[k], in.s, in.len, "records");
        }
        for (size_t i = 0; i < n_big; i++, cases++) {
            sb_reset(&in);
            gen_records(&in, &co[k].o, 16000 + rn(28000), i % 3 != 2); /* 1..3 windows */
            csv_check(&co[k], in.s, in.len, "big records");
        }
        sb_free(&in);
        /* the index must have taken a good share, or this compared little */
        if (n_ix_records < n_next_records / 4 || n_ix_records == 0 || n_full_windows == 0) {
            fail_msg("%s: only %zu records from the index, %zu from sl_csv_next, %zu full windows",
                     co[k].name, n_ix_records, n_next_records, n_full_windows);
        }
        printf("csv index [%s]: %zu records from the index (%zu full windows), %zu from "
               "sl_csv_next\n",
               co[k].name, n_ix_records, n_full_windows, n_next_records);
    }
    printf("csv index vs sl_csv_next: %zu inputs, %zu mismatches, %.2f s\n", cases, n_csv_fail,
           now_s() - t0);
    if (n_csv_fail > 0) {
        fail_msg("%zu of %zu inputs: the index disagrees with sl_csv_next (see above)", n_csv_fail,
                 cases);
    }
}

/* A few hand cases of what the index takes (csv.h: simple records only). */
static void test_csv_index_hand(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t want;
        int quote; /* 0 = default */
        bool latin1;
    } cases[] = {
        {"a,b\nc\n", 6, 0, false},
        {"a,b", 0, 0, false},               /* no terminator */
        {"a\"b\n", 0, 0, false},            /* quote inside an unquoted field */
        {"\"a\nb\"\n", 0, 0, false},        /* quoted newline */
        {"x\r\ny\rz\n", 3, 0, false},       /* a lone CR ends the index */
        {"\"a\"\"b\",c\r\n", 10, 0, false}, /* "" escape, CRLF */
        {"\"a\"b,c\n", 0, 0, false},        /* junk after the closing quote */
        {"\xc3\xa9\n\xe9\n", 5, 0, false},  /* UTF-8: high bytes are text */
        {"ok\n\xe9\n", 3, 0, true},         /* ISO-8859-1: high bytes are not indexed */
        {"\"a,b\n", 5, -1, false},          /* no quoting */
        {"a\0b\n", 0, 0, false},            /* NUL */
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        struct sl_csv_opts o;
        sl_csv_opts_default(&o);
        if (cases[i].quote != 0) {
            o.quote = cases[i].quote;
        }
        o.latin1 = cases[i].latin1;
        size_t len = strlen(cases[i].in);
        if (i == SL_ARRAY_LEN(cases) - 1) {
            len = 4; /* holds a NUL */
        }
        char *buf = dup_exact(cases[i].in, len);
        struct sl_csv c;
        assert_int_equal(sl_csv_init(&c, &o), SL_OK);
        size_t got = sl_csv_index(&c, buf, len);
        if (got != cases[i].want) {
            fail_msg("case %zu: sl_csv_index took %zu bytes, want %zu", i, got, cases[i].want);
        }
        sl_csv_release(&c);
        free(buf);
    }
    /* the records and fields it hands out */
    const char *in = "\"a\"\"b\",c\r\n,\"\"\n";
    char *buf = dup_exact(in, strlen(in));
    struct sl_csv c;
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(sl_csv_index(&c, buf, strlen(in)), strlen(in));
    size_t used = 0;
    assert_int_equal(sl_csv_index_next(&c, buf, &used), SL_CSV_RECORD);
    assert_int_equal(used, 10);
    assert_int_equal(c.n_fields, 2);
    assert_true(c.fields[0].quoted && c.fields[0].len == 3 &&
                memcmp(c.fields[0].p, "a\"b", 3) == 0);
    assert_true(!c.fields[1].quoted && c.fields[1].len == 1 && c.fields[1].p[0] == 'c');
    assert_int_equal(sl_csv_index_next(&c, buf, &used), SL_CSV_RECORD);
    assert_int_equal(used, 4);
    assert_int_equal(c.n_fields, 2);
    assert_true(!c.fields[0].quoted && c.fields[0].len == 0);
    assert_true(c.fields[1].quoted && c.fields[1].len == 0);
    assert_int_equal(sl_csv_index_next(&c, buf, &used), SL_CSV_END);
    sl_csv_release(&c);
    free(buf);
}

/* The index covers at most SL_CSV_INDEX_WINDOW bytes, whole records, and hands
 * out exactly those bytes. */
static void test_csv_index_window(void **state)
{
    (void)state;
    static const char *const recs[] = {"ab,cd\n", "x,\"y\"\r\n", "\"p\"\"q\",,r\n",
                                       "0123456789012345678901234567890123456789,z\n"};
    size_t sizes[] = {40000, SL_CSV_INDEX_WINDOW, SL_CSV_INDEX_WINDOW + 1, SL_CSV_INDEX_WINDOW - 1,
                      SL_CSV_INDEX_WINDOW + 64};
    for (size_t r = 0; r < SL_ARRAY_LEN(recs); r++) {
        for (size_t s = 0; s < SL_ARRAY_LEN(sizes); s++) {
            struct sb in = {0};
            for (size_t shift = 0; in.len < sizes[s]; shift++) {
                sb_adds(&in, recs[(r + (shift % 7 == 6)) % SL_ARRAY_LEN(recs)]);
            }
            in.len = sizes[s]; /* the last record may be cut */
            char *buf = dup_exact(in.s, in.len);
            struct sl_csv c;
            assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
            size_t b = sl_csv_index(&c, buf, in.len);
            if (b > SL_CSV_INDEX_WINDOW || b > in.len || b == 0 || buf[b - 1] != '\n' ||
                b < SL_CSV_INDEX_WINDOW / 2) {
                fail_msg("record kind %zu, %zu bytes: sl_csv_index took %zu bytes (window %zu)", r,
                         in.len, b, SL_CSV_INDEX_WINDOW);
            }
            size_t total = 0, used = 0, n = 0;
            int st;
            while ((st = sl_csv_index_next(&c, buf, &used)) == SL_CSV_RECORD) {
                total += used;
                n++;
                assert_true(total <= b);
            }
            assert_int_equal(st, SL_CSV_END);
            assert_int_equal(total, b);
            assert_true(n > 0);
            sl_csv_release(&c);
            free(buf);
            sb_free(&in);
        }
    }
}

/* ==== 2. the timestamp fast path vs the general parser ==================== */

static void put_num(struct sb *b, unsigned v, unsigned width)
{
    char t[16];
    snprintf(t, sizeof(t), "%0*u", (int)width, v);
    sb_adds(b, t);
}

/* A 2-digit (sometimes 1-digit) number: mostly in [lo, hi], sometimes any. */
static void put_part(struct sb *b, unsigned lo, unsigned hi)
{
    unsigned v = chance(90) ? lo + (unsigned)rn(hi - lo + 1) : (unsigned)rn(100);
    put_num(b, v, chance(8) && v < 10 ? 1 : 2);
}

/* Timestamp-like text from the templates YYYY{-|/}MM{-|/}DD[{T|t| }HH:MM[:SS
 * [.F{0..8}]]][zone], parts often out of range. valid_bias makes the parts and
 * the zone mostly well-formed (then most strings take the fast path). */
static void gen_ts(struct sb *b, bool valid_bias)
{
    static const unsigned years[] = {0,    1,    2,    1900, 1969, 1970, 1999,
                                     2000, 2023, 2024, 2100, 9998, 9999};
    unsigned y = chance(40) ? years[rn(SL_ARRAY_LEN(years))] : (unsigned)rn(10000);
    if (valid_bias && y == 0) {
        y = 2001;
    }
    put_num(b, y, 4);
    char sep = chance(60) ? '-' : '/';
    sb_addc(b, sep);
    unsigned m = 1 + (unsigned)rn(12);
    if (!valid_bias && chance(8)) {
        m = chance(50) ? 0 : 13;
    }
    put_num(b, m, chance(8) && m < 10 ? 1 : 2);
    sb_addc(b, chance(valid_bias ? 1 : 4) ? (sep == '-' ? '/' : '-') : sep);
    if (m == 2 && chance(40)) {
        sb_adds(b, chance(70) ? "29" : "28");
    } else if (valid_bias) {
        put_part(b, 1, 28);
    } else {
        put_part(b, 0, 32);
    }
    if (chance(valid_bias ? 3 : 8)) {
        return; /* a date alone */
    }
    static const char dts[] = {'T', ' ', 't', 'T', 'x', '_'};
    sb_addc(b, dts[rn(valid_bias ? 3 : SL_ARRAY_LEN(dts))]);
    if (valid_bias) {
        put_part(b, 0, 23);
        sb_addc(b, ':');
        put_part(b, 0, 59);
    } else {
        put_part(b, 0, 25);
        sb_addc(b, ':');
        put_part(b, 0, 61);
    }
    if (chance(85)) {
        sb_addc(b, ':');
        if (valid_bias) {
            put_part(b, 0, chance(2) ? 60 : 59);
        } else {
            put_part(b, 0, 61);
        }
        if (chance(40)) {
            sb_addc(b, '.');
            size_t fd = valid_bias ? 1 + rn(6) : rn(9);
            for (size_t i = 0; i < fd; i++) {
                sb_addc(b, (char)('0' + rn(10)));
            }
        }
    }
    static const char *const zones[] = {
        "",        "Z",       "z",      " UTC",   "+00:00", "-00:00", "+05:30", "-08:00",
        " +01:00", " -14:00", "+14:00", "+14:01", "-15:00", "+05:60", "+0530",  "+5",
        "+05",     "+5:3",    " utc",   "UTC",    " UTC ",  "Z ",     "ZZ",     " Z",
        "+",       "-",       "+05:",   "+05:3x", "+123",   "+12345", " ",      "  +01:00",
    };
    const char *z = zones[rn(valid_bias ? 10 : SL_ARRAY_LEN(zones))];
    if (*z == '+' || *z == '-' || (z[0] == ' ' && (z[1] == '+' || z[1] == '-'))) {
        if (chance(50) && strlen(z) >= 6 && z[strlen(z) - 3] == ':') {
            /* a random HH:MM offset instead */
            sb_add(b, z, strlen(z) - 5);
            put_part(b, 0, valid_bias ? 14 : 16);
            sb_addc(b, ':');
            put_part(b, 0, valid_bias ? 0 : 61);
            return;
        }
    }
    sb_adds(b, z);
}

static void mutate(struct sb *b)
{
    static const char set[] = "0123456789-/:.TtZz +UC\xff";
    size_t at = rn(b->len + 1);
    char c = chance(90) ? set[rn(sizeof(set) - 1)] : (char)rn(256);
    switch (rn(3)) {
    case 0:
        if (at < b->len) {
            b->s[at] = c;
        }
        break;
    case 1:
        if (at < b->len) {
            memmove(b->s + at, b->s + at + 1, b->len - at - 1);
            b->len--;
        }
        break;
    default:
        sb_addc(b, 'x');
        memmove(b->s + at + 1, b->s + at, b->len - at - 1);
        b->s[at] = c;
        break;
    }
}

static void test_timestamp_hand(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t us;
    } cases[] = {
        {"1970-01-01T00:00:00Z", SL_OK, 0},
        {"2021-07-23T22:13:32Z", SL_OK, INT64_C(1627078412000000)},
        {"2021/07/23 22:13:32 UTC", SL_OK, INT64_C(1627078412000000)},
        {"2021-07-23t23:13:32.000+01:00", SL_OK, INT64_C(1627078412000000)},
        /* 2000-02-29 is day 10957 + 31 + 28 = 11016: 951782400 s; + 12 h - 1 h 30 */
        {"2000-02-29 12:00:00.5+01:30", SL_OK, INT64_C(951820200500000)},
        {"2000-02-29 12:00:00.5 +01:30", SL_OK, INT64_C(951820200500000)},
        {"1969-12-31T23:59:60Z", SL_OK, 0}, /* a leap second is :00 of the next minute */
        {"1969-12-31T23:59:59.999999Z", SL_OK, -1},
        {"0001-01-01T00:00:00Z", SL_OK, INT64_C(-62135596800000000)},
        {"9999-12-31T23:59:59.999999Z", SL_OK, INT64_C(253402300799999999)},
        {"9999-12-31T23:59:60Z", -SL_ELIMIT, 0},
        {"0001-01-01T00:00:00+00:01", -SL_ELIMIT, 0},
        {"0000-01-01T00:00:00Z", -SL_ELIMIT, 0},
        {"2023-02-29T00:00:00Z", -SL_EINVAL, 0},
        {"2021-13-01T00:00:00Z", -SL_EINVAL, 0},
        {"2021-07-23T24:00:00Z", -SL_EINVAL, 0},
        {"2021-07-23T22:13:32.1234567Z", -SL_EINVAL, 0},
        {"2021-07-23T22:13:32+14:01", -SL_EINVAL, 0},
        {"2021-07/23T22:13:32Z", -SL_EINVAL, 0},
        /* a byte just below '0' ('*' .. '/') is no digit at a fixed position */
        {"2021-07-23T22:13:3/Z", -SL_EINVAL, 0},
        {"2021-07-2.T00:00:00", -SL_EINVAL, 0},
        {"202/-07-23T00:00:00", -SL_EINVAL, 0},
        {"2021-1*-23T00:00:00", -SL_EINVAL, 0},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        size_t n = strlen(cases[i].s);
        char *p = dup_exact(cases[i].s, n);
        for (int g = 0; g < 2; g++) {
            int64_t out = 77;
            const char *why = NULL;
            int rc = g ? sl__coerce_timestamp_general(p, n, &out, &why)
                       : sl__coerce_timestamp(p, n, &out, &why);
            if (rc != cases[i].rc || (rc == SL_OK && out != cases[i].us) ||
                (rc != SL_OK && out != 77)) {
                fail_msg("%s (%s): rc %d out %lld, want rc %d out %lld", cases[i].s,
                         g ? "general" : "fast", rc, (long long)out, cases[i].rc,
                         (long long)(cases[i].rc == SL_OK ? cases[i].us : 77));
            }
        }
        free(p);
    }
}

static void test_timestamp_fast_vs_general(void **state)
{
    (void)state;
    const size_t n = 200000 / slow_div();
    size_t n_ok = 0, n_bad = 0, n_fail = 0;
    struct sb b = {0};
    double t0 = now_s();
    rng = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < n; i++) {
        sb_reset(&b);
        gen_ts(&b, chance(50));
        if (chance(30)) {
            size_t k = 1 + rn(chance(80) ? 1 : 3);
            while (k-- > 0) {
                mutate(&b);
            }
        }
        char *p = dup_exact(b.s, b.len);
        const int64_t sentinel = INT64_C(0x5a5a5a5a5a5a5a5a);
        int64_t fo = sentinel, go = sentinel;
        const char *fw = NULL, *gw = NULL;
        int frc = sl__coerce_timestamp(p, b.len, &fo, &fw);
        int grc = sl__coerce_timestamp_general(p, b.len, &go, &gw);
        if (frc != grc || fo != go || (frc != SL_OK && fo != sentinel)) {
            n_fail++;
            if (n_fail <= 10) {
                struct sb esc = {0};
                sb_esc(&esc, p, b.len);
                fprintf(stderr,
                        "timestamp mismatch: \"%s\": fast rc %d out %lld (%s), general rc %d "
                        "out %lld (%s)\n",
                        esc.s, frc, (long long)fo, fw ? fw : "-", grc, (long long)go,
                        gw ? gw : "-");
                sb_free(&esc);
            }
        }
        if (grc == SL_OK) {
            n_ok++;
        } else {
            n_bad++;
        }
        free(p);
    }
    sb_free(&b);
    printf("timestamp fast vs general: %zu strings (%zu valid, %zu not), %zu mismatches, "
           "%.2f s\n",
           n, n_ok, n_bad, n_fail, now_s() - t0);
    if (n_fail > 0) {
        fail_msg("%zu of %zu timestamps: sl__coerce_timestamp disagrees with the general parser",
                 n_fail, n);
    }
    assert_true(n_ok > n / 5 && n_bad > n / 5);
}

/* ==== 3. the validator's row fast path vs the general path ================ */

static const char *const ID_TYPES[] = {"VIN",          "HIN",      "Serial", "IMEI", "ESN",
                                       "Registration", "AssetTag", "MAC",    "UUID"};
static const char *const CATEGORIES[] = {"passenger_vehicle",
                                         "commercial_truck",
                                         "motorcycle",
                                         "marine_vessel",
                                         "aircraft",
                                         "agricultural_machinery",
                                         "construction_equipment",
                                         "industrial_machinery",
                                         "consumer_electronics",
                                         "medical_device"};
static const char *const FUELS[] = {"gasoline", "diesel", "hybrid", "electric",
                                    "cng",      "avgas",  "jet_a"};
static const char *const WORDS[] = {
    "Mercedes-Benz",
    "Kia",
    "Sprinter 316, high roof",
    "wei\xc3\x9f",
    "Jeanneau",
    "Merry Fisher 795",
    "RS 660",
    "matte black",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "Citro\xc3\xabn",
    "O\"Neil",
    "12\" rack",
    "a;b",
    "tab\there",
    "x",
    "Deere & Co.",
};
#define N_COLS 13
static const char *const COLS[N_COLS] = {"primary_id_type",
                                         "primary_id_value",
                                         "equipment_category",
                                         "manufacturer",
                                         "model",
                                         "year",
                                         "registered_at",
                                         "specs_fuel_type",
                                         "specs_power_kw",
                                         "specs_weight_kg",
                                         "specs_displacement_cc",
                                         "specs_color",
                                         "tags"};
enum {
    C_TYPE,
    C_ID,
    C_CAT,
    C_MAKER,
    C_MODEL,
    C_YEAR,
    C_TS,
    C_FUEL,
    C_POWER,
    C_WEIGHT,
    C_CC,
    C_COLOR,
    C_TAGS
};

#define VINCH  "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
#define UPPER  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
#define HEXUP  "0123456789ABCDEF"
#define HEXLOW "0123456789abcdef"

static void rand_from(struct sb *b, const char *set, size_t n)
{
    size_t k = strlen(set);
    for (size_t i = 0; i < n; i++) {
        sb_addc(b, set[rn(k)]);
    }
}

/* A primary_id_value that matches type t's pattern. */
static void gen_id(struct sb *b, size_t t)
{
    switch (t) {
    case 0:
        rand_from(b, VINCH, 17);
        break;
    case 1:
        rand_from(b, UPPER, 3);
        rand_from(b, VINCH, 5);
        rand_from(b, "ABCDEFGHIJKL", 1);
        rand_from(b, DIGITS, 3);
        break;
    case 2:
        rand_from(b, UPPER DIGITS, 1);
        rand_from(b, UPPER DIGITS "-", 5 + rn(19));
        break;
    case 3:
        rand_from(b, DIGITS, 15);
        break;
    case 4:
        rand_from(b, HEXUP, 8);
        break;
    case 5:
        rand_from(b, UPPER DIGITS, 1);
        rand_from(b, UPPER DIGITS " -", 1 + rn(11));
        break;
    case 6:
        sb_adds(b, "AT-");
        rand_from(b, DIGITS, 7);
        break;
    case 7:
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                sb_addc(b, ':');
            }
            rand_from(b, HEXUP, 2);
        }
        break;
    default:
        rand_from(b, HEXLOW, 8);
        sb_adds(b, "-");
        rand_from(b, HEXLOW, 4);
        sb_adds(b, "-4");
        rand_from(b, HEXLOW, 3);
        sb_addc(b, "89ab"[rn(4)]);
        rand_from(b, HEXLOW, 3);
        sb_adds(b, "-");
        rand_from(b, HEXLOW, 12);
        break;
    }
}

/* Maker, model or colour text: 1..3 words, sometimes long or multibyte. */
static void gen_text(struct sb *b)
{
    if (chance(3)) {
        size_t n = 40 + rn(60); /* 40..99 "é": more bytes than maxLength, fewer code points */
        for (size_t i = 0; i < n; i++) {
            sb_adds(b, "\xc3\xa9");
        }
        return;
    }
    if (chance(3)) {
        rand_from(b, UPPER " ", 90 + rn(10)); /* near maxLength 100 */
        return;
    }
    size_t n = 1 + rn(3);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            sb_addc(b, ' ');
        }
        sb_adds(b, WORDS[rn(SL_ARRAY_LEN(WORDS))]);
    }
}

static void gen_float(struct sb *b)
{
    switch (rn(6)) {
    case 0:
        sb_addf(b, "%u", (unsigned)rn(10000));
        break;
    case 1:
        sb_addf(b, "%u.%u", (unsigned)rn(1000), (unsigned)rn(100));
        break;
    case 2:
        sb_addf(b, "%ue%u", 1 + (unsigned)rn(9), (unsigned)rn(4));
        break;
    case 3:
        sb_addf(b, "0.%06u", (unsigned)rn(1000000));
        break;
    default:
        sb_addf(b, "%u.%03u", (unsigned)rn(100000), (unsigned)rn(1000));
        break;
    }
}

/* The delimiter and quote the generated files use. */
static char g_delim = ',', g_quote = '"';

/* One field into the record: quoted when it must be (delimiter, quote, CR or LF
 * inside) or at random, with doubled quotes. */
static void put_field(struct sb *rec, const char *p, size_t n)
{
    bool q = chance(8);
    for (size_t i = 0; i < n && !q; i++) {
        q = p[i] == g_delim || p[i] == g_quote || p[i] == '\n' || p[i] == '\r';
    }
    if (!q) {
        sb_add(rec, p, n);
        return;
    }
    sb_addc(rec, g_quote);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == g_quote) {
            sb_addc(rec, g_quote);
        }
        sb_addc(rec, p[i]);
    }
    sb_addc(rec, g_quote);
}

#define MAX_COLS 24

/* A table's generator: column names, and the values of one row (raw[i] set:
 * write the value as is, unquoted), with *extra / *missing asking for an extra
 * or fewer columns. */
struct tspec {
    const char *table;
    size_t n_cols;
    const char *const *cols;
    void (*row)(struct sb *vals, bool *raw, bool *extra, bool *missing, const char *marker);
};

/* The 13 values of an equipment_flat row, valid; then with chance one defect. */
static void equipment_row(struct sb *vals, bool *raw, bool *extra, bool *missing,
                          const char *marker)
{
    *extra = *missing = false;
    size_t t = rn(SL_ARRAY_LEN(ID_TYPES));
    sb_adds(&vals[C_TYPE], ID_TYPES[t]);
    gen_id(&vals[C_ID], t);
    sb_adds(&vals[C_CAT], CATEGORIES[rn(SL_ARRAY_LEN(CATEGORIES))]);
    if (chance(90)) {
        gen_text(&vals[C_MAKER]);
    }
    if (chance(90)) {
        gen_text(&vals[C_MODEL]);
    }
    if (chance(90)) {
        sb_addf(&vals[C_YEAR], "%u", 1900 + (unsigned)rn(201));
    }
    gen_ts(&vals[C_TS], true);
    if (chance(85)) {
        sb_adds(&vals[C_FUEL], FUELS[rn(SL_ARRAY_LEN(FUELS))]);
    }
    if (chance(90)) {
        gen_float(&vals[C_POWER]);
    }
    if (chance(90)) {
        gen_float(&vals[C_WEIGHT]);
    }
    if (chance(80)) {
        sb_addf(&vals[C_CC], "%u", (unsigned)rn(20000));
    }
    if (chance(60)) {
        gen_text(&vals[C_COLOR]);
    }
    if (chance(90)) {
        static const char *const tags[] = {"[]", "[\"a\",\"b\"]", "[x]", "[\"off-road\"]",
                                           "[1, 2, 3]"};
        sb_adds(&vals[C_TAGS], tags[rn(SL_ARRAY_LEN(tags))]);
    }
    if (marker != NULL) {
        static const int opt[] = {C_MAKER,  C_MODEL, C_YEAR,  C_FUEL, C_POWER,
                                  C_WEIGHT, C_CC,    C_COLOR, C_TAGS};
        for (size_t i = 0; i < SL_ARRAY_LEN(opt); i++) {
            if (vals[opt[i]].len == 0 || chance(5)) {
                sb_reset(&vals[opt[i]]);
                sb_adds(&vals[opt[i]], marker);
            }
        }
    }
    if (!chance(35)) {
        return;
    }
    /* one defect */
    static const int strs[] = {C_MAKER, C_MODEL, C_COLOR};
    int s = strs[rn(SL_ARRAY_LEN(strs))];
    switch (rn(16)) {
    case 0: {
        static const char *const bad[] = {"vin", "Car", "VIN ", " VIN", "", "VINX", "V"};
        sb_reset(&vals[C_TYPE]);
        sb_adds(&vals[C_TYPE], bad[rn(SL_ARRAY_LEN(bad))]);
        break;
    }
    case 1:
        sb_reset(&vals[C_TYPE]);
        sb_adds(&vals[C_TYPE], "VIN");
        sb_reset(&vals[C_ID]);
        rand_from(&vals[C_ID], chance(50) ? VINCH : VINCH "IOQ", chance(50) ? 16 : 17);
        if (chance(30)) {
            vals[C_ID].s[rn(vals[C_ID].len)] = chance(50) ? 'I' : 'o';
        }
        break;
    case 2: {
        static const int req[] = {C_TYPE, C_ID, C_CAT, C_TS};
        sb_reset(&vals[req[rn(SL_ARRAY_LEN(req))]]);
        break;
    }
    case 3: {
        static const int nums[] = {C_YEAR, C_POWER, C_WEIGHT, C_CC};
        static const char *const bad[] = {"19x5", "abc", "1.5", "1,5", "+5",  "0x10", " 12",
                                          "12 ",  "1e",  ".",   "-",   "1.0", "2e3",  "01"};
        int k = nums[rn(SL_ARRAY_LEN(nums))];
        sb_reset(&vals[k]);
        sb_adds(&vals[k], bad[rn(SL_ARRAY_LEN(bad))]);
        break;
    }
    case 4: {
        static const char *const years[] = {
            "1899", "2101", "-5", "99999999999999999999", "1900", "2100", "1.9e3", "2.1001e3", "0"};
        sb_reset(&vals[C_YEAR]);
        sb_adds(&vals[C_YEAR], years[rn(SL_ARRAY_LEN(years))]);
        break;
    }
    case 5: {
        static const char *const neg[] = {"-0.1", "-1", "-0", "-0.0", "-1e-300", "0"};
        int k = chance(33) ? C_CC : chance(50) ? C_POWER : C_WEIGHT;
        sb_reset(&vals[k]);
        sb_adds(&vals[k], neg[rn(SL_ARRAY_LEN(neg))]);
        break;
    }
    case 6:
        sb_reset(&vals[s]);
        if (chance(50)) {
            rand_from(&vals[s], UPPER, 99 + rn(4)); /* 99..102 code points */
        } else {
            for (size_t i = 99 + rn(4); i > 0; i--) {
                sb_adds(&vals[s], chance(50) ? "\xc3\xa9" : "\xe6\x97\xa5");
            }
        }
        break;
    case 7: {
        static const char *const inv[] = {
            "\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xe6\x97", "\x80"};
        size_t at = rn(vals[s].len + 1);
        struct sb t2 = {0};
        sb_add(&t2, vals[s].s, at);
        sb_adds(&t2, inv[rn(SL_ARRAY_LEN(inv))]);
        sb_add(&t2, vals[s].s + at, vals[s].len - at);
        sb_reset(&vals[s]);
        sb_add(&vals[s], t2.s, t2.len);
        sb_free(&t2);
        break;
    }
    case 8:
        *extra = true;
        break;
    case 9:
        *missing = true;
        break;
    case 10:
        sb_reset(&vals[C_TS]);
        gen_ts(&vals[C_TS], false);
        if (chance(50)) {
            mutate(&vals[C_TS]);
        }
        break;
    case 11:
        sb_reset(&vals[C_CAT]);
        sb_adds(&vals[C_CAT], chance(50) ? "car" : "Motorcycle");
        sb_reset(&vals[C_FUEL]);
        sb_adds(&vals[C_FUEL], chance(50) ? "petrol" : FUELS[0]);
        break;
    case 12: {
        /* CSV-level: junk after a closing quote, a NUL, a stray quote, a lone
         * CR in a quoted field */
        static const char *const junk[] = {"\"abc\"x", "a\0b", "a\"b", "\"a\rb\"", "\"a\nb\""};
        size_t k = rn(SL_ARRAY_LEN(junk));
        sb_reset(&vals[s]);
        sb_add(&vals[s], junk[k], k == 1 ? 3 : strlen(junk[k]));
        raw[s] = true;
        break;
    }
    case 13:
        sb_reset(&vals[C_TAGS]);
        sb_adds(&vals[C_TAGS], chance(50) ? "x" : "[a");
        break;
    case 14:
        /* an empty quoted string: "" is not NULL, and minLength is 1 */
        sb_reset(&vals[s]);
        raw[s] = true;
        sb_adds(&vals[s], "\"\"");
        break;
    default: {
        static const char *const odd[] = {"NaN",   "inf",    "-inf", "Infinity",
                                          "1e400", "1e-400", "nan",  "+inf"};
        int k = chance(50) ? C_POWER : C_WEIGHT;
        sb_reset(&vals[k]);
        sb_adds(&vals[k], odd[rn(SL_ARRAY_LEN(odd))]);
        break;
    }
    }
}

static const struct tspec EQUIPMENT = {"equipment_flat", N_COLS, COLS, equipment_row};

/* A flat table with every column kind the fast path takes, and the rule shapes
 * it folds (none, one enum, lengths, one simple pattern, numeric bounds) or
 * leaves to the general checks (enum and pattern, INTEGER enum, conditions). */
static const char *const MIXED_SCHEMA =
    "{\"fields\": ["
    "{\"name\": \"s_plain\", \"type\": \"STRING\"},"
    "{\"name\": \"s_enum\", \"type\": \"STRING\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"s_len\", \"type\": \"STRING\"},"
    "{\"name\": \"s_pat\", \"type\": \"STRING\"},"
    "{\"name\": \"s_pat2\", \"type\": \"STRING\"},"
    "{\"name\": \"s_max\", \"type\": \"STRING\", \"maxLength\": \"5\"},"
    "{\"name\": \"s_both\", \"type\": \"STRING\"},"
    "{\"name\": \"s_cond\", \"type\": \"STRING\"},"
    "{\"name\": \"i_plain\", \"type\": \"INTEGER\"},"
    "{\"name\": \"i_rng\", \"type\": \"INT64\"},"
    "{\"name\": \"i_enum\", \"type\": \"INTEGER\"},"
    "{\"name\": \"f_plain\", \"type\": \"FLOAT\"},"
    "{\"name\": \"f_rng\", \"type\": \"FLOAT64\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"n_num\", \"type\": \"NUMERIC\", \"precision\": \"10\", \"scale\": \"2\"},"
    "{\"name\": \"n_dflt\", \"type\": \"NUMERIC\"},"
    "{\"name\": \"b\", \"type\": \"BOOLEAN\"},"
    "{\"name\": \"d\", \"type\": \"DATE\"},"
    "{\"name\": \"t\", \"type\": \"TIME\"},"
    "{\"name\": \"dt\", \"type\": \"DATETIME\"},"
    "{\"name\": \"ts\", \"type\": \"TIMESTAMP\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"ts_req\", \"type\": \"TIMESTAMP\"}"
    "],"
    "\"rules\": ["
    " {\"field\": \"s_enum\", \"enum\": [\"red\", \"green\", \"blue\", \"gr\xc3\xbcn\"]},"
    " {\"field\": \"s_len\", \"minLength\": 2, \"maxLength\": 5},"
    " {\"field\": \"s_pat\", \"pattern\": \"^[A-Z]{2}[0-9]{3}$\"},"
    " {\"field\": \"s_pat2\", \"pattern\": \"^a.*z$\"},"
    " {\"field\": \"s_both\", \"enum\": [\"X1\", \"Y22\", \"W333\"], \"pattern\": \"^[XYZ]\"},"
    " {\"field\": \"s_cond\", \"pattern\": \"^[a-z]+$\", \"when\": {\"field\": \"b\", \"equals\": "
    "true}},"
    " {\"field\": \"s_cond\", \"maxLength\": 3, \"when\": {\"field\": \"s_enum\", \"in\": "
    "[\"red\", \"gr\xc3\xbcn\"]}},"
    " {\"field\": \"n_dflt\", \"minimum\": 0, \"maximum\": 1000,"
    "  \"when\": {\"field\": \"i_enum\", \"in\": [1, 2]}},"
    " {\"field\": \"i_rng\", \"minimum\": -10, \"maximum\": 10},"
    " {\"field\": \"i_enum\", \"enum\": [1, 2, 3, \"40\"]},"
    " {\"field\": \"f_rng\", \"minimum\": 0.5, \"maximum\": 1000},"
    " {\"field\": \"n_num\", \"minimum\": 0},"
    " {\"field\": \"ts_req\", \"required\": true}"
    "]}";

/* Per column: values that pass, values that do not (or may not: the two paths
 * must only agree), and a generator of passing values (or NULL). */
struct mcol {
    const char *name;
    const char *const *good;
    size_t n_good;
    const char *const *bad;
    size_t n_bad;
    void (*gen)(struct sb *b);
};
#define VALS(...)                                                                                  \
    (const char *const[]){__VA_ARGS__}, SL_ARRAY_LEN(((const char *const[]){__VA_ARGS__}))

static void gen_int(struct sb *b)
{
    int64_t v = (int64_t)(rnd() >> (1 + rn(63)));
    sb_addf(b, "%lld", (long long)(chance(50) ? v : -v));
}

static void gen_double(struct sb *b)
{
    double v = (double)(rnd() >> (1 + rn(63))) / (double)(1 + rn(100000));
    sb_addf(b, chance(50) ? "%.17g" : "%g", chance(20) ? -v : v);
}

static void gen_rng_double(struct sb *b)
{
    sb_addf(b, "%.*f", (int)rn(8), 0.5 + (double)rn(999500) / 1000.0);
}

static void gen_num(struct sb *b)
{
    sb_addf(b, "%u.%0*u", (unsigned)rn(100000000), 1 + (int)rn(3), (unsigned)rn(100));
}

static void gen_date(struct sb *b)
{
    unsigned m = 1 + (unsigned)rn(12), d = 1 + (unsigned)rn(28);
    sb_addf(b, "%04u-%02u-%02u", 1 + (unsigned)rn(9999), m, d);
}

static void gen_time(struct sb *b)
{
    sb_addf(b, "%02u:%02u:%02u", (unsigned)rn(24), (unsigned)rn(60), (unsigned)rn(60));
    if (chance(50)) {
        sb_addf(b, ".%0*u", 1 + (int)rn(6), (unsigned)rn(10));
    }
}

static void gen_datetime(struct sb *b)
{
    gen_date(b);
    sb_addc(b, "T t"[rn(3)]);
    gen_time(b);
}

static void gen_ts_good(struct sb *b)
{
    gen_ts(b, true);
}

static const struct mcol MIXED[] = {
    {"s_plain", VALS("", "x", "hello world", "a,b", "say \"hi\"", "\xc3\xa9t\xc3\xa9", "NULL"),
     VALS("\xff", "a\xc3", "\xed\xa0\x80", "line\nbreak", "cr\rcr"), gen_text},
    {"s_enum", VALS("red", "green", "blue", "gr\xc3\xbcn"),
     VALS("", "Red", "re", "redd", "gr\xc3\xbc", "gr\xfcn", " red", "blue\r"), NULL},
    {"s_len",
     VALS("", "ab", "abcde", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
          "a\xf0\x9f\x98\x80"),
     VALS("a", "abcdef", "\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
          "\xf0\x9f\x98\x80", "abcd\xff"),
     NULL},
    {"s_pat", VALS("", "AB123", "ZZ000", "QR905"),
     VALS("ab123", "AB1234", "AB12", "AB12\xc3\xa9",
          "\xc3\x84"
          "B123",
          "AB123 ", "A-123"),
     NULL},
    {"s_pat2", VALS("", "az", "a\xc3\xa9z", "a,z", "abcz", "a\"z"),
     VALS("za", "a\xffz", "A z", "az ", "a"), NULL},
    {"s_max", VALS("", "abcde", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "a"),
     VALS("abcdef", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "abcd\xc3"), NULL},
    {"s_both", VALS("", "X1", "Y22"), VALS("W333", "W1", "x1", "X2", "X1 "), NULL},
    {"s_cond", VALS("", "abc", "xyz"), VALS("abcd", "ABC", "a1", "\xc3\xa9", "ab cd"), NULL},
    {"i_plain", VALS("", "0", "-9223372036854775808", "9223372036854775807", "1.0", "1e3", "-0"),
     VALS("9223372036854775808", "1.5", "+1", "01", "abc", "1e19", "0x10", " 1"), gen_int},
    {"i_rng", VALS("", "-10", "10", "0", "5", "1e1", "10.0"),
     VALS("11", "-11", "1e2", "10.5", "9223372036854775807"), NULL},
    {"i_enum", VALS("", "1", "2", "3", "40"), VALS("4", "01", "1.0", "-1", "4e1", "40.0"), NULL},
    {"f_plain", VALS("", "0", "-0", "NaN", "inf", "-Infinity", "1e308", "4.9e-324", "1e-400"),
     VALS("1e400", "abc", "0x1p3", "+1", "1.", ".5", "--1", "nan(1)"), gen_double},
    {"f_rng", VALS("0.5", "1000", "3.14", "1e3", "5e-1"),
     VALS("", "0.49999", "1000.0001", "NaN", "-inf", "inf", "-0"), gen_rng_double},
    {"n_num", VALS("", "0", "12.34", "99999999.99", "12.345", ".5", "5.", "+1", "0.005", "-0"),
     VALS("100000000", "99999999.995", "-1", "-0.01", "1e9", "abc", "1e-3", "--1"), gen_num},
    {"n_dflt", VALS("", "0", "1000", "0.000000001", "1e3", "999.9999999995"),
     VALS("-1", "1000.000000001", "1e30", "0.0000000001", "abc"), NULL},
    {"b", VALS("", "true", "False", "1", "0", "t", "N", "yes", "TRUE"),
     VALS("2", "truee", "on", "off", " true", "-1"), NULL},
    {"d", VALS("", "2024-02-29", "0001-01-01", "9999-12-31", "2024-2-9", "1970-01-01"),
     VALS("2023-02-29", "2024/01/01", "0000-01-01", "2024-13-01", "2024-01-32", "2024-01-01T00"),
     gen_date},
    {"t", VALS("", "00:00:00", "23:59:59.999999", "1:2:3", "12:00:60", "23:59:59"),
     VALS("24:00:00", "23:59:60", "12:00", "12:00:00.1234567", "12:60:00", "12:00:00Z"), gen_time},
    {"dt",
     VALS("", "2024-01-01 00:00:00", "2024-01-01T12:34:56.5", "2024-01-01", "9999-12-31 23:59:59"),
     VALS("2024-01-01T00:00:00Z", "9999-12-31 23:59:60", "2024-01-01 12:00", "2024-01-01T",
          "2024/01/01 00:00:00"),
     gen_datetime},
    {"ts", VALS("2021-07-23T22:13:32Z", "1627078412", "2021/07/23 22:13:32 UTC"),
     VALS("", "2021-07-23T22:13:3/Z", "2021-07-23T25:00:00Z", "9999-12-31T23:59:60Z", "yesterday"),
     gen_ts_good},
    {"ts_req", VALS("2000-02-29 12:00:00.5+01:30", "0001-01-01 00:00:00"),
     VALS("", "0000-01-01 00:00:00", "2000-02-30 00:00:00"), gen_ts_good},
};
#define N_MIXED SL_ARRAY_LEN(MIXED)

static const char *const *mixed_cols(void)
{
    static const char *names[N_MIXED];
    for (size_t i = 0; i < N_MIXED; i++) {
        names[i] = MIXED[i].name;
    }
    return names;
}

static void pick(struct sb *b, const char *const *v, size_t n)
{
    sb_adds(b, v[rn(n)]);
}

/* Every column a passing value; then with chance one or two that may not. */
static void mixed_row(struct sb *vals, bool *raw, bool *extra, bool *missing, const char *marker)
{
    *extra = *missing = false;
    for (size_t i = 0; i < N_MIXED; i++) {
        const struct mcol *c = &MIXED[i];
        if (c->gen != NULL && chance(50)) {
            c->gen(&vals[i]);
        } else {
            pick(&vals[i], c->good, c->n_good);
        }
        if (marker != NULL && (vals[i].len == 0 || chance(5))) {
            sb_reset(&vals[i]); /* the marker, not an empty field, is NULL */
            sb_adds(&vals[i], marker);
        }
    }
    if (chance(45)) {
        return;
    }
    for (size_t k = chance(20) ? 2 : 1; k > 0; k--) {
        size_t i = rn(N_MIXED + 3);
        if (i == N_MIXED) {
            *extra = true;
        } else if (i == N_MIXED + 1) {
            *missing = true;
        } else if (i == N_MIXED + 2) {
            i = rn(N_MIXED);
            sb_reset(&vals[i]);
            sb_adds(&vals[i], "\"\""); /* an empty quoted field */
            raw[i] = true;
        } else {
            sb_reset(&vals[i]);
            pick(&vals[i], MIXED[i].bad, MIXED[i].n_bad);
            raw[i] = false;
        }
    }
}

/* A CSV file of table ts: a header (in table order, or shuffled with stray
 * trailing spaces), then n records with random line ends and blank lines. */
static void gen_csv(struct sb *out, const struct tspec *ts, size_t n, bool shuffle,
                    const char *marker, uint64_t skip)
{
    const int n_cols = (int)ts->n_cols;
    for (uint64_t i = 1; i < skip; i++) { /* the header is the last skipped row */
        sb_adds(out, chance(50) ? "junk,\"with \"\"quotes\"\"\",\xff\n" : "x\r\n");
    }
    int order[MAX_COLS];
    assert_true(n_cols <= MAX_COLS);
    for (int i = 0; i < n_cols; i++) {
        order[i] = i;
    }
    if (shuffle) {
        for (int i = n_cols - 1; i > 0; i--) {
            int j = (int)rn((size_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    for (int i = 0; i < n_cols; i++) {
        if (i > 0) {
            sb_addc(out, g_delim);
        }
        sb_adds(out, ts->cols[order[i]]);
        if (shuffle && chance(20)) {
            sb_addc(out, ' ');
        }
    }
    sb_adds(out, "\r\n");
    struct sb vals[MAX_COLS];
    memset(vals, 0, sizeof(vals));
    bool raw[MAX_COLS];
    for (size_t r = 0; r < n; r++) {
        if (chance(2)) {
            sb_adds(out, chance(50) ? "\n" : "\r\n");
        }
        bool extra, missing;
        for (int i = 0; i < n_cols; i++) {
            sb_reset(&vals[i]);
            raw[i] = false;
        }
        ts->row(vals, raw, &extra, &missing, marker);
        int ncol = missing ? n_cols - 1 - (int)rn(3) : n_cols;
        for (int i = 0; i < ncol; i++) {
            if (i > 0) {
                sb_addc(out, g_delim);
            }
            const struct sb *v = &vals[order[i]];
            if (raw[order[i]]) {
                sb_add(out, v->s, v->len);
            } else {
                put_field(out, v->s ? v->s : "", v->len);
            }
        }
        if (extra) {
            sb_addc(out, g_delim);
            sb_adds(out, chance(50) ? "x" : "");
        }
        if (r + 1 < n || chance(50)) {
            unsigned t = (unsigned)rn(100);
            sb_adds(out, t < 70 ? "\n" : t < 97 ? "\r\n" : "\r");
        }
    }
    for (int i = 0; i < n_cols; i++) {
        sb_free(&vals[i]);
    }
}

static void render_val(struct sb *b, const struct sl_val *v)
{
    switch (v->kind) {
    case SL_V_NULL:
        sb_adds(b, "N");
        break;
    case SL_V_BOOL:
        sb_addf(b, "b%d", v->u.b ? 1 : 0);
        break;
    case SL_V_I64:
        sb_addf(b, "i%lld", (long long)v->u.i);
        break;
    case SL_V_F64: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, sizeof(bits));
        sb_addf(b, "f%.17g/%016llx", v->u.f, (unsigned long long)bits);
        break;
    }
    case SL_V_DEC: {
        char t[48];
        size_t k = sizeof(t);
        t[--k] = '\0';
        unsigned __int128 x = v->u.d < 0 ? -(unsigned __int128)v->u.d : (unsigned __int128)v->u.d;
        do {
            t[--k] = (char)('0' + (int)(x % 10));
            x /= 10;
        } while (x != 0);
        sb_addf(b, "d%s%s", v->u.d < 0 ? "-" : "", t + k);
        break;
    }
    case SL_V_STR:
    case SL_V_BYTES:
        sb_addf(b, "%c%u:", v->kind == SL_V_STR ? 's' : 'y', (unsigned)v->len);
        if (v->len > 0 && v->u.s == NULL) {
            sb_adds(b, "!NULL");
        } else {
            sb_esc(b, v->u.s, v->len);
        }
        break;
    case SL_V_DATE:
    case SL_V_TIME:
    case SL_V_DATETIME:
    case SL_V_TS:
        sb_addf(b, "t%d:%lld", v->kind, (long long)v->u.i);
        break;
    case SL_V_LIST:
        sb_addf(b, "L%u[", (unsigned)v->len);
        for (uint32_t i = 0; i < v->len; i++) {
            render_val(b, &v->u.v[i]);
            sb_addc(b, ' ');
        }
        sb_addc(b, ']');
        break;
    default:
        sb_addf(b, "?%d", v->kind); /* no RECORD columns in this table */
        break;
    }
}

static int rows_sink(void *ud, const struct sl_val *cols, size_t n, struct sl_error *err)
{
    (void)err;
    struct sb *b = ud;
    sb_addf(b, "row #%zu:", n);
    for (size_t i = 0; i < n; i++) {
        sb_addc(b, ' ');
        render_val(b, &cols[i]);
    }
    sb_addc(b, '\n');
    return SL_OK;
}

static int rejects_sink(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    (void)err;
    struct sb *b = ud;
    sb_addf(b, "line %llu record %llu off %llu field %s: ", (unsigned long long)r->line_no,
            (unsigned long long)r->record_no, (unsigned long long)r->byte_off,
            r->field ? r->field : "(none)");
    sb_adds(b, r->reason ? r->reason : "(no reason)");
    sb_adds(b, " value ");
    if (r->value == NULL) {
        sb_adds(b, "(null)");
    } else {
        sb_addc(b, '<');
        sb_esc(b, r->value, r->value_len);
        sb_addc(b, '>');
    }
    sb_addc(b, '\n');
    return SL_OK;
}

struct vrun {
    struct sb rows, rejects;
    struct sl_file_stats st;
};

struct vvariant {
    const char *name;
    const struct tspec *spec;
    size_t n_records;
    char delim, quote; /* 0 = ',' and '"' */
    bool latin1, quoted_newlines;
    bool shuffle, parallel;
    bool allow_jagged, ignore_unknown;
    const char *marker;
    size_t max_row_size, max_value_size; /* 0 = default */
    uint64_t skip_leading_rows;          /* junk lines before the header, which is the
                                            last skipped row (docs/DECISIONS.md) */
    uint64_t max_bad;                    /* 0 = unlimited */
};

/* Validate path once: with rows (streamed), without (mapped), or on the
 * parallel path (threads > 1, rejects only). */
static void run_validate(const struct sl_table *t, const char *path, const struct vvariant *vv,
                         bool general_only, bool with_rows, unsigned threads, struct vrun *r)
{
    struct sl_vopts o;
    sl_vopts_default(&o);
    o.format = SL_FMT_CSV;
    o.header = true;
    o.max_bad = vv->max_bad ? vv->max_bad : UINT64_MAX / 2;
    o.general_only = general_only;
    o.allow_jagged = vv->allow_jagged;
    o.ignore_unknown = vv->ignore_unknown;
    o.null_marker = vv->marker;
    o.skip_leading_rows = vv->skip_leading_rows;
    o.csv.delim = vv->delim ? vv->delim : ',';
    o.csv.quote = vv->quote ? vv->quote : '"';
    o.csv.latin1 = vv->latin1;
    o.csv.allow_quoted_newlines = vv->quoted_newlines;
    if (vv->max_row_size) {
        o.max_row_size = vv->max_row_size;
    }
    if (vv->max_value_size) {
        o.max_value_size = vv->max_value_size;
    }
    struct sl_row_sink rs = {rows_sink, &r->rows};
    struct sl_reject_sink js = {rejects_sink, &r->rejects};
    struct sl_error err = {0};
    memset(&r->st, 0, sizeof(r->st));
    int rc;
    if (threads > 1) {
        rc = sl_validate_file_parallel(t, &o, path, threads, &js, &r->st, &err);
    } else {
        struct sl_validator *v = NULL;
        assert_int_equal(sl_validator_create(t, &o, &v, &err), SL_OK);
        rc = sl_validate_file(v, path, with_rows ? &rs : NULL, &js, &r->st, &err);
        sl_validator_destroy(v);
    }
    if (rc != SL_OK) {
        fail_msg("validating %s: %s", path, err.msg);
    }
}

static void vrun_free(struct vrun *r)
{
    sb_free(&r->rows);
    sb_free(&r->rejects);
}

static size_t count_lines(const struct sb *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++) {
        n += b->s[i] == '\n';
    }
    return n;
}

/* a and b rendered the same? Prints the first difference. */
static bool same(const char *what, const char *name_a, const struct sb *a, const char *name_b,
                 const struct sb *b)
{
    if (a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0)) {
        return true;
    }
    size_t oa, ob;
    size_t line = first_diff_line(a, b, &oa, &ob);
    fprintf(stderr, "%s differ at line %zu of the rendering:\n", what, line + 1);
    print_line(name_a, a, oa);
    print_line(name_b, b, ob);
    return false;
}

static bool same_stats(const char *name, const struct sl_file_stats *a,
                       const struct sl_file_stats *b)
{
    if (a->rows == b->rows && a->valid == b->valid && a->rejected == b->rejected &&
        a->too_many_bad == b->too_many_bad) {
        return true;
    }
    fprintf(stderr, "%s: stats differ: rows %llu/%llu valid %llu/%llu rejected %llu/%llu\n", name,
            (unsigned long long)a->rows, (unsigned long long)b->rows, (unsigned long long)a->valid,
            (unsigned long long)b->valid, (unsigned long long)a->rejected,
            (unsigned long long)b->rejected);
    return false;
}

static char *write_temp(const struct sb *data)
{
    const char *dir = getenv("TMPDIR");
    char *path = malloc(4096);
    assert_non_null(path);
    snprintf(path, 4096, "%s/sluice-fastpath.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t off = 0;
    while (off < data->len) {
        ssize_t w = write(fd, data->s + off, data->len - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
    return path;
}

/* Generate one file, validate it with the general path and the fast path (and
 * optionally mapped and parallel), compare. Returns false on a mismatch (the
 * file is then kept and named). */
static bool compare_paths(const struct sl_table *t, const struct vvariant *vv, unsigned div)
{
    const char *name = vv->name;
    const bool parallel = vv->parallel;
    const size_t n_records = parallel ? vv->n_records : vv->n_records / div;
    struct sb data = {0};
    g_delim = vv->delim ? vv->delim : ',';
    g_quote = vv->quote ? vv->quote : '"';
    gen_csv(&data, vv->spec, n_records, vv->shuffle, vv->marker, vv->skip_leading_rows);
    char *path = write_temp(&data);
    struct vrun g = {0}, f = {0}, m = {0}, p = {0};
    run_validate(t, path, vv, true, true, 1, &g);
    run_validate(t, path, vv, false, true, 1, &f);
    run_validate(t, path, vv, false, false, 1, &m);
    bool ok = same("valid rows", "general", &g.rows, "fast   ", &f.rows) &&
              same("rejects", "general", &g.rejects, "fast   ", &f.rejects) &&
              same("rejects (no row sink)", "general", &g.rejects, "mapped ", &m.rejects) &&
              same_stats(name, &g.st, &f.st) && same_stats(name, &g.st, &m.st);
    if (parallel) {
        run_validate(t, path, vv, false, false, 2, &p);
        ok = ok && same("rejects (parallel)", "general ", &g.rejects, "parallel", &p.rejects) &&
             same_stats(name, &g.st, &p.st);
    }
    printf("validator [%s: %s]: %zu bytes, %llu rows: %llu valid, %llu rejected%s\n",
           vv->spec->table, name, data.len, (unsigned long long)g.st.rows,
           (unsigned long long)g.st.valid, (unsigned long long)g.st.rejected,
           parallel ? " (also parallel)" : "");
    if (ok) {
        /* the counts are sane and match the renderings (rows stop at max_bad) */
        if (vv->max_bad == 0) {
            assert_false(g.st.too_many_bad);
            assert_int_equal(count_lines(&g.rows), g.st.valid);
        } else {
            assert_true(g.st.too_many_bad);
            assert_true(count_lines(&g.rows) < g.st.valid);
        }
        assert_int_equal(count_lines(&g.rejects), g.st.rejected);
        assert_int_equal(g.st.valid + g.st.rejected, g.st.rows);
        assert_true(g.st.valid > g.st.rows / 20);
        assert_true(g.st.rejected > g.st.rows / 20);
        assert_true(g.st.rows >= n_records * 9 / 10);
        unlink(path);
    } else {
        fprintf(stderr, "[%s: %s]: the input is kept in %s\n", vv->spec->table, name, path);
    }
    free(path);
    vrun_free(&g);
    vrun_free(&f);
    vrun_free(&m);
    vrun_free(&p);
    sb_free(&data);
    return ok;
}

/* 4. FLOAT64 text: sl__coerce_float64 (whose fast path divides an exact
 * mantissa by an exact power of ten) vs strtod, bit for bit, on random
 * decimals of 1..21 integer and 0..24 fraction digits, signed or not, and a
 * few hand cases at the edges of the fast path (2^53, 19 digits, 22 fraction
 * digits, -0). */
static void test_float_vs_strtod(void **state)
{
    (void)state;
    static const char *const hand[] = {
        "9007199254740992",  "9007199254740993",    "1234567890123456789", "0.1",
        "-0",                "-0.0",                "0.0000000000000000000001",
        "123.4567890123456", "1.7976931348623157",  "2491.87",
        "4503599627370497.5", "99999999999999999999",
    };
    size_t n = 300000 / slow_div(), bad = 0;
    char buf[64];
    rng = 0x5deece66dull;
    for (size_t it = 0; it < n + SL_ARRAY_LEN(hand); it++) {
        size_t k = 0;
        if (it < SL_ARRAY_LEN(hand)) {
            k = strlen(hand[it]);
            memcpy(buf, hand[it], k + 1);
        } else {
            if (rn(2)) {
                buf[k++] = '-';
            }
            size_t il = 1 + rn(21), fl = rn(4) ? rn(25) : 0;
            for (size_t j = 0; j < il; j++) {
                /* no leading zero: not a FLOAT64 spelling sluice takes */
                buf[k++] = (char)('0' + (j == 0 && il > 1 ? 1 + rn(9) : rn(10)));
            }
            if (fl > 0) {
                buf[k++] = '.';
                for (size_t j = 0; j < fl; j++) {
                    buf[k++] = (char)('0' + rn(10));
                }
            }
            buf[k] = '\0';
        }
        double a = 0;
        const char *why = NULL;
        int rc = sl__coerce_float64(buf, k, &a, &why);
        double b = strtod(buf, NULL);
        b = b == 0.0 ? 0.0 : b; /* sl__coerce_float64 stores no -0.0 */
        if (rc != SL_OK || memcmp(&a, &b, sizeof(a)) != 0) {
            if (bad++ < 10) {
                printf("float mismatch: \"%s\": rc %d %.17g, strtod %.17g\n", buf, rc, a, b);
            }
        }
    }
    printf("float vs strtod: %zu strings, %zu mismatches\n", n + SL_ARRAY_LEN(hand), bad);
    assert_int_equal(bad, 0);
}

static void test_validator_fast_vs_general(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/samples/schemas", SL_SOURCE_DIR);
    struct sl_error err = {0};
    struct sl_registry *reg = NULL;
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    const struct sl_table *eq = sl_registry_find(reg, "equipment_flat");
    assert_non_null(eq);
    struct sl_table *mx = tu_table(MIXED_SCHEMA);
    const struct tspec mixed = {"mixed", N_MIXED, mixed_cols(), mixed_row};
    const unsigned div = slow_div();
    rng = 0xd1b54a32d192ed03ull;
    double t0 = now_s();
    const struct vvariant vv[] = {
        {.name = "header in table order", .spec = &EQUIPMENT, .n_records = 3000},
        {.name = "shuffled header", .spec = &EQUIPMENT, .n_records = 1500, .shuffle = true},
        {.name = "allow_jagged + ignore_unknown",
         .spec = &EQUIPMENT,
         .n_records = 1500,
         .shuffle = true,
         .allow_jagged = true,
         .ignore_unknown = true},
        {.name = "null marker NULL", .spec = &EQUIPMENT, .n_records = 1500, .marker = "NULL"},
        {.name = "max_row_size 190, max_value_size 40, skip_leading_rows 3",
         .spec = &EQUIPMENT,
         .n_records = 1500,
         .max_row_size = 190,
         .max_value_size = 40,
         .skip_leading_rows = 3},
        {.name = "max_bad 7", .spec = &EQUIPMENT, .n_records = 1000, .max_bad = 7},
        /* over 1 MB: the parallel path takes it (one part per 8 MB) */
        {.name = "parallel", .spec = &EQUIPMENT, .n_records = 8000, .parallel = true},
        {.name = "header in table order", .spec = &mixed, .n_records = 3000},
        {.name = "shuffled header, null marker \\N",
         .spec = &mixed,
         .n_records = 1500,
         .shuffle = true,
         .marker = "\\N"},
        {.name = "delim ';' quote '\\''",
         .spec = &mixed,
         .n_records = 1500,
         .delim = ';',
         .quote = '\''},
        {.name = "ISO-8859-1", .spec = &mixed, .n_records = 1500, .latin1 = true},
        {.name = "allow_quoted_newlines, allow_jagged",
         .spec = &mixed,
         .n_records = 1500,
         .quoted_newlines = true,
         .allow_jagged = true},
    };
    size_t bad = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(vv); i++) {
        bad += !compare_paths(vv[i].spec == &mixed ? mx : eq, &vv[i], div);
    }
    printf("validator fast vs general: %.2f s\n", now_s() - t0);
    sl_table_destroy(mx);
    sl_registry_destroy(reg);
    if (bad > 0) {
        fail_msg("%zu of %zu files: the fast row path disagrees with the general path", bad,
                 SL_ARRAY_LEN(vv));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_index_hand),
        cmocka_unit_test(test_csv_index_window),
        cmocka_unit_test(test_csv_index_vs_next),
        cmocka_unit_test(test_timestamp_hand),
        cmocka_unit_test(test_timestamp_fast_vs_general),
        cmocka_unit_test(test_float_vs_strtod),
        cmocka_unit_test(test_validator_fast_vs_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
