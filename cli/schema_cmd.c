/* schema_cmd.c - `sluice schema apply`: create every table of a registry;
 * `schema infer` is dispatched to infer_cmd.c. cli. */
#include "core/common.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

#include <stdlib.h>
#include <string.h>

static const char *apply_help =
    "usage: sluice schema apply --schemas DIR [--warehouse URI]\n"
    "Create every table defined under DIR in the warehouse (and the _sluice_loads\n"
    "table). Idempotent: existing tables with the same definition are left unchanged.\n"
    "If any definition is invalid, every problem is listed and nothing is applied.\n"
    "  --schemas DIR      folder of table definitions (required)\n"
    "  --warehouse URI    default duckdb://./warehouse.duckdb (or $SLUICE_WAREHOUSE)\n"
    "  --quiet            print only the summary line\n"
    "Exit codes: 0 done, 2 usage or definition error, 4 warehouse error.\n";

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
        fprintf(stderr,
                "sluice schema: unknown subcommand '%s' (try: sluice schema "
                "apply|infer)\n",
                argv[0]);
        return 2;
    }
    struct cli_opts o;
    int rc = cli_parse(argc - 1, argv + 1, &o, apply_help, false);
    if (rc != 0) {
        free(o.files);
        return rc;
    }
    free(o.files);
    if (o.schemas == NULL) {
        fprintf(stderr, "sluice schema apply: --schemas is required\n");
        return 2;
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
            fprintf(stderr, "sluice schema apply: invalid definitions, nothing applied:\n%s",
                    problems.data);
        }
        sl__buf_release(&problems);
        sl_registry_destroy(reg);
        return 2;
    }
    sl__buf_release(&problems);
    const struct sl_wh_ops *ops = sl_wh_driver_for(o.warehouse);
    if (ops == NULL) {
        fprintf(stderr, "sluice schema apply: unknown warehouse URI '%s'\n", o.warehouse);
        sl_registry_destroy(reg);
        return 2;
    }
    struct sl_wh *wh = NULL;
    struct sl_wh_open_opts oo = {.mode = SL_WH_CREATE,
                                 .lock_timeout_ms = o.lock_timeout_ms};
    rc = ops->open(o.warehouse, &oo, &wh, &err);
    size_t created = 0, unchanged = 0;
    for (size_t i = 0; rc == SL_OK && i < reg->n_tables; i++) {
        bool c = false;
        rc = ops->ensure_table(wh, reg->tables[i], &c, &err);
        if (rc == SL_OK) {
            created += c;
            unchanged += !c;
            if (c && !o.quiet) {
                printf("created %s.%s\n", reg->tables[i]->dataset, reg->tables[i]->name);
            }
        } else {
            sl__error_prefix(&err, "%s.%s: ", reg->tables[i]->dataset, reg->tables[i]->name);
        }
    }
    int code = 0;
    if (rc != SL_OK) {
        cli_print_error("schema apply", &err);
        code = sl_exit_code(rc);
    }
    printf("%zu tables: %zu created, %zu unchanged (%s, %.2f s)\n", reg->n_tables, created,
           unchanged, o.warehouse, cli_now() - t0);
    ops->close(wh);
    sl_registry_destroy(reg);
    return code;
}
