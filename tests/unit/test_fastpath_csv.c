/* test_fastpath_csv.c - the CSV record index (csvindex.c: sl_csv_index,
 * sl_csv_index_next) against the general reader (sl_csv_next), with each mask
 * builder the CPU can run. Walking a buffer with "index when possible, else
 * one record from sl_csv_next" must give exactly the records that sl_csv_next
 * alone gives: status, bytes used, line breaks, field count, each field's
 * bytes and quoted flag, the bad reason. Inputs are random bytes from an
 * alphabet of the special bytes, and random well-formed records (some mutated,
 * some clean and past the 16 KB index window), under the default options, no
 * quoting, tab and ';' delimiters, ISO-8859-1, quoted newlines, a letter as
 * delimiter and quote (the index pads its last block with a letter) and a
 * combination. Also: the index never covers more than its window, and what it
 * takes in hand cases. A mismatch is shrunk (chunks and bytes dropped while it
 * still fails) and printed escaped with both renderings. Iterations drop
 * tenfold under valgrind or with SL_TEST_QUICK. */
#include "core/common.h"

#include "../support/difftest.h"
#include "../support/testutil.h"
#include "parse/csv.h"
#include "parse/csv_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the CSV record index vs sl_csv_next ------------------------------- */

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
                    "CSV index mismatch [%s, %s input of %zu bytes], shrunk to "
                    "%zu bytes:\n"
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

/* The comparison once for each mask builder the CPU can run (SSE2, AVX2,
 * AVX-512). */
static void test_csv_index_vs_next(void **state)
{
    (void)state;
    static const char *const names[] = {"SSE2", "AVX2", "AVX-512"};
    for (int want = 0; want <= 2; want++) {
        int got = sl__csv_index_isa(want);
        if (got != want) {
            printf("csv index: no %s on this CPU, its mask builder is not tested\n",
                   names[want]);
            continue;
        }
        printf("csv index with the %s mask builder\n", names[got]);
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
            fail_msg("%s: only %zu records from the index, %zu from "
                     "sl_csv_next, %zu full windows",
                     co[k].name, n_ix_records, n_next_records, n_full_windows);
        }
        printf("csv index [%s]: %zu records from the index (%zu full windows), "
               "%zu from "
               "sl_csv_next\n",
               co[k].name, n_ix_records, n_full_windows, n_next_records);
    }
    printf("csv index vs sl_csv_next: %zu inputs, %zu mismatches, %.2f s\n", cases, n_csv_fail,
           now_s() - t0);
    if (n_csv_fail > 0) {
        fail_msg("%zu of %zu inputs: the index disagrees with sl_csv_next (see "
                 "above)",
                 n_csv_fail, cases);
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
                fail_msg("record kind %zu, %zu bytes: sl_csv_index took %zu "
                         "bytes (window %zu)",
                         r, in.len, b, SL_CSV_INDEX_WINDOW);
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

/* sl_csv_unescape (16 bytes a step with SSE2) against the byte-at-a-time
 * definition: every pair of quotes kept as one, on random insides up to 80 bytes
 * with quotes in pairs (and some ending in a lone quote, which is kept), read
 * from an exact-size copy and written into exactly len + 16 bytes (ASan catches
 * a byte read or written past either). */
static void test_csv_unescape(void **state)
{
    (void)state;
    const size_t iters = 200000 / slow_div();
    for (size_t it = 0; it < iters; it++) {
        char qb = chance(80) ? '"' : '\'';
        size_t target = rn(chance(10) ? 200 : 81);
        char in[216];
        size_t n = 0;
        while (n < target) {
            if (chance(20) && n + 2 <= target) {
                in[n++] = qb;
                in[n++] = qb;
            } else {
                static const char alpha[] = "ab,[]\n\r\x80\xff ";
                char b = alpha[rn(sizeof(alpha) - 1)];
                in[n++] = b == qb ? 'x' : b;
            }
        }
        if (chance(5)) {
            in[n++] = qb; /* a lone quote at the end */
        }
        char want[216];
        size_t wn = 0;
        for (size_t j = 0; j < n; j++) {
            want[wn++] = in[j];
            if (in[j] == qb && j + 1 < n && in[j + 1] == qb) {
                j++;
            }
        }
        char *src = dup_exact(in, n);
        char *out = malloc(n + 64); /* sl__csv_unescape_ix's room */
        assert_non_null(out);
        /* sl_csv_unescape, then sl__csv_unescape_ix with AVX-512 (with the
         * other mask builders it is sl_csv_unescape) */
        for (int isa = -1; isa <= 2; isa += 3) {
            if (isa >= 0 && sl__csv_index_isa(isa) != isa) {
                continue;
            }
            size_t got = isa < 0 ? sl_csv_unescape(out, src, n, qb)
                                 : sl__csv_unescape_ix(out, src, n, qb);
            if (got != wn || memcmp(out, want, wn) != 0) {
                struct sb b = {0};
                sb_esc(&b, in, n);
                sb_addc(&b, '\0');
                fail_msg("unescape (isa %d) of [%s] (%zu bytes): %zu bytes out, %zu wanted", isa,
                         b.s, n, got, wn);
            }
        }
        sl__csv_index_isa(-1);
        free(out);
        free(src);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_index_hand),
        cmocka_unit_test(test_csv_index_window),
        cmocka_unit_test(test_csv_index_vs_next),
        cmocka_unit_test(test_csv_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
