/* query_cmd.c - `sluice query`: run SQL against the warehouse. cli. */
#include "core/common.h"
#include "cli/cli.h"
#include "warehouse/driver.h"

#include <stdlib.h>
#include <string.h>

static const char *query_help =
    "usage: sluice query [--warehouse URI] [--format table|csv|json] SQL\n"
    "Run SQL against the warehouse and print the result (json: one object per line).\n"
    "  --warehouse URI    default duckdb://./warehouse.duckdb (or $SLUICE_WAREHOUSE)\n"
    "Exit codes: 0 done, 2 usage error, 4 warehouse error (including bad SQL).\n";

int cmd_query(int argc, char **argv)
{
    struct cli_opts o;
    int rc = cli_parse(argc, argv, &o, query_help, true);
    if (rc != 0) {
        free(o.files);
        return rc;
    }
    if (o.n_files != 1) {
        fprintf(stderr, "sluice query: give exactly one SQL argument (see --help)\n");
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
        fprintf(stderr, "sluice query: unknown warehouse URI '%s'\n", o.warehouse);
        free(o.files);
        return 2;
    }
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    rc = ops->open(o.warehouse, &wh, &err);
    if (rc == SL_OK) {
        rc = ops->query(wh, o.files[0], fmt, stdout, &err);
    }
    if (rc != SL_OK) {
        cli_print_error("query", &err);
    }
    ops->close(wh);
    free(o.files);
    return rc == SL_OK ? 0 : sl_exit_code(rc) == 2 ? 2 : 4;
}
