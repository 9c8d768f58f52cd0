/* sql.c - SQL text helpers for warehouse drivers: identifier and literal
 * quoting, and the sl_wh_* helpers that use a driver's own when it has one.
 * warehouse stage. */
#include "core/common.h"

#include "core/error.h"
#include "warehouse/driver.h"
#include "warehouse/warehouse_int.h"

#include <string.h>

/* Both quoting styles follow the SQL standard: the quote character is doubled
 * inside the quotes, and nothing else is special. */
static int quote_with(struct sl_buf *b, const char *s, char q)
{
    size_t n = strlen(s);
    int rc = sl__buf_reserve(b, n + 2);
    if (rc != SL_OK) {
        return rc;
    }
    rc = sl__buf_putc(b, q);
    const char *p = s;
    while (rc == SL_OK) {
        const char *hit = strchr(p, q);
        if (hit == NULL) {
            rc = sl__buf_append(b, p, strlen(p));
            break;
        }
        rc = sl__buf_append(b, p, (size_t)(hit - p) + 1);
        if (rc == SL_OK) {
            rc = sl__buf_putc(b, q);
        }
        p = hit + 1;
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(b, q);
    }
    return rc;
}

int sl__sql_quote_ident(struct sl_buf *b, const char *name)
{
    return quote_with(b, name, '"');
}

int sl__sql_quote_literal(struct sl_buf *b, const char *s)
{
    return quote_with(b, s, '\'');
}

int sl_wh_table_ref(const struct sl_wh_ops *ops, const struct sl_wh *wh,
                    struct sl_buf *b, const char *dataset, const char *name)
{
    if (ops != NULL && ops->table_ref != NULL) {
        return ops->table_ref(wh, b, dataset, name);
    }
    int rc = sl_wh_quote_ident(ops, b, dataset);
    rc = rc ? rc : sl__buf_putc(b, '.');
    return rc ? rc : sl_wh_quote_ident(ops, b, name);
}

int sl_wh_quote_ident(const struct sl_wh_ops *ops, struct sl_buf *b,
                      const char *name)
{
    if (ops != NULL && ops->quote_ident != NULL) {
        return ops->quote_ident(b, name);
    }
    return sl__sql_quote_ident(b, name);
}

int sl_wh_quote_literal(const struct sl_wh_ops *ops, struct sl_buf *b,
                        const char *s)
{
    if (ops != NULL && ops->quote_literal != NULL) {
        return ops->quote_literal(b, s);
    }
    return sl__sql_quote_literal(b, s);
}
