/* test_fastpath_coerce.c - the coercions' fast paths against the code they
 * shortcut, on seeded random input:
 *  - sl__coerce_timestamp (with its fixed-position fast path) vs
 *    sl__coerce_timestamp_general: the same return code, the same microseconds
 *    when SL_OK, the output untouched otherwise, for strings from timestamp
 *    templates with random (often out-of-range) parts and single-byte
 *    mutations of them; plus hand cases with known epoch microseconds;
 *  - sl__coerce_float64 vs strtod, bit for bit.
 * Iterations drop tenfold under valgrind or with SL_TEST_QUICK. */
#include "core/common.h"

#include "../support/difftest.h"
#include "../support/testutil.h"
#include "validate/coerce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the timestamp fast path vs the general parser --------------------- */

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
        /* 2000-02-29 is day 10957 + 31 + 28 = 11016: 951782400 s; + 12 h - 1 h
           30 */
        {"2000-02-29 12:00:00.5+01:30", SL_OK, INT64_C(951820200500000)},
        {"2000-02-29 12:00:00.5 +01:30", SL_OK, INT64_C(951820200500000)},
        {"1969-12-31T23:59:60Z", SL_OK, 0}, /* a leap second is :00 of the next minute */
        /* no seconds, then no fraction */
        {"2022-02-05T08:31Z", SL_OK, INT64_C(1644049860000000)},
        {"2022-02-05 08:31-01:30", SL_OK, INT64_C(1644055260000000)},
        {"2022-02-05T08:31", SL_OK, INT64_C(1644049860000000)},
        {"2022-02-05T08:31.5Z", -SL_EINVAL, 0},
        {"2022-02-05T08:31:Z", -SL_EINVAL, 0},
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
                        "timestamp mismatch: \"%s\": fast rc %d out %lld (%s), "
                        "general rc %d "
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
    printf("timestamp fast vs general: %zu strings (%zu valid, %zu not), %zu "
           "mismatches, "
           "%.2f s\n",
           n, n_ok, n_bad, n_fail, now_s() - t0);
    if (n_fail > 0) {
        fail_msg("%zu of %zu timestamps: sl__coerce_timestamp disagrees with "
                 "the general parser",
                 n_fail, n);
    }
    assert_true(n_ok > n / 5 && n_bad > n / 5);
}

/* FLOAT64 text: sl__coerce_float64 (whose fast path divides an exact
 * mantissa by an exact power of ten) vs strtod, bit for bit, on random
 * decimals of 1..21 integer and 0..24 fraction digits, signed or not, and a
 * few hand cases at the edges of the fast path (2^53, 19 digits, 22 fraction
 * digits, -0). */
/* The mismatches with strtod on the hand cases and the random decimals. */
static size_t float_vs_strtod(int isa)
{
    static const char *const hand[] = {
        "9007199254740992",
        "9007199254740993",
        "1234567890123456789",
        "0.1",
        "-0",
        "-0.0",
        "0.0000000000000000000001",
        "123.4567890123456",
        "1.7976931348623157",
        "2491.87",
        "4503599627370497.5",
        "99999999999999999999",
    };
    size_t n = 300000 / slow_div(), bad = 0;
    char buf[64];
    rng = 0x5deece66dull;
    sl__f64_isa(isa);
    for (size_t it = 0; it < n + SL_ARRAY_LEN(hand); it++) {
        size_t k = 0;
        if (it < SL_ARRAY_LEN(hand)) {
            k = strlen(hand[it]);
            memcpy(buf, hand[it], k + 1);
        } else {
            if (rn(2)) {
                buf[k++] = '-';
            }
            /* half of them short, as most data is (the 16-byte path) */
            bool small = rn(2);
            size_t il = 1 + rn(small ? 8 : 21), fl = rn(4) ? rn(small ? 8 : 25) : 0;
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
                printf("float mismatch (isa %d): \"%s\": rc %d %.17g, strtod %.17g\n", isa, buf,
                       rc, a, b);
            }
        }
    }
    printf("float vs strtod (isa %d): %zu strings, %zu mismatches\n", isa, n + SL_ARRAY_LEN(hand),
           bad);
    sl__f64_isa(-1);
    return bad;
}

/* With the byte loop, then with the 16-byte path where the CPU has it. */
static void test_float_vs_strtod(void **state)
{
    (void)state;
    size_t bad = float_vs_strtod(0);
    if (sl__f64_isa(1) == 1) {
        bad += float_vs_strtod(1);
    } else {
        printf("# no AVX-512 on this CPU: its float path is not tested\n");
    }
    sl__f64_isa(-1);
    assert_int_equal(bad, 0);
}

/* Odd spellings (signs, dots, leading zeros, letters, spaces, empty): the
 * 16-byte path gives the byte loop's answer, code and bits, on every one. */
static void test_float_paths_agree(void **state)
{
    (void)state;
    if (sl__f64_isa(1) != 1) {
        sl__f64_isa(-1);
        skip();
    }
    static const char alpha[] = "0000123456789..--+e ";
    size_t n = 400000 / slow_div(), bad = 0, ok = 0;
    char buf[24];
    rng = 0x1234567887654321ull;
    for (size_t it = 0; it < n; it++) {
        size_t k = rn(19);
        for (size_t j = 0; j < k; j++) {
            buf[j] = alpha[rn(sizeof(alpha) - 1)];
        }
        buf[k] = '\0';
        double a = 7, b = 7;
        const char *wa = NULL, *wb = NULL;
        sl__f64_isa(1);
        int ra = sl__coerce_float64(buf, k, &a, &wa);
        sl__f64_isa(0);
        int rb = sl__coerce_float64(buf, k, &b, &wb);
        if (ra != rb || memcmp(&a, &b, sizeof(a)) != 0) {
            if (bad++ < 10) {
                printf("float paths differ on \"%s\": rc %d %.17g vs rc %d %.17g\n", buf, ra, a,
                       rb, b);
            }
        }
        ok += ra == SL_OK;
    }
    sl__f64_isa(-1);
    printf("float paths: %zu odd strings, %zu valid, %zu differ\n", n, ok, bad);
    assert_int_equal(bad, 0);
    assert_true(ok > n / 20 && ok < n / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp_hand),
        cmocka_unit_test(test_timestamp_fast_vs_general),
        cmocka_unit_test(test_float_vs_strtod),
        cmocka_unit_test(test_float_paths_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
