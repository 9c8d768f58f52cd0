/* load.h - `sluice load`: files into one table, each exactly once, through the
 * warehouse's batch interface (a batch of one file). A file whose content the
 * table already holds is recognised before any validation or append work, and
 * a path whose content changed since it was loaded is refused unless forced.
 * pipeline stage. */
#ifndef SL_PIPELINE_LOAD_H
#define SL_PIPELINE_LOAD_H

#include "core/common.h"
#include "core/error.h"
#include "validate/validator.h"
#include "warehouse/driver.h"

enum sl_load_outcome {
    SL_LOADED,         /* committed: good rows and the audit records */
    SL_ALREADY_LOADED, /* this content was loaded into the table before
                          (prior says when): nothing done */
    SL_TOO_MANY_BAD,   /* more bad records than allowed: nothing loaded */
    SL_PATH_CHANGED,   /* the path was loaded before with other content (it
                          grew?): nothing done; force or replace to load */
};

struct sl_load_opts {
    unsigned n_threads; /* > 1: a plain file on that many threads */
    bool force;         /* load even content loaded before */
    unsigned flags;     /* SL_BATCH_TRUNCATE | SL_BATCH_EMPTY */
    unsigned schema_update; /* SL_WH_ALLOW_FIELD_* (warehouse/evolve.h) */
};

struct sl_load_result {
    enum sl_load_outcome outcome;
    struct sl_file_stats st;    /* rows, valid, rejected, bytes */
    char fingerprint[65];       /* hex SHA-256 of the raw file bytes */
    char batch[65];             /* the batch id committed */
    struct sl_prior_load prior; /* SL_ALREADY_LOADED / SL_PATH_CHANGED */
    bool prehashed;             /* the file was hashed before any other work */
};

/* Load path ("-" = stdin) into t through an open warehouse. Returns SL_OK with
 * out->outcome set, or a negative code (unreadable input, warehouse failure,
 * ENOMEM) after rolling back: a failed load never leaves rows behind. The
 * audit trail records the file by its absolute path (as given for stdin).
 * Rows land in no particular order when n_threads > 1 (rejects are still
 * reported in file order). */
SL_NODISCARD int sl_load_file(const struct sl_wh_ops *ops, struct sl_wh *wh,
                              const struct sl_table *t,
                              const struct sl_vopts *vo, const char *path,
                              const struct sl_load_opts *lo,
                              const struct sl_reject_sink *rejects,
                              struct sl_load_result *out, struct sl_error *err);

/* Hex SHA-256 of a file's raw bytes (the load fingerprint). */
SL_NODISCARD int sl_file_sha256(const char *path, char out[65],
                                struct sl_error *err);

#endif
