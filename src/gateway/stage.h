/* stage.h - staging one claimed file (the worker threads' half of a claim):
 * validate it once; a file with no bad record is ready as it is, a file with
 * bad records gets its good rows written as canonical NDJSON and its bad ones
 * as rejects, both under temporary names the service renames once the ledger
 * records the outcome. Nothing here moves the file itself or writes the
 * ledger: the service does, in that order. gateway stage. */
#ifndef SL_GATEWAY_STAGE_H
#define SL_GATEWAY_STAGE_H

#include "core/common.h"
#include "core/error.h"
#include "gateway/config.h"
#include "schema/schema.h"
#include "validate/validator.h"

enum sl_stage_outcome {
    SL_STAGE_CLEAN,     /* no bad record: the file is the staged data */
    SL_STAGE_DIRTY,     /* good rows in good_tmp, rejects in rejects_tmp */
    SL_STAGE_DUPLICATE, /* its content is loaded already (hashed first) */
    SL_STAGE_FAILED,    /* gave up: err_* say why (corrupt, schema) */
    SL_STAGE_RETRY,     /* transient (read error, full disk, changed while
                           read): try again later */
    SL_STAGE_VANISHED,  /* the file is gone */
    SL_STAGE_REPLACED,  /* another file now has its name: claim it anew */
    SL_STAGE_ONE_PASS,  /* not read (req.one_pass): its batch's load
                           validates it, and any bad record sends it back
                           to be staged in full */
};

struct sl_stage_req {
    const char *root;        /* the gateway folder */
    const char *raw_rel;     /* "raw/<table>/..." */
    const char *raw_name;    /* the name under raw/, for messages */
    const char *good_rel;    /* where good rows will go (DIRTY) */
    const char *rejects_rel; /* where rejects will go */
    const struct sl_table *t;
    const struct sl_vplan *plan; /* t's compiled plan (borrowed), or NULL */
    const struct sl_gw_load *load;
    int64_t dev, ino;   /* the file claimed */
    bool hash_first;    /* the table holds a file of this size:
                           hash before validating */
    bool fsync;         /* fsync what is written */
    bool one_pass;      /* a large file that cannot be a copy: checked to be
                           the one claimed, not read (SL_STAGE_ONE_PASS) */
    unsigned n_threads; /* threads the first pass may use (a large plain
                           NDJSON file is split among them); 0 or 1: one */
    /* asks whether content fp of the table was loaded (hash_first); may be
       called from the worker thread */
    bool (*loaded)(void *ud, const char *fp);
    void *loaded_ud;
};

struct sl_stage_res {
    enum sl_stage_outcome outcome;
    int format;              /* enum sl_format of the staged data */
    struct sl_file_stats st; /* rows, valid, rejected, bytes */
    char fingerprint[65];    /* of the file as claimed */
    char data_fp[65];        /* of the staged data */
    int64_t size, mtime_ns;
    int code; /* FAILED/RETRY: the error code */
    char err_class[16];
    char message[512];
    char cause[640]; /* DIRTY with every row rejected: the likely cause
                        (validate/cause.h), else "" */
};

/* Stage req's file into res (never fails: every outcome is in res). Uses a
 * validator of its own per call. Thread-safe for distinct files. */
void sl_gw_stage(const struct sl_stage_req *req, struct sl_stage_res *res);

#endif
