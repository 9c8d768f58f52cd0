/* schema_cmd.c - `sluice schema plan` and `sluice schema apply`: compare a
 * registry with the warehouse, then create and evolve its tables in one
 * transaction, refusing unsafe changes (docs/EVOLUTION.md); `schema infer`
 * is dispatched to infer_cmd.c. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "cli/schema_cli.h"
#include "core/buf.h"
#include "schema/schema.h"
#include "warehouse/driver.h"
#include "warehouse/evolve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *plan_help =
    "usage: sluice schema plan --schemas DIR [--warehouse URI] [--json]\n"
    "Compare every table defined under DIR with the warehouse and print what\n"
    "`sluice schema apply` would do: tables to create; columns to add; modes\n"
    "to relax; types to widen; description, partitioning and clustering\n"
    "changes; and the unsafe changes it refuses (drop, rename, narrowing or\n"
    "other type change, NULLABLE to REQUIRED, REPEATED changed, tables\n"
    "changed outside Sluice), each with the reason and what to do.\n"
    "Changes nothing.\n"
    "  --schemas DIR      folder of table definitions (required)\n"
    "  --warehouse URI    default duckdb://./warehouse.duckdb (or "
    "$SLUICE_WAREHOUSE)\n"
    "  --json             one JSON document (docs/EVOLUTION.md)\n"
    "  --quiet            print only refusals and the summary line\n"
    "Exit codes: 0 nothing unsafe, 2 unsafe changes, invalid definitions or\n"
    "usage error, 4 warehouse error.\n";

static const char *check_help =
    "usage: sluice schema check --schemas DIR [--quiet]\n"
    "Parse and check every definition under DIR as plan and apply would, "
    "without\n"
    "a warehouse, and list every problem.\n"
    "  --schemas DIR      folder of table definitions (required)\n"
    "  --quiet            print only the problems and the summary line\n"
    "Exit codes: 0 all valid, 2 invalid definitions or usage error.\n";

static const char *apply_help =
    "usage: sluice schema apply --schemas DIR [--warehouse URI] [--strict]\n"
    "                           [--allow-unsafe] [--json] [--quiet]\n"
    "Create and evolve every table defined under DIR, in one transaction (all\n"
    "or nothing): new tables, new NULLABLE/REPEATED columns and fields,\n"
    "REQUIRED to NULLABLE, widened types, descriptions, partitioning and\n"
    "clustering. Tables with unsafe changes and invalid definitions are\n"
    "refused with their reasons and left as they are; the others are\n"
    "applied. Every applied definition is recorded in _sluice_tables and\n"
    "each change in _sluice_schema_history. Applying twice changes nothing.\n"
    "  --schemas DIR      folder of table definitions (required)\n"
    "  --warehouse URI    default duckdb://./warehouse.duckdb (or "
    "$SLUICE_WAREHOUSE)\n"
    "  --strict           apply nothing if any definition is invalid or any\n"
    "                     table is refused\n"
    "  --allow-unsafe     apply unsafe changes too (drop, rename, convert,\n"
    "                     NOT NULL, tables changed outside Sluice); never\n"
    "                     implied\n"
    "  --json             print the plan applied as one JSON document\n"
    "  --quiet            print only refusals and the summary line\n"
    "Exit codes: 0 done, 2 some definitions invalid or tables refused (the\n"
    "rest applied) or usage error, 4 warehouse error (nothing applied).\n";

struct sopts {
    const char *schemas;
    const char *warehouse;
    const char *lock_timeout; /* seconds, NULL = 60 */
    bool json, quiet, strict, allow_unsafe;
};

static int usage_error(const char *cmd, const char *what, const char *arg)
{
    char name[32];
    snprintf(name, sizeof(name), "schema %s", cmd);
    return cli_fail(name, -SL_EUSAGE, "%s%s%s (see sluice schema %s --help)",
                    what, arg != NULL ? " " : "", arg != NULL ? arg : "", cmd);
}

enum sub { SUB_PLAN, SUB_APPLY, SUB_CHECK };

/* Parse the options after `schema plan|apply|check`; returns -1 to go on,
 * else an exit code. */
static int parse(int argc, char **argv, enum sub sub, struct sopts *o)
{
    static const char *const names[] = {"plan", "apply", "check"};
    const char *cmd = names[sub];
    bool apply = sub == SUB_APPLY;
    memset(o, 0, sizeof(*o));
    o->warehouse = getenv("SLUICE_WAREHOUSE");
    if (o->warehouse == NULL) {
        o->warehouse = SL_DEFAULT_WAREHOUSE;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t nl = eq != NULL ? (size_t)(eq - a) : strlen(a);
        const char **dst = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(sub == SUB_APPLY  ? apply_help
                  : sub == SUB_PLAN ? plan_help
                                    : check_help,
                  stdout);
            return 0;
        } else if (strncmp(a, "--schemas", nl) == 0 && nl == 9) {
            dst = &o->schemas;
        } else if (sub != SUB_CHECK && strncmp(a, "--warehouse", nl) == 0 &&
                   nl == 11) {
            dst = &o->warehouse;
        } else if (sub != SUB_CHECK && strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (apply && strcmp(a, "--strict") == 0) {
            o->strict = true;
        } else if (apply && strcmp(a, "--allow-unsafe") == 0) {
            o->allow_unsafe = true;
        } else if (sub != SUB_CHECK && strncmp(a, "--lock-timeout", nl) == 0 &&
                   nl == 14) {
            dst = &o->lock_timeout;
        } else if (a[0] == '-' && a[1] == '-' &&
                   (strncmp(a, "--table", nl) == 0 && nl == 7)) {
            return usage_error(cmd, "--table does not apply to schema", cmd);
        } else {
            return usage_error(
                cmd, a[0] == '-' ? "unknown option" : "unexpected argument", a);
        }
        if (dst != NULL) {
            if (eq == NULL && i + 1 >= argc) {
                return usage_error(cmd, "needs a value:", a);
            }
            *dst = eq != NULL ? eq + 1 : argv[++i];
        }
    }
    if (o->schemas == NULL) {
        return usage_error(cmd, "--schemas is required", NULL);
    }
    struct stat st;
    if (stat(o->schemas, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "sluice schema %s: error: --schemas %s is a file, not a folder "
                "of table definitions (one table's schema goes to `sluice "
                "load --schema FILE`) [SL_EUSAGE, fatal]\n",
                cmd, o->schemas);
        return 2;
    }
    if (stat(o->schemas, &st) != 0) {
        fprintf(stderr,
                "sluice schema %s: error: --schemas %s: no such folder "
                "[SL_EUSAGE, fatal]\n",
                cmd, o->schemas);
        return 2;
    }
    return -1;
}

/* Opening a DuckDB file loads its whole catalog (~0.35 s for the 1,217 real
 * tables) and parsing the registry takes about as long, so the warehouse is
 * opened on a thread of its own while the definitions are read. */
struct opener {
    const struct sl_wh_ops *ops;
    const char *uri;
    bool apply;
    uint32_t lock_timeout_ms;
    struct sl_wh *wh; /* the handle, once joined */
    int rc;
    struct sl_error err;
};

static void *open_warehouse(void *arg)
{
    struct opener *o = arg;
    /* plan reads (and creates nothing); apply creates the warehouse */
    struct sl_wh_open_opts oo = {.mode = o->apply ? SL_WH_CREATE : SL_WH_READ,
                                 .lock_timeout_ms = o->lock_timeout_ms};
    o->rc = o->ops->open(o->uri, &oo, &o->wh, &o->err);
    if (o->rc == -SL_ENOTFOUND && !o->apply &&
        strcmp(o->ops->scheme, "duckdb") == 0) {
        /* no warehouse yet: plan against an empty one (every table a
         * create), without making the file */
        memset(&o->err, 0, sizeof(o->err));
        oo.mode = SL_WH_CREATE;
        o->rc = o->ops->open("duckdb://:memory:", &oo, &o->wh, &o->err);
    }
    return NULL;
}

/* plan, or apply: load the registry, read the warehouse once, plan, and for
 * apply run the plan in one transaction. */
static int run(const struct sopts *o, bool apply)
{
    const char *cmd = apply ? "schema apply" : "schema plan";
    double t0 = cli_now();
    struct sl_error err = {0};
    struct sl_buf problems;
    struct sl_registry *reg = NULL;
    struct sl_wh *wh = NULL;
    struct sl_evolve ev = {0};
    int code = 0;
    sl__buf_init(&problems);
    /* the URI as printed: never a password (docs/CLICKHOUSE.md) */
    char shown[1024];
    sl_wh_uri_shown(o->warehouse, shown, sizeof(shown));
    const struct sl_wh_ops *ops = sl_wh_driver_for(o->warehouse);
    if (ops == NULL) {
        fprintf(stderr, "sluice %s: unknown warehouse URI '%s'\n", cmd, shown);
        sl__buf_release(&problems);
        return 2;
    }
    /* (no folder: fail before a warehouse file is made) */
    struct opener op = {.ops = ops,
                        .uri = o->warehouse,
                        .apply = apply,
                        .lock_timeout_ms =
                            o->lock_timeout != NULL
                                ? (uint32_t)(atof(o->lock_timeout) * 1000)
                                : 60000};
    struct stat st;
    pthread_t tid;
    bool threaded = stat(o->schemas, &st) == 0 && S_ISDIR(st.st_mode) &&
                    pthread_create(&tid, NULL, open_warehouse, &op) == 0;
    int rc = sl_registry_load(o->schemas, &problems, &reg, &err);
    if (threaded) {
        pthread_join(tid, NULL);
    } else if (rc == SL_OK) {
        open_warehouse(&op);
    }
    wh = op.wh;
    if (rc != SL_OK) {
        cli_print_error(cmd, &err);
        code = sl_exit_code(rc);
        goto out;
    }
    rc = op.rc;
    if (rc != SL_OK) {
        err = op.err;
    } else {
        rc = sl_evolve_plan(
            ops, wh, reg, o->allow_unsafe ? SL_WH_ALLOW_UNSAFE : 0, &ev, &err);
    }
    size_t n_invalid = schema_count_files(problems.data);
    bool refused = ev.n_refused > 0 || n_invalid > 0;
    if (rc == SL_OK && apply && !(o->strict && refused)) {
        size_t applied = 0;
        rc = sl_evolve_apply(ops, wh, &ev, reg, &applied, &err);
    }
    if (rc != SL_OK) {
        cli_print_error(cmd, &err);
        if (apply) {
            fprintf(stderr, "sluice %s: nothing was applied\n", cmd);
        }
        code = sl_exit_code(rc);
        goto out;
    }
    struct schema_report r = {.warehouse = shown,
                              .ev = &ev,
                              .problems = problems.data,
                              .n_invalid = n_invalid,
                              .applied = apply && !(o->strict && refused),
                              .quiet = o->quiet,
                              .seconds = cli_now() - t0};
    if (o->json) {
        schema_print_json(&r, stdout);
    } else {
        schema_print_text(&r, stdout, apply ? stderr : stdout);
    }
    if (apply && o->strict && refused) {
        fprintf(stderr,
                "sluice %s: --strict: nothing was applied (%zu refused "
                "tables, %zu invalid definitions)\n",
                cmd, ev.n_refused, n_invalid);
    }
    code = refused ? 2 : 0;
out:
    sl_evolve_release(&ev);
    if (ops != NULL && wh != NULL) {
        ops->close(wh);
    }
    sl_registry_destroy(reg);
    sl__buf_release(&problems);
    return code;
}

/* check: the registry alone. */
static int check(const struct sopts *o)
{
    double t0 = cli_now();
    struct sl_error err = {0};
    struct sl_buf problems;
    struct sl_registry *reg = NULL;
    sl__buf_init(&problems);
    int rc = sl_registry_load(o->schemas, &problems, &reg, &err);
    int code = 0;
    if (rc != SL_OK) {
        cli_print_error("schema check", &err);
        code = sl_exit_code(rc);
    } else {
        size_t bad = schema_count_files(problems.data);
        if (problems.len > 0) {
            fprintf(stderr, "invalid definitions:\n%s", problems.data);
        }
        printf("%zu definitions valid, %zu invalid (%s, %.3f s)\n",
               reg->n_tables, bad, o->schemas, cli_now() - t0);
        code = bad > 0 ? 2 : 0;
    }
    sl_registry_destroy(reg);
    sl__buf_release(&problems);
    return code;
}

int cmd_schema(int argc, char **argv)
{
    static const char *usage =
        "usage: sluice schema plan|apply|check --schemas DIR [options]\n"
        "  plan    compare the registry with the warehouse; changes nothing\n"
        "  apply   create and evolve the tables, refusing unsafe changes\n"
        "  check   parse and check the definitions only (no warehouse)\n"
        "  infer   print the BigQuery schema of data files that have none\n"
        "Run 'sluice schema SUBCOMMAND --help' for its options.\n";
    if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
        strcmp(argv[0], "-h") == 0) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "infer") == 0) {
        return cmd_schema_infer(argc - 1, argv + 1);
    }
    enum sub sub = strcmp(argv[0], "apply") == 0   ? SUB_APPLY
                   : strcmp(argv[0], "plan") == 0  ? SUB_PLAN
                   : strcmp(argv[0], "check") == 0 ? SUB_CHECK
                                                   : (enum sub) - 1;
    if ((int)sub < 0) {
        fprintf(stderr,
                "sluice schema: unknown subcommand '%s' (try: sluice schema "
                "plan, apply, check or infer)\n",
                argv[0]);
        return 2;
    }
    struct sopts o;
    int code = parse(argc - 1, argv + 1, sub, &o);
    if (code >= 0) {
        return code;
    }
    return sub == SUB_CHECK ? check(&o) : run(&o, sub == SUB_APPLY);
}
