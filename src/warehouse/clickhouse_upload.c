/* clickhouse_upload.c - one streamed INSERT: a thread sends "INSERT INTO t
 * FORMAT Native" and then the blocks producers hand it through
 * a small bounded queue (so memory stays a few chunks whatever the batch's
 * size), as one chunked HTTP body on a connection of its own, gzip'd when
 * the URI says so (clickhouse_load.c drives it). warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/clickhouse_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define QN 2 /* blocks queued per stream */

struct ch_upload {
    struct sl_http *http; /* owned: the thread's connection */
    char name[300];
    char user[128];
    struct sl_buf path; /* URL path and query, owned */
    pthread_t thr;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct sl_buf q[QN]; /* ring of chunks; slots keep their capacity */
    size_t head, count;
    size_t off;    /* bytes of q[head] already sent */
    bool closed;   /* no more chunks will come */
    bool aborted;  /* stop now: the request is abandoned */
    bool finished; /* the request is over (rc, err set) */
    int rc;
    struct sl_error err;
    bool gz;
    z_stream z;
    bool z_ready, z_in_end, z_done;
    uint64_t bytes; /* raw bytes handed to the request */
};

/* The head chunk's unsent bytes, waiting for one; 0 at the end, -1 when
 * aborted. */
static int head_chunk(struct ch_upload *u, const char **p, size_t *n)
{
    pthread_mutex_lock(&u->mu);
    while (u->count == 0 && !u->closed && !u->aborted) {
        pthread_cond_wait(&u->cv, &u->mu);
    }
    int r = u->aborted ? -1 : u->count == 0 ? 0 : 1;
    if (r == 1) {
        *p = u->q[u->head].data + u->off;
        *n = u->q[u->head].len - u->off;
    }
    pthread_mutex_unlock(&u->mu);
    return r;
}

/* n bytes of the head chunk were sent; a finished chunk frees its slot. */
static void sent(struct ch_upload *u, size_t n)
{
    pthread_mutex_lock(&u->mu);
    u->off += n;
    u->bytes += n;
    if (u->off >= u->q[u->head].len) {
        sl__buf_reset(&u->q[u->head]);
        u->head = (u->head + 1) % QN;
        u->count--;
        u->off = 0;
        pthread_cond_broadcast(&u->cv);
    }
    pthread_mutex_unlock(&u->mu);
}

static size_t read_plain(struct ch_upload *u, char *buf, size_t cap)
{
    const char *p;
    size_t n;
    for (;;) {
        int r = head_chunk(u, &p, &n);
        if (r <= 0) {
            return r == 0 ? 0 : SL_HTTP_ABORT;
        }
        if (n == 0) {
            sent(u, 0);
            continue;
        }
        size_t k = n < cap ? n : cap;
        memcpy(buf, p, k);
        sent(u, k);
        return k;
    }
}

static size_t read_gzip(struct ch_upload *u, char *buf, size_t cap)
{
    z_stream *z = &u->z;
    if (u->z_done) {
        return 0;
    }
    z->next_out = (Bytef *)buf;
    z->avail_out = (uInt)(cap < (1u << 30) ? cap : (1u << 30));
    uInt start = z->avail_out;
    while (z->avail_out == start) {
        if (z->avail_in == 0 && !u->z_in_end) {
            const char *p;
            size_t n;
            int r = head_chunk(u, &p, &n);
            if (r < 0) {
                return SL_HTTP_ABORT;
            }
            if (r == 0) {
                u->z_in_end = true;
            } else {
                z->next_in = (Bytef *)p;
                z->avail_in = (uInt)n;
            }
        }
        uInt before = z->avail_in;
        int ret = deflate(z, u->z_in_end ? Z_FINISH : Z_NO_FLUSH);
        if (before > 0) {
            /* each chunk is handed in whole: release it once consumed */
            if (z->avail_in == 0) {
                sent(u, before);
            } else {
                /* keep the remainder for the next round; the slot stays */
                pthread_mutex_lock(&u->mu);
                u->off += before - z->avail_in;
                u->bytes += before - z->avail_in;
                pthread_mutex_unlock(&u->mu);
            }
        }
        if (ret == Z_STREAM_END) {
            u->z_done = true;
            break;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            return SL_HTTP_ABORT;
        }
    }
    return start - z->avail_out;
}

static size_t on_read(void *ud, char *buf, size_t cap)
{
    struct ch_upload *u = ud;
    return u->gz ? read_gzip(u, buf, cap) : read_plain(u, buf, cap);
}

static void *run(void *arg)
{
    struct ch_upload *u = arg;
    struct sl_http_req rq = {.path_query = u->path.data,
                             .read = on_read,
                             .read_ud = u,
                             .content_encoding = u->gz ? "gzip" : NULL,
                             .max_body = 1 << 20};
    struct sl_http_resp r;
    struct sl_error err = {0};
    int rc = sl__http_do(u->http, &rq, &r, &err);
    if (rc == SL_OK) {
        rc = sl__ch_judge(u->name, u->user, &r, &err);
    } else {
        sl__error_prefix(&err, "clickhouse ");
    }
    sl__buf_release(&r.body);
    pthread_mutex_lock(&u->mu);
    if (rc == SL_OK && (u->count > 0 || !u->closed)) {
        /* the server answered before the body ended */
        rc = SL_ERR(&err, -SL_EUNAVAIL,
                    "clickhouse %s: the insert ended "
                    "before its data",
                    u->name);
    }
    u->rc = rc;
    u->err = err;
    u->finished = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

static void upload_free(struct ch_upload *u)
{
    if (u == NULL) {
        return;
    }
    for (size_t i = 0; i < QN; i++) {
        sl__buf_release(&u->q[i]);
    }
    if (u->z_ready) {
        deflateEnd(&u->z);
    }
    sl__http_destroy(u->http);
    sl__buf_release(&u->path);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    sl__free(u);
}

int sl__ch_upload_start(const struct ch_upload_opts *o, struct ch_upload **out,
                        struct sl_error *err)
{
    *out = NULL;
    struct ch_upload *u = sl__calloc(1, sizeof(*u));
    if (u == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory starting an insert");
    }
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    sl__buf_init(&u->path);
    for (size_t i = 0; i < QN; i++) {
        sl__buf_init(&u->q[i]);
    }
    snprintf(u->name, sizeof(u->name), "%s:%u", o->http->host, o->http->port);
    snprintf(u->user, sizeof(u->user), "%s",
             o->http->user != NULL ? o->http->user : "");
    u->gz = o->gzip;
    int rc = sl__http_create(o->http, &u->http, err);
    if (rc == SL_OK) {
        snprintf(u->name, sizeof(u->name), "%s", sl__http_name(u->http));
        rc = sl__buf_append(&u->path, o->path, strlen(o->path));
        /* the statement goes first in the body: the column list of a wide
           table does not fit a URL */
        rc = rc ? rc : sl__buf_append(&u->q[0], o->sql, strlen(o->sql));
        rc = rc ? rc : sl__buf_putc(&u->q[0], '\n');
        if (rc != SL_OK) {
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory starting an insert");
        }
        u->count = 1;
    }
    if (rc == SL_OK && u->gz) {
        if (deflateInit2(&u->z, 1, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory starting gzip");
        } else {
            u->z_ready = true;
        }
    }
    if (rc == SL_OK) {
        if (pthread_create(&u->thr, NULL, run, u) != 0) {
            rc = SL_ERR(err, -SL_EENV, "cannot start an insert thread");
        } else {
            u->started = true;
        }
    }
    if (rc != SL_OK) {
        upload_free(u);
        return rc;
    }
    *out = u;
    return SL_OK;
}

int sl__ch_upload_push(struct ch_upload *u, struct sl_buf *chunk,
                       struct sl_error *err)
{
    pthread_mutex_lock(&u->mu);
    while (u->count == QN && !u->finished) {
        pthread_cond_wait(&u->cv, &u->mu);
    }
    if (u->finished) {
        int rc = u->rc != SL_OK ? u->rc : -SL_EUNAVAIL;
        struct sl_error e = u->err;
        pthread_mutex_unlock(&u->mu);
        if (err != NULL && err->code == 0) {
            *err = e;
            if (rc != u->rc) {
                SL_ERR(err, rc, "clickhouse %s: the insert ended early",
                       u->name);
            }
        }
        return rc;
    }
    size_t tail = (u->head + u->count) % QN;
    struct sl_buf t = u->q[tail];
    u->q[tail] = *chunk;
    *chunk = t;
    sl__buf_reset(chunk);
    u->count++;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    return SL_OK;
}

int sl__ch_upload_finish(struct ch_upload *u, uint64_t *out_bytes,
                         struct sl_error *err)
{
    pthread_mutex_lock(&u->mu);
    u->closed = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->thr, NULL);
    int rc = u->rc;
    if (rc != SL_OK && err != NULL && err->code == 0) {
        *err = u->err;
    }
    if (out_bytes != NULL) {
        *out_bytes = u->bytes;
    }
    upload_free(u);
    return rc;
}

void sl__ch_upload_abort(struct ch_upload *u)
{
    if (u == NULL) {
        return;
    }
    pthread_mutex_lock(&u->mu);
    u->aborted = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    if (u->started) {
        pthread_join(u->thr, NULL);
    }
    upload_free(u);
}
