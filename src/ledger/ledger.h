/* ledger.h - a gateway's ledger: SQLite (WAL) under DIR/.sluice/ledger.db,
 * holding every file the gateway claimed (where it is, where it was before its
 * last move, its state, counts, attempts, errors), every batch, and an event
 * trail. The service writes a state change here before the rename it
 * describes, so recovery can finish any move a crash interrupted; the
 * warehouse's own batch record stays the final word on what was loaded.
 * docs/LEDGER.md describes the tables. ledger stage.
 *
 * Thread-safety: a struct sl_ledger is one SQLite connection, used by one
 * thread at a time. Several processes may open the same ledger (the service,
 * `sluice status`, `sluice retry`): SQLite serialises their writes, and each
 * waits up to busy_ms for another's. */
#ifndef SL_LEDGER_LEDGER_H
#define SL_LEDGER_LEDGER_H

#include "core/common.h"
#include "core/error.h"

struct sl_ledger;

enum sl_fstate {
    SL_F_CLAIMED,   /* seen in raw/, being validated */
    SL_F_STAGED,    /* validated: in transformed/ */
    SL_F_BATCHED,   /* in a sealed batch: in cloud_ready/ */
    SL_F_LOADED,    /* its batch committed: in sent/ */
    SL_F_DUPLICATE, /* its content was loaded before: in sent/ */
    SL_F_FAILED,    /* gave up: in failed/ with an .error.json */
    SL_F_VANISHED,  /* deleted by someone else before it was staged */
    SL_F_RETRIED,   /* sent back through (sluice retry): a new claim follows */
    SL_F_N_STATES
};
const char *sl_fstate_name(enum sl_fstate s);

/* One file row. Strings are borrowed (inputs) or point into the ledger's
 * statement (outputs of sl_ledger_each_file: valid during the callback). */
struct sl_lfile {
    int64_t id;           /* 0 = not yet in the ledger */
    const char *raw_name; /* path under raw/ when claimed */
    const char *table;    /* "dataset.table", "" = none */
    int64_t size, mtime_ns, dev, ino;
    const char *fingerprint; /* SHA-256 of the bytes claimed, "" = not yet */
    const char *data_fp;     /* SHA-256 of the staged data file */
    enum sl_fstate state;
    const char *path;      /* the data file now (relative to the gateway) */
    const char *prev_path; /* before the last move, "" = none */
    const char *orig_path; /* a file with bad records: the original now */
    const char *orig_prev; /* ... and before its last move */
    int format;            /* enum sl_format of the staged data */
    int64_t rows, rows_valid, rows_rejected;
    const char *batch; /* batch id, "" = none */
    int attempts;
    int64_t next_try_us;   /* not before (wall clock) */
    const char *err_class; /* "", corrupt, schema, transient, fatal */
    const char *err_msg;
    int64_t first_seen_us, staged_us, done_us;
    bool force;            /* load even if its content was loaded */
    bool dup;              /* staged as a copy of content the table holds (not
                              validated; the load records it as a duplicate) */
    const char *rule;      /* the rule that routed it, "" = the folder
                              convention (version 2) */
    const char *rule_src;  /* SHA-256 of that rule's file text as it was
                              then (sl_ledger_put_source) */
    const char *route_key; /* its batch key ("" = the table's) */
    int routes; /* routes its claim made: > 1 with fan-out, whose moves
                   out of raw/ are links (0 and 1: one) */
};

enum sl_bstate {
    SL_B_SEALED,    /* files chosen and recorded; being moved and loaded */
    SL_B_COMMITTED, /* the warehouse committed it; files being archived */
    SL_B_ARCHIVED,  /* done */
    SL_B_ABANDONED, /* re-formed without a file that changed; no rows */
    SL_B_FAILED,    /* gave up; its files in failed/ */
};
const char *sl_bstate_name(enum sl_bstate s);

struct sl_lbatch {
    const char *id;
    int64_t seq;
    const char *table;
    enum sl_bstate state;
    int64_t n_files, rows, bytes, rejected;
    int64_t created_us, committed_us;
    int attempts;
    int64_t next_try_us;
    const char *err_class, *err_msg;
    uint64_t checksum;
    bool force;
    const char *rule; /* the rule whose batch it is, "" = none */
    const char *plan; /* what the batch is planned from again (JSON: the
                         rule's source, batch key, first file and its
                         variables), "" = none */
    int post;         /* 1: the rule's actions and the cleanup of its
                         transient table are still to run */
    bool by_sql;      /* its rows reach the destination through the rule's
                         SQL or replace the table's (Override): the table
                         is not the sum of its batches */
};

enum sl_ledger_mode {
    SL_LEDGER_READ,   /* read-only: never waits for a writer (WAL) */
    SL_LEDGER_WRITE,  /* read-write, must exist */
    SL_LEDGER_CREATE, /* read-write, created (with its tables) if missing */
};

/* Open the ledger at path. SL_OK, -SL_ENOTFOUND when it does not exist (and
 * mode is not CREATE), -SL_EIO / -SL_ECORRUPT for an unreadable or damaged
 * file. Caller closes with sl_ledger_close. */
SL_NODISCARD int sl_ledger_open(const char *path, enum sl_ledger_mode mode,
                                struct sl_ledger **out, struct sl_error *err);
void sl_ledger_close(struct sl_ledger *l); /* NULL ok */

/* Transactions (BEGIN IMMEDIATE; a busy ledger is waited for). Every write
 * below also works outside one (then it is its own transaction). */
SL_NODISCARD int sl_ledger_begin(struct sl_ledger *l, struct sl_error *err);
SL_NODISCARD int sl_ledger_commit(struct sl_ledger *l, struct sl_error *err);
void sl_ledger_rollback(struct sl_ledger *l);

/* Insert (f->id == 0: *out_id gets the new id) or rewrite a file row. */
SL_NODISCARD int sl_ledger_put_file(struct sl_ledger *l,
                                    const struct sl_lfile *f, int64_t *out_id,
                                    struct sl_error *err);
SL_NODISCARD int sl_ledger_put_batch(struct sl_ledger *l,
                                     const struct sl_lbatch *b,
                                     struct sl_error *err);
/* Append to the event trail (what: "claimed", "staged", ...). */
SL_NODISCARD int sl_ledger_event(struct sl_ledger *l, int64_t file_id,
                                 const char *batch, const char *what,
                                 const char *detail, struct sl_error *err);

/* Call cb for each file row matching where (a constant SQL condition, e.g.
 * "state IN (0,1)"; never user text), ordered by id. cb returns 0 to go on,
 * anything else stops with that value returned. */
typedef int (*sl_ledger_file_cb)(void *ud, const struct sl_lfile *f);
SL_NODISCARD int sl_ledger_each_file(struct sl_ledger *l, const char *where,
                                     sl_ledger_file_cb cb, void *ud,
                                     struct sl_error *err);
typedef int (*sl_ledger_batch_cb)(void *ud, const struct sl_lbatch *b);
SL_NODISCARD int sl_ledger_each_batch(struct sl_ledger *l, const char *where,
                                      sl_ledger_batch_cb cb, void *ud,
                                      struct sl_error *err);

/* Is content fp of table recorded as loaded (state loaded)? */
SL_NODISCARD int sl_ledger_fp_loaded(struct sl_ledger *l, const char *table,
                                     const char *fp, bool *out_yes,
                                     struct sl_error *err);
/* Is content fp of table staged, batched or loaded under another file than
 * self? (a second copy must not be validated and quarantined again) */
SL_NODISCARD int sl_ledger_fp_taken(struct sl_ledger *l, const char *table,
                                    const char *fp, int64_t self, bool *out_yes,
                                    struct sl_error *err);
/* Has table a file of exactly size bytes claimed, staged, batched (other
 * than self) or loaded? (a file that may be a copy is not loaded in one
 * pass: its content must be known before its batch) */
SL_NODISCARD int sl_ledger_size_taken(struct sl_ledger *l, const char *table,
                                      int64_t size, int64_t self, bool *out_yes,
                                      struct sl_error *err);
/* Has table a staged or batched file of exactly size bytes (other than
 * self) that loads in one pass (its content not known yet)? */
SL_NODISCARD int sl_ledger_one_pass_size(struct sl_ledger *l, const char *table,
                                         int64_t size, int64_t self,
                                         bool *out_yes, struct sl_error *err);
/* Has table a loaded file of exactly size bytes? (worth hashing first) */
SL_NODISCARD int sl_ledger_size_loaded(struct sl_ledger *l, const char *table,
                                       int64_t size, bool *out_yes,
                                       struct sl_error *err);

/* A request for a file not yet claimed (replay --force): when raw_name is
 * claimed, it is loaded even if its content was loaded before.
 * sl_ledger_take_request reads and removes it (*out_force false when none). */
SL_NODISCARD int sl_ledger_request_force(struct sl_ledger *l,
                                         const char *raw_name,
                                         struct sl_error *err);
SL_NODISCARD int sl_ledger_take_request(struct sl_ledger *l,
                                        const char *raw_name, bool *out_force,
                                        struct sl_error *err);
/* A file's new place written on its own (a rule's action moved it; path
 * "" when it deleted it). */
SL_NODISCARD int sl_ledger_file_moved(struct sl_ledger *l, int64_t id,
                                      const char *path, const char *prev,
                                      struct sl_error *err);
/* A batch's post flag on its own (its actions ran). */
SL_NODISCARD int sl_ledger_batch_post(struct sl_ledger *l, const char *id,
                                      int post, struct sl_error *err);

/* Rule file texts by their SHA-256 (hex): recorded once, read back by
 * recovery to plan a batch by its rule as it was. sl_ledger_get_source:
 * *out_text (NUL-terminated, *out_len bytes) and *out_file are the
 * caller's to free with sl__free; -SL_ENOTFOUND when absent. */
SL_NODISCARD int sl_ledger_put_source(struct sl_ledger *l, const char *hash,
                                      const char *file, const char *text,
                                      size_t len, struct sl_error *err);
SL_NODISCARD int sl_ledger_get_source(struct sl_ledger *l, const char *hash,
                                      char **out_file, char **out_text,
                                      size_t *out_len, struct sl_error *err);

/* Small key-value store (gateway id, batch sequence). *out "" when absent;
 * out holds size bytes. */
SL_NODISCARD int sl_ledger_meta_get(struct sl_ledger *l, const char *key,
                                    char *out, size_t size,
                                    struct sl_error *err);
SL_NODISCARD int sl_ledger_meta_set(struct sl_ledger *l, const char *key,
                                    const char *value, struct sl_error *err);

/* One integer from a constant query (counts for status), e.g.
 * "SELECT count(*) FROM files WHERE state = 5". */
SL_NODISCARD int sl_ledger_scalar(struct sl_ledger *l, const char *sql,
                                  int64_t *out, struct sl_error *err);
/* Run a constant query, cb per row with its columns as text (NULL for
 * NULL). For status and verify. */
typedef int (*sl_ledger_row_cb)(void *ud, int n, const char *const *cols);
SL_NODISCARD int sl_ledger_rows(struct sl_ledger *l, const char *sql,
                                sl_ledger_row_cb cb, void *ud,
                                struct sl_error *err);
/* Same with one bound text parameter (?1). */
SL_NODISCARD int sl_ledger_rows1(struct sl_ledger *l, const char *sql,
                                 const char *arg, sl_ledger_row_cb cb, void *ud,
                                 struct sl_error *err);
/* The check SQLite itself makes (PRAGMA quick_check): "ok" or the problem. */
SL_NODISCARD int sl_ledger_check(struct sl_ledger *l, char *out, size_t size,
                                 struct sl_error *err);

#endif
