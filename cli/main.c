/* main.c - the sluice command: dispatch to subcommands. cli. */
#include "core/common.h"
#include "cli/cli.h"

#include <string.h>

static const char *usage =
    "usage: sluice <command> [options]\n"
    "\n"
    "Schema-first ingestion: validate NDJSON/CSV files against BigQuery-format "
    "table\n"
    "definitions and load them exactly once into a warehouse (DuckDB by "
    "default).\n"
    "\n"
    "commands:\n"
    "  schema plan    show what schema apply would create, change or refuse\n"
    "  schema apply   create and evolve every table of a registry in the warehouse\n"
    "  schema check   parse and check a registry's definitions\n"
    "  schema infer   print the BigQuery schema of data files that have none\n"
    "  validate       check files against a table, report bad records, load "
    "nothing\n"
    "  load           validate and load files into a table\n"
    "  query          run SQL against the warehouse and print the result\n"
    "\n"
    "the gateway service:\n"
    "  init           lay out a gateway folder (raw/ ... sent/, schemas/, "
    "sluice.json)\n"
    "  run            serve a gateway: claim, validate, batch, load, archive\n"
    "  status         files per stage, failures, per-table delay and loads\n"
    "  health         one line per finding; exit 0 healthy, 1 degraded, 2 "
    "unhealthy\n"
    "  retry          send failed files (or a table's quarantined records) "
    "again\n"
    "  replay         send archived files through again\n"
    "  verify         proof of delivery: ledger, folders and warehouse agree\n"
    "  rules check    check the ingestion rules (rules/); explain a sample "
    "path\n"
    "\n"
    "Run 'sluice <command> --help' for a command's options.\n"
    "exit codes: 0 done, 2 usage or definition error, 3 too many bad records "
    "or\n"
    "unreadable input (nothing of that file loaded), 4 warehouse or "
    "environment error.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("sluice %s\n", SL_VERSION);
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    const char *cmd = argv[1];
    if (strcmp(cmd, "schema") == 0) {
        return cmd_schema(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "validate") == 0) {
        return cmd_validate(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "load") == 0) {
        return cmd_load(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "query") == 0) {
        return cmd_query(argc - 2, argv + 2);
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } gw[] = {{"init", cmd_init},
              {"run", cmd_run},
              {"status", cmd_status},
              {"health", cmd_health},
              {"retry", cmd_retry},
              {"replay", cmd_replay},
              {"verify", cmd_verify},
              {"rules", cmd_rules}};
    for (size_t i = 0; i < SL_ARRAY_LEN(gw); i++) {
        if (strcmp(cmd, gw[i].name) == 0) {
            return gw[i].fn(argc - 2, argv + 2);
        }
    }
    int rc = cli_fail(cmd, -SL_EUSAGE,
                      "unknown command (sluice --help lists them)");
    fprintf(stderr, "\n%s", usage);
    return rc;
}
