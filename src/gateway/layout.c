/* layout.c - the gateway folder: names, moves, error files, init (layout.h).
 * gateway stage. */
#include "core/common.h"

#include "core/buf.h"
#include "gateway/config.h"
#include "gateway/example.h"
#include "gateway/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const folders[] = {"raw",     "transformed", "cloud_ready",
                                      "sent",    "failed",      "quarantine",
                                      "schemas", ".sluice"};

int64_t sl_gw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sl_gw_time_text(int64_t us, char *out, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (us <= 0 || gmtime_r(&t, &tm) == NULL) {
        snprintf(out, size, "null");
        return;
    }
    char day[32];
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%06lldZ", day, (long long)(us % 1000000));
}

bool sl_gw_pathf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

bool sl_gw_open_for_writing(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return errno == EWOULDBLOCK; /* someone holds a write lease */
    }
    /* a writer opening it while the lease is held (microseconds) breaks
     * it: the kernel then signals this process, by default with SIGIO,
     * which terminates; SIGURG is ignored unless handled */
    bool busy = false;
    if (fcntl(fd, F_SETSIG, SIGURG) == 0 &&
        fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        (void)fcntl(fd, F_SETLEASE, F_UNLCK);
    } else {
        busy = errno == EAGAIN;
    }
    close(fd);
    return busy;
}

bool sl_gw_name_hidden(const char *name)
{
    size_t n = strlen(name);
    static const char *const sufs[] = {".tmp", ".part", ".partial"};
    for (size_t i = 0; i < SL_ARRAY_LEN(sufs); i++) {
        size_t k = strlen(sufs[i]);
        if (n >= k && strcmp(name + n - k, sufs[i]) == 0) {
            return true;
        }
    }
    for (const char *p = name; *p != '\0';) {
        if (*p == '.') {
            return true;
        }
        const char *slash = strchr(p, '/');
        if (slash == NULL) {
            break;
        }
        p = slash + 1;
    }
    return false;
}

bool sl_gw_table_dir(const char *raw_name, char *out, size_t size)
{
    const char *slash = strchr(raw_name, '/');
    if (slash == NULL || (size_t)(slash - raw_name) >= size) {
        return false;
    }
    memcpy(out, raw_name, (size_t)(slash - raw_name));
    out[slash - raw_name] = '\0';
    return out[0] != '\0';
}

void sl_gw_staged_name(int64_t id, const char *raw_name, bool ruled, char *out,
                       size_t size)
{
    const char *base = strrchr(raw_name, '/');
    base = base != NULL ? base + 1 : raw_name;
    snprintf(out, size, "%lld%s-%s", (long long)id, ruled ? "r" : "", base);
}

void sl_gw_sent_path(int64_t when_us, const char *table, const char *name,
                     char *out, size_t size)
{
    time_t t = (time_t)(when_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, size, "sent/%04d/%02d/%02d/%s/%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, table, name);
}

void sl_gw_tmp_path(const char *rel, char *out, size_t size)
{
    const char *slash = strrchr(rel, '/');
    if (slash == NULL) {
        snprintf(out, size, ".%s.sluice-tmp", rel);
    } else {
        snprintf(out, size, "%.*s/.%s.sluice-tmp", (int)(slash - rel), rel,
                 slash + 1);
    }
}

void sl_gw_abs(const char *root, const char *rel, char *out, size_t size)
{
    size_t a = strlen(root), b = strlen(rel);
    if (a + b + 2 > size) { /* cannot happen with PATH_MAX-bounded names */
        out[0] = '\0';
        return;
    }
    memcpy(out, root, a);
    out[a] = '/';
    memcpy(out + a + 1, rel, b + 1);
}

bool sl_gw_exists(const char *root, const char *rel)
{
    char p[SL_GW_PATH];
    struct stat st;
    sl_gw_abs(root, rel, p, sizeof(p));
    return lstat(p, &st) == 0;
}

static int errno_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? -SL_ENOSPC
           : e == ENOENT              ? -SL_ENOTFOUND
                                      : -SL_EIO;
}

int sl_gw_mkdirs(const char *root, const char *rel, struct sl_error *err)
{
    char p[SL_GW_PATH];
    sl_gw_abs(root, rel, p, sizeof(p));
    size_t base = strlen(root) + 1;
    for (char *s = p + base; *s != '\0'; s++) {
        if (*s != '/') {
            continue;
        }
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = SL_ERR(err, errno_code(e), "cannot create %s: %s", p,
                            strerror(e));
            sl__error_path(err, p);
            return rc;
        }
        *s = '/';
    }
    return SL_OK;
}

int sl_gw_link(const char *root, const char *from, const char *to,
               struct sl_error *err)
{
    char a[SL_GW_PATH], b[SL_GW_PATH];
    struct stat st;
    sl_gw_abs(root, from, a, sizeof(a));
    sl_gw_abs(root, to, b, sizeof(b));
    if (lstat(b, &st) == 0) {
        return SL_OK; /* linked before (a crash after the link) */
    }
    if (link(a, b) == 0) {
        return SL_OK;
    }
    if (errno == ENOENT && lstat(a, &st) == 0) {
        int rc = sl_gw_mkdirs(root, to, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (link(a, b) == 0) {
            return SL_OK;
        }
    }
    int e = errno;
    int rc = e == ENOENT
                 ? SL_ERR(err, -SL_ENOTFOUND, "%s: no such file", from)
                 : SL_ERR(err, errno_code(e), "cannot link %s as %s: %s", from,
                          to, strerror(e));
    sl__error_path(err, from);
    return rc;
}

int sl_gw_move(const char *root, const char *from, const char *to,
               struct sl_error *err)
{
    char a[SL_GW_PATH], b[SL_GW_PATH];
    sl_gw_abs(root, from, a, sizeof(a));
    sl_gw_abs(root, to, b, sizeof(b));
    if (rename(a, b) == 0) {
        return SL_OK;
    }
    if (errno == ENOENT) {
        struct stat st;
        if (lstat(a, &st) != 0) {
            /* the source is gone: done already (a crash after the rename),
             * or lost */
            return lstat(b, &st) == 0
                       ? SL_OK
                       : SL_ERR(err, -SL_ENOTFOUND, "%s: no such file", from);
        }
        int rc = sl_gw_mkdirs(root, to, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (rename(a, b) == 0) {
            return SL_OK;
        }
    }
    int e = errno;
    int rc = SL_ERR(err, errno_code(e), "cannot move %s to %s: %s", from, to,
                    strerror(e));
    sl__error_path(err, from);
    return rc;
}

/* Write text to root/rel through a temporary file and a rename. */
static int write_file(const char *root, const char *rel, const char *text,
                      size_t n, bool keep_existing, struct sl_error *err)
{
    char p[SL_GW_PATH], tmp_rel[SL_GW_PATH], tmp[SL_GW_PATH];
    sl_gw_abs(root, rel, p, sizeof(p));
    if (keep_existing && access(p, F_OK) == 0) {
        return SL_OK;
    }
    sl_gw_tmp_path(rel, tmp_rel, sizeof(tmp_rel));
    sl_gw_abs(root, tmp_rel, tmp, sizeof(tmp));
    int rc = sl_gw_mkdirs(root, rel, err);
    if (rc != SL_OK) {
        return rc;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) != 0 ||
        close(fd) != 0 || rename(tmp, p) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        unlink(tmp);
        rc = SL_ERR(err, errno_code(e), "cannot write %s: %s", p, strerror(e));
        sl__error_path(err, p);
        return rc;
    }
    return SL_OK;
}

int sl_gw_write_error(const char *root, const char *rel,
                      const struct sl_gw_failure *f, struct sl_error *err)
{
    struct sl_buf b;
    sl__buf_init(&b);
    char first[40], last[40], name[SL_GW_PATH];
    sl_gw_time_text(f->first_us, first, sizeof(first));
    sl_gw_time_text(f->last_us, last, sizeof(last));
    const char *msg = f->message ? f->message : "";
    int rc = sl__buf_append(&b, "{\"file\":", 8);
    rc = rc ? rc : sl__buf_json_str(&b, f->raw_name, strlen(f->raw_name));
    rc = rc ? rc : sl__buf_append(&b, ",\"table\":", 9);
    rc = rc ? rc
            : sl__buf_json_str(&b, f->table ? f->table : "",
                               f->table ? strlen(f->table) : 0);
    rc = rc ? rc
            : sl__buf_printf(&b, ",\"class\":\"%s\",\"code\":\"%s\"",
                             f->err_class, f->code ? f->code : "");
    rc = rc ? rc : sl__buf_append(&b, ",\"message\":", 11);
    rc = rc ? rc : sl__buf_json_str(&b, msg, strlen(msg));
    rc = rc ? rc
            : sl__buf_printf(&b,
                             ",\"attempts\":%d,\"first_try\":\"%s\","
                             "\"last_try\":\"%s\"}\n",
                             f->attempts, first, last);
    if (rc != SL_OK) {
        sl__buf_release(&b);
        return SL_ERR(err, -SL_ENOMEM, "out of memory writing an error file");
    }
    sl_gw_pathf(name, sizeof(name), "%s.error.json", rel);
    rc = write_file(root, name, b.data, b.len, false, err);
    sl__buf_release(&b);
    return rc;
}

int sl_gw_init(const char *dir, bool example, struct sl_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        int rc = SL_ERR(err, errno_code(e), "cannot create %s: %s", dir,
                        strerror(e));
        sl__error_path(err, dir);
        return rc;
    }
    for (size_t i = 0; i < SL_ARRAY_LEN(folders); i++) {
        char p[SL_GW_PATH];
        sl_gw_abs(dir, folders[i], p, sizeof(p));
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = SL_ERR(err, errno_code(e), "cannot create %s: %s", p,
                            strerror(e));
            sl__error_path(err, p);
            return rc;
        }
    }
    int rc = write_file(dir, "sluice.json", sl_gw_default_config,
                        strlen(sl_gw_default_config), true, err);
    for (size_t i = 0; rc == SL_OK && example && i < sl__gw_n_example; i++) {
        const struct sl_gw_example_file *f = &sl__gw_example[i];
        rc =
            write_file(dir, f->path, (const char *)f->data, f->size, true, err);
    }
    return rc;
}
