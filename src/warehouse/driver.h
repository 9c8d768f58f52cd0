/* driver.h - the one interface every warehouse backend implements (DuckDB now;
 * ClickHouse and BigQuery behind the same ops), chosen by URI scheme. The unit
 * of loading is the batch: a set of files for one table under a deterministic
 * id, loaded idempotently (docs/ARCHITECTURE.md section 0). warehouse stage.
 *
 * Verdicts: every op returns SL_OK, or a negative code whose class
 * (sl_errclass) is the verdict: "transient" = RETRY (err->retry_after_ms is a
 * suggested delay, 0 = the caller's backoff), anything else = FAIL. Callers
 * never parse messages. */
#ifndef SL_WAREHOUSE_DRIVER_H
#define SL_WAREHOUSE_DRIVER_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"
#include "schema/schema.h"
#include "validate/psource.h"
#include "validate/row.h"

struct sl_wh;     /* an open warehouse connection (driver-private layout) */
struct sl_cursor; /* a query result being read (driver-private layout) */

struct sl_plan;           /* schema/plan.h: one table's changes */
struct sl_wh_table_state; /* warehouse/evolve.h: a table as the warehouse holds
                             it */
struct sl_wh_apply_opts;  /* warehouse/evolve.h: how schema_apply runs */

/* ---- opening ------------------------------------------------------------ */

enum sl_wh_mode {
    SL_WH_READ,   /* read-only; a missing warehouse is -SL_ENOTFOUND */
    SL_WH_WRITE,  /* read-write; a missing warehouse is -SL_ENOTFOUND */
    SL_WH_CREATE, /* read-write, created when missing */
};

struct sl_wh_open_opts {
    enum sl_wh_mode mode;
    unsigned threads; /* worker threads the warehouse may use; 0 = all */
    uint32_t lock_timeout_ms; /* wait this long for a lock held by another
                                 process, then -SL_EBUSY; 0 = do not wait */
    /* called once when open starts waiting for a lock (who holds it, as the
       backend says); may be NULL */
    void (*waiting)(void *ud, const char *holder);
    void *waiting_ud;
};

/* Files on this machine that a URI names (a DuckDB file and its side files),
 * so that no output path is allowed to overwrite them. */
struct sl_wh_files {
    size_t n;
    char path[4][4096];
    const char *what[4]; /* "the warehouse", "the warehouse's WAL", ... */
};

/* ---- batches ------------------------------------------------------------ */

enum sl_file_outcome {
    SL_FILE_LOADED,    /* its rows are in the table */
    SL_FILE_DUPLICATE, /* this content was loaded into the table before */
};

/* One file of a batch. The caller fills the inputs (the batch source may still
 * set fingerprint, size and rows_rejected while feeding the file); the driver
 * the outputs. */
struct sl_batch_file {
    const char *path;        /* what the audit trail names it (borrowed) */
    const char *fingerprint; /* hex SHA-256 of its raw bytes, or NULL when only
                                feeding it tells (stdin): the source then sets
                                it (borrowed, valid until load_batch returns) */
    uint64_t size;           /* raw bytes */
    uint64_t rows_rejected;  /* bad records quarantined before the load */
    int64_t first_seen_us;   /* when the file was first seen (wall clock) */
    /* outputs */
    enum sl_file_outcome outcome;
    uint64_t rows_loaded;
};

/* Where a batch's rows come from: the pipeline validates each staged file into
 * the driver's sink. Called on the thread that called load_batch. */
struct sl_batch_source {
    /* Feed file i's rows (every row it delivers is loaded). Returns SL_OK or a
     * negative code; the load is then rolled back and load_batch returns it. */
    int (*feed)(void *ud, size_t i, const struct sl_row_sink *rows,
                struct sl_error *err);
    /* Optional (NULL = never): a parallel source over file i for a driver that
     * appends on several threads; *out NULL when the file cannot be split.
     * The driver pulls it, then calls finish (which checks the counts). */
    int (*parallel)(void *ud, size_t i, struct sl_psource **out,
                    struct sl_error *err);
    int (*finish)(void *ud, size_t i, struct sl_psource *src,
                  struct sl_error *err);
    void *ud;
};

enum {
    SL_BATCH_FORCE = 1u << 0, /* load files even if their content was loaded */
    SL_BATCH_TRUNCATE = 1u << 1, /* WRITE_TRUNCATE: the table's rows replaced */
    SL_BATCH_EMPTY = 1u << 2,    /* WRITE_EMPTY: fail if the table has rows */
};

struct sl_batch {
    const char *id; /* deterministic id (sl_batch_id), or NULL: derived from the
                       fingerprints once every file was fed */
    const struct sl_table *t; /* the destination (borrowed) */
    struct sl_batch_file *files;
    size_t n_files;
    unsigned flags;     /* SL_BATCH_* */
    const char *origin; /* "load", "gateway", ... recorded with the batch */
    const char *salt;   /* mixed into a derived id (a forced reload), or NULL */
    unsigned schema_update; /* SL_WH_ALLOW_FIELD_ADDITION/_RELAXATION (evolve.h):
                               the table is brought to t's definition with
                               only those changes, inside the batch's own
                               transaction, before its rows */
    const struct sl_table *schema_table; /* the table schema_update brings to
                               its definition, NULL = t (a rule's destination
                               when the rows go through a transient table
                               and post_sql); borrowed */
    int64_t first_seen_us; /* the oldest file's first sighting */
    struct sl_batch_source src;
    /* Statements run inside the batch's transaction after its rows are
     * appended to t and before the batch is recorded, in order (a rule's
     * transient-to-destination step: src/rules/rules.h); any failure rolls
     * the whole batch back. NULL/0 = none. Borrowed. */
    const char *const *post_sql;
    size_t n_post_sql;
    /* The table the audit trail names ("dataset.table"): files whose content
     * it already holds are duplicates, and the batch and file records name
     * it. NULL = t (the table the rows are appended to); a rule's transient
     * load names its destination here. Borrowed. */
    const char *audit_table;
    /* outputs */
    bool already;         /* the id was recorded before: nothing was done,
                             and rows_loaded, checksum and each file's
                             outcome and rows_loaded are those recorded */
    uint64_t rows_loaded; /* rows appended (or recorded, when already) */
    uint64_t checksum;    /* order-independent checksum of the rows loaded */
    char id_out[65];      /* the id used (the given or the derived one) */
};

/* Bytes of a batch id: hex SHA-256 of "table\n" and the sorted fingerprints,
 * each "\n"-terminated, then salt if non-NULL (a forced reload). */
#define SL_BATCH_ID_LEN 64
void sl_batch_id(const char *table, const char *const *fingerprints, size_t n,
                 const char *salt, char out[SL_BATCH_ID_LEN + 1]);
/* b->id_out: b->id when given, else sl_batch_id of table and b's files'
 * fingerprints (a file without one counts as ""). SL_OK or -SL_ENOMEM. For
 * the drivers' load_batch. */
SL_NODISCARD int sl_batch_derive_id(struct sl_batch *b, const char *table);

/* What the warehouse recorded of earlier loads into a table from one path or
 * with one size (sl_wh_ops.file_history). */
struct sl_prior_load {
    char path[1024];
    char fingerprint[65];
    char batch[65];
    uint64_t size, rows_loaded, rows_rejected;
    int64_t loaded_us;
    bool duplicate;
};

/* ---- queries ------------------------------------------------------------ */

/* A result column: its name and how its values come (kinds of row.h). The
 * same for the parts of a nested column (kids). */
struct sl_qcol {
    char *name;           /* owned by the cursor; a STRUCT member's name, NULL
                             for a LIST element and a MAP key or value */
    uint8_t kind;         /* SL_V_* of the values (NULL values aside) */
    uint8_t scale;        /* SL_V_DEC */
    bool numeric;         /* right-aligned in a table */
    bool is_float;        /* SL_V_F64 from a 4-byte float: its shortest text
                             is the one that reads back as that float */
    struct sl_qcol *kids; /* STRUCT members, LIST element, MAP key+value */
    size_t n_kids;
};

struct sl_wh_ops {
    const char *scheme; /* "duckdb" */
    /* Open the warehouse named by uri. */
    int (*open)(const char *uri, const struct sl_wh_open_opts *o,
                struct sl_wh **out, struct sl_error *err);
    void (*close)(struct sl_wh *wh); /* NULL ok */
    /* The local files uri names (none for a server). No I/O. */
    void (*local_files)(const char *uri, struct sl_wh_files *out);
    /* Create the table (and its dataset/schema) if absent. *out_created tells
     * whether it was created. Idempotent. One call per wh at a time. */
    int (*ensure_table)(struct sl_wh *wh, const struct sl_table *t,
                        bool *out_created, struct sl_error *err);
    /* Load a batch, idempotently: see struct sl_batch. Rows of every file not
     * already loaded into the table (unless SL_BATCH_FORCE), the batch record
     * and one file record each commit together or not at all. */
    int (*load_batch)(struct sl_wh *wh, struct sl_batch *b,
                      struct sl_error *err);
    /* Was a batch with this id committed? */
    int (*batch_committed)(struct sl_wh *wh, const char *id, bool *out_yes,
                           struct sl_error *err);
    /* Earlier loads into table ("dataset.table") from path or of size bytes,
     * newest first, at most max; *out_n how many. */
    int (*file_history)(struct sl_wh *wh, const char *table, const char *path,
                        uint64_t size, struct sl_prior_load *out, size_t max,
                        size_t *out_n, struct sl_error *err);
    /* Run one SQL statement and return its result as a cursor, streamed:
     * the driver holds a bounded part of the result at a time (DuckDB: one
     * chunk), whatever its size. The caller closes it with cursor_close
     * before the next query on wh, and before closing wh. A statement
     * without a result set (CREATE, SET, ...) gives a cursor of no columns
     * and no rows. Errors are classed (-SL_EBUSY for a conflict, ...); the
     * message is the backend's. Refused during a load. */
    int (*query)(struct sl_wh *wh, const char *sql, struct sl_cursor **out,
                 struct sl_error *err);
    /* The result's columns (borrowed from the cursor). */
    const struct sl_qcol *(*cursor_columns)(struct sl_cursor *c, size_t *out_n);
    /* The next row: *out_row points at n values (borrowed, valid until the next
     * call), NULL after the last row. Values are SL_V_NULL or their column's
     * kind. An error while the result is produced (a failing cast, ...)
     * shows here, after the rows before it. */
    int (*cursor_next)(struct sl_cursor *c, const struct sl_val **out_row,
                       struct sl_error *err);
    void (*cursor_close)(struct sl_cursor *c); /* NULL ok */
    /* Split a script into statements (the backend's own parser has the last
     * word); *out holds n NUL-terminated strings, caller frees with
     * free_statements (also after a failure: NULL, 0). n = 0: only blanks
     * and comments. A script that does not parse fails as a whole, before
     * any statement runs ("statement K of N: " names the one at fault). */
    int (*split_statements)(struct sl_wh *wh, const char *sql, char ***out,
                            size_t *out_n, struct sl_error *err);
    void (*free_statements)(char **stmts, size_t n);
    /* SQL text: append the name of table dataset.name as this warehouse's
     * statements must spell it, quoted (DuckDB: with the database's catalog,
     * so that a dataset named temp or system is not ambiguous); wh may be
     * NULL (no open warehouse: the plain quoted dataset.name). Append an
     * identifier (column, alias) quoted, and a string literal. -SL_ENOMEM.
     * Any of the three may be NULL: sl_wh_table_ref and friends below then
     * use standard SQL ("a""b", 'it''s'). */
    int (*table_ref)(const struct sl_wh *wh, struct sl_buf *b,
                     const char *dataset, const char *name);
    int (*quote_ident)(struct sl_buf *b, const char *name);
    int (*quote_literal)(struct sl_buf *b, const char *s);

    /* ---- schema evolution (docs/EVOLUTION.md; contracts in evolve.h) ---- */
    /* Describe each of the n tables in want as the warehouse holds it, reading
     * the catalog once for all of them. */
    int (*schema_read)(struct sl_wh *wh, const struct sl_table *const *want,
                       size_t n, struct sl_wh_table_state *out,
                       struct sl_error *err);
    /* Apply n plans in one transaction: all or nothing. */
    int (*schema_apply)(struct sl_wh *wh, const struct sl_plan *const *plans,
                        size_t n, const struct sl_wh_apply_opts *opts,
                        struct sl_error *err);
    /* Inside the caller's open transaction, bring t's table to t with only the
     * changes `allow` permits (SL_WH_ALLOW_FIELD_ADDITION/_RELAXATION). */
    int (*schema_update_in_tx)(struct sl_wh *wh, const struct sl_table *t,
                               unsigned allow, size_t *out_applied,
                               struct sl_error *err);
};

/* The URI as messages and logs may show it: a password in its user info
 * ("scheme://user:password@host...") left out, everything else as given.
 * Truncated to size. Every printed or logged warehouse URI goes through
 * this (docs/CLICKHOUSE.md: credentials are never printed). */
void sl_wh_uri_shown(const char *uri, char *out, size_t size);

/* ops' table_ref / quote_ident / quote_literal, or standard SQL when the
 * driver has none. Every name the rules module writes into SQL goes through
 * these. -SL_ENOMEM. */
SL_NODISCARD int sl_wh_table_ref(const struct sl_wh_ops *ops,
                                 const struct sl_wh *wh, struct sl_buf *b,
                                 const char *dataset, const char *name);
SL_NODISCARD int sl_wh_quote_ident(const struct sl_wh_ops *ops,
                                   struct sl_buf *b, const char *name);
SL_NODISCARD int sl_wh_quote_literal(const struct sl_wh_ops *ops,
                                     struct sl_buf *b, const char *s);

/* Pick the driver for a URI; NULL if the scheme is unknown. A bare path is
 * taken as duckdb://PATH. */
const struct sl_wh_ops *sl_wh_driver_for(const char *uri);

extern const struct sl_wh_ops sl__duckdb_ops;
extern const struct sl_wh_ops sl__clickhouse_ops; /* docs/CLICKHOUSE.md */

#endif
