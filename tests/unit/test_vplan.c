/* test_vplan.c - the compiled plan and the validators over it (validator.h):
 * several threads validating with one shared plan get what one thread with a
 * private plan gets; a validator fed file after file (small, large, gzip,
 * with a BOM, empty, missing; CSV headers that change from file to file;
 * files that end in a reject or in an error) gives, file by file, what a fresh
 * validator gives; and a small file read whole gives the rows and rejects the
 * streaming loop gives on the same bytes gzip'd. Every comparison renders the
 * rows (values), rejects (line, record, offset, field, reason, value), the
 * stats and the return code with its message. tests. */
#include "core/common.h"

#include "../support/csvgen.h"
#include "../support/difftest.h"
#include "../support/testutil.h"
#include "schema/schema.h"
#include "validate/validator.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

/* ---- rendering ----------------------------------------------------------- */

static void render_val(struct sb *b, const struct sl_val *v, const struct sl_field *f)
{
    switch (v->kind) {
    case SL_V_NULL:
        sb_adds(b, "N");
        break;
    case SL_V_BOOL:
        sb_addf(b, "b%d", v->u.b ? 1 : 0);
        break;
    case SL_V_I64:
    case SL_V_DATE:
    case SL_V_TIME:
    case SL_V_DATETIME:
    case SL_V_TS:
        sb_addf(b, "%d:%lld", v->kind, (long long)v->u.i);
        break;
    case SL_V_F64: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, sizeof(bits));
        sb_addf(b, "f%016llx", (unsigned long long)bits);
        break;
    }
    case SL_V_DEC:
        sb_addf(b, "d%llx:%llx", (unsigned long long)((unsigned __int128)v->u.d >> 64),
                (unsigned long long)v->u.d);
        break;
    case SL_V_STR:
    case SL_V_BYTES:
        sb_addf(b, "%c%u:", v->kind == SL_V_STR ? 's' : 'y', (unsigned)v->len);
        sb_esc(b, v->u.s, v->len);
        break;
    case SL_V_STRUCT:
        sb_addc(b, '{');
        for (size_t i = 0; i < f->n_fields; i++) {
            render_val(b, &v->u.v[i], &f->fields[i]);
            sb_addc(b, ' ');
        }
        sb_addc(b, '}');
        break;
    case SL_V_LIST:
        sb_addf(b, "L%u[", (unsigned)v->len);
        for (uint32_t i = 0; i < v->len; i++) {
            render_val(b, &v->u.v[i], f);
            sb_addc(b, ' ');
        }
        sb_addc(b, ']');
        break;
    default:
        sb_addf(b, "?%d", v->kind);
        break;
    }
}

/* A row sink that renders, and refuses row fail_at (1-based; 0 = none). */
struct rsink {
    struct sb *out;
    const struct sl_table *t;
    uint64_t n, fail_at;
};

static int render_row(void *ud, const struct sl_val *cols, size_t n, struct sl_error *err)
{
    struct rsink *s = ud;
    if (++s->n == s->fail_at) {
        return SL_ERR(err, -SL_EIO, "row sink refused row %llu", (unsigned long long)s->n);
    }
    assert_int_equal(n, s->t->root.n_fields);
    sb_adds(s->out, "row");
    for (size_t i = 0; i < n; i++) {
        sb_addc(s->out, ' ');
        render_val(s->out, &cols[i], &s->t->root.fields[i]);
    }
    sb_addc(s->out, '\n');
    return SL_OK;
}

static int render_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    (void)err;
    struct sb *b = ud;
    sb_addf(b, "reject line %llu record %llu off %llu field %s: %s value ",
            (unsigned long long)r->line_no, (unsigned long long)r->record_no,
            (unsigned long long)r->byte_off, r->field ? r->field : "(none)", r->reason);
    if (r->value == NULL) {
        sb_adds(b, "(null)");
    } else {
        sb_esc(b, r->value, r->value_len);
    }
    sb_addc(b, '\n');
    return SL_OK;
}

/* One file through v, rendered into out: rows (with_rows), rejects, and unless
 * data_only the return code, error message and stats. */
static int run_file(struct sl_validator *v, const struct sl_table *t, const char *path,
                    bool with_rows, uint64_t fail_at, bool data_only, struct sb *out)
{
    struct rsink rs = {out, t, 0, fail_at};
    struct sl_row_sink rows = {render_row, &rs};
    struct sl_reject_sink rejects = {render_reject, out};
    struct sl_file_stats st;
    struct sl_error err = {0};
    int rc = sl_validate_file(v, path, with_rows ? &rows : NULL, &rejects, &st, &err);
    if (data_only) {
        return rc;
    }
    sb_addf(out, "rc %s: %s\n", rc == SL_OK ? "OK" : sl_errname(rc), rc == SL_OK ? "" : err.msg);
    if (rc == SL_OK) {
        sb_addf(out, "rows %llu valid %llu rejected %llu bytes %llu raw %llu bad %d fp %s\n",
                (unsigned long long)st.rows, (unsigned long long)st.valid,
                (unsigned long long)st.rejected, (unsigned long long)st.bytes,
                (unsigned long long)st.raw_bytes, st.too_many_bad, st.fingerprint);
    }
    return rc;
}

/* ---- files ----------------------------------------------------------------- */

static char tmpdir[] = "/tmp/sluice-vplan.XXXXXX";

static char *tmp_path(const char *name)
{
    char *p = malloc(4200);
    assert_non_null(p);
    snprintf(p, 4200, "%s/%s", tmpdir, name);
    return p;
}

static char *put_file(const char *name, const void *data, size_t n)
{
    char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return p;
}

static char *put_gzip(const char *name, const void *data, size_t n)
{
    char *p = tmp_path(name);
    gzFile g = gzopen(p, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
    return p;
}

static char *sample(const char *name)
{
    char *p = malloc(4200);
    assert_non_null(p);
    snprintf(p, 4200, "%s/samples/data/%s", SL_SOURCE_DIR, name);
    return p;
}

static struct sb slurp(const char *path)
{
    size_t n = 0;
    char *d = tu_read(path, &n);
    assert_non_null(d);
    struct sb b = {0};
    sb_add(&b, d, n);
    free(d);
    return b;
}

/* A file of a feed, and how it is given to the validator. */
struct feed {
    char *path;
    uint64_t fail_at; /* the row sink refuses this row (with rows) */
};

static struct sl_registry *reg;

static int setup(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/samples/schemas", SL_SOURCE_DIR);
    struct sl_error err = {0};
    assert_int_equal(sl_registry_load(dir, NULL, &reg, &err), SL_OK);
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_registry_destroy(reg);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* The NDJSON feed: the equipment sample (small), one row, a last line cut
 * short (a reject at the end), the sample again with the row sink failing at
 * row 7 (the file ends in an error), the sample twice and three times over
 * (past the small-file size: mapped, or streamed with rows), gzip'd, with a
 * BOM, an empty file, three bytes (streamed), a file that is not there. */
static size_t ndjson_feed(struct feed *f)
{
    char *eq_path = sample("equipment.ndjson");
    struct sb eq = slurp(eq_path);
    free(eq_path);
    const char *nl = memchr(eq.s, '\n', eq.len);
    size_t first = (size_t)(nl - eq.s) + 1;
    size_t n = 0;
    f[n++] = (struct feed){sample("equipment.ndjson"), 0};
    f[n++] = (struct feed){put_file("one.ndjson", eq.s, first), 0};
    struct sb cut = {0};
    sb_add(&cut, eq.s, 3 * first);
    sb_add(&cut, eq.s, first / 2);
    f[n++] = (struct feed){put_file("cut.ndjson", cut.s, cut.len), 0};
    f[n++] = (struct feed){sample("equipment.ndjson"), 7};
    struct sb big = {0};
    sb_add(&big, eq.s, eq.len);
    sb_add(&big, eq.s, eq.len);
    f[n++] = (struct feed){put_file("x2.ndjson", big.s, big.len), 0};
    sb_add(&big, eq.s, eq.len);
    f[n++] = (struct feed){put_file("x3.ndjson", big.s, big.len), 0};
    f[n++] = (struct feed){put_gzip("eq.ndjson.gz", eq.s, eq.len), 0};
    struct sb bom = {0};
    sb_adds(&bom, "\xEF\xBB\xBF");
    sb_add(&bom, eq.s, 5 * first);
    f[n++] = (struct feed){put_file("bom.ndjson", bom.s, bom.len), 0};
    f[n++] = (struct feed){put_file("empty.ndjson", "", 0), 0};
    f[n++] = (struct feed){put_file("three.ndjson", "{}\n", 3), 0};
    f[n++] = (struct feed){tmp_path("not-there.ndjson"), 0};
    sb_free(&eq);
    sb_free(&cut);
    sb_free(&big);
    sb_free(&bom);
    return n;
}

/* The CSV feed: the sample, random files whose headers name the columns in
 * table order or shuffled (a new map each time, and the same header twice in a
 * row), a header naming a column the table lacks (an error unless unknown
 * columns are ignored), a last record with an unterminated quote, the row sink
 * failing at row 5, a large file, gzip'd, a file that is not there. */
static size_t csv_feed(struct feed *f)
{
    rng = 0x9e3779b97f4a7c15ull;
    size_t n = 0;
    f[n++] = (struct feed){sample("equipment_flat.csv"), 0};
    struct sb a = {0}, b = {0}, c = {0}, big = {0};
    gen_csv(&a, &EQUIPMENT, 200, true, NULL, 0);
    gen_csv(&b, &EQUIPMENT, 200, true, NULL, 0);
    gen_csv(&c, &EQUIPMENT, 200, false, NULL, 0);
    gen_csv(&big, &EQUIPMENT, 1500, true, NULL, 0);
    f[n++] = (struct feed){put_file("a.csv", a.s, a.len), 0};
    f[n++] = (struct feed){put_file("a2.csv", a.s, a.len), 0};
    f[n++] = (struct feed){put_file("b.csv", b.s, b.len), 5};
    f[n++] = (struct feed){put_file("c.csv", c.s, c.len), 0};
    struct sb unk = {0};
    sb_adds(&unk, "primary_id_type,colour,");
    sb_add(&unk, c.s + strlen("primary_id_type,"), c.len - strlen("primary_id_type,"));
    f[n++] = (struct feed){put_file("unknown.csv", unk.s, unk.len), 0};
    struct sb open_q = {0};
    sb_add(&open_q, c.s, c.len > 2000 ? 2000 : c.len);
    sb_adds(&open_q, "\nVIN,\"WDDSKCH90MA409497,passenger_vehicle");
    f[n++] = (struct feed){put_file("open.csv", open_q.s, open_q.len), 0};
    f[n++] = (struct feed){put_file("b2.csv", b.s, b.len), 0};
    f[n++] = (struct feed){put_file("big.csv", big.s, big.len), 0};
    f[n++] = (struct feed){put_gzip("a.csv.gz", a.s, a.len), 0};
    f[n++] = (struct feed){tmp_path("not-there.csv"), 0};
    sb_free(&a);
    sb_free(&b);
    sb_free(&c);
    sb_free(&big);
    sb_free(&unk);
    sb_free(&open_q);
    return n;
}

static void free_feed(struct feed *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].path);
    }
}

static const struct sl_table *table(const char *name)
{
    const struct sl_table *t = sl_registry_find(reg, name);
    assert_non_null(t);
    return t;
}

/* ---- one plan, several threads ----------------------------------------------- */

#define N_THREADS 4

struct job {
    const struct sl_vplan *plan;
    const struct sl_table *t;
    const struct sl_vopts *o;
    const struct feed *files;
    size_t n_files;
    const struct sb *want; /* per file, from a private plan on one thread */
    unsigned rounds, id;
    int rc;                /* creating the validator */
    size_t mismatches;
    char first[200];       /* the first mismatching file */
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct sl_validator *v = NULL;
    struct sl_error err = {0};
    j->rc = sl_validator_create_from_plan(j->plan, j->o, &v, &err);
    if (j->rc != SL_OK) {
        return NULL;
    }
    struct sb got = {0};
    for (unsigned r = 0; r < j->rounds; r++) {
        for (size_t k = 0; k < j->n_files; k++) {
            size_t i = (k + j->id + r) % j->n_files; /* threads on different files */
            sb_reset(&got);
            (void)run_file(v, j->t, j->files[i].path, true, j->files[i].fail_at, false, &got);
            const struct sb *w = &j->want[i];
            if (got.len != w->len || memcmp(got.s, w->s, got.len) != 0) {
                if (j->mismatches++ == 0) {
                    snprintf(j->first, sizeof(j->first), "%s", j->files[i].path);
                }
            }
        }
    }
    sb_free(&got);
    sl_validator_destroy(v);
    return NULL;
}

static void shared_plan(const char *tname, const struct sl_vopts *o, struct feed *files,
                        size_t n_files)
{
    const struct sl_table *t = table(tname);
    struct sb want[16];
    assert_true(n_files <= SL_ARRAY_LEN(want));
    memset(want, 0, sizeof(want));
    size_t rejects = 0, rows = 0;
    for (size_t i = 0; i < n_files; i++) {
        struct sl_validator *v = NULL;
        struct sl_error err = {0};
        assert_int_equal(sl_validator_create(t, o, &v, &err), SL_OK);
        (void)run_file(v, t, files[i].path, true, files[i].fail_at, false, &want[i]);
        sl_validator_destroy(v);
        for (size_t k = 0; k + 6 < want[i].len; k++) {
            rejects += memcmp(want[i].s + k, "reject", 6) == 0;
            rows += memcmp(want[i].s + k, "\nrow ", 5) == 0;
        }
    }
    assert_true(rejects > 10 && rows > 100); /* the files hold both */
    struct sl_vplan *plan = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_vplan_create(t, &plan, &err), SL_OK);
    struct job jobs[N_THREADS];
    pthread_t th[N_THREADS];
    for (unsigned k = 0; k < N_THREADS; k++) {
        jobs[k] = (struct job){.plan = plan,
                               .t = t,
                               .o = o,
                               .files = files,
                               .n_files = n_files,
                               .want = want,
                               .rounds = slow_div() > 1 ? 1 : 4,
                               .id = k};
        assert_int_equal(pthread_create(&th[k], NULL, job_main, &jobs[k]), 0);
    }
    size_t bad = 0;
    for (unsigned k = 0; k < N_THREADS; k++) {
        assert_int_equal(pthread_join(th[k], NULL), 0);
        assert_int_equal(jobs[k].rc, SL_OK);
        if (jobs[k].mismatches > 0) {
            fprintf(stderr, "thread %u: %zu files differ from one thread's, first %s\n", k,
                    jobs[k].mismatches, jobs[k].first);
        }
        bad += jobs[k].mismatches;
    }
    sl_vplan_destroy(plan);
    for (size_t i = 0; i < n_files; i++) {
        sb_free(&want[i]);
    }
    printf("%s: %u threads x %zu files on one plan, as one thread\n", tname, N_THREADS, n_files);
    assert_int_equal(bad, 0);
}

static void test_shared_plan_threads(void **state)
{
    (void)state;
    struct feed files[16];
    size_t n = ndjson_feed(files);
    struct sl_vopts o;
    sl_vopts_default(&o);
    o.max_bad = 1000;
    shared_plan("universal_equipment_registry", &o, files, n);
    free_feed(files, n);

    n = csv_feed(files);
    sl_vopts_default(&o);
    o.format = SL_FMT_CSV;
    o.header = true;
    o.max_bad = 1000;
    o.ignore_unknown = true;
    o.allow_jagged = true;
    shared_plan("equipment_flat", &o, files, n);
    free_feed(files, n);
}

/* ---- one validator, many files ------------------------------------------------ */

/* Each file through one validator (in order, then backwards) and through a
 * fresh validator: the same rendering every time. */
static void reuse(const char *tname, const struct sl_vopts *o, const struct feed *files,
                  size_t n_files, bool with_rows)
{
    const struct sl_table *t = table(tname);
    struct sl_error err = {0};
    struct sl_vplan *plan = NULL;
    assert_int_equal(sl_vplan_create(t, &plan, &err), SL_OK);
    struct sl_validator *kept = NULL;
    assert_int_equal(sl_validator_create_from_plan(plan, o, &kept, &err), SL_OK);
    struct sb fresh = {0}, again = {0};
    size_t errors = 0;
    for (size_t k = 0; k < 2 * n_files; k++) {
        size_t i = k < n_files ? k : 2 * n_files - 1 - k;
        const struct feed *f = &files[i];
        struct sl_validator *v = NULL;
        assert_int_equal(sl_validator_create(t, o, &v, &err), SL_OK);
        sb_reset(&fresh);
        sb_reset(&again);
        int rc = run_file(v, t, f->path, with_rows, f->fail_at, false, &fresh);
        sl_validator_destroy(v);
        (void)run_file(kept, t, f->path, with_rows, f->fail_at, false, &again);
        errors += rc != SL_OK;
        if (!(fresh.len == again.len && memcmp(fresh.s, again.s, fresh.len) == 0)) {
            size_t oa, ob;
            size_t line = first_diff_line(&fresh, &again, &oa, &ob);
            fprintf(stderr, "%s (%s rows): file %zu (%s) differs at line %zu:\n", tname,
                    with_rows ? "with" : "without", k, f->path, line + 1);
            print_line("fresh ", &fresh, oa);
            print_line("reused", &again, ob);
            fail();
        }
    }
    assert_true(errors >= 2); /* files that end in an error are in the feed */
    sb_free(&fresh);
    sb_free(&again);
    sl_validator_destroy(kept);
    sl_vplan_destroy(plan);
}

static void test_reuse_ndjson(void **state)
{
    (void)state;
    struct feed files[16];
    size_t n = ndjson_feed(files);
    struct sl_vopts o;
    for (int variant = 0; variant < 3; variant++) {
        sl_vopts_default(&o);
        o.max_bad = variant == 1 ? 3 : 1000;
        o.fingerprint = variant == 2;
        o.ignore_unknown = variant == 2;
        if (variant == 1) {
            o.max_row_size = 300; /* some rows over it */
        }
        reuse("universal_equipment_registry", &o, files, n, true);
        reuse("universal_equipment_registry", &o, files, n, false);
    }
    free_feed(files, n);
}

static void test_reuse_csv(void **state)
{
    (void)state;
    struct feed files[16];
    size_t n = csv_feed(files);
    struct sl_vopts o;
    for (int variant = 0; variant < 3; variant++) {
        sl_vopts_default(&o);
        o.format = SL_FMT_CSV;
        o.header = true;
        o.max_bad = 1000;
        o.ignore_unknown = variant >= 1;
        o.allow_jagged = variant >= 1;
        o.fingerprint = variant == 2;
        o.general_only = variant == 2;
        reuse("equipment_flat", &o, files, n, true);
        reuse("equipment_flat", &o, files, n, false);
    }
    free_feed(files, n);
}

/* ---- a small file read whole vs the streaming loop ------------------------------ */

static void test_small_vs_streamed(void **state)
{
    (void)state;
    struct feed nd[16], cs[16];
    size_t n_nd = ndjson_feed(nd), n_cs = csv_feed(cs);
    const struct {
        const char *table, *path;
        bool csv;
    } cases[] = {
        {"universal_equipment_registry", nd[0].path, false},
        {"universal_equipment_registry", nd[2].path, false},
        {"universal_equipment_registry", nd[7].path, false},
        {"equipment_flat", cs[0].path, true},
        {"equipment_flat", cs[1].path, true},
        {"equipment_flat", cs[4].path, true},
        {"equipment_flat", cs[6].path, true},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        const struct sl_table *t = table(cases[i].table);
        struct sl_vopts o;
        sl_vopts_default(&o);
        o.max_bad = 1000;
        if (cases[i].csv) {
            o.format = SL_FMT_CSV;
            o.header = true;
        }
        struct sb data = slurp(cases[i].path);
        assert_true(data.len >= 4 && data.len < (128u << 10)); /* read whole */
        char *gz = put_gzip("streamed.gz", data.s, data.len);
        struct sl_validator *v = NULL;
        struct sl_error err = {0};
        assert_int_equal(sl_validator_create(t, &o, &v, &err), SL_OK);
        struct sb small = {0}, streamed = {0};
        assert_int_equal(run_file(v, t, cases[i].path, true, 0, true, &small), SL_OK);
        assert_int_equal(run_file(v, t, gz, true, 0, true, &streamed), SL_OK);
        if (!(small.len == streamed.len && memcmp(small.s, streamed.s, small.len) == 0)) {
            size_t oa, ob;
            size_t line = first_diff_line(&small, &streamed, &oa, &ob);
            fprintf(stderr, "%s: read whole and streamed differ at line %zu:\n",
                    cases[i].path, line + 1);
            print_line("whole   ", &small, oa);
            print_line("streamed", &streamed, ob);
            fail();
        }
        assert_true(small.len > 0);
        sl_validator_destroy(v);
        sb_free(&small);
        sb_free(&streamed);
        sb_free(&data);
        free(gz);
    }
    free_feed(nd, n_nd);
    free_feed(cs, n_cs);
}

/* ---- contracts ---------------------------------------------------------------- */

static void test_plan_errors(void **state)
{
    (void)state;
    /* a table with RECORD and REPEATED fields: the plan serves NDJSON, and a
     * CSV validator over it is a usage error, as sl_validator_create says */
    const struct sl_table *t = table("universal_equipment_registry");
    struct sl_vplan *plan = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_vplan_create(t, &plan, &err), SL_OK);
    struct sl_vopts o;
    sl_vopts_default(&o);
    o.format = SL_FMT_CSV;
    struct sl_validator *v = (struct sl_validator *)(uintptr_t)1; /* must become NULL */
    assert_int_equal(sl_validator_create_from_plan(plan, &o, &v, &err), -SL_EUSAGE);
    assert_null(v);
    assert_non_null(strstr(err.msg, "CSV cannot carry RECORD or REPEATED fields"));
    struct sl_error err2 = {0};
    assert_int_equal(sl_validator_create(t, &o, &v, &err2), -SL_EUSAGE);
    assert_string_equal(err.msg, err2.msg);
    /* bad CSV options, the same way */
    const struct sl_table *flat = table("equipment_flat");
    struct sl_vplan *fp = NULL;
    assert_int_equal(sl_vplan_create(flat, &fp, &err), SL_OK);
    o.csv.delim = '"';
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_validator_create_from_plan(fp, &o, &v, &err), -SL_EUSAGE);
    assert_null(v);
    sl_vplan_destroy(fp);
    sl_vplan_destroy(plan);
    sl_vplan_destroy(NULL);
    sl_validator_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_plan_threads), cmocka_unit_test(test_reuse_ndjson),
        cmocka_unit_test(test_reuse_csv),           cmocka_unit_test(test_small_vs_streamed),
        cmocka_unit_test(test_plan_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
