/* validator.h - a table's compiled validator: streams NDJSON or CSV, coerces every
 * value with BigQuery's load semantics, applies the table's rules, hands good rows
 * to a row sink and bad ones to a reject sink. validate stage.
 *
 * Two objects: a plan (struct sl_vplan), everything compiled from a table once,
 * immutable and shared by any number of threads; and a validator (struct
 * sl_validator), one thread's scratch state over a borrowed plan, cheap to
 * create and meant to be kept and fed file after file. */
#ifndef SL_VALIDATE_VALIDATOR_H
#define SL_VALIDATE_VALIDATOR_H

#include "core/common.h"
#include "core/error.h"
#include "parse/csv.h"
#include "schema/schema.h"
#include "validate/row.h"

enum sl_format { SL_FMT_NDJSON, SL_FMT_CSV };

struct sl_vopts {
    enum sl_format format;
    bool ignore_unknown;        /* drop unknown keys / extra trailing CSV columns */
    uint64_t max_bad;           /* bad records tolerated per file (default 0) */
    size_t max_row_size;        /* longest row in bytes (default 100 MB) */
    size_t max_value_size;      /* longest single value in bytes (default 10 MB) */
    /* CSV only */
    struct sl_csv_opts csv;
    uint64_t skip_leading_rows; /* records skipped at the top of each file */
    bool header;                /* a row names the columns: the last of the skipped rows
                                   (the first row when none are skipped) */
    bool allow_jagged;          /* missing trailing columns are NULL */
    const char *null_marker;    /* NULL = BigQuery's default (empty field) */
    bool fingerprint;           /* compute the SHA-256 of each file (needed to load) */
    bool stop_at_reject;        /* a parallel source (psource.h) fails at its first
                                   bad record (-SL_ECHANGED) instead of keeping it for
                                   sl_psource_finish: a read that must be clean */
    bool general_only;          /* never take the row fast path (fastrow.c): tests
                                   compare the two paths with it */
    /* progress, called about every 16 MB of input; may be NULL */
    void (*progress)(void *ud, uint64_t bytes_done, uint64_t bytes_total, uint64_t rows);
    void *progress_ud;
    /* one line about a file as a whole, told once at its start (a CSV header's
     * columns dropped by ignore_unknown, fields no header column fills); on
     * the thread that reads the file's start; msg is borrowed for the call.
     * May be NULL. */
    void (*notice)(void *ud, const char *file, const char *msg);
    void *notice_ud;
};
void sl_vopts_default(struct sl_vopts *o);

/* One bad record, as written to the rejects file. Borrowed strings, valid only
 * during the sink call. */
struct sl_reject {
    const char *file;      /* input path as given */
    uint64_t line_no;      /* 1-based line where the row starts */
    uint64_t record_no;    /* CSV: 1-based record number excluding skipped rows; 0 for NDJSON */
    uint64_t byte_off;     /* offset of the row's first byte in the uncompressed input */
    const char *field;     /* dotted path, or NULL */
    const char *reason;    /* one line of text */
    const char *value;     /* excerpt of the offending value (may be NULL) */
    size_t value_len;
};

struct sl_reject_sink {
    int (*reject)(void *ud, const struct sl_reject *r, struct sl_error *err);
    void *ud;
};

struct sl_file_stats {
    uint64_t rows;         /* records read (blank lines and skipped rows excluded) */
    uint64_t valid;        /* records that passed */
    uint64_t rejected;     /* bad records */
    uint64_t bytes;        /* uncompressed bytes read */
    uint64_t raw_bytes;    /* bytes read from the file */
    bool too_many_bad;     /* rejected > max_bad */
    /* CSV without a header row: the first data record looks like one (most of
     * its values are field names). Its reject then says so (header_like);
     * when it was valid as data it was taken as a row (header_like_taken). */
    bool header_like;
    bool header_like_taken;
    char fingerprint[65];  /* hex SHA-256 of the raw file bytes */
};

struct sl_vplan;
struct sl_validator;

/* Compile t's validation plan: per field its coercion, folded rule checks,
 * enum sets, simple patterns and key pattern; the conditional rules grouped by
 * the field they read; the CSV fast path's column programs. It depends on the
 * table only (not on struct sl_vopts), so one plan serves NDJSON and CSV files
 * and any options; compile it once per table.
 * Immutable once returned; thread-safe: any number of threads may create
 * validators from it and validate with them at the same time, without locks.
 * t is borrowed and must outlive the plan. Returns SL_OK, -SL_ENOMEM, or
 * -SL_ESCHEMA (a rule's condition names no field of t); on failure *out is
 * NULL and nothing is left allocated. Caller frees with sl_vplan_destroy. */
SL_NODISCARD int sl_vplan_create(const struct sl_table *t, struct sl_vplan **out,
                                 struct sl_error *err);
/* Free a plan. Every validator created from it must be destroyed first.
 * NULL ok. */
void sl_vplan_destroy(struct sl_vplan *p);

/* A validator over plan with the options o (copied; o->null_marker is borrowed
 * and must outlive the validator): the per-thread state of the row and file
 * being validated (the row arena, slots for conditional rules, the CSV reader,
 * the header's column map, buffers kept from file to file). Cheap: one
 * allocation, two with PATTERN rules. plan is borrowed and must outlive the
 * validator; it is only read, so validators on other threads may share it.
 * The validator itself is used by one thread at a time. Returns SL_OK,
 * -SL_ENOMEM, or -SL_EUSAGE (CSV options that cannot work, or CSV for a table
 * with RECORD or REPEATED fields); on failure *out is NULL. Caller frees with
 * sl_validator_destroy. */
SL_NODISCARD int sl_validator_create_from_plan(const struct sl_vplan *plan,
                                               const struct sl_vopts *o,
                                               struct sl_validator **out,
                                               struct sl_error *err);
/* sl_vplan_create and sl_validator_create_from_plan in one: the validator owns
 * a private plan (freed with it). t is borrowed and must outlive the validator.
 * Errors as for those two. For one-off use; to validate many files or on
 * several threads, share one plan instead. */
SL_NODISCARD int sl_validator_create(const struct sl_table *t, const struct sl_vopts *o,
                                     struct sl_validator **out, struct sl_error *err);
/* Free a validator (not its borrowed plan). NULL ok. */
void sl_validator_destroy(struct sl_validator *v);

/* Validate one file ("-" = stdin), streaming. Good rows go to rows (may be NULL),
 * bad ones to rejects (may be NULL). Returns SL_OK even when rows were rejected
 * (see stats->too_many_bad); negative on unreadable input (-SL_ECORRUPT/-SL_EIO,
 * err names the file and offset), sink failure or ENOMEM. v may be used again
 * for the next file whatever this call returned: nothing of one file's state
 * (the CSV header's map, a half-read row) carries over to the next. */
SL_NODISCARD int sl_validate_file(struct sl_validator *v, const char *path,
                                  const struct sl_row_sink *rows,
                                  const struct sl_reject_sink *rejects,
                                  struct sl_file_stats *stats, struct sl_error *err);

/* Validate only, with n_threads threads over an uncompressed regular file split at
 * line boundaries (NDJSON; other inputs fall back to one thread). Rejects are
 * delivered in file order, after all threads finish. */
SL_NODISCARD int sl_validate_file_parallel(const struct sl_table *t, const struct sl_vopts *o,
                                           const char *path, unsigned n_threads,
                                           const struct sl_reject_sink *rejects,
                                           struct sl_file_stats *stats, struct sl_error *err);

/* Validate one NDJSON row held in memory (no newline). Returns 0 if valid (row
 * delivered to rows if non-NULL), 1 if rejected (r filled, borrowed until the next
 * call), negative on ENOMEM. For tests, fuzzing and tools. */
SL_NODISCARD int sl_validate_ndjson_row(struct sl_validator *v, const char *p, size_t n,
                                        const struct sl_row_sink *rows, struct sl_reject *r);

#endif
