/* harness_schema.c - fuzz body for the table definition parser (src/schema/):
 * the input is a definition's JSON text. Invariants:
 *  - sl_table_parse and sl_table_parse_ex (problem list on) agree on success,
 *    and a failure always says why (err.msg, or a problem line);
 *  - the flexible-names rule only relaxes the classic one;
 *  - an accepted table is well formed: parent/idx/path links, lookups find
 *    every field by name in any case, counts add up;
 *  - a validator can be built for any accepted table and survives a few rows.
 * tests; included by fuzz_schema.c and tests/conformance/test_fuzz_replay.c. */
#include "core/common.h"

#include "core/buf.h"
#include "fuzz_common.h"
#include "schema/schema.h"
#include "validate/validator.h"

#include <ctype.h>

static size_t hs_check_fields(const struct sl_field *rec, unsigned depth)
{
    FZ_CHECK(depth < 64, "RECORD nesting %u", depth);
    size_t n = 0;
    for (size_t i = 0; i < rec->n_fields; i++) {
        const struct sl_field *f = &rec->fields[i];
        n++;
        FZ_CHECK(f->idx == i, "field %s has idx %u at %zu", f->path, f->idx, i);
        FZ_CHECK(f->name != NULL && f->name_len == strlen(f->name),
                 "field name");
        FZ_CHECK(f->path != NULL, "field path");
        if (depth > 0) {
            FZ_CHECK(f->parent == rec, "field %s parent", f->path);
        }
        /* its own name finds it, in any letter case */
        FZ_CHECK(sl_field_find(rec, f->name, f->name_len) == f, "lookup of %s",
                 f->name);
        char up[1100];
        if (f->name_len < sizeof(up)) {
            for (size_t k = 0; k < f->name_len; k++) {
                up[k] = (char)toupper((unsigned char)f->name[k]);
            }
            FZ_CHECK(sl_field_find(rec, up, f->name_len) == f,
                     "case-insensitive lookup of %s", f->name);
        }
        FZ_CHECK((f->type == SL_T_RECORD) == (f->n_fields > 0),
                 "field %s: type %d with %zu sub-fields", f->path, f->type,
                 f->n_fields);
        if (f->type == SL_T_RECORD) {
            n += hs_check_fields(f, depth + 1);
        }
    }
    return n;
}

static const char *const HS_ROWS[] = {
    "{}",
    "{\"a\": 1, \"b\": \"x\", \"c\": [1, {\"d\": null}], \"e\": {\"f\": true}}",
    "{\"id\": \"1\", \"name\": \"n\", \"ts\": \"2024-01-01 00:00:00\", \"x\": "
    "1.5e3}",
    "[1]",
    "{\"a\": ",
};

static int harness_schema(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct sl_table *t = NULL, *t2 = NULL, *t3 = NULL;
    struct sl_error err = {0}, err2 = {0}, err3 = {0};
    struct sl_buf problems;
    sl__buf_init(&problems);

    int rc = sl_table_parse(text, size, "fuzz.json", "main", "fuzz", &t, &err);
    FZ_CHECK(rc == SL_OK || rc == -SL_ESCHEMA, "sl_table_parse returned %d",
             rc);
    FZ_CHECK(rc != SL_OK || t != NULL, "success without a table");
    FZ_CHECK(rc == SL_OK || err.msg[0] != '\0', "failure without a message");

    int rc2 = sl_table_parse_ex(text, size, "fuzz.json", "main", "fuzz", NULL,
                                &problems, &t2, &err2);
    FZ_CHECK(rc2 == rc, "parse %d, parse_ex with problems %d (%s)", rc, rc2,
             rc ? err.msg : err2.msg);
    FZ_CHECK(rc2 == SL_OK || problems.len > 0 || err2.msg[0] != '\0',
             "parse_ex failed without a problem");

    struct sl_schema_opts classic = {.classic_names = true};
    int rc3 = sl_table_parse_ex(text, size, "fuzz.json", "main", "fuzz",
                                &classic, NULL, &t3, &err3);
    FZ_CHECK(rc3 == SL_OK || rc3 == -SL_ESCHEMA, "classic parse returned %d",
             rc3);
    FZ_CHECK(rc3 != SL_OK || rc == SL_OK,
             "classic names accepted, flexible refused: %s", err.msg);

    if (rc == SL_OK) {
        size_t n = hs_check_fields(&t->root, 0);
        FZ_CHECK(n == sl_table_count_fields(t),
                 "%zu fields walked, %zu counted", n, sl_table_count_fields(t));
        FZ_CHECK(t->n_cluster <= 4, "%zu clustering fields", t->n_cluster);
        for (int fmt = 0; fmt < 2; fmt++) {
            struct sl_vopts o;
            sl_vopts_default(&o);
            o.ignore_unknown = fmt == 1;
            struct sl_validator *v = NULL;
            struct sl_error verr = {0};
            int vrc = sl_validator_create(t, &o, &v, &verr);
            FZ_CHECK(vrc == SL_OK, "no validator for an accepted table: %s",
                     verr.msg);
            for (size_t i = 0; i < sizeof(HS_ROWS) / sizeof(HS_ROWS[0]); i++) {
                struct sl_reject r;
                int r1 = sl_validate_ndjson_row(v, HS_ROWS[i],
                                                strlen(HS_ROWS[i]), NULL, &r);
                FZ_CHECK(r1 == 0 || r1 == 1, "row returned %d", r1);
            }
            sl_validator_destroy(v);
        }
    }
    sl_table_destroy(t);
    sl_table_destroy(t2);
    sl_table_destroy(t3);
    sl__buf_release(&problems);
    return 0;
}
