/* harness_ndjson.c - fuzz body for the NDJSON validator (src/validate/ndjson.c,
 * validator.c, stream.c) against a fixed table with every type, RECORD,
 * REPEATED, JSON and rules. The input is NDJSON; each line goes through
 * sl_validate_ndjson_row. Invariants:
 *  - every non-blank line is either valid or rejected (rows == valid +
 * rejected) and a reject has a reason and an excerpt inside the line;
 *  - a valid row holds values that respect row.h (valid UTF-8, ranges, kinds
 *    matching the schema) and serialises (rowjson.c) to canonical JSON that
 *    validates again to the same canonical JSON (a fixed point);
 *  - ignoring unknown keys only relaxes: a row valid without it is valid with
 *    it, with the same values;
 *  - sl_validate_file over the same bytes (refused as a whole when they are
 *    UTF-16/32 text) counts the same rows, valid and
 *    rejected (the streaming/mapped framing agrees with the row API).
 * tests; included by fuzz_ndjson.c and tests/conformance/test_fuzz_replay.c. */
#include "core/common.h"

#include "fuzz_common.h"
#include "rowjson.c"
#include "parse/input.h"
#include "validate/validator.h"

static const char HN_SCHEMA[] =
    "{\"fields\": ["
    "{\"name\": \"id\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"s\", \"type\": \"STRING\", \"maxLength\": 12},"
    "{\"name\": \"b\", \"type\": \"BYTES\", \"maxLength\": 64},"
    "{\"name\": \"f\", \"type\": \"FLOAT64\"},"
    "{\"name\": \"n\", \"type\": \"NUMERIC\"},"
    "{\"name\": \"n2\", \"type\": \"NUMERIC\", \"precision\": 10, \"scale\": "
    "2},"
    "{\"name\": \"bn\", \"type\": \"BIGNUMERIC\"},"
    "{\"name\": \"bn2\", \"type\": \"BIGNUMERIC\", \"precision\": 40, "
    "\"scale\": 20,"
    " \"roundingMode\": \"ROUND_HALF_EVEN\"},"
    "{\"name\": \"ok\", \"type\": \"BOOL\"},"
    "{\"name\": \"d\", \"type\": \"DATE\"},"
    "{\"name\": \"t\", \"type\": \"TIME\"},"
    "{\"name\": \"dt\", \"type\": \"DATETIME\"},"
    "{\"name\": \"ts\", \"type\": \"TIMESTAMP\"},"
    "{\"name\": \"ts12\", \"type\": \"TIMESTAMP\", \"timestampPrecision\": 12},"
    "{\"name\": \"g\", \"type\": \"GEOGRAPHY\"},"
    "{\"name\": \"j\", \"type\": \"JSON\"},"
    "{\"name\": \"rd\", \"type\": \"RANGE\", \"rangeElementType\": {\"type\": "
    "\"DATE\"}},"
    "{\"name\": \"rt\", \"type\": \"RANGE\", \"rangeElementType\": {\"type\": "
    "\"TIMESTAMP\"}},"
    "{\"name\": \"iv\", \"type\": \"INTERVAL\"},"
    "{\"name\": \"tags\", \"type\": \"STRING\", \"mode\": \"REPEATED\"},"
    "{\"name\": \"nums\", \"type\": \"FLOAT64\", \"mode\": \"REPEATED\"},"
    "{\"name\": \"js\", \"type\": \"JSON\", \"mode\": \"REPEATED\"},"
    "{\"name\": \"addr\", \"type\": \"RECORD\", \"fields\": ["
    "  {\"name\": \"city\", \"type\": \"STRING\"},"
    "  {\"name\": \"zip\", \"type\": \"STRING\", \"mode\": \"REQUIRED\"},"
    "  {\"name\": \"geo\", \"type\": \"RECORD\", \"fields\": ["
    "    {\"name\": \"lat\", \"type\": \"FLOAT64\"},"
    "    {\"name\": \"lon\", \"type\": \"FLOAT64\"}]}]},"
    "{\"name\": \"pts\", \"type\": \"RECORD\", \"mode\": \"REPEATED\", "
    "\"fields\": ["
    "  {\"name\": \"x\", \"type\": \"INT64\", \"mode\": \"REQUIRED\"},"
    "  {\"name\": \"when\", \"type\": \"DATETIME\"},"
    "  {\"name\": \"labels\", \"type\": \"STRING\", \"mode\": \"REPEATED\"}]}"
    "],"
    "\"rules\": ["
    " {\"field\": \"id\", \"minimum\": 0, \"maximum\": 1000000},"
    " {\"field\": \"f\", \"minimum\": -1e300},"
    " {\"field\": \"n2\", \"maximum\": 5000},"
    " {\"field\": \"s\", \"enum\": [\"red\", \"green\", \"blue\", "
    "\"\\u00e9t\\u00e9\"]},"
    " {\"field\": \"addr.city\", \"pattern\": \"^[A-Z]\"},"
    " {\"field\": \"tags\", \"minLength\": 1},"
    " {\"field\": \"addr.zip\", \"pattern\": \"^[0-9]{5}$\","
    "  \"when\": {\"field\": \"s\", \"equals\": \"red\"}},"
    " {\"field\": \"g\", \"required\": true, \"when\": {\"field\": \"s\", "
    "\"in\": [\"blue\"]}}"
    "]}";

struct hn_state {
    struct sl_table *t;
    struct sl_validator *v, *v2; /* v: the input rows; v2: their round trip */
    struct sl_validator *vi;     /* as v with unknown keys ignored */
    struct rj_buf out, out2;
    int calls;
};

static struct hn_state hn;

static int hn_sink1(void *ud, const struct sl_val *cols, size_t n,
                    struct sl_error *err)
{
    (void)ud;
    (void)err;
    hn.out.len = 0;
    rj_row(&hn.out, hn.t, cols, n);
    hn.calls++;
    return SL_OK;
}

static int hn_sink2(void *ud, const struct sl_val *cols, size_t n,
                    struct sl_error *err)
{
    (void)ud;
    (void)err;
    hn.out2.len = 0;
    rj_row(&hn.out2, hn.t, cols, n);
    hn.calls++;
    return SL_OK;
}

static void hn_init(void)
{
    if (hn.t != NULL) {
        return;
    }
    struct sl_error err = {0};
    int rc = sl_table_parse(HN_SCHEMA, strlen(HN_SCHEMA), "fuzz.json", "main",
                            "fuzz", &hn.t, &err);
    FZ_CHECK(rc == SL_OK, "schema: %s (%s)", err.msg, err.column);
    struct sl_vopts o;
    sl_vopts_default(&o);
    rc = sl_validator_create(hn.t, &o, &hn.v, &err);
    FZ_CHECK(rc == SL_OK, "validator: %s", err.msg);
    rc = sl_validator_create(hn.t, &o, &hn.v2, &err);
    FZ_CHECK(rc == SL_OK, "validator: %s", err.msg);
    o.ignore_unknown = true;
    rc = sl_validator_create(hn.t, &o, &hn.vi, &err);
    FZ_CHECK(rc == SL_OK, "validator: %s", err.msg);
}

static bool hn_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

static void hn_check_reject(const struct sl_reject *r, const char *line,
                            size_t n)
{
    FZ_CHECK(r->reason != NULL && r->reason[0] != '\0',
             "reject without a reason");
    FZ_CHECK(strchr(r->reason, '\n') == NULL, "multi-line reason: %s",
             r->reason);
    if (r->value != NULL && r->value_len > 0) {
        /* excerpts point into the row or at static text ("null") */
        bool inside = r->value >= line && r->value + r->value_len <= line + n;
        bool literal =
            r->value_len <= 5 && (memcmp(r->value, "null", r->value_len) == 0 ||
                                  memcmp(r->value, "true", r->value_len) == 0 ||
                                  memcmp(r->value, "false", r->value_len) == 0);
        FZ_CHECK(inside || literal || r->field != NULL,
                 "excerpt outside the row (reason: %s)", r->reason);
    }
}

static int harness_ndjson(const uint8_t *data, size_t size)
{
    hn_init();
    const char *p = (const char *)data, *end = p + size;
    size_t skip = size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    p += skip;
    uint64_t rows = 0, valid = 0, rejected = 0;
    struct sl_row_sink s1 = {hn_sink1, NULL}, s2 = {hn_sink2, NULL};
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n > 0 && !hn_blank(p, n)) {
            rows++;
            struct sl_reject r;
            hn.calls = 0;
            int rc = sl_validate_ndjson_row(hn.v, p, n, &s1, &r);
            FZ_CHECK(rc == 0 || rc == 1, "sl_validate_ndjson_row returned %d",
                     rc);
            FZ_CHECK(hn.calls == (rc == 0 ? 1 : 0),
                     "row delivered %d times (rc %d)", hn.calls, rc);
            if (rc == 1) {
                hn_check_reject(&r, p,
                                n); /* r is borrowed until the next call */
            }
            struct sl_reject ri;
            hn.out2.len = 0;
            int rci = sl_validate_ndjson_row(hn.vi, p, n, &s2, &ri);
            FZ_CHECK(rci == 0 || rci == 1, "sl_validate_ndjson_row returned %d",
                     rci);
            FZ_CHECK(rc == 1 || rci == 0,
                     "valid row rejected with unknown keys ignored: %s",
                     ri.reason);
            if (rc == 0) {
                FZ_CHECK(hn.out.len == hn.out2.len &&
                             memcmp(hn.out.p, hn.out2.p, hn.out.len) == 0,
                         "ignore_unknown changed the row\nrow: %.*s", (int)n,
                         p);
            }
            if (rc == 0) {
                valid++;
                /* round trip: the canonical form validates to itself */
                hn.calls = 0;
                struct sl_reject r2;
                rc = sl_validate_ndjson_row(hn.v2, hn.out.p, hn.out.len, &s2,
                                            &r2);
                FZ_CHECK(rc == 0,
                         "canonical row rejected: %s\nrow: %.*s\ncanonical: %s",
                         rc == 1 ? r2.reason : "error", (int)n, p, hn.out.p);
                FZ_CHECK(hn.out.len == hn.out2.len &&
                             memcmp(hn.out.p, hn.out2.p, hn.out.len) == 0,
                         "round trip changed the row\nrow: %.*s\nonce: "
                         "%s\ntwice: %s",
                         (int)n, p, hn.out.p, hn.out2.p);
            } else {
                rejected++;
            }
        }
        p = nl ? nl + 1 : end;
    }
    FZ_CHECK(rows == valid + rejected,
             "rows %llu != valid %llu + rejected %llu",
             (unsigned long long)rows, (unsigned long long)valid,
             (unsigned long long)rejected);

    /* The file loop must frame the same bytes into the same rows. Inputs that
     * start with a gzip or zstd magic would be decompressed: skip those. */
    bool magic = (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) ||
                 (size >= 4 && memcmp(data, "\x28\xb5\x2f\xfd", 4) == 0);
    if (!magic) {
        const char *path = fz_scratch_file(data, size);
        struct sl_file_stats st;
        struct sl_error err = {0};
        int rc = sl_validate_file(hn.v, path, NULL, NULL, &st, &err);
        bool bom = false;
        const char *wide =
            sl_input_sniff_encoding(data, size < 4 ? size : 4, &bom);
        if (wide != NULL) {
            /* UTF-16/32 text: the file is refused whole, naming it */
            FZ_CHECK(rc == -SL_ECORRUPT && strstr(err.msg, wide) != NULL,
                     "%s text: rc %d: %s", wide, rc, err.msg);
        } else {
            FZ_CHECK(rc == SL_OK, "sl_validate_file: %s", err.msg);
            FZ_CHECK(st.rows == rows && st.valid == valid &&
                         st.rejected == rejected,
                     "file: %llu rows %llu valid %llu rejected; rows: %llu "
                     "%llu %llu",
                     (unsigned long long)st.rows, (unsigned long long)st.valid,
                     (unsigned long long)st.rejected, (unsigned long long)rows,
                     (unsigned long long)valid, (unsigned long long)rejected);
            FZ_CHECK(st.bytes == size - skip, "file: %llu bytes of %zu",
                     (unsigned long long)st.bytes, size - skip);
        }
    }
    return 0;
}
