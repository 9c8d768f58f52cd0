/* harness_chnative.c - fuzz body for the ClickHouse driver's response
 * parsers: what a server (or anything listening on its port) sends back.
 * The first byte picks what the rest is:
 *   0: a Native result (clickhouse_native.c): blocks parsed one after the
 *      other, every value of every row read;
 *   1: a response body (clickhouse_resp.c): the exception found in it and
 *      the verdict for a 200 and a 500 status;
 *   2: a ClickHouse type name (the reader's type parser).
 * Invariants:
 *  - a block either parses (using at most the bytes given, and then reads
 *    back every value) or asks for more bytes (need > 0, and every prefix
 *    of a parsed block asks for more) or fails with -SL_EWAREHOUSE /
 *    -SL_ENOMEM and a message;
 *  - an exception's code is what follows "Code: " and its message is one
 *    line; a 200 without an exception is SL_OK, anything else a negative
 *    code of a known class, with a message;
 *  - a type name parses or fails with a message.
 * tests; included by fuzz_chnative.c and tests/conformance/test_fuzz_replay.c.
 */
#include "core/common.h"

#include "fuzz_common.h"
#include "warehouse/clickhouse_int.h"

static void hcn_block_values(const struct ch_block *b)
{
    struct sl_arena a;
    sl__arena_init(&a, 4096);
    size_t rows = sl__ch_block_rows(b), cols = sl__ch_block_cols(b);
    for (size_t r = 0; r < rows && r < 4096; r++) {
        for (size_t c = 0; c < cols; c++) {
            struct sl_val v;
            struct sl_error err = {0};
            int rc = sl__ch_block_value(b, c, r, &a, &v, &err);
            FZ_CHECK(rc == SL_OK || rc == -SL_EWAREHOUSE || rc == -SL_ENOMEM,
                     "value: %d", rc);
            FZ_CHECK(rc == SL_OK || err.msg[0] != '\0', "no message");
        }
        sl__arena_reset(&a);
    }
    sl__arena_release(&a);
}

static void hcn_native(const char *p, size_t n)
{
    while (n > 0) {
        struct ch_block *b = NULL;
        size_t used = 0, need = 0;
        struct sl_error err = {0};
        int rc = sl__ch_block_parse(p, n, &b, &used, &need, &err);
        if (rc != SL_OK) {
            FZ_CHECK(rc == -SL_EWAREHOUSE || rc == -SL_ENOMEM, "parse: %d", rc);
            FZ_CHECK(err.msg[0] != '\0', "parse failed without a message");
            FZ_CHECK(b == NULL, "a block on failure");
            return;
        }
        if (b == NULL) {
            FZ_CHECK(need > 0, "neither a block nor a need");
            return;
        }
        FZ_CHECK(used > 0 && used <= n, "used %zu of %zu", used, n);
        /* every strict prefix of the block asks for more (or fails the same
           way a malformed block does: never a block) */
        for (size_t k = used > 64 ? used - 64 : 0; k < used; k++) {
            struct ch_block *b2 = NULL;
            size_t u2 = 0, n2 = 0;
            struct sl_error e2 = {0};
            int r2 = sl__ch_block_parse(p, k, &b2, &u2, &n2, &e2);
            FZ_CHECK(b2 == NULL, "prefix %zu of %zu parsed", k, used);
            FZ_CHECK(r2 != SL_OK || n2 > 0, "prefix %zu: no need", k);
            sl__ch_block_free(b2);
        }
        hcn_block_values(b);
        sl__ch_block_free(b);
        p += used;
        n -= used;
    }
}

static void hcn_response(const char *p, size_t n)
{
    struct sl_ch_exc ex;
    bool found = false;
    sl__ch_find_exception(p, n, NULL, &ex, &found);
    FZ_CHECK(strchr(ex.msg, '\n') == NULL, "a message of several lines");
    FZ_CHECK(found || ex.code == 0, "a code without an exception");
    static const long statuses[] = {200, 500, 401};
    for (size_t i = 0; i < SL_ARRAY_LEN(statuses); i++) {
        struct sl_http_resp r = {.status = statuses[i]};
        r.body.data = (char *)p;
        r.body.len = n;
        struct sl_error err = {0};
        int rc = sl__ch_judge("h:1", "u", &r, &err);
        if (statuses[i] == 200 && !found) {
            FZ_CHECK(rc == SL_OK, "a plain 200 judged %d", rc);
        } else {
            FZ_CHECK(rc < 0 && err.msg[0] != '\0', "judged %d", rc);
            const char *cls = sl_errclass(rc);
            FZ_CHECK(strcmp(cls, "fatal") == 0 || strcmp(cls, "transient") == 0,
                     "class %s", cls);
        }
    }
}

static void hcn_type(const char *p, size_t n)
{
    struct ch_ntype t;
    struct sl_error err = {0};
    int rc = sl__ch_ntype_parse(p, n, &t, &err);
    if (rc == SL_OK) {
        sl__ch_ntype_free(&t);
    } else {
        FZ_CHECK(rc == -SL_EWAREHOUSE || rc == -SL_ENOMEM, "type: %d", rc);
        FZ_CHECK(err.msg[0] != '\0', "type failed without a message");
    }
}

static int harness_chnative(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0:
        hcn_native(p, n);
        break;
    case 1:
        hcn_response(p, n);
        break;
    default:
        hcn_type(p, n);
        break;
    }
    return 0;
}
