/* rowjson.h - a validated row back to canonical NDJSON text. validate stage. */
#ifndef SL_VALIDATE_ROWJSON_H
#define SL_VALIDATE_ROWJSON_H

#include "core/buf.h"
#include "core/common.h"
#include "schema/schema.h"
#include "validate/row.h"
#include "validate/validator.h"

/* Append row cols[0..n) of table t to b as one JSON object (no newline), in
 * the canonical spelling of each value (NUMERIC and dates as strings, BYTES as
 * base64, FLOAT64 with 17 significant digits or "NaN"/"Infinity", JSON columns
 * embedded), so that validating it against t gives back the same values.
 * -SL_ENOMEM, or -SL_EINVAL for a row that does not fit t. */
SL_NODISCARD int sl_row_json(struct sl_buf *b, const struct sl_table *t,
                             const struct sl_val *cols, size_t n);

/* Append a reject as one rejects-file line (a JSON object and a newline):
 * file (file if non-NULL, else r->file), line, record (CSV), offset, field,
 * reason, value. -SL_ENOMEM. */
SL_NODISCARD int sl_reject_json(struct sl_buf *b, const struct sl_reject *r,
                                const char *file);

#endif
