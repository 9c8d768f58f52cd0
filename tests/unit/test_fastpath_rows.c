/* test_fastpath_rows.c - the validator's row fast path (fastrow.c) against
 * the general path (sl_vopts.general_only): random CSV files (valid rows, and
 * rows with one or two defects: bad enum, VIN, number, range, length, UTF-8,
 * timestamp, missing/extra columns, CSV junk, ...) must give the same valid
 * rows with the same values (via the row sink), the same rejects (line,
 * record, offset, field, reason, value bytes) and the same counts. Tables: the
 * equipment_flat sample, and an inline one with every column type and rule
 * shape the fast path handles. Variants: header in table order or shuffled,
 * jagged/unknown columns allowed, null markers, small max_row_size and
 * max_value_size, skip_leading_rows, max_bad, other delimiter and quote,
 * ISO-8859-1, quoted newlines; the fast path is also run without a row sink
 * (the mapped loop) and on the parallel path (a file > 1 MB). A mismatching
 * input file is kept in /tmp. Iterations drop tenfold under valgrind or with
 * SL_TEST_QUICK. */
#include "core/common.h"

#include "../support/csvgen.h"
#include "../support/difftest.h"
#include "../support/testutil.h"
#include "parse/csv.h"
#include "schema/schema.h"
#include "validate/coerce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the validator's row fast path vs the general path ----------------- */

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
    printf("validator [%s: %s]: %zu bytes, %llu rows: %llu valid, %llu "
           "rejected%s\n",
           vv->spec->table, name, data.len, (unsigned long long)g.st.rows,
           (unsigned long long)g.st.valid, (unsigned long long)g.st.rejected,
           parallel ? " (also parallel)" : "");
    if (ok) {
        /* the counts are sane and match the renderings (rows stop at max_bad)
         */
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
        fail_msg("%zu of %zu files: the fast row path disagrees with the "
                 "general path",
                 bad, SL_ARRAY_LEN(vv));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validator_fast_vs_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
