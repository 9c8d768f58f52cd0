/* stage.c - validating a claimed file once (stage.h). gateway stage. */
#include "core/common.h"

#include "core/buf.h"
#include "core/crash.h"
#include "gateway/layout.h"
#include "gateway/stage.h"
#include "parse/input.h"
#include "validate/cause.h"
#include "validate/rowjson.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file written under its temporary name: buffered, hashed as written. */
struct out {
    int fd;
    struct sl_buf buf;
    EVP_MD_CTX *sha;
    const char *rel;
    int err; /* errno of the first failure */
};

static void out_open(struct out *o, const char *root, const char *rel,
                     bool hash)
{
    char tmp_rel[SL_GW_PATH], p[SL_GW_PATH];
    memset(o, 0, sizeof(*o));
    o->fd = -1;
    o->rel = rel;
    sl__buf_init(&o->buf);
    sl_gw_tmp_path(rel, tmp_rel, sizeof(tmp_rel));
    sl_gw_abs(root, tmp_rel, p, sizeof(p));
    struct sl_error e = {0};
    if (sl_gw_mkdirs(root, tmp_rel, &e) != SL_OK) {
        o->err = EIO;
        return;
    }
    o->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (o->fd < 0) {
        o->err = errno;
    }
    if (hash && (o->sha = EVP_MD_CTX_new()) != NULL) {
        EVP_DigestInit_ex(o->sha, EVP_sha256(), NULL);
    }
}

static void out_flush(struct out *o)
{
    if (o->fd < 0 || o->err != 0 || o->buf.len == 0) {
        sl__buf_reset(&o->buf);
        return;
    }
    if (o->sha != NULL) {
        EVP_DigestUpdate(o->sha, o->buf.data, o->buf.len);
    }
    if (sl__fault_point("stage-write")) {
        o->err = ENOSPC; /* tests: a full disk, deterministically */
        sl__buf_reset(&o->buf);
        return;
    }
    size_t done = 0;
    while (done < o->buf.len) {
        ssize_t n = write(o->fd, o->buf.data + done, o->buf.len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            o->err = errno;
            break;
        }
        done += (size_t)n;
    }
    sl__buf_reset(&o->buf);
}

static void hex(const unsigned char *md, char out[65])
{
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = h[md[i] >> 4];
        out[2 * i + 1] = h[md[i] & 15];
    }
    out[64] = '\0';
}

/* Flush, fsync if asked, close; the hash into fp if kept. errno or 0. */
static int out_close(struct out *o, bool do_fsync, char fp[65])
{
    out_flush(o);
    if (o->fd >= 0) {
        if (o->err == 0 && do_fsync && fsync(o->fd) != 0) {
            o->err = errno;
        }
        if (close(o->fd) != 0 && o->err == 0) {
            o->err = errno;
        }
        o->fd = -1;
    }
    if (o->sha != NULL) {
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(o->sha, md, &n);
        if (fp != NULL) {
            hex(md, fp);
        }
        EVP_MD_CTX_free(o->sha);
        o->sha = NULL;
    }
    sl__buf_release(&o->buf);
    return o->err;
}

static void out_discard(const char *root, struct out *o)
{
    (void)out_close(o, false, NULL);
    char tmp_rel[SL_GW_PATH], p[SL_GW_PATH];
    sl_gw_tmp_path(o->rel, tmp_rel, sizeof(tmp_rel));
    sl_gw_abs(root, tmp_rel, p, sizeof(p));
    unlink(p);
}

/* ---- the passes ------------------------------------------------------------
 */

struct pass {
    const struct sl_stage_req *req;
    struct out rejects; /* opened on the first reject */
    bool rejects_open;
    struct out good;
    const struct sl_table *t;
    struct sl_reject_summary sum; /* for a file whose every row is bad */
};

static int on_reject(void *ud, const struct sl_reject *r, struct sl_error *err)
{
    struct pass *p = ud;
    sl__reject_track(&p->sum, r);
    if (!p->rejects_open) {
        out_open(&p->rejects, p->req->root, p->req->rejects_rel, false);
        p->rejects_open = true;
    }
    int rc = sl_reject_json(&p->rejects.buf, r, p->req->raw_name);
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "out of memory writing a reject");
    }
    if (p->rejects.buf.len > (1 << 16)) {
        out_flush(&p->rejects);
    }
    if (p->rejects.err != 0) {
        return SL_ERR(err, p->rejects.err == ENOSPC ? -SL_ENOSPC : -SL_EIO,
                      "%s: cannot write rejects: %s", p->req->rejects_rel,
                      strerror(p->rejects.err));
    }
    return SL_OK;
}

static int on_row(void *ud, const struct sl_val *cols, size_t n,
                  struct sl_error *err)
{
    struct pass *p = ud;
    int rc = sl_row_json(&p->good.buf, p->t, cols, n);
    rc = rc ? rc : sl__buf_putc(&p->good.buf, '\n');
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "cannot write a good row");
    }
    if (p->good.buf.len > (1 << 18)) {
        out_flush(&p->good);
    }
    if (p->good.err != 0) {
        return SL_ERR(err, p->good.err == ENOSPC ? -SL_ENOSPC : -SL_EIO,
                      "%s: cannot write good rows: %s", p->req->good_rel,
                      strerror(p->good.err));
    }
    return SL_OK;
}

static void set_error(struct sl_stage_res *res, enum sl_stage_outcome o,
                      int code, const char *msg)
{
    res->outcome = o;
    res->code = code;
    snprintf(res->err_class, sizeof(res->err_class), "%s", sl_errclass(code));
    snprintf(res->message, sizeof(res->message), "%s", msg);
}

/* Files from this size on are validated on several threads when the service
 * has idle workers (below it, splitting costs more than it saves). */
#define SL_STAGE_PARALLEL_MIN (16u << 20)

/* One validation pass over path (rows to the good file when dirty). */
static int validate(struct pass *p, const char *path, bool write_good,
                    struct sl_stage_res *res, struct sl_error *err)
{
    struct sl_vopts o = p->req->load->v;
    o.format = sl_gw_format_for(p->req->load, p->req->raw_name);
    o.fingerprint = true;
    res->format = (int)o.format;
    struct sl_validator *v = NULL;
    int rc = p->req->plan != NULL
                 ? sl_validator_create_from_plan(p->req->plan, &o, &v, err)
                 : sl_validator_create(p->t, &o, &v, err);
    struct sl_row_sink rows = {on_row, p};
    struct sl_reject_sink rj = {on_reject, p};
    if (rc == SL_OK && !write_good && p->req->n_threads > 1 &&
        res->size >= SL_STAGE_PARALLEL_MIN) {
        /* a large file and idle workers: split the first pass (plain NDJSON;
           other inputs fall back to one thread inside) */
        rc = sl_validate_file_parallel(p->t, &o, path, p->req->n_threads, &rj,
                                       &res->st, err);
    } else if (rc == SL_OK) {
        rc = sl_validate_file(v, path, write_good ? &rows : NULL,
                              write_good ? NULL : &rj, &res->st, err);
    }
    sl_validator_destroy(v);
    return rc;
}

/* The file at path is still the one held open, unchanged. */
static bool same_file(const char *path, int fd, const struct stat *before)
{
    struct stat now, held;
    return stat(path, &now) == 0 && fstat(fd, &held) == 0 &&
           now.st_dev == before->st_dev && now.st_ino == before->st_ino &&
           held.st_size == before->st_size &&
           held.st_mtim.tv_sec == before->st_mtim.tv_sec &&
           held.st_mtim.tv_nsec == before->st_mtim.tv_nsec;
}

static void classify(struct sl_stage_res *res, int rc, const char *msg)
{
    const char *cls = sl_errclass(rc);
    enum sl_stage_outcome o =
        strcmp(cls, "transient") == 0 || rc == -SL_ENOMEM || rc == -SL_ECHANGED
            ? SL_STAGE_RETRY
            : SL_STAGE_FAILED;
    set_error(res, o, rc, msg);
}

/* Tests (SLUICE_FAIL_AT=stage-read): one more row, "{}", appended to the
 * file being staged, as a producer writing in place would. */
static void append_row(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = write(fd, "{}\n", 3);
        (void)n;
        close(fd);
    }
}

static void stage_open_file(const struct sl_stage_req *req,
                            struct sl_stage_res *res, const char *path, int fd,
                            const struct stat *st)
{
    struct sl_error err = {0};
    res->size = st->st_size;
    res->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    if (req->hash_first && req->loaded != NULL) {
        /* same size as a file the table holds: hash before any work */
        int rc = sl_sha256_fd(fd, res->fingerprint, &err);
        if (rc != SL_OK) {
            classify(res, rc, err.msg);
            return;
        }
        if (req->loaded(req->loaded_ud, res->fingerprint)) {
            res->outcome = SL_STAGE_DUPLICATE;
            memcpy(res->data_fp, res->fingerprint, sizeof(res->data_fp));
            res->format = (int)sl_gw_format_for(req->load, req->raw_name);
            return;
        }
    }
    struct pass p = {.req = req, .t = req->t};
    int rc = validate(&p, path, false, res, &err);
    if (rc == SL_OK && sl__fault_point("stage-read")) {
        append_row(path); /* tests: a producer still writing in place */
    }
    if (rc == SL_OK && !same_file(path, fd, st)) {
        rc = SL_ERR(&err, -SL_ECHANGED, "%s changed while it was read",
                    req->raw_name);
    }
    if (rc != SL_OK) {
        if (p.rejects_open) {
            out_discard(req->root, &p.rejects);
        }
        classify(res, rc, err.msg);
        return;
    }
    memcpy(res->fingerprint, res->st.fingerprint, sizeof(res->fingerprint));
    int e = p.rejects_open ? out_close(&p.rejects, req->fsync, NULL) : 0;
    if (e != 0) {
        out_discard(req->root, &p.rejects);
        char msg[480];
        snprintf(msg, sizeof(msg), "%.300s: cannot write the rejects: %s",
                 req->rejects_rel, strerror(e));
        set_error(res, SL_STAGE_RETRY, e == ENOSPC ? -SL_ENOSPC : -SL_EIO, msg);
        return;
    }
    if (res->st.too_many_bad) {
        char msg[256];
        sl_gw_pathf(msg, sizeof(msg),
                    "too many bad records: %llu rejected, the table's limit "
                    "(max_bad_records) is %llu",
                    (unsigned long long)res->st.rejected,
                    (unsigned long long)req->load->v.max_bad);
        set_error(res, SL_STAGE_FAILED, -SL_ETOOMANYBAD, msg);
        return; /* the rejects stay, beside the failed file */
    }
    if (res->st.rejected == 0) {
        res->outcome = SL_STAGE_CLEAN;
        memcpy(res->data_fp, res->fingerprint, sizeof(res->data_fp));
        return;
    }
    /* bad records: a second pass writes the good rows */
    struct sl_file_stats first = res->st;
    out_open(&p.good, req->root, req->good_rel, true);
    sl__crash_point("stage-good-rows");
    rc = p.good.err != 0
             ? SL_ERR(&err, p.good.err == ENOSPC ? -SL_ENOSPC : -SL_EIO,
                      "%s: cannot write: %s", req->good_rel,
                      strerror(p.good.err))
             : validate(&p, path, true, res, &err);
    if (rc == SL_OK && (strcmp(first.fingerprint, res->st.fingerprint) != 0 ||
                        !same_file(path, fd, st))) {
        rc = SL_ERR(&err, -SL_ECHANGED, "%s changed while it was read",
                    req->raw_name);
    }
    e = out_close(&p.good, req->fsync, res->data_fp);
    if (rc == SL_OK && e != 0) {
        rc = SL_ERR(&err, e == ENOSPC ? -SL_ENOSPC : -SL_EIO,
                    "%s: cannot write: %s", req->good_rel, strerror(e));
    }
    if (rc != SL_OK) {
        out_discard(req->root, &p.good);
        char rj[SL_GW_PATH], pth[SL_GW_PATH];
        sl_gw_tmp_path(req->rejects_rel, rj, sizeof(rj));
        sl_gw_abs(req->root, rj, pth, sizeof(pth));
        unlink(pth);
        classify(res, rc, err.msg);
        return;
    }
    res->st.rejected = first.rejected;
    res->st.rows = first.rows;
    if (first.rows > 0 && first.valid == 0) {
        struct sl_vopts o = req->load->v;
        o.format = sl_gw_format_for(req->load, req->raw_name);
        sl__reject_cause(&p.sum, &o, req->t, path, first.header_like, "",
                         res->cause, sizeof(res->cause));
    }
    res->format = SL_FMT_NDJSON; /* the staged data is canonical NDJSON */
    res->outcome = SL_STAGE_DIRTY;
}

void sl_gw_stage(const struct sl_stage_req *req, struct sl_stage_res *res)
{
    memset(res, 0, sizeof(*res));
    char path[SL_GW_PATH];
    sl_gw_abs(req->root, req->raw_rel, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        if (e == ENOENT) {
            res->outcome = SL_STAGE_VANISHED;
            snprintf(res->message, sizeof(res->message),
                     "%s was deleted after it was claimed", req->raw_name);
        } else {
            char msg[300];
            sl_gw_pathf(msg, sizeof(msg), "%s: %s", req->raw_name, strerror(e));
            set_error(res, SL_STAGE_RETRY, -SL_EIO, msg);
        }
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        set_error(res, SL_STAGE_FAILED, -SL_ECORRUPT, "not a regular file");
        return;
    }
    if ((int64_t)st.st_dev != req->dev || (int64_t)st.st_ino != req->ino) {
        close(fd);
        res->outcome = SL_STAGE_REPLACED;
        snprintf(res->message, sizeof(res->message),
                 "%s was replaced after it was claimed", req->raw_name);
        return;
    }
    if (req->one_pass) {
        res->outcome = SL_STAGE_ONE_PASS;
        res->size = st.st_size;
        res->mtime_ns =
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        res->format = (int)sl_gw_format_for(req->load, req->raw_name);
    } else {
        stage_open_file(req, res, path, fd, &st);
    }
    close(fd);
}
