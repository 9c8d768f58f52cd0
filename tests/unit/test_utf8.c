/* test_utf8.c - sl__utf8_valid's AVX-512 path (64 bytes a step, coerce.c)
 * against sl__utf8_count's verdict (whose own tables are in test_coerce.c); the
 * tests skip on a CPU without AVX-512 BW/VBMI:
 *  - every sequence of three bytes (all 2^24), behind 0..69 ASCII bytes and
 *    before 0..4 more, so that it meets every 64-byte step boundary;
 *  - random texts up to 300 bytes of ASCII, whole characters of 2..4 bytes,
 *    the bytes that border the valid ranges (C0 C1 C2 DF E0 ED EF F0 F4 F5 FF,
 *    80 8F 90 9F A0 BF) and cut characters;
 *  - a 4 KB text of valid characters cut at every byte.
 * Iterations drop tenfold under valgrind or with SL_TEST_QUICK. */
#include "core/common.h"

#include "../support/difftest.h"
#include "validate/coerce.h"

static const char *const isa_names[] = {"sl__utf8_count", "AVX-512"};

/* Switch to the AVX-512 path, or skip the test. */
static void avx512_or_skip(void)
{
    if (sl__utf8_isa(1) != 1) {
        sl__utf8_isa(-1);
        printf("# no AVX-512 BW/VBMI on this CPU: nothing to compare\n");
        skip();
    }
}

static bool want_valid(const char *p, size_t n)
{
    return sl__utf8_count(p, n) >= 0;
}

static void check(const char *buf, size_t n, int isa, const char *what)
{
    char *p = dup_exact(buf, n);
    bool got = sl__utf8_valid(p, n), want = want_valid(p, n);
    if (got != want) {
        struct sb b = {0};
        sb_esc(&b, p, n);
        sb_addc(&b, '\0');
        fail_msg("%s (%s): [%s] (%zu bytes): valid %d, sl__utf8_count says %d", what,
                 isa_names[isa], b.s, n, got, want);
    }
    free(p);
}

static void test_every_three_bytes(void **state)
{
    (void)state;
    const unsigned step = slow_div() > 1 ? 97 : 1;
    avx512_or_skip();
    {
        const int isa = 1; /* named in the messages */
        size_t n_valid = 0, n_all = 0;
        char buf[80];
        memset(buf, 'a', sizeof(buf));
        for (uint32_t v = 0; v < (1u << 24); v += step) {
            size_t pre = (v * 2654435761u >> 8) % 70, suf = v % 5;
            memset(buf, 'a', sizeof(buf));
            buf[pre] = (char)(v >> 16);
            buf[pre + 1] = (char)(v >> 8);
            buf[pre + 2] = (char)v;
            size_t n = pre + 3 + suf;
            bool got = sl__utf8_valid(buf, n);
            if (got != want_valid(buf, n)) {
                check(buf, n, isa, "three bytes"); /* fails with the text */
            }
            n_valid += got;
            n_all++;
        }
        printf("# %s: %zu three-byte texts, %zu valid\n", isa_names[isa], n_all, n_valid);
        assert_true(n_valid > n_all / 100 && n_valid < n_all / 2);
    }
    sl__utf8_isa(-1);
}

static void test_random_texts(void **state)
{
    (void)state;
    static const char *const whole[] = {"\xc2\x80", "\xdf\xbf", "\xc3\xa9", "\xe0\xa0\x80",
                                        "\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80",
                                        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80",
                                        "\xf4\x8f\xbf\xbf"};
    static const unsigned char edge[] = {0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4,
                                         0xF5, 0xFF, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF};
    const size_t iters = 300000 / slow_div();
    avx512_or_skip();
    {
        const int isa = 1; /* named in the messages */
        rng = 0x9e3779b97f4a7c15ull;
        size_t n_valid = 0;
        char buf[320];
        for (size_t it = 0; it < iters; it++) {
            size_t target = rn(chance(20) ? 300 : 140), n = 0;
            unsigned odd = chance(50) ? 0 : 1 + (unsigned)rn(3); /* defects */
            while (n < target) {
                if (chance(70)) {
                    buf[n++] = (char)('a' + rn(26));
                } else {
                    const char *w = whole[rn(SL_ARRAY_LEN(whole))];
                    size_t wl = strlen(w);
                    memcpy(buf + n, w, wl);
                    n += wl;
                }
            }
            for (unsigned k = 0; k < odd && n > 0; k++) {
                size_t at = rn(n);
                if (chance(50)) {
                    buf[at] = (char)edge[rn(sizeof(edge))];
                } else {
                    n = at; /* cut, perhaps inside a character */
                }
            }
            check(buf, n, isa, "random text");
            n_valid += want_valid(buf, n);
        }
        assert_true(n_valid > iters / 3 && n_valid < iters);
    }
    sl__utf8_isa(-1);
}

static void test_cut_everywhere(void **state)
{
    (void)state;
    static const char *const chars[] = {"x", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    char buf[4200];
    size_t n = 0;
    for (size_t i = 0; n < 4096; i++) {
        const char *c = chars[(i * 7 + i / 3) % SL_ARRAY_LEN(chars)];
        memcpy(buf + n, c, strlen(c));
        n += strlen(c);
    }
    avx512_or_skip();
    {
        const int isa = 1; /* named in the messages */
        size_t n_cut = 0, n_tried = 0;
        for (size_t k = 0; k <= n; k += slow_div() > 1 ? 7 : 1) {
            check(buf, k, isa, "cut");
            n_cut += !want_valid(buf, k);
            n_tried++;
        }
        assert_true(n_cut > n_tried / 4); /* many cuts fall inside characters */
    }
    sl__utf8_isa(-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_three_bytes),
        cmocka_unit_test(test_random_texts),
        cmocka_unit_test(test_cut_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
