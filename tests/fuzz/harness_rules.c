/* harness_rules.c - fuzz body for rule files (src/rules/): the first byte
 * picks YAML or JSON and fan-out, the rest is the file's text. Invariants:
 *  - with a problem list the parse always succeeds; without one it fails
 *    exactly when the list has a problem, with a message naming the file;
 *  - both runs keep the same rules;
 *  - every kept rule matches sample paths without crashing; a destination's
 *    table is a safe dataset.table, it has a batch key, its packed
 *    variables are well formed, its window ends after the time given;
 *  - a batch of each destination plans or fails with a message, and every
 *    planned step is an INSERT or a DELETE without a NUL.
 * The registry is two tables in a temporary folder made on first use.
 * tests; included by fuzz_rules.c and tests/conformance/test_fuzz_replay.c. */
#include "core/common.h"

#include "core/buf.h"
#include "fuzz_common.h"
#include "rules/rules_int.h"

#include <ftw.h>
#include <sys/stat.h>

static struct sl_registry *hr_reg;

static void hr_write(const char *dir, const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    FZ_CHECK(f != NULL, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

static int hr_rm(const char *p, const struct stat *st, int flag,
                 struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* ds.t (partitioned by day on ts) and ds.fees, loaded once. */
static const struct sl_registry *hr_registry(void)
{
    if (hr_reg != NULL) {
        return hr_reg;
    }
    char dir[64] = "/tmp/sl_fuzz_rules_XXXXXX", sub[128];
    FZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(sub, sizeof(sub), "%s/ds", dir);
    FZ_CHECK(mkdir(sub, 0700) == 0, "mkdir");
    hr_write(dir, "ds/t.json",
             "{\"fields\": [{\"name\": \"id\", \"type\": \"INTEGER\"},"
             " {\"name\": \"name\", \"type\": \"STRING\"},"
             " {\"name\": \"ts\", \"type\": \"TIMESTAMP\"},"
             " {\"name\": \"day\", \"type\": \"DATE\"}],"
             " \"timePartitioning\": {\"type\": \"DAY\", \"field\": \"ts\"}}");
    hr_write(dir, "ds/fees.json",
             "[{\"name\": \"id\", \"type\": \"INTEGER\"}]");
    struct sl_error err = {0};
    FZ_CHECK(sl_registry_load(dir, NULL, &hr_reg, &err) == SL_OK,
             "registry: %s", err.msg);
    nftw(dir, hr_rm, 8, FTW_DEPTH | FTW_PHYS);
    return hr_reg;
}

static void hr_check_dest(const struct sl_rules *rs,
                          const struct sl_rules_dest *d, int64_t t)
{
    char ds[1100], tb[1100], why[300];
    FZ_CHECK(sl__rules_table_ref(d->table, ds, sizeof(ds), tb, sizeof(tb), why,
                                 sizeof(why)),
             "unsafe table %s: %s", d->table, why);
    FZ_CHECK(d->batch_key != NULL && d->path != NULL, "key and path");
    FZ_CHECK(d->def != NULL && d->load_def != NULL, "definitions");
    size_t pairs = 0;
    for (size_t i = 0; i < d->vars_size; pairs++) {
        size_t k = strlen(d->vars + i);
        FZ_CHECK(i + k + 1 < d->vars_size + 1, "packed name");
        i += k + 1;
        FZ_CHECK(i < d->vars_size, "packed value");
        i += strlen(d->vars + i) + 1;
        FZ_CHECK(i <= d->vars_size, "packed end");
    }
    FZ_CHECK(pairs >= 2, "$Date and $Hour are always there");
    FZ_CHECK(sl_rules_window_end(d, 1000, t) > t, "window end");
    static const char id[] = "0123456789abcdef0123456789abcdef";
    const char *uris[] = {"raw/a.json"};
    struct sl_rules_batch b = {d, id, uris, 1, NULL};
    struct sl_rules_plan p;
    struct sl_error err = {0};
    int rc = sl_rules_plan(rs, &b, NULL, NULL, &p, &err);
    FZ_CHECK(rc == SL_OK || (rc == -SL_ESCHEMA && err.msg[0] != '\0'),
             "plan %d: %s", rc, err.msg);
    if (rc != SL_OK) {
        return;
    }
    FZ_CHECK(p.load_into != NULL && p.audit_table != NULL, "plan tables");
    FZ_CHECK(d->transient || p.n_steps == 0, "steps without a transient");
    for (size_t i = 0; i < p.n_steps; i++) {
        FZ_CHECK(strncmp(p.steps[i], "INSERT INTO ", 12) == 0 ||
                     strncmp(p.steps[i], "DELETE FROM ", 12) == 0,
                 "step %s", p.steps[i]);
    }
    sl_rules_plan_release(&p);
}

static int harness_rules(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const struct sl_registry *reg = hr_registry();
    const char *name = data[0] & 1 ? "fuzz.yaml" : "fuzz.json";
    struct sl_rules_opts o = {.fan_out = (data[0] & 2) != 0};
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct sl_buf problems;
    sl__buf_init(&problems);
    struct sl_rules *rs = NULL, *strict = NULL;
    struct sl_error err = {0}, err2 = {0};
    int rc = sl_rules_parse(name, text, len, NULL, reg, &o, &problems, NULL,
                            &rs, &err);
    FZ_CHECK(rc == SL_OK, "with a problem list: %d %s", rc, err.msg);
    int rc2 = sl_rules_parse(name, text, len, NULL, reg, &o, NULL, NULL,
                             &strict, &err2);
    FZ_CHECK((rc2 == SL_OK) == (problems.len == 0), "strict %d, problems [%s]",
             rc2, problems.data);
    FZ_CHECK(rc2 == SL_OK || (rc2 == -SL_ESCHEMA &&
                              strncmp(err2.msg, "rules/fuzz.", 11) == 0),
             "strict error %d: %s", rc2, err2.msg);
    if (rc2 == SL_OK) {
        FZ_CHECK(sl_rules_count(rs) == sl_rules_count(strict), "counts");
    }
    static const char *const paths[] = {"data/case7/2024/01/02/a.json",
                                        "in/a.json",
                                        "logs/x/y.csv",
                                        "a",
                                        "d/12/x.json",
                                        ""};
    static const int64_t times[] = {0, 1704200400000000LL, -1};
    for (size_t i = 0; i < SL_ARRAY_LEN(paths); i++) {
        struct sl_rules_match m;
        int64_t t = times[i % SL_ARRAY_LEN(times)];
        int mrc = sl_rules_match(rs, paths[i], t, &m, &err);
        FZ_CHECK(mrc == SL_OK || (mrc == -SL_ESCHEMA && err.msg[0] != '\0'),
                 "match %d", mrc);
        for (size_t k = 0; mrc == SL_OK && k < m.n; k++) {
            hr_check_dest(rs, &m.dests[k], t);
        }
        sl_rules_match_release(&m);
        memset(&err, 0, sizeof(err));
    }
    sl_rules_destroy(rs);
    sl_rules_destroy(strict);
    sl__buf_release(&problems);
    return 0;
}
