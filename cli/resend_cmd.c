/* resend_cmd.c - `sluice retry` and `sluice replay`: send files through a
 * gateway again (gateway/resend.h). cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "cli/gwopts.h"
#include "gateway/layout.h"
#include "gateway/resend.h"
#include "ops/verify.h"

#include <stdio.h>
#include <stdlib.h>

static const char *retry_help =
    "usage: sluice retry --gateway DIR (--all | FILE...)\n"
    "       sluice retry --gateway DIR --quarantine TABLE\n"
    "Send failed files back to raw/ for another try (FILE: a path under\n"
    "failed/, the name it came as under raw/, or its ledger id), or a table's\n"
    "quarantined records as new files (after its definition was fixed); each\n"
    "record is sent again at most once. Works while the service runs.\n"
    "Exit 2 when a FILE is not in failed/ or TABLE is unknown (nothing is\n"
    "sent).\n";

int cmd_retry(int argc, char **argv)
{
    struct gw_opts g;
    int rc = gw_parse("retry", argc, argv, retry_help, GW_RETRY, &g);
    if (rc != 0) {
        free(g.files);
        return rc;
    }
    if ((g.quarantine != NULL) + (g.all || g.n_files > 0) != 1 ||
        (g.all && g.n_files > 0)) {
        free(g.files);
        return cli_fail("retry", -SL_EUSAGE,
                        "give --all, FILE... or --quarantine TABLE (one of "
                        "them)");
    }
    struct sl_error err = {0};
    size_t n = 0;
    rc = g.quarantine != NULL
             ? sl_gw_retry_quarantine(g.gateway, g.quarantine, stdout, &n, &err)
             : sl_gw_retry_failed(g.gateway, g.all, g.files, g.n_files, stdout,
                                  &n, &err);
    free(g.files);
    if (rc != SL_OK) {
        cli_print_error("retry", &err);
        return sl_exit_code(rc);
    }
    printf("%zu %s sent again\n", n,
           g.quarantine != NULL ? "quarantined files' records" : "files");
    return 0;
}

static const char *replay_help =
    "usage: sluice replay --gateway DIR --since TIME [--table T] [--force]\n"
    "Send archived files (loaded since TIME) through again: recognised as\n"
    "loaded already (recorded as duplicates) unless --force, which loads them\n"
    "again. TIME: 2026-12-01, 2026-12-01T10:00:00Z, -2h, -30m, -1d, or epoch\n"
    "seconds.\n";

int cmd_replay(int argc, char **argv)
{
    struct gw_opts g;
    int rc =
        gw_parse("replay", argc, argv, replay_help, GW_SINCE | GW_TABLE, &g);
    free(g.files);
    if (rc != 0) {
        return rc;
    }
    int64_t since = 0;
    if (g.since == NULL ||
        sl_gw_parse_time(g.since, sl_gw_now_us(), &since) != SL_OK) {
        return cli_fail("replay", -SL_EUSAGE,
                        "--since takes a time: 2026-12-01, "
                        "2026-12-01T10:00:00Z, -2h, -30m, -1d or epoch "
                        "seconds");
    }
    struct sl_error err = {0};
    size_t n = 0;
    rc = sl_gw_replay(g.gateway, since, g.table, g.force, stdout, &n, &err);
    if (rc != SL_OK) {
        cli_print_error("replay", &err);
        return sl_exit_code(rc);
    }
    printf("%zu files sent again%s\n", n, g.force ? " (forced)" : "");
    return 0;
}

static const char *verify_help =
    "usage: sluice verify --gateway DIR [--table T] [--repair]\n"
    "Proof of delivery: for every file in sent/, ledger, folders and "
    "warehouse\n"
    "agree (rows loaded + rows quarantined = rows read; each batch recorded\n"
    "once with its row count and checksum; each table holding exactly the\n"
    "rows its batches add up to). Lists every discrepancy; exit 0 when there\n"
    "is none, 1 when there are some, 2 for a usage error (a --table neither\n"
    "the registry nor the ledger knows). --repair finishes moves a crash\n"
    "left.\n";

int cmd_verify(int argc, char **argv)
{
    struct gw_opts g;
    int rc =
        gw_parse("verify", argc, argv, verify_help, GW_TABLE | GW_REPAIR, &g);
    free(g.files);
    if (rc != 0) {
        return rc;
    }
    struct sl_verify_opts o = {g.gateway, g.table, g.repair};
    struct sl_verify_result res;
    struct sl_error err = {0};
    rc = sl_verify(&o, stdout, &res, &err);
    if (rc != SL_OK) {
        cli_print_error("verify", &err);
        return sl_exit_code(rc);
    }
    printf("verified %llu files, %llu batches, %llu rows: %llu "
           "discrepanc%s%s\n",
           (unsigned long long)res.files, (unsigned long long)res.batches,
           (unsigned long long)res.rows, (unsigned long long)res.discrepancies,
           res.discrepancies == 1 ? "y" : "ies",
           res.repaired ? " (some repaired)" : "");
    return res.discrepancies > 0 ? 1 : 0;
}
