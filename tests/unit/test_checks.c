/* test_checks.c - rule checks as the row loop runs them (src/validate/checks.c):
 * the folded fast test must never accept what the rules in order reject, and a
 * rejection must name the first failing rule; string sets for enums and `when`
 * values, including growth past the first table and values beyond 64 ids; and
 * the sets themselves, with each lookup the CPU can run (inline words, AVX-512
 * masked loads): every member found with its id, near misses not. */
#include "core/common.h"
#include "../support/difftest.h"
#include "../support/testutil.h"
#include "validate/validate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char *SCHEMA =
    "{\"fields\": ["
    "{\"name\": \"n\", \"type\": \"INTEGER\"},"
    "{\"name\": \"x\", \"type\": \"FLOAT\"},"
    "{\"name\": \"s\", \"type\": \"STRING\"},"
    "{\"name\": \"e\", \"type\": \"STRING\"},"
    "{\"name\": \"k\", \"type\": \"INTEGER\"},"
    "{\"name\": \"m\", \"type\": \"STRING\"},"
    "{\"name\": \"kind\", \"type\": \"STRING\"},"
    "{\"name\": \"grp\", \"type\": \"STRING\"},"
    "{\"name\": \"t\", \"type\": \"STRING\"},"
    "{\"name\": \"b\", \"type\": \"BYTES\"},"
    "{\"name\": \"longer_field_name_than_sixteen\", \"type\": \"INTEGER\"}"
    "],"
    "\"rules\": ["
    " {\"field\": \"n\", \"minimum\": 0, \"maximum\": 10},"
    " {\"field\": \"n\", \"minimum\": 5},"
    " {\"field\": \"x\", \"minimum\": -1.5, \"maximum\": 2.5},"
    " {\"field\": \"s\", \"minLength\": 2, \"maxLength\": 3},"
    " {\"field\": \"e\", \"enum\": [\"v0\",\"v1\",\"v2\",\"v3\",\"v4\",\"v5\",\"v6\",\"v7\",\"v8\",\"v9\",\"v10\",\"v11\",\"v12\",\"v13\",\"v14\",\"v15\",\"v16\",\"v17\",\"v18\",\"v19\",\"v20\",\"v21\",\"v22\",\"v23\",\"v24\",\"v25\",\"v26\",\"v27\",\"v28\",\"v29\",\"v30\",\"v31\",\"v32\",\"v33\",\"v34\",\"v35\",\"v36\",\"v37\",\"v38\",\"v39\", \"red\"]},"
    " {\"field\": \"k\", \"enum\": [1, 2, 30]},"
    " {\"field\": \"m\", \"enum\": [\"a\", \"b\", \"c\", \"d\", \"e\"]},"
    " {\"field\": \"m\", \"enum\": [\"a\", \"b\", \"c\", \"d\"]},"
    " {\"field\": \"m\", \"pattern\": \"^[a-c]$\"},"
    " {\"field\": \"m\", \"enum\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]},"
    " {\"field\": \"m\", \"pattern\": \"^[ab]$\"},"
    " {\"field\": \"t\", \"pattern\": \"^A\", \"when\": {\"field\": \"kind\", \"equals\": \"x\"}},"
    " {\"field\": \"t\", \"pattern\": \"^B\", \"when\": {\"field\": \"kind\", \"in\": [\"y\", \"z\", \"x\"]}},"
    " {\"field\": \"t\", \"minLength\": 3, \"when\": {\"field\": \"grp\", \"in\": [\"g0\",\"g1\",\"g2\",\"g3\",\"g4\",\"g5\",\"g6\",\"g7\",\"g8\",\"g9\",\"g10\",\"g11\",\"g12\",\"g13\",\"g14\",\"g15\",\"g16\",\"g17\",\"g18\",\"g19\",\"g20\",\"g21\",\"g22\",\"g23\",\"g24\",\"g25\",\"g26\",\"g27\",\"g28\",\"g29\",\"g30\",\"g31\",\"g32\",\"g33\",\"g34\",\"g35\",\"g36\",\"g37\",\"g38\",\"g39\",\"g40\",\"g41\",\"g42\",\"g43\",\"g44\",\"g45\",\"g46\",\"g47\",\"g48\",\"g49\",\"g50\",\"g51\",\"g52\",\"g53\",\"g54\",\"g55\",\"g56\",\"g57\",\"g58\",\"g59\",\"g60\",\"g61\",\"g62\",\"g63\",\"g64\",\"g65\",\"g66\",\"g67\",\"g68\",\"g69\"]}},"
    " {\"field\": \"t\", \"required\": true, \"when\": {\"field\": \"kind\", \"equals\": \"need\"}},"
    " {\"field\": \"t\", \"maxLength\": 1, \"when\": {\"field\": \"grp\", \"equals\": \"g69\"}},"
    " {\"field\": \"b\", \"minLength\": 2, \"maxLength\": 3},"
    " {\"field\": \"longer_field_name_than_sixteen\", \"maximum\": 1}"
    "]}";

struct ccase {
    const char *row;
    const char *rule;    /* NULL: valid; else the rule the reason must name */
    const char *field;
};

static const struct ccase cases[] = {
    /* numeric bounds: two minimums fold to 5, but the reason names the rule */
    {"{\"n\": 5}", NULL, NULL},
    {"{\"n\": 10}", NULL, NULL},
    {"{\"n\": 4}", "Rule failed: minimum 5.", "n"},
    {"{\"n\": -1}", "Rule failed: minimum 0.", "n"},
    {"{\"n\": 11}", "Rule failed: maximum 10.", "n"},
    {"{\"n\": \"7\"}", NULL, NULL},
    {"{\"x\": -1.5}", NULL, NULL},
    {"{\"x\": 2.5}", NULL, NULL},
    {"{\"x\": 2.5000001}", "Rule failed: maximum 2.5.", "x"},
    {"{\"x\": \"NaN\"}", "Rule failed: minimum -1.5.", "x"},
    {"{\"x\": \"Infinity\"}", "Rule failed: maximum 2.5.", "x"},
    /* lengths count code points; the byte length only decides for sure */
    {"{\"s\": \"ab\"}", NULL, NULL},
    {"{\"s\": \"abc\"}", NULL, NULL},
    {"{\"s\": \"a\"}", "Rule failed: minLength 2.", "s"},
    {"{\"s\": \"abcd\"}", "Rule failed: maxLength 3.", "s"},
    {"{\"s\": \"\xc3\xa9\"}", "Rule failed: minLength 2.", "s"},
    {"{\"s\": \"\xc3\xa9\xc3\xa9\"}", NULL, NULL},
    {"{\"s\": \"\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL, NULL},
    {"{\"s\": \"\xf0\x9f\x98\x80\"}", "Rule failed: minLength 2.", "s"},
    {"{\"s\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", "Rule failed: maxLength 3.", "s"},
    {"{\"b\": \"AAA=\"}", NULL, NULL},
    {"{\"b\": \"AA==\"}", "Rule failed: minLength 2.", "b"},
    {"{\"b\": \"AAAAAA==\"}", "Rule failed: maxLength 3.", "b"},
    /* enums: a set past its first table; near misses */
    {"{\"e\": \"v0\"}", NULL, NULL},
    {"{\"e\": \"v39\"}", NULL, NULL},
    {"{\"e\": \"red\"}", NULL, NULL},
    {"{\"e\": \"v40\"}", "Rule failed: enum", "e"},
    {"{\"e\": \"v3\\u0000\"}", "Rule failed: enum", "e"},
    {"{\"e\": \"rfd\"}", "Rule failed: enum", "e"},
    {"{\"e\": \"Red\"}", "Rule failed: enum", "e"},
    {"{\"e\": \"\"}", "Rule failed: enum", "e"},
    {"{\"e\": \"v1v1v1v1v1v1v1v1v1\"}", "Rule failed: enum", "e"},
    {"{\"k\": 30}", NULL, NULL},
    {"{\"k\": \"2\"}", NULL, NULL},
    {"{\"k\": 3}", "Rule failed: enum", "k"},
    /* five enum/pattern rules on one field: the first failing one is named */
    {"{\"m\": \"a\"}", NULL, NULL},
    {"{\"m\": \"c\"}", "Rule failed: pattern \"^[ab]$\".", "m"},
    {"{\"m\": \"d\"}", "Rule failed: pattern \"^[a-c]$\".", "m"},
    {"{\"m\": \"e\"}", "Rule failed: enum [a, b, c, d].", "m"},
    {"{\"m\": \"f\"}", "Rule failed: enum [a, b, c, d, e].", "m"},
    /* conditions: one set per `when` field, rules in their order */
    {"{\"kind\": \"x\", \"t\": \"AB\"}", "Rule failed: pattern \"^B\" (when kind in [", "t"},
    {"{\"kind\": \"x\", \"t\": \"BA\"}", "Rule failed: pattern \"^A\" (when kind = ", "t"},
    {"{\"kind\": \"y\", \"t\": \"BA\"}", NULL, NULL},
    {"{\"kind\": \"z\", \"t\": \"AB\"}", "Rule failed: pattern \"^B\" (when kind in [", "t"},
    {"{\"kind\": \"w\", \"t\": \"AB\"}", NULL, NULL},
    {"{\"kind\": \"x\"}", NULL, NULL},
    {"{\"kind\": \"need\"}", "Rule failed: required (when kind = ", "t"},
    {"{\"kind\": \"need\", \"t\": \"\"}", NULL, NULL},
    {"{\"kind\": null, \"t\": \"zz\"}", NULL, NULL},
    {"{\"grp\": \"g0\", \"t\": \"ab\"}", "Rule failed: minLength 3 (when grp in [", "t"},
    {"{\"grp\": \"g63\", \"t\": \"ab\"}", "Rule failed: minLength 3 (when grp in [", "t"},
    {"{\"grp\": \"g64\", \"t\": \"ab\"}", "Rule failed: minLength 3 (when grp in [", "t"},
    {"{\"grp\": \"g69\", \"t\": \"abc\"}", "Rule failed: maxLength 1 (when grp = ", "t"},
    {"{\"grp\": \"g70\", \"t\": \"ab\"}", NULL, NULL},
    {"{\"grp\": \"g6\", \"kind\": \"x\", \"t\": \"Bx\"}", "Rule failed: pattern \"^A\" (when kind = ", "t"},
    /* keys: the compact `"name":` compare, spaces, other orders, long names */
    {"{\"n\":5,\"x\":1,\"s\":\"ab\"}", NULL, NULL},
    {"{\"n\" : 5 , \"x\" :1}", NULL, NULL},
    {"{\"x\":1,\"n\":4}", "Rule failed: minimum 5.", "n"},
    {"{\"N\":4}", "Rule failed: minimum 5.", "n"},
    {"{\"longer_field_name_than_sixteen\":2}", "Rule failed: maximum 1.", "longer_field_name_than_sixteen"},
    {"{\"n\":5,\"nx\":1}", "No such field: nx.", NULL},
    {"{\"n\":5,\"n\":5}", "Multiple definition of field: n", "n"},
    /* short strings at the row's end (fewer than 16 bytes left) */
    {"{\"s\":\"ab\"}", NULL, NULL},
    {"{\"s\":\"a\"}", "Rule failed: minLength 2.", "s"},
    {"{\"s\":\"abc\\\"\"}", "Rule failed: maxLength 3.", "s"},
    {"{\"s\":\"ab\\\"\",\"n\":5,\"x\":2.0,\"e\":\"v7\",\"k\":1}", NULL, NULL},
    {"{\"e\":\"v7\\u0041\",\"n\":5,\"x\":2.0,\"s\":\"ab\",\"k\":1}", "Rule failed: enum", "e"},
    {"{\"e\":\"0123456789abcdef0123456789abcdef0\",\"n\":5}", "Rule failed: enum", "e"},
};

static void test_cases(void **state)
{
    (void)state;
    struct sl_table *t = tu_table(SCHEMA);
    struct sl_vopts o;
    sl_vopts_default(&o);
    struct sl_validator *v = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_validator_create(t, &o, &v, &err), SL_OK);
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        const struct ccase *c = &cases[i];
        struct sl_reject r;
        int rc = sl_validate_ndjson_row(v, c->row, strlen(c->row), NULL, &r);
        if (rc != (c->rule != NULL)) {
            fail_msg("case %zu %s: got %d (%s)", i, c->row, rc, rc == 1 ? r.reason : "accepted");
        }
        if (rc == 1 && strstr(r.reason, c->rule) == NULL) {
            fail_msg("case %zu %s: reason '%s' lacks '%s'", i, c->row, r.reason, c->rule);
        }
        if (rc == 1 && c->field != NULL && (r.field == NULL || strcmp(r.field, c->field) != 0)) {
            fail_msg("case %zu %s: field '%s' want '%s'", i, c->row, r.field ? r.field : "(null)",
                     c->field);
        }
    }
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

/* A string of 0..40 bytes over a small alphabet (so that near misses abound),
 * high bytes among them, or one of 17..74 bytes whose first and last 8 are
 * always the same (the words a set compares first then agree), NUL-terminated
 * (out has room for 80). */
static void rand_str(char *out, size_t *n)
{
    static const char alpha[] = "abAB01_-\x80\xff";
    bool framed = rn(3) == 0;
    size_t len = framed ? 17 + rn(58) : rn(4) == 0 ? rn(41) : rn(18);
    for (size_t i = 0; i < len; i++) {
        out[i] = alpha[rn(sizeof(alpha) - 1)];
    }
    if (framed) {
        memcpy(out, "ABCDEFGH", 8);
        memcpy(out + len - 8, "STUVWXYZ", 8);
    }
    out[len] = '\0';
    *n = len;
}

static void test_strsets(void **state)
{
    (void)state;
    size_t found = 0, missed = 0;
    rng = 0x243f6a8885a308d3ull;
    for (int round = 0; round < 300; round++) {
        size_t want_n = 1 + rn(round % 10 == 0 ? 200 : 12);
        char(*m)[80] = calloc(want_n, sizeof(*m));
        int *ids = calloc(want_n, sizeof(int));
        assert_non_null(m);
        assert_non_null(ids);
        struct strset S = {0};
        for (size_t i = 0; i < want_n; i++) {
            size_t n;
            rand_str(m[i], &n);
            assert_int_equal(sl__strset_add(&S, m[i], &ids[i]), SL_OK);
        }
        for (int isa = 0; isa <= 1; isa++) {
            if (sl__strset_isa(isa) != isa) {
                continue; /* no AVX-512 */
            }
            for (size_t i = 0; i < want_n; i++) {
                /* a copy of exactly its length: a read past it is ASan's */
                size_t n = strlen(m[i]);
                char *c = malloc(n ? n : 1);
                assert_non_null(c);
                memcpy(c, m[i], n);
                if (sl__strset_find(&S, c, n) != ids[i]) {
                    fail_msg("isa %d: member '%s' (%zu bytes) not found as %d", isa, m[i], n,
                             ids[i]);
                }
                found++;
                free(c);
            }
            for (int k = 0; k < 200; k++) {
                char q[80];
                size_t n;
                rand_str(q, &n);
                if (n > 0 && rn(2)) {
                    q[rn(n)] ^= 1; /* one bit off */
                }
                int want = -1;
                for (size_t i = 0; i < want_n; i++) {
                    if (strlen(m[i]) == n && memcmp(m[i], q, n) == 0) {
                        want = ids[i];
                        break;
                    }
                }
                int got = sl__strset_find(&S, q, n);
                if (got != want) {
                    fail_msg("isa %d: '%.*s' (%zu bytes) found as %d, want %d", isa, (int)n, q, n,
                             got, want);
                }
                missed += want < 0;
            }
        }
        sl__strset_release(&S);
        free(m);
        free(ids);
    }
    sl__strset_isa(-1);
    printf("# string sets: %zu members looked up, %zu misses\n", found, missed);
    assert_true(found > 1000 && missed > 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_strsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
