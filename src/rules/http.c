/* http.c - the HTTP requests of the call, notify and push actions
 * (libcurl): http and https only, a time limit, the answer's body kept (at
 * most 16 MB). rules stage. */
#include "core/common.h"

#include "rules/rules_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

#define MAX_BODY (16u << 20)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    /* libcurl's global state lives as long as the process */
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sl_buf *b = ud;
    size_t len = size * n;
    if (b->len + len > MAX_BODY || sl__buf_append(b, p, len) != SL_OK) {
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return len;
}

static int status_error(long status, const struct sl_buf *body,
                        struct sl_error *err)
{
    /* 5xx and 429 may pass: transient; any other refusal is final */
    int code = status >= 500 || status == 429 ? -SL_EUNAVAIL : -SL_EINVAL;
    int rc = SL_ERR(err, code, "HTTP %ld: %.200s", status,
                    body->data != NULL ? body->data : "");
    err->sub = (int)status;
    return rc;
}

int sl__rules_http(const struct sl_rules_http_req *q,
                   struct sl_rules_http_resp *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    sl__buf_init(&out->body);
    pthread_once(&once, global_init);
    if (init_rc != CURLE_OK) {
        return SL_ERR(err, -SL_EENV, "libcurl: %s",
                      curl_easy_strerror(init_rc));
    }
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "libcurl: cannot make a handle");
    }
    struct curl_slist *hdr = NULL;
    if (q->content_type != NULL) {
        char h[128];
        snprintf(h, sizeof(h), "Content-Type: %s", q->content_type);
        hdr = curl_slist_append(hdr, h);
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, q->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     (long)(q->timeout_ms ? q->timeout_ms : 30000));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice-rules/1");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    if (hdr != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    }
    if (q->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body));
    }
    CURLcode cc = curl_easy_perform(c);
    int rc = SL_OK;
    if (cc != CURLE_OK) {
        rc = SL_ERR(
            err, cc == CURLE_UNSUPPORTED_PROTOCOL ? -SL_EUSAGE : -SL_EUNAVAIL,
            "%s %s: %s", q->method, q->url,
            ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc));
        err->sub = (int)cc;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->status < 200 || out->status > 299) {
            rc = status_error(out->status, &out->body, err);
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}
