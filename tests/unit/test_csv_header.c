/* test_csv_header.c - CSV header handling in the validator (csvrows.c): a
 * first record that looks like a header when none was announced (its reject
 * says --header, never --allow-jagged-rows; stats tell when it was taken as
 * data), a header row that cannot be parsed (an error, not columns by
 * position), and --header's gaps: every unknown column listed, fields no
 * column fills told once through the notice callback. One thread and two
 * (a file over 1 MB is split), through sl_validate_file(_parallel). */
#include "../support/testutil.h"
#include "core/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/sl-test-csvhdr.XXXXXX";

static const char *T3 =
    "{\"fields\": ["
    "{\"name\": \"id\", \"type\": \"INTEGER\", \"mode\": \"REQUIRED\"},"
    "{\"name\": \"name\", \"type\": \"STRING\"},"
    "{\"name\": \"note\", \"type\": \"STRING\"}]}";
static const char *S2 = "{\"fields\": [{\"name\": \"a\", \"type\": \"STRING\"},"
                        "{\"name\": \"b\", \"type\": \"STRING\"}]}";

/* What a run gave: rejects (record, reason) and notices, concatenated. */
struct seen {
    char rejects[4096];
    size_t n_rejects;
    uint64_t first_record;
    char notices[2048];
    int n_notices;
};

static int on_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    (void)err;
    struct seen *s = ud;
    if (s->n_rejects++ == 0) {
        s->first_record = r->record_no;
    }
    size_t l = strlen(s->rejects);
    snprintf(s->rejects + l, sizeof(s->rejects) - l, "%llu:%s|",
             (unsigned long long)r->record_no, r->reason);
    return SL_OK;
}

static void on_notice(void *ud, const char *file, const char *msg)
{
    struct seen *s = ud;
    assert_non_null(strstr(file, dir));
    size_t l = strlen(s->notices);
    snprintf(s->notices + l, sizeof(s->notices) - l, "%s|", msg);
    s->n_notices++;
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
    return path;
}

/* Validate path as CSV against the definition; threads 1 or 2. */
static int run(const char *def, const char *path, unsigned threads, bool header,
               bool ignore_unknown, uint64_t skip, struct seen *s,
               struct sl_file_stats *st, struct sl_error *err)
{
    struct sl_table *t = tu_table(def);
    struct sl_vopts o;
    sl_vopts_default(&o);
    o.format = SL_FMT_CSV;
    o.header = header;
    o.ignore_unknown = ignore_unknown;
    o.skip_leading_rows = skip;
    o.max_bad = 1000000;
    o.notice = on_notice;
    o.notice_ud = s;
    memset(s, 0, sizeof(*s));
    memset(st, 0, sizeof(*st));
    memset(err, 0, sizeof(*err));
    struct sl_reject_sink rs = {on_reject, s};
    int rc = sl_validate_file_parallel(t, &o, path, threads, &rs, st, err);
    sl_table_destroy(t);
    return rc;
}

static void test_header_like_first_record(void **state)
{
    (void)state;
    struct seen s;
    struct sl_file_stats st;
    struct sl_error err;
    /* two of two values name fields; as data it would be "too few values
     * (allow with --allow-jagged-rows)" */
    const char *p = write_tmp("h.csv", "ID,name\n1,a,x\n");
    assert_int_equal(run(T3, p, 1, false, false, 0, &s, &st, &err), SL_OK);
    assert_int_equal(s.n_rejects, 1);
    assert_int_equal(s.first_record, 1);
    assert_non_null(
        strstr(s.rejects, "This row looks like a header: 2 of its 2 values are "
                          "field names (id, name); use --header"));
    assert_non_null(strstr(s.rejects, "or --skip-leading-rows 1 to skip it"));
    assert_null(strstr(s.rejects, "jagged"));
    assert_true(st.header_like);
    assert_false(st.header_like_taken);
    assert_int_equal(st.valid, 1);
    /* after one skipped row: the advice skips one more */
    p = write_tmp("h2.csv", "title\nid,name,note\n1,a,x\n");
    assert_int_equal(run(T3, p, 1, false, false, 1, &s, &st, &err), SL_OK);
    assert_non_null(strstr(s.rejects, "--skip-leading-rows 2 to skip it"));
    /* valid as data (all STRING): taken, and said so in the stats */
    p = write_tmp("s.csv", "A,B\nx,y\n");
    assert_int_equal(run(S2, p, 1, false, false, 0, &s, &st, &err), SL_OK);
    assert_int_equal(s.n_rejects, 0);
    assert_true(st.header_like);
    assert_true(st.header_like_taken);
    /* half the values naming fields is not enough; neither is a later row */
    p = write_tmp("n.csv", "x,name\nid,name,note\n");
    assert_int_equal(run(T3, p, 1, false, false, 0, &s, &st, &err), SL_OK);
    assert_int_equal(s.n_rejects, 2);
    assert_null(strstr(s.rejects, "looks like a header"));
    assert_false(st.header_like);
    /* with --header there is nothing to guess */
    p = write_tmp("hh.csv", "id,name,note\n1,a,x\n");
    assert_int_equal(run(T3, p, 1, true, false, 0, &s, &st, &err), SL_OK);
    assert_int_equal(s.n_rejects, 0);
    assert_false(st.header_like);
}

/* A file over 1 MB on two threads: the first part holds record 1. */
static void test_header_like_parallel(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/big.csv", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("id,name,note\n", f);
    for (int i = 1; i <= 150000; i++) {
        fprintf(f, "%d,n%d,x\n", i, i);
    }
    fclose(f);
    for (unsigned th = 1; th <= 2; th++) {
        struct seen s;
        struct sl_file_stats st;
        struct sl_error err;
        assert_int_equal(run(T3, path, th, false, false, 0, &s, &st, &err),
                         SL_OK);
        assert_int_equal(st.rows, 150001);
        assert_int_equal(s.n_rejects, 1);
        assert_int_equal(s.first_record, 1);
        assert_non_null(strstr(s.rejects, "looks like a header: 3 of its 3"));
        assert_true(st.header_like);
        assert_false(st.header_like_taken);
    }
}

static void test_header_unreadable(void **state)
{
    (void)state;
    struct seen s;
    struct sl_file_stats st;
    struct sl_error err;
    const char *p = write_tmp("bad.csv", "id,\"na\nme\",note\n1,a,x\n");
    assert_int_equal(run(T3, p, 1, true, false, 0, &s, &st, &err),
                     -SL_ECORRUPT);
    assert_non_null(strstr(err.msg,
                           "line 1: the header row cannot be read: quoted "
                           "newline not allowed (column 2)"));
    assert_int_equal(st.valid, 0);
    assert_int_equal(s.n_rejects, 0);
    /* the same header before 1 MB of data, split: the prelude says the same */
    char path[512];
    snprintf(path, sizeof(path), "%s/badbig.csv", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("id,\"na\nme\",note\n", f);
    for (int i = 1; i <= 150000; i++) {
        fprintf(f, "%d,n%d,x\n", i, i);
    }
    fclose(f);
    assert_int_equal(run(T3, path, 2, true, false, 0, &s, &st, &err),
                     -SL_ECORRUPT);
    assert_non_null(strstr(err.msg, "the header row cannot be read"));
    /* the last of the skipped rows is the header */
    p = write_tmp("bad2.csv", "title\n\"id,name\n");
    assert_int_equal(run(T3, p, 1, true, false, 2, &s, &st, &err),
                     -SL_ECORRUPT);
    assert_non_null(strstr(err.msg, "line 2: the header row cannot be read"));
}

static void test_header_gaps(void **state)
{
    (void)state;
    struct seen s;
    struct sl_file_stats st;
    struct sl_error err;
    /* every unknown column in the error, with the fields no column fills */
    const char *p = write_tmp("x.csv", "name,zz,ID,yy\na,1,1,2\n");
    assert_int_equal(run(T3, p, 1, true, false, 0, &s, &st, &err),
                     -SL_ECORRUPT);
    assert_non_null(strstr(
        err.msg, "header column 2 \"zz\" is not a field of main.t (nor are "
                 "columns 4 \"yy\"); fields no column fills: note; use "
                 "--ignore-unknown-values"));
    assert_int_equal(s.n_notices, 0);
    /* dropped: told once, as notices, before any row */
    assert_int_equal(run(T3, p, 1, true, true, 0, &s, &st, &err), SL_OK);
    assert_int_equal(s.n_notices, 2);
    assert_string_equal(
        s.notices, "header columns 2 \"zz\", 4 \"yy\" are no field of main.t: "
                   "dropped (--ignore-unknown-values)|"
                   "no header column for note: NULL in every row|");
    assert_int_equal(st.valid, 1);
    /* a REQUIRED field no column fills: told, and each reject says why */
    p = write_tmp("r.csv", "name,note\na,x\nb,y\n");
    assert_int_equal(run(T3, p, 1, true, false, 0, &s, &st, &err), SL_OK);
    assert_string_equal(
        s.notices,
        "no header column for REQUIRED id: every row will be rejected|");
    assert_int_equal(s.n_rejects, 2);
    assert_non_null(strstr(
        s.rejects, "1:Only optional fields can be set to NULL. Field: id; "
                   "Value: NULL (the header has no column for it)|"));
    /* a complete header: nothing to tell */
    p = write_tmp("ok.csv", "note,id,name\nx,1,a\n");
    assert_int_equal(run(T3, p, 1, true, false, 0, &s, &st, &err), SL_OK);
    assert_int_equal(s.n_notices, 0);
    assert_int_equal(st.valid, 1);
    /* a REQUIRED value merely empty is the usual reason, without the remark */
    p = write_tmp("e.csv", "id,name\n,a\n");
    assert_int_equal(run(T3, p, 1, true, false, 0, &s, &st, &err), SL_OK);
    assert_null(strstr(s.rejects, "the header has no column"));
    assert_string_equal(s.notices,
                        "no header column for note: NULL in every row|");
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_like_first_record),
        cmocka_unit_test(test_header_like_parallel),
        cmocka_unit_test(test_header_unreadable),
        cmocka_unit_test(test_header_gaps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
