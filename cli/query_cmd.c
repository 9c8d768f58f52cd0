/* query_cmd.c - `sluice query`: run SQL against the warehouse. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "warehouse/driver.h"

#include <stdlib.h>
#include <string.h>

static const char *query_help =
    "usage: sluice query [--warehouse URI] [--format table|csv|json] SQL\n"
    "Run SQL against the warehouse and print the result (json: one object per "
    "line).\n"
    "  --warehouse URI    default duckdb://./warehouse.duckdb (or "
    "$SLUICE_WAREHOUSE)\n"
    "  --write            open the warehouse read-write (default: read-only, "
    "so\n"
    "                     queries never lock each other out)\n"
    "  --lock-timeout S   wait up to S seconds for a warehouse another "
    "process\n"
    "                     holds (default 60)\n"
    "Exit codes: 0 done, 2 usage error, 4 warehouse error (including bad "
    "SQL).\n";

static void waiting(void *ud, const char *holder)
{
    (void)ud;
    fprintf(stderr,
            "sluice query: the warehouse is locked by %s; waiting (see "
            "--lock-timeout)\n",
            holder);
}

int cmd_query(int argc, char **argv)
{
    struct cli_opts o;
    int rc = cli_parse(argc, argv, &o, query_help, true);
    if (rc != 0) {
        free(o.files);
        return rc;
    }
    if (o.n_files != 1) {
        fprintf(stderr,
                "sluice query: give exactly one SQL argument (see --help)\n");
        free(o.files);
        return 2;
    }
    enum sl_query_format fmt;
    if (strcmp(o.query_format, "table") == 0) {
        fmt = SL_QF_TABLE;
    } else if (strcmp(o.query_format, "csv") == 0) {
        fmt = SL_QF_CSV;
    } else if (strcmp(o.query_format, "json") == 0) {
        fmt = SL_QF_JSON;
    } else {
        fprintf(stderr, "sluice query: --format must be table, csv or json\n");
        free(o.files);
        return 2;
    }
    const struct sl_wh_ops *ops = sl_wh_driver_for(o.warehouse);
    if (ops == NULL) {
        fprintf(stderr, "sluice query: unknown warehouse URI '%s'\n",
                o.warehouse);
        free(o.files);
        return 2;
    }
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    struct sl_wh_open_opts oo = {.mode = o.write ? SL_WH_WRITE : SL_WH_READ,
                                 .lock_timeout_ms = o.lock_timeout_ms,
                                 .waiting = waiting};
    rc = ops->open(o.warehouse, &oo, &wh, &err);
    if (rc == SL_OK) {
        rc = ops->print_query(wh, o.files[0], fmt, stdout, &err);
    }
    if (rc != SL_OK) {
        cli_print_error("query", &err);
    }
    ops->close(wh);
    free(o.files);
    return rc == SL_OK ? 0 : sl_exit_code(rc);
}
