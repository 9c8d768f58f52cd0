/* warehouse_int.h - helpers shared by the warehouse drivers; included only from
 * inside src/warehouse/ (and the driver unit tests). warehouse stage. */
#ifndef SL_WAREHOUSE_WAREHOUSE_INT_H
#define SL_WAREHOUSE_WAREHOUSE_INT_H

#include "core/buf.h"
#include "core/common.h"

/* Append name as a double-quoted SQL identifier: "a""b" for a"b. Every name
 * that reaches SQL text (dataset, table, column, struct member) goes through
 * this, whatever the registry already refused. -SL_ENOMEM on allocation
 * failure. */
SL_NODISCARD int sl__sql_quote_ident(struct sl_buf *b, const char *name);

/* Append s as a single-quoted SQL string literal ('it''s'). Only for statements
 * that cannot take bound parameters (COMMENT ON); values in DML are always
 * bound. */
SL_NODISCARD int sl__sql_quote_literal(struct sl_buf *b, const char *s);

#endif
