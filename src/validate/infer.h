/* infer.h - schema inference: read NDJSON or CSV files that have no table
 * definition and write the BigQuery schema that BigQuery's schema
 * auto-detection would give them (types widened over every sampled row).
 * validate stage (it classifies text with the load coercions of coerce.h, so
 * what it calls a TIMESTAMP the validator accepts as one).
 *
 * Use: sl_infer_create, then sl_infer_file (or sl_infer_buffer) once per
 * input, then sl_infer_schema_json; the same object keeps merging, so several
 * files give one schema. The rules (widening, what is refused, CSV headers)
 * are in docs/SCHEMAS.md, "Inference". An inference object is used by one
 * thread at a time; different objects are independent. */
#ifndef SL_VALIDATE_INFER_H
#define SL_VALIDATE_INFER_H

#include "core/common.h"

#include "core/buf.h"
#include "core/error.h"
#include "parse/csv.h"
#include "validate/validator.h"

/* How the first CSV row is treated (BigQuery's skipLeadingRows interplay). */
enum sl_infer_header {
    SL_INFER_HEADER_AUTO, /* detect: skip N-1 rows, row N (or row 1) is the
                             header if it looks like one, else data (N = 0)
                             or skipped (N > 0) */
    SL_INFER_HEADER_YES,  /* the last skipped row (row 1 when N = 0) names
                             the columns */
    SL_INFER_HEADER_NO,   /* skip N rows; no header: string_field_0, ... */
};

struct sl_infer_opts {
    enum sl_format format;           /* SL_FMT_NDJSON or SL_FMT_CSV */
    uint64_t sample_rows;            /* data rows read per file, 0 = all */
    bool required_if_always_present; /* REQUIRED for a field present and non-
                                        null in every sampled row (object) */
    /* CSV only */
    struct sl_csv_opts csv;      /* delimiter, quote, newlines, encoding */
    enum sl_infer_header header; /* AUTO by default */
    uint64_t skip_leading_rows;  /* N above */
    const char *null_marker;     /* NULL = BigQuery's default (empty
                                    field); copied by sl_infer_create */
};
/* NDJSON, every row, NULLABLE, CSV defaults, header AUTO, no skipped rows. */
void sl_infer_opts_default(struct sl_infer_opts *o);

/* What was read, for the caller's notes. */
struct sl_infer_stats {
    uint64_t files;          /* inputs fed */
    uint64_t rows;           /* data rows read (blank lines, skipped and header
                                rows excluded) */
    uint64_t header_files;   /* CSV files whose header row named columns */
    uint64_t load_skip_rows; /* CSV: leading rows a load of these files must
                                skip (--skip-leading-rows), the largest over
                                the files; skip_varies when they differ */
    bool skip_varies;        /* files need different skips */
    size_t min_columns;      /* CSV: fewest / most values in a data row; */
    size_t max_columns;      /* fewer than max need --allow-jagged-rows */
};

struct sl_infer;

/* Create an empty inference with a copy of o (NULL = defaults).
 * -SL_EUSAGE for an unusable CSV option (err says which), -SL_ENOMEM.
 * Caller frees with sl_infer_destroy. */
SL_NODISCARD int sl_infer_create(const struct sl_infer_opts *o,
                                 struct sl_infer **out, struct sl_error *err);

/* Read one file ("-" = stdin; plain, gzip or zstd, detected by content) and
 * merge its rows (the first sample_rows of them) into the schema. Errors,
 * with err naming the file and, for data, the line and byte offset of the row:
 * - -SL_EIO / -SL_ECORRUPT: unreadable file or compressed stream;
 * - -SL_ECORRUPT: malformed JSON, a row that is not a JSON object, invalid
 *   UTF-8, a malformed CSV record, a row over 100 MB;
 * - -SL_ESCHEMA: rows BigQuery cannot describe with one schema, err->column
 *   naming the field: an object in one row and a scalar in another, an array
 *   and a non-array, a null or an array inside an array, a key used twice in
 *   one object, a key that is no valid column name, RECORDs nested deeper
 *   than 15 levels;
 * - -SL_ENOMEM.
 * After an error the object holds the rows merged before it; callers
 * normally stop and destroy it. */
SL_NODISCARD int sl_infer_file(struct sl_infer *inf, const char *path,
                               struct sl_error *err);

/* sl_infer_file over len bytes in memory (decoded text, no compression);
 * name is used in messages. data is borrowed for the call only. */
SL_NODISCARD int sl_infer_buffer(struct sl_infer *inf, const char *name,
                                 const char *data, size_t len,
                                 struct sl_error *err);

/* Append the schema inferred so far to out as a BigQuery schema file: a JSON
 * array of {"name", "type", "mode"[, "fields"]}, one field per line, keys in
 * first-seen order (CSV: column order), then a newline. The text parses with
 * sl_table_parse. -SL_ESCHEMA when no field was seen, or a field only ever
 * held empty objects (a RECORD needs a sub-field); -SL_ENOMEM (out then holds
 * part of the text). inf is not changed. */
SL_NODISCARD int sl_infer_schema_json(const struct sl_infer *inf,
                                      struct sl_buf *out, struct sl_error *err);

/* Counters of what was read so far. */
void sl_infer_stats(const struct sl_infer *inf, struct sl_infer_stats *out);

void sl_infer_destroy(struct sl_infer *inf); /* NULL ok */

#endif
