/* sql.c - SQL text helpers for warehouse drivers: identifier and literal
 * quoting. warehouse stage. */
#include "core/common.h"

#include "core/error.h"
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
