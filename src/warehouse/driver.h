/* driver.h - the one interface every warehouse backend implements (DuckDB now;
 * ClickHouse and BigQuery later), chosen by URI scheme. warehouse stage. */
#ifndef SL_WAREHOUSE_DRIVER_H
#define SL_WAREHOUSE_DRIVER_H

#include "core/common.h"
#include "core/error.h"
#include "schema/schema.h"
#include "validate/psource.h"
#include "validate/row.h"

#include <stdio.h>

struct sl_wh;   /* an open warehouse connection (driver-private layout) */
struct sl_plan; /* schema/plan.h: one table's changes */
struct sl_wh_table_state; /* warehouse/evolve.h: a table as the warehouse holds
                             it */
struct sl_wh_apply_opts;  /* warehouse/evolve.h: how schema_apply runs */
struct sl_load; /* one load in progress: one transaction (driver-private layout) */

/* What is recorded about a load in the warehouse's _sluice_loads table. */
struct sl_load_info {
    const char *file;          /* source path as given ("-" for stdin) */
    uint64_t size;             /* bytes read (uncompressed input) */
    const char *fingerprint;   /* hex SHA-256 of the raw file bytes */
    const char *table;         /* "dataset.table" */
    int64_t started_us;        /* wall clock, microseconds since the epoch */
};

enum sl_query_format { SL_QF_TABLE, SL_QF_CSV, SL_QF_JSON };

struct sl_wh_ops {
    const char *scheme; /* "duckdb" */
    /* Open the warehouse named by uri (e.g. "duckdb://./warehouse.duckdb"). */
    int (*open)(const char *uri, struct sl_wh **out, struct sl_error *err);
    void (*close)(struct sl_wh *wh); /* NULL ok */
    /* Create the table (and its dataset/schema) if absent. *out_created tells
     * whether it was created. Idempotent. Thread-safety: one call per wh at a time. */
    int (*ensure_table)(struct sl_wh *wh, const struct sl_table *t, bool *out_created,
                        struct sl_error *err);
    /* Has a load with this fingerprint into this table already been committed? */
    int (*loaded_before)(struct sl_wh *wh, const char *table, const char *fingerprint,
                         bool *out_yes, struct sl_error *err);
    /* Begin a load: opens a transaction; rows appended are invisible until commit. */
    int (*load_begin)(struct sl_wh *wh, const struct sl_table *t,
                      const struct sl_load_info *info, struct sl_load **out,
                      struct sl_error *err);
    int (*load_row)(struct sl_load *ld, const struct sl_val *cols, size_t n_cols,
                    struct sl_error *err);
    /* Append every valid row of src, pulled by up to n_threads threads of the
     * warehouse's own (rows land in no particular order). NULL when the driver
     * cannot; then rows go through load_row. On failure the load is broken:
     * only load_abort is useful. */
    int (*load_parallel)(struct sl_load *ld, struct sl_psource *src, unsigned n_threads,
                         struct sl_error *err);
    /* Record the load in _sluice_loads and commit everything atomically; frees ld
     * (also on failure, after rolling back). final, if non-NULL, supplies the size and
     * fingerprint known only once the input was read (stdin). */
    int (*load_commit)(struct sl_load *ld, const struct sl_load_info *final,
                       uint64_t rows_loaded, uint64_t rows_rejected, struct sl_error *err);
    /* Roll back and free ld (NULL ok). Nothing of the load stays. */
    void (*load_abort)(struct sl_load *ld);
    /* Run SQL and print the result to out. */
    int (*query)(struct sl_wh *wh, const char *sql, enum sl_query_format fmt, FILE *out,
                 struct sl_error *err);

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

/* Pick the driver for a URI; NULL if the scheme is unknown. A bare path is
 * taken as duckdb://PATH. */
const struct sl_wh_ops *sl_wh_driver_for(const char *uri);

extern const struct sl_wh_ops sl__duckdb_ops;

#endif
