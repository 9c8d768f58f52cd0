/* http.c - the libcurl wrapper (http.h): one easy handle per server
 * connection, kept alive between requests; whole or chunked request bodies;
 * responses collected, or pulled through a multi handle for query results;
 * transport failures classed. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct sl_http {
    CURL *curl;            /* owned */
    char base[300];        /* "http://host:port" */
    char name[300];        /* "host:port" */
    char *user, *password; /* owned; password wiped on destroy */
    uint32_t connect_ms, idle_ms;
    /* the request in flight */
    struct sl_http_resp *resp;
    size_t max_body;
    uint64_t last_bytes;  /* bytes moved either way at the last check */
    int64_t last_move_ms; /* when they last changed */
    bool idle_out;        /* the idle timeout ended the request */
    bool pausing;         /* a stream: the write callback may pause */
    struct sl_http_stream *stream;
    char errbuf[CURL_ERROR_SIZE];
};

struct sl_http_stream {
    struct sl_http *h; /* borrowed */
    CURLM *multi;      /* owned */
    struct curl_slist *hdrs;
    struct sl_http_resp resp;
    char *data; /* bytes received and not consumed: data[pos..len) */
    size_t len, pos, cap;
    size_t want; /* pull's target: pause past it */
    bool paused, done, headers_done;
    CURLcode result;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl__http_create(const struct sl_http_opts *o, struct sl_http **out,
                    struct sl_error *err)
{
    *out = NULL;
    (void)pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        return SL_ERR(err, -SL_EWAREHOUSE, "libcurl cannot start: %s",
                      curl_easy_strerror(global_rc));
    }
    struct sl_http *h = sl__calloc(1, sizeof(*h));
    if (h == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory opening a connection");
    }
    bool v6 = strchr(o->host, ':') != NULL;
    snprintf(h->base, sizeof(h->base), "http://%s%s%s:%u", v6 ? "[" : "",
             o->host, v6 ? "]" : "", o->port);
    snprintf(h->name, sizeof(h->name), "%s%s%s:%u", v6 ? "[" : "", o->host,
             v6 ? "]" : "", o->port);
    h->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
    h->idle_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 60000;
    bool auth = o->user != NULL && o->user[0] != '\0';
    if (auth) {
        h->user = sl__strdup(o->user);
        h->password = sl__strdup(o->password != NULL ? o->password : "");
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL || (auth && (h->user == NULL || h->password == NULL))) {
        sl__http_destroy(h);
        return SL_ERR(err, -SL_ENOMEM, "out of memory opening a connection");
    }
    *out = h;
    return SL_OK;
}

void sl__http_destroy(struct sl_http *h)
{
    if (h == NULL) {
        return;
    }
    if (h->curl != NULL) {
        curl_easy_cleanup(h->curl);
    }
    if (h->password != NULL) {
        explicit_bzero(h->password, strlen(h->password));
    }
    sl__free(h->user);
    sl__free(h->password);
    sl__free(h);
}

const char *sl__http_name(const struct sl_http *h)
{
    return h->name;
}

/* ---- callbacks ------------------------------------------------------------
 */

static void copy_trimmed(char *out, size_t size, const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ')) {
        n--;
    }
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

static bool header_is(const char *line, size_t n, const char *name,
                      const char **out_val, size_t *out_len)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':') {
        return false;
    }
    *out_val = line + k + 1;
    *out_len = n - k - 1;
    return true;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    struct sl_http *h = ud;
    size_t n = size * nitems;
    struct sl_http_resp *r = h->resp;
    const char *v;
    size_t vl;
    if (r == NULL) {
        return n;
    }
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a 100 Continue): forget the last one's */
        r->content_type[0] = '\0';
        r->exception_code[0] = '\0';
        r->retry_after_ms = 0;
    } else if (header_is(line, n, "Content-Type", &v, &vl)) {
        copy_trimmed(r->content_type, sizeof(r->content_type), v, vl);
    } else if (header_is(line, n, "X-ClickHouse-Exception-Code", &v, &vl)) {
        copy_trimmed(r->exception_code, sizeof(r->exception_code), v, vl);
    } else if (header_is(line, n, "Retry-After", &v, &vl)) {
        char tmp[32];
        copy_trimmed(tmp, sizeof(tmp), v, vl);
        long s = strtol(tmp, NULL, 10);
        r->retry_after_ms = s > 0 && s < 3600 ? (uint32_t)s * 1000 : 0;
    } else if (n <= 2 && h->stream != NULL) {
        long st = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &st);
        if (st >= 200) {
            h->stream->headers_done = true;
        }
    }
    return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sl_http *h = ud;
    size_t n = size * nmemb;
    struct sl_http_resp *r = h->resp;
    if (r == NULL) {
        return n;
    }
    size_t room = h->max_body > r->body.len ? h->max_body - r->body.len : 0;
    size_t take = n < room ? n : room;
    if (take < n) {
        r->truncated = true;
    }
    if (take > 0 && sl__buf_append(&r->body, p, take) != SL_OK) {
        return CURL_WRITEFUNC_ERROR;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)ultotal;
    struct sl_http *h = ud;
    if (h->stream != NULL) {
        return 0; /* streams time out in sl__http_pull */
    }
    uint64_t moved = (uint64_t)dlnow + (uint64_t)ulnow;
    int64_t now = mono_ms();
    if (moved != h->last_bytes) {
        h->last_bytes = moved;
        h->last_move_ms = now;
        return 0;
    }
    if (now - h->last_move_ms > (int64_t)h->idle_ms) {
        h->idle_out = true;
        return 1;
    }
    return 0;
}

struct reader {
    size_t (*read)(void *ud, char *buf, size_t cap);
    void *ud;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct reader *rd = ud;
    size_t n = rd->read(rd->ud, buf, size * nitems);
    return n == SL_HTTP_ABORT ? CURL_READFUNC_ABORT : n;
}

/* ---- requests -------------------------------------------------------------
 */

static int fail_transport(struct sl_http *h, CURLcode rc, struct sl_error *err)
{
    const char *why = h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc);
    int code;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
        code = -SL_EUNAVAIL;
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        code = h->idle_out ? -SL_EUNAVAIL : -SL_EWAREHOUSE;
        break;
    case CURLE_OUT_OF_MEMORY:
        code = -SL_ENOMEM;
        break;
    default:
        code = -SL_EWAREHOUSE;
    }
    if (h->idle_out) {
        return SL_ERR(err, code, "%s: no answer for %u s (timeout)", h->name,
                      (unsigned)(h->idle_ms / 1000));
    }
    int r = SL_ERR(err, code, "%s: %s", h->name, why);
    if (err != NULL && err->sub == 0) {
        err->sub = (int)rc;
    }
    return r;
}

/* Set up the easy handle for rq; *out_hdrs is freed by the caller. */
static int prepare(struct sl_http *h, const struct sl_http_req *rq,
                   struct reader *rd, struct sl_http_resp *out,
                   struct curl_slist **out_hdrs, struct sl_error *err)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    memset(out, 0, sizeof(*out));
    sl__buf_init(&out->body);
    h->resp = out;
    h->max_body = rq->max_body ? rq->max_body : (64u << 20);
    h->idle_out = false;
    h->last_bytes = 0;
    h->last_move_ms = mono_ms();
    h->errbuf[0] = '\0';
    char url[4096];
    int n = snprintf(url, sizeof(url), "%s%s", h->base, rq->path_query);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        return SL_ERR(err, -SL_EWAREHOUSE, "%s: request URL too long", h->name);
    }
    struct curl_slist *hd = curl_slist_append(NULL, "Expect:");
    if (hd != NULL && rq->read != NULL) {
        hd = curl_slist_append(hd, "Transfer-Encoding: chunked");
    }
    if (hd != NULL && rq->content_encoding != NULL) {
        char line[64];
        snprintf(line, sizeof(line), "Content-Encoding: %s",
                 rq->content_encoding);
        hd = curl_slist_append(hd, line);
    }
    *out_hdrs = hd;
    if (hd == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory sending a request");
    }
    bool ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_ms) ==
          CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_HEADERDATA, h) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
    ok &=
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_XFERINFODATA, h) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    if (h->user != NULL) {
        ok &= curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) ==
              CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_USERNAME, h->user) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_PASSWORD, h->password) == CURLE_OK;
    }
    if (rq->read != NULL) {
        rd->read = rq->read;
        rd->ud = rq->read_ud;
        ok &= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_READDATA, rd) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)-1) == CURLE_OK;
    } else {
        ok &= curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                               rq->body != NULL ? rq->body : "") == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)(rq->body != NULL ? rq->body_len
                                                             : 0)) == CURLE_OK;
    }
    if (!ok) {
        return SL_ERR(err, -SL_EWAREHOUSE, "%s: libcurl refused an option",
                      h->name);
    }
    return SL_OK;
}

int sl__http_do(struct sl_http *h, const struct sl_http_req *rq,
                struct sl_http_resp *out, struct sl_error *err)
{
    struct reader rd;
    struct curl_slist *hd = NULL;
    int rc = prepare(h, rq, &rd, out, &hd, err);
    if (rc == SL_OK) {
        CURLcode cr = curl_easy_perform(h->curl);
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
        if (cr != CURLE_OK) {
            rc = cr == CURLE_WRITE_ERROR && !h->idle_out
                     ? SL_ERR(err, -SL_ENOMEM, "out of memory reading %s",
                              h->name)
                     : fail_transport(h, cr, err);
        }
    }
    h->resp = NULL;
    curl_slist_free_all(hd);
    return rc;
}

/* ---- streams -------------------------------------------------------------
 */

static size_t on_stream_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sl_http *h = ud;
    struct sl_http_stream *s = h->stream;
    size_t n = size * nmemb;
    s->headers_done = true;
    if (s->len - s->pos >= s->want && s->len - s->pos > 0) {
        s->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (s->pos > 0 && s->pos == s->len) {
        s->pos = s->len = 0;
    }
    if (s->len + n > s->cap) {
        if (s->pos > 0) {
            memmove(s->data, s->data + s->pos, s->len - s->pos);
            s->len -= s->pos;
            s->pos = 0;
        }
        if (s->len + n > s->cap) {
            size_t ncap = s->cap ? s->cap : 65536;
            while (ncap < s->len + n) {
                ncap *= 2;
            }
            char *g = sl__realloc(s->data, ncap);
            if (g == NULL) {
                return CURL_WRITEFUNC_ERROR;
            }
            s->data = g;
            s->cap = ncap;
        }
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return n;
}

/* Run the transfer until cond holds, the transfer ends or it is idle too
 * long. */
static int pump(struct sl_http_stream *s, size_t want, bool headers_only,
                struct sl_error *err)
{
    struct sl_http *h = s->h;
    int64_t last = mono_ms();
    size_t last_len = s->len - s->pos;
    for (;;) {
        if (s->done ||
            (headers_only ? s->headers_done : s->len - s->pos >= want)) {
            return SL_OK;
        }
        s->want = want;
        if (s->paused) {
            s->paused = false;
            curl_easy_pause(h->curl, CURLPAUSE_CONT);
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK) {
            return SL_ERR(err, -SL_EWAREHOUSE, "%s: %s", h->name,
                          curl_multi_strerror(mc));
        }
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (m->msg == CURLMSG_DONE) {
                s->done = true;
                s->result = m->data.result;
            }
        }
        if (s->done) {
            curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &s->resp.status);
            if (s->result != CURLE_OK) {
                return s->result == CURLE_WRITE_ERROR
                           ? SL_ERR(err, -SL_ENOMEM, "out of memory reading %s",
                                    h->name)
                           : fail_transport(h, s->result, err);
            }
            continue;
        }
        if (s->paused) {
            continue; /* the consumer's target is met */
        }
        int64_t now = mono_ms();
        if (s->len - s->pos != last_len) {
            last_len = s->len - s->pos;
            last = now;
        } else if (now - last > (int64_t)h->idle_ms) {
            h->idle_out = true;
            return fail_transport(h, CURLE_OPERATION_TIMEDOUT, err);
        }
        mc = curl_multi_poll(s->multi, NULL, 0, 200, NULL);
        if (mc != CURLM_OK) {
            return SL_ERR(err, -SL_EWAREHOUSE, "%s: %s", h->name,
                          curl_multi_strerror(mc));
        }
    }
}

int sl__http_stream_open(struct sl_http *h, const struct sl_http_req *rq,
                         struct sl_http_stream **out, struct sl_error *err)
{
    *out = NULL;
    struct sl_http_stream *s = sl__calloc(1, sizeof(*s));
    if (s == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory starting a query");
    }
    s->h = h;
    struct reader rd;
    int rc = prepare(h, rq, &rd, &s->resp, &s->hdrs, err);
    h->stream = s;
    if (rc == SL_OK) {
        bool ok = curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION,
                                   on_stream_body) == CURLE_OK;
        s->multi = curl_multi_init();
        if (!ok || s->multi == NULL ||
            curl_multi_add_handle(s->multi, h->curl) != CURLM_OK) {
            rc = SL_ERR(err, -SL_EWAREHOUSE, "%s: cannot start a transfer",
                        h->name);
            if (s->multi != NULL) {
                curl_multi_cleanup(s->multi);
                s->multi = NULL;
            }
        }
    }
    if (rc == SL_OK) {
        rc = pump(s, 1, true, err);
    }
    if (rc != SL_OK) {
        sl__http_stream_close(s);
        return rc;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &s->resp.status);
    *out = s;
    return SL_OK;
}

const struct sl_http_resp *sl__http_stream_resp(struct sl_http_stream *s)
{
    return &s->resp;
}

int sl__http_pull(struct sl_http_stream *s, size_t want, const char **out_data,
                  size_t *out_len, bool *out_end, struct sl_error *err)
{
    int rc = pump(s, want, false, err);
    *out_data = s->data != NULL ? s->data + s->pos : "";
    *out_len = s->len - s->pos;
    *out_end = s->done;
    return rc;
}

void sl__http_consume(struct sl_http_stream *s, size_t n)
{
    s->pos += n <= s->len - s->pos ? n : s->len - s->pos;
}

void sl__http_stream_close(struct sl_http_stream *s)
{
    if (s == NULL) {
        return;
    }
    struct sl_http *h = s->h;
    if (s->multi != NULL) {
        curl_multi_remove_handle(s->multi, h->curl);
        curl_multi_cleanup(s->multi);
    }
    h->stream = NULL;
    h->resp = NULL;
    curl_slist_free_all(s->hdrs);
    sl__buf_release(&s->resp.body);
    sl__free(s->data);
    sl__free(s);
}

int sl__http_urlencode(struct sl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = SL_OK;
    for (const unsigned char *p = (const unsigned char *)s; rc == SL_OK && *p;
         p++) {
        unsigned ch = *p;
        bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
                    ch == '.' || ch == '~';
        if (keep) {
            rc = sl__buf_putc(b, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            rc = sl__buf_append(b, e, 3);
        }
    }
    return rc;
}
