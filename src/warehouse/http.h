/* http.h - the libcurl wrapper the server warehouses talk through: one
 * keep-alive connection to one server, requests with a whole or a streamed
 * (chunked) body, responses collected or pulled a piece at a time, and every
 * transport failure classed (docs/ERRORS.md). Credentials go to libcurl's
 * basic authentication and are never part of a URL, a log line or a message.
 * warehouse stage.
 *
 * Thread-safety: a struct sl_http is used by one thread at a time; different
 * handles may run on different threads at once. */
#ifndef SL_WAREHOUSE_HTTP_H
#define SL_WAREHOUSE_HTTP_H

#include "core/common.h"

#include "core/buf.h"
#include "core/error.h"

struct sl_http; /* one server connection (opaque) */

struct sl_http_opts {
    const char *host; /* name or address ([v6] without brackets) */
    unsigned port;
    const char *user;            /* NULL or "": no authentication */
    const char *password;        /* copied; wiped when the handle goes */
    uint32_t connect_timeout_ms; /* 0 = 10 s */
    uint32_t idle_timeout_ms;    /* no byte either way this long ends a
                                    request as -SL_EUNAVAIL; 0 = 60 s */
};

/* A request: POST of path_query ("/?database=d&x=1", already URL-encoded)
 * with either a whole body or a streamed one. */
struct sl_http_req {
    const char *path_query;
    const char *body; /* whole body (body_len bytes), or NULL with read */
    size_t body_len;
    /* streamed body, sent chunked: fill buf with up to cap bytes, return
     * how many (0 = the end, SL_HTTP_ABORT = give up: the request fails) */
    size_t (*read)(void *ud, char *buf, size_t cap);
    void *read_ud;
    const char *content_encoding; /* of the body ("gzip"), or NULL */
    size_t max_body;              /* collected response bytes kept at most
                                     (the rest dropped); 0 = 64 MB */
};
#define SL_HTTP_ABORT ((size_t)-1)

struct sl_http_resp {
    long status;             /* HTTP status, 0 when none arrived */
    struct sl_buf body;      /* collected body (caller releases) */
    bool truncated;          /* more than max_body arrived */
    char content_type[64];   /* "" if none */
    char exception_code[16]; /* X-ClickHouse-Exception-Code, "" if none */
    uint32_t retry_after_ms; /* Retry-After, 0 if none */
};

/* Open a handle (no I/O yet). -SL_ENOMEM, -SL_EWAREHOUSE (libcurl). Caller
 * frees with sl__http_destroy. */
SL_NODISCARD int sl__http_create(const struct sl_http_opts *o,
                                 struct sl_http **out, struct sl_error *err);
void sl__http_destroy(struct sl_http *h); /* NULL ok */

/* "host:port" of the handle, for messages (borrowed). */
const char *sl__http_name(const struct sl_http *h);

/* Send rq and collect the response into *out (initialised here; the caller
 * releases out->body also on failure). Only transport failures fail:
 * -SL_EUNAVAIL (refused, reset, timed out, nothing answered), -SL_EWAREHOUSE
 * (anything else libcurl reports), -SL_ENOMEM; an HTTP error status is a
 * response, for the caller to judge. */
SL_NODISCARD int sl__http_do(struct sl_http *h, const struct sl_http_req *rq,
                             struct sl_http_resp *out, struct sl_error *err);

/* ---- responses pulled a piece at a time (query results) ------------------ */

struct sl_http_stream; /* a response being read */

/* Start rq (whole body only) and wait for the response's headers. The body
 * is then pulled with sl__http_pull. Caller closes with
 * sl__http_stream_close (which drops the connection if the body was not read
 * to its end). */
SL_NODISCARD int sl__http_stream_open(struct sl_http *h,
                                      const struct sl_http_req *rq,
                                      struct sl_http_stream **out,
                                      struct sl_error *err);
/* The status and headers (borrowed; body unused). */
const struct sl_http_resp *sl__http_stream_resp(struct sl_http_stream *s);
/* Make at least want bytes available from *out_data (or fewer, at the end
 * of the body: *out_len tells, and *out_end). Bytes stay available until
 * consumed with sl__http_consume. Memory held: what is available, plus at
 * most one network read. */
SL_NODISCARD int sl__http_pull(struct sl_http_stream *s, size_t want,
                               const char **out_data, size_t *out_len,
                               bool *out_end, struct sl_error *err);
void sl__http_consume(struct sl_http_stream *s, size_t n);
void sl__http_stream_close(struct sl_http_stream *s); /* NULL ok */

/* Append s URL-encoded (RFC 3986 unreserved kept) to b. -SL_ENOMEM. */
SL_NODISCARD int sl__http_urlencode(struct sl_buf *b, const char *s);

#endif
