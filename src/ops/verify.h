/* verify.h - `sluice verify`, proof of delivery: for every file the gateway
 * archived, ledger, folders and warehouse agree (its archived copy exists,
 * rows read = rows loaded + rows quarantined, its quarantined records are in
 * its rejects file, its batch is recorded in the warehouse with the same row
 * count and checksum), every file in sent/ is one the ledger put there, and
 * every table holds exactly the rows its recorded batches add up to (count,
 * and the sum of the rows' hashes: a row lost or loaded twice shows). The
 * ledger itself is checked (SQLite's quick_check); --repair finishes moves a
 * crash interrupted. ops stage. */
#ifndef SL_OPS_VERIFY_H
#define SL_OPS_VERIFY_H

#include "core/common.h"
#include "core/error.h"

#include <stdio.h>

struct sl_verify_opts {
    const char *dir;   /* the gateway */
    const char *table; /* only this table, or NULL */
    bool repair;
};

struct sl_verify_result {
    uint64_t files, batches, rows;
    uint64_t discrepancies, repaired;
};

/* Print each discrepancy (and repair) as a line on out. SL_OK when the check
 * ran (res says what it found), a negative code when it could not (no
 * ledger, warehouse unreachable: -SL_EBUSY / -SL_EUNAVAIL ...). */
SL_NODISCARD int sl_verify(const struct sl_verify_opts *o, FILE *out,
                           struct sl_verify_result *res, struct sl_error *err);

#endif
