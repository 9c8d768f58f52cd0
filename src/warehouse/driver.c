/* driver.c - picks the warehouse driver for a URI by its scheme. warehouse
 * stage. */
#include "core/common.h"

#include "warehouse/driver.h"
#include "warehouse/warehouse_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Length of a URI scheme ("duckdb" in "duckdb://..."), 0 if uri has none.
 * RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by "://"
 * here, so "./a://b" stays a path. */
static size_t scheme_len(const char *uri)
{
    if (!isalpha((unsigned char)uri[0])) {
        return 0;
    }
    size_t n = 1;
    while (isalnum((unsigned char)uri[n]) || uri[n] == '+' || uri[n] == '-' ||
           uri[n] == '.') {
        n++;
    }
    return strncmp(uri + n, "://", 3) == 0 ? n : 0;
}

const struct sl_wh_ops *sl_wh_driver_for(const char *uri)
{
    static const struct sl_wh_ops *const drivers[] = {&sl__duckdb_ops};
    if (uri == NULL) {
        return NULL;
    }
    size_t n = scheme_len(uri);
    if (n == 0) {
        return &sl__duckdb_ops; /* a bare path is a DuckDB file */
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(drivers); i++) {
        if (strlen(drivers[i]->scheme) == n &&
            strncasecmp(uri, drivers[i]->scheme, n) == 0) {
            return drivers[i];
        }
    }
    return NULL;
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
