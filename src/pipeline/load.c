/* load.c - `sluice load` of one file: a batch of one file through the
 * warehouse's batch interface, with the checks that keep a user from loading
 * the same content twice or silently appending a grown file again. pipeline
 * stage. */
#include "core/common.h"

#include "pipeline/load.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sl_file_sha256(const char *path, char out[65], struct sl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        SL_ERR(err, -SL_EIO, "%s: %s", path, strerror(e));
        sl__error_path(err, path);
        return -SL_EIO;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static const size_t cap = 1 << 18;
    unsigned char *buf = malloc(cap);
    int rc = SL_OK;
    if (ctx == NULL || buf == NULL ||
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory hashing %s", path);
    }
    while (rc == SL_OK) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            rc = SL_ERR(err, -SL_EIO, "%s: %s", path, strerror(e));
            sl__error_path(err, path);
            break;
        }
        if (n == 0) {
            break;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    if (rc == SL_OK) {
        unsigned char md[32];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx, md, &len);
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < 32; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[64] = '\0';
    }
    EVP_MD_CTX_free(ctx);
    free(buf);
    close(fd);
    return rc;
}

/* The state a one-file batch's source works on. */
struct one {
    const struct sl_table *t;
    struct sl_vopts o;
    const char *path; /* as given: what the reader opens */
    unsigned n_threads;
    const struct sl_reject_sink *rejects;
    struct sl_load_result *res;
    struct sl_batch_file *file;
};

/* After the file was read: its facts into the batch's file record; the
 * content must be what was hashed before, and the bad records within limits. */
static int settle(struct one *s, struct sl_error *err)
{
    struct sl_load_result *res = s->res;
    if (res->prehashed && strcmp(res->fingerprint, res->st.fingerprint) != 0) {
        int rc = SL_ERR(err, -SL_ECHANGED,
                        "%s changed while it was being loaded", s->path);
        sl__error_path(err, s->path);
        return rc;
    }
    memcpy(res->fingerprint, res->st.fingerprint, sizeof(res->fingerprint));
    s->file->fingerprint = res->fingerprint;
    s->file->size = res->st.raw_bytes;
    s->file->rows_rejected = res->st.rejected;
    if (res->st.too_many_bad) {
        return SL_ERR(err, -SL_ETOOMANYBAD, "%s: too many bad records",
                      s->path);
    }
    return SL_OK;
}

static int one_feed(void *ud, size_t i, const struct sl_row_sink *rows,
                    struct sl_error *err)
{
    (void)i;
    struct one *s = ud;
    struct sl_validator *v = NULL;
    int rc = sl_validator_create(s->t, &s->o, &v, err);
    if (rc == SL_OK) {
        rc = sl_validate_file(v, s->path, rows, s->rejects, &s->res->st, err);
    }
    sl_validator_destroy(v);
    return rc == SL_OK ? settle(s, err) : rc;
}

static int one_parallel(void *ud, size_t i, struct sl_psource **out,
                        struct sl_error *err)
{
    (void)i;
    struct one *s = ud;
    *out = NULL;
    if (s->n_threads < 2 || strcmp(s->path, "-") == 0) {
        return SL_OK;
    }
    int rc = sl_psource_open(s->t, &s->o, s->path, out, err);
    if (rc != SL_OK) {
        /* a failed open may leave a half-built source in *out (its caller
           closes it); the batch source hands out none on failure */
        sl_psource_close(*out);
        *out = NULL;
    }
    return rc;
}

static int one_finish(void *ud, size_t i, struct sl_psource *src,
                      struct sl_error *err)
{
    (void)i;
    struct one *s = ud;
    int rc = sl_psource_finish(src, s->rejects, &s->res->st, err);
    sl_psource_close(src);
    return rc == SL_OK ? settle(s, err) : rc;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Before any validation: content the table holds (same size, then the same
 * hash) is SL_ALREADY_LOADED; a path loaded before with other content is
 * SL_PATH_CHANGED unless forced or replacing. *out_decided when either. */
static int precheck(const struct sl_wh_ops *ops, struct sl_wh *wh,
                    const char *table, const char *abs, uint64_t size,
                    const struct sl_load_opts *lo, struct sl_load_result *res,
                    bool *out_decided, struct sl_error *err)
{
    enum { MAX_PRIOR = 32 };
    struct sl_prior_load prior[MAX_PRIOR];
    size_t n = 0;
    *out_decided = false;
    int rc = ops->file_history(wh, table, abs, size, prior, MAX_PRIOR, &n, err);
    if (rc != SL_OK || n == 0 || lo->force) {
        return rc;
    }
    bool same_size = false;
    for (size_t i = 0; i < n; i++) {
        same_size |= !prior[i].duplicate && prior[i].size == size;
    }
    if (same_size) {
        if ((rc = sl_file_sha256(abs, res->fingerprint, err)) != SL_OK) {
            return rc;
        }
        res->prehashed = true;
        for (size_t i = 0; i < n; i++) {
            if (!prior[i].duplicate &&
                strcmp(prior[i].fingerprint, res->fingerprint) == 0) {
                res->prior = prior[i];
                res->outcome = SL_ALREADY_LOADED;
                *out_decided = true;
                return SL_OK;
            }
        }
    }
    if (lo->flags & SL_BATCH_TRUNCATE) {
        return SL_OK; /* replacing the table's rows: a grown file is fine */
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(prior[i].path, abs) == 0 && !prior[i].duplicate) {
            res->prior = prior[i];
            res->outcome = SL_PATH_CHANGED;
            *out_decided = true;
            return SL_OK;
        }
    }
    return SL_OK;
}

int sl_load_file(const struct sl_wh_ops *ops, struct sl_wh *wh,
                 const struct sl_table *t, const struct sl_vopts *vo,
                 const char *path, const struct sl_load_opts *lo,
                 const struct sl_reject_sink *rejects,
                 struct sl_load_result *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    char table[600];
    snprintf(table, sizeof(table), "%s.%s", t->dataset, t->name);
    bool is_stdin = strcmp(path, "-") == 0;
    char abs[PATH_MAX];
    struct stat st;
    if (is_stdin || realpath(path, abs) == NULL || stat(abs, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        snprintf(abs, sizeof(abs), "%s", path);
        st.st_size = 0;
    } else {
        bool decided = false;
        int rc = precheck(ops, wh, table, abs, (uint64_t)st.st_size, lo, out,
                          &decided, err);
        if (rc != SL_OK || decided) {
            return rc;
        }
    }
    struct sl_batch_file file = {.path = abs,
                                 .fingerprint =
                                     out->prehashed ? out->fingerprint : NULL,
                                 .size = (uint64_t)st.st_size,
                                 .first_seen_us = wall_us()};
    struct one s = {t, *vo, path, lo->n_threads, rejects, out, &file};
    s.o.fingerprint = true;
    char salt[64];
    snprintf(salt, sizeof(salt), "force:%lld", (long long)wall_us());
    struct sl_batch b = {
        .t = t,
        .files = &file,
        .n_files = 1,
        .flags = lo->flags | (lo->force ? SL_BATCH_FORCE : 0),
        .origin = "load",
        .schema_update = lo->schema_update,
        .salt = lo->force ? salt : NULL,
        .first_seen_us = file.first_seen_us,
        .src = {one_feed, one_parallel, one_finish, &s},
    };
    int rc = ops->load_batch(wh, &b, err);
    if (rc == -SL_ETOOMANYBAD) {
        sl__error_clear(err);
        out->outcome = SL_TOO_MANY_BAD;
        return SL_OK;
    }
    if (rc != SL_OK) {
        return rc;
    }
    memcpy(out->batch, b.id_out, sizeof(out->batch));
    if (b.already || file.outcome == SL_FILE_DUPLICATE) {
        out->outcome = SL_ALREADY_LOADED;
        snprintf(out->prior.fingerprint, sizeof(out->prior.fingerprint), "%s",
                 out->fingerprint);
        return SL_OK;
    }
    out->outcome = SL_LOADED;
    return SL_OK;
}
