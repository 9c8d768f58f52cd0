/* duckdb_int.h - private to the DuckDB driver (duckdb.c, duckdb_plan.c,
 * duckdb_load.c, duckdb_cursor.c, duckdb_audit.c, duckdb_batch.c, and for
 * schema evolution duckdb_catalog.c, duckdb_schema.c, duckdb_evolve.c,
 * duckdb_alter.c): handle layouts, the storage plan and the statement
 * helpers; included only from inside src/warehouse/. warehouse stage. */
#ifndef SL_WAREHOUSE_DUCKDB_INT_H
#define SL_WAREHOUSE_DUCKDB_INT_H

#include "core/common.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "warehouse/driver.h"

#include "warehouse/duckdb_api.h" /* duckdb.h, its functions loaded on first use */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sl_wh {
    duckdb_database db;    /* owned */
    duckdb_connection con; /* owned; the one connection all work goes through */
    char *path;            /* database file as given to DuckDB, owned */
    char *catalog;         /* its catalog name (current_database()), owned:
                              every table is named catalog.dataset.table, so
                              a dataset called like a catalog (temp, system)
                              is not ambiguous */
    bool has_json;         /* the JSON type exists in this libduckdb */
    bool read_only;        /* opened SL_WH_READ */
    bool audit_ready;      /* _sluice_loads/_sluice_files exist in today's
                              layout (created or migrated on first need) */
    struct sl_load *active; /* the load in progress, NULL if none (borrowed) */
    struct sl_cursor *cursor; /* the query being read, NULL if none
                                 (borrowed; duckdb_cursor.c) */
};

/* How one schema field is stored in DuckDB: the plan both CREATE TABLE and the
 * chunk writer follow. A REPEATED field is a LIST whose one kid is the element
 * (the same field, not repeated). */
enum store {
    ST_BOOL,      /* BOOLEAN: bool */
    ST_I64,       /* BIGINT: int64_t */
    ST_F64,       /* DOUBLE: double */
    ST_DEC,       /* DECIMAL(width,scale): int16/int32/int64/hugeint by width */
    ST_STR,       /* VARCHAR */
    ST_JSON,      /* JSON (a VARCHAR with the alias JSON) */
    ST_BLOB,      /* BLOB */
    ST_DATE,      /* DATE: int32 days */
    ST_TIME,      /* TIME: int64 microseconds since midnight */
    ST_TIMESTAMP, /* TIMESTAMP: int64 microseconds, no zone */
    ST_TIMESTAMPTZ, /* TIMESTAMPTZ: int64 microseconds since the epoch, UTC */
    ST_STRUCT,      /* STRUCT(...): one kid per sub-field */
    ST_LIST,        /* T[]: kids[0] is the element */
};

struct col {
    const struct sl_field *f; /* borrowed from the table */
    enum store st;
    uint8_t width, scale; /* ST_DEC */
    struct col *kids;     /* ST_STRUCT members or the ST_LIST element; owned */
    size_t n_kids;
};

struct sl_load {
    struct sl_wh *wh;         /* borrowed */
    const struct sl_table *t; /* borrowed; must outlive the load */
    struct col *cols;         /* plan per top-level column, owned */
    size_t n_cols;
    duckdb_appender app;        /* owned */
    duckdb_data_chunk chunk;    /* owned; rows being filled */
    idx_t rows;                 /* rows filled in chunk */
    idx_t cap;                  /* duckdb_vector_size() */
    char *table;                /* "dataset.table", for messages, owned */
    bool broken;                /* an append failed: only abort is useful now */
    uint64_t n_rows;            /* rows appended through load_row */
    uint64_t checksum;          /* sum of their sl_row_hash */
    duckdb_logical_type *types; /* the table's column types, owned */
    /* a parallel load (duckdb_par.c) */
    struct sl_psource *src; /* borrowed, during sl__duckdb_load_parallel */
    unsigned par_threads;
    uint64_t token;         /* names this load to sluice_rows() */
    uint64_t par_rows;      /* rows the parallel scan produced (atomic) */
    uint64_t par_sum;       /* sum of their sl_row_hash (atomic) */
    pthread_mutex_t par_mu; /* guards par_rc and par_err */
    int par_rc;             /* the first error of a worker thread */
    struct sl_error par_err;
};

/* ---- errors and statements (duckdb.c) ------------------------------------ */

/* Raise -SL_EWAREHOUSE "duckdb: what: detail" into err, with sub as the
 * DuckDB error type unless a sub-code is already set. Returns the code. */
SL_NODISCARD int sl__duckdb_fail(struct sl_error *err, int sub,
                                 const char *what, const char *detail);

/* Raise -SL_ENOMEM into err. Returns the code. */
SL_NODISCARD int sl__duckdb_nomem(struct sl_error *err);

/* Run one statement on wh's connection whose result is not needed. */
SL_NODISCARD int sl__duckdb_exec(struct sl_wh *wh, const char *sql,
                                 struct sl_error *err);

/* Append "catalog"."dataset"."table", each part quoted
 * (sl__sql_quote_ident); without the catalog when wh is NULL. */
SL_NODISCARD int sl__duckdb_qualified(const struct sl_wh *wh, struct sl_buf *b,
                                      const char *dataset, const char *name);

/* Catalog changes one at a time in this process (recursive). */
void sl__duckdb_ddl_lock(void);
void sl__duckdb_ddl_unlock(void);

/* ROLLBACK after a failure; its own failure cannot add anything useful. */
void sl__duckdb_rollback(struct sl_wh *wh);

/* Prepare sql on wh's connection into *out (caller frees with
 * duckdb_destroy_prepare); on failure *out is already destroyed. */
SL_NODISCARD int sl__duckdb_prepare(struct sl_wh *wh, const char *sql,
                                    duckdb_prepared_statement *out,
                                    struct sl_error *err);

/* Execute st into *res (caller frees with duckdb_destroy_result); on failure
 * *res is already destroyed and err names `what`. */
SL_NODISCARD int sl__duckdb_run_prepared(duckdb_prepared_statement st,
                                         const char *what, duckdb_result *res,
                                         struct sl_error *err);

/* Run sql with two string parameters (bound, never spliced) into *res, which
 * the caller destroys on success. */
SL_NODISCARD int sl__duckdb_query2(struct sl_wh *wh, const char *sql,
                                   const char *a, const char *b,
                                   const char *what, duckdb_result *res,
                                   struct sl_error *err);

/* Map a failed statement's DuckDB error type to our classes: a transaction
 * conflict is -SL_EBUSY (retry), out of memory -SL_ENOMEM, a full disk
 * -SL_ENOSPC, anything else -SL_EWAREHOUSE. */
SL_NODISCARD int sl__duckdb_fail_result(struct sl_error *err,
                                        duckdb_result *res, const char *what);

/* ---- the storage plan (duckdb_plan.c) ------------------------------------ */

/* Plan every top-level column of t into *out (t->root.n_fields entries; caller
 * frees with sl__duckdb_cols_free). has_json: the JSON type exists, else JSON
 * columns are VARCHAR. -SL_ESCHEMA for an unplannable table, -SL_ENOMEM. */
SL_NODISCARD int sl__duckdb_plan_table(const struct sl_table *t, bool has_json,
                                       struct col **out, struct sl_error *err);

/* Plan one field (and its sub-fields) into *out, as sl__duckdb_plan_table
 * does for a top-level column; release with sl__duckdb_cols_free(out, 1) when
 * out was allocated, or free its kids with sl__duckdb_col_release. */
SL_NODISCARD int sl__duckdb_plan_field(const struct sl_field *f, bool has_json,
                                       struct col *out, struct sl_error *err);
void sl__duckdb_col_release(struct col *c);

/* Free n planned columns and their kids; NULL is a no-op. */
void sl__duckdb_cols_free(struct col *cols, size_t n);

/* Append the DuckDB type of a planned column to b, as SQL text. */
SL_NODISCARD int sl__duckdb_sql_type(struct sl_buf *b, const struct col *c);

/* Does an existing column's DuckDB type equal the planned one? */
bool sl__duckdb_type_matches(const struct col *c, duckdb_logical_type lt);

/* ---- tables (duckdb.c), shared with schema evolution --------------------- */

/* Append CREATE TABLE "ds"."t" (...) for t planned as cols (no IF NOT
 * EXISTS when strict). */
SL_NODISCARD int sl__duckdb_create_sql(const struct sl_wh *wh,
                                       struct sl_buf *b,
                                       const struct sl_table *t,
                                       const struct col *cols, bool strict);
/* Append the table comment: the description and a "[sluice: partitioned by
 * ...; clustered by ...]" note (empty when neither). */
SL_NODISCARD int sl__duckdb_table_comment(struct sl_buf *b,
                                          const struct sl_table *t);

/* ---- schema evolution (duckdb_catalog.c, duckdb_schema.c, duckdb_evolve.c) */

/* A column type as the catalog spells it (duckdb_columns().data_type). */
enum ctk {
    CT_BOOL,
    CT_I64,
    CT_F64,
    CT_DEC,
    CT_STR,
    CT_JSON,
    CT_BLOB,
    CT_DATE,
    CT_TIME,
    CT_TIMESTAMP,
    CT_TIMESTAMPTZ,
    CT_STRUCT,
    CT_LIST,
    CT_OTHER /* a type Sluice never creates; text says which */
};

struct ctype {
    enum ctk k;
    uint8_t width, scale; /* CT_DEC */
    char *name;           /* member name inside a STRUCT, else NULL */
    const char *text;     /* CT_OTHER: the type's text */
    struct ctype *kids;   /* STRUCT members, or the LIST element */
    size_t n_kids;
};

struct ccol {
    char *name;
    struct ctype type;
    bool nullable;
    char *comment; /* NULL if none */
};

/* One table of the catalog; everything lives in the catalog's arena. */
struct ctab {
    char *schema, *name;
    struct ccol *cols; /* in column order */
    size_t n_cols;
    char *comment;  /* table comment, NULL if none */
    bool recorded;  /* main._sluice_tables has its definition */
    char *rec_hash; /* that definition's fingerprint */
};

struct catalog {
    struct ctab *tabs; /* sorted by schema, name (ASCII case-insensitive) */
    size_t n_tabs;
    bool comments_read; /* ctab.comment filled (sl__duckdb_catalog_comments) */
    struct sl_arena arena;
};

/* Read every table of the database (schema NULL) or only schema.table, with
 * the record fingerprints, in two queries. Release with
 * sl__duckdb_catalog_release (also after a failure). */
SL_NODISCARD int sl__duckdb_catalog_read(struct sl_wh *wh, const char *schema,
                                         const char *table, struct catalog *out,
                                         struct sl_error *err);
void sl__duckdb_catalog_release(struct catalog *cat);
/* Fill the tables' comments (one more query, once). */
SL_NODISCARD int sl__duckdb_catalog_comments(struct sl_wh *wh,
                                             struct catalog *cat,
                                             struct sl_error *err);
/* Case-insensitive lookup; NULL if absent. */
struct ctab *sl__duckdb_catalog_find(const struct catalog *cat,
                                     const char *schema, const char *name);
/* Parse DuckDB type text into out (arena memory); -SL_ENOMEM. */
SL_NODISCARD int sl__duckdb_ctype_parse(struct sl_arena *a, const char *text,
                                        size_t len, struct ctype *out);
/* Does a catalog type equal the planned column's type? */
bool sl__duckdb_ctype_matches(const struct ctype *ct, const struct col *c);
/* The recorded definition of dataset.name (caller frees), *out NULL if none. */
SL_NODISCARD int sl__duckdb_record_read(struct sl_wh *wh, const char *dataset,
                                        const char *name, char **out,
                                        struct sl_error *err);
/* Describe want as the catalog holds it (the schema_read contract, one
 * table). */
SL_NODISCARD int sl__duckdb_describe(struct sl_wh *wh, struct catalog *cat,
                                     const struct sl_table *want,
                                     struct sl_wh_table_state *out,
                                     struct sl_error *err);
/* The statements of one apply (duckdb_evolve.c) or one in-transaction
 * update: the SQL being built, the fault point, the definitions to record. */
/* A definition to record, kept until the rows are written at the end. */
struct pending {
    char *name; /* "dataset.table", owned */
    char *json; /* canonical definition, owned */
    char *old;  /* the definition it replaces, owned, NULL for a new table */
    char hash[17];
    const struct sl_plan *plan; /* borrowed: its changes become history */
};

/* One apply (or one in-transaction update): statements, the fault point,
 * the definitions to record and the tables that have a record. */
struct ddl {
    struct sl_wh *wh;
    struct sl_error *err;
    struct sl_buf sql;    /* the statement being built */
    long step;            /* statements run so far */
    long fail_at;         /* SLUICE_FAULT_APPLY_STEP: fail this statement */
    bool fail_commit;     /* SLUICE_FAULT_APPLY_STEP=commit */
    struct pending *recs; /* owned */
    size_t n_recs;
    char **recorded; /* lower-cased names with a record, sorted */
    size_t n_recorded;
    char **schemas; /* datasets created in this transaction */
    size_t n_schemas;
};

/* Run one statement of an apply (a->sql when sql is NULL), counting it for
 * the fault hook (SLUICE_FAULT_APPLY_STEP). */
SL_NODISCARD int sl__duckdb_ddl_exec(struct ddl *a, const char *sql);
/* The statements creating t (schema, table, comment) (duckdb_alter.c). */
SL_NODISCARD int sl__duckdb_ddl_create(struct ddl *a, const struct sl_table *t);
/* The statements taking p->have's table to p->want (duckdb_alter.c). */
SL_NODISCARD int sl__duckdb_ddl_change(struct ddl *a, const struct sl_plan *p);

/* The sl_wh_ops entries; contracts in evolve.h. */
SL_NODISCARD int sl__duckdb_schema_read(struct sl_wh *wh,
                                        const struct sl_table *const *want,
                                        size_t n, struct sl_wh_table_state *out,
                                        struct sl_error *err);
SL_NODISCARD int sl__duckdb_schema_apply(struct sl_wh *wh,
                                         const struct sl_plan *const *plans,
                                         size_t n,
                                         const struct sl_wh_apply_opts *opts,
                                         struct sl_error *err);
SL_NODISCARD int sl__duckdb_schema_update_in_tx(struct sl_wh *wh,
                                                const struct sl_table *t,
                                                unsigned allow,
                                                size_t *out_applied,
                                                struct sl_error *err);
/* Create _sluice_tables and _sluice_schema_history if absent, and record t
 * as applied by the changes of p (NULL: created by ensure_table), inside
 * the open transaction. */
SL_NODISCARD int sl__duckdb_record(struct sl_wh *wh, const struct sl_table *t,
                                   const struct sl_plan *p,
                                   struct sl_error *err);

/* ---- loading (duckdb_load.c) --------------------------------------------- */

/* An appender on t inside wh's open transaction (the caller began it):
 * checks that the table's columns are the definition's. */
SL_NODISCARD int sl__duckdb_load_open(struct sl_wh *wh,
                                      const struct sl_table *t,
                                      struct sl_load **out,
                                      struct sl_error *err);
/* Row sink: one validated row (counted in n_rows and checksum). */
SL_NODISCARD int sl__duckdb_load_row(struct sl_load *ld,
                                     const struct sl_val *cols, size_t n_cols,
                                     struct sl_error *err);
/* Flush and close the appender (NOT NULL violations surface here); the rows
 * stay in the open transaction. */
SL_NODISCARD int sl__duckdb_load_close(struct sl_load *ld,
                                       struct sl_error *err);
/* Free ld (NULL ok); the caller rolls back or has committed. */
void sl__duckdb_load_free(struct sl_load *ld);
/* Write one validated value into row `row` of vector v, as column c. */
SL_NODISCARD int sl__duckdb_put(const struct col *c, duckdb_vector v, idx_t row,
                                const struct sl_val *val, struct sl_error *err);
/* Parallel loads (duckdb_par.c): register the sluice_rows() table function on
 * the connection (once per database; failure only disables parallel loads), and
 * the sl_wh_ops entry load_parallel. */
void sl__duckdb_par_register(struct sl_wh *wh);
SL_NODISCARD int sl__duckdb_load_parallel(struct sl_load *ld,
                                          struct sl_psource *src,
                                          struct sl_error *err);

/* ---- the audit trail and batches (duckdb_audit.c, duckdb_batch.c) -------- */

/* Create _sluice_loads and _sluice_files (migrating the one-table layout of
 * earlier versions) unless done on this handle; outside any transaction. */
SL_NODISCARD int sl__duckdb_audit_ready(struct sl_wh *wh, struct sl_error *err);
/* Is batch id recorded? Runs in the current transaction, if any. */
SL_NODISCARD int sl__duckdb_batch_recorded(struct sl_wh *wh, const char *id,
                                           bool *out_yes, struct sl_error *err);
/* Has table loaded content with this fingerprint? */
SL_NODISCARD int sl__duckdb_fp_loaded(struct sl_wh *wh, const char *table,
                                      const char *fingerprint, bool *out_yes,
                                      struct sl_error *err);
/* Which of n fingerprints has table loaded? out_yes[i] for fps[i]; one
 * query whatever n. */
SL_NODISCARD int sl__duckdb_fps_loaded(struct sl_wh *wh, const char *table,
                                       const char *const *fps, size_t n,
                                       bool *out_yes, struct sl_error *err);
/* b's id (id_out) is recorded: fill rows_loaded, checksum and each file's
 * outcome and rows from the record. */
SL_NODISCARD int sl__duckdb_batch_info(struct sl_wh *wh, struct sl_batch *b,
                                       struct sl_error *err);
/* Record b and its files (inside the open transaction). */
SL_NODISCARD int sl__duckdb_record_batch(struct sl_wh *wh,
                                         const struct sl_batch *b,
                                         const char *table,
                                         struct sl_error *err);
/* The sl_wh_ops entries of the same names; contracts in driver.h. */
SL_NODISCARD int sl__duckdb_batch_committed(struct sl_wh *wh, const char *id,
                                            bool *out_yes,
                                            struct sl_error *err);
SL_NODISCARD int sl__duckdb_file_history(struct sl_wh *wh, const char *table,
                                         const char *path, uint64_t size,
                                         struct sl_prior_load *out, size_t max,
                                         size_t *out_n, struct sl_error *err);
SL_NODISCARD int sl__duckdb_load_batch(struct sl_wh *wh, struct sl_batch *b,
                                       struct sl_error *err);
/* ---- queries as cursors (duckdb_cursor.c) -------------------------------- */

/* The sl_wh_ops entries query, cursor_columns, cursor_next, cursor_close,
 * split_statements and free_statements; contracts in driver.h. */
SL_NODISCARD int sl__duckdb_cursor_open(struct sl_wh *wh, const char *sql,
                                        struct sl_cursor **out,
                                        struct sl_error *err);
const struct sl_qcol *sl__duckdb_cursor_columns(struct sl_cursor *c,
                                                size_t *out_n);
SL_NODISCARD int sl__duckdb_cursor_next(struct sl_cursor *c,
                                        const struct sl_val **out_row,
                                        struct sl_error *err);
void sl__duckdb_cursor_close(struct sl_cursor *c);
SL_NODISCARD int sl__duckdb_split_statements(struct sl_wh *wh, const char *sql,
                                             char ***out, size_t *out_n,
                                             struct sl_error *err);
void sl__duckdb_free_statements(char **stmts, size_t n);

#endif
