/* load.h - one file into one table, exactly once: validate while appending inside
 * one warehouse transaction, fingerprint the very bytes read, roll back if that
 * content was loaded before or if the bad records exceed the limit. pipeline stage. */
#ifndef SL_PIPELINE_LOAD_H
#define SL_PIPELINE_LOAD_H

#include "core/common.h"
#include "core/error.h"
#include "validate/validator.h"
#include "warehouse/driver.h"

enum sl_load_outcome {
    SL_LOADED,          /* committed: good rows and the _sluice_loads record */
    SL_ALREADY_LOADED,  /* this content was loaded into the table before: nothing done */
    SL_TOO_MANY_BAD,    /* more bad records than allowed: rolled back, nothing loaded */
};

struct sl_load_result {
    enum sl_load_outcome outcome;
    struct sl_file_stats st;  /* rows, valid, rejected, bytes */
    char fingerprint[65];     /* hex SHA-256 of the raw file bytes */
};

/* Load path ("-" = stdin) into t through an open warehouse. Returns SL_OK with
 * out->outcome set, or a negative code (unreadable input, warehouse failure,
 * ENOMEM) after rolling back: a failed load never leaves rows behind.
 * force = load even if the fingerprint was loaded before. n_threads > 1: a plain
 * file is validated and appended on that many threads where the driver can (rows
 * then land in no particular order; rejects are still reported in file order). */
SL_NODISCARD int sl_load_file(const struct sl_wh_ops *ops, struct sl_wh *wh,
                              const struct sl_table *t, const struct sl_vopts *vo,
                              const char *path, unsigned n_threads, bool force,
                              const struct sl_reject_sink *rejects,
                              struct sl_load_result *out, struct sl_error *err);

#endif
