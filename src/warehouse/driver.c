/* driver.c - picks the warehouse driver for a URI by its scheme. warehouse
 * stage. */
#include "core/common.h"

#include "warehouse/driver.h"

#include <ctype.h>
#include <stdio.h>
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

void sl_wh_uri_shown(const char *uri, char *out, size_t size)
{
    if (size == 0) {
        return;
    }
    size_t n = uri != NULL ? scheme_len(uri) : 0;
    if (n == 0) {
        snprintf(out, size, "%s", uri != NULL ? uri : "");
        return;
    }
    /* user info: up to the last '@' before the path */
    const char *auth = uri + n + 3;
    const char *slash = strchr(auth, '/');
    const char *at = NULL;
    for (const char *p = auth; *p && (slash == NULL || p < slash); p++) {
        if (*p == '@') {
            at = p;
        }
    }
    const char *colon =
        at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL) {
        snprintf(out, size, "%s", uri);
        return;
    }
    snprintf(out, size, "%.*s%s", (int)(colon - uri), uri, at);
}

const struct sl_wh_ops *sl_wh_driver_for(const char *uri)
{
    static const struct sl_wh_ops *const drivers[] = {&sl__duckdb_ops,
                                                      &sl__clickhouse_ops};
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
