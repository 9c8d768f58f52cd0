/* rules_cmd.c - `sluice rules check --gateway DIR [PATH]`: check every rule
 * of DIR/rules/ (problems name the file and the field) and, given a sample
 * path, print what would happen to such a file: the matching rules, the
 * destination, the batch window, the transient table and the SQL that
 * moves its rows, the actions (src/rules/rules.h). cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "gateway/config.h"
#include "rules/rules.h"
#include "warehouse/driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *help =
    "usage: sluice rules check --gateway DIR [PATH] [--mtime TIME] "
    "[--fan-out]\n"
    "Check the ingestion rules in DIR/rules/ (*.json, *.yaml; BqTail's "
    "format,\n"
    "docs/RULES.md): every problem is printed with its file and field, and\n"
    "fields Sluice does not use with the reason. Given PATH (a file under\n"
    "DIR/raw/, \"raw/...\" or BqTail's \"/folder/file\" form), print what "
    "would\n"
    "happen to it: matching rules, destination table, batch window, the\n"
    "transient table and the SQL that moves its rows, the actions.\n"
    "  --gateway DIR   the gateway folder (or $SLUICE_GATEWAY)\n"
    "  --mtime TIME    the file's time for $Date and $Hour: RFC 3339 "
    "(2024-01-02T13:00:00Z)\n"
    "                  or @SECONDS (default: the file's, else now)\n"
    "  --fan-out       a file may match several enabled rules (each feeds "
    "its table);\n"
    "                  also when sluice.json says rules.fan_out\n"
    "Exit codes: 0 rules valid (and PATH would load), 2 a rule has a "
    "problem,\n"
    "3 PATH matches no rule and no table folder, or the rules cannot place "
    "it.\n";

struct ropts {
    const char *gateway, *path, *mtime;
    bool fan_out;
};

static int parse(int argc, char **argv, struct ropts *o)
{
    memset(o, 0, sizeof(*o));
    o->gateway = getenv("SLUICE_GATEWAY");
    if (argc < 1 || strcmp(argv[0], "check") != 0) {
        if (argc >= 1 &&
            (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
            fputs(help, stdout);
            return -1;
        }
        fputs(help, stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);
        bool takes = strncmp(a, "--gateway", n) == 0 && n == 9;
        takes |= strncmp(a, "--mtime", n) == 0 && n == 7;
        const char *val = eq != NULL     ? eq + 1
                          : i + 1 < argc ? argv[i + 1]
                                         : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            return -1;
        } else if (strcmp(a, "--fan-out") == 0) {
            o->fan_out = true;
        } else if (takes && val == NULL) {
            return cli_fail("rules check", -SL_EUSAGE, "%.*s needs a value",
                            (int)n, a);
        } else if (takes) {
            *(a[2] == 'g' ? &o->gateway : &o->mtime) = val;
            i += eq == NULL;
        } else if (a[0] == '-' || o->path != NULL) {
            return cli_fail("rules check", -SL_EUSAGE,
                            "unexpected argument '%s' (see --help)", a);
        } else {
            o->path = a;
        }
    }
    if (o->gateway == NULL) {
        return cli_fail("rules check", -SL_EUSAGE, "--gateway DIR is required");
    }
    return 0;
}

/* Print a buffer of lines, each prefixed. */
static void lines(const char *pre, const struct sl_buf *b)
{
    for (const char *p = b->data; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        printf("%s%.*s\n", pre, (int)n, p);
        p += n + (nl != NULL);
    }
}

/* PATH as a name under raw/, and the file's time when it exists. */
static void raw_name(const char *gw, const char *path, char *out, size_t size,
                     int64_t *mtime_us)
{
    char abs[4096];
    const char *name = path;
    size_t gl = strlen(gw);
    if (strncmp(path, gw, gl) == 0 && strncmp(path + gl, "/raw/", 5) == 0) {
        name = path + gl + 5;
    } else if (strncmp(path, "raw/", 4) == 0) {
        name = path + 4;
    } else if (realpath(path, abs) != NULL && strncmp(abs, gw, gl) == 0 &&
               strncmp(abs + gl, "/raw/", 5) == 0) {
        name = abs + gl + 5;
    }
    while (*name == '/') {
        name++;
    }
    snprintf(out, size, "%s", name);
    char full[8192];
    struct stat st;
    if (snprintf(full, sizeof(full), "%s/raw/%s", gw, out) <
            (int)sizeof(full) &&
        stat(full, &st) == 0) {
        *mtime_us =
            (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    }
}

static int parse_time(const char *s, int64_t *out)
{
    if (s[0] == '@') {
        char *end;
        long long v = strtoll(s + 1, &end, 10);
        *out = (int64_t)v * 1000000;
        return *end == '\0' ? 0 : -1;
    }
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL || (*end != 'Z' && *end != '\0') ||
        (*end == 'Z' && end[1] != '\0')) {
        return -1;
    }
    *out = (int64_t)timegm(&tm) * 1000000;
    return 0;
}

static void print_actions(const struct sl_rule *r)
{
    struct sl_buf b;
    sl__buf_init(&b);
    if (sl_rules_describe_actions(r, &b) == SL_OK) {
        lines("    action: ", &b);
    }
    sl__buf_release(&b);
}

static void print_plan(const struct sl_rules *rs, const struct sl_rules_dest *d)
{
    static const char id[] = "0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef";
    struct sl_rules_batch b = {.dest = d, .id = id};
    struct sl_rules_plan p;
    struct sl_error err = {0};
    if (d->def == NULL) {
        return;
    }
    if (sl_rules_plan(rs, &b, sl_wh_driver_for("duckdb://x"), NULL, &p, &err) !=
        SL_OK) {
        printf("    SQL: cannot be planned: %s\n", err.msg);
        return;
    }
    printf("    loads into: %s.%s%s\n", p.load_into->dataset, p.load_into->name,
           d->transient ? " (transient, per batch; shown for batch id "
                          "0123456789abcdef...)"
                        : "");
    for (size_t i = 0; i < p.n_steps; i++) {
        printf("    SQL step %zu (in the load's transaction): %s;\n", i + 1,
               p.steps[i]);
    }
    if (p.cleanup != NULL) {
        printf("    after the actions: %s;\n", p.cleanup);
    }
    lines("    note: ", &p.notes);
    sl_rules_plan_release(&p);
}

static void print_dest(const struct sl_rules *rs, const struct sl_rules_dest *d)
{
    const struct sl_rule *r = d->rule;
    printf("  rule %s (%s)\n", sl_rule_name(r), sl_rule_file(r));
    printf("    destination: %s", d->table);
    if (d->from_template && d->def != NULL) {
        printf(" (made from template %s.%s on first use)", d->def->dataset,
               d->def->name);
    }
    printf("\n");
    if (d->load_def != NULL && d->load_def != d->def) {
        printf("    files validated against: %s.%s\n", d->load_def->dataset,
               d->load_def->name);
    }
    if (d->partition != NULL) {
        printf("    partition: %s%s\n", d->partition,
               (d->batch_flags & SL_BATCH_TRUNCATE) || d->transient
                   ? " (replaced: Override)"
                   : "");
    }
    if (d->window_ms == 0) {
        printf("    batch: none (no Batch): each file is its own batch\n");
    } else {
        printf("    batch: window %u s aligned to the clock",
               d->window_ms / 1000);
        if (d->max_files) {
            printf(", at most %u files", d->max_files);
        }
        if (d->max_bytes) {
            printf(", at most %llu bytes", (unsigned long long)d->max_bytes);
        }
        printf("\n");
    }
    if (d->batch_flags & SL_BATCH_TRUNCATE) {
        printf("    write: the table's rows are replaced (Override)\n");
    }
    print_plan(rs, d);
    print_actions(r);
}

static int check_path(const struct sl_rules *rs, const struct sl_registry *reg,
                      const char *gw, const struct ropts *o)
{
    char name[4096];
    int64_t mtime = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    mtime = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    raw_name(gw, o->path, name, sizeof(name), &mtime);
    if (o->mtime != NULL && parse_time(o->mtime, &mtime) != 0) {
        return cli_fail("rules check", -SL_EUSAGE,
                        "--mtime %s: give 2024-01-02T13:00:00Z or @SECONDS",
                        o->mtime);
    }
    printf("path /%s:\n", name);
    struct sl_rules_match m;
    struct sl_error err = {0};
    if (sl_rules_match(rs, name, mtime, &m, &err) != SL_OK) {
        printf("  cannot be placed: %s\n  it would go to failed/ with that "
               "reason\n",
               err.msg);
        return 3;
    }
    for (size_t i = 0; i < m.n; i++) {
        print_dest(rs, &m.dests[i]);
    }
    if (m.n_disabled > 0) {
        printf("  (%zu disabled rule%s also match%s: ignored)\n", m.n_disabled,
               m.n_disabled == 1 ? "" : "s", m.n_disabled == 1 ? "es" : "");
    }
    int rc = 0;
    if (m.n == 0) {
        char table[4096];
        const char *slash = strchr(name, '/');
        snprintf(table, sizeof(table), "%.*s",
                 slash != NULL ? (int)(slash - name) : 0, name);
        const struct sl_table *t =
            reg != NULL && table[0] ? sl_registry_find(reg, table) : NULL;
        if (t != NULL) {
            printf("  no rule matches: the folder convention loads it into "
                   "%s.%s\n",
                   t->dataset, t->name);
        } else {
            printf("  no rule matches and raw/%s/ names no table: it would "
                   "go to failed/\n",
                   table[0] ? table : "<table>");
            rc = 3;
        }
    }
    sl_rules_match_release(&m);
    return rc;
}

int cmd_rules(int argc, char **argv)
{
    struct ropts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    char gw[4096], schemas[4200];
    if (realpath(o.gateway, gw) == NULL) {
        return cli_fail("rules check", -SL_ENOTFOUND, "no gateway at %s",
                        o.gateway);
    }
    snprintf(schemas, sizeof(schemas), "%s/schemas", gw);
    struct sl_buf problems, notes, schema_problems;
    sl__buf_init(&problems);
    sl__buf_init(&notes);
    sl__buf_init(&schema_problems);
    struct sl_registry *reg = NULL;
    struct sl_rules *rs = NULL;
    struct sl_error err = {0};
    struct stat st;
    if (stat(schemas, &st) == 0 &&
        (rc = sl_registry_load(schemas, &schema_problems, &reg, &err)) !=
            SL_OK) {
        cli_print_error("rules check", &err);
        return sl_exit_code(rc);
    }
    /* as the service will run them: sluice.json's rules.fan_out too */
    struct sl_gw_config *cfg = NULL;
    struct sl_error cerr = {0};
    if (sl_gw_config_load(gw, NULL, &cfg, &cerr) != SL_OK) {
        printf("note: sluice.json not read (%s): rules.fan_out taken as "
               "false\n",
               cerr.msg);
    }
    struct sl_rules_opts ro = {
        .fan_out = o.fan_out || (cfg != NULL && cfg->rules_fan_out),
        .webhook_url = cfg != NULL ? cfg->webhook_url : NULL};
    rc = sl_rules_load(gw, reg, &ro, &problems, &notes, &rs, &err);
    o.fan_out = ro.fan_out;
    if (rc != SL_OK) {
        cli_print_error("rules check", &err);
        rc = sl_exit_code(rc);
        goto out;
    }
    lines("schemas: ", &schema_problems);
    lines("problem: ", &problems);
    lines("note: ", &notes);
    printf("%zu rule%s ready in %s/rules%s\n", sl_rules_count(rs),
           sl_rules_count(rs) == 1 ? "" : "s", gw,
           problems.len > 0 ? " (rules with problems are left out)" : "");
    rc = problems.len > 0 ? 2 : 0;
    if (o.path != NULL) {
        int prc = check_path(rs, reg, gw, &o);
        rc = rc != 0 ? rc : prc;
    }
out:
    sl_gw_config_destroy(cfg);
    sl_rules_destroy(rs);
    sl_registry_destroy(reg);
    sl__buf_release(&problems);
    sl__buf_release(&notes);
    sl__buf_release(&schema_problems);
    return rc;
}
