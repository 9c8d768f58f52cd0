/* test_rules.c - ingestion rules (src/rules/) without a warehouse: rule
 * files in JSON and YAML and every problem naming its file and field,
 * ignored fields reported, When matching (Prefix, Suffix, Filter,
 * Exclusion, Pattern as the filter, Disabled, several matches and fan-out),
 * templates ($Date, $Hour on a 24-hour clock, $Mod's documented hash, $1..$n,
 * Parameters), SQL escaping of values, table references, windows and batch
 * keys, a rules folder and its change detection, allocation failures.
 * tests. */
#include "core/common.h"

#include "../support/rulestest.h"
#include "core/alloc.h"
#include "rules/rules_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define T_2024_01_02_13 1704200400000000LL /* 2024-01-02T13:00:00Z in us */

/* ---- helpers
 * ------------------------------------------------------------------- */

/* Parse text as rules/name; problems and notes into the buffers given. */
static struct sl_rules *parse_in(const char *name, const char *text,
                                 const struct sl_registry *reg, bool fan_out,
                                 struct sl_buf *problems, struct sl_buf *notes)
{
    struct sl_rules *rs = NULL;
    struct sl_error err = {0};
    struct sl_rules_opts o = {.fan_out = fan_out};
    int rc = sl_rules_parse(name, text, strlen(text), NULL, reg, &o, problems,
                            notes, &rs, &err);
    if (rc != SL_OK) {
        fail_msg("parse %s: %s", name, err.msg);
    }
    return rs;
}

/* The problem lines of one rule file ("" when none). Caller frees. */
static char *problems_of(const char *name, const char *text)
{
    struct sl_buf p;
    sl__buf_init(&p);
    sl_rules_destroy(parse_in(name, text, NULL, false, &p, NULL));
    char *s = strdup(p.data != NULL ? p.data : "");
    sl__buf_release(&p);
    return s;
}

static void expect_problem(const char *name, const char *text, const char *want)
{
    char *got = problems_of(name, text);
    if (strstr(got, want) == NULL) {
        fail_msg("%s: want a problem containing\n  %s\ngot\n  %s", text, want,
                 got);
    }
    free(got);
}

/* Match raw under rs; the one destination's table, or the error message. */
static char *dest_of(const struct sl_rules *rs, const char *raw, int64_t t)
{
    struct sl_rules_match m;
    struct sl_error err = {0};
    char buf[2048];
    if (sl_rules_match(rs, raw, t, &m, &err) != SL_OK) {
        snprintf(buf, sizeof(buf), "error: %s", err.msg);
    } else if (m.n == 0) {
        snprintf(buf, sizeof(buf), "none");
    } else {
        buf[0] = '\0';
        for (size_t i = 0; i < m.n; i++) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof(buf) - l, "%s%s", i ? " " : "",
                     m.dests[i].table);
        }
    }
    sl_rules_match_release(&m);
    return strdup(buf);
}

static void expect_dest(const struct sl_rules *rs, const char *raw, int64_t t,
                        const char *want)
{
    char *got = dest_of(rs, raw, t);
    if (strstr(got, want) != got && strstr(got, want) == NULL) {
        fail_msg("%s: want %s, got %s", raw, want, got);
    }
    free(got);
}

/* ---- rule files and their problems
 * ------------------------------------------------ */

static void test_problems_name_file_and_field(void **state)
{
    (void)state;
    expect_problem("a.json", "{\"When\": ", "rules/a.json: line 1: ");
    expect_problem("a.json",
                   "{\"When\": {\"Prefix\": [5]}, \"Dest\": {\"Table\": "
                   "\"ds.t\"}}",
                   "rules/a.json: When.Prefix: must be a string, not a "
                   "list");
    expect_problem("a.json", "{\"When\": {\"Prefix\": \"/a/\"}}",
                   "rules/a.json: Dest.Table: missing");
    expect_problem("a.json",
                   "{\"When\": {\"Filter\": \"(\"}, \"Dest\": {\"Table\": "
                   "\"ds.t\"}}",
                   "rules/a.json: When.Filter: regex error at offset 1");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\"}, \"OnSuccess\": "
                   "[{\"Action\": \"explode\"}]}",
                   "rules/a.json: OnSuccess[0].Action: unknown action "
                   "\"explode\"");
    expect_problem("list.json",
                   "[{\"Dest\": {\"Table\": \"ds.t\"}}, {\"Dest\": {}}]",
                   "rules/list.json: [1].Dest.Table: missing");
    expect_problem("a.json", "{\"Dest\": {\"Table\": \"ds.t_$Foo\"}}",
                   "rules/a.json: Dest.Table: unknown variable $Foo");
    expect_problem("a.json", "{\"Dest\": {\"Table\": \"ds.t;drop\"}}",
                   "rules/a.json: Dest.Table: table \"t;drop\" of "
                   "\"ds.t;drop\" is not a safe name");
    expect_problem("a.json", "{\"Dest\": {\"Table\": \"ds.t_$1\"}}",
                   "Dest.Table: $1: Dest.Pattern has no group 1");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\", \"Transient\": "
                   "{\"Dataset\": \"tmp\"}, \"SideInputs\": [{\"Table\": "
                   "\"ds.f\", \"Alias\": \"f\", \"On\": \"id = f.id\"}]}}",
                   "rules/a.json: Dest.SideInputs[0]: On must reference "
                   "both t. and f.");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\"}, \"Batch\": {\"Window\": "
                   "{\"DurationInSec\": 0}}}",
                   "Batch.Window.DurationInSec: a window is at least 1 "
                   "second");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\", \"SourceFormat\": "
                   "\"AVRO\"}}",
                   "rules/a.json: Dest.SourceFormat: bad value for the load "
                   "option SourceFormat");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\"}, \"dest\": {\"Table\": "
                   "\"ds.u\"}}",
                   "rules/a.json: dest: given twice (as Dest and dest)");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\", \"Transient\": "
                   "{\"CopyMethod\": \"FAST\"}}}",
                   "Dest.Transient.CopyMethod: must be COPY, QUERY or DML");
    expect_problem("a.json",
                   "{\"Dest\": {\"Table\": \"ds.t\"}, \"OnSuccess\": "
                   "[{\"Action\": \"move\", \"Request\": {\"DestURL\": "
                   "\"gs://b/../../etc\"}}]}",
                   "OnSuccess[0].Request.DestURL: \"gs://b/../../etc\" "
                   "leaves the gateway");
    expect_problem("a.yaml", "just text\n",
                   "rules/a.yaml: a rule file holds a rule (an object)");
    expect_problem("a.json", "[1]",
                   "rules/a.json: [0]: must be an object, not a number");
    expect_problem("a.yaml", "When:\n  Prefix: [a\n", "rules/a.yaml: line 3: ");
    expect_problem("a.yaml", "Dest: {Table: ds.t}\nDisabled: maybe\n",
                   "rules/a.yaml: Disabled: must be true or false, not a "
                   "string");
    expect_problem("a.yaml",
                   "Dest: {Table: ds.t, Override: yes, Override: no}\n",
                   "rules/a.yaml: line 1: duplicate key Override");
}

static void test_first_problem_without_a_list(void **state)
{
    (void)state;
    struct sl_rules *rs = NULL;
    struct sl_error err = {0};
    const char *text = "{\"Dest\": {\"Table\": \"ds.t\", \"Override\": 1}}";
    assert_int_equal(sl_rules_parse("x.json", text, strlen(text), NULL, NULL,
                                    NULL, NULL, NULL, &rs, &err),
                     -SL_ESCHEMA);
    assert_null(rs);
    assert_string_equal(err.msg, "rules/x.json: Dest.Override: must be true "
                                 "or false, not a number");
    assert_string_equal(err.path, "rules/x.json");
    assert_string_equal(err.column, "Dest.Override");
}

static void test_ignored_fields_are_reported(void **state)
{
    (void)state;
    struct sl_buf p, n;
    sl__buf_init(&p);
    sl__buf_init(&n);
    const char *text =
        "When: {Prefix: /data/}\n"
        "Async: true\n"
        "CorruptedFileURL: gs://bucket/corrupted\n"
        "Colour: blue\n"
        "Dest:\n"
        "  Table: proj:ds.t\n"
        "  Expiry: 1hour\n"
        "  Transient: {Dataset: temp, ProjectID: p, Balancer: {MaxLoadJobs: "
        "5}}\n"
        "  Schema: {Split: {ClusterColumns: [a], Mapping: [{When: a > 1, "
        "Then: ds.u}]}}\n"
        "Batch: {Window: {DurationInSec: 60}, RollOver: true}\n"
        "OnSuccess:\n"
        "  - {Action: export, Request: {DestURL: gs://b/x}}\n"
        "  - {Action: notify, Request: {Token: secret, Message: hi}}\n";
    struct sl_rules *rs = parse_in("r.yaml", text, NULL, false, &p, &n);
    assert_null(p.data);
    assert_int_equal(sl_rules_count(rs), 1);
    const char *want[] = {
        "rules/r.yaml: Async: ignored: the service runs every batch",
        "rules/r.yaml: CorruptedFileURL: ignored: bad records go to "
        "quarantine/<table>/",
        "rules/r.yaml: Colour: ignored: unknown field",
        "rules/r.yaml: Dest.Expiry: ignored: tables do not expire locally",
        "rules/r.yaml: Dest.Transient.ProjectID: ignored: no projects",
        "rules/r.yaml: Dest.Transient.Balancer: ignored:",
        "rules/r.yaml: Dest.Schema.Split.ClusterColumns: ignored:",
        "rules/r.yaml: Batch.RollOver: ignored:",
        "rules/r.yaml: OnSuccess[0]: ignored: export has no local meaning",
        "rules/r.yaml: OnSuccess[1].Request.Token: ignored: notify posts to "
        "a webhook URL"};
    for (size_t i = 0; i < SL_ARRAY_LEN(want); i++) {
        if (strstr(n.data, want[i]) == NULL) {
            fail_msg("no note %s in\n%s", want[i], n.data);
        }
    }
    sl_rules_destroy(rs);
    sl__buf_release(&p);
    sl__buf_release(&n);
}

/* The same rule as JSON and as YAML (anchors, yes/no, ints, a quoted
 * "true") match alike. */
static void test_yaml_and_json_alike(void **state)
{
    (void)state;
    const char *json =
        "[{\"When\": {\"Prefix\": \"/in/\", \"Suffix\": \".json\"},"
        "  \"Dest\": {\"Table\": \"ds.a_$Date\", \"MaxBadRecords\": 3},"
        "  \"Batch\": {\"Window\": {\"DurationInSec\": 30}}},"
        " {\"When\": {\"Prefix\": \"/in/\", \"Suffix\": \".csv\"},"
        "  \"Disabled\": false, \"Dest\": {\"Table\": \"ds.b\", "
        "\"SkipLeadingRows\": 1, \"FieldDelimiter\": \"true\"}}]";
    const char *yaml = "- When: &w {Prefix: /in/, Suffix: .json}\n"
                       "  Dest: {Table: ds.a_$Date, MaxBadRecords: 3}\n"
                       "  Batch: {Window: {DurationInSec: 30}}\n"
                       "- When: {Prefix: /in/, Suffix: .csv}\n"
                       "  Disabled: no\n"
                       "  Dest:\n"
                       "    Table: ds.b\n"
                       "    SkipLeadingRows: 1\n"
                       "    FieldDelimiter: \"true\"\n";
    struct sl_buf p;
    sl__buf_init(&p);
    struct sl_rules *a = parse_in("x.json", json, NULL, false, &p, NULL);
    struct sl_rules *b = parse_in("x.yaml", yaml, NULL, false, &p, NULL);
    /* FieldDelimiter "true" is a bad delimiter in both */
    assert_non_null(strstr(p.data, "rules/x.json: [1].Dest.FieldDelimiter"));
    assert_non_null(strstr(p.data, "rules/x.yaml: [1].Dest.FieldDelimiter"));
    assert_int_equal(sl_rules_count(a), 1);
    assert_int_equal(sl_rules_count(b), 1);
    assert_string_equal(sl_rule_name(sl_rules_at(a, 0)), "x[0]");
    struct sl_rules_match ma, mb;
    struct sl_error err = {0};
    assert_int_equal(sl_rules_match(a, "in/f.json", T_2024_01_02_13, &ma, &err),
                     SL_OK);
    assert_int_equal(sl_rules_match(b, "in/f.json", T_2024_01_02_13, &mb, &err),
                     SL_OK);
    assert_int_equal(ma.n, 1);
    assert_int_equal(mb.n, 1);
    assert_string_equal(ma.dests[0].table, "ds.a_20240102");
    assert_string_equal(mb.dests[0].table, "ds.a_20240102");
    assert_int_equal(ma.dests[0].window_ms, 30000);
    assert_int_equal(mb.dests[0].window_ms, 30000);
    /* the rule's options over the gateway's: max_bad from the rule, the
       rest (ignore_unknown) as the gateway says */
    struct sl_gw_load base, la, lb;
    sl_gw_load_init(&base);
    base.v.max_bad = 1000;
    base.v.ignore_unknown = true;
    assert_int_equal(sl_rules_load_options(&ma.dests[0], &base, &la), SL_OK);
    assert_int_equal(sl_rules_load_options(&mb.dests[0], &base, &lb), SL_OK);
    assert_int_equal(la.v.max_bad, 3);
    assert_int_equal(lb.v.max_bad, 3);
    assert_true(la.v.ignore_unknown);
    sl_gw_load_release(&la);
    sl_gw_load_release(&lb);
    sl_rules_match_release(&ma);
    sl_rules_match_release(&mb);
    sl_rules_destroy(a);
    sl_rules_destroy(b);
    /* a key is text: On (SideInputs) is no YAML 1.1 boolean there */
    sl__buf_reset(&p);
    b = parse_in("on.yaml",
                 "Dest:\n  Table: ds.t\n  Transient: {Dataset: temp}\n"
                 "  SideInputs: [{Table: ds.f, Alias: f, On: t.id = f.id}]\n",
                 NULL, false, &p, NULL);
    assert_int_equal(p.len, 0);
    assert_int_equal(sl_rules_count(b), 1);
    sl_rules_destroy(b);
    sl__buf_release(&p);
}

/* ---- matching
 * ------------------------------------------------------------------------ */

static void test_when_is_and(void **state)
{
    (void)state;
    const char *text =
        "[{\"When\": {\"Prefix\": \"/data/\", \"Suffix\": \".json\", "
        "\"Filter\": \"/case\\\\d+/\", \"Exclusion\": \"skip\"}, "
        "\"Dest\": {\"Table\": \"ds.a\"}},"
        " {\"When\": {\"Prefix\": \"/logs/\"}, \"Dest\": {\"Pattern\": "
        "\"/logs/(\\\\w+)/.+\\\\.csv$\", \"Table\": \"ds.l_$1\"}},"
        " {\"When\": {\"Suffix\": \".tsv\"}, \"Dest\": {\"Table\": "
        "\"ds.t\"}}]";
    struct sl_rules *rs = parse_in("w.json", text, NULL, false, NULL, NULL);
    assert_int_equal(sl_rules_count(rs), 3);
    expect_dest(rs, "data/case1/x.json", 0, "ds.a");
    expect_dest(rs, "/data/case1/x.json", 0, "ds.a");   /* a leading / too */
    expect_dest(rs, "data/case1/x.csv", 0, "none");     /* Suffix */
    expect_dest(rs, "data/other/x.json", 0, "none");    /* Filter */
    expect_dest(rs, "data/case1/skip.json", 0, "none"); /* Exclusion */
    expect_dest(rs, "data2/case1/x.json", 0, "none");   /* Prefix */
    /* no Filter: Dest.Pattern filters, as BqTail does */
    expect_dest(rs, "logs/web/a.csv", 0, "ds.l_web");
    expect_dest(rs, "logs/web/a.json", 0, "none");
    expect_dest(rs, "x/y/z.tsv", 0, "ds.t"); /* no Prefix */
    sl_rules_destroy(rs);
}

static void test_several_matches(void **state)
{
    (void)state;
    const char *two = "[{\"When\": {\"Prefix\": \"/d/\"}, \"Dest\": "
                      "{\"Table\": \"ds.a\"}},"
                      " {\"When\": {\"Suffix\": \".json\"}, \"Dest\": "
                      "{\"Table\": \"ds.b\"}}]";
    struct sl_rules *rs = parse_in("m.json", two, NULL, false, NULL, NULL);
    char *got = dest_of(rs, "d/x.json", 0);
    assert_non_null(strstr(got, "error: 2 enabled rules match /d/x.json "
                                "(m[0] and m[1])"));
    free(got);
    expect_dest(rs, "d/x.csv", 0, "ds.a");
    sl_rules_destroy(rs);
    rs = parse_in("m.json", two, NULL, true, NULL, NULL); /* fan-out */
    expect_dest(rs, "d/x.json", 0, "ds.a ds.b");
    sl_rules_destroy(rs);
    /* a disabled twin is ignored (rule migration) */
    const char *twin = "[{\"When\": {\"Prefix\": \"/d/\"}, \"Dest\": "
                       "{\"Table\": \"ds.old\"}, \"Disabled\": true},"
                       " {\"When\": {\"Prefix\": \"/d/\"}, \"Dest\": "
                       "{\"Table\": \"ds.new\"}}]";
    rs = parse_in("t.json", twin, NULL, false, NULL, NULL);
    struct sl_rules_match m;
    struct sl_error err = {0};
    assert_int_equal(sl_rules_match(rs, "d/x.json", 0, &m, &err), SL_OK);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.n_disabled, 1);
    assert_string_equal(m.dests[0].table, "ds.new");
    sl_rules_match_release(&m);
    sl_rules_destroy(rs);
}

/* ---- templates
 * ----------------------------------------------------------------------- */

static void test_date_hour_24(void **state)
{
    (void)state;
    const char *text = "{\"Dest\": {\"Table\": \"ds.t_$Date_$Hour\"}}";
    struct sl_rules *rs = parse_in("h.json", text, NULL, false, NULL, NULL);
    expect_dest(rs, "a.json", T_2024_01_02_13, "ds.t_20240102_13");
    expect_dest(rs, "a.json", T_2024_01_02_13 - 12 * 3600000000LL,
                "ds.t_20240102_01");
    expect_dest(rs, "a.json", T_2024_01_02_13 + 11 * 3600000000LL,
                "ds.t_20240103_00");
    expect_dest(rs, "a.json", -1, "ds.t_19691231_23"); /* before 1970 */
    sl_rules_destroy(rs);
}

static void test_mod_hash(void **state)
{
    (void)state;
    /* docs/RULES.md's test vectors (computed apart, in Python) */
    const struct {
        const char *path;
        uint64_t h;
    } v[] = {{"/data/a.json", 0xcf81442057cda2d8ULL},
             {"/data/f0001.json", 0xfe85c1720fca599fULL},
             {"/data/f0002.json", 0xb0fbe61cd4a302c7ULL},
             {"", 0xefd01f60ba992926ULL}};
    for (size_t i = 0; i < SL_ARRAY_LEN(v); i++) {
        assert_true(sl_rules_path_hash(v[i].path, strlen(v[i].path)) == v[i].h);
    }
    const char *text = "{\"Dest\": {\"Table\": \"ds.t_$Mod(10)\"}}";
    struct sl_rules *rs = parse_in("m.json", text, NULL, false, NULL, NULL);
    expect_dest(rs, "data/a.json", 0, "ds.t_6");
    expect_dest(rs, "data/f0001.json", 0, "ds.t_9");
    expect_dest(rs, "data/f0002.json", 999999999, "ds.t_1"); /* not time */
    sl_rules_destroy(rs);
    size_t ones = 0;
    for (int i = 0; i < 2000; i++) {
        char p[40];
        snprintf(p, sizeof(p), "/mod/f%04d.json", i);
        ones += sl_rules_path_hash(p, strlen(p)) % 2;
    }
    assert_int_equal(ones, 1001); /* as Python counts it: about half */
}

static void test_groups_and_parameters(void **state)
{
    (void)state;
    const char *text =
        "Dest:\n"
        "  Pattern: /data/case(\\d+)/(\\d{4})/(\\d{2})/(\\d{2})/\n"
        "  Table: bq.dummy_$Suffix\n"
        "  Parameters:\n"
        "    - {Name: Suffix, Expression: $2$3$4}\n"
        "    - {Name: Day, Expression: $2-$3-$4}\n"
        "    - {Name: CaseNo, Expression: $1}\n"
        "    - {Name: Tag, Expression: \"c${CaseNo}_$DateX\"}\n";
    struct sl_rules *rs = parse_in("p.yaml", text, NULL, false, NULL, NULL);
    struct sl_rules_match m;
    struct sl_error err = {0};
    assert_int_equal(sl_rules_match(rs, "data/case7/2024/01/03/a.json",
                                    T_2024_01_02_13, &m, &err),
                     SL_OK);
    assert_int_equal(m.n, 1);
    const struct sl_rules_dest *d = &m.dests[0];
    assert_string_equal(d->table, "bq.dummy_20240103");
    const char *want[][2] = {{"1", "7"},
                             {"4", "03"},
                             {"Date", "20240102"},
                             {"Hour", "13"},
                             {"Day", "2024-01-03"},
                             {"CaseNo", "7"},
                             {"Tag", "c7_20240102X"}};
    for (size_t i = 0; i < SL_ARRAY_LEN(want); i++) {
        const char *v = sl__rules_var_get(d->vars, d->vars_size, want[i][0],
                                          strlen(want[i][0]));
        assert_non_null(v);
        assert_string_equal(v, want[i][1]);
    }
    sl_rules_match_release(&m);
    /* Pattern is the filter: a path it does not match is not this rule's */
    expect_dest(rs, "data/caseX/2024/01/03/a.json", 0, "none");
    sl_rules_destroy(rs);
    /* a Pattern with a Filter that lets through what the Pattern misses */
    const char *f = "{\"When\": {\"Prefix\": \"/d/\"}, \"Dest\": "
                    "{\"Pattern\": \"/d/(\\\\d+)/\", \"Table\": \"ds.t_$1\"}}";
    rs = parse_in("f.json", f, NULL, false, NULL, NULL);
    expect_dest(rs, "d/12/a.json", 0, "ds.t_12");
    sl_rules_destroy(rs);
    const char *g = "{\"When\": {\"Prefix\": \"/d/\", \"Filter\": \".\"}, "
                    "\"Dest\": {\"Pattern\": \"/d/(\\\\d+)/\", \"Table\": "
                    "\"ds.t_$1\"}}";
    rs = parse_in("g.json", g, NULL, false, NULL, NULL);
    char *got = dest_of(rs, "d/x/a.json", 0);
    assert_non_null(strstr(got, "rule g (rules/g.json): Dest.Table: $1: "
                                "Dest.Pattern has no group 1 (or did not "
                                "match the path)"));
    free(got);
    sl_rules_destroy(rs);
}

/* Values from paths reach SQL escaped inside quotes, and only as plain
 * tokens outside them. */
static void test_sql_values_are_escaped(void **state)
{
    (void)state;
    struct sl_buf v, out;
    sl__buf_init(&v);
    sl__buf_init(&out);
    assert_int_equal(sl__rules_var_put(&v, "1", "o'brien", 7), SL_OK);
    assert_int_equal(sl__rules_var_put(&v, "Name", "a\"b", 3), SL_OK);
    assert_int_equal(sl__rules_var_put(&v, "Bad", "1; DROP TABLE x", 15),
                     SL_OK);
    assert_int_equal(sl__rules_var_put(&v, "Num", "42", 2), SL_OK);
    assert_int_equal(sl__rules_var_put(&v, "TempTable", "\"t\".\"x\"", 7),
                     SL_OK);
    const char *names[] = {"TempTable"};
    struct sl_vars vs = {v.data, v.len, names, 1, "/p", NULL};
    char why[300];
    assert_int_equal(sl__rules_expand(&vs,
                                      "SELECT '$1', \"$Name\", $Num, '$Bad', "
                                      "'it''s $1' FROM $TempTable -- $Bad",
                                      SL_VX_SQL, &out, why, sizeof(why)),
                     SL_OK);
    assert_string_equal(out.data,
                        "SELECT 'o''brien', \"a\"\"b\", 42, '1; DROP TABLE "
                        "x', 'it''s o''brien' FROM \"t\".\"x\" -- $Bad");
    sl__buf_reset(&out);
    assert_int_equal(
        sl__rules_expand(&vs, "SELECT $Bad", SL_VX_SQL, &out, why, sizeof(why)),
        -SL_EINVAL);
    assert_string_equal(why, "$Bad's value \"1; DROP TABLE x\" is not a "
                             "plain token: put $Bad inside quotes in the SQL");
    sl__buf_reset(&out);
    assert_int_equal(
        sl__rules_expand(&vs, "x$1", SL_VX_SQL, &out, why, sizeof(why)),
        -SL_EINVAL); /* o'brien outside quotes */
    sl__buf_reset(&out);
    /* unknown variables stay in SQL (DuckDB's $1 parameters, $$ quotes) */
    assert_int_equal(sl__rules_expand(&vs, "SELECT $$a$$, $Other", SL_VX_SQL,
                                      &out, why, sizeof(why)),
                     SL_OK);
    assert_string_equal(out.data, "SELECT $$a$$, $Other");
    sl__buf_release(&v);
    sl__buf_release(&out);
}

static void test_table_refs(void **state)
{
    (void)state;
    char ds[100], tb[100], why[300];
    assert_true(sl__rules_table_ref("proj:ds.t", ds, 100, tb, 100, why, 300));
    assert_string_equal(ds, "ds");
    assert_string_equal(tb, "t");
    assert_true(sl__rules_table_ref("proj.ds.t-1", ds, 100, tb, 100, why, 300));
    assert_string_equal(ds, "ds");
    assert_string_equal(tb, "t-1");
    assert_true(sl__rules_table_ref("t", ds, 100, tb, 100, why, 300));
    assert_string_equal(ds, "main");
    assert_false(sl__rules_table_ref("a.b.c.d", ds, 100, tb, 100, why, 300));
    assert_false(
        sl__rules_table_ref("ds.t$20240101", ds, 100, tb, 100, why, 300));
    assert_false(sl__rules_table_ref("d\"s.t", ds, 100, tb, 100, why, 300));
    assert_string_equal(why, "dataset \"d\"s\" of \"d\"s.t\" is not a safe "
                             "name (letters, digits, _)");
}

/* ---- batching
 * ---------------------------------------------------------------------- */

static void test_windows_and_keys(void **state)
{
    (void)state;
    const char *text =
        "[{\"When\": {\"Prefix\": \"/one/\"}, \"Dest\": {\"Table\": "
        "\"ds.a\"}, \"Batch\": {\"Window\": {\"Duration\": \"1m30s\"}}},"
        " {\"When\": {\"Prefix\": \"/multi/\"}, \"Dest\": {\"Table\": "
        "\"ds.b\", \"WriteDisposition\": \"WRITE_TRUNCATE\"}, \"Batch\": "
        "{\"MultiPath\": true, \"MaxFiles\": 500, \"MaxBytes\": 1000}},"
        " {\"When\": {\"Prefix\": \"/none/\"}, \"Dest\": {\"Table\": "
        "\"ds.c\"}}]";
    struct sl_rules *rs = parse_in("k.json", text, NULL, false, NULL, NULL);
    struct sl_rules_match a, b, c, d;
    struct sl_error err = {0};
    assert_int_equal(sl_rules_match(rs, "one/x/1.json", 0, &a, &err), SL_OK);
    assert_int_equal(sl_rules_match(rs, "one/y/2.json", 0, &b, &err), SL_OK);
    assert_int_equal(a.dests[0].window_ms, 90000);
    assert_string_not_equal(a.dests[0].batch_key, b.dests[0].batch_key);
    assert_int_equal(sl_rules_window_end(&a.dests[0], 1000, 1), 90000000);
    assert_int_equal(sl_rules_window_end(&a.dests[0], 1000, 90000000),
                     180000000); /* on the boundary: the next window */
    sl_rules_match_release(&a);
    sl_rules_match_release(&b);
    assert_int_equal(sl_rules_match(rs, "multi/x/1.json", 0, &c, &err), SL_OK);
    assert_int_equal(sl_rules_match(rs, "multi/y/2.json", 0, &d, &err), SL_OK);
    assert_string_equal(c.dests[0].batch_key, d.dests[0].batch_key);
    assert_int_equal(c.dests[0].window_ms, 95000); /* BqTail's default */
    assert_int_equal(c.dests[0].max_files, 500);
    assert_int_equal(c.dests[0].max_bytes, 1000);
    assert_int_equal(c.dests[0].batch_flags, SL_BATCH_TRUNCATE);
    assert_false(c.dests[0].transient);
    sl_rules_match_release(&c);
    sl_rules_match_release(&d);
    assert_int_equal(sl_rules_match(rs, "none/1.json", 0, &a, &err), SL_OK);
    assert_int_equal(a.dests[0].window_ms, 0); /* no Batch: a file alone */
    assert_int_equal(a.dests[0].max_files, 1);
    assert_int_equal(sl_rules_window_end(&a.dests[0], 2000, 2500000), 4000000);
    sl_rules_match_release(&a);
    sl_rules_destroy(rs);
}

/* ---- a rules folder
 * ------------------------------------------------------------------ */

static void test_folder_and_changes(void **state)
{
    (void)state;
    struct rt_gw g;
    rt_gw_make(&g);
    rt_write(g.dir, "schemas/ds/t.json",
             "[{\"name\": \"id\", \"type\": \"INTEGER\"}]");
    rt_write(g.dir, "rules/a.json",
             "{\"When\": {\"Prefix\": \"/a/\"}, \"Dest\": {\"Table\": "
             "\"ds.t\"}}");
    rt_write(g.dir, "rules/sub/b.yaml",
             "- {When: {Prefix: /b/}, Dest: {Table: ds.t}}\n"
             "- {When: {Prefix: /c/}, Dest: {Table: ds.nope}}\n"
             "- When: {Prefix: /d/}\n"
             "  Dest: {Table: ds.t}\n"
             "  OnSuccess: [{Action: query, Request: {SQLURL: q.sql}}]\n");
    rt_write(g.dir, "rules/sub/q.sql", "SELECT 1");
    rt_write(g.dir, "rules/.hidden.json", "not json");
    rt_write(g.dir, "rules/readme.txt", "not a rule");
    struct sl_registry *reg = rt_registry(g.dir);
    struct sl_buf p;
    sl__buf_init(&p);
    struct sl_rules *rs = NULL;
    struct sl_error err = {0};
    assert_int_equal(sl_rules_load(g.dir, reg, NULL, &p, NULL, &rs, &err),
                     SL_OK);
    assert_string_equal(p.data, "rules/sub/b.yaml: [1].Dest.Table: ds.nope "
                                "is not in the registry (schemas/) and the "
                                "rule has no Schema.Template\n");
    assert_int_equal(sl_rules_count(rs), 3);
    assert_string_equal(sl_rule_name(sl_rules_at(rs, 0)), "a");
    assert_string_equal(sl_rule_name(sl_rules_at(rs, 1)), "sub/b[0]");
    assert_string_equal(sl_rule_file(sl_rules_at(rs, 2)), "rules/sub/b.yaml");
    assert_false(sl_rules_changed(rs));
    expect_dest(rs, "b/x.json", 0, "ds.t");
    /* each rule keeps its file's text as read: parsed alone again, it is
       the same rule (the service plans batches from this record) */
    size_t tl = 0;
    const char *text = sl_rule_text(sl_rules_at(rs, 2), &tl);
    assert_int_equal(tl, strlen(text));
    assert_non_null(strstr(text, "Prefix: /d/"));
    struct sl_rules *again = NULL;
    struct sl_buf p2;
    sl__buf_init(&p2);
    assert_int_equal(sl_rules_parse("sub/b.yaml", text, tl, g.dir, reg, NULL,
                                    &p2, NULL, &again, &err),
                     SL_OK);
    assert_int_equal(sl_rules_count(again), 2);
    assert_string_equal(sl_rule_name(sl_rules_at(again, 1)), "sub/b[2]");
    expect_dest(again, "b/x.json", 0, "ds.t");
    sl_rules_destroy(again);
    sl__buf_release(&p2);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    rt_write(g.dir, "rules/sub/q.sql", "SELECT 2"); /* SQLURL's file */
    assert_true(sl_rules_changed(rs));
    sl_rules_destroy(rs);
    sl__buf_reset(&p);
    assert_int_equal(sl_rules_load(g.dir, reg, NULL, &p, NULL, &rs, &err),
                     SL_OK);
    assert_false(sl_rules_changed(rs));
    rt_write(g.dir, "rules/z.json", "{\"Dest\": {\"Table\": \"ds.t\"}}");
    assert_true(sl_rules_changed(rs)); /* a new file */
    sl_rules_destroy(rs);
    sl__buf_reset(&p);
    assert_int_equal(sl_rules_load(g.dir, reg, NULL, &p, NULL, &rs, &err),
                     SL_OK);
    char path[200];
    snprintf(path, sizeof(path), "%s/rules/a.json", g.dir);
    assert_int_equal(unlink(path), 0);
    assert_true(sl_rules_changed(rs)); /* a file gone */
    sl_rules_destroy(rs);
    /* no rules/ folder: an empty set */
    snprintf(path, sizeof(path), "rm -rf %s/rules", g.dir);
    assert_int_equal(system(path), 0);
    assert_int_equal(sl_rules_load(g.dir, reg, NULL, &p, NULL, &rs, &err),
                     SL_OK);
    assert_int_equal(sl_rules_count(rs), 0);
    expect_dest(rs, "a/x.json", 0, "none");
    sl_rules_destroy(rs);
    sl_registry_destroy(reg);
    sl__buf_release(&p);
    rt_gw_remove(&g);
}

/* ---- allocation failures
 * ------------------------------------------------------------- */

static void test_oom_sweep(void **state)
{
    (void)state;
    const char *text =
        "- When: {Prefix: /data/, Suffix: .json, Exclusion: tmp}\n"
        "  Dest:\n"
        "    Pattern: /data/case(\\d+)/(\\d{4})/(\\d{2})/(\\d{2})/\n"
        "    Table: bq.d_$Suffix\n"
        "    Parameters: [{Name: Suffix, Expression: $2$3$4}]\n"
        "    Transient: {Dataset: temp}\n"
        "    Transform: {use_case: \"'$1'\"}\n"
        "    UniqueColumns: {Columns: [id], Against: destination}\n"
        "  Batch: {Window: {DurationInSec: 10}}\n"
        "  OnSuccess: [{Action: delete, OnFailure: [{Action: notify}]}]\n"
        "- When: {Prefix: /data/}\n"
        "  Disabled: true\n"
        "  Dest: {Table: bq.old}\n";
    for (uint64_t n = 1;; n++) {
        struct sl_rules *rs = NULL;
        struct sl_error err = {0};
        struct sl_buf p;
        sl__buf_init(&p);
        sl_alloc_fail_after(n);
        int rc = sl_rules_parse("o.yaml", text, strlen(text), NULL, NULL, NULL,
                                &p, NULL, &rs, &err);
        struct sl_rules_match m = {0};
        if (rc == SL_OK) {
            rc =
                sl_rules_match(rs, "data/case1/2024/01/02/a.json", 0, &m, &err);
        }
        sl_alloc_fail_after(0);
        if (rc == SL_OK) {
            assert_int_equal(m.n, 1);
            assert_string_equal(m.dests[0].table, "bq.d_20240102");
        } else if (rc != -SL_ENOMEM) {
            fail_msg("allocation %llu: %d %s", (unsigned long long)n, rc,
                     err.msg);
        }
        sl_rules_match_release(&m);
        sl_rules_destroy(rs);
        sl__buf_release(&p);
        if (rc == SL_OK) {
            assert_true(n > 20);
            break;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_problems_name_file_and_field),
        cmocka_unit_test(test_first_problem_without_a_list),
        cmocka_unit_test(test_ignored_fields_are_reported),
        cmocka_unit_test(test_yaml_and_json_alike),
        cmocka_unit_test(test_when_is_and),
        cmocka_unit_test(test_several_matches),
        cmocka_unit_test(test_date_hour_24),
        cmocka_unit_test(test_mod_hash),
        cmocka_unit_test(test_groups_and_parameters),
        cmocka_unit_test(test_sql_values_are_escaped),
        cmocka_unit_test(test_table_refs),
        cmocka_unit_test(test_windows_and_keys),
        cmocka_unit_test(test_folder_and_changes),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
