/* render.h - query results written out as a table, CSV or NDJSON, the same
 * for every warehouse: the drivers hand out typed rows through a cursor
 * (warehouse/driver.h), and this is the one place that turns them into text
 * (docs/TYPES.md "Query output"). ops stage.
 *
 * Streamed: CSV and JSON are written row by row in constant memory; the table
 * format measures its column widths on a first window of rows (by default
 * SL_RENDER_WINDOW), prints them, then prints every later row at those widths
 * as it comes (a longer value overflows its column rather than being cut). */
#ifndef SL_OPS_RENDER_H
#define SL_OPS_RENDER_H

#include "core/common.h"
#include "core/error.h"
#include "validate/row.h"
#include "warehouse/driver.h"

#include <stdio.h>

#define SL_RENDER_WINDOW 1000 /* table rows measured before the first line */

struct sl_render; /* a result being written */

enum sl_query_format { SL_QF_TABLE, SL_QF_CSV, SL_QF_JSON };

struct sl_render_opts {
    enum sl_query_format fmt;
    size_t window; /* table format: rows measured before printing; 0 =
                      SL_RENDER_WINDOW */
};

/* Start writing a result of n_cols columns (borrowed: they must outlive the
 * render) to out: CSV writes its header now, the table format holds it until
 * the window is full. A result of no columns (a statement without a result
 * set) writes nothing at all. *out_r is freed with sl_render_destroy.
 * -SL_ENOMEM, -SL_EIO when writing fails (err->sub = errno). Not
 * thread-safe: one render per thread. */
SL_NODISCARD int sl_render_create(const struct sl_qcol *cols, size_t n_cols,
                                  const struct sl_render_opts *o, FILE *out,
                                  struct sl_render **out_r,
                                  struct sl_error *err);

/* Write one row: n_cols values, each SL_V_NULL or its column's kind (a value
 * of another kind is written as NULL). The row is borrowed for the call. */
SL_NODISCARD int sl_render_row(struct sl_render *r, const struct sl_val *row,
                               struct sl_error *err);

/* Write what is held (the table's window) and the table's "(N rows)" line,
 * then flush out. *out_rows (may be NULL) counts the rows rendered. */
SL_NODISCARD int sl_render_finish(struct sl_render *r, uint64_t *out_rows,
                                  struct sl_error *err);

void sl_render_destroy(struct sl_render *r); /* NULL ok */

/* Every row of an open cursor of ops, rendered as o says (create, a row per
 * cursor_next, finish). The cursor stays open; the caller closes it. */
SL_NODISCARD int sl_render_cursor(const struct sl_wh_ops *ops,
                                  struct sl_cursor *c,
                                  const struct sl_render_opts *o, FILE *out,
                                  uint64_t *out_rows, struct sl_error *err);

#endif
