/* test_pattern.c - the simple-pattern matcher (src/validate/pattern.c) against
 * PCRE2 itself: the patterns of the sample schemas take the fast path, others
 * are left to PCRE2, and on random patterns and texts every answer the fast
 * path gives equals PCRE2's (compiled with the rule loader's options). */
#include "core/common.h"
#include "validate/validate_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

static pcre2_code *re_compile(const char *pat)
{
    int ec;
    PCRE2_SIZE eo;
    /* the options of src/schema/rules.c */
    return pcre2_compile((PCRE2_SPTR)pat, strlen(pat),
                         PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF, &ec, &eo,
                         NULL);
}

static int re_match(pcre2_code *re, pcre2_match_data *md, const char *s, size_t n)
{
    return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
}

static struct sl_spat *fast(const char *pat)
{
    struct sl_spat *sp = NULL;
    assert_int_equal(sl__spat_compile(pat, strlen(pat), &sp), SL_OK);
    return sp;
}

struct pcase {
    const char *pat;
    const char *yes[4]; /* texts that match */
    const char *no[4];  /* texts that do not */
};

/* every pattern of samples/schemas and ../shared/bench/schemas */
static const struct pcase real[] = {
    {"^([0-9A-F]{2}:){5}[0-9A-F]{2}$", {"00:1A:2B:3C:4D:5E"}, {"00:1A:2B:3C:4D", "00:1a:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E:"}},
    {"^AT-[0-9]{7}$", {"AT-1234567"}, {"AT-123456", "AT_1234567", "AT-12345678"}},
    {"^UC[A-Za-z0-9_-]{22}$", {"UCabcdefghijklmnopqrstu_"}, {"UCabc", "UCabcdefghijklmnopqrstu!"}},
    {"^[0-9A-F]{8}$", {"DEADBEEF"}, {"deadbeef", "DEADBEE"}},
    {"^[0-9]{15}$", {"490154203237518"}, {"49015420323751", "49015420323751X"}},
    {"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
     {"123e4567-e89b-42d3-a456-426614174000"},
     {"123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-42d3-c456-426614174000"}},
    {"^[A-HJ-NPR-Z0-9]{17}$", {"WDDSKCH90MA409497"}, {"WDDSKCH90MA40949I", "WDDSKCH90MA40949", "WDDSKCH90MA4094977"}},
    {"^[A-Z0-9][A-Z0-9 -]{1,11}$", {"AB", "A-B C-D E-F"}, {"A", "-AB", "A-B C-D E-FGH"}},
    {"^[A-Z0-9][A-Z0-9-]{5,23}$", {"SN-12345", "A12345"}, {"A1234", "-12345", "SN 12345"}},
    {"^[A-Z]{3}[A-HJ-NPR-Z0-9]{5}[A-L][0-9]{3}$", {"ABC12345D678"}, {"ABC1234OD678", "ABC12345M678"}},
    {"^[A-Za-z0-9_-]{11}$", {"dQw4w9WgXcQ"}, {"dQw4w9WgXc", "dQw4w9WgXc!"}},
    {"^[PCBU][0-3][0-9A-F]{3}$", {"P0420", "U3FFF"}, {"P4420", "X0420", "P042"}},
    {"^\\[.*\\]$", {"[]", "[\"a\",\"b\"]", "[[]]"}, {"[", "]", "[\n]", "x[]"}},
    {"^usr_[0-9a-z]{12}$", {"usr_0123456789ab"}, {"usr_0123456789aB", "usr_0123456789a"}},
};

static void test_real_patterns(void **state)
{
    (void)state;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (size_t i = 0; i < SL_ARRAY_LEN(real); i++) {
        const struct pcase *c = &real[i];
        struct sl_spat *sp = fast(c->pat);
        pcre2_code *re = re_compile(c->pat);
        if (sp == NULL || re == NULL) {
            fail_msg("%s: not compiled (fast %p, pcre2 %p)", c->pat, (void *)sp, (void *)re);
        }
        for (int k = 0; k < 4; k++) {
            const char *y = c->yes[k], *n = c->no[k];
            if (y != NULL && (sl__spat_match(sp, y, strlen(y)) != 1 || !re_match(re, md, y, strlen(y)))) {
                fail_msg("%s should match '%s'", c->pat, y);
            }
            if (n != NULL && (sl__spat_match(sp, n, strlen(n)) != 0 || re_match(re, md, n, strlen(n)))) {
                fail_msg("%s should not match '%s'", c->pat, n);
            }
        }
        /* non-ASCII text is PCRE2's to decide unless the answer is the same */
        int m = sl__spat_match(sp, "\xc3\xa9", 2);
        if (m >= 0 && m != re_match(re, md, "\xc3\xa9", 2)) {
            fail_msg("%s on e-acute: fast %d", c->pat, m);
        }
        sl__spat_free(sp);
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
}

/* Texts that end where the page after them is unmapped, of every length up to
 * 80 bytes, and empty texts pointing at that page: the matcher must read none
 * of it (its plain 64-byte load is for texts that cannot leave their page; ASan
 * does not watch it). A read there is a crash. */
static void test_page_end(void **state)
{
    (void)state;
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    size_t compared = 0;
    static const char *const pats[] = {"^[A-Z]*$", "^\\[.*\\]$", "^[A-HJ-NPR-Z0-9]{17}$",
                                       "^AT-[0-9]{7}$", "^[0-9a-f]{8}-[0-9a-f]{4}$", "^x?$"};
    for (size_t k = 0; k < SL_ARRAY_LEN(pats); k++) {
        struct sl_spat *sp = fast(pats[k]);
        pcre2_code *re = re_compile(pats[k]);
        assert_non_null(sp);
        assert_non_null(re);
        for (size_t n = 0; n <= 80; n++) {
            char *t = (char *)m + pg - n;
            for (size_t i = 0; i < n; i++) {
                t[i] = pats[k][1] == '\\' ? (i == 0 ? '[' : i + 1 == n ? ']' : 'a')
                                           : (char)("AT-0123456789abcdefXYZ"[(i * 7 + n) % 22]);
            }
            /* (main runs this once per matcher) */
            int got = sl__spat_match(sp, t, n);
            if (got >= 0) {
                compared++;
                if (got != re_match(re, md, n ? t : "", n)) {
                    fail_msg("/%s/ on %zu bytes at a page end: fast %d", pats[k], n, got);
                }
            }
        }
        sl__spat_free(sp);
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    munmap(m, 2 * (size_t)pg);
    assert_true(compared > 200);
}

/* Long texts: the 16-byte ASCII check and the scan for the bytes a class
 * leaves out, at every position. */
static void test_long_texts(void **state)
{
    (void)state;
    static const char *const pats[] = {"^\\[.*\\]$", "^a[^,;]*$", "^[^\\n]{3,}b$", "^x"};
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    char text[80];
    size_t compared = 0;
    for (size_t k = 0; k < SL_ARRAY_LEN(pats); k++) {
        struct sl_spat *sp = fast(pats[k]);
        pcre2_code *re = re_compile(pats[k]);
        assert_non_null(sp);
        assert_non_null(re);
        for (size_t n = 2; n < sizeof(text); n++) {
            for (size_t at = 0; at <= n; at++) {
                static const char odd[] = {'\n', ',', ';', 'b', '\xc3', '[', ']', 'x', 'e'};
                memset(text, 'a', n);
                text[0] = pats[k][1] == '\\' ? '[' : pats[k][1] == 'x' ? 'x' : 'a';
                text[n - 1] = pats[k][1] == '\\' ? ']' : 'b';
                if (at < n) {
                    text[at] = odd[(n + at) % sizeof(odd)];
                    if (text[at] == 'e' && at + 1 < n) {
                        text[at] = '\xc3'; /* a whole e-acute */
                        text[at + 1] = '\xa9';
                    }
                }
                int got = sl__spat_match(sp, text, n);
                int want = re_match(re, md, text, n);
                if (got >= 0) {
                    compared++;
                    if (got != want) {
                        fail_msg("/%s/ on %zu bytes, odd byte at %zu: fast %d, PCRE2 %d",
                                 pats[k], n, at, got, want);
                    }
                }
            }
        }
        sl__spat_free(sp);
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    assert_true(compared > 10000);
}

static void test_outside_subset(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "^(a|b)$", "(?i)^abc$", "^a+b+$", "abc", "^[[:alpha:]]$", "^a*?$", "^a++$", "^\\s$",
        "^[]a]$", "^a{,3}$", "^a{2,1}$", "^\\bx$", "^(a)+$", "^(a{1,2}){2}$", "^é$", "^a$b",
        "^a{$", "^a)$", "^\\1$", "^[a-\\d]$", "^[\\d-z]$", "^[z-a]$", "^a$$", "^\\x41$",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(pats); i++) {
        struct sl_spat *sp = fast(pats[i]);
        if (sp != NULL) {
            fail_msg("%s: taken by the fast path", pats[i]);
        }
    }
}

/* ---- random differential ---------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Pieces over a small alphabet, so random texts often match. */
static const char *const atoms[] = {
    "a", "b", "0", "-", ":", ".", "[ab]", "[a-b0]", "[^a]", "[^ab-]", "\\d", "\\w", "\\.", "\\-",
    "\\[", "[-a]", "[a-]", "[0-9a]", "[\\]a]", "[^\\n]", "\\t", "(ab)", "(?:a0)", "(a[b0])", "[.]", "[$]",
    "|", "(a|b)", "[[:digit:]]", "\\s", " ", "\\n",
};
static const char *const quants[] = {
    "", "", "", "", "?", "*", "+", "{2}", "{0}", "{1,3}", "{0,2}", "{2,}", "*?", "++", "{3}",
};
static const char alphabet[] = "ab0-:.[]\n -A\t";

static void random_pattern(char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (rnd(6) != 0) {
        out[o++] = '^';
    }
    unsigned n = 1 + rnd(5);
    for (unsigned i = 0; i < n; i++) {
        const char *a = atoms[rnd(SL_ARRAY_LEN(atoms))];
        const char *q = quants[rnd(SL_ARRAY_LEN(quants))];
        o += (size_t)snprintf(out + o, cap - o, "%s%s", a, q);
    }
    if (rnd(6) != 0) {
        snprintf(out + o, cap - o, "$");
    }
}

static size_t random_text(char *out, size_t cap)
{
    size_t n = rnd(12);
    /* sometimes long runs over two letters, for the 16-byte steps */
    unsigned sub = rnd(4) == 0 ? 2 : (unsigned)sizeof(alphabet) - 1, off = rnd(8);
    if (sub == 2 || rnd(20) == 0) {
        n = rnd((unsigned)cap);
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = rnd(50) == 0 ? '\0' : alphabet[(off + rnd(sub)) % (sizeof(alphabet) - 1)];
    }
    if (n >= 2 && rnd(30) == 0) {
        out[n - 2] = '\xc3'; /* non-ASCII at the end */
        out[n - 1] = '\xa9';
    }
    /* characters of 2, 3 and 4 bytes anywhere (NEL and LINE SEPARATOR among
     * them: newlines to some, not to PCRE2's default), sometimes cut short */
    static const char *const wide[] = {"\xc3\xa9", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80", "\xc3"};
    for (unsigned k = rnd(4) == 0 ? 1 + rnd(3) : 0; k > 0; k--) {
        const char *w = wide[rnd(SL_ARRAY_LEN(wide))];
        size_t wl = strlen(w), at = rnd((unsigned)n + 1);
        if (n + wl > cap) {
            break;
        }
        memmove(out + at + wl, out + at, n - at);
        memcpy(out + at, w, wl);
        n += wl;
    }
    return n;
}

static void test_random_against_pcre2(void **state)
{
    (void)state;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    size_t fast_patterns = 0, decided = 0, matched = 0, decided_wide = 0;
    char pat[256], text[64];
    for (int i = 0; i < 4000; i++) {
        random_pattern(pat, sizeof(pat));
        pcre2_code *re = re_compile(pat);
        struct sl_spat *sp = fast(pat);
        if (re == NULL) {
            /* PCRE2 refuses it, so no rule can hold it: nothing to compare */
            sl__spat_free(sp);
            continue;
        }
        if (sp != NULL) {
            fast_patterns++;
            for (int k = 0; k < 200; k++) {
                size_t n = random_text(text, sizeof(text));
                int got = sl__spat_match(sp, text, n);
                int want = re_match(re, md, text, n);
                if (got >= 0) {
                    decided++;
                    matched += (size_t)got;
                    for (size_t j = 0; j < n; j++) {
                        if ((unsigned char)text[j] >= 0x80) {
                            decided_wide++;
                            break;
                        }
                    }
                    if (got != want) {
                        fail_msg("pattern /%s/ text '%.*s' (%zu bytes): fast %d, PCRE2 %d", pat,
                                 (int)n, text, n, got, want);
                    }
                }
            }
        }
        sl__spat_free(sp);
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    /* the comparison must have had something to compare */
    assert_true(fast_patterns > 500);
    assert_true(decided > 100000);
    assert_true(matched > decided / 50);
    assert_true(decided_wide > 1000); /* on texts with non-ASCII characters */
    printf("# %zu patterns on the fast path, %zu answers compared (%zu on non-ASCII text), "
           "%zu matches\n",
           fast_patterns, decided, decided_wide, matched);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_patterns),
        cmocka_unit_test(test_page_end),
        cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_outside_subset),
        cmocka_unit_test(test_random_against_pcre2),
    };
    /* once for each matcher the CPU can run (plain, AVX-512) */
    int failed = 0;
    for (int want = 0; want <= 1; want++) {
        if (sl__spat_isa(want) != want) {
            printf("# no AVX-512 on this CPU: its matcher is not tested\n");
            continue;
        }
        printf("# the %s matcher\n", want ? "AVX-512" : "plain");
        failed += cmocka_run_group_tests(tests, NULL, NULL);
    }
    sl__spat_isa(-1);
    return failed;
}
