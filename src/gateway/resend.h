/* resend.h - sending files through a gateway again: failed files back to
 * raw/ (`sluice retry`), a table's quarantined records as a new file once
 * its definition was fixed (`sluice retry --quarantine`), archived files
 * from sent/ (`sluice replay`). Each works while the service runs: it only
 * puts files into raw/ (atomically, as producers do) and writes the ledger.
 * gateway stage. */
#ifndef SL_GATEWAY_RESEND_H
#define SL_GATEWAY_RESEND_H

#include "core/common.h"
#include "core/error.h"

#include <stdio.h>

/* Failed files back to raw/ under their first name: all of them, or those
 * named (a path under failed/, the name under raw/ they came as, or their
 * ledger id). Their ledger rows become "retried"; the .error.json goes.
 * *out_n: files sent back. Each is reported on out. */
SL_NODISCARD int sl_gw_retry_failed(const char *dir, bool all,
                                    const char *const *names, size_t n,
                                    FILE *out, size_t *out_n,
                                    struct sl_error *err);

/* Every quarantined record of table ("dataset.table" or "table") that was
 * not sent again before: one new file per quarantined file, holding its bad
 * records as they came (NDJSON lines; CSV records with the file's leading
 * rows), into raw/<table>/; the quarantined pair moves to
 * quarantine/<table>/retried/ so no record is sent twice. */
SL_NODISCARD int sl_gw_retry_quarantine(const char *dir, const char *table,
                                        FILE *out, size_t *out_n,
                                        struct sl_error *err);

/* Archived files loaded (or recognised as duplicates) since since_us, of
 * table or all tables (NULL), copied back into raw/<table>/ as
 * replay-<id>-<name>: recognised as loaded already unless force (then
 * loaded again, recorded as a request in the ledger). A file whose bad
 * records were quarantined is replayed from its original. */
SL_NODISCARD int sl_gw_replay(const char *dir, int64_t since_us,
                              const char *table, bool force, FILE *out,
                              size_t *out_n, struct sl_error *err);

struct sl_ledger;

/* Does the gateway at root know table ("dataset.table" or "table"): is it in
 * the registry (root/schemas/), or named by a file or batch of ledger l?
 * For commands given a table, so that a misspelt one is an error, not
 * "nothing to do". -SL_ENOMEM, or a ledger error. */
SL_NODISCARD int sl_gw_table_known(const char *root, struct sl_ledger *l,
                                   const char *table, bool *out_known,
                                   struct sl_error *err);

/* "2026-12-01", "2026-12-01T10:00:00Z", "2026-12-01 10:00", "-2h", "-30m",
 * "-1d" or seconds since the epoch, into microseconds since the epoch. */
SL_NODISCARD int sl_gw_parse_time(const char *s, int64_t now_us,
                                  int64_t *out_us);

#endif
