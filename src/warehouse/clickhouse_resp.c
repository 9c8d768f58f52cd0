/* clickhouse_resp.c - what a ClickHouse answer means: the exception in a
 * response body (whole, or after rows already sent with a 200 status), its
 * code's class (docs/ERRORS.md: authentication, busy, unreachable, ...) and
 * the one verdict each response gets. No I/O: tests/unit/test_clickhouse.c
 * feeds it recorded answers. warehouse stage. */
#include "core/common.h"

#include "warehouse/clickhouse_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ClickHouse error codes (src/Common/ErrorCodes.cpp) and what they mean for
 * a retry. Anything not listed is -SL_EWAREHOUSE (fatal). */
static const struct {
    int code;
    int cls;
} classes[] = {
    {81, -SL_ENOTFOUND},   /* UNKNOWN_DATABASE */
    {159, -SL_EBUSY},      /* TIMEOUT_EXCEEDED */
    {164, -SL_EWAREHOUSE}, /* READONLY */
    {192, -SL_EAUTH},      /* UNKNOWN_USER */
    {193, -SL_EAUTH},      /* WRONG_PASSWORD */
    {194, -SL_EAUTH},      /* REQUIRED_PASSWORD */
    {202, -SL_EBUSY},      /* TOO_MANY_SIMULTANEOUS_QUERIES */
    {203, -SL_EUNAVAIL},   /* NO_FREE_CONNECTION */
    {209, -SL_EUNAVAIL},   /* SOCKET_TIMEOUT */
    {216, -SL_EBUSY},      /* QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING */
    {210, -SL_EUNAVAIL},   /* NETWORK_ERROR */
    {225, -SL_EUNAVAIL},   /* NO_ZOOKEEPER */
    {236, -SL_EBUSY},      /* ABORTED */
    {241, -SL_EBUSY},      /* MEMORY_LIMIT_EXCEEDED */
    {243, -SL_ENOSPC},     /* NOT_ENOUGH_SPACE */
    {252, -SL_EBUSY},      /* TOO_MANY_PARTS */
    {279, -SL_EUNAVAIL},   /* ALL_CONNECTION_TRIES_FAILED */
    {285, -SL_EUNAVAIL},   /* TOO_FEW_LIVE_REPLICAS */
    {291, -SL_EAUTH},      /* DATABASE_ACCESS_DENIED */
    {319, -SL_EUNAVAIL},   /* UNKNOWN_STATUS_OF_INSERT */
    {394, -SL_EBUSY},      /* QUERY_WAS_CANCELLED */
    {473, -SL_EBUSY},      /* DEADLOCK_AVOIDED */
    {497, -SL_EAUTH},      /* ACCESS_DENIED */
    {516, -SL_EAUTH},      /* AUTHENTICATION_FAILED */
    {999, -SL_EUNAVAIL},   /* KEEPER_EXCEPTION */
};

int sl__ch_code_class(int code)
{
    for (size_t i = 0; i < SL_ARRAY_LEN(classes); i++) {
        if (classes[i].code == code) {
            return classes[i].cls;
        }
    }
    return -SL_EWAREHOUSE;
}

/* Does an exception start at p (n bytes left)? "Code: " then digits. */
static bool exception_at(const char *p, size_t n)
{
    return n > 7 && memcmp(p, "Code: ", 6) == 0 && p[6] >= '0' && p[6] <= '9';
}

static const char *find_mem(const char *p, size_t n, const char *what)
{
    size_t k = strlen(what);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(p + i, what, k) == 0) {
            return p + i;
        }
    }
    return NULL;
}

/* Copy the exception at p into out: the code and a one-line message without
 * the e.displayText()/DB::Exception wrapping or the version note. */
static void parse_at(const char *p, size_t n, struct sl_ch_exc *out)
{
    const char *end = p + n;
    const char *q = p + 6;
    long code = 0;
    while (q < end && *q >= '0' && *q <= '9' && code < 100000) {
        code = code * 10 + (*q++ - '0');
    }
    out->code = (int)code;
    static const char *const leads[] = {", e.displayText() = ", ". ", ", "};
    for (size_t i = 0; i < SL_ARRAY_LEN(leads); i++) {
        size_t k = strlen(leads[i]);
        if ((size_t)(end - q) >= k && memcmp(q, leads[i], k) == 0) {
            q += k;
            break;
        }
    }
    /* "DB::Exception: ", "DB::NetException: ", "Poco::Exception. ..." */
    const char *colon = find_mem(
        q, (size_t)(end - q) < 40 ? (size_t)(end - q) : 40, "Exception: ");
    if (colon != NULL) {
        q = colon + strlen("Exception: ");
    }
    const char *stop = find_mem(q, (size_t)(end - q), ", e.what() = ");
    if (stop == NULL) {
        stop = find_mem(q, (size_t)(end - q), " (version ");
    }
    if (stop == NULL) {
        stop = end;
    }
    size_t k = 0;
    bool space = false;
    for (const char *s = q; s < stop && k + 1 < sizeof(out->msg); s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = k > 0;
            continue;
        }
        if (space && k + 2 < sizeof(out->msg)) {
            out->msg[k++] = ' ';
        }
        space = false;
        out->msg[k++] = c < 0x20 ? '?' : (char)c;
    }
    out->msg[k] = '\0';
}

void sl__ch_find_exception(const char *p, size_t n, const char *header_code,
                           struct sl_ch_exc *out, bool *out_found)
{
    memset(out, 0, sizeof(*out));
    *out_found = false;
    const char *at = NULL;
    if (exception_at(p, n)) {
        at = p;
    } else {
        /* after rows: the last line that starts an exception */
        for (size_t i = n; i-- > 0;) {
            if (p[i] == '\n' && exception_at(p + i + 1, n - i - 1) &&
                find_mem(p + i + 1, n - i - 1, "Exception") != NULL) {
                at = p + i + 1;
                break;
            }
        }
    }
    if (at != NULL) {
        parse_at(at, (size_t)(p + n - at), out);
        *out_found = true;
    }
    if (header_code != NULL && header_code[0] != '\0') {
        int hc = atoi(header_code);
        if (hc > 0) {
            out->code = hc;
            if (!*out_found) {
                snprintf(out->msg, sizeof(out->msg), "%.*s",
                         (int)(n < 300 ? n : 300), p);
            }
            *out_found = true;
        }
    }
}

int sl__ch_judge(const char *what, const char *user,
                 const struct sl_http_resp *r, struct sl_error *err)
{
    struct sl_ch_exc ex;
    bool found = false;
    const char *body = r->body.data != NULL ? r->body.data : "";
    sl__ch_find_exception(body, r->body.len, r->exception_code, &ex, &found);
    if (!found && r->status == 200) {
        return SL_OK;
    }
    int code;
    if (found && ex.code == 60 &&
        (strstr(ex.msg, "._sluice_stage_") != NULL ||
         strstr(ex.msg, "._sluice_tmp_") != NULL)) {
        /* UNKNOWN_TABLE naming a load's staging table: another load renamed
         * or dropped it under a statement that listed it (18.16's system
         * tables, DDL): a race that the next attempt does not meet */
        code = -SL_EBUSY;
    } else if (found) {
        code = sl__ch_code_class(ex.code);
    } else if (r->status == 401 || r->status == 403) {
        code = -SL_EAUTH;
        snprintf(ex.msg, sizeof(ex.msg), "HTTP status %ld", r->status);
    } else if (r->status == 408 || r->status == 429 || r->status == 502 ||
               r->status == 503 || r->status == 504 || r->status == 0) {
        code = -SL_EUNAVAIL;
        snprintf(ex.msg, sizeof(ex.msg), "HTTP status %ld", r->status);
    } else {
        code = -SL_EWAREHOUSE;
        /* the body is r->body.len bytes, not a C string (a pulled answer) */
        snprintf(ex.msg, sizeof(ex.msg), "HTTP status %ld: %.*s", r->status,
                 (int)(r->body.len < 200 ? r->body.len : 200), body);
    }
    int rc;
    if (code == -SL_EAUTH) {
        rc = SL_ERR(err, code,
                    "clickhouse %s: authentication failed for user '%s': %s "
                    "(check the user and password in the warehouse URI or in "
                    "SLUICE_CLICKHOUSE_USER / SLUICE_CLICKHOUSE_PASSWORD)",
                    what, user != NULL && user[0] ? user : "default", ex.msg);
    } else if (found) {
        rc = SL_ERR(err, code, "clickhouse %s: Code %d: %s", what, ex.code,
                    ex.msg);
    } else {
        rc = SL_ERR(err, code, "clickhouse %s: %s", what, ex.msg);
    }
    if (err != NULL) {
        if (err->sub == 0) {
            err->sub = found ? ex.code : (int)r->status;
        }
        if (code == -SL_EBUSY || code == -SL_EUNAVAIL) {
            err->retry_after_ms = r->retry_after_ms ? r->retry_after_ms
                                  : ex.code == 252  ? 1000
                                                    : 0;
        }
    }
    return rc;
}
