/* query_cmd.c - `sluice query`: run SQL against the warehouse. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "warehouse/driver.h"

#include <stdlib.h>
#include <string.h>

static const char *query_usage =
    "usage: sluice query [--warehouse URI] [--format table|csv|json] [--write] "
    "SQL\n"
    "Run SQL against the warehouse and print the result (json: one object per "
    "line).\n"
    "The warehouse is opened read-only (queries never lock each other out) "
    "unless\n"
    "--write, and never created.\n";

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
    int rc = cli_parse(argc, argv, CLI_QUERY, query_usage, &o);
    if (rc != 0) {
        cli_opts_release(&o);
        return rc;
    }
    enum sl_query_format fmt = strcmp(o.query_format, "csv") == 0 ? SL_QF_CSV
                               : strcmp(o.query_format, "json") == 0
                                   ? SL_QF_JSON
                                   : SL_QF_TABLE;
    const struct sl_wh_ops *ops = sl_wh_driver_for(o.warehouse);
    if (ops == NULL) {
        rc = cli_fail("query", -SL_EUSAGE,
                      "--warehouse %s: unknown kind of warehouse "
                      "(duckdb://PATH, or a path)",
                      o.warehouse);
        cli_opts_release(&o);
        return rc;
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
    cli_opts_release(&o);
    return rc == SL_OK ? 0 : sl_exit_code(rc);
}
