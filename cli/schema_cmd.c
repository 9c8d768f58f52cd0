/* schema_cmd.c - `sluice schema apply`: create every table of a registry;
 * `schema infer` is dispatched to infer_cmd.c. cli. */
#include "core/common.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

#include <stdlib.h>
#include <string.h>

static const char *apply_usage =
    "usage: sluice schema apply --schemas DIR [--warehouse URI]\n"
    "Create every table defined under DIR in the warehouse (and the "
    "_sluice_loads\n"
    "table). Idempotent: existing tables with the same definition are left "
    "unchanged.\n"
    "If any definition is invalid, every problem is listed and nothing is "
    "applied.\n";

static const char *schema_help =
    "usage: sluice schema apply --schemas DIR [--warehouse URI]\n"
    "       sluice schema infer [options] FILE...|-\n"
    "  apply   create every table defined under DIR in the warehouse\n"
    "  infer   print the BigQuery schema of data files that have none\n"
    "Run 'sluice schema apply --help' or 'sluice schema infer --help'.\n";

int cmd_schema(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(schema_help, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "infer") == 0) {
        return cmd_schema_infer(argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "apply") != 0) {
        return cli_fail("schema", -SL_EUSAGE,
                        "unknown subcommand '%s' (try: sluice schema apply|infer)",
                        argv[0]);
    }
    struct cli_opts o;
    int rc = cli_parse(argc - 1, argv + 1, CLI_APPLY, apply_usage, &o);
    cli_opts_release(&o);
    if (rc != 0) {
        return rc;
    }
    if (o.schemas == NULL) {
        return cli_fail("schema apply", -SL_EUSAGE,
                        "--schemas DIR is required (the folder of table "
                        "definitions to create)");
    }
    if ((rc = cli_check_schemas_dir("schema apply", o.schemas)) != 0) {
        return rc;
    }
    struct sl_error err = {0};
    struct sl_buf problems;
    sl__buf_init(&problems);
    struct sl_registry *reg = NULL;
    double t0 = cli_now();
    rc = sl_registry_load(o.schemas, &problems, &reg, &err);
    if (rc != SL_OK || problems.len > 0) {
        if (rc != SL_OK) {
            cli_print_error("schema apply", &err);
        }
        if (problems.len > 0) {
            cli_fail("schema apply", -SL_ESCHEMA,
                     "invalid definitions, nothing applied:");
            fputs(problems.data, stderr);
        }
        sl__buf_release(&problems);
        sl_registry_destroy(reg);
        return 2;
    }
    sl__buf_release(&problems);
    const struct sl_wh_ops *ops = sl_wh_driver_for(o.warehouse);
    char shown[1024];
    sl_wh_uri_shown(o.warehouse, shown, sizeof(shown));
    if (ops == NULL) {
        sl_registry_destroy(reg);
        return cli_fail("schema apply", -SL_EUSAGE,
                        "--warehouse %s: unknown kind of warehouse "
                        "(duckdb://PATH, clickhouse://HOST:PORT/DB, or a path)",
                        shown);
    }
    struct sl_wh *wh = NULL;
    struct sl_wh_open_opts oo = {.mode = SL_WH_CREATE,
                                 .lock_timeout_ms = o.lock_timeout_ms};
    rc = ops->open(o.warehouse, &oo, &wh, &err);
    size_t created = 0, unchanged = 0, refused = 0;
    for (size_t i = 0; rc == SL_OK && i < reg->n_tables; i++) {
        bool c = false;
        rc = ops->ensure_table(wh, reg->tables[i], &c, &err);
        if (rc == SL_OK) {
            created += c;
            unchanged += !c;
            if (c && !o.quiet) {
                printf("created %s.%s\n", reg->tables[i]->dataset, reg->tables[i]->name);
            }
        } else if (rc == -SL_ESCHEMA) {
            /* a table the warehouse cannot hold, or holds differently: say
               so and go on with the others */
            sl__error_prefix(&err, "%s.%s: ", reg->tables[i]->dataset, reg->tables[i]->name);
            cli_print_error("schema apply", &err);
            sl__error_clear(&err);
            refused++;
            rc = SL_OK;
        } else {
            sl__error_prefix(&err, "%s.%s: ", reg->tables[i]->dataset, reg->tables[i]->name);
        }
    }
    int code = refused > 0 ? 2 : 0;
    if (rc != SL_OK) {
        cli_print_error("schema apply", &err);
        code = sl_exit_code(rc);
    }
    if (refused > 0) {
        printf("%zu tables: %zu created, %zu unchanged, %zu refused (%s, %.2f s)\n",
               reg->n_tables, created, unchanged, refused, shown, cli_now() - t0);
    } else {
        printf("%zu tables: %zu created, %zu unchanged (%s, %.2f s)\n", reg->n_tables, created,
               unchanged, shown, cli_now() - t0);
    }
    ops->close(wh);
    sl_registry_destroy(reg);
    return code;
}
