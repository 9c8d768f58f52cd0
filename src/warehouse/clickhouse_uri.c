/* clickhouse_uri.c - the ClickHouse warehouse URI (docs/CLICKHOUSE.md):
 * servers, database, credentials (from the URI or the environment, never
 * shown), options; and SQL quoting as ClickHouse reads it. warehouse stage. */
#include "core/common.h"

#include "warehouse/clickhouse_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Percent-decode n bytes of s into out (size bytes); false if it does not
 * fit or an escape is bad. */
static bool pct_decode(const char *s, size_t n, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2])) {
                return false;
            }
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (k + 1 >= size) {
            return false;
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return true;
}

bool sl__ch_is_loopback(const char *host)
{
    return strcasecmp(host, "localhost") == 0 ||
           strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcasecmp(host, "ip6-localhost") == 0;
}

static int bad(struct sl_error *err, const char *shown, const char *why)
{
    return SL_ERR(err, -SL_EUSAGE,
                  "--warehouse %s: %s (clickhouse://[USER[:PASSWORD]@]HOST:"
                  "PORT[,HOST:PORT...]/DATABASE[?cluster=NAME])",
                  shown, why);
}

/* One "host[:port]" or "[v6][:port]" of n bytes. */
static int parse_host(const char *s, size_t n, struct sl_ch_host *h,
                      const char *shown, struct sl_error *err)
{
    const char *port = NULL;
    size_t hl = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL) {
            return bad(err, shown, "unterminated [IPv6] address");
        }
        hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= sizeof(h->host)) {
            return bad(err, shown, "bad [IPv6] address");
        }
        memcpy(h->host, s + 1, hl);
        h->host[hl] = '\0';
        size_t rest = n - (size_t)(close - s) - 1;
        if (rest > 0 && close[1] != ':') {
            return bad(err, shown, "text after an [IPv6] address");
        }
        port = rest > 0 ? close + 1 : NULL;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon != NULL) {
            hl = (size_t)(colon - s);
            port = colon;
        }
        if (hl >= sizeof(h->host)) {
            return bad(err, shown, "host name too long");
        }
        memcpy(h->host, s, hl);
        h->host[hl] = '\0';
        for (size_t i = 0; i < hl; i++) {
            char c = h->host[i];
            if (!(isalnum((unsigned char)c) || c == '.' || c == '-' ||
                  c == '_')) {
                return bad(err, shown, "bad character in a host name");
            }
        }
        if (hl == 0) {
            strcpy(h->host, "127.0.0.1"); /* loopback by default */
        }
    }
    h->port = 8123;
    if (port != NULL) {
        size_t pl = n - (size_t)(port - s) - 1;
        char num[8];
        if (pl == 0 || pl >= sizeof(num)) {
            return bad(err, shown, "bad port");
        }
        memcpy(num, port + 1, pl);
        num[pl] = '\0';
        char *end;
        long v = strtol(num, &end, 10);
        if (*end != '\0' || v < 1 || v > 65535) {
            return bad(err, shown, "bad port");
        }
        h->port = (unsigned)v;
    }
    return SL_OK;
}

static int parse_seconds(const char *v, uint32_t *out)
{
    char *end;
    double s = strtod(v, &end);
    if (end == v || (*end != '\0' && strcmp(end, "s") != 0) || s <= 0 ||
        s > 86400) {
        return -1;
    }
    *out = (uint32_t)(s * 1000);
    return 0;
}

/* "name=value" pairs after '?'. */
static int parse_params(char *q, struct sl_ch_uri *u, bool *out_compress_set,
                        struct sl_error *err)
{
    for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv != NULL;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        const char *v = eq != NULL ? eq + 1 : "";
        if (eq != NULL) {
            *eq = '\0';
        }
        if (strcmp(kv, "cluster") == 0) {
            if (!pct_decode(v, strlen(v), u->cluster, sizeof(u->cluster)) ||
                u->cluster[0] == '\0') {
                return bad(err, u->shown, "bad cluster name");
            }
        } else if (strcmp(kv, "compress") == 0) {
            if (strcmp(v, "gzip") != 0 && strcmp(v, "none") != 0) {
                return bad(err, u->shown, "compress takes gzip or none");
            }
            u->compress = strcmp(v, "gzip") == 0;
            *out_compress_set = true;
        } else if (strcmp(kv, "streams") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (end == v || *end != '\0' || n < 1 || n > SL_CH_STREAMS) {
                return bad(err, u->shown, "streams takes 1 to 4");
            }
            u->streams = (unsigned)n;
        } else if (strcmp(kv, "timeout") == 0) {
            if (parse_seconds(v, &u->timeout_ms) != 0) {
                return bad(err, u->shown, "timeout takes seconds (1 to 86400)");
            }
        } else if (strcmp(kv, "connect_timeout") == 0) {
            if (parse_seconds(v, &u->connect_timeout_ms) != 0) {
                return bad(err, u->shown,
                           "connect_timeout takes seconds (1 to 86400)");
            }
        } else {
            char why[200];
            snprintf(why, sizeof(why),
                     "unknown option '%.60s' (cluster, compress, streams, "
                     "timeout, connect_timeout)",
                     kv);
            return bad(err, u->shown, why);
        }
    }
    return SL_OK;
}

/* The URI as messages show it: the password (if any) left out. */
static void make_shown(const char *uri, char *out, size_t size)
{
    const char *rest = uri + strlen("clickhouse://");
    const char *slash = strchr(rest, '/');
    const char *at = NULL;
    for (const char *p = rest; *p && (slash == NULL || p < slash); p++) {
        if (*p == '@') {
            at = p;
        }
    }
    if (at == NULL) {
        snprintf(out, size, "%s", uri);
        return;
    }
    const char *colon = memchr(rest, ':', (size_t)(at - rest));
    size_t ul = (size_t)((colon != NULL ? colon : at) - rest);
    snprintf(out, size, "clickhouse://%.*s@%s", (int)ul, rest, at + 1);
}

int sl__ch_uri_parse(const char *uri, struct sl_ch_uri *u, struct sl_error *err)
{
    memset(u, 0, sizeof(*u));
    u->timeout_ms = 60000;
    u->connect_timeout_ms = 10000;
    if (strncasecmp(uri, "clickhouse://", 13) != 0) {
        return SL_ERR(err, -SL_EUSAGE, "not a clickhouse:// URI");
    }
    make_shown(uri, u->shown, sizeof(u->shown));
    char buf[4096];
    if (strlen(uri) >= sizeof(buf)) {
        return bad(err, u->shown, "too long");
    }
    strcpy(buf, uri + 13);
    char *query = strchr(buf, '?');
    if (query != NULL) {
        *query++ = '\0';
    }
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    const char *db = slash != NULL ? slash + 1 : "";
    char *hosts = buf;
    char *at = strrchr(buf, '@');
    bool have_user = false, have_pw = false;
    if (at != NULL) {
        *at = '\0';
        hosts = at + 1;
        char *colon = strchr(buf, ':');
        if (colon != NULL) {
            *colon = '\0';
            if (!pct_decode(colon + 1, strlen(colon + 1), u->password,
                            sizeof(u->password))) {
                return bad(err, u->shown, "bad password encoding");
            }
            have_pw = true;
        }
        if (!pct_decode(buf, strlen(buf), u->user, sizeof(u->user))) {
            return bad(err, u->shown, "bad user name");
        }
        have_user = u->user[0] != '\0';
    }
    if (!have_user) {
        const char *e = getenv("SLUICE_CLICKHOUSE_USER");
        if (e != NULL) {
            snprintf(u->user, sizeof(u->user), "%s", e);
        }
    }
    if (!have_pw) {
        const char *e = getenv("SLUICE_CLICKHOUSE_PASSWORD");
        if (e != NULL) {
            if (strlen(e) >= sizeof(u->password)) {
                return bad(err, u->shown,
                           "SLUICE_CLICKHOUSE_PASSWORD too long");
            }
            strcpy(u->password, e);
        }
    }
    /* servers */
    for (char *p = hosts;;) {
        char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (u->n_shards == SL_CH_MAX_SHARDS) {
            return bad(err, u->shown, "more than 16 servers");
        }
        int rc = parse_host(p, n, &u->shard[u->n_shards], u->shown, err);
        if (rc != SL_OK) {
            return rc;
        }
        u->n_shards++;
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    /* database */
    if (db[0] == '\0') {
        db = "default";
    }
    if (strlen(db) >= sizeof(u->database)) {
        return bad(err, u->shown, "database name too long");
    }
    for (const char *p = db; *p; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '_')) {
            return bad(err, u->shown,
                       "a database name is letters, digits and underscores");
        }
    }
    strcpy(u->database, db);
    /* options */
    bool compress_set = false;
    if (query != NULL) {
        int rc = parse_params(query, u, &compress_set, err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (!compress_set) {
        /* over loopback gzip costs CPU and saves nothing */
        u->compress = false;
        for (size_t i = 0; i < u->n_shards; i++) {
            u->compress |= !sl__ch_is_loopback(u->shard[i].host);
        }
    }
    if (u->streams == 0) {
        /* one server: two streams keep it busy while it writes a part; a
           cluster's shards already run side by side */
        u->streams = u->n_shards > 1 ? 1 : 2;
    }
    if (u->n_shards > 1 && u->cluster[0] == '\0') {
        return bad(err, u->shown,
                   "several servers need ?cluster=NAME (their remote_servers "
                   "entry, for the Distributed tables)");
    }
    return SL_OK;
}

/* ---- quoting -------------------------------------------------------------
 */

static int quote(struct sl_buf *b, const char *s, size_t n, char q)
{
    static const char hex[] = "0123456789abcdef";
    int rc = sl__buf_reserve(b, n + 2);
    rc = rc ? rc : sl__buf_putc(b, q);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = sl__buf_append(b, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            rc = sl__buf_append(b, e, 4);
        } else {
            rc = sl__buf_putc(b, (char)c);
        }
    }
    return rc ? rc : sl__buf_putc(b, q);
}

int sl__ch_ident(struct sl_buf *b, const char *name)
{
    return quote(b, name, strlen(name), '`');
}

int sl__ch_literal(struct sl_buf *b, const char *s, size_t n)
{
    return quote(b, s, n, '\'');
}
