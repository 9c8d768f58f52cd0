/* test_rules_actions.c - a rule's actions (src/rules/actions.c) against a
 * real DuckDB file and an HTTP server on a loopback port started by the test
 * (tests/support/httpd.h): call with its answer in $Response and $Data,
 * failures running OnFailure with $Error, notify and push to a webhook,
 * delete and move inside the gateway and what they refuse, copy, drop and
 * When.Exists. tests. */
#include "core/common.h"

#include "../support/httpd.h"
#include "../support/querytest.h"
#include "../support/rulestest.h"
#include "core/alloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct sl_wh_ops *D = &sl__duckdb_ops;

#define T_0102 1704200400000000LL /* 2024-01-02T13:00:00Z */

struct fx {
    struct rt_gw g;
    struct httpd h;
    struct sl_wh *wh;
    struct sl_registry *reg;
    char url[64];    /* http://127.0.0.1:PORT */
    char done[1024]; /* what file_done was told: "from>to;" ("-" deleted) */
};

static void file_done(void *ud, const char *from, const char *to)
{
    struct fx *x = ud;
    size_t n = strlen(x->done);
    snprintf(x->done + n, sizeof(x->done) - n, "%s>%s;", from,
             to != NULL ? to : "-");
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    rt_gw_make(&x->g);
    rt_write(x->g.dir, "schemas/main/t.json",
             "[{\"name\": \"id\", \"type\": \"INTEGER\"}]");
    x->reg = rt_registry(x->g.dir);
    if (httpd_start(&x->h) != 0) {
        return -1;
    }
    snprintf(x->url, sizeof(x->url), "http://127.0.0.1:%d", x->h.port);
    char uri[200];
    snprintf(uri, sizeof(uri), "duckdb://%s/wh.duckdb", x->g.dir);
    struct sl_error err = {0};
    if (D->open(uri, NULL, &x->wh, &err) != SL_OK) {
        return -1;
    }
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    D->close(x->wh);
    httpd_stop(&x->h);
    sl_registry_destroy(x->reg);
    rt_gw_remove(&x->g);
    free(x);
    return 0;
}

static char *q(struct fx *x, const char *sql)
{
    struct sl_error err = {0};
    int rc;
    char *out = qt_string(D, x->wh, sql, SL_QF_CSV, 0, &rc, &err);
    if (rc != SL_OK) {
        fail_msg("%s: %s", sql, err.msg);
    }
    return out;
}

static void expect(struct fx *x, const char *sql, const char *want)
{
    char *got = q(x, sql);
    if (strcmp(got, want) != 0) {
        fail_msg("%s:\nwant\n%s\ngot\n%s", sql, want, got);
    }
    free(got);
}

/* yaml with every @URL@ replaced by the server's URL. */
static void with_url(const struct fx *x, const char *yaml, char *out,
                     size_t size)
{
    size_t n = 0;
    for (const char *p = yaml; *p != '\0' && n + 64 < size;) {
        if (strncmp(p, "@URL@", 5) == 0) {
            n += (size_t)snprintf(out + n, size - n, "%s", x->url);
            p += 5;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

/* Run the actions of a one-rule YAML text (@URL@ in it: the server's URL)
 * for a batch of uris; returns the call's code and fills rep. */
static int actions(struct fx *x, const char *yaml_fmt, bool success,
                   const char *error, const char *const *uris, size_t n,
                   const char *webhook, struct sl_rules_report *rep,
                   struct sl_error *err)
{
    char text[4096];
    with_url(x, yaml_fmt, text, sizeof(text));
    struct sl_rules *rs = NULL;
    struct sl_rules_opts o = {.webhook_url = webhook};
    struct sl_buf p;
    sl__buf_init(&p);
    if (sl_rules_parse("a.yaml", text, strlen(text), x->g.dir, x->reg, &o, &p,
                       NULL, &rs, err) != SL_OK ||
        p.data != NULL) {
        fail_msg("rules: %s %s", err->msg, p.data ? p.data : "");
    }
    sl__buf_release(&p);
    struct sl_rules_match m;
    if (sl_rules_match(rs, "in/a.json", T_0102, &m, err) != SL_OK || m.n != 1) {
        fail_msg("match: %s", err->msg);
    }
    struct sl_rules_batch b = {&m.dests[0], "00000000000000000000000000000042",
                               uris, n, error};
    struct sl_rules_actx cx = {.rules = rs,
                               .ops = D,
                               .wh = x->wh,
                               .gateway_dir = x->g.dir,
                               .batch = &b,
                               .http_timeout_ms = 5000,
                               .file_done = file_done,
                               .file_ud = x};
    x->done[0] = '\0';
    int rc = sl_rules_run_actions(&m.dests[0], success, &cx, rep, err);
    sl_rules_match_release(&m);
    sl_rules_destroy(rs);
    return rc;
}

/* ---- HTTP
 * ------------------------------------------------------------------------- */

static void test_call_answer_feeds_the_next_action(void **state)
{
    struct fx *x = *state;
    struct sl_rules_report rep;
    struct sl_error err = {0};
    int rc = actions(x,
                     "When: {Prefix: /in/}\n"
                     "Dest: {Table: main.t}\n"
                     "OnSuccess:\n"
                     "  - Action: call\n"
                     "    Request: {URL: \"@URL@/ok\", Body: '{\"batch\": "
                     "\"$BatchID\", \"day\": \"$Date\"}'}\n"
                     "    OnSuccess:\n"
                     "      - Action: query\n"
                     "        Request: {SQL: \"CREATE TABLE main.got AS "
                     "SELECT '$Data.BatchID' AS b, $Data.count AS n, "
                     "'$Data.deep.x' AS d, length('$Response') > 10 AS r\"}\n",
                     true, NULL, NULL, 0, NULL, &rep, &err);
    if (rc != SL_OK) {
        fail_msg("actions: %s", err.msg);
    }
    assert_int_equal(rep.n, 2);
    assert_string_equal(rep.items[0].where, "OnSuccess[0]");
    assert_string_equal(rep.items[1].where, "OnSuccess[0].OnSuccess[0]");
    assert_string_equal(x->h.method, "POST");
    assert_string_equal(x->h.body, "{\"batch\": "
                                   "\"00000000000000000000000000000042\", "
                                   "\"day\": \"20240102\"}");
    expect(x, "SELECT * FROM main.got", "b,n,d,r\nb-42,2,y,true\n");
    sl_rules_report_release(&rep);
}

static void test_call_failure_runs_on_failure(void **state)
{
    struct fx *x = *state;
    struct sl_rules_report rep;
    struct sl_error err = {0};
    int rc =
        actions(x,
                "When: {Prefix: /in/}\n"
                "Dest: {Table: main.t}\n"
                "OnSuccess:\n"
                "  - Action: call\n"
                "    Request: {URL: \"@URL@/fail\", Method: PUT}\n"
                "    OnFailure:\n"
                "      - Action: notify\n"
                "        Request: {URL: \"@URL@/hook\", Channels: [\"#ops\"], "
                "Title: call failed, Message: $Error}\n"
                "  - {Action: delete}\n",
                true, NULL, NULL, 0, NULL, &rep, &err);
    assert_int_equal(rc, -SL_EUNAVAIL); /* a 500: worth a retry */
    assert_string_equal(err.msg, "OnSuccess[0] call: HTTP 500: boom");
    assert_int_equal(rep.n, 2); /* the call, its OnFailure; no delete */
    assert_int_equal(rep.n_failed, 1);
    assert_int_equal(rep.items[1].rc, SL_OK);
    assert_string_equal(x->h.path, "/hook");
    assert_string_equal(x->h.body,
                        "{\"text\":\"call failed: HTTP 500: boom\","
                        "\"title\":\"call failed\",\"message\":\"HTTP 500: "
                        "boom\",\"channels\":[\"#ops\"],\"rule\":\"a\","
                        "\"batch\":\"00000000000000000000000000000042\","
                        "\"table\":\"main.t\"}");
    sl_rules_report_release(&rep);
    /* nobody listening: unreachable, also transient */
    rc = actions(x,
                 "When: {Prefix: /in/}\nDest: {Table: main.t}\n"
                 "OnSuccess: [{Action: call, Request: {URL: "
                 "\"http://127.0.0.1:1/x\"}}]\n",
                 true, NULL, NULL, 0, NULL, &rep, &err);
    assert_int_equal(rc, -SL_EUNAVAIL);
    sl_rules_report_release(&rep);
    memset(&err, 0, sizeof(err));
    rc = actions(
        x,
        "When: {Prefix: /in/}\nDest: {Table: main.t}\n"
        "OnSuccess: [{Action: call, Request: {URL: \"@URL@/missing\"}}]\n",
        true, NULL, NULL, 0, NULL, &rep, &err);
    assert_int_equal(rc, -SL_EINVAL); /* a 404 stays a 404 */
    sl_rules_report_release(&rep);
}

static void test_webhooks(void **state)
{
    struct fx *x = *state;
    struct sl_rules_report rep;
    struct sl_error err = {0};
    char hook[100];
    snprintf(hook, sizeof(hook), "%s/gateway-hook", x->url);
    /* OnFailure of the rule: the batch's $Error; the gateway's webhook */
    int rc = actions(x,
                     "When: {Prefix: /in/}\n"
                     "Dest: {Table: main.t}\n"
                     "OnFailure:\n"
                     "  - {Action: notify, Request: {Message: \"$DestTable: "
                     "$Error\"}}\n"
                     "  - {Action: push, Request: {Topic: loads, Data: "
                     "{n: 1}, Attributes: {k: v}}}\n",
                     false, "disk full", NULL, 0, hook, &rep, &err);
    if (rc != SL_OK) {
        fail_msg("actions: %s", err.msg);
    }
    assert_string_equal(x->h.path, "/gateway-hook");
    assert_string_equal(x->h.body,
                        "{\"topic\":\"loads\",\"data\":\"{\\\"n\\\":1}\","
                        "\"attributes\":{\"k\":\"v\"},\"rule\":\"a\","
                        "\"batch\":\"00000000000000000000000000000042\","
                        "\"table\":\"main.t\"}");
    char want[160];
    snprintf(want, sizeof(want), "POST %s: HTTP 200", hook);
    assert_string_equal(rep.items[0].msg, want);
    sl_rules_report_release(&rep);
    /* no webhook anywhere: the action fails and says so */
    rc = actions(x,
                 "When: {Prefix: /in/}\nDest: {Table: main.t}\n"
                 "OnSuccess: [{Action: notify, Request: {Message: hi}}]\n",
                 true, NULL, NULL, 0, NULL, &rep, &err);
    assert_int_equal(rc, -SL_EUSAGE);
    assert_string_equal(rep.items[0].msg,
                        "notify has no URL and the gateway no webhook");
    sl_rules_report_release(&rep);
}

/* ---- files
 * ------------------------------------------------------------------------ */

static bool exists(struct fx *x, const char *rel)
{
    char p[300];
    snprintf(p, sizeof(p), "%s/%s", x->g.dir, rel);
    return access(p, F_OK) == 0;
}

static void test_delete_and_move(void **state)
{
    struct fx *x = *state;
    rt_write(x->g.dir, "sent/t/1-a.json", "{}");
    rt_write(x->g.dir, "sent/t/2-b.json", "{}");
    rt_write(x->g.dir, "sent/t/3-c.json", "{}");
    const char *uris[] = {"sent/t/1-a.json", "sent/t/2-b.json"};
    struct sl_rules_report rep;
    struct sl_error err = {0};
    int rc = actions(x,
                     "When: {Prefix: /in/}\n"
                     "Dest: {Table: main.t}\n"
                     "OnSuccess:\n"
                     "  - Action: move\n"
                     "    Request: {DestURL: gs://bucket/archive/$Date/}\n"
                     "    OnSuccess:\n"
                     "      - {Action: delete, Request: {URLs: "
                     "[gs://bucket/sent/t/3-c.json, sent/t/gone.json]}}\n",
                     true, NULL, uris, 2, NULL, &rep, &err);
    if (rc != SL_OK) {
        fail_msg("actions: %s", err.msg);
    }
    assert_string_equal(rep.items[0].msg, "moved 2 files to archive/20240102");
    assert_string_equal(rep.items[1].msg, "deleted 2 files");
    assert_true(exists(x, "archive/20240102/1-a.json"));
    assert_true(exists(x, "archive/20240102/2-b.json"));
    assert_false(exists(x, "sent/t/1-a.json"));
    assert_false(exists(x, "sent/t/3-c.json"));
    /* the service is told where each file went, to keep its ledger true */
    assert_string_equal(x->done,
                        "sent/t/1-a.json>archive/20240102/1-a.json;"
                        "sent/t/2-b.json>archive/20240102/2-b.json;"
                        "sent/t/3-c.json>-;sent/t/gone.json>-;");
    sl_rules_report_release(&rep);
    /* run again (after a crash): already moved, already gone, no failure */
    rc = actions(x,
                 "When: {Prefix: /in/}\n"
                 "Dest: {Table: main.t}\n"
                 "OnSuccess:\n"
                 "  - Action: move\n"
                 "    Request: {DestURL: gs://bucket/archive/$Date/}\n",
                 true, NULL, uris, 2, NULL, &rep, &err);
    if (rc != SL_OK) {
        fail_msg("actions again: %s", err.msg);
    }
    assert_string_equal(x->done,
                        "sent/t/1-a.json>archive/20240102/1-a.json;"
                        "sent/t/2-b.json>archive/20240102/2-b.json;");
    sl_rules_report_release(&rep);
    /* a file neither here nor there is a failure */
    const char *lost[] = {"sent/t/lost.json"};
    rc = actions(x,
                 "When: {Prefix: /in/}\nDest: {Table: main.t}\n"
                 "OnSuccess: [{Action: move, Request: {DestURL: archive}}]\n",
                 true, NULL, lost, 1, NULL, &rep, &err);
    assert_int_equal(rc, -SL_ENOTFOUND);
    assert_string_equal(x->done, "");
    sl_rules_report_release(&rep);
    /* the service's folders are off limits, and raw/ as a destination */
    rt_write(x->g.dir, ".sluice/ledger.db", "x");
    const char *ledger[] = {".sluice/ledger.db"};
    rc = actions(x,
                 "When: {Prefix: /in/}\nDest: {Table: main.t}\n"
                 "OnSuccess: [{Action: delete}]\n",
                 true, NULL, ledger, 1, NULL, &rep, &err);
    assert_int_equal(rc, -SL_EINVAL);
    assert_string_equal(rep.items[0].msg, ".sluice/ is the service's: an "
                                          "action does not touch there");
    assert_true(exists(x, ".sluice/ledger.db"));
    sl_rules_report_release(&rep);
    const char *a[] = {"archive/20240102/1-a.json"};
    rc = actions(x,
                 "When: {Prefix: /in/}\nDest: {Table: main.t}\n"
                 "OnSuccess: [{Action: move, Request: {DestURL: raw/again}}]\n",
                 true, NULL, a, 1, NULL, &rep, &err);
    assert_int_equal(rc, -SL_EINVAL);
    assert_true(exists(x, "archive/20240102/1-a.json"));
    sl_rules_report_release(&rep);
}

/* ---- tables
 * ----------------------------------------------------------------------- */

static void test_copy_drop_exists(void **state)
{
    struct fx *x = *state;
    free(q(x, "CREATE SCHEMA s; CREATE TABLE s.src AS SELECT 1 AS id UNION "
              "ALL SELECT 2"));
    struct sl_rules_report rep;
    struct sl_error err = {0};
    int rc = actions(x,
                     "When: {Prefix: /in/}\n"
                     "Dest: {Table: main.t}\n"
                     "OnSuccess:\n"
                     "  - {Action: copy, Request: {Source: s.src, Dest: "
                     "proj:s.dst}}\n"
                     "  - {Action: copy, Request: {Source: s.src, Dest: s.dst, "
                     "Append: true}}\n"
                     "  - {Action: copy, Request: {Source: s.src, Dest: "
                     "main.t}}\n"
                     "  - {Action: drop, When: {Exists: s.nope}, Request: "
                     "{Table: s.src}}\n"
                     "  - {Action: drop, When: {Exists: s.src}, Request: "
                     "{Table: s.src}}\n"
                     "  - {Action: export, Request: {DestURL: gs://b/x}}\n",
                     true, NULL, NULL, 0, NULL, &rep, &err);
    if (rc != SL_OK) {
        fail_msg("actions: %s", err.msg);
    }
    const char *want[] = {"wrote 2 rows into s.dst (created)",
                          "wrote 2 rows into s.dst",
                          "replaced with 2 rows into main.t",
                          "skipped: s.nope does not exist",
                          "dropped s.src",
                          "skipped: export has no local meaning"};
    assert_int_equal(rep.n, SL_ARRAY_LEN(want));
    for (size_t i = 0; i < rep.n; i++) {
        assert_string_equal(rep.items[i].msg, want[i]);
    }
    expect(x, "SELECT count(*) AS n FROM s.dst", "n\n4\n");
    expect(x, "SELECT count(*) AS n FROM main.t", "n\n2\n");
    expect(x,
           "SELECT count(*) AS n FROM information_schema.tables WHERE "
           "table_name = 'src'",
           "n\n0\n");
    sl_rules_report_release(&rep);
}

/* A replacing query that reads its own Dest sees the rows as they were
 * (BigQuery's WRITE_TRUNCATE); one that fails leaves them in place. */
static void test_query_replaces_from_itself(void **state)
{
    struct fx *x = *state;
    free(q(x, "CREATE SCHEMA s; CREATE TABLE s.d AS SELECT * FROM (VALUES "
              "(1, 'a'), (1, 'a'), (2, 'b')) AS v(id, v)"));
    struct sl_rules_report rep;
    struct sl_error err = {0};
    int rc = actions(x,
                     "When: {Prefix: /in/}\n"
                     "Dest: {Table: main.t}\n"
                     "OnSuccess:\n"
                     "  - {Action: query, Request: {SQL: \"SELECT DISTINCT * "
                     "FROM s.d\", Dest: s.d}}\n",
                     true, NULL, NULL, 0, NULL, &rep, &err);
    if (rc != SL_OK) {
        fail_msg("actions: %s", err.msg);
    }
    assert_int_equal(rep.n, 1);
    assert_string_equal(rep.items[0].msg, "replaced with 2 rows into s.d");
    sl_rules_report_release(&rep);
    expect(x, "SELECT string_agg(id || v, ' ' ORDER BY id) AS r FROM s.d",
           "r\n1a 2b\n");
    rc = actions(x,
                 "When: {Prefix: /in/}\n"
                 "Dest: {Table: main.t}\n"
                 "OnSuccess:\n"
                 "  - {Action: query, Request: {SQL: \"SELECT id, CAST(v AS "
                 "INTEGER) AS v FROM s.d\", Dest: s.d}}\n",
                 true, NULL, NULL, 0, NULL, &rep, &err);
    assert_int_not_equal(rc, SL_OK);
    sl_rules_report_release(&rep);
    expect(x, "SELECT string_agg(id || v, ' ' ORDER BY id) AS r FROM s.d",
           "r\n1a 2b\n");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_call_answer_feeds_the_next_action),
        T(test_call_failure_runs_on_failure),
        T(test_webhooks),
        T(test_delete_and_move),
        T(test_copy_drop_exists),
        T(test_query_replaces_from_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
