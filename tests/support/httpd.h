/* httpd.h - a tiny HTTP/1.1 server on a loopback port, on a thread of the
 * test, for the rules' call/notify/push actions: one request per
 * connection, answers by path (/ok: 200 with a JSON body, /fail: 500,
 * /missing: 404, anything else: 200 "ok"), and it keeps the last request's
 * method, path and body. tests. */
#ifndef SL_TESTS_HTTPD_H
#define SL_TESTS_HTTPD_H

#include "core/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct httpd {
    int fd;
    int port;
    pthread_t th;
    int stop; /* atomic */
    pthread_mutex_t mu;
    int n_requests;
    char method[16];
    char path[256];
    char body[8192];
};

static inline void httpd_answer(int c, int status, const char *type,
                                const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: "
                     "%zu\r\nConnection: close\r\n\r\n",
                     status, type, strlen(body));
    if (write(c, head, (size_t)n) < 0 || write(c, body, strlen(body)) < 0) {
        return;
    }
}

static inline void httpd_serve(struct httpd *h, int c)
{
    char buf[16384];
    size_t len = 0;
    char *end = NULL;
    while (len < sizeof(buf) - 1 && end == NULL) {
        ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            return;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (end == NULL) {
        return;
    }
    size_t want = 0;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl != NULL && cl < end) {
        want = (size_t)strtoul(cl + 17, NULL, 10);
    }
    size_t have = len - (size_t)(end + 4 - buf);
    while (have < want && len < sizeof(buf) - 1) {
        ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        have += (size_t)n;
    }
    buf[len] = '\0';
    pthread_mutex_lock(&h->mu);
    h->n_requests++;
    sscanf(buf, "%15s %255s", h->method, h->path);
    snprintf(h->body, sizeof(h->body), "%s", end + 4);
    char path[256];
    snprintf(path, sizeof(path), "%s", h->path);
    pthread_mutex_unlock(&h->mu);
    if (strcmp(path, "/ok") == 0) {
        httpd_answer(c, 200, "application/json",
                     "{\"BatchID\": \"b-42\", \"count\": 2, \"deep\": "
                     "{\"x\": \"y\"}}");
    } else if (strcmp(path, "/fail") == 0) {
        httpd_answer(c, 500, "text/plain", "boom");
    } else if (strcmp(path, "/missing") == 0) {
        httpd_answer(c, 404, "text/plain", "no such thing");
    } else {
        httpd_answer(c, 200, "text/plain", "ok");
    }
}

static inline void *httpd_loop(void *ud)
{
    struct httpd *h = ud;
    while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd p = {h->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        int c = accept(h->fd, NULL, NULL);
        if (c >= 0) {
            httpd_serve(h, c);
            close(c);
        }
    }
    return NULL;
}

/* Listen on 127.0.0.1 (a free port) and serve on a thread; 0 or -1. */
static inline int httpd_start(struct httpd *h)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(h->fd, 16) != 0 ||
        getsockname(h->fd, (struct sockaddr *)&a, &al) != 0) {
        return -1;
    }
    h->port = ntohs(a.sin_port);
    return pthread_create(&h->th, NULL, httpd_loop, h) == 0 ? 0 : -1;
}

static inline void httpd_stop(struct httpd *h)
{
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
    pthread_join(h->th, NULL);
    close(h->fd);
    pthread_mutex_destroy(&h->mu);
}

#endif
